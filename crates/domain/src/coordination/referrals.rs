//! Referrals (转介) between lines (DOMAIN.md §5 "Referrals"). A referral carries an expressed
//! interest and goes to another line than the referrer's own (a referral to the same line is bad
//! input); it is **routed** to the receiving line's queue at the nearest branch on the customer's
//! owning-branch chain (the owning branch, then its parents up to head office) that has active
//! staff in that line ([`route`]). Someone of the receiving line at the queue's branch or above
//! ([`may_receive`]) accepts it, optionally assigning it, or declines it with a reason
//! ([`decide`]); an accepted referral gets an outcome, converted with the conversion id or not,
//! recorded once (the same outcome again is a no-op, a different one is refused;
//! [`record_outcome`]). The **referrer score** ([`ReferrerScore`]) is the historical conversion
//! rate of the referrer's *closed* referrals: converted / (converted + not converted + declined);
//! pending and accepted-but-open referrals do not count, and the rate is undefined while none is
//! closed. It is computed exactly in integers and rounded once, half up, to the basis point.

use std::collections::BTreeSet;

use rust_decimal::Decimal;

use super::members::StaffFacts;
use super::shares::UnitRef;
use super::{CoordinationError, Reason, Violations, check_reason};
use crate::branch_tree::BranchTree;
use crate::lifecycle::ratio_bps;
use crate::money::Money;
use crate::org::{BranchCode, BusinessLine};
use crate::pricing::ProductCategory;

/// The most characters of an interest's description.
pub const MAX_INTEREST_DESCRIPTION_CHARS: usize = 2_000;
/// The most products an interest names.
pub const MAX_INTEREST_PRODUCTS: usize = 50;

code_enum! {
    /// The state of a referral (proto `ReferralStatus`, same order).
    pub enum ReferralStatus {
        /// In the receiving line's queue.
        Pending => "pending",
        /// Accepted by the receiving line.
        Accepted => "accepted",
        /// Declined, with a reason.
        Declined => "declined",
        /// Converted: the outcome names a conversion.
        Converted => "converted",
        /// Closed without conversion.
        NotConverted => "not_converted",
    }
}

impl ReferralStatus {
    /// Whether the referral is closed: declined, converted or not converted.
    pub const fn is_closed(self) -> bool {
        matches!(
            self,
            ReferralStatus::Declined | ReferralStatus::Converted | ReferralStatus::NotConverted
        )
    }

    /// Whether it was accepted at some point: accepted, converted or not converted.
    pub const fn was_accepted(self) -> bool {
        matches!(
            self,
            ReferralStatus::Accepted | ReferralStatus::Converted | ReferralStatus::NotConverted
        )
    }
}

/// What the customer is interested in (proto `ExpressedInterest`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Interest {
    /// Products of interest.
    pub product_ids: Vec<String>,
    /// Category of interest, when no product is named.
    pub category: Option<ProductCategory>,
    /// Expected amount or balance; not negative.
    pub expected_amount: Option<Money>,
    /// Free text, at most 2,000 characters.
    pub description: String,
}

/// A referral as created.
#[derive(Clone, Copy, Debug)]
pub struct NewReferral<'a> {
    /// The referrer's unit.
    pub from_unit: &'a UnitRef,
    /// The lines the referrer works in.
    pub referrer_lines: &'a [BusinessLine],
    /// The receiving line; `None` when unset.
    pub to_line: Option<BusinessLine>,
    /// The interest.
    pub interest: &'a Interest,
}

