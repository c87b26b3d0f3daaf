//! Exact money and rates. [`Money`] is an integer count of minor units (fen for CNY) in a
//! [`Currency`]; arithmetic is checked (currency mismatch and overflow are errors, never panics
//! or silent wrap-around). Rates are [`Decimal`] values or whole [`BasisPoints`]. Computations run
//! in `Decimal` and are rounded **once**, to the currency's minor unit, with
//! [`ROUNDING`] = half away from zero (四舍五入, the usual rule in Chinese banking): 0.005 → 0.01
//! and −0.005 → −0.01. Interest-style accruals use actual/365 ([`DAYS_IN_YEAR`]).

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The one rounding rule of the crate: half away from zero (四舍五入), applied once at the end
/// of a computation, to the currency's minor unit.
pub const ROUNDING: RoundingStrategy = RoundingStrategy::MidpointAwayFromZero;

/// The day-count denominator of accruals (actual/365 fixed).
pub const DAYS_IN_YEAR: u32 = 365;

/// Errors of money and rate arithmetic and parsing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MoneyError {
    /// Not a 3-letter upper-case ISO 4217 code.
    #[error("invalid currency code {0:?}: expected 3 upper-case letters (ISO 4217)")]
    InvalidCurrency(String),
    /// Two amounts in different currencies were combined.
    #[error("currency mismatch: {left} and {right}")]
    CurrencyMismatch {
        /// The currency of the left operand.
        left: Currency,
        /// The currency of the right operand.
        right: Currency,
    },
    /// The result does not fit (i64 minor units, i32 basis points, or `Decimal`).
    #[error("arithmetic overflow")]
    Overflow,
    /// The text is not an amount or a rate.
    #[error("invalid amount {0:?}")]
    InvalidAmount(String),
    /// A rate that is not a whole number of basis points.
    #[error("rate {0} is not a whole number of basis points")]
    FractionalBasisPoints(Decimal),
}

fn cut(s: &str) -> String {
    s.chars().take(64).collect()
}

/// An ISO 4217 currency code, e.g. `CNY`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// Renminbi, the reporting currency.
    pub const CNY: Currency = Currency(*b"CNY");
    /// US dollar.
    pub const USD: Currency = Currency(*b"USD");
    /// Euro.
    pub const EUR: Currency = Currency(*b"EUR");
    /// Hong Kong dollar.
    pub const HKD: Currency = Currency(*b"HKD");

    /// Parses a 3-letter upper-case code. Whether the code is currently assigned is not checked.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        match code.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(MoneyError::InvalidCurrency(cut(code))),
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Always ASCII by construction.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Number of decimal places of the minor unit: 0 for e.g. JPY and KRW, 3 for e.g. KWD,
    /// and 2 otherwise.
    pub fn minor_exponent(&self) -> u32 {
        match &self.0 {
            b"JPY" | b"KRW" | b"VND" | b"CLP" | b"ISK" | b"PYG" | b"UGX" | b"XAF" | b"XOF" => 0,
            b"BHD" | b"IQD" | b"JOD" | b"KWD" | b"LYD" | b"OMR" | b"TND" => 3,
            _ => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> Self {
        c.as_str().to_owned()
    }
}

/// An exact amount: a whole number of minor units of one currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    currency: Currency,
    minor_units: i64,
}

impl Money {
    /// An amount of `minor_units` (fen for CNY).
    pub const fn from_minor(currency: Currency, minor_units: i64) -> Self {
        Self {
            currency,
            minor_units,
        }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Self::from_minor(currency, 0)
    }

    /// The currency.
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount in minor units.
    pub const fn minor_units(&self) -> i64 {
        self.minor_units
    }

    /// Whether the amount is zero.
    pub const fn is_zero(&self) -> bool {
        self.minor_units == 0
    }

    /// Whether the amount is below zero.
    pub const fn is_negative(&self) -> bool {
        self.minor_units < 0
    }

    /// Converts major units to money, rounding once to the minor unit with [`ROUNDING`].
    pub fn from_decimal(currency: Currency, major: Decimal) -> Result<Self, MoneyError> {
        let exp = currency.minor_exponent();
        let minor = major
            .round_dp_with_strategy(exp, ROUNDING)
            .checked_mul(Decimal::from(10_i64.pow(exp)))
            .and_then(|d| d.to_i64())
            .ok_or(MoneyError::Overflow)?;
        Ok(Self::from_minor(currency, minor))
    }

    /// The amount in major units, exactly (e.g. 123456 fen → 1234.56).
    pub fn to_decimal(&self) -> Decimal {
        Decimal::from_i128_with_scale(i128::from(self.minor_units), self.currency.minor_exponent())
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    /// `self + other`; fails on a currency mismatch or overflow.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let minor = self
            .minor_units
            .checked_add(other.minor_units)
            .ok_or(MoneyError::Overflow)?;
        Ok(Self::from_minor(self.currency, minor))
    }

