//! Internal bidding (内部招标) for the lead of an opportunity (DOMAIN.md §5 "No internal
//! competition"), a thin adapter over the domain's `bidding` rules. `OpenBid` (a member, the
//! opportunity's version checked and re-checked on the transaction; the domain's
//! `check_open_bid`: preparation or execution, close time in the future, one unfinished bid — the
//! `bid_one_unfinished` unique index settles concurrent opens); `SubmitBidProposal` (someone
//! working in the proposing unit, by the token's branch and lines on the registry's branch tree;
//! the domain's `check_proposal`; a unit's earlier proposal is replaced; the awarding branch —
//! the proposing units' lowest common ancestor — is kept up to date); `AwardBid` (the domain's
//! `award`: a `pricing_committee` member or a `branch_head` at or above the awarding branch,
//! never the winner's submitter; the winning shares become a new share version `bid:ID` from the
//! award date through [`store::apply_shares`] — history, claims, memberships of units that leave
//! — and a pending amendment is withdrawn); `GetBid` and `ListBids`. An open bid past its close
//! time reads as closed. Every write is one transaction with its audit entries and outbox events
//! (`bid.*`, and `opportunity.lead_awarded` on the award).

use std::collections::BTreeMap;

use bankmkt_domain::coordination::bidding::{self, Awarder, ProposalInput};
use bankmkt_domain::coordination::members;
use bankmkt_domain::coordination::{
    Amendment, AmendmentStatus, BidStatus, ChangeSource, Proposal, ShareVersion, StaffFacts,
    UnitRef, stage,
};
use bankmkt_domain::money::{Currency, Money};
use bankmkt_domain::org::{BranchCode, Role};
use bankmkt_platform::Caller;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::{DateTime, Utc};
use prost::Message;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::CoordinationService;
use crate::clients::{self, Chain};
use crate::convert::{self, stored};
use crate::entity::share_amendment;
use crate::error::{Result, ServiceError};
use crate::m0302::{bid, bid_proposal};
use crate::record::{Change, record};
use crate::shares;
use crate::store::{self, Loaded};
use crate::tasks;

fn status_to_proto(s: BidStatus) -> v1::BidStatus {
    match s {
        BidStatus::Open => v1::BidStatus::Open,
        BidStatus::Closed => v1::BidStatus::Closed,
        BidStatus::Awarded => v1::BidStatus::Awarded,
        BidStatus::Cancelled => v1::BidStatus::Cancelled,
    }
}

fn status_from_proto(raw: i32) -> Option<BidStatus> {
    match v1::BidStatus::try_from(raw).ok()? {
        v1::BidStatus::Open => Some(BidStatus::Open),
        v1::BidStatus::Closed => Some(BidStatus::Closed),
        v1::BidStatus::Awarded => Some(BidStatus::Awarded),
        v1::BidStatus::Cancelled => Some(BidStatus::Cancelled),
        v1::BidStatus::Unspecified => None,
    }
}

/// A wire timestamp as a time.
fn time_from_proto(t: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    let nanos = u32::try_from(t.nanos).ok()?;
    DateTime::from_timestamp(t.seconds, nanos)
}

/// The status of `row` at `now` (an open bid past its close time is closed).
fn effective(row: &bid::Model, now: DateTime<Utc>) -> Result<BidStatus> {
    Ok(bidding::effective_status(
        stored("bid status", &row.status)?,
        row.close_time,
        now,
    ))
}

fn proposal_unit(p: &bid_proposal::Model) -> Result<UnitRef> {
    Ok(UnitRef::new(
        BranchCode::parse(&p.unit_branch).map_err(ServiceError::internal)?,
        stored("line", &p.unit_line)?,
    ))
}

