//! Tiers and segments through gRPC on both backends (DOMAIN.md §2 corporate and wealth tiers,
//! §3 segmentation): tier rules as versioned data with overlaps refused, a corporate entry and
//! then an upgrade from the trailing-twelve-month contribution with the domain's reasons, the
//! two-person apply (the maker refused, a branch head without authority refused, a stale version
//! aborted, the checker applies; the customer read back through the cache shows the new tier and
//! version, the history lists both changes, one event per change), a list whose customer changed
//! tier since its evaluation refused, a retail VIP entry from three months of deposits, a
//! rejection that changes nothing, segmentation that separates two obvious clusters and gives
//! identical assignments for the same seed, and bad input naming the field while writing nothing.

use std::time::Duration;

use bankmkt_domain::customer::{resident_id_check_char, uscc_check_char};
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_platform::settings::ServiceKind;
use bankmkt_proto::v1;
use bankmkt_proto::v1::customer_registry_client::CustomerRegistryClient;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

fn resident_id(serial: u32) -> String {
    let body = format!(
        "110105198502{:02}{:03}",
        1 + serial % 28,
        500 + serial % 400
    );
    format!(
        "{body}{}",
        resident_id_check_char(&body).expect("check char")
    )
}

fn uscc(serial: u32) -> String {
    let body = format!("91350100M{:08}", 700_000 + serial);
    format!("{body}{}", uscc_check_char(&body).expect("check char"))
}

fn fields(status: &Status) -> Vec<String> {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|f| f.field.clone()).collect())
        .unwrap_or_default()
}

/// Asserts `INVALID_ARGUMENT` naming `field`.
fn assert_names<T: std::fmt::Debug>(result: Result<T, Status>, field: &str, case: &str) {
    let err = result.expect_err(case);
    assert_eq!(err.code(), Code::InvalidArgument, "{case}: {err:?}");
    assert!(
        fields(&err).iter().any(|f| f == field),
        "{case}: expected {field} in {:?}",
        fields(&err)
    );
}

fn assert_code<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, case: &str) {
    let err = result.expect_err(case);
    assert_eq!(err.code(), code, "{case}: {err:?}");
}

/// CNY in yuan.
fn yuan(y: i64) -> Option<v1::Money> {
    Some(v1::Money {
        currency: "CNY".into(),
        minor_units: y * 100,
    })
}

fn period(year: i32, month: i32) -> Option<v1::Period> {
    Some(v1::Period { year, month })
}

fn date(year: i32, month: i32, day: i32) -> Option<v1::Date> {
    Some(v1::Date { year, month, day })
}

fn from_2024() -> Option<v1::EffectiveRange> {
    Some(v1::EffectiveRange {
        start_date: date(2024, 1, 1),
        end_date: None,
    })
}

fn key(customer_id: &str) -> Option<v1::CustomerKey> {
    Some(v1::CustomerKey {
        key: Some(v1::customer_key::Key::CustomerId(customer_id.into())),
    })
}

/// A holdings snapshot: a fee product with `fee` yuan of income, or a deposit (or wealth
/// product) with `balance` yuan of average daily balance.
fn holding(
    customer_id: &str,
    product: &str,
    category: v1::ProductCategory,
    (year, month): (i32, i32),
    yuan_amount: i64,
) -> v1::HoldingSnapshot {
    let (kind, fee, balance) = match category {
        v1::ProductCategory::Settlement => (v1::ProductKind::Fee, yuan_amount, 0),
        v1::ProductCategory::Loan => (v1::ProductKind::Asset, 0, yuan_amount),
        _ => (v1::ProductKind::Liability, 0, yuan_amount),
    };
    v1::HoldingSnapshot {
        customer: key(customer_id),
        product_id: product.into(),
        account_id: format!("{product}-{}", &customer_id[..8]),
        product_kind: kind as i32,
        product_category: category as i32,
        line: v1::BusinessLine::Corporate as i32,
        period: period(year, month),
        source_version: 1,
        period_end_balance: yuan(balance),
        average_daily_balance: yuan(balance),
        fee_income: yuan(fee),
        ..Default::default()
    }
}

/// Corporate rules: tier 1 needs 10M TTM contribution across regions, tier 2 1M, sub-branch 100k.
fn corporate_rules(effective: Option<v1::EffectiveRange>) -> v1::TierRuleSet {
    let criterion = |tier: v1::CorporateTier, min: i64, cross: bool| v1::CorporateTierCriterion {
        tier: tier as i32,
        min_ttm_contribution: yuan(min),
        requires_cross_region: cross,
        ..Default::default()
    };
    v1::TierRuleSet {
        scheme: v1::TierScheme::Corporate as i32,
        rules: Some(v1::tier_rule_set::Rules::Corporate(
            v1::CorporateTierRules {
                criteria: vec![
                    criterion(v1::CorporateTier::Tier1Branch, 10_000_000, true),
                    criterion(v1::CorporateTier::Tier2Branch, 1_000_000, false),
                    criterion(v1::CorporateTier::SubBranch, 100_000, false),
                ],
            },
        )),
        effective,
        ..Default::default()
    }
}

/// The DOMAIN.md wealth thresholds over the default basis.
fn wealth_rules() -> v1::TierRuleSet {
    let threshold = |tier: v1::WealthTier, min: i64| v1::WealthTierThreshold {
        tier: tier as i32,
        min_aum: yuan(min),
    };
    v1::TierRuleSet {
        scheme: v1::TierScheme::Wealth as i32,
        rules: Some(v1::tier_rule_set::Rules::Wealth(v1::WealthTierRules {
            thresholds: vec![
                threshold(v1::WealthTier::Vip, 500_000),
                threshold(v1::WealthTier::Platinum, 3_000_000),
                threshold(v1::WealthTier::PrivateBanking, 8_000_000),
            ],
            basis_months: 0,
            aum_categories: vec![],
        })),
        effective: from_2024(),
        ..Default::default()
    }
}

struct World {
    suite: TestSuite,
    client: CustomerRegistryClient<Channel>,
    admin: String,
    perf: String,
    batch: String,
    core: String,
    /// Branch head of BJ: the maker.
    maker: String,
    /// Another branch head of BJ: the checker.
    checker: String,
    /// Branch head of SH: no authority over BJ.
    sh_head: String,
    e1: String,
    serial: u32,
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
    let employee = |id: &str, branch: &str| v1::Employee {
        employee_id: id.into(),
        name: id.into(),
        branch_id: branch.into(),
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
                    employee("e3", "SH01"),
                    employee("e5", "SH01"),
                ],
            },
            &admin,
        ))
        .await
        .expect("staff");
    World {
        perf: suite.token("po1", "HQ", &["performance_office"]),
        batch: suite.token("cron", "HQ", &["batch"]),
        core: suite.token("core", "HQ", &["core_banking"]),
        maker: suite.token("bh1", "BJ", &["branch_head"]),
        checker: suite.token("bh2", "BJ", &["branch_head"]),
        sh_head: suite.token("bh3", "SH", &["branch_head"]),
        e1: suite.token("e1", "BJ01", &["customer_manager"]),
        admin,
        suite,
        client,
        serial: 0,
    }
}

