//! Bulk ingestion from core banking through gRPC on both backends: customers, holdings and
//! transactions streams with per-record errors (capped), control totals, idempotency by natural
//! key and source version, and by the header's key — the same stream three times changes nothing
//! after the first.

use bankmkt_domain::customer::resident_id_check_char;
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_proto::v1;
use bankmkt_proto::v1::customer_registry_client::CustomerRegistryClient;
use tonic::Code;
use tonic::transport::Channel;

fn resident_id(serial: u32) -> String {
    let body = format!("1101051949{:07}", 1_231_000 + serial % 1000);
    format!(
        "{body}{}",
        resident_id_check_char(&body).expect("check char")
    )
}

struct World {
    suite: TestSuite,
    client: CustomerRegistryClient<Channel>,
    core: String,
    manager: String,
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
                ],
                effective_date: None,
            },
            &admin,
        ))
        .await
        .expect("tree");
    let employee = |id: &str| v1::Employee {
        employee_id: id.into(),
        name: id.into(),
        branch_id: "BJ01".into(),
        lines: vec![v1::BusinessLine::Retail as i32],
        roles: vec![v1::Role::CustomerManager as i32],
        ..Default::default()
    };
    client
        .load_employees(TestSuite::authed(
            v1::LoadEmployeesRequest {
                idempotency_key: "s".into(),
                employees: vec![employee("m1"), employee("m2")],
            },
            &admin,
        ))
        .await
        .expect("staff");
    World {
        core: suite.token("core", "HQ", &["core_banking"]),
        manager: suite.token("m1", "BJ01", &["customer_manager"]),
        suite,
        client,
    }
}

fn header(key: &str) -> v1::IngestHeader {
    v1::IngestHeader {
        idempotency_key: key.into(),
        source_system: "CORE".into(),
        batch_id: format!("batch-{key}"),
        extracted_at: None,
    }
}

fn record(source_id: &str, version: i64, name: &str, serial: u32) -> v1::CustomerRecord {
    v1::CustomerRecord {
        source_id: source_id.into(),
        source_version: version,
        kind: v1::CustomerKind::Individual as i32,
        name: name.into(),
        identities: vec![v1::IdentityDocument {
            identity_type: v1::IdentityType::ResidentId as i32,
            number: resident_id(serial),
            ..Default::default()
        }],
        phone: String::new(),
        owning_branch_id: "BJ01".into(),
        primary_manager_id: "m1".into(),
        backup_manager_id: "m2".into(),
        ..Default::default()
    }
}

fn customers_stream(
    key: &str,
    records: Vec<v1::CustomerRecord>,
    declared: Option<i64>,
) -> Vec<v1::IngestCustomersRequest> {
    use v1::ingest_customers_request::Part;
    let count = declared.unwrap_or(records.len() as i64);
    let mut out = vec![v1::IngestCustomersRequest {
        part: Some(Part::Header(header(key))),
    }];
    out.extend(records.into_iter().map(|r| v1::IngestCustomersRequest {
        part: Some(Part::Record(r)),
    }));
    out.push(v1::IngestCustomersRequest {
        part: Some(Part::Trailer(v1::IngestTrailer {
            control_totals: Some(v1::ControlTotals {
                record_count: count,
                amount_sums: vec![],
            }),
        })),
    });
    out
}

impl World {
    async fn ingest_customers(
        &mut self,
        messages: Vec<v1::IngestCustomersRequest>,
    ) -> Result<v1::IngestSummary, tonic::Status> {
        let token = self.core.clone();
        self.client
            .ingest_customers(TestSuite::authed(tokio_stream::iter(messages), &token))
            .await
            .map(|r| r.into_inner().summary.expect("summary"))
    }

    async fn customer_by_source(&mut self, source_id: &str) -> v1::Customer {
        let token = self.core.clone();
        let found = self
            .client
            .search_customers(TestSuite::authed(
                v1::SearchCustomersRequest {
                    branch_id: "HQ".into(),
                    source_ref: Some(v1::SourceRef {
                        source_system: "CORE".into(),
                        source_id: source_id.into(),
                    }),
                    ..Default::default()
                },
                &token,
            ))
            .await
            .expect("search")
            .into_inner();
        found
            .customers
            .into_iter()
            .next()
            .expect("ingested customer")
    }
}

fn counts(s: &v1::IngestSummary) -> (i64, i64, i64, i64, i64, i64) {
    (
        s.received,
        s.inserted,
        s.updated,
        s.replayed,
        s.ignored_older,
        s.rejected,
    )
}

