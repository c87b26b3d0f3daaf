//! `ListOverdue` on both backends, driven by a controllable clock: the suite's registry and
//! coordination database, with a coordination service of the library on a
//! [`Clock::manual`] clock (the suite's own runs on the system clock). A monthly-visit cadence
//! rule applies to the corporate customers of BJ01; the core enterprise is visited today and the
//! other corporate customer never is. Twenty days on nothing is due; forty-five days on both are
//! in breach — the never-visited one with no last activity — for their A manager m1 and BJ01's
//! subtree, and nothing for another manager or another subtree. A task due in two working days
//! is not overdue the next day, is overdue for its owner and BJ01's subtree two weeks on (and not
//! readable from another subtree), and leaves the list once it is done.

use std::time::Duration;

use bankmkt_coordination::{CoordinationService, Migrator, clients};
use bankmkt_domain::calendar::{BusinessCalendar, parse_timezone};
use bankmkt_e2e::coordination::{World, monthly_visits, visit};
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_platform::cache::ReadThrough;
use bankmkt_platform::client::ServiceIdentity;
use bankmkt_platform::clock::{Clock, ClockHand};
use bankmkt_platform::db;
use bankmkt_platform::settings::ServiceKind;
use bankmkt_proto::v1;
use bankmkt_proto::v1::coordination_server::Coordination;

use v1::BusinessLine::*;

bankmkt_e2e::on_both_backends!(
    cadence_breaches_appear_when_the_clock_passes_them,
    an_overdue_task_appears_when_the_clock_passes_its_due_date,
);

async fn service(w: &World) -> (CoordinationService, ClockHand) {
    let settings = w.suite.settings();
    let tz = parse_timezone(&settings.timezone).expect("timezone");
    let calendar = BusinessCalendar::new(tz, [], []).expect("calendar");
    let (clock, hand) = Clock::manual(chrono::Utc::now(), calendar);
    let identity = || ServiceIdentity::new("coordination", w.suite.authenticator());
    let registry_endpoint = format!("http://{}", w.suite.addr("customer-registry"));
    let pricing_endpoint = format!("http://{}", w.suite.addr("pricing"));
    let svc = CoordinationService {
        db: db::open::<Migrator>(&settings, ServiceKind::Coordination)
            .await
            .expect("db"),
        cache: ReadThrough::from_settings(&settings).expect("cache"),
        clock,
        registry: clients::Registry::connect_lazy(
            &registry_endpoint,
            Duration::from_secs(5),
            identity(),
        )
        .expect("registry"),
        pricing: clients::Pricing::connect_lazy(
            &pricing_endpoint,
            Duration::from_secs(5),
            identity(),
        )
        .expect("pricing"),
    };
    (svc, hand)
}

fn request<T>(w: &World, message: T, token: &str) -> tonic::Request<T> {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header"),
    );
    let caller = w
        .suite
        .authenticator()
        .authenticate(&headers)
        .expect("caller");
    let mut request = TestSuite::authed(message, token);
    request.extensions_mut().insert(caller);
    request
}

async fn overdue(
    w: &World,
    svc: &CoordinationService,
    token: &str,
    filter: v1::ListOverdueRequest,
) -> v1::ListOverdueResponse {
    svc.list_overdue(request(w, filter, token))
        .await
        .expect("overdue")
        .into_inner()
}

async fn cadence_breaches_appear_when_the_clock_passes_them(backend: Backend) {
    let w = World::start(backend).await;
    let c = w.customers.clone();
    let mut client = w.client.clone();
    let admin = w.suite.token("admin1", "HQ", &["admin"]);
    let today = chrono::Utc::now().date_naive();
    let rule = client
        .create_cadence_rule(TestSuite::authed(
            v1::CreateCadenceRuleRequest {
                rule: Some(monthly_visits(today - chrono::Duration::days(90))),
            },
            &admin,
        ))
        .await
        .expect("rule")
        .into_inner()
        .rule
        .expect("rule");
    client
        .create_activity(TestSuite::authed(
            v1::CreateActivityRequest {
                idempotency_key: "v1".into(),
                activity: Some(visit("m1", "BJ01", Corporate, &[&c.core])),
            },
            &w.m1,
        ))
        .await
        .expect("visit");
    let (svc, hand) = service(&w).await;
    let bj01 = v1::ListOverdueRequest {
        branch_id: "BJ01".into(),
        ..Default::default()
    };
    // Today and twenty days on, nothing is due yet (the customers are new to the book).
    let now = overdue(&w, &svc, &w.m1, bj01.clone()).await;
    assert!(now.items.is_empty(), "{:?}", now.items);
    hand.set(chrono::Utc::now() + chrono::Duration::days(20));
    let later = overdue(&w, &svc, &w.m1, bj01.clone()).await;
    assert!(later.items.is_empty(), "{:?}", later.items);
    // Forty-five days on, both corporate customers are in breach.
    hand.set(chrono::Utc::now() + chrono::Duration::days(45));
    let due = overdue(&w, &svc, &w.m1, bj01.clone()).await;
    let cadence: Vec<&v1::OverdueItem> = due
        .items
        .iter()
        .filter(|i| i.kind == v1::OverdueKind::Cadence as i32)
        .collect();
    let never = cadence
        .iter()
        .find(|i| i.customer_id == c.other)
        .expect("the never-visited customer");
    assert!(never.last_activity_time.is_none());
    assert_eq!(never.activities_in_window, 0);
    assert_eq!(never.required_activities, 1);
    assert_eq!(never.responsible_employee_id, "m1");
    assert_eq!(never.branch_id, "BJ01");
    assert_eq!(
        never.rule.as_ref().map(|r| r.rule_id.as_str()),
        Some(rule.rule_id.as_str())
    );
    let visited = cadence
        .iter()
        .find(|i| i.customer_id == c.core)
        .expect("the visited customer, out of its window");
    assert!(visited.last_activity_time.is_some());
    assert!(
        cadence.iter().all(|i| i.customer_id != c.supplier),
        "small businesses are not selected"
    );
    // Per manager and per subtree.
    let m1 = overdue(
        &w,
        &svc,
        &admin,
        v1::ListOverdueRequest {
            branch_id: "HQ".into(),
            responsible_employee_id: "m1".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(m1.items.len(), due.items.len());
    let m1b = overdue(
        &w,
        &svc,
        &w.m1,
        v1::ListOverdueRequest {
            branch_id: "BJ01".into(),
            responsible_employee_id: "m1b".into(),
            ..Default::default()
        },
    )
    .await;
    assert!(m1b.items.is_empty());
    let sh = overdue(
        &w,
        &svc,
        &admin,
        v1::ListOverdueRequest {
            branch_id: "SH".into(),
            ..Default::default()
        },
    )
    .await;
    assert!(sh.items.is_empty(), "{:?}", sh.items);
    // Paging walks the same items.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = overdue(
            &w,
            &svc,
            &w.m1,
            v1::ListOverdueRequest {
                branch_id: "BJ01".into(),
                page_size: 1,
                page_token: token.clone(),
                ..Default::default()
            },
        )
        .await;
        seen.extend(page.items);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, due.items);
    w.suite.stop().await;
}

