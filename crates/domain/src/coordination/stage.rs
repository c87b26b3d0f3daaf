//! The stages of an opportunity and their transitions, exactly as DOMAIN.md §5 pins them:
//! preparation → execution → won → follow-up → closed; execution → preparation (re-plan);
//! preparation or execution → lost, with a reason; lost and closed are terminal; nothing else.
//! This module owns the stage and type vocabulary (proto `OpportunityStage`, `OpportunityType`),
//! the transition check with its guards ([`check_transition`]: won needs an approved solution
//! quote, follow-up needs after-sales A/B owners who are members and differ — the A ≠ B rule of
//! [`crate::ownership::check_managers`]), which stages hold claims, and the conditions of a
//! second-round (二次营销) follow-on ([`check_follow_on`], [`follow_on_units`]).

use super::opportunity::QuoteStatus;
use super::shares::{ShareSet, UnitShare};
use super::{CoordinationError, Reason, Violations, check_reason};
use crate::ownership::check_managers;

code_enum! {
    /// The stage of an opportunity (proto `OpportunityStage`, same order).
    pub enum OpportunityStage {
        /// Needs discovery and the customer needs statement (客户需求说明书).
        Preparation => "preparation",
        /// Comprehensive solution, quote and approval.
        Execution => "execution",
        /// Won, with an approved quote.
        Won => "won",
        /// After-sales with an A/B owner; may open a follow-on.
        FollowUp => "follow_up",
        /// Closed: terminal.
        Closed => "closed",
        /// Lost, with a reason: terminal.
        Lost => "lost",
    }
}

impl OpportunityStage {
    /// Whether nothing moves out of this stage (lost, closed).
    pub const fn is_terminal(self) -> bool {
        matches!(self, OpportunityStage::Closed | OpportunityStage::Lost)
    }

    /// Whether an opportunity in this stage holds its claims: preparation, execution, won and
    /// follow-up (a follow-up parent whose follow-on took the claims over holds none, see
    /// [`crate::coordination::claims`]).
    pub const fn holds_claims(self) -> bool {
        !self.is_terminal()
    }

    /// The stages this one may move to, in stage order.
    pub fn allowed_next(self) -> Vec<OpportunityStage> {
        OpportunityStage::ALL
            .iter()
            .copied()
            .filter(|&to| can_transition(self, to))
            .collect()
    }
}

code_enum! {
    /// The type of an opportunity; playbooks are written per type (proto `OpportunityType`).
    pub enum OpportunityType {
        /// A general joint campaign.
        General => "general",
        /// Supply-chain finance around a core enterprise.
        SupplyChainFinance => "supply_chain_finance",
        /// Payroll agency plus cards for a company's staff.
        PayrollAndCards => "payroll_and_cards",
        /// Batch marketing of a market operator's tenants.
        MarketBatch => "market_batch",
        /// A group customer spanning regions (joint customer service group).
        GroupCustomer => "group_customer",
        /// An internal syndicate (行内银团) for a cross-region deal.
        InternalSyndicate => "internal_syndicate",
    }
}

/// Whether DOMAIN.md §5 allows `from` → `to` (guards aside).
pub const fn can_transition(from: OpportunityStage, to: OpportunityStage) -> bool {
    use OpportunityStage::*;
    matches!(
        (from, to),
        (Preparation, Execution)
            | (Execution, Won)
            | (Won, FollowUp)
            | (FollowUp, Closed)
            | (Execution, Preparation)
            | (Preparation, Lost)
            | (Execution, Lost)
    )
}

/// The after-sales owners of an opportunity in follow-up: an A post (primary) and a B post
/// (backup), both members, different people.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AfterSales {
    /// The A-post owner's employee id.
    pub primary: String,
    /// The B-post owner's employee id.
    pub backup: String,
}

/// What a transition's guards look at; the service loads it.
#[derive(Clone, Copy, Debug, Default)]
pub struct TransitionFacts<'a> {
    /// The reason given (required for lost; at most 500 characters).
    pub reason: &'a str,
    /// The solution quote's current status, read from pricing; `None` when none is set.
    pub solution_quote: Option<QuoteStatus>,
    /// The after-sales owners given (required for follow-up).
    pub after_sales: Option<&'a AfterSales>,
    /// The employee ids of the opportunity's active members.
    pub members: &'a [String],
}

/// What happens to the opportunity's claims after a transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClaimEffect {
    /// They stay as they are.
    Keep,
    /// Every active claim is released (lost, closed).
    Release,
}

