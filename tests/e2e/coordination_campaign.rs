//! Issue 5's "Done when", walked as one joint campaign through gRPC on both backends, with the
//! registry and the complete pricing service behind coordination (the quote world: the tree
//! HQ → BJ → BJ01 → BJ0101, the pricing reference data, and the core enterprise "Huadong
//! Machinery" owned by BJ0101):
//!
//! 1. the core enterprise is found with its supply chain and executives: a supplier and two
//!    executives are created and linked in the registry, a traversal reaches all three, and
//!    coordination suggests the supplier and the consenting executive (the other is counted out);
//! 2. corporate, small-business and retail units of BJ0101 form an opportunity at 5000/3000/2000
//!    with a claim per target and line, and its tasks come from a supply-chain playbook, each
//!    owned by a member of the step's line;
//! 3. the tier-2 branch BJ01's own attempt is refused with `ALREADY_EXISTS` naming the holder; it
//!    asks to join, the lead proposes 4000/3000/2000/1000, another lead member accepts, and the
//!    four units are in force today;
//! 4. activities are logged against the opportunity;
//! 5. a pricing quote of the target (a 25 bp concession, tier-2 authority) becomes the solution:
//!    won is refused while it is unapproved, the submitter and a sub-branch approver may not
//!    approve it, the tier-2 approver does;
//! 6. the opportunity is won and moves to follow-up with its A/B after-sales owners, each stage
//!    change an audited outbox event;
//! 7. on a manual clock (a library coordination service on the same database), nothing is
//!    overdue today; thirty days on, the two open playbook tasks are overdue for their owners in
//!    BJ0101's subtree, and the task already done is not.

use bankmkt_e2e::coordination::{
    as_caller, holder, identity_number, manual_clock_service, naive_date, opportunity, playbook,
    role_token, step, trail, unit,
};
use bankmkt_e2e::quotes::{QuoteWorld, balance_item};
use bankmkt_e2e::{Backend, TestSuite, on_both_backends};
use bankmkt_proto::v1;
use bankmkt_proto::v1::coordination_client::CoordinationClient;
use bankmkt_proto::v1::coordination_server::Coordination;
use tonic::Code;
use tonic::transport::Channel;

use v1::BusinessLine::*;
use v1::OpportunityStage as S;

on_both_backends!(a_joint_campaign_walks_from_target_to_overdue_follow_up);

/// The lead unit of the campaign.
const LEAD: &str = "BJ0101/corporate";

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

async fn get(client: &mut CoordinationClient<Channel>, token: &str, id: &str) -> v1::Opportunity {
    client
        .get_opportunity(TestSuite::authed(
            v1::GetOpportunityRequest {
                opportunity_id: id.into(),
            },
            token,
        ))
        .await
        .expect("get opportunity")
        .into_inner()
        .opportunity
        .expect("opportunity")
}

async fn add_member(
    client: &mut CoordinationClient<Channel>,
    token: &str,
    id: &str,
    version: i64,
    employee: &str,
    unit_id: &str,
) -> i64 {
    client
        .add_member(TestSuite::authed(
            v1::AddMemberRequest {
                opportunity_id: id.into(),
                member: Some(v1::Member {
                    employee_id: employee.into(),
                    unit_id: unit_id.into(),
                    role: v1::MemberRole::CustomerManager as i32,
                    added: None,
                }),
                expected_version: version,
            },
            token,
        ))
        .await
        .unwrap_or_else(|e| panic!("add {employee} to {unit_id}: {e:?}"))
        .into_inner()
        .opportunity_version
}

fn shares(units: &[v1::OpportunityUnit]) -> Vec<(String, i32, i32)> {
    let mut out: Vec<(String, i32, i32)> = units
        .iter()
        .map(|u| (u.unit_id.clone(), u.role, u.share_bps))
        .collect();
    out.sort();
    out
}

