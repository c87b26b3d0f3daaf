//! Marketing teams (营销团队): standing teams of a branch, cross-line teams formed for a customer
//! or a project, and the joint customer service group (联合客户服务小组) of a group customer that
//! spans regions. This module owns the `team` and `team_member` tables (entities [`team`] and
//! [`team_member`], schema [`TeamsMigration`]) and the six team RPCs: create, get, list, update,
//! add a member, remove a member. A team belongs to a branch; its lead and members come from the
//! staff directory and must be active, from any branch (a joint group spans regions), and the lead
//! is always a member. Membership is effective-dated: a member row carries `joined_on` and
//! `left_on`, a removal sets `left_on` and keeps the row, so a team answers with its members
//! current and past. Changes need the role admin, branch head or team lead and the team's branch
//! in the caller's subtree; reads outside the subtree answer `NOT_FOUND` except for the admin,
//! auditor and performance office. Every change bumps the team's version (a guarded update, so a
//! concurrent change answers `ABORTED`) and writes an audit entry and a `team` outbox event in the
//! same transaction.

use std::collections::{BTreeSet, HashMap};

use bankmkt_domain::branch_tree::BranchTree;
use bankmkt_domain::ids::{CustomerId, TeamId};
use bankmkt_domain::org::{BranchCode, BusinessLine, Role};
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::clock::Clock;
use bankmkt_platform::outbox::{self, Envelope};
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

pub use schema::TeamsMigration;

/// `team`: one row per team, the latest state.
pub mod team {
    use sea_orm::entity::prelude::*;

    /// One team.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "team")]
    pub struct Model {
        /// Team id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub team_id: String,
        /// Display name.
        pub name: String,
        /// Kind code (`standing`, `customer`, `project`, `joint_service_group`).
        pub kind: String,
        /// The owning branch.
        pub branch_id: String,
        /// The lead's employee id.
        pub lead_employee_id: String,
        /// The customer served, for customer and joint service group teams.
        pub customer_id: Option<String>,
        /// First day of the team.
        pub start_date: Date,
        /// First day the team no longer exists; `None` while active.
        pub end_date: Option<Date>,
        /// Optimistic-concurrency version.
        pub version: i64,
        /// Creation time.
        pub create_time: DateTimeUtc,
        /// Last change.
        pub update_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `team_member`: effective-dated memberships; a removal sets `left_on` and keeps the row.
pub mod team_member {
    use sea_orm::entity::prelude::*;

    /// One membership of one employee in one team, in force on `[joined_on, left_on)`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "team_member")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The team.
        pub team_id: String,
        /// The member's employee id.
        pub employee_id: String,
        /// The member's business line code within the team.
        pub line: String,
        /// Free-text role in the team.
        pub title: String,
        /// First day as a member.
        pub joined_on: Date,
        /// First day no longer a member; `None` while a member.
        pub left_on: Option<Date>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The schema of the team tables.
mod schema {
    use sea_orm_migration::prelude::*;

    // Variant names are the column names, so some repeat the table's name.
    #[allow(clippy::enum_variant_names)]
    #[derive(DeriveIden)]
    enum Team {
        Table,
        TeamId,
        Name,
        Kind,
        BranchId,
        LeadEmployeeId,
        CustomerId,
        StartDate,
        EndDate,
        Version,
        CreateTime,
        UpdateTime,
    }

    #[allow(clippy::enum_variant_names)]
    #[derive(DeriveIden)]
    enum TeamMember {
        Table,
        Id,
        TeamId,
        EmployeeId,
        Line,
        Title,
        JoinedOn,
        LeftOn,
    }

    /// Creates `team` and `team_member` with their indexes.
    #[derive(Debug, Clone, Copy)]
    pub struct TeamsMigration;

