//! The consent checks coordination makes before an individual becomes a linked target, a
//! referral or a customer of an activity (DOMAIN.md §2 "Consent", §5), built on the one rule of
//! [`crate::consent::check_contact`]. This module owns which check applies where: a linked target
//! or a referral is a **cross-line use** of the customer's data and leads to contact by another
//! line, so it needs cross-line consent and no do-not-contact flag ([`linked_use_refusals`]); an
//! activity contacts the customer on a channel, so it needs consent on that channel and no
//! do-not-contact, plus cross-line consent when it serves a joint opportunity
//! ([`contact_refusals`]). Organisations carry no consent and always pass; an individual with no
//! consent record has granted nothing.

use std::fmt;

use super::CoordinationError;
use crate::consent::{Consent, ContactChannel, Refusal, check_contact};
use crate::customer::CustomerKind;
use crate::ids::CustomerId;

/// A customer as the consent checks see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactFacts {
    /// The customer.
    pub customer: CustomerId,
    /// Its kind; only individuals are checked.
    pub kind: CustomerKind,
    /// Its consent record, if any (`None` for an individual means nothing is granted).
    pub consent: Option<Consent>,
}

/// An individual whose consent forbids what was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentProblem {
    /// The customer.
    pub customer: CustomerId,
    /// Every reason, in [`Refusal`] order.
    pub refusals: Vec<Refusal>,
}

impl fmt::Display for ConsentProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reasons: Vec<&str> = self
            .refusals
            .iter()
            .map(|r| match r {
                Refusal::DoNotContact => "is marked do-not-contact",
                Refusal::NoChannelConsent => "has not consented to marketing on this channel",
                Refusal::NoCrossLineConsent => {
                    "has not consented to the use of their data across lines"
                }
            })
            .collect();
        write!(f, "customer {} {}", self.customer, reasons.join(" and "))
    }
}

pub(super) fn describe_problems(problems: &[ConsentProblem]) -> String {
    if problems.is_empty() {
        return "consent refused".to_owned();
    }
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why `kind` with `consent` may not become a linked target or be referred: cross-line consent is
/// needed and do-not-contact forbids it. Empty for organisations and for an allowed individual.
pub fn linked_use_refusals(kind: CustomerKind, consent: Option<&Consent>) -> Vec<Refusal> {
    if kind != CustomerKind::Individual {
        return Vec::new();
    }
    let none = Consent::default();
    let consent = consent.unwrap_or(&none);
    let mut refusals = check_contact(consent, None, true);
    if consent.do_not_contact {
        refusals.push(Refusal::DoNotContact);
    }
    refusals.sort();
    refusals
}

/// Why contacting `kind` with `consent` on `channel` is refused, with `cross_line` when the
/// contact serves a joint opportunity. Empty for organisations and for an allowed individual.
pub fn contact_refusals(
    kind: CustomerKind,
    consent: Option<&Consent>,
    channel: ContactChannel,
    cross_line: bool,
) -> Vec<Refusal> {
    if kind != CustomerKind::Individual {
        return Vec::new();
    }
    let none = Consent::default();
    check_contact(consent.unwrap_or(&none), Some(channel), cross_line)
}

/// Whether a customer may be suggested as a linked target (SuggestLinkedTargets leaves the
/// others out and counts them).
pub fn suggestible(kind: CustomerKind, consent: Option<&Consent>) -> bool {
    linked_use_refusals(kind, consent).is_empty()
}

/// Checks customers that are to become linked targets or be referred; every refused individual
/// is reported.
pub fn check_linked_use(customers: &[ContactFacts]) -> Result<(), CoordinationError> {
    collect(customers, |c| {
        linked_use_refusals(c.kind, c.consent.as_ref())
    })
}

/// Checks customers to be contacted on `channel` (an activity), with cross-line consent when it
/// serves a joint opportunity; every refused individual is reported.
pub fn check_contact_on(
    customers: &[ContactFacts],
    channel: ContactChannel,
    cross_line: bool,
) -> Result<(), CoordinationError> {
    collect(customers, |c| {
        contact_refusals(c.kind, c.consent.as_ref(), channel, cross_line)
    })
}

fn collect(
    customers: &[ContactFacts],
    check: impl Fn(&ContactFacts) -> Vec<Refusal>,
) -> Result<(), CoordinationError> {
    let problems: Vec<ConsentProblem> = customers
        .iter()
        .filter_map(|c| {
            let refusals = check(c);
            (!refusals.is_empty()).then_some(ConsentProblem {
                customer: c.customer,
                refusals,
            })
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CoordinationError::Consent(problems))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::coordination::ErrorKind;

    pub(crate) fn consent(channels: &[ContactChannel], dnc: bool, cross: bool) -> Consent {
        Consent {
            granted_channels: channels.iter().copied().collect(),
            do_not_contact: dnc,
            cross_line_use: cross,
        }
    }

    pub(crate) fn person(consent: Option<Consent>) -> ContactFacts {
        ContactFacts {
            customer: CustomerId::new(),
            kind: CustomerKind::Individual,
            consent,
        }
    }

    #[test]
    fn organisations_always_pass() {
        for kind in [
            CustomerKind::Corporate,
            CustomerKind::SmallBusiness,
            CustomerKind::Institution,
        ] {
            assert!(linked_use_refusals(kind, None).is_empty());
            assert!(contact_refusals(kind, None, ContactChannel::Phone, true).is_empty());
            assert!(suggestible(kind, None));
        }
    }

    #[test]
    fn a_linked_individual_needs_cross_line_consent_and_no_dnc() {
        let ok = consent(&[], false, true);
        assert!(suggestible(CustomerKind::Individual, Some(&ok)));
        assert_eq!(
            linked_use_refusals(CustomerKind::Individual, None),
            [Refusal::NoCrossLineConsent]
        );
        let dnc = consent(&[ContactChannel::Phone], true, true);
        assert_eq!(
            linked_use_refusals(CustomerKind::Individual, Some(&dnc)),
            [Refusal::DoNotContact]
        );
        let both = consent(&[], true, false);
        assert_eq!(
            linked_use_refusals(CustomerKind::Individual, Some(&both)),
            [Refusal::DoNotContact, Refusal::NoCrossLineConsent]
        );
        let a = person(Some(ok));
        let b = person(Some(both));
        let err = check_linked_use(&[a, b.clone()]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::FailedPrecondition);
        let CoordinationError::Consent(problems) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].customer, b.customer);
        assert!(err.to_string().contains("do-not-contact"), "{err}");
    }

    #[test]
    fn contact_is_checked_per_channel() {
        let c = consent(&[ContactChannel::InPerson], false, false);
        let p = person(Some(c));
        assert!(
            check_contact_on(std::slice::from_ref(&p), ContactChannel::InPerson, false).is_ok()
        );
        let err =
            check_contact_on(std::slice::from_ref(&p), ContactChannel::Phone, false).unwrap_err();
        assert!(err.to_string().contains("this channel"));
        let err = check_contact_on(&[p], ContactChannel::InPerson, true).unwrap_err();
        assert!(err.to_string().contains("across lines"));
        assert_eq!(
            contact_refusals(CustomerKind::Individual, None, ContactChannel::Event, false),
            [Refusal::NoChannelConsent]
        );
    }
}
