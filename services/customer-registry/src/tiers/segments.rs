//! Strategic segmentation (`StartSegmentation`, `GetSegmentationRun`, `ListSegments`; DOMAIN.md
//! §3). A start (batch or admin, idempotent by key) records a queued run for the active
//! customers owned in a subtree and runs it in a spawned task: it gathers each customer's
//! features for the month, clusters them with the domain's seeded k-means
//! (`bankmkt_domain::segmentation::kmeans`, deterministic for a seed), labels each segment from
//! its standardised centroid (`bankmkt_domain::segment_labels`), and writes in one transaction
//! the segments (centroid in original units, size), every customer's assignment with its
//! distance to the centre, the customer's `segment_id` and `segment_label` with a version bump
//! and one `customer.segment_changed` outbox event per customer, and the run's success; the
//! customers' cache entries are dropped after the commit. Segment ids are `RUN_ID:INDEX`, unique
//! across runs, so every clustered customer changes segment with each run. Inputs the clustering
//! cannot use (fewer customers or distinct feature vectors than k) fail the run with a message.
//!
//! Features (names as requested; the default set is the first five), for the month `M`:
//! - `ttm_contribution`: after-risk contribution over the twelve months ending with `M`, CNY
//!   (0 when never computed);
//! - `aum`: the wealth-tier AUM basis ending with `M` under the wealth rules in force (default:
//!   day-weighted average daily balance of deposits and wealth products over 3 months), CNY;
//! - `value_score`: the latest five-dimension total whose window ends in or before `M` (0 when
//!   never scored);
//! - `transactions_3m`: transactions in the three months ending with `M` (single transactions
//!   when the source sends them for the customer, else the monthly summaries' counts);
//! - `product_count`: distinct products in the customer's holdings of `M`;
//! - `recency_days`: days from the last transaction to the last day of `M`, at most 366 (also
//!   for a customer without any transaction).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bankmkt_domain::access::may_read_customer;
use bankmkt_domain::calendar::Period;
use bankmkt_domain::org::{BranchCode, Role};
use bankmkt_domain::scoring::Decimal;
use bankmkt_domain::segment_labels::{
    LabelCuts, NO_TRANSACTION_DAYS, SegmentFeature, parse_features, segment_label,
};
use bankmkt_domain::segmentation::{KMeansParams, kmeans};
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::idempotency::{self, Outcome};
use bankmkt_platform::outbox::{self, Envelope};
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::NaiveDate;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ActiveValue::Set, Condition, QueryOrder, QuerySelect, TransactionTrait};

use super::entity::{segment, segment_assignment, segmentation_run};
use super::evaluate::{
    CHUNK, basis_of, first_month, holding_months, monthly_aum, ttm_contribution, value_score_as_of,
};
use super::rules::{self, LoadedRules, WealthRules};
use super::{SEGMENT_CHANGED, Scheme, idempotency_key_in, internal};
use crate::convert::branch_code;
use crate::customers::entity::customer;
use crate::customers::{Customers, cache_key};
use crate::error::{RegistryError, Result};
use crate::ingest::entity::{customer_transaction, holding, transaction_month};
use crate::org::branches::tree_as_of;
use crate::org::require_role;
use crate::value::wire;

/// Roles that may start a segmentation.
const START_ROLES: [Role; 2] = [Role::Batch, Role::Admin];
/// The fewest and most segments.
const K_RANGE: std::ops::RangeInclusive<i32> = 2..=50;

const QUEUED: &str = "queued";
const RUNNING: &str = "running";
const SUCCEEDED: &str = "succeeded";
const FAILED: &str = "failed";

fn state_to_proto(code: &str) -> v1::JobState {
    match code {
        QUEUED => v1::JobState::Queued,
        RUNNING => v1::JobState::Running,
        SUCCEEDED => v1::JobState::Succeeded,
        _ => v1::JobState::Failed,
    }
}

fn run_to_proto(r: &segmentation_run::Model) -> Result<v1::SegmentationRun> {
    Ok(v1::SegmentationRun {
        run_id: r.run_id.clone(),
        period: Some(wire::period_out(wire::period_of_key(r.period_key)?)),
        branch_id: r.branch_id.clone(),
        k: r.k,
        seed: r.seed,
        features: serde_json::from_str(&r.features).map_err(internal)?,
        customers_total: r.customers_total,
        state: state_to_proto(&r.state) as i32,
        error_message: r.error_message.clone(),
        create_time: wire::ts(r.create_time),
        finish_time: r.finish_time.and_then(wire::ts),
    })
}

