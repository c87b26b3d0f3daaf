//! Bad input to coordination on both backends: each refused request answers the right code
//! (naming the field for `INVALID_ARGUMENT`), and the coordination database's fingerprint — every
//! table's row count and checksum — is the same before and after the whole barrage.

use bankmkt_e2e::Backend;
use bankmkt_e2e::TestSuite;
use bankmkt_e2e::coordination::{World, campaign_units, fields, opportunity, unit};
use bankmkt_e2e::fingerprint::fingerprint;
use bankmkt_platform::settings::ServiceKind;
use bankmkt_proto::v1;
use tonic::Code;

use v1::BusinessLine::*;

bankmkt_e2e::on_both_backends!(bad_input_names_the_field_and_changes_nothing);

fn check<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    code: Code,
    field: Option<&str>,
    case: &str,
) {
    let err = result.expect_err(case);
    assert_eq!(err.code(), code, "{case}: {err:?}");
    if let Some(field) = field {
        assert!(
            fields(&err).iter().any(|f| f == field),
            "{case}: expected {field} in {:?}",
            fields(&err)
        );
    }
}

async fn bad_input_names_the_field_and_changes_nothing(backend: Backend) {
    let w = World::start(backend).await;
    let c = w.customers.clone();
    let opp = w.campaign().await;
    let lost = w
        .create(
            &w.m1,
            "lost",
            opportunity("lost one", &c.other, &[], campaign_units()),
        )
        .await
        .expect("second");
    let lost = w
        .transition(
            &w.m1,
            &lost.opportunity_id,
            lost.version,
            v1::OpportunityStage::Lost,
            "no",
        )
        .await
        .expect("lost");
    let settings = w.suite.settings();
    let before = fingerprint(&settings, ServiceKind::Coordination).await;
    let mut client = w.client.clone();
    let with_shares = |a: i32, b: i32, cc: i32| {
        vec![
            unit("BJ01", Corporate, v1::UnitRole::Lead, a),
            unit("BJ01", SmallBusiness, v1::UnitRole::Co, b),
            unit("BJ01", Retail, v1::UnitRole::Co, cc),
        ]
    };
    let target = c.other.clone();
    for (i, (units, field)) in [
        (with_shares(5000, 3000, 1999), "opportunity.units"),
        (with_shares(5000, 3000, 2001), "opportunity.units"),
        (
            with_shares(10_500, -500, 0),
            "opportunity.units[1].share_bps",
        ),
        (vec![], "opportunity.units"),
    ]
    .into_iter()
    .enumerate()
    {
        check(
            w.create(
                &w.m1,
                &format!("bad{i}"),
                opportunity("bad", &target, &[], units),
            )
            .await,
            Code::InvalidArgument,
            Some(field),
            &format!("shares case {i}"),
        );
    }
    check(
        w.create(
            &w.m1,
            "noname",
            opportunity("", &target, &[], campaign_units()),
        )
        .await,
        Code::InvalidArgument,
        Some("opportunity.name"),
        "empty name",
    );
    check(
        w.create(&w.m1, "", opportunity("x", &target, &[], campaign_units()))
            .await,
        Code::InvalidArgument,
        Some("idempotency_key"),
        "no key",
    );
    check(
        w.create(
            &w.m1,
            "consent",
            opportunity("x", &target, &[&c.exec_no_consent], campaign_units()),
        )
        .await,
        Code::FailedPrecondition,
        None,
        "individual without consent",
    );
    check(
        client
            .add_linked_targets(TestSuite::authed(
                v1::AddLinkedTargetsRequest {
                    opportunity_id: opp.opportunity_id.clone(),
                    targets: vec![v1::LinkedTarget {
                        customer_id: c.exec_no_consent.clone(),
                        ..Default::default()
                    }],
                    expected_version: opp.version,
                },
                &w.m1,
            ))
            .await,
        Code::FailedPrecondition,
        None,
        "linked individual without consent",
    );
    check(
        client
            .add_member(TestSuite::authed(
                v1::AddMemberRequest {
                    opportunity_id: opp.opportunity_id.clone(),
                    member: Some(v1::Member {
                        employee_id: "x1".into(),
                        unit_id: "BJ01/retail".into(),
                        role: v1::MemberRole::Support as i32,
                        added: None,
                    }),
                    expected_version: opp.version,
                },
                &w.m1,
            ))
            .await,
        Code::FailedPrecondition,
        None,
        "member outside every unit",
    );
    check(
        w.transition(
            &w.m1,
            &lost.opportunity_id,
            lost.version,
            v1::OpportunityStage::Preparation,
            "",
        )
        .await,
        Code::FailedPrecondition,
        None,
        "out of a terminal stage",
    );
    check(
        w.transition(
            &w.m1,
            &opp.opportunity_id,
            opp.version,
            v1::OpportunityStage::Lost,
            "",
        )
        .await,
        Code::InvalidArgument,
        Some("reason"),
        "lost without reason",
    );
    check(
        w.transition(
            &w.m1,
            &opp.opportunity_id,
            opp.version + 7,
            v1::OpportunityStage::Execution,
            "",
        )
        .await,
        Code::Aborted,
        None,
        "stale transition",
    );
    check(
        client
            .propose_share_amendment(TestSuite::authed(
                v1::ProposeShareAmendmentRequest {
                    opportunity_id: opp.opportunity_id.clone(),
                    proposed_units: with_shares(5000, 3000, 2001),
                    effective_date: None,
                    reason: "rebalance".into(),
                    expected_version: opp.version,
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("proposed_units"),
        "amendment summing to 10,001",
    );
    check(
        client
            .propose_share_amendment(TestSuite::authed(
                v1::ProposeShareAmendmentRequest {
                    opportunity_id: opp.opportunity_id.clone(),
                    proposed_units: with_shares(6000, 2000, 2000),
                    effective_date: None,
                    reason: "rebalance".into(),
                    expected_version: opp.version,
                },
                &w.m2,
            ))
            .await,
        Code::PermissionDenied,
        None,
        "amendment by a co-unit",
    );
    check(
        client
            .get_opportunity(TestSuite::authed(
                v1::GetOpportunityRequest {
                    opportunity_id: "nope".into(),
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("opportunity_id"),
        "bad id",
    );
    check(
        client
            .get_opportunity(TestSuite::authed(
                v1::GetOpportunityRequest {
                    opportunity_id: "0190b3c0-0000-7000-8000-000000000000".into(),
                },
                &w.m1,
            ))
            .await,
        Code::NotFound,
        None,
        "unknown id",
    );
    check(
        client
            .list_opportunities(TestSuite::authed(
                v1::ListOpportunitiesRequest {
                    page_size: -1,
                    ..Default::default()
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("page_size"),
        "negative page size",
    );
    check(
        client
            .remove_linked_target(TestSuite::authed(
                v1::RemoveLinkedTargetRequest {
                    opportunity_id: opp.opportunity_id.clone(),
                    customer_id: c.core.clone(),
                    expected_version: opp.version,
                    reason: String::new(),
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("customer_id"),
        "removing the main target",
    );
    check(
        client
            .create_join_request(TestSuite::authed(
                v1::CreateJoinRequestRequest {
                    join_request: Some(v1::JoinRequest {
                        opportunity_id: opp.opportunity_id.clone(),
                        unit: Some(v1::UnitRef {
                            branch_id: "BJ01".into(),
                            line: Corporate as i32,
                        }),
                        ..Default::default()
                    }),
                },
                &w.m1,
            ))
            .await,
        Code::FailedPrecondition,
        None,
        "join by a unit already in",
    );
    let after = fingerprint(&settings, ServiceKind::Coordination).await;
    assert_eq!(
        before, after,
        "a refused request changed the coordination database"
    );
    w.suite.stop().await;
}