impl World {
    async fn create(&mut self, customer: v1::Customer, branch: &str) -> String {
        self.serial += 1;
        let mut customer = customer;
        customer.owning_branch_id = branch.into();
        (customer.primary_manager_id, customer.backup_manager_id) = if branch == "SH01" {
            ("e3".into(), "e5".into())
        } else {
            ("e1".into(), "e2".into())
        };
        let token = self.admin.clone();
        self.client
            .create_customer(TestSuite::authed(
                v1::CreateCustomerRequest {
                    idempotency_key: format!("create-{}", self.serial),
                    customer: Some(customer),
                    source_refs: vec![],
                },
                &token,
            ))
            .await
            .expect("create customer")
            .into_inner()
            .customer
            .expect("customer")
            .customer_id
    }

    async fn corporate(&mut self, name: &str, branch: &str) -> String {
        let serial = self.serial;
        let customer = v1::Customer {
            kind: v1::CustomerKind::Corporate as i32,
            name: name.into(),
            identities: vec![v1::IdentityDocument {
                identity_type: v1::IdentityType::UnifiedSocialCreditCode as i32,
                number: uscc(serial),
                ..Default::default()
            }],
            industry_code: "C3612".into(),
            details: Some(v1::customer::Details::Organisation(
                v1::OrganisationDetails {
                    credit_rating: "AA".into(),
                    annual_revenue: yuan(80_000_000),
                    ..Default::default()
                },
            )),
            ..Default::default()
        };
        self.create(customer, branch).await
    }

    async fn individual(&mut self, name: &str, branch: &str) -> String {
        let serial = self.serial;
        let customer = v1::Customer {
            kind: v1::CustomerKind::Individual as i32,
            name: name.into(),
            identities: vec![v1::IdentityDocument {
                identity_type: v1::IdentityType::ResidentId as i32,
                number: resident_id(serial),
                ..Default::default()
            }],
            ..Default::default()
        };
        self.create(customer, branch).await
    }

    async fn ingest_holdings(&mut self, records: Vec<v1::HoldingSnapshot>) {
        use v1::ingest_holdings_request::Part;
        self.serial += 1;
        let count = records.len() as i64;
        let mut messages = vec![v1::IngestHoldingsRequest {
            part: Some(Part::Header(v1::IngestHeader {
                idempotency_key: format!("holdings-{}", self.serial),
                source_system: "CORE".into(),
                ..Default::default()
            })),
        }];
        messages.extend(records.into_iter().map(|r| v1::IngestHoldingsRequest {
            part: Some(Part::Record(r)),
        }));
        messages.push(v1::IngestHoldingsRequest {
            part: Some(Part::Trailer(v1::IngestTrailer {
                control_totals: Some(v1::ControlTotals {
                    record_count: count,
                    amount_sums: vec![],
                }),
            })),
        });
        let token = self.core.clone();
        let summary = self
            .client
            .ingest_holdings(TestSuite::authed(tokio_stream::iter(messages), &token))
            .await
            .expect("ingest holdings")
            .into_inner()
            .summary
            .expect("summary");
        assert_eq!(summary.rejected, 0, "{:?}", summary.errors);
    }

    /// One single transaction per date for the customer.
    async fn ingest_transactions(&mut self, customer_id: &str, dates: &[(i32, i32, i32)]) {
        use v1::ingest_transactions_request::Part;
        self.serial += 1;
        let mut messages = vec![v1::IngestTransactionsRequest {
            part: Some(Part::Header(v1::IngestHeader {
                idempotency_key: format!("tx-{}", self.serial),
                source_system: "CORE".into(),
                ..Default::default()
            })),
        }];
        for (i, (y, m, d)) in dates.iter().enumerate() {
            messages.push(v1::IngestTransactionsRequest {
                part: Some(Part::Transaction(v1::Transaction {
                    customer: key(customer_id),
                    transaction_id: format!("T{}-{i}", self.serial),
                    source_version: 1,
                    transaction_date: date(*y, *m, *d),
                    amount: yuan(100),
                    direction: v1::TransactionDirection::Credit as i32,
                    product_id: String::new(),
                })),
            });
        }
        let token = self.core.clone();
        let summary = self
            .client
            .ingest_transactions(TestSuite::authed(tokio_stream::iter(messages), &token))
            .await
            .expect("ingest transactions")
            .into_inner()
            .summary
            .expect("summary");
        assert_eq!(summary.rejected, 0, "{:?}", summary.errors);
    }

