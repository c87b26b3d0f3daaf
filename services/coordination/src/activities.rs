//! Activities and touchpoints (DOMAIN.md §5 "Activities"): `CreateActivity` and `UpdateActivity`
//! build the domain's `ActivityDraft` and let `validate` judge it (end before start, a start in
//! the future, no participant, a channel the type does not allow, …), check each participant
//! against their unit with the domain's `members::fits` (staff directory and branch chains from
//! the registry), and check every individual customer's consent on the channel with the domain's
//! `activities::check_consent` (cross-line consent too when the activity serves an opportunity);
//! `GetActivity` and `ListActivities` read them as the caller may see them (bank-wide readers,
//! participants, the creator, and the branches above a participant's unit);
//! `StreamTouchpoints` streams the domain's `touchpoints` (one per activity, customer and
//! participant) and, on request, the referrals' touchpoints, ordered by (occurred_at,
//! touchpoint_id) and resumable by token. Writes carry their audit entry and outbox event.

use std::collections::{BTreeMap, BTreeSet};

use bankmkt_domain::access::BANK_WIDE_READ_ROLES;
use bankmkt_domain::consent::ContactChannel;
use bankmkt_domain::coordination::activities::{
    self as rules, ActivityDraft, ActivityPolicy, ActivityType, Participant, ValidActivity,
};
use bankmkt_domain::coordination::contact::ContactFacts;
use bankmkt_domain::coordination::{CoordinationError, Reason, UnitRef, members};
use bankmkt_domain::customer::CustomerKind;
use bankmkt_domain::ids::{ActivityId, CustomerId};
use bankmkt_domain::org::{BranchCode, Role};
use bankmkt_platform::Caller;
use bankmkt_platform::idempotency;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::{DateTime, Months, Utc};
use prost::Message;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::CoordinationService;
use crate::clients;
use crate::convert::{self, stored};
use crate::directory::{self, absorb};
use crate::error::{Result, ServiceError};
use crate::record::{Change, record};
use crate::rows::{activity, activity_customer, referral};
use crate::store;

/// The most customer ids of a touchpoint stream.
pub const MAX_STREAM_CUSTOMERS: usize = 10_000;
/// The longest touchpoint stream range, in months.
pub const MAX_STREAM_MONTHS: u32 = 13;

/// A participant as stored in JSON.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredParticipant {
    employee_id: String,
    branch: String,
    line: String,
}

fn participants_json(ps: &[Participant]) -> Result<String> {
    let stored: Vec<StoredParticipant> = ps
        .iter()
        .map(|p| StoredParticipant {
            employee_id: p.employee_id.clone(),
            branch: p.unit.branch.as_str().to_owned(),
            line: p.unit.line.as_str().to_owned(),
        })
        .collect();
    serde_json::to_string(&stored).map_err(ServiceError::internal)
}

fn participants_of(row: &activity::Model) -> Result<Vec<Participant>> {
    let saved: Vec<StoredParticipant> =
        serde_json::from_str(&row.participants).map_err(ServiceError::internal)?;
    saved
        .into_iter()
        .map(|p| {
            Ok(Participant {
                employee_id: p.employee_id,
                unit: UnitRef::new(
                    BranchCode::parse(&p.branch).map_err(ServiceError::internal)?,
                    stored("line", &p.line)?,
                ),
            })
        })
        .collect()
}

fn customers_of(row: &activity::Model) -> Result<Vec<CustomerId>> {
    let ids: Vec<String> =
        serde_json::from_str(&row.customer_ids).map_err(ServiceError::internal)?;
    ids.iter()
        .map(|c| CustomerId::parse(c).map_err(ServiceError::internal))
        .collect()
}

/// The stored activity as the domain's draft.
fn draft_of(row: &activity::Model) -> Result<ActivityDraft> {
    Ok(ActivityDraft {
        activity_type: Some(stored("activity type", &row.activity_type)?),
        channel: Some(stored("channel", &row.channel)?),
        subject: row.subject.clone(),
        record: row.record.clone(),
        start_time: Some(row.start_time),
        end_time: row.end_time,
        participants: participants_of(row)?,
        customers: customers_of(row)?,
    })
}