fn proposal_to_proto(p: &bid_proposal::Model) -> Result<v1::BidProposal> {
    let unit = proposal_unit(p)?;
    Ok(v1::BidProposal {
        proposal_id: p.proposal_id.clone(),
        unit: Some(convert::unit_to_proto(&unit)),
        proposed_units: convert::share_set_to_proto(&convert::units_from_json(&p.proposed_units)?),
        plan: p.plan.clone(),
        expected_revenue: match (&p.revenue_currency, p.revenue_minor) {
            (Some(c), Some(m)) => Some(v1::Money {
                currency: c.clone(),
                minor_units: m,
            }),
            _ => None,
        },
        submitted: Some(convert::stamp(&p.submitted_by, p.submit_time, "")),
    })
}

fn domain_proposal(p: &bid_proposal::Model) -> Result<Proposal> {
    Ok(Proposal {
        proposal_id: p.proposal_id.clone(),
        unit: proposal_unit(p)?,
        shares: convert::units_from_json(&p.proposed_units)?,
        submitter: p.submitted_by.clone(),
    })
}

/// A bid with its proposals for the wire, as of `now`.
fn to_proto(
    row: &bid::Model,
    proposals: &[bid_proposal::Model],
    now: DateTime<Utc>,
) -> Result<v1::Bid> {
    Ok(v1::Bid {
        bid_id: row.bid_id.clone(),
        opportunity_id: row.opportunity_id.clone(),
        description: row.description.clone(),
        close_time: Some(convert::timestamp(row.close_time)),
        status: status_to_proto(effective(row, now)?) as i32,
        proposals: proposals
            .iter()
            .map(proposal_to_proto)
            .collect::<Result<_>>()?,
        awarding_branch: row.awarding_branch.as_ref().map(|b| v1::BranchRef {
            branch_id: b.clone(),
            name: String::new(),
            level: row.awarding_level,
        }),
        awarded_proposal_id: row.awarded_proposal_id.clone().unwrap_or_default(),
        opened: Some(convert::stamp(&row.opened_by, row.open_time, "")),
        awarded: match (&row.awarded_by, row.award_time) {
            (Some(by), Some(at)) => Some(convert::stamp(
                by,
                at,
                row.award_reason.as_deref().unwrap_or_default(),
            )),
            _ => None,
        },
        version: row.version,
    })
}

fn summary(row: &bid::Model) -> String {
    format!(
        "version={} opportunity={} status={} awarding_branch={} awarded={}",
        row.version,
        row.opportunity_id,
        row.status,
        row.awarding_branch.as_deref().unwrap_or("-"),
        row.awarded_proposal_id.as_deref().unwrap_or("-")
    )
}

async fn proposals_of<C: ConnectionTrait>(
    db: &C,
    bid_id: &str,
) -> Result<Vec<bid_proposal::Model>> {
    Ok(bid_proposal::Entity::find()
        .filter(bid_proposal::Column::BidId.eq(bid_id))
        .order_by_asc(bid_proposal::Column::SubmitTime)
        .order_by_asc(bid_proposal::Column::ProposalId)
        .all(db)
        .await?)
}

async fn load_bid<C: ConnectionTrait>(db: &C, id: &str) -> Result<bid::Model> {
    bid::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::not_found("bid", id))
}

/// Whether `caller` may read bids of `loaded`: whoever sees the opportunity, and the awarders
/// (a pricing committee member bank-wide; a branch head is in the units' subtrees already).
fn may_read(caller: &Caller, loaded: &Loaded, svc: &CoordinationService) -> bool {
    store::may_see(caller, loaded, svc.clock.today()) || caller.has_role(Role::PricingCommittee)
}

fn stale_bid(row: &bid::Model, expected: i64) -> ServiceError {
    ServiceError::StaleVersion {
        kind: "bid",
        id: row.bid_id.clone(),
        expected,
        actual: row.version,
    }
}

