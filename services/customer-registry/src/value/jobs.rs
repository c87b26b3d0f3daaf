//! Re-scoring jobs (`StartRescoring`, `GetRescoringJob`). A start validates the request, fixes
//! the job's scope (the active customers owned in a subtree, or the listed customers, in id
//! order) and the rule versions in force on the month's last day, records the job with its
//! idempotency key in one transaction, and runs it in a spawned task that scores the customers
//! in order (`compute`), one transaction each, writing the counts every few customers. Every
//! write is idempotent (a recompute with the same rule versions replaces), so the job can be
//! resumed from its counts: a retried start with the same key returns the same job and restarts
//! it when it stopped on a database failure or its heartbeat went stale. When no rules are in
//! force the job is recorded as failed, naming what is missing.

use std::time::Duration;

use bankmkt_domain::access::may_read_customer;
use bankmkt_domain::calendar::Period;
use bankmkt_domain::ids::CustomerId;
use bankmkt_domain::org::{BranchCode, Role};
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::idempotency::{self, Outcome};
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, QueryOrder, QuerySelect, TransactionTrait};

use super::compute;
use super::entity::rescoring_job;
use super::rules;
use super::wire::{self, internal};
use crate::convert::branch_code;
use crate::customers::Customers;
use crate::customers::entity::customer;
use crate::error::{RegistryError, Result};
use crate::org::branches::tree_as_of;
use crate::org::require_role;

/// Roles that may start re-scoring.
const START_ROLES: [Role; 3] = [Role::Batch, Role::PerformanceOffice, Role::Admin];
/// Most customers one request may list.
pub const MAX_CUSTOMERS: usize = 10_000;
/// Counts are written after this many customers.
const PROGRESS_EVERY: i64 = 20;
/// A running job without progress for this long is taken over by a retried start.
const STALE_AFTER: Duration = Duration::from_secs(60);

const QUEUED: &str = "queued";
const RUNNING: &str = "running";
const SUCCEEDED: &str = "succeeded";
const FAILED: &str = "failed";

fn kind_code(k: v1::RescoringKind) -> Option<&'static str> {
    match k {
        v1::RescoringKind::Monthly => Some("monthly"),
        v1::RescoringKind::Quarterly => Some("quarterly"),
        v1::RescoringKind::Unspecified => None,
    }
}

fn state_to_proto(code: &str) -> v1::JobState {
    match code {
        QUEUED => v1::JobState::Queued,
        RUNNING => v1::JobState::Running,
        SUCCEEDED => v1::JobState::Succeeded,
        _ => v1::JobState::Failed,
    }
}

fn to_proto(j: &rescoring_job::Model) -> Result<v1::RescoringJob> {
    Ok(v1::RescoringJob {
        job_id: j.job_id.clone(),
        kind: if j.kind == "quarterly" {
            v1::RescoringKind::Quarterly
        } else {
            v1::RescoringKind::Monthly
        } as i32,
        period: Some(wire::period_out(wire::period_of_key(j.period_key)?)),
        branch_id: j.branch_id.clone(),
        customers_total: j.customers_total,
        customers_done: j.customers_done,
        customers_failed: j.customers_failed,
        state: state_to_proto(&j.state) as i32,
        error_message: j.error_message.clone(),
        rule_versions: wire::refs_from_json(&j.rule_versions)?,
        create_time: wire::ts(j.create_time),
        finish_time: j.finish_time.and_then(wire::ts),
    })
}

async fn load(customers: &Customers, job_id: &str) -> Result<rescoring_job::Model> {
    rescoring_job::Entity::find_by_id(job_id.to_owned())
        .one(&customers.db)
        .await?
        .ok_or_else(|| RegistryError::NotFound {
            kind: "re-scoring job",
            id: job_id.to_owned(),
        })
}

/// Whether a retried start should restart `job`.
fn resumable(job: &rescoring_job::Model, now: chrono::DateTime<chrono::Utc>) -> bool {
    let unfinished = job.customers_done + job.customers_failed < job.customers_total;
    let has_rules = job.rule_versions != "[]";
    let stale = now
        .signed_duration_since(job.update_time)
        .to_std()
        .is_ok_and(|d| d >= STALE_AFTER);
    has_rules
        && unfinished
        && (job.state == FAILED || ((job.state == RUNNING || job.state == QUEUED) && stale))
}

