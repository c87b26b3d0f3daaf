//! Referrals, activities and rules through gRPC on both backends: a corporate manager refers the
//! core enterprise to the small-business line, which routes it to BJ01's small-business queue;
//! the receiver accepts it and records a conversion (idempotent by key; another outcome refused),
//! and the referrer's score is one of one; a visit is logged, read, updated under optimistic
//! concurrency and listed, and attribution's touchpoint stream carries the visit and the
//! referral; cadence and SLA rules are versioned, listed as of a date, and overlaps refused.
//! A referrer's score is read by the employee, a branch above theirs and bank-wide roles only.

use bankmkt_e2e::coordination::{
    World, fields, monthly_visits, referral, role_token, token, visit,
};
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_proto::v1;
use tonic::Code;

use v1::BusinessLine::*;

bankmkt_e2e::on_both_backends!(
    a_referral_is_routed_accepted_and_converted,
    activities_are_logged_updated_and_streamed,
    cadence_and_sla_rules_are_versioned,
    a_referrer_score_is_read_only_by_self_subtree_and_bank_wide,
);

async fn a_referral_is_routed_accepted_and_converted(backend: Backend) {
    let w = World::start(backend).await;
    let c = w.customers.clone();
    let mut client = w.client.clone();
    let created = client
        .create_referral(TestSuite::authed(
            v1::CreateReferralRequest {
                idempotency_key: "ref1".into(),
                referral: Some(referral(&c.core, "BJ01", Corporate, SmallBusiness)),
            },
            &w.m1,
        ))
        .await
        .expect("create")
        .into_inner()
        .referral
        .expect("referral");
    assert_eq!(created.to_branch_id, "BJ01");
    assert_eq!(created.status, v1::ReferralStatus::Pending as i32);
    assert_eq!(created.referrer_employee_id, "m1");
    // A retry returns the stored referral.
    let again = client
        .create_referral(TestSuite::authed(
            v1::CreateReferralRequest {
                idempotency_key: "ref1".into(),
                referral: Some(referral(&c.core, "BJ01", Corporate, SmallBusiness)),
            },
            &w.m1,
        ))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(
        again.referral.map(|r| r.referral_id),
        Some(created.referral_id.clone())
    );
    // The individual without consent and the same line are refused.
    let err = client
        .create_referral(TestSuite::authed(
            v1::CreateReferralRequest {
                idempotency_key: "ref2".into(),
                referral: Some(referral(&c.exec_no_consent, "BJ01", Corporate, Retail)),
            },
            &w.m1,
        ))
        .await
        .expect_err("no consent");
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    // The receiving queue lists it.
    let queue = client
        .list_referrals(TestSuite::authed(
            v1::ListReferralsRequest {
                to_branch_id: "BJ".into(),
                to_line: SmallBusiness as i32,
                ..Default::default()
            },
            &w.m2,
        ))
        .await
        .expect("queue")
        .into_inner();
    assert_eq!(queue.referrals.len(), 1);
    // The referrer's own line may not accept it; the small-business manager does.
    let err = client
        .accept_referral(TestSuite::authed(
            v1::AcceptReferralRequest {
                referral_id: created.referral_id.clone(),
                expected_version: created.version,
                ..Default::default()
            },
            &w.m1,
        ))
        .await
        .expect_err("not the receiver");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let accepted = client
        .accept_referral(TestSuite::authed(
            v1::AcceptReferralRequest {
                referral_id: created.referral_id.clone(),
                expected_version: created.version,
                reason: "will call tomorrow".into(),
                ..Default::default()
            },
            &w.m2,
        ))
        .await
        .expect("accept")
        .into_inner()
        .referral
        .expect("referral");
    assert_eq!(accepted.status, v1::ReferralStatus::Accepted as i32);
    assert_eq!(accepted.assignee_employee_id, "m2");
    // A second decision is refused: not pending.
    let err = client
        .decline_referral(TestSuite::authed(
            v1::DeclineReferralRequest {
                referral_id: created.referral_id.clone(),
                reason: "changed my mind".into(),
                expected_version: accepted.version,
            },
            &w.m2,
        ))
        .await
        .expect_err("not pending");
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let outcome = |key: &str, converted: bool, id: &str| v1::RecordReferralOutcomeRequest {
        idempotency_key: key.into(),
        referral_id: created.referral_id.clone(),
        outcome: Some(v1::ReferralOutcome {
            converted,
            conversion_id: id.into(),
            ..Default::default()
        }),
    };
    let converted = client
        .record_referral_outcome(TestSuite::authed(outcome("o1", true, "CONV-1"), &w.m2))
        .await
        .expect("outcome")
        .into_inner()
        .referral
        .expect("referral");
    assert_eq!(converted.status, v1::ReferralStatus::Converted as i32);
    let replay = client
        .record_referral_outcome(TestSuite::authed(outcome("o1", true, "CONV-1"), &w.m2))
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(replay.referral.map(|r| r.version), Some(converted.version));
    let err = client
        .record_referral_outcome(TestSuite::authed(outcome("o2", false, ""), &w.m2))
        .await
        .expect_err("another outcome");
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let score = client
        .get_referrer_score(TestSuite::authed(
            v1::GetReferrerScoreRequest {
                employee_id: "m1".into(),
                months: None,
            },
            &w.m1,
        ))
        .await
        .expect("score")
        .into_inner()
        .score
        .expect("score");
    assert_eq!(score.referral_count, 1);
    assert_eq!(score.converted_count, 1);
    assert_eq!(
        score.conversion_rate.map(|d| d.value).as_deref(),
        Some("1.0000")
    );
    let got = client
        .get_referral(TestSuite::authed(
            v1::GetReferralRequest {
                referral_id: created.referral_id.clone(),
            },
            &w.m5,
        ))
        .await
        .expect_err("SH01 does not see it");
    assert_eq!(got.code(), Code::NotFound);
    w.suite.stop().await;
}