fn segment_to_proto(s: &segment::Model) -> Result<v1::Segment> {
    let centroid: Vec<(String, String)> = serde_json::from_str(&s.centroid).map_err(internal)?;
    Ok(v1::Segment {
        segment_id: s.segment_id.clone(),
        run_id: s.run_id.clone(),
        label: s.label.clone(),
        centroid: centroid
            .into_iter()
            .map(|(feature, value)| v1::FeatureValue {
                feature,
                value: Some(v1::Decimal { value }),
            })
            .collect(),
        size: s.size,
    })
}

async fn load(db: &DatabaseConnection, run_id: &str) -> Result<segmentation_run::Model> {
    segmentation_run::Entity::find()
        .filter(segmentation_run::Column::RunId.eq(run_id))
        .one(db)
        .await?
        .ok_or_else(|| RegistryError::NotFound {
            kind: "segmentation run",
            id: run_id.to_owned(),
        })
}

fn visible_run(
    caller: &Caller,
    tree: &bankmkt_domain::branch_tree::BranchTree,
    run: &segmentation_run::Model,
) -> bool {
    BranchCode::parse(&run.branch_id).is_ok_and(|b| {
        tree.contains(&b)
            && may_read_customer(&caller.roles, caller.branch.as_ref(), &b, tree, false)
    })
}

async fn tree(customers: &Customers) -> Result<bankmkt_domain::branch_tree::BranchTree> {
    tree_as_of(&customers.db, customers.clock.today())
        .await?
        .ok_or_else(|| RegistryError::FailedPrecondition {
            kind: "BRANCH_TREE",
            subject: "tree".to_owned(),
            message: "no branch tree has been loaded yet".to_owned(),
        })
}

/// The active customers owned in the subtree of `root`, in id order.
async fn scope_ids<C: ConnectionTrait>(
    db: &C,
    tree: &bankmkt_domain::branch_tree::BranchTree,
    root: &BranchCode,
) -> Result<Vec<String>> {
    let subtree: Vec<String> = tree
        .subtree(root)
        .map_err(internal)?
        .into_iter()
        .map(|b| b.as_str().to_owned())
        .collect();
    Ok(customer::Entity::find()
        .select_only()
        .column(customer::Column::CustomerId)
        .filter(customer::Column::OwningBranchId.is_in(subtree))
        .filter(customer::Column::Status.eq("active"))
        .order_by_asc(customer::Column::CustomerId)
        .into_tuple::<String>()
        .all(db)
        .await?)
}

