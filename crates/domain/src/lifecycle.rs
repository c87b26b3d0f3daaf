//! Lifecycle rules beyond the state machine itself (DOMAIN.md §2, "Lifecycle stage"): checking a
//! requested transition against [`crate::customer::can_transition`] with a refusal that names the
//! stages allowed instead, the problem-customer book of a branch (every stage except exited; the
//! problem stage counted separately), its ratio in basis points (exact integer arithmetic, rounded
//! half up, 0 for an empty book), the alert rule ("problem customers should stay at or below 3% of a
//! book": a configurable threshold, default 300 bp, alerting strictly above it) and the roll-up of
//! per-branch books over the branch tree, each branch counting its whole subtree. The state
//! machine stays in [`crate::customer`]; this module only builds on it.

use std::collections::BTreeMap;
use std::fmt;

use thiserror::Error;

use crate::branch_tree::{BranchTree, BranchTreeError};
use crate::customer::{LifecycleStage, can_transition, is_upgrade};
use crate::org::BranchCode;

/// The default problem-customer alert threshold: 300 bp = 3% of a book.
pub const DEFAULT_PROBLEM_THRESHOLD_BPS: u32 = 300;

/// 100% in basis points.
const FULL_BPS: u32 = 10_000;

/// The stages a customer in `from` may move to, in stage order.
pub fn allowed_targets(from: LifecycleStage) -> Vec<LifecycleStage> {
    LifecycleStage::ALL
        .iter()
        .copied()
        .filter(|&to| can_transition(from, to))
        .collect()
}

/// An allowed lifecycle transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The stage before.
    pub from: LifecycleStage,
    /// The stage after.
    pub to: LifecycleStage,
    /// Whether it is one step up the main chain (the upgrade that earns credit).
    pub upgrade: bool,
}

/// A transition that the state machine does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub struct TransitionRefused {
    /// The current stage.
    pub from: LifecycleStage,
    /// The requested stage.
    pub to: LifecycleStage,
}

impl fmt::Display for TransitionRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let allowed: Vec<&str> = allowed_targets(self.from)
            .into_iter()
            .map(LifecycleStage::as_str)
            .collect();
        if self.from == self.to {
            write!(f, "the customer is already {}", self.from)?;
        } else {
            write!(
                f,
                "a customer cannot move from {} to {}",
                self.from, self.to
            )?;
        }
        write!(
            f,
            "; from {} it may move to: {}",
            self.from,
            allowed.join(", ")
        )
    }
}

/// Checks `from` → `to` against the state machine: the transition with its upgrade flag, or the
/// refusal.
pub fn check_transition(
    from: LifecycleStage,
    to: LifecycleStage,
) -> Result<Transition, TransitionRefused> {
    if can_transition(from, to) {
        Ok(Transition {
            from,
            to,
            upgrade: is_upgrade(from, to),
        })
    } else {
        Err(TransitionRefused { from, to })
    }
}

/// The customers of a book: `book` counts every stage except exited, `problem` those in the
/// problem stage (which are part of the book).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BookCounts {
    /// Customers in the book (every stage except exited).
    pub book: u64,
    /// Customers in the problem stage.
    pub problem: u64,
}

impl BookCounts {
    /// The counts of `count` customers in `stage`.
    pub fn of_stage(stage: LifecycleStage, count: u64) -> BookCounts {
        BookCounts {
            book: if stage == LifecycleStage::Exited {
                0
            } else {
                count
            },
            problem: if stage == LifecycleStage::Problem {
                count
            } else {
                0
            },
        }
    }

    /// The sum of two books (saturating; counts never come near `u64::MAX`).
    pub fn plus(self, other: BookCounts) -> BookCounts {
        BookCounts {
            book: self.book.saturating_add(other.book),
            problem: self.problem.saturating_add(other.problem),
        }
    }

    /// The problem ratio of this book in basis points; see [`ratio_bps`].
    pub fn ratio_bps(self) -> u32 {
        ratio_bps(self.problem, self.book)
    }
}

/// `part / whole` in basis points, rounded half up, computed exactly in integers; 0 when `whole`
/// is 0. A part larger than the whole gives more than 10,000 (saturating at `u32::MAX`).
pub fn ratio_bps(part: u64, whole: u64) -> u32 {
    if whole == 0 {
        return 0;
    }
    let numerator = 2 * u128::from(part) * u128::from(FULL_BPS) + u128::from(whole);
    let bps = numerator / (2 * u128::from(whole));
    u32::try_from(bps).unwrap_or(u32::MAX)
}

/// A threshold outside 0 to 10,000 basis points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("the problem-customer threshold must be 0 to 10000 basis points, not {0}")]
pub struct InvalidThreshold(pub u32);

/// The problem-customer alert rule: a book alerts when its ratio (in basis points, as reported)
/// is strictly above the threshold. Configuration; the default is 300 bp (3%).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProblemAlertRule {
    threshold_bps: u32,
}

impl Default for ProblemAlertRule {
    fn default() -> Self {
        ProblemAlertRule {
            threshold_bps: DEFAULT_PROBLEM_THRESHOLD_BPS,
        }
    }
}