    /// `self - other`; fails on a currency mismatch or overflow.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let minor = self
            .minor_units
            .checked_sub(other.minor_units)
            .ok_or(MoneyError::Overflow)?;
        Ok(Self::from_minor(self.currency, minor))
    }

    /// `-self`; fails only for `i64::MIN` minor units.
    pub fn checked_neg(self) -> Result<Money, MoneyError> {
        let minor = self.minor_units.checked_neg().ok_or(MoneyError::Overflow)?;
        Ok(Self::from_minor(self.currency, minor))
    }

    /// The sum of `amounts`, all in `currency` (zero when empty).
    pub fn checked_sum(
        currency: Currency,
        amounts: impl IntoIterator<Item = Money>,
    ) -> Result<Money, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }

    /// `self × factor`, computed exactly in `Decimal` and rounded once with [`ROUNDING`].
    pub fn checked_mul_decimal(self, factor: Decimal) -> Result<Money, MoneyError> {
        let product = self
            .to_decimal()
            .checked_mul(factor)
            .ok_or(MoneyError::Overflow)?;
        Self::from_decimal(self.currency, product)
    }

    /// Parses `"CNY 1234.56"` (currency, one space, amount in major units). The amount may not
    /// have more decimal places than the currency's minor unit: parsing never rounds.
    pub fn parse(s: &str) -> Result<Self, MoneyError> {
        let (code, amount) = s
            .split_once(' ')
            .ok_or_else(|| MoneyError::InvalidAmount(cut(s)))?;
        let currency = Currency::parse(code)?;
        let unsigned = amount.strip_prefix('-').unwrap_or(amount);
        if !unsigned.starts_with(|c: char| c.is_ascii_digit())
            || !unsigned.chars().all(|c| c.is_ascii_digit() || c == '.')
        {
            return Err(MoneyError::InvalidAmount(cut(s)));
        }
        let major =
            Decimal::from_str_exact(amount).map_err(|_| MoneyError::InvalidAmount(cut(s)))?;
        if major.normalize().scale() > currency.minor_exponent() {
            return Err(MoneyError::InvalidAmount(cut(s)));
        }
        Self::from_decimal(currency, major)
    }
}

impl fmt::Display for Money {
    /// `CNY 1234.56`, `CNY -0.05`, `JPY 100`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency, self.to_decimal())
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A whole number of basis points (1 bp = 0.01% = 0.0001). Used for rates, spreads,
/// concessions and benefit shares (10,000 bp = 100%).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct BasisPoints(i32);

impl BasisPoints {
    /// 0 bp.
    pub const ZERO: BasisPoints = BasisPoints(0);
    /// 10,000 bp = 100%.
    pub const ONE_HUNDRED_PERCENT: BasisPoints = BasisPoints(10_000);

    /// `bp` basis points.
    pub const fn new(bp: i32) -> Self {
        Self(bp)
    }

    /// The number of basis points.
    pub const fn value(self) -> i32 {
        self.0
    }

    /// The rate as a decimal fraction: 125 bp → 0.0125 (exact).
    pub fn to_rate(self) -> Decimal {
        Decimal::from_i128_with_scale(i128::from(self.0), 4)
    }

    /// The basis points of a decimal rate: 0.0125 → 125 bp. Fails when the rate is not a whole
    /// number of basis points or does not fit.
    pub fn from_rate(rate: Decimal) -> Result<Self, MoneyError> {
        let bp = rate
            .checked_mul(Decimal::from(10_000))
            .ok_or(MoneyError::Overflow)?;
        if !bp.fract().is_zero() {
            return Err(MoneyError::FractionalBasisPoints(rate));
        }
        bp.to_i32().map(Self).ok_or(MoneyError::Overflow)
    }

    /// `self + other`, failing on overflow.
    pub fn checked_add(self, other: BasisPoints) -> Result<Self, MoneyError> {
        self.0
            .checked_add(other.0)
            .map(Self)
            .ok_or(MoneyError::Overflow)
    }

    /// `self - other`, failing on overflow.
    pub fn checked_sub(self, other: BasisPoints) -> Result<Self, MoneyError> {
        self.0
            .checked_sub(other.0)
            .map(Self)
            .ok_or(MoneyError::Overflow)
    }

    /// `-self`, failing on overflow.
    pub fn checked_neg(self) -> Result<Self, MoneyError> {
        self.0.checked_neg().map(Self).ok_or(MoneyError::Overflow)
    }
}

impl fmt::Display for BasisPoints {
    /// `125bp`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}bp", self.0)
    }
}

impl FromStr for BasisPoints {
    type Err = MoneyError;

