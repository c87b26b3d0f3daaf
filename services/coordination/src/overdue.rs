//! `ListOverdue` (DOMAIN.md §5 "Cadence rules … raise overdue alerts"): a thin adapter over the
//! domain's `overdue::overdue`. It gathers the cadence and SLA rules (every version), the
//! customers of the branch subtree with their kind, tiers, A manager, owning branch and entry
//! into the book from the registry (so a qualifying customer with **no activity at all** is
//! checked too), every activity's (customer, type, start), the tasks of `m0302` with their
//! owner's branch from the staff directory, and the referrals; the domain decides what is
//! overdue on the clock's business date, and `overdue::in_subtree` keeps the items of the
//! subtree, which are then filtered by responsible employee and kind and paged in the domain's
//! order (most overdue first, then by kind and id).

use std::collections::{BTreeMap, BTreeSet};

use bankmkt_domain::coordination::overdue::{
    self as domain, CustomerFacts, OverdueInputs, OverdueItem, OverdueKind, ReferralFact, TaskFact,
};
use bankmkt_domain::coordination::rules::{RuleRef, SLA_RULE_KIND};
use bankmkt_domain::coordination::{OpportunityStage, ReferralStatus, TaskStatus};
use bankmkt_domain::ids::{CustomerId, OpportunityId, ReferralId, TaskId};
use bankmkt_domain::org::BranchCode;
use bankmkt_platform::Caller;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use prost::Message;
use sea_orm::EntityTrait;

use crate::CoordinationService;
use crate::clients;
use crate::convert::{self, stored};
use crate::directory;
use crate::entity::opportunity;
use crate::error::{Result, ServiceError};
use crate::m0302::task;
use crate::rows::referral;

fn kind_from_proto(raw: i32) -> Option<OverdueKind> {
    match v1::OverdueKind::try_from(raw).ok()? {
        v1::OverdueKind::Cadence => Some(OverdueKind::Cadence),
        v1::OverdueKind::Task => Some(OverdueKind::Task),
        v1::OverdueKind::Referral => Some(OverdueKind::Referral),
        v1::OverdueKind::Unspecified => None,
    }
}

fn kind_to_proto(k: OverdueKind) -> v1::OverdueKind {
    match k {
        OverdueKind::Cadence => v1::OverdueKind::Cadence,
        OverdueKind::Task => v1::OverdueKind::Task,
        OverdueKind::Referral => v1::OverdueKind::Referral,
    }
}

/// The paging key, in the domain's order.
fn key(item: &OverdueItem) -> String {
    let kind = match item.kind {
        OverdueKind::Cadence => 0,
        OverdueKind::Task => 1,
        OverdueKind::Referral => 2,
    };
    format!(
        "{:020}|{}|{kind}|{}",
        i64::MAX - item.working_days_overdue,
        item.due_date,
        item.sort_id()
    )
}

fn to_proto(item: &OverdueItem) -> v1::OverdueItem {
    v1::OverdueItem {
        kind: kind_to_proto(item.kind) as i32,
        responsible_employee_id: item.responsible.clone().unwrap_or_default(),
        branch_id: item.branch.as_str().to_owned(),
        customer_id: item.customer.map(|c| c.to_string()).unwrap_or_default(),
        task_id: item.task.map(|t| t.to_string()).unwrap_or_default(),
        referral_id: item.referral.map(|r| r.to_string()).unwrap_or_default(),
        opportunity_id: item.opportunity.map(|o| o.to_string()).unwrap_or_default(),
        rule: item.rule.as_ref().map(|r| v1::RuleVersionRef {
            rule_kind: r.rule_kind.to_owned(),
            rule_id: r.rule_id.clone(),
            version: r.version,
        }),
        due_date: Some(convert::date_to_proto(item.due_date)),
        working_days_overdue: i32::try_from(item.working_days_overdue).unwrap_or(i32::MAX),
        last_activity_time: item.last_activity.map(convert::timestamp),
        activities_in_window: i32::try_from(item.activities_in_window).unwrap_or(i32::MAX),
        required_activities: i32::try_from(item.required_activities).unwrap_or(i32::MAX),
        description: item.description.clone(),
    }
}