    /// Runs the monthly re-scoring of `ids` for a month and waits for it.
    async fn rescore(&mut self, ids: &[&str], (year, month): (i32, i32)) {
        self.serial += 1;
        let token = self.batch.clone();
        let job = self
            .client
            .start_rescoring(TestSuite::authed(
                v1::StartRescoringRequest {
                    idempotency_key: format!("rescore-{}", self.serial),
                    kind: v1::RescoringKind::Monthly as i32,
                    period: period(year, month),
                    branch_id: String::new(),
                    customer_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
                },
                &token,
            ))
            .await
            .expect("start rescoring")
            .into_inner()
            .job
            .expect("job");
        for _ in 0..600 {
            let j = self
                .client
                .get_rescoring_job(TestSuite::authed(
                    v1::GetRescoringJobRequest {
                        job_id: job.job_id.clone(),
                    },
                    &token,
                ))
                .await
                .expect("job")
                .into_inner()
                .job
                .expect("job");
            if j.state == v1::JobState::Succeeded as i32 {
                assert_eq!(j.customers_failed, 0, "{}", j.error_message);
                return;
            }
            assert_ne!(j.state, v1::JobState::Failed as i32, "{}", j.error_message);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("re-scoring did not finish");
    }

    async fn rule_set(
        &mut self,
        rule_set: v1::TierRuleSet,
        token: &str,
    ) -> Result<v1::TierRuleSet, Status> {
        self.client
            .create_tier_rule_set(TestSuite::authed(
                v1::CreateTierRuleSetRequest {
                    rule_set: Some(rule_set),
                    reason: "quarterly tier policy".into(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().rule_set.expect("rule set"))
    }

    async fn evaluate(
        &mut self,
        request: v1::EvaluateTiersRequest,
        token: &str,
    ) -> Result<v1::TierChangeList, Status> {
        self.client
            .evaluate_tiers(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner().change_list.expect("change list"))
    }

    async fn changes(&mut self, list_id: &str, kind: v1::TierChangeKind) -> Vec<v1::TierChange> {
        let token = self.admin.clone();
        self.client
            .list_tier_changes(TestSuite::authed(
                v1::ListTierChangesRequest {
                    change_list_id: list_id.into(),
                    kind: kind as i32,
                    page_size: 0,
                    page_token: String::new(),
                },
                &token,
            ))
            .await
            .expect("changes")
            .into_inner()
            .changes
    }

    async fn approve(
        &mut self,
        list: &v1::TierChangeList,
        version: i64,
        token: &str,
    ) -> Result<v1::TierChangeList, Status> {
        self.client
            .approve_tier_change_list(TestSuite::authed(
                v1::ApproveTierChangeListRequest {
                    change_list_id: list.change_list_id.clone(),
                    expected_version: version,
                    reason: "checked".into(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().change_list.expect("change list"))
    }

    async fn reject(
        &mut self,
        list: &v1::TierChangeList,
        reason: &str,
        token: &str,
    ) -> Result<v1::TierChangeList, Status> {
        self.client
            .reject_tier_change_list(TestSuite::authed(
                v1::RejectTierChangeListRequest {
                    change_list_id: list.change_list_id.clone(),
                    expected_version: list.version,
                    reason: reason.into(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().change_list.expect("change list"))
    }

    async fn get(&mut self, id: &str) -> v1::Customer {
        let token = self.e1.clone();
        self.client
            .get_customer(TestSuite::authed(
                v1::GetCustomerRequest {
                    customer_id: id.into(),
                },
                &token,
            ))
            .await
            .expect("get customer")
            .into_inner()
            .customer
            .expect("customer")
    }

    async fn history(&mut self, id: &str) -> Vec<v1::TierHistoryEntry> {
        let token = self.e1.clone();
        self.client
            .list_tier_history(TestSuite::authed(
                v1::ListTierHistoryRequest {
                    customer_id: id.into(),
                    page_size: 0,
                    page_token: String::new(),
                },
                &token,
            ))
            .await
            .expect("history")
            .into_inner()
            .entries
    }

    async fn start_segmentation(
        &mut self,
        request: v1::StartSegmentationRequest,
        token: &str,
    ) -> Result<v1::SegmentationRun, Status> {
        self.client
            .start_segmentation(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner().run.expect("run"))
    }

    /// Polls a run until it is no longer queued or running.
    async fn wait_run(&mut self, run_id: &str) -> v1::SegmentationRun {
        let token = self.batch.clone();
        for _ in 0..600 {
            let run = self
                .client
                .get_segmentation_run(TestSuite::authed(
                    v1::GetSegmentationRunRequest {
                        run_id: run_id.into(),
                    },
                    &token,
                ))
                .await
                .expect("run")
                .into_inner()
                .run
                .expect("run");
            let state = v1::JobState::try_from(run.state).expect("state");
            if matches!(state, v1::JobState::Succeeded | v1::JobState::Failed) {
                return run;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("segmentation run {run_id} did not finish");
    }

    async fn segments(&mut self, run_id: &str) -> Vec<v1::Segment> {
        let token = self.batch.clone();
        self.client
            .list_segments(TestSuite::authed(
                v1::ListSegmentsRequest {
                    run_id: run_id.into(),
                    page_size: 0,
                    page_token: String::new(),
                },
                &token,
            ))
            .await
            .expect("segments")
            .into_inner()
            .segments
    }

    async fn db(&self) -> DatabaseConnection {
        let settings = self.suite.settings();
        bankmkt_platform::db::connect_with(&bankmkt_platform::db::DbOptions::for_service(
            &settings,
            ServiceKind::Registry,
        ))
        .await
        .expect("connect")
    }
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("row");
    row.try_get::<i64>("", "n").expect("count")
}

/// Row counts of every table this feature writes, plus the customers' tier and segment columns.
async fn snapshot(db: &DatabaseConnection) -> Vec<i64> {
    let mut out = Vec::new();
    for table in [
        "tier_rule_set",
        "tier_change_list",
        "tier_change",
        "tier_history",
        "segmentation_run",
        "segment",
        "segment_assignment",
        "audit_log",
        "outbox_event",
        "idempotency_record",
    ] {
        out.push(count(db, &format!("SELECT COUNT(*) AS n FROM {table}")).await);
    }
    out.push(
        count(
            db,
            "SELECT COUNT(*) AS n FROM customer WHERE corporate_tier IS NOT NULL \
             OR wealth_tier IS NOT NULL OR segment_id <> ''",
        )
        .await,
    );
    out.push(
        count(
            db,
            "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) AS n FROM customer",
        )
        .await,
    );
    out
}

fn evaluate_request(
    key: &str,
    scheme: v1::TierScheme,
    branch_id: &str,
    customer_id: &str,
    (year, month): (i32, i32),
) -> v1::EvaluateTiersRequest {
    v1::EvaluateTiersRequest {
        idempotency_key: key.into(),
        scheme: scheme as i32,
        branch_id: branch_id.into(),
        customer_id: customer_id.into(),
        period: period(year, month),
        reason: "quarterly tier review".into(),
    }
}

async fn rule_sets_are_versioned_and_overlaps_refused(backend: Backend) {
    let mut w = world(backend).await;
    let perf = w.perf.clone();
    let v1_rules = w
        .rule_set(corporate_rules(from_2024()), &perf)
        .await
        .expect("v1");
    assert_eq!(
        (v1_rules.rule_set_id.as_str(), v1_rules.version),
        ("corporate_tier", 1)
    );
    let later = Some(v1::EffectiveRange {
        start_date: date(2024, 7, 1),
        end_date: None,
    });
    let v2 = w.rule_set(corporate_rules(later), &perf).await.expect("v2");
    assert_eq!(v2.version, 2);
    let overlapping = Some(v1::EffectiveRange {
        start_date: date(2024, 3, 1),
        end_date: None,
    });
    assert_code(
        w.rule_set(corporate_rules(overlapping), &perf).await,
        Code::FailedPrecondition,
        "a version starting before the latest one",
    );
    let e1 = w.e1.clone();
    assert_code(
        w.rule_set(corporate_rules(from_2024()), &e1).await,
        Code::PermissionDenied,
        "a customer manager may not change tier rules",
    );
    w.rule_set(wealth_rules(), &perf).await.expect("wealth v1");
    let listed = w
        .client
        .list_tier_rule_sets(TestSuite::authed(
            v1::ListTierRuleSetsRequest {
                scheme: v1::TierScheme::Corporate as i32,
                page_size: 1,
                page_token: String::new(),
            },
            &e1,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.rule_sets.len(), 1);
    assert_eq!(listed.rule_sets[0].version, 2, "newest first");
    let next = w
        .client
        .list_tier_rule_sets(TestSuite::authed(
            v1::ListTierRuleSetsRequest {
                scheme: v1::TierScheme::Corporate as i32,
                page_size: 1,
                page_token: listed.next_page_token,
            },
            &e1,
        ))
        .await
        .expect("list")
        .into_inner();
    let first = &next.rule_sets[0];
    assert_eq!(first.version, 1);
    assert_eq!(
        first.effective.as_ref().and_then(|e| e.end_date),
        date(2024, 7, 1),
        "the open-ended predecessor is closed on the new start date"
    );
    assert!(next.next_page_token.is_empty());
    // Wealth defaults are filled in and stored.
    let all = w
        .client
        .list_tier_rule_sets(TestSuite::authed(
            v1::ListTierRuleSetsRequest {
                scheme: v1::TierScheme::Wealth as i32,
                page_size: 0,
                page_token: String::new(),
            },
            &e1,
        ))
        .await
        .expect("list")
        .into_inner();
    match &all.rule_sets[0].rules {
        Some(v1::tier_rule_set::Rules::Wealth(r)) => {
            assert_eq!(r.basis_months, 3);
            assert_eq!(
                r.aum_categories,
                vec![
                    v1::ProductCategory::Deposit as i32,
                    v1::ProductCategory::Wealth as i32
                ]
            );
        }
        other => panic!("wealth rules expected, got {other:?}"),
    }
    w.suite.stop().await;
}

async fn corporate_entry_then_upgrade_with_reasons_and_the_two_person_apply(backend: Backend) {
    let mut w = world(backend).await;
    let perf = w.perf.clone();
    let rules = w
        .rule_set(corporate_rules(from_2024()), &perf)
        .await
        .expect("rules");
    let acme = w.corporate("Acme Machinery", "BJ01").await;
    let beta = w.corporate("Beta Trading", "BJ01").await;
    let gamma = w.corporate("Gamma Shipping", "SH01").await;
    w.individual("Zhang San", "BJ01").await;
    w.ingest_holdings(vec![
        holding(
            &acme,
            "SETTLE",
            v1::ProductCategory::Settlement,
            (2025, 5),
            200_000,
        ),
        holding(
            &gamma,
            "SETTLE",
            v1::ProductCategory::Settlement,
            (2025, 5),
            900_000,
        ),
    ])
    .await;
    w.rescore(&[&acme, &gamma], (2025, 5)).await;

    // Maker: a single-customer evaluation gives an entry, with the reason from the rules.
    let maker = w.maker.clone();
    let before = w.get(&acme).await;
    assert_eq!(before.corporate_tier, v1::CorporateTier::Unlisted as i32);
    let entry = w
        .evaluate(
            evaluate_request("eval-1", v1::TierScheme::Corporate, "", &acme, (2025, 5)),
            &maker,
        )
        .await
        .expect("evaluate");
    assert_eq!(entry.customer_id, acme);
    assert_eq!((entry.evaluated_count, entry.entry_count), (1, 1));
    assert_eq!(
        entry.approval.as_ref().map(|a| a.status),
        Some(v1::ApprovalStatus::Pending as i32)
    );
    assert_eq!(
        entry.rule_versions,
        vec![v1::RuleVersionRef {
            rule_kind: "tier_rule".into(),
            rule_id: rules.rule_set_id.clone(),
            version: 1
        }]
    );
    let changes = w
        .changes(&entry.change_list_id, v1::TierChangeKind::Unspecified)
        .await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].kind, v1::TierChangeKind::Entry as i32);
    assert_eq!(
        changes[0].from_corporate_tier,
        v1::CorporateTier::Unlisted as i32
    );
    assert_eq!(
        changes[0].to_corporate_tier,
        v1::CorporateTier::SubBranch as i32
    );
    assert_eq!(changes[0].customer_name, "Acme Machinery");
    assert_eq!(
        changes[0].reason,
        "contribution TTM CNY 200,000.00 ≥ 100,000.00 for sub-branch"
    );
    // A retry with the same key returns the same list.
    let again = w
        .evaluate(
            evaluate_request("eval-1", v1::TierScheme::Corporate, "", &acme, (2025, 5)),
            &maker,
        )
        .await
        .expect("replay");
    assert_eq!(again.change_list_id, entry.change_list_id);
    // A second, competing evaluation of the same customer.
    let competing = w
        .evaluate(
            evaluate_request("eval-2", v1::TierScheme::Corporate, "", &acme, (2025, 5)),
            &maker,
        )
        .await
        .expect("evaluate again");
    // Nothing changed on the customer yet.
    assert_eq!(w.get(&acme).await.version, before.version);

    // Checker step: the maker is refused, a branch head without authority is refused, a stale
    // version is aborted.
    assert_code(
        w.approve(&entry, 1, &maker).await,
        Code::PermissionDenied,
        "the maker approves",
    );
    let sh_head = w.sh_head.clone();
    assert_code(
        w.approve(&entry, 1, &sh_head).await,
        Code::NotFound,
        "a branch head of another subtree does not even see the list",
    );
    let e1 = w.e1.clone();
    assert_code(
        w.approve(&entry, 1, &e1).await,
        Code::PermissionDenied,
        "a customer manager approves",
    );
    let checker = w.checker.clone();
    assert_code(
        w.approve(&entry, 7, &checker).await,
        Code::Aborted,
        "a stale version",
    );
    let applied = w.approve(&entry, 1, &checker).await.expect("approve");
    let trail = applied.approval.clone().expect("trail");
    assert_eq!(trail.status, v1::ApprovalStatus::Approved as i32);
    assert_eq!(trail.submitted.expect("maker").actor_id, "bh1");
    assert_eq!(trail.decided.expect("checker").actor_id, "bh2");
    assert_eq!(applied.version, 2);
    let after = w.get(&acme).await;
    assert_eq!(after.corporate_tier, v1::CorporateTier::SubBranch as i32);
    assert_eq!(after.version, before.version + 1);
    assert_code(
        w.approve(&applied, 2, &checker).await,
        Code::FailedPrecondition,
        "an approved list is no longer pending",
    );
    // The competing list saw the customer unlisted: its approval is refused and changes nothing.
    assert_code(
        w.approve(&competing, 1, &checker).await,
        Code::FailedPrecondition,
        "the customer's tier changed since the evaluation",
    );
    assert_eq!(w.get(&acme).await.version, after.version);

    // A bigger month: the subtree evaluation of BJ lists an upgrade (and nothing for Beta, which
    // stays unlisted; Gamma in SH and the individual are not evaluated).
    w.ingest_holdings(vec![holding(
        &acme,
        "SETTLE",
        v1::ProductCategory::Settlement,
        (2025, 6),
        1_000_000,
    )])
    .await;
    w.rescore(&[&acme], (2025, 6)).await;
    let upgrade = w
        .evaluate(
            evaluate_request("eval-3", v1::TierScheme::Corporate, "BJ", "", (2025, 6)),
            &maker,
        )
        .await
        .expect("evaluate BJ");
    assert_eq!(upgrade.branch_id, "BJ");
    assert_eq!(upgrade.evaluated_count, 2);
    assert_eq!(
        (
            upgrade.upgrade_count,
            upgrade.downgrade_count,
            upgrade.entry_count,
            upgrade.exit_count
        ),
        (1, 0, 0, 0)
    );
    let ups = w
        .changes(&upgrade.change_list_id, v1::TierChangeKind::Upgrade)
        .await;
    assert_eq!(ups.len(), 1);
    assert_eq!(ups[0].customer_id, acme);
    assert_eq!(
        ups[0].from_corporate_tier,
        v1::CorporateTier::SubBranch as i32
    );
    assert_eq!(
        ups[0].to_corporate_tier,
        v1::CorporateTier::Tier2Branch as i32
    );
    assert_eq!(
        ups[0].reason,
        "contribution TTM CNY 1,200,000.00 ≥ 1,000,000.00 for tier-2 branch"
    );
    assert!(
        w.changes(&upgrade.change_list_id, v1::TierChangeKind::Exit)
            .await
            .is_empty()
    );
    // The pending list is listed for the subtree and invisible from SH.
    let pending = w
        .client
        .list_tier_change_lists(TestSuite::authed(
            v1::ListTierChangeListsRequest {
                branch_id: String::new(),
                status: v1::ApprovalStatus::Pending as i32,
                page_size: 0,
                page_token: String::new(),
            },
            &checker,
        ))
        .await
        .expect("list")
        .into_inner()
        .change_lists;
    let ids: Vec<&str> = pending.iter().map(|l| l.change_list_id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            upgrade.change_list_id.as_str(),
            competing.change_list_id.as_str()
        ],
        "newest first"
    );
    let from_sh = w
        .client
        .list_tier_change_lists(TestSuite::authed(
            v1::ListTierChangeListsRequest::default(),
            &sh_head,
        ))
        .await
        .expect("list")
        .into_inner()
        .change_lists;
    assert!(from_sh.is_empty());

    w.approve(&upgrade, 1, &checker)
        .await
        .expect("approve upgrade");
    let upgraded = w.get(&acme).await;
    assert_eq!(
        upgraded.corporate_tier,
        v1::CorporateTier::Tier2Branch as i32
    );
    assert_eq!(upgraded.version, after.version + 1);
    assert_eq!(
        w.get(&beta).await.corporate_tier,
        v1::CorporateTier::Unlisted as i32
    );
    let history = w.history(&acme).await;
    assert_eq!(history.len(), 2);
    let newest = history[0].change.clone().expect("change");
    assert_eq!(newest.kind, v1::TierChangeKind::Upgrade as i32);
    assert_eq!(
        newest.to_corporate_tier,
        v1::CorporateTier::Tier2Branch as i32
    );
    assert_eq!(newest.reason, ups[0].reason);
    assert_eq!(history[0].change_list_id, upgrade.change_list_id);
    assert_eq!(
        history[0].applied.as_ref().map(|a| a.actor_id.as_str()),
        Some("bh2")
    );
    assert_eq!(
        history[1].change.as_ref().map(|c| c.kind),
        Some(v1::TierChangeKind::Entry as i32)
    );
    let db = w.db().await;
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT COUNT(*) AS n FROM outbox_event WHERE event_type = 'customer.tier_changed' \
                 AND aggregate_id = '{acme}'"
            ),
        )
        .await,
        2,
        "one event per applied change"
    );
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT COUNT(*) AS n FROM tier_history WHERE customer_id = '{acme}' \
                 AND rule_set_id = 'corporate_tier' AND rule_version = 1"
            ),
        )
        .await,
        2,
        "history keeps the rule version"
    );
    // Another subtree's customer is invisible to the BJ maker.
    assert_code(
        w.evaluate(
            evaluate_request("eval-4", v1::TierScheme::Corporate, "", &gamma, (2025, 5)),
            &maker,
        )
        .await,
        Code::NotFound,
        "a customer of another subtree",
    );
    w.suite.stop().await;
}

async fn wealth_vip_entry_from_three_months_of_holdings(backend: Backend) {
    let mut w = world(backend).await;
    let perf = w.perf.clone();
    w.rule_set(wealth_rules(), &perf)
        .await
        .expect("wealth rules");
    let li = w.individual("Li Si", "BJ01").await;
    let wang = w.individual("Wang Wu", "BJ01").await;
    w.corporate("Delta Foods", "BJ01").await;
    use v1::ProductCategory::{Deposit, Loan, Wealth};
    w.ingest_holdings(vec![
        // Li: deposits 400k, 500k, 500k and a wealth product of 100k in May and 60k in June;
        // a loan does not count. Basis = (30 × 400k + 31 × 600k + 30 × 560k) / 91
        // = 47,400,000 / 91 = 520,879.12 ≥ 500k: VIP.
        holding(&li, "DEP", Deposit, (2025, 4), 400_000),
        holding(&li, "DEP", Deposit, (2025, 5), 500_000),
        holding(&li, "DEP", Deposit, (2025, 6), 500_000),
        holding(&li, "WMP", Wealth, (2025, 5), 100_000),
        holding(&li, "WMP", Wealth, (2025, 6), 60_000),
        holding(&li, "LOAN", Loan, (2025, 6), 9_000_000),
        // Wang: 600k in June only = 30 × 600k / 91 = 197,802.20: mass.
        holding(&wang, "DEP", Deposit, (2025, 6), 600_000),
    ])
    .await;
    let maker = w.maker.clone();
    let list = w
        .evaluate(
            evaluate_request("wealth-1", v1::TierScheme::Wealth, "BJ01", "", (2025, 6)),
            &maker,
        )
        .await
        .expect("evaluate");
    assert_eq!(list.scheme, v1::TierScheme::Wealth as i32);
    assert_eq!((list.evaluated_count, list.entry_count), (2, 2));
    let mut entries = w
        .changes(&list.change_list_id, v1::TierChangeKind::Entry)
        .await;
    entries.sort_by(|a, b| a.customer_name.cmp(&b.customer_name));
    assert_eq!(entries[0].customer_id, li);
    assert_eq!(
        entries[0].from_wealth_tier,
        v1::WealthTier::Unspecified as i32
    );
    assert_eq!(entries[0].to_wealth_tier, v1::WealthTier::Vip as i32);
    assert_eq!(
        entries[0].reason,
        "3-month average AUM CNY 520,879.12 ≥ 500,000.00 for VIP"
    );
    assert_eq!(entries[1].customer_id, wang);
    assert_eq!(entries[1].to_wealth_tier, v1::WealthTier::Mass as i32);
    assert_eq!(
        entries[1].reason,
        "3-month average AUM CNY 197,802.20 < 500,000.00 for VIP"
    );
    let admin = w.admin.clone();
    w.approve(&list, 1, &admin).await.expect("approve");
    assert_eq!(w.get(&li).await.wealth_tier, v1::WealthTier::Vip as i32);
    assert_eq!(w.get(&wang).await.wealth_tier, v1::WealthTier::Mass as i32);
    let vips = w
        .client
        .search_customers(TestSuite::authed(
            v1::SearchCustomersRequest {
                branch_id: "BJ01".into(),
                wealth_tiers: vec![v1::WealthTier::Vip as i32],
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("search")
        .into_inner()
        .customers;
    assert_eq!(
        vips.iter()
            .map(|c| c.customer_id.as_str())
            .collect::<Vec<_>>(),
        vec![li.as_str()]
    );
    // Re-evaluating the same month changes nothing: an empty list.
    let same = w
        .evaluate(
            evaluate_request("wealth-2", v1::TierScheme::Wealth, "BJ01", "", (2025, 6)),
            &maker,
        )
        .await
        .expect("evaluate again");
    assert_eq!(same.evaluated_count, 2);
    assert_eq!(
        same.upgrade_count + same.downgrade_count + same.entry_count + same.exit_count,
        0
    );
    w.suite.stop().await;
}

async fn rejection_changes_nothing(backend: Backend) {
    let mut w = world(backend).await;
    let perf = w.perf.clone();
    w.rule_set(corporate_rules(from_2024()), &perf)
        .await
        .expect("rules");
    let acme = w.corporate("Acme Machinery", "BJ01").await;
    w.ingest_holdings(vec![holding(
        &acme,
        "SETTLE",
        v1::ProductCategory::Settlement,
        (2025, 5),
        300_000,
    )])
    .await;
    w.rescore(&[&acme], (2025, 5)).await;
    let maker = w.maker.clone();
    let list = w
        .evaluate(
            evaluate_request("eval-r", v1::TierScheme::Corporate, "BJ01", "", (2025, 5)),
            &maker,
        )
        .await
        .expect("evaluate");
    assert_eq!(list.entry_count, 1);
    let before_customer = w.get(&acme).await;
    let db = w.db().await;
    let before = snapshot(&db).await;
    let checker = w.checker.clone();
    assert_names(
        w.reject(&list, "  ", &checker).await,
        "reason",
        "a rejection needs a reason",
    );
    assert_code(
        w.reject(&list, "no", &maker).await,
        Code::PermissionDenied,
        "the maker rejects",
    );
    assert_eq!(
        snapshot(&db).await,
        before,
        "refused decisions write nothing"
    );
    let rejected = w
        .reject(&list, "contribution not yet confirmed", &checker)
        .await
        .expect("reject");
    let trail = rejected.approval.expect("trail");
    assert_eq!(trail.status, v1::ApprovalStatus::Rejected as i32);
    assert_eq!(
        trail.decided.expect("decided").reason,
        "contribution not yet confirmed"
    );
    let after_customer = w.get(&acme).await;
    assert_eq!(
        after_customer.corporate_tier,
        v1::CorporateTier::Unlisted as i32
    );
    assert_eq!(after_customer.version, before_customer.version);
    assert!(w.history(&acme).await.is_empty());
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM outbox_event WHERE event_type = 'customer.tier_changed'"
        )
        .await,
        0
    );
    assert_code(
        w.approve(&list, 2, &checker).await,
        Code::FailedPrecondition,
        "a rejected list cannot be approved",
    );
    w.suite.stop().await;
}

async fn segmentation_separates_clusters_and_is_deterministic(backend: Backend) {
    let mut w = world(backend).await;
    use v1::ProductCategory::Deposit;
    let mut rich = Vec::new();
    let mut active = Vec::new();
    let mut records = Vec::new();
    for i in 0..6i64 {
        let id = w.individual(&format!("Rich {i}"), "BJ01").await;
        for m in 4..=6 {
            records.push(holding(
                &id,
                "DEP",
                Deposit,
                (2025, m),
                5_000_000 + i * 100_000,
            ));
        }
        rich.push(id);
    }
    for i in 0..6i64 {
        let id = w.individual(&format!("Busy {i}"), "BJ01").await;
        records.push(holding(&id, "DEP", Deposit, (2025, 6), 10_000 + i * 1_000));
        active.push(id);
    }
    w.ingest_holdings(records).await;
    for (i, id) in active.clone().iter().enumerate() {
        let days: Vec<(i32, i32, i32)> = (0..(8 + i as i32))
            .map(|d| (2025, 4 + d % 3, 1 + d))
            .collect();
        w.ingest_transactions(id, &days).await;
    }
    // Warm the cache: the run must drop these entries.
    let before = w.get(&rich[0]).await;
    assert!(before.segment_label.is_empty());

    let batch = w.batch.clone();
    let request = |key: &str| v1::StartSegmentationRequest {
        idempotency_key: key.into(),
        period: period(2025, 6),
        branch_id: "BJ01".into(),
        k: 2,
        seed: 42,
        features: vec!["aum".into(), "transactions_3m".into()],
    };
    let first = w
        .start_segmentation(request("seg-1"), &batch)
        .await
        .expect("start");
    assert_eq!(first.features, vec!["aum", "transactions_3m"]);
    let replay = w
        .start_segmentation(request("seg-1"), &batch)
        .await
        .expect("replay");
    assert_eq!(replay.run_id, first.run_id);
    let done = w.wait_run(&first.run_id).await;
    assert_eq!(
        done.state,
        v1::JobState::Succeeded as i32,
        "{}",
        done.error_message
    );
    assert_eq!(done.customers_total, 12);
    let segments = w.segments(&first.run_id).await;
    assert_eq!(segments.len(), 2);
    assert_eq!(
        segments.iter().map(|s| s.size).collect::<Vec<_>>(),
        vec![6, 6]
    );
    let mut labels: Vec<&str> = segments.iter().map(|s| s.label.as_str()).collect();
    labels.sort();
    assert_eq!(
        labels,
        vec!["high value, low activity", "low value, high activity"]
    );
    for s in &segments {
        assert_eq!(
            s.centroid
                .iter()
                .map(|c| c.feature.as_str())
                .collect::<Vec<_>>(),
            vec!["aum", "transactions_3m"]
        );
    }
    let rich_customer = w.get(&rich[0]).await;
    assert_eq!(rich_customer.segment_label, "high value, low activity");
    assert_eq!(rich_customer.version, before.version + 1);
    let rich_segment = segments
        .iter()
        .find(|s| s.segment_id == rich_customer.segment_id)
        .expect("the customer's segment is listed");
    assert_eq!(rich_segment.label, "high value, low activity");
    let mut first_positions = Vec::new();
    for id in rich.iter().chain(&active) {
        let c = w.get(id).await;
        let expected = if rich.contains(id) {
            "high value, low activity"
        } else {
            "low value, high activity"
        };
        assert_eq!(c.segment_label, expected, "{}", c.name);
        first_positions.push(segments.iter().position(|s| s.segment_id == c.segment_id));
    }
    // Listing without a run gives the latest successful one.
    let latest = w.segments("").await;
    assert_eq!(latest, segments);

    // The same seed and inputs give the same segments.
    let second = w
        .start_segmentation(request("seg-2"), &batch)
        .await
        .expect("start");
    assert_ne!(second.run_id, first.run_id);
    let done = w.wait_run(&second.run_id).await;
    assert_eq!(done.state, v1::JobState::Succeeded as i32);
    let segments2 = w.segments(&second.run_id).await;
    let strip = |s: &[v1::Segment]| {
        s.iter()
            .map(|s| (s.label.clone(), s.centroid.clone(), s.size))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&segments2), strip(&segments));
    let mut second_positions = Vec::new();
    for id in rich.iter().chain(&active) {
        let c = w.get(id).await;
        second_positions.push(segments2.iter().position(|s| s.segment_id == c.segment_id));
    }
    assert_eq!(second_positions, first_positions);
    let db = w.db().await;
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM outbox_event WHERE event_type = 'customer.segment_changed'"
        )
        .await,
        24,
        "one event per customer per run"
    );

    // More segments than customers: the run fails and changes nobody.
    let mut too_many = request("seg-3");
    too_many.k = 50;
    let before = snapshot(&db).await;
    let failed = w.start_segmentation(too_many, &batch).await.expect("start");
    let failed = w.wait_run(&failed.run_id).await;
    assert_eq!(failed.state, v1::JobState::Failed as i32);
    assert!(
        failed.error_message.contains("k = 50"),
        "{}",
        failed.error_message
    );
    let after = snapshot(&db).await;
    assert_eq!(after[11], before[11], "no customer version moved");
    assert_eq!(after[5], before[5], "no segment written");
    w.suite.stop().await;
}

async fn bad_input_names_the_field_and_changes_nothing(backend: Backend) {
    let mut w = world(backend).await;
    let perf = w.perf.clone();
    let acme = w.corporate("Acme Machinery", "BJ01").await;
    let li = w.individual("Li Si", "BJ01").await;
    let maker = w.maker.clone();
    // No rule set in force yet.
    assert_code(
        w.evaluate(
            evaluate_request("no-rules", v1::TierScheme::Corporate, "BJ01", "", (2025, 5)),
            &maker,
        )
        .await,
        Code::FailedPrecondition,
        "no rule set in force",
    );
    w.rule_set(corporate_rules(from_2024()), &perf)
        .await
        .expect("rules");
    let db = w.db().await;
    let before = snapshot(&db).await;

    // CreateTierRuleSet.
    let mut unordered = corporate_rules(from_2024());
    if let Some(v1::tier_rule_set::Rules::Corporate(c)) = unordered.rules.as_mut() {
        c.criteria.swap(1, 2);
    }
    let mut bad_score = corporate_rules(from_2024());
    if let Some(v1::tier_rule_set::Rules::Corporate(c)) = bad_score.rules.as_mut() {
        c.criteria[0].min_value_score = Some(v1::Decimal {
            value: "101".into(),
        });
        c.criteria[1].min_ttm_contribution = Some(v1::Money {
            currency: "USD".into(),
            minor_units: 5,
        });
    }
    let mut not_increasing = wealth_rules();
    if let Some(v1::tier_rule_set::Rules::Wealth(r)) = not_increasing.rules.as_mut() {
        r.thresholds[1].min_aum = yuan(400_000);
        r.basis_months = 40;
        r.aum_categories = vec![99];
    }
    let mut mismatched = wealth_rules();
    mismatched.rules = corporate_rules(None).rules;
    let mut no_start = corporate_rules(from_2024());
    no_start.effective = Some(v1::EffectiveRange {
        start_date: None,
        end_date: None,
    });
    let mut no_scheme = corporate_rules(from_2024());
    no_scheme.scheme = 0;
    for (rules, field) in [
        (unordered, "rule_set.corporate.criteria[2].tier"),
        (
            bad_score.clone(),
            "rule_set.corporate.criteria[0].min_value_score",
        ),
        (
            bad_score,
            "rule_set.corporate.criteria[1].min_ttm_contribution.currency",
        ),
        (
            not_increasing.clone(),
            "rule_set.wealth.thresholds[1].min_aum",
        ),
        (not_increasing.clone(), "rule_set.wealth.basis_months"),
        (not_increasing, "rule_set.wealth.aum_categories[0]"),
        (mismatched, "rule_set.wealth"),
        (no_start, "rule_set.effective.start_date"),
        (no_scheme, "rule_set.scheme"),
    ] {
        assert_names(w.rule_set(rules, &perf).await, field, field);
    }
    assert_names(
        w.client
            .create_tier_rule_set(TestSuite::authed(
                v1::CreateTierRuleSetRequest {
                    rule_set: Some(corporate_rules(from_2024())),
                    reason: String::new(),
                },
                &perf,
            ))
            .await,
        "reason",
        "a rule set without a reason",
    );
    assert_names(
        w.client
            .list_tier_rule_sets(TestSuite::authed(
                v1::ListTierRuleSetsRequest {
                    scheme: 9,
                    page_size: 501,
                    page_token: String::new(),
                },
                &perf,
            ))
            .await,
        "page_size",
        "an oversize page",
    );

    // EvaluateTiers.
    let good = evaluate_request("bad", v1::TierScheme::Corporate, "BJ01", "", (2025, 5));
    let cases: Vec<(v1::EvaluateTiersRequest, &str)> = vec![
        (
            v1::EvaluateTiersRequest {
                idempotency_key: String::new(),
                ..good.clone()
            },
            "idempotency_key",
        ),
        (
            v1::EvaluateTiersRequest {
                scheme: 0,
                ..good.clone()
            },
            "scheme",
        ),
        (
            v1::EvaluateTiersRequest {
                customer_id: acme.clone(),
                ..good.clone()
            },
            "branch_id",
        ),
        (
            v1::EvaluateTiersRequest {
                branch_id: "bj 01".into(),
                ..good.clone()
            },
            "branch_id",
        ),
        (
            v1::EvaluateTiersRequest {
                branch_id: String::new(),
                customer_id: "not-a-uuid".into(),
                ..good.clone()
            },
            "customer_id",
        ),
        (
            v1::EvaluateTiersRequest {
                period: period(2999, 1),
                ..good.clone()
            },
            "period",
        ),
        (
            v1::EvaluateTiersRequest {
                period: period(2025, 13),
                ..good.clone()
            },
            "period",
        ),
        (
            v1::EvaluateTiersRequest {
                reason: "x".repeat(501),
                ..good.clone()
            },
            "reason",
        ),
        (
            v1::EvaluateTiersRequest {
                branch_id: String::new(),
                customer_id: li.clone(),
                ..good.clone()
            },
            "customer_id",
        ),
    ];
    for (request, field) in cases {
        assert_names(w.evaluate(request, &maker).await, field, field);
    }
    assert_code(
        w.evaluate(
            evaluate_request(
                "unknown",
                v1::TierScheme::Corporate,
                "",
                "0190a0a0-0000-7000-8000-000000000000",
                (2025, 5),
            ),
            &maker,
        )
        .await,
        Code::NotFound,
        "an unknown customer",
    );
    assert_code(
        w.evaluate(good.clone(), &w.e1.clone()).await,
        Code::PermissionDenied,
        "a customer manager evaluates",
    );

    // Decisions and reads.
    let bogus = v1::TierChangeList {
        change_list_id: "nope".into(),
        ..Default::default()
    };
    let checker = w.checker.clone();
    assert_names(
        w.approve(&bogus, 1, &checker).await,
        "change_list_id",
        "bad id",
    );
    let unknown = v1::TierChangeList {
        change_list_id: "0190a0a0-0000-7000-8000-000000000000".into(),
        ..Default::default()
    };
    assert_names(
        w.approve(&unknown, -1, &checker).await,
        "expected_version",
        "negative version",
    );
    assert_code(
        w.approve(&unknown, 1, &checker).await,
        Code::NotFound,
        "unknown list",
    );
    assert_names(
        w.client
            .get_tier_change_list(TestSuite::authed(
                v1::GetTierChangeListRequest {
                    change_list_id: String::new(),
                },
                &checker,
            ))
            .await,
        "change_list_id",
        "missing id",
    );
    assert_names(
        w.client
            .list_tier_changes(TestSuite::authed(
                v1::ListTierChangesRequest {
                    change_list_id: unknown.change_list_id.clone(),
                    kind: 99,
                    page_size: 0,
                    page_token: "garbage".into(),
                },
                &checker,
            ))
            .await,
        "kind",
        "unknown kind",
    );
    assert_names(
        w.client
            .list_tier_change_lists(TestSuite::authed(
                v1::ListTierChangeListsRequest {
                    branch_id: String::new(),
                    status: 42,
                    page_size: 0,
                    page_token: String::new(),
                },
                &checker,
            ))
            .await,
        "status",
        "unknown status",
    );
    assert_names(
        w.client
            .list_tier_history(TestSuite::authed(
                v1::ListTierHistoryRequest {
                    customer_id: "x".into(),
                    page_size: 0,
                    page_token: String::new(),
                },
                &checker,
            ))
            .await,
        "customer_id",
        "bad customer id",
    );

    // Segmentation.
    let batch = w.batch.clone();
    let seg = v1::StartSegmentationRequest {
        idempotency_key: "seg".into(),
        period: period(2025, 6),
        branch_id: "BJ01".into(),
        k: 3,
        seed: 1,
        features: vec![],
    };
    for (request, field) in [
        (
            v1::StartSegmentationRequest {
                k: 1,
                ..seg.clone()
            },
            "k",
        ),
        (
            v1::StartSegmentationRequest {
                k: 51,
                ..seg.clone()
            },
            "k",
        ),
        (
            v1::StartSegmentationRequest {
                features: vec!["aum".into(), "colour".into()],
                ..seg.clone()
            },
            "features[1]",
        ),
        (
            v1::StartSegmentationRequest {
                features: vec!["aum".into(), "aum".into()],
                ..seg.clone()
            },
            "features[1]",
        ),
        (
            v1::StartSegmentationRequest {
                period: period(2999, 1),
                ..seg.clone()
            },
            "period",
        ),
        (
            v1::StartSegmentationRequest {
                idempotency_key: String::new(),
                ..seg.clone()
            },
            "idempotency_key",
        ),
        (
            v1::StartSegmentationRequest {
                branch_id: "NOPE".into(),
                ..seg.clone()
            },
            "branch_id",
        ),
    ] {
        assert_names(w.start_segmentation(request, &batch).await, field, field);
    }
    assert_code(
        w.start_segmentation(seg.clone(), &maker).await,
        Code::PermissionDenied,
        "a branch head starts a batch",
    );
    assert_names(
        w.client
            .get_segmentation_run(TestSuite::authed(
                v1::GetSegmentationRunRequest { run_id: "x".into() },
                &batch,
            ))
            .await,
        "run_id",
        "bad run id",
    );
    assert_code(
        w.client
            .get_segmentation_run(TestSuite::authed(
                v1::GetSegmentationRunRequest {
                    run_id: unknown.change_list_id.clone(),
                },
                &batch,
            ))
            .await,
        Code::NotFound,
        "unknown run",
    );
    assert_names(
        w.client
            .list_segments(TestSuite::authed(
                v1::ListSegmentsRequest {
                    run_id: String::new(),
                    page_size: -1,
                    page_token: String::new(),
                },
                &batch,
            ))
            .await,
        "page_size",
        "negative page size",
    );
    assert_eq!(snapshot(&db).await, before, "bad input wrote nothing");
    w.suite.stop().await;
}

bankmkt_e2e::on_both_backends!(
    rule_sets_are_versioned_and_overlaps_refused,
    corporate_entry_then_upgrade_with_reasons_and_the_two_person_apply,
    wealth_vip_entry_from_three_months_of_holdings,
    rejection_changes_nothing,
    segmentation_separates_clusters_and_is_deterministic,
    bad_input_names_the_field_and_changes_nothing,
);