/// Checks a new referral (fields relative to `referral`): `to_line` required and not the
/// referrer's own line; `from_unit.line` one of the referrer's lines; the interest names a
/// product or a category (`interest`), no blank product (`interest.product_ids[i]`), at most 50,
/// a non-negative `interest.expected_amount` and `interest.description` at most 2,000
/// characters. The consent of an individual is checked with
/// [`crate::coordination::contact::check_linked_use`].
pub fn check_new(referral: NewReferral<'_>) -> Result<(), CoordinationError> {
    let mut v = Violations::default();
    let from = referral.from_unit.line;
    match referral.to_line {
        None => v.add("to_line", "is required"),
        Some(to) if to == from => v.add(
            "to_line",
            format!("is the referrer's own line {from}; a referral goes to another line"),
        ),
        Some(_) => {}
    }
    if !referral.referrer_lines.contains(&from) {
        v.add(
            "from_unit.line",
            format!("the referrer does not work in {from}"),
        );
    }
    let interest = referral.interest;
    if interest.product_ids.is_empty() && interest.category.is_none() {
        v.add("interest", "name at least one product or a category");
    }
    if interest.product_ids.len() > MAX_INTEREST_PRODUCTS {
        v.add(
            "interest.product_ids",
            format!("at most {MAX_INTEREST_PRODUCTS} products"),
        );
    }
    for (i, p) in interest.product_ids.iter().enumerate() {
        if p.trim().is_empty() {
            v.add(format!("interest.product_ids[{i}]"), "is blank");
        }
    }
    if interest.expected_amount.is_some_and(|m| m.is_negative()) {
        v.add("interest.expected_amount", "must not be negative");
    }
    v.text(
        "interest.description",
        &interest.description,
        false,
        MAX_INTEREST_DESCRIPTION_CHARS,
    );
    v.finish()
}

/// The receiving branch: the first branch on `owning_branch`'s chain (itself, then its parents)
/// for which `staffed` says there is active staff in the receiving line. Refused with
/// [`Reason::NoReceivingBranch`] when none has, or the branch is unknown.
pub fn route(
    tree: &BranchTree,
    owning_branch: &BranchCode,
    staffed: impl Fn(&BranchCode) -> bool,
) -> Result<BranchCode, CoordinationError> {
    let chain = tree
        .chain(owning_branch)
        .map_err(|e| CoordinationError::refused(Reason::NoReceivingBranch, e.to_string()))?;
    chain.into_iter().find(|b| staffed(b)).ok_or_else(|| {
        CoordinationError::refused(
            Reason::NoReceivingBranch,
            format!(
                "no branch from {owning_branch} up to head office has staff in the receiving line"
            ),
        )
    })
}

/// Whether `staff` may act for the queue of `to_line` at `to_branch`: they work in that line and
/// their branch is the queue's branch or one of its ancestors.
pub fn may_receive(
    staff: &StaffFacts,
    to_branch: &BranchCode,
    to_line: BusinessLine,
    tree: &BranchTree,
) -> bool {
    staff.lines.contains(&to_line) && tree.is_in_subtree(to_branch, &staff.branch)
}

/// The receiver's decision on a pending referral: accept (`accept`) or decline with a required
/// reason. Checks, in order: pending ([`Reason::ReferralNotPending`]); the decider of the queue
/// ([`Reason::NotReceiver`]); on accept, the assignee of the queue when one is named
/// ([`Reason::NotReceiver`]); the reason. Returns the new status.
pub fn decide(
    status: ReferralStatus,
    accept: bool,
    decider_receives: bool,
    assignee_receives: Option<bool>,
    reason: &str,
) -> Result<ReferralStatus, CoordinationError> {
    if status != ReferralStatus::Pending {
        return Err(CoordinationError::refused(
            Reason::ReferralNotPending,
            format!("the referral is {status}, not pending"),
        ));
    }
    if !decider_receives {
        return Err(CoordinationError::refused(
            Reason::NotReceiver,
            "only the receiving line at the receiving branch or above decides a referral",
        ));
    }
    if accept && assignee_receives == Some(false) {
        return Err(CoordinationError::refused(
            Reason::NotReceiver,
            "the assignee is not of the receiving line at the receiving branch or above",
        ));
    }
    check_reason(reason, !accept)?;
    Ok(if accept {
        ReferralStatus::Accepted
    } else {
        ReferralStatus::Declined
    })
}

/// The outcome of a referral.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralOutcome {
    /// Whether it converted.
    pub converted: bool,
    /// The conversion id; required when converted, absent otherwise.
    pub conversion_id: Option<String>,
}

impl ReferralOutcome {
    /// The status the outcome closes the referral in.
    pub const fn status(&self) -> ReferralStatus {
        if self.converted {
            ReferralStatus::Converted
        } else {
            ReferralStatus::NotConverted
        }
    }

