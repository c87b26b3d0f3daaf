//! Customer lifecycle through gRPC on both backends: stage transitions along DOMAIN.md §2's state
//! machine (refused moves answer FAILED_PRECONDITION and change nothing), optimistic concurrency
//! and idempotent retries, the stage read back through the cache, the history with actor, time
//! and reason listed newest first, the audit entry and the `customer.stage_changed` outbox event
//! written with each move, access by role and subtree, bad input naming its field, and the
//! problem-customer ratio rolled up the branch tree with its 3% alert.

use bankmkt_domain::customer::uscc_check_char;
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_platform::settings::ServiceKind;
use bankmkt_platform::{audit, outbox};
use bankmkt_proto::v1;
use bankmkt_proto::v1::LifecycleStage as S;
use bankmkt_proto::v1::customer_registry_client::CustomerRegistryClient;
use prost::Message;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Statement,
};
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// A valid unified social credit code with a varying body.
fn uscc(serial: u32) -> String {
    let body = format!("91440300M{:08}", 200_000 + serial);
    format!("{body}{}", uscc_check_char(&body).expect("check char"))
}

struct World {
    suite: TestSuite,
    client: CustomerRegistryClient<Channel>,
    admin: String,
    /// Customer manager at BJ01.
    e1: String,
    /// Customer manager at SH01 (another subtree).
    e3: String,
    /// Branch head of BJ.
    bj_head: String,
    /// Branch head of SH.
    sh_head: String,
    /// The batch caller.
    batch: String,
    auditor: String,
    /// A product manager at BJ01: sees BJ01 customers but may not move them.
    pm: String,
    serial: u32,
}

async fn world(backend: Backend) -> World {
    world_with(backend, |_| {}).await
}

async fn world_with(
    backend: Backend,
    adjust: impl FnOnce(&mut bankmkt_platform::settings::Settings),
) -> World {
    use v1::BranchLevel::*;
    let suite = TestSuite::start_on(backend, adjust).await;
    let mut client = CustomerRegistryClient::new(suite.channel("customer-registry").await);
    let admin = suite.token("admin1", "HQ", &["admin"]);
    let branch = |id: &str, parent: &str, level: v1::BranchLevel| v1::Branch {
        branch_id: id.into(),
        parent_id: parent.into(),
        level: level as i32,
        name: format!("{id} branch"),
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
                    employee("e4", "BJ01"),
                    employee("e3", "SH01"),
                    employee("e5", "SH01"),
                ],
            },
            &admin,
        ))
        .await
        .expect("staff");
    World {
        e1: suite.token("e1", "BJ01", &["customer_manager"]),
        e3: suite.token("e3", "SH01", &["customer_manager"]),
        bj_head: suite.token("h1", "BJ", &["branch_head"]),
        sh_head: suite.token("h2", "SH", &["branch_head"]),
        batch: suite.token("nightly", "HQ", &["batch"]),
        auditor: suite.token("au1", "HQ", &["auditor"]),
        pm: suite.token("p1", "BJ01", &["product_manager"]),
        admin,
        suite,
        client,
        serial: 0,
    }
}