async fn activities_are_logged_updated_and_streamed(backend: Backend) {
    let w = World::start(backend).await;
    let c = w.customers.clone();
    let mut client = w.client.clone();
    let logged = client
        .create_activity(TestSuite::authed(
            v1::CreateActivityRequest {
                idempotency_key: "a1".into(),
                activity: Some(visit("m1", "BJ01", Corporate, &[&c.core, &c.supplier])),
            },
            &w.m1,
        ))
        .await
        .expect("log")
        .into_inner()
        .activity
        .expect("activity");
    assert_eq!(logged.version, 1);
    // The executive without any consent may not be visited.
    let err = client
        .create_activity(TestSuite::authed(
            v1::CreateActivityRequest {
                idempotency_key: "a2".into(),
                activity: Some(visit("m1", "BJ01", Corporate, &[&c.exec_no_consent])),
            },
            &w.m1,
        ))
        .await
        .expect_err("no consent");
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let mut change = logged.clone();
    change.record = "agreed a follow-up with the CFO".into();
    let update = |version: i64| v1::UpdateActivityRequest {
        activity: Some(change.clone()),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["record".into()],
        }),
        expected_version: version,
    };
    let updated = client
        .update_activity(TestSuite::authed(update(1), &w.m1))
        .await
        .expect("update")
        .into_inner()
        .activity
        .expect("activity");
    assert_eq!(updated.version, 2);
    assert_eq!(updated.record, "agreed a follow-up with the CFO");
    let err = client
        .update_activity(TestSuite::authed(update(1), &w.m1))
        .await
        .expect_err("stale");
    assert_eq!(err.code(), Code::Aborted);
    let err = client
        .update_activity(TestSuite::authed(update(2), &w.m5))
        .await
        .expect_err("not a participant");
    assert!(
        matches!(err.code(), Code::PermissionDenied | Code::NotFound),
        "{err:?}"
    );
    let got = client
        .get_activity(TestSuite::authed(
            v1::GetActivityRequest {
                activity_id: logged.activity_id.clone(),
            },
            &w.m1b,
        ))
        .await
        .expect("get")
        .into_inner()
        .activity
        .expect("activity");
    assert_eq!(got, updated);
    let listed = client
        .list_activities(TestSuite::authed(
            v1::ListActivitiesRequest {
                customer_id: c.core.clone(),
                ..Default::default()
            },
            &w.m1,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.activities.len(), 1);
    // A referral, then attribution's stream: two visit touchpoints and the referral.
    client
        .create_referral(TestSuite::authed(
            v1::CreateReferralRequest {
                idempotency_key: "r".into(),
                referral: Some(referral(&c.core, "BJ01", Corporate, SmallBusiness)),
            },
            &w.m1,
        ))
        .await
        .expect("referral");
    let attribution = token(&w.suite, "attribution", "HQ", &["corporate"]);
    let err = client
        .stream_touchpoints(TestSuite::authed(
            v1::StreamTouchpointsRequest::default(),
            &attribution,
        ))
        .await
        .expect_err("no range");
    assert_eq!(err.code(), Code::InvalidArgument);
    let auditor = w.suite.token("aud1", "HQ", &["auditor"]);
    let now = chrono::Utc::now();
    let ts = |t: chrono::DateTime<chrono::Utc>| prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    };
    let request = |resume: &str, referrals: bool| v1::StreamTouchpointsRequest {
        start_time: Some(ts(now - chrono::Duration::days(1))),
        end_time: Some(ts(now + chrono::Duration::days(1))),
        customer_ids: vec![],
        include_referrals: referrals,
        resume_token: resume.into(),
    };
    let mut stream = client
        .stream_touchpoints(TestSuite::authed(request("", true), &auditor))
        .await
        .expect("stream")
        .into_inner();
    let mut got = Vec::new();
    while let Some(m) = stream.message().await.expect("message") {
        got.push(m);
    }
    assert_eq!(got.len(), 3, "{got:?}");
    let sources: Vec<i32> = got
        .iter()
        .filter_map(|m| m.touchpoint.as_ref().map(|t| t.source))
        .collect();
    assert_eq!(
        sources
            .iter()
            .filter(|s| **s == v1::TouchpointSource::Activity as i32)
            .count(),
        2
    );
    // Resuming after the first gives the rest.
    let mut rest = client
        .stream_touchpoints(TestSuite::authed(
            request(&got[0].resume_token, true),
            &auditor,
        ))
        .await
        .expect("resume")
        .into_inner();
    let mut n = 0;
    while rest.message().await.expect("message").is_some() {
        n += 1;
    }
    assert_eq!(n, 2);
    w.suite.stop().await;
}

