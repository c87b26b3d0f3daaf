//! Customer lifecycle (DOMAIN.md §2, "Lifecycle stage"; issue 3 item 7). This module owns the
//! `lifecycle_transition` table (entity [`lifecycle_transition`], schema [`LifecycleMigration`]):
//! one append-only row per transition with the customer, the stages before and after, the upgrade
//! flag, the actor, the time, the reason, the request id and the customer's owning branch at that
//! time. It serves three RPCs: `TransitionLifecycleStage` checks the move against
//! `bankmkt_domain::customer::can_transition` (a refused move answers `FAILED_PRECONDITION` and
//! changes nothing), then in one transaction moves `customer.stage` with a guarded version bump
//! (a stale `expected_version` or a concurrent change answers `ABORTED`), writes the history row,
//! an audit entry and a `customer.stage_changed` outbox event whose payload is the encoded
//! `bankmkt.v1.LifecycleTransition`, and afterwards drops the customer's cache entry.
//! `ListLifecycleTransitions` pages the history newest first, for one visible customer or for the
//! transitions recorded in a subtree. `ListProblemCustomerRatios` counts each branch's book over
//! its own subtree (`bankmkt_domain::lifecycle`) and flags ratios above the alert threshold.

use std::collections::{BTreeMap, HashMap};

use bankmkt_domain::access::may_read_customer;
use bankmkt_domain::branch_tree::BranchTree;
use bankmkt_domain::customer::LifecycleStage;
use bankmkt_domain::ids::CustomerId;
use bankmkt_domain::lifecycle::{BookCounts, ProblemAlertRule, check_transition, roll_up};
use bankmkt_domain::org::{BranchCode, Role};
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::idempotency::{self, Outcome};
use bankmkt_platform::outbox::{self, Envelope};
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::{DateTime, Datelike, SubsecRound, Utc};
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, QueryOrder, QuerySelect, TransactionTrait};

use crate::convert::{self, branch_code};
use crate::customers::entity::customer;
use crate::customers::{Customers, cache_key, load_stored};
use crate::error::{RegistryError, Result};
use crate::org::branches::{rows_as_of, tree_as_of};
use crate::org::require_role;

pub use schema::LifecycleMigration;

/// Roles that may move a customer's stage (a customer manager or branch head only for customers
/// in their subtree).
const TRANSITION_ROLES: [Role; 4] = [
    Role::CustomerManager,
    Role::BranchHead,
    Role::Admin,
    Role::Batch,
];

/// Longest reason, in characters.
const MAX_REASON: usize = 500;

/// The outbox event type of a stage change.
pub const STAGE_CHANGED: &str = "customer.stage_changed";

/// `lifecycle_transition`: the append-only history of stage changes.
pub mod lifecycle_transition {
    use sea_orm::entity::prelude::*;

    /// One lifecycle transition of one customer.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "lifecycle_transition")]
    pub struct Model {
        /// Insertion order: the keyset of the newest-first listing.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// Stable id (UUID v7).
        #[sea_orm(unique)]
        pub transition_id: String,
        /// The customer.
        pub customer_id: String,
        /// The customer's owning branch when the transition happened.
        pub branch_id: String,
        /// Stage code before.
        pub from_stage: String,
        /// Stage code after.
        pub to_stage: String,
        /// One step up the main chain.
        pub upgrade: bool,
        /// Who (JWT subject).
        pub actor: String,
        /// When (microsecond precision on every backend).
        pub at: DateTimeUtc,
        /// Why.
        pub reason: String,
        /// The request id of the call that made it.
        pub request_id: String,
        /// The customer's version after the transition.
        pub customer_version: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The schema of the lifecycle history.
mod schema {
    use sea_orm_migration::prelude::*;

    #[derive(DeriveIden)]
    enum LifecycleTransition {
        Table,
        Seq,
        TransitionId,
        CustomerId,
        BranchId,
        FromStage,
        ToStage,
        Upgrade,
        Actor,
        At,
        Reason,
        RequestId,
        CustomerVersion,
    }

