//! Opportunities (DOMAIN.md §5): `CreateOpportunity` (the header and units checked by the
//! domain's `OpportunityDraft` and `ShareSet`, the targets read from the registry as the caller
//! may see them, individuals checked for linked use by the domain's consent rule, the creator
//! fitting the lead unit, and a claim per target and line taken under the unique constraint —
//! a conflict is `ALREADY_EXISTS` naming the holder when the caller may see it), `Get`, `List`
//! (keyset paging, the caller's subtree or memberships), `UpdateOpportunity` (field mask,
//! optimistic concurrency), linked targets (suggested from the registry's relationship
//! traversal, leaving out and counting individuals the consent rule refuses; added and removed
//! with their claims), `TransitionStage` (the domain's transition check, `won` reading the
//! solution quote's status from pricing; lost and closed release the claims and withdraw a
//! pending amendment) and `CreateFollowOnOpportunity` (the domain's take-over of the parent's
//! claims). Every write is one transaction with its audit entry and outbox event; those that
//! change the targets, stage or members put the access grants into the registry
//! ([`crate::grants`]) before they commit.

use std::collections::BTreeSet;

use bankmkt_domain::coordination::claims::{self, ClaimKey};
use bankmkt_domain::coordination::contact::{self, ContactFacts};
use bankmkt_domain::coordination::members;
use bankmkt_domain::coordination::opportunity::{Goal, GoalItem, OpportunityDraft};
use bankmkt_domain::coordination::stage::{self, ClaimEffect, TransitionFacts};
use bankmkt_domain::coordination::{
    AfterSales, Amendment, AmendmentStatus, ClaimState, MemberRole, OpportunityStage, ShareHistory,
    ShareSet, StaffFacts,
};
use bankmkt_domain::customer::CustomerKind;
use bankmkt_domain::ids::CustomerId;
use bankmkt_domain::money::{Currency, Money};
use bankmkt_platform::Caller;
use bankmkt_platform::idempotency;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::NaiveDate;
use prost::Message;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use crate::CoordinationService;
use crate::clients;
use crate::convert::{self, stored};
use crate::entity::{
    active_claim, linked_target, member, opportunity, share_amendment, share_version,
};
use crate::error::{Result, ServiceError};
use crate::record::{Change, record};
use crate::shares;
use crate::store::{self, Loaded};

/// A wire amount at `field`.
fn money(field: &str, raw: Option<&v1::Money>, v: &mut Violations) -> Option<Money> {
    let raw = raw?;
    let currency = v.check(format!("{field}.currency"), Currency::parse(&raw.currency))?;
    Some(Money::from_minor(currency, raw.minor_units))
}

/// The domain goal of a wire goal at `field` (shape only; the domain checks the values).
fn goal(field: &str, raw: Option<&v1::Goal>, v: &mut Violations) -> Goal {
    let Some(raw) = raw else {
        return Goal::default();
    };
    Goal {
        items: raw
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let at = format!("{field}.items[{i}]");
                GoalItem {
                    product_id: item.product_id.clone(),
                    line: convert::filter_enum(
                        &format!("{at}.line"),
                        item.line,
                        convert::line_from_proto,
                        "business line",
                        v,
                    ),
                    expected_volume: money(
                        &format!("{at}.expected_volume"),
                        item.expected_volume.as_ref(),
                        v,
                    ),
                    expected_revenue: money(
                        &format!("{at}.expected_revenue"),
                        item.expected_revenue.as_ref(),
                        v,
                    ),
                }
            })
            .collect(),
        expected_revenue: money(
            &format!("{field}.expected_revenue"),
            raw.expected_revenue.as_ref(),
            v,
        ),
        description: raw.description.clone(),
    }
}

/// Individuals among `customers` are checked by the domain's linked-use consent rule.
async fn check_consent(
    svc: &CoordinationService,
    caller: &Caller,
    customers: &[clients::CustomerFacts],
) -> Result<()> {
    let mut facts = Vec::with_capacity(customers.len());
    for c in customers {
        let consent = if c.kind == CustomerKind::Individual {
            svc.registry.consent(caller, &c.customer_id).await?
        } else {
            None
        };
        facts.push(ContactFacts {
            customer: CustomerId::parse(&c.customer_id).map_err(ServiceError::internal)?,
            kind: c.kind,
            consent,
        });
    }
    contact::check_linked_use(&facts).map_err(|e| ServiceError::from_domain(e, ""))
}

/// The caller as the staff rules see them (their token's branch and lines).
fn caller_staff(caller: &Caller, today: NaiveDate) -> Result<StaffFacts> {
    let branch = caller.branch.clone().ok_or_else(|| {
        ServiceError::PermissionDenied("a caller without a branch works in no unit".to_owned())
    })?;
    Ok(StaffFacts {
        employee_id: caller.subject.clone(),
        branch,
        lines: caller.lines.clone(),
        active_from: today,
        active_to: None,
    })
}

/// Refuses a creator who does not work in the lead unit of `shares`.
fn require_lead_fit(
    staff: &StaffFacts,
    shares: &ShareSet,
    chains: &std::collections::BTreeMap<bankmkt_domain::org::BranchCode, clients::Chain>,
) -> Result<()> {
    let tree = clients::tree_of(&chains.values().cloned().collect::<Vec<_>>())?;
    let lead = &shares.lead().unit;
    if members::fits(staff, lead, &tree) {
        Ok(())
    } else {
        Err(ServiceError::PermissionDenied(format!(
            "{} does not work in the lead unit {lead}: the creator becomes its member",
            staff.employee_id
        )))
    }
}

