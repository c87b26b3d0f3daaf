//! The value rules as versioned, effective-dated data: AHP pairwise-comparison matrices (one
//! series for the five dimensions, one per dimension for its factors), GE-matrix weights and
//! cuts, and the value configuration (hurdle rate, draw ratio, dormancy bands, RFM cuts, CLV
//! parameters, grade bands, default grades, data-factor scales). A new version must start after
//! every earlier version of its series; an open-ended predecessor is closed on the new start
//! date, and anything else that overlaps is `FAILED_PRECONDITION`. This module also resolves
//! the versions in force on a date into the domain models the computations use, and reloads
//! exactly the versions a job recorded.

use std::collections::BTreeSet;

use bankmkt_domain::ahp::{Judgement, PairwiseMatrix, WeightedFactor, is_valid_factor_code};
use bankmkt_domain::calendar::Period;
use bankmkt_domain::contribution::ContributionConfig;
use bankmkt_domain::dormancy::DormancyConfig;
use bankmkt_domain::ge::{DEFAULT_HIGH_CUT, DEFAULT_LOW_CUT, GeCuts, GeModel};
use bankmkt_domain::money::{BasisPoints, Currency, Money};
use bankmkt_domain::org::Role;
use bankmkt_domain::rfm::RfmCuts;
use bankmkt_domain::scoring::{Decimal, FactorScales, evaluation_window};
use bankmkt_domain::value::{DimensionModel, GradeBand, GradeBands, ValueDimension, ValueModel};
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::NaiveDate;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, Condition, QueryOrder, QuerySelect, TransactionTrait};
use serde::{Deserialize, Serialize};

use super::entity::{ahp_matrix, ge_weights, value_config};
use super::wire::{self, dec_out, internal};
use crate::customers::Customers;
use crate::error::{RegistryError, Result};
use crate::org::require_role;

/// The series id of the value configuration.
pub const CONFIG_ID: &str = "default";
/// Rule kind of the value configuration.
pub const CONFIG_KIND: &str = "value_config";
/// Rule kind of AHP matrices.
pub const AHP_KIND: &str = "ahp_matrix";
/// Rule kind of GE weights.
pub const GE_KIND: &str = "ge_weights";
/// The series id of the GE weights.
pub const GE_SERIES: &str = "ge";
/// The series id of the dimensions matrix.
pub const DIMENSIONS_SERIES: &str = "dimensions";

/// Roles that may create rule versions.
const RULE_ROLES: [Role; 2] = [Role::Admin, Role::PerformanceOffice];
/// Most factors on one GE axis.
const MAX_GE_FACTORS: usize = 15;

/// The series id of a dimension's factor matrix.
pub fn factors_series(d: ValueDimension) -> String {
    format!("factors-{}", d.as_str())
}

/// The value configuration, one versioned JSON row of `value_config`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueConfig {
    /// Hurdle rate of the capital charge, bp per year.
    pub hurdle_rate_bps: i32,
    /// Expected draw ratio of undrawn facilities, bp.
    pub draw_ratio_bps: i32,
    /// Months of a quarterly evaluation window (the cadence, default 3).
    pub window_months: u32,
    /// Dormancy: end of the light band (depth S − 1).
    pub dormancy_light_max: Decimal,
    /// Dormancy: end of the medium band.
    pub dormancy_medium_max: Decimal,
    /// RFM look-back in months (frequency and monetary).
    pub rfm_lookback_months: u32,
    /// RFM recency cuts, days.
    pub rfm_recency_cuts_days: [u32; 4],
    /// RFM frequency cuts, transactions.
    pub rfm_frequency_cuts: [u64; 4],
    /// RFM monetary cuts, fen of after-risk contribution.
    pub rfm_monetary_cuts_fen: [i64; 4],
    /// CLV annual discount rate, bp.
    pub clv_discount_rate_bps: i32,
    /// CLV horizon, years.
    pub clv_horizon_years: u32,
    /// CLV retention cost per year, fen.
    pub clv_retention_cost_fen: i64,
    /// Value grade bands, highest first.
    pub grade_bands: Vec<GradeBand>,
    /// Grade (0–100) of a five-dimension factor with neither data nor assessment.
    pub default_grade: Option<Decimal>,
    /// Score (1–5) of a GE factor with neither data nor assessment.
    pub ge_default_score: Option<Decimal>,
    /// How data factors are graded.
    pub scales: FactorScales,
}

impl Default for ValueConfig {
    fn default() -> Self {
        Self {
            hurdle_rate_bps: 1_200,
            draw_ratio_bps: 5_000,
            window_months: 3,
            dormancy_light_max: Decimal::ONE,
            dormancy_medium_max: Decimal::from(3),
            rfm_lookback_months: 12,
            rfm_recency_cuts_days: [30, 60, 90, 180],
            rfm_frequency_cuts: [6, 12, 24, 48],
            rfm_monetary_cuts_fen: [100_000, 1_000_000, 10_000_000, 100_000_000],
            clv_discount_rate_bps: 1_000,
            clv_horizon_years: 5,
            clv_retention_cost_fen: 0,
            grade_bands: GradeBands::default().bands().to_vec(),
            default_grade: Some(Decimal::from(50)),
            ge_default_score: Some(Decimal::from(3)),
            scales: FactorScales::default(),
        }
    }
}