    impl MigrationName for TeamsMigration {
        fn name(&self) -> &str {
            "m0102_registry_teams"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for TeamsMigration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(Team::Table)
                        .if_not_exists()
                        .col(
                            ColumnDef::new(Team::TeamId)
                                .string_len(36)
                                .not_null()
                                .primary_key(),
                        )
                        .col(ColumnDef::new(Team::Name).string_len(200).not_null())
                        .col(ColumnDef::new(Team::Kind).string_len(32).not_null())
                        .col(ColumnDef::new(Team::BranchId).string_len(32).not_null())
                        .col(
                            ColumnDef::new(Team::LeadEmployeeId)
                                .string_len(64)
                                .not_null(),
                        )
                        .col(ColumnDef::new(Team::CustomerId).string_len(36).null())
                        .col(ColumnDef::new(Team::StartDate).date().not_null())
                        .col(ColumnDef::new(Team::EndDate).date().null())
                        .col(ColumnDef::new(Team::Version).big_integer().not_null())
                        .col(
                            ColumnDef::new(Team::CreateTime)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(Team::UpdateTime)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("team_branch")
                        .table(Team::Table)
                        .col(Team::BranchId)
                        .col(Team::TeamId)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("team_customer")
                        .table(Team::Table)
                        .col(Team::CustomerId)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(TeamMember::Table)
                        .if_not_exists()
                        .col(
                            ColumnDef::new(TeamMember::Id)
                                .big_integer()
                                .not_null()
                                .auto_increment()
                                .primary_key(),
                        )
                        .col(ColumnDef::new(TeamMember::TeamId).string_len(36).not_null())
                        .col(
                            ColumnDef::new(TeamMember::EmployeeId)
                                .string_len(64)
                                .not_null(),
                        )
                        .col(ColumnDef::new(TeamMember::Line).string_len(32).not_null())
                        .col(ColumnDef::new(TeamMember::Title).string_len(100).not_null())
                        .col(ColumnDef::new(TeamMember::JoinedOn).date().not_null())
                        .col(ColumnDef::new(TeamMember::LeftOn).date().null())
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("team_member_team")
                        .table(TeamMember::Table)
                        .col(TeamMember::TeamId)
                        .col(TeamMember::EmployeeId)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("team_member_employee")
                        .table(TeamMember::Table)
                        .col(TeamMember::EmployeeId)
                        .col(TeamMember::LeftOn)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
            Ok(())
        }
    }
}

/// Roles that may create and change teams (within their subtree).
const WRITE_ROLES: [Role; 3] = [Role::Admin, Role::BranchHead, Role::TeamLead];
/// Roles that may read the teams of any subtree.
const READ_WIDE_ROLES: [Role; 3] = [Role::Admin, Role::Auditor, Role::PerformanceOffice];
/// Longest team name, in characters.
const MAX_NAME: usize = 200;
/// Longest member title, in characters.
const MAX_TITLE: usize = 100;

/// The stored code of a team kind; `None` for unspecified or unknown.
fn kind_code(raw: i32) -> Option<&'static str> {
    match v1::TeamKind::try_from(raw).ok()? {
        v1::TeamKind::Unspecified => None,
        v1::TeamKind::Standing => Some("standing"),
        v1::TeamKind::Customer => Some("customer"),
        v1::TeamKind::Project => Some("project"),
        v1::TeamKind::JointServiceGroup => Some("joint_service_group"),
    }
}

/// The wire kind of a stored code.
fn kind_to_proto(code: &str) -> Result<v1::TeamKind> {
    match code {
        "standing" => Ok(v1::TeamKind::Standing),
        "customer" => Ok(v1::TeamKind::Customer),
        "project" => Ok(v1::TeamKind::Project),
        "joint_service_group" => Ok(v1::TeamKind::JointServiceGroup),
        other => Err(RegistryError::Internal(format!(
            "stored team kind {other:?} is not a kind"
        ))),
    }
}

/// Whether a team of this kind serves one customer.
fn serves_a_customer(kind: &str) -> bool {
    matches!(kind, "customer" | "joint_service_group")
}

/// A team id from the wire, in its canonical form.
fn team_id(field: &str, raw: &str, v: &mut Violations) -> Option<String> {
    if raw.is_empty() {
        v.add(field, "is required");
        return None;
    }
    v.check(field, TeamId::parse(raw)).map(|id| id.to_string())
}

/// An employee id from the wire (same shape as the staff directory's).
fn employee_id(field: &str, raw: &str, v: &mut Violations) -> Option<String> {
    if raw.is_empty() || raw.len() > 64 || !raw.chars().all(|c| c.is_ascii_graphic()) {
        v.add(field, "must be 1 to 64 printable ASCII characters");
        return None;
    }
    Some(raw.to_owned())
}

/// A team name from the wire, trimmed.
fn team_name(field: &str, raw: &str, v: &mut Violations) -> Option<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        v.add(field, format!("must be 1 to {MAX_NAME} characters"));
        return None;
    }
    Some(name.to_owned())
}

/// A member's line and title from the wire.
fn line_and_title(
    prefix: &str,
    member: &v1::TeamMember,
    v: &mut Violations,
) -> Option<(BusinessLine, String)> {
    let line = convert::line_from_proto(member.line);
    if line.is_none() {
        v.add(format!("{prefix}.line"), "must be a known business line");
    }
    let title = member.title.trim();
    if title.chars().count() > MAX_TITLE {
        v.add(
            format!("{prefix}.title"),
            format!("must be at most {MAX_TITLE} characters"),
        );
        return None;
    }
    line.map(|l| (l, title.to_owned()))
}

/// Whether a directory entry is active on `date`.
fn active_on(row: &employee::Model, date: NaiveDate) -> bool {
    row.active_from <= date && row.active_to.is_none_or(|to| to > date)
}

/// Checks that `id` is in the staff directory and active on `date`, recording a violation
/// against `field` otherwise.
fn check_active(
    field: &str,
    id: &str,
    date: NaiveDate,
    directory: &HashMap<String, employee::Model>,
    v: &mut Violations,
) {
    match directory.get(id) {
        None => v.add(field, format!("{id} is not in the staff directory")),
        Some(row) if !active_on(row, date) => v.add(
            field,
            format!("{id} is not active in the staff directory on {date}"),
        ),
        Some(_) => {}
    }
}

/// The directory entries of `ids`, by id.
async fn directory<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, employee::Model>> {
    let ids: BTreeSet<String> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(employee::Entity::find()
        .filter(employee::Column::EmployeeId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.employee_id.clone(), e))
        .collect())
}

