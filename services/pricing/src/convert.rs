//! Conversions between the wire types of `bankmkt.v1` and the domain types, done once at the edge.
//! Every parse takes the field path of the value in its request and records a violation naming
//! it, so a request is refused with all of its bad fields at once; the business rules themselves
//! (fee-schedule tiers, ratio bounds, category fits kind, ...) are the domain's.

use std::str::FromStr;

use bankmkt_domain::money::{BasisPoints, Currency, Money};
use bankmkt_domain::org::BusinessLine;
use bankmkt_domain::pricing::{
    AuthorityLevel, EffectiveRange, FeeSchedule, FeeTier, ProductCategory, ProductKind,
    ReferenceRateKind, RegulatoryLimitKind,
};
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

pub use bankmkt_proto::wire::{date_from_proto, date_to_proto, timestamp};

/// An optional wire date; a violation against `field` when it is set and invalid.
pub fn optional_date(
    field: &str,
    date: Option<&v1::Date>,
    v: &mut Violations,
) -> Option<NaiveDate> {
    date.and_then(|d| v.check(field, date_from_proto(d)))
}

/// A required wire date.
pub fn required_date(
    field: &str,
    date: Option<&v1::Date>,
    v: &mut Violations,
) -> Option<NaiveDate> {
    match date {
        None => {
            v.add(field, "is required");
            None
        }
        Some(d) => v.check(field, date_from_proto(d)),
    }
}

/// A wire effective range at `field`: `start_date` required, `end_date` optional and (by the
/// domain's rule) after the start.
pub fn effective_range(
    field: &str,
    range: Option<&v1::EffectiveRange>,
    v: &mut Violations,
) -> Option<EffectiveRange> {
    let Some(range) = range else {
        v.add(field, "is required");
        return None;
    };
    let from = required_date(&format!("{field}.start_date"), range.start_date.as_ref(), v);
    let to = optional_date(&format!("{field}.end_date"), range.end_date.as_ref(), v);
    let from = from?;
    if range.end_date.is_some() && to.is_none() {
        return None;
    }
    match EffectiveRange::new(from, to) {
        Ok(r) => Some(r),
        Err(e) => {
            let e = e.prefixed(field);
            v.add(e.field, e.message);
            None
        }
    }
}

/// An effective range for the wire.
pub fn effective_to_proto(range: &EffectiveRange) -> v1::EffectiveRange {
    v1::EffectiveRange {
        start_date: Some(date_to_proto(range.from)),
        end_date: range.to.map(date_to_proto),
    }
}

/// A currency code at `field`: three upper-case letters, required.
pub fn currency(field: &str, raw: &str, v: &mut Violations) -> Option<Currency> {
    if raw.is_empty() {
        v.add(field, "is required");
        return None;
    }
    v.check(field, Currency::parse(raw))
}

/// A wire amount at `field`; `None` with a violation when absent (if required) or its currency is
/// not a code. Signs are the domain's business.
pub fn money(
    field: &str,
    raw: Option<&v1::Money>,
    required: bool,
    v: &mut Violations,
) -> Option<Money> {
    let Some(raw) = raw else {
        if required {
            v.add(field, "is required");
        }
        return None;
    };
    let currency = currency(&format!("{field}.currency"), &raw.currency, v)?;
    Some(Money::from_minor(currency, raw.minor_units))
}

/// An amount for the wire.
pub fn money_to_proto(m: Money) -> v1::Money {
    v1::Money {
        currency: m.currency().as_str().to_owned(),
        minor_units: m.minor_units(),
    }
}

/// A canonical decimal string: optional minus, digits, optional point and digits, no exponent, at
/// most 28 significant digits.
pub fn parse_decimal(s: &str) -> Option<Decimal> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits_ok = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok(int) || frac.is_some_and(|f| !digits_ok(f)) {
        return None;
    }
    let significant = body
        .bytes()
        .filter(u8::is_ascii_digit)
        .skip_while(|b| *b == b'0')
        .count();
    if significant > 28 {
        return None;
    }
    Decimal::from_str_exact(s).ok()
}

/// A wire decimal at `field`; when absent it is `default` (or a violation when `None`).
pub fn decimal(
    field: &str,
    raw: Option<&v1::Decimal>,
    default: Option<Decimal>,
    v: &mut Violations,
) -> Option<Decimal> {
    let Some(raw) = raw else {
        if default.is_none() {
            v.add(field, "is required");
        }
        return default;
    };
    parse_decimal(&raw.value).or_else(|| {
        v.add(
            field,
            "must be a canonical decimal string such as \"0.0030\" (no exponent, at most 28 digits)",
        );
        None
    })
}

/// A decimal for the wire, keeping the scale it was given with.
pub fn decimal_to_proto(d: Decimal) -> v1::Decimal {
    v1::Decimal {
        value: d.to_string(),
    }
}

