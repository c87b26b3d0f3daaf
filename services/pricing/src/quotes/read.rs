//! `GetQuote` and `ListQuotes`. A quote is visible to callers whose branch is on its materialised
//! path (the quote's branch or an ancestor) and to bank-wide readers; others get `NOT_FOUND`. A
//! list is filtered by customer, opportunity, branch subtree (the caller's own by default, always
//! within what the caller may see), state — read against the expiry time, so a draft or pending
//! quote past it lists as expired — or "awaiting my decision": pending, unexpired quotes on whose
//! chain the caller's branch sits at or above the required level, not submitted by the caller,
//! for approvers only. Newest first (quote ids are UUID v7), keyset pages by quote id.

use bankmkt_domain::org::Role;
use bankmkt_domain::pricing::{AuthorityLevel, QuoteStatus};
use bankmkt_platform::Caller;
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::LikeExpr;
use sea_orm::{Condition, QueryOrder, QuerySelect};

use super::branches::{self, branch_code};
use super::create::optional_id;
use super::entity::{quote, quote_decision, quote_item};
use super::stored::{quote_to_proto, status_from_proto};
use super::{load, quote_id, reads_bank_wide};
use crate::PricingService;
use crate::convert::filter_enum;
use crate::error::{Result, ServiceError};

/// `GetQuote`.
pub async fn get(
    svc: &PricingService,
    caller: &Caller,
    request: v1::GetQuoteRequest,
) -> Result<v1::GetQuoteResponse> {
    let mut v = Violations::new();
    let Some(id) = quote_id("quote_id", &request.quote_id, &mut v) else {
        return Err(ServiceError::Invalid(v));
    };
    let loaded = load(&svc.db, caller, &id).await?;
    if !sees_customer(svc, caller, &loaded.quote.customer_id).await? {
        return Err(ServiceError::NotFound { kind: "quote", id });
    }
    Ok(v1::GetQuoteResponse {
        quote: Some(quote_to_proto(
            &loaded.quote,
            &loaded.items,
            &loaded.decisions,
            svc.clock.now(),
        )?),
    })
}

