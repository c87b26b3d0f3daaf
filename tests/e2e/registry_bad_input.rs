//! The registry's bad-input sweep: more than forty refused requests across the RPCs built so far,
//! each answered with the right code (and, for INVALID_ARGUMENT, a field violation naming the
//! field), after which every table of the registry database has the same row count and checksum —
//! on SQLite and on Postgres.

use bankmkt_e2e::fingerprint::fingerprint;
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_platform::settings::ServiceKind;
use bankmkt_proto::v1;
use bankmkt_proto::v1::customer_registry_client::CustomerRegistryClient;
use tonic::Code;
use tonic_types::StatusExt;

/// What a refused call must answer: a code, and for INVALID_ARGUMENT the field it names.
struct Expect {
    name: &'static str,
    code: Code,
    field: Option<&'static str>,
}

fn check(expect: Expect, result: Result<(), tonic::Status>, failures: &mut Vec<String>) {
    match result {
        Ok(()) => failures.push(format!("{}: accepted", expect.name)),
        Err(status) => {
            if status.code() != expect.code {
                failures.push(format!(
                    "{}: {:?} instead of {:?} ({})",
                    expect.name,
                    status.code(),
                    expect.code,
                    status.message()
                ));
            }
            if let Some(field) = expect.field {
                let fields: Vec<String> = status
                    .get_error_details()
                    .bad_request()
                    .map(|b| b.field_violations.iter().map(|f| f.field.clone()).collect())
                    .unwrap_or_default();
                if !fields.iter().any(|f| f == field) {
                    failures.push(format!(
                        "{}: field {field} not named in {fields:?}",
                        expect.name
                    ));
                }
            }
        }
    }
}

macro_rules! case {
    ($failures:expr, $name:expr, $code:ident, $field:expr, $call:expr) => {
        check(
            Expect {
                name: $name,
                code: Code::$code,
                field: $field,
            },
            $call.await.map(|_| ()),
            &mut $failures,
        )
    };
}