/// The rules of a monthly run, built from one configuration version.
#[derive(Clone, Debug)]
pub struct MonthlyRules {
    /// The configuration.
    pub config: ValueConfig,
    /// Contribution parameters.
    pub contribution: ContributionConfig,
    /// Dormancy bands.
    pub dormancy: DormancyConfig,
    /// RFM cuts.
    pub rfm: RfmCuts,
    /// The versions used.
    pub refs: Vec<v1::RuleVersionRef>,
}

/// The rules of a quarterly run.
#[derive(Clone, Debug)]
pub struct QuarterlyRules {
    /// The monthly rules of the same configuration (for months computed on the fly).
    pub monthly: MonthlyRules,
    /// The five-dimension model.
    pub model: ValueModel,
    /// The GE model.
    pub ge: GeModel,
    /// The versions the value score uses (configuration and the six AHP matrices).
    pub value_refs: Vec<v1::RuleVersionRef>,
    /// The versions the GE class uses (configuration and the GE weights).
    pub ge_refs: Vec<v1::RuleVersionRef>,
    /// The evaluation window, oldest month first.
    pub window: Vec<Period>,
}

fn config_rules(row: &value_config::Model) -> std::result::Result<MonthlyRules, String> {
    let config: ValueConfig = serde_json::from_str(&row.payload)
        .map_err(|e| format!("value configuration {}: {e}", row.version))?;
    let contribution = ContributionConfig {
        hurdle_rate: BasisPoints::new(config.hurdle_rate_bps),
        draw_ratio: BasisPoints::new(config.draw_ratio_bps),
        currency: Currency::CNY,
    };
    contribution.validate().map_err(|e| e.to_string())?;
    let dormancy = DormancyConfig::new(config.dormancy_light_max, config.dormancy_medium_max)
        .map_err(|e| e.to_string())?;
    let rfm = RfmCuts::new(
        config.rfm_recency_cuts_days,
        config.rfm_frequency_cuts,
        config
            .rfm_monetary_cuts_fen
            .map(|f| Money::from_minor(Currency::CNY, f)),
    )
    .map_err(|e| e.to_string())?;
    config.scales.validate().map_err(|e| e.to_string())?;
    if config.rfm_lookback_months == 0 || config.rfm_lookback_months > 120 {
        return Err("rfm_lookback_months must be 1 to 120".to_owned());
    }
    Ok(MonthlyRules {
        config,
        contribution,
        dormancy,
        rfm,
        refs: vec![wire::rule_ref(CONFIG_KIND, &row.config_id, row.version)],
    })
}

/// `start ≤ date < end` (open end) on the effective columns of a rule table.
fn in_force<C: ColumnTrait>(start: C, end: C, date: NaiveDate) -> Condition {
    Condition::all()
        .add(start.lte(date))
        .add(Condition::any().add(end.is_null()).add(end.gt(date)))
}

async fn config_in_force<C: ConnectionTrait>(
    db: &C,
    date: NaiveDate,
) -> Result<Option<value_config::Model>> {
    Ok(value_config::Entity::find()
        .filter(value_config::Column::ConfigId.eq(CONFIG_ID))
        .filter(in_force(
            value_config::Column::StartDate,
            value_config::Column::EndDate,
            date,
        ))
        .order_by_desc(value_config::Column::Version)
        .one(db)
        .await?)
}

/// The AHP matrix of `series` in force on `date`.
pub async fn ahp_in_force<C: ConnectionTrait>(
    db: &C,
    series: &str,
    date: NaiveDate,
) -> Result<Option<ahp_matrix::Model>> {
    Ok(ahp_matrix::Entity::find()
        .filter(ahp_matrix::Column::MatrixId.eq(series))
        .filter(in_force(
            ahp_matrix::Column::StartDate,
            ahp_matrix::Column::EndDate,
            date,
        ))
        .order_by_desc(ahp_matrix::Column::Version)
        .one(db)
        .await?)
}

/// The GE weights in force on `date`.
pub async fn ge_in_force<C: ConnectionTrait>(
    db: &C,
    date: NaiveDate,
) -> Result<Option<ge_weights::Model>> {
    Ok(ge_weights::Entity::find()
        .filter(ge_weights::Column::GeWeightsId.eq(GE_SERIES))
        .filter(in_force(
            ge_weights::Column::StartDate,
            ge_weights::Column::EndDate,
            date,
        ))
        .order_by_desc(ge_weights::Column::Version)
        .one(db)
        .await?)
}

