//! Coordination through gRPC on both backends: a joint campaign around a core enterprise found
//! with its supply chain and executives in the registry (an executive without cross-line consent
//! is not suggested), units of three lines at 5000/3000/2000 with a claim per target and line; a
//! second branch refused with `ALREADY_EXISTS` naming the holder, then joining through a join
//! request and an accepted share amendment, with the shares as of each date; ten concurrent
//! conflicting creates of which exactly one wins; ten concurrent join requests of one unit of which
//! exactly one stays pending; a stale update `ABORTED` with nothing changed;
//! and the stage walk of DOMAIN.md §5 with the claims released on lost. An accepted join request
//! records its amendment's trail (proposed, and accepted when it applies at once), answers
//! `ALREADY_EXISTS` when it loses a claim race, and a lost opportunity declines its pending join
//! requests.

use bankmkt_e2e::coordination::{World, campaign_units, holder, opportunity, token, trail, unit};
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_proto::v1;
use tonic::Code;

use v1::BusinessLine::*;
use v1::OpportunityStage as S;

bankmkt_e2e::on_both_backends!(
    a_campaign_is_formed_refused_elsewhere_and_joined,
    ten_concurrent_conflicting_creates_leave_exactly_one,
    ten_concurrent_join_requests_of_a_unit_leave_one_pending,
    a_stale_update_is_aborted_and_changes_nothing,
    stages_walk_only_as_domain_allows,
    an_accepted_join_records_its_amendment_trail,
    an_accepted_join_losing_a_claim_race_is_already_exists,
    losing_an_opportunity_declines_its_pending_join_requests,
);

fn tomorrow() -> v1::Date {
    let d = chrono::Utc::now().date_naive() + chrono::Duration::days(2);
    use chrono::Datelike;
    v1::Date {
        year: d.year(),
        month: d.month() as i32,
        day: d.day() as i32,
    }
}

