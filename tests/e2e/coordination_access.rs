//! Access through membership (DOMAIN.md §5) on both backends: an opportunity led by BJ01
//! corporate with an SH01 corporate co-unit; m5 of SH01 (another branch subtree) cannot read the
//! core enterprise's 360 before joining, reads it and the linked supplier's (and a linked target
//! added later) while a member, and gets the registry's `NOT_FOUND` again after removal, and after
//! the opportunity is lost. A registry that cannot be reached fails the write that would change
//! the grants with `UNAVAILABLE` and changes nothing. `RemoveMember` refuses a member who owns
//! open tasks of the opportunity (`FAILED_PRECONDITION`) and lets them go once the task is done.
//! `ListClaims` naming an opportunity the caller may not see answers as `GetOpportunity` does.

use std::time::Duration;

use bankmkt_coordination::{CoordinationService, Migrator, clients};
use bankmkt_e2e::coordination::{World, opportunity, unit};
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_platform::cache::ReadThrough;
use bankmkt_platform::client::ServiceIdentity;
use bankmkt_platform::db;
use bankmkt_platform::settings::ServiceKind;
use bankmkt_proto::v1;
use bankmkt_proto::v1::coordination_server::Coordination;
use tonic::Code;

use v1::BusinessLine::*;

bankmkt_e2e::on_both_backends!(
    a_member_from_another_subtree_reads_the_targets_360_only_while_a_member,
    a_registry_that_is_down_fails_the_write_and_changes_nothing,
    a_member_with_open_tasks_stays,
    claims_of_an_opportunity_are_listed_only_to_who_may_see_it,
);

/// BJ01 corporate leads with 6000, SH01 corporate joins with 4000.
fn two_branch_units() -> Vec<v1::OpportunityUnit> {
    vec![
        unit("BJ01", Corporate, v1::UnitRole::Lead, 6000),
        unit("SH01", Corporate, v1::UnitRole::Co, 4000),
    ]
}

/// The 360 of `customer` as `token` reads it: `Ok(())` or the registry's code.
async fn read_360(w: &World, token: &str, customer: &str) -> Result<(), Code> {
    w.registry
        .clone()
        .get_customer360(TestSuite::authed(
            v1::GetCustomer360Request {
                customer_id: customer.into(),
            },
            token,
        ))
        .await
        .map(|_| ())
        .map_err(|s| s.code())
}

fn invisible(result: Result<(), Code>, case: &str) {
    match result {
        Err(Code::NotFound | Code::PermissionDenied) => {}
        other => panic!("{case}: expected NOT_FOUND or PERMISSION_DENIED, got {other:?}"),
    }
}