/// Whether `branch_id` lies in the subtree of the caller's own branch.
fn in_caller_subtree(tree: Option<&BranchTree>, caller: &Caller, branch_id: &str) -> bool {
    let (Some(tree), Some(own)) = (tree, caller.branch.as_ref()) else {
        return false;
    };
    BranchCode::parse(branch_id).is_ok_and(|b| tree.is_in_subtree(&b, own))
}

/// Whether the caller may see a team of `branch_id`.
fn may_read(tree: Option<&BranchTree>, caller: &Caller, branch_id: &str) -> bool {
    READ_WIDE_ROLES.iter().any(|r| caller.has_role(*r))
        || in_caller_subtree(tree, caller, branch_id)
}

/// The members of each of `team_ids`, oldest membership first.
async fn members_of<C: ConnectionTrait>(
    db: &C,
    team_ids: Vec<String>,
) -> Result<HashMap<String, Vec<team_member::Model>>> {
    let mut by_team: HashMap<String, Vec<team_member::Model>> = HashMap::new();
    if team_ids.is_empty() {
        return Ok(by_team);
    }
    let rows = team_member::Entity::find()
        .filter(team_member::Column::TeamId.is_in(team_ids))
        .order_by_asc(team_member::Column::JoinedOn)
        .order_by_asc(team_member::Column::Id)
        .all(db)
        .await?;
    for row in rows {
        by_team.entry(row.team_id.clone()).or_default().push(row);
    }
    Ok(by_team)
}

/// The wire form of a membership.
fn member_to_proto(row: &team_member::Model) -> Result<v1::TeamMember> {
    let line: BusinessLine = row
        .line
        .parse()
        .map_err(|e| RegistryError::Internal(format!("stored team member line: {e}")))?;
    Ok(v1::TeamMember {
        employee_id: row.employee_id.clone(),
        line: convert::line_to_proto(line) as i32,
        title: row.title.clone(),
        joined_on: Some(convert::date_to_proto(row.joined_on)),
        left_on: row.left_on.map(convert::date_to_proto),
    })
}

/// The wire form of a team with its members, current and past.
fn team_to_proto(row: &team::Model, members: &[team_member::Model]) -> Result<v1::Team> {
    Ok(v1::Team {
        team_id: row.team_id.clone(),
        name: row.name.clone(),
        kind: kind_to_proto(&row.kind)? as i32,
        branch_id: row.branch_id.clone(),
        lead_employee_id: row.lead_employee_id.clone(),
        customer_id: row.customer_id.clone().unwrap_or_default(),
        members: members
            .iter()
            .map(member_to_proto)
            .collect::<Result<Vec<_>>>()?,
        start_date: Some(convert::date_to_proto(row.start_date)),
        end_date: row.end_date.map(convert::date_to_proto),
        version: row.version,
    })
}

/// A one-line summary of a team for the audit log.
fn summary(team: &team::Model, members: &[team_member::Model]) -> String {
    let memberships: Vec<String> = members
        .iter()
        .map(|m| match m.left_on {
            Some(left) => format!("{}[{}..{left})", m.employee_id, m.joined_on),
            None => format!("{}[{}..)", m.employee_id, m.joined_on),
        })
        .collect();
    format!(
        "version={} name={:?} lead={} end_date={:?} members={}",
        team.version,
        team.name,
        team.lead_employee_id,
        team.end_date,
        memberships.join(",")
    )
}

/// What one change of a team records in its audit entry and outbox event.
struct Change<'a> {
    action: &'static str,
    event_type: &'static str,
    before: String,
    reason: String,
    caller: &'a Caller,
    request_id: &'a str,
}

