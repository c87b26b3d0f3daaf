//! Relationships through gRPC on both backends: links of every type with the kinds each end
//! allows, listed both ways with keyset paging; uniqueness of an open link enforced by the
//! database even under concurrency; unlinking that keeps history under optimistic concurrency;
//! audit entries and an outbox event for each end; both ends' cache entries dropped; visibility
//! (NOT_FOUND, PERMISSION_DENIED) and merged customers (FAILED_PRECONDITION); and the bounded,
//! cycle-safe traversal, e.g. a core enterprise's whole supply chain with each firm's executives in
//! one call. Bad input names the field and changes nothing.

use std::collections::{BTreeMap, BTreeSet};

use bankmkt_customer_registry::customers::entity::customer;
use bankmkt_customer_registry::relationships::customer_relationship;
use bankmkt_domain::customer::{resident_id_check_char, uscc_check_char};
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_platform::settings::ServiceKind;
use bankmkt_platform::{audit, outbox};
use bankmkt_proto::v1;
use bankmkt_proto::v1::customer_registry_client::CustomerRegistryClient;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use v1::RelationshipType as T;

/// A valid resident id number for `serial`.
fn resident_id(serial: u32) -> String {
    let body = format!("110105198001{:05}", 20000 + serial % 1000);
    let body = &body[..17];
    format!(
        "{body}{}",
        resident_id_check_char(body).expect("check char")
    )
}

/// A valid unified social credit code for `serial`.
fn uscc(serial: u32) -> String {
    let body = format!("91110100M{:08}", 300_000 + serial);
    format!("{body}{}", uscc_check_char(&body).expect("check char"))
}

fn date(year: i32, month: i32, day: i32) -> v1::Date {
    v1::Date { year, month, day }
}

struct World {
    suite: TestSuite,
    client: CustomerRegistryClient<Channel>,
    db: DatabaseConnection,
    /// Customer manager at BJ01: creates and links the BJ01 customers.
    e1: String,
    /// Customer manager at SH01: owns the SH01 customers, which e1 cannot see.
    e3: String,
    /// Customer manager at BJ0101: sees none of the BJ01 customers.
    e2: String,
    admin: String,
    auditor: String,
    /// An approver at BJ01: sees the BJ01 customers but may not link them.
    approver: String,
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
                idempotency_key: "tree".into(),
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
                idempotency_key: "staff".into(),
                employees: vec![
                    employee("e1", "BJ01"),
                    employee("e2", "BJ0101"),
                    employee("e3", "SH01"),
                    employee("e5", "SH01"),
                ],
            },
            &admin,
        ))
        .await
        .expect("staff");
    let db = bankmkt_platform::db::connect(&suite.settings(), ServiceKind::Registry)
        .await
        .expect("connect");
    World {
        e1: suite.token("e1", "BJ01", &["customer_manager"]),
        e2: suite.token("e2", "BJ0101", &["customer_manager"]),
        e3: suite.token("e3", "SH01", &["customer_manager"]),
        auditor: suite.token("au1", "HQ", &["auditor"]),
        approver: suite.token("a1", "BJ01", &["approver"]),
        admin,
        suite,
        client,
        db,
        serial: 0,
    }
}

