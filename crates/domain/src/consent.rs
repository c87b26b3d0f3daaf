//! PIPL consent of individuals (DOMAIN.md §2): marketing consent per contact channel, a
//! do-not-contact flag that overrides every channel, and consent to use the customer's data across
//! business lines (公私联动). [`check_contact`] is the one rule coordination relies on before an
//! individual becomes a linked target, an activity or a referral. Organisations carry no consent
//! and are always allowed.

use std::collections::BTreeSet;

code_enum! {
    /// A channel on which the bank may contact a customer.
    pub enum ContactChannel {
        /// Face to face.
        InPerson => "in_person",
        /// A phone call.
        Phone => "phone",
        /// Text message.
        Sms => "sms",
        /// E-mail.
        Email => "email",
        /// WeChat.
        Wechat => "wechat",
        /// App and online banking.
        Digital => "digital",
        /// Salons, seminars and other events.
        Event => "event",
        /// Letters.
        Mail => "mail",
    }
}

/// Why a contact or use is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Refusal {
    /// The customer asked not to be contacted at all.
    DoNotContact,
    /// No marketing consent for the channel.
    NoChannelConsent,
    /// No consent to cross-line use of the customer's data.
    NoCrossLineConsent,
}

/// An individual's consent as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Consent {
    /// Channels with marketing consent; any other channel is not granted.
    pub granted_channels: BTreeSet<ContactChannel>,
    /// Overrides every channel.
    pub do_not_contact: bool,
    /// Consent to cross-line use.
    pub cross_line_use: bool,
}

/// Every reason contacting on `channel` (when given) and, if `cross_line`, using the data across
/// lines is refused; empty means allowed.
pub fn check_contact(
    consent: &Consent,
    channel: Option<ContactChannel>,
    cross_line: bool,
) -> Vec<Refusal> {
    let mut refusals = Vec::new();
    if channel.is_some() && consent.do_not_contact {
        refusals.push(Refusal::DoNotContact);
    }
    if let Some(c) = channel
        && !consent.granted_channels.contains(&c)
    {
        refusals.push(Refusal::NoChannelConsent);
    }
    if cross_line && !consent.cross_line_use {
        refusals.push(Refusal::NoCrossLineConsent);
    }
    refusals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consent(channels: &[ContactChannel], dnc: bool, cross: bool) -> Consent {
        Consent {
            granted_channels: channels.iter().copied().collect(),
            do_not_contact: dnc,
            cross_line_use: cross,
        }
    }

    #[test]
    fn a_granted_channel_with_cross_line_consent_is_allowed() {
        let c = consent(&[ContactChannel::Phone, ContactChannel::Sms], false, true);
        assert!(check_contact(&c, Some(ContactChannel::Phone), true).is_empty());
        assert_eq!(
            check_contact(&c, Some(ContactChannel::Email), false),
            [Refusal::NoChannelConsent]
        );
    }

    #[test]
    fn do_not_contact_overrides_every_channel_and_every_reason_is_listed() {
        let c = consent(&[ContactChannel::Phone], true, false);
        assert_eq!(
            check_contact(&c, Some(ContactChannel::Phone), true),
            [Refusal::DoNotContact, Refusal::NoCrossLineConsent]
        );
        assert_eq!(
            check_contact(&Consent::default(), Some(ContactChannel::InPerson), true),
            [Refusal::NoChannelConsent, Refusal::NoCrossLineConsent]
        );
    }

    #[test]
    fn cross_line_use_alone_needs_no_channel() {
        assert!(
            check_contact(&consent(&[], true, true), None, true).is_empty(),
            "use of data is not contact"
        );
        assert_eq!(
            check_contact(&consent(&[], false, false), None, true),
            [Refusal::NoCrossLineConsent]
        );
    }
}