/// Writes the audit entry and the `team` outbox event of a change, on the change's transaction,
/// and returns the team's wire form after the change.
async fn record<C: ConnectionTrait>(
    txn: &C,
    clock: &Clock,
    change: Change<'_>,
    team: &team::Model,
    members: &[team_member::Model],
) -> Result<v1::Team> {
    let now = clock.now();
    let wire = team_to_proto(team, members)?;
    audit::record(
        txn,
        AuditEntry {
            actor: change.caller.subject.clone(),
            via_service: change.caller.via_service.clone(),
            action: change.action.to_owned(),
            target_type: "team".to_owned(),
            target_id: team.team_id.clone(),
            before: change.before,
            after: summary(team, members),
            reason: change.reason,
            request_id: change.request_id.to_owned(),
        },
        now,
    )
    .await?;
    outbox::append(
        txn,
        Envelope {
            aggregate_type: "team".to_owned(),
            aggregate_id: team.team_id.clone(),
            aggregate_version: team.version,
            event_type: change.event_type.to_owned(),
            occurred_at: now,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    Ok(wire)
}

/// Loads a team for a change: `NOT_FOUND` when missing or invisible to the caller,
/// `PERMISSION_DENIED` when visible but outside the caller's subtree, `ABORTED` when the caller
/// read another version.
async fn team_for_change<C: ConnectionTrait>(
    txn: &C,
    clock: &Clock,
    caller: &Caller,
    team_id: &str,
    expected_version: i64,
) -> Result<(team::Model, Vec<team_member::Model>)> {
    let not_found = || RegistryError::NotFound {
        kind: "team",
        id: team_id.to_owned(),
    };
    let row = team::Entity::find_by_id(team_id)
        .one(txn)
        .await?
        .ok_or_else(not_found)?;
    let tree = tree_as_of(txn, clock.today()).await?;
    if !may_read(tree.as_ref(), caller, &row.branch_id) {
        return Err(not_found());
    }
    if !in_caller_subtree(tree.as_ref(), caller, &row.branch_id) {
        return Err(RegistryError::PermissionDenied(format!(
            "team {team_id} belongs to branch {}, outside your subtree",
            row.branch_id
        )));
    }
    if row.version != expected_version {
        return Err(RegistryError::StaleVersion {
            kind: "team",
            id: team_id.to_owned(),
            expected: expected_version,
            actual: row.version,
        });
    }
    let members = members_of(txn, vec![row.team_id.clone()])
        .await?
        .remove(&row.team_id)
        .unwrap_or_default();
    Ok((row, members))
}

/// Writes `next` over the team stored at `from_version`; a concurrent change answers `ABORTED`.
async fn save<C: ConnectionTrait>(txn: &C, next: &team::Model, from_version: i64) -> Result<()> {
    let result = team::Entity::update_many()
        .col_expr(team::Column::Name, Expr::value(next.name.clone()))
        .col_expr(
            team::Column::LeadEmployeeId,
            Expr::value(next.lead_employee_id.clone()),
        )
        .col_expr(team::Column::EndDate, Expr::value(next.end_date))
        .col_expr(team::Column::Version, Expr::value(next.version))
        .col_expr(team::Column::UpdateTime, Expr::value(next.update_time))
        .filter(team::Column::TeamId.eq(next.team_id.as_str()))
        .filter(team::Column::Version.eq(from_version))
        .exec(txn)
        .await?;
    if result.rows_affected == 1 {
        return Ok(());
    }
    let actual = team::Entity::find_by_id(next.team_id.as_str())
        .one(txn)
        .await?
        .map(|t| t.version)
        .unwrap_or(from_version);
    Err(RegistryError::StaleVersion {
        kind: "team",
        id: next.team_id.clone(),
        expected: from_version,
        actual,
    })
}

/// `CreateTeam`.
pub async fn create(
    db: &DatabaseConnection,
    clock: &Clock,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateTeamRequest,
) -> Result<v1::CreateTeamResponse> {
    require_role(caller, &WRITE_ROLES, "CreateTeam")?;
    let wire = request
        .team
        .ok_or_else(|| RegistryError::invalid("team", "is required"))?;
    let today = clock.today();
    let mut v = Violations::new();
    let name = team_name("team.name", &wire.name, &mut v);
    let kind = kind_code(wire.kind);
    if kind.is_none() {
        v.add("team.kind", "must be a known team kind");
    }
    let branch = branch_code("team.branch_id", &wire.branch_id, &mut v);
    let lead = employee_id("team.lead_employee_id", &wire.lead_employee_id, &mut v);
    let customer = match kind {
        Some(k) if serves_a_customer(k) => {
            if wire.customer_id.is_empty() {
                v.add(
                    "team.customer_id",
                    "is required for customer and joint service group teams",
                );
                None
            } else {
                v.check("team.customer_id", CustomerId::parse(&wire.customer_id))
                    .map(|c| c.to_string())
            }
        }
        Some(_) if !wire.customer_id.is_empty() => {
            v.add(
                "team.customer_id",
                "only customer and joint service group teams serve a customer",
            );
            None
        }
        _ => None,
    };
    let start = optional_date("team.start_date", wire.start_date.as_ref(), &mut v).unwrap_or(today);
    let end = optional_date("team.end_date", wire.end_date.as_ref(), &mut v);
    if end.is_some_and(|e| e <= start) {
        v.add("team.end_date", "must be after start_date");
    }
    if wire.members.is_empty() {
        v.add("team.members", "at least one member, the lead, is required");
    }
    let mut members: Vec<(String, BusinessLine, String, NaiveDate)> = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, m) in wire.members.iter().enumerate() {
        let prefix = format!("team.members[{i}]");
        let id = employee_id(&format!("{prefix}.employee_id"), &m.employee_id, &mut v);
        if let Some(id) = &id
            && !seen.insert(id.clone())
        {
            v.add(
                format!("{prefix}.employee_id"),
                format!("{id} appears twice in this team"),
            );
        }
        let line_title = line_and_title(&prefix, m, &mut v);
        let joined = optional_date(&format!("{prefix}.joined_on"), m.joined_on.as_ref(), &mut v)
            .unwrap_or(start);
        if joined < start {
            v.add(
                format!("{prefix}.joined_on"),
                "must not be before the team's start_date",
            );
        } else if end.is_some_and(|e| joined >= e) {
            v.add(
                format!("{prefix}.joined_on"),
                "must be before the team's end_date",
            );
        }
        if m.left_on.is_some() {
            v.add(
                format!("{prefix}.left_on"),
                "must be unset; members leave through RemoveTeamMember",
            );
        }
        if let (Some(id), Some((line, title))) = (id, line_title) {
            members.push((id, line, title, joined));
        }
    }
    if let Some(lead) = &lead
        && !wire.members.iter().any(|m| m.employee_id == *lead)
    {
        v.add("team.lead_employee_id", "must be one of team.members");
    }
    let (Some(name), Some(kind), Some(branch), Some(lead), true) =
        (name, kind, branch, lead, v.is_empty())
    else {
        return Err(RegistryError::Invalid(v));
    };

    let txn = db.begin().await?;
    let tree = tree_as_of(&txn, today).await?;
    let branch_row = branch::Entity::find_by_id(branch.as_str())
        .one(&txn)
        .await?;
    if !tree.as_ref().is_some_and(|t| t.contains(&branch)) {
        v.add("team.branch_id", format!("unknown branch {branch}"));
    } else if branch_row
        .as_ref()
        .and_then(|b| b.closed_on)
        .is_some_and(|c| c <= today)
    {
        v.add("team.branch_id", format!("branch {branch} is closed"));
    }
    let staff = directory(&txn, members.iter().map(|m| m.0.clone())).await?;
    for (i, (id, _, _, joined)) in members.iter().enumerate() {
        let field = format!("team.members[{i}].employee_id");
        check_active(&field, id, (*joined).max(today), &staff, &mut v);
        if *id == lead {
            check_active(
                "team.lead_employee_id",
                id,
                (*joined).max(today),
                &staff,
                &mut v,
            );
        }
    }
    if !v.is_empty() {
        return Err(RegistryError::Invalid(v));
    }
    if !in_caller_subtree(tree.as_ref(), caller, branch.as_str()) {
        return Err(RegistryError::PermissionDenied(format!(
            "branch {branch} is outside your subtree"
        )));
    }

    let now = clock.now();
    let row = team::Model {
        team_id: TeamId::new().to_string(),
        name,
        kind: kind.to_owned(),
        branch_id: branch.as_str().to_owned(),
        lead_employee_id: lead,
        customer_id: customer,
        start_date: start,
        end_date: end,
        version: 1,
        create_time: now,
        update_time: now,
    };
    team::ActiveModel {
        team_id: Set(row.team_id.clone()),
        name: Set(row.name.clone()),
        kind: Set(row.kind.clone()),
        branch_id: Set(row.branch_id.clone()),
        lead_employee_id: Set(row.lead_employee_id.clone()),
        customer_id: Set(row.customer_id.clone()),
        start_date: Set(row.start_date),
        end_date: Set(row.end_date),
        version: Set(row.version),
        create_time: Set(row.create_time),
        update_time: Set(row.update_time),
    }
    .insert(&txn)
    .await?;
    team_member::Entity::insert_many(members.iter().map(|(id, line, title, joined)| {
        team_member::ActiveModel {
            team_id: Set(row.team_id.clone()),
            employee_id: Set(id.clone()),
            line: Set(line.as_str().to_owned()),
            title: Set(title.clone()),
            joined_on: Set(*joined),
            left_on: Set(None),
            ..Default::default()
        }
    }))
    .exec(&txn)
    .await?;
    let stored = members_of(&txn, vec![row.team_id.clone()])
        .await?
        .remove(&row.team_id)
        .unwrap_or_default();
    let team = record(
        &txn,
        clock,
        Change {
            action: "team.create",
            event_type: "team.created",
            before: String::new(),
            reason: format!("created a {kind} team"),
            caller,
            request_id,
        },
        &row,
        &stored,
    )
    .await?;
    txn.commit().await?;
    Ok(v1::CreateTeamResponse { team: Some(team) })
}

/// `GetTeam`.
pub async fn get(
    db: &DatabaseConnection,
    clock: &Clock,
    caller: &Caller,
    request: v1::GetTeamRequest,
) -> Result<v1::GetTeamResponse> {
    let mut v = Violations::new();
    let Some(id) = team_id("team_id", &request.team_id, &mut v) else {
        return Err(RegistryError::Invalid(v));
    };
    let not_found = || RegistryError::NotFound {
        kind: "team",
        id: id.clone(),
    };
    let row = team::Entity::find_by_id(id.as_str())
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let tree = tree_as_of(db, clock.today()).await?;
    if !may_read(tree.as_ref(), caller, &row.branch_id) {
        // Outside the caller's subtree: answer as if it did not exist.
        return Err(not_found());
    }
    let members = members_of(db, vec![row.team_id.clone()])
        .await?
        .remove(&row.team_id)
        .unwrap_or_default();
    Ok(v1::GetTeamResponse {
        team: Some(team_to_proto(&row, &members)?),
    })
}

/// `ListTeams`.
pub async fn list(
    db: &DatabaseConnection,
    clock: &Clock,
    caller: &Caller,
    request: v1::ListTeamsRequest,
) -> Result<v1::ListTeamsResponse> {
    let mut v = Violations::new();
    let root = if request.branch_id.is_empty() {
        caller.branch.clone()
    } else {
        branch_code("branch_id", &request.branch_id, &mut v)
    };
    let kind = match request.kind {
        0 => None,
        raw => kind_code(raw).or_else(|| {
            v.add("kind", "must be a known team kind");
            None
        }),
    };
    let customer = if request.customer_id.is_empty() {
        None
    } else {
        v.check("customer_id", CustomerId::parse(&request.customer_id))
            .map(|c| c.to_string())
    };
    let member = if request.member_employee_id.is_empty() {
        None
    } else {
        employee_id("member_employee_id", &request.member_employee_id, &mut v)
    };
    let filters = format!(
        "{root:?}|{kind:?}|{customer:?}|{member:?}|{}",
        request.include_ended
    );
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    let Some(root) = root else {
        if request.branch_id.is_empty() {
            v.add("branch_id", "is required for a caller without a branch");
        }
        return Err(RegistryError::Invalid(v));
    };
    if !v.is_empty() {
        return Err(RegistryError::Invalid(v));
    }
    let today = clock.today();
    let not_found = || RegistryError::NotFound {
        kind: "branch",
        id: root.to_string(),
    };
    let tree = tree_as_of(db, today).await?.ok_or_else(not_found)?;
    if !tree.contains(&root) || !may_read(Some(&tree), caller, root.as_str()) {
        // Unknown, or outside the caller's subtree: answer as if it did not exist.
        return Err(not_found());
    }
    let subtree: Vec<String> = tree
        .subtree(&root)
        .map_err(|e| RegistryError::Internal(e.to_string()))?
        .into_iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    let mut query = team::Entity::find().filter(team::Column::BranchId.is_in(subtree));
    if let Some(k) = kind {
        query = query.filter(team::Column::Kind.eq(k));
    }
    if let Some(c) = &customer {
        query = query.filter(team::Column::CustomerId.eq(c.as_str()));
    }
    if let Some(m) = &member {
        let teams: Vec<String> = team_member::Entity::find()
            .filter(team_member::Column::EmployeeId.eq(m.as_str()))
            .filter(team_member::Column::JoinedOn.lte(today))
            .filter(
                Condition::any()
                    .add(team_member::Column::LeftOn.is_null())
                    .add(team_member::Column::LeftOn.gt(today)),
            )
            .all(db)
            .await?
            .into_iter()
            .map(|r| r.team_id)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        query = query.filter(team::Column::TeamId.is_in(teams));
    }
    if !request.include_ended {
        query = query.filter(
            Condition::any()
                .add(team::Column::EndDate.is_null())
                .add(team::Column::EndDate.gt(today)),
        );
    }
    if let Some(after) = &page.after {
        query = query.filter(team::Column::TeamId.gt(after.clone()));
    }
    let mut rows = query
        .order_by_asc(team::Column::TeamId)
        .limit(page.fetch_limit())
        .all(db)
        .await?;
    let next_page_token = page.finish(&mut rows, |r| r.team_id.clone());
    let mut members = members_of(db, rows.iter().map(|r| r.team_id.clone()).collect()).await?;
    let teams = rows
        .iter()
        .map(|r| team_to_proto(r, &members.remove(&r.team_id).unwrap_or_default()))
        .collect::<Result<Vec<_>>>()?;
    Ok(v1::ListTeamsResponse {
        teams,
        next_page_token,
    })
}

/// `UpdateTeam`: name, lead and end date; members change through their own RPCs.
pub async fn update(
    db: &DatabaseConnection,
    clock: &Clock,
    caller: &Caller,
    request_id: &str,
    request: v1::UpdateTeamRequest,
) -> Result<v1::UpdateTeamResponse> {
    require_role(caller, &WRITE_ROLES, "UpdateTeam")?;
    let wire = request
        .team
        .ok_or_else(|| RegistryError::invalid("team", "is required"))?;
    let paths: Vec<String> = request.update_mask.map(|m| m.paths).unwrap_or_default();
    const UPDATABLE: [&str; 3] = ["name", "lead_employee_id", "end_date"];
    let mut v = Violations::new();
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
    let id = team_id("team.team_id", &wire.team_id, &mut v);
    let masked = |f: &str| paths.iter().any(|p| p == f);
    let name = if masked("name") {
        team_name("team.name", &wire.name, &mut v)
    } else {
        None
    };
    let lead = if masked("lead_employee_id") {
        employee_id("team.lead_employee_id", &wire.lead_employee_id, &mut v)
    } else {
        None
    };
    let end = if masked("end_date") {
        optional_date("team.end_date", wire.end_date.as_ref(), &mut v)
    } else {
        None
    };
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(RegistryError::Invalid(v));
    };

    let txn = db.begin().await?;
    let today = clock.today();
    let (row, members) =
        team_for_change(&txn, clock, caller, &id, request.expected_version).await?;
    let mut next = row.clone();
    if let Some(name) = name {
        next.name = name;
    }
    if masked("end_date") {
        if end.is_some_and(|e| e <= row.start_date) {
            v.add(
                "team.end_date",
                format!("must be after the team's start_date {}", row.start_date),
            );
        }
        next.end_date = end;
    }
    if let Some(lead) = lead {
        if !members
            .iter()
            .any(|m| m.employee_id == lead && m.left_on.is_none())
        {
            v.add(
                "team.lead_employee_id",
                format!("{lead} is not a current member of the team"),
            );
        } else {
            let staff = directory(&txn, [lead.clone()]).await?;
            check_active("team.lead_employee_id", &lead, today, &staff, &mut v);
        }
        next.lead_employee_id = lead;
    }
    if !v.is_empty() {
        return Err(RegistryError::Invalid(v));
    }
    next.version = row.version + 1;
    next.update_time = clock.now();
    save(&txn, &next, row.version).await?;
    let team = record(
        &txn,
        clock,
        Change {
            action: "team.update",
            event_type: "team.updated",
            before: summary(&row, &members),
            reason: format!("fields: {}", paths.join(",")),
            caller,
            request_id,
        },
        &next,
        &members,
    )
    .await?;
    txn.commit().await?;
    Ok(v1::UpdateTeamResponse { team: Some(team) })
}

