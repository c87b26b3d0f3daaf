//! The walk-through of a whole joint campaign, through the pure rules only: a core
//! enterprise with its supply chain and executives; corporate, small-business and retail units at
//! 5000/3000/2000 with tasks from a playbook; a second branch's conflicting claim refused and then
//! joined through a join request and an accepted amendment; members; activities with consent; a
//! quote attached and approved; won and follow-up; a follow-on taking the claims over; and overdue
//! items appearing once the business date passes their due dates.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::activities::{ActivityDraft, ActivityPolicy, ActivityType, Participant, check_consent};
use super::amendments::{AmendmentStatus, ProposalContext, ShareHistory, propose};
use super::claims::{HeldClaim, check_claims, diff, first_holder, opportunity_claims, takeover};
use super::contact::{ContactFacts, check_linked_use, suggestible};
use super::joins::{JoinAsk, JoinRequestStatus, check_join_acceptance, check_join_request};
use super::members::tests::{member, staff, tree};
use super::members::{MemberRole, active_members, check_new_member, is_member_of, read_grants};
use super::opportunity::{QuoteStatus, check_solution_quote};
use super::overdue::{
    ActivityFact, CustomerFacts, OverdueInputs, OverdueKind, TaskFact, count_by_responsible,
    overdue,
};
use super::playbooks::tests::scf_playbook;
use super::playbooks::{ApplyContext, instantiate};
use super::rules::tests::monthly_visits;
use super::shares::ShareSet;
use super::shares::tests::{co, lead, unit, walkthrough_units};
use super::stage::{
    AfterSales, OpportunityStage, OpportunityType, TransitionFacts, check_follow_on,
    check_transition,
};
use super::tasks::TaskStatus;
use super::tasks::tests::calendar;
use super::{ErrorKind, Reason};
use crate::consent::{Consent, ContactChannel};
use crate::customer::{CorporateTier, CustomerKind};
use crate::ids::{CustomerId, OpportunityId, TaskId};
use crate::org::BusinessLine::*;

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, m, day).unwrap()
}

/// 10:00 in Shanghai.
fn at(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(2, 0, 0).unwrap())
}