async fn customers_upsert_by_source_version(backend: Backend) {
    let mut w = world(backend).await;
    let mut bad = record("C3", 1, "Bad", 3);
    bad.identities[0].number = "110105194912310021".into();
    let first = w
        .ingest_customers(customers_stream(
            "b1",
            vec![
                record("C1", 1, "Li Lei", 1),
                record("C2", 1, "Han Meimei", 2),
                bad.clone(),
            ],
            None,
        ))
        .await
        .expect("ingest");
    assert_eq!(counts(&first), (3, 2, 0, 0, 0, 1));
    assert_eq!(first.errors.len(), 1);
    assert_eq!(
        (
            first.errors[0].index,
            first.errors[0].natural_key.as_str(),
            first.errors[0].field.as_str()
        ),
        (2, "C3", "identities[0].number")
    );
    let check = first.control_totals.clone().expect("check");
    assert!(check.trailer_received && check.matched);

    // The same batch key: the stored summary, nothing changes.
    let again = w
        .ingest_customers(customers_stream(
            "b1",
            vec![
                record("C1", 1, "Li Lei", 1),
                record("C2", 1, "Han Meimei", 2),
                bad.clone(),
            ],
            None,
        ))
        .await
        .expect("replay");
    assert_eq!(again, first);
    // The same records under a new key: replays.
    let replay = w
        .ingest_customers(customers_stream(
            "b2",
            vec![
                record("C1", 1, "Li Lei", 1),
                record("C2", 1, "Han Meimei", 2),
                bad,
            ],
            None,
        ))
        .await
        .expect("ingest");
    assert_eq!(counts(&replay), (3, 0, 0, 2, 0, 1));
    // A newer version replaces, an older one is ignored.
    let newer = w
        .ingest_customers(customers_stream(
            "b3",
            vec![
                record("C1", 2, "Li Lei (renamed)", 1),
                record("C2", 0, "x", 2),
            ],
            None,
        ))
        .await
        .expect("ingest");
    assert_eq!(counts(&newer), (2, 0, 1, 0, 0, 1), "version 0 is invalid");
    let older = w
        .ingest_customers(customers_stream(
            "b4",
            vec![record("C1", 1, "Li Lei", 1)],
            None,
        ))
        .await
        .expect("ingest");
    assert_eq!(counts(&older), (1, 0, 0, 0, 1, 0));
    let c1 = w.customer_by_source("C1").await;
    assert_eq!(
        (c1.name.as_str(), c1.version, c1.owning_branch_id.as_str()),
        ("Li Lei (renamed)", 2, "BJ01")
    );
    // A mismatched record count is reported, and the records still land.
    let mismatch = w
        .ingest_customers(customers_stream(
            "b5",
            vec![record("C9", 1, "Wang", 9)],
            Some(5),
        ))
        .await
        .expect("ingest");
    let check = mismatch.control_totals.expect("check");
    assert!(!check.matched);
    assert_eq!(
        (check.expected_record_count, check.actual_record_count),
        (5, 1)
    );
    assert_eq!(mismatch.inserted, 1);

    // Sealed and encoded columns round-trip (Postgres writes them as one JSON parameter).
    let mut full = record("C7", 1, "Zhang Wei", 7);
    full.phone = "+8613800138000".into();
    full.details = Some(v1::customer_record::Details::Individual(
        v1::IndividualDetails {
            birth_date: Some(v1::Date {
                year: 1985,
                month: 6,
                day: 1,
            }),
            occupation: "teacher".into(),
        },
    ));
    let landed = w
        .ingest_customers(customers_stream("b6", vec![full], None))
        .await
        .expect("ingest");
    assert_eq!(landed.inserted, 1, "{landed:?}");
    let c7 = w.customer_by_source("C7").await;
    assert_eq!(c7.phone, "+8613800138000");
    assert_eq!(
        c7.identities.first().map(|i| i.number.clone()),
        Some(resident_id(7))
    );
    match c7.details {
        Some(v1::customer::Details::Individual(d)) => {
            assert_eq!(d.occupation, "teacher");
            assert_eq!(
                d.birth_date.map(|b| (b.year, b.month, b.day)),
                Some((1985, 6, 1))
            );
        }
        other => panic!("individual details expected, got {other:?}"),
    }
    w.suite.stop().await;
}