impl World {
    /// Creates a corporate customer owned by `branch` (BJ01 or SH01); it starts as potential.
    async fn customer(&mut self, branch: &str) -> v1::Customer {
        self.serial += 1;
        let (a, b) = if branch == "SH01" {
            ("e3", "e5")
        } else {
            ("e1", "e4")
        };
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

    async fn send(
        &mut self,
        token: &str,
        request: v1::TransitionLifecycleStageRequest,
    ) -> Result<v1::TransitionLifecycleStageResponse, Status> {
        self.client
            .transition_lifecycle_stage(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner())
    }

    /// Moves `customer_id` to `to` without a version check or key.
    async fn move_to(
        &mut self,
        token: &str,
        customer_id: &str,
        to: S,
    ) -> Result<v1::TransitionLifecycleStageResponse, Status> {
        self.send(token, request(customer_id, to, 0)).await
    }

    /// Walks a potential customer up to `new` and into `problem`.
    async fn make_problem(&mut self, customer_id: &str) {
        let e = self.admin.clone();
        for to in [S::Target, S::New, S::Problem] {
            self.move_to(&e, customer_id, to).await.expect("walk");
        }
    }

    async fn history(
        &mut self,
        token: &str,
        request: v1::ListLifecycleTransitionsRequest,
    ) -> Result<v1::ListLifecycleTransitionsResponse, Status> {
        self.client
            .list_lifecycle_transitions(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner())
    }

    async fn ratios(
        &mut self,
        token: &str,
        request: v1::ListProblemCustomerRatiosRequest,
    ) -> Result<v1::ListProblemCustomerRatiosResponse, Status> {
        self.client
            .list_problem_customer_ratios(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner())
    }

    async fn get(&mut self, token: &str, customer_id: &str) -> v1::Customer {
        self.client
            .get_customer(TestSuite::authed(
                v1::GetCustomerRequest {
                    customer_id: customer_id.into(),
                },
                token,
            ))
            .await
            .expect("get")
            .into_inner()
            .customer
            .expect("customer")
    }

    async fn db(&self) -> sea_orm::DatabaseConnection {
        bankmkt_platform::db::connect(&self.suite.settings(), ServiceKind::Registry)
            .await
            .expect("connect")
    }

    /// The stage-change events and the transition audit entries of a customer.
    async fn records(&self, customer_id: &str) -> (Vec<outbox::entity::Model>, u64) {
        let db = self.db().await;
        let events = outbox::entity::Entity::find()
            .filter(outbox::entity::Column::AggregateId.eq(customer_id))
            .filter(outbox::entity::Column::EventType.eq("customer.stage_changed"))
            .order_by_asc(outbox::entity::Column::Seq)
            .all(&db)
            .await
            .expect("outbox");
        let entries = audit::entity::Entity::find()
            .filter(audit::entity::Column::TargetId.eq(customer_id))
            .filter(audit::entity::Column::Action.eq("customer.stage.transition"))
            .count(&db)
            .await
            .expect("audit");
        (events, entries)
    }

    /// Row counts of every registry table, plus every customer's stage and version and every
    /// history row: equal snapshots mean nothing was written.
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
        assert!(tables.iter().any(|t| t == "lifecycle_transition"));
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
        for row in db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT customer_id, stage, version FROM customer ORDER BY customer_id",
            ))
            .await
            .expect("customers")
        {
            out.push(format!(
                "{}:{}:{}",
                row.try_get::<String>("", "customer_id").expect("id"),
                row.try_get::<String>("", "stage").expect("stage"),
                row.try_get::<i64>("", "version").expect("version"),
            ));
        }
        for row in bankmkt_customer_registry::lifecycle::lifecycle_transition::Entity::find()
            .order_by_asc(bankmkt_customer_registry::lifecycle::lifecycle_transition::Column::Seq)
            .all(&db)
            .await
            .expect("history")
        {
            out.push(format!("{row:?}"));
        }
        out
    }
}

fn request(customer_id: &str, to: S, expected_version: i64) -> v1::TransitionLifecycleStageRequest {
    v1::TransitionLifecycleStageRequest {
        idempotency_key: String::new(),
        customer_id: customer_id.into(),
        to_stage: to as i32,
        reason: format!("moving to {}", to.as_str_name()),
        expected_version,
    }
}