/// The rule versions in force on `date` for a run of `kind`, or what is missing.
pub async fn refs_in_force<C: ConnectionTrait>(
    db: &C,
    quarterly: bool,
    date: NaiveDate,
) -> Result<std::result::Result<Vec<v1::RuleVersionRef>, String>> {
    let Some(config) = config_in_force(db, date).await? else {
        return Ok(Err(format!("no value configuration is in force on {date}")));
    };
    let mut refs = vec![wire::rule_ref(
        CONFIG_KIND,
        &config.config_id,
        config.version,
    )];
    if !quarterly {
        return Ok(Ok(refs));
    }
    let mut series = vec![DIMENSIONS_SERIES.to_owned()];
    series.extend(ValueDimension::ALL.iter().map(|d| factors_series(*d)));
    let mut missing = Vec::new();
    for s in series {
        match ahp_in_force(db, &s, date).await? {
            Some(m) => refs.push(wire::rule_ref(AHP_KIND, &m.matrix_id, m.version)),
            None => missing.push(format!("AHP matrix {s}")),
        }
    }
    match ge_in_force(db, date).await? {
        Some(g) => refs.push(wire::rule_ref(GE_KIND, &g.ge_weights_id, g.version)),
        None => missing.push("GE weights".to_owned()),
    }
    if missing.is_empty() {
        Ok(Ok(refs))
    } else {
        Ok(Err(format!(
            "not in force on {date}: {}",
            missing.join(", ")
        )))
    }
}

async fn config_row<C: ConnectionTrait>(
    db: &C,
    refs: &[v1::RuleVersionRef],
) -> Result<value_config::Model> {
    let r = refs
        .iter()
        .find(|r| r.rule_kind == CONFIG_KIND)
        .ok_or_else(|| internal("job without a value configuration version"))?;
    value_config::Entity::find_by_id((r.rule_id.clone(), r.version))
        .one(db)
        .await?
        .ok_or_else(|| internal(format!("value configuration {} vanished", r.version)))
}

/// The monthly rules of exactly the versions in `refs`.
pub async fn load_monthly<C: ConnectionTrait>(
    db: &C,
    refs: &[v1::RuleVersionRef],
) -> Result<std::result::Result<MonthlyRules, String>> {
    let row = config_row(db, refs).await?;
    Ok(config_rules(&row))
}

fn weights_of(m: &ahp_matrix::Model) -> Result<(Vec<String>, Vec<Decimal>)> {
    let criteria: Vec<String> = serde_json::from_str(&m.criteria).map_err(internal)?;
    let weights: Vec<String> = serde_json::from_str(&m.weights).map_err(internal)?;
    let weights = weights
        .iter()
        .map(|w| wire::parse_decimal(w).ok_or_else(|| internal("stored AHP weight")))
        .collect::<Result<Vec<_>>>()?;
    Ok((criteria, weights))
}