async fn an_overdue_task_appears_when_the_clock_passes_its_due_date(backend: Backend) {
    let w = World::start(backend).await;
    let opp = w.campaign().await;
    let task = w
        .create_task(&w.m1, &opp.opportunity_id, opp.version, "m1", None, 2)
        .await
        .expect("task");
    let (svc, hand) = service(&w).await;
    let tasks_of = |branch: &str, employee: &str| v1::ListOverdueRequest {
        branch_id: branch.into(),
        responsible_employee_id: employee.into(),
        kinds: vec![v1::OverdueKind::Task as i32],
        ..Default::default()
    };
    // Today and tomorrow the task is not due yet.
    let now = overdue(&w, &svc, &w.m1, tasks_of("BJ01", "")).await;
    assert!(now.items.is_empty(), "{:?}", now.items);
    hand.set(chrono::Utc::now() + chrono::Duration::days(1));
    let tomorrow = overdue(&w, &svc, &w.m1, tasks_of("BJ01", "")).await;
    assert!(tomorrow.items.is_empty(), "{:?}", tomorrow.items);
    // Two weeks on, it is overdue for its owner in BJ01's subtree.
    hand.set(chrono::Utc::now() + chrono::Duration::days(14));
    let due = overdue(&w, &svc, &w.m1, tasks_of("BJ01", "")).await;
    assert_eq!(due.items.len(), 1, "{:?}", due.items);
    let item = &due.items[0];
    assert_eq!(item.kind, v1::OverdueKind::Task as i32);
    assert_eq!(item.task_id, task.task_id);
    assert_eq!(item.opportunity_id, opp.opportunity_id);
    assert_eq!(item.customer_id, w.customers.core);
    assert_eq!(item.responsible_employee_id, "m1");
    assert_eq!(item.branch_id, "BJ01");
    assert_eq!(item.due_date, task.due_date);
    assert!(item.working_days_overdue > 0, "{item:?}");
    let admin = w.suite.token("admin1", "HQ", &["admin"]);
    let m1 = overdue(&w, &svc, &admin, tasks_of("HQ", "m1")).await;
    assert_eq!(m1.items, due.items);
    let m1b = overdue(&w, &svc, &w.m1, tasks_of("BJ01", "m1b")).await;
    assert!(m1b.items.is_empty(), "{:?}", m1b.items);
    let sh = overdue(&w, &svc, &admin, tasks_of("SH", "")).await;
    assert!(sh.items.is_empty(), "{:?}", sh.items);
    // A manager of another subtree (SH01) may not read BJ01's items.
    let denied = svc
        .list_overdue(request(&w, tasks_of("BJ01", ""), &w.m5))
        .await
        .expect_err("BJ01's overdue items are outside SH01's subtree");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied, "{denied:?}");
    // Done, it is no longer overdue.
    let mut client = w.client.clone();
    client
        .update_task(TestSuite::authed(
            v1::UpdateTaskRequest {
                task: Some(v1::Task {
                    task_id: task.task_id.clone(),
                    status: v1::TaskStatus::Done as i32,
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["status".into()],
                }),
                expected_version: task.version,
            },
            &w.m1,
        ))
        .await
        .expect("done");
    let done = overdue(&w, &svc, &w.m1, tasks_of("BJ01", "")).await;
    assert!(done.items.is_empty(), "{:?}", done.items);
    w.suite.stop().await;
}