fn by_customer(customer_id: &str) -> v1::ListLifecycleTransitionsRequest {
    v1::ListLifecycleTransitionsRequest {
        customer_id: customer_id.into(),
        ..Default::default()
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

fn to_stages(response: &v1::ListLifecycleTransitionsResponse) -> Vec<i32> {
    response.transitions.iter().map(|t| t.to_stage).collect()
}

async fn stages_move_along_the_chain_with_history_audit_and_events(backend: Backend) {
    let mut w = world(backend).await;
    let e1 = w.e1.clone();
    let c = w.customer("BJ01").await;
    let id = c.customer_id.clone();
    assert_eq!(c.stage, S::Potential as i32);
    // Fill the cache; every transition must be read back, not the cached stage.
    assert_eq!(w.get(&e1, &id).await.stage, S::Potential as i32);

    let chain = [S::Target, S::New, S::Established, S::Core, S::Strategic];
    let mut version = c.version;
    let mut recorded = Vec::new();
    let mut from = S::Potential;
    for to in chain {
        let mut req = request(&id, to, version);
        req.reason = format!("won step {}", to.as_str_name());
        let done = w.send(&e1, req).await.expect("upgrade");
        let t = done.transition.expect("transition");
        let customer = done.customer.expect("customer");
        assert_eq!(
            (t.from_stage, t.to_stage, t.upgrade),
            (from as i32, to as i32, true)
        );
        assert_eq!(t.customer_id, id);
        assert!(!t.transition_id.is_empty());
        let stamp = t.stamp.clone().expect("stamp");
        assert_eq!(stamp.actor_id, "e1");
        assert_eq!(stamp.reason, format!("won step {}", to.as_str_name()));
        assert!(stamp.time.is_some());
        assert_eq!(customer.stage, to as i32);
        assert_eq!(customer.version, version + 1);
        assert!(!customer.pii_masked, "e1 is the A manager");
        version += 1;
        assert_eq!(
            w.get(&e1, &id).await.stage,
            to as i32,
            "read back through the cache"
        );
        recorded.push(t);
        from = to;
    }
    // One step down from strategic partner is allowed and is not an upgrade.
    let down = w
        .send(&e1, request(&id, S::Core, version))
        .await
        .expect("down")
        .transition
        .expect("transition");
    assert!(!down.upgrade);
    recorded.push(down);
    assert_eq!(w.get(&e1, &id).await.version, version + 1);

    // History: newest first, every field as recorded.
    let all = w.history(&e1, by_customer(&id)).await.expect("history");
    let mut newest_first = recorded.clone();
    newest_first.reverse();
    assert_eq!(all.transitions, newest_first);
    assert!(all.next_page_token.is_empty());

    // Paging gives the same rows in the same order.
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let mut req = by_customer(&id);
        req.page_size = 4;
        req.page_token = token;
        let page = w.history(&e1, req).await.expect("page");
        assert!(page.transitions.len() <= 4);
        paged.extend(page.transitions);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(paged, newest_first);

    // Filters: upgrades only, by target stage, by time (start inclusive, end exclusive).
    let mut req = by_customer(&id);
    req.upgrades_only = true;
    let ups = w.history(&e1, req).await.expect("upgrades");
    assert_eq!(
        to_stages(&ups),
        [S::Strategic, S::Core, S::Established, S::New, S::Target].map(|s| s as i32)
    );
    let mut req = by_customer(&id);
    req.to_stage = S::Core as i32;
    let cores = w.history(&e1, req).await.expect("to core");
    assert_eq!(cores.transitions.len(), 2);
    assert!(
        cores
            .transitions
            .iter()
            .all(|t| t.to_stage == S::Core as i32)
    );
    let third = recorded[2].stamp.clone().expect("stamp").time;
    let mut req = by_customer(&id);
    req.start_time = third;
    let later = w.history(&e1, req).await.expect("since");
    assert_eq!(
        to_stages(&later),
        [S::Core, S::Strategic, S::Core, S::Established].map(|s| s as i32)
    );
    let mut req = by_customer(&id);
    req.end_time = third;
    let earlier = w.history(&e1, req).await.expect("before");
    assert_eq!(to_stages(&earlier), [S::New, S::Target].map(|s| s as i32));

    // The subtree listing: BJ sees it, SH does not; the caller's own branch by default.
    let bj_head = w.bj_head.clone();
    let bj = w
        .history(
            &bj_head,
            v1::ListLifecycleTransitionsRequest {
                branch_id: "BJ".into(),
                ..Default::default()
            },
        )
        .await
        .expect("BJ");
    assert_eq!(bj.transitions, newest_first);
    let own = w
        .history(&e1, v1::ListLifecycleTransitionsRequest::default())
        .await
        .expect("own branch");
    assert_eq!(own.transitions.len(), 6);
    let admin = w.admin.clone();
    let sh = w
        .history(
            &admin,
            v1::ListLifecycleTransitionsRequest {
                branch_id: "SH".into(),
                ..Default::default()
            },
        )
        .await
        .expect("SH");
    assert!(sh.transitions.is_empty());

    // One audit entry and one outbox event per transition, the event carrying from and to.
    let (events, entries) = w.records(&id).await;
    assert_eq!((events.len(), entries), (6, 6));
    for (event, t) in events.iter().zip(&recorded) {
        let payload = v1::LifecycleTransition::decode(event.payload.as_slice()).expect("payload");
        assert_eq!(&payload, t);
        assert_eq!(event.aggregate_type, "customer");
    }
    assert_eq!(
        events.last().map(|e| e.aggregate_version),
        Some(version + 1)
    );
    w.suite.stop().await;
}

async fn disallowed_moves_fail_and_change_nothing(backend: Backend) {
    let mut w = world(backend).await;
    let e1 = w.e1.clone();
    let c = w.customer("BJ01").await;
    let id = c.customer_id.clone();
    w.move_to(&e1, &id, S::Exited).await.expect("exit");

    // From exited, only win-back to potential is allowed.
    let before = w.snapshot().await;
    for to in [
        S::Target,
        S::New,
        S::Established,
        S::Core,
        S::Strategic,
        S::Problem,
        S::Exited,
    ] {
        let err = w.move_to(&e1, &id, to).await.expect_err("refused");
        assert_eq!(
            err.code(),
            Code::FailedPrecondition,
            "exited -> {to:?}: {err:?}"
        );
        assert!(
            err.message().contains("potential"),
            "names what is allowed: {}",
            err.message()
        );
    }
    assert_eq!(w.snapshot().await, before, "refused moves write nothing");
    let back = w
        .move_to(&e1, &id, S::Potential)
        .await
        .expect("win-back")
        .transition
        .expect("transition");
    assert_eq!(
        (back.from_stage, back.to_stage, back.upgrade),
        (S::Exited as i32, S::Potential as i32, false)
    );

    // From potential: no skipping up, no problem for a prospect.
    for to in [
        S::New,
        S::Established,
        S::Core,
        S::Strategic,
        S::Problem,
        S::Potential,
    ] {
        let err = w.move_to(&e1, &id, to).await.expect_err("refused");
        assert_eq!(err.code(), Code::FailedPrecondition, "potential -> {to:?}");
    }

    // From problem: only established or exited.
    w.make_problem(&id).await;
    let before = w.snapshot().await;
    for to in [
        S::Potential,
        S::Target,
        S::New,
        S::Core,
        S::Strategic,
        S::Problem,
    ] {
        let err = w.move_to(&e1, &id, to).await.expect_err("refused");
        assert_eq!(err.code(), Code::FailedPrecondition, "problem -> {to:?}");
    }
    assert_eq!(w.snapshot().await, before);
    w.move_to(&e1, &id, S::Established)
        .await
        .expect("problem -> established");

    let history = w.history(&e1, by_customer(&id)).await.expect("history");
    assert_eq!(
        to_stages(&history),
        [
            S::Established,
            S::Problem,
            S::New,
            S::Target,
            S::Potential,
            S::Exited
        ]
        .map(|s| s as i32)
    );
    assert_eq!(w.get(&e1, &id).await.version, 7);
    w.suite.stop().await;
}

async fn stale_versions_abort_and_retries_replay(backend: Backend) {
    let mut w = world(backend).await;
    let e1 = w.e1.clone();
    let c = w.customer("BJ01").await;
    let id = c.customer_id.clone();
    let before = w.snapshot().await;
    let err = w
        .send(&e1, request(&id, S::Target, c.version + 1))
        .await
        .expect_err("stale");
    assert_eq!(err.code(), Code::Aborted);
    assert_eq!(w.snapshot().await, before, "a stale write changes nothing");

    // A keyed request: the retry returns the stored transition and writes nothing more.
    let mut keyed = request(&id, S::Target, c.version);
    keyed.idempotency_key = "promote-1".into();
    let first = w.send(&e1, keyed.clone()).await.expect("first");
    let after_first = w.snapshot().await;
    let again = w.send(&e1, keyed.clone()).await.expect("replay");
    assert_eq!(again.transition, first.transition);
    assert_eq!(
        again.customer.as_ref().map(|c| (c.stage, c.version)),
        Some((S::Target as i32, c.version + 1))
    );
    assert_eq!(w.snapshot().await, after_first, "a replay changes nothing");
    // The same key with another request is refused.
    let mut other = keyed.clone();
    other.reason = "another reason".into();
    assert_names(w.send(&e1, other).await, "idempotency_key", "key reuse");
    // The old version now answers ABORTED.
    let err = w
        .send(&e1, request(&id, S::New, c.version))
        .await
        .expect_err("stale");
    assert_eq!(err.code(), Code::Aborted);

    // Batch callers must send a key.
    let batch = w.batch.clone();
    assert_names(
        w.send(&batch, request(&id, S::New, 0)).await,
        "idempotency_key",
        "batch without a key",
    );
    let mut keyed = request(&id, S::New, 0);
    keyed.idempotency_key = "nightly-1".into();
    let done = w.send(&batch, keyed).await.expect("batch");
    assert_eq!(
        done.transition
            .expect("transition")
            .stamp
            .expect("stamp")
            .actor_id,
        "nightly"
    );
    assert_eq!(
        w.snapshot().await.len(),
        after_first.len() + 1,
        "one more history row"
    );
    w.suite.stop().await;
}

async fn only_permitted_callers_in_the_subtree_move_a_customer(backend: Backend) {
    let mut w = world(backend).await;
    let c = w.customer("BJ01").await;
    let id = c.customer_id.clone();
    let before = w.snapshot().await;
    let e3 = w.e3.clone();
    let sh_head = w.sh_head.clone();
    for token in [&e3, &sh_head] {
        let err = w
            .move_to(token, &id, S::Target)
            .await
            .expect_err("other subtree");
        assert_eq!(err.code(), Code::NotFound);
    }
    let pm = w.pm.clone();
    let auditor = w.auditor.clone();
    for token in [&pm, &auditor] {
        let err = w.move_to(token, &id, S::Target).await.expect_err("role");
        assert_eq!(err.code(), Code::PermissionDenied);
    }
    let admin = w.admin.clone();
    let missing = w
        .move_to(&admin, "0190a8d2-7c1e-7000-8000-000000000000", S::Target)
        .await
        .expect_err("unknown");
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(w.snapshot().await, before);

    // The branch head of BJ, the customer manager and the admin may.
    let bj_head = w.bj_head.clone();
    let e1 = w.e1.clone();
    w.move_to(&bj_head, &id, S::Target)
        .await
        .expect("branch head");
    w.move_to(&e1, &id, S::New).await.expect("manager");
    w.move_to(&admin, &id, S::Established).await.expect("admin");

    // Reads follow the subtree too.
    let err = w.history(&e3, by_customer(&id)).await.expect_err("hidden");
    assert_eq!(err.code(), Code::NotFound);
    let err = w
        .history(
            &e3,
            v1::ListLifecycleTransitionsRequest {
                branch_id: "BJ".into(),
                ..Default::default()
            },
        )
        .await
        .expect_err("hidden subtree");
    assert_eq!(err.code(), Code::NotFound);
    let own = w
        .history(&e3, v1::ListLifecycleTransitionsRequest::default())
        .await
        .expect("own subtree");
    assert!(own.transitions.is_empty());
    let seen = w
        .history(&auditor, by_customer(&id))
        .await
        .expect("auditor reads");
    let actors: Vec<String> = seen
        .transitions
        .iter()
        .map(|t| t.stamp.clone().expect("stamp").actor_id)
        .collect();
    assert_eq!(actors, ["admin1", "e1", "h1"]);
    w.suite.stop().await;
}

async fn bad_input_names_the_field_and_writes_nothing(backend: Backend) {
    let mut w = world(backend).await;
    let e1 = w.e1.clone();
    let c = w.customer("BJ01").await;
    let id = c.customer_id.clone();
    let before = w.snapshot().await;

    let good = || request(&id, S::Target, 1);
    let mut cases: Vec<(v1::TransitionLifecycleStageRequest, &str)> = Vec::new();
    let mut r = good();
    r.customer_id = String::new();
    cases.push((r, "customer_id"));
    let mut r = good();
    r.customer_id = "not-a-uuid".into();
    cases.push((r, "customer_id"));
    let mut r = good();
    r.to_stage = 0;
    cases.push((r, "to_stage"));
    let mut r = good();
    r.to_stage = 99;
    cases.push((r, "to_stage"));
    let mut r = good();
    r.reason = String::new();
    cases.push((r, "reason"));
    let mut r = good();
    r.reason = "   ".into();
    cases.push((r, "reason"));
    let mut r = good();
    r.reason = "理".repeat(501);
    cases.push((r, "reason"));
    let mut r = good();
    r.expected_version = -1;
    cases.push((r, "expected_version"));
    let mut r = good();
    r.idempotency_key = "k".repeat(129);
    cases.push((r, "idempotency_key"));
    let mut r = good();
    r.idempotency_key = "key with spaces".into();
    cases.push((r, "idempotency_key"));
    for (i, (req, field)) in cases.into_iter().enumerate() {
        assert_names(
            w.send(&e1, req).await,
            field,
            &format!("transition case {i}"),
        );
    }
    // Every bad field is named at once.
    let err = w
        .send(
            &e1,
            v1::TransitionLifecycleStageRequest {
                idempotency_key: "bad key".into(),
                customer_id: String::new(),
                to_stage: 42,
                reason: String::new(),
                expected_version: -3,
            },
        )
        .await
        .expect_err("all bad");
    assert_eq!(
        fields(&err),
        [
            "idempotency_key",
            "customer_id",
            "to_stage",
            "reason",
            "expected_version"
        ]
    );

    let list_cases: Vec<(v1::ListLifecycleTransitionsRequest, &str)> = vec![
        (
            v1::ListLifecycleTransitionsRequest {
                customer_id: "nope".into(),
                ..Default::default()
            },
            "customer_id",
        ),
        (
            v1::ListLifecycleTransitionsRequest {
                branch_id: "BJ 01".into(),
                ..Default::default()
            },
            "branch_id",
        ),
        (
            v1::ListLifecycleTransitionsRequest {
                page_size: -1,
                ..Default::default()
            },
            "page_size",
        ),
        (
            v1::ListLifecycleTransitionsRequest {
                page_size: 501,
                ..Default::default()
            },
            "page_size",
        ),
        (
            v1::ListLifecycleTransitionsRequest {
                page_token: "garbage!".into(),
                ..Default::default()
            },
            "page_token",
        ),
        (
            v1::ListLifecycleTransitionsRequest {
                to_stage: 99,
                ..Default::default()
            },
            "to_stage",
        ),
        (
            v1::ListLifecycleTransitionsRequest {
                start_time: Some(prost_types::Timestamp {
                    seconds: 1_700_000_000,
                    nanos: -5,
                }),
                ..Default::default()
            },
            "start_time",
        ),
        (
            v1::ListLifecycleTransitionsRequest {
                start_time: Some(prost_types::Timestamp {
                    seconds: 1_700_000_000,
                    nanos: 0,
                }),
                end_time: Some(prost_types::Timestamp {
                    seconds: 1_600_000_000,
                    nanos: 0,
                }),
                ..Default::default()
            },
            "end_time",
        ),
    ];
    for (i, (req, field)) in list_cases.into_iter().enumerate() {
        assert_names(w.history(&e1, req).await, field, &format!("list case {i}"));
    }
    assert_eq!(w.snapshot().await, before, "refused requests write nothing");
    // A page token is bound to its filters.
    for _ in 0..2 {
        w.move_to(&e1, &id, S::Target).await.ok();
        w.move_to(&e1, &id, S::Potential).await.ok();
    }
    let mut req = by_customer(&id);
    req.page_size = 1;
    let token = w.history(&e1, req).await.expect("page").next_page_token;
    assert!(!token.is_empty());
    let mut req = by_customer(&id);
    req.page_size = 1;
    req.page_token = token;
    req.upgrades_only = true;
    assert_names(w.history(&e1, req).await, "page_token", "other filters");
    let before = w.snapshot().await;

    let ratio_cases: Vec<(v1::ListProblemCustomerRatiosRequest, &str)> = vec![
        (
            v1::ListProblemCustomerRatiosRequest {
                max_depth: -1,
                ..Default::default()
            },
            "max_depth",
        ),
        (
            v1::ListProblemCustomerRatiosRequest {
                branch_id: "??".into(),
                ..Default::default()
            },
            "branch_id",
        ),
        (
            v1::ListProblemCustomerRatiosRequest {
                page_size: 1000,
                ..Default::default()
            },
            "page_size",
        ),
        (
            v1::ListProblemCustomerRatiosRequest {
                page_token: "%%".into(),
                ..Default::default()
            },
            "page_token",
        ),
    ];
    for (i, (req, field)) in ratio_cases.into_iter().enumerate() {
        assert_names(w.ratios(&e1, req).await, field, &format!("ratio case {i}"));
    }
    let unknown = w
        .ratios(
            &e1,
            v1::ListProblemCustomerRatiosRequest {
                branch_id: "GZ".into(),
                ..Default::default()
            },
        )
        .await
        .expect_err("unknown branch");
    assert_eq!(unknown.code(), Code::NotFound);
    let unknown = w
        .history(&e1, by_customer("0190a8d2-7c1e-7000-8000-000000000000"))
        .await
        .expect_err("unknown customer");
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(
        w.snapshot().await,
        before,
        "reads and refusals write nothing"
    );
    w.suite.stop().await;
}

async fn problem_ratios_roll_up_the_tree_and_alert_above_three_percent(backend: Backend) {
    let mut w = world(backend).await;
    // BJ01: 1 problem customer in 20 (5%, alert). SH01: 1 in 40 (2.5%, no alert), plus an exited
    // customer outside the book.
    let mut bj = Vec::new();
    for _ in 0..20 {
        bj.push(w.customer("BJ01").await.customer_id);
    }
    let mut sh = Vec::new();
    for _ in 0..41 {
        sh.push(w.customer("SH01").await.customer_id);
    }
    w.make_problem(&bj[0]).await;
    w.make_problem(&sh[0]).await;
    let admin = w.admin.clone();
    w.move_to(&admin, &sh[40], S::Exited).await.expect("exit");
    // A non-problem move elsewhere in the book does not count.
    w.move_to(&admin, &bj[1], S::Target).await.expect("target");

    type Row = (String, i32, i64, i64, i32, i32, bool);
    let rows = |r: &v1::ListProblemCustomerRatiosResponse| -> Vec<Row> {
        r.ratios
            .iter()
            .map(|x| {
                let b = x.branch.clone().expect("branch");
                (
                    b.branch_id,
                    b.level,
                    x.book_count,
                    x.problem_count,
                    x.ratio_bps,
                    x.threshold_bps,
                    x.alert,
                )
            })
            .collect()
    };
    use v1::BranchLevel::*;
    let row = |id: &str, level: v1::BranchLevel, book, problem, bps, alert| -> Row {
        (id.into(), level as i32, book, problem, bps, 300, alert)
    };
    let all = w
        .ratios(
            &admin,
            v1::ListProblemCustomerRatiosRequest {
                branch_id: "HQ".into(),
                max_depth: 2,
                ..Default::default()
            },
        )
        .await
        .expect("ratios");
    assert_eq!(
        rows(&all),
        [
            row("HQ", HeadOffice, 60, 2, 333, true),
            row("BJ", Tier1Branch, 20, 1, 500, true),
            row("BJ01", Tier2Branch, 20, 1, 500, true),
            row("SH", Tier1Branch, 40, 1, 250, false),
            row("SH01", Tier2Branch, 40, 1, 250, false),
        ]
    );
    assert_eq!(
        all.ratios[0].branch.as_ref().map(|b| b.name.as_str()),
        Some("HQ branch")
    );
    assert!(all.next_page_token.is_empty());

    // Deeper levels: an empty book is 0 bp and no alert.
    let deep = w
        .ratios(
            &admin,
            v1::ListProblemCustomerRatiosRequest {
                branch_id: "BJ".into(),
                max_depth: 5,
                ..Default::default()
            },
        )
        .await
        .expect("deep");
    assert_eq!(
        rows(&deep),
        [
            row("BJ", Tier1Branch, 20, 1, 500, true),
            row("BJ01", Tier2Branch, 20, 1, 500, true),
            row("BJ0101", SubBranch, 0, 0, 0, false),
        ]
    );

    // Alerts only, and paging that gives the same rows.
    let alerts = w
        .ratios(
            &admin,
            v1::ListProblemCustomerRatiosRequest {
                branch_id: "HQ".into(),
                max_depth: 3,
                alerts_only: true,
                ..Default::default()
            },
        )
        .await
        .expect("alerts");
    let ids: Vec<String> = rows(&alerts).into_iter().map(|r| r.0).collect();
    assert_eq!(ids, ["HQ", "BJ", "BJ01"]);
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page = w
            .ratios(
                &admin,
                v1::ListProblemCustomerRatiosRequest {
                    branch_id: "HQ".into(),
                    max_depth: 2,
                    page_size: 2,
                    page_token: token,
                    ..Default::default()
                },
            )
            .await
            .expect("page");
        assert!(page.ratios.len() <= 2);
        paged.extend(rows(&page));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(paged, rows(&all));

    // A manager sees their own subtree (the root only at depth 0) and not another one.
    let e3 = w.e3.clone();
    let own = w
        .ratios(&e3, v1::ListProblemCustomerRatiosRequest::default())
        .await
        .expect("own");
    assert_eq!(rows(&own), [row("SH01", Tier2Branch, 40, 1, 250, false)]);
    let err = w
        .ratios(
            &e3,
            v1::ListProblemCustomerRatiosRequest {
                branch_id: "BJ".into(),
                ..Default::default()
            },
        )
        .await
        .expect_err("other subtree");
    assert_eq!(err.code(), Code::NotFound);

    // Back from problem to established: the alert clears.
    w.move_to(&admin, &bj[0], S::Established)
        .await
        .expect("recovered");
    let bj_head = w.bj_head.clone();
    let now = w
        .ratios(&bj_head, v1::ListProblemCustomerRatiosRequest::default())
        .await
        .expect("BJ head");
    assert_eq!(rows(&now), [row("BJ", Tier1Branch, 20, 0, 0, false)]);
    w.suite.stop().await;
}

async fn concurrent_moves_of_one_customer_give_exactly_one(backend: Backend) {
    let mut w = world(backend).await;
    let c = w.customer("BJ01").await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let mut client = w.client.clone();
        let token = w.e1.clone();
        let mut req = request(&c.customer_id, S::Target, 0);
        req.reason = format!("racer {i}");
        tasks.push(tokio::spawn(async move {
            client
                .transition_lifecycle_stage(TestSuite::authed(req, &token))
                .await
                .map(|_| ())
                .map_err(|s| s.code())
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.expect("join") {
            Ok(()) => ok += 1,
            Err(Code::FailedPrecondition | Code::Aborted) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(ok, 1);
    let e1 = w.e1.clone();
    let history = w
        .history(&e1, by_customer(&c.customer_id))
        .await
        .expect("history");
    assert_eq!(history.transitions.len(), 1);
    assert_eq!(w.get(&e1, &c.customer_id).await.version, 2);
    w.suite.stop().await;
}

async fn the_problem_alert_threshold_is_configuration(backend: Backend) {
    // 1 problem customer in 20 is 500 bp: above the default 300, not above a configured 600.
    let mut w = world_with(backend, |s| s.problem_ratio_alert_bps = 600).await;
    let mut bj = Vec::new();
    for _ in 0..20 {
        bj.push(w.customer("BJ01").await.customer_id);
    }
    w.make_problem(&bj[0]).await;
    let admin = w.admin.clone();
    let ratios = w
        .ratios(
            &admin,
            v1::ListProblemCustomerRatiosRequest {
                branch_id: "BJ01".into(),
                max_depth: 0,
                ..Default::default()
            },
        )
        .await
        .expect("ratios");
    let first = ratios.ratios.first().expect("BJ01");
    assert_eq!(
        (first.ratio_bps, first.threshold_bps, first.alert),
        (500, 600, false)
    );
    w.suite.stop().await;
}

bankmkt_e2e::on_both_backends!(
    the_problem_alert_threshold_is_configuration,
    stages_move_along_the_chain_with_history_audit_and_events,
    disallowed_moves_fail_and_change_nothing,
    stale_versions_abort_and_retries_replay,
    only_permitted_callers_in_the_subtree_move_a_customer,
    bad_input_names_the_field_and_writes_nothing,
    problem_ratios_roll_up_the_tree_and_alert_above_three_percent,
    concurrent_moves_of_one_customer_give_exactly_one,
);
