//! Claims against internal competition (DOMAIN.md §5 "Claims", "No internal competition"). An
//! opportunity claims every (customer, line) pair of its targets — the main target and every
//! linked target — times the lines of its units ([`opportunity_claims`]). Claims are active
//! while the opportunity is in preparation, execution, won or follow-up and released on lost or
//! closed. At most one active claim exists per customer and line: this module finds the
//! conflicts of a wanted set with the active claims of other opportunities, naming each holder
//! ([`conflicts`], [`check_claims`]); plans what to take, keep and release when targets or units
//! change ([`diff`]); and plans the take-over by a second-round follow-on ([`takeover`]): the
//! follow-on inherits the parent's targets; each parent claim whose line the follow-on still
//! involves is **transferred**, a parent claim whose line it no longer involves is released (the
//! parent carries on in follow-up without any claim), and any new pair is taken afresh after a
//! conflict check. The storage's unique constraint stays the final arbiter between concurrent
//! creates.

use std::collections::BTreeSet;
use std::fmt;

use super::CoordinationError;
use super::shares::ShareSet;
use crate::ids::{CustomerId, OpportunityId};
use crate::org::BusinessLine;

code_enum! {
    /// The state of a claim (proto `ClaimState`, same order).
    pub enum ClaimState {
        /// Held: the opportunity is in preparation, execution, won or follow-up.
        Active => "active",
        /// Released: the opportunity was lost or closed, the target removed or the line dropped.
        Released => "released",
        /// Taken over by a follow-on opportunity.
        Transferred => "transferred",
    }
}

/// What a claim claims: one customer for one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClaimKey {
    /// The customer.
    pub customer: CustomerId,
    /// The line.
    pub line: BusinessLine,
}

impl fmt::Display for ClaimKey {
    /// `customer <id> for <line>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "customer {} for {}", self.customer, self.line)
    }
}

/// An active claim held by an opportunity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HeldClaim {
    /// What it claims.
    pub key: ClaimKey,
    /// The holder.
    pub opportunity: OpportunityId,
}

/// A wanted pair already claimed by another opportunity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClaimConflict {
    /// The pair.
    pub key: ClaimKey,
    /// The opportunity holding it (shown to the caller when they may see it).
    pub holder: OpportunityId,
}

pub(super) fn describe_conflicts(conflicts: &[ClaimConflict]) -> String {
    match conflicts {
        [] => "already claimed".to_owned(),
        [one] => format!(
            "{} is claimed by opportunity {}; join it or ask for arbitration",
            one.key, one.holder
        ),
        [first, ..] => format!(
            "{} pairs are claimed by other opportunities, first {} by {}; join the holder or ask \
             for arbitration",
            conflicts.len(),
            first.key,
            first.holder
        ),
    }
}

/// Every pair of `targets` × `lines`.
pub fn claim_keys(
    targets: impl IntoIterator<Item = CustomerId>,
    lines: impl IntoIterator<Item = BusinessLine> + Clone,
) -> BTreeSet<ClaimKey> {
    targets
        .into_iter()
        .flat_map(|customer| {
            lines
                .clone()
                .into_iter()
                .map(move |line| ClaimKey { customer, line })
        })
        .collect()
}

/// The claims an opportunity holds: its main and linked targets × the lines of its units.
pub fn opportunity_claims(
    main: CustomerId,
    linked: &[CustomerId],
    shares: &ShareSet,
) -> BTreeSet<ClaimKey> {
    let lines = shares.lines();
    claim_keys(std::iter::once(main).chain(linked.iter().copied()), lines)
}

/// The wanted pairs already held by an opportunity other than `claimant` (`None` for one not yet
/// created), in key order.
pub fn conflicts(
    wanted: &BTreeSet<ClaimKey>,
    active: &[HeldClaim],
    claimant: Option<OpportunityId>,
) -> Vec<ClaimConflict> {
    let mut found: Vec<ClaimConflict> = active
        .iter()
        .filter(|c| wanted.contains(&c.key) && Some(c.opportunity) != claimant)
        .map(|c| ClaimConflict {
            key: c.key,
            holder: c.opportunity,
        })
        .collect();
    found.sort_by_key(|c| (c.key, c.holder));
    found.dedup();
    found
}

/// [`conflicts`] as a result: [`CoordinationError::Claimed`] with every conflict.
pub fn check_claims(
    wanted: &BTreeSet<ClaimKey>,
    active: &[HeldClaim],
    claimant: Option<OpportunityId>,
) -> Result<(), CoordinationError> {
    let found = conflicts(wanted, active, claimant);
    if found.is_empty() {
        Ok(())
    } else {
        Err(CoordinationError::Claimed(found))
    }
}

/// The holder to name in `ALREADY_EXISTS` (the first conflict's), if any.
pub fn first_holder(error: &CoordinationError) -> Option<OpportunityId> {
    match error {
        CoordinationError::Claimed(c) => c.first().map(|c| c.holder),
        _ => None,
    }
}

/// How an opportunity's claims change when its targets or units change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimDiff {
    /// Pairs to claim (check them with [`check_claims`] first).
    pub take: BTreeSet<ClaimKey>,
    /// Pairs held and still wanted.
    pub keep: BTreeSet<ClaimKey>,
    /// Pairs held and no longer wanted: release them.
    pub release: BTreeSet<ClaimKey>,
}

