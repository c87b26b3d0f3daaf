//! The customer master through gRPC on both backends: creation with identity checks, PII sealed
//! at rest and masked per caller, duplicates refused by the database even under concurrency,
//! optimistic updates read back through the cache, keyset search that stays stable while rows are
//! inserted, and cross-references.

use bankmkt_domain::customer::{resident_id_check_char, uscc_check_char};
use bankmkt_e2e::registry::fields;
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_platform::settings::ServiceKind;
use bankmkt_proto::v1;
use bankmkt_proto::v1::customer_registry_client::CustomerRegistryClient;
use sea_orm::{ConnectionTrait, Statement};
use tonic::Code;
use tonic::transport::Channel;
use tonic_types::StatusExt;

/// A valid resident id number whose 17-digit body ends with `serial`.
fn resident_id(serial: u32) -> String {
    let body = format!("110105194912{:05}", 31000 + serial % 1000);
    let body = &body[..17];
    format!(
        "{body}{}",
        resident_id_check_char(body).expect("check char")
    )
}

/// A valid unified social credit code with a varying body.
fn uscc(serial: u32) -> String {
    let body = format!("91350100M{:08}", 100_000 + serial);
    format!("{body}{}", uscc_check_char(&body).expect("check char"))
}

struct World {
    suite: TestSuite,
    client: CustomerRegistryClient<Channel>,
    /// e1: customer manager at BJ01, the A manager of every customer created here.
    e1: String,
    /// e4: another customer manager at BJ01 (same subtree, not the customer's manager).
    e4: String,
    /// e3: customer manager at SH01 (another subtree).
    e3: String,
    auditor: String,
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
    let branches = vec![
        branch("HQ", "", HeadOffice),
        branch("BJ", "HQ", Tier1Branch),
        branch("BJ01", "BJ", Tier2Branch),
        branch("BJ0101", "BJ01", SubBranch),
        branch("SH", "HQ", Tier1Branch),
        branch("SH01", "SH", Tier2Branch),
    ];
    client
        .load_branches(TestSuite::authed(
            v1::LoadBranchesRequest {
                idempotency_key: "t".into(),
                branches,
                effective_date: None,
            },
            &admin,
        ))
        .await
        .expect("tree");
    let employee = |id: &str, branch: &str, role: v1::Role| v1::Employee {
        employee_id: id.into(),
        name: id.into(),
        branch_id: branch.into(),
        lines: vec![v1::BusinessLine::Corporate as i32],
        roles: vec![role as i32],
        ..Default::default()
    };
    let staff = vec![
        employee("e1", "BJ01", v1::Role::CustomerManager),
        employee("e2", "BJ0101", v1::Role::CustomerManager),
        employee("e3", "SH01", v1::Role::CustomerManager),
        employee("e4", "BJ01", v1::Role::CustomerManager),
        employee("e5", "SH01", v1::Role::CustomerManager),
        employee("a1", "BJ01", v1::Role::Approver),
    ];
    client
        .load_employees(TestSuite::authed(
            v1::LoadEmployeesRequest {
                idempotency_key: "s".into(),
                employees: staff,
            },
            &admin,
        ))
        .await
        .expect("staff");
    World {
        e1: suite.token("e1", "BJ01", &["customer_manager"]),
        e4: suite.token("e4", "BJ01", &["customer_manager"]),
        e3: suite.token("e3", "SH01", &["customer_manager"]),
        auditor: suite.token("au1", "HQ", &["auditor"]),
        suite,
        client,
    }
}

fn individual(name: &str, id_number: &str) -> v1::Customer {
    v1::Customer {
        kind: v1::CustomerKind::Individual as i32,
        name: name.into(),
        identities: vec![v1::IdentityDocument {
            identity_type: v1::IdentityType::ResidentId as i32,
            number: id_number.into(),
            ..Default::default()
        }],
        phone: "+8613800138000".into(),
        owning_branch_id: "BJ01".into(),
        primary_manager_id: "e1".into(),
        backup_manager_id: "e2".into(),
        details: Some(v1::customer::Details::Individual(v1::IndividualDetails {
            birth_date: Some(v1::Date {
                year: 1949,
                month: 12,
                day: 31,
            }),
            occupation: "engineer".into(),
        })),
        ..Default::default()
    }
}