fn link_request(t: T, from: &str, to: &str) -> v1::LinkCustomersRequest {
    v1::LinkCustomersRequest {
        relationship: Some(v1::Relationship {
            relationship_type: t as i32,
            from_customer_id: from.into(),
            to_customer_id: to.into(),
            ..Default::default()
        }),
        reason: "met at the annual review".into(),
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

/// Everything a refused write must leave untouched: the links, the outbox and the audit log.
#[derive(Debug, PartialEq)]
struct Snapshot {
    links: Vec<customer_relationship::Model>,
    events: u64,
    audit: u64,
}

impl World {
    /// Creates a customer of `kind` at `branch` (BJ01 by e1, SH01 by e3) and returns its id.
    async fn customer(&mut self, kind: v1::CustomerKind, name: &str, branch: &str) -> String {
        self.serial += 1;
        let serial = self.serial;
        let (token, a, b) = if branch == "SH01" {
            (self.e3.clone(), "e3", "e5")
        } else {
            (self.e1.clone(), "e1", "e2")
        };
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
            idempotency_key: format!("c{serial}"),
            customer: Some(v1::Customer {
                kind: kind as i32,
                name: name.into(),
                identities: vec![identity],
                owning_branch_id: branch.into(),
                primary_manager_id: a.into(),
                backup_manager_id: b.into(),
                ..Default::default()
            }),
            source_refs: vec![],
        };
        self.client
            .create_customer(TestSuite::authed(request, &token))
            .await
            .unwrap_or_else(|e| panic!("create {name}: {e:?}"))
            .into_inner()
            .customer
            .expect("customer")
            .customer_id
    }

    async fn corporate(&mut self, name: &str) -> String {
        self.customer(v1::CustomerKind::Corporate, name, "BJ01")
            .await
    }

    async fn person(&mut self, name: &str) -> String {
        self.customer(v1::CustomerKind::Individual, name, "BJ01")
            .await
    }

    async fn send_link(
        &mut self,
        token: &str,
        request: v1::LinkCustomersRequest,
    ) -> Result<v1::Relationship, Status> {
        self.client
            .link_customers(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner().relationship.expect("relationship"))
    }

    /// Links as e1 and returns the new relationship.
    async fn link(&mut self, t: T, from: &str, to: &str) -> v1::Relationship {
        let e1 = self.e1.clone();
        self.send_link(&e1, link_request(t, from, to))
            .await
            .unwrap_or_else(|e| panic!("link {t:?}: {e:?}"))
    }

    async fn unlink(
        &mut self,
        token: &str,
        relationship_id: &str,
        end_date: Option<v1::Date>,
        expected_version: i64,
    ) -> Result<v1::Relationship, Status> {
        let request = v1::UnlinkCustomersRequest {
            relationship_id: relationship_id.into(),
            end_date,
            expected_version,
            reason: "the supply contract ended".into(),
        };
        self.client
            .unlink_customers(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner().relationship.expect("relationship"))
    }

    async fn list(
        &mut self,
        token: &str,
        request: v1::ListRelationshipsRequest,
    ) -> Result<v1::ListRelationshipsResponse, Status> {
        self.client
            .list_relationships(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner())
    }

    /// Ids of one customer's links in `direction`, following every page.
    async fn list_ids(
        &mut self,
        token: &str,
        customer_id: &str,
        direction: v1::RelationshipDirection,
        include_ended: bool,
    ) -> Vec<String> {
        let mut ids = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .list(
                    token,
                    v1::ListRelationshipsRequest {
                        customer_id: customer_id.into(),
                        direction: direction as i32,
                        include_ended,
                        page_size: 2,
                        page_token,
                        ..Default::default()
                    },
                )
                .await
                .expect("list");
            ids.extend(page.relationships.into_iter().map(|r| r.relationship_id));
            if page.next_page_token.is_empty() {
                return ids;
            }
            page_token = page.next_page_token;
        }
    }

    async fn traverse(
        &mut self,
        token: &str,
        request: v1::TraverseRelationshipsRequest,
    ) -> Result<v1::TraverseRelationshipsResponse, Status> {
        self.client
            .traverse_relationships(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner())
    }

    async fn name_of(&mut self, token: &str, id: &str) -> String {
        self.client
            .get_customer(TestSuite::authed(
                v1::GetCustomerRequest {
                    customer_id: id.into(),
                },
                token,
            ))
            .await
            .expect("get")
            .into_inner()
            .customer
            .expect("customer")
            .name
    }

    /// Writes straight to the database, behind the cache's back.
    async fn set_column(&self, id: &str, column: customer::Column, value: &str) {
        customer::Entity::update_many()
            .col_expr(column, Expr::value(value))
            .filter(customer::Column::CustomerId.eq(id))
            .exec(&self.db)
            .await
            .expect("direct update");
    }

    async fn snapshot(&self) -> Snapshot {
        Snapshot {
            links: customer_relationship::Entity::find()
                .order_by_asc(customer_relationship::Column::RelationshipId)
                .all(&self.db)
                .await
                .expect("links"),
            events: outbox::entity::Entity::find()
                .count(&self.db)
                .await
                .expect("outbox"),
            audit: audit::entity::Entity::find()
                .count(&self.db)
                .await
                .expect("audit"),
        }
    }

    /// The (aggregate id, event type) of every relationship event, in order.
    async fn link_events(&self) -> Vec<(String, String, Vec<u8>)> {
        outbox::entity::Entity::find()
            .filter(
                outbox::entity::Column::EventType.is_in(["customer.linked", "customer.unlinked"]),
            )
            .order_by_asc(outbox::entity::Column::Seq)
            .all(&self.db)
            .await
            .expect("outbox")
            .into_iter()
            .map(|e| (e.aggregate_id, e.event_type, e.payload))
            .collect()
    }
}

