//! Reads of the stored results: contributions (a month, the year to date or the trailing twelve
//! months, summed by `bankmkt_domain::contribution` from the current monthly rows), value scores,
//! GE classes, dormancy (one customer, and the dormant customers of a subtree, deepest first),
//! and RFM. Every read checks that the caller may see the customer (else `NOT_FOUND`). Without
//! a period, the latest computed month (or window) answers.

use bankmkt_domain::access::may_read_customer;
use bankmkt_domain::calendar::Period;
use bankmkt_domain::contribution::{
    MonthlyContribution, WindowContribution, trailing_twelve_months, year_to_date,
};
use bankmkt_domain::money::Currency;
use bankmkt_domain::org::BranchCode;
use bankmkt_platform::Caller;
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{Condition, QueryOrder, QuerySelect};

use super::compute::{self, ContributionView, kind};
use super::entity::value_result;
use super::visible_customer;
use super::wire::{self, internal};
use crate::convert::branch_code;
use crate::customers::Customers;
use crate::customers::entity::customer;
use crate::error::{RegistryError, Result};
use crate::org::branches::tree_as_of;

use value_result::Column as R;

fn not_found(what: &'static str, id: &str) -> RegistryError {
    RegistryError::NotFound {
        kind: what,
        id: id.to_owned(),
    }
}

/// Validates an optional month (not in the future).
fn optional_period(
    customers: &Customers,
    field: &str,
    raw: Option<&v1::Period>,
    v: &mut Violations,
) -> Option<Period> {
    raw.and_then(|p| wire::period_in(field, p, customers.clock.today(), v))
}

/// The current row of `kind` for a customer and month, or the latest month when `None`.
async fn current_row<C: ConnectionTrait>(
    db: &C,
    result_kind: &str,
    customer_id: &str,
    period: Option<Period>,
) -> Result<Option<value_result::Model>> {
    let mut query = value_result::Entity::find()
        .filter(R::Kind.eq(result_kind))
        .filter(R::CustomerId.eq(customer_id))
        .filter(R::Current.eq(true));
    if let Some(p) = period {
        query = query.filter(R::PeriodKey.eq(wire::period_key(p)));
    }
    Ok(query
        .order_by_desc(R::PeriodKey)
        .order_by_desc(R::Seq)
        .one(db)
        .await?)
}

/// Reads one decoded result for a visible customer.
async fn get_one<M: Message + Default>(
    customers: &Customers,
    caller: &Caller,
    result_kind: &'static str,
    customer_id: &str,
    period: Option<&v1::Period>,
) -> Result<M> {
    let mut v = Violations::new();
    wire::customer_id_in("customer_id", customer_id, &mut v);
    let period = optional_period(customers, "period", period, &mut v);
    if !v.is_empty() {
        return Err(v.into());
    }
    visible_customer(customers, caller, customer_id).await?;
    let row = current_row(&customers.db, result_kind, customer_id, period)
        .await?
        .ok_or_else(|| not_found(result_kind, customer_id))?;
    M::decode(row.payload.as_slice()).map_err(internal)
}

/// `GetValueScore`.
pub async fn get_value_score(
    customers: &Customers,
    caller: &Caller,
    request: v1::GetValueScoreRequest,
) -> Result<v1::GetValueScoreResponse> {
    let score = get_one(
        customers,
        caller,
        kind::VALUE_SCORE,
        &request.customer_id,
        request.period.as_ref(),
    )
    .await?;
    Ok(v1::GetValueScoreResponse { score: Some(score) })
}

/// `GetGeClassification`.
pub async fn get_ge_classification(
    customers: &Customers,
    caller: &Caller,
    request: v1::GetGeClassificationRequest,
) -> Result<v1::GetGeClassificationResponse> {
    let c = get_one(
        customers,
        caller,
        kind::GE_CLASS,
        &request.customer_id,
        request.period.as_ref(),
    )
    .await?;
    Ok(v1::GetGeClassificationResponse {
        classification: Some(c),
    })
}

/// `GetDormancy`.
pub async fn get_dormancy(
    customers: &Customers,
    caller: &Caller,
    request: v1::GetDormancyRequest,
) -> Result<v1::GetDormancyResponse> {
    let d = get_one(
        customers,
        caller,
        kind::DORMANCY,
        &request.customer_id,
        request.period.as_ref(),
    )
    .await?;
    Ok(v1::GetDormancyResponse { dormancy: Some(d) })
}

/// `GetRfm`.
pub async fn get_rfm(
    customers: &Customers,
    caller: &Caller,
    request: v1::GetRfmRequest,
) -> Result<v1::GetRfmResponse> {
    let r = get_one(
        customers,
        caller,
        kind::RFM,
        &request.customer_id,
        request.period.as_ref(),
    )
    .await?;
    Ok(v1::GetRfmResponse { rfm: Some(r) })
}