/// `StartSegmentation`.
pub async fn start(
    customers: &Customers,
    caller: &Caller,
    request_id: &str,
    request: v1::StartSegmentationRequest,
) -> Result<v1::StartSegmentationResponse> {
    require_role(caller, &START_ROLES, "StartSegmentation")?;
    let today = customers.clock.today();
    let mut v = Violations::new();
    idempotency_key_in(&request.idempotency_key, &mut v);
    let period = match &request.period {
        None => Some(
            Period::containing(today)
                .prev()
                .unwrap_or(Period::containing(today)),
        ),
        Some(p) => wire::period_in("period", p, today, &mut v),
    };
    let root = if request.branch_id.is_empty() {
        None
    } else {
        branch_code("branch_id", &request.branch_id, &mut v)
    };
    if !K_RANGE.contains(&request.k) {
        v.add("k", "must be 2 to 50");
    }
    let features = match parse_features(&request.features) {
        Ok(f) => f,
        Err(problems) => {
            for p in problems {
                v.add(format!("features[{}]", p.index()), p.to_string());
            }
            Vec::new()
        }
    };
    let Some(period) = period.filter(|_| v.is_empty()) else {
        return Err(v.into());
    };

    let db = &customers.db;
    let scope = format!("CustomerRegistry/StartSegmentation/{}", caller.subject);
    let hash = idempotency::request_hash(&request.encode_to_vec());
    let replay = |bytes: Vec<u8>| async move {
        let stored = v1::StartSegmentationResponse::decode(bytes.as_slice()).map_err(internal)?;
        let id = stored.run.map(|r| r.run_id).unwrap_or_default();
        let run = load(db, &id).await?;
        Ok::<_, RegistryError>(v1::StartSegmentationResponse {
            run: Some(run_to_proto(&run)?),
        })
    };
    let conflict = || {
        RegistryError::invalid(
            "idempotency_key",
            "was already used with a different request",
        )
    };
    match idempotency::check(db, &scope, &request.idempotency_key, &hash).await? {
        Outcome::Replay(bytes) => return replay(bytes).await,
        Outcome::Conflict => return Err(conflict()),
        Outcome::Fresh => {}
    }
    let tree = tree(customers).await?;
    let root = root.unwrap_or_else(|| tree.root().clone());
    if !tree.contains(&root) {
        return Err(RegistryError::invalid(
            "branch_id",
            format!("unknown branch {root}"),
        ));
    }
    if !may_read_customer(&caller.roles, caller.branch.as_ref(), &root, &tree, false) {
        return Err(RegistryError::NotFound {
            kind: "branch",
            id: root.to_string(),
        });
    }
    let total = scope_ids(db, &tree, &root).await?.len();
    let now = wire::now_micros(&customers.clock);
    let run_id = Uuid::now_v7().to_string();
    let codes: Vec<&str> = features.iter().map(|f| f.as_str()).collect();
    let txn = db.begin().await?;
    match idempotency::check(&txn, &scope, &request.idempotency_key, &hash).await? {
        Outcome::Replay(bytes) => {
            drop(txn);
            return replay(bytes).await;
        }
        Outcome::Conflict => return Err(conflict()),
        Outcome::Fresh => {}
    }
    segmentation_run::ActiveModel {
        run_id: Set(run_id.clone()),
        period_key: Set(wire::period_key(period)),
        branch_id: Set(root.as_str().to_owned()),
        k: Set(request.k),
        seed: Set(request.seed),
        features: Set(serde_json::to_string(&codes).map_err(internal)?),
        customers_total: Set(i64::try_from(total).unwrap_or(i64::MAX)),
        state: Set(QUEUED.to_owned()),
        error_message: Set(String::new()),
        created_by: Set(caller.subject.clone()),
        create_time: Set(now),
        update_time: Set(now),
        finish_time: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: "segmentation.start".to_owned(),
            target_type: "segmentation_run".to_owned(),
            target_id: run_id.clone(),
            before: String::new(),
            after: format!(
                "branch={root} period={period} k={} seed={} features={} customers={total}",
                request.k,
                request.seed,
                codes.join(",")
            ),
            reason: String::new(),
            request_id: request_id.to_owned(),
        },
        now,
    )
    .await?;
    let remembered = v1::StartSegmentationResponse {
        run: Some(v1::SegmentationRun {
            run_id: run_id.clone(),
            ..Default::default()
        }),
    };
    idempotency::remember(
        &txn,
        &scope,
        &request.idempotency_key,
        &hash,
        remembered.encode_to_vec(),
        now,
    )
    .await?;
    txn.commit().await?;
    let run = load(db, &run_id).await?;
    spawn(customers.clone(), run_id);
    Ok(v1::StartSegmentationResponse {
        run: Some(run_to_proto(&run)?),
    })
}

/// `GetSegmentationRun`.
pub async fn get(
    customers: &Customers,
    caller: &Caller,
    request: v1::GetSegmentationRunRequest,
) -> Result<v1::GetSegmentationRunResponse> {
    let mut v = Violations::new();
    crate::ownership::validate_request_id("run_id", &request.run_id, &mut v);
    if !v.is_empty() {
        return Err(v.into());
    }
    let run = load(&customers.db, &request.run_id).await?;
    let tree = tree(customers).await?;
    if !visible_run(caller, &tree, &run) {
        return Err(RegistryError::NotFound {
            kind: "segmentation run",
            id: request.run_id.clone(),
        });
    }
    Ok(v1::GetSegmentationRunResponse {
        run: Some(run_to_proto(&run)?),
    })
}

