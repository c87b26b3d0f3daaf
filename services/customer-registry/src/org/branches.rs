//! The branch tree: load (bulk upsert), read as of a date, list a subtree, move a branch, and the
//! chain up to head office. Every change is validated as a whole tree by
//! `bankmkt_domain::branch_tree` before anything is written, then written in one transaction with
//! its history rows, the new tree version, an audit entry and outbox events. Reads go through
//! `branch_history`, so any date answers with the tree as it was (or will be) on that day; the
//! subtree is selected by materialised path and ordered by it, which is pre-order.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use bankmkt_domain::branch_tree::{BranchNode, BranchTree, BranchTreeError};
use bankmkt_domain::org::{BranchCode, BranchLevel, Role};
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::clock::Clock;
use bankmkt_platform::idempotency::{self, Outcome};
use bankmkt_platform::outbox::{self, Envelope};
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::NaiveDate;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, Condition, DatabaseConnection, QueryOrder, TransactionTrait};

use super::entity::{branch, branch_history, tree_state};
use super::require_role;
use crate::convert::{self, branch_code, optional_date};
use crate::error::{RegistryError, Result};

/// Most nodes one load may carry.
pub const MAX_LOAD: usize = 10_000;

/// The fields of a branch that its history tracks.
#[derive(Clone, Debug, PartialEq, Eq)]
struct BranchFacts {
    name: String,
    level: BranchLevel,
    parent: Option<BranchCode>,
    region_code: String,
    opened_on: Option<NaiveDate>,
    closed_on: Option<NaiveDate>,
}

fn level_of(code: &str) -> Result<BranchLevel> {
    code.parse().map_err(|_| {
        RegistryError::Internal(format!("stored branch level {code:?} is not a level"))
    })
}

fn code_of(raw: &str) -> Result<BranchCode> {
    BranchCode::parse(raw).map_err(|e| RegistryError::Internal(format!("stored branch code: {e}")))
}

impl BranchFacts {
    fn from_row(row: &branch::Model) -> Result<BranchFacts> {
        Ok(BranchFacts {
            name: row.name.clone(),
            level: level_of(&row.level)?,
            parent: row.parent_id.as_deref().map(code_of).transpose()?,
            region_code: row.region_code.clone(),
            opened_on: row.opened_on,
            closed_on: row.closed_on,
        })
    }
}

/// The wire form of a branch version.
fn history_to_proto(
    row: &branch_history::Model,
    update_time: Option<prost_types::Timestamp>,
) -> Result<v1::Branch> {
    Ok(v1::Branch {
        branch_id: row.branch_id.clone(),
        name: row.name.clone(),
        level: convert::level_to_proto(level_of(&row.level)?) as i32,
        parent_id: row.parent_id.clone().unwrap_or_default(),
        region_code: row.region_code.clone(),
        opened_on: row.opened_on.map(convert::date_to_proto),
        closed_on: row.closed_on.map(convert::date_to_proto),
        version: row.version,
        update_time,
    })
}

fn latest_to_proto(row: &branch::Model) -> Result<v1::Branch> {
    Ok(v1::Branch {
        branch_id: row.branch_id.clone(),
        name: row.name.clone(),
        level: convert::level_to_proto(level_of(&row.level)?) as i32,
        parent_id: row.parent_id.clone().unwrap_or_default(),
        region_code: row.region_code.clone(),
        opened_on: row.opened_on.map(convert::date_to_proto),
        closed_on: row.closed_on.map(convert::date_to_proto),
        version: row.version,
        update_time: Some(convert::timestamp(row.update_time)),
    })
}

/// Every branch version in force on `date`.
pub async fn rows_as_of<C: ConnectionTrait>(
    db: &C,
    date: NaiveDate,
) -> Result<Vec<branch_history::Model>> {
    Ok(branch_history::Entity::find()
        .filter(branch_history::Column::ValidFrom.lte(date))
        .filter(
            Condition::any()
                .add(branch_history::Column::ValidTo.is_null())
                .add(branch_history::Column::ValidTo.gt(date)),
        )
        .all(db)
        .await?)
}