/// The open tasks as the domain reads them (owners' branches from the staff directory; an
/// owner the directory no longer knows is left out).
async fn task_facts(
    svc: &CoordinationService,
    caller: &Caller,
    sla: &[bankmkt_domain::coordination::SlaRule],
) -> Result<Vec<TaskFact>> {
    let rows = task::Entity::find().all(&svc.db).await?;
    let mut open = Vec::new();
    for r in rows {
        let status: TaskStatus = stored("task status", &r.status)?;
        if matches!(status, TaskStatus::Open | TaskStatus::InProgress) {
            open.push((r, status));
        }
    }
    if open.is_empty() {
        return Ok(Vec::new());
    }
    let opportunities: BTreeMap<String, opportunity::Model> = opportunity::Entity::find()
        .all(&svc.db)
        .await?
        .into_iter()
        .map(|o| (o.opportunity_id.clone(), o))
        .collect();
    let mut branches: BTreeMap<String, Option<BranchCode>> = BTreeMap::new();
    let mut out = Vec::new();
    for (r, status) in open {
        let terminal = opportunities.get(&r.opportunity_id).is_none_or(|o| {
            stored::<OpportunityStage>("stage", &o.stage).is_ok_and(|s| s.is_terminal())
        });
        if terminal {
            continue;
        }
        if !branches.contains_key(&r.owner_employee_id) {
            let branch = match svc.registry.employee(caller, &r.owner_employee_id).await {
                Ok(staff) => Some(staff.branch),
                Err(ServiceError::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            branches.insert(r.owner_employee_id.clone(), branch);
        }
        let Some(Some(owner_branch)) = branches.get(&r.owner_employee_id).cloned() else {
            continue;
        };
        let created = svc.clock.calendar().business_date(r.create_time);
        let sla_rule = r.sla_rule_id.as_ref().map(|id| RuleRef {
            rule_kind: SLA_RULE_KIND,
            rule_id: id.clone(),
            version: sla
                .iter()
                .filter(|s| &s.rule_id == id && s.effective.contains(created))
                .map(|s| s.version)
                .max()
                .unwrap_or(0),
        });
        out.push(TaskFact {
            task: TaskId::parse(&r.task_id).map_err(ServiceError::internal)?,
            opportunity: OpportunityId::parse(&r.opportunity_id).map_err(ServiceError::internal)?,
            owner: r.owner_employee_id.clone(),
            owner_branch,
            customer: opportunities
                .get(&r.opportunity_id)
                .and_then(|o| CustomerId::parse(&o.target_customer_id).ok()),
            status,
            due_date: r.due_date,
            sla_rule,
        });
    }
    Ok(out)
}

fn referral_facts(rows: &[referral::Model]) -> Result<Vec<ReferralFact>> {
    rows.iter()
        .map(|r| {
            Ok(ReferralFact {
                referral: ReferralId::parse(&r.referral_id).map_err(ServiceError::internal)?,
                customer: CustomerId::parse(&r.customer_id).map_err(ServiceError::internal)?,
                status: stored::<ReferralStatus>("referral status", &r.status)?,
                created_at: r.create_time,
                to_branch: BranchCode::parse(&r.to_branch).map_err(ServiceError::internal)?,
                to_line: stored("line", &r.to_line)?,
                assignee: r.assignee_employee_id.clone(),
            })
        })
        .collect()
}

/// `ListOverdue`.
pub async fn list(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::ListOverdueRequest,
) -> Result<v1::ListOverdueResponse> {
    let mut v = Violations::new();
    let size = convert::page_size(request.page_size, &mut v);
    let filters = {
        let mut f = request.clone();
        f.page_size = 0;
        f.page_token.clear();
        convert::filter_hash(&f.encode_to_vec())
    };
    let after = convert::page_after(&request.page_token, &filters, &mut v);
    let root = if request.branch_id.is_empty() {
        caller.branch.clone()
    } else {
        v.check("branch_id", BranchCode::parse(&request.branch_id))
    };
    if request.responsible_employee_id.chars().count() > 64 {
        v.add("responsible_employee_id", "at most 64 characters");
    }
    let kinds: BTreeSet<OverdueKind> = request
        .kinds
        .iter()
        .enumerate()
        .filter_map(|(i, k)| {
            convert::required_enum(
                &format!("kinds[{i}]"),
                *k,
                kind_from_proto,
                "overdue kind",
                &mut v,
            )
        })
        .collect();
    if root.is_none() && v.is_empty() {
        v.add("branch_id", "is required for a caller without a branch");
    }
    let (Some(root), true) = (root, v.is_empty()) else {
        return Err(v.into());
    };
    let wants = |k: OverdueKind| kinds.is_empty() || kinds.contains(&k);
    let today = svc.clock.today();
    let calendar = svc.clock.calendar();
    let root_chain = svc.registry.chain(caller, &root).await?;
    // The caller reads the overdue items of its own subtree only (or bank-wide with a role).
    let root_tree = clients::tree_of(std::slice::from_ref(&root_chain))?;
    if !bankmkt_domain::access::may_read_customer(
        &caller.roles,
        caller.branch.as_ref(),
        &root,
        &root_tree,
        false,
    ) {
        return Err(ServiceError::PermissionDenied(format!(
            "branch {root} is outside the subtree of {}",
            caller.subject
        )));
    }
    let cadence_rules = crate::rules::all_cadence(&svc.db).await?;
    let sla_rules = crate::rules::all_sla(&svc.db).await?;
    let customers: Vec<CustomerFacts> = if wants(OverdueKind::Cadence) && !cadence_rules.is_empty()
    {
        directory::customers_in(svc, caller, &root)
            .await?
            .into_iter()
            .filter_map(|c| {
                Some(CustomerFacts {
                    customer: CustomerId::parse(&c.customer_id).ok()?,
                    kind: c.kind,
                    corporate_tier: c.corporate_tier,
                    wealth_tier: c.wealth_tier,
                    primary_manager: c.primary_manager,
                    branch: c.owning_branch,
                    since: c.since,
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let activities = if customers.is_empty() {
        Vec::new()
    } else {
        crate::activities::facts(&svc.db).await?
    };
    let tasks = if wants(OverdueKind::Task) {
        task_facts(svc, caller, &sla_rules).await?
    } else {
        Vec::new()
    };
    let referrals = if wants(OverdueKind::Referral) {
        referral_facts(&referral::Entity::find().all(&svc.db).await?)?
    } else {
        Vec::new()
    };
    let items = domain::overdue(
        &OverdueInputs {
            cadence_rules: &cadence_rules,
            sla_rules: &sla_rules,
            customers: &customers,
            activities: &activities,
            tasks: &tasks,
            referrals: &referrals,
        },
        today,
        calendar,
    );
    let mut chains = vec![root_chain];
    let branches: BTreeSet<BranchCode> = items.iter().map(|i| i.branch.clone()).collect();
    for b in &branches {
        if b != &root {
            chains.push(svc.registry.chain(caller, b).await?);
        }
    }
    let tree = clients::tree_of(&chains)?;
    let responsible = request.responsible_employee_id.trim();
    let mut page: Vec<(String, &OverdueItem)> = domain::in_subtree(&items, &tree, &root)
        .into_iter()
        .filter(|i| wants(i.kind))
        .filter(|i| responsible.is_empty() || i.responsible.as_deref() == Some(responsible))
        .map(|i| (key(i), i))
        .filter(|(k, _)| after.as_ref().is_none_or(|a| k > a))
        .collect();
    page.sort_by(|a, b| a.0.cmp(&b.0));
    let more = page.len() > size;
    page.truncate(size);
    let next_page_token = match (more, page.last()) {
        (true, Some((k, _))) => convert::page_token(&filters, k),
        _ => String::new(),
    };
    Ok(v1::ListOverdueResponse {
        items: page.iter().map(|(_, i)| to_proto(i)).collect(),
        next_page_token,
        business_date: Some(convert::date_to_proto(today)),
    })
}