async fn links_are_listed_both_ways_audited_and_evented(backend: Backend) {
    let mut w = world(backend).await;
    let e1 = w.e1.clone();
    let core = w.corporate("核心制造").await;
    let parent = w.corporate("集团控股").await;
    let supplier = w.corporate("上游供应").await;
    let ceo = w.person("王总").await;
    let contact = w.person("李经理").await;
    let tenant = w
        .customer(v1::CustomerKind::SmallBusiness, "市场商户", "BJ01")
        .await;
    let market = w.corporate("市场运营").await;

    let mut group = link_request(T::GroupParentOf, &parent, &core);
    group.relationship.as_mut().expect("rel").equity_share = Some(v1::Decimal {
        value: "0.5100".into(),
    });
    let group = w.send_link(&e1, group).await.expect("group");
    assert_eq!(
        group.equity_share.as_ref().map(|d| d.value.as_str()),
        Some("0.51")
    );
    assert_eq!(group.version, 1);
    assert_eq!(
        group
            .created
            .as_ref()
            .map(|c| (c.actor_id.as_str(), c.reason.as_str())),
        Some(("e1", "met at the annual review"))
    );
    assert!(
        group
            .effective
            .as_ref()
            .is_some_and(|e| e.start_date.is_some() && e.end_date.is_none()),
        "start defaults to today; open-ended"
    );

    let supply = w.link(T::SupplierOf, &supplier, &core).await;
    let mut exec = link_request(T::ExecutiveOf, &ceo, &core);
    exec.relationship.as_mut().expect("rel").title = " CEO ".into();
    exec.relationship.as_mut().expect("rel").effective = Some(v1::EffectiveRange {
        start_date: Some(date(2020, 3, 1)),
        end_date: None,
    });
    let exec = w.send_link(&e1, exec).await.expect("executive");
    assert_eq!(exec.title, "CEO");
    assert_eq!(
        exec.effective.as_ref().and_then(|e| e.start_date),
        Some(date(2020, 3, 1))
    );
    let mut key = link_request(T::KeyPersonOf, &contact, &core);
    key.relationship.as_mut().expect("rel").key_person_role = v1::KeyPersonRole::Contact as i32;
    let key = w.send_link(&e1, key).await.expect("key person");
    assert_eq!(key.key_person_role, v1::KeyPersonRole::Contact as i32);
    let employee = w.link(T::EmployeeOf, &contact, &supplier).await;
    let member = w.link(T::MarketMemberOf, &tenant, &market).await;
    let distributor = w.link(T::DistributorOf, &supplier, &parent).await;

    let ids = |rels: &[&v1::Relationship]| -> Vec<String> {
        let mut ids: Vec<String> = rels.iter().map(|r| r.relationship_id.clone()).collect();
        ids.sort();
        ids
    };
    use v1::RelationshipDirection as D;
    assert_eq!(
        w.list_ids(&e1, &core, D::Incoming, false).await,
        ids(&[&group, &supply, &exec, &key]),
        "incoming, paged by 2"
    );
    assert!(w.list_ids(&e1, &core, D::Outgoing, false).await.is_empty());
    assert_eq!(
        w.list_ids(&e1, &supplier, D::Unspecified, false).await,
        ids(&[&supply, &employee, &distributor]),
        "unspecified means both"
    );
    assert_eq!(
        w.list_ids(&e1, &supplier, D::Outgoing, false).await,
        ids(&[&supply, &distributor])
    );
    assert_eq!(
        w.list_ids(&e1, &market, D::Both, false).await,
        ids(&[&member])
    );
    let people = w
        .list(
            &e1,
            v1::ListRelationshipsRequest {
                customer_id: core.clone(),
                relationship_types: vec![T::ExecutiveOf as i32, T::KeyPersonOf as i32],
                ..Default::default()
            },
        )
        .await
        .expect("by type");
    assert_eq!(people.relationships.len(), 2);
    assert!(people.next_page_token.is_empty());
    assert_eq!(
        people
            .relationships
            .iter()
            .find(|r| r.relationship_id == exec.relationship_id),
        Some(&exec),
        "listed as linked"
    );
    // A caller elsewhere in the bank with a bank-wide role lists them too.
    let auditor = w.auditor.clone();
    assert_eq!(w.list_ids(&auditor, &core, D::Both, false).await.len(), 4);

    // One audit entry per link, and an event for each end.
    let events = w.link_events().await;
    assert_eq!(events.len(), 14, "two events for each of the seven links");
    for rel in [
        &group,
        &supply,
        &exec,
        &key,
        &employee,
        &member,
        &distributor,
    ] {
        let about: BTreeSet<&str> = events
            .iter()
            .filter(|(_, kind, payload)| {
                kind == "customer.linked"
                    && <v1::Relationship as prost::Message>::decode(payload.as_slice())
                        .is_ok_and(|p| p.relationship_id == rel.relationship_id)
            })
            .map(|(aggregate, _, _)| aggregate.as_str())
            .collect();
        assert_eq!(
            about,
            BTreeSet::from([rel.from_customer_id.as_str(), rel.to_customer_id.as_str()])
        );
    }
    let audited = audit::entity::Entity::find()
        .filter(audit::entity::Column::Action.eq("customer.link"))
        .filter(audit::entity::Column::TargetType.eq("relationship"))
        .count(&w.db)
        .await
        .expect("audit");
    assert_eq!(audited, 7);

    // Linking drops both ends' cache entries: rename both behind the cache's back, read the stale
    // cached names, link, and read the fresh ones.
    let (left, right) = (w.corporate("甲").await, w.corporate("乙").await);
    assert_eq!(w.name_of(&e1, &left).await, "甲");
    assert_eq!(w.name_of(&e1, &right).await, "乙");
    w.set_column(&left, customer::Column::Name, "甲-新").await;
    w.set_column(&right, customer::Column::Name, "乙-新").await;
    assert_eq!(w.name_of(&e1, &left).await, "甲", "served from the cache");
    let link = w.link(T::SupplierOf, &left, &right).await;
    assert_eq!(w.name_of(&e1, &left).await, "甲-新", "from end invalidated");
    assert_eq!(w.name_of(&e1, &right).await, "乙-新", "to end invalidated");
    // ... and so does unlinking.
    w.set_column(&left, customer::Column::Name, "甲-再").await;
    w.set_column(&right, customer::Column::Name, "乙-再").await;
    w.unlink(&e1, &link.relationship_id, Some(date(2099, 1, 1)), 1)
        .await
        .expect("unlink");
    assert_eq!(w.name_of(&e1, &left).await, "甲-再");
    assert_eq!(w.name_of(&e1, &right).await, "乙-再");
    w.suite.stop().await;
}

async fn an_open_link_is_unique_even_under_concurrency(backend: Backend) {
    let mut w = world(backend).await;
    let e1 = w.e1.clone();
    let a = w.corporate("A").await;
    let b = w.corporate("B").await;
    let mut tries = Vec::new();
    for _ in 0..10 {
        let mut client = w.client.clone();
        let request = link_request(T::SupplierOf, &a, &b);
        let token = e1.clone();
        tries.push(tokio::spawn(async move {
            client
                .link_customers(TestSuite::authed(request, &token))
                .await
        }));
    }
    let mut won = 0;
    for t in tries {
        match t.await.expect("join") {
            Ok(_) => won += 1,
            Err(e) => assert_eq!(e.code(), Code::AlreadyExists, "{e:?}"),
        }
    }
    assert_eq!(won, 1, "exactly one of ten concurrent links wins");
    let before = w.snapshot().await;
    assert_eq!(before.links.len(), 1);
    let err = w
        .send_link(&e1, link_request(T::SupplierOf, &a, &b))
        .await
        .expect_err("duplicate");
    assert_eq!(err.code(), Code::AlreadyExists);
    assert_eq!(
        err.get_error_details()
            .error_info()
            .map(|i| i.reason.clone()),
        Some("RELATIONSHIP_EXISTS".to_owned())
    );
    assert_eq!(w.snapshot().await, before, "a refused link writes nothing");
    // The reverse direction and another type are other links.
    w.link(T::SupplierOf, &b, &a).await;
    w.link(T::DistributorOf, &a, &b).await;
    assert_eq!(w.snapshot().await.links.len(), 3);
    w.suite.stop().await;
}