/// Whether the registry lets `caller` (the end user) see customer `customer_id`: a quote of a
/// customer the caller cannot see is hidden even when it is filed in the caller's subtree (the
/// quote's branch need not be the customer's owning branch). Bank-wide readers see every
/// customer; a registry that cannot answer fails the call.
async fn sees_customer(svc: &PricingService, caller: &Caller, customer_id: &str) -> Result<bool> {
    if reads_bank_wide(caller) {
        return Ok(true);
    }
    match svc.registry.customer_360(caller, customer_id).await {
        Ok(_) => Ok(true),
        Err(ServiceError::NotFound { .. } | ServiceError::PermissionDenied(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Quotes filed under `branch` (on their path): `%/<branch>/%`, with LIKE's wildcards escaped.
fn under(branch: &str) -> Expr {
    let escaped = branch
        .replace('!', "!!")
        .replace('_', "!_")
        .replace('%', "!%");
    quote::Column::BranchPath.like(LikeExpr::new(format!("%/{escaped}/%")).escape('!'))
}

/// `ListQuotes`.
pub async fn list(
    svc: &PricingService,
    caller: &Caller,
    request: v1::ListQuotesRequest,
) -> Result<v1::ListQuotesResponse> {
    let mut v = Violations::new();
    let customer = optional_id("customer_id", &request.customer_id, &mut v);
    let opportunity = optional_id("opportunity_id", &request.opportunity_id, &mut v);
    let root = if request.branch_id.is_empty() {
        None
    } else {
        let code = branch_code(&request.branch_id);
        if code.is_none() {
            v.add("branch_id", "is not a branch code");
        }
        code
    };
    let status = filter_enum(
        "status",
        request.status,
        status_from_proto,
        "quote status",
        &mut v,
    );
    let filters = format!(
        "quotes|{customer:?}|{opportunity:?}|{root:?}|{status:?}|{}",
        request.awaiting_my_decision
    );
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    if let Some(after) = &page.after
        && uuid::Uuid::try_parse(after).is_err()
    {
        v.add("page_token", "is not a token this service issued");
    }
    if !v.is_empty() {
        return Err(ServiceError::Invalid(v));
    }
    let own = caller.branch.as_ref().map(|b| b.as_str().to_owned());
    let mut query = quote::Entity::find();
    if !reads_bank_wide(caller) {
        let Some(own) = &own else {
            return Ok(v1::ListQuotesResponse::default());
        };
        query = query.filter(under(own));
    }
    if let Some(root) = &root {
        query = query.filter(under(root));
    }
    if let Some(c) = &customer {
        query = query.filter(quote::Column::CustomerId.eq(c.as_str()));
    }
    if let Some(o) = &opportunity {
        query = query.filter(quote::Column::OpportunityId.eq(o.as_str()));
    }
    let now = svc.clock.now();
    let open = [QuoteStatus::Draft, QuoteStatus::PendingApproval].map(|s| s.as_str());
    match status {
        None => {}
        Some(QuoteStatus::Expired) => {
            query = query.filter(
                Condition::any()
                    .add(quote::Column::Status.eq(QuoteStatus::Expired.as_str()))
                    .add(
                        Condition::all()
                            .add(quote::Column::Status.is_in(open))
                            .add(quote::Column::ExpireTime.lte(now)),
                    ),
            );
        }
        Some(s @ (QuoteStatus::Draft | QuoteStatus::PendingApproval)) => {
            query = query
                .filter(quote::Column::Status.eq(s.as_str()))
                .filter(quote::Column::ExpireTime.gt(now));
        }
        Some(s) => query = query.filter(quote::Column::Status.eq(s.as_str())),
    }
    if request.awaiting_my_decision {
        let Some(own) = own.as_ref().filter(|_| caller.has_role(Role::Approver)) else {
            return Ok(v1::ListQuotesResponse::default());
        };
        let chain = branches::chain(svc, caller, own).await?;
        let Some(level) = chain.level() else {
            return Ok(v1::ListQuotesResponse::default());
        };
        let held = AuthorityLevel::of_branch(level);
        let levels: Vec<&str> = AuthorityLevel::ALL
            .iter()
            .filter(|l| **l <= held)
            .map(|l| l.as_str())
            .collect();
        query = query
            .filter(quote::Column::Status.eq(QuoteStatus::PendingApproval.as_str()))
            .filter(quote::Column::ExpireTime.gt(now))
            .filter(quote::Column::RequiredLevel.is_in(levels))
            .filter(quote::Column::SubmittedBy.ne(caller.subject.as_str()))
            .filter(under(own));
    }
    if let Some(after) = &page.after {
        query = query.filter(quote::Column::QuoteId.lt(after.as_str()));
    }
    let mut rows = query
        .order_by_desc(quote::Column::QuoteId)
        .limit(page.fetch_limit())
        .all(&svc.db)
        .await?;
    let next_page_token = page.finish(&mut rows, |q| q.quote_id.clone());
    // The page's keyset token is taken above, so leaving out quotes of customers the caller
    // cannot see (the registry decides, once per customer) keeps the paging stable.
    let mut customers: Vec<String> = rows.iter().map(|q| q.customer_id.clone()).collect();
    customers.sort();
    customers.dedup();
    let seen = futures::future::join_all(
        customers
            .iter()
            .map(|c| sees_customer(svc, caller, c.as_str())),
    )
    .await;
    let mut hidden: Vec<&str> = Vec::new();
    for (c, visible) in customers.iter().zip(seen) {
        if !visible? {
            hidden.push(c.as_str());
        }
    }
    rows.retain(|q| !hidden.contains(&q.customer_id.as_str()));
    let ids: Vec<String> = rows.iter().map(|q| q.quote_id.clone()).collect();
    let (items, decisions) = if ids.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        (
            quote_item::Entity::find()
                .filter(quote_item::Column::QuoteId.is_in(ids.clone()))
                .all(&svc.db)
                .await?,
            quote_decision::Entity::find()
                .filter(quote_decision::Column::QuoteId.is_in(ids))
                .order_by_asc(quote_decision::Column::Id)
                .all(&svc.db)
                .await?,
        )
    };
    let quotes = rows
        .iter()
        .map(|q| {
            let items: Vec<quote_item::Model> = items
                .iter()
                .filter(|i| i.quote_id == q.quote_id)
                .cloned()
                .collect();
            let decisions: Vec<quote_decision::Model> = decisions
                .iter()
                .filter(|d| d.quote_id == q.quote_id)
                .cloned()
                .collect();
            quote_to_proto(q, &items, &decisions, now)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(v1::ListQuotesResponse {
        quotes,
        next_page_token,
    })
}
