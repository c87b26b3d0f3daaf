//! Strongly typed identifiers. Every entity id is its own newtype over a [`Uuid`], so a
//! `CustomerId` can never be passed where a `BranchId` is expected. New ids are UUID v7
//! (time-ordered, so they index well); parsing accepts any non-nil UUID text form. Ids
//! display and serialise as the hyphenated lowercase UUID.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

/// A string that is not a valid id of the named kind.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    /// The text is not a UUID.
    #[error("invalid {kind}: {value:?} is not a UUID")]
    Malformed {
        /// The id type, e.g. `CustomerId`.
        kind: &'static str,
        /// The rejected input (cut to 64 characters).
        value: String,
    },
    /// The text is the nil UUID, which usually means a missing field.
    #[error("invalid {kind}: the nil UUID is not an id")]
    Nil {
        /// The id type, e.g. `CustomerId`.
        kind: &'static str,
    },
}

fn parse_uuid(kind: &'static str, s: &str) -> Result<Uuid, IdError> {
    let uuid = Uuid::try_parse(s).map_err(|_| IdError::Malformed {
        kind,
        value: s.chars().take(64).collect(),
    })?;
    if uuid.is_nil() {
        return Err(IdError::Nil { kind });
    }
    Ok(uuid)
}

macro_rules! define_id {
    ($( $(#[$meta:meta])* $name:ident; )+) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered (UUID v7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID (e.g. read back from storage).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// Parses the text form of a UUID; the nil UUID is rejected.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                parse_uuid(stringify!($name), s).map(Self)
            }
        }

        impl Default for $name {
            /// Same as [`Self::new`]: a fresh id.
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.to_string()
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    )+};
}

define_id! {
    /// A customer (individual, corporate, small business or institution).
    CustomerId;
    /// A node of the branch tree (head office down to outlet).
    BranchId;
    /// A member of staff.
    EmployeeId;
    /// A marketing team or joint customer service group.
    TeamId;
    /// A product of the catalogue.
    ProductId;
    /// A bundle (product package).
    BundleId;
    /// A pricing quote.
    QuoteId;
    /// An approval decision on a quote or another four-eyes change.
    ApprovalId;
    /// A linked-marketing opportunity (joint campaign).
    OpportunityId;
    /// A task of an opportunity.
    TaskId;
    /// A marketing activity (visit, call, salon, seminar).
    ActivityId;
    /// A referral between lines.
    ReferralId;
    /// A conversion (product sale or balance gain) reported by core banking.
    ConversionId;
    /// A touchpoint fed to attribution.
    TouchpointId;
    /// An attribution or batch run.
    RunId;
    /// An outbox event.
    EventId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_v7_distinct_and_time_ordered() {
        let a = CustomerId::new();
        let b = CustomerId::new();
        assert_ne!(a, b);
        assert_eq!(a.as_uuid().get_version_num(), 7);
        assert!(a < b, "v7 ids created later sort later");
    }

    #[test]
    fn parse_display_round_trip() {
        let text = "0190a6d2-7c4e-7b1a-9f3e-2d4c5b6a7e8f";
        let id = BranchId::parse(text).unwrap();
        assert_eq!(id.to_string(), text);
        assert_eq!(text.parse::<BranchId>(), Ok(id));
        assert_eq!(format!("{id:?}"), format!("BranchId({text})"));
        // Other UUID text forms are accepted and normalised.
        let upper = BranchId::parse("0190A6D27C4E7B1A9F3E2D4C5B6A7E8F").unwrap();
        assert_eq!(upper, id);
    }

    #[test]
    fn parse_rejects_garbage_and_nil() {
        assert_eq!(
            QuoteId::parse("not-a-uuid"),
            Err(IdError::Malformed {
                kind: "QuoteId",
                value: "not-a-uuid".into()
            })
        );
        assert_eq!(
            QuoteId::parse("00000000-0000-0000-0000-000000000000"),
            Err(IdError::Nil { kind: "QuoteId" })
        );
        assert!(QuoteId::parse("").is_err());
    }

    #[test]
    fn serde_uses_the_text_form() {
        let id = RunId::new();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<RunId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<RunId>("\"x\"").is_err());
    }

    #[test]
    fn uuid_conversions() {
        let uuid = Uuid::now_v7();
        let id = EventId::from_uuid(uuid);
        assert_eq!(Uuid::from(id), uuid);
        assert_eq!(String::from(id), uuid.to_string());
    }
}