/// A stored activity for the wire.
pub fn to_proto(row: &activity::Model) -> Result<v1::Activity> {
    let d = draft_of(row)?;
    Ok(v1::Activity {
        activity_id: row.activity_id.clone(),
        activity_type: d
            .activity_type
            .map_or(0, |t| directory::activity_type_to_proto(t) as i32),
        channel: d
            .channel
            .map_or(0, |c| directory::channel_to_proto(c) as i32),
        subject: row.subject.clone(),
        record: row.record.clone(),
        start_time: Some(convert::timestamp(row.start_time)),
        end_time: row.end_time.map(convert::timestamp),
        participants: d
            .participants
            .iter()
            .map(|p| v1::Participant {
                employee_id: p.employee_id.clone(),
                unit: Some(convert::unit_to_proto(&p.unit)),
            })
            .collect(),
        customer_ids: d.customers.iter().map(ToString::to_string).collect(),
        opportunity_id: row.opportunity_id.clone().unwrap_or_default(),
        created: Some(convert::stamp(&row.created_by, row.create_time, "")),
        version: row.version,
    })
}

fn summary(row: &activity::Model) -> String {
    format!(
        "version={} type={} channel={} start={} participants={} customers={}",
        row.version,
        row.activity_type,
        row.channel,
        row.start_time,
        row.participant_ids,
        row.customer_ids
    )
}

/// Whether `caller` sees the activity.
pub fn may_see(caller: &Caller, row: &activity::Model) -> bool {
    BANK_WIDE_READ_ROLES.iter().any(|r| caller.has_role(*r))
        || caller.has_role(Role::Service)
        || caller.has_role(Role::Batch)
        || row.created_by == caller.subject
        || row
            .participant_ids
            .contains(&format!("|{}|", caller.subject))
        || caller
            .branch
            .as_ref()
            .is_some_and(|b| row.participant_paths.contains(&format!("/{}/", b.as_str())))
}

/// The wire participants and customers at `field` (shape only).
fn parse_people(
    field: &str,
    participants: &[v1::Participant],
    customers: &[String],
    v: &mut Violations,
) -> (Vec<Participant>, Vec<CustomerId>) {
    let mut ps = Vec::with_capacity(participants.len());
    for (i, p) in participants.iter().enumerate() {
        let unit = convert::unit_ref(
            &format!("{field}.participants[{i}].unit"),
            p.unit.as_ref(),
            v,
        );
        if let Some(unit) = unit {
            ps.push(Participant {
                employee_id: p.employee_id.trim().to_owned(),
                unit,
            });
        }
    }
    let cs = customers
        .iter()
        .enumerate()
        .filter_map(|(i, c)| convert::customer_id(&format!("{field}.customer_ids[{i}]"), c, v))
        .collect();
    (ps, cs)
}

/// Checks each participant works in their unit (staff directory, branch chains) and returns
/// the `|…|` paths of their units' branches.
async fn check_participants(
    svc: &CoordinationService,
    caller: &Caller,
    participants: &[Participant],
) -> Result<String> {
    let today = svc.clock.today();
    let mut paths = BTreeSet::new();
    for p in participants {
        let staff = svc.registry.employee(caller, &p.employee_id).await?;
        let unit_chain = svc.registry.chain(caller, &p.unit.branch).await?;
        let staff_chain = svc.registry.chain(caller, &staff.branch).await?;
        let tree = clients::tree_of(&[unit_chain.clone(), staff_chain])?;
        if !staff.is_active_on(today) {
            return Err(ServiceError::from_domain(
                CoordinationError::refused(
                    Reason::EmployeeInactive,
                    format!("participant {} is not active", p.employee_id),
                ),
                "",
            ));
        }
        if !members::fits(&staff, &p.unit, &tree) {
            return Err(ServiceError::from_domain(
                CoordinationError::refused(
                    Reason::MemberNotInUnit,
                    format!(
                        "participant {} does not work in unit {}",
                        p.employee_id, p.unit
                    ),
                ),
                "",
            ));
        }
        paths.insert(unit_chain.path());
    }
    Ok(format!(
        "|{}|",
        paths.into_iter().collect::<Vec<_>>().join("|")
    ))
}

