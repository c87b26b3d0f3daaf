//! The opportunity aggregate as stored: [`Loaded`] reads an opportunity with its share history,
//! linked targets and memberships into the domain's types; [`may_see`] and [`require_member`] say
//! who reads and who changes it (ARCHITECTURE.md: the caller's branch subtree — an opportunity
//! lies in the subtrees of its units' branches —, a bank-wide reading role, or an active
//! membership); [`save`] writes a changed header under optimistic concurrency (a stale version is
//! `ABORTED` and changes nothing); the claim operations take, release and transfer claims in
//! both the history (`claim`) and the active set (`active_claim`, whose primary key makes the
//! database the final arbiter between concurrent creates: a unique violation there becomes the
//! domain's claim conflict, naming the holder when the caller may see it); [`apply_shares`]
//! puts a new version of the shares in force (history, units' paths and lines, claims, and the
//! memberships of units that leave).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use bankmkt_domain::access::BANK_WIDE_READ_ROLES;
use bankmkt_domain::coordination::claims::{self, ClaimKey, HeldClaim};
use bankmkt_domain::coordination::members::{self, Membership};
use bankmkt_domain::coordination::{
    ClaimState, CoordinationError, OpportunityStage, ShareHistory, ShareSet, ShareVersion, UnitRef,
};
use bankmkt_domain::ids::{CustomerId, OpportunityId};
use bankmkt_domain::org::{BranchCode, Role};
use bankmkt_platform::Caller;
use bankmkt_proto::v1;
use chrono::{DateTime, NaiveDate, Utc};
use prost::Message;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};

use crate::clients::Chain;
use crate::convert;
use crate::entity::{active_claim, claim, linked_target, member, opportunity, share_version};
use crate::error::{Result, ServiceError};
use crate::{CoordinationService, convert::stored};

/// An opportunity with everything its rules look at.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The header row.
    pub row: opportunity::Model,
    /// The share history.
    pub history: ShareHistory,
    /// The linked targets.
    pub targets: Vec<linked_target::Model>,
    /// Every membership ever.
    pub members: Vec<member::Model>,
}

impl Loaded {
    /// The stage.
    pub fn stage(&self) -> Result<OpportunityStage> {
        stored("stage", &self.row.stage)
    }

    /// The main target.
    pub fn target(&self) -> Result<CustomerId> {
        CustomerId::parse(&self.row.target_customer_id).map_err(ServiceError::internal)
    }

    /// The linked targets' ids.
    pub fn linked(&self) -> Result<Vec<CustomerId>> {
        self.targets
            .iter()
            .map(|t| CustomerId::parse(&t.customer_id).map_err(ServiceError::internal))
            .collect()
    }

    /// The memberships as the domain reads them.
    pub fn memberships(&self) -> Result<Vec<Membership>> {
        self.members.iter().map(membership).collect()
    }

    /// The latest set of units and shares.
    pub fn latest(&self) -> &ShareSet {
        &self.history.latest().shares
    }

    /// The id as the domain's type.
    pub fn id(&self) -> Result<OpportunityId> {
        OpportunityId::parse(&self.row.opportunity_id).map_err(ServiceError::internal)
    }

    /// The claims it should hold with `shares`: none when it holds no claims.
    pub fn wanted_claims(&self, shares: &ShareSet) -> Result<BTreeSet<ClaimKey>> {
        if !self.row.holds_claims {
            return Ok(BTreeSet::new());
        }
        Ok(claims::opportunity_claims(
            self.target()?,
            &self.linked()?,
            shares,
        ))
    }
}

/// A stored membership as the domain reads it.
pub fn membership(m: &member::Model) -> Result<Membership> {
    Ok(Membership {
        employee_id: m.employee_id.clone(),
        unit: UnitRef::new(
            BranchCode::parse(&m.unit_branch).map_err(ServiceError::internal)?,
            stored("line", &m.unit_line)?,
        ),
        role: stored("member role", &m.role)?,
        active_from: m.active_from,
        active_to: m.active_to,
    })
}

