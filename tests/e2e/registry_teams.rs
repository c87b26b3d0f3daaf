//! Marketing teams through gRPC, on the embedded default (SQLite, in-process cache) and on
//! Postgres with Redis: creating a team with its lead and members, reading and listing by subtree
//! with keyset pages, updates with optimistic concurrency, effective-dated membership (a removal
//! keeps the row with its `left_on`), bad input naming the field, and who may see and change a
//! team. Every change is checked to have written one audit entry and one `team` outbox event.

use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_platform::settings::ServiceKind;
use bankmkt_platform::{audit, outbox};
use bankmkt_proto::v1;
use bankmkt_proto::v1::customer_registry_client::CustomerRegistryClient;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// The group customer the joint service group serves.
const CUSTOMER: &str = "0190a6d2-7c4e-7b1a-9f3e-2d4c5b6a7e8f";

fn branch(id: &str, parent: &str, level: v1::BranchLevel, name: &str) -> v1::Branch {
    v1::Branch {
        branch_id: id.to_owned(),
        parent_id: parent.to_owned(),
        level: level as i32,
        name: name.to_owned(),
        ..Default::default()
    }
}

/// HQ ─┬─ BJ ── BJ01 ── BJ0101
///     └─ SH ─┬─ SH01
///            └─ SH02
fn tree() -> Vec<v1::Branch> {
    use v1::BranchLevel::*;
    vec![
        branch("BJ0101", "BJ01", SubBranch, "Chaoyang sub-branch"),
        branch("HQ", "", HeadOffice, "Head office"),
        branch("BJ", "HQ", Tier1Branch, "Beijing branch"),
        branch("BJ01", "BJ", Tier2Branch, "Beijing Chaoyang"),
        branch("SH", "HQ", Tier1Branch, "Shanghai branch"),
        branch("SH01", "SH", Tier2Branch, "Shanghai Pudong"),
        branch("SH02", "SH", Tier2Branch, "Shanghai Xuhui"),
    ]
}

fn date(year: i32, month: i32, day: i32) -> v1::Date {
    v1::Date { year, month, day }
}

fn employee(id: &str, branch: &str, line: v1::BusinessLine, role: v1::Role) -> v1::Employee {
    v1::Employee {
        employee_id: id.into(),
        name: format!("Employee {id}"),
        branch_id: branch.into(),
        lines: vec![line as i32],
        roles: vec![role as i32],
        ..Default::default()
    }
}

/// The staff: a team lead, a customer manager and a product manager in Beijing, a customer
/// manager in Shanghai, and one who left in 2021.
fn staff() -> Vec<v1::Employee> {
    use v1::BusinessLine::*;
    use v1::Role::*;
    vec![
        employee("lead1", "BJ01", Corporate, TeamLead),
        employee("cm1", "BJ01", Corporate, CustomerManager),
        employee("pm1", "BJ0101", TradeFinance, ProductManager),
        employee("sh1", "SH01", Corporate, CustomerManager),
        v1::Employee {
            active_from: Some(date(2020, 1, 1)),
            active_to: Some(date(2021, 1, 1)),
            ..employee("gone", "BJ01", Corporate, CustomerManager)
        },
    ]
}

fn member(id: &str, line: v1::BusinessLine, title: &str) -> v1::TeamMember {
    v1::TeamMember {
        employee_id: id.into(),
        line: line as i32,
        title: title.into(),
        ..Default::default()
    }
}

/// A joint customer service group of BJ01 led by lead1, with a Shanghai member.
fn joint_group() -> v1::Team {
    use v1::BusinessLine::*;
    v1::Team {
        name: "Group customer joint service".into(),
        kind: v1::TeamKind::JointServiceGroup as i32,
        branch_id: "BJ01".into(),
        lead_employee_id: "lead1".into(),
        customer_id: CUSTOMER.into(),
        members: vec![
            member("lead1", Corporate, "team lead"),
            member("cm1", Corporate, "relationship manager"),
            member("pm1", TradeFinance, "product specialist"),
            member("sh1", Corporate, "Shanghai coverage"),
        ],
        start_date: Some(date(2025, 1, 1)),
        ..Default::default()
    }
}