async fn stream_protocol_errors_refuse_the_whole_stream(backend: Backend) {
    use v1::ingest_customers_request::Part;
    let mut w = world(backend).await;
    let record_first = vec![v1::IngestCustomersRequest {
        part: Some(Part::Record(record("C1", 1, "x", 1))),
    }];
    assert_eq!(
        w.ingest_customers(record_first)
            .await
            .expect_err("no header")
            .code(),
        Code::InvalidArgument
    );
    let mut after_trailer = customers_stream("k", vec![], None);
    after_trailer.push(v1::IngestCustomersRequest {
        part: Some(Part::Record(record("C1", 1, "x", 1))),
    });
    assert_eq!(
        w.ingest_customers(after_trailer)
            .await
            .expect_err("after trailer")
            .code(),
        Code::InvalidArgument
    );
    let mut two_headers = customers_stream("k2", vec![], None);
    two_headers.insert(
        1,
        v1::IngestCustomersRequest {
            part: Some(Part::Header(header("k3"))),
        },
    );
    assert_eq!(
        w.ingest_customers(two_headers)
            .await
            .expect_err("second header")
            .code(),
        Code::InvalidArgument
    );
    let mut bad_header = customers_stream("", vec![], None);
    if let Some(Part::Header(h)) = &mut bad_header[0].part {
        h.source_system = "no spaces allowed".into();
    }
    let err = w
        .ingest_customers(bad_header)
        .await
        .expect_err("bad header");
    assert_eq!(err.code(), Code::InvalidArgument);
    let manager = w.manager.clone();
    let err = w
        .client
        .ingest_customers(TestSuite::authed(
            tokio_stream::iter(customers_stream("k4", vec![record("C1", 1, "x", 1)], None)),
            &manager,
        ))
        .await
        .expect_err("not core banking");
    assert_eq!(err.code(), Code::PermissionDenied);
    let core = w.core.clone();
    let none = w
        .client
        .search_customers(TestSuite::authed(
            v1::SearchCustomersRequest {
                branch_id: "HQ".into(),
                ..Default::default()
            },
            &core,
        ))
        .await
        .expect("search")
        .into_inner();
    assert!(none.customers.is_empty(), "nothing was written");
    w.suite.stop().await;
}

async fn large_batches_cap_their_errors_and_cross_chunks(backend: Backend) {
    let mut w = world(backend).await;
    let mut records = Vec::new();
    for i in 0..1_200u32 {
        let mut r = record(&format!("S{i:05}"), 1, &format!("Customer {i}"), i);
        // Unique ids: vary the birth-date part per record.
        let body = format!(
            "11010519{:02}{:02}{:02}{:03}",
            50 + i / 300,
            1 + (i / 28) % 12,
            1 + i % 28,
            i % 1000
        );
        r.identities[0].number = format!("{body}{}", resident_id_check_char(&body).expect("check"));
        if i % 8 == 0 {
            r.name = String::new();
        }
        records.push(r);
    }
    let summary = w
        .ingest_customers(customers_stream("big", records, None))
        .await
        .expect("ingest");
    assert_eq!(
        (summary.received, summary.inserted, summary.rejected),
        (1_200, 1_050, 150)
    );
    assert_eq!((summary.errors.len(), summary.errors_truncated), (100, 50));
    assert!(summary.errors.iter().all(|e| e.field == "name"));
    w.suite.stop().await;
}

fn snapshot(
    source_id: &str,
    product: &str,
    version: i64,
    balance: i64,
    fee: i64,
) -> v1::HoldingSnapshot {
    let money = |minor_units: i64| {
        Some(v1::Money {
            currency: "CNY".into(),
            minor_units,
        })
    };
    v1::HoldingSnapshot {
        customer: Some(v1::CustomerKey {
            key: Some(v1::customer_key::Key::SourceRef(v1::SourceRef {
                source_system: "CORE".into(),
                source_id: source_id.into(),
            })),
        }),
        product_id: product.into(),
        account_id: format!("6222{product}0001"),
        product_kind: v1::ProductKind::Liability as i32,
        product_category: v1::ProductCategory::Deposit as i32,
        line: v1::BusinessLine::Retail as i32,
        period: Some(v1::Period {
            year: 2026,
            month: 10,
        }),
        source_version: version,
        period_end_balance: money(balance),
        average_daily_balance: money(balance),
        customer_rate_bps: 25,
        ftp_rate_bps: 160,
        fee_income: money(fee),
        ..Default::default()
    }
}