/// The problem ratio of one book and whether it alerts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProblemRatio {
    /// The book.
    pub counts: BookCounts,
    /// problem / book in basis points, rounded half up; 0 for an empty book.
    pub ratio_bps: u32,
    /// The threshold it was judged against.
    pub threshold_bps: u32,
    /// Whether `ratio_bps` is above `threshold_bps`.
    pub alert: bool,
}

impl ProblemAlertRule {
    /// A rule with `threshold_bps` (0 to 10,000).
    pub fn new(threshold_bps: u32) -> Result<ProblemAlertRule, InvalidThreshold> {
        if threshold_bps <= FULL_BPS {
            Ok(ProblemAlertRule { threshold_bps })
        } else {
            Err(InvalidThreshold(threshold_bps))
        }
    }

    /// The threshold in basis points.
    pub fn threshold_bps(self) -> u32 {
        self.threshold_bps
    }

    /// The ratio of `counts` and whether it alerts.
    pub fn assess(self, counts: BookCounts) -> ProblemRatio {
        let ratio_bps = counts.ratio_bps();
        ProblemRatio {
            counts,
            ratio_bps,
            threshold_bps: self.threshold_bps,
            alert: ratio_bps > self.threshold_bps,
        }
    }
}

/// Rolls per-branch books up the tree. `direct` holds the customers each branch owns itself;
/// the result lists `root` and its descendants down to `max_depth` levels below it (0 = the root
/// only), in pre-order ([`BranchTree::subtree`] order), each with the counts over its whole
/// subtree — including the levels below `max_depth`. Branches of `direct` outside `root`'s
/// subtree are ignored.
pub fn roll_up(
    tree: &BranchTree,
    root: &BranchCode,
    direct: &BTreeMap<BranchCode, BookCounts>,
    max_depth: usize,
) -> Result<Vec<(BranchCode, BookCounts)>, BranchTreeError> {
    let order = tree.subtree(root)?;
    let mut totals: BTreeMap<&BranchCode, BookCounts> = BTreeMap::new();
    // Reverse pre-order visits every child before its parent.
    for node in order.iter().rev() {
        let own = direct.get(node).copied().unwrap_or_default();
        let total = totals.get(node).copied().unwrap_or_default().plus(own);
        totals.insert(node, total);
        if node != root
            && let Some(parent) = tree.parent(node)
        {
            let sum = totals.get(parent).copied().unwrap_or_default().plus(total);
            totals.insert(parent, sum);
        }
    }
    Ok(order
        .iter()
        .filter(|node| {
            tree.depth_below(node, root)
                .is_some_and(|depth| depth <= max_depth)
        })
        .map(|node| (node.clone(), totals.get(node).copied().unwrap_or_default()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::branch_tree::BranchNode;
    use crate::org::BranchLevel;
    use LifecycleStage::*;

    fn code(s: &str) -> BranchCode {
        BranchCode::parse(s).expect("code")
    }

    fn tree() -> BranchTree {
        let node = |id: &str, parent: Option<&str>, level| BranchNode {
            id: code(id),
            parent: parent.map(code),
            level,
        };
        BranchTree::new([
            node("HQ", None, BranchLevel::HeadOffice),
            node("BJ", Some("HQ"), BranchLevel::Tier1Branch),
            node("BJ01", Some("BJ"), BranchLevel::Tier2Branch),
            node("BJ0101", Some("BJ01"), BranchLevel::SubBranch),
            node("SH", Some("HQ"), BranchLevel::Tier1Branch),
            node("SH01", Some("SH"), BranchLevel::Tier2Branch),
        ])
        .expect("tree")
    }

    #[test]
    fn allowed_targets_follow_the_state_machine() {
        assert_eq!(allowed_targets(Exited), [Potential]);
        assert_eq!(allowed_targets(Problem), [Established, Exited]);
        assert_eq!(allowed_targets(Potential), [Target, Exited]);
        assert_eq!(
            allowed_targets(Core),
            [Established, StrategicPartner, Problem, Exited]
        );
        for &from in LifecycleStage::ALL {
            for &to in LifecycleStage::ALL {
                assert_eq!(
                    allowed_targets(from).contains(&to),
                    can_transition(from, to),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn check_transition_flags_upgrades_and_explains_refusals() {
        assert_eq!(
            check_transition(New, Established),
            Ok(Transition {
                from: New,
                to: Established,
                upgrade: true
            })
        );
        assert!(!check_transition(Core, Established).expect("down").upgrade);
        assert!(
            !check_transition(Exited, Potential)
                .expect("win-back")
                .upgrade
        );
        assert!(!check_transition(New, Problem).expect("problem").upgrade);
        let refused = check_transition(Exited, Core).expect_err("refused");
        assert_eq!(
            refused,
            TransitionRefused {
                from: Exited,
                to: Core
            }
        );
        assert_eq!(
            refused.to_string(),
            "a customer cannot move from exited to core; from exited it may move to: potential"
        );
        assert_eq!(
            check_transition(Problem, Problem)
                .expect_err("same")
                .to_string(),
            "the customer is already problem; from problem it may move to: established, exited"
        );
    }

    #[test]
    fn the_book_excludes_exited_and_counts_problem_inside_it() {
        assert_eq!(
            BookCounts::of_stage(Exited, 5),
            BookCounts {
                book: 0,
                problem: 0
            }
        );
        assert_eq!(
            BookCounts::of_stage(Problem, 2),
            BookCounts {
                book: 2,
                problem: 2
            }
        );
        let book = LifecycleStage::ALL
            .iter()
            .fold(BookCounts::default(), |acc, &s| {
                acc.plus(BookCounts::of_stage(s, 1))
            });
        assert_eq!(
            book,
            BookCounts {
                book: 7,
                problem: 1
            }
        );
    }

    #[test]
    fn ratios_are_exact_basis_points_rounded_half_up() {
        assert_eq!(ratio_bps(1, 20), 500);
        assert_eq!(ratio_bps(1, 40), 250);
        assert_eq!(ratio_bps(2, 60), 333);
        assert_eq!(ratio_bps(1, 3), 3333);
        assert_eq!(ratio_bps(2, 3), 6667);
        assert_eq!(ratio_bps(1, 20_000), 1, "0.5 bp rounds up");
        assert_eq!(ratio_bps(1, 20_001), 0, "just under 0.5 bp rounds down");
        assert_eq!(ratio_bps(3, 100), 300);
        assert_eq!(ratio_bps(0, 0), 0, "an empty book");
        assert_eq!(ratio_bps(7, 7), 10_000);
        assert_eq!(ratio_bps(u64::MAX, u64::MAX), 10_000, "no overflow");
        assert_eq!(ratio_bps(u64::MAX, 1), u32::MAX, "saturates");
    }

    #[test]
    fn the_alert_is_strictly_above_the_threshold() {
        let rule = ProblemAlertRule::default();
        assert_eq!(rule.threshold_bps(), 300);
        let five = rule.assess(BookCounts {
            book: 20,
            problem: 1,
        });
        assert_eq!(
            (five.ratio_bps, five.threshold_bps, five.alert),
            (500, 300, true)
        );
        let two_and_a_half = rule.assess(BookCounts {
            book: 40,
            problem: 1,
        });
        assert_eq!(
            (two_and_a_half.ratio_bps, two_and_a_half.alert),
            (250, false)
        );
        let exactly = rule.assess(BookCounts {
            book: 100,
            problem: 3,
        });
        assert_eq!(
            (exactly.ratio_bps, exactly.alert),
            (300, false),
            "at 3% is fine"
        );
        let empty = rule.assess(BookCounts::default());
        assert_eq!((empty.ratio_bps, empty.alert), (0, false));
        let strict = ProblemAlertRule::new(200).expect("rule");
        assert!(
            strict
                .assess(BookCounts {
                    book: 40,
                    problem: 1
                })
                .alert
        );
        assert_eq!(
            ProblemAlertRule::new(10_000).map(|r| r.threshold_bps()),
            Ok(10_000)
        );
        assert_eq!(ProblemAlertRule::new(10_001), Err(InvalidThreshold(10_001)));
    }

    #[test]
    fn books_roll_up_the_tree_in_pre_order() {
        let t = tree();
        let direct: BTreeMap<BranchCode, BookCounts> = [
            (
                code("BJ01"),
                BookCounts {
                    book: 15,
                    problem: 1,
                },
            ),
            (
                code("BJ0101"),
                BookCounts {
                    book: 5,
                    problem: 0,
                },
            ),
            (
                code("SH01"),
                BookCounts {
                    book: 40,
                    problem: 1,
                },
            ),
            (
                code("HQ"),
                BookCounts {
                    book: 1,
                    problem: 0,
                },
            ),
        ]
        .into_iter()
        .collect();
        let all = roll_up(&t, &code("HQ"), &direct, 10).expect("roll up");
        let rows: Vec<(&str, u64, u64)> = all
            .iter()
            .map(|(c, b)| (c.as_str(), b.book, b.problem))
            .collect();
        assert_eq!(
            rows,
            [
                ("HQ", 61, 2),
                ("BJ", 20, 1),
                ("BJ01", 20, 1),
                ("BJ0101", 5, 0),
                ("SH", 40, 1),
                ("SH01", 40, 1),
            ]
        );
        let shallow = roll_up(&t, &code("HQ"), &direct, 1).expect("depth 1");
        let rows: Vec<(&str, u64)> = shallow.iter().map(|(c, b)| (c.as_str(), b.book)).collect();
        assert_eq!(
            rows,
            [("HQ", 61), ("BJ", 20), ("SH", 40)],
            "deeper books still count"
        );
        let root_only = roll_up(&t, &code("BJ"), &direct, 0).expect("root only");
        assert_eq!(
            root_only,
            [(
                code("BJ"),
                BookCounts {
                    book: 20,
                    problem: 1
                }
            )]
        );
        assert!(matches!(
            roll_up(&t, &code("XX"), &direct, 0),
            Err(BranchTreeError::UnknownBranch(_))
        ));
    }
}
