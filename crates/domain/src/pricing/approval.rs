//! Quote approvals (maker-checker, DOMAIN.md §1 "Maker-checker" and §4 "Pricing authority"):
//! the states of a stored quote ([`QuoteStatus`]), how a draft is submitted ([`submit`]: a
//! refused quote cannot be, an acceptable one — EVA not negative and every concession within the
//! customer manager's discretion — is approved at once, anything else waits for an approver) and
//! who may decide a pending one ([`decide`]). A decider must hold the `approver` role, sit on the
//! quote's branch chain (the quote's branch or one of its ancestors) at a branch whose level
//! carries at least the required authority (an approver's authority is the level of their branch),
//! and never be the submitter; only then does the state matter: only a pending quote that has not
//! expired moves, once, to approved or rejected. A draft or pending quote past its expiry time
//! reads as expired ([`QuoteStatus::effective`]); approved quotes do not expire.

use thiserror::Error;

use super::authority::AuthorityLevel;
use super::quote::QuoteVerdict;
use crate::org::BranchLevel;

code_enum! {
    /// The state of a stored quote.
    pub enum QuoteStatus {
        /// Priced and stored, not submitted.
        Draft => "draft",
        /// Submitted, waiting for an approver.
        PendingApproval => "pending_approval",
        /// Approved, or needed no approval.
        Approved => "approved",
        /// Rejected by an approver.
        Rejected => "rejected",
        /// Past its expiry time before a decision.
        Expired => "expired",
        /// Replaced by a newer version (a covenant step-up).
        Superseded => "superseded",
    }
}

impl QuoteStatus {
    /// The state as it reads when the quote is (`expired`) or is not past its expiry time: a
    /// draft or pending quote past it is expired; every other state stands.
    pub const fn effective(self, expired: bool) -> QuoteStatus {
        match self {
            QuoteStatus::Draft | QuoteStatus::PendingApproval if expired => QuoteStatus::Expired,
            other => other,
        }
    }
}

code_enum! {
    /// An approver's decision on a pending quote.
    pub enum QuoteDecisionOutcome {
        /// Approved.
        Approved => "approved",
        /// Rejected.
        Rejected => "rejected",
    }
}

/// Why a submission or a decision is refused. [`ApprovalRefused::is_permission`] tells the
/// refusals about *who* (the service's `PERMISSION_DENIED`) from those about the quote's state
/// (`FAILED_PRECONDITION`).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ApprovalRefused {
    /// The caller does not hold the `approver` role.
    #[error("{actor} does not hold the approver role")]
    NotApprover {
        /// The caller.
        actor: String,
    },
    /// The caller's branch is not on the quote's branch chain.
    #[error("{actor}'s branch {branch} is not on the quote's branch chain ({chain})")]
    NotOnChain {
        /// The caller.
        actor: String,
        /// The caller's branch.
        branch: String,
        /// The chain, head office first, e.g. `HQ > BJ > BJ01`.
        chain: String,
    },
    /// The caller's branch is on the chain, but below the required level.
    #[error("{actor}'s authority ({held}) is below the {required} level the quote requires")]
    BelowRequiredLevel {
        /// The caller.
        actor: String,
        /// The authority the caller's branch carries.
        held: AuthorityLevel,
        /// The level required.
        required: AuthorityLevel,
    },
    /// Four eyes: the submitter may not decide their own quote.
    #[error("{actor} submitted this quote and may not decide it; another approver must")]
    Submitter {
        /// The caller, who submitted it.
        actor: String,
    },
    /// Only a draft can be submitted.
    #[error("the quote is {status}, not a draft")]
    NotDraft {
        /// Its state.
        status: QuoteStatus,
    },
    /// Only a pending quote can be decided.
    #[error("the quote is {status}, not pending approval")]
    NotPending {
        /// Its state.
        status: QuoteStatus,
    },
    /// The quote is past its expiry time.
    #[error("the quote expired before it was decided")]
    Expired,
    /// A refused quote (negative EVA, not strategic) cannot be submitted.
    #[error("the quote's verdict is {verdict}: it cannot be submitted")]
    Unsubmittable {
        /// The verdict.
        verdict: QuoteVerdict,
    },
}

