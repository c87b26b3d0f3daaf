//! The product catalogue of DOMAIN.md §4: product kinds (re-exported from
//! [`contribution`](crate::contribution), one type for the whole crate) and categories and which
//! fit together, the [`Product`], fee schedules — tiered **marginally** like tax brackets unless
//! marked whole-volume, plus a flat annual fee, never below a minimum — the [`ListPrice`] (a rate
//! for balance products, a schedule for fee products), the [`Price`] a quote shows, and the
//! [`PriceTerms`] of a price version (list price, FTP, operating-cost and economic-capital ratios,
//! PD and LGD) with their validation. Field paths in violations are the proto's
//! (`bankmkt.v1.PriceVersion`, `FeeSchedule`, `Product`).

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{PricingError, PricingViolation, prefix_all, violations_result};
use crate::exact;
use crate::money::{BasisPoints, Currency, Money};
use crate::org::BusinessLine;
use crate::tiers::grouped;

pub use crate::contribution::ProductKind;

/// The largest rate a price version, rule or proposal may carry, either sign: 100% a year.
pub const MAX_RATE: BasisPoints = BasisPoints::ONE_HUNDRED_PERCENT;

code_enum! {
    /// A product category, shared by the catalogue and the holdings snapshots; it decides which
    /// bundle prerequisites a holding satisfies. See [`ProductCategory::fits`] for the kinds each
    /// allows.
    pub enum ProductCategory {
        /// Demand or time deposit (a liability).
        Deposit => "deposit",
        /// Wealth-management product, fund or insurance sold by the bank.
        Wealth => "wealth",
        /// Drawn loan (an asset).
        Loan => "loan",
        /// Credit facility with a limit and an undrawn amount (an asset).
        CreditFacility => "credit_facility",
        /// Payment and cash-management settlement services (fee business).
        Settlement => "settlement",
        /// Payroll agency (代发工资).
        Payroll => "payroll",
        /// Debit or credit card issuance.
        Card => "card",
        /// Foreign-exchange settlement.
        Fx => "fx",
        /// Trade finance: letters of credit, guarantees, factoring.
        TradeFinance => "trade_finance",
        /// Merchant acquiring (POS).
        Pos => "pos",
        /// Anything else.
        Other => "other",
    }
}

impl ProductCategory {
    /// Whether a product of this category may be of `kind`: deposit → liability; wealth →
    /// liability or fee; loan and credit facility → asset; settlement, payroll, FX and POS → fee;
    /// card → fee or asset (credit cards); trade finance → asset or fee; other → any kind.
    pub fn fits(self, kind: ProductKind) -> bool {
        use ProductCategory::*;
        use ProductKind::*;
        match self {
            Deposit => kind == Liability,
            Wealth => matches!(kind, Liability | Fee),
            Loan | CreditFacility => kind == Asset,
            Settlement | Payroll | Fx | Pos => kind == Fee,
            Card => matches!(kind, Fee | Asset),
            TradeFinance => matches!(kind, Asset | Fee),
            Other => true,
        }
    }
}

/// A catalogue product (its prices live in effective-dated price versions).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// Stable product code, e.g. `LOAN-WC-1Y`: 1 to 32 printable ASCII characters, no spaces.
    pub product_id: String,
    /// Display name, 1 to 200 characters.
    pub name: String,
    /// The business line that owns it.
    pub line: BusinessLine,
    /// Asset, liability or fee; fixes the margin formula.
    pub kind: ProductKind,
    /// The category; must [fit](ProductCategory::fits) the kind.
    pub category: ProductCategory,
    /// The product's currency; every quote item of it uses it.
    pub currency: Currency,
    /// Whether it can be quoted.
    pub active: bool,
}

