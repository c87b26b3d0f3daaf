//! Helpers shared by the coordination service's end-to-end tests: a suite with a branch tree
//! (HQ → BJ → BJ01/BJ02, HQ → SH → SH01), a staff directory, tokens carrying each employee's lines,
//! a core enterprise with a supplier and two executives (one with cross-line consent, one
//! without) created and linked through the registry, builders of opportunities and units, and
//! what a refusal names (fields, the claim holder).

use std::time::Duration;

use bankmkt_proto::v1;
use bankmkt_proto::v1::coordination_client::CoordinationClient;
use bankmkt_proto::v1::customer_registry_client::CustomerRegistryClient;
use tonic::transport::Channel;
use tonic_types::StatusExt;

use crate::{Backend, TestSuite};

/// The customers of the campaign.
#[derive(Debug, Clone)]
pub struct Customers {
    /// The core enterprise (corporate, BJ01).
    pub core: String,
    /// Its supplier (small business).
    pub supplier: String,
    /// An executive with cross-line consent.
    pub exec: String,
    /// An executive without any consent.
    pub exec_no_consent: String,
    /// Another corporate customer with no relationships.
    pub other: String,
}

/// A suite with a coordination client, the registry set up, and tokens.
#[derive(Debug)]
pub struct World {
    /// The running suite.
    pub suite: TestSuite,
    /// Coordination.
    pub client: CoordinationClient<Channel>,
    /// The registry.
    pub registry: CustomerRegistryClient<Channel>,
    /// m1: BJ01 corporate customer manager (creates the campaign).
    pub m1: String,
    /// m1b: another BJ01 corporate manager.
    pub m1b: String,
    /// m2: BJ01 small-business manager.
    pub m2: String,
    /// m4: BJ corporate manager, the "second branch".
    pub m4: String,
    /// m5: SH01 corporate manager.
    pub m5: String,
    /// The customers.
    pub customers: Customers,
}

fn id_number(serial: u32, individual: bool) -> String {
    use bankmkt_domain::customer::{resident_id_check_char, uscc_check_char};
    if individual {
        let body = format!("110105198001{:05}", 20_000 + serial % 1000);
        let body = &body[..17];
        format!(
            "{body}{}",
            resident_id_check_char(body).unwrap_or_else(|| panic!("check char"))
        )
    } else {
        let body = format!("91110100M{:08}", 700_000 + serial);
        format!(
            "{body}{}",
            uscc_check_char(&body).unwrap_or_else(|| panic!("check char"))
        )
    }
}

/// A token for `sub` at `branch` with `lines` and the customer-manager role.
pub fn token(suite: &TestSuite, sub: &str, branch: &str, lines: &[&str]) -> String {
    let lines: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    suite
        .authenticator()
        .mint(
            sub,
            branch,
            &lines,
            &["customer_manager".to_owned()],
            Duration::from_secs(600),
        )
        .unwrap_or_else(|e| panic!("mint: {e}"))
}

/// A unit of an opportunity.
pub fn unit(
    branch: &str,
    line: v1::BusinessLine,
    role: v1::UnitRole,
    bps: i32,
) -> v1::OpportunityUnit {
    v1::OpportunityUnit {
        unit_id: String::new(),
        unit: Some(v1::UnitRef {
            branch_id: branch.into(),
            line: line as i32,
        }),
        role: role as i32,
        share_bps: bps,
    }
}

/// The campaign's units: BJ01 corporate lead 5000, small business 3000, retail 2000.
pub fn campaign_units() -> Vec<v1::OpportunityUnit> {
    use v1::BusinessLine::*;
    vec![
        unit("BJ01", Corporate, v1::UnitRole::Lead, 5000),
        unit("BJ01", SmallBusiness, v1::UnitRole::Co, 3000),
        unit("BJ01", Retail, v1::UnitRole::Co, 2000),
    ]
}

