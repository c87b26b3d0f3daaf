//! The registry's organisation through gRPC, on the embedded default (SQLite, in-process cache)
//! and on Postgres with Redis: loading and reading the branch tree (as of a date, in pre-order,
//! paged), moving a branch, and the staff directory.

use bankmkt_e2e::registry::fields;
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_proto::v1;
use bankmkt_proto::v1::customer_registry_client::CustomerRegistryClient;
use tonic::Code;
use tonic::transport::Channel;

fn branch(id: &str, parent: &str, level: v1::BranchLevel, name: &str) -> v1::Branch {
    v1::Branch {
        branch_id: id.to_owned(),
        parent_id: parent.to_owned(),
        level: level as i32,
        name: name.to_owned(),
        ..Default::default()
    }
}

/// HQ ─┬─ BJ ── BJ01 ── BJ0101
///     └─ SH ─┬─ SH01
///            └─ SH02
fn tree() -> Vec<v1::Branch> {
    use v1::BranchLevel::*;
    vec![
        branch("BJ0101", "BJ01", SubBranch, "Chaoyang sub-branch"),
        branch("HQ", "", HeadOffice, "Head office"),
        branch("BJ", "HQ", Tier1Branch, "Beijing branch"),
        branch("BJ01", "BJ", Tier2Branch, "Beijing Chaoyang"),
        branch("SH", "HQ", Tier1Branch, "Shanghai branch"),
        branch("SH01", "SH", Tier2Branch, "Shanghai Pudong"),
        branch("SH02", "SH", Tier2Branch, "Shanghai Xuhui"),
    ]
}

struct Org {
    suite: TestSuite,
    client: CustomerRegistryClient<Channel>,
    admin: String,
}

async fn start(backend: Backend) -> Org {
    let suite = TestSuite::start_on(backend, |_| {}).await;
    let client = CustomerRegistryClient::new(suite.channel("customer-registry").await);
    let admin = suite.token("admin1", "HQ", &["admin"]);
    Org {
        suite,
        client,
        admin,
    }
}

impl Org {
    async fn load_tree(&mut self) -> v1::LoadBranchesResponse {
        let request = v1::LoadBranchesRequest {
            idempotency_key: "tree-1".to_owned(),
            branches: tree(),
            effective_date: None,
        };
        self.client
            .load_branches(TestSuite::authed(request, &self.admin))
            .await
            .expect("load")
            .into_inner()
    }

    async fn list(
        &mut self,
        root: &str,
        depth: i32,
        page_size: i32,
        token: &str,
    ) -> v1::ListBranchesResponse {
        let request = v1::ListBranchesRequest {
            root_branch_id: root.to_owned(),
            max_depth: depth,
            page_size,
            page_token: token.to_owned(),
            ..Default::default()
        };
        self.client
            .list_branches(TestSuite::authed(request, &self.admin))
            .await
            .expect("list")
            .into_inner()
    }

    async fn ids(&mut self, root: &str, depth: i32) -> Vec<String> {
        self.list(root, depth, 0, "")
            .await
            .branches
            .into_iter()
            .map(|b| b.branch_id)
            .collect()
    }
}