impl Product {
    /// Checks the id, the name and that the category fits the kind; every problem is returned.
    pub fn validate(&self) -> Result<(), Vec<PricingViolation>> {
        let mut v = Vec::new();
        if let Err(m) = check_product_id(&self.product_id) {
            v.push(PricingViolation::new("product_id", m));
        }
        let name_len = self.name.trim().chars().count();
        if name_len == 0 || self.name.chars().count() > 200 {
            v.push(PricingViolation::new("name", "must be 1 to 200 characters"));
        }
        if !self.category.fits(self.kind) {
            v.push(PricingViolation::new(
                "category",
                format!(
                    "a {} product cannot be of category {}",
                    self.kind, self.category
                ),
            ));
        }
        violations_result(v)
    }
}

/// Checks a product id: 1 to 32 printable ASCII characters without spaces.
pub fn check_product_id(id: &str) -> Result<(), &'static str> {
    if (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err("must be 1 to 32 printable ASCII characters without spaces")
    }
}

/// One tier of a fee schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeTier {
    /// The tier's lower bound of annual volume, inclusive; the first tier starts at zero.
    pub volume_from: Money,
    /// The fee rate on volume in this tier, in basis points of volume (0 to 10,000).
    pub rate: BasisPoints,
}

/// A fee schedule: tiered marginally (each tier's rate applies to the volume within it, like tax
/// brackets) unless `whole_volume` is set (the rate of the tier reached applies to all volume);
/// then `flat_annual_fee` is added, and the result is at least `minimum_annual_fee`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeSchedule {
    /// Tiers with strictly increasing `volume_from`, the first at zero. May be empty for a
    /// schedule that is only a flat fee.
    pub tiers: Vec<FeeTier>,
    /// Apply the reached tier's rate to the whole volume instead of marginally.
    pub whole_volume: bool,
    /// A fixed annual fee added to the volume-based fee (zero for none); its currency is the
    /// schedule's.
    pub flat_annual_fee: Money,
    /// The lowest annual fee charged; `None` for no minimum.
    pub minimum_annual_fee: Option<Money>,
}

impl FeeSchedule {
    /// A schedule that is only a flat annual fee.
    pub fn flat(fee: Money) -> Self {
        Self {
            tiers: Vec::new(),
            whole_volume: false,
            flat_annual_fee: fee,
            minimum_annual_fee: None,
        }
    }

    /// The schedule's currency: that of the flat fee (every amount must share it).
    pub fn currency(&self) -> Currency {
        self.flat_annual_fee.currency()
    }

    /// Checks the schedule: the first tier starts at 0, `volume_from` strictly increases, rates
    /// are 0 to 10,000 bp, the fees are not negative, and every amount is in one currency. Every
    /// problem is returned, each naming its field (`tiers[1].volume_from`, `flat_annual_fee`, …).
    pub fn validate(&self) -> Result<(), Vec<PricingViolation>> {
        let mut v = Vec::new();
        let currency = self.currency();
        let mut previous: Option<Money> = None;
        for (i, tier) in self.tiers.iter().enumerate() {
            let field = |name: &str| format!("tiers[{i}].{name}");
            if tier.volume_from.currency() != currency {
                v.push(PricingViolation::new(
                    field("volume_from"),
                    format!(
                        "is in {}, the schedule is in {currency}",
                        tier.volume_from.currency()
                    ),
                ));
            } else if i == 0 && !tier.volume_from.is_zero() {
                v.push(PricingViolation::new(
                    field("volume_from"),
                    "the first tier must start at 0",
                ));
            } else if let Some(prev) = previous
                && tier.volume_from.minor_units() <= prev.minor_units()
            {
                v.push(PricingViolation::new(
                    field("volume_from"),
                    format!(
                        "{} must be above the previous tier's {}",
                        grouped(tier.volume_from),
                        grouped(prev)
                    ),
                ));
            }
            previous = Some(tier.volume_from);
            if !(0..=10_000).contains(&tier.rate.value()) {
                v.push(PricingViolation::new(
                    field("rate_bps"),
                    format!("{} is outside 0 to 10000 bp", tier.rate.value()),
                ));
            }
        }
        if self.flat_annual_fee.is_negative() {
            v.push(PricingViolation::new(
                "flat_annual_fee",
                "must not be negative",
            ));
        }
        if let Some(min) = self.minimum_annual_fee {
            if min.currency() != currency {
                v.push(PricingViolation::new(
                    "minimum_annual_fee",
                    format!("is in {}, the schedule is in {currency}", min.currency()),
                ));
            } else if min.is_negative() {
                v.push(PricingViolation::new(
                    "minimum_annual_fee",
                    "must not be negative",
                ));
            }
        }
        violations_result(v)
    }