#[test]
fn a_whole_joint_campaign() {
    let cal = calendar();
    let t = tree();

    // 1. A core enterprise with a supplier and two executives; one executive has not consented
    //    to cross-line use and is neither suggested nor accepted as a linked target.
    let core = CustomerId::new();
    let supplier = CustomerId::new();
    let cfo = CustomerId::new();
    let ceo = CustomerId::new();
    let consenting = Consent {
        granted_channels: [ContactChannel::InPerson].into(),
        do_not_contact: false,
        cross_line_use: true,
    };
    let facts = |c, kind, consent: Option<Consent>| ContactFacts {
        customer: c,
        kind,
        consent,
    };
    let candidates = [
        facts(supplier, CustomerKind::SmallBusiness, None),
        facts(cfo, CustomerKind::Individual, Some(consenting.clone())),
        facts(ceo, CustomerKind::Individual, Some(Consent::default())),
    ];
    let suggested: Vec<CustomerId> = candidates
        .iter()
        .filter(|c| suggestible(c.kind, c.consent.as_ref()))
        .map(|c| c.customer)
        .collect();
    assert_eq!(suggested, [supplier, cfo]);
    let err = check_linked_use(&candidates).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition);
    check_linked_use(&candidates[..2]).unwrap();
    let linked = suggested;

    // 2. Corporate leads with 5000, small business 3000, retail 2000; the opportunity claims
    //    every target for every line, and no one else holds any of them.
    let created = d(9, 26);
    let opp = OpportunityId::new();
    let shares = ShareSet::parse(walkthrough_units(), "units").unwrap();
    let mut history = ShareHistory::new(shares.clone(), created);
    let claims = opportunity_claims(core, &linked, &shares);
    assert_eq!(claims.len(), 9);
    check_claims(&claims, &[], None).unwrap();
    let held: Vec<HeldClaim> = claims
        .iter()
        .map(|k| HeldClaim {
            key: *k,
            opportunity: opp,
        })
        .collect();

    // The creator joins the lead unit; colleagues of the co-units join too.
    let mut members = vec![
        member(
            "alice",
            unit("BJ01", Corporate),
            MemberRole::UnitLead,
            created,
        ),
        member(
            "carl",
            unit("BJ01", Corporate),
            MemberRole::CustomerManager,
            created,
        ),
        member(
            "sam",
            unit("BJ01", SmallBusiness),
            MemberRole::UnitLead,
            created,
        ),
        member(
            "rita",
            unit("BJ01", Retail),
            MemberRole::CustomerManager,
            created,
        ),
    ];

    // Tasks from the supply-chain playbook, due in working days over National Day.
    let plans = instantiate(
        &scf_playbook(),
        ApplyContext {
            stage: OpportunityStage::Preparation,
            opportunity_type: OpportunityType::SupplyChainFinance,
            shares: &shares,
            memberships: &members,
            start: created,
            today: created,
            calendar: &cal,
            sla_rules: &[],
        },
    )
    .unwrap();
    let due: Vec<_> = plans
        .iter()
        .map(|p| (p.owner.as_str(), p.due_date))
        .collect();
    assert_eq!(
        due,
        [
            ("alice", d(9, 26)),
            // Sep 28 (make-up Sunday), 29, 30.
            ("sam", d(9, 30)),
            // …then Oct 9 and 10 after the holidays.
            ("rita", d(10, 10)),
        ]
    );

    // 3. A second branch's corporate unit wants the core enterprise: refused, naming the holder.
    let rival = ShareSet::parse(vec![lead("BJ02", Corporate, 10000)], "units").unwrap();
    let err = check_claims(&opportunity_claims(core, &[], &rival), &held, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert_eq!(first_holder(&err), Some(opp));

    // It asks to join instead; the lead accepts by proposing 4000 for itself and 1000 for BJ02.
    let today = d(9, 29);
    let bj02 = unit("BJ02", Corporate);
    check_join_request(
        OpportunityStage::Preparation,
        &shares,
        JoinAsk {
            unit: &bj02,
            requester_in_unit: true,
            pending_exists: false,
            requested_share_bps: 1000,
            message: "we bank its local suppliers",
        },
    )
    .unwrap();
    let amendment = propose(
        ProposalContext {
            stage: OpportunityStage::Preparation,
            history: &history,
            pending_exists: false,
            proposer: "alice",
            proposer_in_lead: is_member_of(&members, "alice", &unit("BJ01", Corporate), today),
            today,
        },
        vec![
            lead("BJ01", Corporate, 4000),
            co("BJ01", SmallBusiness, 3000),
            co("BJ01", Retail, 2000),
            co("BJ02", Corporate, 1000),
        ],
        None,
        "BJ02 corporate joins for its local supplier relationships",
    )
    .unwrap();
    check_join_acceptance(JoinRequestStatus::Pending, true, &bj02, &amendment.proposed).unwrap();
    assert_eq!(amendment.pending_units(), [&unit("BJ01", Corporate)]);
    // The proposer may not accept for her own unit; a colleague does.
    let corp = unit("BJ01", Corporate);
    let err = amendment
        .decide(&corp, true, "alice", true, "")
        .unwrap_err();
    assert_eq!(err.reason(), Some(Reason::MakerChecker));
    let accepted = amendment
        .decide(
            &corp,
            true,
            "carl",
            is_member_of(&members, "carl", &corp, today),
            "agreed",
        )
        .unwrap();
    assert_eq!(accepted.status, AmendmentStatus::Accepted);
    history.push(accepted.to_version("AM-1").unwrap()).unwrap();
    // Same lines: the claims do not change.
    let after = opportunity_claims(core, &linked, &history.latest().shares);
    let change = diff(&claims, &after);
    assert!(change.take.is_empty() && change.release.is_empty());
    // Credit before the join uses the old shares, from the join the new ones.
    let before = history.as_of(d(9, 28)).unwrap();
    assert_eq!(before.version.shares.share_of(&corp).unwrap().value(), 5000);
    let now_in_force = history.as_of(d(9, 29)).unwrap();
    assert_eq!(
        now_in_force.version.shares.share_of(&corp).unwrap().value(),
        4000
    );
    assert_eq!(
        now_in_force
            .version
            .shares
            .share_of(&unit("BJ02", Corporate))
            .unwrap()
            .value(),
        1000
    );
    assert_eq!(now_in_force.version.source.to_string(), "amendment:AM-1");

    // A BJ02 corporate manager becomes a member; a Shanghai manager fits no unit.
    let units = history.latest().shares.unit_refs();
    let bo = staff("bo", "BJ02", &[Corporate]);
    check_new_member(
        OpportunityStage::Preparation,
        &bo,
        &unit("BJ02", Corporate),
        &units,
        &members,
        today,
        &t,
    )
    .unwrap();
    members.push(member(
        "bo",
        unit("BJ02", Corporate),
        MemberRole::CustomerManager,
        today,
    ));
    let sue = staff("sue", "SH01", &[Corporate]);
    let err = check_new_member(
        OpportunityStage::Preparation,
        &sue,
        &unit("BJ02", Corporate),
        &units,
        &members,
        today,
        &t,
    )
    .unwrap_err();
    assert_eq!(err.reason(), Some(Reason::MemberFitsNoUnit));
    // Every member reads the targets' 360, bo included, across branch subtrees.
    let mut targets = vec![core];
    targets.extend(&linked);
    let grants = read_grants(OpportunityStage::Preparation, &members, &targets, today);
    assert_eq!(grants.len(), 5 * 3);
    assert!(grants.contains(&("bo".to_owned(), cfo)));

    // 4. Activities: a visit to the core enterprise and to the consenting CFO.
    let visit = ActivityDraft {
        activity_type: Some(ActivityType::Visit),
        channel: None,
        subject: "Supplier finance with the core enterprise".to_owned(),
        record: "Agreed to screen 40 suppliers; CFO open to payroll and cards.".to_owned(),
        start_time: Some(at(d(9, 29))),
        end_time: None,
        participants: vec![
            Participant {
                employee_id: "alice".to_owned(),
                unit: unit("BJ01", Corporate),
            },
            Participant {
                employee_id: "rita".to_owned(),
                unit: unit("BJ01", Retail),
            },
        ],
        customers: vec![core, cfo],
    };
    let valid = visit
        .validate(at(d(9, 29)), &ActivityPolicy::default())
        .unwrap();
    check_consent(
        valid.channel,
        &[
            facts(core, CustomerKind::Corporate, None),
            facts(cfo, CustomerKind::Individual, Some(consenting)),
        ],
        true,
    )
    .unwrap();

    // 5–6. A quote of the core enterprise is attached, approved, and the stages walk to
    //      follow-up.
    let quote_customer = core;
    let mut stage = OpportunityStage::Preparation;
    assert!(
        check_solution_quote(stage, core, supplier, QuoteStatus::Draft).is_err(),
        "a quote of another customer"
    );
    check_solution_quote(stage, core, quote_customer, QuoteStatus::Draft).unwrap();
    stage = check_transition(
        stage,
        OpportunityStage::Execution,
        TransitionFacts::default(),
    )
    .unwrap()
    .to;
    let pending = TransitionFacts {
        solution_quote: Some(QuoteStatus::PendingApproval),
        ..TransitionFacts::default()
    };
    assert_eq!(
        check_transition(stage, OpportunityStage::Won, pending)
            .unwrap_err()
            .reason(),
        Some(Reason::QuoteNotApproved)
    );
    let approved = TransitionFacts {
        solution_quote: Some(QuoteStatus::Approved),
        ..TransitionFacts::default()
    };
    stage = check_transition(stage, OpportunityStage::Won, approved)
        .unwrap()
        .to;
    let member_ids = active_members(&members, d(10, 9));
    let owners = AfterSales {
        primary: "alice".to_owned(),
        backup: "carl".to_owned(),
    };
    let change = check_transition(
        stage,
        OpportunityStage::FollowUp,
        TransitionFacts {
            after_sales: Some(&owners),
            members: &member_ids,
            ..TransitionFacts::default()
        },
    )
    .unwrap();
    stage = change.to;
    assert_eq!(stage, OpportunityStage::FollowUp);
    assert!(stage.holds_claims());

    // Second-round marketing: a follow-on takes every claim over.
    check_follow_on(stage, false).unwrap();
    let plan = takeover(&after, &after);
    assert_eq!(plan.transfer, after);
    assert!(plan.take.is_empty() && plan.release.is_empty());
    assert_eq!(
        check_follow_on(stage, true).unwrap_err().reason(),
        Some(Reason::FollowOnExists)
    );

    // 7. Overdue items appear when the business date passes their due dates.
    let task_facts: Vec<TaskFact> = plans
        .iter()
        .map(|p| TaskFact {
            task: TaskId::new(),
            opportunity: opp,
            owner: p.owner.clone(),
            owner_branch: units[0].branch.clone(),
            customer: Some(core),
            status: if p.step_id == "visit-core" {
                TaskStatus::Done
            } else {
                TaskStatus::Open
            },
            due_date: p.due_date,
            sla_rule: p.sla_rule.clone(),
        })
        .collect();
    let rules = [monthly_visits()];
    let customers = [CustomerFacts {
        customer: core,
        kind: CustomerKind::Corporate,
        corporate_tier: Some(CorporateTier::Tier1Branch),
        wealth_tier: None,
        primary_manager: "alice".to_owned(),
        branch: units[0].branch.clone(),
        since: d(1, 1),
    }];
    let activities = [ActivityFact {
        customer: core,
        activity_type: ActivityType::Visit,
        start_time: at(d(9, 29)),
    }];
    let inputs = OverdueInputs {
        cadence_rules: &rules,
        customers: &customers,
        activities: &activities,
        tasks: &task_facts,
        ..OverdueInputs::default()
    };
    assert!(overdue(&inputs, d(9, 30), &cal).is_empty());
    let oct9 = overdue(&inputs, d(10, 9), &cal);
    assert_eq!(oct9.len(), 1);
    assert_eq!(oct9[0].kind, OverdueKind::Task);
    assert_eq!(oct9[0].responsible.as_deref(), Some("sam"));
    assert_eq!(oct9[0].working_days_overdue, 1);
    let oct30 = overdue(&inputs, d(10, 30), &cal);
    let kinds: Vec<_> = oct30.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [OverdueKind::Task, OverdueKind::Task, OverdueKind::Cadence],
        "sam's task, rita's task, then the visit due Oct 29"
    );
    assert_eq!(oct30[2].due_date, d(10, 29));
    let per = count_by_responsible(&oct30);
    assert_eq!(per.get("alice"), Some(&1));
    assert_eq!(per.get("sam"), Some(&1));
    assert_eq!(per.get("rita"), Some(&1));
}