fn holdings_stream(
    key: &str,
    records: Vec<v1::HoldingSnapshot>,
    sums: Vec<(&str, i64)>,
) -> Vec<v1::IngestHoldingsRequest> {
    use v1::ingest_holdings_request::Part;
    let count = records.len() as i64;
    let mut out = vec![v1::IngestHoldingsRequest {
        part: Some(Part::Header(header(key))),
    }];
    out.extend(records.into_iter().map(|r| v1::IngestHoldingsRequest {
        part: Some(Part::Record(r)),
    }));
    out.push(v1::IngestHoldingsRequest {
        part: Some(Part::Trailer(v1::IngestTrailer {
            control_totals: Some(v1::ControlTotals {
                record_count: count,
                amount_sums: sums
                    .into_iter()
                    .map(|(f, s)| v1::AmountSum {
                        field: f.into(),
                        sum: Some(v1::Money {
                            currency: "CNY".into(),
                            minor_units: s,
                        }),
                    })
                    .collect(),
            }),
        })),
    });
    out
}

async fn holdings_reconcile_totals_and_restatements_queue_rescoring(backend: Backend) {
    let mut w = world(backend).await;
    w.ingest_customers(customers_stream(
        "c",
        vec![record("C1", 1, "Li Lei", 1)],
        None,
    ))
    .await
    .expect("customer");
    let core = w.core.clone();
    let ingest = |messages: Vec<v1::IngestHoldingsRequest>| {
        let mut client = w.client.clone();
        let token = core.clone();
        async move {
            client
                .ingest_holdings(TestSuite::authed(tokio_stream::iter(messages), &token))
                .await
                .map(|r| r.into_inner())
        }
    };
    let mut unknown = snapshot("NOPE", "D01", 1, 1, 0);
    unknown.account_id = "x".into();
    let mut future = snapshot("C1", "D03", 1, 1, 0);
    future.period = Some(v1::Period {
        year: 2999,
        month: 1,
    });
    let records = vec![
        snapshot("C1", "D01", 1, 800_000_000, 12_000),
        snapshot("C1", "D02", 1, 100_000, 0),
        unknown,
        future,
    ];
    let sums = vec![("period_end_balance", 800_100_002), ("fee_income", 12_000)];
    let first = ingest(holdings_stream("h1", records.clone(), sums))
        .await
        .expect("ingest");
    let summary = first.summary.expect("summary");
    assert_eq!(counts(&summary), (4, 2, 0, 0, 0, 2));
    let fields: Vec<(i64, &str, &str)> = summary
        .errors
        .iter()
        .map(|e| (e.index, e.field.as_str(), e.code.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            (2, "customer", "NOT_FOUND"),
            (3, "period", "INVALID_ARGUMENT")
        ]
    );
    let check = summary.control_totals.expect("check");
    assert!(check.matched, "sums are over every record sent: {check:?}");
    assert_eq!(first.customers_queued_for_rescoring, 1);

    // Wrong totals are reported per field.
    let wrong = ingest(holdings_stream(
        "h2",
        records.clone(),
        vec![("fee_income", 1)],
    ))
    .await
    .expect("ingest")
    .summary
    .expect("summary");
    let check = wrong.control_totals.clone().expect("check");
    assert!(!check.matched);
    assert_eq!(
        check.amount_sums[0].actual.as_ref().map(|m| m.minor_units),
        Some(12_000)
    );
    assert_eq!(counts(&wrong), (4, 0, 0, 2, 0, 2), "replays change nothing");
    // An unknown sum field refuses the stream.
    let err = ingest(holdings_stream("h3", vec![], vec![("balance", 1)]))
        .await
        .expect_err("unknown field");
    assert_eq!(err.code(), Code::InvalidArgument);

    // A restated snapshot replaces the old one and queues re-scoring.
    let restated = ingest(holdings_stream(
        "h4",
        vec![snapshot("C1", "D01", 2, 900_000_000, 12_000)],
        vec![],
    ))
    .await
    .expect("ingest");
    assert_eq!(
        counts(restated.summary.as_ref().expect("summary")),
        (1, 0, 1, 0, 0, 0)
    );
    assert_eq!(restated.customers_queued_for_rescoring, 1);
    let c1 = w.customer_by_source("C1").await;
    let listed = w
        .client
        .list_holdings(TestSuite::authed(
            v1::ListHoldingsRequest {
                customer_id: c1.customer_id.clone(),
                ..Default::default()
            },
            &core,
        ))
        .await
        .expect("list")
        .into_inner();
    let balances: Vec<(String, Option<i64>, i64)> = listed
        .holdings
        .iter()
        .map(|h| {
            (
                h.product_id.clone(),
                h.period_end_balance.as_ref().map(|m| m.minor_units),
                h.source_version,
            )
        })
        .collect();
    assert_eq!(
        balances,
        [
            ("D01".to_owned(), Some(900_000_000), 2),
            ("D02".to_owned(), Some(100_000), 1)
        ]
    );
    w.suite.stop().await;
}

