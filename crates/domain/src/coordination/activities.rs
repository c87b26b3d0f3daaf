//! Marketing activities (DOMAIN.md §5 "Activities"): visits, calls, salons (沙龙) and seminars
//! with participants, customers, times and a written record. This module owns the activity
//! vocabulary and which contact channels fit each type (a visit is in person; a call by phone,
//! WeChat or the app; a salon or seminar an event or in person, a seminar also online), the
//! validation of an activity ([`ActivityDraft::validate`]: at least one participant and one
//! customer, none twice, a subject, a start not in the future and an end not before it, a
//! written record of at most 20,000 characters that the [`ActivityPolicy`] requires for visits
//! by default — the seeds ask every visit to a large customer to leave a written record), the
//! per-channel contact-consent check of its individual customers through
//! [`crate::consent::check_contact`] ([`check_consent`]), and the touchpoints an activity gives
//! attribution: one per customer and participant, keyed `activity:A:C:E` ([`touchpoints`]).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::contact::{ContactFacts, check_contact_on};
use super::shares::UnitRef;
use super::{CoordinationError, Violations};
use crate::consent::ContactChannel;
use crate::ids::{ActivityId, CustomerId, ReferralId};

/// The most characters of a subject.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// The most characters of a written record.
pub const MAX_RECORD_CHARS: usize = 20_000;
/// The most participants of one activity.
pub const MAX_PARTICIPANTS: usize = 100;
/// The most customers of one activity (a salon or seminar may gather many).
pub const MAX_CUSTOMERS: usize = 1_000;

code_enum! {
    /// The type of a marketing activity (proto `ActivityType`, same order).
    pub enum ActivityType {
        /// A visit to or from the customer.
        Visit => "visit",
        /// A call.
        Call => "call",
        /// A salon (沙龙) for a group of customers.
        Salon => "salon",
        /// A seminar or presentation.
        Seminar => "seminar",
    }
}

impl ActivityType {
    /// The channels an activity of this type may use.
    pub const fn allowed_channels(self) -> &'static [ContactChannel] {
        match self {
            ActivityType::Visit => &[ContactChannel::InPerson],
            ActivityType::Call => &[
                ContactChannel::Phone,
                ContactChannel::Wechat,
                ContactChannel::Digital,
            ],
            ActivityType::Salon => &[ContactChannel::Event, ContactChannel::InPerson],
            ActivityType::Seminar => &[
                ContactChannel::Event,
                ContactChannel::InPerson,
                ContactChannel::Digital,
            ],
        }
    }

    /// The channel used when none is given: in person for a visit, phone for a call, event for
    /// a salon or seminar.
    pub const fn default_channel(self) -> ContactChannel {
        self.allowed_channels()[0]
    }
}

/// A participant of an activity: the employee and their unit for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Participant {
    /// The employee.
    pub employee_id: String,
    /// Their unit (check it with [`crate::coordination::members::fits`]).
    pub unit: UnitRef,
}

/// What the activity rules require beyond the contract's limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityPolicy {
    /// Types whose written record is required.
    pub record_required_for: Vec<ActivityType>,
    /// The fewest characters of a required record (after trimming).
    pub min_record_chars: usize,
}

impl Default for ActivityPolicy {
    /// Visits need a written record of at least one character.
    fn default() -> Self {
        Self {
            record_required_for: vec![ActivityType::Visit],
            min_record_chars: 1,
        }
    }
}

/// An activity as logged or updated (after a field mask is applied).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityDraft {
    /// The type; `None` when unset (invalid).
    pub activity_type: Option<ActivityType>,
    /// The channel; the type's default when `None`.
    pub channel: Option<ContactChannel>,
    /// Subject, 1 to 200 characters.
    pub subject: String,
    /// The written record, at most 20,000 characters.
    pub record: String,
    /// When it started; required, not in the future.
    pub start_time: Option<DateTime<Utc>>,
    /// When it ended; not before the start.
    pub end_time: Option<DateTime<Utc>>,
    /// Participants, 1 to 100, each employee once.
    pub participants: Vec<Participant>,
    /// Customers, 1 to 1,000, each once.
    pub customers: Vec<CustomerId>,
}

/// A validated activity's type, channel and start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValidActivity {
    /// The type.
    pub activity_type: ActivityType,
    /// The channel (given or defaulted).
    pub channel: ContactChannel,
    /// The start.
    pub start_time: DateTime<Utc>,
}

