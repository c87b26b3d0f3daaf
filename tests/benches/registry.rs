//! Registry benchmarks (a measuring binary, not a test; CI never runs it). Starts the real suite
//! on Postgres + Redis (or the embedded default with `--embedded`), then measures:
//! 1. bulk customer upsert through `IngestCustomers` (rows/s; the goal is ≥ 20k rows/s on Postgres);
//! 2. cached `GetCustomer` and `GetCustomer360` under concurrent load (calls/s, p50/p99 latency).
//!
//! 3. with `--tiers`: holdings upsert for every customer, then a wealth-tier evaluation and a k-means
//!    segmentation of the whole branch.
//!
//! Run: `cargo bench -p bankmkt-e2e --bench registry -- [--customers N] [--seconds S] [--concurrency C] [--embedded] [--tiers]`

use std::time::{Duration, Instant};

use bankmkt_domain::customer::resident_id_check_char;
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_proto::v1;
use bankmkt_proto::v1::customer_registry_client::CustomerRegistryClient;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn resident_id(i: u64) -> String {
    // Unique valid ids: vary the birth date (1950–2009) and the sequence number.
    let year = 1950 + (i / 112_000) % 60;
    let day = (i / 1000) % 112;
    let body = format!(
        "110105{year:04}{:02}{:02}{:03}",
        1 + day / 28,
        1 + day % 28,
        i % 1000
    );
    format!("{body}{}", resident_id_check_char(&body).unwrap_or('0'))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

async fn load(
    client: CustomerRegistryClient<tonic::transport::Channel>,
    token: String,
    id: String,
    seconds: u64,
    use_360: bool,
) -> Vec<Duration> {
    let mut client = client;
    let mut latencies = Vec::new();
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        let started = Instant::now();
        let ok = if use_360 {
            client
                .get_customer360(TestSuite::authed(
                    v1::GetCustomer360Request {
                        customer_id: id.clone(),
                    },
                    &token,
                ))
                .await
                .is_ok()
        } else {
            client
                .get_customer(TestSuite::authed(
                    v1::GetCustomerRequest {
                        customer_id: id.clone(),
                    },
                    &token,
                ))
                .await
                .is_ok()
        };
        if ok {
            latencies.push(started.elapsed());
        }
    }
    latencies
}