/// `ListValueScores`: every stored score (all rule versions), newest window first.
pub async fn list_value_scores(
    customers: &Customers,
    caller: &Caller,
    request: v1::ListValueScoresRequest,
) -> Result<v1::ListValueScoresResponse> {
    let mut v = Violations::new();
    wire::customer_id_in("customer_id", &request.customer_id, &mut v);
    let page = PageRequest::parse(
        request.page_size,
        &request.page_token,
        &request.customer_id,
        &mut v,
    );
    if !v.is_empty() {
        return Err(v.into());
    }
    visible_customer(customers, caller, &request.customer_id).await?;
    let mut query = value_result::Entity::find()
        .filter(R::Kind.eq(kind::VALUE_SCORE))
        .filter(R::CustomerId.eq(request.customer_id.clone()));
    if let Some(after) = &page.after {
        let (period, seq) = after
            .split_once('|')
            .and_then(|(p, s)| Some((p.parse::<i32>().ok()?, s.parse::<i64>().ok()?)))
            .ok_or_else(|| {
                RegistryError::invalid("page_token", "is not a token this service issued")
            })?;
        query = query.filter(
            Condition::any().add(R::PeriodKey.lt(period)).add(
                Condition::all()
                    .add(R::PeriodKey.eq(period))
                    .add(R::Seq.lt(seq)),
            ),
        );
    }
    let mut rows = query
        .order_by_desc(R::PeriodKey)
        .order_by_desc(R::Seq)
        .limit(page.fetch_limit())
        .all(&customers.db)
        .await?;
    let next_page_token = page.finish(&mut rows, |r| format!("{}|{}", r.period_key, r.seq));
    Ok(v1::ListValueScoresResponse {
        scores: rows
            .iter()
            .map(|r| v1::ValueScore::decode(r.payload.as_slice()).map_err(internal))
            .collect::<Result<_>>()?,
        next_page_token,
    })
}

fn month_view(
    customer_id: &str,
    row: &value_result::Model,
    m: &MonthlyContribution,
) -> Result<v1::Contribution> {
    Ok(compute::contribution_to_proto(ContributionView {
        customer_id,
        window: v1::ContributionWindow::Month,
        first: m.period,
        last: m.period,
        months_with_data: 1,
        own: &m.own,
        linked: &m.linked_retail,
        hurdle: m.hurdle_rate,
        draw: m.draw_ratio,
        refs: wire::refs_from_json(&row.rule_versions)?,
        at: row.compute_time,
    }))
}

/// A customer's trailing-twelve-month contribution ending with `as_of` from the stored months,
/// or `None` when none of the twelve months was computed: what pricing calls "contribution".
pub async fn trailing_contribution<C: ConnectionTrait>(
    db: &C,
    customer_id: &str,
    as_of: Period,
) -> Result<Option<WindowContribution>> {
    let mut first = as_of;
    for _ in 0..11 {
        first = first.prev().unwrap_or(first);
    }
    let months: Vec<MonthlyContribution> = compute::current_months(db, customer_id, first, as_of)
        .await?
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    if months.is_empty() {
        return Ok(None);
    }
    trailing_twelve_months(as_of, &months, Currency::CNY)
        .map(Some)
        .map_err(internal)
}

/// `GetContribution`.
pub async fn get_contribution(
    customers: &Customers,
    caller: &Caller,
    request: v1::GetContributionRequest,
) -> Result<v1::GetContributionResponse> {
    let mut v = Violations::new();
    wire::customer_id_in("customer_id", &request.customer_id, &mut v);
    let period = optional_period(customers, "period", request.period.as_ref(), &mut v);
    let window = match v1::ContributionWindow::try_from(request.window) {
        Ok(v1::ContributionWindow::Unspecified) => Some(v1::ContributionWindow::Month),
        Ok(w) => Some(w),
        Err(_) => {
            v.add(
                "window",
                "must be MONTH, YEAR_TO_DATE or TRAILING_TWELVE_MONTHS",
            );
            None
        }
    };
    let Some(window) = window.filter(|_| v.is_empty()) else {
        return Err(v.into());
    };
    let id = request.customer_id.as_str();
    visible_customer(customers, caller, id).await?;
    let contribution = contribution_for(&customers.db, id, period, window)
        .await?
        .ok_or_else(|| not_found("contribution", id))?;
    Ok(v1::GetContributionResponse {
        contribution: Some(contribution),
    })
}

