//! The staff directory: bulk load, read, list a subtree, update. An employee's id is the `sub` of
//! their token; their branch, lines and roles are what other services check membership and
//! authority against. Lines and roles are stored as `,code,code,` so filters can match a whole
//! code. A departure is an update that sets `active_to`.

use std::collections::BTreeSet;

use bankmkt_domain::org::{BusinessLine, Role};
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::clock::Clock;
use bankmkt_platform::idempotency::{self, Outcome};
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::NaiveDate;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{
    ActiveValue::Set, Condition, DatabaseConnection, QueryOrder, QuerySelect, TransactionTrait,
};

use super::branches::tree_as_of;
use super::entity::{branch, employee};
use super::require_role;
use crate::convert::{self, branch_code, optional_date};
use crate::error::{RegistryError, Result};

/// Most entries one load may carry.
pub const MAX_LOAD: usize = 10_000;
/// Per-record errors returned in full; the rest are only counted.
pub const MAX_ERRORS: usize = 100;

/// A validated directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    employee_id: String,
    name: String,
    branch_id: String,
    lines: BTreeSet<BusinessLine>,
    roles: BTreeSet<Role>,
    active_from: NaiveDate,
    active_to: Option<NaiveDate>,
}

fn joined<T: Copy>(items: &BTreeSet<T>, code: impl Fn(T) -> &'static str) -> String {
    let mut out = String::from(",");
    for item in items {
        out.push_str(code(*item));
        out.push(',');
    }
    out
}

impl Entry {
    fn from_row(row: &employee::Model) -> Result<Entry> {
        let parse_all = |raw: &str| {
            raw.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        Ok(Entry {
            employee_id: row.employee_id.clone(),
            name: row.name.clone(),
            branch_id: row.branch_id.clone(),
            lines: parse_all(&row.lines)
                .iter()
                .map(|l| {
                    l.parse()
                        .map_err(|e| RegistryError::Internal(format!("stored line: {e}")))
                })
                .collect::<Result<_>>()?,
            roles: parse_all(&row.roles)
                .iter()
                .map(|r| {
                    r.parse()
                        .map_err(|e| RegistryError::Internal(format!("stored role: {e}")))
                })
                .collect::<Result<_>>()?,
            active_from: row.active_from,
            active_to: row.active_to,
        })
    }

    fn to_proto(&self, version: i64) -> v1::Employee {
        v1::Employee {
            employee_id: self.employee_id.clone(),
            name: self.name.clone(),
            branch_id: self.branch_id.clone(),
            lines: self
                .lines
                .iter()
                .map(|l| convert::line_to_proto(*l) as i32)
                .collect(),
            roles: self
                .roles
                .iter()
                .map(|r| convert::role_to_proto(*r) as i32)
                .collect(),
            active_from: Some(convert::date_to_proto(self.active_from)),
            active_to: self.active_to.map(convert::date_to_proto),
            version,
        }
    }
}

/// Validates one wire entry; `prefix` names it in violations (e.g. `employees[3]`).
fn validate(prefix: &str, e: &v1::Employee, today: NaiveDate, v: &mut Violations) -> Option<Entry> {
    let before = v.fields().len();
    let field = |f: &str| {
        if prefix.is_empty() {
            f.to_owned()
        } else {
            format!("{prefix}.{f}")
        }
    };
    let id = e.employee_id.trim();
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_graphic()) {
        v.add(
            field("employee_id"),
            "must be 1 to 64 printable ASCII characters",
        );
    }
    let name = e.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        v.add(field("name"), "must be 1 to 100 characters");
    }
    let branch = branch_code(&field("branch_id"), &e.branch_id, v);
    let mut lines = BTreeSet::new();
    for (i, raw) in e.lines.iter().enumerate() {
        match convert::line_from_proto(*raw) {
            Some(l) => {
                lines.insert(l);
            }
            None => v.add(
                field(&format!("lines[{i}]")),
                "must be a known business line",
            ),
        }
    }
    if e.lines.is_empty() {
        v.add(field("lines"), "at least one business line is required");
    }
    let mut roles = BTreeSet::new();
    for (i, raw) in e.roles.iter().enumerate() {
        match convert::role_from_proto(*raw) {
            Some(r) if r.is_system() => v.add(
                field(&format!("roles[{i}]")),
                format!("{r} is a system role, not an employee role"),
            ),
            Some(r) => {
                roles.insert(r);
            }
            None => v.add(field(&format!("roles[{i}]")), "must be a known role"),
        }
    }
    if e.roles.is_empty() {
        v.add(field("roles"), "at least one role is required");
    }
    let active_from =
        optional_date(&field("active_from"), e.active_from.as_ref(), v).unwrap_or(today);
    let active_to = optional_date(&field("active_to"), e.active_to.as_ref(), v);
    if active_to.is_some_and(|to| to <= active_from) {
        v.add(field("active_to"), "must be after active_from");
    }
    (v.fields().len() == before).then(|| Entry {
        employee_id: id.to_owned(),
        name: name.to_owned(),
        branch_id: branch.map(|b| b.as_str().to_owned()).unwrap_or_default(),
        lines,
        roles,
        active_from,
        active_to,
    })
}