async fn cadence_and_sla_rules_are_versioned(backend: Backend) {
    let w = World::start(backend).await;
    let mut client = w.client.clone();
    let admin = w.suite.token("admin1", "HQ", &["admin"]);
    let today = chrono::Utc::now().date_naive();
    let start = today - chrono::Duration::days(60);
    let err = client
        .create_cadence_rule(TestSuite::authed(
            v1::CreateCadenceRuleRequest {
                rule: Some(monthly_visits(start)),
            },
            &w.m1,
        ))
        .await
        .expect_err("a manager may not");
    assert_eq!(err.code(), Code::PermissionDenied);
    let rule = client
        .create_cadence_rule(TestSuite::authed(
            v1::CreateCadenceRuleRequest {
                rule: Some(monthly_visits(start)),
            },
            &admin,
        ))
        .await
        .expect("create")
        .into_inner()
        .rule
        .expect("rule");
    assert_eq!(rule.version, 1);
    let err = client
        .create_cadence_rule(TestSuite::authed(
            v1::CreateCadenceRuleRequest {
                rule: Some(monthly_visits(start)),
            },
            &admin,
        ))
        .await
        .expect_err("overlap");
    assert_eq!(err.code(), Code::FailedPrecondition);
    let mut next = monthly_visits(today);
    next.rule_id = rule.rule_id.clone();
    next.min_activities = 2;
    let v2 = client
        .update_cadence_rule(TestSuite::authed(
            v1::UpdateCadenceRuleRequest {
                rule: Some(next.clone()),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["min_activities".into(), "effective".into()],
                }),
                expected_version: 1,
            },
            &admin,
        ))
        .await
        .expect("update")
        .into_inner()
        .rule
        .expect("rule");
    assert_eq!((v2.version, v2.min_activities), (2, 2));
    let err = client
        .update_cadence_rule(TestSuite::authed(
            v1::UpdateCadenceRuleRequest {
                rule: Some(next),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["min_activities".into()],
                }),
                expected_version: 1,
            },
            &admin,
        ))
        .await
        .expect_err("stale");
    assert_eq!(err.code(), Code::Aborted);
    let list = |all: bool, on: Option<chrono::NaiveDate>| v1::ListCadenceRulesRequest {
        all_versions: all,
        as_of_date: on.map(|d| {
            use chrono::Datelike;
            v1::Date {
                year: d.year(),
                month: d.month() as i32,
                day: d.day() as i32,
            }
        }),
        ..Default::default()
    };
    let all = client
        .list_cadence_rules(TestSuite::authed(list(true, None), &w.m1))
        .await
        .expect("all")
        .into_inner()
        .rules;
    assert_eq!(all.iter().map(|r| r.version).collect::<Vec<_>>(), [2, 1]);
    let earlier = client
        .list_cadence_rules(TestSuite::authed(
            list(false, Some(today - chrono::Duration::days(10))),
            &w.m1,
        ))
        .await
        .expect("as of")
        .into_inner()
        .rules;
    assert_eq!(earlier.iter().map(|r| r.version).collect::<Vec<_>>(), [1]);
    let sla = client
        .create_sla_rule(TestSuite::authed(
            v1::CreateSlaRuleRequest {
                rule: Some(v1::SlaRule {
                    name: "green channel: referral answer".into(),
                    subject: v1::SlaSubject::ReferralResponse as i32,
                    working_days: 3,
                    effective: monthly_visits(start).effective,
                    ..Default::default()
                }),
            },
            &admin,
        ))
        .await
        .expect("sla")
        .into_inner()
        .rule
        .expect("rule");
    let v2 = client
        .update_sla_rule(TestSuite::authed(
            v1::UpdateSlaRuleRequest {
                rule: Some(v1::SlaRule {
                    rule_id: sla.rule_id.clone(),
                    working_days: 7,
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["working_days".into()],
                }),
                expected_version: 1,
            },
            &admin,
        ))
        .await
        .expect("sla v2")
        .into_inner()
        .rule
        .expect("rule");
    assert_eq!((v2.version, v2.working_days), (2, 7));
    let err = client
        .create_sla_rule(TestSuite::authed(
            v1::CreateSlaRuleRequest {
                rule: Some(v1::SlaRule {
                    name: "x".into(),
                    subject: v1::SlaSubject::ReferralResponse as i32,
                    opportunity_type: v1::OpportunityType::General as i32,
                    working_days: 0,
                    effective: monthly_visits(start).effective,
                    ..Default::default()
                }),
            },
            &admin,
        ))
        .await
        .expect_err("bad rule");
    let f = fields(&err);
    assert!(
        f.contains(&"rule.working_days".to_owned())
            && f.contains(&"rule.opportunity_type".to_owned()),
        "{f:?}"
    );
    w.suite.stop().await;
}