impl ApprovalRefused {
    /// Whether the refusal is about who the caller is (rather than the quote's state).
    pub const fn is_permission(&self) -> bool {
        matches!(
            self,
            ApprovalRefused::NotApprover { .. }
                | ApprovalRefused::NotOnChain { .. }
                | ApprovalRefused::BelowRequiredLevel { .. }
                | ApprovalRefused::Submitter { .. }
        )
    }
}

/// The state a quote in `status` with `verdict` moves to when submitted (`expired` when past its
/// expiry time): approved at once when acceptable, else pending approval. Refused when it is not
/// a draft, has expired, or its verdict is refused (or a regulatory breach).
pub fn submit(
    status: QuoteStatus,
    verdict: QuoteVerdict,
    expired: bool,
) -> Result<QuoteStatus, ApprovalRefused> {
    match status.effective(expired) {
        QuoteStatus::Expired => return Err(ApprovalRefused::Expired),
        QuoteStatus::Draft => {}
        other => return Err(ApprovalRefused::NotDraft { status: other }),
    }
    match verdict {
        QuoteVerdict::Refused | QuoteVerdict::RegulatoryBreach => {
            Err(ApprovalRefused::Unsubmittable { verdict })
        }
        QuoteVerdict::Acceptable => Ok(QuoteStatus::Approved),
        QuoteVerdict::NeedsApproval | QuoteVerdict::StrategicException => {
            Ok(QuoteStatus::PendingApproval)
        }
    }
}

/// Who wants to decide.
#[derive(Clone, Copy, Debug)]
pub struct Decider<'a> {
    /// The caller (JWT sub).
    pub actor: &'a str,
    /// The caller's branch.
    pub branch: &'a str,
    /// Whether the caller holds the `approver` role.
    pub is_approver: bool,
}

/// The quote being decided.
#[derive(Clone, Copy, Debug)]
pub struct Pending<'a> {
    /// Its stored state.
    pub status: QuoteStatus,
    /// Whether it is past its expiry time.
    pub expired: bool,
    /// Who submitted it; `None` while a draft.
    pub submitted_by: Option<&'a str>,
    /// The level its verdict requires.
    pub required_level: AuthorityLevel,
}