/// A standing team of `branch` whose only member is its lead.
fn standing(branch: &str, lead: &str) -> v1::Team {
    v1::Team {
        name: format!("Standing team of {branch}"),
        kind: v1::TeamKind::Standing as i32,
        branch_id: branch.into(),
        lead_employee_id: lead.into(),
        members: vec![member(lead, v1::BusinessLine::Corporate, "lead")],
        start_date: Some(date(2025, 1, 1)),
        ..Default::default()
    }
}

struct Org {
    suite: TestSuite,
    client: CustomerRegistryClient<Channel>,
    /// admin at HQ.
    admin: String,
    /// team_lead at BJ (lead1).
    bj_lead: String,
    /// branch_head at SH.
    sh_head: String,
}

async fn start(backend: Backend) -> Org {
    let suite = TestSuite::start_on(backend, |_| {}).await;
    let client = CustomerRegistryClient::new(suite.channel("customer-registry").await);
    let admin = suite.token("admin1", "HQ", &["admin"]);
    let bj_lead = suite.token("lead1", "BJ", &["team_lead"]);
    let sh_head = suite.token("shhead", "SH", &["branch_head"]);
    let mut org = Org {
        suite,
        client,
        admin,
        bj_lead,
        sh_head,
    };
    org.client
        .load_branches(TestSuite::authed(
            v1::LoadBranchesRequest {
                idempotency_key: "tree-1".into(),
                branches: tree(),
                effective_date: None,
            },
            &org.admin,
        ))
        .await
        .expect("load tree");
    let loaded = org
        .client
        .load_employees(TestSuite::authed(
            v1::LoadEmployeesRequest {
                idempotency_key: "staff-1".into(),
                employees: staff(),
            },
            &org.admin,
        ))
        .await
        .expect("load staff")
        .into_inner()
        .summary
        .expect("summary");
    assert_eq!(loaded.inserted, 5, "{loaded:?}");
    org
}

impl Org {
    async fn create(&mut self, token: &str, team: v1::Team) -> Result<v1::Team, Status> {
        let request = v1::CreateTeamRequest { team: Some(team) };
        self.client
            .create_team(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner().team.expect("team"))
    }

    async fn get(&mut self, token: &str, team_id: &str) -> Result<v1::Team, Status> {
        let request = v1::GetTeamRequest {
            team_id: team_id.into(),
        };
        self.client
            .get_team(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner().team.expect("team"))
    }

    async fn list(
        &mut self,
        token: &str,
        request: v1::ListTeamsRequest,
    ) -> Result<v1::ListTeamsResponse, Status> {
        self.client
            .list_teams(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner())
    }

    async fn list_ids(&mut self, token: &str, request: v1::ListTeamsRequest) -> Vec<String> {
        self.list(token, request)
            .await
            .expect("list")
            .teams
            .into_iter()
            .map(|t| t.team_id)
            .collect()
    }

    async fn update(
        &mut self,
        token: &str,
        team: v1::Team,
        paths: &[&str],
        expected_version: i64,
    ) -> Result<v1::Team, Status> {
        let request = v1::UpdateTeamRequest {
            team: Some(team),
            update_mask: Some(prost_types::FieldMask {
                paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            }),
            expected_version,
        };
        self.client
            .update_team(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner().team.expect("team"))
    }

    async fn add(
        &mut self,
        token: &str,
        team_id: &str,
        member: Option<v1::TeamMember>,
        expected_version: i64,
    ) -> Result<v1::Team, Status> {
        let request = v1::AddTeamMemberRequest {
            team_id: team_id.into(),
            member,
            expected_version,
        };
        self.client
            .add_team_member(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner().team.expect("team"))
    }

    async fn remove(
        &mut self,
        token: &str,
        team_id: &str,
        employee_id: &str,
        left_on: Option<v1::Date>,
        expected_version: i64,
    ) -> Result<v1::Team, Status> {
        let request = v1::RemoveTeamMemberRequest {
            team_id: team_id.into(),
            employee_id: employee_id.into(),
            left_on,
            expected_version,
        };
        self.client
            .remove_team_member(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner().team.expect("team"))
    }

    /// The `team` outbox events and the audit entries about teams, read from the registry's own
    /// database.
    async fn team_records(&self) -> (u64, u64) {
        let db = bankmkt_platform::db::connect(&self.suite.settings(), ServiceKind::Registry)
            .await
            .expect("connect");
        let events = outbox::entity::Entity::find()
            .filter(outbox::entity::Column::AggregateType.eq("team"))
            .count(&db)
            .await
            .expect("outbox");
        let entries = audit::entity::Entity::find()
            .filter(audit::entity::Column::TargetType.eq("team"))
            .count(&db)
            .await
            .expect("audit");
        (events, entries)
    }
}