    /// Checks the outcome (fields relative to `outcome`): a converted outcome names its
    /// `conversion_id`; one not converted names none.
    pub fn validate(&self) -> Result<(), CoordinationError> {
        let id = self.conversion_id.as_deref().map(str::trim);
        match (self.converted, id) {
            (true, None | Some("")) => Err(CoordinationError::invalid(
                "conversion_id",
                "is required when the referral converted",
            )),
            (false, Some(id)) if !id.is_empty() => Err(CoordinationError::invalid(
                "conversion_id",
                "must be empty when the referral did not convert",
            )),
            _ => Ok(()),
        }
    }
}

/// What recording an outcome does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutcomeEffect {
    /// The referral closes in this status.
    Recorded(ReferralStatus),
    /// The same outcome was already recorded: nothing changes.
    Unchanged,
}

/// Records `outcome` on a referral in `status` with the `existing` outcome, if any. Checks the
/// outcome, then: accepted referrals take an outcome; the same outcome again changes nothing; a
/// different one is refused ([`Reason::OutcomeAlreadyRecorded`]); a pending or declined referral
/// has none ([`Reason::ReferralNotAccepted`]).
pub fn record_outcome(
    status: ReferralStatus,
    existing: Option<&ReferralOutcome>,
    outcome: &ReferralOutcome,
) -> Result<OutcomeEffect, CoordinationError> {
    outcome.validate()?;
    match status {
        ReferralStatus::Accepted => Ok(OutcomeEffect::Recorded(outcome.status())),
        ReferralStatus::Converted | ReferralStatus::NotConverted => {
            if existing == Some(outcome) {
                Ok(OutcomeEffect::Unchanged)
            } else {
                Err(CoordinationError::refused(
                    Reason::OutcomeAlreadyRecorded,
                    format!("the referral is already {status} with another outcome"),
                ))
            }
        }
        ReferralStatus::Pending | ReferralStatus::Declined => Err(CoordinationError::refused(
            Reason::ReferralNotAccepted,
            format!("the referral is {status}; only an accepted referral has an outcome"),
        )),
    }
}

/// A referrer's record (proto `ReferrerScore`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReferrerScore {
    /// Referrals made.
    pub referral_count: u64,
    /// Referrals ever accepted (accepted, converted or not converted).
    pub accepted_count: u64,
    /// Referrals declined.
    pub declined_count: u64,
    /// Referrals converted.
    pub converted_count: u64,
    /// Referrals closed without conversion.
    pub not_converted_count: u64,
}

impl ReferrerScore {
    /// The score of the referrals in these statuses (one per referral).
    pub fn from_statuses(statuses: impl IntoIterator<Item = ReferralStatus>) -> Self {
        let mut s = ReferrerScore::default();
        for status in statuses {
            s.referral_count += 1;
            if status.was_accepted() {
                s.accepted_count += 1;
            }
            match status {
                ReferralStatus::Declined => s.declined_count += 1,
                ReferralStatus::Converted => s.converted_count += 1,
                ReferralStatus::NotConverted => s.not_converted_count += 1,
                ReferralStatus::Pending | ReferralStatus::Accepted => {}
            }
        }
        s
    }

    /// Closed referrals: converted + not converted + declined (the rate's denominator).
    pub fn closed_count(&self) -> u64 {
        self.converted_count + self.not_converted_count + self.declined_count
    }

    /// The conversion rate in basis points, rounded half up; `None` while none is closed.
    pub fn conversion_rate_bps(&self) -> Option<u32> {
        let closed = self.closed_count();
        (closed > 0).then(|| ratio_bps(self.converted_count, closed))
    }

    /// The conversion rate as a decimal fraction with four places (the basis points / 10,000),
    /// e.g. 1 of 3 → 0.3333; `None` while none is closed.
    pub fn conversion_rate(&self) -> Option<Decimal> {
        self.conversion_rate_bps()
            .map(|bps| Decimal::from_i128_with_scale(i128::from(bps), 4))
    }
}