/// Checks `decider`'s decision (`outcome`) on `quote`, whose branch has the ancestor `chain`
/// (head office first, the quote's branch last, each with its level), and returns the state the
/// quote ends in. The caller's authority is checked first (role, chain, level, four eyes), then
/// the quote's state (pending, not expired).
pub fn decide(
    decider: Decider<'_>,
    chain: &[(&str, BranchLevel)],
    quote: Pending<'_>,
    outcome: QuoteDecisionOutcome,
) -> Result<QuoteStatus, ApprovalRefused> {
    let actor = decider.actor.to_owned();
    if !decider.is_approver {
        return Err(ApprovalRefused::NotApprover { actor });
    }
    let Some((_, level)) = chain.iter().find(|(b, _)| *b == decider.branch) else {
        return Err(ApprovalRefused::NotOnChain {
            actor,
            branch: decider.branch.to_owned(),
            chain: chain
                .iter()
                .map(|(b, _)| *b)
                .collect::<Vec<_>>()
                .join(" > "),
        });
    };
    let held = AuthorityLevel::of_branch(*level);
    if held < quote.required_level {
        return Err(ApprovalRefused::BelowRequiredLevel {
            actor,
            held,
            required: quote.required_level,
        });
    }
    if quote.submitted_by == Some(decider.actor) {
        return Err(ApprovalRefused::Submitter { actor });
    }
    match quote.status.effective(quote.expired) {
        QuoteStatus::Expired => Err(ApprovalRefused::Expired),
        QuoteStatus::PendingApproval => Ok(match outcome {
            QuoteDecisionOutcome::Approved => QuoteStatus::Approved,
            QuoteDecisionOutcome::Rejected => QuoteStatus::Rejected,
        }),
        status => Err(ApprovalRefused::NotPending { status }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BranchLevel::*;

    const CHAIN: [(&str, BranchLevel); 4] = [
        ("HQ", HeadOffice),
        ("BJ", Tier1Branch),
        ("BJ01", Tier2Branch),
        ("BJ0101", SubBranch),
    ];

    fn pending(required: AuthorityLevel) -> Pending<'static> {
        Pending {
            status: QuoteStatus::PendingApproval,
            expired: false,
            submitted_by: Some("maker"),
            required_level: required,
        }
    }

    fn approver(actor: &'static str, branch: &'static str) -> Decider<'static> {
        Decider {
            actor,
            branch,
            is_approver: true,
        }
    }

    #[test]
    fn submission_approves_acceptable_quotes_at_once() {
        use QuoteVerdict::*;
        assert_eq!(
            submit(QuoteStatus::Draft, Acceptable, false),
            Ok(QuoteStatus::Approved)
        );
        for verdict in [NeedsApproval, StrategicException] {
            assert_eq!(
                submit(QuoteStatus::Draft, verdict, false),
                Ok(QuoteStatus::PendingApproval)
            );
        }
        assert_eq!(
            submit(QuoteStatus::Draft, Refused, false),
            Err(ApprovalRefused::Unsubmittable { verdict: Refused })
        );
        assert_eq!(
            submit(QuoteStatus::Draft, Acceptable, true),
            Err(ApprovalRefused::Expired)
        );
        assert_eq!(
            submit(QuoteStatus::PendingApproval, NeedsApproval, false),
            Err(ApprovalRefused::NotDraft {
                status: QuoteStatus::PendingApproval
            })
        );
        // Approved quotes do not expire.
        assert_eq!(QuoteStatus::Approved.effective(true), QuoteStatus::Approved);
        assert_eq!(
            QuoteStatus::PendingApproval.effective(true),
            QuoteStatus::Expired
        );
    }

    #[test]
    fn only_an_approver_on_the_chain_at_the_level_decides() {
        use AuthorityLevel as L;
        use QuoteDecisionOutcome::*;
        // A tier-1 approver on the chain approves a tier-2 requirement.
        assert_eq!(
            decide(
                approver("a1", "BJ"),
                &CHAIN,
                pending(L::Tier2Branch),
                Approved
            ),
            Ok(QuoteStatus::Approved)
        );
        assert_eq!(
            decide(
                approver("a1", "HQ"),
                &CHAIN,
                pending(L::HeadOffice),
                Rejected
            ),
            Ok(QuoteStatus::Rejected)
        );
        // A sub-branch approver is below the tier-2 requirement.
        let err = decide(
            approver("a2", "BJ0101"),
            &CHAIN,
            pending(L::Tier2Branch),
            Approved,
        )
        .unwrap_err();
        assert!(err.is_permission());
        assert_eq!(
            err,
            ApprovalRefused::BelowRequiredLevel {
                actor: "a2".into(),
                held: L::SubBranch,
                required: L::Tier2Branch
            }
        );
        // Off the chain, however senior.
        let err = decide(approver("a3", "SH"), &CHAIN, pending(L::Outlet), Approved).unwrap_err();
        assert!(
            matches!(err, ApprovalRefused::NotOnChain { ref chain, .. } if chain == "HQ > BJ > BJ01 > BJ0101")
        );
        // Not an approver.
        let manager = Decider {
            is_approver: false,
            ..approver("cm", "HQ")
        };
        assert!(matches!(
            decide(manager, &CHAIN, pending(L::Outlet), Approved),
            Err(ApprovalRefused::NotApprover { .. })
        ));
        // Never the submitter.
        assert_eq!(
            decide(
                approver("maker", "HQ"),
                &CHAIN,
                pending(L::Outlet),
                Approved
            ),
            Err(ApprovalRefused::Submitter {
                actor: "maker".into()
            })
        );
    }

    #[test]
    fn only_a_pending_unexpired_quote_moves() {
        use AuthorityLevel as L;
        let hq = approver("a1", "HQ");
        let expired = Pending {
            expired: true,
            ..pending(L::Outlet)
        };
        let err = decide(hq, &CHAIN, expired, QuoteDecisionOutcome::Approved).unwrap_err();
        assert_eq!(err, ApprovalRefused::Expired);
        assert!(!err.is_permission());
        for status in [
            QuoteStatus::Approved,
            QuoteStatus::Rejected,
            QuoteStatus::Draft,
            QuoteStatus::Superseded,
        ] {
            let decided = Pending {
                status,
                ..pending(L::Outlet)
            };
            assert_eq!(
                decide(hq, &CHAIN, decided, QuoteDecisionOutcome::Rejected),
                Err(ApprovalRefused::NotPending { status })
            );
        }
    }
}