async fn a_campaign_is_formed_refused_elsewhere_and_joined(backend: Backend) {
    let w = World::start(backend).await;
    let c = w.customers.clone();
    let mut client = w.client.clone();
    // Suggestions: supplier and consenting executive, the other executive left out and counted.
    let s = client
        .suggest_linked_targets(TestSuite::authed(
            v1::SuggestLinkedTargetsRequest {
                customer_id: c.core.clone(),
                ..Default::default()
            },
            &w.m1,
        ))
        .await
        .expect("suggest")
        .into_inner();
    let ids: Vec<&str> = s
        .suggestions
        .iter()
        .map(|x| x.customer_id.as_str())
        .collect();
    assert!(
        ids.contains(&c.supplier.as_str()) && ids.contains(&c.exec.as_str()),
        "{ids:?}"
    );
    assert!(!ids.contains(&c.exec_no_consent.as_str()));
    assert_eq!(s.excluded_for_consent, 1);

    let opp = w.campaign().await;
    assert_eq!(opp.stage, S::Preparation as i32);
    assert_eq!(opp.units.len(), 3);
    let shares: Vec<i32> = opp.units.iter().map(|u| u.share_bps).collect();
    assert_eq!(shares, [5000, 3000, 2000]);
    assert!(opp.holds_claims);
    for customer in [&c.core, &c.supplier, &c.exec] {
        let claims = w.active_claims(&w.m1, customer).await;
        assert_eq!(claims.len(), 3, "one claim per line");
        assert!(
            claims
                .iter()
                .all(|x| x.opportunity_id == opp.opportunity_id)
        );
    }
    // Adding the executive without consent is refused.
    let err = client
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
        .await
        .expect_err("no consent");
    assert_eq!(err.code(), Code::FailedPrecondition);

    // The second branch (BJ, corporate) is refused, naming the holder it may see.
    let err = w
        .create(
            &w.m4,
            "second",
            opportunity(
                "BJ corporate plan",
                &c.core,
                &[],
                vec![unit("BJ", Corporate, v1::UnitRole::Lead, 10_000)],
            ),
        )
        .await
        .expect_err("claimed");
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");
    assert_eq!(holder(&err).as_deref(), Some(opp.opportunity_id.as_str()));

    // It asks to join; the lead proposes an amendment from a later date; another lead member
    // accepts for the lead unit (the proposer may not).
    let jr = client
        .create_join_request(TestSuite::authed(
            v1::CreateJoinRequestRequest {
                join_request: Some(v1::JoinRequest {
                    opportunity_id: opp.opportunity_id.clone(),
                    unit: Some(v1::UnitRef {
                        branch_id: "BJ".into(),
                        line: Corporate as i32,
                    }),
                    requested_share_bps: 1000,
                    message: "we bank the group's parent".into(),
                    ..Default::default()
                }),
            },
            &w.m4,
        ))
        .await
        .expect("join request")
        .into_inner()
        .join_request
        .expect("request");
    let listed = client
        .list_join_requests(TestSuite::authed(
            v1::ListJoinRequestsRequest {
                opportunity_id: opp.opportunity_id.clone(),
                ..Default::default()
            },
            &w.m1,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.join_requests.len(), 1);
    let mut units = campaign_units();
    units[0].share_bps = 4000;
    units.push(unit("BJ", Corporate, v1::UnitRole::Co, 1000));
    let accepted = client
        .accept_join_request(TestSuite::authed(
            v1::AcceptJoinRequestRequest {
                join_request_id: jr.join_request_id.clone(),
                proposed_units: units,
                effective_date: Some(tomorrow()),
                reason: "welcome".into(),
                expected_version: jr.version,
            },
            &w.m1,
        ))
        .await
        .expect("accept join")
        .into_inner();
    let amendment = accepted.amendment.expect("amendment");
    assert_eq!(amendment.status, v1::AmendmentStatus::Proposed as i32);
    let err = client
        .accept_share_amendment(TestSuite::authed(
            v1::AcceptShareAmendmentRequest {
                amendment_id: amendment.amendment_id.clone(),
                unit_id: "BJ01/corporate".into(),
                expected_version: amendment.version,
                reason: String::new(),
            },
            &w.m1,
        ))
        .await
        .expect_err("maker may not accept");
    assert_eq!(err.code(), Code::PermissionDenied);
    let current = client
        .get_opportunity(TestSuite::authed(
            v1::GetOpportunityRequest {
                opportunity_id: opp.opportunity_id.clone(),
            },
            &w.m1,
        ))
        .await
        .expect("get")
        .into_inner()
        .opportunity
        .expect("opportunity");
    client
        .add_member(TestSuite::authed(
            v1::AddMemberRequest {
                opportunity_id: opp.opportunity_id.clone(),
                member: Some(v1::Member {
                    employee_id: "m1b".into(),
                    unit_id: "BJ01/corporate".into(),
                    role: v1::MemberRole::CustomerManager as i32,
                    added: None,
                }),
                expected_version: current.version,
            },
            &w.m1,
        ))
        .await
        .expect("add member");
    let done = client
        .accept_share_amendment(TestSuite::authed(
            v1::AcceptShareAmendmentRequest {
                amendment_id: amendment.amendment_id.clone(),
                unit_id: "BJ01/corporate".into(),
                expected_version: amendment.version,
                reason: "agreed".into(),
            },
            &w.m1b,
        ))
        .await
        .expect("accept")
        .into_inner()
        .amendment
        .expect("amendment");
    assert_eq!(done.status, v1::AmendmentStatus::Accepted as i32);

    // Shares as of today (the creation set) and from the effective date (four units).
    let shares_on = |date: Option<v1::Date>| {
        let mut client = w.client.clone();
        let id = opp.opportunity_id.clone();
        let token = w.m1.clone();
        async move {
            client
                .get_shares(TestSuite::authed(
                    v1::GetSharesRequest {
                        opportunity_id: id,
                        as_of_date: date,
                    },
                    &token,
                ))
                .await
                .map(|r| r.into_inner().shares.expect("shares"))
        }
    };
    let today = shares_on(None).await.expect("today");
    assert_eq!(today.units.len(), 3);
    assert_eq!(today.change_source, "create");
    let later = shares_on(Some(tomorrow())).await.expect("later");
    let mut bps: Vec<(String, i32)> = later
        .units
        .iter()
        .map(|u| (u.unit_id.clone(), u.share_bps))
        .collect();
    bps.sort();
    assert_eq!(
        bps,
        [
            ("BJ/corporate".to_owned(), 1000),
            ("BJ01/corporate".to_owned(), 4000),
            ("BJ01/retail".to_owned(), 2000),
            ("BJ01/small_business".to_owned(), 3000),
        ]
    );
    assert!(later.change_source.starts_with("amendment:"));
    let before = shares_on(Some(v1::Date {
        year: 2000,
        month: 1,
        day: 1,
    }))
    .await
    .expect_err("before the opportunity");
    assert_eq!(before.code(), Code::NotFound);
    w.suite.stop().await;
}

async fn ten_concurrent_conflicting_creates_leave_exactly_one(backend: Backend) {
    let w = World::start(backend).await;
    let target = w.customers.other.clone();
    let mut tasks = Vec::new();
    for i in 0..10 {
        let client = w.client.clone();
        let token = w.m1.clone();
        let o = opportunity(&format!("race {i}"), &target, &[], campaign_units());
        tasks.push(tokio::spawn(async move {
            let mut client = client;
            client
                .create_opportunity(TestSuite::authed(
                    v1::CreateOpportunityRequest {
                        idempotency_key: format!("race-{i}"),
                        opportunity: Some(o),
                        playbook_id: String::new(),
                    },
                    &token,
                ))
                .await
        }));
    }
    let mut wins = Vec::new();
    let mut refused = Vec::new();
    for t in tasks {
        match t.await.expect("task") {
            Ok(r) => wins.push(r.into_inner().opportunity.expect("o").opportunity_id),
            Err(e) => refused.push(e),
        }
    }
    assert_eq!(wins.len(), 1, "{refused:?}");
    assert_eq!(refused.len(), 9);
    for e in &refused {
        assert_eq!(e.code(), Code::AlreadyExists, "{e:?}");
        assert_eq!(holder(e).as_deref(), Some(wins[0].as_str()));
    }
    assert_eq!(w.active_claims(&w.m1, &target).await.len(), 3);
    w.suite.stop().await;
}

async fn ten_concurrent_join_requests_of_a_unit_leave_one_pending(backend: Backend) {
    let w = World::start(backend).await;
    let opp = w.campaign().await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let mut client = w.client.clone();
        let token = w.m4.clone();
        let id = opp.opportunity_id.clone();
        tasks.push(tokio::spawn(async move {
            client
                .create_join_request(TestSuite::authed(
                    v1::CreateJoinRequestRequest {
                        join_request: Some(v1::JoinRequest {
                            opportunity_id: id,
                            unit: Some(v1::UnitRef {
                                branch_id: "BJ".into(),
                                line: Corporate as i32,
                            }),
                            requested_share_bps: 1000,
                            message: format!("join {i}"),
                            ..Default::default()
                        }),
                    },
                    &token,
                ))
                .await
        }));
    }
    let mut wins = 0;
    let mut refused = Vec::new();
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => wins += 1,
            Err(e) => refused.push(e),
        }
    }
    assert_eq!(wins, 1, "{refused:?}");
    for e in &refused {
        assert_eq!(e.code(), Code::AlreadyExists, "{e:?}");
    }
    let pending = w
        .client
        .clone()
        .list_join_requests(TestSuite::authed(
            v1::ListJoinRequestsRequest {
                opportunity_id: opp.opportunity_id.clone(),
                status: v1::JoinRequestStatus::Pending as i32,
                ..Default::default()
            },
            &w.m1,
        ))
        .await
        .expect("list")
        .into_inner()
        .join_requests;
    assert_eq!(pending.len(), 1, "{pending:?}");
    w.suite.stop().await;
}