fn fields(status: &Status) -> Vec<String> {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|f| f.field.clone()).collect())
        .unwrap_or_default()
}

/// Asserts `INVALID_ARGUMENT` naming `field`.
fn assert_names(result: Result<v1::Team, Status>, field: &str, case: &str) {
    let err = result.expect_err(case);
    assert_eq!(err.code(), Code::InvalidArgument, "{case}: {err:?}");
    assert!(
        fields(&err).iter().any(|f| f == field),
        "{case}: expected {field} in {:?}",
        fields(&err)
    );
}

fn member_ids(team: &v1::Team) -> Vec<(&str, Option<v1::Date>)> {
    team.members
        .iter()
        .map(|m| (m.employee_id.as_str(), m.left_on))
        .collect()
}

async fn teams_are_created_read_and_listed_by_subtree(backend: Backend) {
    let mut org = start(backend).await;
    let bj_lead = org.bj_lead.clone();
    let sh_head = org.sh_head.clone();
    let admin = org.admin.clone();
    let group = org.create(&bj_lead, joint_group()).await.expect("create");
    assert!(!group.team_id.is_empty());
    assert_eq!(
        (
            group.kind,
            group.branch_id.as_str(),
            group.lead_employee_id.as_str(),
            group.customer_id.as_str(),
            group.version,
            group.end_date
        ),
        (
            v1::TeamKind::JointServiceGroup as i32,
            "BJ01",
            "lead1",
            CUSTOMER,
            1,
            None
        )
    );
    assert_eq!(
        member_ids(&group),
        [("lead1", None), ("cm1", None), ("pm1", None), ("sh1", None)]
    );
    assert!(
        group
            .members
            .iter()
            .all(|m| m.joined_on == Some(date(2025, 1, 1))),
        "joined_on defaults to the team's start date"
    );
    assert_eq!(group.members[2].line, v1::BusinessLine::TradeFinance as i32);
    assert_eq!(group.members[2].title, "product specialist");

    assert_eq!(org.get(&bj_lead, &group.team_id).await.expect("get"), group);
    // Reading needs no role, only the subtree: a customer manager of BJ01 sees it.
    let cm = org.suite.token("cm1", "BJ01", &["customer_manager"]);
    assert_eq!(org.get(&cm, &group.team_id).await.expect("get"), group);
    // Auditors see every subtree; a Shanghai branch head does not see a Beijing team.
    let auditor = org.suite.token("aud1", "SH01", &["auditor"]);
    assert_eq!(org.get(&auditor, &group.team_id).await.expect("get"), group);
    let err = org
        .get(&sh_head, &group.team_id)
        .await
        .expect_err("invisible");
    assert_eq!(err.code(), Code::NotFound);
    let err = org
        .get(&admin, "0190a6d2-0000-7000-8000-000000000000")
        .await
        .expect_err("unknown");
    assert_eq!(err.code(), Code::NotFound);

    let mut beijing = vec![group.team_id.clone()];
    for b in ["BJ", "BJ01", "BJ0101", "BJ0101"] {
        let team = org.create(&bj_lead, standing(b, "lead1")).await.expect(b);
        beijing.push(team.team_id);
    }
    let shanghai = org
        .create(&sh_head, standing("SH01", "sh1"))
        .await
        .expect("SH01");
    beijing.sort();

    // The caller's subtree by default, in keyset pages of 2 covering it exactly once.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = org
            .list(
                &bj_lead,
                v1::ListTeamsRequest {
                    page_size: 2,
                    page_token: token.clone(),
                    ..Default::default()
                },
            )
            .await
            .expect("page");
        assert!(page.teams.len() <= 2);
        seen.extend(page.teams.into_iter().map(|t| t.team_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, beijing, "ordered by team_id, Shanghai left out");
    let all = org
        .list_ids(
            &admin,
            v1::ListTeamsRequest {
                branch_id: "HQ".into(),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(all.len(), 6);
    assert!(all.contains(&shanghai.team_id));
    let sub = org
        .list_ids(
            &bj_lead,
            v1::ListTeamsRequest {
                branch_id: "BJ0101".into(),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(sub.len(), 2);
    let by_kind = org
        .list_ids(
            &bj_lead,
            v1::ListTeamsRequest {
                kind: v1::TeamKind::JointServiceGroup as i32,
                ..Default::default()
            },
        )
        .await;
    assert_eq!(by_kind, [group.team_id.as_str()]);
    let by_customer = org
        .list_ids(
            &admin,
            v1::ListTeamsRequest {
                branch_id: "HQ".into(),
                customer_id: CUSTOMER.into(),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(by_customer, [group.team_id.as_str()]);
    let mut with_sh1 = vec![group.team_id.clone(), shanghai.team_id.clone()];
    with_sh1.sort();
    let by_member = org
        .list_ids(
            &admin,
            v1::ListTeamsRequest {
                branch_id: "HQ".into(),
                member_employee_id: "sh1".into(),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(by_member, with_sh1);
    let full = org
        .list(
            &bj_lead,
            v1::ListTeamsRequest {
                member_employee_id: "sh1".into(),
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(
        full.teams,
        std::slice::from_ref(&group),
        "listed teams carry their members"
    );

    // Another subtree is invisible; a token is bound to its filters.
    let err = org
        .list(
            &sh_head,
            v1::ListTeamsRequest {
                branch_id: "BJ".into(),
                ..Default::default()
            },
        )
        .await
        .expect_err("other subtree");
    assert_eq!(err.code(), Code::NotFound);
    let first = org
        .list(
            &admin,
            v1::ListTeamsRequest {
                branch_id: "HQ".into(),
                page_size: 1,
                ..Default::default()
            },
        )
        .await
        .expect("page");
    let err = org
        .list(
            &admin,
            v1::ListTeamsRequest {
                branch_id: "SH".into(),
                page_size: 1,
                page_token: first.next_page_token,
                ..Default::default()
            },
        )
        .await
        .expect_err("token of other filters");
    assert_eq!(fields(&err), ["page_token"]);
    assert_eq!(org.team_records().await, (6, 6));
    org.suite.stop().await;
}

async fn updates_check_the_version_the_mask_and_the_lead(backend: Backend) {
    let mut org = start(backend).await;
    let bj_lead = org.bj_lead.clone();
    let group = org.create(&bj_lead, joint_group()).await.expect("create");
    let id = group.team_id.clone();
    let named = |name: &str| v1::Team {
        team_id: id.clone(),
        name: name.into(),
        ..Default::default()
    };

    let err = org
        .update(&bj_lead, named("Renamed"), &["name"], 5)
        .await
        .expect_err("stale");
    assert_eq!(err.code(), Code::Aborted);
    assert_eq!(org.get(&bj_lead, &id).await.expect("get"), group);
    let renamed = org
        .update(&bj_lead, named("Renamed"), &["name"], 1)
        .await
        .expect("rename");
    assert_eq!((renamed.name.as_str(), renamed.version), ("Renamed", 2));
    assert_eq!(renamed.members, group.members, "members are untouched");
    // The same version again is stale now.
    let err = org
        .update(&bj_lead, named("Again"), &["name"], 1)
        .await
        .expect_err("stale");
    assert_eq!(err.code(), Code::Aborted);

    let lead = |who: &str| v1::Team {
        team_id: id.clone(),
        lead_employee_id: who.into(),
        ..Default::default()
    };
    assert_names(
        org.update(&bj_lead, lead("gone"), &["lead_employee_id"], 2)
            .await,
        "team.lead_employee_id",
        "a lead who is not a member",
    );
    let led = org
        .update(&bj_lead, lead("cm1"), &["lead_employee_id"], 2)
        .await
        .expect("new lead");
    assert_eq!((led.lead_employee_id.as_str(), led.version), ("cm1", 3));

    assert_names(
        org.update(&bj_lead, named("x"), &["kind"], 3).await,
        "update_mask.paths[0]",
        "a field that cannot change",
    );
    assert_names(
        org.update(&bj_lead, named("x"), &[], 3).await,
        "update_mask",
        "an empty mask",
    );
    let ending = |end: v1::Date| v1::Team {
        team_id: id.clone(),
        end_date: Some(end),
        ..Default::default()
    };
    assert_names(
        org.update(&bj_lead, ending(date(2024, 12, 1)), &["end_date"], 3)
            .await,
        "team.end_date",
        "an end before the start",
    );
    let ended = org
        .update(&bj_lead, ending(date(2025, 3, 1)), &["end_date"], 3)
        .await
        .expect("end");
    assert_eq!((ended.end_date, ended.version), (Some(date(2025, 3, 1)), 4));
    assert!(
        org.list_ids(&bj_lead, v1::ListTeamsRequest::default())
            .await
            .is_empty(),
        "ended teams are left out by default"
    );
    let with_ended = org
        .list_ids(
            &bj_lead,
            v1::ListTeamsRequest {
                include_ended: true,
                ..Default::default()
            },
        )
        .await;
    assert_eq!(with_ended, [id.as_str()]);
    assert_eq!(org.get(&bj_lead, &id).await.expect("get"), ended);
    assert_eq!(org.team_records().await, (4, 4));
    org.suite.stop().await;
}

async fn members_join_and_leave_with_history_kept(backend: Backend) {
    use v1::BusinessLine::*;
    let mut org = start(backend).await;
    let bj_lead = org.bj_lead.clone();
    let team = v1::Team {
        members: vec![
            member("lead1", Corporate, "lead"),
            member("cm1", Corporate, "manager"),
        ],
        ..standing("BJ01", "lead1")
    };
    let team = org.create(&bj_lead, team).await.expect("create");
    let id = team.team_id.clone();

    let err = org
        .add(&bj_lead, &id, Some(member("cm1", Corporate, "again")), 1)
        .await
        .expect_err("already a member");
    assert_eq!(err.code(), Code::AlreadyExists);
    let pm1 = v1::TeamMember {
        joined_on: Some(date(2025, 2, 1)),
        ..member("pm1", TradeFinance, "product specialist")
    };
    let err = org
        .add(&bj_lead, &id, Some(pm1.clone()), 7)
        .await
        .expect_err("stale");
    assert_eq!(err.code(), Code::Aborted);
    let added = org
        .add(&bj_lead, &id, Some(pm1.clone()), 1)
        .await
        .expect("add");
    assert_eq!(added.version, 2);
    assert_eq!(
        member_ids(&added),
        [("lead1", None), ("cm1", None), ("pm1", None)]
    );
    assert_eq!(added.members[2], pm1);

    let left = date(2025, 6, 1);
    let removed = org
        .remove(&bj_lead, &id, "cm1", Some(left), 2)
        .await
        .expect("remove");
    assert_eq!(removed.version, 3);
    assert_eq!(
        member_ids(&removed),
        [("lead1", None), ("cm1", Some(left)), ("pm1", None)],
        "the membership is kept with its left_on"
    );
    assert_eq!(org.get(&bj_lead, &id).await.expect("get"), removed);
    let current = |who: &str| v1::ListTeamsRequest {
        member_employee_id: who.into(),
        ..Default::default()
    };
    assert!(
        org.list_ids(&bj_lead, current("cm1")).await.is_empty(),
        "cm1 is no longer a current member"
    );
    assert_eq!(org.list_ids(&bj_lead, current("pm1")).await, [id.as_str()]);
    let err = org
        .remove(&bj_lead, &id, "cm1", None, 3)
        .await
        .expect_err("not a member any more");
    assert_eq!(err.code(), Code::NotFound);

    // Rejoining adds a second membership; the first stays as history.
    let back = v1::TeamMember {
        joined_on: Some(date(2025, 7, 1)),
        ..member("cm1", Corporate, "manager")
    };
    let rejoined = org
        .add(&bj_lead, &id, Some(back.clone()), 3)
        .await
        .expect("rejoin");
    assert_eq!(rejoined.version, 4);
    assert_eq!(
        member_ids(&rejoined),
        [
            ("lead1", None),
            ("cm1", Some(left)),
            ("pm1", None),
            ("cm1", None)
        ],
        "members in order of joining, the old membership kept"
    );
    let err = org
        .add(&bj_lead, &id, Some(back), 4)
        .await
        .expect_err("already a member again");
    assert_eq!(err.code(), Code::AlreadyExists);

    assert_names(
        org.remove(&bj_lead, &id, "lead1", None, 4).await,
        "employee_id",
        "the lead cannot be removed",
    );
    assert_names(
        org.remove(&bj_lead, &id, "pm1", Some(date(2025, 1, 15)), 4)
            .await,
        "left_on",
        "leaving before joining",
    );
    assert_names(
        org.add(&bj_lead, &id, Some(member("gone", Corporate, "")), 4)
            .await,
        "member.employee_id",
        "an employee who has left the bank",
    );
    assert_names(
        org.add(&bj_lead, &id, Some(member("nobody", Corporate, "")), 4)
            .await,
        "member.employee_id",
        "an employee not in the directory",
    );
    let err = org
        .add(
            &bj_lead,
            "0190a6d2-0000-7000-8000-000000000000",
            Some(member("sh1", Corporate, "")),
            1,
        )
        .await
        .expect_err("unknown team");
    assert_eq!(err.code(), Code::NotFound);
    let err = org
        .remove(
            &bj_lead,
            "0190a6d2-0000-7000-8000-000000000000",
            "cm1",
            None,
            1,
        )
        .await
        .expect_err("unknown team");
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(org.get(&bj_lead, &id).await.expect("get").version, 4);
    assert_eq!(org.team_records().await, (4, 4));
    org.suite.stop().await;
}

async fn bad_team_requests_name_the_field_and_change_nothing(backend: Backend) {
    use v1::BusinessLine::*;
    let mut org = start(backend).await;
    let admin = org.admin.clone();
    let bj_lead = org.bj_lead.clone();
    let with_members = |members: Vec<v1::TeamMember>| v1::Team {
        members,
        ..joint_group()
    };
    let cases: Vec<(v1::Team, &str)> = vec![
        (
            v1::Team {
                name: " ".into(),
                ..joint_group()
            },
            "team.name",
        ),
        (
            v1::Team {
                name: "n".repeat(201),
                ..joint_group()
            },
            "team.name",
        ),
        (
            v1::Team {
                kind: 0,
                ..joint_group()
            },
            "team.kind",
        ),
        (
            v1::Team {
                kind: 42,
                ..joint_group()
            },
            "team.kind",
        ),
        (
            v1::Team {
                branch_id: "B J".into(),
                ..joint_group()
            },
            "team.branch_id",
        ),
        (
            v1::Team {
                branch_id: "NOWHERE".into(),
                ..joint_group()
            },
            "team.branch_id",
        ),
        (
            v1::Team {
                customer_id: String::new(),
                ..joint_group()
            },
            "team.customer_id",
        ),
        (
            v1::Team {
                customer_id: "not-a-customer".into(),
                ..joint_group()
            },
            "team.customer_id",
        ),
        (
            v1::Team {
                customer_id: CUSTOMER.into(),
                ..standing("BJ01", "lead1")
            },
            "team.customer_id",
        ),
        (
            v1::Team {
                start_date: Some(date(2025, 13, 1)),
                ..joint_group()
            },
            "team.start_date",
        ),
        (
            v1::Team {
                end_date: Some(date(2024, 12, 31)),
                ..joint_group()
            },
            "team.end_date",
        ),
        (with_members(vec![]), "team.members"),
        (
            with_members(vec![member("cm1", Corporate, "")]),
            "team.lead_employee_id",
        ),
        (
            v1::Team {
                lead_employee_id: "nobody".into(),
                members: vec![member("nobody", Corporate, "")],
                ..joint_group()
            },
            "team.lead_employee_id",
        ),
        (
            with_members(vec![
                member("lead1", Corporate, ""),
                member("nobody", Corporate, ""),
            ]),
            "team.members[1].employee_id",
        ),
        (
            with_members(vec![
                member("lead1", Corporate, ""),
                member("gone", Corporate, ""),
            ]),
            "team.members[1].employee_id",
        ),
        (
            with_members(vec![
                member("lead1", Corporate, ""),
                member("cm1", Corporate, ""),
                member("cm1", Retail, ""),
            ]),
            "team.members[2].employee_id",
        ),
        (
            with_members(vec![member("lead1", v1::BusinessLine::Unspecified, "")]),
            "team.members[0].line",
        ),
        (
            with_members(vec![member("lead1", Corporate, &"t".repeat(101))]),
            "team.members[0].title",
        ),
        (
            with_members(vec![v1::TeamMember {
                joined_on: Some(date(2024, 6, 1)),
                ..member("lead1", Corporate, "")
            }]),
            "team.members[0].joined_on",
        ),
        (
            with_members(vec![v1::TeamMember {
                left_on: Some(date(2025, 6, 1)),
                ..member("lead1", Corporate, "")
            }]),
            "team.members[0].left_on",
        ),
    ];
    for (i, (team, field)) in cases.into_iter().enumerate() {
        assert_names(
            org.create(&bj_lead, team).await,
            field,
            &format!("create case {i}"),
        );
    }
    let err = org
        .client
        .create_team(TestSuite::authed(
            v1::CreateTeamRequest { team: None },
            &bj_lead,
        ))
        .await
        .expect_err("no team");
    assert_eq!(fields(&err), ["team"]);
    for (raw, case) in [("", "empty"), ("team-1", "not a UUID")] {
        assert_names(org.get(&admin, raw).await, "team_id", case);
    }
    let list_cases: Vec<(v1::ListTeamsRequest, &str)> = vec![
        (
            v1::ListTeamsRequest {
                kind: 99,
                ..Default::default()
            },
            "kind",
        ),
        (
            v1::ListTeamsRequest {
                page_size: 501,
                ..Default::default()
            },
            "page_size",
        ),
        (
            v1::ListTeamsRequest {
                page_size: -1,
                ..Default::default()
            },
            "page_size",
        ),
        (
            v1::ListTeamsRequest {
                page_token: "garbage!".into(),
                ..Default::default()
            },
            "page_token",
        ),
        (
            v1::ListTeamsRequest {
                customer_id: "c-1".into(),
                ..Default::default()
            },
            "customer_id",
        ),
        (
            v1::ListTeamsRequest {
                member_employee_id: "e".repeat(65),
                ..Default::default()
            },
            "member_employee_id",
        ),
        (
            v1::ListTeamsRequest {
                branch_id: "B J".into(),
                ..Default::default()
            },
            "branch_id",
        ),
    ];
    for (i, (request, field)) in list_cases.into_iter().enumerate() {
        let err = org
            .list(&admin, request)
            .await
            .expect_err(&format!("list case {i}"));
        assert_eq!(err.code(), Code::InvalidArgument, "list case {i}");
        assert_eq!(fields(&err), [field], "list case {i}");
    }
    assert_eq!(
        org.team_records().await,
        (0, 0),
        "nothing was written by a bad create"
    );

    let team = org
        .create(&bj_lead, standing("BJ01", "lead1"))
        .await
        .expect("create");
    let id = team.team_id.clone();
    assert_names(org.add(&bj_lead, &id, None, 1).await, "member", "no member");
    assert_names(
        org.add(&bj_lead, "", Some(member("cm1", Corporate, "")), 1)
            .await,
        "team_id",
        "no team id",
    );
    assert_names(
        org.add(
            &bj_lead,
            &id,
            Some(member("cm1", v1::BusinessLine::Unspecified, "")),
            1,
        )
        .await,
        "member.line",
        "no line",
    );
    assert_names(
        org.add(
            &bj_lead,
            &id,
            Some(member("cm1", Corporate, &"t".repeat(101))),
            1,
        )
        .await,
        "member.title",
        "a long title",
    );
    assert_names(
        org.add(&bj_lead, &id, Some(member("", Corporate, "")), 1)
            .await,
        "member.employee_id",
        "no employee",
    );
    assert_names(
        org.add(
            &bj_lead,
            &id,
            Some(v1::TeamMember {
                joined_on: Some(date(2024, 12, 1)),
                ..member("cm1", Corporate, "")
            }),
            1,
        )
        .await,
        "member.joined_on",
        "joining before the team starts",
    );
    assert_names(
        org.add(
            &bj_lead,
            &id,
            Some(v1::TeamMember {
                left_on: Some(date(2025, 12, 1)),
                ..member("cm1", Corporate, "")
            }),
            1,
        )
        .await,
        "member.left_on",
        "a left_on on add",
    );
    assert_names(
        org.remove(&bj_lead, &id, "", None, 1).await,
        "employee_id",
        "no employee",
    );
    assert_names(
        org.remove(&bj_lead, &id, "cm1", Some(date(2025, 2, 30)), 1)
            .await,
        "left_on",
        "not a calendar date",
    );
    assert_names(
        org.update(
            &bj_lead,
            v1::Team {
                team_id: id.clone(),
                name: String::new(),
                ..Default::default()
            },
            &["name"],
            1,
        )
        .await,
        "team.name",
        "an empty name",
    );
    assert_names(
        org.update(
            &bj_lead,
            v1::Team {
                name: "x".into(),
                ..Default::default()
            },
            &["name"],
            1,
        )
        .await,
        "team.team_id",
        "no team id",
    );
    let err = org
        .client
        .update_team(TestSuite::authed(
            v1::UpdateTeamRequest {
                team: None,
                update_mask: None,
                expected_version: 1,
            },
            &bj_lead,
        ))
        .await
        .expect_err("no team");
    assert_eq!(fields(&err), ["team"]);
    assert_eq!(org.get(&bj_lead, &id).await.expect("get"), team);
    let all = org
        .list_ids(
            &admin,
            v1::ListTeamsRequest {
                branch_id: "HQ".into(),
                include_ended: true,
                ..Default::default()
            },
        )
        .await;
    assert_eq!(all, [id]);
    assert_eq!(org.team_records().await, (1, 1));
    org.suite.stop().await;
}

async fn changing_a_team_needs_a_role_and_the_subtree(backend: Backend) {
    let mut org = start(backend).await;
    let bj_lead = org.bj_lead.clone();
    let sh_head = org.sh_head.clone();
    let admin = org.admin.clone();
    let cm = org.suite.token("cm1", "BJ01", &["customer_manager"]);
    let err = org.create(&cm, joint_group()).await.expect_err("no role");
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = org
        .create(&sh_head, joint_group())
        .await
        .expect_err("other subtree");
    assert_eq!(err.code(), Code::PermissionDenied);
    let team = org
        .create(&bj_lead, standing("BJ0101", "lead1"))
        .await
        .expect("a branch below the caller's");
    let id = team.team_id.clone();
    let rename = v1::Team {
        team_id: id.clone(),
        name: "Renamed".into(),
        ..Default::default()
    };

    // A Shanghai branch head does not see the team at all.
    let err = org
        .update(&sh_head, rename.clone(), &["name"], 1)
        .await
        .expect_err("invisible");
    assert_eq!(err.code(), Code::NotFound);
    let err = org
        .add(
            &sh_head,
            &id,
            Some(member("sh1", v1::BusinessLine::Corporate, "")),
            1,
        )
        .await
        .expect_err("invisible");
    assert_eq!(err.code(), Code::NotFound);
    let err = org
        .remove(&sh_head, &id, "lead1", None, 1)
        .await
        .expect_err("invisible");
    assert_eq!(err.code(), Code::NotFound);
    // The performance office sees every team but changes only its own subtree's.
    let sh_office = org
        .suite
        .token("po1", "SH", &["team_lead", "performance_office"]);
    assert_eq!(org.get(&sh_office, &id).await.expect("visible"), team);
    let err = org
        .update(&sh_office, rename.clone(), &["name"], 1)
        .await
        .expect_err("outside the subtree");
    assert_eq!(err.code(), Code::PermissionDenied);
    // An auditor reads but never changes.
    let auditor = org.suite.token("aud1", "HQ", &["auditor"]);
    let err = org
        .update(&auditor, rename.clone(), &["name"], 1)
        .await
        .expect_err("no role");
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = org
        .add(
            &cm,
            &id,
            Some(member("cm1", v1::BusinessLine::Corporate, "")),
            1,
        )
        .await
        .expect_err("no role");
    assert_eq!(err.code(), Code::PermissionDenied);
    assert_eq!(org.get(&cm, &id).await.expect("unchanged"), team);

    let renamed = org
        .update(&admin, rename, &["name"], 1)
        .await
        .expect("admin");
    assert_eq!((renamed.name.as_str(), renamed.version), ("Renamed", 2));
    let joined = org
        .add(
            &bj_lead,
            &id,
            Some(member("sh1", v1::BusinessLine::Corporate, "cross-region")),
            2,
        )
        .await
        .expect("a member from another region");
    assert_eq!(joined.members.len(), 2);
    assert_eq!(org.team_records().await, (3, 3));
    org.suite.stop().await;
}

bankmkt_e2e::on_both_backends!(
    teams_are_created_read_and_listed_by_subtree,
    updates_check_the_version_the_mask_and_the_lead,
    members_join_and_leave_with_history_kept,
    bad_team_requests_name_the_field_and_change_nothing,
    changing_a_team_needs_a_role_and_the_subtree,
);