/// Checks the consent of the individual customers on `channel` with the domain's rule.
async fn check_consent(
    svc: &CoordinationService,
    caller: &Caller,
    customers: &[CustomerId],
    channel: ContactChannel,
    serves_opportunity: bool,
) -> Result<()> {
    let ids: Vec<String> = customers.iter().map(ToString::to_string).collect();
    let found = svc.registry.customers(caller, &ids).await?;
    let mut facts = Vec::with_capacity(found.len());
    for c in found {
        let consent = if c.kind == CustomerKind::Individual {
            directory::consent(svc, caller, &c.customer_id).await?
        } else {
            None
        };
        facts.push(ContactFacts {
            customer: CustomerId::parse(&c.customer_id).map_err(ServiceError::internal)?,
            kind: c.kind,
            consent,
        });
    }
    rules::check_consent(channel, &facts, serves_opportunity)
        .map_err(|e| ServiceError::from_domain(e, ""))
}

fn ids_column(participants: &[Participant]) -> String {
    let ids: Vec<&str> = participants
        .iter()
        .map(|p| p.employee_id.as_str())
        .collect();
    format!("|{}|", ids.join("|"))
}

async fn write_customers<C: ConnectionTrait>(txn: &C, row: &activity::Model) -> Result<()> {
    activity_customer::Entity::delete_many()
        .filter(activity_customer::Column::ActivityId.eq(row.activity_id.clone()))
        .exec(txn)
        .await?;
    let customers = customers_of(row)?;
    if customers.is_empty() {
        return Ok(());
    }
    activity_customer::Entity::insert_many(customers.iter().map(|c| {
        activity_customer::Model {
            activity_id: row.activity_id.clone(),
            customer_id: c.to_string(),
            activity_type: row.activity_type.clone(),
            start_time: row.start_time,
        }
        .into_active_model()
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// `CreateActivity`.
pub async fn create(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateActivityRequest,
) -> Result<v1::CreateActivityResponse> {
    let mut v = Violations::new();
    convert::idempotency_key(&request.idempotency_key, &mut v);
    let Some(a) = request.activity.as_ref() else {
        v.add("activity", "is required");
        return Err(v.into());
    };
    let activity_type = convert::filter_enum(
        "activity.activity_type",
        a.activity_type,
        directory::activity_type_from_proto,
        "activity type",
        &mut v,
    );
    let channel = convert::filter_enum(
        "activity.channel",
        a.channel,
        directory::channel_from_proto,
        "contact channel",
        &mut v,
    );
    let start_time = directory::instant("activity.start_time", a.start_time.as_ref(), &mut v);
    let end_time = directory::instant("activity.end_time", a.end_time.as_ref(), &mut v);
    let (participants, customers) =
        parse_people("activity", &a.participants, &a.customer_ids, &mut v);
    let opportunity = if a.opportunity_id.is_empty() {
        None
    } else {
        convert::issued_id("activity.opportunity_id", &a.opportunity_id, &mut v)
    };
    let draft = ActivityDraft {
        activity_type,
        channel,
        subject: a.subject.clone(),
        record: a.record.clone(),
        start_time,
        end_time,
        participants,
        customers,
    };
    let now = store::now(svc);
    let valid = match draft.validate(now, &ActivityPolicy::default()) {
        Ok(valid) => Some(valid),
        Err(e) => {
            absorb(&mut v, e, "activity")?;
            None
        }
    };
    let (Some(valid), true) = (valid, v.is_empty()) else {
        return Err(v.into());
    };
    let scope = convert::scope("CreateActivity", caller);
    let hash = idempotency::request_hash(&request.encode_to_vec());
    if let Some(stored) = convert::replay(&svc.db, &scope, &request.idempotency_key, &hash).await? {
        return Ok(stored);
    }
    if let Some(o) = &opportunity {
        store::load(&svc.db, caller, o, svc.clock.today()).await?;
    }
    let paths = check_participants(svc, caller, &draft.participants).await?;
    check_consent(
        svc,
        caller,
        &draft.customers,
        valid.channel,
        opportunity.is_some(),
    )
    .await?;
    let row = activity::Model {
        activity_id: convert::new_id(),
        activity_type: valid.activity_type.as_str().to_owned(),
        channel: valid.channel.as_str().to_owned(),
        subject: draft.subject.trim().to_owned(),
        record: draft.record.clone(),
        start_time: valid.start_time,
        end_time: draft.end_time,
        participants: participants_json(&draft.participants)?,
        participant_ids: ids_column(&draft.participants),
        participant_paths: paths,
        customer_ids: serde_json::to_string(
            &draft
                .customers
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
        )
        .map_err(ServiceError::internal)?,
        opportunity_id: opportunity,
        created_by: caller.subject.clone(),
        create_time: now,
        update_time: now,
        version: 1,
    };
    let wire = to_proto(&row)?;
    let response = v1::CreateActivityResponse {
        activity: Some(wire.clone()),
    };
    let written: Result<()> = async {
        let txn = svc.db.begin().await?;
        activity::Entity::insert(row.clone().into_active_model())
            .exec_without_returning(&txn)
            .await?;
        write_customers(&txn, &row).await?;
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "activity.create",
                target_type: "activity",
                target_id: row.activity_id.clone(),
                before: String::new(),
                after: summary(&row),
                reason: format!("logged a {}", valid.activity_type),
                event_type: "activity.logged",
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
        Ok(())
    }
    .await;
    convert::settle(
        &svc.db,
        written,
        response,
        &scope,
        &request.idempotency_key,
        &hash,
    )
    .await
}

async fn load<C: ConnectionTrait>(db: &C, caller: &Caller, id: &str) -> Result<activity::Model> {
    activity::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|r| may_see(caller, r))
        .ok_or_else(|| ServiceError::not_found("activity", id))
}

/// `GetActivity`.
pub async fn get(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::GetActivityRequest,
) -> Result<v1::GetActivityResponse> {
    let mut v = Violations::new();
    let Some(id) = convert::issued_id("activity_id", &request.activity_id, &mut v) else {
        return Err(v.into());
    };
    let row = load(&svc.db, caller, &id).await?;
    Ok(v1::GetActivityResponse {
        activity: Some(to_proto(&row)?),
    })
}

/// `UpdateActivity`: subject, record, end time, participants or customers, by a participant,
/// the creator, a branch head above a participant's unit, or an admin.
pub async fn update(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::UpdateActivityRequest,
) -> Result<v1::UpdateActivityResponse> {
    let mut v = Violations::new();
    let Some(a) = request.activity.as_ref() else {
        v.add("activity", "is required");
        return Err(v.into());
    };
    let id = convert::issued_id("activity.activity_id", &a.activity_id, &mut v);
    let paths: Vec<String> = request
        .update_mask
        .as_ref()
        .map(|m| m.paths.clone())
        .unwrap_or_default();
    if paths.is_empty() {
        v.add("update_mask", "name at least one field");
    }
    for (i, p) in paths.iter().enumerate() {
        if !matches!(
            p.as_str(),
            "subject" | "record" | "end_time" | "participants" | "customer_ids"
        ) {
            v.add(
                format!("update_mask.paths[{i}]"),
                format!("{p} cannot be updated"),
            );
        }
    }
    let end_time = directory::instant("activity.end_time", a.end_time.as_ref(), &mut v);
    let (participants, customers) =
        parse_people("activity", &a.participants, &a.customer_ids, &mut v);
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let row = load(&svc.db, caller, &id).await?;
    let mut draft = draft_of(&row)?;
    let has = |f: &str| paths.iter().any(|p| p == f);
    let may_change = caller.has_role(Role::Admin)
        || row.created_by == caller.subject
        || draft
            .participants
            .iter()
            .any(|p| p.employee_id == caller.subject)
        || (caller.has_role(Role::BranchHead)
            && caller
                .branch
                .as_ref()
                .is_some_and(|b| row.participant_paths.contains(&format!("/{}/", b.as_str()))));
    if !may_change {
        return Err(ServiceError::PermissionDenied(format!(
            "{} is neither a participant of activity {id} nor their manager",
            caller.subject
        )));
    }
    if row.version != request.expected_version {
        return Err(ServiceError::StaleVersion {
            kind: "activity",
            id,
            expected: request.expected_version,
            actual: row.version,
        });
    }
    if has("subject") {
        draft.subject = a.subject.clone();
    }
    if has("record") {
        draft.record = a.record.clone();
    }
    if has("end_time") {
        draft.end_time = end_time;
    }
    if has("participants") {
        draft.participants = participants;
    }
    if has("customer_ids") {
        draft.customers = customers;
    }
    let now = store::now(svc);
    let valid: ValidActivity = draft
        .validate(now.max(row.start_time), &ActivityPolicy::default())
        .map_err(|e| ServiceError::from_domain(e, "activity"))?;
    let mut next = row.clone();
    if has("participants") {
        next.participant_paths = check_participants(svc, caller, &draft.participants).await?;
    }
    if has("customer_ids") {
        check_consent(
            svc,
            caller,
            &draft.customers,
            valid.channel,
            row.opportunity_id.is_some(),
        )
        .await?;
    }
    next.subject = draft.subject.trim().to_owned();
    next.record = draft.record.clone();
    next.end_time = draft.end_time;
    next.participants = participants_json(&draft.participants)?;
    next.participant_ids = ids_column(&draft.participants);
    next.customer_ids = serde_json::to_string(
        &draft
            .customers
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
    )
    .map_err(ServiceError::internal)?;
    next.update_time = now;
    next.version += 1;
    let wire = to_proto(&next)?;
    let txn = svc.db.begin().await?;
    let result = activity::Entity::update_many()
        .set(next.clone().into_active_model().reset_all())
        .filter(activity::Column::ActivityId.eq(id.clone()))
        .filter(activity::Column::Version.eq(row.version))
        .exec(&txn)
        .await?;
    if result.rows_affected != 1 {
        return Err(ServiceError::StaleVersion {
            kind: "activity",
            id,
            expected: row.version,
            actual: row.version + 1,
        });
    }
    write_customers(&txn, &next).await?;
    record(
        &txn,
        now,
        Change {
            caller,
            request_id,
            action: "activity.update",
            target_type: "activity",
            target_id: id.clone(),
            before: summary(&row),
            after: summary(&next),
            reason: format!("updated {}", paths.join(", ")),
            event_type: "activity.updated",
            version: next.version,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(v1::UpdateActivityResponse {
        activity: Some(wire),
    })
}

/// The ids of the activities of `customers`.
async fn activity_ids_of<C: ConnectionTrait>(
    db: &C,
    customers: &[String],
) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for chunk in customers.chunks(500) {
        let rows = activity_customer::Entity::find()
            .filter(activity_customer::Column::CustomerId.is_in(chunk.iter().cloned()))
            .all(db)
            .await?;
        out.extend(rows.into_iter().map(|r| r.activity_id));
    }
    Ok(out)
}

/// `ListActivities`: newest first.
pub async fn list(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::ListActivitiesRequest,
) -> Result<v1::ListActivitiesResponse> {
    let mut v = Violations::new();
    let size = convert::page_size(request.page_size, &mut v);
    let filters = {
        let mut f = request.clone();
        f.page_size = 0;
        f.page_token.clear();
        convert::filter_hash(&f.encode_to_vec())
    };
    let after = convert::page_after(&request.page_token, &filters, &mut v);
    let customer = if request.customer_id.is_empty() {
        None
    } else {
        convert::customer_id("customer_id", &request.customer_id, &mut v)
    };
    let branch = if request.branch_id.is_empty() {
        None
    } else {
        v.check("branch_id", BranchCode::parse(&request.branch_id))
    };
    let opportunity = if request.opportunity_id.is_empty() {
        None
    } else {
        convert::issued_id("opportunity_id", &request.opportunity_id, &mut v)
    };
    let activity_type = convert::filter_enum(
        "activity_type",
        request.activity_type,
        directory::activity_type_from_proto,
        "activity type",
        &mut v,
    );
    let from = directory::instant("start_time", request.start_time.as_ref(), &mut v);
    let to = directory::instant("end_time", request.end_time.as_ref(), &mut v);
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        v.add("end_time", "is before start_time");
    }
    if request.employee_id.chars().count() > 64 {
        v.add("employee_id", "at most 64 characters");
    }
    if !v.is_empty() {
        return Err(v.into());
    }
    let branch = branch.or_else(|| {
        (customer.is_none() && request.employee_id.is_empty() && opportunity.is_none())
            .then(|| caller.branch.clone())
            .flatten()
    });
    let mut q = activity::Entity::find();
    if let Some(c) = customer {
        let ids = activity_ids_of(&svc.db, &[c.to_string()]).await?;
        q = q.filter(activity::Column::ActivityId.is_in(ids));
    }
    if !request.employee_id.is_empty() {
        q = q.filter(
            activity::Column::ParticipantIds.contains(format!("|{}|", request.employee_id.trim())),
        );
    }
    if let Some(b) = &branch {
        q = q.filter(activity::Column::ParticipantPaths.contains(format!("/{}/", b.as_str())));
    }
    if let Some(o) = &opportunity {
        q = q.filter(activity::Column::OpportunityId.eq(o.clone()));
    }
    if let Some(t) = activity_type {
        q = q.filter(activity::Column::ActivityType.eq(t.as_str()));
    }
    if let Some(f) = from {
        q = q.filter(activity::Column::StartTime.gte(f));
    }
    if let Some(t) = to {
        q = q.filter(activity::Column::StartTime.lt(t));
    }
    let key = |r: &activity::Model| {
        format!(
            "{:020}|{}",
            i64::MAX - r.start_time.timestamp_micros(),
            r.activity_id
        )
    };
    let mut rows: Vec<(String, activity::Model)> = q
        .all(&svc.db)
        .await?
        .into_iter()
        .filter(|r| may_see(caller, r))
        .map(|r| (key(&r), r))
        .filter(|(k, _)| after.as_ref().is_none_or(|a| k > a))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let more = rows.len() > size;
    rows.truncate(size);
    let next_page_token = match (more, rows.last()) {
        (true, Some((k, _))) => convert::page_token(&filters, k),
        _ => String::new(),
    };
    Ok(v1::ListActivitiesResponse {
        activities: rows
            .iter()
            .map(|(_, r)| to_proto(r))
            .collect::<Result<Vec<_>>>()?,
        next_page_token,
    })
}

fn resume_key(at: DateTime<Utc>, id: &str) -> String {
    format!("{:020}|{id}", at.timestamp_micros().max(0))
}

/// The touchpoints of `rows` keyed by (occurred_at, touchpoint_id), only for `only` customers
/// when given.
fn activity_touchpoints(
    rows: &[activity::Model],
    only: Option<&BTreeSet<String>>,
) -> Result<BTreeMap<(DateTime<Utc>, String), v1::Touchpoint>> {
    let mut out = BTreeMap::new();
    for row in rows {
        let draft = draft_of(row)?;
        let valid = ValidActivity {
            activity_type: draft.activity_type.unwrap_or(ActivityType::Visit),
            channel: draft.channel.unwrap_or(ContactChannel::InPerson),
            start_time: row.start_time,
        };
        let id = ActivityId::parse(&row.activity_id).map_err(ServiceError::internal)?;
        for tp in rules::touchpoints(id, &valid, &draft) {
            if only.is_some_and(|o| !o.contains(&tp.customer.to_string())) {
                continue;
            }
            out.insert(
                (tp.occurred_at, tp.touchpoint_id.clone()),
                v1::Touchpoint {
                    touchpoint_id: tp.touchpoint_id,
                    source_version: row.version,
                    source: v1::TouchpointSource::Activity as i32,
                    source_id: row.activity_id.clone(),
                    customer: Some(v1::CustomerKey {
                        key: Some(v1::customer_key::Key::CustomerId(tp.customer.to_string())),
                    }),
                    employee_id: tp.employee_id,
                    unit: Some(convert::unit_to_proto(&tp.unit)),
                    team_id: String::new(),
                    channel: directory::channel_to_proto(tp.channel) as i32,
                    activity_type: directory::activity_type_to_proto(tp.activity_type) as i32,
                    occurred_at: Some(convert::timestamp(tp.occurred_at)),
                    opportunity_id: row.opportunity_id.clone().unwrap_or_default(),
                },
            );
        }
    }
    Ok(out)
}

/// `StreamTouchpoints`: the touchpoints of the range (and customers), in order, after the
/// resume token. Bank-wide readers and system callers (attribution) may stream.
pub async fn stream(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::StreamTouchpointsRequest,
) -> Result<Vec<v1::StreamTouchpointsResponse>> {
    let mut v = Violations::new();
    let start = directory::instant("start_time", request.start_time.as_ref(), &mut v);
    let end = directory::instant("end_time", request.end_time.as_ref(), &mut v);
    if request.start_time.is_none() {
        v.add("start_time", "is required");
    }
    if request.end_time.is_none() {
        v.add("end_time", "is required");
    }
    if let (Some(s), Some(e)) = (start, end) {
        if e <= s {
            v.add("end_time", "must be after start_time");
        } else if s
            .checked_add_months(Months::new(MAX_STREAM_MONTHS))
            .is_some_and(|limit| e > limit)
        {
            v.add(
                "end_time",
                format!("the range may span at most {MAX_STREAM_MONTHS} months"),
            );
        }
    }
    if request.customer_ids.len() > MAX_STREAM_CUSTOMERS {
        v.add(
            "customer_ids",
            format!("at most {MAX_STREAM_CUSTOMERS} ids"),
        );
    } else {
        for (i, c) in request.customer_ids.iter().enumerate() {
            convert::customer_id(&format!("customer_ids[{i}]"), c, &mut v);
        }
    }
    let resume = if request.resume_token.is_empty() {
        None
    } else if request.resume_token.split_once('|').is_some() {
        Some(request.resume_token.clone())
    } else {
        v.add("resume_token", "is not a token this stream issued");
        None
    };
    let (Some(start), Some(end), true) = (start, end, v.is_empty()) else {
        return Err(v.into());
    };
    let system = BANK_WIDE_READ_ROLES.iter().any(|r| caller.has_role(*r))
        || caller.has_role(Role::Service)
        || caller.has_role(Role::Batch);
    if !system {
        return Err(ServiceError::PermissionDenied(
            "touchpoints are streamed to attribution and bank-wide readers".to_owned(),
        ));
    }
    let only: Option<BTreeSet<String>> =
        (!request.customer_ids.is_empty()).then(|| request.customer_ids.iter().cloned().collect());
    let mut q = activity::Entity::find()
        .filter(activity::Column::StartTime.gte(start))
        .filter(activity::Column::StartTime.lt(end));
    if let Some(o) = &only {
        let ids = activity_ids_of(&svc.db, &o.iter().cloned().collect::<Vec<_>>()).await?;
        q = q.filter(activity::Column::ActivityId.is_in(ids));
    }
    let rows = q.all(&svc.db).await?;
    let mut all = activity_touchpoints(&rows, only.as_ref())?;
    if request.include_referrals {
        let mut q = referral::Entity::find()
            .filter(referral::Column::CreateTime.gte(start))
            .filter(referral::Column::CreateTime.lt(end));
        if let Some(o) = &only {
            q = q.filter(referral::Column::CustomerId.is_in(o.iter().cloned()));
        }
        let referrals = q.all(&svc.db).await?;
        all.extend(crate::referrals::touchpoints(&referrals)?);
    }
    Ok(all
        .into_iter()
        .map(|((at, id), tp)| (resume_key(at, &id), tp))
        .filter(|(k, _)| resume.as_ref().is_none_or(|r| k > r))
        .map(|(k, tp)| v1::StreamTouchpointsResponse {
            touchpoint: Some(tp),
            resume_token: k,
        })
        .collect())
}

/// Every activity's (customer, type, start) for the overdue check.
pub async fn facts<C: ConnectionTrait>(
    db: &C,
) -> Result<Vec<bankmkt_domain::coordination::overdue::ActivityFact>> {
    let rows = activity_customer::Entity::find().all(db).await?;
    rows.iter()
        .map(|r| {
            Ok(bankmkt_domain::coordination::overdue::ActivityFact {
                customer: CustomerId::parse(&r.customer_id).map_err(ServiceError::internal)?,
                activity_type: stored("activity type", &r.activity_type)?,
                start_time: r.start_time,
            })
        })
        .collect()
}
