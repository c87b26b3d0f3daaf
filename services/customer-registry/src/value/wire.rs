//! Wire ↔ domain conversions of the value RPCs: exact decimals, periods and period keys, money,
//! rule-version references, and the value enums. Each parse names the field that is wrong.

use bankmkt_domain::calendar::Period;
use bankmkt_domain::contribution::ProductKind;
use bankmkt_domain::dormancy::DormancyGrade;
use bankmkt_domain::ge::{GeBand, GeClass};
use bankmkt_domain::money::Money;
use bankmkt_domain::scoring::Decimal;
use bankmkt_domain::value::ValueDimension;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::NaiveDate;

use crate::convert;
use crate::error::{RegistryError, Result};

pub(crate) fn internal(e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Internal(e.to_string())
}

/// A canonical decimal string: optional minus, digits, optional point and digits; at most 28
/// significant digits. `None` (with a violation) when absent or malformed.
pub(crate) fn decimal(
    field: &str,
    raw: Option<&v1::Decimal>,
    v: &mut Violations,
) -> Option<Decimal> {
    let Some(raw) = raw else {
        v.add(field, "is required");
        return None;
    };
    parse_decimal(&raw.value).or_else(|| {
        v.add(
            field,
            "must be a canonical decimal string such as \"0.25\" (no exponent, at most 28 digits)",
        );
        None
    })
}

