//! Managers' factor assessments: grades for the factors that have no data source (five-dimension
//! grades 0–100 of the factors named in the AHP factor matrices in force) and GE factor scores
//! (1–5 of the factors named in the GE weights in force), per customer, scheme and month. A new
//! assessment supersedes the previous one of the same customer, scheme and month; both are kept.
//! Factors graded from data (`bankmkt_domain::scoring::DATA_FACTORS`) cannot be assessed.

use std::collections::BTreeMap;

use bankmkt_domain::ahp::is_valid_factor_code;
use bankmkt_domain::calendar::Period;
use bankmkt_domain::org::Role;
use bankmkt_domain::scoring::{Decimal, is_data_factor};
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, QueryOrder, QuerySelect, TransactionTrait};
use serde::{Deserialize, Serialize};

use super::entity::factor_assessment;
use super::rules;
use super::visible_customer;
use super::wire::{self, dec_out, internal};
use crate::customers::Customers;
use crate::error::{RegistryError, Result};
use crate::org::require_role;

/// Roles that may record assessments (customer managers only for customers they can see).
const ASSESS_ROLES: [Role; 5] = [
    Role::CustomerManager,
    Role::TeamLead,
    Role::BranchHead,
    Role::PerformanceOffice,
    Role::Admin,
];
/// Most grades in one assessment.
const MAX_GRADES: usize = 100;

/// The scheme of an assessment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Five-dimension value grades, 0–100.
    FiveDimension,
    /// GE factor scores, 1–5.
    GeMatrix,
}

impl Scheme {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Scheme::FiveDimension => "five_dimension",
            Scheme::GeMatrix => "ge_matrix",
        }
    }

    fn from_proto(raw: i32) -> Option<Scheme> {
        match v1::AssessmentScheme::try_from(raw).ok()? {
            v1::AssessmentScheme::FiveDimension => Some(Scheme::FiveDimension),
            v1::AssessmentScheme::GeMatrix => Some(Scheme::GeMatrix),
            v1::AssessmentScheme::Unspecified => None,
        }
    }

    fn to_proto(code: &str) -> v1::AssessmentScheme {
        match code {
            "five_dimension" => v1::AssessmentScheme::FiveDimension,
            _ => v1::AssessmentScheme::GeMatrix,
        }
    }

    fn range(self) -> (Decimal, Decimal) {
        match self {
            Scheme::FiveDimension => (Decimal::ZERO, Decimal::ONE_HUNDRED),
            Scheme::GeMatrix => (Decimal::ONE, Decimal::from(5)),
        }
    }
}

/// One stored grade.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct StoredGrade {
    factor_code: String,
    grade: Decimal,
    note: String,
}

fn to_proto(row: &factor_assessment::Model) -> Result<v1::FactorAssessment> {
    let grades: Vec<StoredGrade> = serde_json::from_str(&row.grades).map_err(internal)?;
    Ok(v1::FactorAssessment {
        assessment_id: row.assessment_id.clone(),
        customer_id: row.customer_id.clone(),
        scheme: Scheme::to_proto(&row.scheme) as i32,
        period: Some(wire::period_out(wire::period_of_key(row.period_key)?)),
        grades: grades
            .into_iter()
            .map(|g| v1::FactorGrade {
                factor_code: g.factor_code,
                grade: dec_out(g.grade),
                note: g.note,
            })
            .collect(),
        created: Some(v1::AuditStamp {
            actor_id: row.created_by.clone(),
            time: wire::ts(row.create_time),
            reason: String::new(),
        }),
        superseded: row.superseded,
    })
}

