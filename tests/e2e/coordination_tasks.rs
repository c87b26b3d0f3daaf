//! Tasks and playbooks of coordination through gRPC on both backends: tasks with an owner who is
//! a member and a due date in working days (never on a weekend, never before their creation),
//! the status machine with done final, a stale task update `ABORTED` with nothing changed,
//! listing by opportunity, owner and status, an SLA rule capping a later due date; playbooks written by a team lead only, versioned
//! with optimistic concurrency, listed by type, applied to an opportunity (tasks with owners of
//! the step's line, idempotent by key) and applied at creation through `playbook_id`.

use bankmkt_e2e::TestSuite;
use bankmkt_e2e::coordination::{
    World, campaign_units, date_after, fields, opportunity, playbook, role_token, step,
};
use bankmkt_e2e::{Backend, on_both_backends};
use bankmkt_proto::v1;
use chrono::{Datelike, NaiveDate, Weekday};
use tonic::Code;

use v1::BusinessLine::*;

on_both_backends!(
    tasks_have_owners_due_dates_and_a_status_machine,
    playbooks_are_versioned_and_applied
);

fn day(d: &Option<v1::Date>) -> NaiveDate {
    let d = d.as_ref().expect("a date");
    NaiveDate::from_ymd_opt(d.year, d.month as u32, d.day as u32).expect("calendar date")
}

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