async fn the_same_transactions_stream_three_times_changes_nothing_after_the_first(
    backend: Backend,
) {
    use v1::ingest_transactions_request::Part;
    let mut w = world(backend).await;
    w.ingest_customers(customers_stream(
        "c",
        vec![record("C1", 1, "Li Lei", 1)],
        None,
    ))
    .await
    .expect("customer");
    let key = || {
        Some(v1::CustomerKey {
            key: Some(v1::customer_key::Key::SourceRef(v1::SourceRef {
                source_system: "CORE".into(),
                source_id: "C1".into(),
            })),
        })
    };
    let txn = |id: &str, day: i32, amount: i64| v1::Transaction {
        customer: key(),
        transaction_id: id.into(),
        source_version: 1,
        transaction_date: Some(v1::Date {
            year: 2026,
            month: 10,
            day,
        }),
        amount: Some(v1::Money {
            currency: "CNY".into(),
            minor_units: amount,
        }),
        direction: v1::TransactionDirection::Credit as i32,
        product_id: "D01".into(),
    };
    let messages = |k: &str| {
        vec![
            v1::IngestTransactionsRequest {
                part: Some(Part::Header(header(k))),
            },
            v1::IngestTransactionsRequest {
                part: Some(Part::Transaction(txn("T1", 3, 10_000))),
            },
            v1::IngestTransactionsRequest {
                part: Some(Part::Transaction(txn("T2", 17, 25_050))),
            },
            v1::IngestTransactionsRequest {
                part: Some(Part::MonthSummary(v1::TransactionMonthSummary {
                    customer: key(),
                    period: Some(v1::Period {
                        year: 2026,
                        month: 9,
                    }),
                    source_version: 1,
                    transaction_count: 14,
                    total_amount: Some(v1::Money {
                        currency: "CNY".into(),
                        minor_units: 990_000,
                    }),
                    last_transaction_date: Some(v1::Date {
                        year: 2026,
                        month: 9,
                        day: 29,
                    }),
                })),
            },
            v1::IngestTransactionsRequest {
                part: Some(Part::Trailer(v1::IngestTrailer {
                    control_totals: Some(v1::ControlTotals {
                        record_count: 3,
                        amount_sums: vec![v1::AmountSum {
                            field: "amount".into(),
                            sum: Some(v1::Money {
                                currency: "CNY".into(),
                                minor_units: 35_050,
                            }),
                        }],
                    }),
                })),
            },
        ]
    };
    let core = w.core.clone();
    let mut results = Vec::new();
    for k in ["t1", "t2", "t3"] {
        let summary = w
            .client
            .ingest_transactions(TestSuite::authed(tokio_stream::iter(messages(k)), &core))
            .await
            .expect("ingest")
            .into_inner()
            .summary
            .expect("summary");
        assert!(summary.control_totals.as_ref().is_some_and(|c| c.matched));
        results.push(counts(&summary));
    }
    assert_eq!(
        results,
        [(3, 3, 0, 0, 0, 0), (3, 0, 0, 3, 0, 0), (3, 0, 0, 3, 0, 0)]
    );
    let c1 = w.customer_by_source("C1").await;
    let listed = w
        .client
        .list_transactions(TestSuite::authed(
            v1::ListTransactionsRequest {
                customer_id: c1.customer_id,
                page_size: 1,
                ..Default::default()
            },
            &core,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(
        listed
            .transactions
            .iter()
            .map(|t| t.transaction_id.as_str())
            .collect::<Vec<_>>(),
        ["T2"],
        "newest first"
    );
    assert!(!listed.next_page_token.is_empty());
    w.suite.stop().await;
}

bankmkt_e2e::on_both_backends!(
    customers_upsert_by_source_version,
    stream_protocol_errors_refuse_the_whole_stream,
    large_batches_cap_their_errors_and_cross_chunks,
    holdings_reconcile_totals_and_restatements_queue_rescoring,
    the_same_transactions_stream_three_times_changes_nothing_after_the_first,
);