/// The distinct referrers of a list of (referrer, status) pairs, with their scores, ordered by
/// employee id.
pub fn scores_by_referrer<'a>(
    referrals: impl IntoIterator<Item = (&'a str, ReferralStatus)> + Clone,
) -> Vec<(String, ReferrerScore)> {
    let referrers: BTreeSet<&str> = referrals.clone().into_iter().map(|(r, _)| r).collect();
    referrers
        .into_iter()
        .map(|who| {
            let statuses = referrals
                .clone()
                .into_iter()
                .filter(|(r, _)| *r == who)
                .map(|(_, s)| s);
            (who.to_owned(), ReferrerScore::from_statuses(statuses))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::ErrorKind;
    use crate::coordination::members::tests::{staff, tree};
    use crate::coordination::shares::tests::{code, unit};
    use crate::money::Currency;
    use crate::org::BusinessLine::*;
    use rust_decimal_macros::dec;

    fn interest() -> Interest {
        Interest {
            product_ids: vec!["P-PAYROLL".to_owned()],
            category: None,
            expected_amount: Some(Money::from_minor(Currency::CNY, 50_000_000)),
            description: "payroll for 300 staff".to_owned(),
        }
    }

    #[test]
    fn a_referral_goes_to_another_line() {
        let from = unit("BJ01", Corporate);
        let i = interest();
        let ok = NewReferral {
            from_unit: &from,
            referrer_lines: &[Corporate],
            to_line: Some(Retail),
            interest: &i,
        };
        assert!(check_new(ok).is_ok());
        let err = check_new(NewReferral {
            to_line: Some(Corporate),
            ..ok
        })
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert_eq!(err.violations()[0].field, "to_line");
        assert!(err.violations()[0].message.contains("own line"));
        let empty = Interest {
            product_ids: vec![" ".to_owned()],
            expected_amount: Some(Money::from_minor(Currency::CNY, -1)),
            ..Interest::default()
        };
        let err = check_new(NewReferral {
            referrer_lines: &[Retail],
            to_line: None,
            interest: &empty,
            ..ok
        })
        .unwrap_err();
        let fields: Vec<_> = err.violations().iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "to_line",
                "from_unit.line",
                "interest.product_ids[0]",
                "interest.expected_amount"
            ]
        );
        let category_only = Interest {
            category: Some(ProductCategory::Deposit),
            ..Interest::default()
        };
        assert!(
            check_new(NewReferral {
                interest: &category_only,
                ..ok
            })
            .is_ok()
        );
        let nothing = Interest::default();
        assert_eq!(
            check_new(NewReferral {
                interest: &nothing,
                ..ok
            })
            .unwrap_err()
            .violations()[0]
                .field,
            "interest"
        );
    }

    #[test]
    fn routing_climbs_the_owning_chain() {
        let t = tree();
        let staffed: BTreeSet<BranchCode> = [code("BJ01"), code("HQ")].into();
        let has = |b: &BranchCode| staffed.contains(b);
        assert_eq!(route(&t, &code("BJ0101"), has).unwrap(), code("BJ01"));
        assert_eq!(route(&t, &code("BJ01"), has).unwrap(), code("BJ01"));
        assert_eq!(route(&t, &code("BJ02"), has).unwrap(), code("HQ"));
        assert_eq!(route(&t, &code("SH01"), has).unwrap(), code("HQ"));
        let err = route(&t, &code("SH01"), |_| false).unwrap_err();
        assert_eq!(err.reason(), Some(Reason::NoReceivingBranch));
        let err = route(&t, &code("XX"), |_| true).unwrap_err();
        assert_eq!(err.reason(), Some(Reason::NoReceivingBranch));
    }

    #[test]
    fn receivers_and_decisions() {
        let t = tree();
        let q = code("BJ01");
        assert!(may_receive(&staff("r", "BJ01", &[Retail]), &q, Retail, &t));
        assert!(may_receive(&staff("r", "BJ", &[Retail]), &q, Retail, &t));
        assert!(!may_receive(
            &staff("r", "BJ0101", &[Retail]),
            &q,
            Retail,
            &t
        ));
        assert!(!may_receive(
            &staff("r", "BJ01", &[Corporate]),
            &q,
            Retail,
            &t
        ));
        use ReferralStatus::*;
        assert_eq!(decide(Pending, true, true, None, ""), Ok(Accepted));
        assert_eq!(decide(Pending, true, true, Some(true), ""), Ok(Accepted));
        assert_eq!(
            decide(Pending, false, true, None, "not our product"),
            Ok(Declined)
        );
        assert_eq!(
            decide(Pending, false, true, None, "")
                .unwrap_err()
                .violations()[0]
                .field,
            "reason"
        );
        assert_eq!(
            decide(Pending, true, false, None, "").unwrap_err().kind(),
            ErrorKind::PermissionDenied
        );
        assert_eq!(
            decide(Pending, true, true, Some(false), "")
                .unwrap_err()
                .reason(),
            Some(Reason::NotReceiver)
        );
        for s in [Accepted, Declined, Converted, NotConverted] {
            assert_eq!(
                decide(s, true, true, None, "").unwrap_err().reason(),
                Some(Reason::ReferralNotPending)
            );
        }
    }

    #[test]
    fn outcomes_are_recorded_once() {
        use ReferralStatus::*;
        let yes = ReferralOutcome {
            converted: true,
            conversion_id: Some("CV-1".to_owned()),
        };
        let no = ReferralOutcome {
            converted: false,
            conversion_id: None,
        };
        assert_eq!(
            record_outcome(Accepted, None, &yes),
            Ok(OutcomeEffect::Recorded(Converted))
        );
        assert_eq!(
            record_outcome(Accepted, None, &no),
            Ok(OutcomeEffect::Recorded(NotConverted))
        );
        assert_eq!(
            record_outcome(Converted, Some(&yes), &yes),
            Ok(OutcomeEffect::Unchanged)
        );
        assert_eq!(
            record_outcome(Converted, Some(&yes), &no)
                .unwrap_err()
                .reason(),
            Some(Reason::OutcomeAlreadyRecorded)
        );
        for s in [Pending, Declined] {
            assert_eq!(
                record_outcome(s, None, &yes).unwrap_err().reason(),
                Some(Reason::ReferralNotAccepted)
            );
        }
        let missing = ReferralOutcome {
            converted: true,
            conversion_id: Some(" ".to_owned()),
        };
        assert_eq!(
            record_outcome(Accepted, None, &missing)
                .unwrap_err()
                .violations()[0]
                .field,
            "conversion_id"
        );
        let stray = ReferralOutcome {
            converted: false,
            conversion_id: Some("CV-2".to_owned()),
        };
        assert!(stray.validate().is_err());
    }

    #[test]
    fn the_score_is_the_conversion_rate_of_closed_referrals() {
        use ReferralStatus::*;
        let s = ReferrerScore::from_statuses([
            Pending,
            Accepted,
            Converted,
            NotConverted,
            Declined,
            Converted,
        ]);
        assert_eq!(s.referral_count, 6);
        assert_eq!(s.accepted_count, 4);
        assert_eq!(s.declined_count, 1);
        assert_eq!(s.converted_count, 2);
        assert_eq!(s.closed_count(), 4);
        assert_eq!(s.conversion_rate_bps(), Some(5000));
        assert_eq!(s.conversion_rate(), Some(dec!(0.5000)));
        let third = ReferrerScore::from_statuses([Converted, Declined, NotConverted]);
        assert_eq!(third.conversion_rate_bps(), Some(3333));
        assert_eq!(third.conversion_rate(), Some(dec!(0.3333)));
        let two_thirds = ReferrerScore::from_statuses([Converted, Converted, Declined]);
        assert_eq!(two_thirds.conversion_rate_bps(), Some(6667), "half up");
        let open = ReferrerScore::from_statuses([Pending, Accepted]);
        assert_eq!(open.conversion_rate(), None);
        assert_eq!(ReferrerScore::default().conversion_rate_bps(), None);
        let per = scores_by_referrer([("b", Converted), ("a", Declined), ("b", Declined)]);
        assert_eq!(per.len(), 2);
        assert_eq!(per[0].0, "a");
        assert_eq!(per[1].1.conversion_rate_bps(), Some(5000));
    }
}