fn corporate(name: &str, code: &str) -> v1::Customer {
    v1::Customer {
        kind: v1::CustomerKind::Corporate as i32,
        name: name.into(),
        identities: vec![v1::IdentityDocument {
            identity_type: v1::IdentityType::UnifiedSocialCreditCode as i32,
            number: code.into(),
            ..Default::default()
        }],
        owning_branch_id: "BJ01".into(),
        primary_manager_id: "e1".into(),
        backup_manager_id: "e2".into(),
        industry_code: "C3612".into(),
        ..Default::default()
    }
}

impl World {
    async fn create(
        &mut self,
        key: &str,
        customer: v1::Customer,
        token: &str,
    ) -> Result<v1::Customer, tonic::Status> {
        let request = v1::CreateCustomerRequest {
            idempotency_key: key.into(),
            customer: Some(customer),
            source_refs: vec![],
        };
        self.client
            .create_customer(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner().customer.expect("customer"))
    }

    async fn get(&mut self, id: &str, token: &str) -> Result<v1::Customer, tonic::Status> {
        self.client
            .get_customer(TestSuite::authed(
                v1::GetCustomerRequest {
                    customer_id: id.into(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().customer.expect("customer"))
    }

    async fn search(
        &mut self,
        request: v1::SearchCustomersRequest,
        token: &str,
    ) -> v1::SearchCustomersResponse {
        self.client
            .search_customers(TestSuite::authed(request, token))
            .await
            .expect("search")
            .into_inner()
    }

    async fn count_all(&mut self) -> usize {
        let auditor = self.auditor.clone();
        let mut n = 0;
        let mut token = String::new();
        loop {
            let page = self
                .search(
                    v1::SearchCustomersRequest {
                        page_size: 500,
                        page_token: token,
                        ..Default::default()
                    },
                    &auditor,
                )
                .await;
            n += page.customers.len();
            if page.next_page_token.is_empty() {
                return n;
            }
            token = page.next_page_token;
        }
    }
}

async fn identities_are_sealed_at_rest_and_masked_per_caller(backend: Backend) {
    let mut w = world(backend).await;
    let number = resident_id(1);
    let e1 = w.e1.clone();
    let created = w
        .create("c1", individual("张三", &number), &e1)
        .await
        .expect("create");
    assert_eq!(
        created.identities[0].number, number,
        "the A manager sees the clear number"
    );
    assert_eq!(created.stage, v1::LifecycleStage::Potential as i32);
    assert_eq!(created.version, 1);
    assert!(!created.pii_masked);

    let e4 = w.e4.clone();
    let masked = w
        .get(&created.customer_id, &e4)
        .await
        .expect("visible in the subtree");
    assert!(masked.pii_masked);
    assert_ne!(masked.identities[0].number, number);
    assert!(
        masked.identities[0].number.contains('*'),
        "{}",
        masked.identities[0].number
    );
    assert_eq!(masked.phone, "+86138****8000");
    match masked.details {
        Some(v1::customer::Details::Individual(d)) => assert_eq!(
            d.birth_date,
            Some(v1::Date {
                year: 1949,
                month: 0,
                day: 0
            })
        ),
        other => panic!("details {other:?}"),
    }
    let auditor = w.auditor.clone();
    assert_eq!(
        w.get(&created.customer_id, &auditor)
            .await
            .expect("auditor")
            .identities[0]
            .number,
        number
    );
    let e3 = w.e3.clone();
    assert_eq!(
        w.get(&created.customer_id, &e3)
            .await
            .expect_err("other subtree")
            .code(),
        Code::NotFound
    );

    // At rest: neither the number nor the phone appears in clear in any column.
    let settings = w.suite.settings();
    let db = bankmkt_platform::db::connect_with(&bankmkt_platform::db::DbOptions::for_service(
        &settings,
        ServiceKind::Registry,
    ))
    .await
    .expect("connect");
    let backend_kind = db.get_database_backend();
    for (table, column) in [
        ("customer_identity", "sealed"),
        ("customer_identity", "blind_index"),
        ("customer", "phone_sealed"),
        ("customer", "name"),
    ] {
        let rows = db
            .query_all_raw(Statement::from_string(
                backend_kind,
                format!("SELECT {column} AS v FROM {table}"),
            ))
            .await
            .expect("select");
        for row in rows {
            let bytes: Vec<u8> = row
                .try_get::<Vec<u8>>("", "v")
                .or_else(|_| row.try_get::<String>("", "v").map(String::into_bytes))
                .expect("value");
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(&number) && !text.contains("13800138000"),
                "{table}.{column} holds clear PII"
            );
        }
    }
    w.suite.stop().await;
}

async fn a_duplicate_identity_is_refused_and_named_only_when_visible(backend: Backend) {
    let mut w = world(backend).await;
    let code = uscc(7);
    let e1 = w.e1.clone();
    let first = w
        .create("k1", corporate("Fujian Steel", &code), &e1)
        .await
        .expect("create");
    let e4 = w.e4.clone();
    let err = w
        .create("k2", corporate("Fujian Steel Co", &code), &e4)
        .await
        .expect_err("duplicate");
    assert_eq!(err.code(), Code::AlreadyExists);
    let info = err
        .get_error_details()
        .error_info()
        .cloned()
        .expect("error info");
    assert_eq!(
        info.metadata.get("existing_customer_id"),
        Some(&first.customer_id),
        "visible to a BJ01 manager"
    );
    // A manager in another subtree learns that it exists, but not which record it is.
    let mut sh = corporate("Fujian Steel SH", &code);
    sh.owning_branch_id = "SH01".into();
    sh.primary_manager_id = "e3".into();
    sh.backup_manager_id = "e5".into();
    let e3 = w.e3.clone();
    let err = w.create("k3", sh, &e3).await.expect_err("refused");
    assert_eq!(err.code(), Code::AlreadyExists);
    let info = err
        .get_error_details()
        .error_info()
        .cloned()
        .expect("error info");
    assert!(
        !info.metadata.contains_key("existing_customer_id"),
        "not named to a caller who may not see it"
    );
    assert_eq!(w.count_all().await, 1);
    w.suite.stop().await;
}

async fn ten_concurrent_creates_of_one_customer_give_exactly_one(backend: Backend) {
    let w = world(backend).await;
    let number = resident_id(42);
    let mut tasks = Vec::new();
    for i in 0..10 {
        let mut client = w.client.clone();
        let token = w.e1.clone();
        let customer = individual(&format!("李四 {i}"), &number);
        tasks.push(tokio::spawn(async move {
            let request = v1::CreateCustomerRequest {
                idempotency_key: format!("race-{i}"),
                customer: Some(customer),
                source_refs: vec![],
            };
            client
                .create_customer(TestSuite::authed(request, &token))
                .await
                .map(|_| ())
                .map_err(|s| s.code())
        }));
    }
    let mut ok = 0;
    let mut exists = 0;
    for t in tasks {
        match t.await.expect("join") {
            Ok(()) => ok += 1,
            Err(Code::AlreadyExists) => exists += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((ok, exists), (1, 9));
    let mut w = w;
    assert_eq!(w.count_all().await, 1);
    w.suite.stop().await;
}

async fn bad_input_names_the_field_and_writes_nothing(backend: Backend) {
    let mut w = world(backend).await;
    let e1 = w.e1.clone();
    let good = || individual("王五", &resident_id(5));
    let mut cases: Vec<(v1::Customer, &str)> = Vec::new();
    let mut c = good();
    c.identities[0].number = "110105194912310021".into();
    cases.push((c, "customer.identities[0].number"));
    let mut c = good();
    c.identities[0] = v1::IdentityDocument {
        identity_type: v1::IdentityType::UnifiedSocialCreditCode as i32,
        number: uscc(1),
        ..Default::default()
    };
    cases.push((c, "customer.identities[0].identity_type"));
    let mut c = good();
    c.identities[0] = v1::IdentityDocument {
        identity_type: v1::IdentityType::Passport as i32,
        number: "E12345678".into(),
        ..Default::default()
    };
    cases.push((c, "customer.identities[0].issuing_country"));
    let mut c = good();
    c.identities.clear();
    cases.push((c, "customer.identities"));
    let mut c = good();
    c.kind = 0;
    cases.push((c, "customer.kind"));
    let mut c = good();
    c.name = "x".repeat(201);
    cases.push((c, "customer.name"));
    let mut c = good();
    c.phone = "13800138000".into();
    cases.push((c, "customer.phone"));
    let mut c = good();
    c.owning_branch_id = "NOPE".into();
    cases.push((c, "customer.owning_branch_id"));
    let mut c = good();
    c.primary_manager_id = "a1".into();
    cases.push((c, "customer.primary_manager_id"));
    let mut c = good();
    c.backup_manager_id = "e1".into();
    cases.push((c, "customer.backup_manager_id"));
    let mut c = good();
    c.details = Some(v1::customer::Details::Individual(v1::IndividualDetails {
        birth_date: Some(v1::Date {
            year: 1990,
            month: 2,
            day: 30,
        }),
        occupation: String::new(),
    }));
    cases.push((c, "customer.individual.birth_date"));
    let mut c = corporate("Org", &uscc(3));
    c.details = Some(v1::customer::Details::Organisation(
        v1::OrganisationDetails {
            annual_revenue: Some(v1::Money {
                currency: "CNY".into(),
                minor_units: -1,
            }),
            ..Default::default()
        },
    ));
    cases.push((c, "customer.organisation.annual_revenue.minor_units"));
    for (i, (customer, field)) in cases.into_iter().enumerate() {
        let err = w
            .create(&format!("bad-{i}"), customer, &e1)
            .await
            .expect_err("refused");
        assert_eq!(err.code(), Code::InvalidArgument, "case {i}: {err:?}");
        assert!(
            fields(&err).iter().any(|f| f == field),
            "case {i}: {field} not in {:?}",
            fields(&err)
        );
    }
    let request = v1::CreateCustomerRequest {
        idempotency_key: String::new(),
        customer: Some(good()),
        source_refs: vec![v1::SourceRef {
            source_system: "CORE".into(),
            source_id: String::new(),
        }],
    };
    let err = w
        .client
        .create_customer(TestSuite::authed(request, &e1))
        .await
        .expect_err("refused");
    assert_eq!(
        fields(&err),
        ["idempotency_key", "source_refs[0].source_id"]
    );
    // An approver may not create customers; a manager may not create outside their subtree.
    let approver = w.suite.token("a1", "BJ01", &["approver"]);
    assert_eq!(
        w.create("p1", good(), &approver)
            .await
            .expect_err("role")
            .code(),
        Code::PermissionDenied
    );
    let e3 = w.e3.clone();
    assert_eq!(
        w.create("p2", good(), &e3)
            .await
            .expect_err("subtree")
            .code(),
        Code::PermissionDenied
    );
    assert_eq!(w.count_all().await, 0, "nothing was written");
    w.suite.stop().await;
}

async fn updates_are_optimistic_and_read_back_through_the_cache(backend: Backend) {
    let mut w = world(backend).await;
    let e1 = w.e1.clone();
    let created = w
        .create("u1", corporate("Old Name Ltd", &uscc(11)), &e1)
        .await
        .expect("create");
    // Read once so the cache holds the record.
    assert_eq!(
        w.get(&created.customer_id, &e1).await.expect("get").name,
        "Old Name Ltd"
    );
    let update = |version: i64, name: &str| v1::UpdateCustomerRequest {
        customer: Some(v1::Customer {
            customer_id: created.customer_id.clone(),
            name: name.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["name".into()],
        }),
        expected_version: version,
    };
    let err = w
        .client
        .update_customer(TestSuite::authed(update(7, "Stale"), &e1))
        .await
        .expect_err("stale");
    assert_eq!(err.code(), Code::Aborted);
    let updated = w
        .client
        .update_customer(TestSuite::authed(update(1, "New Name Ltd"), &e1))
        .await
        .expect("update")
        .into_inner()
        .customer
        .expect("c");
    assert_eq!(
        (updated.name.as_str(), updated.version),
        ("New Name Ltd", 2)
    );
    let again = w.get(&created.customer_id, &e1).await.expect("get");
    assert_eq!(
        (again.name.as_str(), again.version),
        ("New Name Ltd", 2),
        "no stale cache entry"
    );
    let bad = v1::UpdateCustomerRequest {
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["owning_branch_id".into()],
        }),
        ..update(2, "x")
    };
    let err = w
        .client
        .update_customer(TestSuite::authed(bad, &e1))
        .await
        .expect_err("bad mask");
    assert_eq!(fields(&err), ["update_mask.paths[0]"]);
    w.suite.stop().await;
}

async fn search_pages_stay_stable_while_rows_are_inserted(backend: Backend) {
    let mut w = world(backend).await;
    let e1 = w.e1.clone();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            w.create(
                &format!("s{i}"),
                corporate(&format!("Firm {i}"), &uscc(100 + i)),
                &e1,
            )
            .await
            .expect("create")
            .customer_id,
        );
    }
    let first = w
        .search(
            v1::SearchCustomersRequest {
                page_size: 2,
                ..Default::default()
            },
            &e1,
        )
        .await;
    let mut seen: Vec<String> = first
        .customers
        .iter()
        .map(|c| c.customer_id.clone())
        .collect();
    for i in 5..7 {
        ids.push(
            w.create(
                &format!("s{i}"),
                corporate(&format!("Firm {i}"), &uscc(100 + i)),
                &e1,
            )
            .await
            .expect("create")
            .customer_id,
        );
    }
    let mut token = first.next_page_token;
    while !token.is_empty() {
        let page = w
            .search(
                v1::SearchCustomersRequest {
                    page_size: 2,
                    page_token: token,
                    ..Default::default()
                },
                &e1,
            )
            .await;
        seen.extend(page.customers.iter().map(|c| c.customer_id.clone()));
        token = page.next_page_token;
    }
    assert_eq!(
        seen, ids,
        "every row exactly once, in order, including those inserted mid-way"
    );
    // Filters: identity lookup, name prefix, and another subtree.
    let by_identity = w
        .search(
            v1::SearchCustomersRequest {
                identity: Some(v1::IdentityLookup {
                    identity_type: v1::IdentityType::UnifiedSocialCreditCode as i32,
                    number: uscc(103),
                }),
                ..Default::default()
            },
            &e1,
        )
        .await;
    assert_eq!(
        by_identity
            .customers
            .iter()
            .map(|c| c.customer_id.clone())
            .collect::<Vec<_>>(),
        [ids[3].clone()]
    );
    let by_name = w
        .search(
            v1::SearchCustomersRequest {
                name_prefix: "Firm 6".into(),
                ..Default::default()
            },
            &e1,
        )
        .await;
    assert_eq!(by_name.customers.len(), 1);
    let e3 = w.e3.clone();
    assert!(
        w.search(v1::SearchCustomersRequest::default(), &e3)
            .await
            .customers
            .is_empty(),
        "SH sees none of BJ's customers"
    );
    let err = w
        .client
        .search_customers(TestSuite::authed(
            v1::SearchCustomersRequest {
                branch_id: "BJ".into(),
                ..Default::default()
            },
            &e3,
        ))
        .await
        .expect_err("outside the subtree");
    assert_eq!(err.code(), Code::NotFound);
    let err = w
        .client
        .search_customers(TestSuite::authed(
            v1::SearchCustomersRequest {
                page_size: 501,
                kinds: vec![99],
                ..Default::default()
            },
            &e1,
        ))
        .await
        .expect_err("bad filters");
    assert_eq!(fields(&err), ["kinds[0]", "page_size"]);
    w.suite.stop().await;
}

