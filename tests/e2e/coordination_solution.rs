//! The needs statement and the solution quote of coordination through gRPC on both backends,
//! with the complete pricing service behind it: a needs statement is written; a quote of another
//! customer than the main target is refused (`FAILED_PRECONDITION` `QUOTE_OF_ANOTHER_CUSTOMER`
//! naming `quote_id`), a stale write is `ABORTED` and an unknown quote `NOT_FOUND`, none of them
//! changing the coordination database; the firm's own quote becomes the solution while a draft,
//! won is refused until a tier-2 approver other than the maker approves it, and then the
//! opportunity is won and moves to follow-up with its A/B after-sales owners.

use bankmkt_domain::customer::uscc_check_char;
use bankmkt_e2e::coordination::{opportunity, role_token, trail, unit};
use bankmkt_e2e::fingerprint::fingerprint;
use bankmkt_e2e::pricing::preconditions;
use bankmkt_e2e::quotes::{QuoteWorld, balance_item};
use bankmkt_e2e::{Backend, TestSuite, on_both_backends};
use bankmkt_platform::settings::ServiceKind;
use bankmkt_proto::v1;
use bankmkt_proto::v1::coordination_client::CoordinationClient;
use tonic::Code;

use v1::OpportunityStage as S;

on_both_backends!(an_approved_quote_wins_and_moves_to_follow_up);