async fn unlinking_keeps_history_under_optimistic_concurrency(backend: Backend) {
    let mut w = world(backend).await;
    let e1 = w.e1.clone();
    let core = w.corporate("Core").await;
    let supplier = w.corporate("Supplier").await;
    let mut request = link_request(T::SupplierOf, &supplier, &core);
    request.relationship.as_mut().expect("rel").effective = Some(v1::EffectiveRange {
        start_date: Some(date(2024, 1, 1)),
        end_date: None,
    });
    let link = w.send_link(&e1, request).await.expect("link");
    let id = link.relationship_id.clone();

    let before = w.snapshot().await;
    let err = w.unlink(&e1, &id, None, 7).await.expect_err("stale");
    assert_eq!(err.code(), Code::Aborted, "{err:?}");
    assert_names(
        w.unlink(&e1, &id, Some(date(2023, 12, 31)), 1).await,
        "end_date",
        "end before start",
    );
    assert_names(
        w.unlink(&e1, &id, Some(date(2024, 1, 1)), 1).await,
        "end_date",
        "end on start",
    );
    assert_eq!(w.snapshot().await, before, "refused unlinks write nothing");

    let ended = w.unlink(&e1, &id, None, 1).await.expect("unlink today");
    assert_eq!(ended.version, 2);
    let end = ended
        .effective
        .as_ref()
        .and_then(|e| e.end_date)
        .expect("end date set");
    assert_eq!(
        ended.effective.as_ref().and_then(|e| e.start_date),
        Some(date(2024, 1, 1))
    );
    let err = w.unlink(&e1, &id, None, 2).await.expect_err("twice");
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");

    use v1::RelationshipDirection::Both;
    assert!(
        w.list_ids(&e1, &core, Both, false).await.is_empty(),
        "ended"
    );
    assert_eq!(w.list_ids(&e1, &core, Both, true).await, vec![id.clone()]);
    let events: Vec<(String, String)> = w
        .link_events()
        .await
        .into_iter()
        .filter(|(_, kind, _)| kind == "customer.unlinked")
        .map(|(aggregate, kind, _)| (aggregate, kind))
        .collect();
    assert_eq!(events.len(), 2, "an event for each end");
    assert_eq!(
        audit::entity::Entity::find()
            .filter(audit::entity::Column::Action.eq("customer.unlink"))
            .filter(audit::entity::Column::TargetId.eq(id.clone()))
            .count(&w.db)
            .await
            .expect("audit"),
        1
    );

    // The pair may be linked again from the end date on; the history stays.
    let again = w.link(T::SupplierOf, &supplier, &core).await;
    assert_ne!(again.relationship_id, id);
    assert_eq!(
        again.effective.as_ref().and_then(|e| e.start_date),
        Some(end)
    );
    assert_eq!(w.list_ids(&e1, &core, Both, true).await.len(), 2);

    // A link ended in the future still holds until then: listed, traversed and not duplicable.
    let later = w
        .unlink(&e1, &again.relationship_id, Some(date(2099, 1, 1)), 1)
        .await
        .expect("end in the future");
    assert_eq!(later.version, 2);
    assert_eq!(
        w.list_ids(&e1, &core, Both, false).await,
        vec![again.relationship_id.clone()]
    );
    let walk = w
        .traverse(
            &e1,
            v1::TraverseRelationshipsRequest {
                root_customer_id: core.clone(),
                max_depth: 1,
                ..Default::default()
            },
        )
        .await
        .expect("traverse");
    assert_eq!(walk.nodes.len(), 2);
    let err = w
        .send_link(&e1, link_request(T::SupplierOf, &supplier, &core))
        .await
        .expect_err("overlaps the ending link");
    assert_eq!(err.code(), Code::AlreadyExists);

    let err = w
        .unlink(&e1, "0190a6d2-7c4e-7b1a-9f3e-2d4c5b6a7e8f", None, 1)
        .await
        .expect_err("unknown");
    assert_eq!(err.code(), Code::NotFound);
    w.suite.stop().await;
}

