//! Bundles through gRPC, on the embedded default (SQLite, in-process cache) and on Postgres with
//! Redis: bundles created (product manager, pricing committee or admin), read, listed (active or
//! all, in keyset pages) and updated as new versions under optimistic concurrency, with one audit
//! entry and outbox event per write; and `ListEligibleBundles` for a real customer created through
//! the registry's own RPCs — its holdings, its executives' personal accounts and its contribution
//! (scored by the registry from an ingested month) — explaining which condition fails ("contribution
//! RMB 180,000.00, bundle needs 200,000.00") and which prerequisites are missing, re-read from the
//! registry on every call (no pricing-side cache), with the registry's visibility decided on the
//! end user and a registry that cannot be reached answering `UNAVAILABLE`.

use bankmkt_domain::customer::{CustomerKind, resident_id_check_char, uscc_check_char};
use bankmkt_domain::money::{Currency, Money};
use bankmkt_domain::pricing::ProductCategory;
use bankmkt_e2e::on_both_backends;
use bankmkt_e2e::pricing::{
    PricingHarness, benefit, bundle, component, date, executives, holds_category, holds_product,
    money, product, range,
};
use bankmkt_e2e::registry::fields;
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_proto::v1;
use bankmkt_proto::v1::customer_registry_client::CustomerRegistryClient;
use tonic::Code;
use tonic::transport::Channel;

use crate::pricing_rules::{catalogue_version, mask, service, trail};

/// The customer registry with a small branch tree and its managers.
pub(crate) struct Registry {
    client: CustomerRegistryClient<Channel>,
    /// A customer manager at BJ01, who owns the customers made here.
    pub e1: String,
    /// A customer manager at SH01, who cannot see them.
    pub sh: String,
    core: String,
    batch: String,
    serial: u32,
}

/// A valid resident id for `serial`.
fn resident_id(serial: u32) -> String {
    let body = format!("110105198001{:05}", 30000 + serial % 1000);
    let body = &body[..17];
    format!(
        "{body}{}",
        resident_id_check_char(body).expect("check char")
    )
}

/// A valid unified social credit code for `serial`.
fn uscc(serial: u32) -> String {
    let body = format!("91110100M{:08}", 500_000 + serial);
    format!("{body}{}", uscc_check_char(&body).expect("check char"))
}