/// `OpenBid`.
pub async fn open(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::OpenBidRequest,
) -> Result<v1::OpenBidResponse> {
    let mut v = Violations::new();
    let Some(b) = request.bid.as_ref() else {
        v.add("bid", "is required");
        return Err(v.into());
    };
    let id = convert::issued_id("bid.opportunity_id", &b.opportunity_id, &mut v);
    let close = match b.close_time.as_ref() {
        None => None,
        Some(t) => {
            let parsed = time_from_proto(t);
            if parsed.is_none() {
                v.add("bid.close_time", "is not a valid timestamp");
            }
            parsed
        }
    };
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let today = svc.clock.today();
    let now = store::now(svc);
    // Shape first: a bad description or close time is INVALID_ARGUMENT whatever the state.
    bidding::check_open_bid(
        bankmkt_domain::coordination::OpportunityStage::Preparation,
        false,
        &b.description,
        close,
        now,
    )
    .map_err(|e| ServiceError::from_domain(e, "bid"))?;
    let loaded = store::load(&svc.db, caller, &id, today).await?;
    store::require_member(caller, &loaded, today)?;
    store::check_version(&loaded.row, request.expected_version)?;
    let unfinished = bid::Entity::find()
        .filter(bid::Column::UnfinishedOpportunityId.eq(id.clone()))
        .one(&svc.db)
        .await?
        .is_some();
    bidding::check_open_bid(loaded.stage()?, unfinished, &b.description, close, now)
        .map_err(|e| ServiceError::from_domain(e, "bid"))?;
    let close = close.ok_or_else(|| ServiceError::invalid("bid.close_time", "is required"))?;
    let row = bid::Model {
        bid_id: convert::new_id(),
        opportunity_id: id.clone(),
        unfinished_opportunity_id: Some(id.clone()),
        description: b.description.clone(),
        close_time: close,
        status: BidStatus::Open.as_str().to_owned(),
        awarding_branch: None,
        awarding_level: 0,
        awarded_proposal_id: None,
        opened_by: caller.subject.clone(),
        open_time: now,
        awarded_by: None,
        award_time: None,
        award_reason: None,
        version: 1,
    };
    let wire = to_proto(&row, &[], now)?;
    let written: Result<()> = async {
        let txn = svc.db.begin().await?;
        tasks::guard(&txn, &loaded.row).await?;
        bid::Entity::insert(row.clone().into_active_model())
            .exec_without_returning(&txn)
            .await?;
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "bid.open",
                target_type: "bid",
                target_id: row.bid_id.clone(),
                before: String::new(),
                after: summary(&row),
                reason: format!("bidding for the lead of {id}, closing {close}"),
                event_type: "bid.opened",
                version: 1,
                payload: wire.encode_to_vec(),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
    .await;
    match written {
        Ok(()) => Ok(v1::OpenBidResponse { bid: Some(wire) }),
        Err(e) if e.is_unique_violation() => Err(ServiceError::from_domain(
            bankmkt_domain::coordination::CoordinationError::refused(
                bankmkt_domain::coordination::Reason::BidAlreadyOpen,
                "a bid for the lead is already open or waiting for its award",
            ),
            "",
        )),
        Err(e) => Err(e),
    }
}

/// The registry's chains of `branches` and the tree they make.
async fn tree_of(
    svc: &CoordinationService,
    caller: &Caller,
    branches: Vec<BranchCode>,
) -> Result<(
    BTreeMap<BranchCode, Chain>,
    bankmkt_domain::branch_tree::BranchTree,
)> {
    let chains = store::chains(svc, caller, &[], &branches).await?;
    let tree = clients::tree_of(&chains.values().cloned().collect::<Vec<_>>())?;
    Ok((chains, tree))
}

/// `SubmitBidProposal`: the unit's proposal, replacing its earlier one.
pub async fn submit(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::SubmitBidProposalRequest,
) -> Result<v1::SubmitBidProposalResponse> {
    let mut v = Violations::new();
    let id = convert::issued_id("bid_id", &request.bid_id, &mut v);
    let Some(p) = request.proposal.as_ref() else {
        v.add("proposal", "is required");
        return Err(v.into());
    };
    let unit = convert::unit_ref("proposal.unit", p.unit.as_ref(), &mut v);
    let units = convert::units("proposal.proposed_units", &p.proposed_units, &mut v);
    let revenue = p.expected_revenue.as_ref().and_then(|m| {
        v.check(
            "proposal.expected_revenue.currency",
            Currency::parse(&m.currency),
        )
        .map(|c| Money::from_minor(c, m.minor_units))
    });
    let (Some(id), Some(unit), Some(units), true) = (id, unit, units, v.is_empty()) else {
        return Err(v.into());
    };
    let row = load_bid(&svc.db, &id).await?;
    let loaded = store::load_any(&svc.db, &row.opportunity_id).await?;
    let today = svc.clock.today();
    let mut branches = vec![unit.branch.clone()];
    branches.extend(caller.branch.clone());
    let (_, tree) = tree_of(svc, caller, branches).await?;
    let in_unit = match &caller.branch {
        Some(own) => members::fits(
            &StaffFacts {
                employee_id: caller.subject.clone(),
                branch: own.clone(),
                lines: caller.lines.clone(),
                active_from: today,
                active_to: None,
            },
            &unit,
            &tree,
        ),
        None => false,
    };
    if !in_unit && !may_read(caller, &loaded, svc) {
        return Err(ServiceError::not_found("bid", id));
    }
    if row.version != request.expected_version {
        return Err(stale_bid(&row, request.expected_version));
    }
    stage::check_open(loaded.stage()?).map_err(|e| ServiceError::from_domain(e, ""))?;
    let now = store::now(svc);
    let shares = bidding::check_proposal(
        stored("bid status", &row.status)?,
        row.close_time,
        now,
        ProposalInput {
            unit: &unit,
            submitter_in_unit: in_unit,
            proposed_units: units,
            plan: &p.plan,
            expected_revenue: revenue,
        },
    )
    .map_err(|e| ServiceError::from_domain(e, "proposal"))?;
    let mut proposals = proposals_of(&svc.db, &id).await?;
    let replaced: Vec<String> = proposals
        .iter()
        .filter(|x| x.unit_branch == unit.branch.as_str() && x.unit_line == unit.line.as_str())
        .map(|x| x.proposal_id.clone())
        .collect();
    proposals.retain(|x| !replaced.contains(&x.proposal_id));
    let new = bid_proposal::Model {
        proposal_id: convert::new_id(),
        bid_id: id.clone(),
        unit_branch: unit.branch.as_str().to_owned(),
        unit_line: unit.line.as_str().to_owned(),
        proposed_units: convert::units_to_json(&shares)?,
        plan: p.plan.clone(),
        revenue_currency: revenue.map(|m| m.currency().as_str().to_owned()),
        revenue_minor: revenue.map(|m| m.minor_units()),
        submitted_by: caller.subject.clone(),
        submit_time: now,
    };
    proposals.push(new.clone());
    let domain: Vec<Proposal> = proposals
        .iter()
        .map(domain_proposal)
        .collect::<Result<_>>()?;
    let (chains, tree) = tree_of(
        svc,
        caller,
        domain.iter().map(|x| x.unit.branch.clone()).collect(),
    )
    .await?;
    let awarding = bidding::awarding_branch(&tree, &domain);
    let mut next = row.clone();
    next.awarding_level = awarding
        .as_ref()
        .and_then(|b| level_of(&chains, b))
        .unwrap_or(0);
    next.awarding_branch = awarding.map(|b| b.as_str().to_owned());
    next.version = row.version + 1;
    let wire = to_proto(&next, &proposals, now)?;
    let written: Result<()> = async {
        let txn = svc.db.begin().await?;
        update_bid(&txn, &next, row.version).await?;
        if !replaced.is_empty() {
            bid_proposal::Entity::delete_many()
                .filter(bid_proposal::Column::ProposalId.is_in(replaced.clone()))
                .exec(&txn)
                .await?;
        }
        bid_proposal::Entity::insert(new.clone().into_active_model())
            .exec_without_returning(&txn)
            .await?;
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "bid.submit_proposal",
                target_type: "bid",
                target_id: id.clone(),
                before: summary(&row),
                after: summary(&next),
                reason: format!(
                    "unit {unit} proposes to lead{}",
                    if replaced.is_empty() {
                        ""
                    } else {
                        " (replacing its earlier proposal)"
                    }
                ),
                event_type: "bid.proposal_submitted",
                version: next.version,
                payload: wire.encode_to_vec(),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
    .await;
    match written {
        Ok(()) => Ok(v1::SubmitBidProposalResponse { bid: Some(wire) }),
        Err(e) if e.is_unique_violation() => Err(stale_bid(&row, request.expected_version)),
        Err(e) => Err(e),
    }
}

/// The wire level of `branch` from the chains that hold it.
fn level_of(chains: &BTreeMap<BranchCode, Chain>, branch: &BranchCode) -> Option<i32> {
    use bankmkt_domain::org::BranchLevel;
    chains.values().find_map(|c| {
        c.0.iter().find(|(b, _)| b == branch).map(|(_, l)| {
            (match l {
                BranchLevel::HeadOffice => v1::BranchLevel::HeadOffice,
                BranchLevel::Tier1Branch => v1::BranchLevel::Tier1Branch,
                BranchLevel::Tier2Branch => v1::BranchLevel::Tier2Branch,
                BranchLevel::SubBranch => v1::BranchLevel::SubBranch,
                BranchLevel::Outlet => v1::BranchLevel::Outlet,
            }) as i32
        })
    })
}

/// Writes `next` over the bid row of version `expected`; `ABORTED` when another writer got there
/// first.
async fn update_bid<C: ConnectionTrait>(txn: &C, next: &bid::Model, expected: i64) -> Result<()> {
    let updated = bid::Entity::update_many()
        .set(next.clone().into_active_model().reset_all())
        .filter(bid::Column::BidId.eq(next.bid_id.clone()))
        .filter(bid::Column::Version.eq(expected))
        .exec(txn)
        .await?;
    if updated.rows_affected == 1 {
        Ok(())
    } else {
        Err(ServiceError::StaleVersion {
            kind: "bid",
            id: next.bid_id.clone(),
            expected,
            actual: expected + 1,
        })
    }
}

/// `AwardBid`: sets the lead and the shares from the award date.
pub async fn award(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::AwardBidRequest,
) -> Result<v1::AwardBidResponse> {
    let mut v = Violations::new();
    let id = convert::issued_id("bid_id", &request.bid_id, &mut v);
    let winner = convert::issued_id("proposal_id", &request.proposal_id, &mut v);
    convert::reason("reason", &request.reason, true, &mut v);
    let (Some(id), Some(winner), true) = (id, winner, v.is_empty()) else {
        return Err(v.into());
    };
    let row = load_bid(&svc.db, &id).await?;
    let loaded = store::load_any(&svc.db, &row.opportunity_id).await?;
    if !(may_read(caller, &loaded, svc) || caller.has_role(Role::BranchHead)) {
        return Err(ServiceError::not_found("bid", id));
    }
    if row.version != request.expected_version {
        return Err(stale_bid(&row, request.expected_version));
    }
    stage::check_open(loaded.stage()?).map_err(|e| ServiceError::from_domain(e, ""))?;
    let now = store::now(svc);
    let today = svc.clock.today();
    let proposals = proposals_of(&svc.db, &id).await?;
    let domain: Vec<Proposal> = proposals
        .iter()
        .map(domain_proposal)
        .collect::<Result<_>>()?;
    let mut branches: Vec<BranchCode> = domain.iter().map(|x| x.unit.branch.clone()).collect();
    branches.extend(caller.branch.clone());
    let (_, tree) = tree_of(svc, caller, branches).await?;
    let decided = bidding::award(
        effective(&row, now)?,
        &domain,
        &winner,
        Awarder {
            employee_id: &caller.subject,
            roles: &caller.roles,
            branch: caller.branch.as_ref(),
        },
        &tree,
        &request.reason,
    )
    .map_err(|e| ServiceError::from_domain(e, ""))?;
    let version = ShareVersion {
        shares: decided.shares.clone(),
        effective_from: loaded.history.next_start(today),
        source: ChangeSource::Bid(id.clone()),
    };
    let opportunity_id = loaded.id()?;
    let wanted = loaded.wanted_claims(&decided.shares)?;
    store::check_free(svc, caller, &wanted, Some(opportunity_id)).await?;
    let chains = store::chains(svc, caller, &[&decided.shares], &[]).await?;
    let mut next = row.clone();
    next.status = BidStatus::Awarded.as_str().to_owned();
    next.unfinished_opportunity_id = None;
    next.awarded_proposal_id = Some(decided.proposal_id.clone());
    next.awarded_by = Some(caller.subject.clone());
    next.award_time = Some(now);
    next.award_reason = Some(request.reason.trim().to_owned());
    next.version = row.version + 1;
    let bid_wire = to_proto(&next, &proposals, now)?;
    let written: Result<v1::Opportunity> = async {
        let txn = svc.db.begin().await?;
        update_bid(&txn, &next, row.version).await?;
        let mut header = store::apply_shares(&txn, &loaded, version.clone(), &chains, now).await?;
        header.version = loaded.row.version + 1;
        header.update_time = now;
        store::save(&txn, header.clone(), loaded.row.version).await?;
        let withdrawn = withdraw_pending(&txn, &loaded.row.opportunity_id).await?;
        let mut history = loaded.history.clone();
        history
            .push(version.clone())
            .map_err(|e| ServiceError::from_domain(e, ""))?;
        let memberships = crate::entity::member::Entity::find()
            .filter(
                crate::entity::member::Column::OpportunityId.eq(loaded.row.opportunity_id.clone()),
            )
            .order_by_asc(crate::entity::member::Column::MemberId)
            .all(&txn)
            .await?;
        let after = Loaded {
            row: header.clone(),
            history,
            targets: loaded.targets.clone(),
            members: memberships,
        };
        let opportunity_wire = store::to_proto(&after, today)?;
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "bid.award",
                target_type: "bid",
                target_id: id.clone(),
                before: summary(&row),
                after: summary(&next),
                reason: request.reason.trim().to_owned(),
                event_type: "bid.awarded",
                version: next.version,
                payload: bid_wire.encode_to_vec(),
            },
        )
        .await?;
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "opportunity.award_lead",
                target_type: "opportunity",
                target_id: loaded.row.opportunity_id.clone(),
                before: store::summary(&loaded.row),
                after: store::summary(&header),
                reason: format!(
                    "bid {id} awarded to {}; lead {} from {}; {withdrawn} amendment(s) withdrawn",
                    decided.proposal_id,
                    decided.shares.lead().unit,
                    version.effective_from
                ),
                event_type: "opportunity.lead_awarded",
                version: header.version,
                payload: opportunity_wire.encode_to_vec(),
            },
        )
        .await?;
        crate::grants::sync(svc, caller, &txn, &loaded.row.opportunity_id, Some(&loaded)).await?;
        txn.commit().await?;
        Ok(opportunity_wire)
    }
    .await;
    match written {
        Ok(opportunity) => Ok(v1::AwardBidResponse {
            bid: Some(bid_wire),
            opportunity: Some(opportunity),
        }),
        Err(e) if e.is_unique_violation() => {
            Err(store::lost_race(svc, caller, &wanted, Some(opportunity_id)).await)
        }
        Err(e) => Err(e),
    }
}