/// An allowed transition, ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageChange {
    /// The stage before.
    pub from: OpportunityStage,
    /// The stage after.
    pub to: OpportunityStage,
    /// What happens to the claims.
    pub claims: ClaimEffect,
    /// The after-sales owners to record (entering follow-up).
    pub after_sales: Option<AfterSales>,
    /// The reason to record (trimmed; may be empty except for lost).
    pub reason: String,
}

/// Checks `from` → `to` with its guards, in this order: out of a terminal stage
/// ([`Reason::TerminalStage`]); a transition not in DOMAIN.md §5 ([`Reason::StageTransition`],
/// naming the stages allowed); bad input (`reason` required for lost, at most 500 characters;
/// `after_sales.primary_employee_id` / `after_sales.backup_employee_id` required for follow-up and
/// different); then the state: won needs a solution quote ([`Reason::NoSolutionQuote`]) that is
/// approved ([`Reason::QuoteNotApproved`]); the after-sales owners must be members
/// ([`Reason::AfterSalesNotMember`]).
pub fn check_transition(
    from: OpportunityStage,
    to: OpportunityStage,
    facts: TransitionFacts<'_>,
) -> Result<StageChange, CoordinationError> {
    if from.is_terminal() {
        return Err(CoordinationError::refused(
            Reason::TerminalStage,
            format!("the opportunity is {from}, a terminal stage: it cannot move to {to}"),
        ));
    }
    if !can_transition(from, to) {
        let allowed: Vec<&str> = from
            .allowed_next()
            .into_iter()
            .map(OpportunityStage::as_str)
            .collect();
        let head = if from == to {
            format!("the opportunity is already in {from}")
        } else {
            format!("an opportunity cannot move from {from} to {to}")
        };
        return Err(CoordinationError::refused(
            Reason::StageTransition,
            format!("{head}; from {from} it may move to: {}", allowed.join(", ")),
        ));
    }
    let mut v = Violations::default();
    if let Err(e) = check_reason(facts.reason, to == OpportunityStage::Lost) {
        v.extend(e)?;
    }
    if to == OpportunityStage::FollowUp {
        match facts.after_sales {
            None => v.add(
                "after_sales",
                "is required when moving to follow-up: name the A-post and B-post owners",
            ),
            Some(owners) => {
                if owners.primary.trim().is_empty() {
                    v.add("after_sales.primary_employee_id", "is required");
                }
                if owners.backup.trim().is_empty() {
                    v.add("after_sales.backup_employee_id", "is required");
                }
                if let Err(e) = check_managers(&owners.primary, &owners.backup) {
                    v.add("after_sales.backup_employee_id", e.to_string());
                }
            }
        }
    }
    v.finish()?;
    if to == OpportunityStage::Won {
        match facts.solution_quote {
            None => {
                return Err(CoordinationError::refused(
                    Reason::NoSolutionQuote,
                    "won needs an approved solution quote; none is set",
                ));
            }
            Some(status) if status != QuoteStatus::Approved => {
                return Err(CoordinationError::refused(
                    Reason::QuoteNotApproved,
                    format!("won needs an approved solution quote; the quote is {status}"),
                ));
            }
            Some(_) => {}
        }
    }
    let after_sales = if to == OpportunityStage::FollowUp {
        facts.after_sales.cloned()
    } else {
        None
    };
    if let Some(owners) = &after_sales {
        for (post, id) in [("A", &owners.primary), ("B", &owners.backup)] {
            if !facts.members.contains(id) {
                return Err(CoordinationError::refused(
                    Reason::AfterSalesNotMember,
                    format!("the {post}-post owner {id} is not a member of the opportunity"),
                ));
            }
        }
    }
    Ok(StageChange {
        from,
        to,
        claims: if to.holds_claims() {
            ClaimEffect::Keep
        } else {
            ClaimEffect::Release
        },
        after_sales,
        reason: facts.reason.trim().to_owned(),
    })
}

/// Checks that an opportunity may change at all (name, goal, plan, targets, members, tasks,
/// needs): refused with [`Reason::TerminalStage`] once lost or closed.
pub fn check_open(stage: OpportunityStage) -> Result<(), CoordinationError> {
    if stage.is_terminal() {
        Err(CoordinationError::refused(
            Reason::TerminalStage,
            format!("the opportunity is {stage}, a terminal stage: it can no longer change"),
        ))
    } else {
        Ok(())
    }
}