impl Registry {
    /// Loads HQ → BJ → BJ01 and HQ → SH → SH01 with two managers at each tier-2 branch.
    pub(crate) async fn start(suite: &TestSuite) -> Registry {
        use v1::BranchLevel::*;
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
                    idempotency_key: "tree".into(),
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
                    idempotency_key: "staff".into(),
                    employees: vec![
                        employee("e1", "BJ01"),
                        employee("e2", "BJ01"),
                        employee("s1", "SH01"),
                        employee("s2", "SH01"),
                    ],
                },
                &admin,
            ))
            .await
            .expect("staff");
        Registry {
            client,
            e1: suite.token("e1", "BJ01", &["customer_manager"]),
            sh: suite.token("s1", "SH01", &["customer_manager"]),
            core: suite.token("core", "HQ", &["core_banking"]),
            batch: suite.token("batch", "HQ", &["batch"]),
            serial: 0,
        }
    }

    /// Creates a customer of `kind` at BJ01 (managers e1 and e2) and returns its id.
    pub(crate) async fn customer(&mut self, kind: v1::CustomerKind, name: &str) -> String {
        self.serial += 1;
        let serial = self.serial;
        let identity = if kind == v1::CustomerKind::Individual {
            v1::IdentityDocument {
                identity_type: v1::IdentityType::ResidentId as i32,
                number: resident_id(serial),
                ..Default::default()
            }
        } else {
            v1::IdentityDocument {
                identity_type: v1::IdentityType::UnifiedSocialCreditCode as i32,
                number: uscc(serial),
                ..Default::default()
            }
        };
        let request = v1::CreateCustomerRequest {
            idempotency_key: format!("customer-{serial}"),
            customer: Some(v1::Customer {
                kind: kind as i32,
                name: name.into(),
                identities: vec![identity],
                owning_branch_id: "BJ01".into(),
                primary_manager_id: "e1".into(),
                backup_manager_id: "e2".into(),
                ..Default::default()
            }),
            source_refs: vec![],
        };
        let token = self.e1.clone();
        self.client
            .create_customer(TestSuite::authed(request, &token))
            .await
            .unwrap_or_else(|e| panic!("create {name}: {e:?}"))
            .into_inner()
            .customer
            .expect("customer")
            .customer_id
    }

    /// Links `person` to `firm` as one of its executives.
    pub(crate) async fn executive(&mut self, person: &str, firm: &str) {
        let token = self.e1.clone();
        self.client
            .link_customers(TestSuite::authed(
                v1::LinkCustomersRequest {
                    relationship: Some(v1::Relationship {
                        relationship_type: v1::RelationshipType::ExecutiveOf as i32,
                        from_customer_id: person.into(),
                        to_customer_id: firm.into(),
                        title: "CFO".into(),
                        ..Default::default()
                    }),
                    reason: "annual review".into(),
                },
                &token,
            ))
            .await
            .unwrap_or_else(|e| panic!("link: {e:?}"));
    }

    /// Ingests one holding of November 2026 (`fee_income` and `balance` in fen).
    pub(crate) async fn holding(
        &mut self,
        customer_id: &str,
        product_id: &str,
        kind: v1::ProductKind,
        category: v1::ProductCategory,
        fee_income: i64,
        balance: i64,
    ) {
        use v1::ingest_holdings_request::Part;
        self.serial += 1;
        let cny = |minor_units: i64| Some(money("CNY", minor_units));
        let snapshot = v1::HoldingSnapshot {
            customer: Some(v1::CustomerKey {
                key: Some(v1::customer_key::Key::CustomerId(customer_id.into())),
            }),
            product_id: product_id.into(),
            account_id: format!("ACC-{product_id}-{}", self.serial),
            product_kind: kind as i32,
            product_category: category as i32,
            line: v1::BusinessLine::Corporate as i32,
            period: Some(v1::Period {
                year: 2026,
                month: 11,
            }),
            source_version: 1,
            period_end_balance: cny(balance),
            average_daily_balance: cny(balance),
            customer_rate_bps: if kind == v1::ProductKind::Fee { 0 } else { 25 },
            ftp_rate_bps: if kind == v1::ProductKind::Fee { 0 } else { 160 },
            fee_income: cny(fee_income),
            operating_cost: cny(0),
            expected_loss: cny(0),
            economic_capital: cny(0),
            ..Default::default()
        };
        let messages = vec![
            v1::IngestHoldingsRequest {
                part: Some(Part::Header(v1::IngestHeader {
                    idempotency_key: format!("holdings-{}", self.serial),
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

    /// Scores November 2026 for `customer_id` and waits for the job.
    pub(crate) async fn score(&mut self, customer_id: &str) {
        let batch = self.batch.clone();
        let job = self
            .client
            .start_rescoring(TestSuite::authed(
                v1::StartRescoringRequest {
                    idempotency_key: format!("score-{customer_id}"),
                    kind: v1::RescoringKind::Monthly as i32,
                    period: Some(v1::Period {
                        year: 2026,
                        month: 11,
                    }),
                    customer_ids: vec![customer_id.into()],
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
            state = self
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
    }

    /// The registry's own answer to `GetCustomer360` for `token`.
    pub(crate) async fn view(
        &mut self,
        customer_id: &str,
        token: &str,
    ) -> Result<v1::GetCustomer360Response, tonic::Status> {
        self.client
            .get_customer360(TestSuite::authed(
                v1::GetCustomer360Request {
                    customer_id: customer_id.into(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner())
    }
}

async fn get_bundle(
    h: &mut PricingHarness,
    bundle_id: &str,
    version: i64,
) -> Result<v1::Bundle, tonic::Status> {
    let token = h.manager.clone();
    h.client
        .get_bundle(TestSuite::authed(
            v1::GetBundleRequest {
                bundle_id: bundle_id.into(),
                version,
            },
            &token,
        ))
        .await
        .map(|r| r.into_inner().bundle.expect("bundle"))
}

async fn update_bundle(
    h: &mut PricingHarness,
    token: &str,
    bundle: v1::Bundle,
    paths: &[&str],
    expected_version: i64,
) -> Result<v1::Bundle, tonic::Status> {
    h.client
        .update_bundle(TestSuite::authed(
            v1::UpdateBundleRequest {
                bundle: Some(bundle),
                update_mask: mask(paths),
                expected_version,
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().bundle.expect("bundle"))
}

async fn list_bundles(h: &mut PricingHarness, request: v1::ListBundlesRequest) -> Vec<String> {
    let token = h.manager.clone();
    let mut ids = Vec::new();
    let mut request = request;
    loop {
        let page = h
            .client
            .list_bundles(TestSuite::authed(request.clone(), &token))
            .await
            .expect("list bundles")
            .into_inner();
        ids.extend(page.bundles.into_iter().map(|b| b.bundle_id));
        if page.next_page_token.is_empty() {
            return ids;
        }
        request.page_token = page.next_page_token;
    }
}

async fn eligible(
    h: &mut PricingHarness,
    token: &str,
    request: v1::ListEligibleBundlesRequest,
) -> Result<Vec<v1::BundleEligibility>, tonic::Status> {
    let mut out = Vec::new();
    let mut request = request;
    loop {
        let page = h
            .client
            .list_eligible_bundles(TestSuite::authed(request.clone(), token))
            .await?
            .into_inner();
        out.extend(page.bundles);
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        request.page_token = page.next_page_token;
    }
}

fn missing_ids(e: &v1::BundleEligibility) -> Vec<String> {
    e.missing_prerequisites
        .iter()
        .map(|p| p.prerequisite_id.clone())
        .collect()
}

fn messages(e: &v1::BundleEligibility) -> Vec<String> {
    e.unmet_conditions
        .iter()
        .map(|u| u.message.clone())
        .collect()
}

fn cny(yuan: i64) -> v1::Money {
    money("CNY", yuan * 100)
}

async fn bundles_and_eligibility(backend: Backend) {
    use v1::BenefitType::*;
    use v1::ProductCategory as C;
    use v1::ProductKind as K;
    let mut h = PricingHarness::start(backend).await;
    h.create_products(vec![
        product("LOAN", K::Asset, C::Loan),
        product("PAYROLL", K::Fee, C::Payroll),
        product("CARD", K::Fee, C::Card),
        product("DEP", K::Liability, C::Deposit),
    ])
    .await;
    let pm = h.product_manager.clone();
    let committee = h.committee.clone();
    let manager = h.manager.clone();
    let since_2026 = range(date(2026, 1, 1), None);
    let version_at_start = catalogue_version(&h).await;

    // Load the bundles.
    let credit = h
        .create_bundle(
            &pm,
            bundle(
                "Credit plus payroll",
                vec![
                    component("loan", "LOAN", true, Some(benefit(SpreadPercent, 10))),
                    component(
                        "payroll",
                        "PAYROLL",
                        true,
                        Some(benefit(FixedPercent, 2_000)),
                    ),
                    component("card", "CARD", false, Some(benefit(Waive, 0))),
                ],
                v1::CustomerCondition {
                    kinds: vec![v1::CustomerKind::Corporate as i32],
                    stages: vec![
                        v1::LifecycleStage::Potential as i32,
                        v1::LifecycleStage::New as i32,
                        v1::LifecycleStage::Established as i32,
                        v1::LifecycleStage::Core as i32,
                    ],
                    ..Default::default()
                },
                vec![
                    holds_category("payroll", C::Payroll, "payroll agency with us"),
                    holds_product("card", "CARD", "corporate card issuance"),
                    executives("execs", 2, "two executives bank with us personally"),
                ],
                since_2026,
            ),
        )
        .await
        .expect("credit bundle");
    assert_eq!(credit.version, 1);
    assert_eq!(credit.bundle_id.len(), 36);
    assert_eq!(credit.components.len(), 3);
    assert_eq!(
        credit.components[1].benefit,
        Some(benefit(FixedPercent, 2_000))
    );
    assert_eq!(
        credit.prerequisites[2],
        executives("execs", 2, "two executives bank with us personally")
    );
    assert_eq!(
        credit.created.as_ref().map(|c| c.actor_id.as_str()),
        Some("pm1")
    );
    let big = h
        .create_bundle(
            &committee,
            bundle(
                "Big contributor savings",
                vec![component(
                    "dep",
                    "DEP",
                    true,
                    Some(benefit(SpreadPercent, 5)),
                )],
                v1::CustomerCondition {
                    min_ttm_contribution: Some(cny(200_000)),
                    ..Default::default()
                },
                vec![],
                since_2026,
            ),
        )
        .await
        .expect("big bundle");
    let tier1 = h
        .create_bundle(
            &pm,
            bundle(
                "Tier-1 settlement",
                vec![component(
                    "payroll",
                    "PAYROLL",
                    true,
                    Some(benefit(Waive, 0)),
                )],
                v1::CustomerCondition {
                    corporate_tiers: vec![v1::CorporateTier::Tier1Branch as i32],
                    ..Default::default()
                },
                vec![],
                since_2026,
            ),
        )
        .await
        .expect("tier-1 bundle");
    let retired = h
        .create_bundle(
            &pm,
            v1::Bundle {
                active: false,
                ..bundle(
                    "Retired",
                    vec![component("dep", "DEP", true, None)],
                    v1::CustomerCondition::default(),
                    vec![],
                    since_2026,
                )
            },
        )
        .await
        .expect("retired bundle");
    let future = h
        .create_bundle(
            &pm,
            bundle(
                "Next decade",
                vec![component("dep", "DEP", true, None)],
                v1::CustomerCondition::default(),
                vec![],
                range(date(2030, 1, 1), None),
            ),
        )
        .await
        .expect("future bundle");
    assert_eq!(catalogue_version(&h).await, version_at_start + 5);

    // Who may write; what cannot be bundled.
    let denied = h
        .create_bundle(
            &manager,
            bundle(
                "x",
                vec![component("dep", "DEP", true, None)],
                v1::CustomerCondition::default(),
                vec![],
                since_2026,
            ),
        )
        .await
        .expect_err("manager");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let unknown = h
        .create_bundle(
            &pm,
            bundle(
                "x",
                vec![component("x", "NOPE", true, None)],
                v1::CustomerCondition::default(),
                vec![],
                since_2026,
            ),
        )
        .await
        .expect_err("unknown product");
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert_eq!(fields(&unknown), ["bundle.components[0].product_id"]);

    // Reads and lists (ids are UUID v7: by creation).
    assert_eq!(
        get_bundle(&mut h, &credit.bundle_id, 0).await.expect("get"),
        credit
    );
    let active = list_bundles(&mut h, v1::ListBundlesRequest::default()).await;
    let mut expected = vec![
        credit.bundle_id.clone(),
        big.bundle_id.clone(),
        tier1.bundle_id.clone(),
        future.bundle_id.clone(),
    ];
    expected.sort();
    assert_eq!(active, expected);
    let all = list_bundles(
        &mut h,
        v1::ListBundlesRequest {
            include_inactive: true,
            page_size: 2,
            ..Default::default()
        },
    )
    .await;
    expected.push(retired.bundle_id.clone());
    expected.sort();
    assert_eq!(all, expected, "every bundle, in pages of two");

    // Versions: an update stores version 2, a stale one is ABORTED, version 1 stays readable.
    let renamed = update_bundle(
        &mut h,
        &pm,
        v1::Bundle {
            bundle_id: tier1.bundle_id.clone(),
            name: "Tier-1 settlement waiver".into(),
            active: false,
            ..Default::default()
        },
        &["name"],
        1,
    )
    .await
    .expect("rename");
    assert_eq!(renamed.version, 2);
    assert_eq!(renamed.name, "Tier-1 settlement waiver");
    assert!(renamed.active, "active was not in the mask");
    assert_eq!(renamed.components, tier1.components);
    let stale = update_bundle(
        &mut h,
        &pm,
        v1::Bundle {
            bundle_id: tier1.bundle_id.clone(),
            name: "late".into(),
            ..Default::default()
        },
        &["name"],
        1,
    )
    .await
    .expect_err("stale");
    assert_eq!(stale.code(), Code::Aborted);
    let denied = update_bundle(
        &mut h,
        &manager,
        v1::Bundle {
            bundle_id: tier1.bundle_id.clone(),
            name: "mine".into(),
            ..Default::default()
        },
        &["name"],
        2,
    )
    .await
    .expect_err("manager update");
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert_eq!(
        get_bundle(&mut h, &tier1.bundle_id, 1).await.expect("v1"),
        tier1
    );
    assert_eq!(
        get_bundle(&mut h, &tier1.bundle_id, 0)
            .await
            .expect("latest")
            .version,
        2
    );
    let svc = service(&h, &format!("http://{}", h.suite.addr("customer-registry"))).await;
    let loaded = bankmkt_pricing::bundles::load(&svc, &tier1.bundle_id)
        .await
        .expect("load");
    assert_eq!(
        (loaded.version, loaded.name.as_str()),
        (2, "Tier-1 settlement waiver")
    );
    let missing = bankmkt_pricing::bundles::load(&svc, "01900000-0000-7000-8000-000000000000")
        .await
        .expect_err("no such bundle");
    let missing = tonic::Status::from(missing);
    assert_eq!(missing.code(), Code::NotFound);
    assert!(
        missing
            .message()
            .contains("01900000-0000-7000-8000-000000000000")
    );
    assert_eq!(trail(&h, "bundle").await, (6, 6));

    // A real customer, through the registry's RPCs: a corporate with a payroll agency earning
    // RMB 180,000.00 in fees in November, scored; two executives, one banking with us.
    let mut registry = Registry::start(&h.suite).await;
    let firm = registry
        .customer(v1::CustomerKind::Corporate, "Huadong Machinery")
        .await;
    let ceo = registry
        .customer(v1::CustomerKind::Individual, "Zhang Wei")
        .await;
    let cfo = registry
        .customer(v1::CustomerKind::Individual, "Li Na")
        .await;
    registry.executive(&ceo, &firm).await;
    registry.executive(&cfo, &firm).await;
    registry
        .holding(&firm, "PAYROLL", K::Fee, C::Payroll, 18_000_000, 0)
        .await;
    registry
        .holding(&ceo, "DEP", K::Liability, C::Deposit, 0, 5_000_000)
        .await;
    registry.score(&firm).await;
    let e1 = registry.e1.clone();
    let view = registry.view(&firm, &e1).await.expect("360");
    assert_eq!(
        view.ttm_contribution.and_then(|c| c.after_risk),
        Some(cny(180_000)),
        "the registry scored the month's fees"
    );

    let listed = eligible(
        &mut h,
        &e1,
        v1::ListEligibleBundlesRequest {
            customer_id: firm.clone(),
            page_size: 1,
            ..Default::default()
        },
    )
    .await
    .expect("eligible bundles");
    let ids: Vec<String> = listed
        .iter()
        .map(|e| e.bundle.clone().unwrap_or_default().bundle_id)
        .collect();
    let mut in_force = vec![
        credit.bundle_id.clone(),
        big.bundle_id.clone(),
        tier1.bundle_id.clone(),
    ];
    in_force.sort();
    assert_eq!(ids, in_force, "active bundles in force today, by id");
    let entry = |id: &str| {
        listed
            .iter()
            .find(|e| e.bundle.as_ref().is_some_and(|b| b.bundle_id == id))
            .cloned()
            .expect("entry")
    };
    let credit_entry = entry(&credit.bundle_id);
    assert!(credit_entry.eligible, "{credit_entry:?}");
    assert!(credit_entry.unmet_conditions.is_empty());
    assert_eq!(missing_ids(&credit_entry), ["card", "execs"]);
    let big_entry = entry(&big.bundle_id);
    assert!(!big_entry.eligible);
    assert_eq!(
        big_entry.unmet_conditions,
        [v1::UnmetCondition {
            condition: "min_ttm_contribution".into(),
            actual: "CNY 180,000.00".into(),
            required: "CNY 200,000.00".into(),
            message: "contribution RMB 180,000.00, bundle needs 200,000.00".into(),
        }]
    );
    let tier1_entry = entry(&tier1.bundle_id);
    assert!(!tier1_entry.eligible);
    assert_eq!(
        messages(&tier1_entry),
        ["corporate tier none, bundle needs tier1_branch"]
    );
    assert_eq!(
        tier1_entry.bundle.map(|b| b.version),
        Some(2),
        "the current version"
    );
    let only = eligible(
        &mut h,
        &e1,
        v1::ListEligibleBundlesRequest {
            customer_id: firm.clone(),
            eligible_only: true,
            ..Default::default()
        },
    )
    .await
    .expect("eligible only");
    assert_eq!(only.len(), 1);
    assert_eq!(
        only[0].bundle.as_ref().map(|b| b.bundle_id.clone()),
        Some(credit.bundle_id.clone())
    );

    // The individual executive is not a corporate: the credit bundle's kind condition fails.
    let person = eligible(
        &mut h,
        &e1,
        v1::ListEligibleBundlesRequest {
            customer_id: ceo.clone(),
            ..Default::default()
        },
    )
    .await
    .expect("person");
    let person_credit = person
        .iter()
        .find(|e| {
            e.bundle
                .as_ref()
                .is_some_and(|b| b.bundle_id == credit.bundle_id)
        })
        .expect("credit");
    assert_eq!(
        messages(person_credit),
        ["customer kind individual, bundle needs corporate"]
    );

    // The second executive opens an account and the firm issues cards: read again, nothing is
    // missing (pricing keeps no copy of the customer).
    registry
        .holding(&cfo, "DEP", K::Liability, C::Deposit, 0, 1_000_000)
        .await;
    registry
        .holding(&firm, "CARD", K::Fee, C::Card, 50_000, 0)
        .await;
    let again = eligible(
        &mut h,
        &e1,
        v1::ListEligibleBundlesRequest {
            customer_id: firm.clone(),
            eligible_only: true,
            ..Default::default()
        },
    )
    .await
    .expect("again");
    assert_eq!(again.len(), 1);
    assert!(again[0].missing_prerequisites.is_empty(), "{again:?}");

    // The facts pricing reads, as the library sees them.
    let authenticator = h.suite.authenticator();
    let caller_of = |token: &str| {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            format!("Bearer {token}").parse().expect("header"),
        );
        authenticator.authenticate(&headers).expect("caller")
    };
    let snapshot = bankmkt_pricing::facts::read(&svc, &caller_of(&e1), &firm)
        .await
        .expect("facts");
    assert_eq!(snapshot.customer_id, firm);
    assert_eq!(snapshot.branch_id, "BJ01");
    assert!(snapshot.data_version.parse::<i64>().is_ok_and(|v| v > 0));
    assert_eq!(snapshot.facts.kind, Some(CustomerKind::Corporate));
    assert_eq!(
        snapshot.facts.ttm_contribution,
        Some(Money::from_minor(Currency::CNY, 18_000_000))
    );
    let mut held = snapshot.facts.held_product_ids.clone();
    held.sort();
    assert_eq!(held, ["CARD", "PAYROLL"]);
    assert!(
        snapshot
            .facts
            .held_categories
            .contains(&ProductCategory::Payroll)
    );
    assert_eq!(snapshot.facts.executives_with_personal_accounts, 2);

    // Visibility is the registry's, decided on the end user.
    let sh = registry.sh.clone();
    let registry_answer = registry
        .view(&firm, &sh)
        .await
        .expect_err("another subtree")
        .code();
    assert!(
        matches!(registry_answer, Code::NotFound | Code::PermissionDenied),
        "{registry_answer:?}"
    );
    let hidden = eligible(
        &mut h,
        &sh,
        v1::ListEligibleBundlesRequest {
            customer_id: firm.clone(),
            ..Default::default()
        },
    )
    .await
    .expect_err("hidden");
    assert_eq!(hidden.code(), registry_answer);
    let unknown = eligible(
        &mut h,
        &e1,
        v1::ListEligibleBundlesRequest {
            customer_id: "C-NO-SUCH".into(),
            ..Default::default()
        },
    )
    .await
    .expect_err("unknown customer");
    assert_eq!(unknown.code(), Code::NotFound);

    // A registry that cannot be reached is UNAVAILABLE.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        listener.local_addr().expect("addr")
    };
    let cut_off = service(&h, &format!("http://{dead}")).await;
    let down = bankmkt_pricing::facts::read(&cut_off, &caller_of(&e1), &firm)
        .await
        .expect_err("registry down");
    assert_eq!(tonic::Status::from(down).code(), Code::Unavailable);
    h.suite.stop().await;
}

on_both_backends!(bundles_and_eligibility);