async fn remove_member(
    w: &World,
    token: &str,
    id: &str,
    version: i64,
    employee: &str,
) -> Result<i64, tonic::Status> {
    w.client
        .clone()
        .remove_member(TestSuite::authed(
            v1::RemoveMemberRequest {
                opportunity_id: id.into(),
                employee_id: employee.into(),
                expected_version: version,
                reason: "moved on".into(),
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().opportunity_version)
}

async fn get(w: &World, id: &str) -> v1::Opportunity {
    w.client
        .clone()
        .get_opportunity(TestSuite::authed(
            v1::GetOpportunityRequest {
                opportunity_id: id.into(),
            },
            &w.m1,
        ))
        .await
        .expect("get")
        .into_inner()
        .opportunity
        .expect("opportunity")
}

async fn a_member_from_another_subtree_reads_the_targets_360_only_while_a_member(backend: Backend) {
    let w = World::start(backend).await;
    let c = w.customers.clone();
    let opp = w
        .create(
            &w.m1,
            "two-branch",
            opportunity(
                "Core Steel group",
                &c.core,
                &[&c.supplier],
                two_branch_units(),
            ),
        )
        .await
        .expect("create");
    let id = opp.opportunity_id.clone();
    // The creator reads in their own subtree anyway; m5 of SH01 does not.
    assert_eq!(read_360(&w, &w.m1, &c.core).await, Ok(()));
    invisible(read_360(&w, &w.m5, &c.core).await, "before joining");
    invisible(
        read_360(&w, &w.m5, &c.supplier).await,
        "linked, before joining",
    );

    // A member of the SH01 unit reads every target, across subtrees.
    let version = w
        .add_member(&w.m1, &id, opp.version, "m5", "SH01/corporate")
        .await
        .expect("m5 joins");
    assert_eq!(read_360(&w, &w.m5, &c.core).await, Ok(()));
    assert_eq!(read_360(&w, &w.m5, &c.supplier).await, Ok(()));
    invisible(read_360(&w, &w.m5, &c.other).await, "not a target");

    // A linked target added later is granted too, and taken back when removed.
    let mut client = w.client.clone();
    let added = client
        .add_linked_targets(TestSuite::authed(
            v1::AddLinkedTargetsRequest {
                opportunity_id: id.clone(),
                targets: vec![v1::LinkedTarget {
                    customer_id: c.exec.clone(),
                    ..Default::default()
                }],
                expected_version: version,
            },
            &w.m1,
        ))
        .await
        .expect("add the executive")
        .into_inner()
        .opportunity
        .expect("opportunity");
    assert_eq!(read_360(&w, &w.m5, &c.exec).await, Ok(()));
    let removed = client
        .remove_linked_target(TestSuite::authed(
            v1::RemoveLinkedTargetRequest {
                opportunity_id: id.clone(),
                customer_id: c.exec.clone(),
                expected_version: added.version,
                reason: String::new(),
            },
            &w.m1,
        ))
        .await
        .expect("remove the executive")
        .into_inner()
        .opportunity
        .expect("opportunity");
    invisible(read_360(&w, &w.m5, &c.exec).await, "removed target");
    assert_eq!(read_360(&w, &w.m5, &c.core).await, Ok(()));

    // Removed: invisible again.
    let version = remove_member(&w, &w.m1, &id, removed.version, "m5")
        .await
        .expect("m5 leaves");
    invisible(read_360(&w, &w.m5, &c.core).await, "after removal");
    invisible(
        read_360(&w, &w.m5, &c.supplier).await,
        "linked, after removal",
    );

    // Back in, then the opportunity is lost: invisible again.
    let version = w
        .add_member(&w.m1, &id, version, "m5", "SH01/corporate")
        .await
        .expect("m5 rejoins");
    assert_eq!(read_360(&w, &w.m5, &c.core).await, Ok(()));
    w.transition(
        &w.m1,
        &id,
        version,
        v1::OpportunityStage::Lost,
        "went elsewhere",
    )
    .await
    .expect("lost");
    invisible(read_360(&w, &w.m5, &c.core).await, "after lost");
    invisible(read_360(&w, &w.m5, &c.supplier).await, "linked, after lost");
    // The creator still reads in their own subtree.
    assert_eq!(read_360(&w, &w.m1, &c.core).await, Ok(()));
    w.suite.stop().await;
}

/// A coordination service of the library on the suite's database whose registry is at
/// `registry_endpoint`.
async fn service(w: &World, registry_endpoint: &str) -> CoordinationService {
    let settings = w.suite.settings();
    let identity = || ServiceIdentity::new("coordination", w.suite.authenticator());
    let pricing_endpoint = format!("http://{}", w.suite.addr("pricing"));
    CoordinationService {
        db: db::open::<Migrator>(&settings, ServiceKind::Coordination)
            .await
            .expect("db"),
        cache: ReadThrough::from_settings(&settings).expect("cache"),
        clock: bankmkt_platform::clock::Clock::system(
            bankmkt_domain::calendar::BusinessCalendar::new(
                bankmkt_domain::calendar::parse_timezone(&settings.timezone).expect("timezone"),
                [],
                [],
            )
            .expect("calendar"),
        ),
        registry: clients::Registry::connect_lazy(
            registry_endpoint,
            Duration::from_secs(2),
            identity(),
        )
        .expect("registry"),
        pricing: clients::Pricing::connect_lazy(
            &pricing_endpoint,
            Duration::from_secs(2),
            identity(),
        )
        .expect("pricing"),
    }
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

async fn a_registry_that_is_down_fails_the_write_and_changes_nothing(backend: Backend) {
    let w = World::start(backend).await;
    let c = w.customers.clone();
    let opp = w
        .create(
            &w.m1,
            "down",
            opportunity("Core Steel group", &c.core, &[], two_branch_units()),
        )
        .await
        .expect("create");
    let id = opp.opportunity_id.clone();
    let version = w
        .add_member(&w.m1, &id, opp.version, "m5", "SH01/corporate")
        .await
        .expect("m5 joins");
    // A port nobody listens on.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let svc = service(&w, &format!("http://{dead}")).await;
    let err = svc
        .transition_stage(request(
            &w,
            v1::TransitionStageRequest {
                opportunity_id: id.clone(),
                to_stage: v1::OpportunityStage::Lost as i32,
                reason: "went elsewhere".into(),
                after_sales: None,
                expected_version: version,
            },
            &w.m1,
        ))
        .await
        .expect_err("the registry is down");
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    let err = svc
        .remove_member(request(
            &w,
            v1::RemoveMemberRequest {
                opportunity_id: id.clone(),
                employee_id: "m5".into(),
                expected_version: version,
                reason: String::new(),
            },
            &w.m1,
        ))
        .await
        .expect_err("the registry is down");
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    // Nothing changed: same stage and version, claims held, m5 a member who still reads.
    let after = get(&w, &id).await;
    assert_eq!(after.version, version);
    assert_eq!(after.stage, v1::OpportunityStage::Preparation as i32);
    assert!(after.holds_claims);
    assert_eq!(w.active_claims(&w.m1, &c.core).await.len(), 1);
    assert_eq!(read_360(&w, &w.m5, &c.core).await, Ok(()));
    // With the registry back (the suite's), the same write goes through.
    w.transition(
        &w.m1,
        &id,
        version,
        v1::OpportunityStage::Lost,
        "went elsewhere",
    )
    .await
    .expect("lost");
    invisible(read_360(&w, &w.m5, &c.core).await, "after lost");
    w.suite.stop().await;
}

async fn a_member_with_open_tasks_stays(backend: Backend) {
    let w = World::start(backend).await;
    let c = w.customers.clone();
    let opp = w
        .create(
            &w.m1,
            "tasks",
            opportunity("Core Steel group", &c.core, &[], two_branch_units()),
        )
        .await
        .expect("create");
    let id = opp.opportunity_id.clone();
    let version = w
        .add_member(&w.m1, &id, opp.version, "m5", "SH01/corporate")
        .await
        .expect("m5 joins");
    let task = w
        .create_task(&w.m1, &id, version, "m5", None, 2)
        .await
        .expect("task for m5");
    let err = remove_member(&w, &w.m1, &id, version, "m5")
        .await
        .expect_err("m5 owns an open task");
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(get(&w, &id).await.version, version, "nothing changed");
    assert_eq!(read_360(&w, &w.m5, &c.core).await, Ok(()));
    // Done, the task no longer keeps them.
    w.client
        .clone()
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
    let version = get(&w, &id).await.version;
    remove_member(&w, &w.m1, &id, version, "m5")
        .await
        .expect("m5 leaves");
    invisible(read_360(&w, &w.m5, &c.core).await, "after removal");
    w.suite.stop().await;
}

async fn claims_of_an_opportunity_are_listed_only_to_who_may_see_it(backend: Backend) {
    let w = World::start(backend).await;
    let opp = w.campaign().await;
    let list = |token: String| {
        let mut client = w.client.clone();
        let id = opp.opportunity_id.clone();
        async move {
            client
                .list_claims(TestSuite::authed(
                    v1::ListClaimsRequest {
                        opportunity_id: id,
                        ..Default::default()
                    },
                    &token,
                ))
                .await
                .map(|r| r.into_inner().claims)
        }
    };
    // The lead's member sees all nine claims (three targets, three lines).
    assert_eq!(list(w.m1.clone()).await.expect("lead lists").len(), 9);
    // m5 of SH01 may not see the opportunity: answered as GetOpportunity answers.
    let get = w
        .client
        .clone()
        .get_opportunity(TestSuite::authed(
            v1::GetOpportunityRequest {
                opportunity_id: opp.opportunity_id.clone(),
            },
            &w.m5,
        ))
        .await
        .expect_err("m5 may not get it");
    let listed = list(w.m5.clone())
        .await
        .expect_err("m5 may not list its claims");
    assert_eq!(listed.code(), get.code(), "{listed:?}");
    assert_eq!(listed.code(), Code::NotFound);
    w.suite.stop().await;
}