/// `ListSegments`: the segments of a run, largest first; without a run, those of the latest
/// successful run the caller may see (none yet: an empty list).
pub async fn list(
    customers: &Customers,
    caller: &Caller,
    request: v1::ListSegmentsRequest,
) -> Result<v1::ListSegmentsResponse> {
    let mut v = Violations::new();
    if !request.run_id.is_empty() {
        crate::ownership::validate_request_id("run_id", &request.run_id, &mut v);
    }
    let page = PageRequest::parse(
        request.page_size,
        &request.page_token,
        &format!("segments|{}", request.run_id),
        &mut v,
    );
    let after = match page.after.as_deref() {
        None => None,
        Some(a) => match a.parse::<i32>() {
            Ok(i) => Some(i),
            Err(_) => {
                v.add("page_token", "is not a token this service issued");
                None
            }
        },
    };
    if !v.is_empty() {
        return Err(v.into());
    }
    let db = &customers.db;
    let tree = tree(customers).await?;
    let run = if request.run_id.is_empty() {
        let candidates = segmentation_run::Entity::find()
            .filter(segmentation_run::Column::State.eq(SUCCEEDED))
            .order_by_desc(segmentation_run::Column::Seq)
            .limit(500)
            .all(db)
            .await?;
        match candidates
            .into_iter()
            .find(|r| visible_run(caller, &tree, r))
        {
            Some(r) => r,
            None => {
                return Ok(v1::ListSegmentsResponse {
                    segments: Vec::new(),
                    next_page_token: String::new(),
                });
            }
        }
    } else {
        let run = load(db, &request.run_id).await?;
        if !visible_run(caller, &tree, &run) {
            return Err(RegistryError::NotFound {
                kind: "segmentation run",
                id: request.run_id.clone(),
            });
        }
        run
    };
    let mut query = segment::Entity::find().filter(segment::Column::RunId.eq(run.run_id.clone()));
    if let Some(i) = after {
        query = query.filter(segment::Column::Idx.gt(i));
    }
    let mut rows = query
        .order_by_asc(segment::Column::Idx)
        .limit(page.fetch_limit())
        .all(db)
        .await?;
    let next_page_token = page.finish(&mut rows, |r| r.idx.to_string());
    Ok(v1::ListSegmentsResponse {
        segments: rows.iter().map(segment_to_proto).collect::<Result<_>>()?,
        next_page_token,
    })
}

/// Runs `run_id` in the background; a storage failure marks the run failed.
pub fn spawn(customers: Customers, run_id: String) {
    tokio::spawn(async move {
        if let Err(e) = run(&customers, &run_id).await {
            tracing::error!(run_id, error = %e, "segmentation run stopped");
            finish(
                &customers,
                &run_id,
                FAILED,
                "the run stopped on a storage error; start a new run",
                None,
            )
            .await
            .ok();
        }
    });
}

async fn finish(
    customers: &Customers,
    run_id: &str,
    state: &str,
    message: &str,
    total: Option<i64>,
) -> Result<()> {
    let now = wire::now_micros(&customers.clock);
    let mut update = segmentation_run::Entity::update_many()
        .col_expr(segmentation_run::Column::State, Expr::value(state))
        .col_expr(segmentation_run::Column::ErrorMessage, Expr::value(message))
        .col_expr(segmentation_run::Column::UpdateTime, Expr::value(now))
        .col_expr(segmentation_run::Column::FinishTime, Expr::value(Some(now)));
    if let Some(t) = total {
        update = update.col_expr(segmentation_run::Column::CustomersTotal, Expr::value(t));
    }
    update
        .filter(segmentation_run::Column::RunId.eq(run_id))
        .exec(&customers.db)
        .await?;
    Ok(())
}

/// Transaction facts of a chunk of customers for one month.
#[derive(Default)]
struct Activity {
    /// Single transaction dates in the look-back window, per customer.
    singles: HashMap<String, Vec<NaiveDate>>,
    /// Monthly summaries in the look-back window, per customer: (month, count, last date).
    months: HashMap<String, Vec<(Period, i64, Option<NaiveDate>)>>,
}