async fn a_joint_campaign_walks_from_target_to_overdue_follow_up(backend: Backend) {
    let mut w = QuoteWorld::start(backend, |_| {}).await;
    let mut client = CoordinationClient::new(w.h.suite.channel("coordination").await);
    let mut registry = w.registry.clone();
    let firm = w.firm.clone();
    let admin = w.h.admin.clone();
    let cm = |sub: &str, branch: &str, line: &str| {
        role_token(&w.h.suite, sub, branch, &[line], &["customer_manager"])
    };
    // e1 and e2: the firm's corporate managers (from the quote world); sb1 and rt1: the
    // small-business and retail managers of BJ0101; b1: a corporate manager of BJ01 above it.
    let e1 = cm("e1", "BJ0101", "corporate");
    let e2 = cm("e2", "BJ0101", "corporate");
    let sb1 = cm("sb1", "BJ0101", "small_business");
    let rt1 = cm("rt1", "BJ0101", "retail");
    let b1 = cm("b1", "BJ01", "corporate");
    let lead = role_token(&w.h.suite, "tl1", "BJ0101", &["corporate"], &["team_lead"]);
    let employee = |id: &str, branch: &str, line: v1::BusinessLine| v1::Employee {
        employee_id: id.into(),
        name: id.into(),
        branch_id: branch.into(),
        lines: vec![line as i32],
        roles: vec![v1::Role::CustomerManager as i32],
        ..Default::default()
    };
    registry
        .load_employees(TestSuite::authed(
            v1::LoadEmployeesRequest {
                idempotency_key: "campaign-staff".into(),
                employees: vec![
                    employee("sb1", "BJ0101", SmallBusiness),
                    employee("rt1", "BJ0101", Retail),
                    employee("b1", "BJ01", Corporate),
                ],
            },
            &admin,
        ))
        .await
        .expect("campaign staff");

    // 1. The core enterprise's supply chain and executives, linked in the registry.
    let mut create = async |kind: v1::CustomerKind, name: &str, serial: u32| {
        let individual = kind == v1::CustomerKind::Individual;
        registry
            .create_customer(TestSuite::authed(
                v1::CreateCustomerRequest {
                    idempotency_key: format!("campaign-{serial}"),
                    customer: Some(v1::Customer {
                        kind: kind as i32,
                        name: name.into(),
                        identities: vec![v1::IdentityDocument {
                            identity_type: if individual {
                                v1::IdentityType::ResidentId as i32
                            } else {
                                v1::IdentityType::UnifiedSocialCreditCode as i32
                            },
                            number: identity_number(serial, individual),
                            ..Default::default()
                        }],
                        owning_branch_id: "BJ0101".into(),
                        primary_manager_id: "e1".into(),
                        backup_manager_id: "e2".into(),
                        ..Default::default()
                    }),
                    source_refs: vec![],
                },
                &e1,
            ))
            .await
            .unwrap_or_else(|e| panic!("create {name}: {e:?}"))
            .into_inner()
            .customer
            .expect("customer")
            .customer_id
    };
    let supplier = create(
        v1::CustomerKind::SmallBusiness,
        "Huadong Castings Ltd",
        60_001,
    )
    .await;
    let exec = create(v1::CustomerKind::Individual, "Wang Fang", 601).await;
    let exec_no_consent = create(v1::CustomerKind::Individual, "Zhao Lei", 602).await;
    for (t, from) in [
        (v1::RelationshipType::SupplierOf, &supplier),
        (v1::RelationshipType::ExecutiveOf, &exec),
        (v1::RelationshipType::ExecutiveOf, &exec_no_consent),
    ] {
        registry
            .link_customers(TestSuite::authed(
                v1::LinkCustomersRequest {
                    relationship: Some(v1::Relationship {
                        relationship_type: t as i32,
                        from_customer_id: from.clone(),
                        to_customer_id: firm.clone(),
                        ..Default::default()
                    }),
                    reason: "known from the annual review".into(),
                },
                &e1,
            ))
            .await
            .unwrap_or_else(|e| panic!("link {t:?}: {e:?}"));
    }
    let consent = registry
        .get_consent(TestSuite::authed(
            v1::GetConsentRequest {
                customer_id: exec.clone(),
            },
            &e1,
        ))
        .await
        .map(|r| r.into_inner().consent.unwrap_or_default())
        .unwrap_or_default();
    registry
        .update_consent(TestSuite::authed(
            v1::UpdateConsentRequest {
                consent: Some(v1::Consent {
                    customer_id: exec.clone(),
                    cross_line_use: true,
                    ..Default::default()
                }),
                expected_version: consent.version,
                evidence: "signed form".into(),
            },
            &e1,
        ))
        .await
        .expect("consent");
    let traversal = registry
        .traverse_relationships(TestSuite::authed(
            v1::TraverseRelationshipsRequest {
                root_customer_id: firm.clone(),
                max_depth: 1,
                ..Default::default()
            },
            &e1,
        ))
        .await
        .expect("traverse")
        .into_inner();
    let mut reached: Vec<&str> = traversal
        .nodes
        .iter()
        .filter(|n| n.depth == 1)
        .map(|n| n.customer_id.as_str())
        .collect();
    reached.sort();
    let mut chain = vec![supplier.as_str(), exec.as_str(), exec_no_consent.as_str()];
    chain.sort();
    assert_eq!(reached, chain, "the supply chain and both executives");
    assert_eq!(traversal.relationships.len(), 3);
    let suggested = client
        .suggest_linked_targets(TestSuite::authed(
            v1::SuggestLinkedTargetsRequest {
                customer_id: firm.clone(),
                ..Default::default()
            },
            &e1,
        ))
        .await
        .expect("suggest")
        .into_inner();
    let mut picked: Vec<&str> = suggested
        .suggestions
        .iter()
        .map(|s| s.customer_id.as_str())
        .collect();
    picked.sort();
    let mut expected = vec![supplier.as_str(), exec.as_str()];
    expected.sort();
    assert_eq!(
        picked, expected,
        "the executive without consent is left out"
    );
    assert_eq!(suggested.excluded_for_consent, 1);

    // 2. Three lines of BJ0101 at 5000/3000/2000 with tasks from a playbook.
    let scf = supply_chain_playbook(&mut client, &lead).await;
    let units = vec![
        unit("BJ0101", Corporate, v1::UnitRole::Lead, 5000),
        unit("BJ0101", SmallBusiness, v1::UnitRole::Co, 3000),
        unit("BJ0101", Retail, v1::UnitRole::Co, 2000),
    ];
    let opp = client
        .create_opportunity(TestSuite::authed(
            v1::CreateOpportunityRequest {
                idempotency_key: "campaign".into(),
                opportunity: Some(opportunity(
                    "Huadong Machinery supply chain",
                    &firm,
                    &[&supplier, &exec],
                    units,
                )),
                playbook_id: String::new(),
            },
            &e1,
        ))
        .await
        .expect("create the campaign")
        .into_inner()
        .opportunity
        .expect("opportunity");
    let id = opp.opportunity_id.clone();
    assert_eq!(opp.stage, S::Preparation as i32);
    assert!(opp.holds_claims);
    assert_eq!(
        shares(&opp.units),
        [
            (LEAD.to_owned(), v1::UnitRole::Lead as i32, 5000),
            ("BJ0101/retail".to_owned(), v1::UnitRole::Co as i32, 2000),
            (
                "BJ0101/small_business".to_owned(),
                v1::UnitRole::Co as i32,
                3000
            ),
        ]
    );
    let claims = client
        .list_claims(TestSuite::authed(
            v1::ListClaimsRequest {
                opportunity_id: id.clone(),
                active_only: true,
                page_size: 100,
                ..Default::default()
            },
            &e1,
        ))
        .await
        .expect("claims")
        .into_inner()
        .claims;
    assert_eq!(claims.len(), 9, "three targets times three lines");
    let mut version = opp.version;
    for (who, unit_id) in [
        ("e2", LEAD),
        ("sb1", "BJ0101/small_business"),
        ("rt1", "BJ0101/retail"),
    ] {
        version = add_member(&mut client, &e1, &id, version, who, unit_id).await;
    }
    let tasks = client
        .apply_playbook(TestSuite::authed(
            v1::ApplyPlaybookRequest {
                idempotency_key: "campaign-playbook".into(),
                opportunity_id: id.clone(),
                playbook_id: scf.playbook_id.clone(),
                playbook_version: 0,
                start_date: None,
                expected_version: version,
            },
            &e1,
        ))
        .await
        .expect("apply the playbook")
        .into_inner()
        .tasks;
    let owners: Vec<(&str, &str)> = tasks
        .iter()
        .map(|t| (t.playbook_step_id.as_str(), t.owner_employee_id.as_str()))
        .collect();
    assert_eq!(
        owners,
        [
            ("visit-core", "e1"),
            ("screen-suppliers", "sb1"),
            ("executives-cards", "rt1"),
        ]
    );
    assert!(tasks.iter().all(|t| t.playbook_id == scf.playbook_id));
    let today = chrono::Utc::now().date_naive();
    assert!(tasks.iter().all(|t| naive_date(&t.due_date) >= today));

    // 3. BJ01's own attempt is refused, naming the holder; it asks to join and joins.
    let err = client
        .create_opportunity(TestSuite::authed(
            v1::CreateOpportunityRequest {
                idempotency_key: "bj01-attempt".into(),
                opportunity: Some(opportunity(
                    "BJ01 corporate plan",
                    &firm,
                    &[],
                    vec![unit("BJ01", Corporate, v1::UnitRole::Lead, 10_000)],
                )),
                playbook_id: String::new(),
            },
            &b1,
        ))
        .await
        .expect_err("the firm is claimed");
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");
    assert_eq!(holder(&err).as_deref(), Some(id.as_str()));
    let jr = client
        .create_join_request(TestSuite::authed(
            v1::CreateJoinRequestRequest {
                join_request: Some(v1::JoinRequest {
                    opportunity_id: id.clone(),
                    unit: Some(v1::UnitRef {
                        branch_id: "BJ01".into(),
                        line: Corporate as i32,
                    }),
                    requested_share_bps: 1000,
                    message: "we bank the group's parent".into(),
                    ..Default::default()
                }),
            },
            &b1,
        ))
        .await
        .expect("join request")
        .into_inner()
        .join_request
        .expect("join request");
    assert_eq!(jr.status, v1::JoinRequestStatus::Pending as i32);
    let joined_units = vec![
        unit("BJ0101", Corporate, v1::UnitRole::Lead, 4000),
        unit("BJ0101", SmallBusiness, v1::UnitRole::Co, 3000),
        unit("BJ0101", Retail, v1::UnitRole::Co, 2000),
        unit("BJ01", Corporate, v1::UnitRole::Co, 1000),
    ];
    let accepted = client
        .accept_join_request(TestSuite::authed(
            v1::AcceptJoinRequestRequest {
                join_request_id: jr.join_request_id.clone(),
                proposed_units: joined_units,
                effective_date: None,
                reason: "welcome: the parent's accounts are with BJ01".into(),
                expected_version: jr.version,
            },
            &e1,
        ))
        .await
        .expect("accept the join request")
        .into_inner();
    let amendment = accepted.amendment.expect("amendment");
    assert_eq!(amendment.status, v1::AmendmentStatus::Proposed as i32);
    assert_eq!(amendment.join_request_id, jr.join_request_id);
    let err = client
        .accept_share_amendment(TestSuite::authed(
            v1::AcceptShareAmendmentRequest {
                amendment_id: amendment.amendment_id.clone(),
                unit_id: LEAD.into(),
                expected_version: amendment.version,
                reason: String::new(),
            },
            &e1,
        ))
        .await
        .expect_err("the proposer may not accept");
    assert_eq!(err.code(), Code::PermissionDenied);
    let done = client
        .accept_share_amendment(TestSuite::authed(
            v1::AcceptShareAmendmentRequest {
                amendment_id: amendment.amendment_id.clone(),
                unit_id: LEAD.into(),
                expected_version: amendment.version,
                reason: "agreed for the lead unit".into(),
            },
            &e2,
        ))
        .await
        .expect("the lead unit accepts")
        .into_inner()
        .amendment
        .expect("amendment");
    assert_eq!(done.status, v1::AmendmentStatus::Accepted as i32);
    let o = get(&mut client, &e1, &id).await;
    assert_eq!(
        shares(&o.units),
        [
            ("BJ01/corporate".to_owned(), v1::UnitRole::Co as i32, 1000),
            (LEAD.to_owned(), v1::UnitRole::Lead as i32, 4000),
            ("BJ0101/retail".to_owned(), v1::UnitRole::Co as i32, 2000),
            (
                "BJ0101/small_business".to_owned(),
                v1::UnitRole::Co as i32,
                3000
            ),
        ]
    );
    let in_force = client
        .get_shares(TestSuite::authed(
            v1::GetSharesRequest {
                opportunity_id: id.clone(),
                as_of_date: None,
            },
            &e1,
        ))
        .await
        .expect("shares today")
        .into_inner()
        .shares
        .expect("shares");
    assert_eq!(in_force.units.len(), 4);
    assert!(in_force.change_source.starts_with("amendment:"));
    let version = add_member(&mut client, &e1, &id, o.version, "b1", "BJ01/corporate").await;
    let seen = get(&mut client, &b1, &id).await;
    assert_eq!(seen.version, version, "the joined unit's member reads it");

    // 4. Activities.
    let earlier = chrono::Utc::now() - chrono::Duration::hours(2);
    let at = |t: chrono::DateTime<chrono::Utc>| prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    };
    let participant = |employee: &str, branch: &str, line: v1::BusinessLine| v1::Participant {
        employee_id: employee.into(),
        unit: Some(v1::UnitRef {
            branch_id: branch.into(),
            line: line as i32,
        }),
    };
    let activities = [
        (
            "campaign-visit",
            &e1,
            v1::Activity {
                activity_type: v1::ActivityType::Visit as i32,
                channel: v1::ContactChannel::InPerson as i32,
                subject: "kick-off with the treasurer".into(),
                record: "agreed supply-chain finance for the top suppliers and payroll".into(),
                start_time: Some(at(earlier)),
                end_time: Some(at(earlier + chrono::Duration::minutes(45))),
                participants: vec![
                    participant("e1", "BJ0101", Corporate),
                    participant("b1", "BJ01", Corporate),
                ],
                customer_ids: vec![firm.clone()],
                opportunity_id: id.clone(),
                ..Default::default()
            },
        ),
        (
            "campaign-call",
            &sb1,
            v1::Activity {
                activity_type: v1::ActivityType::Call as i32,
                channel: v1::ContactChannel::Phone as i32,
                subject: "receivables financing".into(),
                record: "the supplier sends its receivables ledger next week".into(),
                start_time: Some(at(earlier + chrono::Duration::minutes(60))),
                end_time: Some(at(earlier + chrono::Duration::minutes(75))),
                participants: vec![participant("sb1", "BJ0101", SmallBusiness)],
                customer_ids: vec![supplier.clone()],
                opportunity_id: id.clone(),
                ..Default::default()
            },
        ),
    ];
    for (key, token, activity) in activities {
        client
            .create_activity(TestSuite::authed(
                v1::CreateActivityRequest {
                    idempotency_key: key.into(),
                    activity: Some(activity),
                },
                token,
            ))
            .await
            .unwrap_or_else(|e| panic!("{key}: {e:?}"));
    }
    let logged = client
        .list_activities(TestSuite::authed(
            v1::ListActivitiesRequest {
                opportunity_id: id.clone(),
                branch_id: "BJ01".into(),
                ..Default::default()
            },
            &b1,
        ))
        .await
        .expect("activities")
        .into_inner()
        .activities;
    let subjects: Vec<&str> = logged.iter().map(|a| a.subject.as_str()).collect();
    assert_eq!(
        subjects,
        ["receivables financing", "kick-off with the treasurer"],
        "newest first"
    );

    // 5. The solution: a quote of the firm needing tier-2 authority, attached and approved.
    let o = get(&mut client, &e1, &id).await;
    let o = client
        .update_needs_statement(TestSuite::authed(
            v1::UpdateNeedsStatementRequest {
                opportunity_id: id.clone(),
                needs_statement: Some(v1::NeedsStatement {
                    summary: "working capital for the chain, payroll for the staff".into(),
                    needs: vec![v1::CustomerNeed {
                        need_id: "n1".into(),
                        category: "financing".into(),
                        description: "a one-year working-capital loan".into(),
                        priority: 1,
                        product_ids: vec!["LOAN-WC-1Y".into()],
                    }],
                    updated: None,
                }),
                expected_version: o.version,
            },
            &e1,
        ))
        .await
        .expect("needs statement")
        .into_inner()
        .opportunity
        .expect("opportunity");
    let stages = client.clone();
    let transition = async |version: i64, to: S, after_sales: Option<v1::AfterSalesOwners>| {
        stages
            .clone()
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
    let mk = w.token("mk", "BJ01", &["customer_manager", "approver"]);
    let a_sub = w.token("a-sub", "BJ0101", &["approver"]);
    let a_t2 = w.token("a-t2", "BJ01", &["approver"]);
    let quote = w
        .create(
            &mk,
            v1::CreateQuoteRequest {
                idempotency_key: "campaign-solution".into(),
                customer_id: firm.clone(),
                branch_id: "BJ0101".into(),
                items: vec![balance_item("LOAN-WC-1Y", 10_000_000, 12, Some(400))],
                ..Default::default()
            },
        )
        .await
        .expect("quote");
    assert_eq!(
        quote.required_approval_level,
        v1::AuthorityLevel::Tier2Branch as i32
    );
    let o = client
        .set_solution_quote(TestSuite::authed(
            v1::SetSolutionQuoteRequest {
                opportunity_id: id.clone(),
                quote_id: quote.quote_id.clone(),
                expected_version: o.version,
            },
            &e1,
        ))
        .await
        .expect("the solution")
        .into_inner()
        .opportunity
        .expect("opportunity");
    assert_eq!(o.solution_quote_id, quote.quote_id);
    let err = transition(o.version, S::Won, None)
        .await
        .expect_err("won needs an approved quote");
    assert_eq!(err.code(), Code::FailedPrecondition);
    let submitted = w.submit(&mk, &quote).await.expect("submit");
    for (who, token) in [("the submitter", &mk), ("a sub-branch approver", &a_sub)] {
        let err = w
            .approve(token, &submitted, "looks fine")
            .await
            .expect_err(who);
        assert_eq!(err.code(), Code::PermissionDenied, "{who}: {err:?}");
    }
    let approved = w
        .approve(&a_t2, &submitted, "within the tier-2 authority")
        .await
        .expect("the tier-2 approver");
    assert_eq!(approved.status, v1::QuoteStatus::Approved as i32);

    // 6. Won, then follow-up with the A/B after-sales owners.
    let o = transition(o.version, S::Won, None).await.expect("won");
    assert_eq!(o.stage, S::Won as i32);
    let owners = v1::AfterSalesOwners {
        primary_employee_id: "e1".into(),
        backup_employee_id: "e2".into(),
    };
    let o = transition(o.version, S::FollowUp, Some(owners.clone()))
        .await
        .expect("follow-up");
    assert_eq!(o.stage, S::FollowUp as i32);
    assert_eq!(o.after_sales, Some(owners));
    assert!(o.holds_claims, "follow-up keeps the claims");
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

    // 7. Overdue items appear when the clock passes the tasks' due dates; a done task never.
    let visit = &tasks[0];
    client
        .update_task(TestSuite::authed(
            v1::UpdateTaskRequest {
                task: Some(v1::Task {
                    task_id: visit.task_id.clone(),
                    status: v1::TaskStatus::Done as i32,
                    ..Default::default()
                }),
                update_mask: mask(&["status"]),
                expected_version: visit.version,
            },
            &e1,
        ))
        .await
        .expect("the visit is done");
    let (svc, hand) = manual_clock_service(&w.h.suite).await;
    let overdue = async |token: &str, responsible: &str| {
        svc.list_overdue(as_caller(
            &w.h.suite,
            v1::ListOverdueRequest {
                branch_id: "BJ0101".into(),
                responsible_employee_id: responsible.into(),
                kinds: vec![v1::OverdueKind::Task as i32],
                ..Default::default()
            },
            token,
        ))
        .await
        .expect("overdue")
        .into_inner()
    };
    let now = overdue(&e1, "").await;
    assert!(now.items.is_empty(), "{:?}", now.items);
    let latest = tasks
        .iter()
        .map(|t| naive_date(&t.due_date))
        .max()
        .expect("due dates");
    let on_due = latest.and_hms_opt(4, 0, 0).expect("time").and_utc();
    hand.set(on_due);
    let on_the_day = overdue(&rt1, "rt1").await;
    assert!(
        on_the_day.items.is_empty(),
        "not overdue on its due date: {:?}",
        on_the_day.items
    );
    hand.set(chrono::Utc::now() + chrono::Duration::days(30));
    let later = overdue(&e1, "").await;
    let mut items: Vec<(&str, &str, &str, &str)> = later
        .items
        .iter()
        .map(|i| {
            (
                i.task_id.as_str(),
                i.responsible_employee_id.as_str(),
                i.branch_id.as_str(),
                i.opportunity_id.as_str(),
            )
        })
        .collect();
    items.sort();
    let mut expected = vec![
        (tasks[1].task_id.as_str(), "sb1", "BJ0101", id.as_str()),
        (tasks[2].task_id.as_str(), "rt1", "BJ0101", id.as_str()),
    ];
    expected.sort();
    assert_eq!(items, expected, "the open tasks, not the done one");
    for item in &later.items {
        assert_eq!(item.kind, v1::OverdueKind::Task as i32);
        assert!(item.working_days_overdue > 0, "{item:?}");
        assert_eq!(item.customer_id, firm);
        let task = tasks
            .iter()
            .find(|t| t.task_id == item.task_id)
            .expect("task");
        assert_eq!(item.due_date, task.due_date);
    }
    let business = naive_date(&later.business_date);
    assert!(business >= today + chrono::Duration::days(29));
    let sb1_only = overdue(&sb1, "sb1").await;
    assert_eq!(sb1_only.items.len(), 1);
    assert_eq!(sb1_only.items[0].task_id, tasks[1].task_id);
    w.h.suite.stop().await;
}

/// The supply-chain finance playbook of BJ0101's team lead: visit the core enterprise (the
/// lead's), screen its suppliers (small business, 3 working days), executives' cards (retail, 5).
async fn supply_chain_playbook(
    client: &mut CoordinationClient<Channel>,
    lead: &str,
) -> v1::Playbook {
    client
        .create_playbook(TestSuite::authed(
            v1::CreatePlaybookRequest {
                playbook: Some(playbook(
                    "Supply-chain finance campaign",
                    v1::OpportunityType::SupplyChainFinance,
                    vec![
                        step("visit-core", v1::BusinessLine::Unspecified, 0),
                        step("screen-suppliers", SmallBusiness, 3),
                        step("executives-cards", Retail, 5),
                    ],
                )),
            },
            lead,
        ))
        .await
        .expect("playbook")
        .into_inner()
        .playbook
        .expect("playbook")
}