/// Loads opportunity `id` whoever asks (`NOT_FOUND` when it does not exist).
pub async fn load_any<C: ConnectionTrait>(db: &C, id: &str) -> Result<Loaded> {
    let row = opportunity::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::not_found("opportunity", id))?;
    let versions = share_version::Entity::find()
        .filter(share_version::Column::OpportunityId.eq(id))
        .order_by_asc(share_version::Column::Seq)
        .all(db)
        .await?;
    let mut history = Vec::with_capacity(versions.len());
    for v in versions {
        history.push(ShareVersion {
            shares: convert::units_from_json(&v.units)?,
            effective_from: v.effective_from,
            source: bankmkt_domain::coordination::ChangeSource::parse(&v.source).ok_or_else(
                || ServiceError::internal(format!("share source {:?} unknown", v.source)),
            )?,
        });
    }
    let history = ShareHistory::from_versions(history).map_err(ServiceError::internal)?;
    let targets = linked_target::Entity::find()
        .filter(linked_target::Column::OpportunityId.eq(id))
        .order_by_asc(linked_target::Column::AddTime)
        .order_by_asc(linked_target::Column::CustomerId)
        .all(db)
        .await?;
    let members = member::Entity::find()
        .filter(member::Column::OpportunityId.eq(id))
        .order_by_asc(member::Column::MemberId)
        .all(db)
        .await?;
    Ok(Loaded {
        row,
        history,
        targets,
        members,
    })
}

/// Whether `caller` reads every opportunity.
pub fn reads_bank_wide(caller: &Caller) -> bool {
    BANK_WIDE_READ_ROLES.iter().any(|r| caller.has_role(*r))
}

/// Whether the caller's branch is on the path of one of the opportunity's units.
pub fn in_subtree(caller: &Caller, row: &opportunity::Model) -> bool {
    caller
        .branch
        .as_ref()
        .is_some_and(|b| row.unit_paths.contains(&format!("/{}/", b.as_str())))
}

/// Whether `caller` may see the opportunity on `today`.
pub fn may_see(caller: &Caller, loaded: &Loaded, today: NaiveDate) -> bool {
    reads_bank_wide(caller)
        || in_subtree(caller, &loaded.row)
        || is_active_member(loaded, &caller.subject, today)
}

/// Whether `employee` is an active member on `today`, by the domain's membership rule (a row
/// that does not parse counts as no membership).
fn is_active_member(loaded: &Loaded, employee: &str, today: NaiveDate) -> bool {
    loaded
        .members
        .iter()
        .filter(|m| m.employee_id == employee)
        .any(|m| membership(m).is_ok_and(|ms| ms.is_active_on(today)))
}

/// Loads opportunity `id` when `caller` may see it (`NOT_FOUND` otherwise).
pub async fn load<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    id: &str,
    today: NaiveDate,
) -> Result<Loaded> {
    let loaded = load_any(db, id).await?;
    if may_see(caller, &loaded, today) {
        Ok(loaded)
    } else {
        Err(ServiceError::not_found("opportunity", id))
    }
}

/// Refuses a caller who is neither an active member nor an admin.
pub fn require_member(caller: &Caller, loaded: &Loaded, today: NaiveDate) -> Result<()> {
    let member = is_active_member(loaded, &caller.subject, today);
    if member || caller.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(ServiceError::PermissionDenied(format!(
            "{} is not a member of opportunity {}",
            caller.subject, loaded.row.opportunity_id
        )))
    }
}

/// Refuses a stale `expected` version of the opportunity.
pub fn check_version(row: &opportunity::Model, expected: i64) -> Result<()> {
    if row.version == expected {
        Ok(())
    } else {
        Err(ServiceError::StaleVersion {
            kind: "opportunity",
            id: row.opportunity_id.clone(),
            expected,
            actual: row.version,
        })
    }
}

/// Writes `next` over the stored row of version `expected` (every column); `ABORTED` when
/// another writer got there first.
pub async fn save<C: ConnectionTrait>(
    txn: &C,
    next: opportunity::Model,
    expected: i64,
) -> Result<()> {
    let id = next.opportunity_id.clone();
    let actual = next.version;
    let am = next.into_active_model().reset_all();
    let result = opportunity::Entity::update_many()
        .set(am)
        .filter(opportunity::Column::OpportunityId.eq(id.clone()))
        .filter(opportunity::Column::Version.eq(expected))
        .exec(txn)
        .await?;
    if result.rows_affected == 1 {
        Ok(())
    } else {
        Err(ServiceError::StaleVersion {
            kind: "opportunity",
            id,
            expected,
            actual: actual - 1,
        })
    }
}