fn active_model(entry: &Entry, version: i64, clock: &Clock) -> employee::ActiveModel {
    employee::ActiveModel {
        employee_id: Set(entry.employee_id.clone()),
        name: Set(entry.name.clone()),
        branch_id: Set(entry.branch_id.clone()),
        lines: Set(joined(&entry.lines, BusinessLine::as_str)),
        roles: Set(joined(&entry.roles, Role::as_str)),
        active_from: Set(entry.active_from),
        active_to: Set(entry.active_to),
        version: Set(version),
        update_time: Set(clock.now()),
    }
}

/// `LoadEmployees`: valid entries are written, bad ones are reported per record.
pub async fn load(
    db: &DatabaseConnection,
    clock: &Clock,
    caller: &Caller,
    request_id: &str,
    request: v1::LoadEmployeesRequest,
) -> Result<v1::LoadEmployeesResponse> {
    require_role(caller, &[Role::Admin, Role::Batch], "LoadEmployees")?;
    let mut v = Violations::new();
    if request.idempotency_key.is_empty()
        || request.idempotency_key.len() > 128
        || !request
            .idempotency_key
            .chars()
            .all(|c| c.is_ascii_graphic())
    {
        v.add(
            "idempotency_key",
            "must be 1 to 128 printable ASCII characters",
        );
    }
    if request.employees.is_empty() || request.employees.len() > MAX_LOAD {
        v.add("employees", format!("must hold 1 to {MAX_LOAD} entries"));
    }
    if !v.is_empty() {
        return Err(RegistryError::Invalid(v));
    }
    let scope = format!("CustomerRegistry/LoadEmployees/{}", caller.subject);
    let hash = idempotency::request_hash(&request.encode_to_vec());
    let txn = db.begin().await?;
    match idempotency::check(&txn, &scope, &request.idempotency_key, &hash).await? {
        Outcome::Replay(bytes) => {
            return v1::LoadEmployeesResponse::decode(bytes.as_slice())
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
    let branches: BTreeSet<String> = branch::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|b| b.branch_id)
        .collect();
    let mut summary = v1::IngestSummary {
        received: request.employees.len() as i64,
        ..Default::default()
    };
    let mut seen = BTreeSet::new();
    let today = clock.today();
    for (i, wire) in request.employees.iter().enumerate() {
        let mut record = Violations::new();
        let entry = validate("", wire, today, &mut record).filter(|e| {
            if !branches.contains(&e.branch_id) {
                record.add("branch_id", format!("unknown branch {}", e.branch_id));
                return false;
            }
            if !seen.insert(e.employee_id.clone()) {
                record.add("employee_id", "appears twice in this load");
                return false;
            }
            true
        });
        let Some(entry) = entry else {
            summary.rejected += 1;
            if summary.errors.len() < MAX_ERRORS {
                let (field, message) = record.fields().first().cloned().unwrap_or_default();
                summary.errors.push(v1::RecordError {
                    index: i as i64,
                    natural_key: wire.employee_id.clone(),
                    field,
                    code: "INVALID_ARGUMENT".to_owned(),
                    message,
                });
            } else {
                summary.errors_truncated += 1;
            }
            continue;
        };
        match employee::Entity::find_by_id(entry.employee_id.clone())
            .one(&txn)
            .await?
        {
            Some(row) if Entry::from_row(&row)? == entry => summary.replayed += 1,
            Some(row) => {
                active_model(&entry, row.version + 1, clock)
                    .update(&txn)
                    .await?;
                summary.updated += 1;
            }
            None => {
                active_model(&entry, 1, clock).insert(&txn).await?;
                summary.inserted += 1;
            }
        }
    }
    audit::record(
        &txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: "employee.load".to_owned(),
            target_type: "staff_directory".to_owned(),
            target_id: "directory".to_owned(),
            before: String::new(),
            after: format!(
                "inserted={} updated={} rejected={}",
                summary.inserted, summary.updated, summary.rejected
            ),
            reason: "bulk load".to_owned(),
            request_id: request_id.to_owned(),
        },
        clock.now(),
    )
    .await?;
    let response = v1::LoadEmployeesResponse {
        summary: Some(summary),
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

/// `GetEmployee`.
pub async fn get(
    db: &DatabaseConnection,
    request: v1::GetEmployeeRequest,
) -> Result<v1::GetEmployeeResponse> {
    if request.employee_id.is_empty() || request.employee_id.len() > 64 {
        return Err(RegistryError::invalid(
            "employee_id",
            "must be 1 to 64 characters",
        ));
    }
    let row = employee::Entity::find_by_id(request.employee_id.clone())
        .one(db)
        .await?
        .ok_or_else(|| RegistryError::NotFound {
            kind: "employee",
            id: request.employee_id.clone(),
        })?;
    Ok(v1::GetEmployeeResponse {
        employee: Some(Entry::from_row(&row)?.to_proto(row.version)),
    })
}

/// Roles that may list the directory of any subtree.
const DIRECTORY_WIDE_ROLES: [Role; 4] = [
    Role::Admin,
    Role::Auditor,
    Role::PerformanceOffice,
    Role::Batch,
];

/// `ListEmployees`.
pub async fn list(
    db: &DatabaseConnection,
    clock: &Clock,
    caller: &Caller,
    request: v1::ListEmployeesRequest,
) -> Result<v1::ListEmployeesResponse> {
    let mut v = Violations::new();
    let root = if request.branch_id.is_empty() {
        caller.branch.clone()
    } else {
        branch_code("branch_id", &request.branch_id, &mut v)
    };
    let line = match request.line {
        0 => None,
        raw => convert::line_from_proto(raw).or_else(|| {
            v.add("line", "must be a known business line");
            None
        }),
    };
    let role = match request.role {
        0 => None,
        raw => convert::role_from_proto(raw).or_else(|| {
            v.add("role", "must be a known role");
            None
        }),
    };
    let active_on = optional_date("active_on", request.active_on.as_ref(), &mut v);
    if request.name_prefix.chars().count() > 100 {
        v.add("name_prefix", "must be at most 100 characters");
    }
    let filters = format!(
        "{root:?}|{line:?}|{role:?}|{active_on:?}|{}",
        request.name_prefix
    );
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    let Some(root) = root else {
        v.add("branch_id", "is required for a caller without a branch");
        return Err(RegistryError::Invalid(v));
    };
    if !v.is_empty() {
        return Err(RegistryError::Invalid(v));
    }
    let tree = tree_as_of(db, clock.today())
        .await?
        .ok_or_else(|| RegistryError::NotFound {
            kind: "branch",
            id: root.to_string(),
        })?;
    if !tree.contains(&root) {
        return Err(RegistryError::NotFound {
            kind: "branch",
            id: root.to_string(),
        });
    }
    let wide = DIRECTORY_WIDE_ROLES.iter().any(|r| caller.has_role(*r));
    let visible = caller
        .branch
        .as_ref()
        .is_some_and(|own| tree.is_in_subtree(&root, own));
    if !wide && !visible {
        // Outside the caller's subtree: answer as if it did not exist.
        return Err(RegistryError::NotFound {
            kind: "branch",
            id: root.to_string(),
        });
    }
    let subtree: Vec<String> = tree
        .subtree(&root)
        .map_err(|e| RegistryError::Internal(e.to_string()))?
        .into_iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    let mut query = employee::Entity::find().filter(employee::Column::BranchId.is_in(subtree));
    if let Some(l) = line {
        query = query.filter(employee::Column::Lines.contains(format!(",{},", l.as_str())));
    }
    if let Some(r) = role {
        query = query.filter(employee::Column::Roles.contains(format!(",{},", r.as_str())));
    }
    if let Some(d) = active_on {
        query = query.filter(employee::Column::ActiveFrom.lte(d)).filter(
            Condition::any()
                .add(employee::Column::ActiveTo.is_null())
                .add(employee::Column::ActiveTo.gt(d)),
        );
    }
    if !request.name_prefix.is_empty() {
        query = query.filter(employee::Column::Name.starts_with(request.name_prefix.clone()));
    }
    if let Some(after) = &page.after {
        query = query.filter(employee::Column::EmployeeId.gt(after.clone()));
    }
    let mut rows = query
        .order_by_asc(employee::Column::EmployeeId)
        .limit(page.fetch_limit())
        .all(db)
        .await?;
    let next_page_token = page.finish(&mut rows, |r| r.employee_id.clone());
    let employees = rows
        .iter()
        .map(|r| Entry::from_row(r).map(|e| e.to_proto(r.version)))
        .collect::<Result<Vec<_>>>()?;
    Ok(v1::ListEmployeesResponse {
        employees,
        next_page_token,
    })
}

/// `UpdateEmployee`.
pub async fn update(
    db: &DatabaseConnection,
    clock: &Clock,
    caller: &Caller,
    request_id: &str,
    request: v1::UpdateEmployeeRequest,
) -> Result<v1::UpdateEmployeeResponse> {
    require_role(caller, &[Role::Admin], "UpdateEmployee")?;
    let wire = request
        .employee
        .ok_or_else(|| RegistryError::invalid("employee", "is required"))?;
    let paths: Vec<String> = request.update_mask.map(|m| m.paths).unwrap_or_default();
    let mut v = Violations::new();
    const UPDATABLE: [&str; 6] = [
        "branch_id",
        "name",
        "lines",
        "roles",
        "active_from",
        "active_to",
    ];
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
    if wire.employee_id.is_empty() {
        v.add("employee.employee_id", "is required");
    }
    if !v.is_empty() {
        return Err(RegistryError::Invalid(v));
    }
    let txn = db.begin().await?;
    let row = employee::Entity::find_by_id(wire.employee_id.clone())
        .one(&txn)
        .await?
        .ok_or_else(|| RegistryError::NotFound {
            kind: "employee",
            id: wire.employee_id.clone(),
        })?;
    if row.version != request.expected_version {
        return Err(RegistryError::StaleVersion {
            kind: "employee",
            id: row.employee_id.clone(),
            expected: request.expected_version,
            actual: row.version,
        });
    }
    let before = Entry::from_row(&row)?;
    let mut merged = before.to_proto(row.version);
    for p in &paths {
        match p.as_str() {
            "branch_id" => merged.branch_id = wire.branch_id.clone(),
            "name" => merged.name = wire.name.clone(),
            "lines" => merged.lines = wire.lines.clone(),
            "roles" => merged.roles = wire.roles.clone(),
            "active_from" => merged.active_from = wire.active_from,
            "active_to" => merged.active_to = wire.active_to,
            _ => {}
        }
    }
    let mut v = Violations::new();
    let after = validate("employee", &merged, clock.today(), &mut v);
    if let Some(a) = &after
        && branch::Entity::find_by_id(a.branch_id.clone())
            .one(&txn)
            .await?
            .is_none()
    {
        v.add(
            "employee.branch_id",
            format!("unknown branch {}", a.branch_id),
        );
    }
    let (Some(after), true) = (after, v.is_empty()) else {
        return Err(RegistryError::Invalid(v));
    };
    let version = row.version + 1;
    active_model(&after, version, clock).update(&txn).await?;
    audit::record(
        &txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: "employee.update".to_owned(),
            target_type: "employee".to_owned(),
            target_id: after.employee_id.clone(),
            before: format!("{before:?}"),
            after: format!("{after:?}"),
            reason: format!("fields: {}", paths.join(",")),
            request_id: request_id.to_owned(),
        },
        clock.now(),
    )
    .await?;
    txn.commit().await?;
    Ok(v1::UpdateEmployeeResponse {
        employee: Some(after.to_proto(version)),
    })
}
