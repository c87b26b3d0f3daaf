//! Tiers and segments (DOMAIN.md §2 "Corporate tier" and "Retail wealth tier", §3
//! "Segmentation"; issue 3 items 8 and 9). This module owns the tier rules as versioned,
//! effective-dated data ([`rules`]), the maker step that evaluates one customer or a subtree into
//! a stored, pending change list of upgrades, downgrades, entries and exits with their reasons
//! ([`evaluate`]), the checker step that applies a whole list in one audited transaction or
//! rejects it, the change-list reads and the tier history ([`changes`]), and the strategic
//! segmentation batch with its runs, segments and per-customer assignments ([`segments`]). The
//! customer's current tiers and segment stay on the `customer` row (written only here, always
//! with a version bump, an outbox event in the same transaction and a cache invalidation after
//! the commit). The rules themselves — corporate tiers tried top-down, the wealth-tier AUM basis,
//! change kinds and reasons, the seeded k-means and the segment labels — are `bankmkt_domain`'s
//! (`tiers`, `segmentation`, `segment_labels`). Schema: [`TiersMigration`].

pub mod changes;
pub mod entity;
pub mod evaluate;
pub mod migration;
pub mod rules;
pub mod segments;

use bankmkt_domain::customer::{CorporateTier, WealthTier};
use bankmkt_domain::tiers::TierChangeKind;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;

pub use migration::TiersMigration;

use crate::convert;
use crate::error::{RegistryError, Result};

/// The outbox event of an applied tier change.
pub const TIER_CHANGED: &str = "customer.tier_changed";
/// The outbox event of a customer's new segment.
pub const SEGMENT_CHANGED: &str = "customer.segment_changed";
/// The rule family of tier rule sets in `RuleVersionRef`s.
pub const RULE_KIND: &str = "tier_rule";

pub(crate) fn internal(e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Internal(e.to_string())
}

/// A tier scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Corporate tiers, for organisations.
    Corporate,
    /// Retail wealth tiers, for individuals.
    Wealth,
}

impl Scheme {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Scheme::Corporate => "corporate",
            Scheme::Wealth => "wealth",
        }
    }

    /// The rule series of the scheme (its `rule_set_id`).
    pub fn series(self) -> &'static str {
        match self {
            Scheme::Corporate => "corporate_tier",
            Scheme::Wealth => "wealth_tier",
        }
    }

    /// The scheme of a stored code.
    pub fn from_code(code: &str) -> Result<Scheme> {
        match code {
            "corporate" => Ok(Scheme::Corporate),
            "wealth" => Ok(Scheme::Wealth),
            other => Err(internal(format!("stored tier scheme {other:?}"))),
        }
    }

    /// The scheme of a wire value; unspecified or unknown is `None`.
    pub fn from_proto(raw: i32) -> Option<Scheme> {
        match v1::TierScheme::try_from(raw).ok()? {
            v1::TierScheme::Corporate => Some(Scheme::Corporate),
            v1::TierScheme::Wealth => Some(Scheme::Wealth),
            v1::TierScheme::Unspecified => None,
        }
    }

    /// The wire value.
    pub fn to_proto(self) -> v1::TierScheme {
        match self {
            Scheme::Corporate => v1::TierScheme::Corporate,
            Scheme::Wealth => v1::TierScheme::Wealth,
        }
    }
}

/// A scheme filter: `None` for unspecified (any); an unknown value is recorded against `field`.
pub(crate) fn scheme_filter(raw: i32, field: &str, v: &mut Violations) -> Option<Scheme> {
    match v1::TierScheme::try_from(raw) {
        Ok(v1::TierScheme::Unspecified) => None,
        Ok(_) => Scheme::from_proto(raw),
        Err(_) => {
            v.add(field, "must be CORPORATE or WEALTH");
            None
        }
    }
}

/// The wire kind of a domain change kind.
pub fn kind_to_proto(kind: TierChangeKind) -> v1::TierChangeKind {
    match kind {
        TierChangeKind::Upgrade => v1::TierChangeKind::Upgrade,
        TierChangeKind::Downgrade => v1::TierChangeKind::Downgrade,
        TierChangeKind::Entry => v1::TierChangeKind::Entry,
        TierChangeKind::Exit => v1::TierChangeKind::Exit,
    }
}

/// The domain kind of a wire kind; unspecified or unknown is `None`.
pub fn kind_from_proto(raw: i32) -> Option<TierChangeKind> {
    match v1::TierChangeKind::try_from(raw).ok()? {
        v1::TierChangeKind::Upgrade => Some(TierChangeKind::Upgrade),
        v1::TierChangeKind::Downgrade => Some(TierChangeKind::Downgrade),
        v1::TierChangeKind::Entry => Some(TierChangeKind::Entry),
        v1::TierChangeKind::Exit => Some(TierChangeKind::Exit),
        v1::TierChangeKind::Unspecified => None,
    }
}

/// The stored change fields of one customer's change.
pub(crate) struct ChangeFields<'a> {
    pub customer_id: &'a str,
    pub customer_name: &'a str,
    pub scheme: Scheme,
    pub kind: &'a str,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub reason: &'a str,
}

/// The wire form of a stored change. Corporate: no tier is `UNLISTED`; wealth: no tier yet is
/// `UNSPECIFIED`.
pub(crate) fn change_to_proto(c: ChangeFields<'_>) -> Result<v1::TierChange> {
    let kind: TierChangeKind = c
        .kind
        .parse()
        .map_err(|_| internal(format!("stored tier change kind {:?}", c.kind)))?;
    let mut change = v1::TierChange {
        customer_id: c.customer_id.to_owned(),
        customer_name: c.customer_name.to_owned(),
        scheme: c.scheme.to_proto() as i32,
        kind: kind_to_proto(kind) as i32,
        reason: c.reason.to_owned(),
        ..Default::default()
    };
    match c.scheme {
        Scheme::Corporate => {
            let tier = |code: Option<&str>| -> Result<i32> {
                Ok(match code {
                    None => v1::CorporateTier::Unlisted as i32,
                    Some(t) => convert::corporate_tier_to_proto(
                        t.parse::<CorporateTier>()
                            .map_err(|_| internal(format!("stored corporate tier {t:?}")))?,
                    ) as i32,
                })
            };
            change.from_corporate_tier = tier(c.from)?;
            change.to_corporate_tier = tier(c.to)?;
        }
        Scheme::Wealth => {
            let tier = |code: Option<&str>| -> Result<i32> {
                Ok(match code {
                    None => v1::WealthTier::Unspecified as i32,
                    Some(t) => convert::wealth_tier_to_proto(
                        t.parse::<WealthTier>()
                            .map_err(|_| internal(format!("stored wealth tier {t:?}")))?,
                    ) as i32,
                })
            };
            change.from_wealth_tier = tier(c.from)?;
            change.to_wealth_tier = tier(c.to)?;
        }
    }
    Ok(change)
}

/// Validates an idempotency key: 1 to 128 printable ASCII characters.
pub(crate) fn idempotency_key_in(raw: &str, v: &mut Violations) {
    if raw.is_empty() || raw.len() > 128 || !raw.chars().all(|c| c.is_ascii_graphic()) {
        v.add(
            "idempotency_key",
            "must be 1 to 128 printable ASCII characters",
        );
    }
}