/// The contribution of `id` over `window` ending at `period` (the latest computed month when
/// `None`); `None` when nothing was computed. No access check: callers decide visibility.
pub(crate) async fn contribution_for<C: ConnectionTrait>(
    db: &C,
    id: &str,
    period: Option<Period>,
    window: v1::ContributionWindow,
) -> Result<Option<v1::Contribution>> {
    let last = match period {
        Some(p) => p,
        None => {
            let Some(row) = current_row(db, kind::CONTRIBUTION, id, None).await? else {
                return Ok(None);
            };
            wire::period_of_key(row.period_key)?
        }
    };
    if window == v1::ContributionWindow::Month {
        let Some(row) = current_row(db, kind::CONTRIBUTION, id, Some(last)).await? else {
            return Ok(None);
        };
        let m: MonthlyContribution = serde_json::from_slice(&row.payload).map_err(internal)?;
        return Ok(Some(month_view(id, &row, &m)?));
    }
    let first = if window == v1::ContributionWindow::YearToDate {
        Period::new(last.year(), 1).map_err(internal)?
    } else {
        let mut f = last;
        for _ in 0..11 {
            f = f.prev().unwrap_or(f);
        }
        f
    };
    let stored = compute::current_months(db, id, first, last).await?;
    let Some((newest, newest_month)) = stored.last() else {
        return Ok(None);
    };
    let mut refs: Vec<v1::RuleVersionRef> = Vec::new();
    for (row, _) in &stored {
        for r in wire::refs_from_json(&row.rule_versions)? {
            if !refs.contains(&r) {
                refs.push(r);
            }
        }
    }
    let at = stored
        .iter()
        .map(|(r, _)| r.compute_time)
        .max()
        .unwrap_or(newest.compute_time);
    let (hurdle, draw) = (newest_month.hurdle_rate, newest_month.draw_ratio);
    let months: Vec<MonthlyContribution> = stored.iter().map(|(_, m)| m.clone()).collect();
    let summed = if window == v1::ContributionWindow::YearToDate {
        year_to_date(last, &months, Currency::CNY)
    } else {
        trailing_twelve_months(last, &months, Currency::CNY)
    }
    .map_err(internal)?;
    Ok(Some(compute::contribution_to_proto(ContributionView {
        customer_id: id,
        window,
        first: summed.first,
        last: summed.last,
        months_with_data: summed.months_with_data,
        own: &summed.own,
        linked: &summed.linked_retail,
        hurdle,
        draw,
        refs,
        at,
    })))
}

/// The latest current result of `result_kind` for a customer, decoded; `None` when never computed.
/// No access check: callers decide visibility.
pub(crate) async fn latest<M: prost::Message + Default, C: ConnectionTrait>(
    db: &C,
    result_kind: &str,
    customer_id: &str,
) -> Result<Option<M>> {
    match current_row(db, result_kind, customer_id, None).await? {
        Some(row) => M::decode(row.payload.as_slice())
            .map(Some)
            .map_err(internal),
        None => Ok(None),
    }
}

/// `ListContributions`: the current monthly figures in a range, newest first.
pub async fn list_contributions(
    customers: &Customers,
    caller: &Caller,
    request: v1::ListContributionsRequest,
) -> Result<v1::ListContributionsResponse> {
    let mut v = Violations::new();
    wire::customer_id_in("customer_id", &request.customer_id, &mut v);
    let range = match &request.months {
        None => None,
        Some(r) => {
            let today = customers.clock.today();
            let first = match &r.first {
                Some(p) => wire::period_in("months.first", p, today, &mut v),
                None => {
                    v.add("months.first", "is required");
                    None
                }
            };
            let last = match &r.last {
                Some(p) => wire::period_in("months.last", p, today, &mut v),
                None => {
                    v.add("months.last", "is required");
                    None
                }
            };
            if let (Some(f), Some(l)) = (first, last)
                && f > l
            {
                v.add("months.last", "must not be before months.first");
            }
            first.zip(last)
        }
    };
    let filters = format!("{} {:?}", request.customer_id, request.months);
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    if !v.is_empty() {
        return Err(v.into());
    }
    let id = request.customer_id.as_str();
    visible_customer(customers, caller, id).await?;
    let (first_key, last_key) = match range {
        Some((f, l)) => (wire::period_key(f), wire::period_key(l)),
        None => match current_row(&customers.db, kind::CONTRIBUTION, id, None).await? {
            None => {
                return Ok(v1::ListContributionsResponse::default());
            }
            Some(row) => {
                let last = wire::period_of_key(row.period_key)?;
                let mut first = last;
                for _ in 0..11 {
                    first = first.prev().unwrap_or(first);
                }
                (wire::period_key(first), row.period_key)
            }
        },
    };
    let mut query = value_result::Entity::find()
        .filter(R::Kind.eq(kind::CONTRIBUTION))
        .filter(R::CustomerId.eq(id))
        .filter(R::Current.eq(true))
        .filter(R::PeriodKey.gte(first_key))
        .filter(R::PeriodKey.lte(last_key));
    if let Some(after) = &page.after {
        let key: i32 = after.parse().map_err(|_| {
            RegistryError::invalid("page_token", "is not a token this service issued")
        })?;
        query = query.filter(R::PeriodKey.lt(key));
    }
    let mut rows = query
        .order_by_desc(R::PeriodKey)
        .limit(page.fetch_limit())
        .all(&customers.db)
        .await?;
    let next_page_token = page.finish(&mut rows, |r| r.period_key.to_string());
    let mut contributions = Vec::with_capacity(rows.len());
    for row in &rows {
        let m: MonthlyContribution = serde_json::from_slice(&row.payload).map_err(internal)?;
        contributions.push(month_view(id, row, &m)?);
    }
    Ok(v1::ListContributionsResponse {
        contributions,
        next_page_token,
    })
}