async fn a_stale_update_is_aborted_and_changes_nothing(backend: Backend) {
    let w = World::start(backend).await;
    let opp = w.campaign().await;
    let mut client = w.client.clone();
    let update = |name: &str, version: i64| v1::UpdateOpportunityRequest {
        opportunity: Some(v1::Opportunity {
            opportunity_id: opp.opportunity_id.clone(),
            name: name.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["name".into()],
        }),
        expected_version: version,
    };
    let first = client
        .update_opportunity(TestSuite::authed(update("Renamed", opp.version), &w.m1))
        .await
        .expect("first")
        .into_inner()
        .opportunity
        .expect("o");
    assert_eq!(first.version, opp.version + 1);
    let err = client
        .update_opportunity(TestSuite::authed(update("Stale", opp.version), &w.m1))
        .await
        .expect_err("stale");
    assert_eq!(err.code(), Code::Aborted);
    let now = client
        .get_opportunity(TestSuite::authed(
            v1::GetOpportunityRequest {
                opportunity_id: opp.opportunity_id.clone(),
            },
            &w.m1,
        ))
        .await
        .expect("get")
        .into_inner()
        .opportunity
        .expect("o");
    assert_eq!(now.name, "Renamed");
    assert_eq!(now.version, first.version);
    // A manager of another subtree neither sees nor changes it.
    let err = client
        .get_opportunity(TestSuite::authed(
            v1::GetOpportunityRequest {
                opportunity_id: opp.opportunity_id.clone(),
            },
            &w.m5,
        ))
        .await
        .expect_err("invisible");
    assert_eq!(err.code(), Code::NotFound);
    w.suite.stop().await;
}