async fn links_need_visible_active_customers_of_fitting_kinds(backend: Backend) {
    let mut w = world(backend).await;
    let e1 = w.e1.clone();
    let e2 = w.e2.clone();
    let e3 = w.e3.clone();
    let admin = w.admin.clone();
    let approver = w.approver.clone();
    let firm = w.corporate("Firm").await;
    let person = w.person("Person").await;
    let person2 = w.person("Person 2").await;
    let tenant = w
        .customer(v1::CustomerKind::SmallBusiness, "Tenant", "BJ01")
        .await;
    let bureau = w
        .customer(v1::CustomerKind::Institution, "Bureau", "BJ01")
        .await;
    let shanghai = w
        .customer(v1::CustomerKind::Corporate, "Shanghai Co", "SH01")
        .await;
    let before = w.snapshot().await;

    // Kinds that do not fit the type name the end that is wrong.
    for (t, from, to, field) in [
        (
            T::ExecutiveOf,
            &tenant,
            &firm,
            "relationship.from_customer_id",
        ),
        (
            T::ExecutiveOf,
            &firm,
            &bureau,
            "relationship.from_customer_id",
        ),
        (
            T::EmployeeOf,
            &person,
            &person2,
            "relationship.to_customer_id",
        ),
        (
            T::SupplierOf,
            &person,
            &firm,
            "relationship.from_customer_id",
        ),
        (
            T::SupplierOf,
            &tenant,
            &bureau,
            "relationship.to_customer_id",
        ),
        (
            T::DistributorOf,
            &firm,
            &tenant,
            "relationship.to_customer_id",
        ),
        (
            T::GroupParentOf,
            &firm,
            &person,
            "relationship.to_customer_id",
        ),
        (
            T::MarketMemberOf,
            &firm,
            &bureau,
            "relationship.from_customer_id",
        ),
        (
            T::MarketMemberOf,
            &tenant,
            &person,
            "relationship.to_customer_id",
        ),
    ] {
        let case = format!("{t:?} {field}");
        assert_names(
            w.send_link(&e1, link_request(t, from, to)).await,
            field,
            &case,
        );
    }
    // Unknown or invisible customers are NOT_FOUND, whichever end.
    let unknown = "0190a6d2-7c4e-7b1a-9f3e-2d4c5b6a7e8f";
    for (from, to) in [(unknown, firm.as_str()), (firm.as_str(), unknown)] {
        let err = w
            .send_link(&e1, link_request(T::SupplierOf, from, to))
            .await
            .expect_err("unknown");
        assert_eq!(err.code(), Code::NotFound);
    }
    let err = w
        .send_link(&e1, link_request(T::SupplierOf, &shanghai, &firm))
        .await
        .expect_err("other subtree");
    assert_eq!(err.code(), Code::NotFound);
    let err = w
        .send_link(&e2, link_request(T::SupplierOf, &tenant, &firm))
        .await
        .expect_err("above the caller's subtree");
    assert_eq!(err.code(), Code::NotFound);
    // A role that may not link.
    let err = w
        .send_link(&approver, link_request(T::SupplierOf, &tenant, &firm))
        .await
        .expect_err("approver");
    assert_eq!(err.code(), Code::PermissionDenied);
    // A merged customer is read-only (merges are simulated here by writing the status).
    let merged = w.corporate("Merged").await;
    w.set_column(&merged, customer::Column::Status, "merged")
        .await;
    let after_merge = w.snapshot().await;
    let err = w
        .send_link(&e1, link_request(T::SupplierOf, &merged, &firm))
        .await
        .expect_err("merged");
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(w.snapshot().await, after_merge);
    assert_eq!(before.links, after_merge.links, "nothing was linked");

    // A link across subtrees, made by an admin: each manager sees one end only and may not
    // unlink it; a manager who sees neither end does not find it.
    let mut request = link_request(T::SupplierOf, &shanghai, &firm);
    request.relationship.as_mut().expect("rel").effective = Some(v1::EffectiveRange {
        start_date: Some(date(2024, 6, 1)),
        end_date: None,
    });
    let cross = w
        .send_link(&admin, request)
        .await
        .expect("admin links across");
    for token in [&e1, &e3] {
        let err = w
            .unlink(token, &cross.relationship_id, None, 1)
            .await
            .expect_err("one end hidden");
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    }
    let err = w
        .unlink(&e2, &cross.relationship_id, None, 1)
        .await
        .expect_err("both ends hidden");
    assert_eq!(err.code(), Code::NotFound);
    // The visible end lists the link; the other end's id is all it carries.
    use v1::RelationshipDirection::Both;
    assert_eq!(
        w.list_ids(&e1, &firm, Both, false).await,
        vec![cross.relationship_id.clone()]
    );
    let err = w
        .list(
            &e1,
            v1::ListRelationshipsRequest {
                customer_id: shanghai.clone(),
                ..Default::default()
            },
        )
        .await
        .expect_err("invisible customer");
    assert_eq!(err.code(), Code::NotFound);
    w.unlink(&admin, &cross.relationship_id, None, 1)
        .await
        .expect("admin unlinks");
    w.suite.stop().await;
}