/// An opportunity on `target` with `linked` targets and `units`.
pub fn opportunity(
    name: &str,
    target: &str,
    linked: &[&str],
    units: Vec<v1::OpportunityUnit>,
) -> v1::Opportunity {
    v1::Opportunity {
        name: name.into(),
        opportunity_type: v1::OpportunityType::SupplyChainFinance as i32,
        target_customer_id: target.into(),
        linked_targets: linked
            .iter()
            .map(|c| v1::LinkedTarget {
                customer_id: (*c).into(),
                ..Default::default()
            })
            .collect(),
        plan: "supply-chain finance for the core enterprise and its chain".into(),
        units,
        ..Default::default()
    }
}

/// The field paths an `INVALID_ARGUMENT` names.
pub fn fields(status: &tonic::Status) -> Vec<String> {
    crate::registry::fields(status)
}

/// The holder an `ALREADY_EXISTS` names, if any.
pub fn holder(status: &tonic::Status) -> Option<String> {
    status
        .get_error_details()
        .error_info()
        .and_then(|i| i.metadata.get("holder_opportunity_id").cloned())
}

impl World {
    /// Starts a suite on `backend` and sets up the registry.
    pub async fn start(backend: Backend) -> World {
        use v1::BranchLevel::*;
        use v1::BusinessLine::*;
        let suite = TestSuite::start_on(backend, |_| {}).await;
        let mut registry = CustomerRegistryClient::new(suite.channel("customer-registry").await);
        let client = CoordinationClient::new(suite.channel("coordination").await);
        let admin = suite.token("admin1", "HQ", &["admin"]);
        let branch = |id: &str, parent: &str, level: v1::BranchLevel| v1::Branch {
            branch_id: id.into(),
            parent_id: parent.into(),
            level: level as i32,
            name: id.into(),
            ..Default::default()
        };
        registry
            .load_branches(TestSuite::authed(
                v1::LoadBranchesRequest {
                    idempotency_key: "tree".into(),
                    branches: vec![
                        branch("HQ", "", HeadOffice),
                        branch("BJ", "HQ", Tier1Branch),
                        branch("BJ01", "BJ", Tier2Branch),
                        branch("BJ02", "BJ", Tier2Branch),
                        branch("SH", "HQ", Tier1Branch),
                        branch("SH01", "SH", Tier2Branch),
                    ],
                    effective_date: None,
                },
                &admin,
            ))
            .await
            .unwrap_or_else(|e| panic!("tree: {e:?}"));
        let employee = |id: &str, branch: &str, line: v1::BusinessLine| v1::Employee {
            employee_id: id.into(),
            name: id.into(),
            branch_id: branch.into(),
            lines: vec![line as i32],
            roles: vec![v1::Role::CustomerManager as i32],
            ..Default::default()
        };
        registry
            .load_employees(TestSuite::authed(
                v1::LoadEmployeesRequest {
                    idempotency_key: "staff".into(),
                    employees: vec![
                        employee("m1", "BJ01", Corporate),
                        employee("m1b", "BJ01", Corporate),
                        employee("m2", "BJ01", SmallBusiness),
                        employee("m3", "BJ01", Retail),
                        employee("m4", "BJ", Corporate),
                        employee("m5", "SH01", Corporate),
                        employee("x1", "SH01", Retail),
                    ],
                },
                &admin,
            ))
            .await
            .unwrap_or_else(|e| panic!("staff: {e:?}"));
        let m1 = token(&suite, "m1", "BJ01", &["corporate"]);
        let mut serial = 0;
        let mut create = async |kind: v1::CustomerKind, name: &str| {
            serial += 1;
            let individual = kind == v1::CustomerKind::Individual;
            let request = v1::CreateCustomerRequest {
                idempotency_key: format!("c{serial}"),
                customer: Some(v1::Customer {
                    kind: kind as i32,
                    name: name.into(),
                    identities: vec![v1::IdentityDocument {
                        identity_type: if individual {
                            v1::IdentityType::ResidentId as i32
                        } else {
                            v1::IdentityType::UnifiedSocialCreditCode as i32
                        },
                        number: id_number(serial, individual),
                        ..Default::default()
                    }],
                    owning_branch_id: "BJ01".into(),
                    primary_manager_id: "m1".into(),
                    backup_manager_id: "m1b".into(),
                    ..Default::default()
                }),
                source_refs: vec![],
            };
            registry
                .create_customer(TestSuite::authed(request, &m1))
                .await
                .unwrap_or_else(|e| panic!("create {name}: {e:?}"))
                .into_inner()
                .customer
                .unwrap_or_else(|| panic!("customer"))
                .customer_id
        };
        let core = create(v1::CustomerKind::Corporate, "Core Steel Group").await;
        let supplier = create(v1::CustomerKind::SmallBusiness, "Coil Supplier Ltd").await;
        let exec = create(v1::CustomerKind::Individual, "Zhang Wei").await;
        let exec_no_consent = create(v1::CustomerKind::Individual, "Li Na").await;
        let other = create(v1::CustomerKind::Corporate, "Other Works").await;
        let mut registry2 = registry.clone();
        let mut link = async |t: v1::RelationshipType, from: &str, to: &str| {
            registry2
                .link_customers(TestSuite::authed(
                    v1::LinkCustomersRequest {
                        relationship: Some(v1::Relationship {
                            relationship_type: t as i32,
                            from_customer_id: from.into(),
                            to_customer_id: to.into(),
                            ..Default::default()
                        }),
                        reason: "known from the annual review".into(),
                    },
                    &m1,
                ))
                .await
                .unwrap_or_else(|e| panic!("link {t:?}: {e:?}"));
        };
        link(v1::RelationshipType::SupplierOf, &supplier, &core).await;
        link(v1::RelationshipType::ExecutiveOf, &exec, &core).await;
        link(v1::RelationshipType::ExecutiveOf, &exec_no_consent, &core).await;
        let current = registry
            .get_consent(TestSuite::authed(
                v1::GetConsentRequest {
                    customer_id: exec.clone(),
                },
                &m1,
            ))
            .await
            .map(|r| r.into_inner().consent.unwrap_or_default())
            .unwrap_or_default();
        registry
            .update_consent(TestSuite::authed(
                v1::UpdateConsentRequest {
                    consent: Some(v1::Consent {
                        customer_id: exec.clone(),
                        cross_line_use: true,
                        ..Default::default()
                    }),
                    expected_version: current.version,
                    evidence: "signed form".into(),
                },
                &m1,
            ))
            .await
            .unwrap_or_else(|e| panic!("consent: {e:?}"));
        World {
            m1b: token(&suite, "m1b", "BJ01", &["corporate"]),
            m2: token(&suite, "m2", "BJ01", &["small_business"]),
            m4: token(&suite, "m4", "BJ", &["corporate"]),
            m5: token(&suite, "m5", "SH01", &["corporate"]),
            m1,
            customers: Customers {
                core,
                supplier,
                exec,
                exec_no_consent,
                other,
            },
            suite,
            client,
            registry,
        }
    }