/// `AddTeamMember`.
pub async fn add_member(
    db: &DatabaseConnection,
    clock: &Clock,
    caller: &Caller,
    request_id: &str,
    request: v1::AddTeamMemberRequest,
) -> Result<v1::AddTeamMemberResponse> {
    require_role(caller, &WRITE_ROLES, "AddTeamMember")?;
    let mut v = Violations::new();
    let id = team_id("team_id", &request.team_id, &mut v);
    let Some(member) = request.member else {
        v.add("member", "is required");
        return Err(RegistryError::Invalid(v));
    };
    let employee = employee_id("member.employee_id", &member.employee_id, &mut v);
    let line_title = line_and_title("member", &member, &mut v);
    let joined = optional_date("member.joined_on", member.joined_on.as_ref(), &mut v);
    if member.left_on.is_some() {
        v.add(
            "member.left_on",
            "must be unset; members leave through RemoveTeamMember",
        );
    }
    let (Some(id), Some(employee), Some((line, title)), true) =
        (id, employee, line_title, v.is_empty())
    else {
        return Err(RegistryError::Invalid(v));
    };

    let txn = db.begin().await?;
    let today = clock.today();
    let (row, mut members) =
        team_for_change(&txn, clock, caller, &id, request.expected_version).await?;
    let joined = joined.unwrap_or(today);
    if joined < row.start_date {
        v.add(
            "member.joined_on",
            format!(
                "must not be before the team's start_date {}",
                row.start_date
            ),
        );
    } else if let Some(end) = row.end_date.filter(|e| joined >= *e) {
        v.add(
            "member.joined_on",
            format!("must be before the team's end_date {end}"),
        );
    }
    let staff = directory(&txn, [employee.clone()]).await?;
    check_active(
        "member.employee_id",
        &employee,
        joined.max(today),
        &staff,
        &mut v,
    );
    if !v.is_empty() {
        return Err(RegistryError::Invalid(v));
    }
    if members
        .iter()
        .any(|m| m.employee_id == employee && m.left_on.is_none_or(|left| left > joined))
    {
        return Err(RegistryError::AlreadyExists {
            reason: "TEAM_MEMBER_EXISTS",
            message: format!("{employee} is already a member of team {id}"),
            metadata: HashMap::from([
                ("team_id".to_owned(), id.clone()),
                ("employee_id".to_owned(), employee.clone()),
            ]),
        });
    }
    let before = summary(&row, &members);
    let inserted = team_member::ActiveModel {
        team_id: Set(row.team_id.clone()),
        employee_id: Set(employee.clone()),
        line: Set(line.as_str().to_owned()),
        title: Set(title),
        joined_on: Set(joined),
        left_on: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    members.push(inserted);
    members.sort_by_key(|m| (m.joined_on, m.id));
    let mut next = row.clone();
    next.version = row.version + 1;
    next.update_time = clock.now();
    save(&txn, &next, row.version).await?;
    let team = record(
        &txn,
        clock,
        Change {
            action: "team.member_add",
            event_type: "team.member_added",
            before,
            reason: format!("{employee} joins on {joined}"),
            caller,
            request_id,
        },
        &next,
        &members,
    )
    .await?;
    txn.commit().await?;
    Ok(v1::AddTeamMemberResponse { team: Some(team) })
}

/// `RemoveTeamMember`: sets the membership's `left_on` and keeps the row.
pub async fn remove_member(
    db: &DatabaseConnection,
    clock: &Clock,
    caller: &Caller,
    request_id: &str,
    request: v1::RemoveTeamMemberRequest,
) -> Result<v1::RemoveTeamMemberResponse> {
    require_role(caller, &WRITE_ROLES, "RemoveTeamMember")?;
    let mut v = Violations::new();
    let id = team_id("team_id", &request.team_id, &mut v);
    let employee = employee_id("employee_id", &request.employee_id, &mut v);
    let left = optional_date("left_on", request.left_on.as_ref(), &mut v);
    let (Some(id), Some(employee), true) = (id, employee, v.is_empty()) else {
        return Err(RegistryError::Invalid(v));
    };

    let txn = db.begin().await?;
    let (row, members) =
        team_for_change(&txn, clock, caller, &id, request.expected_version).await?;
    let left = left.unwrap_or_else(|| clock.today());
    if employee == row.lead_employee_id {
        return Err(RegistryError::invalid(
            "employee_id",
            format!("{employee} leads the team; make another member the lead first"),
        ));
    }
    let Some(current) = members
        .iter()
        .find(|m| m.employee_id == employee && m.left_on.is_none())
    else {
        return Err(RegistryError::NotFound {
            kind: "team member",
            id: format!("{employee} of team {id}"),
        });
    };
    if left < current.joined_on {
        return Err(RegistryError::invalid(
            "left_on",
            format!(
                "must not be before the member joined on {}",
                current.joined_on
            ),
        ));
    }
    let before = summary(&row, &members);
    let mut active: team_member::ActiveModel = current.clone().into();
    active.left_on = Set(Some(left));
    let updated = active.update(&txn).await?;
    let members: Vec<team_member::Model> = members
        .into_iter()
        .map(|m| {
            if m.id == updated.id {
                updated.clone()
            } else {
                m
            }
        })
        .collect();
    let mut next = row.clone();
    next.version = row.version + 1;
    next.update_time = clock.now();
    save(&txn, &next, row.version).await?;
    let team = record(
        &txn,
        clock,
        Change {
            action: "team.member_remove",
            event_type: "team.member_removed",
            before,
            reason: format!("{employee} leaves on {left}"),
            caller,
            request_id,
        },
        &next,
        &members,
    )
    .await?;
    txn.commit().await?;
    Ok(v1::RemoveTeamMemberResponse { team: Some(team) })
}
