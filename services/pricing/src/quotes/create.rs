//! `CreateQuote`: checks the request's shape (naming every bad field), answers a retried
//! idempotency key with the stored quote, reads the quote branch's chain (the branch must be in
//! the caller's subtree) and the customer's facts from the registry, reads the catalogue at one
//! version ([`super::context`]), prices the quote with the domain's `price_quote` (a regulatory
//! breach is `FAILED_PRECONDITION` of type `REGULATORY_LIMIT` naming the limit), and stores it as
//! a draft that expires after the configured time — the quote, its items, its audit entry, its
//! `quote.created` outbox event and the idempotency record in one transaction, which also checks
//! that the catalogue version it priced at is still current (`ABORTED` otherwise). A refused
//! verdict (negative EVA, not strategic) is stored too: it explains itself, and cannot be
//! submitted.

use bankmkt_domain::pricing::{
    QuoteItemResult, QuoteRequest, QuoteResult, QuoteStatus, price_quote,
};
use bankmkt_platform::Caller;
use bankmkt_platform::idempotency;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::{DateTime, Utc};
use prost::Message;
use sea_orm::{EntityTrait, TransactionTrait};

use super::branches::{self, branch_code};
use super::context::{Catalogue, ItemSpec, check_version, parse_items, pricing_error};
use super::entity::{quote, quote_item};
use super::stored::{
    StoredEconomics, StoredMoney, StoredPrerequisite, StoredPrice, StoredRef, StoredRule,
    StoredTotals, quote_to_proto, to_json,
};
use super::{QUOTE_MAKERS, idempotency_key, reads_bank_wide, replay, scope};
use crate::PricingService;
use crate::access::require_role;
use crate::convert;
use crate::error::{Result, ServiceError};
use crate::record::{Change, record};

/// The most items a quote may have (the domain's bound, checked early).
const MAX_ITEMS: usize = bankmkt_domain::pricing::quote::MAX_ITEMS;

/// An optional id of up to 36 characters at `field`.
pub fn optional_id(field: &str, raw: &str, v: &mut Violations) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    if raw.chars().count() > 36 {
        v.add(field, "must be at most 36 characters");
        return None;
    }
    Some(raw.to_owned())
}

/// A required customer id at `field`.
pub fn customer_id(field: &str, raw: &str, v: &mut Violations) -> Option<String> {
    let id = optional_id(field, raw, v);
    if raw.trim().is_empty() {
        v.add(field, "is required");
    }
    id
}

/// The quote branch: `raw`, or the caller's own when empty.
pub fn quote_branch(field: &str, raw: &str, caller: &Caller, v: &mut Violations) -> Option<String> {
    if raw.is_empty() {
        let own = caller.branch.as_ref().map(|b| b.as_str().to_owned());
        if own.is_none() {
            v.add(field, "is required for a caller without a branch");
        }
        return own;
    }
    let code = branch_code(raw);
    if code.is_none() {
        v.add(
            field,
            "is not a branch code (1 to 32 letters, digits, '-' or '_')",
        );
    }
    code
}

/// The explanations stored for an item: every rule evaluated, then the bundle component's
/// benefit as an applied entry `bundle:<bundle id>/<component id>`.
fn explanations(item: &QuoteItemResult, bundle: Option<(&str, i64, &str)>) -> Vec<StoredRule> {
    let mut out: Vec<StoredRule> = item.rules.iter().map(StoredRule::from_domain).collect();
    if let (Some(applied), Some((bundle_id, version, name))) = (&item.bundle_benefit, bundle) {
        out.push(StoredRule {
            rule_id: format!("bundle:{bundle_id}/{}", applied.component_id),
            rule_version: version,
            name: format!(
                "bundle {name}, component {}: {}",
                applied.component_id, applied.benefit
            ),
            applied: true,
            price_before: Some(StoredPrice::from_domain(applied.price_before)),
            price_after: Some(StoredPrice::from_domain(applied.price_after)),
            unmet: Vec::new(),
        });
    }
    out
}