/// A stored decimal string.
pub fn stored_decimal(what: &str, raw: &str) -> Result<Decimal, String> {
    Decimal::from_str(raw).map_err(|e| format!("stored {what} {raw:?} is not a decimal: {e}"))
}

/// Who did something, when and why, for the wire.
pub fn stamp(actor: &str, at: DateTime<Utc>, reason: &str) -> v1::AuditStamp {
    v1::AuditStamp {
        actor_id: actor.to_owned(),
        time: Some(timestamp(at)),
        reason: reason.to_owned(),
    }
}

/// The longest reason an audited write accepts, in characters.
pub const MAX_REASON: usize = 500;

/// A required reason of 1 to [`MAX_REASON`] characters, trimmed.
pub fn reason(field: &str, raw: &str, v: &mut Violations) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_REASON {
        v.add(field, format!("is required, 1 to {MAX_REASON} characters"));
        return None;
    }
    Some(trimmed.to_owned())
}

/// Maps a closed set of wire enum values to domain values and back.
macro_rules! enum_map {
    ($from:ident, $to:ident, $wire:ty, $domain:ty, { $($w:ident => $d:ident),* $(,)? }) => {
        /// The domain value of a wire value; unspecified or unknown is `None`.
        pub fn $from(raw: i32) -> Option<$domain> {
            match <$wire>::try_from(raw).ok()? {
                $(<$wire>::$w => Some(<$domain>::$d),)*
                _ => None,
            }
        }

        /// The wire value of a domain value.
        pub fn $to(value: $domain) -> $wire {
            match value {
                $(<$domain>::$d => <$wire>::$w,)*
            }
        }
    };
}

enum_map!(line_from_proto, line_to_proto, v1::BusinessLine, BusinessLine, {
    Corporate => Corporate,
    SmallBusiness => SmallBusiness,
    Retail => Retail,
    TradeFinance => TradeFinance,
    FxSettlement => FxSettlement,
    Wealth => Wealth,
});

enum_map!(kind_from_proto, kind_to_proto, v1::ProductKind, ProductKind, {
    Asset => Asset,
    Liability => Liability,
    Fee => Fee,
});

enum_map!(category_from_proto, category_to_proto, v1::ProductCategory, ProductCategory, {
    Deposit => Deposit,
    Wealth => Wealth,
    Loan => Loan,
    CreditFacility => CreditFacility,
    Settlement => Settlement,
    Payroll => Payroll,
    Card => Card,
    Fx => Fx,
    TradeFinance => TradeFinance,
    Pos => Pos,
    Other => Other,
});

enum_map!(level_from_proto, level_to_proto, v1::AuthorityLevel, AuthorityLevel, {
    CustomerManager => CustomerManager,
    Outlet => Outlet,
    SubBranch => SubBranch,
    Tier2Branch => Tier2Branch,
    Tier1Branch => Tier1Branch,
    HeadOffice => HeadOffice,
});

enum_map!(reference_kind_from_proto, reference_kind_to_proto, v1::ReferenceRateKind, ReferenceRateKind, {
    Lpr1y => Lpr1y,
    Lpr5y => Lpr5y,
});

enum_map!(limit_kind_from_proto, limit_kind_to_proto, v1::RegulatoryLimitKind, RegulatoryLimitKind, {
    LoanRateFloor => LoanRateFloor,
    DepositRateCap => DepositRateCap,
});

/// A required wire enum at `field`, through `from`; unspecified or unknown is a violation.
pub fn required_enum<T>(
    field: &str,
    raw: i32,
    from: fn(i32) -> Option<T>,
    what: &str,
    v: &mut Violations,
) -> Option<T> {
    let value = from(raw);
    if value.is_none() {
        v.add(field, format!("must be a known {what} ({raw} is not)"));
    }
    value
}

/// An optional wire enum filter at `field`: unspecified (0) is `None`, unknown a violation.
pub fn filter_enum<T>(
    field: &str,
    raw: i32,
    from: fn(i32) -> Option<T>,
    what: &str,
    v: &mut Violations,
) -> Option<T> {
    if raw == 0 {
        return None;
    }
    required_enum(field, raw, from, what, v)
}

/// A stored code of a `code_enum!` type.
pub fn stored_code<T: FromStr>(what: &str, raw: &str) -> Result<T, String> {
    raw.parse()
        .map_err(|_| format!("stored {what} {raw:?} is not a known code"))
}