    /// The annual fee on an annual `volume`: the volume-based fee (marginal by tier, or the
    /// reached tier's rate on the whole volume), plus the flat fee, at least the minimum;
    /// computed exactly and rounded once to the minor unit. Fails on an invalid schedule (naming
    /// the schedule's fields) or a negative volume or one in another currency (naming
    /// `annual_volume`).
    pub fn annual_fee(&self, volume: Money) -> Result<Money, PricingError> {
        self.validate()?;
        let currency = self.currency();
        if volume.currency() != currency {
            return Err(PricingError::invalid(
                "annual_volume",
                format!("is in {}, the schedule is in {currency}", volume.currency()),
            ));
        }
        if volume.is_negative() {
            return Err(PricingError::invalid(
                "annual_volume",
                "must not be negative",
            ));
        }
        let vol = volume.to_decimal();
        let mut fee = Decimal::ZERO;
        if self.whole_volume {
            if let Some(tier) = self
                .tiers
                .iter()
                .rev()
                .find(|t| t.volume_from.minor_units() <= volume.minor_units())
            {
                fee = exact::mul(vol, tier.rate.to_rate())?;
            }
        } else {
            for (i, tier) in self.tiers.iter().enumerate() {
                let lower = tier.volume_from.to_decimal();
                if vol <= lower {
                    break;
                }
                let upper = self
                    .tiers
                    .get(i + 1)
                    .map_or(vol, |next| next.volume_from.to_decimal().min(vol));
                let portion = exact::sub(upper, lower)?;
                fee = exact::add(fee, exact::mul(portion, tier.rate.to_rate())?)?;
            }
        }
        fee = exact::add(fee, self.flat_annual_fee.to_decimal())?;
        if let Some(min) = self.minimum_annual_fee {
            fee = fee.max(min.to_decimal());
        }
        Ok(Money::from_decimal(currency, fee)?)
    }
}

/// The list price of a price version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ListPrice {
    /// Balance products: the list rate in basis points a year.
    RateBps(BasisPoints),
    /// Fee products: the fee schedule.
    Fees(FeeSchedule),
}

impl ListPrice {
    /// The price for a quote item: the list rate, or the schedule's annual fee on the item's
    /// annual volume (zero volume when none is given, e.g. a flat-fee product).
    pub fn price(&self, annual_volume: Option<Money>) -> Result<Price, PricingError> {
        match self {
            ListPrice::RateBps(rate) => Ok(Price::Rate(*rate)),
            ListPrice::Fees(schedule) => {
                let volume = annual_volume.unwrap_or(Money::zero(schedule.currency()));
                schedule
                    .annual_fee(volume)
                    .map(Price::AnnualFee)
                    .map_err(|e| e.prefixed_schedule())
            }
        }
    }
}

impl PricingError {
    /// Schedule errors name `fee_schedule.…`; the volume keeps its own name.
    fn prefixed_schedule(self) -> Self {
        match self {
            PricingError::Invalid(v) => PricingError::Invalid(
                v.into_iter()
                    .map(|v| {
                        if v.field == "annual_volume" {
                            v
                        } else {
                            v.prefixed("fee_schedule")
                        }
                    })
                    .collect(),
            ),
            other => other,
        }
    }
}

/// A price as a quote shows it: a rate for balance products, an annual fee for fee products.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Price {
    /// A rate in basis points a year.
    Rate(BasisPoints),
    /// An annual fee in the product's currency.
    AnnualFee(Money),
}

impl Price {
    /// The rate, for a rate price.
    pub fn rate(&self) -> Option<BasisPoints> {
        match self {
            Price::Rate(r) => Some(*r),
            Price::AnnualFee(_) => None,
        }
    }