/// The rows of a priced quote.
pub struct Rows {
    /// The quote.
    pub quote: quote::Model,
    /// Its items.
    pub items: Vec<quote_item::Model>,
}

/// What a quote row records besides the priced result.
pub struct Header<'a> {
    /// The new quote's id.
    pub quote_id: String,
    /// The customer.
    pub customer_id: &'a str,
    /// The quote branch and its path.
    pub branch_id: &'a str,
    /// `/HQ/.../branch/`.
    pub branch_path: String,
    /// The opportunity.
    pub opportunity_id: Option<String>,
    /// Strategic, with its reason.
    pub strategic: Option<String>,
    /// The registry data version read.
    pub registry_data_version: i64,
    /// The caller.
    pub created_by: &'a str,
    /// Now.
    pub now: DateTime<Utc>,
    /// When it expires.
    pub expire_time: DateTime<Utc>,
    /// The state it is stored in.
    pub status: QuoteStatus,
    /// The quote it supersedes.
    pub supersedes: Option<String>,
}

/// The rows of `result`, priced from `specs` against `catalogue`.
pub fn rows(
    header: Header<'_>,
    specs: &[ItemSpec],
    result: &QuoteResult,
    catalogue: &Catalogue,
    bundle_id: Option<&str>,
    operational_risk_ratio_bps: i32,
) -> Result<Rows> {
    let bundle = bundle_id.and_then(|id| catalogue.bundles.get(id));
    let mut items = Vec::with_capacity(specs.len());
    for (i, (spec, r)) in specs.iter().zip(&result.items).enumerate() {
        let priced = catalogue.products.get(&spec.product_id).ok_or_else(|| {
            ServiceError::internal(format!("product {} was not loaded", spec.product_id))
        })?;
        let rules = explanations(
            r,
            bundle.map(|b| (b.bundle_id.as_str(), b.version, b.name.as_str())),
        );
        items.push(quote_item::Model {
            quote_id: header.quote_id.clone(),
            item_id: (i + 1).to_string(),
            position: i32::try_from(i).unwrap_or(i32::MAX),
            product_id: spec.product_id.clone(),
            product_kind: r.kind.as_str().to_owned(),
            currency: r.currency.as_str().to_owned(),
            price_version_id: priced.price_version_id.clone(),
            request: to_json(&spec.stored())?,
            list_price: to_json(&StoredPrice::from_domain(r.list_price))?,
            relationship_price: to_json(&StoredPrice::from_domain(r.relationship_price))?,
            proposed_price: to_json(&StoredPrice::from_domain(r.proposed_price))?,
            concession_bps: r.concession.value(),
            required_level: r.required_level.as_str().to_owned(),
            year_fraction: r.year_fraction.to_decimal().to_string(),
            economics: to_json(&StoredEconomics::from_domain(&r.economics))?,
            fx_rate: r.fx_rate.normalize().to_string(),
            rules: to_json(&rules)?,
            regulatory_limit_ids: to_json(&r.regulatory_limit_ids)?,
            covenant_agreed_ratio_bps: r.covenant.map(|c| c.agreed_ratio.value()),
            covenant_step_up_bps: r.covenant.map(|c| c.step_up.value()),
        });
    }
    let rule_ids: Vec<(&str, i64)> = result
        .items
        .iter()
        .flat_map(|i| &i.rules)
        .map(|e| (e.rule_id.as_str(), e.rule_version))
        .collect();
    let refs: Vec<StoredRef> = catalogue.versions_used(
        specs,
        rule_ids,
        result.items.iter().filter_map(|i| i.band_id.as_deref()),
        result
            .items
            .iter()
            .flat_map(|i| i.regulatory_limit_ids.iter().map(String::as_str)),
        bundle,
    );
    let totals = StoredTotals {
        totals: StoredEconomics::from_domain(&result.totals),
        existing_contribution: result.existing_contribution.map(StoredMoney::from_domain),
        combined_contribution: result.combined_contribution.map(StoredMoney::from_domain),
        operational_risk_ratio_bps: Some(operational_risk_ratio_bps),
    };
    let prerequisites: Vec<StoredPrerequisite> = result
        .missing_prerequisites
        .iter()
        .map(StoredPrerequisite::from_domain)
        .collect();
    let (strategic, strategic_reason) = match header.strategic {
        Some(reason) => (true, reason),
        None => (false, String::new()),
    };
    let quote = quote::Model {
        quote_id: header.quote_id,
        customer_id: header.customer_id.to_owned(),
        branch_id: header.branch_id.to_owned(),
        branch_path: header.branch_path,
        opportunity_id: header.opportunity_id,
        bundle_id: bundle.map(|b| b.bundle_id.clone()),
        bundle_version: bundle.map(|b| b.version),
        status: header.status.as_str().to_owned(),
        verdict: result.verdict.as_str().to_owned(),
        required_level: result.required_level.as_str().to_owned(),
        strategic,
        strategic_reason,
        totals: to_json(&totals)?,
        existing_contribution_fen: result.existing_contribution.map_or(0, |m| m.minor_units()),
        combined_contribution_fen: result.combined_contribution.map_or(0, |m| m.minor_units()),
        missing_prerequisites: to_json(&prerequisites)?,
        rule_versions: to_json(&refs)?,
        registry_data_version: header.registry_data_version,
        catalogue_version: catalogue.version.number,
        hurdle_rate_bps: result.hurdle_rate.value(),
        created_by: header.created_by.to_owned(),
        create_time: header.now,
        submitted_by: None,
        submit_time: None,
        submit_reason: None,
        expire_time: header.expire_time,
        supersedes_quote_id: header.supersedes,
        version: 1,
        update_time: header.now,
    };
    Ok(Rows { quote, items })
}