impl ActivityDraft {
    /// Checks the activity at `now` under `policy` (paths relative to `activity`):
    /// `activity_type`, `channel` (one the type allows), `subject`, `record`, `start_time`
    /// (required, not after `now`), `end_time` (not before the start), `participants` (1 to 100),
    /// `participants[i].employee_id` (required, once), `customer_ids` (1 to 1,000),
    /// `customer_ids[i]` (once). Returns the type, the channel and the start.
    pub fn validate(
        &self,
        now: DateTime<Utc>,
        policy: &ActivityPolicy,
    ) -> Result<ValidActivity, CoordinationError> {
        let mut v = Violations::default();
        if self.activity_type.is_none() {
            v.add("activity_type", "is required");
        }
        if let (Some(t), Some(c)) = (self.activity_type, self.channel)
            && !t.allowed_channels().contains(&c)
        {
            let allowed: Vec<&str> = t.allowed_channels().iter().map(|c| c.as_str()).collect();
            v.add(
                "channel",
                format!("a {t} cannot use {c}; it may use: {}", allowed.join(", ")),
            );
        }
        v.text("subject", &self.subject, true, MAX_SUBJECT_CHARS);
        let record_required = self
            .activity_type
            .is_some_and(|t| policy.record_required_for.contains(&t));
        v.text("record", &self.record, record_required, MAX_RECORD_CHARS);
        let trimmed = self.record.trim().chars().count();
        if record_required && trimmed > 0 && trimmed < policy.min_record_chars {
            v.add(
                "record",
                format!(
                    "must be at least {} characters for this activity, not {trimmed}",
                    policy.min_record_chars
                ),
            );
        }
        match self.start_time {
            None => v.add("start_time", "is required"),
            Some(start) => {
                if start > now {
                    v.add("start_time", format!("{start} is in the future"));
                }
                if let Some(end) = self.end_time
                    && end < start
                {
                    v.add("end_time", format!("{end} is before the start {start}"));
                }
            }
        }
        if self.participants.is_empty() {
            v.add("participants", "at least one participant is required");
        } else if self.participants.len() > MAX_PARTICIPANTS {
            v.add(
                "participants",
                format!(
                    "at most {MAX_PARTICIPANTS}, not {}",
                    self.participants.len()
                ),
            );
        }
        let mut seen = BTreeSet::new();
        for (i, p) in self.participants.iter().enumerate() {
            let field = format!("participants[{i}].employee_id");
            if p.employee_id.trim().is_empty() {
                v.add(field, "is required");
            } else if !seen.insert(p.employee_id.as_str()) {
                v.add(field, format!("repeats {}", p.employee_id));
            }
        }
        if self.customers.is_empty() {
            v.add("customer_ids", "at least one customer is required");
        } else if self.customers.len() > MAX_CUSTOMERS {
            v.add(
                "customer_ids",
                format!("at most {MAX_CUSTOMERS}, not {}", self.customers.len()),
            );
        }
        let mut seen = BTreeSet::new();
        for (i, c) in self.customers.iter().enumerate() {
            if !seen.insert(*c) {
                v.add(format!("customer_ids[{i}]"), format!("repeats {c}"));
            }
        }
        v.finish()?;
        match (self.activity_type, self.start_time) {
            (Some(activity_type), Some(start_time)) => Ok(ValidActivity {
                activity_type,
                channel: self
                    .channel
                    .unwrap_or_else(|| activity_type.default_channel()),
                start_time,
            }),
            _ => Err(CoordinationError::invalid("activity_type", "is required")),
        }
    }
}

/// Checks the consent of an activity's customers on `channel`: every individual needs consent on
/// the channel and no do-not-contact; when the activity serves a joint opportunity, cross-line
/// consent too. Organisations pass.
pub fn check_consent(
    channel: ContactChannel,
    customers: &[ContactFacts],
    serves_opportunity: bool,
) -> Result<(), CoordinationError> {
    check_contact_on(customers, channel, serves_opportunity)
}

/// The natural key of an activity's touchpoint with one customer and participant.
pub fn activity_touchpoint_id(
    activity: ActivityId,
    customer: CustomerId,
    employee: &str,
) -> String {
    format!("activity:{activity}:{customer}:{employee}")
}

/// The natural key of a referral's touchpoint.
pub fn referral_touchpoint_id(referral: ReferralId) -> String {
    format!("referral:{referral}")
}

/// A touchpoint an activity gives attribution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityTouchpoint {
    /// `activity:A:C:E`.
    pub touchpoint_id: String,
    /// The customer touched.
    pub customer: CustomerId,
    /// The participant who made the contact.
    pub employee_id: String,
    /// The participant's unit.
    pub unit: UnitRef,
    /// The channel.
    pub channel: ContactChannel,
    /// The type.
    pub activity_type: ActivityType,
    /// When it happened (the start).
    pub occurred_at: DateTime<Utc>,
}