/// `ListDormantCustomers`: the current dormancy scores of the customers now owned in a subtree,
/// for one month, at or above a grade; deepest silence first, then by customer id.
pub async fn list_dormant(
    customers: &Customers,
    caller: &Caller,
    request: v1::ListDormantCustomersRequest,
) -> Result<v1::ListDormantCustomersResponse> {
    let mut v = Violations::new();
    let root = if request.branch_id.is_empty() {
        caller.branch.clone()
    } else {
        branch_code("branch_id", &request.branch_id, &mut v)
    };
    let period = optional_period(customers, "period", request.period.as_ref(), &mut v);
    let min_rank = match v1::DormancyGrade::try_from(request.min_grade) {
        Ok(v1::DormancyGrade::Unspecified) | Ok(v1::DormancyGrade::Light) => Some(1),
        Ok(v1::DormancyGrade::Active) => Some(0),
        Ok(v1::DormancyGrade::Medium) => Some(2),
        Ok(v1::DormancyGrade::Deep) => Some(3),
        Ok(v1::DormancyGrade::InsufficientHistory) | Err(_) => {
            v.add(
                "min_grade",
                "must be ACTIVE, LIGHT, MEDIUM or DEEP (a grade on the silence scale)",
            );
            None
        }
    };
    let filters = format!(
        "{} {:?} {}",
        request.branch_id, request.period, request.min_grade
    );
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    let Some(root) = root else {
        v.add("branch_id", "is required for a caller without a branch");
        return Err(v.into());
    };
    let Some(min_rank) = min_rank.filter(|_| v.is_empty()) else {
        return Err(v.into());
    };
    let tree = tree_as_of(&customers.db, customers.clock.today())
        .await?
        .ok_or_else(|| not_found("branch", root.as_str()))?;
    if !tree.contains(&root)
        || !may_read_customer(&caller.roles, caller.branch.as_ref(), &root, &tree, false)
    {
        return Err(not_found("branch", root.as_str()));
    }
    let period_key = match period {
        Some(p) => wire::period_key(p),
        None => {
            match value_result::Entity::find()
                .filter(R::Kind.eq(kind::DORMANCY))
                .order_by_desc(R::PeriodKey)
                .one(&customers.db)
                .await?
            {
                Some(row) => row.period_key,
                None => return Ok(v1::ListDormantCustomersResponse::default()),
            }
        }
    };
    let subtree: Vec<String> = tree
        .subtree(&root)
        .map_err(internal)?
        .into_iter()
        .map(|b: BranchCode| b.as_str().to_owned())
        .collect();
    let owned = customer::Entity::find()
        .select_only()
        .column(customer::Column::CustomerId)
        .filter(customer::Column::OwningBranchId.is_in(subtree));
    let mut query = value_result::Entity::find()
        .filter(R::Kind.eq(kind::DORMANCY))
        .filter(R::PeriodKey.eq(period_key))
        .filter(R::Current.eq(true))
        .filter(R::GradeRank.gte(min_rank))
        .filter(R::CustomerId.in_subquery(sea_orm::QueryTrait::into_query(owned)));
    if let Some(after) = &page.after {
        let (sort, id) = after
            .split_once('|')
            .and_then(|(s, id)| Some((s.parse::<i64>().ok()?, id.to_owned())))
            .ok_or_else(|| {
                RegistryError::invalid("page_token", "is not a token this service issued")
            })?;
        query = query.filter(
            Condition::any().add(R::SortKey.lt(sort)).add(
                Condition::all()
                    .add(R::SortKey.eq(sort))
                    .add(R::CustomerId.gt(id)),
            ),
        );
    }
    let mut rows = query
        .order_by_desc(R::SortKey)
        .order_by_asc(R::CustomerId)
        .limit(page.fetch_limit())
        .all(&customers.db)
        .await?;
    let next_page_token = page.finish(&mut rows, |r| format!("{}|{}", r.sort_key, r.customer_id));
    Ok(v1::ListDormantCustomersResponse {
        dormancies: rows
            .iter()
            .map(|r| v1::DormancyScore::decode(r.payload.as_slice()).map_err(internal))
            .collect::<Result<_>>()?,
        next_page_token,
    })
}