/// Ingests one deposit snapshot per customer (varying balances) for last month, then times a
/// wealth-tier evaluation of the whole branch and a k-means segmentation of it.
async fn tiers_and_segments(
    client: &mut CustomerRegistryClient<tonic::transport::Channel>,
    admin: &str,
    core: &str,
    customers: u64,
) {
    use v1::ingest_holdings_request::Part;
    let today = chrono::Utc::now().date_naive();
    let last = chrono::Datelike::with_day(&today, 1).unwrap_or(today) - chrono::Duration::days(1);
    let period = v1::Period {
        year: chrono::Datelike::year(&last),
        month: chrono::Datelike::month(&last) as i32,
    };
    let money = |minor_units: i64| {
        Some(v1::Money {
            currency: "CNY".into(),
            minor_units,
        })
    };
    let mut messages = vec![v1::IngestHoldingsRequest {
        part: Some(Part::Header(v1::IngestHeader {
            idempotency_key: "bench-h".into(),
            source_system: "CORE".into(),
            ..Default::default()
        })),
    }];
    for i in 0..customers {
        let balance = ((i * 7_919) % 10_000_000) as i64 * 100;
        messages.push(v1::IngestHoldingsRequest {
            part: Some(Part::Record(v1::HoldingSnapshot {
                customer: Some(v1::CustomerKey {
                    key: Some(v1::customer_key::Key::SourceRef(v1::SourceRef {
                        source_system: "CORE".into(),
                        source_id: format!("S{i:08}"),
                    })),
                }),
                product_id: "DEP".into(),
                account_id: format!("A{i:08}"),
                product_kind: v1::ProductKind::Liability as i32,
                product_category: v1::ProductCategory::Deposit as i32,
                line: v1::BusinessLine::Retail as i32,
                period: Some(period),
                source_version: 1,
                period_end_balance: money(balance),
                average_daily_balance: money(balance),
                customer_rate_bps: 25,
                ftp_rate_bps: 160,
                ..Default::default()
            })),
        });
    }
    messages.push(v1::IngestHoldingsRequest {
        part: Some(Part::Trailer(v1::IngestTrailer {
            control_totals: Some(v1::ControlTotals {
                record_count: customers as i64,
                amount_sums: vec![],
            }),
        })),
    });
    let started = Instant::now();
    let held = client
        .ingest_holdings(TestSuite::authed(tokio_stream::iter(messages), core))
        .await
        .expect("holdings")
        .into_inner();
    let elapsed = started.elapsed();
    let inserted = held.summary.map_or(0, |s| s.inserted);
    println!(
        "holdings upsert: {inserted} snapshots in {:.2} s = {:.0} rows/s",
        elapsed.as_secs_f64(),
        inserted as f64 / elapsed.as_secs_f64()
    );

    let threshold = |tier: v1::WealthTier, yuan: i64| v1::WealthTierThreshold {
        tier: tier as i32,
        min_aum: money(yuan * 100),
    };
    let rules = v1::TierRuleSet {
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
    client
        .create_tier_rule_set(TestSuite::authed(
            v1::CreateTierRuleSetRequest {
                rule_set: Some(rules),
                reason: "bench".into(),
            },
            admin,
        ))
        .await
        .expect("rules");
    let started = Instant::now();
    let list = client
        .evaluate_tiers(TestSuite::authed(
            v1::EvaluateTiersRequest {
                idempotency_key: "bench-t".into(),
                scheme: v1::TierScheme::Wealth as i32,
                branch_id: "BJ".into(),
                period: Some(period),
                reason: "bench".into(),
                ..Default::default()
            },
            admin,
        ))
        .await
        .expect("evaluate")
        .into_inner()
        .change_list
        .expect("list");
    let elapsed = started.elapsed();
    println!(
        "tier evaluation: {} customers ({} entries) in {:.2} s = {:.0} customers/s",
        list.evaluated_count,
        list.entry_count,
        elapsed.as_secs_f64(),
        list.evaluated_count as f64 / elapsed.as_secs_f64()
    );
    let started = Instant::now();
    let mut run = client
        .start_segmentation(TestSuite::authed(
            v1::StartSegmentationRequest {
                idempotency_key: "bench-s".into(),
                period: Some(period),
                branch_id: "BJ".into(),
                k: 5,
                seed: 7,
                features: vec![],
            },
            admin,
        ))
        .await
        .expect("segmentation")
        .into_inner()
        .run
        .expect("run");
    while run.state != v1::JobState::Succeeded as i32 && run.state != v1::JobState::Failed as i32 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        run = client
            .get_segmentation_run(TestSuite::authed(
                v1::GetSegmentationRunRequest {
                    run_id: run.run_id.clone(),
                },
                admin,
            ))
            .await
            .expect("run")
            .into_inner()
            .run
            .expect("run");
    }
    println!(
        "segmentation (k=5): {} customers, {} in {:.2} s {}",
        run.customers_total,
        v1::JobState::try_from(run.state)
            .map(|s| s.as_str_name())
            .unwrap_or("?"),
        started.elapsed().as_secs_f64(),
        run.error_message
    );
}