async fn tasks_have_owners_due_dates_and_a_status_machine(backend: Backend) {
    let w = World::start(backend).await;
    let opp = w.campaign().await;
    let id = opp.opportunity_id.clone();
    let version = w
        .add_member(&w.m1, &id, opp.version, "m2", "BJ01/small_business")
        .await
        .expect("m2 joins");
    // Due in three working days: later than today, on a weekday.
    let t = w
        .create_task(&w.m1, &id, version, "m2", None, 3)
        .await
        .expect("task");
    let due = day(&t.due_date);
    assert!(due > chrono::Utc::now().date_naive());
    assert!(!matches!(due.weekday(), Weekday::Sat | Weekday::Sun));
    assert_eq!(t.status, v1::TaskStatus::Open as i32);
    assert_eq!(t.owner_employee_id, "m2");
    assert_eq!(t.version, 1);
    // Due before its creation, and an owner who is not a member.
    let err = w
        .create_task(&w.m1, &id, version, "m2", Some(date_after(-3)), 0)
        .await
        .expect_err("due before creation");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(fields(&err), ["task.due_date"]);
    let err = w
        .create_task(&w.m1, &id, version, "m5", None, 1)
        .await
        .expect_err("not a member");
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = w
        .create_task(&w.m1, &id, version - 1, "m2", None, 1)
        .await
        .expect_err("stale opportunity");
    assert_eq!(err.code(), Code::Aborted);
    // A second task for m1, due on an explicit weekday a week ahead.
    let mut ahead = 7;
    while matches!(
        day(&Some(date_after(ahead))).weekday(),
        Weekday::Sat | Weekday::Sun
    ) {
        ahead += 1;
    }
    let t2 = w
        .create_task(&w.m1, &id, version, "m1", Some(date_after(ahead)), 0)
        .await
        .expect("explicit date");
    assert_eq!(day(&t2.due_date), day(&Some(date_after(ahead))));

    let mut client = w.client.clone();
    let update = |task: v1::Task, paths: &[&str], expected: i64| v1::UpdateTaskRequest {
        task: Some(task),
        update_mask: mask(paths),
        expected_version: expected,
    };
    let started = client
        .update_task(TestSuite::authed(
            update(
                v1::Task {
                    task_id: t.task_id.clone(),
                    status: v1::TaskStatus::InProgress as i32,
                    ..Default::default()
                },
                &["status"],
                1,
            ),
            &w.m2,
        ))
        .await
        .expect("start")
        .into_inner()
        .task
        .expect("task");
    assert_eq!(started.status, v1::TaskStatus::InProgress as i32);
    assert_eq!(started.version, 2);
    // A stale write is ABORTED and changes nothing.
    let err = client
        .update_task(TestSuite::authed(
            update(
                v1::Task {
                    task_id: t.task_id.clone(),
                    title: "something else".into(),
                    ..Default::default()
                },
                &["title"],
                1,
            ),
            &w.m1,
        ))
        .await
        .expect_err("stale");
    assert_eq!(err.code(), Code::Aborted);
    let done = client
        .update_task(TestSuite::authed(
            update(
                v1::Task {
                    task_id: t.task_id.clone(),
                    status: v1::TaskStatus::Done as i32,
                    ..Default::default()
                },
                &["status"],
                2,
            ),
            &w.m2,
        ))
        .await
        .expect("done")
        .into_inner()
        .task
        .expect("task");
    assert!(done.finish_time.is_some());
    assert_eq!(done.title, "visit the treasurer");
    let err = client
        .update_task(TestSuite::authed(
            update(
                v1::Task {
                    task_id: t.task_id.clone(),
                    status: v1::TaskStatus::Open as i32,
                    ..Default::default()
                },
                &["status"],
                3,
            ),
            &w.m2,
        ))
        .await
        .expect_err("done is final");
    assert_eq!(err.code(), Code::FailedPrecondition);
    // Lists: by opportunity (due date order), by owner, by status.
    let list = |r: v1::ListTasksRequest| {
        let mut client = w.client.clone();
        let token = w.m1.clone();
        async move {
            client
                .list_tasks(TestSuite::authed(r, &token))
                .await
                .expect("list")
                .into_inner()
        }
    };
    let all = list(v1::ListTasksRequest {
        opportunity_id: id.clone(),
        ..Default::default()
    })
    .await;
    let ids: Vec<&str> = all.tasks.iter().map(|t| t.task_id.as_str()).collect();
    assert_eq!(ids, [t.task_id.as_str(), t2.task_id.as_str()]);
    let page = list(v1::ListTasksRequest {
        opportunity_id: id.clone(),
        page_size: 1,
        ..Default::default()
    })
    .await;
    assert_eq!(page.tasks.len(), 1);
    let rest = list(v1::ListTasksRequest {
        opportunity_id: id.clone(),
        page_size: 1,
        page_token: page.next_page_token.clone(),
        ..Default::default()
    })
    .await;
    assert_eq!(rest.tasks[0].task_id, t2.task_id);
    assert!(rest.next_page_token.is_empty());
    let mine = list(v1::ListTasksRequest {
        owner_employee_id: "m1".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(mine.tasks.len(), 1);
    let open = list(v1::ListTasksRequest {
        opportunity_id: id.clone(),
        status: v1::TaskStatus::Open as i32,
        ..Default::default()
    })
    .await;
    assert_eq!(open.tasks.len(), 1);
    let overdue = list(v1::ListTasksRequest {
        opportunity_id: id.clone(),
        overdue_only: true,
        ..Default::default()
    })
    .await;
    assert!(overdue.tasks.is_empty());
    // Someone in another region sees none of them.
    let theirs = client
        .list_tasks(TestSuite::authed(
            v1::ListTasksRequest {
                owner_employee_id: "m1".into(),
                ..Default::default()
            },
            &w.m5,
        ))
        .await
        .expect("list")
        .into_inner();
    assert!(theirs.tasks.is_empty());
    // An SLA rule timing supply-chain tasks at one working day caps a later due date.
    let admin = w.suite.token("admin1", "HQ", &["admin"]);
    let rule = client
        .create_sla_rule(TestSuite::authed(
            v1::CreateSlaRuleRequest {
                rule: Some(v1::SlaRule {
                    name: "green channel: campaign tasks".into(),
                    subject: v1::SlaSubject::Task as i32,
                    opportunity_type: v1::OpportunityType::SupplyChainFinance as i32,
                    working_days: 1,
                    effective: Some(v1::EffectiveRange {
                        start_date: Some(v1::Date {
                            year: 2020,
                            month: 1,
                            day: 1,
                        }),
                        end_date: None,
                    }),
                    ..Default::default()
                }),
            },
            &admin,
        ))
        .await
        .expect("sla rule")
        .into_inner()
        .rule
        .expect("rule");
    let capped = w
        .create_task(&w.m1, &id, version, "m1", None, 10)
        .await
        .expect("capped task");
    assert_eq!(capped.sla_rule_id, rule.rule_id);
    assert!(day(&capped.due_date) < due, "capped before the 3-day task");
    w.suite.stop().await;
}

async fn playbooks_are_versioned_and_applied(backend: Backend) {
    let w = World::start(backend).await;
    let c = w.customers.clone();
    let lead = role_token(&w.suite, "tl1", "BJ01", &["corporate"], &["team_lead"]);
    let mut client = w.client.clone();
    let scf = playbook(
        "Supply-chain finance campaign",
        v1::OpportunityType::SupplyChainFinance,
        vec![
            step("visit-core", v1::BusinessLine::Unspecified, 0),
            step("screen-suppliers", SmallBusiness, 3),
        ],
    );
    let err = w
        .create_playbook(&w.m1, scf.clone())
        .await
        .expect_err("a customer manager");
    assert_eq!(err.code(), Code::PermissionDenied);
    let p1 = w.create_playbook(&lead, scf.clone()).await.expect("create");
    assert_eq!(p1.version, 1);
    let mut v2 = scf.clone();
    v2.playbook_id = p1.playbook_id.clone();
    v2.steps.push(step("executives-cards", Retail, 5));
    let updated = |p: v1::Playbook, expected: i64| v1::UpdatePlaybookRequest {
        playbook: Some(p),
        update_mask: mask(&["steps"]),
        expected_version: expected,
    };
    let p2 = client
        .update_playbook(TestSuite::authed(updated(v2.clone(), 1), &lead))
        .await
        .expect("v2")
        .into_inner()
        .playbook
        .expect("playbook");
    assert_eq!((p2.version, p2.steps.len()), (2, 3));
    let err = client
        .update_playbook(TestSuite::authed(updated(v2, 1), &lead))
        .await
        .expect_err("stale");
    assert_eq!(err.code(), Code::Aborted);
    let get = |version: i64| v1::GetPlaybookRequest {
        playbook_id: p1.playbook_id.clone(),
        version,
    };
    let latest = client
        .get_playbook(TestSuite::authed(get(0), &w.m1))
        .await
        .expect("latest")
        .into_inner()
        .playbook
        .expect("playbook");
    assert_eq!(latest.version, 2);
    let first = client
        .get_playbook(TestSuite::authed(get(1), &w.m1))
        .await
        .expect("v1")
        .into_inner()
        .playbook
        .expect("playbook");
    assert_eq!(first.steps.len(), 2);
    w.create_playbook(
        &lead,
        playbook(
            "Payroll and cards",
            v1::OpportunityType::PayrollAndCards,
            vec![step("payroll", Retail, 2)],
        ),
    )
    .await
    .expect("another type");
    let listed = client
        .list_playbooks(TestSuite::authed(
            v1::ListPlaybooksRequest {
                opportunity_type: v1::OpportunityType::SupplyChainFinance as i32,
                ..Default::default()
            },
            &w.m1,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.playbooks.len(), 1);
    assert_eq!(listed.playbooks[0].version, 2);

    // Applied to the campaign: owners of the step's line, else the lead unit's lead.
    let opp = w.campaign().await;
    let id = opp.opportunity_id.clone();
    let version = w
        .add_member(&w.m1, &id, opp.version, "m2", "BJ01/small_business")
        .await
        .expect("m2 joins");
    let apply = v1::ApplyPlaybookRequest {
        idempotency_key: "apply-1".into(),
        opportunity_id: id.clone(),
        playbook_id: p1.playbook_id.clone(),
        playbook_version: 0,
        start_date: None,
        expected_version: version,
    };
    let tasks = client
        .apply_playbook(TestSuite::authed(apply.clone(), &w.m1))
        .await
        .expect("apply")
        .into_inner()
        .tasks;
    let owners: Vec<(&str, &str)> = tasks
        .iter()
        .map(|t| (t.playbook_step_id.as_str(), t.owner_employee_id.as_str()))
        .collect();
    assert_eq!(
        owners,
        [
            ("visit-core", "m1"),
            ("screen-suppliers", "m2"),
            ("executives-cards", "m1"),
        ]
    );
    assert!(tasks.iter().all(|t| t.playbook_version == 2));
    assert!(day(&tasks[1].due_date) > day(&tasks[0].due_date));
    let again = client
        .apply_playbook(TestSuite::authed(apply, &w.m1))
        .await
        .expect("replay")
        .into_inner()
        .tasks;
    assert_eq!(again, tasks, "a retried apply returns the stored response");
    let listed = client
        .list_tasks(TestSuite::authed(
            v1::ListTasksRequest {
                opportunity_id: id.clone(),
                ..Default::default()
            },
            &w.m1,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.tasks.len(), 3);

    // Applied at creation.
    let created = client
        .create_opportunity(TestSuite::authed(
            v1::CreateOpportunityRequest {
                idempotency_key: "with-playbook".into(),
                opportunity: Some(opportunity(
                    "Other works chain",
                    &c.other,
                    &[],
                    campaign_units(),
                )),
                playbook_id: p1.playbook_id.clone(),
            },
            &w.m1,
        ))
        .await
        .expect("create with a playbook")
        .into_inner();
    assert_eq!(created.tasks.len(), 3);
    assert!(created.tasks.iter().all(|t| t.owner_employee_id == "m1"));
    assert!(
        created
            .tasks
            .iter()
            .all(|t| t.opportunity_id == created.opportunity.as_ref().expect("o").opportunity_id)
    );
    w.suite.stop().await;
}