/// Withdraws the pending amendments of opportunity `id` (a bid award replaced the shares);
/// returns how many.
async fn withdraw_pending<C: ConnectionTrait>(txn: &C, id: &str) -> Result<usize> {
    let pending = share_amendment::Entity::find()
        .filter(share_amendment::Column::OpportunityId.eq(id))
        .filter(share_amendment::Column::Status.eq(AmendmentStatus::Proposed.as_str()))
        .all(txn)
        .await?;
    let count = pending.len();
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
            .exec(txn)
            .await?;
    }
    Ok(count)
}

/// `GetBid`.
pub async fn get(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::GetBidRequest,
) -> Result<v1::GetBidResponse> {
    let mut v = Violations::new();
    let Some(id) = convert::issued_id("bid_id", &request.bid_id, &mut v) else {
        return Err(v.into());
    };
    let row = load_bid(&svc.db, &id).await?;
    let loaded = store::load_any(&svc.db, &row.opportunity_id).await?;
    if !may_read(caller, &loaded, svc) {
        return Err(ServiceError::not_found("bid", id));
    }
    let proposals = proposals_of(&svc.db, &id).await?;
    Ok(v1::GetBidResponse {
        bid: Some(to_proto(&row, &proposals, store::now(svc))?),
    })
}

/// `ListBids`: newest first (ids grow with time), keyset paged, only bids the caller may read.
pub async fn list(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::ListBidsRequest,
) -> Result<v1::ListBidsResponse> {
    let mut v = Violations::new();
    let size = convert::page_size(request.page_size, &mut v);
    let filters = {
        let mut f = request.clone();
        f.page_size = 0;
        f.page_token.clear();
        convert::filter_hash(&f.encode_to_vec())
    };
    let after = convert::page_after(&request.page_token, &filters, &mut v);
    let opportunity = if request.opportunity_id.is_empty() {
        None
    } else {
        convert::issued_id("opportunity_id", &request.opportunity_id, &mut v)
    };
    let status = convert::filter_enum(
        "status",
        request.status,
        status_from_proto,
        "bid status",
        &mut v,
    );
    if !v.is_empty() {
        return Err(v.into());
    }
    let now = store::now(svc);
    if let Some(id) = &opportunity {
        let loaded = store::load_any(&svc.db, id).await?;
        if !may_read(caller, &loaded, svc) {
            return Err(ServiceError::not_found("opportunity", id.clone()));
        }
    }
    let mut cond = Condition::all();
    if let Some(id) = &opportunity {
        cond = cond.add(bid::Column::OpportunityId.eq(id.clone()));
    }
    // Open and closed differ only by the clock: filter on the stored status, then on the
    // effective one.
    if let Some(s) = status {
        let stored_as = match s {
            BidStatus::Closed => BidStatus::Open,
            other => other,
        };
        cond = cond.add(bid::Column::Status.eq(stored_as.as_str()));
    }
    let mut readable: BTreeMap<String, bool> = BTreeMap::new();
    let mut out: Vec<bid::Model> = Vec::new();
    let mut cursor = after;
    let mut more = false;
    'pages: loop {
        let mut q = bid::Entity::find().filter(cond.clone());
        if let Some(c) = &cursor {
            q = q.filter(bid::Column::BidId.lt(c.clone()));
        }
        let rows = q
            .order_by_desc(bid::Column::BidId)
            .limit((size as u64 + 1) * 2)
            .all(&svc.db)
            .await?;
        let exhausted = rows.len() < (size + 1) * 2;
        for row in rows {
            cursor = Some(row.bid_id.clone());
            if status.is_some_and(|s| effective(&row, now).is_ok_and(|e| e != s)) {
                continue;
            }
            let ok = match readable.get(&row.opportunity_id) {
                Some(ok) => *ok,
                None => {
                    let ok = match store::load_any(&svc.db, &row.opportunity_id).await {
                        Ok(l) => may_read(caller, &l, svc),
                        Err(ServiceError::NotFound { .. }) => false,
                        Err(e) => return Err(e),
                    };
                    readable.insert(row.opportunity_id.clone(), ok);
                    ok
                }
            };
            if !ok {
                continue;
            }
            if out.len() == size {
                more = true;
                break 'pages;
            }
            out.push(row);
        }
        if exhausted {
            break;
        }
    }
    let next_page_token = match (more, out.last()) {
        (true, Some(last)) => convert::page_token(&filters, &last.bid_id),
        _ => String::new(),
    };
    let mut bids = Vec::with_capacity(out.len());
    for row in &out {
        let proposals = proposals_of(&svc.db, &row.bid_id).await?;
        bids.push(to_proto(row, &proposals, now)?);
    }
    Ok(v1::ListBidsResponse {
        bids,
        next_page_token,
    })
}