/// The change from the `held` claims to the `wanted` ones.
pub fn diff(held: &BTreeSet<ClaimKey>, wanted: &BTreeSet<ClaimKey>) -> ClaimDiff {
    ClaimDiff {
        take: wanted.difference(held).copied().collect(),
        keep: wanted.intersection(held).copied().collect(),
        release: held.difference(wanted).copied().collect(),
    }
}

/// The claims of a follow-on at its opening.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Takeover {
    /// Parent claims the follow-on takes over (parent's become transferred, follow-on's active).
    pub transfer: BTreeSet<ClaimKey>,
    /// Parent claims the follow-on does not involve: released.
    pub release: BTreeSet<ClaimKey>,
    /// Pairs the parent did not hold: taken afresh (check them with [`check_claims`] first).
    pub take: BTreeSet<ClaimKey>,
}

/// Plans the take-over of the parent's active claims by a follow-on that wants `follow_on`
/// (its targets, inherited from the parent, × its lines). Afterwards the parent holds none.
pub fn takeover(parent_held: &BTreeSet<ClaimKey>, follow_on: &BTreeSet<ClaimKey>) -> Takeover {
    let d = diff(parent_held, follow_on);
    Takeover {
        transfer: d.keep,
        release: d.release,
        take: d.take,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::ErrorKind;
    use crate::coordination::shares::tests::{co, lead, walkthrough_units};
    use crate::org::BusinessLine::*;

    #[test]
    fn an_opportunity_claims_every_target_for_every_line() {
        let main = CustomerId::new();
        let exec = CustomerId::new();
        let supplier = CustomerId::new();
        let shares = ShareSet::parse(walkthrough_units(), "units").unwrap();
        let keys = opportunity_claims(main, &[exec, supplier], &shares);
        assert_eq!(keys.len(), 9);
        for c in [main, exec, supplier] {
            for line in [Corporate, SmallBusiness, Retail] {
                assert!(keys.contains(&ClaimKey { customer: c, line }));
            }
        }
        // Two units of one line claim the line once.
        let two_branches = ShareSet::parse(
            vec![lead("BJ01", Corporate, 5000), co("BJ02", Corporate, 5000)],
            "units",
        )
        .unwrap();
        assert_eq!(opportunity_claims(main, &[], &two_branches).len(), 1);
    }

    #[test]
    fn conflicts_name_the_holder_and_ignore_the_claimant_itself() {
        let main = CustomerId::new();
        let mine = OpportunityId::new();
        let theirs = OpportunityId::new();
        let wanted = claim_keys([main], [Corporate, Retail]);
        let active = [
            HeldClaim {
                key: ClaimKey {
                    customer: main,
                    line: Corporate,
                },
                opportunity: theirs,
            },
            HeldClaim {
                key: ClaimKey {
                    customer: main,
                    line: Retail,
                },
                opportunity: mine,
            },
            HeldClaim {
                key: ClaimKey {
                    customer: CustomerId::new(),
                    line: Corporate,
                },
                opportunity: theirs,
            },
        ];
        let found = conflicts(&wanted, &active, Some(mine));
        assert_eq!(
            found,
            [ClaimConflict {
                key: ClaimKey {
                    customer: main,
                    line: Corporate
                },
                holder: theirs
            }]
        );
        assert_eq!(conflicts(&wanted, &active, None).len(), 2);
        let err = check_claims(&wanted, &active, Some(mine)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);
        assert_eq!(first_holder(&err), Some(theirs));
        assert!(err.to_string().contains(&theirs.to_string()));
        assert!(err.to_string().contains("join it"));
        let two = check_claims(&wanted, &active, None).unwrap_err();
        assert!(two.to_string().starts_with("2 pairs"));
        assert!(check_claims(&claim_keys([CustomerId::new()], [Wealth]), &active, None).is_ok());
        assert_eq!(first_holder(&CoordinationError::invalid("x", "y")), None);
    }

    #[test]
    fn diffs_take_keep_and_release() {
        let a = CustomerId::new();
        let b = CustomerId::new();
        let held = claim_keys([a, b], [Corporate, Retail]);
        // b removed as a linked target, wealth joins.
        let wanted = claim_keys([a], [Corporate, Retail, Wealth]);
        let d = diff(&held, &wanted);
        assert_eq!(d.take, claim_keys([a], [Wealth]));
        assert_eq!(d.keep, claim_keys([a], [Corporate, Retail]));
        assert_eq!(d.release, claim_keys([b], [Corporate, Retail]));
    }

    #[test]
    fn a_follow_on_takes_over_its_parents_claims() {
        let a = CustomerId::new();
        let b = CustomerId::new();
        let parent = claim_keys([a, b], [Corporate, SmallBusiness, Retail]);
        // Same units: everything is transferred.
        let same = takeover(&parent, &parent);
        assert_eq!(same.transfer, parent);
        assert!(same.release.is_empty() && same.take.is_empty());
        // The follow-on drops small business and adds wealth.
        let follow_on = claim_keys([a, b], [Corporate, Retail, Wealth]);
        let t = takeover(&parent, &follow_on);
        assert_eq!(t.transfer, claim_keys([a, b], [Corporate, Retail]));
        assert_eq!(t.release, claim_keys([a, b], [SmallBusiness]));
        assert_eq!(t.take, claim_keys([a, b], [Wealth]));
    }

    #[test]
    fn claim_state_codes() {
        let codes: Vec<_> = ClaimState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(codes, ["active", "released", "transferred"]);
    }
}
