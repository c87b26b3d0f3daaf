//! Customer value through gRPC on both backends (DOMAIN.md §3): AHP matrices as versioned data
//! (Saaty's published example reproduced, an inconsistent matrix refused and not stored), the
//! monthly contribution checked to the fen before and after risk with its potential and
//! linked-retail lines, the trailing twelve months as the sum of the months, dormancy grades and
//! the deepest-first dormant list, RFM with lifetime value, the quarterly five-dimension score
//! and GE class from a factor assessment plus data-derived grades, re-scoring jobs (idempotent,
//! progress to done, the queue drained), and bad input naming the field while changing nothing.

use std::str::FromStr;
use std::time::Duration;

use bankmkt_domain::customer::{resident_id_check_char, uscc_check_char};
use bankmkt_domain::scoring::Decimal;
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_platform::settings::ServiceKind;
use bankmkt_proto::v1;
use bankmkt_proto::v1::customer_registry_client::CustomerRegistryClient;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

fn resident_id(serial: u32) -> String {
    let body = format!("110105198001{:02}{:03}", 1 + serial % 28, serial % 1000);
    format!(
        "{body}{}",
        resident_id_check_char(&body).expect("check char")
    )
}

fn uscc(serial: u32) -> String {
    let body = format!("91350100M{:08}", 300_000 + serial);
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

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

fn dec_of(d: &Option<v1::Decimal>) -> Decimal {
    dec(&d.as_ref().expect("decimal").value)
}

fn close(actual: &Option<v1::Decimal>, expected: &str, what: &str) {
    let a = dec_of(actual);
    assert!(
        (a - dec(expected)).abs() <= dec("0.000001"),
        "{what}: {a} vs {expected}"
    );
}

fn fen(m: &Option<v1::Money>) -> i64 {
    let m = m.as_ref().expect("money");
    assert_eq!(m.currency, "CNY");
    m.minor_units
}

fn cny(minor_units: i64) -> Option<v1::Money> {
    Some(v1::Money {
        currency: "CNY".into(),
        minor_units,
    })
}

fn period(year: i32, month: i32) -> Option<v1::Period> {
    Some(v1::Period { year, month })
}

fn date(year: i32, month: i32, day: i32) -> Option<v1::Date> {
    Some(v1::Date { year, month, day })
}

fn key(customer_id: &str) -> Option<v1::CustomerKey> {
    Some(v1::CustomerKey {
        key: Some(v1::customer_key::Key::CustomerId(customer_id.into())),
    })
}

/// A holdings snapshot with everything zero but what the caller sets.
fn holding(
    customer_id: &str,
    product: &str,
    kind: v1::ProductKind,
    (year, month): (i32, i32),
) -> v1::HoldingSnapshot {
    let category = match kind {
        v1::ProductKind::Asset => v1::ProductCategory::Loan,
        v1::ProductKind::Fee => v1::ProductCategory::Settlement,
        _ => v1::ProductCategory::Deposit,
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
        period_end_balance: cny(0),
        average_daily_balance: cny(0),
        ..Default::default()
    }
}

struct World {
    suite: TestSuite,
    client: CustomerRegistryClient<Channel>,
    core: String,
    perf: String,
    batch: String,
    e1: String,
    e3: String,
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
        core: suite.token("core", "HQ", &["core_banking"]),
        perf: suite.token("po1", "HQ", &["performance_office"]),
        batch: suite.token("cron", "HQ", &["batch"]),
        e1: suite.token("e1", "BJ01", &["customer_manager"]),
        e3: suite.token("e3", "SH01", &["customer_manager"]),
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
        let token = if branch == "SH01" {
            self.e3.clone()
        } else {
            self.e1.clone()
        };
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

    async fn corporate(&mut self, name: &str, rating: &str, branch: &str) -> String {
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
                    credit_rating: rating.into(),
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

    async fn ingest_holdings(&mut self, key: &str, records: Vec<v1::HoldingSnapshot>) {
        use v1::ingest_holdings_request::Part;
        let count = records.len() as i64;
        let mut messages = vec![v1::IngestHoldingsRequest {
            part: Some(Part::Header(v1::IngestHeader {
                idempotency_key: key.into(),
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

    /// Ingests one single transaction per date for the customer.
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
                    amount: cny(10_000),
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

    async fn link(&mut self, t: v1::RelationshipType, from: &str, to: &str) {
        let token = self.e1.clone();
        self.client
            .link_customers(TestSuite::authed(
                v1::LinkCustomersRequest {
                    relationship: Some(v1::Relationship {
                        relationship_type: t as i32,
                        from_customer_id: from.into(),
                        to_customer_id: to.into(),
                        title: "CFO".into(),
                        effective: Some(v1::EffectiveRange {
                            start_date: date(2024, 1, 1),
                            end_date: None,
                        }),
                        ..Default::default()
                    }),
                    reason: "executive".into(),
                },
                &token,
            ))
            .await
            .expect("link");
    }

    async fn start(
        &mut self,
        request: v1::StartRescoringRequest,
    ) -> Result<v1::RescoringJob, Status> {
        let token = self.batch.clone();
        self.client
            .start_rescoring(TestSuite::authed(request, &token))
            .await
            .map(|r| r.into_inner().job.expect("job"))
    }

    async fn job(&mut self, job_id: &str) -> Result<v1::RescoringJob, Status> {
        let token = self.batch.clone();
        self.client
            .get_rescoring_job(TestSuite::authed(
                v1::GetRescoringJobRequest {
                    job_id: job_id.into(),
                },
                &token,
            ))
            .await
            .map(|r| r.into_inner().job.expect("job"))
    }

    /// Polls a job until it is no longer queued or running.
    async fn wait(&mut self, job_id: &str) -> v1::RescoringJob {
        for _ in 0..600 {
            let job = self.job(job_id).await.expect("job");
            let state = v1::JobState::try_from(job.state).expect("state");
            if matches!(state, v1::JobState::Succeeded | v1::JobState::Failed) {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("job {job_id} did not finish");
    }

    /// Starts a job over the listed customers and waits until it succeeded for every one.
    async fn rescore(
        &mut self,
        key: &str,
        kind: v1::RescoringKind,
        (year, month): (i32, i32),
        customer_ids: &[&str],
    ) -> v1::RescoringJob {
        let job = self
            .start(v1::StartRescoringRequest {
                idempotency_key: key.into(),
                kind: kind as i32,
                period: period(year, month),
                branch_id: String::new(),
                customer_ids: customer_ids.iter().map(|s| (*s).to_owned()).collect(),
            })
            .await
            .expect("start");
        let done = self.wait(&job.job_id).await;
        assert_eq!(
            done.state,
            v1::JobState::Succeeded as i32,
            "{}",
            done.error_message
        );
        assert_eq!(
            (done.customers_done, done.customers_failed),
            (done.customers_total, 0),
            "{}",
            done.error_message
        );
        done
    }

    async fn contribution(
        &mut self,
        customer_id: &str,
        at: (i32, i32),
        window: v1::ContributionWindow,
    ) -> Result<v1::Contribution, Status> {
        let token = self.e1.clone();
        self.client
            .get_contribution(TestSuite::authed(
                v1::GetContributionRequest {
                    customer_id: customer_id.into(),
                    period: period(at.0, at.1),
                    window: window as i32,
                },
                &token,
            ))
            .await
            .map(|r| r.into_inner().contribution.expect("contribution"))
    }

    async fn create_matrix(
        &mut self,
        matrix: v1::AhpMatrix,
        token: &str,
    ) -> Result<v1::AhpMatrix, Status> {
        self.client
            .create_ahp_matrix(TestSuite::authed(
                v1::CreateAhpMatrixRequest {
                    matrix: Some(matrix),
                    reason: "annual review of the value model".into(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().matrix.expect("matrix"))
    }

    async fn count_matrices(&mut self) -> usize {
        let token = self.perf.clone();
        self.client
            .list_ahp_matrices(TestSuite::authed(
                v1::ListAhpMatricesRequest {
                    page_size: 500,
                    ..Default::default()
                },
                &token,
            ))
            .await
            .expect("list")
            .into_inner()
            .matrices
            .len()
    }

    /// The five-dimension model and GE weights of the value tests, in force from 2020.
    async fn create_rules(&mut self) {
        use v1::ValueDimension as D;
        let perf = self.perf.clone();
        // The five dimensions weigh the same: 0.2 each.
        let dims = [
            "dependence",
            "contribution",
            "growth",
            "credit",
            "influence",
        ];
        self.create_matrix(
            matrix(
                v1::AhpScope::Dimensions,
                D::Unspecified,
                &dims,
                &[(1, 1); 10],
                2020,
            ),
            &perf,
        )
        .await
        .expect("dimensions");
        for (dimension, criteria, judgement) in [
            (
                D::Dependence,
                ["product_count", "transaction_activity"],
                (1, 1),
            ),
            // Contribution: after-risk contribution 3 times as important as revenue: 0.75/0.25.
            (
                D::Contribution,
                ["contribution_after_risk", "revenue"],
                (3, 1),
            ),
            (D::Growth, ["balance_growth", "market_outlook"], (1, 1)),
            (D::Credit, ["credit_rating", "integrity"], (1, 1)),
            (D::Influence, ["linked_customers", "trading_area"], (1, 1)),
        ] {
            self.create_matrix(
                matrix(
                    v1::AhpScope::DimensionFactors,
                    dimension,
                    &criteria,
                    &[judgement],
                    2020,
                ),
                &perf,
            )
            .await
            .expect("factors");
        }
        let factor = |code: &str, weight: &str| v1::WeightedFactor {
            factor_code: code.into(),
            weight: Some(v1::Decimal {
                value: weight.into(),
            }),
        };
        self.client
            .create_ge_weights(TestSuite::authed(
                v1::CreateGeWeightsRequest {
                    weights: Some(v1::GeWeights {
                        attractiveness: vec![
                            factor("market_growth", "0.5"),
                            factor("contribution_after_risk", "0.5"),
                        ],
                        strength: vec![
                            factor("share_of_wallet", "0.6"),
                            factor("credit_rating", "0.4"),
                        ],
                        effective: Some(v1::EffectiveRange {
                            start_date: date(2020, 1, 1),
                            end_date: None,
                        }),
                        ..Default::default()
                    }),
                    reason: "GE weights".into(),
                },
                &perf,
            ))
            .await
            .expect("GE weights");
    }

    async fn assess(
        &mut self,
        customer_id: &str,
        scheme: v1::AssessmentScheme,
        at: (i32, i32),
        grades: &[(&str, &str)],
        token: &str,
    ) -> Result<v1::FactorAssessment, Status> {
        self.client
            .create_factor_assessment(TestSuite::authed(
                v1::CreateFactorAssessmentRequest {
                    assessment: Some(v1::FactorAssessment {
                        customer_id: customer_id.into(),
                        scheme: scheme as i32,
                        period: period(at.0, at.1),
                        grades: grades
                            .iter()
                            .map(|(code, grade)| v1::FactorGrade {
                                factor_code: (*code).into(),
                                grade: Some(v1::Decimal {
                                    value: (*grade).into(),
                                }),
                                note: String::new(),
                            })
                            .collect(),
                        ..Default::default()
                    }),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().assessment.expect("assessment"))
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

/// An AHP matrix from its upper triangle, row by row, in force from 1 January of `from_year`.
fn matrix(
    scope: v1::AhpScope,
    dimension: v1::ValueDimension,
    criteria: &[&str],
    upper: &[(i32, i32)],
    from_year: i32,
) -> v1::AhpMatrix {
    let n = criteria.len() as i32;
    let mut judgements = Vec::new();
    let mut it = upper.iter();
    for row in 0..n {
        for column in row + 1..n {
            let (numerator, denominator) = it.next().copied().unwrap_or((1, 1));
            judgements.push(v1::AhpJudgement {
                row,
                column,
                numerator,
                denominator,
            });
        }
    }
    v1::AhpMatrix {
        scope: scope as i32,
        dimension: dimension as i32,
        criteria: criteria.iter().map(|c| (*c).to_owned()).collect(),
        judgements,
        effective: Some(v1::EffectiveRange {
            start_date: date(from_year, 1, 1),
            end_date: None,
        }),
        ..Default::default()
    }
}

async fn contribution_is_exact_to_the_fen_and_twelve_months_sum_their_months(backend: Backend) {
    use v1::ContributionWindow as W;
    use v1::ProductKind as K;
    let mut w = world(backend).await;
    let corp = w.corporate("Fujian Steel", "AA", "BJ01").await;
    let exec = w.individual("Chen Jie", "BJ01").await;
    w.link(v1::RelationshipType::ExecutiveOf, &exec, &corp)
        .await;

    // January 2025 (d = 31).
    let jan = (2025, 1);
    let mut deposit = holding(&corp, "DEP01", K::Liability, jan);
    deposit.average_daily_balance = cny(1_000_000_000); // RMB 10,000,000.00
    deposit.customer_rate_bps = 150;
    deposit.ftp_rate_bps = 250;
    deposit.operating_cost = cny(200_000); // RMB 2,000.00
    let mut loan = holding(&corp, "LN01", K::Asset, jan);
    loan.product_category = v1::ProductCategory::CreditFacility as i32;
    loan.average_daily_balance = cny(500_000_000); // RMB 5,000,000.00
    loan.customer_rate_bps = 435;
    loan.ftp_rate_bps = 300;
    loan.operating_cost = cny(150_000); // RMB 1,500.00
    loan.expected_loss = cny(300_000); // RMB 3,000.00
    loan.economic_capital = cny(40_000_000); // RMB 400,000.00
    loan.facility_limit = cny(800_000_000); // RMB 8,000,000.00
    loan.undrawn_amount = cny(300_000_000); // RMB 3,000,000.00
    let mut fee = holding(&corp, "FEE01", K::Fee, jan);
    fee.fee_income = cny(1_200_000); // RMB 12,000.00
    fee.operating_cost = cny(400_000); // RMB 4,000.00
    let mut exec_deposit = holding(&exec, "DEP01", K::Liability, jan);
    exec_deposit.average_daily_balance = cny(100_000_000); // RMB 1,000,000.00
    exec_deposit.customer_rate_bps = 50;
    exec_deposit.ftp_rate_bps = 200;
    exec_deposit.operating_cost = cny(10_000); // RMB 100.00
    // February 2025 (d = 28): the deposit only.
    let mut feb_deposit = holding(&corp, "DEP01", K::Liability, (2025, 2));
    feb_deposit.average_daily_balance = cny(1_000_000_000);
    feb_deposit.customer_rate_bps = 150;
    feb_deposit.ftp_rate_bps = 250;
    feb_deposit.operating_cost = cny(200_000);
    w.ingest_holdings("h1", vec![deposit, loan, fee, exec_deposit, feb_deposit])
        .await;
    w.ingest_transactions(
        &corp,
        &[(2025, 1, 5), (2025, 1, 20), (2025, 2, 10), (2025, 2, 25)],
    )
    .await;
    let db = w.db().await;
    let queued = format!(
        "SELECT COUNT(*) AS n FROM rescoring_queue WHERE customer_id IN ('{corp}', '{exec}')"
    );
    assert_eq!(count(&db, &queued).await, 2, "ingestion queued both");

    let job = w
        .rescore("jan", v1::RescoringKind::Monthly, jan, &[&corp, &exec])
        .await;
    assert_eq!(job.customers_total, 2);
    assert_eq!(count(&db, &queued).await, 0, "the job drained the queue");
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT COUNT(*) AS n FROM outbox_event WHERE event_type = 'customer.value_changed' AND aggregate_id = '{corp}'"
            )
        )
        .await,
        1
    );

    let c = w.contribution(&corp, jan, W::Month).await.expect("January");
    // Deposit margin: B × (FTP − rate) × d/365 = 10,000,000 × 1.00% × 31/365 = 8,493.150685
    //   → RMB 8,493.15.
    // Loan margin: 5,000,000 × (4.35% − 3.00%) × 31/365 = 5,732.876712 → RMB 5,732.88.
    // Total margin, rounded once from the exact sum: 14,226.027397 → RMB 14,226.03.
    assert_eq!(fen(&c.margin), 1_422_603);
    assert_eq!(fen(&c.fee_income), 1_200_000);
    // Operating cost: 2,000 + 1,500 + 4,000 = RMB 7,500.00.
    assert_eq!(fen(&c.operating_cost), 750_000);
    // Before risk: 14,226.027397 + 12,000 − 7,500 = 18,726.027397 → RMB 18,726.03.
    assert_eq!(fen(&c.before_risk), 1_872_603);
    assert_eq!(fen(&c.expected_loss), 300_000);
    // Capital charge: 400,000 × 12% × 31/365 = 4,076.712329 → RMB 4,076.71.
    assert_eq!(fen(&c.capital_charge), 407_671);
    // After risk: 18,726.027397 − 3,000 − 4,076.712329 = 11,649.315068 → RMB 11,649.32.
    assert_eq!(fen(&c.after_risk), 1_164_932);
    // Potential: 3,000,000 undrawn × 50% × 1.35% × 31/365 = 1,719.863014 → RMB 1,719.86.
    assert_eq!(fen(&c.potential), 171_986);
    // Linked retail: the executive's deposit, 1,000,000 × 1.50% × 31/365 = 1,273.972603
    // − 100.00 = RMB 1,173.97, shown apart and not in after_risk.
    assert_eq!(fen(&c.linked_retail), 117_397);
    assert_eq!((c.hurdle_rate_bps, c.draw_ratio_bps), (1_200, 5_000));
    assert_eq!(c.months_with_data, 1);
    assert_eq!(
        c.rule_versions,
        [v1::RuleVersionRef {
            rule_kind: "value_config".into(),
            rule_id: "default".into(),
            version: 1
        }]
    );
    let item = |id: &str| {
        c.items
            .iter()
            .find(|i| i.product_id == id)
            .cloned()
            .expect("item")
    };
    // Per item: deposit 8,493.15 − 2,000 = 6,493.15; loan 5,732.876712 − 1,500 − 3,000
    // − 4,076.712329 = −2,843.835617 → −2,843.84; fee 12,000 − 4,000 = 8,000.
    assert_eq!(fen(&item("DEP01").after_risk), 649_315);
    assert_eq!(fen(&item("LN01").after_risk), -284_384);
    assert_eq!(fen(&item("FEE01").after_risk), 800_000);
    assert_eq!(item("FEE01").product_kind, K::Fee as i32);
    let own_exec = w.contribution(&exec, jan, W::Month).await.expect("exec");
    assert_eq!(fen(&own_exec.after_risk), 117_397);
    assert_eq!(fen(&own_exec.linked_retail), 0);

    // RFM in January: monetary = after risk over the look-back = RMB 11,649.32 (score 3:
    // at least the 1M-fen cut, below 10M); the last transaction on 20 January, 11 days
    // before the 31st (score 5); 2 transactions (score 1: below 6).
    let e1 = w.e1.clone();
    let rfm = w
        .client
        .get_rfm(TestSuite::authed(
            v1::GetRfmRequest {
                customer_id: corp.clone(),
                period: period(2025, 1),
            },
            &e1,
        ))
        .await
        .expect("rfm")
        .into_inner()
        .rfm
        .expect("rfm");
    assert_eq!(fen(&rfm.monetary), 1_164_932);
    assert_eq!(
        (rfm.recency_days, rfm.frequency),
        (11, 2),
        "recency and frequency"
    );
    assert_eq!(
        (rfm.recency_score, rfm.frequency_score, rfm.monetary_score),
        (5, 1, 3)
    );

    // February, then the trailing twelve months.
    w.rescore("feb", v1::RescoringKind::Monthly, (2025, 2), &[&corp])
        .await;
    let feb = w
        .contribution(&corp, (2025, 2), W::Month)
        .await
        .expect("February");
    // 10,000,000 × 1.00% × 28/365 = 7,671.232877 → RMB 7,671.23; − 2,000 = RMB 5,671.23.
    assert_eq!(fen(&feb.margin), 767_123);
    assert_eq!(fen(&feb.after_risk), 567_123);
    let ttm = w
        .contribution(&corp, (2025, 2), W::TrailingTwelveMonths)
        .await
        .expect("TTM");
    // TTM = January + February: 11,649.32 + 5,671.23 = RMB 17,320.55 after risk.
    assert_eq!(fen(&ttm.after_risk), 1_164_932 + 567_123);
    assert_eq!(fen(&ttm.before_risk), 1_872_603 + 567_123);
    assert_eq!(fen(&ttm.margin), 1_422_603 + 767_123);
    assert_eq!(ttm.months_with_data, 2);
    let range = ttm.months.expect("months");
    assert_eq!(
        (range.first, range.last),
        (period(2024, 3), period(2025, 2))
    );
    let ytd = w
        .contribution(&corp, (2025, 2), W::YearToDate)
        .await
        .expect("YTD");
    assert_eq!(fen(&ytd.after_risk), fen(&ttm.after_risk));
    let listed = w
        .client
        .list_contributions(TestSuite::authed(
            v1::ListContributionsRequest {
                customer_id: corp.clone(),
                page_size: 1,
                ..Default::default()
            },
            &e1,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(
        listed.contributions[0].months.map(|m| m.last),
        Some(period(2025, 2))
    );
    let rest = w
        .client
        .list_contributions(TestSuite::authed(
            v1::ListContributionsRequest {
                customer_id: corp.clone(),
                page_size: 1,
                page_token: listed.next_page_token.clone(),
                ..Default::default()
            },
            &e1,
        ))
        .await
        .expect("page 2")
        .into_inner();
    assert!(rest.next_page_token.is_empty());
    let sum: i64 = listed
        .contributions
        .iter()
        .chain(&rest.contributions)
        .map(|c| fen(&c.after_risk))
        .sum();
    assert_eq!(sum, fen(&ttm.after_risk), "TTM = sum of the listed months");

    // RFM in February with the lifetime value: the TTM nets revenue 33,897.26 − product cost
    // 16,576.71 = RMB 17,320.55 a year; CLV = 17,320.55 × Σ 1.1^-t (t = 1..5) = 17,320.55 ×
    // 3.790787 = 65,658.511779 → RMB 65,658.51.
    let rfm = w
        .client
        .get_rfm(TestSuite::authed(
            v1::GetRfmRequest {
                customer_id: corp.clone(),
                period: None,
            },
            &e1,
        ))
        .await
        .expect("rfm")
        .into_inner()
        .rfm
        .expect("rfm");
    assert_eq!(rfm.period, period(2025, 2));
    assert_eq!(fen(&rfm.monetary), 1_732_055);
    assert_eq!((rfm.recency_days, rfm.frequency), (3, 4));
    assert_eq!(fen(&rfm.lifetime_value), 6_565_851);
    assert_eq!((rfm.discount_rate_bps, rfm.horizon_years), (1_000, 5));

    // A recompute of the same month with the same rules replaces, and the cache is dropped.
    w.rescore("feb-again", v1::RescoringKind::Monthly, (2025, 2), &[&corp])
        .await;
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT COUNT(*) AS n FROM value_result WHERE kind = 'contribution' AND customer_id = '{corp}'"
            )
        )
        .await,
        2,
        "one row per month and rule versions"
    );
    // Another subtree sees nothing; a month never computed is NOT_FOUND.
    let e3 = w.e3.clone();
    let hidden = w
        .client
        .get_contribution(TestSuite::authed(
            v1::GetContributionRequest {
                customer_id: corp.clone(),
                ..Default::default()
            },
            &e3,
        ))
        .await
        .expect_err("hidden");
    assert_eq!(hidden.code(), Code::NotFound);
    assert_eq!(
        w.contribution(&corp, (2024, 6), W::Month)
            .await
            .expect_err("never computed")
            .code(),
        Code::NotFound
    );
    w.suite.stop().await;
}

async fn dormancy_grades_silent_customers_deepest_first(backend: Backend) {
    let mut w = world(backend).await;
    let deep = w.corporate("Deep Sleep Ltd", "A", "BJ01").await;
    let medium = w.corporate("Half Asleep Ltd", "A", "BJ01").await;
    let light = w.individual("Light Sleeper", "BJ01").await;
    let active = w.individual("Busy Bee", "BJ01").await;
    let never = w.individual("No History", "BJ01").await;
    let far = w.corporate("Far Away Ltd", "A", "SH01").await;
    // Gaps 10 and 20 days; silent since 31 Oct: Tr = 92 days to 31 Jan. S = 92/20 = 4.6, depth
    // 3.6 ≥ 3: deep. Tr is the longest interval: TrF = 3/3 = 1.
    w.ingest_transactions(&deep, &[(2024, 10, 1), (2024, 10, 11), (2024, 10, 31)])
        .await;
    // Gaps 30 and 30; Tr = 62 (30 Nov → 31 Jan): S = 62/30 = 2.066667, depth 1.066667: medium.
    w.ingest_transactions(&medium, &[(2024, 10, 1), (2024, 10, 31), (2024, 11, 30)])
        .await;
    // Gaps 20 and 20; Tr = 21 (10 Jan → 31 Jan): S = 1.05, depth 0.05: light.
    w.ingest_transactions(&light, &[(2024, 12, 1), (2024, 12, 21), (2025, 1, 10)])
        .await;
    // Gap 29; Tr = 1: S = 1/29 = 0.034483: active. TrF = 1/2.
    w.ingest_transactions(&active, &[(2025, 1, 1), (2025, 1, 30)])
        .await;
    w.ingest_transactions(&far, &[(2024, 1, 1), (2024, 1, 2)])
        .await;
    let ids = [&deep, &medium, &light, &active, &never];
    w.rescore(
        "jan",
        v1::RescoringKind::Monthly,
        (2025, 1),
        &ids.map(|s| s.as_str()),
    )
    .await;
    w.rescore("far", v1::RescoringKind::Monthly, (2025, 1), &[&far])
        .await;
    let e1 = w.e1.clone();
    let get = |id: String| {
        let mut client = w.client.clone();
        let token = e1.clone();
        async move {
            client
                .get_dormancy(TestSuite::authed(
                    v1::GetDormancyRequest {
                        customer_id: id,
                        period: period(2025, 1),
                    },
                    &token,
                ))
                .await
                .map(|r| r.into_inner().dormancy.expect("dormancy"))
        }
    };
    let d = get(deep.clone()).await.expect("deep");
    assert_eq!(d.grade, v1::DormancyGrade::Deep as i32);
    assert_eq!(
        (d.recency_days, d.max_gap_days, d.transaction_count),
        (92, 20, 3)
    );
    assert_eq!(dec_of(&d.silence_score), dec("4.6"));
    assert_eq!(dec_of(&d.silence_depth), dec("3.6"));
    assert_eq!(dec_of(&d.rank_ratio), dec("1"));
    assert_eq!(d.last_transaction_date, date(2024, 10, 31));
    assert_eq!(d.rule_versions.len(), 1);
    let m = get(medium.clone()).await.expect("medium");
    assert_eq!(m.grade, v1::DormancyGrade::Medium as i32);
    assert_eq!(dec_of(&m.silence_score), dec("2.066667"));
    let l = get(light.clone()).await.expect("light");
    assert_eq!(l.grade, v1::DormancyGrade::Light as i32);
    assert_eq!(dec_of(&l.silence_score), dec("1.05"));
    let a = get(active.clone()).await.expect("active");
    assert_eq!(a.grade, v1::DormancyGrade::Active as i32);
    assert_eq!(dec_of(&a.rank_ratio), dec("0.5"));
    let n = get(never.clone()).await.expect("never");
    assert_eq!(n.grade, v1::DormancyGrade::InsufficientHistory as i32);
    assert_eq!(n.transaction_count, 0);

    let list = |min: v1::DormancyGrade, branch: &str, size: i32, token_page: String| {
        v1::ListDormantCustomersRequest {
            branch_id: branch.into(),
            period: period(2025, 1),
            min_grade: min as i32,
            page_size: size,
            page_token: token_page,
        }
    };
    let ids_of = |r: &v1::ListDormantCustomersResponse| -> Vec<String> {
        r.dormancies.iter().map(|d| d.customer_id.clone()).collect()
    };
    let first = w
        .client
        .list_dormant_customers(TestSuite::authed(
            list(v1::DormancyGrade::Unspecified, "", 2, String::new()),
            &e1,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(
        ids_of(&first),
        [deep.clone(), medium.clone()],
        "deepest first"
    );
    let second = w
        .client
        .list_dormant_customers(TestSuite::authed(
            list(
                v1::DormancyGrade::Unspecified,
                "",
                2,
                first.next_page_token.clone(),
            ),
            &e1,
        ))
        .await
        .expect("page 2")
        .into_inner();
    assert_eq!(ids_of(&second), std::slice::from_ref(&light));
    assert!(second.next_page_token.is_empty());
    let deep_only = w
        .client
        .list_dormant_customers(TestSuite::authed(
            list(v1::DormancyGrade::Deep, "BJ01", 0, String::new()),
            &e1,
        ))
        .await
        .expect("deep")
        .into_inner();
    assert_eq!(ids_of(&deep_only), std::slice::from_ref(&deep));
    // Head office sees the other subtree's deep sleeper too (S = 395/1: the deepest).
    let perf = w.perf.clone();
    let all = w
        .client
        .list_dormant_customers(TestSuite::authed(
            list(v1::DormancyGrade::Deep, "HQ", 0, String::new()),
            &perf,
        ))
        .await
        .expect("HQ")
        .into_inner();
    assert_eq!(ids_of(&all), [far.clone(), deep.clone()]);
    let e3 = w.e3.clone();
    let err = w
        .client
        .list_dormant_customers(TestSuite::authed(
            list(v1::DormancyGrade::Light, "BJ01", 0, String::new()),
            &e3,
        ))
        .await
        .expect_err("other subtree");
    assert_eq!(err.code(), Code::NotFound);
    w.suite.stop().await;
}

async fn ahp_reproduces_saaty_and_refuses_inconsistent_matrices(backend: Backend) {
    use v1::ValueDimension as D;
    let mut w = world(backend).await;
    let perf = w.perf.clone();
    // Saaty (1990), "How to make a decision: The analytic hierarchy process", EJOR 48(1): the
    // house example, alternatives A, B, C on financing. Published: priorities .072, .650, .278,
    // λmax 3.065. Reference values to 1e-6 from the exact matrix (see bankmkt_domain::ahp).
    let saaty = matrix(
        v1::AhpScope::DimensionFactors,
        D::Growth,
        &["house_a", "house_b", "house_c"],
        &[(1, 7), (1, 5), (3, 1)],
        2020,
    );
    let stored = w.create_matrix(saaty, &perf).await.expect("consistent");
    close(
        &Some(stored.weights[0].clone()),
        "0.0719274298822564637",
        "w1",
    );
    close(
        &Some(stored.weights[1].clone()),
        "0.6491180046313252095",
        "w2",
    );
    close(
        &Some(stored.weights[2].clone()),
        "0.2789545654864183268",
        "w3",
    );
    close(&stored.lambda_max, "3.0648875798728186910", "λmax");
    close(&stored.consistency_index, "0.0324437899364093455", "CI");
    close(&stored.consistency_ratio, "0.0559375688558781819", "CR");
    assert_eq!(dec_of(&stored.random_index), dec("0.58"));
    let total: Decimal = stored
        .weights
        .iter()
        .map(|w| dec_of(&Some(w.clone())))
        .sum();
    assert_eq!(total, Decimal::ONE, "weights sum to exactly 1");
    assert_eq!(
        (stored.matrix_id.as_str(), stored.version),
        ("factors-growth", 1)
    );
    assert_eq!(
        stored.created.as_ref().map(|c| c.actor_id.as_str()),
        Some("po1")
    );

    // The same paper's eight house criteria: published CR = 0.169, so refused, naming the
    // judgements and stating the CR; nothing is stored.
    #[rustfmt::skip]
    let house = matrix(
        v1::AhpScope::DimensionFactors,
        D::Influence,
        &["size", "transport", "neighbourhood", "age", "yard", "facilities", "condition", "financing"],
        &[
            (5, 1), (3, 1), (7, 1), (6, 1), (6, 1), (1, 3), (1, 4),
            (1, 3), (5, 1), (3, 1), (3, 1), (1, 5), (1, 7),
            (6, 1), (3, 1), (4, 1), (6, 1), (1, 5),
            (1, 3), (1, 4), (1, 7), (1, 8),
            (1, 2), (1, 5), (1, 6),
            (1, 5), (1, 6),
            (1, 2),
        ],
        2020,
    );
    let before = w.count_matrices().await;
    let err = w
        .create_matrix(house, &perf)
        .await
        .expect_err("inconsistent");
    assert_eq!(err.code(), Code::InvalidArgument);
    let violations = err
        .get_error_details()
        .bad_request()
        .cloned()
        .expect("bad request");
    assert_eq!(violations.field_violations[0].field, "matrix.judgements");
    assert!(
        violations.field_violations[0]
            .description
            .contains("0.169086860904"),
        "{}",
        violations.field_violations[0].description
    );
    assert_eq!(w.count_matrices().await, before, "nothing stored");

    // A new version starts after the last; the predecessor is closed on its start date.
    let v2 = matrix(
        v1::AhpScope::DimensionFactors,
        D::Growth,
        &["house_a", "house_b", "house_c"],
        &[(1, 1), (1, 1), (1, 1)],
        2025,
    );
    let v2 = w.create_matrix(v2, &perf).await.expect("version 2");
    assert_eq!(v2.version, 2);
    let overlap = matrix(
        v1::AhpScope::DimensionFactors,
        D::Growth,
        &["house_a", "house_b"],
        &[(2, 1)],
        2024,
    );
    let err = w.create_matrix(overlap, &perf).await.expect_err("overlap");
    assert_eq!(err.code(), Code::FailedPrecondition);
    let get = |version: i64, on: Option<v1::Date>| v1::GetAhpMatrixRequest {
        matrix_id: "factors-growth".into(),
        version,
        as_of_date: on,
    };
    let old = w
        .client
        .get_ahp_matrix(TestSuite::authed(get(0, date(2023, 6, 1)), &perf))
        .await
        .expect("as of 2023")
        .into_inner()
        .matrix
        .expect("matrix");
    assert_eq!(old.version, 1);
    assert_eq!(
        old.effective.and_then(|e| e.end_date),
        date(2025, 1, 1),
        "closed when version 2 starts"
    );
    let now = w
        .client
        .get_ahp_matrix(TestSuite::authed(get(0, None), &perf))
        .await
        .expect("today")
        .into_inner()
        .matrix
        .expect("matrix");
    assert_eq!(now.version, 2);
    assert_eq!(
        w.client
            .get_ahp_matrix(TestSuite::authed(get(9, None), &perf))
            .await
            .expect_err("no version 9")
            .code(),
        Code::NotFound
    );
    let listed = w
        .client
        .list_ahp_matrices(TestSuite::authed(
            v1::ListAhpMatricesRequest {
                scope: v1::AhpScope::DimensionFactors as i32,
                dimension: D::Growth as i32,
                page_size: 1,
                ..Default::default()
            },
            &perf,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.matrices[0].version, 2, "newest version first");
    assert!(!listed.next_page_token.is_empty());
    // Only the performance office or an administrator may change the rules.
    let e1 = w.e1.clone();
    let err = w
        .create_matrix(
            matrix(
                v1::AhpScope::DimensionFactors,
                D::Credit,
                &["a", "b"],
                &[(1, 1)],
                2020,
            ),
            &e1,
        )
        .await
        .expect_err("manager");
    assert_eq!(err.code(), Code::PermissionDenied);
    w.suite.stop().await;
}

async fn value_score_and_ge_class_from_assessment_and_data(backend: Backend) {
    use v1::ProductKind as K;
    let mut w = world(backend).await;
    w.create_rules().await;
    let perf = w.perf.clone();
    let weights = w
        .client
        .list_ge_weights(TestSuite::authed(
            v1::ListGeWeightsRequest::default(),
            &perf,
        ))
        .await
        .expect("GE weights")
        .into_inner()
        .weights;
    assert_eq!(weights.len(), 1);
    assert_eq!(
        (
            weights[0].version,
            dec_of(&weights[0].low_cut),
            dec_of(&weights[0].high_cut)
        ),
        (1, dec("2.33"), dec("3.67")),
        "default cuts"
    );
    let corp = w.corporate("Minjiang Shipping", "AA", "BJ01").await;
    let mut deposit = holding(&corp, "DEP01", K::Liability, (2025, 2));
    deposit.average_daily_balance = cny(1_000_000_000); // RMB 10,000,000.00
    deposit.customer_rate_bps = 150;
    deposit.ftp_rate_bps = 250;
    deposit.operating_cost = cny(200_000);
    w.ingest_holdings("h", vec![deposit]).await;
    // Nine transactions in the quarter December 2024 – February 2025.
    w.ingest_transactions(
        &corp,
        &[
            (2024, 12, 2),
            (2024, 12, 16),
            (2025, 1, 6),
            (2025, 1, 13),
            (2025, 1, 20),
            (2025, 1, 27),
            (2025, 2, 3),
            (2025, 2, 10),
            (2025, 2, 17),
        ],
    )
    .await;
    let e1 = w.e1.clone();
    use v1::AssessmentScheme as S;
    // A first assessment, then a correction that supersedes it.
    w.assess(
        &corp,
        S::FiveDimension,
        (2025, 2),
        &[("market_outlook", "10")],
        &e1,
    )
    .await
    .expect("first");
    w.assess(
        &corp,
        S::FiveDimension,
        (2025, 2),
        &[("market_outlook", "80"), ("integrity", "70")],
        &e1,
    )
    .await
    .expect("correction");
    w.assess(
        &corp,
        S::GeMatrix,
        (2025, 2),
        &[("market_growth", "5"), ("share_of_wallet", "4")],
        &e1,
    )
    .await
    .expect("GE");
    let listed = w
        .client
        .list_factor_assessments(TestSuite::authed(
            v1::ListFactorAssessmentsRequest {
                customer_id: corp.clone(),
                scheme: S::FiveDimension as i32,
                include_superseded: true,
                ..Default::default()
            },
            &e1,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(
        listed
            .assessments
            .iter()
            .map(|a| (a.grades.len(), a.superseded))
            .collect::<Vec<_>>(),
        [(2, false), (1, true)],
        "newest first; the first is superseded"
    );

    w.rescore("feb", v1::RescoringKind::Monthly, (2025, 2), &[&corp])
        .await;
    let job = w
        .rescore("q1", v1::RescoringKind::Quarterly, (2025, 2), &[&corp])
        .await;
    assert_eq!(
        job.rule_versions.len(),
        8,
        "configuration, 6 AHP matrices, GE weights"
    );
    let score = w
        .client
        .get_value_score(TestSuite::authed(
            v1::GetValueScoreRequest {
                customer_id: corp.clone(),
                period: None,
            },
            &e1,
        ))
        .await
        .expect("score")
        .into_inner()
        .score
        .expect("score");
    // Data grades (default scales), from February's figures:
    //   product_count 1 of 8 → 12.5; transaction_activity 9 of 90 → 10;
    //   contribution_after_risk RMB 5,671.23 of 500,000 → 1.13; revenue 7,671.23 of 1M → 0.77;
    //   balance_growth 0% on −50%…+50% → 50; credit_rating AA → 90; linked_customers 0 → 0.
    // Assessed: market_outlook 80, integrity 70. Default: trading_area 50.
    // Dimensions: dependence 0.5×12.5 + 0.5×10 = 11.25; contribution 0.75×1.13 + 0.25×0.77 =
    // 1.04; growth 0.5×50 + 0.5×80 = 65; credit 0.5×90 + 0.5×70 = 80; influence 0.5×0
    // + 0.5×50 = 25. Total 0.2 × 182.29 = 36.458 → 36.46: grade E (below 40).
    let dims: Vec<(i32, Decimal)> = score
        .dimensions
        .iter()
        .map(|d| (d.dimension, dec_of(&d.score)))
        .collect();
    use v1::ValueDimension as D;
    assert_eq!(
        dims,
        [
            (D::Dependence as i32, dec("11.25")),
            (D::Contribution as i32, dec("1.04")),
            (D::Growth as i32, dec("65")),
            (D::Credit as i32, dec("80")),
            (D::Influence as i32, dec("25")),
        ]
    );
    assert_eq!(dec_of(&score.total), dec("36.46"));
    assert_eq!(score.grade, "E");
    // The customer 360 carries the same latest results.
    let view = w
        .client
        .get_customer360(TestSuite::authed(
            v1::GetCustomer360Request {
                customer_id: corp.clone(),
            },
            &e1,
        ))
        .await
        .expect("360")
        .into_inner();
    assert_eq!(
        view.latest_value.as_ref().map(|v| v.grade.as_str()),
        Some("E")
    );
    assert_eq!(
        view.latest_value.as_ref().map(|v| dec_of(&v.total)),
        Some(dec("36.46"))
    );
    assert!(view.ge_classification.is_some(), "the GE class is shown");
    assert!(
        view.ttm_contribution.is_some(),
        "the trailing-twelve-month contribution is shown"
    );
    let source = |code: &str| {
        score
            .factors
            .iter()
            .find(|f| f.factor_code == code)
            .map(|f| (f.source, dec_of(&f.grade)))
            .expect("factor")
    };
    use v1::FactorSource as F;
    assert_eq!(source("credit_rating"), (F::Data as i32, dec("90")));
    assert_eq!(
        source("contribution_after_risk"),
        (F::Data as i32, dec("1.13"))
    );
    assert_eq!(source("market_outlook"), (F::Assessment as i32, dec("80")));
    assert_eq!(source("trading_area"), (F::Default as i32, dec("50")));
    let window = score.window.expect("window");
    assert_eq!(
        (window.first, window.last),
        (period(2024, 12), period(2025, 2))
    );

    let ge = w
        .client
        .get_ge_classification(TestSuite::authed(
            v1::GetGeClassificationRequest {
                customer_id: corp.clone(),
                period: period(2025, 2),
            },
            &e1,
        ))
        .await
        .expect("GE")
        .into_inner()
        .classification
        .expect("classification");
    // A = 0.5 × 5 (assessed) + 0.5 × (1 + 1.13 × 4/100 = 1.0452) = 3.0226: medium.
    // S = 0.6 × 4 (assessed) + 0.4 × (1 + 90 × 4/100 = 4.6) = 4.24: high. Medium/high: class A.
    assert_eq!(dec_of(&ge.attractiveness), dec("3.0226"));
    assert_eq!(dec_of(&ge.strength), dec("4.24"));
    assert_eq!(
        (ge.attractiveness_band, ge.strength_band, ge.ge_class),
        (
            v1::GeBand::Medium as i32,
            v1::GeBand::High as i32,
            v1::GeClass::A as i32
        )
    );
    assert_eq!(ge.rule_versions.len(), 2);

    // The same rules again replace; a new dimensions matrix adds a score to the history.
    w.rescore(
        "q1-again",
        v1::RescoringKind::Quarterly,
        (2025, 2),
        &[&corp],
    )
    .await;
    let perf = w.perf.clone();
    // Dependence twice as important as each other dimension: weights 1/3 and 1/6.
    let dims = [
        "dependence",
        "contribution",
        "growth",
        "credit",
        "influence",
    ];
    w.create_matrix(
        matrix(
            v1::AhpScope::Dimensions,
            D::Unspecified,
            &dims,
            &[
                (2, 1),
                (2, 1),
                (2, 1),
                (2, 1),
                (1, 1),
                (1, 1),
                (1, 1),
                (1, 1),
                (1, 1),
                (1, 1),
            ],
            2025,
        ),
        &perf,
    )
    .await
    .expect("dimensions v2");
    w.rescore("q1-v2", v1::RescoringKind::Quarterly, (2025, 2), &[&corp])
        .await;
    let history = w
        .client
        .list_value_scores(TestSuite::authed(
            v1::ListValueScoresRequest {
                customer_id: corp.clone(),
                ..Default::default()
            },
            &e1,
        ))
        .await
        .expect("history")
        .into_inner();
    assert_eq!(history.scores.len(), 2, "one per rule versions");
    // (2 × 11.25 + 1.04 + 65 + 80 + 25) / 6 = 193.54 / 6 = 32.256667 → 32.26.
    assert_eq!(dec_of(&history.scores[0].total), dec("32.26"));
    assert!(
        history.scores[0]
            .rule_versions
            .iter()
            .any(|r| r.rule_id == "dimensions" && r.version == 2)
    );
    assert_eq!(dec_of(&history.scores[1].total), dec("36.46"));
    w.suite.stop().await;
}

async fn rescoring_jobs_are_idempotent_and_drain_the_queue(backend: Backend) {
    use v1::ProductKind as K;
    let mut w = world(backend).await;
    let a = w.corporate("Alpha Ltd", "A", "BJ01").await;
    let b = w.corporate("Beta Ltd", "BBB", "BJ01").await;
    let c = w.individual("Gamma", "BJ01").await;
    let far = w.corporate("Far Ltd", "A", "SH01").await;
    let mut records = Vec::new();
    for id in [&a, &b, &c, &far] {
        let mut h = holding(id, "DEP01", K::Liability, (2025, 1));
        h.average_daily_balance = cny(10_000_000);
        h.customer_rate_bps = 100;
        h.ftp_rate_bps = 200;
        records.push(h);
    }
    w.ingest_holdings("h", records).await;
    let db = w.db().await;
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM rescoring_queue").await,
        4
    );
    let request = v1::StartRescoringRequest {
        idempotency_key: "monthly-2025-01-BJ01".into(),
        kind: v1::RescoringKind::Monthly as i32,
        period: period(2025, 1),
        branch_id: "BJ01".into(),
        customer_ids: vec![],
    };
    let started = w.start(request.clone()).await.expect("start");
    assert_eq!(
        started.customers_total, 3,
        "the active customers of the subtree"
    );
    assert_eq!(started.branch_id, "BJ01");
    let done = w.wait(&started.job_id).await;
    assert_eq!(done.state, v1::JobState::Succeeded as i32);
    assert_eq!(
        (
            done.customers_done,
            done.customers_failed,
            done.customers_total
        ),
        (3, 0, 3),
        "processed == total"
    );
    assert!(done.finish_time.is_some());
    assert_eq!(done.rule_versions.len(), 1);
    // The queue is drained for the covered customers only.
    let remaining = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT customer_id FROM rescoring_queue",
        ))
        .await
        .expect("queue");
    let remaining: Vec<String> = remaining
        .iter()
        .map(|r| r.try_get::<String>("", "customer_id").expect("id"))
        .collect();
    assert_eq!(remaining, std::slice::from_ref(&far));
    // A retried trigger returns the same job; the key with another request is refused.
    let again = w.start(request.clone()).await.expect("retry");
    assert_eq!(again.job_id, started.job_id);
    assert_eq!(again.state, v1::JobState::Succeeded as i32);
    let mut other = request.clone();
    other.period = period(2024, 12);
    assert_names(w.start(other).await, "idempotency_key", "key reuse");
    // Quarterly without AHP matrices or GE weights: the job fails, naming what is missing.
    let failed = w
        .start(v1::StartRescoringRequest {
            idempotency_key: "q".into(),
            kind: v1::RescoringKind::Quarterly as i32,
            period: period(2025, 3),
            branch_id: String::new(),
            customer_ids: vec![a.clone()],
        })
        .await
        .expect("recorded");
    let failed = w.wait(&failed.job_id).await;
    assert_eq!(failed.state, v1::JobState::Failed as i32);
    assert!(
        failed.error_message.contains("AHP matrix dimensions"),
        "{}",
        failed.error_message
    );
    // Who may start, and what is unknown.
    let e1 = w.e1.clone();
    let err = w
        .client
        .start_rescoring(TestSuite::authed(request, &e1))
        .await
        .expect_err("manager");
    assert_eq!(err.code(), Code::PermissionDenied);
    assert_eq!(
        w.job("0190aaaa-0000-7000-8000-000000000000")
            .await
            .expect_err("unknown job")
            .code(),
        Code::NotFound
    );
    w.suite.stop().await;
}

async fn bad_input_names_the_field_and_changes_nothing(backend: Backend) {
    use v1::AssessmentScheme as S;
    use v1::ValueDimension as D;
    let mut w = world(backend).await;
    w.create_rules().await;
    let corp = w.corporate("Quiet Ltd", "A", "BJ01").await;
    let db = w.db().await;
    let tables = [
        "ahp_matrix",
        "ge_weights",
        "value_config",
        "factor_assessment",
        "value_result",
        "rescoring_job",
        "outbox_event",
        "idempotency_record",
        "audit_log",
    ];
    let mut before = Vec::new();
    for t in tables {
        before.push(count(&db, &format!("SELECT COUNT(*) AS n FROM {t}")).await);
    }
    let perf = w.perf.clone();
    let e1 = w.e1.clone();
    let good = || {
        matrix(
            v1::AhpScope::DimensionFactors,
            D::Credit,
            &["x_one", "x_two"],
            &[(2, 1)],
            2026,
        )
    };
    // CreateAhpMatrix.
    let err = w
        .client
        .create_ahp_matrix(TestSuite::authed(
            v1::CreateAhpMatrixRequest {
                matrix: None,
                reason: "r".into(),
            },
            &perf,
        ))
        .await;
    assert_names(err, "matrix", "no matrix");
    let mut m = good();
    m.scope = 0;
    assert_names(w.create_matrix(m, &perf).await, "matrix.scope", "scope");
    let mut m = good();
    m.dimension = 0;
    assert_names(
        w.create_matrix(m, &perf).await,
        "matrix.dimension",
        "dimension",
    );
    let mut m = good();
    m.criteria = vec!["only".into()];
    m.judgements.clear();
    assert_names(
        w.create_matrix(m, &perf).await,
        "matrix.criteria",
        "one criterion",
    );
    let mut m = good();
    m.criteria[1] = "Bad Code".into();
    assert_names(
        w.create_matrix(m, &perf).await,
        "matrix.criteria[1]",
        "code",
    );
    let mut m = good();
    m.judgements[0].numerator = 10;
    assert_names(
        w.create_matrix(m, &perf).await,
        "matrix.judgements[0].numerator",
        "off the scale",
    );
    let mut m = good();
    m.judgements[0].numerator = 3;
    m.judgements[0].denominator = 2;
    assert_names(
        w.create_matrix(m, &perf).await,
        "matrix.judgements[0].numerator",
        "3/2",
    );
    let mut m = good();
    m.judgements[0].column = 5;
    assert_names(
        w.create_matrix(m, &perf).await,
        "matrix.judgements[0].column",
        "column",
    );
    let mut m = good();
    m.judgements.clear();
    assert_names(
        w.create_matrix(m, &perf).await,
        "matrix.judgements",
        "missing",
    );
    let mut m = good();
    m.judgements.push(m.judgements[0]);
    assert_names(
        w.create_matrix(m, &perf).await,
        "matrix.judgements[1]",
        "twice",
    );
    let mut m = good();
    m.effective = None;
    assert_names(
        w.create_matrix(m, &perf).await,
        "matrix.effective",
        "effective",
    );
    let mut m = good();
    if let Some(e) = m.effective.as_mut() {
        e.start_date = date(2026, 2, 30);
    }
    assert_names(
        w.create_matrix(m, &perf).await,
        "matrix.effective.start_date",
        "date",
    );
    let mut m = good();
    m.scope = v1::AhpScope::Dimensions as i32;
    m.dimension = 0;
    assert_names(
        w.create_matrix(m, &perf).await,
        "matrix.criteria[0]",
        "dimension names",
    );
    let err = w
        .client
        .create_ahp_matrix(TestSuite::authed(
            v1::CreateAhpMatrixRequest {
                matrix: Some(good()),
                reason: String::new(),
            },
            &perf,
        ))
        .await;
    assert_names(err, "reason", "reason");
    let cyclic = matrix(
        v1::AhpScope::DimensionFactors,
        D::Credit,
        &["p", "q", "r"],
        &[(9, 1), (1, 9), (9, 1)],
        2026,
    );
    assert_names(
        w.create_matrix(cyclic, &perf).await,
        "matrix.judgements",
        "CR",
    );
    // CreateGeWeights.
    let factor = |code: &str, weight: &str| v1::WeightedFactor {
        factor_code: code.into(),
        weight: Some(v1::Decimal {
            value: weight.into(),
        }),
    };
    let ge = |a: Vec<v1::WeightedFactor>, low: &str, high: &str, end: Option<v1::Date>| {
        v1::CreateGeWeightsRequest {
            weights: Some(v1::GeWeights {
                attractiveness: a,
                strength: vec![factor("s", "1")],
                low_cut: Some(v1::Decimal { value: low.into() }),
                high_cut: Some(v1::Decimal { value: high.into() }),
                effective: Some(v1::EffectiveRange {
                    start_date: date(2026, 1, 1),
                    end_date: end,
                }),
                ..Default::default()
            }),
            reason: "r".into(),
        }
    };
    let ge_client = w.client.clone();
    let send_ge = |r: v1::CreateGeWeightsRequest| {
        let mut client = ge_client.clone();
        let token = perf.clone();
        async move { client.create_ge_weights(TestSuite::authed(r, &token)).await }
    };
    assert_names(
        send_ge(ge(
            vec![factor("a", "0.4"), factor("b", "0.5")],
            "2.33",
            "3.67",
            None,
        ))
        .await,
        "weights.attractiveness",
        "sum",
    );
    assert_names(
        send_ge(ge(vec![factor("a", "1")], "3", "2", None)).await,
        "weights.high_cut",
        "cuts",
    );
    assert_names(
        send_ge(ge(vec![factor("a", "1e0")], "2.33", "3.67", None)).await,
        "weights.attractiveness[0].weight",
        "exponent",
    );
    assert_names(
        send_ge(ge(
            vec![factor("a", "1"), factor("a", "0")],
            "2.33",
            "3.67",
            None,
        ))
        .await,
        "weights.attractiveness[1].factor_code",
        "twice",
    );
    assert_names(
        send_ge(ge(vec![factor("a", "1")], "2.33", "3.67", date(2025, 1, 1))).await,
        "weights.effective.end_date",
        "end before start",
    );
    // CreateFactorAssessment.
    let five = S::FiveDimension;
    assert_names(
        w.assess(&corp, five, (2025, 2), &[("integrity", "101")], &e1)
            .await,
        "assessment.grades[0].grade",
        "grade",
    );
    assert_names(
        w.assess(
            &corp,
            S::GeMatrix,
            (2025, 2),
            &[("market_growth", "0")],
            &e1,
        )
        .await,
        "assessment.grades[0].grade",
        "GE grade",
    );
    assert_names(
        w.assess(&corp, five, (2025, 2), &[("unheard_of", "50")], &e1)
            .await,
        "assessment.grades[0].factor_code",
        "unknown factor",
    );
    assert_names(
        w.assess(&corp, five, (2025, 2), &[("credit_rating", "50")], &e1)
            .await,
        "assessment.grades[0].factor_code",
        "data factor",
    );
    assert_names(
        w.assess(&corp, five, (2999, 1), &[("integrity", "50")], &e1)
            .await,
        "assessment.period",
        "future",
    );
    assert_names(
        w.assess(
            &corp,
            S::Unspecified,
            (2025, 2),
            &[("integrity", "50")],
            &e1,
        )
        .await,
        "assessment.scheme",
        "scheme",
    );
    assert_names(
        w.assess("not-a-uuid", five, (2025, 2), &[("integrity", "50")], &e1)
            .await,
        "assessment.customer_id",
        "customer id",
    );
    assert_names(
        w.assess(&corp, five, (2025, 2), &[], &e1).await,
        "assessment.grades",
        "no grades",
    );
    let e3 = w.e3.clone();
    assert_eq!(
        w.assess(&corp, five, (2025, 2), &[("integrity", "50")], &e3)
            .await
            .expect_err("other subtree")
            .code(),
        Code::NotFound
    );
    // GE weights: only the performance office or an administrator; no overlap with version 1.
    let err = w
        .client
        .create_ge_weights(TestSuite::authed(
            ge(vec![factor("a", "1")], "2.33", "3.67", None),
            &e1,
        ))
        .await
        .expect_err("manager");
    assert_eq!(err.code(), Code::PermissionDenied);
    let mut early = ge(vec![factor("a", "1")], "2.33", "3.67", None);
    if let Some(e) = early.weights.as_mut().and_then(|w| w.effective.as_mut()) {
        e.start_date = date(2019, 1, 1);
    }
    let err = send_ge(early).await.expect_err("overlap");
    assert_eq!(err.code(), Code::FailedPrecondition);
    // Reads.
    let mut client = w.client.clone();
    // Never computed: NOT_FOUND.
    assert_eq!(
        client
            .get_ge_classification(TestSuite::authed(
                v1::GetGeClassificationRequest {
                    customer_id: corp.clone(),
                    period: None,
                },
                &e1,
            ))
            .await
            .expect_err("never classified")
            .code(),
        Code::NotFound
    );
    assert_eq!(
        client
            .get_dormancy(TestSuite::authed(
                v1::GetDormancyRequest {
                    customer_id: corp.clone(),
                    period: None,
                },
                &e1,
            ))
            .await
            .expect_err("never scored")
            .code(),
        Code::NotFound
    );
    assert_eq!(
        client
            .get_rfm(TestSuite::authed(
                v1::GetRfmRequest {
                    customer_id: corp.clone(),
                    period: period(2025, 1),
                },
                &e1,
            ))
            .await
            .expect_err("never scored")
            .code(),
        Code::NotFound
    );
    assert_names(
        client
            .get_contribution(TestSuite::authed(
                v1::GetContributionRequest {
                    customer_id: corp.clone(),
                    period: period(2999, 1),
                    window: 0,
                },
                &e1,
            ))
            .await,
        "period",
        "future contribution",
    );
    assert_names(
        client
            .get_contribution(TestSuite::authed(
                v1::GetContributionRequest {
                    customer_id: corp.clone(),
                    period: None,
                    window: 99,
                },
                &e1,
            ))
            .await,
        "window",
        "window",
    );
    assert_names(
        client
            .list_contributions(TestSuite::authed(
                v1::ListContributionsRequest {
                    customer_id: corp.clone(),
                    months: Some(v1::PeriodRange {
                        first: period(2025, 3),
                        last: period(2025, 1),
                    }),
                    ..Default::default()
                },
                &e1,
            ))
            .await,
        "months.last",
        "range",
    );
    assert_names(
        client
            .get_value_score(TestSuite::authed(v1::GetValueScoreRequest::default(), &e1))
            .await,
        "customer_id",
        "no customer",
    );
    assert_eq!(
        client
            .get_value_score(TestSuite::authed(
                v1::GetValueScoreRequest {
                    customer_id: corp.clone(),
                    period: None,
                },
                &e1,
            ))
            .await
            .expect_err("never scored")
            .code(),
        Code::NotFound
    );
    assert_names(
        client
            .get_dormancy(TestSuite::authed(
                v1::GetDormancyRequest {
                    customer_id: corp.clone(),
                    period: Some(v1::Period {
                        year: 2025,
                        month: 13,
                    }),
                },
                &e1,
            ))
            .await,
        "period",
        "month 13",
    );
    assert_names(
        client
            .get_rfm(TestSuite::authed(
                v1::GetRfmRequest {
                    customer_id: "x".into(),
                    period: None,
                },
                &e1,
            ))
            .await,
        "customer_id",
        "rfm id",
    );
    assert_names(
        client
            .get_ge_classification(TestSuite::authed(
                v1::GetGeClassificationRequest::default(),
                &e1,
            ))
            .await,
        "customer_id",
        "ge id",
    );
    let dormant = |min: i32, size: i32, token: &str| v1::ListDormantCustomersRequest {
        branch_id: String::new(),
        period: None,
        min_grade: min,
        page_size: size,
        page_token: token.into(),
    };
    for (request, field) in [
        (
            dormant(v1::DormancyGrade::InsufficientHistory as i32, 0, ""),
            "min_grade",
        ),
        (dormant(0, 501, ""), "page_size"),
        (dormant(0, -1, ""), "page_size"),
        (dormant(0, 0, "garbage!"), "page_token"),
    ] {
        assert_names(
            client
                .list_dormant_customers(TestSuite::authed(request, &e1))
                .await,
            field,
            field,
        );
    }
    assert_names(
        client
            .list_ahp_matrices(TestSuite::authed(
                v1::ListAhpMatricesRequest {
                    scope: 42,
                    ..Default::default()
                },
                &e1,
            ))
            .await,
        "scope",
        "list scope",
    );
    assert_names(
        client
            .get_ahp_matrix(TestSuite::authed(v1::GetAhpMatrixRequest::default(), &e1))
            .await,
        "matrix_id",
        "matrix id",
    );
    assert_names(
        client
            .list_factor_assessments(TestSuite::authed(
                v1::ListFactorAssessmentsRequest {
                    customer_id: corp.clone(),
                    scheme: 9,
                    ..Default::default()
                },
                &e1,
            ))
            .await,
        "scheme",
        "list scheme",
    );
    assert_names(
        client
            .list_value_scores(TestSuite::authed(
                v1::ListValueScoresRequest {
                    customer_id: corp.clone(),
                    page_token: "nope".into(),
                    ..Default::default()
                },
                &e1,
            ))
            .await,
        "page_token",
        "scores token",
    );
    assert_names(
        client
            .list_ge_weights(TestSuite::authed(
                v1::ListGeWeightsRequest {
                    page_size: 1000,
                    page_token: String::new(),
                },
                &e1,
            ))
            .await,
        "page_size",
        "ge page",
    );
    // StartRescoring.
    // The business date in Asia/Shanghai (UTC+8, no daylight saving).
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    use chrono::Datelike;
    let start = |kind: i32, p: Option<v1::Period>, branch: &str, ids: Vec<String>, key: &str| {
        v1::StartRescoringRequest {
            idempotency_key: key.into(),
            kind,
            period: p,
            branch_id: branch.into(),
            customer_ids: ids,
        }
    };
    let monthly = v1::RescoringKind::Monthly as i32;
    for (request, field, case) in [
        (
            start(monthly, period(2999, 1), "BJ01", vec![], "k"),
            "period",
            "future",
        ),
        (
            start(
                monthly,
                period(today.year(), today.month() as i32),
                "BJ01",
                vec![],
                "k",
            ),
            "period",
            "current month",
        ),
        (
            start(monthly, None, "BJ01", vec![], "k"),
            "period",
            "no period",
        ),
        (
            start(0, period(2025, 1), "BJ01", vec![], "k"),
            "kind",
            "kind",
        ),
        (
            start(monthly, period(2025, 1), "BJ01", vec![], ""),
            "idempotency_key",
            "key",
        ),
        (
            start(monthly, period(2025, 1), "BJ01", vec![corp.clone()], "k"),
            "branch_id",
            "both scopes",
        ),
        (
            start(monthly, period(2025, 1), "", vec![], "k"),
            "branch_id",
            "no scope",
        ),
        (
            start(monthly, period(2025, 1), "", vec!["nope".into()], "k"),
            "customer_ids[0]",
            "bad id",
        ),
        (
            start(
                monthly,
                period(2025, 1),
                "",
                vec!["0190aaaa-0000-7000-8000-000000000000".into()],
                "k",
            ),
            "customer_ids[0]",
            "unknown customer",
        ),
        (
            start(monthly, period(2025, 1), "ZZ99", vec![], "k"),
            "branch_id",
            "unknown branch",
        ),
    ] {
        assert_names(w.start(request).await, field, case);
    }
    assert_names(w.job("").await, "job_id", "job id");
    let mut after = Vec::new();
    for t in tables {
        after.push(count(&db, &format!("SELECT COUNT(*) AS n FROM {t}")).await);
    }
    assert_eq!(after, before, "refused requests wrote nothing ({tables:?})");
    w.suite.stop().await;
}

bankmkt_e2e::on_both_backends!(
    contribution_is_exact_to_the_fen_and_twelve_months_sum_their_months,
    dormancy_grades_silent_customers_deepest_first,
    ahp_reproduces_saaty_and_refuses_inconsistent_matrices,
    value_score_and_ge_class_from_assessment_and_data,
    rescoring_jobs_are_idempotent_and_drain_the_queue,
    bad_input_names_the_field_and_changes_nothing,
);