/// Checks that a parent in `stage` may open a second-round follow-on: it must be in follow-up
/// ([`Reason::WrongStage`]) and must not have one already ([`Reason::FollowOnExists`]).
pub fn check_follow_on(
    stage: OpportunityStage,
    has_follow_on: bool,
) -> Result<(), CoordinationError> {
    if stage != OpportunityStage::FollowUp {
        return Err(CoordinationError::refused(
            Reason::WrongStage,
            format!("a follow-on opens only from follow-up; the parent is in {stage}"),
        ));
    }
    if has_follow_on {
        return Err(CoordinationError::refused(
            Reason::FollowOnExists,
            "the parent already opened its follow-on opportunity",
        ));
    }
    Ok(())
}

/// The follow-on's units: those requested (validated as `units`), or the parent's shares in
/// force when none are requested.
pub fn follow_on_units(
    requested: Vec<UnitShare>,
    parent_in_force: &ShareSet,
) -> Result<ShareSet, CoordinationError> {
    if requested.is_empty() {
        Ok(parent_in_force.clone())
    } else {
        ShareSet::parse(requested, "units")
    }
}

#[cfg(test)]
mod tests {
    use super::OpportunityStage::*;
    use super::*;
    use crate::coordination::shares::tests::{co, lead, walkthrough_units};
    use crate::coordination::{ErrorKind, Reason};
    use crate::org::BusinessLine;

    fn members() -> Vec<String> {
        vec!["alice".to_owned(), "bob".to_owned()]
    }

    fn owners(a: &str, b: &str) -> AfterSales {
        AfterSales {
            primary: a.to_owned(),
            backup: b.to_owned(),
        }
    }