/// The tree as it stands on `date` (`None` when no branch exists yet).
pub async fn tree_as_of<C: ConnectionTrait>(db: &C, date: NaiveDate) -> Result<Option<BranchTree>> {
    let rows = rows_as_of(db, date).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let nodes = rows
        .iter()
        .map(|r| {
            Ok(BranchNode {
                id: code_of(&r.branch_id)?,
                parent: r.parent_id.as_deref().map(code_of).transpose()?,
                level: level_of(&r.level)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    BranchTree::new(nodes)
        .map(Some)
        .map_err(|e| RegistryError::Internal(format!("stored tree is invalid: {e}")))
}

/// The tree as of today, remembered per tree version: a read asks the database only for the
/// version (one primary-key lookup) and rebuilds the tree only when a change has bumped it or the
/// day has turned. Every replica checks the version, so none serves a tree older than the
/// database's. Writers that need the tree inside their own transaction keep using [`tree_as_of`].
#[derive(Clone, Debug, Default)]
pub struct TreeMemo(Arc<Mutex<Option<MemoisedTree>>>);

#[derive(Debug)]
struct MemoisedTree {
    version: i64,
    day: NaiveDate,
    tree: Arc<BranchTree>,
}

impl TreeMemo {
    /// The tree on `today` (`None` before any load) and the tree version it belongs to.
    pub async fn current<C: ConnectionTrait>(
        &self,
        db: &C,
        today: NaiveDate,
    ) -> Result<(Option<Arc<BranchTree>>, i64)> {
        let version = tree_version(db).await?;
        if let Some(m) = self.lock().as_ref()
            && m.version == version
            && m.day == today
        {
            return Ok((Some(m.tree.clone()), version));
        }
        let Some(tree) = tree_as_of(db, today).await? else {
            return Ok((None, version));
        };
        let tree = Arc::new(tree);
        *self.lock() = Some(MemoisedTree {
            version,
            day: today,
            tree: tree.clone(),
        });
        Ok((Some(tree), version))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<MemoisedTree>> {
        // A poisoned memo only means another call panicked mid-store; the value is still whole.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The current tree version.
pub async fn tree_version<C: ConnectionTrait>(db: &C) -> Result<i64> {
    Ok(tree_state::Entity::find_by_id(1)
        .one(db)
        .await?
        .map(|s| s.version)
        .unwrap_or(0))
}

async fn bump_tree_version<C: ConnectionTrait>(db: &C) -> Result<i64> {
    let next = tree_version(db).await? + 1;
    if next == 1 {
        tree_state::ActiveModel {
            id: Set(1),
            version: Set(next),
        }
        .insert(db)
        .await?;
    } else {
        tree_state::Entity::update_many()
            .col_expr(tree_state::Column::Version, Expr::value(next))
            .filter(tree_state::Column::Id.eq(1))
            .exec(db)
            .await?;
    }
    Ok(next)
}

/// What applying a new set of nodes changed.
#[derive(Default)]
struct Applied {
    inserted: Vec<String>,
    updated: Vec<String>,
    moved: Vec<(String, Option<String>, Option<String>)>,
}

/// Writes `nodes` (the whole intended tree) over `latest`: new rows, changed rows (with a history
/// version from `effective`), and the paths of every node whose chain changed.
async fn apply<C: ConnectionTrait>(
    txn: &C,
    clock: &Clock,
    latest: &BTreeMap<String, branch::Model>,
    nodes: &BTreeMap<BranchCode, BranchFacts>,
    tree: &BranchTree,
    effective: NaiveDate,
) -> Result<Applied> {
    let now = clock.now();
    let mut applied = Applied::default();
    for (code, facts) in nodes {
        let path = tree
            .path(code)
            .map_err(|e| RegistryError::Internal(format!("path of a validated tree: {e}")))?
            .as_str()
            .to_owned();
        let parent = facts.parent.as_ref().map(|p| p.as_str().to_owned());
        let version = match latest.get(code.as_str()) {
            Some(row) => {
                if BranchFacts::from_row(row)? == *facts && row.path == path {
                    continue;
                }
                let current_from = branch_history::Entity::find()
                    .filter(branch_history::Column::BranchId.eq(code.as_str()))
                    .filter(branch_history::Column::ValidTo.is_null())
                    .one(txn)
                    .await?
                    .map(|h| h.valid_from);
                if current_from.is_some_and(|from| effective < from) {
                    return Err(RegistryError::invalid(
                        "effective_date",
                        format!(
                            "branch {code} already has a version from {}; history cannot be rewritten",
                            current_from.unwrap_or(effective)
                        ),
                    ));
                }
                if row.parent_id != parent {
                    applied.moved.push((
                        code.as_str().to_owned(),
                        row.parent_id.clone(),
                        parent.clone(),
                    ));
                }
                branch_history::Entity::update_many()
                    .col_expr(branch_history::Column::ValidTo, Expr::value(effective))
                    .filter(branch_history::Column::BranchId.eq(code.as_str()))
                    .filter(branch_history::Column::ValidTo.is_null())
                    .exec(txn)
                    .await?;
                let version = row.version + 1;
                let mut active: branch::ActiveModel = row.clone().into();
                active.name = Set(facts.name.clone());
                active.level = Set(facts.level.as_str().to_owned());
                active.parent_id = Set(parent.clone());
                active.region_code = Set(facts.region_code.clone());
                active.opened_on = Set(facts.opened_on);
                active.closed_on = Set(facts.closed_on);
                active.path = Set(path.clone());
                active.version = Set(version);
                active.update_time = Set(now);
                active.update(txn).await?;
                applied.updated.push(code.as_str().to_owned());
                version
            }
            None => {
                branch::ActiveModel {
                    branch_id: Set(code.as_str().to_owned()),
                    name: Set(facts.name.clone()),
                    level: Set(facts.level.as_str().to_owned()),
                    parent_id: Set(parent.clone()),
                    region_code: Set(facts.region_code.clone()),
                    opened_on: Set(facts.opened_on),
                    closed_on: Set(facts.closed_on),
                    path: Set(path.clone()),
                    version: Set(1),
                    update_time: Set(now),
                }
                .insert(txn)
                .await?;
                applied.inserted.push(code.as_str().to_owned());
                1
            }
        };
        branch_history::ActiveModel {
            branch_id: Set(code.as_str().to_owned()),
            valid_from: Set(effective),
            valid_to: Set(None),
            name: Set(facts.name.clone()),
            level: Set(facts.level.as_str().to_owned()),
            parent_id: Set(parent),
            region_code: Set(facts.region_code.clone()),
            opened_on: Set(facts.opened_on),
            closed_on: Set(facts.closed_on),
            path: Set(path),
            version: Set(version),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(applied)
}

fn tree_error_to_violation(err: &BranchTreeError, index_of: &HashMap<String, usize>) -> Violations {
    let subject = match err {
        BranchTreeError::DuplicateBranch(c)
        | BranchTreeError::MultipleRoots(_, c)
        | BranchTreeError::RootNotHeadOffice { id: c, .. }
        | BranchTreeError::UnknownParent { id: c, .. }
        | BranchTreeError::LevelNotBelowParent { id: c, .. }
        | BranchTreeError::UnknownBranch(c)
        | BranchTreeError::Cycle { id: c, .. }
        | BranchTreeError::CannotMoveRoot(c) => Some(c.as_str().to_owned()),
        BranchTreeError::NoRoot | BranchTreeError::InvalidPath(_) => None,
    };
    let field = match subject.and_then(|s| index_of.get(&s).copied()) {
        Some(i) => format!("branches[{i}]"),
        None => "branches".to_owned(),
    };
    let mut v = Violations::new();
    v.add(field, err.to_string());
    v
}

async fn latest_rows<C: ConnectionTrait>(db: &C) -> Result<BTreeMap<String, branch::Model>> {
    Ok(branch::Entity::find()
        .order_by_asc(branch::Column::BranchId)
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.branch_id.clone(), r))
        .collect())
}

fn validate_idempotency_key(key: &str, v: &mut Violations) {
    if key.is_empty() || key.len() > 128 || !key.chars().all(|c| c.is_ascii_graphic()) {
        v.add(
            "idempotency_key",
            "must be 1 to 128 printable ASCII characters",
        );
    }
}

/// `LoadBranches`.
pub async fn load(
    db: &DatabaseConnection,
    clock: &Clock,
    caller: &Caller,
    request_id: &str,
    request: v1::LoadBranchesRequest,
) -> Result<v1::LoadBranchesResponse> {
    require_role(caller, &[Role::Admin, Role::Batch], "LoadBranches")?;
    let mut v = Violations::new();
    validate_idempotency_key(&request.idempotency_key, &mut v);
    if request.branches.is_empty() || request.branches.len() > MAX_LOAD {
        v.add("branches", format!("must hold 1 to {MAX_LOAD} branches"));
    }
    let effective = optional_date("effective_date", request.effective_date.as_ref(), &mut v)
        .unwrap_or_else(|| clock.today());
    let mut inputs: Vec<(BranchCode, BranchFacts)> = Vec::new();
    let mut index_of = HashMap::new();
    for (i, b) in request.branches.iter().enumerate() {
        let field = |f: &str| format!("branches[{i}].{f}");
        let code = branch_code(&field("branch_id"), &b.branch_id, &mut v);
        let name = b.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            v.add(field("name"), "must be 1 to 200 characters");
        }
        let level = convert::level_from_proto(b.level);
        if level.is_none() {
            v.add(field("level"), "must be a known branch level");
        }
        let parent = if b.parent_id.is_empty() {
            None
        } else {
            branch_code(&field("parent_id"), &b.parent_id, &mut v)
        };
        if b.region_code.chars().count() > 32 {
            v.add(field("region_code"), "must be at most 32 characters");
        }
        let opened_on = optional_date(&field("opened_on"), b.opened_on.as_ref(), &mut v);
        let closed_on = optional_date(&field("closed_on"), b.closed_on.as_ref(), &mut v);
        if let (Some(o), Some(c)) = (opened_on, closed_on)
            && c <= o
        {
            v.add(field("closed_on"), "must be after opened_on");
        }
        if let (Some(code), Some(level)) = (code, level) {
            if index_of.insert(code.as_str().to_owned(), i).is_some() {
                v.add(
                    field("branch_id"),
                    format!("{code} appears twice in this load"),
                );
            }
            inputs.push((
                code,
                BranchFacts {
                    name: name.to_owned(),
                    level,
                    parent,
                    region_code: b.region_code.clone(),
                    opened_on,
                    closed_on,
                },
            ));
        }
    }
    if !v.is_empty() {
        return Err(RegistryError::Invalid(v));
    }

    let scope = format!("CustomerRegistry/LoadBranches/{}", caller.subject);
    let hash = idempotency::request_hash(&request.encode_to_vec());
    let txn = db.begin().await?;
    match idempotency::check(&txn, &scope, &request.idempotency_key, &hash).await? {
        Outcome::Replay(bytes) => {
            return v1::LoadBranchesResponse::decode(bytes.as_slice())
                .map_err(|e| RegistryError::Internal(format!("stored response: {e}")));
        }
        Outcome::Conflict => {
            return Err(RegistryError::invalid(
                "idempotency_key",
                "was already used with a different request",
            ));
        }
        Outcome::Fresh => {}
    }
    let latest = latest_rows(&txn).await?;
    let mut nodes: BTreeMap<BranchCode, BranchFacts> = BTreeMap::new();
    for row in latest.values() {
        nodes.insert(code_of(&row.branch_id)?, BranchFacts::from_row(row)?);
    }
    let mut unchanged = 0i64;
    for (code, facts) in &inputs {
        if nodes.get(code) == Some(facts) {
            unchanged += 1;
        }
        nodes.insert(code.clone(), facts.clone());
    }
    let tree = BranchTree::new(nodes.iter().map(|(code, f)| BranchNode {
        id: code.clone(),
        parent: f.parent.clone(),
        level: f.level,
    }))
    .map_err(|e| RegistryError::Invalid(tree_error_to_violation(&e, &index_of)))?;
    let applied = apply(&txn, clock, &latest, &nodes, &tree, effective).await?;
    let changed = !applied.inserted.is_empty() || !applied.updated.is_empty();
    let version = if changed {
        bump_tree_version(&txn).await?
    } else {
        tree_version(&txn).await?
    };
    if changed {
        record_changes(
            &txn,
            clock,
            caller,
            request_id,
            &applied,
            version,
            "branch_tree.load",
            "bulk load",
        )
        .await?;
    }
    let inserted = applied.inserted.len() as i64;
    let updated_inputs = applied
        .updated
        .iter()
        .filter(|c| index_of.contains_key(*c))
        .count() as i64;
    let response = v1::LoadBranchesResponse {
        summary: Some(v1::IngestSummary {
            received: inputs.len() as i64,
            inserted,
            updated: updated_inputs,
            replayed: unchanged,
            ..Default::default()
        }),
        tree_version: version,
    };
    idempotency::remember(
        &txn,
        &scope,
        &request.idempotency_key,
        &hash,
        response.encode_to_vec(),
        clock.now(),
    )
    .await?;
    txn.commit().await?;
    Ok(response)
}

/// The audit entry and outbox events of a tree change.
#[allow(clippy::too_many_arguments)]
async fn record_changes<C: ConnectionTrait>(
    txn: &C,
    clock: &Clock,
    caller: &Caller,
    request_id: &str,
    applied: &Applied,
    tree_version: i64,
    action: &str,
    reason: &str,
) -> Result<()> {
    let now = clock.now();
    audit::record(
        txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: action.to_owned(),
            target_type: "branch_tree".to_owned(),
            target_id: "tree".to_owned(),
            before: format!("tree_version={}", tree_version - 1),
            after: format!(
                "tree_version={tree_version}; inserted={:?}; updated={:?}",
                applied.inserted, applied.updated
            ),
            reason: reason.to_owned(),
            request_id: request_id.to_owned(),
        },
        now,
    )
    .await?;
    for (branch_id, from, to) in &applied.moved {
        let payload = v1::BranchRef {
            branch_id: branch_id.clone(),
            ..Default::default()
        }
        .encode_to_vec();
        outbox::append(
            txn,
            Envelope {
                aggregate_type: "branch".to_owned(),
                aggregate_id: branch_id.clone(),
                aggregate_version: tree_version,
                event_type: format!(
                    "branch.moved:{}->{}",
                    from.as_deref().unwrap_or(""),
                    to.as_deref().unwrap_or("")
                ),
                occurred_at: now,
                payload,
            },
        )
        .await?;
    }
    outbox::append(
        txn,
        Envelope {
            aggregate_type: "branch_tree".to_owned(),
            aggregate_id: "tree".to_owned(),
            aggregate_version: tree_version,
            event_type: "branch_tree.changed".to_owned(),
            occurred_at: now,
            payload: Vec::new(),
        },
    )
    .await?;
    Ok(())
}

/// `GetBranch`.
pub async fn get(
    db: &DatabaseConnection,
    clock: &Clock,
    request: v1::GetBranchRequest,
) -> Result<v1::GetBranchResponse> {
    let mut v = Violations::new();
    let code = branch_code("branch_id", &request.branch_id, &mut v);
    let date = optional_date("as_of_date", request.as_of_date.as_ref(), &mut v);
    let Some(code) = code.filter(|_| v.is_empty()) else {
        return Err(RegistryError::Invalid(v));
    };
    let date = date.unwrap_or_else(|| clock.today());
    let row = branch_history::Entity::find()
        .filter(branch_history::Column::BranchId.eq(code.as_str()))
        .filter(branch_history::Column::ValidFrom.lte(date))
        .filter(
            Condition::any()
                .add(branch_history::Column::ValidTo.is_null())
                .add(branch_history::Column::ValidTo.gt(date)),
        )
        .one(db)
        .await?
        .ok_or_else(|| RegistryError::NotFound {
            kind: "branch",
            id: code.to_string(),
        })?;
    let latest = branch::Entity::find_by_id(code.as_str()).one(db).await?;
    let update_time = latest
        .filter(|l| l.version == row.version)
        .map(|l| convert::timestamp(l.update_time));
    Ok(v1::GetBranchResponse {
        branch: Some(history_to_proto(&row, update_time)?),
    })
}

/// `ListBranches`.
pub async fn list(
    db: &DatabaseConnection,
    clock: &Clock,
    request: v1::ListBranchesRequest,
) -> Result<v1::ListBranchesResponse> {
    let mut v = Violations::new();
    let root = if request.root_branch_id.is_empty() {
        None
    } else {
        branch_code("root_branch_id", &request.root_branch_id, &mut v)
    };
    if request.max_depth < 0 {
        v.add("max_depth", "must not be negative");
    }
    let level = match request.level {
        0 => None,
        raw => {
            let level = convert::level_from_proto(raw);
            if level.is_none() {
                v.add("level", "must be a known branch level");
            }
            level
        }
    };
    let date = optional_date("as_of_date", request.as_of_date.as_ref(), &mut v)
        .unwrap_or_else(|| clock.today());
    let filters = format!(
        "{:?}|{}|{:?}|{date}|{}",
        root, request.max_depth, level, request.include_closed
    );
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    if !v.is_empty() {
        return Err(RegistryError::Invalid(v));
    }
    let rows = rows_as_of(db, date).await?;
    let root_row = match &root {
        Some(code) => rows.iter().find(|r| r.branch_id == code.as_str()),
        None => rows.iter().find(|r| r.parent_id.is_none()),
    };
    let Some(root_row) = root_row else {
        return match root {
            Some(code) => Err(RegistryError::NotFound {
                kind: "branch",
                id: code.to_string(),
            }),
            None => Ok(v1::ListBranchesResponse {
                branches: vec![],
                next_page_token: String::new(),
                tree_version: tree_version(db).await?,
            }),
        };
    };
    let root_depth = root_row.path.matches('/').count();
    let max_depth = usize::try_from(request.max_depth).unwrap_or(0);
    let mut selected: Vec<&branch_history::Model> = rows
        .iter()
        .filter(|r| r.path.starts_with(&root_row.path))
        .filter(|r| max_depth == 0 || r.path.matches('/').count() - root_depth <= max_depth)
        .filter(|r| level.is_none_or(|l| r.level == l.as_str()))
        .filter(|r| request.include_closed || r.closed_on.is_none_or(|c| c > date))
        .filter(|r| {
            page.after
                .as_deref()
                .is_none_or(|after| r.path.as_str() > after)
        })
        .collect();
    // Byte order of the materialised paths is pre-order on every backend.
    selected.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    selected.truncate(page.fetch_limit() as usize);
    let next_page_token = page.finish(&mut selected, |r| r.path.clone());
    let branches = selected
        .into_iter()
        .map(|r| history_to_proto(r, None))
        .collect::<Result<Vec<_>>>()?;
    Ok(v1::ListBranchesResponse {
        branches,
        next_page_token,
        tree_version: tree_version(db).await?,
    })
}

/// `GetBranchChain`.
pub async fn chain(
    db: &DatabaseConnection,
    clock: &Clock,
    request: v1::GetBranchChainRequest,
) -> Result<v1::GetBranchChainResponse> {
    let mut v = Violations::new();
    let code = branch_code("branch_id", &request.branch_id, &mut v);
    let date = optional_date("as_of_date", request.as_of_date.as_ref(), &mut v);
    let Some(code) = code.filter(|_| v.is_empty()) else {
        return Err(RegistryError::Invalid(v));
    };
    let date = date.unwrap_or_else(|| clock.today());
    let rows = rows_as_of(db, date).await?;
    let by_id: HashMap<&str, &branch_history::Model> =
        rows.iter().map(|r| (r.branch_id.as_str(), r)).collect();
    let not_found = || RegistryError::NotFound {
        kind: "branch",
        id: code.to_string(),
    };
    let row = by_id.get(code.as_str()).ok_or_else(not_found)?;
    let mut chain = Vec::new();
    for segment in row.path.split('/').filter(|s| !s.is_empty()) {
        let node = by_id.get(segment).ok_or_else(|| {
            RegistryError::Internal(format!("path of {code} names unknown branch {segment}"))
        })?;
        chain.push(v1::BranchRef {
            branch_id: node.branch_id.clone(),
            name: node.name.clone(),
            level: convert::level_to_proto(level_of(&node.level)?) as i32,
        });
    }
    Ok(v1::GetBranchChainResponse { chain })
}

/// `MoveBranch`.
pub async fn move_branch(
    db: &DatabaseConnection,
    clock: &Clock,
    caller: &Caller,
    request_id: &str,
    request: v1::MoveBranchRequest,
) -> Result<v1::MoveBranchResponse> {
    require_role(caller, &[Role::Admin], "MoveBranch")?;
    let mut v = Violations::new();
    let code = branch_code("branch_id", &request.branch_id, &mut v);
    let new_parent = branch_code("new_parent_id", &request.new_parent_id, &mut v);
    let today = clock.today();
    let effective =
        optional_date("effective_date", request.effective_date.as_ref(), &mut v).unwrap_or(today);
    if effective < today {
        v.add(
            "effective_date",
            format!("may not be in the past (today is {today})"),
        );
    }
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        v.add("reason", "must be 1 to 500 characters");
    }
    let (Some(code), Some(new_parent)) = (code, new_parent) else {
        return Err(RegistryError::Invalid(v));
    };
    if !v.is_empty() {
        return Err(RegistryError::Invalid(v));
    }
    let txn = db.begin().await?;
    let latest = latest_rows(&txn).await?;
    let row = latest
        .get(code.as_str())
        .ok_or_else(|| RegistryError::NotFound {
            kind: "branch",
            id: code.to_string(),
        })?;
    let parent_row = latest
        .get(new_parent.as_str())
        .ok_or_else(|| RegistryError::NotFound {
            kind: "branch",
            id: new_parent.to_string(),
        })?;
    if row.version != request.expected_version {
        return Err(RegistryError::StaleVersion {
            kind: "branch",
            id: code.to_string(),
            expected: request.expected_version,
            actual: row.version,
        });
    }
    if parent_row.closed_on.is_some_and(|c| c <= effective) {
        return Err(RegistryError::FailedPrecondition {
            kind: "BRANCH_TREE",
            subject: new_parent.to_string(),
            message: format!("the new parent {new_parent} is closed on {effective}"),
        });
    }
    let mut nodes: BTreeMap<BranchCode, BranchFacts> = BTreeMap::new();
    for r in latest.values() {
        nodes.insert(code_of(&r.branch_id)?, BranchFacts::from_row(r)?);
    }
    let current = BranchTree::new(nodes.iter().map(|(c, f)| BranchNode {
        id: c.clone(),
        parent: f.parent.clone(),
        level: f.level,
    }))
    .map_err(|e| RegistryError::Internal(format!("stored tree is invalid: {e}")))?;
    let moved =
        current
            .move_branch(&code, &new_parent)
            .map_err(|e| RegistryError::FailedPrecondition {
                kind: "BRANCH_TREE",
                subject: code.to_string(),
                message: e.to_string(),
            })?;
    if let Some(facts) = nodes.get_mut(&code) {
        facts.parent = Some(new_parent.clone());
    }
    let applied = apply(&txn, clock, &latest, &nodes, &moved, effective).await?;
    let version = bump_tree_version(&txn).await?;
    record_changes(
        &txn,
        clock,
        caller,
        request_id,
        &applied,
        version,
        "branch.move",
        reason,
    )
    .await?;
    let after = branch::Entity::find_by_id(code.as_str())
        .one(&txn)
        .await?
        .ok_or_else(|| RegistryError::Internal("moved branch vanished".to_owned()))?;
    txn.commit().await?;
    Ok(v1::MoveBranchResponse {
        branch: Some(latest_to_proto(&after)?),
        tree_version: version,
    })
}