async fn a_referrer_score_is_read_only_by_self_subtree_and_bank_wide(backend: Backend) {
    let w = World::start(backend).await;
    w.client
        .clone()
        .create_referral(TestSuite::authed(
            v1::CreateReferralRequest {
                idempotency_key: "score-ref".into(),
                referral: Some(referral(
                    &w.customers.core,
                    "BJ01",
                    Corporate,
                    SmallBusiness,
                )),
            },
            &w.m1,
        ))
        .await
        .expect("create");
    let score = |token: String| {
        let mut client = w.client.clone();
        async move {
            client
                .get_referrer_score(TestSuite::authed(
                    v1::GetReferrerScoreRequest {
                        employee_id: "m1".into(),
                        months: None,
                    },
                    &token,
                ))
                .await
                .map(|r| r.into_inner().score.expect("score").referral_count)
        }
    };
    // Themself, BJ above BJ01, and a bank-wide auditor at SH01.
    assert_eq!(score(w.m1.clone()).await.expect("self"), 1);
    assert_eq!(score(w.m4.clone()).await.expect("parent branch"), 1);
    let auditor = role_token(&w.suite, "aud1", "SH01", &[], &["auditor"]);
    assert_eq!(score(auditor).await.expect("bank-wide"), 1);
    // SH01 (another subtree) and BJ02 (a sibling) may not.
    let err = score(w.m5.clone()).await.expect_err("another subtree");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let sibling = token(&w.suite, "s1", "BJ02", &["corporate"]);
    let err = score(sibling).await.expect_err("sibling branch");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    w.suite.stop().await;
}