/// The active claims of the customers of `keys` (any holder).
pub async fn active_for<C: ConnectionTrait>(
    db: &C,
    keys: &BTreeSet<ClaimKey>,
) -> Result<Vec<HeldClaim>> {
    let customers: BTreeSet<String> = keys.iter().map(|k| k.customer.to_string()).collect();
    let mut out = Vec::new();
    let customers: Vec<String> = customers.into_iter().collect();
    for chunk in customers.chunks(500) {
        let rows = active_claim::Entity::find()
            .filter(active_claim::Column::CustomerId.is_in(chunk.iter().cloned()))
            .all(db)
            .await?;
        for r in rows {
            out.push(held(&r)?);
        }
    }
    Ok(out)
}

fn held(r: &active_claim::Model) -> Result<HeldClaim> {
    Ok(HeldClaim {
        key: ClaimKey {
            customer: CustomerId::parse(&r.customer_id).map_err(ServiceError::internal)?,
            line: stored("line", &r.line)?,
        },
        opportunity: OpportunityId::parse(&r.opportunity_id).map_err(ServiceError::internal)?,
    })
}

/// The keys opportunity `id` holds now.
pub async fn held_by<C: ConnectionTrait>(db: &C, id: &str) -> Result<BTreeSet<ClaimKey>> {
    let rows = active_claim::Entity::find()
        .filter(active_claim::Column::OpportunityId.eq(id))
        .all(db)
        .await?;
    rows.iter().map(|r| held(r).map(|h| h.key)).collect()
}

/// The domain's claim conflict as this service's error, naming the holder when `caller` may see
/// it.
pub async fn claim_error(
    svc: &CoordinationService,
    caller: &Caller,
    err: CoordinationError,
) -> ServiceError {
    let Some(holder) = claims::first_holder(&err) else {
        return ServiceError::from_domain(err, "");
    };
    let holder = holder.to_string();
    let visible = match load_any(&svc.db, &holder).await {
        Ok(l) => may_see(caller, &l, svc.clock.today()),
        Err(_) => false,
    };
    ServiceError::claimed(err.to_string(), visible.then_some(holder))
}

/// Checks that none of `wanted` is held by another opportunity than `claimant`.
pub async fn check_free(
    svc: &CoordinationService,
    caller: &Caller,
    wanted: &BTreeSet<ClaimKey>,
    claimant: Option<OpportunityId>,
) -> Result<()> {
    if wanted.is_empty() {
        return Ok(());
    }
    let active = active_for(&svc.db, wanted).await?;
    match claims::check_claims(wanted, &active, claimant) {
        Ok(()) => Ok(()),
        Err(e) => Err(claim_error(svc, caller, e).await),
    }
}

/// After a unique violation on `active_claim`: the conflict as it stands now, else `ABORTED`.
pub async fn lost_race(
    svc: &CoordinationService,
    caller: &Caller,
    wanted: &BTreeSet<ClaimKey>,
    claimant: Option<OpportunityId>,
) -> ServiceError {
    match check_free(svc, caller, wanted, claimant).await {
        Err(e) => e,
        Ok(()) => ServiceError::StaleVersion {
            kind: "claim",
            id: "concurrent".to_owned(),
            expected: 0,
            actual: 1,
        },
    }
}