async fn stages_walk_only_as_domain_allows(backend: Backend) {
    let w = World::start(backend).await;
    let opp = w.campaign().await;
    let id = opp.opportunity_id.clone();
    let o = w
        .transition(&w.m1, &id, opp.version, S::Execution, "")
        .await
        .expect("to execution");
    let err = w
        .transition(&w.m1, &id, o.version, S::Won, "")
        .await
        .expect_err("no quote");
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = w
        .transition(&w.m1, &id, o.version, S::Closed, "")
        .await
        .expect_err("not allowed");
    assert_eq!(err.code(), Code::FailedPrecondition);
    let o = w
        .transition(&w.m1, &id, o.version, S::Preparation, "re-plan")
        .await
        .expect("back to preparation");
    let err = w
        .transition(&w.m1, &id, o.version, S::Lost, "")
        .await
        .expect_err("reason needed");
    assert_eq!(err.code(), Code::InvalidArgument);
    let o = w
        .transition(
            &w.m1,
            &id,
            o.version,
            S::Lost,
            "the group chose another bank",
        )
        .await
        .expect("lost");
    assert!(!o.holds_claims);
    assert!(w.active_claims(&w.m1, &w.customers.core).await.is_empty());
    let err = w
        .transition(&w.m1, &id, o.version, S::Preparation, "")
        .await
        .expect_err("terminal");
    assert_eq!(err.code(), Code::FailedPrecondition);
    // With the claims released, the customer may be claimed again.
    w.create(
        &w.m1,
        "again",
        opportunity("second try", &w.customers.core, &[], campaign_units()),
    )
    .await
    .expect("claims were released");
    w.suite.stop().await;
}

/// `unit` of `line` asks to join `opp` as `token`; the join request.
async fn ask_to_join(
    w: &World,
    opp: &v1::Opportunity,
    branch: &str,
    line: v1::BusinessLine,
    token: &str,
) -> v1::JoinRequest {
    w.client
        .clone()
        .create_join_request(TestSuite::authed(
            v1::CreateJoinRequestRequest {
                join_request: Some(v1::JoinRequest {
                    opportunity_id: opp.opportunity_id.clone(),
                    unit: Some(v1::UnitRef {
                        branch_id: branch.into(),
                        line: line as i32,
                    }),
                    requested_share_bps: 0,
                    message: "let us in".into(),
                    ..Default::default()
                }),
            },
            token,
        ))
        .await
        .expect("join request")
        .into_inner()
        .join_request
        .expect("request")
}

/// The lead accepts `jr` adding its unit at `share` (no share falls when 0).
fn accept_join(jr: &v1::JoinRequest, joining: v1::OpportunityUnit) -> v1::AcceptJoinRequestRequest {
    let mut units = campaign_units();
    units.push(joining);
    v1::AcceptJoinRequestRequest {
        join_request_id: jr.join_request_id.clone(),
        proposed_units: units,
        effective_date: None,
        reason: "welcome".into(),
        expected_version: jr.version,
    }
}

async fn an_accepted_join_records_its_amendment_trail(backend: Backend) {
    let w = World::start(backend).await;
    let opp = w.campaign().await;
    // A join at no share applies at once: proposed and accepted.
    let wealth = token(&w.suite, "w1", "BJ01", &["wealth"]);
    let jr = ask_to_join(&w, &opp, "BJ01", Wealth, &wealth).await;
    let accepted = w
        .client
        .clone()
        .accept_join_request(TestSuite::authed(
            accept_join(&jr, unit("BJ01", Wealth, v1::UnitRole::Co, 0)),
            &w.m1,
        ))
        .await
        .expect("accept join at once")
        .into_inner();
    let amendment = accepted.amendment.expect("amendment");
    assert_eq!(amendment.status, v1::AmendmentStatus::Accepted as i32);
    assert_eq!(
        trail(
            &w.suite,
            &opp.opportunity_id,
            "share_amendment.propose",
            "share_amendment.proposed"
        )
        .await,
        (1, 1)
    );
    assert_eq!(
        trail(
            &w.suite,
            &amendment.amendment_id,
            "share_amendment.accept",
            "share_amendment.accepted"
        )
        .await,
        (1, 1)
    );
    // A join where a share falls is proposed: the join's event and the proposal's.
    // Proposed (a share falls): the join's event and the amendment's proposal event.
    let jr = ask_to_join(&w, &opp, "BJ", Corporate, &w.m4).await;
    let mut units = campaign_units();
    units[0].share_bps = 4000;
    units.push(unit("BJ01", Wealth, v1::UnitRole::Co, 0));
    units.push(unit("BJ", Corporate, v1::UnitRole::Co, 1000));
    let accepted = w
        .client
        .clone()
        .accept_join_request(TestSuite::authed(
            v1::AcceptJoinRequestRequest {
                join_request_id: jr.join_request_id.clone(),
                proposed_units: units,
                effective_date: None,
                reason: "welcome".into(),
                expected_version: jr.version,
            },
            &w.m1,
        ))
        .await
        .expect("accept join")
        .into_inner();
    let amendment = accepted.amendment.expect("amendment");
    assert_eq!(amendment.status, v1::AmendmentStatus::Proposed as i32);
    assert_eq!(
        trail(
            &w.suite,
            &jr.join_request_id,
            "join_request.accept",
            "join_request.accepted"
        )
        .await,
        (1, 1)
    );
    assert_eq!(
        trail(
            &w.suite,
            &opp.opportunity_id,
            "share_amendment.propose",
            "share_amendment.proposed"
        )
        .await,
        (2, 2)
    );
    w.suite.stop().await;
}