async fn cross_references_are_unique_per_source(backend: Backend) {
    let mut w = world(backend).await;
    let e1 = w.e1.clone();
    let a = w
        .create("x1", corporate("A", &uscc(201)), &e1)
        .await
        .expect("a");
    let b = w
        .create("x2", corporate("B", &uscc(202)), &e1)
        .await
        .expect("b");
    let source = v1::SourceRef {
        source_system: "CORE".into(),
        source_id: "C-0001".into(),
    };
    let add = |id: &str, version: i64| v1::AddCrossReferenceRequest {
        customer_id: id.into(),
        source_ref: Some(source.clone()),
        expected_version: version,
    };
    let with_ref = w
        .client
        .add_cross_reference(TestSuite::authed(add(&a.customer_id, 1), &e1))
        .await
        .expect("add")
        .into_inner()
        .customer
        .expect("c");
    assert_eq!(with_ref.cross_references.len(), 1);
    assert_eq!(with_ref.version, 2);
    let err = w
        .client
        .add_cross_reference(TestSuite::authed(add(&b.customer_id, 1), &e1))
        .await
        .expect_err("taken");
    assert_eq!(err.code(), Code::AlreadyExists);
    let found = w
        .search(
            v1::SearchCustomersRequest {
                source_ref: Some(source.clone()),
                ..Default::default()
            },
            &e1,
        )
        .await;
    assert_eq!(
        found
            .customers
            .iter()
            .map(|c| c.customer_id.as_str())
            .collect::<Vec<_>>(),
        [a.customer_id.as_str()]
    );
    let remove = v1::RemoveCrossReferenceRequest {
        customer_id: a.customer_id.clone(),
        source_ref: Some(source.clone()),
        expected_version: 2,
    };
    let removed = w
        .client
        .remove_cross_reference(TestSuite::authed(remove, &e1))
        .await
        .expect("remove")
        .into_inner()
        .customer
        .expect("c");
    assert!(removed.cross_references.is_empty());
    w.client
        .add_cross_reference(TestSuite::authed(add(&b.customer_id, 1), &e1))
        .await
        .expect("now free");
    w.suite.stop().await;
}