    /// The annual fee, for a fee price.
    pub fn annual_fee(&self) -> Option<Money> {
        match self {
            Price::Rate(_) => None,
            Price::AnnualFee(f) => Some(*f),
        }
    }

    /// Whether this is the form `kind` prices in (a rate for balance products, a fee for fee
    /// products).
    pub fn fits(&self, kind: ProductKind) -> bool {
        matches!(
            (self, kind),
            (Price::Rate(_), ProductKind::Asset | ProductKind::Liability)
                | (Price::AnnualFee(_), ProductKind::Fee)
        )
    }
}

impl fmt::Display for Price {
    /// `3.45%` for 345 bp; `CNY 120,000.00` for a fee.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Price::Rate(r) => write!(f, "{}%", Decimal::new(i64::from(r.value()), 2)),
            Price::AnnualFee(m) => write!(f, "{} {}", m.currency(), grouped(*m)),
        }
    }
}

/// The prices and economics of one price version of a product.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceTerms {
    /// The list price: a rate for balance products, a schedule for fee products.
    pub list_price: ListPrice,
    /// The FTP rate in basis points a year (balance products; 0 for fee products).
    pub ftp_rate: BasisPoints,
    /// Operating cost as a ratio of B (or of F for fee products), 0 to 1, e.g. 0.0030.
    pub operating_cost_ratio: Decimal,
    /// Economic capital as a ratio of B for balance products, 0 to 1, e.g. 0.08; fee products
    /// use the configured operational-risk ratio of F instead (this value is then ignored).
    pub economic_capital_ratio: Decimal,
    /// Probability of default, 0 to 1 (assets; zero for other kinds).
    pub probability_of_default: Decimal,
    /// Loss given default, 0 to 1 (assets; zero for other kinds).
    pub loss_given_default: Decimal,
}

impl PriceTerms {
    /// Checks the terms for a product of `kind`: a balance product has a list rate and a fee
    /// product a schedule (itself valid); rates within ±10,000 bp, FTP 0 for fee products; the
    /// ratios, PD and LGD in 0 to 1; PD and LGD zero unless the product is an asset (they are
    /// only meaningful for assets). Every problem is returned, named by its proto field
    /// (`list_rate_bps`, `fee_schedule.tiers[0].rate_bps`, `operating_cost_ratio`, …).
    pub fn validate(&self, kind: ProductKind) -> Result<(), Vec<PricingViolation>> {
        let mut v = Vec::new();
        match (&self.list_price, kind) {
            (ListPrice::RateBps(rate), ProductKind::Asset | ProductKind::Liability) => {
                if !rate_in_range(*rate) {
                    v.push(PricingViolation::new(
                        "list_rate_bps",
                        format!("{} is outside -10000 to 10000 bp", rate.value()),
                    ));
                }
            }
            (ListPrice::Fees(schedule), ProductKind::Fee) => {
                v.extend(prefix_all(schedule.validate(), "fee_schedule"));
            }
            (ListPrice::RateBps(_), ProductKind::Fee) => v.push(PricingViolation::new(
                "list_rate_bps",
                "a fee product is priced by a fee schedule, not a rate",
            )),
            (ListPrice::Fees(_), _) => v.push(PricingViolation::new(
                "fee_schedule",
                format!("a {kind} product is priced by a rate, not a fee schedule"),
            )),
        }
        if kind == ProductKind::Fee {
            if self.ftp_rate != BasisPoints::ZERO {
                v.push(PricingViolation::new(
                    "ftp_rate_bps",
                    "must be 0 for a fee product",
                ));
            }
        } else if !rate_in_range(self.ftp_rate) {
            v.push(PricingViolation::new(
                "ftp_rate_bps",
                format!("{} is outside -10000 to 10000 bp", self.ftp_rate.value()),
            ));
        }
        for (field, value) in [
            ("operating_cost_ratio", self.operating_cost_ratio),
            ("economic_capital_ratio", self.economic_capital_ratio),
            ("probability_of_default", self.probability_of_default),
            ("loss_given_default", self.loss_given_default),
        ] {
            if !unit_ratio(value) {
                v.push(PricingViolation::new(
                    field,
                    format!("{value} is outside 0 to 1"),
                ));
            }
        }
        if kind != ProductKind::Asset {
            for (field, value) in [
                ("probability_of_default", self.probability_of_default),
                ("loss_given_default", self.loss_given_default),
            ] {
                if !value.is_zero() {
                    v.push(PricingViolation::new(
                        field,
                        format!("only asset products carry expected-loss parameters, not {kind}"),
                    ));
                }
            }
        }
        violations_result(v)
    }

