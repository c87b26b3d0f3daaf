//! Members (DOMAIN.md §5 "Access through membership", "Five fixes": the people): `AddMember`
//! reads the employee from the registry's staff directory and the branch chains of the employee
//! and the units, and lets the domain's `check_new_member` decide (inactive, outside every unit,
//! not in the unit named, already a member); `RemoveMember` ends the membership on the business
//! date after the domain's `check_removal` (the last member of the lead unit stays, and so does a
//! member who owns open tasks of the opportunity, counted in `m0302`'s task table before the
//! write and again on its transaction); `ListMembers` lists the active members by unit, then
//! employee. Memberships are effective-dated rows; nothing is deleted. Adding and removing a
//! member puts the opportunity's access grants into the registry ([`crate::grants`]).

use bankmkt_domain::coordination::TaskStatus;
use bankmkt_domain::coordination::members as rules;
use bankmkt_platform::Caller;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use prost::Message;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, TransactionTrait,
};

use crate::CoordinationService;
use crate::convert::{self, stored};
use crate::entity::member;
use crate::error::{Result, ServiceError};
use crate::m0302::task;
use crate::record::{Change, record};
use crate::store;

/// A membership for the wire.
pub fn to_proto(m: &member::Model) -> Result<v1::Member> {
    let role: bankmkt_domain::coordination::MemberRole = stored("member role", &m.role)?;
    let unit = store::membership(m)?.unit;
    Ok(v1::Member {
        employee_id: m.employee_id.clone(),
        unit_id: convert::unit_id(&unit),
        role: convert::member_role_to_proto(role) as i32,
        added: Some(convert::stamp(&m.added_by, m.add_time, "")),
    })
}