/// The grades of the newest assessment in force of `scheme` for `customer_id` whose month lies
/// in `window` (the latest month first).
pub async fn latest_grades<C: ConnectionTrait>(
    db: &C,
    customer_id: &str,
    scheme: Scheme,
    window: &[Period],
) -> Result<BTreeMap<String, Decimal>> {
    let keys: Vec<i32> = window.iter().map(|p| wire::period_key(*p)).collect();
    let row = factor_assessment::Entity::find()
        .filter(factor_assessment::Column::CustomerId.eq(customer_id))
        .filter(factor_assessment::Column::Scheme.eq(scheme.code()))
        .filter(factor_assessment::Column::Superseded.eq(false))
        .filter(factor_assessment::Column::PeriodKey.is_in(keys))
        .order_by_desc(factor_assessment::Column::PeriodKey)
        .order_by_desc(factor_assessment::Column::Seq)
        .one(db)
        .await?;
    let Some(row) = row else {
        return Ok(BTreeMap::new());
    };
    let grades: Vec<StoredGrade> = serde_json::from_str(&row.grades).map_err(internal)?;
    Ok(grades
        .into_iter()
        .map(|g| (g.factor_code, g.grade))
        .collect())
}

/// `CreateFactorAssessment`.
pub async fn create(
    customers: &Customers,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateFactorAssessmentRequest,
) -> Result<v1::CreateFactorAssessmentResponse> {
    require_role(caller, &ASSESS_ROLES, "CreateFactorAssessment")?;
    let mut v = Violations::new();
    let Some(a) = request.assessment.as_ref() else {
        v.add("assessment", "is required");
        return Err(v.into());
    };
    wire::customer_id_in("assessment.customer_id", &a.customer_id, &mut v);
    let scheme = Scheme::from_proto(a.scheme);
    if scheme.is_none() {
        v.add("assessment.scheme", "must be five_dimension or ge_matrix");
    }
    let today = customers.clock.today();
    let period = match &a.period {
        None => {
            v.add("assessment.period", "is required");
            None
        }
        Some(p) => wire::period_in("assessment.period", p, today, &mut v),
    };
    if a.grades.is_empty() || a.grades.len() > MAX_GRADES {
        v.add(
            "assessment.grades",
            format!("must hold 1 to {MAX_GRADES} grades"),
        );
    }
    let mut grades = Vec::with_capacity(a.grades.len());
    for (i, g) in a.grades.iter().enumerate() {
        let field = |f: &str| format!("assessment.grades[{i}].{f}");
        let code = g.factor_code.as_str();
        let mut ok = true;
        if !is_valid_factor_code(code) {
            v.add(
                field("factor_code"),
                "must be 1 to 64 characters of a-z, 0-9 and _",
            );
            ok = false;
        } else if a.grades[..i].iter().any(|o| o.factor_code == code) {
            v.add(field("factor_code"), format!("{code:?} is graded twice"));
            ok = false;
        } else if is_data_factor(code) {
            v.add(
                field("factor_code"),
                format!("{code:?} is graded from data and cannot be assessed"),
            );
            ok = false;
        }
        let grade = wire::decimal(&field("grade"), g.grade.as_ref(), &mut v);
        if let (Some(grade), Some(s)) = (grade, scheme) {
            let (lo, hi) = s.range();
            if grade < lo || grade > hi {
                v.add(field("grade"), format!("must be within {lo} to {hi}"));
                ok = false;
            }
        }
        if g.note.chars().count() > 500 {
            v.add(field("note"), "must be at most 500 characters");
            ok = false;
        }
        if let (true, Some(grade)) = (ok, grade) {
            grades.push(StoredGrade {
                factor_code: code.to_owned(),
                grade,
                note: g.note.clone(),
            });
        }
    }
    let (Some(scheme), Some(period)) = (scheme, period) else {
        return Err(v.into());
    };
    if !v.is_empty() {
        return Err(v.into());
    }
    // Only factors the rules in force at the month's end know.
    let end = period.last_day();
    let known = match scheme {
        Scheme::FiveDimension => rules::value_factors_in_force(&customers.db, end).await?,
        Scheme::GeMatrix => rules::ge_factors_in_force(&customers.db, end).await?,
    };
    for (i, g) in a.grades.iter().enumerate() {
        if !known.contains(&g.factor_code) {
            v.add(
                format!("assessment.grades[{i}].factor_code"),
                format!(
                    "{:?} is not a factor of the {} in force on {end}",
                    g.factor_code,
                    match scheme {
                        Scheme::FiveDimension => "AHP factor matrices",
                        Scheme::GeMatrix => "GE weights",
                    }
                ),
            );
        }
    }
    if !v.is_empty() {
        return Err(v.into());
    }
    visible_customer(customers, caller, &a.customer_id).await?;

    let now = wire::now_micros(&customers.clock);
    let key = wire::period_key(period);
    let txn = customers.db.begin().await?;
    let superseded = factor_assessment::Entity::update_many()
        .col_expr(factor_assessment::Column::Superseded, Expr::value(true))
        .filter(factor_assessment::Column::CustomerId.eq(a.customer_id.clone()))
        .filter(factor_assessment::Column::Scheme.eq(scheme.code()))
        .filter(factor_assessment::Column::PeriodKey.eq(key))
        .filter(factor_assessment::Column::Superseded.eq(false))
        .exec(&txn)
        .await?;
    let row = factor_assessment::ActiveModel {
        assessment_id: Set(Uuid::now_v7().to_string()),
        customer_id: Set(a.customer_id.clone()),
        scheme: Set(scheme.code().to_owned()),
        period_key: Set(key),
        grades: Set(serde_json::to_string(&grades).map_err(internal)?),
        created_by: Set(caller.subject.clone()),
        create_time: Set(now),
        superseded: Set(false),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: "value.factor_assessment.create".to_owned(),
            target_type: "customer".to_owned(),
            target_id: a.customer_id.clone(),
            before: format!("superseded={}", superseded.rows_affected),
            after: format!(
                "assessment={} scheme={} period={period} grades={}",
                row.assessment_id,
                scheme.code(),
                grades.len()
            ),
            reason: String::new(),
            request_id: request_id.to_owned(),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(v1::CreateFactorAssessmentResponse {
        assessment: Some(to_proto(&row)?),
    })
}

/// `ListFactorAssessments`: newest first.
pub async fn list(
    customers: &Customers,
    caller: &Caller,
    request: v1::ListFactorAssessmentsRequest,
) -> Result<v1::ListFactorAssessmentsResponse> {
    let mut v = Violations::new();
    wire::customer_id_in("customer_id", &request.customer_id, &mut v);
    let scheme = match request.scheme {
        0 => None,
        raw => {
            let s = Scheme::from_proto(raw);
            if s.is_none() {
                v.add("scheme", "must be a known assessment scheme");
            }
            s
        }
    };
    let filters = format!(
        "{} {} {}",
        request.customer_id, request.scheme, request.include_superseded
    );
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    if !v.is_empty() {
        return Err(v.into());
    }
    visible_customer(customers, caller, &request.customer_id).await?;
    let mut query = factor_assessment::Entity::find()
        .filter(factor_assessment::Column::CustomerId.eq(request.customer_id.clone()));
    if let Some(s) = scheme {
        query = query.filter(factor_assessment::Column::Scheme.eq(s.code()));
    }
    if !request.include_superseded {
        query = query.filter(factor_assessment::Column::Superseded.eq(false));
    }
    if let Some(after) = &page.after {
        let seq: i64 = after.parse().map_err(|_| {
            RegistryError::invalid("page_token", "is not a token this service issued")
        })?;
        query = query.filter(factor_assessment::Column::Seq.lt(seq));
    }
    let mut rows = query
        .order_by_desc(factor_assessment::Column::Seq)
        .limit(page.fetch_limit())
        .all(&customers.db)
        .await?;
    let next_page_token = page.finish(&mut rows, |r| r.seq.to_string());
    Ok(v1::ListFactorAssessmentsResponse {
        assessments: rows.iter().map(to_proto).collect::<Result<_>>()?,
        next_page_token,
    })
}