/// Parses a canonical decimal string.
pub(crate) fn parse_decimal(s: &str) -> Option<Decimal> {
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

/// A decimal for the wire, in canonical form (no trailing zeros).
pub(crate) fn dec_out(d: Decimal) -> Option<v1::Decimal> {
    Some(v1::Decimal {
        value: d.normalize().to_string(),
    })
}

/// The key of a month: year × 100 + month.
pub(crate) fn period_key(p: Period) -> i32 {
    p.year() * 100 + p.month() as i32
}

/// The month of a stored key.
pub(crate) fn period_of_key(key: i32) -> Result<Period> {
    Period::new(key / 100, (key % 100) as u32)
        .map_err(|_| internal(format!("stored period key {key} is not a month")))
}

/// A month for the wire.
pub(crate) fn period_out(p: Period) -> v1::Period {
    v1::Period {
        year: p.year(),
        month: p.month() as i32,
    }
}

/// A month from the wire, not after `today`'s month. `None` (with a violation) when invalid.
pub(crate) fn period_in(
    field: &str,
    raw: &v1::Period,
    today: NaiveDate,
    v: &mut Violations,
) -> Option<Period> {
    if !(1900..=9999).contains(&raw.year) || !(1..=12).contains(&raw.month) {
        v.add(field, "must be a month: year 1900 to 9999, month 1 to 12");
        return None;
    }
    let p = Period::new(raw.year, raw.month as u32).ok()?;
    if p > Period::containing(today) {
        v.add(field, format!("{p} is in the future"));
        return None;
    }
    Some(p)
}

/// A date for the wire.
pub(crate) fn date_out(d: NaiveDate) -> v1::Date {
    convert::date_to_proto(d)
}

/// CNY money for the wire.
pub(crate) fn money_out(m: Money) -> Option<v1::Money> {
    Some(v1::Money {
        currency: m.currency().as_str().to_owned(),
        minor_units: m.minor_units(),
    })
}

/// CNY fen for the wire.
pub(crate) fn fen_out(fen: i64) -> Option<v1::Money> {
    Some(v1::Money {
        currency: "CNY".to_owned(),
        minor_units: fen,
    })
}

/// A rule-version reference.
pub(crate) fn rule_ref(kind: &str, id: &str, version: i64) -> v1::RuleVersionRef {
    v1::RuleVersionRef {
        rule_kind: kind.to_owned(),
        rule_id: id.to_owned(),
        version,
    }
}

/// Rule references as stored: a JSON array of `[kind, id, version]`.
pub(crate) fn refs_to_json(refs: &[v1::RuleVersionRef]) -> String {
    let rows: Vec<(&str, &str, i64)> = refs
        .iter()
        .map(|r| (r.rule_kind.as_str(), r.rule_id.as_str(), r.version))
        .collect();
    serde_json::to_string(&rows).unwrap_or_else(|_| "[]".to_owned())
}

/// Rule references from their stored form.
pub(crate) fn refs_from_json(raw: &str) -> Result<Vec<v1::RuleVersionRef>> {
    let rows: Vec<(String, String, i64)> = serde_json::from_str(raw).map_err(internal)?;
    Ok(rows
        .into_iter()
        .map(|(k, i, v)| rule_ref(&k, &i, v))
        .collect())
}

/// The stored key of a set of rule versions: SHA-256 of their canonical text.
pub(crate) fn rule_key(refs: &[v1::RuleVersionRef]) -> String {
    let mut parts: Vec<String> = refs
        .iter()
        .map(|r| format!("{}/{}@{}", r.rule_kind, r.rule_id, r.version))
        .collect();
    parts.sort();
    bankmkt_platform::idempotency::request_hash(parts.join(";").as_bytes())
}

/// A timestamp for the wire.
pub(crate) fn ts(at: chrono::DateTime<chrono::Utc>) -> Option<prost_types::Timestamp> {
    Some(convert::timestamp(at))
}

/// The domain dimension of a wire dimension; unspecified is `None`.
pub(crate) fn dimension_from_proto(raw: i32) -> Option<ValueDimension> {
    match v1::ValueDimension::try_from(raw).ok()? {
        v1::ValueDimension::Unspecified => None,
        v1::ValueDimension::Dependence => Some(ValueDimension::Dependence),
        v1::ValueDimension::Contribution => Some(ValueDimension::Contribution),
        v1::ValueDimension::Growth => Some(ValueDimension::Growth),
        v1::ValueDimension::Credit => Some(ValueDimension::Credit),
        v1::ValueDimension::Influence => Some(ValueDimension::Influence),
    }
}

/// The wire dimension of a domain dimension.
pub(crate) fn dimension_to_proto(d: ValueDimension) -> v1::ValueDimension {
    match d {
        ValueDimension::Dependence => v1::ValueDimension::Dependence,
        ValueDimension::Contribution => v1::ValueDimension::Contribution,
        ValueDimension::Growth => v1::ValueDimension::Growth,
        ValueDimension::Credit => v1::ValueDimension::Credit,
        ValueDimension::Influence => v1::ValueDimension::Influence,
    }
}

/// The wire product kind.
pub(crate) fn product_kind_to_proto(k: ProductKind) -> v1::ProductKind {
    match k {
        ProductKind::Asset => v1::ProductKind::Asset,
        ProductKind::Liability => v1::ProductKind::Liability,
        ProductKind::Fee => v1::ProductKind::Fee,
    }
}

/// The wire GE band.
pub(crate) fn band_to_proto(b: GeBand) -> v1::GeBand {
    match b {
        GeBand::Low => v1::GeBand::Low,
        GeBand::Medium => v1::GeBand::Medium,
        GeBand::High => v1::GeBand::High,
    }
}

/// The wire GE class.
pub(crate) fn class_to_proto(c: GeClass) -> v1::GeClass {
    match c {
        GeClass::A => v1::GeClass::A,
        GeClass::B => v1::GeClass::B,
        GeClass::C => v1::GeClass::C,
    }
}

/// The wire dormancy grade.
pub(crate) fn grade_to_proto(g: DormancyGrade) -> v1::DormancyGrade {
    match g {
        DormancyGrade::Active => v1::DormancyGrade::Active,
        DormancyGrade::Light => v1::DormancyGrade::Light,
        DormancyGrade::Medium => v1::DormancyGrade::Medium,
        DormancyGrade::Deep => v1::DormancyGrade::Deep,
        DormancyGrade::InsufficientHistory => v1::DormancyGrade::InsufficientHistory,
    }
}

/// The stored order of a dormancy grade: insufficient history −1, active 0, light 1, medium 2,
/// deep 3.
pub(crate) fn grade_rank(g: DormancyGrade) -> i32 {
    match g {
        DormancyGrade::InsufficientHistory => -1,
        DormancyGrade::Active => 0,
        DormancyGrade::Light => 1,
        DormancyGrade::Medium => 2,
        DormancyGrade::Deep => 3,
    }
}

/// Validates an effective range: a start date is required and an end date must follow it.
pub(crate) fn effective_in(
    prefix: &str,
    raw: Option<&v1::EffectiveRange>,
    v: &mut Violations,
) -> Option<(NaiveDate, Option<NaiveDate>)> {
    let Some(range) = raw else {
        v.add(prefix, "is required");
        return None;
    };
    let start_field = format!("{prefix}.start_date");
    let start = match &range.start_date {
        None => {
            v.add(&start_field, "is required");
            None
        }
        Some(d) => v.check(&start_field, convert::date_from_proto(d)),
    };
    let end_field = format!("{prefix}.end_date");
    let end = range
        .end_date
        .as_ref()
        .and_then(|d| v.check(&end_field, convert::date_from_proto(d)));
    let start = start?;
    if end.is_some_and(|e| e <= start) {
        v.add(end_field, "must be after start_date");
        return None;
    }
    if range.end_date.is_some() && end.is_none() {
        return None;
    }
    Some((start, end))
}

/// The wire effective range.
pub(crate) fn effective_out(
    start: NaiveDate,
    end: Option<NaiveDate>,
) -> Option<v1::EffectiveRange> {
    Some(v1::EffectiveRange {
        start_date: Some(date_out(start)),
        end_date: end.map(date_out),
    })
}

/// A required reason of 1 to 500 characters.
pub(crate) fn reason_in(raw: &str, v: &mut Violations) -> String {
    let r = raw.trim();
    if r.is_empty() || r.chars().count() > 500 {
        v.add("reason", "must be 1 to 500 characters");
    }
    r.to_owned()
}

/// A required customer id (a UUID).
pub(crate) fn customer_id_in(field: &str, raw: &str, v: &mut Violations) {
    if raw.is_empty() {
        v.add(field, "is required");
    } else if bankmkt_domain::ids::CustomerId::parse(raw).is_err() {
        v.add(field, "must be a customer id (a UUID)");
    }
}

/// The time every backend stores alike (Postgres keeps microseconds).
pub(crate) fn now_micros(clock: &bankmkt_platform::clock::Clock) -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    clock.now().trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_canonical() {
        for ok in ["0", "-3", "0.0125", "408.8", "1"] {
            assert!(parse_decimal(ok).is_some(), "{ok}");
        }
        for bad in [
            "", "-", ".5", "5.", "1e3", "+1", "1,000", " 1", "0x10", "1.2.3",
        ] {
            assert!(parse_decimal(bad).is_none(), "{bad}");
        }
        assert!(parse_decimal(&"9".repeat(29)).is_none());
        assert_eq!(
            dec_out(Decimal::new(1000, 4)).map(|d| d.value),
            Some("0.1".into())
        );
    }
}