    fn approved() -> TransitionFacts<'static> {
        TransitionFacts {
            solution_quote: Some(QuoteStatus::Approved),
            ..TransitionFacts::default()
        }
    }

    #[test]
    fn the_allowed_transitions_are_exactly_those_of_domain_5() {
        let mut allowed = Vec::new();
        for &from in OpportunityStage::ALL {
            for &to in OpportunityStage::ALL {
                if can_transition(from, to) {
                    allowed.push((from, to));
                }
            }
        }
        assert_eq!(
            allowed,
            [
                (Preparation, Execution),
                (Preparation, Lost),
                (Execution, Preparation),
                (Execution, Won),
                (Execution, Lost),
                (Won, FollowUp),
                (FollowUp, Closed),
            ]
        );
        assert_eq!(Closed.allowed_next(), []);
        assert_eq!(Lost.allowed_next(), []);
        assert!(Lost.is_terminal() && Closed.is_terminal() && !FollowUp.is_terminal());
        let holding: Vec<_> = OpportunityStage::ALL
            .iter()
            .copied()
            .filter(|s| s.holds_claims())
            .collect();
        assert_eq!(holding, [Preparation, Execution, Won, FollowUp]);
    }

    #[test]
    fn codes_match_the_proto_order() {
        let codes: Vec<_> = OpportunityStage::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            codes,
            [
                "preparation",
                "execution",
                "won",
                "follow_up",
                "closed",
                "lost"
            ]
        );
        let types: Vec<_> = OpportunityType::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            types,
            [
                "general",
                "supply_chain_finance",
                "payroll_and_cards",
                "market_batch",
                "group_customer",
                "internal_syndicate"
            ]
        );
    }

    #[test]
    fn every_disallowed_pair_is_refused_with_the_right_reason() {
        for &from in OpportunityStage::ALL {
            for &to in OpportunityStage::ALL {
                if can_transition(from, to) {
                    continue;
                }
                let m = members();
                let a = owners("alice", "bob");
                let facts = TransitionFacts {
                    reason: "why",
                    solution_quote: Some(QuoteStatus::Approved),
                    after_sales: Some(&a),
                    members: &m,
                };
                let err = check_transition(from, to, facts).unwrap_err();
                let want = if from.is_terminal() {
                    Reason::TerminalStage
                } else {
                    Reason::StageTransition
                };
                assert_eq!(err.reason(), Some(want), "{from} -> {to}");
                assert_eq!(err.kind(), ErrorKind::FailedPrecondition);
            }
        }
        let err = check_transition(Won, Lost, TransitionFacts::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "an opportunity cannot move from won to lost; from won it may move to: follow_up"
        );
        let err = check_transition(Execution, Execution, approved()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the opportunity is already in execution")
        );
        let err = check_transition(Lost, Preparation, approved()).unwrap_err();
        assert!(err.to_string().contains("terminal"));
    }

    #[test]
    fn lost_needs_a_reason_and_releases_the_claims() {
        let err = check_transition(Execution, Lost, TransitionFacts::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert_eq!(err.violations()[0].field, "reason");
        let change = check_transition(
            Preparation,
            Lost,
            TransitionFacts {
                reason: "  went to a competitor ",
                ..TransitionFacts::default()
            },
        )
        .unwrap();
        assert_eq!(change.claims, ClaimEffect::Release);
        assert_eq!(change.reason, "went to a competitor");
        let long = "x".repeat(501);
        let err = check_transition(
            Preparation,
            Execution,
            TransitionFacts {
                reason: &long,
                ..TransitionFacts::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.violations()[0].field, "reason");
    }

    #[test]
    fn won_needs_an_approved_quote() {
        let err = check_transition(Execution, Won, TransitionFacts::default()).unwrap_err();
        assert_eq!(err.reason(), Some(Reason::NoSolutionQuote));
        for status in [
            QuoteStatus::Draft,
            QuoteStatus::PendingApproval,
            QuoteStatus::Rejected,
            QuoteStatus::Expired,
            QuoteStatus::Superseded,
        ] {
            let err = check_transition(
                Execution,
                Won,
                TransitionFacts {
                    solution_quote: Some(status),
                    ..TransitionFacts::default()
                },
            )
            .unwrap_err();
            assert_eq!(err.reason(), Some(Reason::QuoteNotApproved), "{status}");
        }
        let change = check_transition(Execution, Won, approved()).unwrap();
        assert_eq!(change.claims, ClaimEffect::Keep);
        assert_eq!(change.after_sales, None);
    }

    #[test]
    fn follow_up_needs_two_different_member_owners() {
        let m = members();
        let err = check_transition(
            Won,
            FollowUp,
            TransitionFacts {
                members: &m,
                ..TransitionFacts::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.violations()[0].field, "after_sales");
        let same = owners("alice", "alice");
        let err = check_transition(
            Won,
            FollowUp,
            TransitionFacts {
                after_sales: Some(&same),
                members: &m,
                ..TransitionFacts::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.violations()[0].field, "after_sales.backup_employee_id");
        let blank = owners("", "bob");
        let err = check_transition(
            Won,
            FollowUp,
            TransitionFacts {
                after_sales: Some(&blank),
                members: &m,
                ..TransitionFacts::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.violations()[0].field, "after_sales.primary_employee_id");
        let outsider = owners("alice", "mallory");
        let err = check_transition(
            Won,
            FollowUp,
            TransitionFacts {
                after_sales: Some(&outsider),
                members: &m,
                ..TransitionFacts::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.reason(), Some(Reason::AfterSalesNotMember));
        assert!(err.to_string().contains("mallory"));
        let good = owners("alice", "bob");
        let change = check_transition(
            Won,
            FollowUp,
            TransitionFacts {
                after_sales: Some(&good),
                members: &m,
                ..TransitionFacts::default()
            },
        )
        .unwrap();
        assert_eq!(change.after_sales, Some(good));
        assert_eq!(change.claims, ClaimEffect::Keep);
        // Closing after follow-up releases the claims; re-planning keeps them.
        assert_eq!(
            check_transition(FollowUp, Closed, TransitionFacts::default())
                .unwrap()
                .claims,
            ClaimEffect::Release
        );
        assert_eq!(
            check_transition(Execution, Preparation, TransitionFacts::default())
                .unwrap()
                .claims,
            ClaimEffect::Keep
        );
    }

    #[test]
    fn open_and_follow_on_checks() {
        assert!(check_open(Won).is_ok());
        assert_eq!(
            check_open(Closed).unwrap_err().reason(),
            Some(Reason::TerminalStage)
        );
        assert!(check_follow_on(FollowUp, false).is_ok());
        assert_eq!(
            check_follow_on(Won, false).unwrap_err().reason(),
            Some(Reason::WrongStage)
        );
        assert_eq!(
            check_follow_on(FollowUp, true).unwrap_err().reason(),
            Some(Reason::FollowOnExists)
        );
        let parent = ShareSet::parse(walkthrough_units(), "units").unwrap();
        assert_eq!(follow_on_units(vec![], &parent).unwrap(), parent);
        let own = follow_on_units(
            vec![
                lead("BJ01", BusinessLine::Retail, 6000),
                co("BJ01", BusinessLine::Wealth, 4000),
            ],
            &parent,
        )
        .unwrap();
        assert_eq!(own.lead().unit.line, BusinessLine::Retail);
        let err =
            follow_on_units(vec![co("BJ01", BusinessLine::Retail, 10000)], &parent).unwrap_err();
        assert_eq!(err.violations()[0].field, "units");
    }
}