async fn consent_decides_who_may_be_contacted(backend: Backend) {
    let mut w = world(backend).await;
    let e1 = w.e1.clone();
    let person = w
        .create("p", individual("赵六", &resident_id(61)), &e1)
        .await
        .expect("individual");
    let firm = w
        .create("f", corporate("Firm", &uscc(61)), &e1)
        .await
        .expect("organisation");
    let check = |channel: v1::ContactChannel, cross: bool| v1::CheckContactPermissionRequest {
        customer_ids: vec![
            person.customer_id.clone(),
            firm.customer_id.clone(),
            "no-such-customer".into(),
        ],
        channel: channel as i32,
        cross_line_use: cross,
    };
    let refusals = |r: v1::CheckContactPermissionResponse| {
        r.permissions
            .into_iter()
            .map(|p| (p.allowed, p.refusals))
            .collect::<Vec<_>>()
    };
    use v1::ContactRefusal as R;
    let before = w
        .client
        .check_contact_permission(TestSuite::authed(
            check(v1::ContactChannel::Phone, true),
            &e1,
        ))
        .await
        .expect("check")
        .into_inner();
    assert_eq!(
        refusals(before),
        [
            (
                false,
                vec![R::NoChannelConsent as i32, R::NoCrossLineConsent as i32]
            ),
            (true, vec![]),
            (false, vec![R::NotFound as i32]),
        ]
    );
    let consent = w
        .client
        .get_consent(TestSuite::authed(
            v1::GetConsentRequest {
                customer_id: person.customer_id.clone(),
            },
            &e1,
        ))
        .await
        .expect("get")
        .into_inner()
        .consent
        .expect("consent");
    assert_eq!(
        (
            consent.version,
            consent.channels.len(),
            consent.cross_line_use
        ),
        (0, 0, false)
    );
    let update = |version: i64, dnc: bool, evidence: &str| v1::UpdateConsentRequest {
        consent: Some(v1::Consent {
            customer_id: person.customer_id.clone(),
            channels: vec![v1::ChannelConsent {
                channel: v1::ContactChannel::Phone as i32,
                granted: true,
                source: "branch form".into(),
                update_time: None,
            }],
            do_not_contact: dnc,
            cross_line_use: true,
            ..Default::default()
        }),
        expected_version: version,
        evidence: evidence.into(),
    };
    let err = w
        .client
        .update_consent(TestSuite::authed(update(0, false, ""), &e1))
        .await
        .expect_err("no evidence");
    assert_eq!(fields(&err), ["evidence"]);
    let err = w
        .client
        .update_consent(TestSuite::authed(update(3, false, "form 17"), &e1))
        .await
        .expect_err("stale");
    assert_eq!(err.code(), Code::Aborted);
    let updated = w
        .client
        .update_consent(TestSuite::authed(update(0, false, "form 17"), &e1))
        .await
        .expect("update")
        .into_inner()
        .consent
        .expect("c");
    assert_eq!((updated.version, updated.cross_line_use), (1, true));
    let allowed = w
        .client
        .check_contact_permission(TestSuite::authed(
            check(v1::ContactChannel::Phone, true),
            &e1,
        ))
        .await
        .expect("check")
        .into_inner();
    assert!(allowed.permissions[0].allowed);
    let sms = w
        .client
        .check_contact_permission(TestSuite::authed(
            check(v1::ContactChannel::Sms, false),
            &e1,
        ))
        .await
        .expect("check")
        .into_inner();
    assert_eq!(sms.permissions[0].refusals, [R::NoChannelConsent as i32]);
    w.client
        .update_consent(TestSuite::authed(
            update(1, true, "customer call 2026-11-23"),
            &e1,
        ))
        .await
        .expect("do not contact");
    let dnc = w
        .client
        .check_contact_permission(TestSuite::authed(
            check(v1::ContactChannel::Phone, false),
            &e1,
        ))
        .await
        .expect("check")
        .into_inner();
    assert_eq!(dnc.permissions[0].refusals, [R::DoNotContact as i32]);
    let err = w
        .client
        .get_consent(TestSuite::authed(
            v1::GetConsentRequest {
                customer_id: firm.customer_id.clone(),
            },
            &e1,
        ))
        .await
        .expect_err("organisation");
    assert_eq!(err.code(), Code::FailedPrecondition);
    let e3 = w.e3.clone();
    let hidden = w
        .client
        .check_contact_permission(TestSuite::authed(
            check(v1::ContactChannel::Phone, false),
            &e3,
        ))
        .await
        .expect("check")
        .into_inner();
    assert_eq!(
        hidden.permissions[0].refusals,
        [R::NotFound as i32],
        "another subtree learns nothing"
    );
    w.suite.stop().await;
}

bankmkt_e2e::on_both_backends!(
    identities_are_sealed_at_rest_and_masked_per_caller,
    a_duplicate_identity_is_refused_and_named_only_when_visible,
    ten_concurrent_creates_of_one_customer_give_exactly_one,
    bad_input_names_the_field_and_writes_nothing,
    updates_are_optimistic_and_read_back_through_the_cache,
    search_pages_stay_stable_while_rows_are_inserted,
    cross_references_are_unique_per_source,
    consent_decides_who_may_be_contacted,
);