/// `StartRescoring`.
pub async fn start(
    customers: &Customers,
    caller: &Caller,
    request_id: &str,
    request: v1::StartRescoringRequest,
) -> Result<v1::StartRescoringResponse> {
    require_role(caller, &START_ROLES, "StartRescoring")?;
    let mut v = Violations::new();
    let key = request.idempotency_key.as_str();
    if key.is_empty() || key.len() > 128 || !key.chars().all(|c| c.is_ascii_graphic()) {
        v.add(
            "idempotency_key",
            "must be 1 to 128 printable ASCII characters",
        );
    }
    let kind = v1::RescoringKind::try_from(request.kind)
        .ok()
        .and_then(kind_code);
    if kind.is_none() {
        v.add("kind", "must be MONTHLY or QUARTERLY");
    }
    let today = customers.clock.today();
    let period = match &request.period {
        None => {
            v.add("period", "is required");
            None
        }
        Some(p) => wire::period_in("period", p, today, &mut v),
    };
    if kind == Some("monthly") && period == Some(Period::containing(today)) {
        v.add(
            "period",
            "a monthly run needs a complete month, not the current one",
        );
    }
    let by_branch = !request.branch_id.is_empty();
    if by_branch != request.customer_ids.is_empty() {
        v.add(
            "branch_id",
            "exactly one of branch_id and customer_ids must be given",
        );
    }
    let root = if by_branch {
        branch_code("branch_id", &request.branch_id, &mut v)
    } else {
        None
    };
    if request.customer_ids.len() > MAX_CUSTOMERS {
        v.add(
            "customer_ids",
            format!("must list at most {MAX_CUSTOMERS} customers"),
        );
    } else {
        for (i, id) in request.customer_ids.iter().enumerate() {
            if CustomerId::parse(id).is_err() {
                v.add(
                    format!("customer_ids[{i}]"),
                    "must be a customer id (a UUID)",
                );
            } else if request.customer_ids[..i].contains(id) {
                v.add(format!("customer_ids[{i}]"), "is listed twice");
            }
        }
    }
    let (Some(kind), Some(period)) = (kind, period) else {
        return Err(v.into());
    };
    if !v.is_empty() {
        return Err(v.into());
    }

    let scope = format!("CustomerRegistry/StartRescoring/{}", caller.subject);
    let hash = idempotency::request_hash(&request.encode_to_vec());
    let txn = customers.db.begin().await?;
    match idempotency::check(&txn, &scope, key, &hash).await? {
        Outcome::Replay(bytes) => {
            txn.commit().await?;
            let stored = v1::StartRescoringResponse::decode(bytes.as_slice()).map_err(internal)?;
            let job_id = stored.job.map(|j| j.job_id).unwrap_or_default();
            let job = load(customers, &job_id).await?;
            if resumable(&job, customers.clock.now()) {
                rescoring_job::Entity::update_many()
                    .col_expr(rescoring_job::Column::State, Expr::value(QUEUED))
                    .col_expr(
                        rescoring_job::Column::FinishTime,
                        Expr::value(None::<DateTimeUtc>),
                    )
                    .filter(rescoring_job::Column::JobId.eq(job_id.clone()))
                    .filter(rescoring_job::Column::UpdateTime.eq(job.update_time))
                    .exec(&customers.db)
                    .await?;
                spawn(customers.clone(), job_id.clone());
            }
            let job = load(customers, &job_id).await?;
            return Ok(v1::StartRescoringResponse {
                job: Some(to_proto(&job)?),
            });
        }
        Outcome::Conflict => {
            return Err(RegistryError::invalid(
                "idempotency_key",
                "was already used with a different request",
            ));
        }
        Outcome::Fresh => {}
    }
    let tree = tree_as_of(&txn, today)
        .await?
        .ok_or_else(|| RegistryError::FailedPrecondition {
            kind: "BRANCH_TREE",
            subject: "tree".to_owned(),
            message: "no branch tree has been loaded yet".to_owned(),
        })?;
    let visible =
        |b: &BranchCode| may_read_customer(&caller.roles, caller.branch.as_ref(), b, &tree, false);
    let ids: Vec<String> = if let Some(root) = &root {
        if !tree.contains(root) {
            return Err(RegistryError::invalid(
                "branch_id",
                format!("unknown branch {root}"),
            ));
        }
        if !visible(root) {
            return Err(RegistryError::NotFound {
                kind: "branch",
                id: root.to_string(),
            });
        }
        let subtree: Vec<String> = tree
            .subtree(root)
            .map_err(internal)?
            .into_iter()
            .map(|b| b.as_str().to_owned())
            .collect();
        customer::Entity::find()
            .select_only()
            .column(customer::Column::CustomerId)
            .filter(customer::Column::OwningBranchId.is_in(subtree))
            .filter(customer::Column::Status.eq("active"))
            .order_by_asc(customer::Column::CustomerId)
            .into_tuple::<String>()
            .all(&txn)
            .await?
    } else {
        let rows = customer::Entity::find()
            .filter(customer::Column::CustomerId.is_in(request.customer_ids.clone()))
            .all(&txn)
            .await?;
        let mut v = Violations::new();
        for (i, id) in request.customer_ids.iter().enumerate() {
            let found = rows
                .iter()
                .find(|r| &r.customer_id == id)
                .filter(|r| BranchCode::parse(&r.owning_branch_id).is_ok_and(|b| visible(&b)));
            if found.is_none() {
                v.add(
                    format!("customer_ids[{i}]"),
                    format!("unknown customer {id}"),
                );
            }
        }
        if !v.is_empty() {
            return Err(v.into());
        }
        let mut ids = request.customer_ids.clone();
        ids.sort();
        ids
    };
    let (refs, state, error) =
        match rules::refs_in_force(&txn, kind == "quarterly", period.last_day()).await? {
            Ok(refs) => (refs, QUEUED, String::new()),
            Err(missing) => (Vec::new(), FAILED, missing),
        };
    let now = wire::now_micros(&customers.clock);
    let job_id = Uuid::now_v7().to_string();
    let total = ids.len() as i64;
    rescoring_job::ActiveModel {
        job_id: Set(job_id.clone()),
        kind: Set(kind.to_owned()),
        period_key: Set(wire::period_key(period)),
        branch_id: Set(root
            .as_ref()
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default()),
        customer_ids: Set(serde_json::to_string(&ids).map_err(internal)?),
        customers_total: Set(total),
        customers_done: Set(0),
        customers_failed: Set(0),
        state: Set(state.to_owned()),
        error_message: Set(error),
        rule_versions: Set(wire::refs_to_json(&refs)),
        created_by: Set(caller.subject.clone()),
        create_time: Set(now),
        update_time: Set(now),
        finish_time: Set((state == FAILED).then_some(now)),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: "value.rescoring.start".to_owned(),
            target_type: "rescoring_job".to_owned(),
            target_id: job_id.clone(),
            before: String::new(),
            after: format!("kind={kind} period={period} customers={total} state={state}"),
            reason: String::new(),
            request_id: request_id.to_owned(),
        },
        now,
    )
    .await?;
    let remembered = v1::StartRescoringResponse {
        job: Some(v1::RescoringJob {
            job_id: job_id.clone(),
            ..Default::default()
        }),
    };
    idempotency::remember(&txn, &scope, key, &hash, remembered.encode_to_vec(), now).await?;
    txn.commit().await?;
    let job = load(customers, &job_id).await?;
    if state == QUEUED {
        spawn(customers.clone(), job_id);
    }
    Ok(v1::StartRescoringResponse {
        job: Some(to_proto(&job)?),
    })
}