fn creator_member(
    id: &str,
    caller: &Caller,
    shares: &ShareSet,
    today: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> member::Model {
    let lead = &shares.lead().unit;
    member::Model {
        member_id: convert::new_id(),
        opportunity_id: id.to_owned(),
        employee_id: caller.subject.clone(),
        unit_branch: lead.branch.as_str().to_owned(),
        unit_line: lead.line.as_str().to_owned(),
        role: MemberRole::UnitLead.as_str().to_owned(),
        active_from: today,
        active_to: None,
        added_by: caller.subject.clone(),
        add_time: now,
    }
}

/// `CreateOpportunity`.
pub async fn create(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateOpportunityRequest,
) -> Result<v1::CreateOpportunityResponse> {
    let mut v = Violations::new();
    convert::idempotency_key(&request.idempotency_key, &mut v);
    let Some(o) = request.opportunity.as_ref() else {
        v.add("opportunity", "is required");
        return Err(v.into());
    };
    let target = convert::customer_id(
        "opportunity.target_customer_id",
        &o.target_customer_id,
        &mut v,
    );
    let linked: Vec<Option<CustomerId>> = o
        .linked_targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            convert::customer_id(
                &format!("opportunity.linked_targets[{i}].customer_id"),
                &t.customer_id,
                &mut v,
            )
        })
        .collect();
    let kind = convert::filter_enum(
        "opportunity.opportunity_type",
        o.opportunity_type,
        convert::type_from_proto,
        "opportunity type",
        &mut v,
    );
    let goal = goal("opportunity.goal", o.goal.as_ref(), &mut v);
    let start = convert::optional_date("opportunity.start_date", o.start_date.as_ref(), &mut v);
    let close = convert::optional_date(
        "opportunity.target_close_date",
        o.target_close_date.as_ref(),
        &mut v,
    );
    let units = convert::units("opportunity.units", &o.units, &mut v);
    let draft = target.map(|target| OpportunityDraft {
        name: o.name.clone(),
        opportunity_type: kind,
        target,
        linked_targets: linked.iter().flatten().copied().collect(),
        goal,
        plan: o.plan.clone(),
        start_date: start,
        target_close_date: close,
    });
    if let Some(draft) = &draft
        && let Err(e) = draft.validate()
    {
        absorb(&mut v, e, "opportunity")?;
    }
    let shares = match units.map(|u| ShareSet::parse(u, "units")) {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            absorb(&mut v, e, "opportunity")?;
            None
        }
        None => None,
    };
    let playbook = if request.playbook_id.is_empty() {
        None
    } else {
        convert::issued_id("playbook_id", &request.playbook_id, &mut v)
    };
    let (Some(draft), Some(shares), true) = (draft, shares, v.is_empty()) else {
        return Err(v.into());
    };
    let scope = convert::scope("CreateOpportunity", caller);
    let hash = idempotency::request_hash(&request.encode_to_vec());
    if let Some(stored) = convert::replay(&svc.db, &scope, &request.idempotency_key, &hash).await? {
        return Ok(stored);
    }
    let today = svc.clock.today();
    let staff = caller_staff(caller, today)?;
    let chains =
        store::chains(svc, caller, &[&shares], std::slice::from_ref(&staff.branch)).await?;
    require_lead_fit(&staff, &shares, &chains)?;
    let mut ids: Vec<String> = vec![draft.target.to_string()];
    ids.extend(draft.linked_targets.iter().map(ToString::to_string));
    let customers = svc.registry.customers(caller, &ids).await?;
    check_consent(svc, caller, &customers).await?;
    let wanted = claims::opportunity_claims(draft.target, &draft.linked_targets, &shares);
    store::check_free(svc, caller, &wanted, None).await?;

    let now = store::now(svc);
    let id = convert::new_id();
    let (paths, lines) = store::unit_columns(&shares, &chains)?;
    let row = opportunity::Model {
        opportunity_id: id.clone(),
        name: draft.name.trim().to_owned(),
        opportunity_type: draft
            .opportunity_type
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        target_customer_id: draft.target.to_string(),
        goal: o.goal.clone().unwrap_or_default().encode_to_vec(),
        plan: draft.plan.clone(),
        start_date: draft.start_date,
        target_close_date: draft.target_close_date,
        stage: OpportunityStage::Preparation.as_str().to_owned(),
        stage_reason: String::new(),
        needs_statement: None,
        solution_quote_id: None,
        after_sales_primary: None,
        after_sales_backup: None,
        parent_opportunity_id: None,
        follow_on_opportunity_id: None,
        holds_claims: true,
        unit_paths: paths,
        unit_lines: lines,
        created_by: caller.subject.clone(),
        create_time: now,
        update_time: now,
        version: 1,
    };
    let targets: Vec<linked_target::Model> = draft
        .linked_targets
        .iter()
        .enumerate()
        .map(|(i, c)| linked_target::Model {
            opportunity_id: id.clone(),
            customer_id: c.to_string(),
            relationship_type: o.linked_targets[i].relationship_type,
            via_customer_id: o.linked_targets[i].via_customer_id.clone(),
            added_by: caller.subject.clone(),
            add_time: now,
        })
        .collect();
    let loaded = Loaded {
        row: row.clone(),
        history: ShareHistory::new(shares.clone(), today),
        targets: targets.clone(),
        members: vec![creator_member(&id, caller, &shares, today, now)],
    };
    let wire = store::to_proto(&loaded, today)?;
    let task_rows = match &playbook {
        Some(p) => crate::playbooks::plan_at_create(svc, caller, &loaded, p, now).await?,
        None => Vec::new(),
    };
    let response = v1::CreateOpportunityResponse {
        opportunity: Some(wire.clone()),
        tasks: task_rows
            .iter()
            .map(crate::tasks::to_proto)
            .collect::<Result<_>>()?,
    };
    let written: Result<()> = async {
        let txn = svc.db.begin().await?;
        store::take(&txn, &id, &wanted, now).await?;
        insert_new(&txn, &loaded, now).await?;
        crate::tasks::insert(
            &txn,
            caller,
            request_id,
            &task_rows,
            "from the playbook",
            now,
        )
        .await?;
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "opportunity.create",
                target_type: "opportunity",
                target_id: id.clone(),
                before: String::new(),
                after: store::summary(&row),
                reason: format!("created with {} claim(s)", wanted.len()),
                event_type: "opportunity.created",
                version: 1,
                payload: wire.encode_to_vec(),
            },
        )
        .await?;
        idempotency::remember(
            &txn,
            &scope,
            &request.idempotency_key,
            &hash,
            response.encode_to_vec(),
            now,
        )
        .await?;
        crate::grants::sync(svc, caller, &txn, &id, None).await?;
        txn.commit().await?;
        Ok(())
    }
    .await;
    match written {
        Ok(()) => Ok(response),
        Err(e) if e.is_unique_violation() => {
            if let Some(stored) =
                convert::replay(&svc.db, &scope, &request.idempotency_key, &hash).await?
            {
                return Ok(stored);
            }
            Err(store::lost_race(svc, caller, &wanted, None).await)
        }
        Err(e) => Err(e),
    }
}

