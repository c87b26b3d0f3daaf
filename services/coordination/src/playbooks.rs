//! Playbooks: versioned task templates per opportunity type ("five fixes"; issue 5).
//! `CreatePlaybook` and `UpdatePlaybook` (a `team_lead`, `branch_head` or `admin`; the domain's
//! `Playbook::validate`, fields under `playbook`) store version 1 and each next version, whose
//! number is the caller's `expected_version` plus one — the version row's primary key and the
//! header's conditional update make a stale or concurrent update `ABORTED`. `GetPlaybook` reads
//! the latest or a given version, `ListPlaybooks` the latest versions by type. `ApplyPlaybook`
//! (idempotent by key) and `CreateOpportunity`'s `playbook_id` ([`plan_at_create`]) turn a
//! version into tasks through the domain's `instantiate` — type and active checks, due dates
//! counted in working days on the business calendar from the start date, owners resolved among
//! the members, capped by the SLA rule in force that times each step — and write them with
//! [`crate::tasks::insert`] on one transaction.

use bankmkt_domain::coordination::playbooks::{self, ApplyContext};
use bankmkt_domain::coordination::{OpportunityType, Playbook, PlaybookStep};
use bankmkt_domain::org::Role;
use bankmkt_platform::Caller;
use bankmkt_platform::idempotency;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::{DateTime, NaiveDate, Utc};
use prost::Message;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

use crate::CoordinationService;
use crate::convert::{self, stored};
use crate::error::{Result, ServiceError};
use crate::m0302::{playbook, playbook_version, task};
use crate::record::{Change, record};
use crate::store::{self, Loaded};
use crate::tasks;

/// The roles that write playbooks.
const WRITERS: [Role; 3] = [Role::TeamLead, Role::BranchHead, Role::Admin];

fn require_writer(caller: &Caller) -> Result<()> {
    if WRITERS.iter().any(|r| caller.has_role(*r)) {
        Ok(())
    } else {
        Err(ServiceError::PermissionDenied(format!(
            "{} may not write playbooks: a team_lead, branch_head or admin does",
            caller.subject
        )))
    }
}

/// The wire steps at `field` as the domain's (shape only; the domain checks the values).
fn steps(field: &str, raw: &[v1::PlaybookStep], v: &mut Violations) -> Vec<PlaybookStep> {
    raw.iter()
        .enumerate()
        .map(|(i, s)| {
            let at = |name: &str| format!("{field}[{i}].{name}");
            PlaybookStep {
                step_id: s.step_id.clone(),
                title: s.title.clone(),
                description: s.description.clone(),
                stage: convert::filter_enum(
                    &at("stage"),
                    s.stage,
                    convert::stage_from_proto,
                    "stage",
                    v,
                ),
                owner_line: convert::filter_enum(
                    &at("owner_line"),
                    s.owner_line,
                    convert::line_from_proto,
                    "business line",
                    v,
                ),
                owner_role: convert::filter_enum(
                    &at("owner_role"),
                    s.owner_role,
                    convert::member_role_from_proto,
                    "member role",
                    v,
                ),
                due_offset_working_days: s.due_offset_working_days,
            }
        })
        .collect()
}

/// Adds the domain's violations of `e` under `prefix` to `v`; passes any other error on.
fn absorb(
    v: &mut Violations,
    e: bankmkt_domain::coordination::CoordinationError,
    prefix: &str,
) -> Result<()> {
    match ServiceError::from_domain(e, prefix) {
        ServiceError::Invalid(found) => {
            for (f, m) in found.fields() {
                v.add(f.clone(), m.clone());
            }
            Ok(())
        }
        other => Err(other),
    }
}

/// A stored version as the domain's playbook.
fn domain(row: &playbook_version::Model) -> Result<Playbook> {
    let wire = v1::Playbook::decode(row.steps.as_slice()).map_err(ServiceError::internal)?;
    let mut v = Violations::new();
    let steps = steps("steps", &wire.steps, &mut v);
    if !v.is_empty() {
        return Err(ServiceError::internal(format!(
            "stored playbook {} v{} has bad steps",
            row.playbook_id, row.version
        )));
    }
    Ok(Playbook {
        playbook_id: row.playbook_id.clone(),
        version: row.version,
        name: row.name.clone(),
        opportunity_type: Some(stored::<OpportunityType>("type", &row.opportunity_type)?),
        steps,
        active: row.active,
    })
}

/// A stored version for the wire.
fn to_proto(row: &playbook_version::Model) -> Result<v1::Playbook> {
    let wire = v1::Playbook::decode(row.steps.as_slice()).map_err(ServiceError::internal)?;
    let kind: OpportunityType = stored("type", &row.opportunity_type)?;
    Ok(v1::Playbook {
        playbook_id: row.playbook_id.clone(),
        name: row.name.clone(),
        opportunity_type: convert::type_to_proto(kind) as i32,
        steps: wire.steps,
        active: row.active,
        version: row.version,
        created: Some(convert::stamp(&row.created_by, row.create_time, "")),
    })
}