impl Activity {
    async fn load<C: ConnectionTrait>(db: &C, ids: &[String], period: Period) -> Result<Self> {
        let last_day = period.last_day();
        let since = last_day - chrono::Duration::days(i64::from(NO_TRANSACTION_DAYS));
        let mut a = Activity::default();
        for t in customer_transaction::Entity::find()
            .filter(customer_transaction::Column::CustomerId.is_in(ids.to_vec()))
            .filter(customer_transaction::Column::TransactionDate.gte(since))
            .filter(customer_transaction::Column::TransactionDate.lte(last_day))
            .all(db)
            .await?
        {
            a.singles
                .entry(t.customer_id)
                .or_default()
                .push(t.transaction_date);
        }
        let first = Period::containing(since);
        use transaction_month::Column as M;
        let window = Condition::all()
            .add(
                Condition::any().add(M::PeriodYear.gt(first.year())).add(
                    Condition::all()
                        .add(M::PeriodYear.eq(first.year()))
                        .add(M::PeriodMonth.gte(first.month() as i32)),
                ),
            )
            .add(
                Condition::any().add(M::PeriodYear.lt(period.year())).add(
                    Condition::all()
                        .add(M::PeriodYear.eq(period.year()))
                        .add(M::PeriodMonth.lte(period.month() as i32)),
                ),
            );
        for m in transaction_month::Entity::find()
            .filter(M::CustomerId.is_in(ids.to_vec()))
            .filter(window)
            .all(db)
            .await?
        {
            let Ok(p) = Period::new(m.period_year, m.period_month as u32) else {
                continue;
            };
            a.months.entry(m.customer_id).or_default().push((
                p,
                m.transaction_count,
                m.last_transaction_date,
            ));
        }
        Ok(a)
    }