/// Adds the domain's violations of `e` (prefixed) to `v`; passes any other error on.
fn absorb(
    v: &mut Violations,
    e: bankmkt_domain::coordination::CoordinationError,
    prefix: &str,
) -> Result<()> {
    match ServiceError::from_domain(e, prefix) {
        ServiceError::Invalid(found) => {
            for (f, m) in found.fields() {
                v.add(f.clone(), m.clone());
            }
            Ok(())
        }
        other => Err(other),
    }
}

/// Inserts a new opportunity's rows (header, first share version, linked targets, members).
async fn insert_new<C: sea_orm::ConnectionTrait>(
    txn: &C,
    loaded: &Loaded,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    opportunity::Entity::insert(loaded.row.clone().into_active_model())
        .exec_without_returning(txn)
        .await?;
    let first = &loaded.history.versions()[0];
    share_version::Entity::insert(
        share_version::Model {
            opportunity_id: loaded.row.opportunity_id.clone(),
            seq: 1,
            effective_from: first.effective_from,
            source: first.source.to_string(),
            units: convert::units_to_json(&first.shares)?,
            create_time: now,
        }
        .into_active_model(),
    )
    .exec_without_returning(txn)
    .await?;
    if !loaded.targets.is_empty() {
        linked_target::Entity::insert_many(
            loaded
                .targets
                .iter()
                .cloned()
                .map(IntoActiveModel::into_active_model),
        )
        .exec_without_returning(txn)
        .await?;
    }
    member::Entity::insert_many(
        loaded
            .members
            .iter()
            .cloned()
            .map(IntoActiveModel::into_active_model),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// `GetOpportunity`.
pub async fn get(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::GetOpportunityRequest,
) -> Result<v1::GetOpportunityResponse> {
    let mut v = Violations::new();
    let id = convert::issued_id("opportunity_id", &request.opportunity_id, &mut v);
    let Some(id) = id else {
        return Err(v.into());
    };
    let today = svc.clock.today();
    let loaded = store::load(&svc.db, caller, &id, today).await?;
    Ok(v1::GetOpportunityResponse {
        opportunity: Some(store::to_proto(&loaded, today)?),
    })
}

/// `ListOpportunities`: newest first, keyset paged by id (ids grow with time).
pub async fn list(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::ListOpportunitiesRequest,
) -> Result<v1::ListOpportunitiesResponse> {
    let mut v = Violations::new();
    let size = convert::page_size(request.page_size, &mut v);
    let filters = {
        let mut f = request.clone();
        f.page_size = 0;
        f.page_token.clear();
        convert::filter_hash(&f.encode_to_vec())
    };
    let after = convert::page_after(&request.page_token, &filters, &mut v);
    let branch = if request.branch_id.is_empty() {
        None
    } else {
        v.check(
            "branch_id",
            bankmkt_domain::org::BranchCode::parse(&request.branch_id),
        )
    };
    let customer = if request.customer_id.is_empty() {
        None
    } else {
        convert::customer_id("customer_id", &request.customer_id, &mut v)
    };
    let stages: Vec<OpportunityStage> = request
        .stages
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            convert::required_enum(
                &format!("stages[{i}]"),
                *s,
                convert::stage_from_proto,
                "stage",
                &mut v,
            )
        })
        .collect();
    let kind = convert::filter_enum(
        "opportunity_type",
        request.opportunity_type,
        convert::type_from_proto,
        "opportunity type",
        &mut v,
    );
    let line = convert::filter_enum(
        "line",
        request.line,
        convert::line_from_proto,
        "business line",
        &mut v,
    );
    if !v.is_empty() {
        return Err(v.into());
    }
    let today = svc.clock.today();
    let active_member = |employee: &str| {
        Query::select()
            .column(member::Column::OpportunityId)
            .from(member::Entity)
            .and_where(member::Column::EmployeeId.eq(employee))
            .and_where(
                Condition::any()
                    .add(member::Column::ActiveTo.is_null())
                    .add(member::Column::ActiveTo.gt(today))
                    .into(),
            )
            .to_owned()
    };
    let mut cond = Condition::all();
    match &branch {
        Some(b) => {
            cond = cond.add(opportunity::Column::UnitPaths.contains(format!("/{}/", b.as_str())));
        }
        None if !store::reads_bank_wide(caller) => {
            let mut scope = Condition::any().add(
                opportunity::Column::OpportunityId.in_subquery(active_member(&caller.subject)),
            );
            if let Some(own) = &caller.branch {
                scope = scope
                    .add(opportunity::Column::UnitPaths.contains(format!("/{}/", own.as_str())));
            }
            cond = cond.add(scope);
        }
        None => {}
    }
    if let Some(c) = customer {
        cond = cond.add(
            Condition::any()
                .add(opportunity::Column::TargetCustomerId.eq(c.to_string()))
                .add(
                    opportunity::Column::OpportunityId.in_subquery(
                        Query::select()
                            .column(linked_target::Column::OpportunityId)
                            .from(linked_target::Entity)
                            .and_where(linked_target::Column::CustomerId.eq(c.to_string()))
                            .to_owned(),
                    ),
                ),
        );
    }
    if !stages.is_empty() {
        cond = cond
            .add(opportunity::Column::Stage.is_in(stages.iter().map(|s| s.as_str().to_owned())));
    }
    if let Some(k) = kind {
        cond = cond.add(opportunity::Column::OpportunityType.eq(k.as_str()));
    }
    if let Some(l) = line {
        cond = cond.add(opportunity::Column::UnitLines.contains(format!("|{}|", l.as_str())));
    }
    if !request.member_employee_id.is_empty() {
        cond = cond.add(
            opportunity::Column::OpportunityId
                .in_subquery(active_member(&request.member_employee_id)),
        );
    }
    let mut out = Vec::new();
    let mut cursor = after;
    let mut more = false;
    'pages: loop {
        let mut q = opportunity::Entity::find().filter(cond.clone());
        if let Some(c) = &cursor {
            q = q.filter(opportunity::Column::OpportunityId.lt(c.clone()));
        }
        let rows = q
            .order_by_desc(opportunity::Column::OpportunityId)
            .limit((size as u64 + 1) * 2)
            .all(&svc.db)
            .await?;
        let exhausted = rows.len() < (size + 1) * 2;
        for row in rows {
            cursor = Some(row.opportunity_id.clone());
            let loaded = store::load_any(&svc.db, &row.opportunity_id).await?;
            if !store::may_see(caller, &loaded, today) {
                continue;
            }
            if out.len() == size {
                more = true;
                break 'pages;
            }
            out.push(loaded);
        }
        if exhausted {
            break;
        }
    }
    let next_page_token = match (more, out.last()) {
        (true, Some(last)) => convert::page_token(&filters, &last.row.opportunity_id),
        _ => String::new(),
    };
    Ok(v1::ListOpportunitiesResponse {
        opportunities: out
            .iter()
            .map(|l| store::to_proto(l, today))
            .collect::<Result<_>>()?,
        next_page_token,
    })
}