/// Inserts `rows` on `txn`.
pub async fn insert<C: sea_orm::ConnectionTrait>(txn: &C, rows: &Rows) -> Result<()> {
    quote::Entity::insert(quote::ActiveModel::from(rows.quote.clone()))
        .exec_without_returning(txn)
        .await?;
    quote_item::Entity::insert_many(
        rows.items
            .iter()
            .cloned()
            .map(quote_item::ActiveModel::from),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// A one-line summary of a quote row for the audit log.
pub fn summary(q: &quote::Model) -> String {
    format!(
        "version={} customer={} branch={} status={} verdict={} level={} strategic={}",
        q.version, q.customer_id, q.branch_id, q.status, q.verdict, q.required_level, q.strategic
    )
}

/// The registry's data version as recorded on a quote.
pub fn data_version(raw: &str) -> Result<i64> {
    raw.parse().map_err(|_| {
        ServiceError::internal(format!("registry data version {raw:?} is not a number"))
    })
}

/// The expiry time of a quote created at `now`.
pub fn expiry(svc: &PricingService, now: DateTime<Utc>) -> DateTime<Utc> {
    chrono::Duration::from_std(svc.quoting.expiry)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(now)
}

/// `CreateQuote`.
pub async fn create(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateQuoteRequest,
) -> Result<v1::CreateQuoteResponse> {
    require_role(caller, &QUOTE_MAKERS, "CreateQuote")?;
    let mut v = Violations::new();
    idempotency_key(&request.idempotency_key, &mut v);
    let customer = customer_id("customer_id", &request.customer_id, &mut v);
    let branch = quote_branch("branch_id", &request.branch_id, caller, &mut v);
    let opportunity_id = optional_id("opportunity_id", &request.opportunity_id, &mut v);
    let bundle_id = optional_id("bundle_id", &request.bundle_id, &mut v);
    let strategic = if request.strategic {
        convert::reason("strategic_reason", &request.strategic_reason, &mut v)
    } else {
        None
    };
    if request.items.is_empty() || request.items.len() > MAX_ITEMS {
        v.add(
            "items",
            format!(
                "a quote has 1 to {MAX_ITEMS} items, not {}",
                request.items.len()
            ),
        );
    }
    let specs = parse_items("items", &request.items, &mut v);
    let (Some(customer), Some(branch), true) = (customer, branch, v.is_empty()) else {
        return Err(ServiceError::Invalid(v));
    };
    let scope = scope("CreateQuote", caller);
    let hash = idempotency::request_hash(&request.encode_to_vec());
    if let Some(stored) = replay(&svc.db, &scope, &request.idempotency_key, &hash).await? {
        return Ok(stored);
    }

    let (chain, snapshot) = tokio::try_join!(
        branches::chain(svc, caller, &branch),
        crate::facts::read(svc, caller, &customer),
    )?;
    if !reads_bank_wide(caller)
        && !caller
            .branch
            .as_ref()
            .is_some_and(|own| chain.contains(own.as_str()))
    {
        return Err(ServiceError::PermissionDenied(format!(
            "branch {branch} is not in the caller's subtree"
        )));
    }
    let today = svc.clock.today();
    let product_ids: Vec<&str> = specs.iter().map(|s| s.product_id.as_str()).collect();
    let bundle_ids: Vec<&str> = bundle_id.iter().map(String::as_str).collect();
    let catalogue = Catalogue::load(svc, today, &product_ids, &bundle_ids).await?;
    let inputs = catalogue.inputs(&specs)?;
    let quote_request = QuoteRequest {
        items: inputs,
        bundle: bundle_id.as_ref().and_then(|id| catalogue.bundles.get(id)),
        strategic: strategic.is_some(),
    };
    let config = svc.quoting.config;
    let result = price_quote(&catalogue.context(config), &snapshot.facts, &quote_request)
        .map_err(|e| pricing_error(e, "items"))?;

    let now = super::now(svc);
    let rows = rows(
        Header {
            quote_id: uuid::Uuid::now_v7().to_string(),
            customer_id: &snapshot.customer_id,
            branch_id: &branch,
            branch_path: chain.path(),
            opportunity_id,
            strategic,
            registry_data_version: data_version(&snapshot.data_version)?,
            created_by: &caller.subject,
            now,
            expire_time: expiry(svc, now),
            status: QuoteStatus::Draft,
            supersedes: None,
        },
        &specs,
        &result,
        &catalogue,
        bundle_id.as_deref(),
        config.economics.operational_risk_ratio.value(),
    )?;
    let wire = quote_to_proto(&rows.quote, &rows.items, &[], now)?;
    let response = v1::CreateQuoteResponse {
        quote: Some(wire.clone()),
    };
    let written: Result<v1::CreateQuoteResponse> = async {
        let txn = svc.db.begin().await?;
        if let Some(stored) = replay(&txn, &scope, &request.idempotency_key, &hash).await? {
            return Ok(stored);
        }
        check_version(&txn, &catalogue.version).await?;
        insert(&txn, &rows).await?;
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "quote.create",
                target_type: "quote",
                target_id: rows.quote.quote_id.clone(),
                before: String::new(),
                after: summary(&rows.quote),
                reason: format!(
                    "priced {} item(s) for customer {}",
                    rows.items.len(),
                    rows.quote.customer_id
                ),
                event_type: "quote.created",
                version: 1,
                payload: wire.encode_to_vec(),
            },
        )
        .await?;
        idempotency::remember(
            &txn,
            &scope,
            &request.idempotency_key,
            &hash,
            response.encode_to_vec(),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(response)
    }
    .await;
    match written {
        // Another call with the same key committed first: answer with its quote.
        Err(e) if e.is_unique_violation() => {
            match replay(&svc.db, &scope, &request.idempotency_key, &hash).await? {
                Some(stored) => Ok(stored),
                None => Err(e),
            }
        }
        other => other,
    }
}
