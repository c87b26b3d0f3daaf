//! Ownership through gRPC on both backends: the four-eyes hand-over (the maker never decides, a
//! second person with authority over the branches applies it), rejection that changes nothing,
//! stale versions answering ABORTED, the effective-dated history read as of yesterday (the seeded
//! creation interval) and today, the customer read back through the cache with its new managers,
//! the audit trail and one `customer.ownership_changed` event per customer, bulk reassignment of a
//! leaving manager's five customers (and of a closing branch) in one step, and bad input naming
//! its field while writing nothing.

use bankmkt_customer_registry::customers::entity::customer;
use bankmkt_customer_registry::ownership::entity::ownership_history;
use bankmkt_domain::calendar::BusinessCalendar;
use bankmkt_domain::customer::uscc_check_char;
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_platform::settings::ServiceKind;
use bankmkt_platform::{audit, outbox};
use bankmkt_proto::v1;
use bankmkt_proto::v1::customer_registry_client::CustomerRegistryClient;
use bankmkt_proto::v1::reassignment::Source;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use prost::Message;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder, Statement,
};
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// A valid unified social credit code with a varying body.
fn uscc(serial: u32) -> String {
    let body = format!("91310000M{:08}", 300_000 + serial);
    format!("{body}{}", uscc_check_char(&body).expect("check char"))
}

fn date(d: NaiveDate) -> v1::Date {
    v1::Date {
        year: d.year(),
        month: d.month() as i32,
        day: d.day() as i32,
    }
}

/// Today's business date, as the service computes it (default calendar, Asia/Shanghai).
fn today() -> NaiveDate {
    BusinessCalendar::default().business_date(Utc::now())
}

struct World {
    suite: TestSuite,
    client: CustomerRegistryClient<Channel>,
    admin: String,
    /// Customer manager at BJ01.
    e1: String,
    /// Customer manager at BJ0101.
    e2: String,
    /// Customer manager at SH01.
    e3: String,
    /// Branch head of BJ (a maker in these tests).
    h1: String,
    /// A second branch head of BJ (the checker).
    h3: String,
    /// Branch head of SH.
    sh_head: String,
    /// Branch head of BJ01 only.
    bj01_head: String,
    /// Product manager at BJ01 (not a maker of hand-overs).
    pm: String,
    auditor: String,
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
        name: format!("{id} branch"),
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
                    branch("BJ0101", "BJ01", SubBranch),
                    branch("SH", "HQ", Tier1Branch),
                    branch("SH01", "SH", Tier2Branch),
                ],
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
        active_from: Some(v1::Date {
            year: 2020,
            month: 1,
            day: 1,
        }),
        ..Default::default()
    };
    let cm = v1::Role::CustomerManager;
    let mut gone = employee("gone", "BJ01", cm);
    gone.active_to = Some(v1::Date {
        year: 2021,
        month: 1,
        day: 1,
    });
    client
        .load_employees(TestSuite::authed(
            v1::LoadEmployeesRequest {
                idempotency_key: "s".into(),
                employees: vec![
                    employee("e1", "BJ01", cm),
                    employee("e4", "BJ01", cm),
                    employee("e6", "BJ01", cm),
                    employee("e2", "BJ0101", cm),
                    employee("e7", "BJ0101", cm),
                    employee("e3", "SH01", cm),
                    employee("e5", "SH01", cm),
                    employee("p1", "BJ01", v1::Role::ProductManager),
                    gone,
                ],
            },
            &admin,
        ))
        .await
        .expect("staff");
    World {
        e1: suite.token("e1", "BJ01", &["customer_manager"]),
        e2: suite.token("e2", "BJ0101", &["customer_manager"]),
        e3: suite.token("e3", "SH01", &["customer_manager"]),
        h1: suite.token("h1", "BJ", &["branch_head"]),
        h3: suite.token("h3", "BJ", &["branch_head"]),
        sh_head: suite.token("h2", "SH", &["branch_head"]),
        bj01_head: suite.token("h4", "BJ01", &["branch_head"]),
        pm: suite.token("p1", "BJ01", &["product_manager"]),
        auditor: suite.token("au1", "HQ", &["auditor"]),
        admin,
        suite,
        client,
        serial: 0,
    }
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

/// Asserts the code of a refused call.
fn assert_code<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, case: &str) {
    let err = result.expect_err(case);
    assert_eq!(err.code(), code, "{case}: {err:?}");
}

fn handover(customer_id: &str, branch: &str, a: &str, b: &str) -> v1::Handover {
    v1::Handover {
        customer_id: customer_id.into(),
        to_branch_id: branch.into(),
        to_primary_manager_id: a.into(),
        to_backup_manager_id: b.into(),
        ..Default::default()
    }
}

fn create_handover(h: v1::Handover, version: i64) -> v1::CreateHandoverRequest {
    v1::CreateHandoverRequest {
        handover: Some(h),
        expected_customer_version: version,
        reason: "the A manager moves to another book".into(),
    }
}

fn leaving(employee: &str, slot: v1::ManagerSlot, a: &str, b: &str) -> v1::Reassignment {
    v1::Reassignment {
        source: Some(Source::FromEmployeeId(employee.into())),
        slot: slot as i32,
        to_primary_manager_id: a.into(),
        to_backup_manager_id: b.into(),
        ..Default::default()
    }
}

fn reassignment_request(r: v1::Reassignment) -> v1::CreateReassignmentRequest {
    v1::CreateReassignmentRequest {
        reassignment: Some(r),
        reason: "the manager leaves the bank".into(),
    }
}

impl World {
    /// Creates a corporate customer owned by `branch` with managers `a` and `b`.
    async fn customer(&mut self, branch: &str, a: &str, b: &str) -> v1::Customer {
        self.serial += 1;
        let request = v1::CreateCustomerRequest {
            idempotency_key: format!("create-{}", self.serial),
            customer: Some(v1::Customer {
                kind: v1::CustomerKind::Corporate as i32,
                name: format!("Firm {}", self.serial),
                identities: vec![v1::IdentityDocument {
                    identity_type: v1::IdentityType::UnifiedSocialCreditCode as i32,
                    number: uscc(self.serial),
                    ..Default::default()
                }],
                owning_branch_id: branch.into(),
                primary_manager_id: a.into(),
                backup_manager_id: b.into(),
                ..Default::default()
            }),
            source_refs: vec![],
        };
        let admin = self.admin.clone();
        self.client
            .create_customer(TestSuite::authed(request, &admin))
            .await
            .expect("create")
            .into_inner()
            .customer
            .expect("customer")
    }