    /// Creates an opportunity as `token`.
    pub async fn create(
        &self,
        token: &str,
        key: &str,
        opportunity: v1::Opportunity,
    ) -> Result<v1::Opportunity, tonic::Status> {
        self.client
            .clone()
            .create_opportunity(TestSuite::authed(
                v1::CreateOpportunityRequest {
                    idempotency_key: key.into(),
                    opportunity: Some(opportunity),
                    playbook_id: String::new(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().opportunity.unwrap_or_default())
    }

    /// The campaign around the core enterprise with the supplier and the consenting executive.
    pub async fn campaign(&self) -> v1::Opportunity {
        let c = &self.customers;
        self.create(
            &self.m1,
            "campaign",
            opportunity(
                "Core Steel supply chain",
                &c.core,
                &[&c.supplier, &c.exec],
                campaign_units(),
            ),
        )
        .await
        .unwrap_or_else(|e| panic!("campaign: {e:?}"))
    }

    /// Moves `id` (at `version`) to `stage` as `token`.
    pub async fn transition(
        &self,
        token: &str,
        id: &str,
        version: i64,
        stage: v1::OpportunityStage,
        reason: &str,
    ) -> Result<v1::Opportunity, tonic::Status> {
        self.client
            .clone()
            .transition_stage(TestSuite::authed(
                v1::TransitionStageRequest {
                    opportunity_id: id.into(),
                    to_stage: stage as i32,
                    reason: reason.into(),
                    after_sales: None,
                    expected_version: version,
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().opportunity.unwrap_or_default())
    }

    /// The active claims of `customer`, as `token` sees them.
    pub async fn active_claims(&self, token: &str, customer: &str) -> Vec<v1::Claim> {
        self.client
            .clone()
            .list_claims(TestSuite::authed(
                v1::ListClaimsRequest {
                    customer_id: customer.into(),
                    active_only: true,
                    ..Default::default()
                },
                token,
            ))
            .await
            .unwrap_or_else(|e| panic!("claims: {e:?}"))
            .into_inner()
            .claims
    }
}

/// The calendar date `days` after today (UTC), for the wire.
pub fn date_after(days: i64) -> v1::Date {
    use chrono::Datelike;
    let d = chrono::Utc::now().date_naive() + chrono::Duration::days(days);
    v1::Date {
        year: d.year(),
        month: d.month() as i32,
        day: d.day() as i32,
    }
}

/// A bid on opportunity `id` closing `seconds` from now (negative: in the past).
pub fn bid(id: &str, seconds: i64) -> v1::Bid {
    let mut bid = v1::Bid {
        opportunity_id: id.into(),
        description: "who leads the group relationship".into(),
        close_time: Some(Default::default()),
        ..Default::default()
    };
    if let Some(t) = bid.close_time.as_mut() {
        t.seconds = chrono::Utc::now().timestamp() + seconds;
    }
    bid
}

/// A token for `sub` at `branch` with `lines` and `roles`.
pub fn role_token(
    suite: &TestSuite,
    sub: &str,
    branch: &str,
    lines: &[&str],
    roles: &[&str],
) -> String {
    let lines: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
    suite
        .authenticator()
        .mint(sub, branch, &lines, &roles, Duration::from_secs(600))
        .unwrap_or_else(|e| panic!("mint: {e}"))
}

/// A playbook step owned by `line` (the lead's when unspecified), due `offset` working days
/// after the start.
pub fn step(id: &str, line: v1::BusinessLine, offset: i32) -> v1::PlaybookStep {
    v1::PlaybookStep {
        step_id: id.into(),
        title: format!("step {id}"),
        description: String::new(),
        stage: v1::OpportunityStage::Preparation as i32,
        owner_line: line as i32,
        owner_role: v1::MemberRole::Unspecified as i32,
        due_offset_working_days: offset,
    }
}

/// An active playbook of `kind` with `steps`.
pub fn playbook(
    name: &str,
    kind: v1::OpportunityType,
    steps: Vec<v1::PlaybookStep>,
) -> v1::Playbook {
    v1::Playbook {
        name: name.into(),
        opportunity_type: kind as i32,
        steps,
        active: true,
        ..Default::default()
    }
}

/// A proposal of `unit` to lead with `units`.
pub fn proposal(
    branch: &str,
    line: v1::BusinessLine,
    units: Vec<v1::OpportunityUnit>,
) -> v1::BidProposal {
    v1::BidProposal {
        unit: Some(v1::UnitRef {
            branch_id: branch.into(),
            line: line as i32,
        }),
        proposed_units: units,
        plan: "we know the group best".into(),
        ..Default::default()
    }
}

impl World {
    /// Adds `employee` to `unit_id` of opportunity `id` (at `version`) as `token`; returns the
    /// opportunity's new version.
    pub async fn add_member(
        &self,
        token: &str,
        id: &str,
        version: i64,
        employee: &str,
        unit_id: &str,
    ) -> Result<i64, tonic::Status> {
        self.client
            .clone()
            .add_member(TestSuite::authed(
                v1::AddMemberRequest {
                    opportunity_id: id.into(),
                    member: Some(v1::Member {
                        employee_id: employee.into(),
                        unit_id: unit_id.into(),
                        role: v1::MemberRole::CustomerManager as i32,
                        added: None,
                    }),
                    expected_version: version,
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().opportunity_version)
    }

    /// Creates a task on opportunity `id` (at `version`) as `token`, owned by `owner`, due on
    /// `due` or else in `in_days` working days.
    pub async fn create_task(
        &self,
        token: &str,
        id: &str,
        version: i64,
        owner: &str,
        due: Option<v1::Date>,
        in_days: i32,
    ) -> Result<v1::Task, tonic::Status> {
        self.client
            .clone()
            .create_task(TestSuite::authed(
                v1::CreateTaskRequest {
                    task: Some(v1::Task {
                        opportunity_id: id.into(),
                        title: "visit the treasurer".into(),
                        owner_employee_id: owner.into(),
                        due_date: due,
                        ..Default::default()
                    }),
                    due_in_working_days: in_days,
                    expected_version: version,
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().task.unwrap_or_default())
    }

    /// Creates `playbook` as `token`.
    pub async fn create_playbook(
        &self,
        token: &str,
        playbook: v1::Playbook,
    ) -> Result<v1::Playbook, tonic::Status> {
        self.client
            .clone()
            .create_playbook(TestSuite::authed(
                v1::CreatePlaybookRequest {
                    playbook: Some(playbook),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().playbook.unwrap_or_default())
    }

    /// Opens a bid on opportunity `id` (at `version`) as `token`, closing in an hour.
    pub async fn open_bid(
        &self,
        token: &str,
        id: &str,
        version: i64,
    ) -> Result<v1::Bid, tonic::Status> {
        self.client
            .clone()
            .open_bid(TestSuite::authed(
                v1::OpenBidRequest {
                    bid: Some(bid(id, 3600)),
                    expected_version: version,
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().bid.unwrap_or_default())
    }
}

/// A referral of `customer` from `from_branch`/`from_line` to `to_line`, interested in payroll.
pub fn referral(
    customer: &str,
    from_branch: &str,
    from_line: v1::BusinessLine,
    to_line: v1::BusinessLine,
) -> v1::Referral {
    v1::Referral {
        customer_id: customer.into(),
        from_unit: Some(v1::UnitRef {
            branch_id: from_branch.into(),
            line: from_line as i32,
        }),
        to_line: to_line as i32,
        interest: Some(v1::ExpressedInterest {
            category: v1::ProductCategory::Payroll as i32,
            description: "payroll for 300 staff".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A visit by `employee` of `unit_branch`/`line` to `customers`, an hour ago.
pub fn visit(
    employee: &str,
    unit_branch: &str,
    line: v1::BusinessLine,
    customers: &[&str],
) -> v1::Activity {
    let start = chrono::Utc::now() - chrono::Duration::hours(1);
    let mut activity = v1::Activity {
        activity_type: v1::ActivityType::Visit as i32,
        channel: v1::ContactChannel::InPerson as i32,
        subject: "quarterly visit".into(),
        record: "discussed supply-chain finance and payroll".into(),
        start_time: Some(Default::default()),
        end_time: Some(Default::default()),
        participants: vec![v1::Participant {
            employee_id: employee.into(),
            unit: Some(v1::UnitRef {
                branch_id: unit_branch.into(),
                line: line as i32,
            }),
        }],
        customer_ids: customers.iter().map(|c| (*c).to_owned()).collect(),
        ..Default::default()
    };
    if let Some(t) = activity.start_time.as_mut() {
        t.seconds = start.timestamp();
    }
    if let Some(t) = activity.end_time.as_mut() {
        t.seconds = start.timestamp() + 1800;
    }
    activity
}

/// A cadence rule: corporate customers at least one visit a month, from `start`.
pub fn monthly_visits(start: chrono::NaiveDate) -> v1::CadenceRule {
    use chrono::Datelike;
    v1::CadenceRule {
        name: "large customers: a visit a month".into(),
        kinds: vec![v1::CustomerKind::Corporate as i32],
        min_activities: 1,
        window_months: 1,
        effective: Some(v1::EffectiveRange {
            start_date: Some(v1::Date {
                year: start.year(),
                month: start.month() as i32,
                day: start.day() as i32,
            }),
            end_date: None,
        }),
        ..Default::default()
    }
}

/// `(audit entries, outbox events)` of coordination about `id` with `action` and `event`.
pub async fn trail(suite: &TestSuite, id: &str, action: &str, event: &str) -> (u64, u64) {
    use bankmkt_platform::{audit, outbox};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let db = bankmkt_platform::db::connect(
        &suite.settings(),
        bankmkt_platform::settings::ServiceKind::Coordination,
    )
    .await
    .unwrap_or_else(|e| panic!("coordination db: {e}"));
    let audits = audit::entity::Entity::find()
        .filter(audit::entity::Column::TargetId.eq(id))
        .filter(audit::entity::Column::Action.eq(action))
        .count(&db)
        .await
        .unwrap_or_else(|e| panic!("audit: {e}"));
    let events = outbox::entity::Entity::find()
        .filter(outbox::entity::Column::AggregateId.eq(id))
        .filter(outbox::entity::Column::EventType.eq(event))
        .count(&db)
        .await
        .unwrap_or_else(|e| panic!("outbox: {e}"));
    (audits, events)
}

/// A coordination service of the library on `suite`'s coordination database, calling the
/// suite's registry and pricing, on a [`Clock::manual`](bankmkt_platform::clock::Clock::manual)
/// clock started now: tests move the returned hand to see date-driven answers (`ListOverdue`)
/// while the suite's own service runs on the system clock. Call it with [`as_caller`] requests.
pub async fn manual_clock_service(
    suite: &TestSuite,
) -> (
    bankmkt_coordination::CoordinationService,
    bankmkt_platform::clock::ClockHand,
) {
    use bankmkt_coordination::{CoordinationService, Migrator, clients};
    use bankmkt_platform::client::ServiceIdentity;
    let settings = suite.settings();
    let tz = bankmkt_domain::calendar::parse_timezone(&settings.timezone)
        .unwrap_or_else(|e| panic!("timezone: {e}"));
    let calendar = bankmkt_domain::calendar::BusinessCalendar::new(tz, [], [])
        .unwrap_or_else(|e| panic!("calendar: {e}"));
    let (clock, hand) = bankmkt_platform::clock::Clock::manual(chrono::Utc::now(), calendar);
    let identity = || ServiceIdentity::new("coordination", suite.authenticator());
    let registry = format!("http://{}", suite.addr("customer-registry"));
    let pricing = format!("http://{}", suite.addr("pricing"));
    let service = CoordinationService {
        db: bankmkt_platform::db::open::<Migrator>(
            &settings,
            bankmkt_platform::settings::ServiceKind::Coordination,
        )
        .await
        .unwrap_or_else(|e| panic!("coordination db: {e}")),
        cache: bankmkt_platform::cache::ReadThrough::from_settings(&settings)
            .unwrap_or_else(|e| panic!("cache: {e}")),
        clock,
        registry: clients::Registry::connect_lazy(&registry, Duration::from_secs(5), identity())
            .unwrap_or_else(|e| panic!("registry client: {e}")),
        pricing: clients::Pricing::connect_lazy(&pricing, Duration::from_secs(5), identity())
            .unwrap_or_else(|e| panic!("pricing client: {e}")),
    };
    (service, hand)
}

/// `message` as a request reaches a service method called directly (see
/// [`manual_clock_service`]): with the bearer `token` and the caller the tower stack would have
/// authenticated from it.
pub fn as_caller<T>(suite: &TestSuite, message: T, token: &str) -> tonic::Request<T> {
    let mut request = TestSuite::authed(message, token);
    let headers = request.metadata().clone().into_headers();
    let caller = suite
        .authenticator()
        .authenticate(&headers)
        .unwrap_or_else(|e| panic!("caller: {e}"));
    request.extensions_mut().insert(caller);
    request
}

/// A wire date as a calendar date.
pub fn naive_date(d: &Option<v1::Date>) -> chrono::NaiveDate {
    let d = d.as_ref().unwrap_or_else(|| panic!("a date"));
    chrono::NaiveDate::from_ymd_opt(d.year, d.month as u32, d.day as u32)
        .unwrap_or_else(|| panic!("not a calendar date: {d:?}"))
}

/// A resident id (individuals) or unified social credit code (organisations) with a valid check
/// character, distinct per `serial` (0 to 999 for individuals).
pub fn identity_number(serial: u32, individual: bool) -> String {
    id_number(serial, individual)
}