async fn bad_requests_name_the_field_and_change_nothing(backend: Backend) {
    let mut w = world(backend).await;
    let e1 = w.e1.clone();
    let firm = w.corporate("Firm").await;
    let other = w.corporate("Other").await;
    let person = w.person("Person").await;
    let existing = w.link(T::SupplierOf, &firm, &other).await;
    let before = w.snapshot().await;

    let good = || link_request(T::ExecutiveOf, &person, &firm);
    let mut cases: Vec<(v1::LinkCustomersRequest, &str)> = Vec::new();
    cases.push((
        v1::LinkCustomersRequest {
            relationship: None,
            reason: String::new(),
        },
        "relationship",
    ));
    let edit = |f: &dyn Fn(&mut v1::Relationship)| {
        let mut r = good();
        f(r.relationship.as_mut().expect("rel"));
        r
    };
    cases.push((
        edit(&|r| r.relationship_type = 0),
        "relationship.relationship_type",
    ));
    cases.push((
        edit(&|r| r.relationship_type = 99),
        "relationship.relationship_type",
    ));
    cases.push((
        edit(&|r| r.from_customer_id.clear()),
        "relationship.from_customer_id",
    ));
    cases.push((
        edit(&|r| r.from_customer_id = "not-a-uuid".into()),
        "relationship.from_customer_id",
    ));
    cases.push((
        edit(&|r| r.to_customer_id.clear()),
        "relationship.to_customer_id",
    ));
    let firm_id = firm.clone();
    cases.push((
        edit(&move |r| {
            r.relationship_type = T::SupplierOf as i32;
            r.from_customer_id = firm_id.clone();
            r.to_customer_id = firm_id.clone();
        }),
        "relationship.to_customer_id",
    ));
    cases.push((
        edit(&|r| r.key_person_role = v1::KeyPersonRole::Contact as i32),
        "relationship.key_person_role",
    ));
    cases.push((
        edit(&|r| r.key_person_role = 42),
        "relationship.key_person_role",
    ));
    cases.push((
        edit(&|r| r.relationship_type = T::KeyPersonOf as i32),
        "relationship.key_person_role",
    ));
    cases.push((edit(&|r| r.title = "x".repeat(101)), "relationship.title"));
    let (firm_a, other_b) = (firm.clone(), other.clone());
    cases.push((
        edit(&move |r| {
            r.relationship_type = T::DistributorOf as i32;
            r.from_customer_id = firm_a.clone();
            r.to_customer_id = other_b.clone();
            r.title = "CEO".into();
        }),
        "relationship.title",
    ));
    cases.push((
        edit(&|r| {
            r.equity_share = Some(v1::Decimal {
                value: "0.5".into(),
            })
        }),
        "relationship.equity_share",
    ));
    for bad in ["1.5", "0", "abc", "5e-1"] {
        let (firm_a, other_b) = (firm.clone(), other.clone());
        cases.push((
            edit(&move |r| {
                r.relationship_type = T::GroupParentOf as i32;
                r.from_customer_id = firm_a.clone();
                r.to_customer_id = other_b.clone();
                r.equity_share = Some(v1::Decimal { value: bad.into() });
            }),
            "relationship.equity_share",
        ));
    }
    cases.push((
        edit(&|r| {
            r.effective = Some(v1::EffectiveRange {
                start_date: Some(date(2024, 2, 30)),
                end_date: None,
            })
        }),
        "relationship.effective.start_date",
    ));
    cases.push((
        edit(&|r| {
            r.effective = Some(v1::EffectiveRange {
                start_date: Some(date(2024, 1, 1)),
                end_date: Some(date(2025, 1, 1)),
            })
        }),
        "relationship.effective.end_date",
    ));
    let mut long_reason = good();
    long_reason.reason = "x".repeat(501);
    cases.push((long_reason, "reason"));
    for (i, (request, field)) in cases.into_iter().enumerate() {
        assert_names(
            w.send_link(&e1, request).await,
            field,
            &format!("link case {i}"),
        );
    }
    // Every bad field of one request is named at once.
    let err = w
        .send_link(
            &e1,
            edit(&|r| {
                r.relationship_type = 0;
                r.from_customer_id.clear();
                r.title = "x".repeat(101);
            }),
        )
        .await
        .expect_err("several");
    let named = fields(&err);
    for f in [
        "relationship.relationship_type",
        "relationship.from_customer_id",
    ] {
        assert!(named.iter().any(|n| n == f), "{f} in {named:?}");
    }

    let id = existing.relationship_id.clone();
    let unlink = |relationship_id: &str, end_date: Option<v1::Date>, reason: &str| {
        v1::UnlinkCustomersRequest {
            relationship_id: relationship_id.into(),
            end_date,
            expected_version: 1,
            reason: reason.into(),
        }
    };
    for (request, field) in [
        (unlink("", None, "r"), "relationship_id"),
        (unlink("nope", None, "r"), "relationship_id"),
        (unlink(&id, Some(date(2024, 13, 1)), "r"), "end_date"),
        (unlink(&id, None, ""), "reason"),
        (unlink(&id, None, "   "), "reason"),
        (unlink(&id, None, &"x".repeat(501)), "reason"),
    ] {
        let result = w
            .client
            .unlink_customers(TestSuite::authed(request, &e1))
            .await;
        assert_names(result, field, &format!("unlink {field}"));
    }

    let list = |f: &dyn Fn(&mut v1::ListRelationshipsRequest)| {
        let mut r = v1::ListRelationshipsRequest {
            customer_id: firm.clone(),
            ..Default::default()
        };
        f(&mut r);
        r
    };
    for (request, field) in [
        (list(&|r| r.customer_id.clear()), "customer_id"),
        (list(&|r| r.customer_id = "x".into()), "customer_id"),
        (list(&|r| r.direction = 9), "direction"),
        (
            list(&|r| r.relationship_types = vec![1, 77]),
            "relationship_types[1]",
        ),
        (list(&|r| r.page_size = -1), "page_size"),
        (list(&|r| r.page_size = 501), "page_size"),
        (list(&|r| r.page_token = "garbage".into()), "page_token"),
    ] {
        assert_names(w.list(&e1, request).await, field, &format!("list {field}"));
    }
    // A token is bound to its filters.
    let page = w.list(&e1, list(&|r| r.page_size = 1)).await.expect("page");
    assert!(page.next_page_token.is_empty(), "one link only");
    w.link(T::DistributorOf, &firm, &other).await;
    let page = w.list(&e1, list(&|r| r.page_size = 1)).await.expect("page");
    let token = page.next_page_token.clone();
    assert!(!token.is_empty());
    assert_names(
        w.list(
            &e1,
            list(&|r| {
                r.page_size = 1;
                r.page_token = token.clone();
                r.include_ended = true;
            }),
        )
        .await,
        "page_token",
        "token reused with other filters",
    );

    let walk = |f: &dyn Fn(&mut v1::TraverseRelationshipsRequest)| {
        let mut r = v1::TraverseRelationshipsRequest {
            root_customer_id: firm.clone(),
            max_depth: 2,
            ..Default::default()
        };
        f(&mut r);
        r
    };
    for (request, field) in [
        (walk(&|r| r.root_customer_id.clear()), "root_customer_id"),
        (
            walk(&|r| r.root_customer_id = "zz".into()),
            "root_customer_id",
        ),
        (
            walk(&|r| r.relationship_types = vec![0]),
            "relationship_types[0]",
        ),
        (walk(&|r| r.direction = -1), "direction"),
        (walk(&|r| r.max_depth = 0), "max_depth"),
        (walk(&|r| r.max_depth = 4), "max_depth"),
        (walk(&|r| r.max_depth = -1), "max_depth"),
        (walk(&|r| r.max_nodes = -1), "max_nodes"),
        (walk(&|r| r.max_nodes = 2_001), "max_nodes"),
    ] {
        assert_names(
            w.traverse(&e1, request).await,
            field,
            &format!("traverse {field}"),
        );
    }
    let mut after = w.snapshot().await;
    // Only the one good link made above was added.
    after
        .links
        .retain(|l| l.relationship_type != "distributor_of");
    assert_eq!(after.links, before.links, "no refused request wrote a link");
    assert_eq!(after.events, before.events + 2);
    assert_eq!(after.audit, before.audit + 1);
    w.suite.stop().await;
}

