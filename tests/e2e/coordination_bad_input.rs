//! Bad input to coordination on both backends: each refused request answers the right code
//! (naming the field for `INVALID_ARGUMENT`), and the coordination database's fingerprint — every
//! table's row count and checksum — is the same before and after the whole barrage. Every RPC of
//! the contract has at least one refused case.

use bankmkt_e2e::Backend;
use bankmkt_e2e::TestSuite;
use bankmkt_e2e::coordination::{
    World, bid, campaign_units, date_after, fields, opportunity, playbook, proposal, role_token,
    step, unit,
};
use bankmkt_e2e::coordination::{monthly_visits, referral, visit};
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
    // Tasks, playbooks and bids: a task, a playbook of another type and an open bid.
    let team_lead = role_token(&w.suite, "tl1", "BJ01", &["corporate"], &["team_lead"]);
    let task = w
        .create_task(&w.m1, &opp.opportunity_id, opp.version, "m1", None, 2)
        .await
        .expect("task");
    let general = w
        .create_playbook(
            &team_lead,
            playbook(
                "General visits",
                v1::OpportunityType::General,
                vec![step("visit", Corporate, 1)],
            ),
        )
        .await
        .expect("playbook");
    let open_bid = w
        .open_bid(&w.m1, &opp.opportunity_id, opp.version)
        .await
        .expect("bid");
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
    tasks_playbooks_bids(&w, &opp, &lost, &task, &general, &open_bid, &team_lead).await;
    // Referrals, activities, rules and overdue (slice 2b).
    let admin = w.suite.token("admin1", "HQ", &["admin"]);
    let create_referral = |key: &str, r: v1::Referral| v1::CreateReferralRequest {
        idempotency_key: key.into(),
        referral: Some(r),
    };
    check(
        client
            .create_referral(TestSuite::authed(
                create_referral("r1", referral(&c.core, "BJ01", Corporate, Corporate)),
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("referral.to_line"),
        "a referral to the same line",
    );
    check(
        client
            .create_referral(TestSuite::authed(
                create_referral(
                    "r2",
                    referral(&c.exec_no_consent, "BJ01", Corporate, Retail),
                ),
                &w.m1,
            ))
            .await,
        Code::FailedPrecondition,
        None,
        "a referral of an individual without consent",
    );
    let mut no_interest = referral(&c.core, "BJ01", Corporate, Retail);
    no_interest.interest = None;
    check(
        client
            .create_referral(TestSuite::authed(create_referral("r3", no_interest), &w.m1))
            .await,
        Code::InvalidArgument,
        Some("referral.interest"),
        "a referral without interest",
    );
    check(
        client
            .create_referral(TestSuite::authed(
                create_referral("r4", referral(&c.core, "BJ01", Retail, SmallBusiness)),
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("referral.from_unit.line"),
        "a referral from a line the referrer does not work in",
    );
    check(
        client
            .create_referral(TestSuite::authed(
                create_referral("", referral(&c.core, "BJ01", Corporate, Retail)),
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("idempotency_key"),
        "a referral without a key",
    );
    check(
        client
            .accept_referral(TestSuite::authed(
                v1::AcceptReferralRequest {
                    referral_id: "0190b5a4-0000-7000-8000-000000000001".into(),
                    ..Default::default()
                },
                &w.m2,
            ))
            .await,
        Code::NotFound,
        None,
        "accepting an unknown referral",
    );
    check(
        client
            .decline_referral(TestSuite::authed(
                v1::DeclineReferralRequest {
                    referral_id: "0190b5a4-0000-7000-8000-000000000001".into(),
                    reason: String::new(),
                    expected_version: 1,
                },
                &w.m2,
            ))
            .await,
        Code::InvalidArgument,
        Some("reason"),
        "declining without a reason",
    );
    check(
        client
            .record_referral_outcome(TestSuite::authed(
                v1::RecordReferralOutcomeRequest {
                    idempotency_key: "o1".into(),
                    referral_id: "0190b5a4-0000-7000-8000-000000000001".into(),
                    outcome: Some(v1::ReferralOutcome {
                        converted: true,
                        ..Default::default()
                    }),
                },
                &w.m2,
            ))
            .await,
        Code::InvalidArgument,
        Some("outcome.conversion_id"),
        "a conversion without its id",
    );
    check(
        client
            .get_referrer_score(TestSuite::authed(
                v1::GetReferrerScoreRequest::default(),
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("employee_id"),
        "a score of nobody",
    );
    let create_activity = |key: &str, a: v1::Activity| v1::CreateActivityRequest {
        idempotency_key: key.into(),
        activity: Some(a),
    };
    let mut by_phone = visit("m1", "BJ01", Corporate, &[&c.core]);
    by_phone.channel = v1::ContactChannel::Phone as i32;
    check(
        client
            .create_activity(TestSuite::authed(create_activity("a1", by_phone), &w.m1))
            .await,
        Code::InvalidArgument,
        Some("activity.channel"),
        "a visit by phone",
    );
    let mut backwards = visit("m1", "BJ01", Corporate, &[&c.core]);
    backwards.end_time = backwards.start_time.map(|mut t| {
        t.seconds -= 60;
        t
    });
    check(
        client
            .create_activity(TestSuite::authed(create_activity("a2", backwards), &w.m1))
            .await,
        Code::InvalidArgument,
        Some("activity.end_time"),
        "end before start",
    );
    let mut future = visit("m1", "BJ01", Corporate, &[&c.core]);
    future.start_time = Some(prost_types::Timestamp {
        seconds: chrono::Utc::now().timestamp() + 86_400,
        nanos: 0,
    });
    future.end_time = None;
    check(
        client
            .create_activity(TestSuite::authed(create_activity("a3", future), &w.m1))
            .await,
        Code::InvalidArgument,
        Some("activity.start_time"),
        "a start in the future",
    );
    let mut nobody = visit("m1", "BJ01", Corporate, &[&c.core]);
    nobody.participants.clear();
    check(
        client
            .create_activity(TestSuite::authed(create_activity("a4", nobody), &w.m1))
            .await,
        Code::InvalidArgument,
        Some("activity.participants"),
        "no participant",
    );
    check(
        client
            .create_activity(TestSuite::authed(
                create_activity("a5", visit("m1", "BJ01", Corporate, &[&c.exec_no_consent])),
                &w.m1,
            ))
            .await,
        Code::FailedPrecondition,
        None,
        "a visit to an individual without consent",
    );
    check(
        client
            .create_activity(TestSuite::authed(
                create_activity("a6", visit("m5", "BJ01", Corporate, &[&c.core])),
                &w.m1,
            ))
            .await,
        Code::FailedPrecondition,
        None,
        "a participant outside the unit",
    );
    let mut zero_window = monthly_visits(chrono::Utc::now().date_naive());
    zero_window.window_months = 0;
    check(
        client
            .create_cadence_rule(TestSuite::authed(
                v1::CreateCadenceRuleRequest {
                    rule: Some(zero_window),
                },
                &admin,
            ))
            .await,
        Code::InvalidArgument,
        Some("rule.window_months"),
        "a cadence window of zero months",
    );
    check(
        client
            .create_sla_rule(TestSuite::authed(
                v1::CreateSlaRuleRequest {
                    rule: Some(v1::SlaRule {
                        name: "no subject".into(),
                        working_days: 3,
                        effective: monthly_visits(chrono::Utc::now().date_naive()).effective,
                        ..Default::default()
                    }),
                },
                &admin,
            ))
            .await,
        Code::InvalidArgument,
        Some("rule.subject"),
        "an SLA rule without a subject",
    );
    let ts = |days: i64| prost_types::Timestamp {
        seconds: chrono::Utc::now().timestamp() + days * 86_400,
        nanos: 0,
    };
    check(
        client
            .stream_touchpoints(TestSuite::authed(
                v1::StreamTouchpointsRequest {
                    start_time: Some(ts(-420)),
                    end_time: Some(ts(0)),
                    ..Default::default()
                },
                &admin,
            ))
            .await,
        Code::InvalidArgument,
        Some("end_time"),
        "a touchpoint range over 13 months",
    );
    check(
        client
            .list_overdue(TestSuite::authed(
                v1::ListOverdueRequest {
                    kinds: vec![42],
                    ..Default::default()
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("kinds[0]"),
        "an unknown overdue kind",
    );
    every_other_rpc(&w, &opp, &task, &general, &admin).await;
    let after = fingerprint(&settings, ServiceKind::Coordination).await;
    assert_eq!(
        before, after,
        "a refused request changed the coordination database"
    );
    w.suite.stop().await;
}

/// Bad input to needs, solution, tasks, playbooks and bids (slice 2a).
async fn tasks_playbooks_bids(
    w: &World,
    opp: &v1::Opportunity,
    lost: &v1::Opportunity,
    task: &v1::Task,
    general: &v1::Playbook,
    open_bid: &v1::Bid,
    team_lead: &str,
) {
    let mut client = w.client.clone();
    let id = opp.opportunity_id.clone();
    let needs = |opportunity: &v1::Opportunity, priority: i32| v1::UpdateNeedsStatementRequest {
        opportunity_id: opportunity.opportunity_id.clone(),
        needs_statement: Some(v1::NeedsStatement {
            summary: "needs".into(),
            needs: vec![v1::CustomerNeed {
                need_id: "n1".into(),
                category: "financing".into(),
                description: "a loan".into(),
                priority,
                product_ids: vec![],
            }],
            updated: None,
        }),
        expected_version: opportunity.version,
    };
    check(
        client
            .update_needs_statement(TestSuite::authed(needs(opp, 9), &w.m1))
            .await,
        Code::InvalidArgument,
        Some("needs_statement.needs[0].priority"),
        "need of priority 9",
    );
    check(
        client
            .update_needs_statement(TestSuite::authed(needs(lost, 1), &w.m1))
            .await,
        Code::FailedPrecondition,
        None,
        "needs of a lost opportunity",
    );
    check(
        client
            .set_solution_quote(TestSuite::authed(
                v1::SetSolutionQuoteRequest {
                    opportunity_id: id.clone(),
                    quote_id: "not-a-quote".into(),
                    expected_version: opp.version,
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("quote_id"),
        "malformed quote id",
    );
    check(
        w.create_task(&w.m1, &id, opp.version, "m1", Some(date_after(-2)), 0)
            .await,
        Code::InvalidArgument,
        Some("task.due_date"),
        "task due before its creation",
    );
    check(
        w.create_task(&w.m1, &id, opp.version, "m1", None, -1).await,
        Code::InvalidArgument,
        Some("due_in_working_days"),
        "negative due offset",
    );
    check(
        w.create_task(&w.m1, &id, opp.version, "m5", None, 1).await,
        Code::FailedPrecondition,
        None,
        "task owner not a member",
    );
    check(
        client
            .create_task(TestSuite::authed(
                v1::CreateTaskRequest {
                    task: Some(v1::Task {
                        opportunity_id: id.clone(),
                        title: " ".into(),
                        owner_employee_id: "m1".into(),
                        ..Default::default()
                    }),
                    due_in_working_days: 1,
                    expected_version: opp.version,
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("task.title"),
        "task without a title",
    );
    let update_task = |paths: &[&str], expected: i64| v1::UpdateTaskRequest {
        task: Some(v1::Task {
            task_id: task.task_id.clone(),
            title: "renamed".into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        }),
        expected_version: expected,
    };
    check(
        client
            .update_task(TestSuite::authed(
                update_task(&["title"], task.version + 1),
                &w.m1,
            ))
            .await,
        Code::Aborted,
        None,
        "stale task update",
    );
    check(
        client
            .update_task(TestSuite::authed(
                update_task(&["opportunity_id"], task.version),
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("update_mask.paths[0]"),
        "task field that cannot change",
    );
    check(
        client
            .list_tasks(TestSuite::authed(
                v1::ListTasksRequest {
                    page_size: -1,
                    ..Default::default()
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("page_size"),
        "negative task page size",
    );
    check(
        w.create_playbook(
            team_lead,
            playbook("empty", v1::OpportunityType::General, vec![]),
        )
        .await,
        Code::InvalidArgument,
        Some("playbook.steps"),
        "playbook without steps",
    );
    check(
        w.create_playbook(
            &w.m1,
            playbook(
                "by a manager",
                v1::OpportunityType::General,
                vec![step("a", Corporate, 0)],
            ),
        )
        .await,
        Code::PermissionDenied,
        None,
        "playbook by a customer manager",
    );
    check(
        client
            .apply_playbook(TestSuite::authed(
                v1::ApplyPlaybookRequest {
                    idempotency_key: "mismatch".into(),
                    opportunity_id: id.clone(),
                    playbook_id: general.playbook_id.clone(),
                    playbook_version: 0,
                    start_date: None,
                    expected_version: opp.version,
                },
                &w.m1,
            ))
            .await,
        Code::FailedPrecondition,
        None,
        "playbook of another type",
    );
    check(
        client
            .get_playbook(TestSuite::authed(
                v1::GetPlaybookRequest {
                    playbook_id: "0190b3c0-0000-7000-8000-000000000000".into(),
                    version: 0,
                },
                &w.m1,
            ))
            .await,
        Code::NotFound,
        None,
        "unknown playbook",
    );
    check(
        client
            .create_opportunity(TestSuite::authed(
                v1::CreateOpportunityRequest {
                    idempotency_key: "bad-playbook".into(),
                    opportunity: Some(opportunity("x", &w.customers.other, &[], campaign_units())),
                    playbook_id: "nope".into(),
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("playbook_id"),
        "malformed playbook id at creation",
    );
    check(
        client
            .open_bid(TestSuite::authed(
                v1::OpenBidRequest {
                    bid: Some(bid(&id, -60)),
                    expected_version: opp.version,
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("bid.close_time"),
        "bid closing in the past",
    );
    check(
        w.open_bid(&w.m1, &id, opp.version).await,
        Code::FailedPrecondition,
        None,
        "second open bid",
    );
    check(
        client
            .submit_bid_proposal(TestSuite::authed(
                v1::SubmitBidProposalRequest {
                    bid_id: open_bid.bid_id.clone(),
                    proposal: Some(proposal(
                        "BJ01",
                        Corporate,
                        vec![
                            unit("BJ01", Corporate, v1::UnitRole::Lead, 5000),
                            unit("BJ01", Retail, v1::UnitRole::Co, 4999),
                        ],
                    )),
                    expected_version: open_bid.version,
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("proposal.proposed_units"),
        "proposal summing to 9,999",
    );
    let award = |proposal_id: &str, reason: &str| v1::AwardBidRequest {
        bid_id: open_bid.bid_id.clone(),
        proposal_id: proposal_id.into(),
        reason: reason.into(),
        expected_version: open_bid.version,
    };
    check(
        client
            .award_bid(TestSuite::authed(
                award("0190b3c0-0000-7000-8000-000000000000", ""),
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("reason"),
        "award without a reason",
    );
    check(
        client
            .award_bid(TestSuite::authed(
                award("0190b3c0-0000-7000-8000-000000000000", "best plan"),
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("proposal_id"),
        "award of a proposal not in the bid",
    );
    check(
        client
            .get_bid(TestSuite::authed(
                v1::GetBidRequest {
                    bid_id: "0190b3c0-0000-7000-8000-000000000000".into(),
                },
                &w.m1,
            ))
            .await,
        Code::NotFound,
        None,
        "unknown bid",
    );
}

/// Bad input to the RPCs the cases above leave out: ids that are not ids, pages out of range,
/// masks naming nothing, a member who owns an open task, a follow-on without a key.
async fn every_other_rpc(
    w: &World,
    opp: &v1::Opportunity,
    task: &v1::Task,
    general: &v1::Playbook,
    admin: &str,
) {
    let mut client = w.client.clone();
    let id = opp.opportunity_id.clone();
    let unknown = "0190b3c0-0000-7000-8000-000000000000".to_owned();
    let mask = |paths: &[&str]| {
        Some(prost_types::FieldMask {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        })
    };
    // Opportunities.
    check(
        client
            .update_opportunity(TestSuite::authed(
                v1::UpdateOpportunityRequest {
                    opportunity: Some(v1::Opportunity {
                        opportunity_id: id.clone(),
                        name: "renamed".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&[]),
                    expected_version: opp.version,
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("update_mask"),
        "an update naming no field",
    );
    check(
        client
            .suggest_linked_targets(TestSuite::authed(
                v1::SuggestLinkedTargetsRequest::default(),
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("opportunity_id"),
        "suggestions for neither an opportunity nor a customer",
    );
    check(
        client
            .create_follow_on_opportunity(TestSuite::authed(
                v1::CreateFollowOnOpportunityRequest {
                    idempotency_key: String::new(),
                    parent_opportunity_id: id.clone(),
                    name: "second round".into(),
                    units: campaign_units(),
                    expected_parent_version: opp.version,
                    ..Default::default()
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("idempotency_key"),
        "a follow-on without a key",
    );
    check(
        client
            .create_follow_on_opportunity(TestSuite::authed(
                v1::CreateFollowOnOpportunityRequest {
                    idempotency_key: "follow-on".into(),
                    parent_opportunity_id: id.clone(),
                    name: "second round".into(),
                    units: campaign_units(),
                    expected_parent_version: opp.version,
                    ..Default::default()
                },
                &w.m1,
            ))
            .await,
        Code::FailedPrecondition,
        None,
        "a follow-on of an opportunity in preparation",
    );
    // Shares.
    check(
        client
            .accept_share_amendment(TestSuite::authed(
                v1::AcceptShareAmendmentRequest {
                    amendment_id: "nope".into(),
                    unit_id: "BJ01/corporate".into(),
                    expected_version: 1,
                    reason: String::new(),
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("amendment_id"),
        "accepting an amendment that is not an id",
    );
    check(
        client
            .reject_share_amendment(TestSuite::authed(
                v1::RejectShareAmendmentRequest {
                    amendment_id: unknown.clone(),
                    unit_id: "BJ01/corporate".into(),
                    expected_version: 1,
                    reason: String::new(),
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("reason"),
        "rejecting without a reason",
    );
    check(
        client
            .list_share_amendments(TestSuite::authed(
                v1::ListShareAmendmentsRequest {
                    opportunity_id: "nope".into(),
                    ..Default::default()
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("opportunity_id"),
        "amendments of an opportunity that is not an id",
    );
    check(
        client
            .get_shares(TestSuite::authed(
                v1::GetSharesRequest {
                    opportunity_id: unknown.clone(),
                    as_of_date: None,
                },
                &w.m1,
            ))
            .await,
        Code::NotFound,
        None,
        "shares of an unknown opportunity",
    );
    check(
        client
            .batch_get_shares(TestSuite::authed(
                v1::BatchGetSharesRequest {
                    queries: vec![v1::ShareQuery {
                        opportunity_id: "nope".into(),
                        as_of_date: None,
                    }],
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("queries[0].opportunity_id"),
        "a share query that is not an id",
    );
    // Members.
    let removal = client
        .remove_member(TestSuite::authed(
            v1::RemoveMemberRequest {
                opportunity_id: id.clone(),
                employee_id: task.owner_employee_id.clone(),
                expected_version: opp.version,
                reason: String::new(),
            },
            &w.m1,
        ))
        .await;
    let message = removal
        .as_ref()
        .err()
        .map(|e| e.message().to_owned())
        .unwrap_or_default();
    check(
        removal,
        Code::FailedPrecondition,
        None,
        "removing a member who owns an open task",
    );
    assert!(message.contains("open tasks"), "{message}");
    check(
        client
            .remove_member(TestSuite::authed(
                v1::RemoveMemberRequest {
                    opportunity_id: id.clone(),
                    employee_id: String::new(),
                    expected_version: opp.version,
                    reason: String::new(),
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("employee_id"),
        "removing nobody",
    );
    check(
        client
            .list_members(TestSuite::authed(
                v1::ListMembersRequest {
                    opportunity_id: id.clone(),
                    page_size: -1,
                    ..Default::default()
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("page_size"),
        "a negative member page size",
    );
    // Claims and join requests.
    check(
        client
            .list_claims(TestSuite::authed(v1::ListClaimsRequest::default(), &w.m1))
            .await,
        Code::InvalidArgument,
        Some("customer_id"),
        "claims of nothing",
    );
    check(
        client
            .list_join_requests(TestSuite::authed(
                v1::ListJoinRequestsRequest {
                    opportunity_id: id.clone(),
                    page_size: 100_000,
                    ..Default::default()
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("page_size"),
        "a join request page too large",
    );
    check(
        client
            .accept_join_request(TestSuite::authed(
                v1::AcceptJoinRequestRequest {
                    join_request_id: "nope".into(),
                    proposed_units: campaign_units(),
                    ..Default::default()
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("join_request_id"),
        "accepting a join request that is not an id",
    );
    check(
        client
            .decline_join_request(TestSuite::authed(
                v1::DeclineJoinRequestRequest {
                    join_request_id: "nope".into(),
                    reason: "no room".into(),
                    expected_version: 1,
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("join_request_id"),
        "declining a join request that is not an id",
    );
    // Referrals and activities.
    check(
        client
            .get_referral(TestSuite::authed(
                v1::GetReferralRequest {
                    referral_id: "nope".into(),
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("referral_id"),
        "a referral that is not an id",
    );
    check(
        client
            .list_referrals(TestSuite::authed(
                v1::ListReferralsRequest {
                    page_size: -1,
                    ..Default::default()
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("page_size"),
        "a negative referral page size",
    );
    check(
        client
            .get_activity(TestSuite::authed(
                v1::GetActivityRequest {
                    activity_id: "nope".into(),
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("activity_id"),
        "an activity that is not an id",
    );
    check(
        client
            .update_activity(TestSuite::authed(
                v1::UpdateActivityRequest {
                    activity: Some(v1::Activity {
                        activity_id: unknown.clone(),
                        subject: "renamed".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&[]),
                    expected_version: 1,
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("update_mask"),
        "an activity update naming no field",
    );
    check(
        client
            .list_activities(TestSuite::authed(
                v1::ListActivitiesRequest {
                    page_size: -1,
                    ..Default::default()
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("page_size"),
        "a negative activity page size",
    );
    // Rules.
    check(
        client
            .update_cadence_rule(TestSuite::authed(
                v1::UpdateCadenceRuleRequest {
                    rule: Some(v1::CadenceRule {
                        rule_id: "nope".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&["min_activities"]),
                    expected_version: 1,
                },
                admin,
            ))
            .await,
        Code::InvalidArgument,
        Some("rule.rule_id"),
        "a cadence rule that is not an id",
    );
    check(
        client
            .list_cadence_rules(TestSuite::authed(
                v1::ListCadenceRulesRequest {
                    page_size: -1,
                    ..Default::default()
                },
                admin,
            ))
            .await,
        Code::InvalidArgument,
        Some("page_size"),
        "a negative cadence rule page size",
    );
    check(
        client
            .update_sla_rule(TestSuite::authed(
                v1::UpdateSlaRuleRequest {
                    rule: Some(v1::SlaRule {
                        rule_id: "nope".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&["working_days"]),
                    expected_version: 1,
                },
                admin,
            ))
            .await,
        Code::InvalidArgument,
        Some("rule.rule_id"),
        "an SLA rule that is not an id",
    );
    check(
        client
            .list_sla_rules(TestSuite::authed(
                v1::ListSlaRulesRequest {
                    page_size: -1,
                    ..Default::default()
                },
                admin,
            ))
            .await,
        Code::InvalidArgument,
        Some("page_size"),
        "a negative SLA rule page size",
    );
    // Playbooks and bids.
    check(
        client
            .update_playbook(TestSuite::authed(
                v1::UpdatePlaybookRequest {
                    playbook: Some(v1::Playbook {
                        playbook_id: general.playbook_id.clone(),
                        name: "renamed".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&[]),
                    expected_version: general.version,
                },
                admin,
            ))
            .await,
        Code::InvalidArgument,
        Some("update_mask"),
        "a playbook update naming no field",
    );
    check(
        client
            .list_playbooks(TestSuite::authed(
                v1::ListPlaybooksRequest {
                    page_size: -1,
                    ..Default::default()
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("page_size"),
        "a negative playbook page size",
    );
    check(
        client
            .list_bids(TestSuite::authed(
                v1::ListBidsRequest {
                    opportunity_id: "nope".into(),
                    ..Default::default()
                },
                &w.m1,
            ))
            .await,
        Code::InvalidArgument,
        Some("opportunity_id"),
        "bids of an opportunity that is not an id",
    );
}