/// The quarterly rules of exactly the versions in `refs`, for the window ending with `period`.
pub async fn load_quarterly<C: ConnectionTrait>(
    db: &C,
    refs: &[v1::RuleVersionRef],
    period: Period,
) -> Result<std::result::Result<QuarterlyRules, String>> {
    let monthly = match load_monthly(db, refs).await? {
        Ok(m) => m,
        Err(e) => return Ok(Err(e)),
    };
    let window = match evaluation_window(period, monthly.config.window_months) {
        Ok(w) => w,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let mut value_refs = monthly.refs.clone();
    let mut matrices = Vec::new();
    for r in refs.iter().filter(|r| r.rule_kind == AHP_KIND) {
        let m = ahp_matrix::Entity::find_by_id((r.rule_id.clone(), r.version))
            .one(db)
            .await?
            .ok_or_else(|| internal(format!("AHP matrix {} {} vanished", r.rule_id, r.version)))?;
        value_refs.push(r.clone());
        matrices.push(m);
    }
    let Some(dims) = matrices.iter().find(|m| m.matrix_id == DIMENSIONS_SERIES) else {
        return Ok(Err("no AHP dimensions matrix".to_owned()));
    };
    let (dim_codes, dim_weights) = weights_of(dims)?;
    let mut dimensions = Vec::new();
    for (code, weight) in dim_codes.iter().zip(dim_weights) {
        let dimension: ValueDimension = code.parse().map_err(internal)?;
        let series = factors_series(dimension);
        let Some(fm) = matrices.iter().find(|m| m.matrix_id == series) else {
            return Ok(Err(format!("no AHP factor matrix for {dimension}")));
        };
        let (codes, weights) = weights_of(fm)?;
        dimensions.push(DimensionModel {
            dimension,
            weight,
            factors: codes
                .into_iter()
                .zip(weights)
                .map(|(c, w)| WeightedFactor::new(c, w))
                .collect(),
        });
    }
    let bands = match GradeBands::new(monthly.config.grade_bands.clone()) {
        Ok(b) => b,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let model = match ValueModel::new(dimensions, bands, monthly.config.default_grade) {
        Ok(m) => m,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let ge_ref = refs
        .iter()
        .find(|r| r.rule_kind == GE_KIND)
        .ok_or_else(|| internal("job without GE weights"))?;
    let g = ge_weights::Entity::find_by_id((ge_ref.rule_id.clone(), ge_ref.version))
        .one(db)
        .await?
        .ok_or_else(|| internal("GE weights vanished"))?;
    let ge = match ge_model(&g) {
        Ok(m) => m,
        Err(e) => return Ok(Err(e)),
    };
    let mut ge_refs = monthly.refs.clone();
    ge_refs.push(ge_ref.clone());
    Ok(Ok(QuarterlyRules {
        monthly,
        model,
        ge,
        value_refs,
        ge_refs,
        window,
    }))
}

fn ge_model(g: &ge_weights::Model) -> std::result::Result<GeModel, String> {
    let attractiveness: Vec<WeightedFactor> =
        serde_json::from_str(&g.attractiveness).map_err(|e| e.to_string())?;
    let strength: Vec<WeightedFactor> =
        serde_json::from_str(&g.strength).map_err(|e| e.to_string())?;
    let low = wire::parse_decimal(&g.low_cut).ok_or("stored low cut")?;
    let high = wire::parse_decimal(&g.high_cut).ok_or("stored high cut")?;
    let cuts = GeCuts::new(low, high).map_err(|e| e.to_string())?;
    GeModel::new(attractiveness, strength, cuts).map_err(|e| e.to_string())
}

/// The factor codes of the AHP factor matrices in force on `date` (five-dimension assessments).
pub async fn value_factors_in_force<C: ConnectionTrait>(
    db: &C,
    date: NaiveDate,
) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for d in ValueDimension::ALL {
        if let Some(m) = ahp_in_force(db, &factors_series(*d), date).await? {
            let criteria: Vec<String> = serde_json::from_str(&m.criteria).map_err(internal)?;
            out.extend(criteria);
        }
    }
    Ok(out)
}

/// The factor codes of the GE weights in force on `date`.
pub async fn ge_factors_in_force<C: ConnectionTrait>(
    db: &C,
    date: NaiveDate,
) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    if let Some(g) = ge_in_force(db, date).await? {
        for raw in [&g.attractiveness, &g.strength] {
            let list: Vec<WeightedFactor> = serde_json::from_str(raw).map_err(internal)?;
            out.extend(list.into_iter().map(|f| f.code));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Effective-dated series
// ---------------------------------------------------------------------------------------------

/// A version of a series, for the overlap rule.
struct Span {
    version: i64,
    start: NaiveDate,
    end: Option<NaiveDate>,
}

/// What a new version starting on `start` does to its series: `Ok(Some(v))` closes the
/// open-ended version `v` on `start`; an overlap is `FAILED_PRECONDITION`.
fn place(series: &str, spans: &[Span], start: NaiveDate) -> Result<Option<i64>> {
    let overlap = |message: String| RegistryError::FailedPrecondition {
        kind: "RULE_VERSION_OVERLAP",
        subject: series.to_owned(),
        message,
    };
    if let Some(later) = spans.iter().find(|s| s.start >= start) {
        return Err(overlap(format!(
            "version {} of {series} is in force from {}; a new version must start after it",
            later.version, later.start
        )));
    }
    let Some(latest) = spans.iter().max_by_key(|s| s.start) else {
        return Ok(None);
    };
    match latest.end {
        None => Ok(Some(latest.version)),
        Some(end) if end > start => Err(overlap(format!(
            "version {} of {series} is in force until {end}",
            latest.version
        ))),
        Some(_) => Ok(None),
    }
}

/// A concurrent create of the same series took the version number first: `ABORTED`, retry.
fn raced(e: DbErr, series: &str, version: i64) -> RegistryError {
    if matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    ) {
        RegistryError::StaleVersion {
            kind: "rule series",
            id: series.to_owned(),
            expected: version - 1,
            actual: version,
        }
    } else {
        RegistryError::Db(e)
    }
}

fn stamp(actor: &str, at: chrono::DateTime<chrono::Utc>, reason: &str) -> Option<v1::AuditStamp> {
    Some(v1::AuditStamp {
        actor_id: actor.to_owned(),
        time: wire::ts(at),
        reason: reason.to_owned(),
    })
}

// ---------------------------------------------------------------------------------------------
// AHP matrices
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Dimensions,
    DimensionFactors,
}

impl Scope {
    fn code(self) -> &'static str {
        match self {
            Scope::Dimensions => "dimensions",
            Scope::DimensionFactors => "dimension_factors",
        }
    }

    fn from_proto(raw: i32) -> Option<Scope> {
        match v1::AhpScope::try_from(raw).ok()? {
            v1::AhpScope::Dimensions => Some(Scope::Dimensions),
            v1::AhpScope::DimensionFactors => Some(Scope::DimensionFactors),
            v1::AhpScope::Unspecified => None,
        }
    }

    fn to_proto(code: &str) -> v1::AhpScope {
        match code {
            "dimensions" => v1::AhpScope::Dimensions,
            _ => v1::AhpScope::DimensionFactors,
        }
    }
}

/// The wire form of a stored matrix version.
pub fn ahp_to_proto(m: &ahp_matrix::Model) -> Result<v1::AhpMatrix> {
    let (criteria, weights) = weights_of(m)?;
    let judgements: Vec<[i32; 4]> = serde_json::from_str(&m.judgements).map_err(internal)?;
    let dec = |s: &str| {
        wire::parse_decimal(s)
            .and_then(dec_out)
            .ok_or_else(|| internal("stored AHP figure"))
    };
    Ok(v1::AhpMatrix {
        matrix_id: m.matrix_id.clone(),
        scope: Scope::to_proto(&m.scope) as i32,
        dimension: if m.dimension.is_empty() {
            0
        } else {
            wire::dimension_to_proto(m.dimension.parse().map_err(internal)?) as i32
        },
        criteria,
        judgements: judgements
            .iter()
            .map(|[row, column, numerator, denominator]| v1::AhpJudgement {
                row: *row,
                column: *column,
                numerator: *numerator,
                denominator: *denominator,
            })
            .collect(),
        effective: wire::effective_out(m.start_date, m.end_date),
        weights: weights.into_iter().filter_map(dec_out).collect(),
        lambda_max: Some(dec(&m.lambda_max)?),
        consistency_index: Some(dec(&m.consistency_index)?),
        random_index: Some(dec(&m.random_index)?),
        consistency_ratio: Some(dec(&m.consistency_ratio)?),
        version: m.version,
        created: stamp(&m.created_by, m.create_time, &m.reason),
    })
}

/// `CreateAhpMatrix`.
pub async fn create_ahp_matrix(
    customers: &Customers,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateAhpMatrixRequest,
) -> Result<v1::CreateAhpMatrixResponse> {
    require_role(caller, &RULE_ROLES, "CreateAhpMatrix")?;
    let mut v = Violations::new();
    let reason = wire::reason_in(&request.reason, &mut v);
    let Some(m) = request.matrix.as_ref() else {
        v.add("matrix", "is required");
        return Err(v.into());
    };
    let scope = Scope::from_proto(m.scope);
    if scope.is_none() {
        v.add("matrix.scope", "must be dimensions or dimension_factors");
    }
    let dimension = wire::dimension_from_proto(m.dimension);
    match scope {
        Some(Scope::Dimensions) if m.dimension != 0 => v.add(
            "matrix.dimension",
            "must be unset for the dimensions matrix",
        ),
        Some(Scope::DimensionFactors) if dimension.is_none() => v.add(
            "matrix.dimension",
            "must name the dimension whose factors are weighed",
        ),
        _ => {}
    }
    let n = m.criteria.len();
    if !(2..=15).contains(&n) {
        v.add("matrix.criteria", "must name 2 to 15 criteria");
    }
    for (i, c) in m.criteria.iter().enumerate() {
        let field = format!("matrix.criteria[{i}]");
        if m.criteria[..i].contains(c) {
            v.add(&field, format!("{c:?} is listed twice"));
        } else if scope == Some(Scope::Dimensions) && c.parse::<ValueDimension>().is_err() {
            v.add(
                &field,
                "must be a dimension: dependence, contribution, growth, credit or influence",
            );
        } else if !is_valid_factor_code(c) {
            v.add(&field, "must be 1 to 64 characters of a-z, 0-9 and _");
        }
    }
    if scope == Some(Scope::Dimensions) && n != ValueDimension::ALL.len() {
        v.add(
            "matrix.criteria",
            "must name each of the five dimensions once",
        );
    }
    let mut judgements = Vec::with_capacity(m.judgements.len());
    let mut seen = BTreeSet::new();
    for (i, j) in m.judgements.iter().enumerate() {
        let field = |f: &str| format!("matrix.judgements[{i}].{f}");
        let mut ok = true;
        if j.row < 0 || j.column <= j.row {
            v.add(field("row"), "must be zero-based and below column");
            ok = false;
        }
        if j.column < 0 || j.column as usize >= n {
            v.add(
                field("column"),
                format!("must be below the number of criteria ({n})"),
            );
            ok = false;
        }
        for (name, value) in [("numerator", j.numerator), ("denominator", j.denominator)] {
            if !(1..=9).contains(&value) {
                v.add(field(name), "must be 1 to 9 (Saaty's scale)");
                ok = false;
            }
        }
        if ok && j.numerator != 1 && j.denominator != 1 {
            v.add(
                field("numerator"),
                "one of numerator and denominator must be 1 (Saaty's scale)",
            );
            ok = false;
        }
        if ok && !seen.insert((j.row, j.column)) {
            v.add(
                format!("matrix.judgements[{i}]"),
                format!("judges ({}, {}) a second time", j.row, j.column),
            );
            ok = false;
        }
        if ok {
            judgements.push(Judgement {
                row: j.row as usize,
                column: j.column as usize,
                numerator: j.numerator as u32,
                denominator: j.denominator as u32,
            });
        }
    }
    if (2..=15).contains(&n) && m.judgements.len() != n * (n - 1) / 2 {
        v.add(
            "matrix.judgements",
            format!(
                "must hold exactly n(n-1)/2 = {} upper-triangle judgements for {n} criteria",
                n * (n - 1) / 2
            ),
        );
    }
    let effective = wire::effective_in("matrix.effective", m.effective.as_ref(), &mut v);
    let (Some(scope), Some((start, end))) = (scope, effective) else {
        return Err(v.into());
    };
    if !v.is_empty() {
        return Err(v.into());
    }
    let matrix = PairwiseMatrix::from_judgements(n, &judgements)
        .map_err(|e| RegistryError::invalid("matrix.judgements", e.to_string()))?;
    let analysis = matrix.priorities().map_err(|e| {
        RegistryError::invalid(
            "matrix.judgements",
            format!("{e}; revise the judgements (CR = CI/RI must be below 0.10)"),
        )
    })?;

    let series = match (scope, dimension) {
        (Scope::DimensionFactors, Some(d)) => factors_series(d),
        _ => DIMENSIONS_SERIES.to_owned(),
    };
    let now = wire::now_micros(&customers.clock);
    let txn = customers.db.begin().await?;
    let existing = ahp_matrix::Entity::find()
        .filter(ahp_matrix::Column::MatrixId.eq(series.clone()))
        .all(&txn)
        .await?;
    let spans: Vec<Span> = existing
        .iter()
        .map(|e| Span {
            version: e.version,
            start: e.start_date,
            end: e.end_date,
        })
        .collect();
    if let Some(close) = place(&series, &spans, start)? {
        ahp_matrix::Entity::update_many()
            .col_expr(ahp_matrix::Column::EndDate, Expr::value(start))
            .filter(ahp_matrix::Column::MatrixId.eq(series.clone()))
            .filter(ahp_matrix::Column::Version.eq(close))
            .exec(&txn)
            .await?;
    }
    let version = existing.iter().map(|e| e.version).max().unwrap_or(0) + 1;
    let to_text = |d: Decimal| d.normalize().to_string();
    let row = ahp_matrix::ActiveModel {
        matrix_id: Set(series.clone()),
        version: Set(version),
        scope: Set(scope.code().to_owned()),
        dimension: Set(match scope {
            Scope::DimensionFactors => dimension.map(|d| d.as_str().to_owned()).unwrap_or_default(),
            Scope::Dimensions => String::new(),
        }),
        criteria: Set(serde_json::to_string(&m.criteria).map_err(internal)?),
        judgements: Set(serde_json::to_string(
            &m.judgements
                .iter()
                .map(|j| [j.row, j.column, j.numerator, j.denominator])
                .collect::<Vec<_>>(),
        )
        .map_err(internal)?),
        weights: Set(serde_json::to_string(
            &analysis
                .weights
                .iter()
                .map(|w| to_text(*w))
                .collect::<Vec<_>>(),
        )
        .map_err(internal)?),
        lambda_max: Set(to_text(analysis.lambda_max)),
        consistency_index: Set(to_text(analysis.consistency_index)),
        random_index: Set(to_text(analysis.random_index)),
        consistency_ratio: Set(to_text(analysis.consistency_ratio)),
        start_date: Set(start),
        end_date: Set(end),
        created_by: Set(caller.subject.clone()),
        reason: Set(reason.clone()),
        create_time: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| raced(e, &series, version))?;
    audit::record(
        &txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: "value.ahp_matrix.create".to_owned(),
            target_type: AHP_KIND.to_owned(),
            target_id: series.clone(),
            before: format!("versions={}", existing.len()),
            after: format!(
                "version={version} from={start} cr={}",
                to_text(analysis.consistency_ratio)
            ),
            reason,
            request_id: request_id.to_owned(),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(v1::CreateAhpMatrixResponse {
        matrix: Some(ahp_to_proto(&row)?),
    })
}

/// `GetAhpMatrix`.
pub async fn get_ahp_matrix(
    customers: &Customers,
    request: v1::GetAhpMatrixRequest,
) -> Result<v1::GetAhpMatrixResponse> {
    let mut v = Violations::new();
    if request.matrix_id.is_empty() || request.matrix_id.len() > 64 {
        v.add("matrix_id", "must be 1 to 64 characters");
    }
    if request.version < 0 {
        v.add("version", "must not be negative");
    }
    let date = match &request.as_of_date {
        Some(d) => v.check("as_of_date", crate::convert::date_from_proto(d)),
        None => Some(customers.clock.today()),
    };
    let Some(date) = date.filter(|_| v.is_empty()) else {
        return Err(v.into());
    };
    let found = if request.version > 0 {
        ahp_matrix::Entity::find_by_id((request.matrix_id.clone(), request.version))
            .one(&customers.db)
            .await?
    } else {
        ahp_in_force(&customers.db, &request.matrix_id, date).await?
    };
    let m = found.ok_or_else(|| RegistryError::NotFound {
        kind: "AHP matrix",
        id: request.matrix_id.clone(),
    })?;
    Ok(v1::GetAhpMatrixResponse {
        matrix: Some(ahp_to_proto(&m)?),
    })
}

/// `ListAhpMatrices`: by matrix id, then version descending.
pub async fn list_ahp_matrices(
    customers: &Customers,
    request: v1::ListAhpMatricesRequest,
) -> Result<v1::ListAhpMatricesResponse> {
    let mut v = Violations::new();
    let scope = match request.scope {
        0 => None,
        raw => {
            let s = Scope::from_proto(raw);
            if s.is_none() {
                v.add("scope", "must be a known AHP scope");
            }
            s
        }
    };
    let dimension = match request.dimension {
        0 => None,
        raw => {
            let d = wire::dimension_from_proto(raw);
            if d.is_none() {
                v.add("dimension", "must be a known value dimension");
            }
            d
        }
    };
    let filters = format!("scope={} dimension={}", request.scope, request.dimension);
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    if !v.is_empty() {
        return Err(v.into());
    }
    let mut query = ahp_matrix::Entity::find();
    if let Some(s) = scope {
        query = query.filter(ahp_matrix::Column::Scope.eq(s.code()));
    }
    if let Some(d) = dimension {
        query = query.filter(ahp_matrix::Column::Dimension.eq(d.as_str()));
    }
    if let Some(after) = &page.after {
        let (id, version) = after
            .rsplit_once('|')
            .and_then(|(id, ver)| ver.parse::<i64>().ok().map(|ver| (id.to_owned(), ver)))
            .ok_or_else(|| {
                RegistryError::invalid("page_token", "is not a token this service issued")
            })?;
        query = query.filter(
            Condition::any()
                .add(ahp_matrix::Column::MatrixId.gt(id.clone()))
                .add(
                    Condition::all()
                        .add(ahp_matrix::Column::MatrixId.eq(id))
                        .add(ahp_matrix::Column::Version.lt(version)),
                ),
        );
    }
    let mut rows = query
        .order_by_asc(ahp_matrix::Column::MatrixId)
        .order_by_desc(ahp_matrix::Column::Version)
        .limit(page.fetch_limit())
        .all(&customers.db)
        .await?;
    let next_page_token = page.finish(&mut rows, |r| format!("{}|{}", r.matrix_id, r.version));
    Ok(v1::ListAhpMatricesResponse {
        matrices: rows.iter().map(ahp_to_proto).collect::<Result<_>>()?,
        next_page_token,
    })
}

// ---------------------------------------------------------------------------------------------
// GE weights
// ---------------------------------------------------------------------------------------------

fn ge_to_proto(g: &ge_weights::Model) -> Result<v1::GeWeights> {
    let list = |raw: &str| -> Result<Vec<v1::WeightedFactor>> {
        let factors: Vec<WeightedFactor> = serde_json::from_str(raw).map_err(internal)?;
        Ok(factors
            .into_iter()
            .map(|f| v1::WeightedFactor {
                factor_code: f.code,
                weight: dec_out(f.weight),
            })
            .collect())
    };
    let dec = |s: &str| {
        wire::parse_decimal(s)
            .and_then(dec_out)
            .ok_or_else(|| internal("stored GE cut"))
    };
    Ok(v1::GeWeights {
        ge_weights_id: g.ge_weights_id.clone(),
        attractiveness: list(&g.attractiveness)?,
        strength: list(&g.strength)?,
        low_cut: Some(dec(&g.low_cut)?),
        high_cut: Some(dec(&g.high_cut)?),
        effective: wire::effective_out(g.start_date, g.end_date),
        version: g.version,
        created: stamp(&g.created_by, g.create_time, &g.reason),
    })
}

fn ge_axis(field: &str, factors: &[v1::WeightedFactor], v: &mut Violations) -> Vec<WeightedFactor> {
    if factors.is_empty() || factors.len() > MAX_GE_FACTORS {
        v.add(field, format!("must list 1 to {MAX_GE_FACTORS} factors"));
    }
    let mut out = Vec::new();
    let mut total = Decimal::ZERO;
    let mut complete = true;
    for (i, f) in factors.iter().enumerate() {
        let code_field = format!("{field}[{i}].factor_code");
        if !is_valid_factor_code(&f.factor_code) {
            v.add(&code_field, "must be 1 to 64 characters of a-z, 0-9 and _");
            complete = false;
        } else if factors[..i].iter().any(|g| g.factor_code == f.factor_code) {
            v.add(&code_field, format!("{:?} is listed twice", f.factor_code));
            complete = false;
        }
        let weight_field = format!("{field}[{i}].weight");
        match wire::decimal(&weight_field, f.weight.as_ref(), v) {
            Some(w) if w < Decimal::ZERO || w > Decimal::ONE => {
                v.add(&weight_field, "must be within 0 to 1");
                complete = false;
            }
            Some(w) => {
                total = total.checked_add(w).unwrap_or(Decimal::MAX);
                out.push(WeightedFactor::new(f.factor_code.clone(), w));
            }
            None => complete = false,
        }
    }
    if complete && !factors.is_empty() && total != Decimal::ONE {
        v.add(
            field,
            format!("weights sum to {}, not exactly 1", total.normalize()),
        );
    }
    out
}

/// `CreateGeWeights`.
pub async fn create_ge_weights(
    customers: &Customers,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateGeWeightsRequest,
) -> Result<v1::CreateGeWeightsResponse> {
    require_role(caller, &RULE_ROLES, "CreateGeWeights")?;
    let mut v = Violations::new();
    let reason = wire::reason_in(&request.reason, &mut v);
    let Some(w) = request.weights.as_ref() else {
        v.add("weights", "is required");
        return Err(v.into());
    };
    let attractiveness = ge_axis("weights.attractiveness", &w.attractiveness, &mut v);
    let strength = ge_axis("weights.strength", &w.strength, &mut v);
    let low = match &w.low_cut {
        None => Some(DEFAULT_LOW_CUT),
        Some(d) => wire::decimal("weights.low_cut", Some(d), &mut v),
    };
    let high = match &w.high_cut {
        None => Some(DEFAULT_HIGH_CUT),
        Some(d) => wire::decimal("weights.high_cut", Some(d), &mut v),
    };
    let cuts = match (low, high) {
        (Some(l), Some(h)) => match GeCuts::new(l, h) {
            Ok(c) => Some(c),
            Err(e) => {
                let field = if (Decimal::ONE..Decimal::from(5)).contains(&l) {
                    "weights.high_cut"
                } else {
                    "weights.low_cut"
                };
                v.add(field, e.to_string());
                None
            }
        },
        _ => None,
    };
    let effective = wire::effective_in("weights.effective", w.effective.as_ref(), &mut v);
    let (Some(cuts), Some((start, end))) = (cuts, effective) else {
        return Err(v.into());
    };
    if !v.is_empty() {
        return Err(v.into());
    }
    GeModel::new(attractiveness.clone(), strength.clone(), cuts)
        .map_err(|e| RegistryError::invalid("weights", e.to_string()))?;
    let now = wire::now_micros(&customers.clock);
    let txn = customers.db.begin().await?;
    let existing = ge_weights::Entity::find()
        .filter(ge_weights::Column::GeWeightsId.eq(GE_SERIES))
        .all(&txn)
        .await?;
    let spans: Vec<Span> = existing
        .iter()
        .map(|e| Span {
            version: e.version,
            start: e.start_date,
            end: e.end_date,
        })
        .collect();
    if let Some(close) = place(GE_SERIES, &spans, start)? {
        ge_weights::Entity::update_many()
            .col_expr(ge_weights::Column::EndDate, Expr::value(start))
            .filter(ge_weights::Column::GeWeightsId.eq(GE_SERIES))
            .filter(ge_weights::Column::Version.eq(close))
            .exec(&txn)
            .await?;
    }
    let version = existing.iter().map(|e| e.version).max().unwrap_or(0) + 1;
    let row = ge_weights::ActiveModel {
        ge_weights_id: Set(GE_SERIES.to_owned()),
        version: Set(version),
        attractiveness: Set(serde_json::to_string(&attractiveness).map_err(internal)?),
        strength: Set(serde_json::to_string(&strength).map_err(internal)?),
        low_cut: Set(cuts.low().normalize().to_string()),
        high_cut: Set(cuts.high().normalize().to_string()),
        start_date: Set(start),
        end_date: Set(end),
        created_by: Set(caller.subject.clone()),
        reason: Set(reason.clone()),
        create_time: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| raced(e, GE_SERIES, version))?;
    audit::record(
        &txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: "value.ge_weights.create".to_owned(),
            target_type: GE_KIND.to_owned(),
            target_id: GE_SERIES.to_owned(),
            before: format!("versions={}", existing.len()),
            after: format!("version={version} from={start}"),
            reason,
            request_id: request_id.to_owned(),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(v1::CreateGeWeightsResponse {
        weights: Some(ge_to_proto(&row)?),
    })
}

/// `ListGeWeights`: newest version first.
pub async fn list_ge_weights(
    customers: &Customers,
    request: v1::ListGeWeightsRequest,
) -> Result<v1::ListGeWeightsResponse> {
    let mut v = Violations::new();
    let page = PageRequest::parse(request.page_size, &request.page_token, "ge", &mut v);
    if !v.is_empty() {
        return Err(v.into());
    }
    let mut query =
        ge_weights::Entity::find().filter(ge_weights::Column::GeWeightsId.eq(GE_SERIES));
    if let Some(after) = &page.after {
        let version: i64 = after.parse().map_err(|_| {
            RegistryError::invalid("page_token", "is not a token this service issued")
        })?;
        query = query.filter(ge_weights::Column::Version.lt(version));
    }
    let mut rows = query
        .order_by_desc(ge_weights::Column::Version)
        .limit(page.fetch_limit())
        .all(&customers.db)
        .await?;
    let next_page_token = page.finish(&mut rows, |r| r.version.to_string());
    Ok(v1::ListGeWeightsResponse {
        weights: rows.iter().map(ge_to_proto).collect::<Result<_>>()?,
        next_page_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn new_versions_follow_their_series() {
        assert_eq!(place("s", &[], d(2025, 1, 1)).unwrap(), None);
        let open = [Span {
            version: 1,
            start: d(2020, 1, 1),
            end: None,
        }];
        assert_eq!(place("s", &open, d(2025, 1, 1)).unwrap(), Some(1));
        assert!(place("s", &open, d(2020, 1, 1)).is_err());
        assert!(place("s", &open, d(2019, 1, 1)).is_err());
        let closed = [Span {
            version: 1,
            start: d(2020, 1, 1),
            end: Some(d(2021, 1, 1)),
        }];
        assert_eq!(place("s", &closed, d(2021, 1, 1)).unwrap(), None);
        assert!(place("s", &closed, d(2020, 6, 1)).is_err());
    }

    #[test]
    fn the_default_configuration_builds() {
        let row = value_config::Model {
            config_id: CONFIG_ID.into(),
            version: 1,
            payload: serde_json::to_string(&ValueConfig::default()).unwrap(),
            start_date: d(1900, 1, 1),
            end_date: None,
            create_time: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
        };
        let rules = config_rules(&row).unwrap();
        assert_eq!(rules.contribution.hurdle_rate, BasisPoints::new(1_200));
        assert_eq!(rules.refs[0].version, 1);
    }
}