/// `GetRescoringJob`.
pub async fn get(
    customers: &Customers,
    request: v1::GetRescoringJobRequest,
) -> Result<v1::GetRescoringJobResponse> {
    if request.job_id.is_empty() || request.job_id.len() > 36 {
        return Err(RegistryError::invalid(
            "job_id",
            "must be 1 to 36 characters",
        ));
    }
    let job = load(customers, &request.job_id).await?;
    Ok(v1::GetRescoringJobResponse {
        job: Some(to_proto(&job)?),
    })
}

/// Runs `job_id` in the background.
pub fn spawn(customers: Customers, job_id: String) {
    tokio::spawn(async move {
        if let Err(e) = run(&customers, &job_id).await {
            tracing::error!(job_id, error = %e, "re-scoring job stopped");
            let now = wire::now_micros(&customers.clock);
            let marked = rescoring_job::Entity::update_many()
                .col_expr(rescoring_job::Column::State, Expr::value(FAILED))
                .col_expr(
                    rescoring_job::Column::ErrorMessage,
                    Expr::value("the job stopped on a storage error; retry the start to resume"),
                )
                .col_expr(rescoring_job::Column::UpdateTime, Expr::value(now))
                .col_expr(rescoring_job::Column::FinishTime, Expr::value(Some(now)))
                .filter(rescoring_job::Column::JobId.eq(job_id.clone()))
                .exec(&customers.db)
                .await;
            if let Err(e) = marked {
                tracing::error!(job_id, error = %e, "could not mark the re-scoring job failed");
            }
        }
    });
}