/// A wire fee schedule at `field`, in a product of `currency` (the flat fee is zero in that
/// currency when unset). Only the shape is converted here; the tiers, signs and currencies are
/// checked by the domain's `FeeSchedule::validate`.
pub fn fee_schedule(
    field: &str,
    raw: &v1::FeeSchedule,
    currency: Currency,
    v: &mut Violations,
) -> Option<FeeSchedule> {
    let before = v.fields().len();
    let mut tiers = Vec::with_capacity(raw.tiers.len());
    for (i, tier) in raw.tiers.iter().enumerate() {
        let from = money(
            &format!("{field}.tiers[{i}].volume_from"),
            tier.volume_from.as_ref(),
            true,
            v,
        );
        if let Some(from) = from {
            tiers.push(FeeTier {
                volume_from: from,
                rate: BasisPoints::new(tier.rate_bps),
            });
        }
    }
    let flat = money(
        &format!("{field}.flat_annual_fee"),
        raw.flat_annual_fee.as_ref(),
        false,
        v,
    )
    .unwrap_or(Money::zero(currency));
    let minimum = money(
        &format!("{field}.minimum_annual_fee"),
        raw.minimum_annual_fee.as_ref(),
        false,
        v,
    );
    if v.fields().len() > before {
        return None;
    }
    Some(FeeSchedule {
        tiers,
        whole_volume: raw.whole_volume,
        flat_annual_fee: flat,
        minimum_annual_fee: minimum,
    })
}

/// A fee schedule for the wire.
pub fn fee_schedule_to_proto(schedule: &FeeSchedule) -> v1::FeeSchedule {
    v1::FeeSchedule {
        tiers: schedule
            .tiers
            .iter()
            .map(|t| v1::FeeTier {
                volume_from: Some(money_to_proto(t.volume_from)),
                rate_bps: t.rate.value(),
            })
            .collect(),
        whole_volume: schedule.whole_volume,
        flat_annual_fee: Some(money_to_proto(schedule.flat_annual_fee)),
        minimum_annual_fee: schedule.minimum_annual_fee.map(money_to_proto),
    }
}

/// A version-series id from the wire (a UUID), in canonical form.
pub fn series_id(field: &str, raw: &str, v: &mut Violations) -> Option<String> {
    if raw.is_empty() {
        v.add(field, "is required");
        return None;
    }
    match uuid::Uuid::try_parse(raw) {
        Ok(id) if !id.is_nil() => Some(id.to_string()),
        _ => {
            v.add(field, "is not an id this service issued");
            None
        }
    }
}

/// The fields of an update mask, each checked against `updatable`; an empty mask is a
/// violation, as is a path not in `updatable`.
pub fn update_mask(
    mask: Option<&prost_types::FieldMask>,
    updatable: &[&str],
    v: &mut Violations,
) -> Vec<String> {
    let paths: Vec<String> = mask.map(|m| m.paths.clone()).unwrap_or_default();
    if paths.is_empty() {
        v.add("update_mask", "name at least one field to change");
    }
    for (i, p) in paths.iter().enumerate() {
        if !updatable.contains(&p.as_str()) {
            v.add(
                format!("update_mask.paths[{i}]"),
                format!(
                    "`{p}` cannot be updated; use one of {}",
                    updatable.join(", ")
                ),
            );
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_canonical() {
        assert_eq!(
            parse_decimal("0.0030").map(|d| d.to_string()),
            Some("0.0030".into())
        );
        assert_eq!(
            parse_decimal("-3").map(|d| d.to_string()),
            Some("-3".into())
        );
        for bad in ["", "1e3", ".5", "5.", "+1", "0x1", "1,000", &"9".repeat(29)] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn ranges_name_their_fields() {
        let mut v = Violations::new();
        let wire = v1::EffectiveRange {
            start_date: Some(v1::Date {
                year: 2025,
                month: 7,
                day: 1,
            }),
            end_date: Some(v1::Date {
                year: 2025,
                month: 7,
                day: 1,
            }),
        };
        assert_eq!(effective_range("band.effective", Some(&wire), &mut v), None);
        assert_eq!(effective_range("band.effective", None, &mut v), None);
        let bad_start = v1::EffectiveRange {
            start_date: Some(v1::Date {
                year: 2025,
                month: 2,
                day: 30,
            }),
            end_date: None,
        };
        assert_eq!(effective_range("e", Some(&bad_start), &mut v), None);
        let fields: Vec<&str> = v.fields().iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            ["band.effective.end_date", "band.effective", "e.start_date"]
        );
    }

    #[test]
    fn enums_round_trip_and_unknown_values_are_named() {
        for kind in ProductKind::ALL {
            assert_eq!(kind_from_proto(kind_to_proto(*kind) as i32), Some(*kind));
        }
        for category in ProductCategory::ALL {
            assert_eq!(
                category_from_proto(category_to_proto(*category) as i32),
                Some(*category)
            );
        }
        for level in AuthorityLevel::ALL {
            assert_eq!(
                level_from_proto(level_to_proto(*level) as i32),
                Some(*level)
            );
        }
        let mut v = Violations::new();
        assert_eq!(
            filter_enum("kind", 0, kind_from_proto, "kind", &mut v),
            None
        );
        assert!(v.is_empty());
        assert_eq!(
            filter_enum("kind", 99, kind_from_proto, "kind", &mut v),
            None
        );
        assert_eq!(
            required_enum("line", 0, line_from_proto, "line", &mut v),
            None
        );
        let fields: Vec<&str> = v.fields().iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["kind", "line"]);
    }
}