    /// Accepts `125`, `125bp` and `1.25%` (which must be a whole number of basis points).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || MoneyError::InvalidAmount(cut(s));
        if let Some(percent) = s.strip_suffix('%') {
            let pct = Decimal::from_str_exact(percent).map_err(|_| invalid())?;
            let rate = pct.checked_div(Decimal::ONE_HUNDRED).ok_or_else(invalid)?;
            return Self::from_rate(rate);
        }
        let digits = s.strip_suffix("bp").unwrap_or(s);
        digits.parse::<i32>().map(Self).map_err(|_| invalid())
    }
}

/// `amount × annual_rate × days / 365` in major units, unrounded: the products are exact and
/// the single division keeps `Decimal`'s 28 significant digits. Round the result once, e.g. with
/// [`Money::from_decimal`].
pub fn accrual(amount: Decimal, annual_rate: Decimal, days: u32) -> Result<Decimal, MoneyError> {
    amount
        .checked_mul(annual_rate)
        .and_then(|x| x.checked_mul(Decimal::from(days)))
        .and_then(|x| x.checked_div(Decimal::from(DAYS_IN_YEAR)))
        .ok_or(MoneyError::Overflow)
}

/// `principal × annual_rate × days / 365` (actual/365), rounded once to the minor unit with
/// [`ROUNDING`].
pub fn accrue(principal: Money, annual_rate: Decimal, days: u32) -> Result<Money, MoneyError> {
    let exact = accrual(principal.to_decimal(), annual_rate, days)?;
    Money::from_decimal(principal.currency(), exact)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn cny(fen: i64) -> Money {
        Money::from_minor(Currency::CNY, fen)
    }

    #[test]
    fn currency_codes_are_validated() {
        assert_eq!(Currency::parse("CNY"), Ok(Currency::CNY));
        assert_eq!("USD".parse::<Currency>(), Ok(Currency::USD));
        for bad in ["cny", "CN", "CNYY", "", "C1Y", "人民币"] {
            assert!(Currency::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Currency::CNY.to_string(), "CNY");
        assert_eq!(Currency::CNY.minor_exponent(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().minor_exponent(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().minor_exponent(), 3);
    }

    #[test]
    fn checked_arithmetic() {
        assert_eq!(cny(150).checked_add(cny(-50)), Ok(cny(100)));
        assert_eq!(cny(150).checked_sub(cny(200)), Ok(cny(-50)));
        assert_eq!(cny(150).checked_neg(), Ok(cny(-150)));
        assert_eq!(cny(i64::MAX).checked_add(cny(1)), Err(MoneyError::Overflow));
        assert_eq!(cny(i64::MIN).checked_sub(cny(1)), Err(MoneyError::Overflow));
        assert_eq!(cny(i64::MIN).checked_neg(), Err(MoneyError::Overflow));
        let usd = Money::from_minor(Currency::USD, 1);
        assert_eq!(
            cny(1).checked_add(usd),
            Err(MoneyError::CurrencyMismatch {
                left: Currency::CNY,
                right: Currency::USD
            })
        );
        assert!(cny(1).checked_sub(usd).is_err());
        assert_eq!(
            Money::checked_sum(Currency::CNY, [cny(1), cny(2), cny(3)]),
            Ok(cny(6))
        );
        assert_eq!(Money::checked_sum(Currency::CNY, []), Ok(cny(0)));
        assert!(Money::checked_sum(Currency::CNY, [usd]).is_err());
    }

    #[test]
    fn decimal_conversion_rounds_half_away_from_zero_to_fen() {
        assert_eq!(cny(123_456).to_decimal(), dec!(1234.56));
        let to = |d| Money::from_decimal(Currency::CNY, d).unwrap().minor_units();
        assert_eq!(to(dec!(1234.56)), 123_456);
        assert_eq!(to(dec!(0.005)), 1);
        assert_eq!(to(dec!(0.015)), 2);
        assert_eq!(
            to(dec!(0.025)),
            3,
            "half-up, not banker's (which gives 0.02)"
        );
        assert_eq!(to(dec!(0.0049999)), 0);
        assert_eq!(to(dec!(-0.005)), -1);
        assert_eq!(to(dec!(-0.0049)), 0);
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(
            Money::from_decimal(jpy, dec!(100.5)).unwrap().minor_units(),
            101
        );
        assert_eq!(
            Money::from_decimal(Currency::CNY, Decimal::MAX),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn display_and_parse() {
        assert_eq!(cny(123_456).to_string(), "CNY 1234.56");
        assert_eq!(cny(-5).to_string(), "CNY -0.05");
        assert_eq!(cny(0).to_string(), "CNY 0.00");
        assert_eq!("CNY 1234.56".parse::<Money>(), Ok(cny(123_456)));
        assert_eq!("CNY 12".parse::<Money>(), Ok(cny(1200)));
        assert_eq!("CNY -0.5".parse::<Money>(), Ok(cny(-50)));
        for bad in [
            "CNY 1.234",
            "CNY",
            "1.00",
            "CNY 1,234.00",
            "cny 1",
            "CNY  1",
            "CNY 1e3",
            "CNY 1_000",
            "CNY +1",
            "CNY .5",
        ] {
            assert!(bad.parse::<Money>().is_err(), "{bad}");
        }
        for m in [cny(0), cny(1), cny(-99_999), cny(i64::MAX), cny(i64::MIN)] {
            assert_eq!(m.to_string().parse::<Money>(), Ok(m));
        }
    }

    #[test]
    fn serde_shape() {
        let json = serde_json::to_string(&cny(1050)).unwrap();
        assert_eq!(json, r#"{"currency":"CNY","minor_units":1050}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), cny(1050));
        assert!(serde_json::from_str::<Money>(r#"{"currency":"cny","minor_units":1}"#).is_err());
    }

    #[test]
    fn multiply_by_a_rate_rounds_once() {
        // 15% of a RMB 120,000 fee is RMB 18,000 of operational capital.
        assert_eq!(
            cny(12_000_000).checked_mul_decimal(dec!(0.15)),
            Ok(cny(1_800_000))
        );
        // 0.333 × 0.15 = 0.04995 → 0.05.
        assert_eq!(
            cny(33)
                .checked_mul_decimal(dec!(0.15))
                .map(|m| m.to_decimal()),
            Ok(dec!(0.05))
        );
        assert_eq!(
            cny(i64::MAX).checked_mul_decimal(dec!(2)),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn basis_points() {
        let bp = BasisPoints::new(125);
        assert_eq!(bp.to_rate(), dec!(0.0125));
        assert_eq!(BasisPoints::from_rate(dec!(0.0125)), Ok(bp));
        assert_eq!(
            BasisPoints::from_rate(dec!(-0.0025)),
            Ok(BasisPoints::new(-25))
        );
        assert_eq!(
            BasisPoints::from_rate(dec!(0.00125)),
            Err(MoneyError::FractionalBasisPoints(dec!(0.00125)))
        );
        assert_eq!(
            BasisPoints::from_rate(dec!(1000000)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(BasisPoints::ONE_HUNDRED_PERCENT.to_rate(), Decimal::ONE);
        assert_eq!(
            bp.checked_add(BasisPoints::new(25)),
            Ok(BasisPoints::new(150))
        );
        assert_eq!(
            bp.checked_sub(BasisPoints::new(200)),
            Ok(BasisPoints::new(-75))
        );
        assert_eq!(bp.checked_neg(), Ok(BasisPoints::new(-125)));
        assert_eq!(
            BasisPoints::new(i32::MAX).checked_add(bp),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            BasisPoints::new(i32::MIN).checked_neg(),
            Err(MoneyError::Overflow)
        );
        assert_eq!(bp.to_string(), "125bp");
        assert_eq!("125".parse(), Ok(bp));
        assert_eq!("125bp".parse(), Ok(bp));
        assert_eq!("1.25%".parse(), Ok(bp));
        assert_eq!("-0.5%".parse(), Ok(BasisPoints::new(-50)));
        for bad in ["", "bp", "1.5bp", "0.001%", "%", "12 bp", "99999999999"] {
            assert!(bad.parse::<BasisPoints>().is_err(), "{bad}");
        }
        assert_eq!(serde_json::to_string(&bp).unwrap(), "125");
    }

    #[test]
    fn accrual_is_actual_over_365_rounded_once() {
        // RMB 8,000,000 × (1.60% − 0.25%) × 365/365 = RMB 108,000.
        let margin = BasisPoints::new(160)
            .checked_sub(BasisPoints::new(25))
            .unwrap();
        assert_eq!(
            accrue(cny(800_000_000), margin.to_rate(), 365),
            Ok(cny(10_800_000))
        );
        // RMB 1,000,000 × 3.45% × 31/365 = 2930.1369863… → 2930.14.
        let interest = accrue(cny(100_000_000), dec!(0.0345), 31).unwrap();
        assert_eq!(interest.to_decimal(), dec!(2930.14));
        // Rounding happens once: CNY 50 at 3.65% earns 0.005 a day; three days are 0.015 → 0.02
        // (rounding each day would give 0.03).
        assert_eq!(accrual(dec!(50), dec!(0.0365), 3), Ok(dec!(0.015)));
        assert_eq!(accrue(cny(5000), dec!(0.0365), 3), Ok(cny(2)));
        assert_eq!(accrue(cny(100), dec!(0.05), 0), Ok(cny(0)));
        assert_eq!(
            accrual(Decimal::MAX, dec!(2), 365),
            Err(MoneyError::Overflow)
        );
    }
}