    /// Creates `lifecycle_transition` with its indexes.
    #[derive(Debug, Clone, Copy)]
    pub struct LifecycleMigration;

    impl MigrationName for LifecycleMigration {
        fn name(&self) -> &str {
            "m0106_registry_lifecycle"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for LifecycleMigration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            use LifecycleTransition as T;
            manager
                .create_table(
                    Table::create()
                        .table(T::Table)
                        .if_not_exists()
                        .col(
                            ColumnDef::new(T::Seq)
                                .big_integer()
                                .not_null()
                                .auto_increment()
                                .primary_key(),
                        )
                        .col(
                            ColumnDef::new(T::TransitionId)
                                .string_len(36)
                                .not_null()
                                .unique_key(),
                        )
                        .col(ColumnDef::new(T::CustomerId).string_len(36).not_null())
                        .col(ColumnDef::new(T::BranchId).string_len(32).not_null())
                        .col(ColumnDef::new(T::FromStage).string_len(32).not_null())
                        .col(ColumnDef::new(T::ToStage).string_len(32).not_null())
                        .col(ColumnDef::new(T::Upgrade).boolean().not_null())
                        .col(ColumnDef::new(T::Actor).string_len(128).not_null())
                        .col(ColumnDef::new(T::At).timestamp_with_time_zone().not_null())
                        .col(ColumnDef::new(T::Reason).text().not_null())
                        .col(ColumnDef::new(T::RequestId).string_len(128).not_null())
                        .col(ColumnDef::new(T::CustomerVersion).big_integer().not_null())
                        .to_owned(),
                )
                .await?;
            for (name, column) in [
                ("lifecycle_transition_customer", T::CustomerId),
                ("lifecycle_transition_branch", T::BranchId),
            ] {
                manager
                    .create_index(
                        Index::create()
                            .name(name)
                            .table(T::Table)
                            .col(column)
                            .col(T::Seq)
                            .if_not_exists()
                            .to_owned(),
                    )
                    .await?;
            }
            Ok(())
        }
    }
}

fn internal(e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Internal(e.to_string())
}

fn stage_of(code: &str) -> Result<LifecycleStage> {
    code.parse()
        .map_err(|_| internal(format!("stored stage {code:?} is not a lifecycle stage")))
}

fn branch_of(code: &str) -> Result<BranchCode> {
    BranchCode::parse(code).map_err(|e| internal(format!("stored branch code: {e}")))
}

fn validate_customer_id(field: &str, raw: &str, v: &mut Violations) {
    if raw.is_empty() {
        v.add(field, "is required");
    } else if CustomerId::parse(raw).is_err() {
        v.add(field, "must be a customer id (a UUID)");
    }
}

/// A wire timestamp as an instant between the years 1900 and 9999.
fn instant(
    field: &str,
    t: Option<&prost_types::Timestamp>,
    v: &mut Violations,
) -> Option<DateTime<Utc>> {
    let t = t?;
    let at = u32::try_from(t.nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .and_then(|n| DateTime::from_timestamp(t.seconds, n));
    match at {
        Some(at) if (1900..=9999).contains(&at.year()) => Some(at),
        _ => {
            v.add(
                field,
                "must be a valid timestamp between the years 1900 and 9999",
            );
            None
        }
    }
}

fn to_proto(row: &lifecycle_transition::Model) -> Result<v1::LifecycleTransition> {
    Ok(v1::LifecycleTransition {
        transition_id: row.transition_id.clone(),
        customer_id: row.customer_id.clone(),
        from_stage: convert::stage_to_proto(stage_of(&row.from_stage)?) as i32,
        to_stage: convert::stage_to_proto(stage_of(&row.to_stage)?) as i32,
        upgrade: row.upgrade,
        stamp: Some(v1::AuditStamp {
            actor_id: row.actor.clone(),
            time: Some(convert::timestamp(row.at)),
            reason: row.reason.clone(),
        }),
    })
}

async fn tree<C: ConnectionTrait>(customers: &Customers, db: &C) -> Result<Option<BranchTree>> {
    tree_as_of(db, customers.clock.today()).await
}

fn visible(caller: &Caller, tree: &BranchTree, branch: &BranchCode) -> bool {
    tree.contains(branch)
        && may_read_customer(&caller.roles, caller.branch.as_ref(), branch, tree, false)
}

/// `TransitionLifecycleStage`.
pub async fn transition(
    customers: &Customers,
    caller: &Caller,
    request_id: &str,
    request: v1::TransitionLifecycleStageRequest,
) -> Result<v1::TransitionLifecycleStageResponse> {
    require_role(caller, &TRANSITION_ROLES, "TransitionLifecycleStage")?;
    let mut v = Violations::new();
    let key = request.idempotency_key.as_str();
    if key.is_empty() {
        if caller.has_role(Role::Batch) {
            v.add("idempotency_key", "is required for batch callers");
        }
    } else if key.len() > 128 || !key.chars().all(|c| c.is_ascii_graphic()) {
        v.add(
            "idempotency_key",
            "must be 1 to 128 printable ASCII characters",
        );
    }
    validate_customer_id("customer_id", &request.customer_id, &mut v);
    let to = convert::stage_from_proto(request.to_stage);
    if to.is_none() {
        v.add("to_stage", "must be a known lifecycle stage");
    }
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        v.add("reason", format!("must be 1 to {MAX_REASON} characters"));
    }
    if request.expected_version < 0 {
        v.add("expected_version", "must not be negative");
    }
    let Some(to) = to.filter(|_| v.is_empty()) else {
        return Err(v.into());
    };
    let customer_id = request.customer_id.as_str();
    let not_found = || RegistryError::NotFound {
        kind: "customer",
        id: customer_id.to_owned(),
    };

    let scope = format!(
        "CustomerRegistry/TransitionLifecycleStage/{}",
        caller.subject
    );
    let hash = idempotency::request_hash(&request.encode_to_vec());
    let txn = customers.db.begin().await?;
    if !key.is_empty() {
        match idempotency::check(&txn, &scope, key, &hash).await? {
            Outcome::Replay(bytes) => {
                txn.commit().await?;
                let stored = v1::TransitionLifecycleStageResponse::decode(bytes.as_slice())
                    .map_err(internal)?;
                let customer = customers
                    .get(
                        caller,
                        v1::GetCustomerRequest {
                            customer_id: customer_id.to_owned(),
                        },
                    )
                    .await?
                    .customer;
                return Ok(v1::TransitionLifecycleStageResponse {
                    transition: stored.transition,
                    customer,
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
    }
    let tree = tree(customers, &txn).await?.ok_or_else(not_found)?;
    let stored = load_stored(&txn, customer_id)
        .await?
        .ok_or_else(not_found)?;
    let current = &stored.customer;
    let owning = branch_of(&current.owning_branch_id)?;
    if !may_read_customer(&caller.roles, caller.branch.as_ref(), &owning, &tree, false) {
        return Err(not_found());
    }
    if current.status != "active" {
        return Err(RegistryError::FailedPrecondition {
            kind: "CUSTOMER_STATUS",
            subject: customer_id.to_owned(),
            message: "a merged record is read-only".to_owned(),
        });
    }
    if request.expected_version != 0 && request.expected_version != current.version {
        return Err(RegistryError::StaleVersion {
            kind: "customer",
            id: customer_id.to_owned(),
            expected: request.expected_version,
            actual: current.version,
        });
    }
    let from = stage_of(&current.stage)?;
    let moved =
        check_transition(from, to).map_err(|refused| RegistryError::FailedPrecondition {
            kind: "LIFECYCLE_TRANSITION",
            subject: customer_id.to_owned(),
            message: refused.to_string(),
        })?;

    // Postgres keeps microseconds; truncating here makes every backend answer the same instant.
    let now = customers.clock.now().trunc_subsecs(6);
    let version = current.version + 1;
    let updated = customer::Entity::update_many()
        .col_expr(customer::Column::Stage, Expr::value(to.as_str()))
        .col_expr(customer::Column::Version, Expr::value(version))
        .col_expr(customer::Column::UpdateTime, Expr::value(now))
        .filter(customer::Column::CustomerId.eq(customer_id))
        .filter(customer::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        let actual = customer::Entity::find_by_id(customer_id.to_owned())
            .one(&txn)
            .await?
            .map_or(current.version, |c| c.version);
        return Err(RegistryError::StaleVersion {
            kind: "customer",
            id: customer_id.to_owned(),
            expected: current.version,
            actual,
        });
    }
    let row = lifecycle_transition::ActiveModel {
        transition_id: Set(Uuid::now_v7().to_string()),
        customer_id: Set(customer_id.to_owned()),
        branch_id: Set(owning.as_str().to_owned()),
        from_stage: Set(from.as_str().to_owned()),
        to_stage: Set(to.as_str().to_owned()),
        upgrade: Set(moved.upgrade),
        actor: Set(caller.subject.clone()),
        at: Set(now),
        reason: Set(reason.to_owned()),
        request_id: Set(request_id.to_owned()),
        customer_version: Set(version),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let recorded = to_proto(&row)?;
    audit::record(
        &txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: "customer.stage.transition".to_owned(),
            target_type: "customer".to_owned(),
            target_id: customer_id.to_owned(),
            before: format!("stage={from} version={}", current.version),
            after: format!("stage={to} version={version} upgrade={}", moved.upgrade),
            reason: reason.to_owned(),
            request_id: request_id.to_owned(),
        },
        now,
    )
    .await?;
    outbox::append(
        &txn,
        Envelope {
            aggregate_type: "customer".to_owned(),
            aggregate_id: customer_id.to_owned(),
            aggregate_version: version,
            event_type: STAGE_CHANGED.to_owned(),
            occurred_at: now,
            payload: recorded.encode_to_vec(),
        },
    )
    .await?;
    if !key.is_empty() {
        // The transition only: a replay re-reads and re-masks the customer for whoever asks.
        let remembered = v1::TransitionLifecycleStageResponse {
            transition: Some(recorded.clone()),
            customer: None,
        };
        idempotency::remember(&txn, &scope, key, &hash, remembered.encode_to_vec(), now).await?;
    }
    txn.commit().await?;
    customers.cache.invalidate(&cache_key(customer_id)).await;
    let customer = customers
        .get(
            caller,
            v1::GetCustomerRequest {
                customer_id: customer_id.to_owned(),
            },
        )
        .await?
        .customer;
    Ok(v1::TransitionLifecycleStageResponse {
        transition: Some(recorded),
        customer,
    })
}

/// `ListLifecycleTransitions`: newest first (by insertion order), for one visible customer or for
/// the transitions recorded while the customer was owned in the subtree.
pub async fn list(
    customers: &Customers,
    caller: &Caller,
    request: v1::ListLifecycleTransitionsRequest,
) -> Result<v1::ListLifecycleTransitionsResponse> {
    let mut v = Violations::new();
    let by_customer = !request.customer_id.is_empty();
    let mut root = None;
    if by_customer {
        validate_customer_id("customer_id", &request.customer_id, &mut v);
    } else if request.branch_id.is_empty() {
        root = caller.branch.clone();
        if root.is_none() {
            v.add("branch_id", "is required for a caller without a branch");
        }
    } else {
        root = branch_code("branch_id", &request.branch_id, &mut v);
    }
    let start = instant("start_time", request.start_time.as_ref(), &mut v);
    let end = instant("end_time", request.end_time.as_ref(), &mut v);
    if let (Some(s), Some(e)) = (start, end)
        && e <= s
    {
        v.add("end_time", "must be after start_time");
    }
    let to_stage = match request.to_stage {
        0 => None,
        raw => {
            let stage = convert::stage_from_proto(raw);
            if stage.is_none() {
                v.add("to_stage", "must be a known lifecycle stage");
            }
            stage
        }
    };
    let filters = format!(
        "{}|{:?}|{start:?}|{end:?}|{to_stage:?}|{}",
        request.customer_id, root, request.upgrades_only
    );
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    let after = match &page.after {
        Some(raw) => match raw.parse::<i64>() {
            Ok(seq) => Some(seq),
            Err(_) => {
                v.add("page_token", "is not a token this service issued");
                None
            }
        },
        None => None,
    };
    if !v.is_empty() {
        return Err(v.into());
    }

    let mut query = lifecycle_transition::Entity::find();
    if by_customer {
        let not_found = || RegistryError::NotFound {
            kind: "customer",
            id: request.customer_id.clone(),
        };
        let tree = tree(customers, &customers.db)
            .await?
            .ok_or_else(not_found)?;
        let stored = load_stored(&customers.db, &request.customer_id)
            .await?
            .ok_or_else(not_found)?;
        if !visible(
            caller,
            &tree,
            &branch_of(&stored.customer.owning_branch_id)?,
        ) {
            return Err(not_found());
        }
        query =
            query.filter(lifecycle_transition::Column::CustomerId.eq(request.customer_id.clone()));
    } else if let Some(root) = root {
        let not_found = || RegistryError::NotFound {
            kind: "branch",
            id: root.to_string(),
        };
        let tree = tree(customers, &customers.db)
            .await?
            .ok_or_else(not_found)?;
        if !visible(caller, &tree, &root) {
            return Err(not_found());
        }
        if &root != tree.root() {
            let subtree: Vec<String> = tree
                .subtree(&root)
                .map_err(internal)?
                .into_iter()
                .map(|c| c.as_str().to_owned())
                .collect();
            query = query.filter(lifecycle_transition::Column::BranchId.is_in(subtree));
        }
    }
    if let Some(s) = start {
        query = query.filter(lifecycle_transition::Column::At.gte(s));
    }
    if let Some(e) = end {
        query = query.filter(lifecycle_transition::Column::At.lt(e));
    }
    if let Some(stage) = to_stage {
        query = query.filter(lifecycle_transition::Column::ToStage.eq(stage.as_str()));
    }
    if request.upgrades_only {
        query = query.filter(lifecycle_transition::Column::Upgrade.eq(true));
    }
    if let Some(seq) = after {
        query = query.filter(lifecycle_transition::Column::Seq.lt(seq));
    }
    let mut rows = query
        .order_by_desc(lifecycle_transition::Column::Seq)
        .limit(page.fetch_limit())
        .all(&customers.db)
        .await?;
    let next_page_token = page.finish(&mut rows, |r| r.seq.to_string());
    Ok(v1::ListLifecycleTransitionsResponse {
        transitions: rows.iter().map(to_proto).collect::<Result<Vec<_>>>()?,
        next_page_token,
    })
}

/// `ListProblemCustomerRatios`: each branch of the subtree down to `max_depth`, with its book
/// counted over its own subtree (active records; every stage but exited), in pre-order (the
/// byte order of the materialised paths, as `ListBranches`), keyset-paged by path.
pub async fn problem_ratios(
    customers: &Customers,
    rule: ProblemAlertRule,
    caller: &Caller,
    request: v1::ListProblemCustomerRatiosRequest,
) -> Result<v1::ListProblemCustomerRatiosResponse> {
    let mut v = Violations::new();
    let root = if request.branch_id.is_empty() {
        let own = caller.branch.clone();
        if own.is_none() {
            v.add("branch_id", "is required for a caller without a branch");
        }
        own
    } else {
        branch_code("branch_id", &request.branch_id, &mut v)
    };
    let max_depth = usize::try_from(request.max_depth).unwrap_or_else(|_| {
        v.add("max_depth", "must not be negative");
        0
    });
    let filters = format!("{root:?}|{max_depth}|{}", request.alerts_only);
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    let Some(root) = root.filter(|_| v.is_empty()) else {
        return Err(v.into());
    };
    let not_found = || RegistryError::NotFound {
        kind: "branch",
        id: root.to_string(),
    };
    let today = customers.clock.today();
    let tree = tree(customers, &customers.db)
        .await?
        .ok_or_else(not_found)?;
    if !visible(caller, &tree, &root) {
        return Err(not_found());
    }
    let names: HashMap<String, String> = rows_as_of(&customers.db, today)
        .await?
        .into_iter()
        .map(|r| (r.branch_id, r.name))
        .collect();

    let mut counts = customer::Entity::find()
        .select_only()
        .column(customer::Column::OwningBranchId)
        .column(customer::Column::Stage)
        .column_as(customer::Column::CustomerId.count(), "n")
        .filter(customer::Column::Status.eq("active"));
    if &root != tree.root() {
        let subtree: Vec<String> = tree
            .subtree(&root)
            .map_err(internal)?
            .into_iter()
            .map(|c| c.as_str().to_owned())
            .collect();
        counts = counts.filter(customer::Column::OwningBranchId.is_in(subtree));
    }
    let counts: Vec<(String, String, i64)> = counts
        .group_by(customer::Column::OwningBranchId)
        .group_by(customer::Column::Stage)
        .into_tuple()
        .all(&customers.db)
        .await?;
    let mut direct: BTreeMap<BranchCode, BookCounts> = BTreeMap::new();
    for (branch, stage, n) in counts {
        let Ok(branch) = BranchCode::parse(&branch) else {
            return Err(internal(format!("stored branch code {branch:?}")));
        };
        let add = BookCounts::of_stage(stage_of(&stage)?, u64::try_from(n).unwrap_or(0));
        let entry = direct.entry(branch).or_default();
        *entry = entry.plus(add);
    }

    let rolled = roll_up(&tree, &root, &direct, max_depth).map_err(internal)?;
    let mut rows = Vec::with_capacity(rolled.len());
    for (code, book) in rolled {
        let assessed = rule.assess(book);
        if request.alerts_only && !assessed.alert {
            continue;
        }
        let path = tree.path(&code).map_err(internal)?.as_str().to_owned();
        if page
            .after
            .as_deref()
            .is_some_and(|after| path.as_str() <= after)
        {
            continue;
        }
        let level = tree
            .level(&code)
            .ok_or_else(|| internal(format!("branch {code} has no level")))?;
        let ratio = v1::ProblemCustomerRatio {
            branch: Some(v1::BranchRef {
                branch_id: code.as_str().to_owned(),
                name: names.get(code.as_str()).cloned().unwrap_or_default(),
                level: convert::level_to_proto(level) as i32,
            }),
            book_count: i64::try_from(assessed.counts.book).unwrap_or(i64::MAX),
            problem_count: i64::try_from(assessed.counts.problem).unwrap_or(i64::MAX),
            ratio_bps: i32::try_from(assessed.ratio_bps).unwrap_or(i32::MAX),
            threshold_bps: i32::try_from(assessed.threshold_bps).unwrap_or(i32::MAX),
            alert: assessed.alert,
        };
        rows.push((path, ratio));
    }
    // Byte order of the materialised paths is pre-order on every backend.
    rows.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    rows.truncate(usize::try_from(page.fetch_limit()).unwrap_or(usize::MAX));
    let next_page_token = page.finish(&mut rows, |(path, _)| path.clone());
    Ok(v1::ListProblemCustomerRatiosResponse {
        ratios: rows.into_iter().map(|(_, r)| r).collect(),
        next_page_token,
    })
}