async fn traversal_answers_a_supply_chain_with_its_executives(backend: Backend) {
    let mut w = world(backend).await;
    let e1 = w.e1.clone();
    let core = w.corporate("核心企业").await;
    let s1 = w.corporate("一级供应商甲").await;
    let s2 = w
        .customer(v1::CustomerKind::SmallBusiness, "一级供应商乙", "BJ01")
        .await;
    let s3 = w.corporate("二级供应商").await;
    let d1 = w.corporate("经销商").await;
    let hidden = w
        .customer(v1::CustomerKind::Corporate, "上海供应商", "SH01")
        .await;
    let hidden_exec = w
        .customer(v1::CustomerKind::Individual, "上海高管", "SH01")
        .await;
    let core_ceo = w.person("核心CEO").await;
    let s1_cfo = w.person("甲CFO").await;
    let d1_ceo = w.person("经销商CEO").await;
    let s3_ceo = w.person("二级CEO").await;
    let holding = w.corporate("控股集团").await;
    let clerk = w.person("职员").await;
    let gone = w.corporate("旧供应商").await;

    let mut rels: BTreeMap<&str, v1::Relationship> = BTreeMap::new();
    rels.insert("s1", w.link(T::SupplierOf, &s1, &core).await);
    rels.insert("s2", w.link(T::SupplierOf, &s2, &core).await);
    rels.insert("d1", w.link(T::DistributorOf, &d1, &core).await);
    rels.insert("core_ceo", w.link(T::ExecutiveOf, &core_ceo, &core).await);
    rels.insert("s1_cfo", w.link(T::ExecutiveOf, &s1_cfo, &s1).await);
    rels.insert("d1_ceo", w.link(T::ExecutiveOf, &d1_ceo, &d1).await);
    rels.insert("s3", w.link(T::SupplierOf, &s3, &s1).await);
    rels.insert("s3_ceo", w.link(T::ExecutiveOf, &s3_ceo, &s3).await);
    // Not followed: another type, an ended link, and what lies beyond a hidden supplier.
    w.link(T::GroupParentOf, &holding, &core).await;
    w.link(T::EmployeeOf, &clerk, &s2).await;
    let mut old = link_request(T::SupplierOf, &gone, &core);
    old.relationship.as_mut().expect("rel").effective = Some(v1::EffectiveRange {
        start_date: Some(date(2023, 1, 1)),
        end_date: None,
    });
    let old = w.send_link(&e1, old).await.expect("old link");
    w.unlink(&e1, &old.relationship_id, Some(date(2024, 1, 1)), 1)
        .await
        .expect("ended");
    let admin = w.admin.clone();
    let mut cross = link_request(T::SupplierOf, &hidden, &core);
    cross.reason = "cross-region supplier".into();
    let cross = w.send_link(&admin, cross).await.expect("cross link");
    let mut hidden_link = link_request(T::ExecutiveOf, &hidden_exec, &hidden);
    hidden_link.reason.clear();
    w.send_link(&admin, hidden_link).await.expect("hidden exec");

    // The whole supply chain with the executives of each firm, in one call.
    let request = v1::TraverseRelationshipsRequest {
        root_customer_id: core.clone(),
        relationship_types: vec![
            T::SupplierOf as i32,
            T::DistributorOf as i32,
            T::ExecutiveOf as i32,
        ],
        direction: v1::RelationshipDirection::Incoming as i32,
        max_depth: 3,
        max_nodes: 0,
    };
    let walk = w.traverse(&e1, request.clone()).await.expect("traverse");
    assert!(!walk.truncated);
    let root = &walk.nodes[0];
    assert_eq!(
        (root.customer_id.as_str(), root.depth, root.name.as_str()),
        (core.as_str(), 0, "核心企业")
    );
    assert!(root.parent_customer_id.is_empty() && root.via_relationship_id.is_empty());
    assert!(
        walk.nodes.windows(2).all(|p| p[0].depth <= p[1].depth),
        "breadth first"
    );
    let by_id: BTreeMap<&str, &v1::TraversalNode> = walk
        .nodes
        .iter()
        .map(|n| (n.customer_id.as_str(), n))
        .collect();
    assert_eq!(by_id.len(), walk.nodes.len(), "each customer once");
    let expect = [
        (&s1, 1, &core, "s1"),
        (&s2, 1, &core, "s2"),
        (&d1, 1, &core, "d1"),
        (&core_ceo, 1, &core, "core_ceo"),
        (&s1_cfo, 2, &s1, "s1_cfo"),
        (&d1_ceo, 2, &d1, "d1_ceo"),
        (&s3, 2, &s1, "s3"),
        (&s3_ceo, 3, &s3, "s3_ceo"),
    ];
    for (id, depth, parent, rel) in expect {
        let node = by_id
            .get(id.as_str())
            .unwrap_or_else(|| panic!("{rel} reached"));
        assert_eq!(node.depth, depth, "{rel}");
        assert_eq!(&node.parent_customer_id, parent, "{rel}");
        assert_eq!(node.via_relationship_id, rels[rel].relationship_id, "{rel}");
        assert!(!node.restricted && !node.name.is_empty(), "{rel}");
    }
    assert_eq!(
        by_id[s2.as_str()].kind,
        v1::CustomerKind::SmallBusiness as i32
    );
    assert_eq!(
        by_id[s1_cfo.as_str()].kind,
        v1::CustomerKind::Individual as i32
    );
    // The hidden supplier is reported as restricted: id, kind and depth only, and not walked
    // through; no edge touching it is returned.
    let h = by_id[hidden.as_str()];
    assert!(h.restricted);
    assert_eq!(
        (
            h.depth,
            h.kind,
            h.name.as_str(),
            h.parent_customer_id.as_str(),
            h.via_relationship_id.as_str()
        ),
        (1, v1::CustomerKind::Corporate as i32, "", "", "")
    );
    for absent in [&hidden_exec, &holding, &clerk, &gone] {
        assert!(
            !by_id.contains_key(absent.as_str()),
            "{absent} must not be reached"
        );
    }
    assert_eq!(walk.nodes.len(), 10);
    let returned: BTreeSet<&str> = walk
        .relationships
        .iter()
        .map(|r| r.relationship_id.as_str())
        .collect();
    let expected: BTreeSet<&str> = rels.values().map(|r| r.relationship_id.as_str()).collect();
    assert_eq!(
        returned, expected,
        "every edge followed between visible nodes"
    );
    assert!(!returned.contains(cross.relationship_id.as_str()));

    // Depth 2 stops before the second-tier supplier's executive.
    let mut shallow = request.clone();
    shallow.max_depth = 2;
    let walk2 = w.traverse(&e1, shallow).await.expect("depth 2");
    assert!(walk2.nodes.iter().all(|n| n.depth <= 2));
    assert!(!walk2.nodes.iter().any(|n| n.customer_id == s3_ceo));
    assert_eq!(walk2.nodes.len(), 9);

    // A bank-wide reader sees the hidden supplier and walks on to its executive.
    let auditor = w.auditor.clone();
    let all = w
        .traverse(&auditor, request.clone())
        .await
        .expect("auditor");
    assert!(all.nodes.iter().all(|n| !n.restricted));
    assert!(all.nodes.iter().any(|n| n.customer_id == hidden_exec));
    assert_eq!(all.nodes.len(), 11);

    // Outgoing from the core reaches nothing of the chain; from a supplier it reaches the core.
    let mut out = request.clone();
    out.direction = v1::RelationshipDirection::Outgoing as i32;
    assert_eq!(
        w.traverse(&e1, out.clone()).await.expect("out").nodes.len(),
        1
    );
    out.root_customer_id = s3.clone();
    let up: Vec<String> = w
        .traverse(&e1, out)
        .await
        .expect("up the chain")
        .nodes
        .into_iter()
        .map(|n| n.customer_id)
        .collect();
    assert_eq!(up, vec![s3.clone(), s1.clone(), core.clone()]);

    // An invisible root is NOT_FOUND.
    let mut from_hidden = request.clone();
    from_hidden.root_customer_id = hidden.clone();
    let err = w.traverse(&e1, from_hidden).await.expect_err("hidden root");
    assert_eq!(err.code(), Code::NotFound);
    w.suite.stop().await;
}