/// The fields UpdateOpportunity may change.
const UPDATABLE: [&str; 5] = ["name", "goal", "plan", "start_date", "target_close_date"];

/// `UpdateOpportunity`.
pub async fn update(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::UpdateOpportunityRequest,
) -> Result<v1::UpdateOpportunityResponse> {
    let mut v = Violations::new();
    let Some(o) = request.opportunity.as_ref() else {
        v.add("opportunity", "is required");
        return Err(v.into());
    };
    let id = convert::issued_id("opportunity.opportunity_id", &o.opportunity_id, &mut v);
    let paths: Vec<String> = request
        .update_mask
        .as_ref()
        .map(|m| m.paths.clone())
        .unwrap_or_default();
    if paths.is_empty() {
        v.add("update_mask", "name at least one field to change");
    }
    for (i, p) in paths.iter().enumerate() {
        if !UPDATABLE.contains(&p.as_str()) {
            v.add(
                format!("update_mask.paths[{i}]"),
                format!(
                    "`{p}` cannot be updated; use one of {}",
                    UPDATABLE.join(", ")
                ),
            );
        }
    }
    let has = |p: &str| paths.iter().any(|x| x == p);
    let new_goal = goal("opportunity.goal", o.goal.as_ref(), &mut v);
    let start = convert::optional_date("opportunity.start_date", o.start_date.as_ref(), &mut v);
    let close = convert::optional_date(
        "opportunity.target_close_date",
        o.target_close_date.as_ref(),
        &mut v,
    );
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let today = svc.clock.today();
    let loaded = store::load(&svc.db, caller, &id, today).await?;
    store::require_member(caller, &loaded, today)?;
    store::check_version(&loaded.row, request.expected_version)?;
    stage::check_open(loaded.stage()?).map_err(|e| ServiceError::from_domain(e, ""))?;
    let row = &loaded.row;
    let current_goal = v1::Goal::decode(row.goal.as_slice()).map_err(ServiceError::internal)?;
    let mut gv = Violations::new();
    let draft = OpportunityDraft {
        name: if has("name") {
            o.name.clone()
        } else {
            row.name.clone()
        },
        opportunity_type: Some(stored("type", &row.opportunity_type)?),
        target: loaded.target()?,
        linked_targets: Vec::new(),
        goal: if has("goal") {
            new_goal
        } else {
            goal("opportunity.goal", Some(&current_goal), &mut gv)
        },
        plan: if has("plan") {
            o.plan.clone()
        } else {
            row.plan.clone()
        },
        start_date: if has("start_date") {
            start
        } else {
            row.start_date
        },
        target_close_date: if has("target_close_date") {
            close
        } else {
            row.target_close_date
        },
    };
    draft
        .validate()
        .map_err(|e| ServiceError::from_domain(e, "opportunity"))?;
    let now = store::now(svc);
    let mut next = row.clone();
    next.name = draft.name.trim().to_owned();
    if has("goal") {
        next.goal = o.goal.clone().unwrap_or_default().encode_to_vec();
    }
    next.plan = draft.plan.clone();
    next.start_date = draft.start_date;
    next.target_close_date = draft.target_close_date;
    next.version = row.version + 1;
    next.update_time = now;
    let after = Loaded {
        row: next.clone(),
        ..loaded.clone()
    };
    let wire = store::to_proto(&after, today)?;
    let txn = svc.db.begin().await?;
    store::save(&txn, next.clone(), row.version).await?;
    record(
        &txn,
        now,
        Change {
            caller,
            request_id,
            action: "opportunity.update",
            target_type: "opportunity",
            target_id: id.clone(),
            before: store::summary(row),
            after: store::summary(&next),
            reason: format!("updated {}", paths.join(", ")),
            event_type: "opportunity.updated",
            version: next.version,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(v1::UpdateOpportunityResponse {
        opportunity: Some(wire),
    })
}

/// The relationship types followed when none are named.
const DEFAULT_TYPES: [v1::RelationshipType; 4] = [
    v1::RelationshipType::GroupParentOf,
    v1::RelationshipType::SupplierOf,
    v1::RelationshipType::DistributorOf,
    v1::RelationshipType::ExecutiveOf,
];

/// `SuggestLinkedTargets`.
pub async fn suggest(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::SuggestLinkedTargetsRequest,
) -> Result<v1::SuggestLinkedTargetsResponse> {
    let mut v = Violations::new();
    let by_opportunity = !request.opportunity_id.is_empty();
    let by_customer = !request.customer_id.is_empty();
    if by_opportunity == by_customer {
        v.add(
            "opportunity_id",
            "name exactly one of opportunity_id and customer_id",
        );
    }
    let opp = if by_opportunity {
        convert::issued_id("opportunity_id", &request.opportunity_id, &mut v)
    } else {
        None
    };
    let customer = if by_customer {
        convert::customer_id("customer_id", &request.customer_id, &mut v)
    } else {
        None
    };
    for (i, t) in request.relationship_types.iter().enumerate() {
        if !matches!(v1::RelationshipType::try_from(*t), Ok(x) if x != v1::RelationshipType::Unspecified)
        {
            v.add(
                format!("relationship_types[{i}]"),
                format!("must be a known relationship type ({t} is not)"),
            );
        }
    }
    let depth = if request.max_depth == 0 {
        1
    } else {
        request.max_depth
    };
    if !(1..=3).contains(&depth) {
        v.add(
            "max_depth",
            format!("must be 0 to 3, not {}", request.max_depth),
        );
    }
    if !v.is_empty() {
        return Err(v.into());
    }
    let today = svc.clock.today();
    let loaded = match &opp {
        Some(id) => Some(store::load(&svc.db, caller, id, today).await?),
        None => None,
    };
    let root = match (&loaded, customer) {
        (Some(l), _) => l.row.target_customer_id.clone(),
        (None, Some(c)) => c.to_string(),
        (None, None) => return Err(ServiceError::internal("no root to suggest from")),
    };
    let types: Vec<i32> = if request.relationship_types.is_empty() {
        DEFAULT_TYPES.iter().map(|t| *t as i32).collect()
    } else {
        request.relationship_types.clone()
    };
    let walk = svc.registry.traverse(caller, &root, types, depth).await?;
    let mut targeted: BTreeSet<String> = BTreeSet::new();
    let mut lines = None;
    if let Some(l) = &loaded {
        targeted.insert(l.row.target_customer_id.clone());
        targeted.extend(l.targets.iter().map(|t| t.customer_id.clone()));
        lines = Some(l.latest().lines());
    }
    let mut suggestions = Vec::new();
    let mut excluded = 0i64;
    for node in walk.nodes {
        if node.customer_id == root || node.restricted {
            continue;
        }
        let Some(kind) = clients_kind(node.kind) else {
            continue;
        };
        let consent = if kind == CustomerKind::Individual {
            svc.registry.consent(caller, &node.customer_id).await?
        } else {
            None
        };
        if !contact::suggestible(kind, consent.as_ref()) {
            excluded += 1;
            continue;
        }
        let relationship_type = walk
            .relationships
            .iter()
            .find(|r| r.relationship_id == node.via_relationship_id)
            .map(|r| r.relationship_type)
            .unwrap_or_default();
        let claimed = active_claim::Entity::find()
            .filter(active_claim::Column::CustomerId.eq(node.customer_id.clone()))
            .all(&svc.db)
            .await?
            .into_iter()
            .any(|c| {
                Some(c.opportunity_id.as_str()) != opp.as_deref()
                    && lines
                        .as_ref()
                        .is_none_or(|ls| ls.iter().any(|l| l.as_str() == c.line))
            });
        suggestions.push(v1::LinkedTargetSuggestion {
            already_targeted: targeted.contains(&node.customer_id),
            customer_id: node.customer_id,
            name: node.name,
            kind: node.kind,
            relationship_type,
            via_customer_id: node.parent_customer_id,
            depth: node.depth,
            claimed_elsewhere: claimed,
        });
    }
    Ok(v1::SuggestLinkedTargetsResponse {
        suggestions,
        excluded_for_consent: excluded,
        truncated: walk.truncated,
    })
}

fn clients_kind(raw: i32) -> Option<CustomerKind> {
    match v1::CustomerKind::try_from(raw).ok()? {
        v1::CustomerKind::Individual => Some(CustomerKind::Individual),
        v1::CustomerKind::Corporate => Some(CustomerKind::Corporate),
        v1::CustomerKind::SmallBusiness => Some(CustomerKind::SmallBusiness),
        v1::CustomerKind::Institution => Some(CustomerKind::Institution),
        v1::CustomerKind::Unspecified => None,
    }
}

/// `AddLinkedTargets`: all or none, with their claims.
pub async fn add_targets(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::AddLinkedTargetsRequest,
) -> Result<v1::AddLinkedTargetsResponse> {
    let mut v = Violations::new();
    let id = convert::issued_id("opportunity_id", &request.opportunity_id, &mut v);
    let new: Vec<Option<CustomerId>> = request
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            convert::customer_id(&format!("targets[{i}].customer_id"), &t.customer_id, &mut v)
        })
        .collect();
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let new: Vec<CustomerId> = new.into_iter().flatten().collect();
    let today = svc.clock.today();
    let loaded = store::load(&svc.db, caller, &id, today).await?;
    store::require_member(caller, &loaded, today)?;
    store::check_version(&loaded.row, request.expected_version)?;
    stage::check_open(loaded.stage()?).map_err(|e| ServiceError::from_domain(e, ""))?;
    bankmkt_domain::coordination::opportunity::check_new_linked_targets(
        loaded.target()?,
        &loaded.linked()?,
        &new,
    )
    .map_err(|e| ServiceError::from_domain(e, ""))?;
    let ids: Vec<String> = new.iter().map(ToString::to_string).collect();
    let customers = svc.registry.customers(caller, &ids).await?;
    check_consent(svc, caller, &customers).await?;
    let wanted: BTreeSet<ClaimKey> = if loaded.row.holds_claims {
        claims::claim_keys(new.iter().copied(), loaded.latest().lines())
    } else {
        BTreeSet::new()
    };
    let me = loaded.id()?;
    store::check_free(svc, caller, &wanted, Some(me)).await?;
    let now = store::now(svc);
    let rows: Vec<linked_target::Model> = new
        .iter()
        .enumerate()
        .map(|(i, c)| linked_target::Model {
            opportunity_id: id.clone(),
            customer_id: c.to_string(),
            relationship_type: request.targets[i].relationship_type,
            via_customer_id: request.targets[i].via_customer_id.clone(),
            added_by: caller.subject.clone(),
            add_time: now,
        })
        .collect();
    let mut next = loaded.row.clone();
    next.version += 1;
    next.update_time = now;
    let mut after = loaded.clone();
    after.row = next.clone();
    after.targets.extend(rows.iter().cloned());
    let wire = store::to_proto(&after, today)?;
    let written: Result<()> = async {
        let txn = svc.db.begin().await?;
        store::save(&txn, next.clone(), loaded.row.version).await?;
        store::take(&txn, &id, &wanted, now).await?;
        linked_target::Entity::insert_many(
            rows.iter().cloned().map(IntoActiveModel::into_active_model),
        )
        .exec_without_returning(&txn)
        .await?;
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "opportunity.add_linked_targets",
                target_type: "opportunity",
                target_id: id.clone(),
                before: store::summary(&loaded.row),
                after: store::summary(&next),
                reason: format!("added linked targets {}", ids.join(", ")),
                event_type: "opportunity.linked_targets_added",
                version: next.version,
                payload: wire.encode_to_vec(),
            },
        )
        .await?;
        crate::grants::sync(svc, caller, &txn, &id, Some(&loaded)).await?;
        txn.commit().await?;
        Ok(())
    }
    .await;
    match written {
        Ok(()) => Ok(v1::AddLinkedTargetsResponse {
            opportunity: Some(wire),
        }),
        Err(e) if e.is_unique_violation() => {
            Err(store::lost_race(svc, caller, &wanted, Some(me)).await)
        }
        Err(e) => Err(e),
    }
}