async fn an_approved_quote_wins_and_moves_to_follow_up(backend: Backend) {
    let mut w = QuoteWorld::start(backend, |_| {}).await;
    let mut client = CoordinationClient::new(w.h.suite.channel("coordination").await);
    let e1 = role_token(
        &w.h.suite,
        "e1",
        "BJ0101",
        &["corporate"],
        &["customer_manager"],
    );
    let mk = w.token("mk", "BJ01", &["customer_manager", "approver"]);
    let a_t2 = w.token("a-t2", "BJ01", &["approver"]);
    let body = format!("91110100M{:08}", 700_900);
    let uscc = format!("{body}{}", uscc_check_char(&body).unwrap_or('0'));
    let maker = w.maker.clone();
    let other = w
        .registry
        .create_customer(TestSuite::authed(
            v1::CreateCustomerRequest {
                idempotency_key: "solution-other".into(),
                customer: Some(v1::Customer {
                    kind: v1::CustomerKind::Corporate as i32,
                    name: "Other Machinery".into(),
                    identities: vec![v1::IdentityDocument {
                        identity_type: v1::IdentityType::UnifiedSocialCreditCode as i32,
                        number: uscc,
                        ..Default::default()
                    }],
                    owning_branch_id: "BJ0101".into(),
                    primary_manager_id: "e1".into(),
                    backup_manager_id: "e2".into(),
                    ..Default::default()
                }),
                source_refs: vec![],
            },
            &maker,
        ))
        .await
        .expect("other customer")
        .into_inner()
        .customer
        .expect("customer")
        .customer_id;
    let units = || {
        vec![unit(
            "BJ0101",
            v1::BusinessLine::Corporate,
            v1::UnitRole::Lead,
            10_000,
        )]
    };
    let mut create = async |key: &str, target: &str| {
        client
            .create_opportunity(TestSuite::authed(
                v1::CreateOpportunityRequest {
                    idempotency_key: key.into(),
                    opportunity: Some(opportunity("Machinery works", target, &[], units())),
                    playbook_id: String::new(),
                },
                &e1,
            ))
            .await
            .expect("create")
            .into_inner()
            .opportunity
            .expect("opportunity")
    };
    let opp = create("firm", &w.firm.clone()).await;
    let elsewhere = create("other", &other).await;
    let id = opp.opportunity_id.clone();

    // The needs statement.
    let o = client
        .update_needs_statement(TestSuite::authed(
            v1::UpdateNeedsStatementRequest {
                opportunity_id: id.clone(),
                needs_statement: Some(v1::NeedsStatement {
                    summary: "working capital for the new plant".into(),
                    needs: vec![v1::CustomerNeed {
                        need_id: "n1".into(),
                        category: "financing".into(),
                        description: "a one-year working-capital loan".into(),
                        priority: 1,
                        product_ids: vec!["LOAN-WC-1Y".into()],
                    }],
                    updated: None,
                }),
                expected_version: opp.version,
            },
            &e1,
        ))
        .await
        .expect("needs")
        .into_inner()
        .opportunity
        .expect("opportunity");
    let needs = o.needs_statement.clone().expect("statement");
    assert_eq!(needs.needs.len(), 1);
    assert_eq!(
        needs.updated.as_ref().map(|u| u.actor_id.as_str()),
        Some("e1")
    );
    assert_eq!(o.version, opp.version + 1);
    let version = client
        .add_member(TestSuite::authed(
            v1::AddMemberRequest {
                opportunity_id: id.clone(),
                member: Some(v1::Member {
                    employee_id: "e2".into(),
                    unit_id: "BJ0101/corporate".into(),
                    role: v1::MemberRole::CustomerManager as i32,
                    added: None,
                }),
                expected_version: o.version,
            },
            &e1,
        ))
        .await
        .expect("e2 joins")
        .into_inner()
        .opportunity_version;

    // 4.00% against a relationship price of 4.25%: a tier-2 approval.
    let quote = w
        .create(
            &mk,
            v1::CreateQuoteRequest {
                idempotency_key: "solution".into(),
                customer_id: w.firm.clone(),
                branch_id: "BJ0101".into(),
                items: vec![balance_item("LOAN-WC-1Y", 10_000_000, 12, Some(400))],
                ..Default::default()
            },
        )
        .await
        .expect("quote");
    let set = |opportunity_id: &str, quote_id: &str, expected: i64| {
        TestSuite::authed(
            v1::SetSolutionQuoteRequest {
                opportunity_id: opportunity_id.into(),
                quote_id: quote_id.into(),
                expected_version: expected,
            },
            &e1,
        )
    };
    let settings = w.h.suite.settings();
    let before = fingerprint(&settings, ServiceKind::Coordination).await;
    let err = client
        .set_solution_quote(set(
            &elsewhere.opportunity_id,
            &quote.quote_id,
            elsewhere.version,
        ))
        .await
        .expect_err("a quote of another customer");
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(
        preconditions(&err),
        [(
            "QUOTE_OF_ANOTHER_CUSTOMER".to_owned(),
            "quote_id".to_owned()
        )]
    );
    let err = client
        .set_solution_quote(set(&id, &quote.quote_id, version - 1))
        .await
        .expect_err("stale");
    assert_eq!(err.code(), Code::Aborted);
    let err = client
        .set_solution_quote(set(&id, "0190b3c0-0000-7000-8000-000000000000", version))
        .await
        .expect_err("unknown quote");
    assert_eq!(err.code(), Code::NotFound);
    let after = fingerprint(&settings, ServiceKind::Coordination).await;
    assert_eq!(before, after, "a refused solution changed the database");

    let o = client
        .set_solution_quote(set(&id, &quote.quote_id, version))
        .await
        .expect("the firm's draft quote")
        .into_inner()
        .opportunity
        .expect("opportunity");
    assert_eq!(o.solution_quote_id, quote.quote_id);
    let mut transition = async |version: i64, to: S, after_sales: Option<v1::AfterSalesOwners>| {
        client
            .transition_stage(TestSuite::authed(
                v1::TransitionStageRequest {
                    opportunity_id: id.clone(),
                    to_stage: to as i32,
                    reason: String::new(),
                    after_sales,
                    expected_version: version,
                },
                &e1,
            ))
            .await
            .map(|r| r.into_inner().opportunity.unwrap_or_default())
    };
    let o = transition(o.version, S::Execution, None)
        .await
        .expect("execution");
    let err = transition(o.version, S::Won, None)
        .await
        .expect_err("not approved yet");
    assert_eq!(err.code(), Code::FailedPrecondition);
    let submitted = w.submit(&mk, &quote).await.expect("submit");
    let approved = w
        .approve(&a_t2, &submitted, "within the tier-2 authority")
        .await
        .expect("approve");
    assert_eq!(approved.status, v1::QuoteStatus::Approved as i32);
    let o = transition(o.version, S::Won, None).await.expect("won");
    assert_eq!(o.stage, S::Won as i32);
    let err = transition(
        o.version,
        S::FollowUp,
        Some(v1::AfterSalesOwners {
            primary_employee_id: "e1".into(),
            backup_employee_id: "e1".into(),
        }),
    )
    .await
    .expect_err("A and B must differ");
    assert_ne!(err.code(), Code::Ok);
    let o = transition(
        o.version,
        S::FollowUp,
        Some(v1::AfterSalesOwners {
            primary_employee_id: "e1".into(),
            backup_employee_id: "e2".into(),
        }),
    )
    .await
    .expect("follow-up");
    assert_eq!(o.stage, S::FollowUp as i32);
    assert_eq!(
        o.after_sales,
        Some(v1::AfterSalesOwners {
            primary_employee_id: "e1".into(),
            backup_employee_id: "e2".into(),
        })
    );
    assert!(o.holds_claims);
    for (action, event) in [
        (
            "opportunity.update_needs_statement",
            "opportunity.needs_statement_updated",
        ),
        (
            "opportunity.set_solution_quote",
            "opportunity.solution_quote_set",
        ),
    ] {
        assert_eq!(
            trail(&w.h.suite, &id, action, event).await,
            (1, 1),
            "{event}"
        );
    }
    assert_eq!(
        trail(
            &w.h.suite,
            &id,
            "opportunity.transition",
            "opportunity.stage_changed"
        )
        .await,
        (3, 3)
    );
    w.h.suite.stop().await;
}