    /// Transactions in the three months ending with `period`.
    fn count_3m(&self, id: &str, period: Period) -> i64 {
        let first = first_month(period, 3);
        if let Some(dates) = self.singles.get(id) {
            let from = first.first_day();
            return dates.iter().filter(|d| **d >= from).count() as i64;
        }
        self.months
            .get(id)
            .map(|ms| {
                ms.iter()
                    .filter(|(p, _, _)| *p >= first && *p <= period)
                    .map(|(_, n, _)| Ord::max(*n, 0))
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Days from the last transaction to the month's last day, at most 366.
    fn recency(&self, id: &str, period: Period) -> i64 {
        let last_day = period.last_day();
        let latest = match self.singles.get(id) {
            Some(dates) => dates.iter().max().copied(),
            None => self.months.get(id).and_then(|ms| {
                ms.iter()
                    .filter(|(_, n, _)| *n > 0)
                    .filter_map(|(_, _, d)| *d)
                    .filter(|d| *d <= last_day)
                    .max()
            }),
        };
        let cap = i64::from(NO_TRANSACTION_DAYS);
        latest.map_or(cap, |d| (last_day - d).num_days().clamp(0, cap))
    }
}

/// Distinct products per customer in the month.
async fn product_counts<C: ConnectionTrait>(
    db: &C,
    ids: &[String],
    period: Period,
) -> Result<HashMap<String, i64>> {
    let mut products: HashMap<String, BTreeSet<String>> = HashMap::new();
    for h in holding::Entity::find()
        .filter(holding::Column::CustomerId.is_in(ids.to_vec()))
        .filter(holding_months(period, period))
        .all(db)
        .await?
    {
        products
            .entry(h.customer_id)
            .or_default()
            .insert(h.product_id);
    }
    Ok(products
        .into_iter()
        .map(|(id, p)| (id, p.len() as i64))
        .collect())
}

/// Every customer's feature vector, in the order of `features`.
async fn feature_rows<C: ConnectionTrait>(
    db: &C,
    ids: &[String],
    period: Period,
    features: &[SegmentFeature],
    wealth: &WealthRules,
) -> Result<Vec<Vec<Decimal>>> {
    let wants = |f: SegmentFeature| features.contains(&f);
    let mut rows = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let aum = if wants(SegmentFeature::Aum) {
            monthly_aum(db, chunk, period, wealth.basis_months, &wealth.categories).await?
        } else {
            HashMap::new()
        };
        let activity =
            if wants(SegmentFeature::Transactions3m) || wants(SegmentFeature::RecencyDays) {
                Activity::load(db, chunk, period).await?
            } else {
                Activity::default()
            };
        let products = if wants(SegmentFeature::ProductCount) {
            product_counts(db, chunk, period).await?
        } else {
            HashMap::new()
        };
        for id in chunk {
            let mut row = Vec::with_capacity(features.len());
            for f in features {
                let value = match f {
                    SegmentFeature::TtmContribution => ttm_contribution(db, id, period)
                        .await?
                        .map_or(Decimal::ZERO, |m| m.to_decimal()),
                    SegmentFeature::Aum => {
                        basis_of(id, aum.get(id), period, wealth.basis_months)?.to_decimal()
                    }
                    SegmentFeature::ValueScore => value_score_as_of(db, id, period)
                        .await?
                        .and_then(|s| s.total)
                        .and_then(|d| wire::parse_decimal(&d.value))
                        .unwrap_or(Decimal::ZERO),
                    SegmentFeature::Transactions3m => Decimal::from(activity.count_3m(id, period)),
                    SegmentFeature::ProductCount => {
                        Decimal::from(products.get(id).copied().unwrap_or(0))
                    }
                    SegmentFeature::RecencyDays => Decimal::from(activity.recency(id, period)),
                };
                row.push(value);
            }
            rows.push(row);
        }
    }
    Ok(rows)
}

async fn run(customers: &Customers, run_id: &str) -> Result<()> {
    let db = &customers.db;
    let job = load(db, run_id).await?;
    if job.state != QUEUED {
        return Ok(());
    }
    let now = wire::now_micros(&customers.clock);
    let claimed = segmentation_run::Entity::update_many()
        .col_expr(segmentation_run::Column::State, Expr::value(RUNNING))
        .col_expr(segmentation_run::Column::UpdateTime, Expr::value(now))
        .filter(segmentation_run::Column::RunId.eq(run_id))
        .filter(segmentation_run::Column::State.eq(QUEUED))
        .exec(db)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(());
    }
    let period = wire::period_of_key(job.period_key)?;
    let codes: Vec<String> = serde_json::from_str(&job.features).map_err(internal)?;
    let features = parse_features(&codes).map_err(|_| internal("stored features"))?;
    let tree = tree(customers).await?;
    let root = BranchCode::parse(&job.branch_id).map_err(internal)?;
    if !tree.contains(&root) {
        return finish(
            customers,
            run_id,
            FAILED,
            &format!("branch {root} is no longer in the tree"),
            None,
        )
        .await;
    }
    let ids = scope_ids(db, &tree, &root).await?;
    let total = i64::try_from(ids.len()).unwrap_or(i64::MAX);
    let wealth = match rules::in_force(db, Scheme::Wealth, customers.clock.today()).await? {
        Some(row) => match rules::decode(&row)? {
            LoadedRules::Wealth(w) => w,
            LoadedRules::Corporate(_) => WealthRules::default(),
        },
        None => WealthRules::default(),
    };
    let rows = feature_rows(db, &ids, period, &features, &wealth).await?;
    let k = usize::try_from(job.k).unwrap_or(0);
    let params = KMeansParams::new(k, job.seed as u64);
    let result = match kmeans(&rows, &params) {
        Ok(r) => r,
        Err(e) => {
            let message = if ids.is_empty() {
                "no active customers to cluster in the subtree".to_owned()
            } else if ids.len() < k {
                format!("{} customers cannot form k = {k} segments", ids.len())
            } else {
                e.to_string()
            };
            return finish(customers, run_id, FAILED, &message, Some(total)).await;
        }
    };
    let cuts = LabelCuts::default();
    let segments: Vec<segment::ActiveModel> = result
        .segments
        .iter()
        .map(|s| {
            let centroid: Vec<(&str, String)> = features
                .iter()
                .zip(&s.centroid)
                .map(|(f, c)| (f.as_str(), c.normalize().to_string()))
                .collect();
            let standardized: Vec<String> = s
                .standardized_centroid
                .iter()
                .map(|d| d.normalize().to_string())
                .collect();
            Ok(segment::ActiveModel {
                segment_id: Set(format!("{run_id}:{}", s.index)),
                run_id: Set(run_id.to_owned()),
                idx: Set(i32::try_from(s.index).map_err(internal)?),
                label: Set(segment_label(&features, &s.standardized_centroid, &cuts)),
                centroid: Set(serde_json::to_string(&centroid).map_err(internal)?),
                standardized_centroid: Set(serde_json::to_string(&standardized).map_err(internal)?),
                size: Set(i64::try_from(s.size).map_err(internal)?),
            })
        })
        .collect::<Result<_>>()?;
    let labels: BTreeMap<usize, String> = result
        .segments
        .iter()
        .map(|s| {
            (
                s.index,
                segment_label(&features, &s.standardized_centroid, &cuts),
            )
        })
        .collect();
    let mut members: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut assignments = Vec::with_capacity(ids.len());
    for ((id, a), row) in ids.iter().zip(&result.assignments).zip(&rows) {
        members.entry(a.segment).or_default().push(id.clone());
        let values: Vec<String> = row.iter().map(|d| d.normalize().to_string()).collect();
        assignments.push(segment_assignment::ActiveModel {
            run_id: Set(run_id.to_owned()),
            customer_id: Set(id.clone()),
            segment_id: Set(format!("{run_id}:{}", a.segment)),
            distance: Set(a.distance.normalize().to_string()),
            features: Set(serde_json::to_string(&values).map_err(internal)?),
        });
    }

    let at = wire::now_micros(&customers.clock);
    let txn = db.begin().await?;
    for chunk in segments.chunks(CHUNK) {
        segment::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in assignments.chunks(CHUNK) {
        segment_assignment::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    let mut changed: Vec<String> = Vec::with_capacity(ids.len());
    for (index, ids) in &members {
        let segment_id = format!("{run_id}:{index}");
        let label = labels.get(index).cloned().unwrap_or_default();
        for chunk in ids.chunks(CHUNK) {
            customer::Entity::update_many()
                .col_expr(customer::Column::SegmentId, Expr::value(segment_id.clone()))
                .col_expr(customer::Column::SegmentLabel, Expr::value(label.clone()))
                .col_expr(
                    customer::Column::Version,
                    Expr::col(customer::Column::Version).add(1i64),
                )
                .col_expr(customer::Column::UpdateTime, Expr::value(at))
                .filter(customer::Column::CustomerId.is_in(chunk.to_vec()))
                .filter(customer::Column::Status.eq("active"))
                .exec(&txn)
                .await?;
            // Read back inside the transaction: the versions the events carry.
            let versions: Vec<(String, i64)> = customer::Entity::find()
                .select_only()
                .column(customer::Column::CustomerId)
                .column(customer::Column::Version)
                .filter(customer::Column::CustomerId.is_in(chunk.to_vec()))
                .filter(customer::Column::Status.eq("active"))
                .into_tuple()
                .all(&txn)
                .await?;
            for (id, version) in versions {
                outbox::append(
                    &txn,
                    Envelope {
                        aggregate_type: "customer".to_owned(),
                        aggregate_id: id.clone(),
                        aggregate_version: version,
                        event_type: SEGMENT_CHANGED.to_owned(),
                        occurred_at: at,
                        payload: v1::Customer {
                            customer_id: id.clone(),
                            segment_id: segment_id.clone(),
                            segment_label: label.clone(),
                            version,
                            ..Default::default()
                        }
                        .encode_to_vec(),
                    },
                )
                .await?;
                changed.push(id);
            }
        }
    }
    segmentation_run::Entity::update_many()
        .col_expr(segmentation_run::Column::State, Expr::value(SUCCEEDED))
        .col_expr(segmentation_run::Column::CustomersTotal, Expr::value(total))
        .col_expr(segmentation_run::Column::UpdateTime, Expr::value(at))
        .col_expr(segmentation_run::Column::FinishTime, Expr::value(Some(at)))
        .filter(segmentation_run::Column::RunId.eq(run_id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        AuditEntry {
            actor: job.created_by.clone(),
            via_service: None,
            action: "segmentation.finish".to_owned(),
            target_type: "segmentation_run".to_owned(),
            target_id: run_id.to_owned(),
            before: String::new(),
            after: format!(
                "customers={total} segments={} iterations={} converged={} inertia={}",
                result.segments.len(),
                result.iterations,
                result.converged,
                result.inertia
            ),
            reason: String::new(),
            request_id: String::new(),
        },
        at,
    )
    .await?;
    txn.commit().await?;
    for id in &changed {
        customers.cache.invalidate(&cache_key(id)).await;
    }
    Ok(())
}
