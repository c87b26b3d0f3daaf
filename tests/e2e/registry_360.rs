//! The customer 360, access grants and merges through gRPC on both backends. Read–write–read:
//! every kind of write that touches a customer (either end of a link, holdings, a merge, a branch
//! move) shows in the next 360 read, through Redis on the Postgres backend, and raises the data
//! version.

use bankmkt_domain::customer::uscc_check_char;
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_proto::v1;
use bankmkt_proto::v1::customer_registry_client::CustomerRegistryClient;
use tonic::Code;
use tonic::transport::Channel;

fn uscc(serial: u32) -> String {
    let body = format!("91350100M{:08}", 300_000 + serial);
    format!("{body}{}", uscc_check_char(&body).expect("check char"))
}

struct World {
    suite: TestSuite,
    client: CustomerRegistryClient<Channel>,
    admin: String,
    core: String,
    e1: String,
    sh: String,
}

async fn world(backend: Backend) -> World {
    use v1::BranchLevel::*;
    let suite = TestSuite::start_on(backend, |_| {}).await;
    let mut client = CustomerRegistryClient::new(suite.channel("customer-registry").await);
    let admin = suite.token("admin1", "HQ", &["admin"]);
    let branch = |id: &str, parent: &str, level: v1::BranchLevel| v1::Branch {
        branch_id: id.into(),
        parent_id: parent.into(),
        level: level as i32,
        name: id.into(),
        ..Default::default()
    };
    client
        .load_branches(TestSuite::authed(
            v1::LoadBranchesRequest {
                idempotency_key: "t".into(),
                branches: vec![
                    branch("HQ", "", HeadOffice),
                    branch("BJ", "HQ", Tier1Branch),
                    branch("BJ01", "BJ", Tier2Branch),
                    branch("SH", "HQ", Tier1Branch),
                    branch("SH01", "SH", Tier2Branch),
                ],
                effective_date: None,
            },
            &admin,
        ))
        .await
        .expect("tree");
    let employee = |id: &str, b: &str| v1::Employee {
        employee_id: id.into(),
        name: id.into(),
        branch_id: b.into(),
        lines: vec![v1::BusinessLine::Corporate as i32],
        roles: vec![v1::Role::CustomerManager as i32],
        ..Default::default()
    };
    client
        .load_employees(TestSuite::authed(
            v1::LoadEmployeesRequest {
                idempotency_key: "s".into(),
                employees: vec![
                    employee("e1", "BJ01"),
                    employee("e2", "BJ01"),
                    employee("s1", "SH01"),
                ],
            },
            &admin,
        ))
        .await
        .expect("staff");
    World {
        core: suite.token("core", "HQ", &["core_banking"]),
        e1: suite.token("e1", "BJ01", &["customer_manager"]),
        sh: suite.token("s1", "SH01", &["customer_manager"]),
        admin,
        suite,
        client,
    }
}

impl World {
    async fn firm(&mut self, key: &str, name: &str, serial: u32) -> v1::Customer {
        let customer = v1::Customer {
            kind: v1::CustomerKind::Corporate as i32,
            name: name.into(),
            identities: vec![v1::IdentityDocument {
                identity_type: v1::IdentityType::UnifiedSocialCreditCode as i32,
                number: uscc(serial),
                ..Default::default()
            }],
            owning_branch_id: "BJ01".into(),
            primary_manager_id: "e1".into(),
            backup_manager_id: "e2".into(),
            ..Default::default()
        };
        let token = self.e1.clone();
        self.client
            .create_customer(TestSuite::authed(
                v1::CreateCustomerRequest {
                    idempotency_key: key.into(),
                    customer: Some(customer),
                    source_refs: vec![],
                },
                &token,
            ))
            .await
            .expect("create")
            .into_inner()
            .customer
            .expect("customer")
    }