/// `RemoveLinkedTarget`: the target and its claims go.
pub async fn remove_target(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::RemoveLinkedTargetRequest,
) -> Result<v1::RemoveLinkedTargetResponse> {
    let mut v = Violations::new();
    let id = convert::issued_id("opportunity_id", &request.opportunity_id, &mut v);
    let customer = convert::customer_id("customer_id", &request.customer_id, &mut v);
    convert::reason("reason", &request.reason, false, &mut v);
    let (Some(id), Some(customer), true) = (id, customer, v.is_empty()) else {
        return Err(v.into());
    };
    let today = svc.clock.today();
    let loaded = store::load(&svc.db, caller, &id, today).await?;
    store::require_member(caller, &loaded, today)?;
    store::check_version(&loaded.row, request.expected_version)?;
    stage::check_open(loaded.stage()?).map_err(|e| ServiceError::from_domain(e, ""))?;
    bankmkt_domain::coordination::opportunity::check_removal(loaded.target()?, customer)
        .map_err(|e| ServiceError::from_domain(e, ""))?;
    if !loaded.linked()?.contains(&customer) {
        return Err(ServiceError::not_found(
            "linked target",
            customer.to_string(),
        ));
    }
    let now = store::now(svc);
    let keys = claims::claim_keys([customer], loaded.latest().lines());
    let mut next = loaded.row.clone();
    next.version += 1;
    next.update_time = now;
    let mut after = loaded.clone();
    after.row = next.clone();
    after
        .targets
        .retain(|t| t.customer_id != customer.to_string());
    let wire = store::to_proto(&after, today)?;
    let txn = svc.db.begin().await?;
    store::save(&txn, next.clone(), loaded.row.version).await?;
    linked_target::Entity::delete_by_id((id.clone(), customer.to_string()))
        .exec(&txn)
        .await?;
    store::end(&txn, &id, Some(&keys), ClaimState::Released, now).await?;
    record(
        &txn,
        now,
        Change {
            caller,
            request_id,
            action: "opportunity.remove_linked_target",
            target_type: "opportunity",
            target_id: id.clone(),
            before: store::summary(&loaded.row),
            after: store::summary(&next),
            reason: if request.reason.trim().is_empty() {
                format!("removed linked target {customer}")
            } else {
                request.reason.trim().to_owned()
            },
            event_type: "opportunity.linked_target_removed",
            version: next.version,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    crate::grants::sync(svc, caller, &txn, &id, Some(&loaded)).await?;
    txn.commit().await?;
    Ok(v1::RemoveLinkedTargetResponse {
        opportunity: Some(wire),
    })
}

/// `TransitionStage`.
pub async fn transition(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::TransitionStageRequest,
) -> Result<v1::TransitionStageResponse> {
    let mut v = Violations::new();
    let id = convert::issued_id("opportunity_id", &request.opportunity_id, &mut v);
    let to = convert::required_enum(
        "to_stage",
        request.to_stage,
        convert::stage_from_proto,
        "stage",
        &mut v,
    );
    let (Some(id), Some(to), true) = (id, to, v.is_empty()) else {
        return Err(v.into());
    };
    let today = svc.clock.today();
    let loaded = store::load(&svc.db, caller, &id, today).await?;
    store::require_member(caller, &loaded, today)?;
    store::check_version(&loaded.row, request.expected_version)?;
    let from = loaded.stage()?;
    let solution_quote = match (&loaded.row.solution_quote_id, to) {
        (Some(q), OpportunityStage::Won) if from == OpportunityStage::Execution => {
            Some(svc.pricing.quote(caller, q).await?.status)
        }
        // Only won looks at the quote, and only out of execution; no status is needed otherwise.
        _ => None,
    };
    let after_sales = request.after_sales.as_ref().map(|a| AfterSales {
        primary: a.primary_employee_id.clone(),
        backup: a.backup_employee_id.clone(),
    });
    let memberships = loaded.memberships()?;
    let active = members::active_members(&memberships, today);
    let change = stage::check_transition(
        from,
        to,
        TransitionFacts {
            reason: &request.reason,
            solution_quote,
            after_sales: after_sales.as_ref(),
            members: &active,
        },
    )
    .map_err(|e| ServiceError::from_domain(e, ""))?;
    let now = store::now(svc);
    let mut next = loaded.row.clone();
    next.stage = change.to.as_str().to_owned();
    next.stage_reason = change.reason.clone();
    if let Some(a) = &change.after_sales {
        next.after_sales_primary = Some(a.primary.clone());
        next.after_sales_backup = Some(a.backup.clone());
    }
    if change.claims == ClaimEffect::Release {
        next.holds_claims = false;
    }
    next.version += 1;
    next.update_time = now;
    let after = Loaded {
        row: next.clone(),
        ..loaded.clone()
    };
    let wire = store::to_proto(&after, today)?;
    let txn = svc.db.begin().await?;
    store::save(&txn, next.clone(), loaded.row.version).await?;
    if change.claims == ClaimEffect::Release {
        store::end(&txn, &id, None, ClaimState::Released, now).await?;
        let pending = share_amendment::Entity::find()
            .filter(share_amendment::Column::OpportunityId.eq(id.clone()))
            .filter(share_amendment::Column::Status.eq(AmendmentStatus::Proposed.as_str()))
            .all(&txn)
            .await?;
        for row in pending {
            let amendment: Amendment = shares::amendment(&row)?;
            let withdrawn = amendment
                .withdraw()
                .map_err(|e| ServiceError::from_domain(e, ""))?;
            share_amendment::Entity::update_many()
                .col_expr(
                    share_amendment::Column::Status,
                    Expr::value(withdrawn.status.as_str()),
                )
                .col_expr(
                    share_amendment::Column::Version,
                    Expr::value(row.version + 1),
                )
                .filter(share_amendment::Column::AmendmentId.eq(row.amendment_id))
                .exec(&txn)
                .await?;
        }
    }
    crate::claims::decline_pending_on_close(&txn, caller, request_id, &id, change.to, now).await?;
    record(
        &txn,
        now,
        Change {
            caller,
            request_id,
            action: "opportunity.transition",
            target_type: "opportunity",
            target_id: id.clone(),
            before: store::summary(&loaded.row),
            after: store::summary(&next),
            reason: format!("{} -> {}: {}", change.from, change.to, change.reason),
            event_type: "opportunity.stage_changed",
            version: next.version,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    crate::grants::sync(svc, caller, &txn, &id, Some(&loaded)).await?;
    txn.commit().await?;
    Ok(v1::TransitionStageResponse {
        opportunity: Some(wire),
    })
}

/// `CreateFollowOnOpportunity`: the follow-on takes over the parent's claims.
pub async fn follow_on(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateFollowOnOpportunityRequest,
) -> Result<v1::CreateFollowOnOpportunityResponse> {
    let mut v = Violations::new();
    convert::idempotency_key(&request.idempotency_key, &mut v);
    let parent_id = convert::issued_id(
        "parent_opportunity_id",
        &request.parent_opportunity_id,
        &mut v,
    );
    let new_goal = goal("goal", request.goal.as_ref(), &mut v);
    let units = convert::units("units", &request.units, &mut v);
    let (Some(parent_id), Some(units), true) = (parent_id, units, v.is_empty()) else {
        return Err(v.into());
    };
    let scope = convert::scope("CreateFollowOnOpportunity", caller);
    let hash = idempotency::request_hash(&request.encode_to_vec());
    if let Some(stored) = convert::replay(&svc.db, &scope, &request.idempotency_key, &hash).await? {
        return Ok(stored);
    }
    let today = svc.clock.today();
    let parent = store::load(&svc.db, caller, &parent_id, today).await?;
    store::require_member(caller, &parent, today)?;
    store::check_version(&parent.row, request.expected_parent_version)?;
    stage::check_follow_on(
        parent.stage()?,
        parent.row.follow_on_opportunity_id.is_some(),
    )
    .map_err(|e| ServiceError::from_domain(e, ""))?;
    let in_force = parent
        .history
        .as_of(today)
        .map(|s| s.version.shares.clone())
        .unwrap_or_else(|| parent.latest().clone());
    let shares =
        stage::follow_on_units(units, &in_force).map_err(|e| ServiceError::from_domain(e, ""))?;
    let draft = OpportunityDraft {
        name: request.name.clone(),
        opportunity_type: Some(stored("type", &parent.row.opportunity_type)?),
        target: parent.target()?,
        linked_targets: parent.linked()?,
        goal: new_goal,
        plan: request.plan.clone(),
        start_date: None,
        target_close_date: None,
    };
    draft
        .validate()
        .map_err(|e| ServiceError::from_domain(e, ""))?;
    let staff = caller_staff(caller, today)?;
    let chains =
        store::chains(svc, caller, &[&shares], std::slice::from_ref(&staff.branch)).await?;
    require_lead_fit(&staff, &shares, &chains)?;
    let wanted = claims::opportunity_claims(draft.target, &draft.linked_targets, &shares);
    let parent_held = store::held_by(&svc.db, &parent_id).await?;
    let plan = claims::takeover(&parent_held, &wanted);
    store::check_free(svc, caller, &plan.take, Some(parent.id()?)).await?;

    let now = store::now(svc);
    let id = convert::new_id();
    let (paths, lines) = store::unit_columns(&shares, &chains)?;
    let row = opportunity::Model {
        opportunity_id: id.clone(),
        name: draft.name.trim().to_owned(),
        opportunity_type: parent.row.opportunity_type.clone(),
        target_customer_id: parent.row.target_customer_id.clone(),
        goal: request.goal.clone().unwrap_or_default().encode_to_vec(),
        plan: draft.plan.clone(),
        start_date: None,
        target_close_date: None,
        stage: OpportunityStage::Preparation.as_str().to_owned(),
        stage_reason: String::new(),
        needs_statement: None,
        solution_quote_id: None,
        after_sales_primary: None,
        after_sales_backup: None,
        parent_opportunity_id: Some(parent_id.clone()),
        follow_on_opportunity_id: None,
        holds_claims: true,
        unit_paths: paths,
        unit_lines: lines,
        created_by: caller.subject.clone(),
        create_time: now,
        update_time: now,
        version: 1,
    };
    let loaded = Loaded {
        row: row.clone(),
        history: ShareHistory::new(shares.clone(), today),
        targets: parent
            .targets
            .iter()
            .map(|t| linked_target::Model {
                opportunity_id: id.clone(),
                add_time: now,
                added_by: caller.subject.clone(),
                ..t.clone()
            })
            .collect(),
        members: vec![creator_member(&id, caller, &shares, today, now)],
    };
    let mut parent_next = parent.row.clone();
    parent_next.follow_on_opportunity_id = Some(id.clone());
    parent_next.holds_claims = false;
    parent_next.version += 1;
    parent_next.update_time = now;
    let wire = store::to_proto(&loaded, today)?;
    let parent_wire = store::to_proto(
        &Loaded {
            row: parent_next.clone(),
            ..parent.clone()
        },
        today,
    )?;
    let response = v1::CreateFollowOnOpportunityResponse {
        opportunity: Some(wire.clone()),
        parent: Some(parent_wire.clone()),
    };
    let written: Result<()> = async {
        let txn = svc.db.begin().await?;
        store::save(&txn, parent_next.clone(), parent.row.version).await?;
        store::end(
            &txn,
            &parent_id,
            Some(&plan.transfer),
            ClaimState::Transferred,
            now,
        )
        .await?;
        store::end(
            &txn,
            &parent_id,
            Some(&plan.release),
            ClaimState::Released,
            now,
        )
        .await?;
        let mut taken = plan.transfer.clone();
        taken.extend(plan.take.iter().copied());
        store::take(&txn, &id, &taken, now).await?;
        insert_new(&txn, &loaded, now).await?;
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "opportunity.follow_on",
                target_type: "opportunity",
                target_id: parent_id.clone(),
                before: store::summary(&parent.row),
                after: store::summary(&parent_next),
                reason: format!("opened follow-on {id}; claims handed over"),
                event_type: "opportunity.claims_transferred",
                version: parent_next.version,
                payload: parent_wire.encode_to_vec(),
            },
        )
        .await?;
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "opportunity.create",
                target_type: "opportunity",
                target_id: id.clone(),
                before: String::new(),
                after: store::summary(&row),
                reason: format!(
                    "follow-on of {parent_id}: {} claim(s) transferred, {} taken, {} released",
                    plan.transfer.len(),
                    plan.take.len(),
                    plan.release.len()
                ),
                event_type: "opportunity.created",
                version: 1,
                payload: wire.encode_to_vec(),
            },
        )
        .await?;
        idempotency::remember(
            &txn,
            &scope,
            &request.idempotency_key,
            &hash,
            response.encode_to_vec(),
            now,
        )
        .await?;
        crate::grants::sync(svc, caller, &txn, &parent_id, Some(&parent)).await?;
        crate::grants::sync(svc, caller, &txn, &id, None).await?;
        txn.commit().await?;
        Ok(())
    }
    .await;
    match written {
        Ok(()) => Ok(response),
        Err(e) if e.is_unique_violation() => {
            if let Some(stored) =
                convert::replay(&svc.db, &scope, &request.idempotency_key, &hash).await?
            {
                return Ok(stored);
            }
            Err(store::lost_race(svc, caller, &plan.take, Some(parent.id()?)).await)
        }
        Err(e) => Err(e),
    }
}