#[tokio::main]
async fn main() {
    let customers = arg("--customers", 20_000);
    let seconds = arg("--seconds", 10);
    let concurrency = arg("--concurrency", 32);
    let backend = if std::env::args().any(|a| a == "--embedded") {
        Backend::Embedded
    } else {
        Backend::PostgresRedis
    };
    let suite = TestSuite::start_on(backend, |s| {
        s.log_filter = "warn".into();
        s.max_concurrent_rpcs = 4096;
        // Bulk streams of 100k records outlast the 10 s default deadline.
        s.rpc_max_deadline = Duration::from_secs(600);
        s.rpc_default_deadline = Duration::from_secs(600);
    })
    .await;
    let channel = suite.channel("customer-registry").await;
    let mut client = CustomerRegistryClient::new(channel.clone());
    let admin = suite.token("admin", "HQ", &["admin"]);
    let core = suite.token("core", "HQ", &["core_banking"]);
    use v1::BranchLevel::*;
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
                ],
                effective_date: None,
            },
            &admin,
        ))
        .await
        .expect("tree");
    let staff = |id: &str| v1::Employee {
        employee_id: id.into(),
        name: id.into(),
        branch_id: "BJ".into(),
        lines: vec![3],
        roles: vec![1],
        ..Default::default()
    };
    client
        .load_employees(TestSuite::authed(
            v1::LoadEmployeesRequest {
                idempotency_key: "s".into(),
                employees: vec![staff("m1"), staff("m2")],
            },
            &admin,
        ))
        .await
        .expect("staff");

    // 1. Bulk upsert.
    use v1::ingest_customers_request::Part;
    let mut messages = Vec::with_capacity(customers as usize + 2);
    messages.push(v1::IngestCustomersRequest {
        part: Some(Part::Header(v1::IngestHeader {
            idempotency_key: "bench".into(),
            source_system: "CORE".into(),
            ..Default::default()
        })),
    });
    for i in 0..customers {
        messages.push(v1::IngestCustomersRequest {
            part: Some(Part::Record(v1::CustomerRecord {
                source_id: format!("S{i:08}"),
                source_version: 1,
                kind: v1::CustomerKind::Individual as i32,
                name: format!("Customer {i}"),
                identities: vec![v1::IdentityDocument {
                    identity_type: 1,
                    number: resident_id(i),
                    ..Default::default()
                }],
                phone: format!("+86138{:08}", i % 100_000_000),
                owning_branch_id: "BJ".into(),
                primary_manager_id: "m1".into(),
                backup_manager_id: "m2".into(),
                ..Default::default()
            })),
        });
    }
    messages.push(v1::IngestCustomersRequest {
        part: Some(Part::Trailer(v1::IngestTrailer {
            control_totals: Some(v1::ControlTotals {
                record_count: customers as i64,
                amount_sums: vec![],
            }),
        })),
    });
    let started = Instant::now();
    let summary = client
        .ingest_customers(TestSuite::authed(tokio_stream::iter(messages), &core))
        .await
        .expect("ingest")
        .into_inner()
        .summary
        .expect("summary");
    let elapsed = started.elapsed();
    println!(
        "bulk upsert ({backend:?}): {} inserted, {} rejected in {:.2} s = {:.0} rows/s",
        summary.inserted,
        summary.rejected,
        elapsed.as_secs_f64(),
        summary.inserted as f64 / elapsed.as_secs_f64()
    );

    if std::env::args().any(|a| a == "--tiers") {
        tiers_and_segments(&mut client, &admin, &core, customers).await;
    }

    // 2. Cached reads under load.
    let found = client
        .search_customers(TestSuite::authed(
            v1::SearchCustomersRequest {
                branch_id: "HQ".into(),
                page_size: 1,
                ..Default::default()
            },
            &core,
        ))
        .await
        .expect("search")
        .into_inner();
    let id = found
        .customers
        .first()
        .map(|c| c.customer_id.clone())
        .expect("a customer");
    let manager = suite.token("m1", "BJ", &["customer_manager"]);
    for (label, use_360) in [("GetCustomer", false), ("GetCustomer360", true)] {
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                tokio::spawn(load(
                    CustomerRegistryClient::new(channel.clone()),
                    manager.clone(),
                    id.clone(),
                    seconds,
                    use_360,
                ))
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.expect("join"));
        }
        all.sort();
        println!(
            "{label} ({backend:?}, cached, {concurrency} concurrent, {seconds} s): {:.0} calls/s, p50 {:.2} ms, p99 {:.2} ms",
            all.len() as f64 / seconds as f64,
            percentile(&all, 0.50).as_secs_f64() * 1000.0,
            percentile(&all, 0.99).as_secs_f64() * 1000.0
        );
    }
    suite.stop().await;
}