struct Progress {
    done: i64,
    failed: i64,
    error: String,
}

async fn save(
    customers: &Customers,
    job_id: &str,
    p: &Progress,
    state: Option<&str>,
) -> Result<()> {
    let now = wire::now_micros(&customers.clock);
    let mut update = rescoring_job::Entity::update_many()
        .col_expr(rescoring_job::Column::CustomersDone, Expr::value(p.done))
        .col_expr(
            rescoring_job::Column::CustomersFailed,
            Expr::value(p.failed),
        )
        .col_expr(
            rescoring_job::Column::ErrorMessage,
            Expr::value(p.error.clone()),
        )
        .col_expr(rescoring_job::Column::UpdateTime, Expr::value(now));
    if let Some(s) = state {
        update = update
            .col_expr(rescoring_job::Column::State, Expr::value(s))
            .col_expr(rescoring_job::Column::FinishTime, Expr::value(Some(now)));
    }
    update
        .filter(rescoring_job::Column::JobId.eq(job_id))
        .exec(&customers.db)
        .await?;
    Ok(())
}

async fn run(customers: &Customers, job_id: &str) -> Result<()> {
    let job = load(customers, job_id).await?;
    if job.state != QUEUED {
        return Ok(());
    }
    // Claim the job: only one runner moves it from queued to running.
    let now = wire::now_micros(&customers.clock);
    let claimed = rescoring_job::Entity::update_many()
        .col_expr(rescoring_job::Column::State, Expr::value(RUNNING))
        .col_expr(rescoring_job::Column::UpdateTime, Expr::value(now))
        .filter(rescoring_job::Column::JobId.eq(job_id))
        .filter(rescoring_job::Column::State.eq(QUEUED))
        .exec(&customers.db)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(());
    }
    let period = wire::period_of_key(job.period_key)?;
    let refs = wire::refs_from_json(&job.rule_versions)?;
    let ids: Vec<String> = serde_json::from_str(&job.customer_ids).map_err(internal)?;
    let mut p = Progress {
        done: job.customers_done,
        failed: job.customers_failed,
        error: job.error_message.clone(),
    };
    let quarterly = job.kind == "quarterly";
    let (monthly_rules, quarterly_rules) = if quarterly {
        match rules::load_quarterly(&customers.db, &refs, period).await? {
            Ok(r) => (None, Some(r)),
            Err(why) => {
                p.error = why;
                return save(customers, job_id, &p, Some(FAILED)).await;
            }
        }
    } else {
        match rules::load_monthly(&customers.db, &refs).await? {
            Ok(r) => (Some(r), None),
            Err(why) => {
                p.error = why;
                return save(customers, job_id, &p, Some(FAILED)).await;
            }
        }
    };
    let start = usize::try_from(p.done + p.failed).unwrap_or(usize::MAX);
    for id in ids.iter().skip(start) {
        let outcome = match (&monthly_rules, &quarterly_rules) {
            (Some(r), _) => compute::score_month(customers, r, id, period, job_id).await,
            (_, Some(r)) => compute::score_quarter(customers, r, id, period, job_id).await,
            (None, None) => Err(internal("no rules")),
        };
        match outcome {
            Ok(Ok(())) => p.done += 1,
            Ok(Err(why)) => {
                p.failed += 1;
                if p.error.is_empty() {
                    p.error = format!("customer {id}: {why}");
                }
            }
            Err(e) if compute::stops_the_job(&e) => {
                // Keep what is done; a retried start resumes from here.
                save(customers, job_id, &p, None).await.ok();
                return Err(e);
            }
            Err(e) => {
                tracing::warn!(job_id, customer_id = %id, error = %e, "re-scoring a customer failed");
                p.failed += 1;
                if p.error.is_empty() {
                    p.error = format!("customer {id}: internal error");
                }
            }
        }
        if (p.done + p.failed) % PROGRESS_EVERY == 0 {
            save(customers, job_id, &p, None).await?;
        }
    }
    save(customers, job_id, &p, Some(SUCCEEDED)).await
}