/// The touchpoints of a validated activity: one per customer and participant, customers in the
/// order given, then participants.
pub fn touchpoints(
    activity: ActivityId,
    valid: &ValidActivity,
    draft: &ActivityDraft,
) -> Vec<ActivityTouchpoint> {
    draft
        .customers
        .iter()
        .flat_map(|c| {
            draft.participants.iter().map(move |p| ActivityTouchpoint {
                touchpoint_id: activity_touchpoint_id(activity, *c, &p.employee_id),
                customer: *c,
                employee_id: p.employee_id.clone(),
                unit: p.unit.clone(),
                channel: valid.channel,
                activity_type: valid.activity_type,
                occurred_at: valid.start_time,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::ErrorKind;
    use crate::coordination::contact::tests::{consent, person};
    use crate::coordination::shares::tests::unit;
    use crate::customer::CustomerKind;
    use crate::org::BusinessLine::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 10, 8, 0, 0).unwrap()
    }

    fn visit() -> ActivityDraft {
        ActivityDraft {
            activity_type: Some(ActivityType::Visit),
            channel: None,
            subject: "Visit the CFO of Huaxin Steel".to_owned(),
            record: "Discussed supplier financing for 40 suppliers.".to_owned(),
            start_time: Some(now() - Duration::hours(3)),
            end_time: Some(now() - Duration::hours(1)),
            participants: vec![
                Participant {
                    employee_id: "alice".to_owned(),
                    unit: unit("BJ01", Corporate),
                },
                Participant {
                    employee_id: "sam".to_owned(),
                    unit: unit("BJ01", SmallBusiness),
                },
            ],
            customers: vec![CustomerId::new()],
        }
    }

    fn fields(err: CoordinationError) -> Vec<String> {
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        err.violations().iter().map(|v| v.field.clone()).collect()
    }

    #[test]
    fn a_good_visit_defaults_to_in_person() {
        let valid = visit().validate(now(), &ActivityPolicy::default()).unwrap();
        assert_eq!(valid.channel, ContactChannel::InPerson);
        assert_eq!(valid.activity_type, ActivityType::Visit);
        assert_eq!(ActivityType::Call.default_channel(), ContactChannel::Phone);
        assert_eq!(ActivityType::Salon.default_channel(), ContactChannel::Event);
        let codes: Vec<_> = ActivityType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(codes, ["visit", "call", "salon", "seminar"]);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut a = visit();
        a.channel = Some(ContactChannel::Phone);
        a.subject.clear();
        a.record = "r".repeat(MAX_RECORD_CHARS + 1);
        a.start_time = Some(now() + Duration::minutes(1));
        a.end_time = Some(now());
        a.participants.push(a.participants[0].clone());
        a.customers.push(a.customers[0]);
        assert_eq!(
            fields(a.validate(now(), &ActivityPolicy::default()).unwrap_err()),
            [
                "channel",
                "subject",
                "record",
                "start_time",
                "end_time",
                "participants[2].employee_id",
                "customer_ids[1]",
            ]
        );
        let mut empty = visit();
        empty.activity_type = None;
        empty.start_time = None;
        empty.participants.clear();
        empty.customers.clear();
        assert_eq!(
            fields(
                empty
                    .validate(now(), &ActivityPolicy::default())
                    .unwrap_err()
            ),
            [
                "activity_type",
                "start_time",
                "participants",
                "customer_ids"
            ]
        );
    }

    #[test]
    fn a_visit_needs_a_written_record_under_the_default_policy() {
        let mut a = visit();
        a.record = "  ".to_owned();
        assert_eq!(
            fields(a.validate(now(), &ActivityPolicy::default()).unwrap_err()),
            ["record"]
        );
        let mut call = a.clone();
        call.activity_type = Some(ActivityType::Call);
        assert!(call.validate(now(), &ActivityPolicy::default()).is_ok());
        let strict = ActivityPolicy {
            record_required_for: vec![ActivityType::Visit, ActivityType::Call],
            min_record_chars: 20,
        };
        call.record = "short".to_owned();
        let err = call.validate(now(), &strict).unwrap_err();
        assert!(err.violations()[0].message.contains("at least 20"));
        // An activity now, with no end, is fine.
        let mut open = visit();
        open.start_time = Some(now());
        open.end_time = None;
        assert!(open.validate(now(), &ActivityPolicy::default()).is_ok());
    }

    #[test]
    fn consent_is_checked_per_channel() {
        let ok = person(Some(consent(&[ContactChannel::InPerson], false, false)));
        let company = ContactFacts {
            customer: CustomerId::new(),
            kind: CustomerKind::Corporate,
            consent: None,
        };
        assert!(
            check_consent(
                ContactChannel::InPerson,
                &[ok.clone(), company.clone()],
                false
            )
            .is_ok()
        );
        let err = check_consent(ContactChannel::Phone, &[ok.clone(), company], false).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::FailedPrecondition);
        assert!(check_consent(ContactChannel::InPerson, &[ok], true).is_err());
        let dnc = person(Some(consent(&[ContactChannel::InPerson], true, true)));
        assert!(check_consent(ContactChannel::InPerson, &[dnc], false).is_err());
    }

    #[test]
    fn an_activity_gives_one_touchpoint_per_customer_and_participant() {
        let mut a = visit();
        a.customers.push(CustomerId::new());
        let valid = a.validate(now(), &ActivityPolicy::default()).unwrap();
        let id = ActivityId::new();
        let tps = touchpoints(id, &valid, &a);
        assert_eq!(tps.len(), 4);
        assert_eq!(
            tps[1].touchpoint_id,
            format!("activity:{id}:{}:sam", a.customers[0])
        );
        assert_eq!(tps[1].unit, unit("BJ01", SmallBusiness));
        assert!(tps.iter().all(|t| t.occurred_at == a.start_time.unwrap()));
        let r = ReferralId::new();
        assert_eq!(referral_touchpoint_id(r), format!("referral:{r}"));
    }
}