/// Takes `keys` for opportunity `id`: the active rows first (the unique constraint), then the
/// history rows.
pub async fn take<C: ConnectionTrait>(
    txn: &C,
    id: &str,
    keys: &BTreeSet<ClaimKey>,
    now: DateTime<Utc>,
) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = keys.iter().map(|_| convert::new_id()).collect();
    active_claim::Entity::insert_many(keys.iter().zip(&ids).map(|(k, claim_id)| {
        active_claim::Model {
            customer_id: k.customer.to_string(),
            line: k.line.as_str().to_owned(),
            claim_id: claim_id.clone(),
            opportunity_id: id.to_owned(),
        }
        .into_active_model()
    }))
    .exec_without_returning(txn)
    .await?;
    claim::Entity::insert_many(keys.iter().zip(&ids).map(|(k, claim_id)| {
        claim::Model {
            claim_id: claim_id.clone(),
            customer_id: k.customer.to_string(),
            line: k.line.as_str().to_owned(),
            opportunity_id: id.to_owned(),
            state: ClaimState::Active.as_str().to_owned(),
            create_time: now,
            end_time: None,
        }
        .into_active_model()
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Ends opportunity `id`'s active claims of `keys` (every one when `None`) as `state`.
pub async fn end<C: ConnectionTrait>(
    txn: &C,
    id: &str,
    keys: Option<&BTreeSet<ClaimKey>>,
    state: ClaimState,
    now: DateTime<Utc>,
) -> Result<()> {
    let rows = active_claim::Entity::find()
        .filter(active_claim::Column::OpportunityId.eq(id))
        .all(txn)
        .await?;
    for r in rows {
        let key = held(&r)?.key;
        if keys.is_some_and(|k| !k.contains(&key)) {
            continue;
        }
        active_claim::Entity::delete_by_id((r.customer_id.clone(), r.line.clone()))
            .exec(txn)
            .await?;
        claim::Entity::update_many()
            .col_expr(claim::Column::State, Expr::value(state.as_str()))
            .col_expr(claim::Column::EndTime, Expr::value(now))
            .filter(claim::Column::ClaimId.eq(r.claim_id))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// The `|/HQ/BJ/BJ01/|…|` and `|corporate|…|` columns of `shares`, from the chains of its units'
/// branches.
pub fn unit_columns(
    shares: &ShareSet,
    chains: &BTreeMap<BranchCode, Chain>,
) -> Result<(String, String)> {
    let mut paths = BTreeSet::new();
    for u in shares.units() {
        let chain = chains.get(&u.unit.branch).ok_or_else(|| {
            ServiceError::internal(format!("no chain of branch {}", u.unit.branch))
        })?;
        paths.insert(chain.path());
    }
    let lines: BTreeSet<&str> = shares.lines().into_iter().map(|l| l.as_str()).collect();
    let join = |items: Vec<String>| format!("|{}|", items.join("|"));
    Ok((
        join(paths.into_iter().collect()),
        join(lines.into_iter().map(str::to_owned).collect()),
    ))
}

/// The chains of the branches of `shares` plus `extra`, from the registry.
pub async fn chains(
    svc: &CoordinationService,
    caller: &Caller,
    shares: &[&ShareSet],
    extra: &[BranchCode],
) -> Result<BTreeMap<BranchCode, Chain>> {
    let mut branches: BTreeSet<BranchCode> = extra.iter().cloned().collect();
    for s in shares {
        branches.extend(s.units().iter().map(|u| u.unit.branch.clone()));
    }
    let mut out = BTreeMap::new();
    for b in branches {
        let chain = svc.registry.chain(caller, &b).await?;
        out.insert(b, chain);
    }
    Ok(out)
}

/// Puts `version` in force for `loaded` on `txn`: appends it to the history, sets the units'
/// paths and lines, takes and releases claims as the new lines want (check them with
/// [`check_free`] first), and ends the memberships of units that leave on its start. Returns the
/// header row to [`save`] (version not yet bumped).
pub async fn apply_shares<C: ConnectionTrait>(
    txn: &C,
    loaded: &Loaded,
    version: ShareVersion,
    chains: &BTreeMap<BranchCode, Chain>,
    now: DateTime<Utc>,
) -> Result<opportunity::Model> {
    let mut history = loaded.history.clone();
    history
        .push(version.clone())
        .map_err(|e| ServiceError::from_domain(e, ""))?;
    let seq = i32::try_from(history.versions().len()).unwrap_or(i32::MAX);
    share_version::Entity::insert(
        share_version::Model {
            opportunity_id: loaded.row.opportunity_id.clone(),
            seq,
            effective_from: version.effective_from,
            source: version.source.to_string(),
            units: convert::units_to_json(&version.shares)?,
            create_time: now,
        }
        .into_active_model(),
    )
    .exec_without_returning(txn)
    .await?;
    let held = held_by(txn, &loaded.row.opportunity_id).await?;
    let wanted = loaded.wanted_claims(&version.shares)?;
    let diff = claims::diff(&held, &wanted);
    end(
        txn,
        &loaded.row.opportunity_id,
        Some(&diff.release),
        ClaimState::Released,
        now,
    )
    .await?;
    take(txn, &loaded.row.opportunity_id, &diff.take, now).await?;
    let memberships = loaded.memberships()?;
    let orphaned: Vec<Membership> =
        members::orphaned(&memberships, &version.shares, version.effective_from)
            .into_iter()
            .cloned()
            .collect();
    for (m, row) in memberships.iter().zip(&loaded.members) {
        if orphaned.contains(m) {
            let ended = m.ended(version.effective_from);
            let mut am = row.clone().into_active_model();
            am.active_to = sea_orm::Set(ended.active_to);
            am.update(txn).await?;
        }
    }
    let (paths, lines) = unit_columns(&version.shares, chains)?;
    let mut next = loaded.row.clone();
    next.unit_paths = paths;
    next.unit_lines = lines;
    Ok(next)
}

/// The opportunity for the wire, with the shares in force on `today`.
pub fn to_proto(loaded: &Loaded, today: NaiveDate) -> Result<v1::Opportunity> {
    let row = &loaded.row;
    let shares = loaded
        .history
        .as_of(today)
        .map(|s| &s.version.shares)
        .unwrap_or_else(|| &loaded.history.versions()[0].shares);
    let goal = v1::Goal::decode(row.goal.as_slice()).map_err(ServiceError::internal)?;
    let needs = row
        .needs_statement
        .as_ref()
        .map(|b| v1::NeedsStatement::decode(b.as_slice()))
        .transpose()
        .map_err(ServiceError::internal)?;
    let stage: OpportunityStage = stored("stage", &row.stage)?;
    let kind: bankmkt_domain::coordination::OpportunityType =
        stored("type", &row.opportunity_type)?;
    Ok(v1::Opportunity {
        opportunity_id: row.opportunity_id.clone(),
        name: row.name.clone(),
        opportunity_type: convert::type_to_proto(kind) as i32,
        target_customer_id: row.target_customer_id.clone(),
        linked_targets: loaded
            .targets
            .iter()
            .map(|t| v1::LinkedTarget {
                customer_id: t.customer_id.clone(),
                relationship_type: t.relationship_type,
                via_customer_id: t.via_customer_id.clone(),
                added: Some(convert::stamp(&t.added_by, t.add_time, "")),
            })
            .collect(),
        goal: Some(goal),
        plan: row.plan.clone(),
        start_date: row.start_date.map(convert::date_to_proto),
        target_close_date: row.target_close_date.map(convert::date_to_proto),
        units: convert::share_set_to_proto(shares),
        stage: convert::stage_to_proto(stage) as i32,
        stage_reason: row.stage_reason.clone(),
        needs_statement: needs,
        solution_quote_id: row.solution_quote_id.clone().unwrap_or_default(),
        after_sales: match (&row.after_sales_primary, &row.after_sales_backup) {
            (Some(a), Some(b)) => Some(v1::AfterSalesOwners {
                primary_employee_id: a.clone(),
                backup_employee_id: b.clone(),
            }),
            _ => None,
        },
        parent_opportunity_id: row.parent_opportunity_id.clone().unwrap_or_default(),
        follow_on_opportunity_id: row.follow_on_opportunity_id.clone().unwrap_or_default(),
        holds_claims: row.holds_claims,
        created: Some(convert::stamp(&row.created_by, row.create_time, "")),
        update_time: Some(convert::timestamp(row.update_time)),
        version: row.version,
    })
}

/// A one-line summary of an opportunity for the audit log.
pub fn summary(row: &opportunity::Model) -> String {
    format!(
        "version={} stage={} target={} units={} lines={} claims={}",
        row.version,
        row.stage,
        row.target_customer_id,
        row.unit_paths,
        row.unit_lines,
        row.holds_claims
    )
}

/// The ids among `ids` that `caller` may see on `today`.
pub async fn visible_ids<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    ids: &BTreeSet<String>,
    today: NaiveDate,
) -> Result<HashSet<String>> {
    let mut out = HashSet::new();
    for id in ids {
        if let Ok(l) = load_any(db, id).await
            && may_see(caller, &l, today)
        {
            out.insert(id.clone());
        }
    }
    Ok(out)
}

/// Now, to the microsecond: what every backend stores, so a write's answer equals a later read.
pub fn now(svc: &CoordinationService) -> DateTime<Utc> {
    use chrono::SubsecRound;
    svc.clock.now().trunc_subsecs(6)
}