fn version_row(
    p: &Playbook,
    raw_steps: &[v1::PlaybookStep],
    caller: &Caller,
    now: DateTime<Utc>,
) -> Result<playbook_version::Model> {
    let kind = p
        .opportunity_type
        .ok_or_else(|| ServiceError::invalid("playbook.opportunity_type", "is required"))?;
    Ok(playbook_version::Model {
        playbook_id: p.playbook_id.clone(),
        version: p.version,
        name: p.name.trim().to_owned(),
        opportunity_type: kind.as_str().to_owned(),
        active: p.active,
        steps: v1::Playbook {
            steps: raw_steps.to_vec(),
            ..Default::default()
        }
        .encode_to_vec(),
        created_by: caller.subject.clone(),
        create_time: now,
    })
}

/// `CreatePlaybook`.
pub async fn create(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::CreatePlaybookRequest,
) -> Result<v1::CreatePlaybookResponse> {
    let mut v = Violations::new();
    let Some(raw) = request.playbook.as_ref() else {
        v.add("playbook", "is required");
        return Err(v.into());
    };
    let p = Playbook {
        playbook_id: convert::new_id(),
        version: 1,
        name: raw.name.clone(),
        opportunity_type: convert::filter_enum(
            "playbook.opportunity_type",
            raw.opportunity_type,
            convert::type_from_proto,
            "opportunity type",
            &mut v,
        ),
        steps: steps("playbook.steps", &raw.steps, &mut v),
        active: raw.active,
    };
    if let Err(e) = p.validate() {
        absorb(&mut v, e, "playbook")?;
    }
    if !v.is_empty() {
        return Err(v.into());
    }
    require_writer(caller)?;
    let now = store::now(svc);
    let row = version_row(&p, &raw.steps, caller, now)?;
    let wire = to_proto(&row)?;
    let txn = svc.db.begin().await?;
    playbook::Entity::insert(
        playbook::Model {
            playbook_id: row.playbook_id.clone(),
            opportunity_type: row.opportunity_type.clone(),
            latest_version: 1,
            active: row.active,
        }
        .into_active_model(),
    )
    .exec_without_returning(&txn)
    .await?;
    playbook_version::Entity::insert(row.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    record(
        &txn,
        now,
        Change {
            caller,
            request_id,
            action: "playbook.create",
            target_type: "playbook",
            target_id: row.playbook_id.clone(),
            before: String::new(),
            after: summary(&row),
            reason: format!("playbook with {} step(s)", raw.steps.len()),
            event_type: "playbook.created",
            version: 1,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(v1::CreatePlaybookResponse {
        playbook: Some(wire),
    })
}

fn summary(row: &playbook_version::Model) -> String {
    format!(
        "version={} type={} active={} name={:?}",
        row.version, row.opportunity_type, row.active, row.name
    )
}

/// Version `version` of playbook `id` (the latest when 0); `NOT_FOUND` when missing.
async fn load_version<C: ConnectionTrait>(
    db: &C,
    id: &str,
    version: i64,
) -> Result<playbook_version::Model> {
    let version = if version == 0 {
        playbook::Entity::find_by_id(id.to_owned())
            .one(db)
            .await?
            .ok_or_else(|| ServiceError::not_found("playbook", id))?
            .latest_version
    } else {
        version
    };
    playbook_version::Entity::find_by_id((id.to_owned(), version))
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::not_found("playbook", format!("{id} v{version}")))
}

/// `GetPlaybook`.
pub async fn get(
    svc: &CoordinationService,
    _caller: &Caller,
    request: v1::GetPlaybookRequest,
) -> Result<v1::GetPlaybookResponse> {
    let mut v = Violations::new();
    let id = convert::issued_id("playbook_id", &request.playbook_id, &mut v);
    if request.version < 0 {
        v.add("version", "must be 0 (the latest) or a version number");
    }
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let row = load_version(&svc.db, &id, request.version).await?;
    Ok(v1::GetPlaybookResponse {
        playbook: Some(to_proto(&row)?),
    })
}

/// `ListPlaybooks`: the latest versions, ordered by id, keyset paged.
pub async fn list(
    svc: &CoordinationService,
    _caller: &Caller,
    request: v1::ListPlaybooksRequest,
) -> Result<v1::ListPlaybooksResponse> {
    let mut v = Violations::new();
    let size = convert::page_size(request.page_size, &mut v);
    let filters = {
        let mut f = request.clone();
        f.page_size = 0;
        f.page_token.clear();
        convert::filter_hash(&f.encode_to_vec())
    };
    let after = convert::page_after(&request.page_token, &filters, &mut v);
    let kind = convert::filter_enum(
        "opportunity_type",
        request.opportunity_type,
        convert::type_from_proto,
        "opportunity type",
        &mut v,
    );
    if !v.is_empty() {
        return Err(v.into());
    }
    let mut q = playbook::Entity::find();
    if let Some(k) = kind {
        q = q.filter(playbook::Column::OpportunityType.eq(k.as_str()));
    }
    if !request.include_inactive {
        q = q.filter(playbook::Column::Active.eq(true));
    }
    if let Some(a) = &after {
        q = q.filter(playbook::Column::PlaybookId.gt(a.clone()));
    }
    let mut heads = q
        .order_by_asc(playbook::Column::PlaybookId)
        .limit(size as u64 + 1)
        .all(&svc.db)
        .await?;
    let more = heads.len() > size;
    heads.truncate(size);
    let mut playbooks = Vec::with_capacity(heads.len());
    for h in &heads {
        let row = load_version(&svc.db, &h.playbook_id, h.latest_version).await?;
        playbooks.push(to_proto(&row)?);
    }
    let next_page_token = match (more, heads.last()) {
        (true, Some(last)) => convert::page_token(&filters, &last.playbook_id),
        _ => String::new(),
    };
    Ok(v1::ListPlaybooksResponse {
        playbooks,
        next_page_token,
    })
}

/// The fields UpdatePlaybook may change.
const UPDATABLE: [&str; 3] = ["name", "steps", "active"];

/// `UpdatePlaybook`: stores the next version.
pub async fn update(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::UpdatePlaybookRequest,
) -> Result<v1::UpdatePlaybookResponse> {
    let mut v = Violations::new();
    let Some(raw) = request.playbook.as_ref() else {
        v.add("playbook", "is required");
        return Err(v.into());
    };
    let id = convert::issued_id("playbook.playbook_id", &raw.playbook_id, &mut v);
    let paths: Vec<String> = request
        .update_mask
        .as_ref()
        .map(|m| m.paths.clone())
        .unwrap_or_default();
    if paths.is_empty() {
        v.add("update_mask", "name at least one field to change");
    }
    for (i, p) in paths.iter().enumerate() {
        if !UPDATABLE.contains(&p.as_str()) {
            v.add(
                format!("update_mask.paths[{i}]"),
                format!(
                    "`{p}` cannot be updated; use one of {}",
                    UPDATABLE.join(", ")
                ),
            );
        }
    }
    let has = |p: &str| paths.iter().any(|x| x == p);
    let new_steps = steps("playbook.steps", &raw.steps, &mut v);
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    require_writer(caller)?;
    let head = playbook::Entity::find_by_id(id.clone())
        .one(&svc.db)
        .await?
        .ok_or_else(|| ServiceError::not_found("playbook", id.clone()))?;
    if head.latest_version != request.expected_version {
        return Err(ServiceError::StaleVersion {
            kind: "playbook",
            id,
            expected: request.expected_version,
            actual: head.latest_version,
        });
    }
    let current_row = load_version(&svc.db, &id, head.latest_version).await?;
    let current = domain(&current_row)?;
    let current_wire = to_proto(&current_row)?;
    let raw_steps = if has("steps") {
        raw.steps.clone()
    } else {
        current_wire.steps.clone()
    };
    let next = Playbook {
        playbook_id: id.clone(),
        version: head.latest_version + 1,
        name: if has("name") {
            raw.name.clone()
        } else {
            current.name.clone()
        },
        opportunity_type: current.opportunity_type,
        steps: if has("steps") {
            new_steps
        } else {
            current.steps.clone()
        },
        active: if has("active") {
            raw.active
        } else {
            current.active
        },
    };
    next.validate()
        .map_err(|e| ServiceError::from_domain(e, "playbook"))?;
    let now = store::now(svc);
    let row = version_row(&next, &raw_steps, caller, now)?;
    let wire = to_proto(&row)?;
    let written: Result<()> = async {
        let txn = svc.db.begin().await?;
        playbook_version::Entity::insert(row.clone().into_active_model())
            .exec_without_returning(&txn)
            .await?;
        let updated = playbook::Entity::update_many()
            .set(
                playbook::Model {
                    playbook_id: id.clone(),
                    opportunity_type: row.opportunity_type.clone(),
                    latest_version: row.version,
                    active: row.active,
                }
                .into_active_model()
                .reset_all(),
            )
            .filter(playbook::Column::PlaybookId.eq(id.clone()))
            .filter(playbook::Column::LatestVersion.eq(head.latest_version))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(stale(&id, head.latest_version));
        }
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "playbook.update",
                target_type: "playbook",
                target_id: id.clone(),
                before: summary(&current_row),
                after: summary(&row),
                reason: format!("updated {}", paths.join(", ")),
                event_type: "playbook.version_created",
                version: row.version,
                payload: wire.encode_to_vec(),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
    .await;
    match written {
        Ok(()) => Ok(v1::UpdatePlaybookResponse {
            playbook: Some(wire),
        }),
        Err(e) if e.is_unique_violation() => Err(stale(&id, head.latest_version)),
        Err(e) => Err(e),
    }
}

fn stale(id: &str, expected: i64) -> ServiceError {
    ServiceError::StaleVersion {
        kind: "playbook",
        id: id.to_owned(),
        expected,
        actual: expected + 1,
    }
}

/// The task rows playbook `version` (latest when 0) creates on `loaded` from `start`.
async fn plan(
    svc: &CoordinationService,
    caller: &Caller,
    loaded: &Loaded,
    playbook_id: &str,
    version: i64,
    start: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<task::Model>> {
    let today = svc.clock.today();
    let row = load_version(&svc.db, playbook_id, version).await?;
    let p = domain(&row)?;
    let shares = loaded
        .history
        .as_of(today)
        .map(|s| s.version.shares.clone())
        .unwrap_or_else(|| loaded.latest().clone());
    let memberships = loaded.memberships()?;
    let sla_rules = crate::rules::all_sla(&svc.db).await?;
    let plans = playbooks::instantiate(
        &p,
        ApplyContext {
            stage: loaded.stage()?,
            opportunity_type: stored("type", &loaded.row.opportunity_type)?,
            shares: &shares,
            memberships: &memberships,
            start,
            today,
            calendar: svc.clock.calendar(),
            sla_rules: &sla_rules,
        },
    )
    .map_err(|e| ServiceError::from_domain(e, ""))?;
    Ok(plans
        .into_iter()
        .map(|t| {
            tasks::new_row(
                &loaded.row.opportunity_id,
                &t.title,
                &t.description,
                &t.owner,
                t.due_date,
                t.sla_rule.map(|r| r.rule_id),
                Some((&p.playbook_id, p.version, &t.step_id)),
                caller,
                now,
            )
        })
        .collect())
}

/// The task rows of `CreateOpportunity`'s playbook (its latest version, from today) on the
/// opportunity about to be created.
pub async fn plan_at_create(
    svc: &CoordinationService,
    caller: &Caller,
    loaded: &Loaded,
    playbook_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<task::Model>> {
    plan(svc, caller, loaded, playbook_id, 0, svc.clock.today(), now).await
}

/// `ApplyPlaybook`.
pub async fn apply(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::ApplyPlaybookRequest,
) -> Result<v1::ApplyPlaybookResponse> {
    let mut v = Violations::new();
    convert::idempotency_key(&request.idempotency_key, &mut v);
    let id = convert::issued_id("opportunity_id", &request.opportunity_id, &mut v);
    let playbook_id = convert::issued_id("playbook_id", &request.playbook_id, &mut v);
    if request.playbook_version < 0 {
        v.add(
            "playbook_version",
            "must be 0 (the latest) or a version number",
        );
    }
    let start = convert::optional_date("start_date", request.start_date.as_ref(), &mut v);
    let (Some(id), Some(playbook_id), true) = (id, playbook_id, v.is_empty()) else {
        return Err(v.into());
    };
    let scope = convert::scope("ApplyPlaybook", caller);
    let hash = idempotency::request_hash(&request.encode_to_vec());
    if let Some(stored) = convert::replay(&svc.db, &scope, &request.idempotency_key, &hash).await? {
        return Ok(stored);
    }
    let today = svc.clock.today();
    let loaded = store::load(&svc.db, caller, &id, today).await?;
    store::require_member(caller, &loaded, today)?;
    store::check_version(&loaded.row, request.expected_version)?;
    let now = store::now(svc);
    let rows = plan(
        svc,
        caller,
        &loaded,
        &playbook_id,
        request.playbook_version,
        start.unwrap_or(today),
        now,
    )
    .await?;
    let response = v1::ApplyPlaybookResponse {
        tasks: rows.iter().map(tasks::to_proto).collect::<Result<_>>()?,
    };
    let written: Result<()> = async {
        let txn = svc.db.begin().await?;
        tasks::guard(&txn, &loaded.row).await?;
        tasks::insert(
            &txn,
            caller,
            request_id,
            &rows,
            &format!("from playbook {playbook_id}"),
            now,
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
        Ok(())
    }
    .await;
    match written {
        Ok(()) => Ok(response),
        Err(e) if e.is_unique_violation() => {
            match convert::replay(&svc.db, &scope, &request.idempotency_key, &hash).await? {
                Some(stored) => Ok(stored),
                None => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}