async fn sweep(backend: Backend) {
    use v1::BranchLevel::*;
    let suite = TestSuite::start_on(backend, |_| {}).await;
    let mut c = CustomerRegistryClient::new(suite.channel("customer-registry").await);
    let admin = suite.token("admin1", "HQ", &["admin"]);
    let core = suite.token("core", "HQ", &["core_banking"]);
    let e1 = suite.token("e1", "BJ", &["customer_manager"]);
    macro_rules! a {
        ($m:expr) => {
            TestSuite::authed($m, &admin)
        };
    }
    let branch = |id: &str, parent: &str, level: v1::BranchLevel| v1::Branch {
        branch_id: id.into(),
        parent_id: parent.into(),
        level: level as i32,
        name: id.into(),
        ..Default::default()
    };
    c.load_branches(a!(v1::LoadBranchesRequest {
        idempotency_key: "t".into(),
        branches: vec![
            branch("HQ", "", HeadOffice),
            branch("BJ", "HQ", Tier1Branch),
        ],
        effective_date: None,
    }))
    .await
    .expect("tree");
    let staff = |id: &str| v1::Employee {
        employee_id: id.into(),
        name: id.into(),
        branch_id: "BJ".into(),
        lines: vec![1],
        roles: vec![v1::Role::CustomerManager as i32],
        ..Default::default()
    };
    c.load_employees(a!(v1::LoadEmployeesRequest {
        idempotency_key: "s".into(),
        employees: vec![staff("e1"), staff("e2")],
    }))
    .await
    .expect("staff");
    let good = v1::Customer {
        kind: v1::CustomerKind::Individual as i32,
        name: "张三".into(),
        identities: vec![v1::IdentityDocument {
            identity_type: v1::IdentityType::ResidentId as i32,
            number: "11010519491231002X".into(),
            ..Default::default()
        }],
        owning_branch_id: "BJ".into(),
        primary_manager_id: "e1".into(),
        backup_manager_id: "e2".into(),
        ..Default::default()
    };
    let created = c
        .create_customer(TestSuite::authed(
            v1::CreateCustomerRequest {
                idempotency_key: "c".into(),
                customer: Some(good.clone()),
                source_refs: vec![],
            },
            &e1,
        ))
        .await
        .expect("customer")
        .into_inner()
        .customer
        .expect("c");
    let id = created.customer_id.clone();

    let settings = suite.settings();
    let before = fingerprint(&settings, ServiceKind::Registry).await;
    let mut f: Vec<String> = Vec::new();
    macro_rules! e {
        ($m:expr) => {
            TestSuite::authed($m, &e1)
        };
    }
    macro_rules! k {
        ($m:expr) => {
            TestSuite::authed($m, &core)
        };
    }

    // Organisation.
    case!(
        f,
        "LoadBranches empty key",
        InvalidArgument,
        Some("idempotency_key"),
        c.load_branches(a!(v1::LoadBranchesRequest {
            idempotency_key: String::new(),
            branches: vec![branch("X", "HQ", Outlet)],
            effective_date: None
        }))
    );
    case!(
        f,
        "LoadBranches unknown parent",
        InvalidArgument,
        Some("branches[0]"),
        c.load_branches(a!(v1::LoadBranchesRequest {
            idempotency_key: "b1".into(),
            branches: vec![branch("X", "NOPE", Outlet)],
            effective_date: None
        }))
    );
    case!(
        f,
        "LoadBranches over-long name",
        InvalidArgument,
        Some("branches[0].name"),
        c.load_branches(a!(v1::LoadBranchesRequest {
            idempotency_key: "b2".into(),
            branches: vec![v1::Branch {
                name: "n".repeat(201),
                ..branch("X", "BJ", Outlet)
            }],
            effective_date: None
        }))
    );
    case!(
        f,
        "LoadBranches by a manager",
        PermissionDenied,
        None,
        c.load_branches(e!(v1::LoadBranchesRequest {
            idempotency_key: "b3".into(),
            branches: vec![branch("X", "BJ", Outlet)],
            effective_date: None
        }))
    );
    case!(
        f,
        "GetBranch empty id",
        InvalidArgument,
        Some("branch_id"),
        c.get_branch(a!(v1::GetBranchRequest {
            branch_id: String::new(),
            as_of_date: None
        }))
    );
    case!(
        f,
        "GetBranch bad date",
        InvalidArgument,
        Some("as_of_date"),
        c.get_branch(a!(v1::GetBranchRequest {
            branch_id: "BJ".into(),
            as_of_date: Some(v1::Date {
                year: 2026,
                month: 2,
                day: 30
            })
        }))
    );
    case!(
        f,
        "ListBranches negative depth",
        InvalidArgument,
        Some("max_depth"),
        c.list_branches(a!(v1::ListBranchesRequest {
            max_depth: -1,
            ..Default::default()
        }))
    );
    case!(
        f,
        "ListBranches oversize page",
        InvalidArgument,
        Some("page_size"),
        c.list_branches(a!(v1::ListBranchesRequest {
            page_size: 501,
            ..Default::default()
        }))
    );
    case!(
        f,
        "ListBranches foreign token",
        InvalidArgument,
        Some("page_token"),
        c.list_branches(a!(v1::ListBranchesRequest {
            page_token: "bm90LWEtdG9rZW4".into(),
            ..Default::default()
        }))
    );
    case!(
        f,
        "MoveBranch no reason",
        InvalidArgument,
        Some("reason"),
        c.move_branch(a!(v1::MoveBranchRequest {
            branch_id: "BJ".into(),
            new_parent_id: "HQ".into(),
            effective_date: None,
            expected_version: 1,
            reason: String::new()
        }))
    );
    case!(
        f,
        "MoveBranch in the past",
        InvalidArgument,
        Some("effective_date"),
        c.move_branch(a!(v1::MoveBranchRequest {
            branch_id: "BJ".into(),
            new_parent_id: "HQ".into(),
            effective_date: Some(v1::Date {
                year: 2001,
                month: 1,
                day: 1
            }),
            expected_version: 1,
            reason: "r".into()
        }))
    );
    case!(
        f,
        "MoveBranch root",
        FailedPrecondition,
        None,
        c.move_branch(a!(v1::MoveBranchRequest {
            branch_id: "HQ".into(),
            new_parent_id: "BJ".into(),
            effective_date: None,
            expected_version: 1,
            reason: "r".into()
        }))
    );
    case!(
        f,
        "GetBranchChain unknown",
        NotFound,
        None,
        c.get_branch_chain(a!(v1::GetBranchChainRequest {
            branch_id: "NOPE".into(),
            as_of_date: None
        }))
    );
    case!(
        f,
        "LoadEmployees too many",
        InvalidArgument,
        Some("employees"),
        c.load_employees(a!(v1::LoadEmployeesRequest {
            idempotency_key: "e".into(),
            employees: vec![]
        }))
    );
    case!(
        f,
        "GetEmployee over-long id",
        InvalidArgument,
        Some("employee_id"),
        c.get_employee(a!(v1::GetEmployeeRequest {
            employee_id: "x".repeat(65)
        }))
    );
    case!(
        f,
        "ListEmployees unknown role",
        InvalidArgument,
        Some("role"),
        c.list_employees(a!(v1::ListEmployeesRequest {
            branch_id: "HQ".into(),
            role: 99,
            ..Default::default()
        }))
    );
    case!(
        f,
        "UpdateEmployee empty mask",
        InvalidArgument,
        Some("update_mask"),
        c.update_employee(a!(v1::UpdateEmployeeRequest {
            employee: Some(staff("e1")),
            update_mask: None,
            expected_version: 1
        }))
    );
    case!(
        f,
        "UpdateEmployee system role",
        InvalidArgument,
        Some("employee.roles[0]"),
        c.update_employee(a!(v1::UpdateEmployeeRequest {
            employee: Some(v1::Employee {
                roles: vec![v1::Role::Batch as i32],
                ..staff("e1")
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["roles".into()]
            }),
            expected_version: 1
        }))
    );

    // Customer master.
    let create = |customer: v1::Customer, key: &str| v1::CreateCustomerRequest {
        idempotency_key: key.into(),
        customer: Some(customer),
        source_refs: vec![],
    };
    let mut bad = good.clone();
    bad.identities[0].number = "110105194912310020".into();
    case!(
        f,
        "CreateCustomer bad check digit",
        InvalidArgument,
        Some("customer.identities[0].number"),
        c.create_customer(e!(create(bad, "x1")))
    );
    case!(
        f,
        "CreateCustomer duplicate identity",
        AlreadyExists,
        None,
        c.create_customer(e!(create(good.clone(), "x2")))
    );
    case!(
        f,
        "CreateCustomer unknown kind",
        InvalidArgument,
        Some("customer.kind"),
        c.create_customer(e!(create(
            v1::Customer {
                kind: 42,
                ..good.clone()
            },
            "x3"
        )))
    );
    case!(
        f,
        "CreateCustomer empty name",
        InvalidArgument,
        Some("customer.name"),
        c.create_customer(e!(create(
            v1::Customer {
                name: " ".into(),
                ..good.clone()
            },
            "x4"
        )))
    );
    case!(
        f,
        "CreateCustomer bad phone",
        InvalidArgument,
        Some("customer.phone"),
        c.create_customer(e!(create(
            v1::Customer {
                phone: "+86-138".into(),
                ..good.clone()
            },
            "x5"
        )))
    );
    case!(
        f,
        "CreateCustomer no manager",
        InvalidArgument,
        Some("customer.primary_manager_id"),
        c.create_customer(e!(create(
            v1::Customer {
                primary_manager_id: String::new(),
                ..good.clone()
            },
            "x6"
        )))
    );
    case!(
        f,
        "CreateCustomer by core banking without key",
        InvalidArgument,
        Some("idempotency_key"),
        c.create_customer(k!(create(good.clone(), "")))
    );
    case!(
        f,
        "GetCustomer empty id",
        InvalidArgument,
        Some("customer_id"),
        c.get_customer(e!(v1::GetCustomerRequest {
            customer_id: String::new()
        }))
    );
    case!(
        f,
        "GetCustomer unknown",
        NotFound,
        None,
        c.get_customer(e!(v1::GetCustomerRequest {
            customer_id: "no-such".into()
        }))
    );
    case!(
        f,
        "BatchGet empty",
        InvalidArgument,
        Some("customer_ids"),
        c.batch_get_customers(e!(v1::BatchGetCustomersRequest {
            customer_ids: vec![]
        }))
    );
    case!(
        f,
        "BatchGet oversize",
        InvalidArgument,
        Some("customer_ids"),
        c.batch_get_customers(e!(v1::BatchGetCustomersRequest {
            customer_ids: vec!["x".into(); 501]
        }))
    );
    let update = |mask: &str, version: i64, customer: v1::Customer| v1::UpdateCustomerRequest {
        customer: Some(customer),
        update_mask: Some(prost_types::FieldMask {
            paths: vec![mask.into()],
        }),
        expected_version: version,
    };
    case!(
        f,
        "UpdateCustomer stale",
        Aborted,
        None,
        c.update_customer(e!(update(
            "name",
            9,
            v1::Customer {
                customer_id: id.clone(),
                name: "n".into(),
                ..Default::default()
            }
        )))
    );
    case!(
        f,
        "UpdateCustomer immutable field",
        InvalidArgument,
        Some("update_mask.paths[0]"),
        c.update_customer(e!(update(
            "kind",
            1,
            v1::Customer {
                customer_id: id.clone(),
                ..Default::default()
            }
        )))
    );
    case!(
        f,
        "UpdateCustomer bad industry",
        InvalidArgument,
        Some("customer.industry_code"),
        c.update_customer(e!(update(
            "industry_code",
            1,
            v1::Customer {
                customer_id: id.clone(),
                industry_code: "C-36".into(),
                ..Default::default()
            }
        )))
    );
    case!(
        f,
        "Search bad stage",
        InvalidArgument,
        Some("stages[0]"),
        c.search_customers(e!(v1::SearchCustomersRequest {
            stages: vec![77],
            ..Default::default()
        }))
    );
    case!(
        f,
        "Search bad identity",
        InvalidArgument,
        Some("identity.number"),
        c.search_customers(e!(v1::SearchCustomersRequest {
            identity: Some(v1::IdentityLookup {
                identity_type: 1,
                number: "123".into()
            }),
            ..Default::default()
        }))
    );
    case!(
        f,
        "Search over-long prefix",
        InvalidArgument,
        Some("name_prefix"),
        c.search_customers(e!(v1::SearchCustomersRequest {
            name_prefix: "n".repeat(201),
            ..Default::default()
        }))
    );
    case!(
        f,
        "Search negative page",
        InvalidArgument,
        Some("page_size"),
        c.search_customers(e!(v1::SearchCustomersRequest {
            page_size: -5,
            ..Default::default()
        }))
    );
    case!(
        f,
        "AddCrossReference no source",
        InvalidArgument,
        Some("source_ref"),
        c.add_cross_reference(e!(v1::AddCrossReferenceRequest {
            customer_id: id.clone(),
            source_ref: None,
            expected_version: 1
        }))
    );
    case!(
        f,
        "AddCrossReference bad system",
        InvalidArgument,
        Some("source_ref.source_system"),
        c.add_cross_reference(e!(v1::AddCrossReferenceRequest {
            customer_id: id.clone(),
            source_ref: Some(v1::SourceRef {
                source_system: "A B".into(),
                source_id: "1".into()
            }),
            expected_version: 1
        }))
    );
    case!(
        f,
        "RemoveCrossReference absent",
        NotFound,
        None,
        c.remove_cross_reference(e!(v1::RemoveCrossReferenceRequest {
            customer_id: id.clone(),
            source_ref: Some(v1::SourceRef {
                source_system: "CORE".into(),
                source_id: "1".into()
            }),
            expected_version: 1
        }))
    );
    case!(
        f,
        "GetConsent empty",
        InvalidArgument,
        Some("customer_id"),
        c.get_consent(e!(v1::GetConsentRequest {
            customer_id: String::new()
        }))
    );
    case!(
        f,
        "UpdateConsent no evidence",
        InvalidArgument,
        Some("evidence"),
        c.update_consent(e!(v1::UpdateConsentRequest {
            consent: Some(v1::Consent {
                customer_id: id.clone(),
                ..Default::default()
            }),
            expected_version: 0,
            evidence: String::new()
        }))
    );
    case!(
        f,
        "UpdateConsent unknown channel",
        InvalidArgument,
        Some("consent.channels[0].channel"),
        c.update_consent(e!(v1::UpdateConsentRequest {
            consent: Some(v1::Consent {
                customer_id: id.clone(),
                channels: vec![v1::ChannelConsent {
                    channel: 99,
                    granted: true,
                    ..Default::default()
                }],
                ..Default::default()
            }),
            expected_version: 0,
            evidence: "f".into()
        }))
    );
    case!(
        f,
        "CheckContactPermission nothing asked",
        InvalidArgument,
        Some("channel"),
        c.check_contact_permission(e!(v1::CheckContactPermissionRequest {
            customer_ids: vec![id.clone()],
            channel: 0,
            cross_line_use: false
        }))
    );
    case!(
        f,
        "MergeCustomers into itself",
        InvalidArgument,
        Some("merged_customer_id"),
        c.merge_customers(e!(v1::MergeCustomersRequest {
            idempotency_key: "m".into(),
            survivor_customer_id: id.clone(),
            merged_customer_id: id.clone(),
            survivor_expected_version: 1,
            merged_expected_version: 1,
            reason: "r".into()
        }))
    );
    case!(
        f,
        "MergeCustomers unknown",
        NotFound,
        None,
        c.merge_customers(e!(v1::MergeCustomersRequest {
            idempotency_key: "m2".into(),
            survivor_customer_id: id.clone(),
            merged_customer_id: "nope".into(),
            survivor_expected_version: 1,
            merged_expected_version: 1,
            reason: "r".into()
        }))
    );
    case!(
        f,
        "SetCustomerAccessGrants by a user",
        PermissionDenied,
        None,
        c.set_customer_access_grants(e!(v1::SetCustomerAccessGrantsRequest {
            idempotency_key: "g".into(),
            grant_source: "opp".into(),
            customer_ids: vec![id.clone()],
            employee_ids: vec!["e1".into()]
        }))
    );
    case!(
        f,
        "GetCustomer360 empty",
        InvalidArgument,
        Some("customer_id"),
        c.get_customer360(e!(v1::GetCustomer360Request {
            customer_id: String::new()
        }))
    );
    case!(
        f,
        "ListHoldings bad period",
        InvalidArgument,
        Some("period"),
        c.list_holdings(e!(v1::ListHoldingsRequest {
            customer_id: id.clone(),
            period: Some(v1::Period {
                year: 2026,
                month: 13
            }),
            ..Default::default()
        }))
    );
    case!(
        f,
        "ListTransactions reversed range",
        InvalidArgument,
        Some("start_date"),
        c.list_transactions(e!(v1::ListTransactionsRequest {
            customer_id: id.clone(),
            start_date: Some(v1::Date {
                year: 2026,
                month: 9,
                day: 2
            }),
            end_date: Some(v1::Date {
                year: 2026,
                month: 9,
                day: 1
            }),
            ..Default::default()
        }))
    );

    // Ingestion streams.
    {
        use v1::ingest_holdings_request::Part;
        let header = |key: &str, system: &str| v1::IngestHoldingsRequest {
            part: Some(Part::Header(v1::IngestHeader {
                idempotency_key: key.into(),
                source_system: system.into(),
                ..Default::default()
            })),
        };
        let trailer = |field: &str| v1::IngestHoldingsRequest {
            part: Some(Part::Trailer(v1::IngestTrailer {
                control_totals: Some(v1::ControlTotals {
                    record_count: 0,
                    amount_sums: vec![v1::AmountSum {
                        field: field.into(),
                        sum: Some(v1::Money {
                            currency: "CNY".into(),
                            minor_units: 0,
                        }),
                    }],
                }),
            })),
        };
        case!(
            f,
            "IngestHoldings no header",
            InvalidArgument,
            Some("header"),
            c.ingest_holdings(k!(tokio_stream::iter(vec![trailer("fee_income")])))
        );
        case!(
            f,
            "IngestHoldings bad system",
            InvalidArgument,
            Some("header.source_system"),
            c.ingest_holdings(k!(tokio_stream::iter(vec![header("h", "BAD SYSTEM")])))
        );
        case!(
            f,
            "IngestHoldings unknown sum",
            InvalidArgument,
            Some("trailer.control_totals.amount_sums[0].field"),
            c.ingest_holdings(k!(tokio_stream::iter(vec![
                header("h2", "CORE"),
                trailer("balance")
            ])))
        );
        case!(
            f,
            "IngestHoldings by a manager",
            PermissionDenied,
            None,
            c.ingest_holdings(e!(tokio_stream::iter(vec![header("h3", "CORE")])))
        );
    }

    let after = fingerprint(&settings, ServiceKind::Registry).await;
    assert!(
        f.is_empty(),
        "{} case(s) answered wrongly:\n{}",
        f.len(),
        f.join("\n")
    );
    assert_eq!(before, after, "a refused request changed the database");
    assert!(before.len() >= 10, "fingerprinted {} tables", before.len());
    suite.stop().await;
}

#[tokio::test]
async fn refused_requests_change_nothing_on_sqlite() {
    sweep(Backend::Embedded).await;
}

#[tokio::test]
async fn refused_requests_change_nothing_on_postgres() {
    sweep(Backend::PostgresRedis).await;
}