    async fn view(
        &mut self,
        id: &str,
        token: &str,
    ) -> Result<v1::GetCustomer360Response, tonic::Status> {
        self.client
            .get_customer360(TestSuite::authed(
                v1::GetCustomer360Request {
                    customer_id: id.into(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner())
    }

    async fn link(&mut self, from: &str, to: &str, kind: v1::RelationshipType) -> v1::Relationship {
        let token = self.e1.clone();
        let relationship = v1::Relationship {
            relationship_type: kind as i32,
            from_customer_id: from.into(),
            to_customer_id: to.into(),
            ..Default::default()
        };
        self.client
            .link_customers(TestSuite::authed(
                v1::LinkCustomersRequest {
                    relationship: Some(relationship),
                    reason: "supply contract".into(),
                },
                &token,
            ))
            .await
            .expect("link")
            .into_inner()
            .relationship
            .expect("relationship")
    }

    async fn holdings(
        &mut self,
        key: &str,
        customer_id: &str,
        product: &str,
        version: i64,
        balance: i64,
    ) {
        use v1::ingest_holdings_request::Part;
        let money = |minor_units: i64| {
            Some(v1::Money {
                currency: "CNY".into(),
                minor_units,
            })
        };
        let snapshot = v1::HoldingSnapshot {
            customer: Some(v1::CustomerKey {
                key: Some(v1::customer_key::Key::CustomerId(customer_id.into())),
            }),
            product_id: product.into(),
            account_id: format!("ACC-{product}"),
            product_kind: v1::ProductKind::Liability as i32,
            product_category: v1::ProductCategory::Deposit as i32,
            line: v1::BusinessLine::Corporate as i32,
            period: Some(v1::Period {
                year: 2026,
                month: 10,
            }),
            source_version: version,
            period_end_balance: money(balance),
            average_daily_balance: money(balance),
            customer_rate_bps: 25,
            ftp_rate_bps: 160,
            ..Default::default()
        };
        let messages = vec![
            v1::IngestHoldingsRequest {
                part: Some(Part::Header(v1::IngestHeader {
                    idempotency_key: key.into(),
                    source_system: "CORE".into(),
                    ..Default::default()
                })),
            },
            v1::IngestHoldingsRequest {
                part: Some(Part::Record(snapshot)),
            },
            v1::IngestHoldingsRequest {
                part: Some(Part::Trailer(v1::IngestTrailer {
                    control_totals: Some(v1::ControlTotals {
                        record_count: 1,
                        amount_sums: vec![],
                    }),
                })),
            },
        ];
        let token = self.core.clone();
        let summary = self
            .client
            .ingest_holdings(TestSuite::authed(tokio_stream::iter(messages), &token))
            .await
            .expect("ingest")
            .into_inner()
            .summary
            .expect("summary");
        assert_eq!(summary.rejected, 0, "{summary:?}");
    }
}

fn count(view: &v1::GetCustomer360Response, kind: v1::RelationshipType) -> i64 {
    view.relationship_counts
        .iter()
        .filter(|c| c.relationship_type == kind as i32)
        .map(|c| c.count)
        .sum()
}

async fn every_write_shows_in_the_next_360_read(backend: Backend) {
    let mut w = world(backend).await;
    let core_firm = w.firm("a", "Core Enterprise", 1).await;
    let supplier = w.firm("b", "Supplier", 2).await;
    let e1 = w.e1.clone();
    let first = w.view(&core_firm.customer_id, &e1).await.expect("360");
    assert!(first.holdings.is_none());
    assert_eq!(count(&first, v1::RelationshipType::SupplierOf), 0);
    let other_first = w.view(&supplier.customer_id, &e1).await.expect("360");

    // A link: both ends' 360s change.
    w.link(
        &supplier.customer_id,
        &core_firm.customer_id,
        v1::RelationshipType::SupplierOf,
    )
    .await;
    let after_link = w.view(&core_firm.customer_id, &e1).await.expect("360");
    assert_eq!(count(&after_link, v1::RelationshipType::SupplierOf), 1);
    assert!(after_link.data_version > first.data_version);
    let other_after = w.view(&supplier.customer_id, &e1).await.expect("360");
    assert_eq!(count(&other_after, v1::RelationshipType::SupplierOf), 1);
    assert!(other_after.data_version > other_first.data_version);

    // Holdings, then a restatement.
    w.holdings("h1", &core_firm.customer_id, "D01", 1, 500_000_000)
        .await;
    let with_holdings = w.view(&core_firm.customer_id, &e1).await.expect("360");
    let summary = with_holdings.holdings.clone().expect("holdings summary");
    assert_eq!(
        summary.liability_balance.map(|m| m.minor_units),
        Some(500_000_000)
    );
    assert!(with_holdings.data_version > after_link.data_version);
    w.holdings("h2", &core_firm.customer_id, "D01", 2, 600_000_000)
        .await;
    let restated = w.view(&core_firm.customer_id, &e1).await.expect("360");
    assert_eq!(
        restated
            .holdings
            .clone()
            .and_then(|h| h.liability_balance)
            .map(|m| m.minor_units),
        Some(600_000_000)
    );

    // Monthly scoring: the contribution, dormancy and RFM results show at once.
    assert!(restated.ttm_contribution.is_none());
    let batch = w.suite.token("batch", "HQ", &["batch"]);
    let job = w
        .client
        .start_rescoring(TestSuite::authed(
            v1::StartRescoringRequest {
                idempotency_key: "score-oct".into(),
                kind: v1::RescoringKind::Monthly as i32,
                period: Some(v1::Period {
                    year: 2026,
                    month: 10,
                }),
                customer_ids: vec![core_firm.customer_id.clone()],
                ..Default::default()
            },
            &batch,
        ))
        .await
        .expect("rescore")
        .into_inner()
        .job
        .expect("job");
    let mut state = job.state;
    for _ in 0..300 {
        if state == v1::JobState::Succeeded as i32 || state == v1::JobState::Failed as i32 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        state = w
            .client
            .get_rescoring_job(TestSuite::authed(
                v1::GetRescoringJobRequest {
                    job_id: job.job_id.clone(),
                },
                &batch,
            ))
            .await
            .expect("job")
            .into_inner()
            .job
            .expect("job")
            .state;
    }
    assert_eq!(state, v1::JobState::Succeeded as i32);
    let scored = w.view(&core_firm.customer_id, &e1).await.expect("360");
    assert!(scored.data_version > restated.data_version);
    let ttm = scored.ttm_contribution.expect("contribution after scoring");
    assert!(ttm.after_risk.is_some(), "{ttm:?}");
    assert!(scored.dormancy.is_some() && scored.rfm.is_some());

    // A branch move raises every customer's data version.
    let admin = w.admin.clone();
    let bj01 = w
        .client
        .get_branch(TestSuite::authed(
            v1::GetBranchRequest {
                branch_id: "BJ01".into(),
                as_of_date: None,
            },
            &admin,
        ))
        .await
        .expect("branch")
        .into_inner()
        .branch
        .expect("b");
    let before_move = w
        .view(&core_firm.customer_id, &e1)
        .await
        .expect("360")
        .data_version;
    w.client
        .move_branch(TestSuite::authed(
            v1::MoveBranchRequest {
                branch_id: "BJ01".into(),
                new_parent_id: "SH".into(),
                effective_date: None,
                expected_version: bj01.version,
                reason: "reorganisation".into(),
            },
            &admin,
        ))
        .await
        .expect("move");
    let after_move = w.view(&core_firm.customer_id, &admin).await.expect("360");
    assert!(after_move.data_version > before_move);
    // The owner's branch is now under SH: SH's branch head sees it.
    let sh = w.suite.token("h1", "SH", &["branch_head"]);
    assert!(w.view(&core_firm.customer_id, &sh).await.is_ok());
    w.suite.stop().await;
}

async fn a_transfer_and_a_tier_change_show_in_the_next_360_read(backend: Backend) {
    let mut w = world(backend).await;
    let firm = w.firm("a", "Transfer Co", 30).await;
    let e1 = w.e1.clone();
    let first = w.view(&firm.customer_id, &e1).await.expect("360");
    // A transfer: the A and B managers swap, maker e1, checker a branch head.
    let head = w.suite.token("h1", "BJ", &["branch_head"]);
    let handover = v1::Handover {
        customer_id: firm.customer_id.clone(),
        to_primary_manager_id: "e2".into(),
        to_backup_manager_id: "e1".into(),
        ..Default::default()
    };
    let made = w
        .client
        .create_handover(TestSuite::authed(
            v1::CreateHandoverRequest {
                handover: Some(handover),
                expected_customer_version: first.customer.as_ref().map_or(0, |c| c.version),
                reason: "e1 moves to the B post".into(),
            },
            &e1,
        ))
        .await
        .expect("maker")
        .into_inner()
        .handover
        .expect("handover");
    w.client
        .approve_handover(TestSuite::authed(
            v1::ApproveHandoverRequest {
                handover_id: made.handover_id,
                expected_version: made.version,
                reason: "checked".into(),
            },
            &head,
        ))
        .await
        .expect("checker");
    let after_transfer = w.view(&firm.customer_id, &e1).await.expect("360");
    assert_eq!(
        after_transfer
            .ownership
            .as_ref()
            .map(|o| o.primary_manager_id.as_str()),
        Some("e2")
    );
    assert!(after_transfer.data_version > first.data_version);

    // A tier change applied by two people.
    let admin = w.admin.clone();
    // The firm reports its revenue; the rule lists sub-branch customers from RMB 1M of revenue.
    let version = after_transfer.customer.as_ref().map_or(0, |c| c.version);
    let details = v1::OrganisationDetails {
        annual_revenue: Some(v1::Money {
            currency: "CNY".into(),
            minor_units: 500_000_000,
        }),
        ..Default::default()
    };
    w.client
        .update_customer(TestSuite::authed(
            v1::UpdateCustomerRequest {
                customer: Some(v1::Customer {
                    customer_id: firm.customer_id.clone(),
                    details: Some(v1::customer::Details::Organisation(details)),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["organisation".into()],
                }),
                expected_version: version,
            },
            &admin,
        ))
        .await
        .expect("revenue");
    let criterion = v1::CorporateTierCriterion {
        tier: v1::CorporateTier::SubBranch as i32,
        min_annual_revenue: Some(v1::Money {
            currency: "CNY".into(),
            minor_units: 100_000_000,
        }),
        ..Default::default()
    };
    let rules = v1::TierRuleSet {
        scheme: v1::TierScheme::Corporate as i32,
        rules: Some(v1::tier_rule_set::Rules::Corporate(
            v1::CorporateTierRules {
                criteria: vec![criterion],
            },
        )),
        effective: Some(v1::EffectiveRange {
            start_date: Some(v1::Date {
                year: 2024,
                month: 1,
                day: 1,
            }),
            end_date: None,
        }),
        ..Default::default()
    };
    w.client
        .create_tier_rule_set(TestSuite::authed(
            v1::CreateTierRuleSetRequest {
                rule_set: Some(rules),
                reason: "policy".into(),
            },
            &admin,
        ))
        .await
        .expect("rules");
    let list = w
        .client
        .evaluate_tiers(TestSuite::authed(
            v1::EvaluateTiersRequest {
                idempotency_key: "ev".into(),
                scheme: v1::TierScheme::Corporate as i32,
                customer_id: firm.customer_id.clone(),
                reason: "quarterly".into(),
                ..Default::default()
            },
            &head,
        ))
        .await
        .expect("evaluate")
        .into_inner()
        .change_list
        .expect("list");
    assert_eq!(list.entry_count, 1);
    let checker = w.suite.token("h2", "BJ", &["branch_head"]);
    w.client
        .approve_tier_change_list(TestSuite::authed(
            v1::ApproveTierChangeListRequest {
                change_list_id: list.change_list_id,
                expected_version: list.version,
                reason: "approved".into(),
            },
            &checker,
        ))
        .await
        .expect("apply");
    let after_tier = w.view(&firm.customer_id, &e1).await.expect("360");
    assert_eq!(
        after_tier.customer.as_ref().map(|c| c.corporate_tier),
        Some(v1::CorporateTier::SubBranch as i32)
    );
    assert!(after_tier.data_version > after_transfer.data_version);
    w.suite.stop().await;
}

async fn access_grants_open_a_customer_to_members_until_revoked(backend: Backend) {
    let mut w = world(backend).await;
    let firm = w.firm("a", "Granted Firm", 10).await;
    let sh = w.sh.clone();
    assert_eq!(
        w.view(&firm.customer_id, &sh)
            .await
            .expect_err("hidden")
            .code(),
        Code::NotFound
    );
    let grant = |customers: Vec<String>, employees: Vec<String>, key: &str| {
        v1::SetCustomerAccessGrantsRequest {
            idempotency_key: key.into(),
            grant_source: "opportunity:OPP-1".into(),
            customer_ids: customers,
            employee_ids: employees,
        }
    };
    // A user cannot grant.
    let err = w
        .client
        .set_customer_access_grants(TestSuite::authed(
            grant(vec![firm.customer_id.clone()], vec!["s1".into()], "g0"),
            &w.admin.clone(),
        ))
        .await
        .expect_err("not a service");
    assert_eq!(err.code(), Code::PermissionDenied);
    // Coordination, on behalf of a user, can.
    let auth = w.suite.authenticator();
    let user = w.e1.clone();
    let relayed = move |message: v1::SetCustomerAccessGrantsRequest| {
        let mut request = TestSuite::authed(message, &user);
        let service = auth
            .mint_service_token("coordination", std::time::Duration::from_secs(60))
            .expect("service token");
        bankmkt_platform::client::insert_bearer(
            request.metadata_mut(),
            bankmkt_platform::auth::SERVICE_AUTHORIZATION_HEADER,
            &service,
        )
        .expect("header");
        request
    };
    let granted = w
        .client
        .set_customer_access_grants(relayed(grant(
            vec![firm.customer_id.clone()],
            vec!["s1".into()],
            "g1",
        )))
        .await
        .expect("grant")
        .into_inner();
    assert_eq!(granted.grant_count, 1);
    let seen = w
        .view(&firm.customer_id, &sh)
        .await
        .expect("visible through the grant");
    assert!(
        seen.customer.expect("customer").pii_masked,
        "a member sees the 360 masked"
    );
    let profile = w
        .client
        .get_customer(TestSuite::authed(
            v1::GetCustomerRequest {
                customer_id: firm.customer_id.clone(),
            },
            &sh,
        ))
        .await;
    assert!(profile.is_ok(), "{profile:?}");
    w.client
        .set_customer_access_grants(relayed(grant(vec![], vec![], "g2")))
        .await
        .expect("revoke");
    assert_eq!(
        w.view(&firm.customer_id, &sh)
            .await
            .expect_err("revoked")
            .code(),
        Code::NotFound
    );
    w.suite.stop().await;
}

async fn a_merge_moves_everything_to_the_survivor(backend: Backend) {
    let mut w = world(backend).await;
    let survivor = w.firm("a", "Steel Co", 20).await;
    let duplicate = w.firm("b", "Steel Co (dup)", 21).await;
    let third = w.firm("c", "Buyer", 22).await;
    w.link(
        &duplicate.customer_id,
        &third.customer_id,
        v1::RelationshipType::SupplierOf,
    )
    .await;
    w.link(
        &duplicate.customer_id,
        &survivor.customer_id,
        v1::RelationshipType::SupplierOf,
    )
    .await;
    w.holdings("h1", &survivor.customer_id, "D01", 1, 100).await;
    w.holdings("h2", &duplicate.customer_id, "D01", 1, 200)
        .await;
    w.holdings("h3", &duplicate.customer_id, "D02", 1, 300)
        .await;
    let e1 = w.e1.clone();
    let merge = |survivor_version: i64, merged_version: i64, key: &str| v1::MergeCustomersRequest {
        idempotency_key: key.into(),
        survivor_customer_id: survivor.customer_id.clone(),
        merged_customer_id: duplicate.customer_id.clone(),
        survivor_expected_version: survivor_version,
        merged_expected_version: merged_version,
        reason: "same unified social credit holder".into(),
    };
    let err = w
        .client
        .merge_customers(TestSuite::authed(merge(1, 9, "m0"), &e1))
        .await
        .expect_err("stale");
    assert_eq!(err.code(), Code::Aborted);
    let merged = w
        .client
        .merge_customers(TestSuite::authed(merge(1, 1, "m1"), &e1))
        .await
        .expect("merge")
        .into_inner();
    assert_eq!(
        (merged.relationships_moved, merged.holdings_moved),
        (1, 1),
        "the self-link is ended, the overlapping snapshot keeps the survivor's"
    );
    let survivor_after = merged.survivor.expect("survivor");
    assert_eq!(survivor_after.identities.len(), 2, "identities moved");
    let dup = w
        .client
        .get_customer(TestSuite::authed(
            v1::GetCustomerRequest {
                customer_id: duplicate.customer_id.clone(),
            },
            &e1,
        ))
        .await
        .expect("get")
        .into_inner()
        .customer
        .expect("c");
    assert_eq!(
        (dup.status, dup.merged_into_customer_id.as_str()),
        (
            v1::CustomerStatus::Merged as i32,
            survivor.customer_id.as_str()
        )
    );
    let view = w.view(&survivor.customer_id, &e1).await.expect("360");
    assert_eq!(
        view.holdings
            .clone()
            .and_then(|h| h.liability_balance)
            .map(|m| m.minor_units),
        Some(100 + 300)
    );
    assert_eq!(
        count(&view, v1::RelationshipType::SupplierOf),
        1,
        "only the link to the buyer remains"
    );
    let err = w
        .client
        .merge_customers(TestSuite::authed(merge(2, 2, "m2"), &e1))
        .await
        .expect_err("already merged");
    assert_eq!(err.code(), Code::FailedPrecondition);
    let same = v1::MergeCustomersRequest {
        merged_customer_id: survivor.customer_id.clone(),
        ..merge(2, 2, "m3")
    };
    let err = w
        .client
        .merge_customers(TestSuite::authed(same, &e1))
        .await
        .expect_err("same id");
    assert_eq!(err.code(), Code::InvalidArgument);
    w.suite.stop().await;
}

bankmkt_e2e::on_both_backends!(
    every_write_shows_in_the_next_360_read,
    a_transfer_and_a_tier_change_show_in_the_next_360_read,
    access_grants_open_a_customer_to_members_until_revoked,
    a_merge_moves_everything_to_the_survivor,
);