    /// [`PriceTerms::validate`], and the fee schedule's currency is the product's.
    pub fn validate_for(
        &self,
        kind: ProductKind,
        currency: Currency,
    ) -> Result<(), Vec<PricingViolation>> {
        let mut v = self.validate(kind).err().unwrap_or_default();
        if let ListPrice::Fees(schedule) = &self.list_price
            && schedule.currency() != currency
        {
            v.push(PricingViolation::new(
                "fee_schedule.flat_annual_fee",
                format!(
                    "is in {}, the product is in {currency}",
                    schedule.currency()
                ),
            ));
        }
        violations_result(v)
    }
}

/// Whether a rate is within ±[`MAX_RATE`].
pub(crate) fn rate_in_range(rate: BasisPoints) -> bool {
    (-MAX_RATE.value()..=MAX_RATE.value()).contains(&rate.value())
}

/// Whether a ratio is within 0 to 1.
pub(crate) fn unit_ratio(value: Decimal) -> bool {
    (value.is_zero() || value.is_sign_positive()) && value <= Decimal::ONE
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn cny(yuan: i64) -> Money {
        Money::from_minor(Currency::CNY, yuan * 100)
    }

    fn tier(from: i64, bp: i32) -> FeeTier {
        FeeTier {
            volume_from: cny(from),
            rate: BasisPoints::new(bp),
        }
    }

    /// 0.10% up to 1M, 0.08% from 1M to 5M, 0.05% above 5M; flat 1,000.
    fn schedule(whole_volume: bool) -> FeeSchedule {
        FeeSchedule {
            tiers: vec![tier(0, 10), tier(1_000_000, 8), tier(5_000_000, 5)],
            whole_volume,
            flat_annual_fee: cny(1_000),
            minimum_annual_fee: None,
        }
    }

    #[test]
    fn marginal_fees_are_charged_like_tax_brackets() {
        let s = schedule(false);
        // 1,000,000 × 0.10% + 4,000,000 × 0.08% + 3,000,000 × 0.05% + 1,000
        //   = 1,000 + 3,200 + 1,500 + 1,000 = 6,700.
        assert_eq!(s.annual_fee(cny(8_000_000)), Ok(cny(6_700)));
        // Inside the first tier: 500,000 × 0.10% + 1,000 = 1,500.
        assert_eq!(s.annual_fee(cny(500_000)), Ok(cny(1_500)));
        // Exactly at a bound: all of it in the first tier.
        assert_eq!(s.annual_fee(cny(1_000_000)), Ok(cny(2_000)));
        assert_eq!(s.annual_fee(cny(0)), Ok(cny(1_000)));
    }

    #[test]
    fn whole_volume_fees_apply_the_reached_tier_to_everything() {
        let s = schedule(true);
        // 8,000,000 × 0.05% + 1,000 = 5,000.
        assert_eq!(s.annual_fee(cny(8_000_000)), Ok(cny(5_000)));
        // A volume at a tier's bound reaches it: 1,000,000 × 0.08% + 1,000 = 1,800.
        assert_eq!(s.annual_fee(cny(1_000_000)), Ok(cny(1_800)));
        // 999,999 × 0.10% + 1,000 = 1,999.999 → 2,000.00 (rounded once).
        assert_eq!(s.annual_fee(cny(999_999)), Ok(cny(2_000)));
    }

    #[test]
    fn minimum_fee_and_single_rounding() {
        let mut s = schedule(false);
        s.minimum_annual_fee = Some(cny(2_500));
        assert_eq!(s.annual_fee(cny(500_000)), Ok(cny(2_500)));
        assert_eq!(s.annual_fee(cny(8_000_000)), Ok(cny(6_700)));
        // 0.05 yuan × 0.10% = 0.00005 → 0.00 (rounded once, at the end).
        let s = FeeSchedule {
            tiers: vec![tier(0, 10)],
            whole_volume: false,
            flat_annual_fee: cny(0),
            minimum_annual_fee: None,
        };
        assert_eq!(
            s.annual_fee(Money::from_minor(Currency::CNY, 5)),
            Ok(cny(0))
        );
        // 12,345.67 × 0.10% = 12.34567 → 12.35.
        assert_eq!(
            s.annual_fee(Money::from_minor(Currency::CNY, 1_234_567)),
            Ok(Money::from_minor(Currency::CNY, 1_235))
        );
        assert_eq!(FeeSchedule::flat(cny(300)).annual_fee(cny(9)), Ok(cny(300)));
    }

    #[test]
    fn bad_volumes_are_refused() {
        let s = schedule(false);
        let e = s.annual_fee(cny(-1)).unwrap_err();
        assert_eq!(
            e,
            PricingError::invalid("annual_volume", "must not be negative")
        );
        let usd = Money::from_minor(Currency::USD, 100);
        assert!(matches!(
            s.annual_fee(usd),
            Err(PricingError::Invalid(v)) if v[0].field == "annual_volume"
        ));
    }

    #[test]
    fn schedule_validation_names_every_bad_field() {
        assert_eq!(schedule(false).validate(), Ok(()));
        let bad = FeeSchedule {
            tiers: vec![tier(10, 10_001), tier(10, 5), tier(5, -1)],
            whole_volume: false,
            flat_annual_fee: cny(-1),
            minimum_annual_fee: Some(Money::from_minor(Currency::USD, 1)),
        };
        let fields: Vec<_> = bad
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            [
                "tiers[0].volume_from",
                "tiers[0].rate_bps",
                "tiers[1].volume_from",
                "tiers[2].volume_from",
                "tiers[2].rate_bps",
                "flat_annual_fee",
                "minimum_annual_fee",
            ]
        );
        let mut s = schedule(false);
        s.minimum_annual_fee = Some(cny(-5));
        assert_eq!(s.validate().unwrap_err()[0].field, "minimum_annual_fee");
        let mut s = schedule(false);
        s.tiers[1].volume_from = Money::from_minor(Currency::USD, 100);
        assert_eq!(s.validate().unwrap_err()[0].field, "tiers[1].volume_from");
        assert!(matches!(
            s.annual_fee(cny(1)),
            Err(PricingError::Invalid(_))
        ));
    }

    fn balance_terms(rate: i32) -> PriceTerms {
        PriceTerms {
            list_price: ListPrice::RateBps(BasisPoints::new(rate)),
            ftp_rate: BasisPoints::new(300),
            operating_cost_ratio: dec!(0.003),
            economic_capital_ratio: dec!(0.08),
            probability_of_default: dec!(0.0125),
            loss_given_default: dec!(0.45),
        }
    }

    #[test]
    fn price_terms_fit_the_kind() {
        assert_eq!(balance_terms(435).validate(ProductKind::Asset), Ok(()));
        let fields = |t: &PriceTerms, k| -> Vec<String> {
            t.validate(k)
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|v| v.field)
                .collect()
        };
        assert_eq!(
            fields(&balance_terms(435), ProductKind::Liability),
            ["probability_of_default", "loss_given_default"]
        );
        assert_eq!(
            fields(&balance_terms(435), ProductKind::Fee),
            [
                "list_rate_bps",
                "ftp_rate_bps",
                "probability_of_default",
                "loss_given_default"
            ]
        );
        let mut t = balance_terms(10_001);
        t.operating_cost_ratio = dec!(1.01);
        t.economic_capital_ratio = dec!(-0.01);
        t.ftp_rate = BasisPoints::new(-10_001);
        assert_eq!(
            fields(&t, ProductKind::Asset),
            [
                "list_rate_bps",
                "ftp_rate_bps",
                "operating_cost_ratio",
                "economic_capital_ratio"
            ]
        );
        let mut fee = balance_terms(0);
        fee.list_price = ListPrice::Fees(FeeSchedule {
            tiers: vec![tier(5, 10)],
            ..schedule(false)
        });
        fee.ftp_rate = BasisPoints::ZERO;
        fee.probability_of_default = Decimal::ZERO;
        fee.loss_given_default = Decimal::ZERO;
        assert_eq!(
            fields(&fee, ProductKind::Fee),
            ["fee_schedule.tiers[0].volume_from"]
        );
        assert_eq!(fields(&fee, ProductKind::Asset), ["fee_schedule"]);
        fee.list_price = ListPrice::Fees(schedule(false));
        assert_eq!(fee.validate(ProductKind::Fee), Ok(()));
        assert_eq!(fee.validate_for(ProductKind::Fee, Currency::CNY), Ok(()));
        assert_eq!(
            fee.validate_for(ProductKind::Fee, Currency::USD)
                .unwrap_err()[0]
                .field,
            "fee_schedule.flat_annual_fee"
        );
    }

    #[test]
    fn list_prices_and_price_display() {
        let rate = ListPrice::RateBps(BasisPoints::new(345));
        assert_eq!(rate.price(None), Ok(Price::Rate(BasisPoints::new(345))));
        let fees = ListPrice::Fees(schedule(false));
        assert_eq!(
            fees.price(Some(cny(8_000_000))),
            Ok(Price::AnnualFee(cny(6_700)))
        );
        assert_eq!(fees.price(None), Ok(Price::AnnualFee(cny(1_000))));
        let bad = ListPrice::Fees(FeeSchedule {
            flat_annual_fee: cny(-1),
            ..schedule(false)
        });
        assert!(matches!(
            bad.price(None),
            Err(PricingError::Invalid(v)) if v[0].field == "fee_schedule.flat_annual_fee"
        ));
        assert!(matches!(
            fees.price(Some(cny(-1))),
            Err(PricingError::Invalid(v)) if v[0].field == "annual_volume"
        ));
        assert_eq!(Price::Rate(BasisPoints::new(345)).to_string(), "3.45%");
        assert_eq!(Price::AnnualFee(cny(120_000)).to_string(), "CNY 120,000.00");
        assert!(Price::Rate(BasisPoints::ZERO).fits(ProductKind::Liability));
        assert!(!Price::Rate(BasisPoints::ZERO).fits(ProductKind::Fee));
        assert!(Price::AnnualFee(cny(1)).fits(ProductKind::Fee));
        assert_eq!(Price::AnnualFee(cny(1)).rate(), None);
        assert_eq!(Price::AnnualFee(cny(1)).annual_fee(), Some(cny(1)));
    }

    #[test]
    fn products_and_categories() {
        let p = Product {
            product_id: "LOAN-WC-1Y".into(),
            name: "Working-capital loan, 1 year".into(),
            line: BusinessLine::Corporate,
            kind: ProductKind::Asset,
            category: ProductCategory::Loan,
            currency: Currency::CNY,
            active: true,
        };
        assert_eq!(p.validate(), Ok(()));
        let bad = Product {
            product_id: "LOAN WC".into(),
            name: " ".into(),
            category: ProductCategory::Deposit,
            ..p
        };
        let fields: Vec<_> = bad
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["product_id", "name", "category"]);
        assert!(ProductCategory::Payroll.fits(ProductKind::Fee));
        assert!(!ProductCategory::Payroll.fits(ProductKind::Asset));
        assert!(ProductCategory::Card.fits(ProductKind::Asset));
        assert!(ProductCategory::Other.fits(ProductKind::Liability));
        assert_eq!(
            "credit_facility".parse(),
            Ok(ProductCategory::CreditFacility)
        );
        assert!(check_product_id(&"X".repeat(33)).is_err());
    }
}