/// `AddMember`.
pub async fn add(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::AddMemberRequest,
) -> Result<v1::AddMemberResponse> {
    let mut v = Violations::new();
    let id = convert::issued_id("opportunity_id", &request.opportunity_id, &mut v);
    let Some(m) = request.member.as_ref() else {
        v.add("member", "is required");
        return Err(v.into());
    };
    let employee = convert::employee_id("member.employee_id", &m.employee_id, &mut v);
    let unit = if m.unit_id.is_empty() {
        v.add("member.unit_id", "is required");
        None
    } else {
        let u = convert::parse_unit_id(&m.unit_id);
        if u.is_none() {
            v.add("member.unit_id", "is not a unit id (BRANCH/line)");
        }
        u
    };
    let role = convert::required_enum(
        "member.role",
        m.role,
        convert::member_role_from_proto,
        "member role",
        &mut v,
    );
    let (Some(id), Some(employee), Some(unit), Some(role), true) =
        (id, employee, unit, role, v.is_empty())
    else {
        return Err(v.into());
    };
    let today = svc.clock.today();
    let loaded = store::load(&svc.db, caller, &id, today).await?;
    store::require_member(caller, &loaded, today)?;
    store::check_version(&loaded.row, request.expected_version)?;
    let units = loaded.latest().unit_refs();
    if !units.contains(&unit) {
        return Err(ServiceError::not_found("unit", convert::unit_id(&unit)));
    }
    let staff = svc.registry.employee(caller, &employee).await?;
    let chains = store::chains(
        svc,
        caller,
        &[loaded.latest()],
        std::slice::from_ref(&staff.branch),
    )
    .await?;
    let tree = crate::clients::tree_of(&chains.values().cloned().collect::<Vec<_>>())?;
    rules::check_new_member(
        loaded.stage()?,
        &staff,
        &unit,
        &units,
        &loaded.memberships()?,
        today,
        &tree,
    )
    .map_err(|e| ServiceError::from_domain(e, ""))?;
    let now = store::now(svc);
    let row = member::Model {
        member_id: convert::new_id(),
        opportunity_id: id.clone(),
        employee_id: employee.clone(),
        unit_branch: unit.branch.as_str().to_owned(),
        unit_line: unit.line.as_str().to_owned(),
        role: role.as_str().to_owned(),
        active_from: today,
        active_to: None,
        added_by: caller.subject.clone(),
        add_time: now,
    };
    let wire = to_proto(&row)?;
    let mut next = loaded.row.clone();
    next.version += 1;
    next.update_time = now;
    let txn = svc.db.begin().await?;
    store::save(&txn, next.clone(), loaded.row.version).await?;
    member::Entity::insert(row.into_active_model())
        .exec_without_returning(&txn)
        .await?;
    record(
        &txn,
        now,
        Change {
            caller,
            request_id,
            action: "opportunity.add_member",
            target_type: "opportunity",
            target_id: id.clone(),
            before: store::summary(&loaded.row),
            after: store::summary(&next),
            reason: format!("{employee} joined unit {unit} as {role}"),
            event_type: "opportunity.member_added",
            version: next.version,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    crate::grants::sync(svc, caller, &txn, &id, Some(&loaded)).await?;
    txn.commit().await?;
    Ok(v1::AddMemberResponse {
        member: Some(wire),
        opportunity_version: next.version,
    })
}

/// `RemoveMember`.
pub async fn remove(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::RemoveMemberRequest,
) -> Result<v1::RemoveMemberResponse> {
    let mut v = Violations::new();
    let id = convert::issued_id("opportunity_id", &request.opportunity_id, &mut v);
    let employee = convert::employee_id("employee_id", &request.employee_id, &mut v);
    convert::reason("reason", &request.reason, false, &mut v);
    let (Some(id), Some(employee), true) = (id, employee, v.is_empty()) else {
        return Err(v.into());
    };
    let today = svc.clock.today();
    let loaded = store::load(&svc.db, caller, &id, today).await?;
    store::require_member(caller, &loaded, today)?;
    store::check_version(&loaded.row, request.expected_version)?;
    let memberships = loaded.memberships()?;
    let Some(index) = memberships
        .iter()
        .position(|m| m.employee_id == employee && m.is_active_on(today))
    else {
        return Err(ServiceError::not_found("member", employee));
    };
    let check = |owns_open_tasks: bool| {
        rules::check_removal(
            &memberships,
            &employee,
            owns_open_tasks,
            loaded.latest(),
            today,
        )
        .map_err(|e| ServiceError::from_domain(e, ""))
    };
    check(open_tasks(&svc.db, &id, &employee).await? > 0)?;
    let now = store::now(svc);
    let ended = memberships[index].ended(today);
    let mut next = loaded.row.clone();
    next.version += 1;
    next.update_time = now;
    let txn = svc.db.begin().await?;
    store::save(&txn, next.clone(), loaded.row.version).await?;
    // Again under the header's row lock: a task given to the member meanwhile (its create
    // re-checks the header's version on its own transaction) is counted here or refused there.
    check(open_tasks(&txn, &id, &employee).await? > 0)?;
    let mut am = loaded.members[index].clone().into_active_model();
    am.active_to = sea_orm::Set(ended.active_to);
    sea_orm::ActiveModelTrait::update(am, &txn).await?;
    record(
        &txn,
        now,
        Change {
            caller,
            request_id,
            action: "opportunity.remove_member",
            target_type: "opportunity",
            target_id: id.clone(),
            before: store::summary(&loaded.row),
            after: store::summary(&next),
            reason: if request.reason.trim().is_empty() {
                format!("{employee} left")
            } else {
                request.reason.trim().to_owned()
            },
            event_type: "opportunity.member_removed",
            version: next.version,
            payload: v1::RemoveMemberResponse {
                opportunity_version: next.version,
            }
            .encode_to_vec(),
        },
    )
    .await?;
    crate::grants::sync(svc, caller, &txn, &id, Some(&loaded)).await?;
    txn.commit().await?;
    Ok(v1::RemoveMemberResponse {
        opportunity_version: next.version,
    })
}

/// How many open (open or in progress) tasks of opportunity `id` `employee` owns.
pub async fn open_tasks<C: ConnectionTrait>(db: &C, id: &str, employee: &str) -> Result<usize> {
    let rows = task::Entity::find()
        .filter(task::Column::OpportunityId.eq(id))
        .filter(task::Column::OwnerEmployeeId.eq(employee))
        .all(db)
        .await?;
    let mut open = 0;
    for r in rows {
        let status: TaskStatus = stored("task status", &r.status)?;
        if status.is_open() {
            open += 1;
        }
    }
    Ok(open)
}

/// `ListMembers`: active members by unit, then employee.
pub async fn list(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::ListMembersRequest,
) -> Result<v1::ListMembersResponse> {
    let mut v = Violations::new();
    let id = convert::issued_id("opportunity_id", &request.opportunity_id, &mut v);
    let size = convert::page_size(request.page_size, &mut v);
    let filters = {
        let mut f = request.clone();
        f.page_size = 0;
        f.page_token.clear();
        convert::filter_hash(&f.encode_to_vec())
    };
    let after = convert::page_after(&request.page_token, &filters, &mut v);
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let today = svc.clock.today();
    let loaded = store::load(&svc.db, caller, &id, today).await?;
    let mut rows: Vec<(String, v1::Member)> = Vec::new();
    for m in &loaded.members {
        let domain = store::membership(m)?;
        if !domain.is_active_on(today) {
            continue;
        }
        let wire = to_proto(m)?;
        if !request.unit_id.is_empty() && wire.unit_id != request.unit_id {
            continue;
        }
        rows.push((format!("{}|{}", wire.unit_id, wire.employee_id), wire));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let rows: Vec<(String, v1::Member)> = rows
        .into_iter()
        .filter(|(k, _)| after.as_ref().is_none_or(|a| k > a))
        .collect();
    let more = rows.len() > size;
    let page: Vec<(String, v1::Member)> = rows.into_iter().take(size).collect();
    let next_page_token = match (more, page.last()) {
        (true, Some((k, _))) => convert::page_token(&filters, k),
        _ => String::new(),
    };
    Ok(v1::ListMembersResponse {
        members: page.into_iter().map(|(_, m)| m).collect(),
        next_page_token,
    })
}