async fn an_accepted_join_losing_a_claim_race_is_already_exists(backend: Backend) {
    let w = World::start(backend).await;
    let opp = w.campaign().await;
    let wealth = token(&w.suite, "w1", "BJ01", &["wealth"]);
    let rival = token(&w.suite, "w2", "BJ01", &["wealth"]);
    let jr = ask_to_join(&w, &opp, "BJ01", Wealth, &wealth).await;
    // The join (at once, claiming wealth on the targets) races creates claiming the same.
    let mut tasks = Vec::new();
    {
        let mut client = w.client.clone();
        let request = accept_join(&jr, unit("BJ01", Wealth, v1::UnitRole::Co, 0));
        let token = w.m1.clone();
        tasks.push(tokio::spawn(async move {
            client
                .accept_join_request(TestSuite::authed(request, &token))
                .await
                .map(|_| ())
        }));
    }
    for i in 0..6 {
        let mut client = w.client.clone();
        let token = rival.clone();
        let o = opportunity(
            &format!("wealth {i}"),
            &w.customers.core,
            &[],
            vec![unit("BJ01", Wealth, v1::UnitRole::Lead, 10_000)],
        );
        tasks.push(tokio::spawn(async move {
            client
                .create_opportunity(TestSuite::authed(
                    v1::CreateOpportunityRequest {
                        idempotency_key: format!("wealth-{i}"),
                        opportunity: Some(o),
                        playbook_id: String::new(),
                    },
                    &token,
                ))
                .await
                .map(|_| ())
        }));
    }
    let mut wins = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(()) => wins += 1,
            Err(e) => assert_eq!(e.code(), Code::AlreadyExists, "{e:?}"),
        }
    }
    assert_eq!(wins, 1);
    w.suite.stop().await;
}

async fn losing_an_opportunity_declines_its_pending_join_requests(backend: Backend) {
    let w = World::start(backend).await;
    let opp = w.campaign().await;
    let wealth = token(&w.suite, "w1", "BJ01", &["wealth"]);
    let asked = [
        ask_to_join(&w, &opp, "BJ", Corporate, &w.m4).await,
        ask_to_join(&w, &opp, "BJ01", Wealth, &wealth).await,
    ];
    w.transition(
        &w.m1,
        &opp.opportunity_id,
        opp.version,
        S::Lost,
        "the group chose another bank",
    )
    .await
    .expect("lost");
    let listed = w
        .client
        .clone()
        .list_join_requests(TestSuite::authed(
            v1::ListJoinRequestsRequest {
                opportunity_id: opp.opportunity_id.clone(),
                ..Default::default()
            },
            &w.m1,
        ))
        .await
        .expect("list")
        .into_inner()
        .join_requests;
    assert_eq!(listed.len(), 2);
    for jr in &listed {
        assert_eq!(jr.status, v1::JoinRequestStatus::Declined as i32, "{jr:?}");
        let decided = jr.decided.as_ref().expect("decided");
        assert_eq!(decided.reason, "opportunity lost", "{jr:?}");
        assert_eq!(jr.version, 2);
    }
    for jr in &asked {
        assert_eq!(
            trail(
                &w.suite,
                &jr.join_request_id,
                "join_request.decline",
                "join_request.declined"
            )
            .await,
            (1, 1)
        );
    }
    w.suite.stop().await;
}