async fn a_cycle_terminates_and_the_bounds_hold(backend: Backend) {
    let mut w = world(backend).await;
    let e1 = w.e1.clone();
    let a = w.corporate("A").await;
    let b = w.corporate("B").await;
    let ab = w.link(T::SupplierOf, &a, &b).await;
    let ba = w.link(T::SupplierOf, &b, &a).await;
    for direction in [
        v1::RelationshipDirection::Outgoing,
        v1::RelationshipDirection::Incoming,
        v1::RelationshipDirection::Both,
    ] {
        let walk = w
            .traverse(
                &e1,
                v1::TraverseRelationshipsRequest {
                    root_customer_id: a.clone(),
                    direction: direction as i32,
                    max_depth: 3,
                    ..Default::default()
                },
            )
            .await
            .expect("cycle");
        let nodes: Vec<(&str, i32)> = walk
            .nodes
            .iter()
            .map(|n| (n.customer_id.as_str(), n.depth))
            .collect();
        assert_eq!(nodes, [(a.as_str(), 0), (b.as_str(), 1)], "{direction:?}");
        let edges: BTreeSet<&str> = walk
            .relationships
            .iter()
            .map(|r| r.relationship_id.as_str())
            .collect();
        assert_eq!(
            edges,
            BTreeSet::from([ab.relationship_id.as_str(), ba.relationship_id.as_str()]),
            "{direction:?}"
        );
        assert!(!walk.truncated);
    }
    let err = w
        .traverse(
            &e1,
            v1::TraverseRelationshipsRequest {
                root_customer_id: a.clone(),
                max_depth: 4,
                ..Default::default()
            },
        )
        .await
        .expect_err("depth 4");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(fields(&err), ["max_depth"]);

    // The node cap: a market of five tenants, walked with room for three customers.
    let market = w.corporate("Market").await;
    for i in 0..5 {
        let tenant = w
            .customer(
                v1::CustomerKind::SmallBusiness,
                &format!("Tenant {i}"),
                "BJ01",
            )
            .await;
        w.link(T::MarketMemberOf, &tenant, &market).await;
    }
    let capped = w
        .traverse(
            &e1,
            v1::TraverseRelationshipsRequest {
                root_customer_id: market.clone(),
                max_depth: 1,
                max_nodes: 3,
                ..Default::default()
            },
        )
        .await
        .expect("capped");
    assert_eq!(capped.nodes.len(), 3);
    assert!(capped.truncated);
    assert_eq!(capped.relationships.len(), 2);
    let full = w
        .traverse(
            &e1,
            v1::TraverseRelationshipsRequest {
                root_customer_id: market.clone(),
                max_depth: 1,
                max_nodes: 6,
                ..Default::default()
            },
        )
        .await
        .expect("full");
    assert_eq!(full.nodes.len(), 6);
    assert!(!full.truncated);
    let err = w
        .traverse(
            &e1,
            v1::TraverseRelationshipsRequest {
                root_customer_id: "0190a6d2-7c4e-7b1a-9f3e-2d4c5b6a7e8f".into(),
                max_depth: 1,
                ..Default::default()
            },
        )
        .await
        .expect_err("unknown root");
    assert_eq!(err.code(), Code::NotFound);
    w.suite.stop().await;
}

bankmkt_e2e::on_both_backends!(
    links_are_listed_both_ways_audited_and_evented,
    an_open_link_is_unique_even_under_concurrency,
    unlinking_keeps_history_under_optimistic_concurrency,
    links_need_visible_active_customers_of_fitting_kinds,
    bad_requests_name_the_field_and_change_nothing,
    traversal_answers_a_supply_chain_with_its_executives,
    a_cycle_terminates_and_the_bounds_hold,
);