    async fn get(&mut self, token: &str, customer_id: &str) -> Result<v1::Customer, Status> {
        self.client
            .get_customer(TestSuite::authed(
                v1::GetCustomerRequest {
                    customer_id: customer_id.into(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().customer.expect("customer"))
    }

    async fn ownership(
        &mut self,
        token: &str,
        customer_id: &str,
        on: Option<NaiveDate>,
    ) -> Result<v1::Ownership, Status> {
        self.client
            .get_ownership(TestSuite::authed(
                v1::GetOwnershipRequest {
                    customer_id: customer_id.into(),
                    as_of_date: on.map(date),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().ownership.expect("ownership"))
    }

    async fn history(&mut self, token: &str, customer_id: &str) -> Vec<v1::Ownership> {
        self.client
            .list_ownership_history(TestSuite::authed(
                v1::ListOwnershipHistoryRequest {
                    customer_id: customer_id.into(),
                    ..Default::default()
                },
                token,
            ))
            .await
            .expect("history")
            .into_inner()
            .ownerships
    }

    async fn create_handover(
        &mut self,
        token: &str,
        request: v1::CreateHandoverRequest,
    ) -> Result<v1::Handover, Status> {
        self.client
            .create_handover(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner().handover.expect("handover"))
    }

    async fn approve_handover(
        &mut self,
        token: &str,
        id: &str,
        version: i64,
    ) -> Result<v1::Handover, Status> {
        self.client
            .approve_handover(TestSuite::authed(
                v1::ApproveHandoverRequest {
                    handover_id: id.into(),
                    expected_version: version,
                    reason: "checked".into(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().handover.expect("handover"))
    }

    async fn reject_handover(
        &mut self,
        token: &str,
        id: &str,
        version: i64,
        reason: &str,
    ) -> Result<v1::Handover, Status> {
        self.client
            .reject_handover(TestSuite::authed(
                v1::RejectHandoverRequest {
                    handover_id: id.into(),
                    expected_version: version,
                    reason: reason.into(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().handover.expect("handover"))
    }

    async fn create_reassignment(
        &mut self,
        token: &str,
        request: v1::CreateReassignmentRequest,
    ) -> Result<v1::Reassignment, Status> {
        self.client
            .create_reassignment(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner().reassignment.expect("reassignment"))
    }

    async fn approve_reassignment(
        &mut self,
        token: &str,
        id: &str,
        version: i64,
    ) -> Result<v1::Reassignment, Status> {
        self.client
            .approve_reassignment(TestSuite::authed(
                v1::ApproveReassignmentRequest {
                    reassignment_id: id.into(),
                    expected_version: version,
                    reason: String::new(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().reassignment.expect("reassignment"))
    }

    async fn reject_reassignment(
        &mut self,
        token: &str,
        id: &str,
        version: i64,
        reason: &str,
    ) -> Result<v1::Reassignment, Status> {
        self.client
            .reject_reassignment(TestSuite::authed(
                v1::RejectReassignmentRequest {
                    reassignment_id: id.into(),
                    expected_version: version,
                    reason: reason.into(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().reassignment.expect("reassignment"))
    }

    async fn db(&self) -> sea_orm::DatabaseConnection {
        bankmkt_platform::db::connect(&self.suite.settings(), ServiceKind::Registry)
            .await
            .expect("connect")
    }

    /// Moves a customer's creation `days` back, so its seeded first interval covers yesterday.
    async fn backdate(&self, customer_id: &str, days: i64) {
        let db = self.db().await;
        customer::Entity::update_many()
            .col_expr(
                customer::Column::CreateTime,
                Expr::value(Utc::now() - Duration::days(days)),
            )
            .filter(customer::Column::CustomerId.eq(customer_id))
            .exec(&db)
            .await
            .expect("backdate");
    }

    /// The ownership-changed events of a customer, oldest first.
    async fn events(&self, customer_id: &str) -> Vec<v1::Ownership> {
        let db = self.db().await;
        outbox::entity::Entity::find()
            .filter(outbox::entity::Column::AggregateId.eq(customer_id))
            .filter(outbox::entity::Column::EventType.eq("customer.ownership_changed"))
            .order_by_asc(outbox::entity::Column::Seq)
            .all(&db)
            .await
            .expect("outbox")
            .iter()
            .map(|e| v1::Ownership::decode(e.payload.as_slice()).expect("payload"))
            .collect()
    }

    /// The audit actions recorded against a target, oldest first.
    async fn audit_actions(&self, target_id: &str) -> Vec<String> {
        let db = self.db().await;
        audit::entity::Entity::find()
            .filter(audit::entity::Column::TargetId.eq(target_id))
            .order_by_asc(audit::entity::Column::Id)
            .all(&db)
            .await
            .expect("audit")
            .into_iter()
            .map(|e| e.action)
            .collect()
    }

    /// Row counts of every registry table, every customer's owners and version, and every
    /// ownership, hand-over and reassignment row: equal snapshots mean nothing was written.
    async fn snapshot(&self) -> Vec<String> {
        let db = self.db().await;
        let backend = db.get_database_backend();
        let tables_sql = match backend {
            DatabaseBackend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            }
            _ => {
                "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                 ORDER BY table_name"
            }
        };
        let tables: Vec<String> = db
            .query_all_raw(Statement::from_string(backend, tables_sql))
            .await
            .expect("tables")
            .iter()
            .map(|r| r.try_get::<String>("", "name").expect("name"))
            .collect();
        assert!(tables.iter().any(|t| t == "ownership_history"));
        let mut out = Vec::new();
        for table in tables {
            let row = db
                .query_one_raw(Statement::from_string(
                    backend,
                    format!("SELECT COUNT(*) AS n FROM \"{table}\""),
                ))
                .await
                .expect("count")
                .expect("row");
            out.push(format!(
                "{table}={}",
                row.try_get::<i64>("", "n").expect("n")
            ));
        }
        for c in customer::Entity::find()
            .order_by_asc(customer::Column::CustomerId)
            .all(&db)
            .await
            .expect("customers")
        {
            out.push(format!(
                "{}:{}:{}:{}:{}",
                c.customer_id,
                c.owning_branch_id,
                c.primary_manager_id,
                c.backup_manager_id,
                c.version
            ));
        }
        for row in ownership_history::Entity::find()
            .order_by_asc(ownership_history::Column::Seq)
            .all(&db)
            .await
            .expect("history")
        {
            out.push(format!("{row:?}"));
        }
        use bankmkt_customer_registry::ownership::entity::{handover, reassignment};
        for row in handover::Entity::find()
            .order_by_asc(handover::Column::Seq)
            .all(&db)
            .await
            .expect("handovers")
        {
            out.push(format!("{row:?}"));
        }
        for row in reassignment::Entity::find()
            .order_by_asc(reassignment::Column::Seq)
            .all(&db)
            .await
            .expect("reassignments")
        {
            out.push(format!("{row:?}"));
        }
        out
    }
}

fn status_of(approval: &Option<v1::ApprovalTrail>) -> v1::ApprovalStatus {
    v1::ApprovalStatus::try_from(approval.as_ref().expect("approval").status).expect("status")
}

async fn a_handover_needs_two_people_and_applies_from_its_date(backend: Backend) {
    let mut w = world(backend).await;
    let today = today();
    let yesterday = today - Duration::days(1);
    let c = w.customer("BJ01", "e1", "e4").await;
    let id = c.customer_id.clone();
    // On the books for ten days: the seeded first interval covers yesterday.
    w.backdate(&id, 10).await;
    let (e1, e2, h1, h3, admin) = (
        w.e1.clone(),
        w.e2.clone(),
        w.h1.clone(),
        w.h3.clone(),
        w.admin.clone(),
    );
    // Fill the cache: the change must be read back, not the cached managers.
    assert_eq!(w.get(&e1, &id).await.expect("get").primary_manager_id, "e1");

    let seed = w.ownership(&e1, &id, None).await.expect("seed");
    assert_eq!(
        (
            seed.owning_branch_id.as_str(),
            seed.primary_manager_id.as_str(),
            seed.backup_manager_id.as_str(),
            seed.change_source.as_str()
        ),
        ("BJ01", "e1", "e4", "create")
    );
    let seed_range = seed.effective.expect("range");
    assert!(seed_range.end_date.is_none());
    assert_eq!(
        seed_range.start_date,
        Some(date(today - Duration::days(10)))
    );
    assert_eq!(w.history(&e1, &id).await, vec![seed.clone()]);

    // The maker (a branch head) proposes BJ0101 with e2/e7, effective today (the default).
    let proposed = w
        .create_handover(
            &h1,
            create_handover(handover(&id, "BJ0101", "e2", "e7"), c.version),
        )
        .await
        .expect("maker step");
    assert_eq!(status_of(&proposed.approval), v1::ApprovalStatus::Pending);
    assert_eq!(proposed.effective_date, Some(date(today)));
    assert_eq!(proposed.current.as_ref(), Some(&seed));
    assert_eq!(proposed.version, 1);
    let submitted = proposed
        .approval
        .as_ref()
        .and_then(|a| a.submitted.clone())
        .expect("submitted");
    assert_eq!(submitted.actor_id, "h1");
    assert!(proposed.approval.as_ref().expect("a").decided.is_none());
    let hid = proposed.handover_id.clone();
    // Nothing moves before the checker.
    assert_eq!(
        w.ownership(&e1, &id, None)
            .await
            .expect("still")
            .primary_manager_id,
        "e1"
    );

    // Four eyes: the maker may not approve, a manager holds no checker role, and a head of
    // another subtree does not even see it.
    assert_code(
        w.approve_handover(&h1, &hid, 1).await,
        Code::PermissionDenied,
        "the maker approves",
    );
    assert_code(
        w.approve_handover(&e1, &hid, 1).await,
        Code::PermissionDenied,
        "a customer manager approves",
    );
    let sh_head = w.sh_head.clone();
    assert_code(
        w.approve_handover(&sh_head, &hid, 1).await,
        Code::NotFound,
        "another subtree",
    );
    let approved = w.approve_handover(&h3, &hid, 1).await.expect("checker");
    assert_eq!(status_of(&approved.approval), v1::ApprovalStatus::Approved);
    assert_eq!(approved.version, 2);
    let decided = approved
        .approval
        .as_ref()
        .and_then(|a| a.decided.clone())
        .expect("decided");
    assert_eq!(
        (decided.actor_id.as_str(), decided.reason.as_str()),
        ("h3", "checked")
    );
    assert_code(
        w.approve_handover(&h3, &hid, 2).await,
        Code::FailedPrecondition,
        "approved twice",
    );

    // The customer reads back with its new owners (the cache entry was dropped).
    for token in [&e2, &e1] {
        let after = w.get(token, &id).await.expect("read back");
        assert_eq!(
            (
                after.owning_branch_id.as_str(),
                after.primary_manager_id.as_str(),
                after.backup_manager_id.as_str()
            ),
            ("BJ0101", "e2", "e7")
        );
        assert_eq!(after.version, c.version + 1);
    }
    assert!(
        !w.get(&e2, &id).await.expect("e2").pii_masked,
        "the new A manager sees the customer in clear"
    );

    // As of yesterday: the seeded interval, now closed at today; as of today: the new owners.
    let then = w.ownership(&e1, &id, Some(yesterday)).await.expect("then");
    assert_eq!(then.primary_manager_id, "e1");
    assert_eq!(then.change_source, "create");
    assert_eq!(
        then.effective.as_ref().and_then(|r| r.end_date),
        Some(date(today))
    );
    let now = w.ownership(&e1, &id, Some(today)).await.expect("now");
    assert_eq!(
        (
            now.owning_branch_id.as_str(),
            now.primary_manager_id.as_str(),
            now.backup_manager_id.as_str()
        ),
        ("BJ0101", "e2", "e7")
    );
    assert_eq!(now.change_source, format!("handover:{hid}"));
    let stamp = now.changed.clone().expect("stamp");
    assert_eq!(stamp.actor_id, "h3");
    assert_eq!(stamp.reason, "the A manager moves to another book");
    assert_eq!(w.ownership(&e1, &id, None).await.expect("default"), now);
    assert_code(
        w.ownership(&e1, &id, Some(today - Duration::days(30)))
            .await,
        Code::NotFound,
        "before the customer existed",
    );
    let history = w.history(&e1, &id).await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[0], now, "newest first");
    assert_eq!(history[1], then);

    // Attribution's question, in bulk: who owned it at each conversion's time.
    let batch = w
        .client
        .batch_get_ownerships(TestSuite::authed(
            v1::BatchGetOwnershipsRequest {
                queries: vec![
                    v1::OwnershipQuery {
                        customer_id: id.clone(),
                        as_of_date: Some(date(yesterday)),
                    },
                    v1::OwnershipQuery {
                        customer_id: id.clone(),
                        as_of_date: Some(date(today + Duration::days(40))),
                    },
                    v1::OwnershipQuery {
                        customer_id: id.clone(),
                        as_of_date: Some(date(today - Duration::days(30))),
                    },
                    v1::OwnershipQuery {
                        customer_id: "0190c0de-0000-7000-8000-000000000000".into(),
                        as_of_date: Some(date(today)),
                    },
                ],
            },
            &w.auditor.clone(),
        ))
        .await
        .expect("batch")
        .into_inner()
        .answers;
    let owners: Vec<Option<String>> = batch
        .iter()
        .map(|a| a.ownership.as_ref().map(|o| o.primary_manager_id.clone()))
        .collect();
    assert_eq!(
        owners,
        [Some("e1".into()), Some("e2".into()), None, None],
        "in request order"
    );
    assert_eq!(
        batch[0].query.as_ref().map(|q| q.customer_id.as_str()),
        Some(id.as_str())
    );

    // One event with the new interval, and the audit trail of both steps.
    let events = w.events(&id).await;
    assert_eq!(events, vec![now.clone()]);
    let actions = w.audit_actions(&id).await;
    for action in [
        "customer.handover.create",
        "customer.ownership.change",
        "customer.handover.approve",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
    let listed = w
        .client
        .list_handovers(TestSuite::authed(
            v1::ListHandoversRequest {
                branch_id: "BJ0101".into(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("list")
        .into_inner()
        .handovers;
    assert_eq!(
        listed,
        vec![approved.clone()],
        "listed under the new branch"
    );
    let got = w
        .client
        .get_handover(TestSuite::authed(
            v1::GetHandoverRequest {
                handover_id: hid.clone(),
            },
            &e2,
        ))
        .await
        .expect("get")
        .into_inner()
        .handover;
    assert_eq!(got, Some(approved));
}

async fn a_transfer_across_subtrees_needs_authority_over_both(backend: Backend) {
    let mut w = world(backend).await;
    let c = w.customer("BJ01", "e1", "e4").await;
    let (h1, h3, e3, admin, bj01_head) = (
        w.h1.clone(),
        w.h3.clone(),
        w.e3.clone(),
        w.admin.clone(),
        w.bj01_head.clone(),
    );
    assert_code(
        w.ownership(&e3, &c.customer_id, None).await,
        Code::NotFound,
        "another subtree reads no ownership",
    );
    let proposed = w
        .create_handover(
            &h1,
            create_handover(handover(&c.customer_id, "SH01", "e3", "e5"), c.version),
        )
        .await
        .expect("maker step");
    // A BJ head has no authority over SH01; neither has the BJ01 head.
    for token in [&h3, &bj01_head] {
        assert_code(
            w.approve_handover(token, &proposed.handover_id, 1).await,
            Code::PermissionDenied,
            "authority over one side only",
        );
    }
    let applied = w
        .approve_handover(&admin, &proposed.handover_id, 1)
        .await
        .expect("admin");
    assert_eq!(status_of(&applied.approval), v1::ApprovalStatus::Approved);
    let moved = w.get(&e3, &c.customer_id).await.expect("now visible to SH");
    assert_eq!(moved.owning_branch_id, "SH01");
    assert_eq!(moved.primary_manager_id, "e3");
    assert_code(
        w.get(&w.e1.clone(), &c.customer_id).await,
        Code::NotFound,
        "no longer in BJ01's subtree",
    );
    // A hand-over within BJ01 keeps its branch when to_branch_id is empty.
    let d = w.customer("BJ01", "e1", "e4").await;
    let kept = w
        .create_handover(
            &bj01_head,
            create_handover(handover(&d.customer_id, "", "e4", "e6"), d.version),
        )
        .await
        .expect("maker");
    assert_eq!(kept.to_branch_id, "BJ01");
    w.approve_handover(&h1, &kept.handover_id, 1)
        .await
        .expect("a BJ head checks a BJ01 hand-over");
    let after = w.get(&admin, &d.customer_id).await.expect("get");
    assert_eq!(
        (
            after.primary_manager_id.as_str(),
            after.backup_manager_id.as_str()
        ),
        ("e4", "e6")
    );
}

async fn rejection_changes_nothing(backend: Backend) {
    let mut w = world(backend).await;
    let c = w.customer("BJ01", "e1", "e4").await;
    let (e1, h1, h3) = (w.e1.clone(), w.h1.clone(), w.h3.clone());
    // A customer manager may make a hand-over; the checker decides.
    let proposed = w
        .create_handover(
            &e1,
            create_handover(handover(&c.customer_id, "", "e6", "e4"), c.version),
        )
        .await
        .expect("maker step");
    assert_code(
        w.create_handover(
            &h1,
            create_handover(handover(&c.customer_id, "", "e4", "e6"), c.version),
        )
        .await,
        Code::FailedPrecondition,
        "a second pending hand-over",
    );
    let before = w.snapshot().await;
    let hid = proposed.handover_id.clone();
    assert_names(
        w.reject_handover(&h3, &hid, 1, "  ").await,
        "reason",
        "a rejection needs a reason",
    );
    assert_code(
        w.reject_handover(&e1, &hid, 1, "no").await,
        Code::PermissionDenied,
        "no checker role",
    );
    assert_code(
        w.reject_handover(&h3, &hid, 7, "no").await,
        Code::Aborted,
        "stale version",
    );
    assert_eq!(w.snapshot().await, before, "refusals write nothing");
    let rejected = w
        .reject_handover(&h3, &hid, 1, "the new A manager is overloaded")
        .await
        .expect("reject");
    assert_eq!(status_of(&rejected.approval), v1::ApprovalStatus::Rejected);
    assert_eq!(rejected.version, 2);
    let after = w.get(&e1, &c.customer_id).await.expect("get");
    assert_eq!(
        (
            after.primary_manager_id.as_str(),
            after.backup_manager_id.as_str(),
            after.version
        ),
        ("e1", "e4", c.version),
        "nothing moved"
    );
    assert!(w.events(&c.customer_id).await.is_empty());
    let history = w.history(&e1, &c.customer_id).await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].change_source, "create");
    assert_code(
        w.approve_handover(&h3, &hid, 2).await,
        Code::FailedPrecondition,
        "a rejected hand-over cannot be approved",
    );
    assert_code(
        w.reject_handover(&h1, &hid, 2, "again").await,
        Code::FailedPrecondition,
        "nor rejected again",
    );
    // The customer is free for a new hand-over.
    w.create_handover(
        &h1,
        create_handover(handover(&c.customer_id, "", "e6", "e4"), c.version),
    )
    .await
    .expect("a new maker step");
    let pending = w
        .client
        .list_handovers(TestSuite::authed(
            v1::ListHandoversRequest {
                customer_id: c.customer_id.clone(),
                status: v1::ApprovalStatus::Pending as i32,
                ..Default::default()
            },
            &e1,
        ))
        .await
        .expect("list")
        .into_inner()
        .handovers;
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0]
            .approval
            .as_ref()
            .and_then(|a| a.submitted.as_ref())
            .map(|s| s.actor_id.as_str()),
        Some("h1")
    );
}

async fn stale_versions_abort_and_change_nothing(backend: Backend) {
    let mut w = world(backend).await;
    let c = w.customer("BJ01", "e1", "e4").await;
    let (e1, h1, h3) = (w.e1.clone(), w.h1.clone(), w.h3.clone());
    let before = w.snapshot().await;
    for stale in [0, c.version + 1] {
        assert_code(
            w.create_handover(
                &h1,
                create_handover(handover(&c.customer_id, "", "e6", "e4"), stale),
            )
            .await,
            Code::Aborted,
            "stale customer version",
        );
    }
    assert_eq!(w.snapshot().await, before);
    let proposed = w
        .create_handover(
            &h1,
            create_handover(handover(&c.customer_id, "", "e6", "e4"), c.version),
        )
        .await
        .expect("maker");
    // A master-data change between the steps does not block the hand-over...
    let renamed = w
        .client
        .update_customer(TestSuite::authed(
            v1::UpdateCustomerRequest {
                customer: Some(v1::Customer {
                    customer_id: c.customer_id.clone(),
                    name: "Renamed Firm".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["name".into()],
                }),
                expected_version: c.version,
            },
            &e1,
        ))
        .await
        .expect("rename")
        .into_inner()
        .customer
        .expect("customer");
    let before = w.snapshot().await;
    assert_code(
        w.approve_handover(&h3, &proposed.handover_id, 0).await,
        Code::Aborted,
        "stale hand-over version",
    );
    assert_eq!(
        w.snapshot().await,
        before,
        "an aborted approval writes nothing"
    );
    w.approve_handover(&h3, &proposed.handover_id, 1)
        .await
        .expect("approve");
    let after = w.get(&e1, &c.customer_id).await.expect("get");
    assert_eq!(after.version, renamed.version + 1);
    assert_eq!(after.name, "Renamed Firm");
    assert_eq!(after.primary_manager_id, "e6");
    // ...but the hand-over bumped the version, so an update made from the old read aborts.
    assert_code(
        w.client
            .update_customer(TestSuite::authed(
                v1::UpdateCustomerRequest {
                    customer: Some(v1::Customer {
                        customer_id: c.customer_id.clone(),
                        name: "Lost Update".into(),
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["name".into()],
                    }),
                    expected_version: renamed.version,
                },
                &e1,
            ))
            .await,
        Code::Aborted,
        "the hand-over moved the version",
    );
}

async fn a_leaving_managers_five_customers_move_in_one_step(backend: Backend) {
    let mut w = world(backend).await;
    let (e1, h1, h3, admin) = (w.e1.clone(), w.h1.clone(), w.h3.clone(), w.admin.clone());
    let mut theirs = Vec::new();
    for _ in 0..3 {
        theirs.push(w.customer("BJ01", "e1", "e4").await);
    }
    for _ in 0..2 {
        theirs.push(w.customer("BJ01", "e4", "e1").await);
    }
    let bystander = w.customer("BJ01", "e4", "e6").await;
    // Fill the cache of every customer.
    for c in &theirs {
        w.get(&admin, &c.customer_id).await.expect("warm");
    }

    // Slot BOTH moves only the post e1 holds: A of three customers, B of two.
    let proposed = w
        .create_reassignment(
            &h1,
            reassignment_request(leaving("e1", v1::ManagerSlot::Both, "e6", "e7")),
        )
        .await
        .expect("maker step");
    assert_eq!(proposed.customer_count, 5);
    assert_eq!(status_of(&proposed.approval), v1::ApprovalStatus::Pending);
    assert_eq!(proposed.source, Some(Source::FromEmployeeId("e1".into())));
    let rid = proposed.reassignment_id.clone();
    assert_code(
        w.create_reassignment(
            &h3,
            reassignment_request(leaving("e1", v1::ManagerSlot::Primary, "e6", "")),
        )
        .await,
        Code::FailedPrecondition,
        "the same source is pending",
    );
    assert_code(
        w.create_handover(
            &h1,
            create_handover(
                handover(&theirs[0].customer_id, "", "e6", "e4"),
                theirs[0].version,
            ),
        )
        .await,
        Code::FailedPrecondition,
        "a frozen customer is not handed over separately",
    );
    assert_code(
        w.approve_reassignment(&h1, &rid, 1).await,
        Code::PermissionDenied,
        "the maker approves",
    );
    assert_code(
        w.approve_reassignment(&w.sh_head.clone(), &rid, 1).await,
        Code::NotFound,
        "a head of another subtree",
    );
    assert_code(
        w.approve_reassignment(&e1, &rid, 1).await,
        Code::PermissionDenied,
        "no checker role",
    );
    assert_code(
        w.approve_reassignment(&h3, &rid, 9).await,
        Code::Aborted,
        "stale reassignment version",
    );
    let applied = w.approve_reassignment(&h3, &rid, 1).await.expect("checker");
    assert_eq!(status_of(&applied.approval), v1::ApprovalStatus::Approved);
    assert_eq!(applied.version, 2);

    let today = today();
    for (i, c) in theirs.iter().enumerate() {
        let after = w.get(&admin, &c.customer_id).await.expect("read back");
        let expected = if i < 3 { ("e6", "e4") } else { ("e4", "e7") };
        assert_eq!(
            (
                after.primary_manager_id.as_str(),
                after.backup_manager_id.as_str()
            ),
            expected,
            "customer {i}"
        );
        assert_eq!(after.owning_branch_id, "BJ01");
        assert_eq!(after.version, c.version + 1);
        let events = w.events(&c.customer_id).await;
        assert_eq!(events.len(), 1, "one event per customer");
        assert_eq!(events[0].change_source, format!("reassignment:{rid}"));
        let history = w.history(&admin, &c.customer_id).await;
        assert_eq!(history.len(), 2, "one new interval per customer");
        assert_eq!(history[0], events[0]);
        assert_eq!(
            history[0].effective.as_ref().and_then(|r| r.start_date),
            Some(date(today))
        );
    }
    let untouched = w.get(&admin, &bystander.customer_id).await.expect("get");
    assert_eq!(untouched.version, bystander.version);
    assert!(w.events(&bystander.customer_id).await.is_empty());
    let left = w
        .client
        .search_customers(TestSuite::authed(
            v1::SearchCustomersRequest {
                manager_employee_id: "e1".into(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("search")
        .into_inner()
        .customers;
    assert!(left.is_empty(), "e1 manages nobody now");
    assert_code(
        w.create_reassignment(
            &h1,
            reassignment_request(leaving("e1", v1::ManagerSlot::Both, "e6", "e7")),
        )
        .await,
        Code::FailedPrecondition,
        "nothing left to reassign",
    );
    let listed = w
        .client
        .list_reassignments(TestSuite::authed(
            v1::ListReassignmentsRequest {
                status: v1::ApprovalStatus::Approved as i32,
                ..Default::default()
            },
            &e1,
        ))
        .await
        .expect("list")
        .into_inner()
        .reassignments;
    assert_eq!(listed, vec![applied.clone()]);
    let got = w
        .client
        .get_reassignment(TestSuite::authed(
            v1::GetReassignmentRequest {
                reassignment_id: rid.clone(),
            },
            &e1,
        ))
        .await
        .expect("get")
        .into_inner()
        .reassignment;
    assert_eq!(got, Some(applied));
    assert_code(
        w.client
            .get_reassignment(TestSuite::authed(
                v1::GetReassignmentRequest {
                    reassignment_id: rid.clone(),
                },
                &w.e3.clone(),
            ))
            .await,
        Code::NotFound,
        "another subtree",
    );
    let actions = w.audit_actions(&rid).await;
    assert_eq!(
        actions,
        [
            "customer.reassignment.create",
            "customer.reassignment.approve"
        ]
    );
}

async fn a_closing_branch_moves_after_a_rejection_moved_nothing(backend: Backend) {
    let mut w = world(backend).await;
    let (h1, h3, e2) = (w.h1.clone(), w.h3.clone(), w.e2.clone());
    let a = w.customer("BJ0101", "e2", "e7").await;
    let b = w.customer("BJ0101", "e7", "e2").await;
    let elsewhere = w.customer("BJ01", "e1", "e4").await;
    let closing = v1::Reassignment {
        source: Some(Source::FromBranchId("BJ0101".into())),
        to_branch_id: "BJ01".into(),
        to_primary_manager_id: "e1".into(),
        to_backup_manager_id: "e4".into(),
        ..Default::default()
    };
    let first = w
        .create_reassignment(&h1, reassignment_request(closing.clone()))
        .await
        .expect("maker");
    assert_eq!(first.customer_count, 2);
    let before = w.snapshot().await;
    assert_names(
        w.reject_reassignment(&h3, &first.reassignment_id, 1, "")
            .await,
        "reason",
        "a rejection needs a reason",
    );
    assert_code(
        w.reject_reassignment(&h1, &first.reassignment_id, 1, "mine")
            .await,
        Code::PermissionDenied,
        "the maker rejects",
    );
    assert_eq!(w.snapshot().await, before);
    let rejected = w
        .reject_reassignment(&h3, &first.reassignment_id, 1, "wrong target branch")
        .await
        .expect("reject");
    assert_eq!(status_of(&rejected.approval), v1::ApprovalStatus::Rejected);
    for c in [&a, &b] {
        let same = w.get(&e2, &c.customer_id).await.expect("unchanged");
        assert_eq!(same.version, c.version);
        assert_eq!(same.owning_branch_id, "BJ0101");
        assert!(w.events(&c.customer_id).await.is_empty());
    }
    assert_code(
        w.approve_reassignment(&h3, &first.reassignment_id, 2).await,
        Code::FailedPrecondition,
        "a rejected reassignment stays rejected",
    );
    let second = w
        .create_reassignment(&h1, reassignment_request(closing))
        .await
        .expect("a new maker step after the rejection");
    w.approve_reassignment(&h3, &second.reassignment_id, 1)
        .await
        .expect("approve");
    for c in [&a, &b] {
        let moved = w.get(&h1, &c.customer_id).await.expect("moved");
        assert_eq!(
            (
                moved.owning_branch_id.as_str(),
                moved.primary_manager_id.as_str(),
                moved.backup_manager_id.as_str()
            ),
            ("BJ01", "e1", "e4")
        );
        let o = w.ownership(&h1, &c.customer_id, None).await.expect("now");
        assert_eq!(
            o.change_source,
            format!("reassignment:{}", second.reassignment_id)
        );
    }
    assert_eq!(
        w.get(&h1, &elsewhere.customer_id)
            .await
            .expect("get")
            .version,
        elsewhere.version
    );
}

async fn bad_input_names_the_field_and_writes_nothing(backend: Backend) {
    let mut w = world(backend).await;
    let c = w.customer("BJ01", "e1", "e4").await;
    let b_of = w.customer("BJ01", "e4", "e6").await;
    let id = c.customer_id.clone();
    let (e1, h1, h3, pm, admin) = (
        w.e1.clone(),
        w.h1.clone(),
        w.h3.clone(),
        w.pm.clone(),
        w.admin.clone(),
    );
    let pending = w
        .create_handover(
            &h1,
            create_handover(handover(&b_of.customer_id, "", "e6", "e4"), b_of.version),
        )
        .await
        .expect("a pending hand-over to decide badly");
    let hid = pending.handover_id.clone();
    let before = w.snapshot().await;
    let yesterday = today() - Duration::days(1);
    let unknown = "0190c0de-0000-7000-8000-000000000000";

    // GetOwnership, BatchGetOwnerships, ListOwnershipHistory.
    for (raw, case) in [("", "empty id"), ("nope", "not a uuid")] {
        assert_names(w.ownership(&e1, raw, None).await, "customer_id", case);
    }
    assert_names(
        w.client
            .get_ownership(TestSuite::authed(
                v1::GetOwnershipRequest {
                    customer_id: id.clone(),
                    as_of_date: Some(v1::Date {
                        year: 2025,
                        month: 13,
                        day: 1,
                    }),
                },
                &e1,
            ))
            .await,
        "as_of_date",
        "month 13",
    );
    assert_code(
        w.ownership(&e1, unknown, None).await,
        Code::NotFound,
        "unknown customer",
    );
    let query = |cid: &str, d: Option<v1::Date>| v1::OwnershipQuery {
        customer_id: cid.into(),
        as_of_date: d,
    };
    for (queries, field, case) in [
        (vec![], "queries", "no queries"),
        (
            vec![query(&id, Some(date(yesterday))); 1001],
            "queries",
            "too many queries",
        ),
        (
            vec![query(&id, Some(date(yesterday))), query(&id, None)],
            "queries[1].as_of_date",
            "a query without a date",
        ),
        (
            vec![query("x", Some(date(yesterday)))],
            "queries[0].customer_id",
            "a bad id",
        ),
    ] {
        assert_names(
            w.client
                .batch_get_ownerships(TestSuite::authed(
                    v1::BatchGetOwnershipsRequest { queries },
                    &e1,
                ))
                .await,
            field,
            case,
        );
    }
    for (size, token, field) in [
        (-1, "", "page_size"),
        (501, "", "page_size"),
        (0, "garbage!", "page_token"),
    ] {
        assert_names(
            w.client
                .list_ownership_history(TestSuite::authed(
                    v1::ListOwnershipHistoryRequest {
                        customer_id: id.clone(),
                        page_size: size,
                        page_token: token.into(),
                    },
                    &e1,
                ))
                .await,
            field,
            "history paging",
        );
    }

    // CreateHandover: the shape, then the facts.
    let ok = || create_handover(handover(&id, "", "e6", "e4"), 1);
    let mut cases: Vec<(v1::CreateHandoverRequest, &str, &str)> = Vec::new();
    let mut r = ok();
    r.handover = None;
    cases.push((r, "handover", "no hand-over"));
    let mut r = ok();
    r.reason = String::new();
    cases.push((r, "reason", "no reason"));
    let mut r = ok();
    r.reason = "x".repeat(501);
    cases.push((r, "reason", "reason too long"));
    let mut r = ok();
    r.expected_customer_version = -1;
    cases.push((r, "expected_customer_version", "negative version"));
    let with = |f: &dyn Fn(&mut v1::Handover)| {
        let mut r = ok();
        if let Some(h) = r.handover.as_mut() {
            f(h);
        }
        r
    };
    cases.push((
        with(&|h| h.customer_id = "x".into()),
        "handover.customer_id",
        "bad customer id",
    ));
    cases.push((
        with(&|h| h.to_primary_manager_id.clear()),
        "handover.to_primary_manager_id",
        "no A manager",
    ));
    cases.push((
        with(&|h| h.to_backup_manager_id.clear()),
        "handover.to_backup_manager_id",
        "no B manager",
    ));
    cases.push((
        with(&|h| h.to_backup_manager_id = "e6".into()),
        "handover.to_backup_manager_id",
        "A equals B",
    ));
    cases.push((
        with(&|h| h.effective_date = Some(date(yesterday))),
        "handover.effective_date",
        "in the past",
    ));
    cases.push((
        with(&|h| {
            h.effective_date = Some(v1::Date {
                year: 2025,
                month: 2,
                day: 30,
            })
        }),
        "handover.effective_date",
        "not a date",
    ));
    cases.push((
        with(&|h| h.to_branch_id = "bad/code".into()),
        "handover.to_branch_id",
        "malformed branch",
    ));
    cases.push((
        with(&|h| h.to_branch_id = "ZZ99".into()),
        "handover.to_branch_id",
        "unknown branch",
    ));
    cases.push((
        with(&|h| h.to_primary_manager_id = "gone".into()),
        "handover.to_primary_manager_id",
        "a manager who left",
    ));
    cases.push((
        with(&|h| h.to_primary_manager_id = "p1".into()),
        "handover.to_primary_manager_id",
        "not a customer manager",
    ));
    cases.push((
        with(&|h| h.to_backup_manager_id = "nobody".into()),
        "handover.to_backup_manager_id",
        "unknown employee",
    ));
    cases.push((
        with(&|h| h.to_primary_manager_id = "e3".into()),
        "handover.to_primary_manager_id",
        "a manager outside the branch's subtree",
    ));
    cases.push((
        with(&|h| {
            h.to_branch_id = "BJ0101".into();
            h.to_primary_manager_id = "e2".into();
        }),
        "handover.to_backup_manager_id",
        "the B manager is not under the new branch",
    ));
    cases.push((
        with(&|h| {
            h.to_primary_manager_id = "e1".into();
            h.to_backup_manager_id = "e4".into();
        }),
        "handover",
        "changes nothing",
    ));
    for (request, field, case) in cases {
        assert_names(w.create_handover(&h1, request).await, field, case);
    }
    assert_code(
        w.create_handover(&pm, ok()).await,
        Code::PermissionDenied,
        "a product manager makes no hand-over",
    );
    assert_code(
        w.create_handover(&w.e3.clone(), ok()).await,
        Code::NotFound,
        "a customer of another subtree",
    );
    assert_code(
        w.create_handover(&h1, create_handover(handover(unknown, "", "e6", "e4"), 1))
            .await,
        Code::NotFound,
        "unknown customer",
    );

    // Deciding, reading and listing hand-overs.
    for (raw, case) in [("", "empty id"), ("x", "not an id")] {
        assert_names(w.approve_handover(&h3, raw, 1).await, "handover_id", case);
        assert_names(
            w.client
                .get_handover(TestSuite::authed(
                    v1::GetHandoverRequest {
                        handover_id: raw.into(),
                    },
                    &h3,
                ))
                .await,
            "handover_id",
            case,
        );
    }
    assert_names(
        w.approve_handover(&h3, &hid, -1).await,
        "expected_version",
        "negative version",
    );
    assert_names(
        w.client
            .approve_handover(TestSuite::authed(
                v1::ApproveHandoverRequest {
                    handover_id: hid.clone(),
                    expected_version: 1,
                    reason: "y".repeat(501),
                },
                &h3,
            ))
            .await,
        "reason",
        "comment too long",
    );
    assert_code(
        w.approve_handover(&h3, unknown, 1).await,
        Code::NotFound,
        "unknown hand-over",
    );
    for (request, field, case) in [
        (
            v1::ListHandoversRequest {
                status: 99,
                ..Default::default()
            },
            "status",
            "unknown status",
        ),
        (
            v1::ListHandoversRequest {
                customer_id: "x".into(),
                ..Default::default()
            },
            "customer_id",
            "bad customer filter",
        ),
        (
            v1::ListHandoversRequest {
                branch_id: "bad/code".into(),
                ..Default::default()
            },
            "branch_id",
            "bad branch",
        ),
        (
            v1::ListHandoversRequest {
                page_size: 501,
                ..Default::default()
            },
            "page_size",
            "page too large",
        ),
    ] {
        assert_names(
            w.client
                .list_handovers(TestSuite::authed(request, &h1))
                .await,
            field,
            case,
        );
    }

    // CreateReassignment.
    let ok = || reassignment_request(leaving("e1", v1::ManagerSlot::Primary, "e6", ""));
    let mut cases: Vec<(v1::CreateReassignmentRequest, &str, &str)> = Vec::new();
    let mut r = ok();
    r.reassignment = None;
    cases.push((r, "reassignment", "no reassignment"));
    let mut r = ok();
    r.reason = " ".into();
    cases.push((r, "reason", "no reason"));
    let with = |f: &dyn Fn(&mut v1::Reassignment)| {
        let mut r = ok();
        if let Some(x) = r.reassignment.as_mut() {
            f(x);
        }
        r
    };
    cases.push((
        with(&|x| x.source = None),
        "reassignment.source",
        "no source",
    ));
    cases.push((
        with(&|x| x.source = Some(Source::FromEmployeeId(String::new()))),
        "reassignment.from_employee_id",
        "empty employee",
    ));
    cases.push((
        with(&|x| x.source = Some(Source::FromBranchId("bad/code".into()))),
        "reassignment.from_branch_id",
        "malformed branch",
    ));
    cases.push((
        with(&|x| x.slot = 0),
        "reassignment.slot",
        "no slot for a leaving manager",
    ));
    cases.push((with(&|x| x.slot = 42), "reassignment.slot", "unknown slot"));
    cases.push((
        with(&|x| x.to_primary_manager_id.clear()),
        "reassignment.to_primary_manager_id",
        "slot PRIMARY without a new A",
    ));
    cases.push((
        with(&|x| x.to_backup_manager_id = "e7".into()),
        "reassignment.to_backup_manager_id",
        "slot PRIMARY with a new B",
    ));
    cases.push((
        with(&|x| x.to_primary_manager_id = "e1".into()),
        "reassignment.to_primary_manager_id",
        "the source is the target",
    ));
    cases.push((
        with(&|x| {
            x.slot = v1::ManagerSlot::Both as i32;
            x.to_backup_manager_id = "e6".into();
        }),
        "reassignment.to_backup_manager_id",
        "A equals B",
    ));
    cases.push((
        with(&|x| x.effective_date = Some(date(yesterday))),
        "reassignment.effective_date",
        "in the past",
    ));
    cases.push((
        with(&|x| x.to_branch_id = "ZZ99".into()),
        "reassignment.to_branch_id",
        "unknown target branch",
    ));
    cases.push((
        with(&|x| x.to_primary_manager_id = "gone".into()),
        "reassignment.to_primary_manager_id",
        "a target who left",
    ));
    cases.push((
        with(&|x| x.to_primary_manager_id = "e3".into()),
        "reassignment.to_primary_manager_id",
        "a target outside the subtree",
    ));
    cases.push((
        with(&|x| x.to_primary_manager_id = "e4".into()),
        "reassignment.to_primary_manager_id",
        "the new A is already the customer's B",
    ));
    cases.push((
        with(&|x| {
            x.source = Some(Source::FromBranchId("BJ01".into()));
            x.to_backup_manager_id = "e7".into();
        }),
        "reassignment.to_branch_id",
        "a closing branch without a target branch",
    ));
    cases.push((
        with(&|x| {
            x.source = Some(Source::FromBranchId("BJ01".into()));
            x.to_branch_id = "BJ01".into();
            x.to_backup_manager_id = "e7".into();
        }),
        "reassignment.to_branch_id",
        "the target branch is the closing branch",
    ));
    for (request, field, case) in cases {
        assert_names(w.create_reassignment(&h1, request).await, field, case);
    }
    assert_code(
        w.create_reassignment(&e1, ok()).await,
        Code::PermissionDenied,
        "a customer manager makes no reassignment",
    );
    assert_code(
        w.create_reassignment(
            &h1,
            reassignment_request(leaving("nobody", v1::ManagerSlot::Primary, "e6", "")),
        )
        .await,
        Code::NotFound,
        "unknown leaving manager",
    );
    assert_code(
        w.create_reassignment(
            &h1,
            reassignment_request(v1::Reassignment {
                source: Some(Source::FromBranchId("ZZ99".into())),
                to_branch_id: "BJ01".into(),
                to_primary_manager_id: "e1".into(),
                to_backup_manager_id: "e4".into(),
                ..Default::default()
            }),
        )
        .await,
        Code::NotFound,
        "unknown closing branch",
    );
    assert_code(
        w.create_reassignment(
            &w.sh_head.clone(),
            reassignment_request(leaving("e1", v1::ManagerSlot::Primary, "e6", "")),
        )
        .await,
        Code::PermissionDenied,
        "another subtree's head",
    );
    for (raw, case) in [("", "empty id"), ("x", "not an id")] {
        assert_names(
            w.approve_reassignment(&h3, raw, 1).await,
            "reassignment_id",
            case,
        );
        assert_names(
            w.reject_reassignment(&h3, raw, 1, "no").await,
            "reassignment_id",
            case,
        );
        assert_names(
            w.client
                .get_reassignment(TestSuite::authed(
                    v1::GetReassignmentRequest {
                        reassignment_id: raw.into(),
                    },
                    &h3,
                ))
                .await,
            "reassignment_id",
            case,
        );
    }
    assert_code(
        w.approve_reassignment(&h3, unknown, 1).await,
        Code::NotFound,
        "unknown reassignment",
    );
    for (request, field) in [
        (
            v1::ListReassignmentsRequest {
                status: 77,
                ..Default::default()
            },
            "status",
        ),
        (
            v1::ListReassignmentsRequest {
                page_size: -5,
                ..Default::default()
            },
            "page_size",
        ),
        (
            v1::ListReassignmentsRequest {
                page_token: "garbage!".into(),
                ..Default::default()
            },
            "page_token",
        ),
    ] {
        assert_names(
            w.client
                .list_reassignments(TestSuite::authed(request, &admin))
                .await,
            field,
            "list reassignments",
        );
    }
    assert_eq!(
        w.snapshot().await,
        before,
        "no refused request wrote anything"
    );
}

bankmkt_e2e::on_both_backends!(
    a_handover_needs_two_people_and_applies_from_its_date,
    a_transfer_across_subtrees_needs_authority_over_both,
    rejection_changes_nothing,
    stale_versions_abort_and_change_nothing,
    a_leaving_managers_five_customers_move_in_one_step,
    a_closing_branch_moves_after_a_rejection_moved_nothing,
    bad_input_names_the_field_and_writes_nothing,
);