async fn branch_tree_loads_and_reads_in_pre_order(backend: Backend) {
    let mut org = start(backend).await;
    let loaded = org.load_tree().await;
    let summary = loaded.summary.expect("summary");
    assert_eq!(
        (summary.received, summary.inserted, summary.updated),
        (7, 7, 0)
    );
    assert_eq!(loaded.tree_version, 1);

    assert_eq!(
        org.ids("", 0).await,
        ["HQ", "BJ", "BJ01", "BJ0101", "SH", "SH01", "SH02"]
    );
    assert_eq!(org.ids("HQ", 1).await, ["HQ", "BJ", "SH"]);
    assert_eq!(org.ids("SH", 0).await, ["SH", "SH01", "SH02"]);

    // Keyset pages of 3 cover the tree exactly once.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = org.list("HQ", 0, 3, &token).await;
        assert!(page.branches.len() <= 3);
        seen.extend(page.branches.into_iter().map(|b| b.branch_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, ["HQ", "BJ", "BJ01", "BJ0101", "SH", "SH01", "SH02"]);

    let chain = org
        .client
        .get_branch_chain(TestSuite::authed(
            v1::GetBranchChainRequest {
                branch_id: "BJ0101".into(),
                as_of_date: None,
            },
            &org.admin,
        ))
        .await
        .expect("chain")
        .into_inner()
        .chain;
    let chain: Vec<(String, i32)> = chain.into_iter().map(|b| (b.branch_id, b.level)).collect();
    assert_eq!(
        chain,
        [
            ("HQ".to_owned(), v1::BranchLevel::HeadOffice as i32),
            ("BJ".to_owned(), v1::BranchLevel::Tier1Branch as i32),
            ("BJ01".to_owned(), v1::BranchLevel::Tier2Branch as i32),
            ("BJ0101".to_owned(), v1::BranchLevel::SubBranch as i32),
        ]
    );
    let got = org
        .client
        .get_branch(TestSuite::authed(
            v1::GetBranchRequest {
                branch_id: "SH01".into(),
                as_of_date: None,
            },
            &org.admin,
        ))
        .await
        .expect("get")
        .into_inner()
        .branch
        .expect("branch");
    assert_eq!(
        (got.name.as_str(), got.parent_id.as_str(), got.version),
        ("Shanghai Pudong", "SH", 1)
    );
    let missing = org
        .client
        .get_branch(TestSuite::authed(
            v1::GetBranchRequest {
                branch_id: "XX".into(),
                as_of_date: None,
            },
            &org.admin,
        ))
        .await
        .expect_err("unknown");
    assert_eq!(missing.code(), Code::NotFound);
    org.suite.stop().await;
}

async fn a_bad_load_names_the_field_and_writes_nothing(backend: Backend) {
    use v1::BranchLevel::*;
    let mut org = start(backend).await;
    let cases: Vec<(Vec<v1::Branch>, &str)> = vec![
        (
            vec![
                branch("HQ", "", HeadOffice, "HQ"),
                branch("BJ", "NOPE", Tier1Branch, "BJ"),
            ],
            "branches[1]",
        ),
        (
            vec![
                branch("HQ", "", HeadOffice, "HQ"),
                branch("BJ", "HQ", Unspecified, "BJ"),
            ],
            "branches[1].level",
        ),
        (
            vec![
                branch("HQ", "", HeadOffice, "HQ"),
                branch("B J", "HQ", Tier1Branch, "BJ"),
            ],
            "branches[1].branch_id",
        ),
        (
            vec![
                branch("HQ", "", HeadOffice, ""),
                branch("BJ", "HQ", Tier1Branch, "BJ"),
            ],
            "branches[0].name",
        ),
        (
            vec![
                branch("HQ", "", HeadOffice, "HQ"),
                branch("HQ2", "", HeadOffice, "HQ2"),
            ],
            "branches[1]",
        ),
        (
            vec![
                branch("HQ", "", HeadOffice, "HQ"),
                branch("BJ", "HQ", Tier1Branch, "BJ"),
                branch("BJ", "HQ", Tier1Branch, "BJ"),
            ],
            "branches[2].branch_id",
        ),
        (
            vec![
                branch("HQ", "", HeadOffice, "HQ"),
                branch("S1", "HQ", SubBranch, "S1"),
                branch("T2", "S1", Tier2Branch, "T2"),
            ],
            "branches[2]",
        ),
    ];
    for (i, (branches, field)) in cases.into_iter().enumerate() {
        let request = v1::LoadBranchesRequest {
            idempotency_key: format!("bad-{i}"),
            branches,
            effective_date: None,
        };
        let err = org
            .client
            .load_branches(TestSuite::authed(request, &org.admin))
            .await
            .expect_err("refused");
        assert_eq!(err.code(), Code::InvalidArgument, "case {i}: {err:?}");
        assert!(
            fields(&err).iter().any(|f| f == field),
            "case {i}: expected {field} in {:?}",
            fields(&err)
        );
    }
    let empty = v1::LoadBranchesRequest {
        idempotency_key: String::new(),
        branches: vec![],
        effective_date: None,
    };
    let err = org
        .client
        .load_branches(TestSuite::authed(empty, &org.admin))
        .await
        .expect_err("refused");
    assert_eq!(fields(&err), ["idempotency_key", "branches"]);
    assert!(
        org.list("", 0, 0, "").await.branches.is_empty(),
        "nothing was written"
    );
    // Only admin or batch may load.
    let manager = org.suite.token("m1", "HQ", &["customer_manager"]);
    let request = v1::LoadBranchesRequest {
        idempotency_key: "x".into(),
        branches: tree(),
        effective_date: None,
    };
    let err = org
        .client
        .load_branches(TestSuite::authed(request, &manager))
        .await
        .expect_err("refused");
    assert_eq!(err.code(), Code::PermissionDenied);
    org.suite.stop().await;
}

async fn a_repeated_load_is_a_replay(backend: Backend) {
    let mut org = start(backend).await;
    let first = org.load_tree().await;
    let again = org.load_tree().await;
    assert_eq!(first, again, "same key, same request: the stored response");
    // The same content under a new key changes nothing either.
    let request = v1::LoadBranchesRequest {
        idempotency_key: "tree-2".into(),
        branches: tree(),
        effective_date: None,
    };
    let third = org
        .client
        .load_branches(TestSuite::authed(request, &org.admin))
        .await
        .expect("load")
        .into_inner();
    let summary = third.summary.expect("summary");
    assert_eq!(
        (summary.inserted, summary.updated, summary.replayed),
        (0, 0, 7)
    );
    assert_eq!(third.tree_version, 1);
    // The same key with another request is refused.
    let mut changed = tree();
    changed[1].name = "Renamed".into();
    let request = v1::LoadBranchesRequest {
        idempotency_key: "tree-1".into(),
        branches: changed,
        effective_date: None,
    };
    let err = org
        .client
        .load_branches(TestSuite::authed(request, &org.admin))
        .await
        .expect_err("conflict");
    assert_eq!(fields(&err), ["idempotency_key"]);
    org.suite.stop().await;
}

async fn moving_a_branch_keeps_history_and_refuses_cycles(backend: Backend) {
    let mut org = start(backend).await;
    org.load_tree().await;
    let bj01 = org
        .client
        .get_branch(TestSuite::authed(
            v1::GetBranchRequest {
                branch_id: "BJ01".into(),
                as_of_date: None,
            },
            &org.admin,
        ))
        .await
        .expect("get")
        .into_inner()
        .branch
        .expect("branch");
    let move_request = |expected_version: i64, parent: &str| v1::MoveBranchRequest {
        branch_id: "BJ01".into(),
        new_parent_id: parent.into(),
        effective_date: None,
        expected_version,
        reason: "regional reorganisation".into(),
    };
    // Stale version: ABORTED, nothing moves.
    let err = org
        .client
        .move_branch(TestSuite::authed(move_request(99, "SH"), &org.admin))
        .await
        .expect_err("stale");
    assert_eq!(err.code(), Code::Aborted);
    // Not an admin.
    let head = org.suite.token("h1", "HQ", &["branch_head"]);
    let err = org
        .client
        .move_branch(TestSuite::authed(move_request(bj01.version, "SH"), &head))
        .await
        .expect_err("denied");
    assert_eq!(err.code(), Code::PermissionDenied);
    // A level that is not above the branch's own.
    let err = org
        .client
        .move_branch(TestSuite::authed(
            move_request(bj01.version, "SH01"),
            &org.admin,
        ))
        .await
        .expect_err("level");
    assert_eq!(err.code(), Code::FailedPrecondition);
    // A cycle: BJ under its own descendant.
    let cycle = v1::MoveBranchRequest {
        branch_id: "BJ".into(),
        new_parent_id: "BJ0101".into(),
        effective_date: None,
        expected_version: 1,
        reason: "oops".into(),
    };
    let err = org
        .client
        .move_branch(TestSuite::authed(cycle, &org.admin))
        .await
        .expect_err("cycle");
    assert_eq!(err.code(), Code::FailedPrecondition);
    let unchanged = org.ids("BJ", 0).await;
    assert_eq!(unchanged, ["BJ", "BJ01", "BJ0101"]);

    let moved = org
        .client
        .move_branch(TestSuite::authed(
            move_request(bj01.version, "SH"),
            &org.admin,
        ))
        .await
        .expect("move")
        .into_inner();
    assert_eq!(
        moved
            .branch
            .as_ref()
            .map(|b| (b.parent_id.as_str(), b.version)),
        Some(("SH", 2))
    );
    assert_eq!(moved.tree_version, 2);
    assert_eq!(
        org.ids("SH", 0).await,
        ["SH", "BJ01", "BJ0101", "SH01", "SH02"]
    );
    assert_eq!(org.ids("BJ", 0).await, ["BJ"]);
    let chain: Vec<String> = org
        .client
        .get_branch_chain(TestSuite::authed(
            v1::GetBranchChainRequest {
                branch_id: "BJ0101".into(),
                as_of_date: None,
            },
            &org.admin,
        ))
        .await
        .expect("chain")
        .into_inner()
        .chain
        .into_iter()
        .map(|b| b.branch_id)
        .collect();
    assert_eq!(chain, ["HQ", "SH", "BJ01", "BJ0101"]);
    // As of yesterday the tree is as it was.
    let yesterday = chrono::Utc::now().date_naive() - chrono::Duration::days(2);
    let old = v1::GetBranchChainRequest {
        branch_id: "BJ0101".into(),
        as_of_date: Some(v1::Date {
            year: chrono::Datelike::year(&yesterday),
            month: chrono::Datelike::month(&yesterday) as i32,
            day: chrono::Datelike::day(&yesterday) as i32,
        }),
    };
    // The tree was loaded today, so two days ago it did not exist yet.
    let err = org
        .client
        .get_branch_chain(TestSuite::authed(old, &org.admin))
        .await
        .expect_err("before the tree existed");
    assert_eq!(err.code(), Code::NotFound);
    org.suite.stop().await;
}

fn employee(id: &str, branch: &str, roles: &[v1::Role]) -> v1::Employee {
    v1::Employee {
        employee_id: id.into(),
        name: format!("Employee {id}"),
        branch_id: branch.into(),
        lines: vec![v1::BusinessLine::Corporate as i32],
        roles: roles.iter().map(|r| *r as i32).collect(),
        ..Default::default()
    }
}

async fn the_staff_directory_loads_lists_and_updates(backend: Backend) {
    use v1::Role::*;
    let mut org = start(backend).await;
    org.load_tree().await;
    let mut bad_branch = employee("e9", "NOWHERE", &[CustomerManager]);
    bad_branch.name = "Bad".into();
    let entries = vec![
        employee("e1", "BJ01", &[CustomerManager]),
        employee("e2", "BJ0101", &[CustomerManager, Approver]),
        employee("e3", "SH01", &[CustomerManager]),
        employee("e4", "HQ", &[Admin]),
        bad_branch,
        employee("e5", "SH", &[CoreBanking]),
    ];
    let loaded = org
        .client
        .load_employees(TestSuite::authed(
            v1::LoadEmployeesRequest {
                idempotency_key: "staff-1".into(),
                employees: entries,
            },
            &org.admin,
        ))
        .await
        .expect("load")
        .into_inner()
        .summary
        .expect("summary");
    assert_eq!(
        (loaded.received, loaded.inserted, loaded.rejected),
        (6, 4, 2)
    );
    let errors: Vec<(i64, String)> = loaded
        .errors
        .iter()
        .map(|e| (e.index, e.field.clone()))
        .collect();
    assert_eq!(
        errors,
        [(4, "branch_id".to_owned()), (5, "roles[0]".to_owned())]
    );

    let bj_manager = org.suite.token("e1", "BJ", &["customer_manager"]);
    let list = |root: &str, role: v1::Role| v1::ListEmployeesRequest {
        branch_id: root.into(),
        role: role as i32,
        ..Default::default()
    };
    let ids = |r: v1::ListEmployeesResponse| {
        r.employees
            .into_iter()
            .map(|e| e.employee_id)
            .collect::<Vec<_>>()
    };
    let in_bj = org
        .client
        .list_employees(TestSuite::authed(list("", Unspecified), &bj_manager))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(
        ids(in_bj),
        ["e1", "e2"],
        "the caller's own subtree by default"
    );
    let approvers = org
        .client
        .list_employees(TestSuite::authed(list("HQ", Approver), &org.admin))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(ids(approvers), ["e2"]);
    let err = org
        .client
        .list_employees(TestSuite::authed(list("SH", Unspecified), &bj_manager))
        .await
        .expect_err("other subtree");
    assert_eq!(
        err.code(),
        Code::NotFound,
        "another branch's staff is invisible"
    );
    let err = org
        .client
        .list_employees(TestSuite::authed(
            v1::ListEmployeesRequest {
                page_size: 501,
                ..list("HQ", Unspecified)
            },
            &org.admin,
        ))
        .await
        .expect_err("oversize page");
    assert_eq!(fields(&err), ["page_size"]);

    let e3 = org
        .client
        .get_employee(TestSuite::authed(
            v1::GetEmployeeRequest {
                employee_id: "e3".into(),
            },
            &org.admin,
        ))
        .await
        .expect("get")
        .into_inner()
        .employee
        .expect("e3");
    let departure = v1::Date {
        year: 2030,
        month: 1,
        day: 31,
    };
    let update = |version: i64| v1::UpdateEmployeeRequest {
        employee: Some(v1::Employee {
            employee_id: "e3".into(),
            active_to: Some(departure),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["active_to".into()],
        }),
        expected_version: version,
    };
    let err = org
        .client
        .update_employee(TestSuite::authed(update(e3.version + 1), &org.admin))
        .await
        .expect_err("stale");
    assert_eq!(err.code(), Code::Aborted);
    let updated = org
        .client
        .update_employee(TestSuite::authed(update(e3.version), &org.admin))
        .await
        .expect("update")
        .into_inner()
        .employee
        .expect("e3");
    assert_eq!(
        (
            updated.active_to,
            updated.version,
            updated.branch_id.as_str()
        ),
        (Some(departure), e3.version + 1, "SH01")
    );
    let bad_mask = v1::UpdateEmployeeRequest {
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["employee_id".into()],
        }),
        ..update(updated.version)
    };
    let err = org
        .client
        .update_employee(TestSuite::authed(bad_mask, &org.admin))
        .await
        .expect_err("bad mask");
    assert_eq!(fields(&err), ["update_mask.paths[0]"]);
    org.suite.stop().await;
}

bankmkt_e2e::on_both_backends!(
    branch_tree_loads_and_reads_in_pre_order,
    a_bad_load_names_the_field_and_writes_nothing,
    a_repeated_load_is_a_replay,
    moving_a_branch_keeps_history_and_refuses_cycles,
    the_staff_directory_loads_lists_and_updates,
);
