//! Quote economics, exactly as DOMAIN.md §4 pins them. Per item, with B the amount (average
//! balance) of a balance product and F the annual fee of a fee product, first the **annual**
//! figures: margin = B × (customer rate − FTP) for an asset, B × (FTP − customer rate) for a
//! liability, F for a fee product; operating cost = cost ratio × B (or × F); expected loss
//! EL = B × PD × LGD (assets only); economic capital EC = capital ratio × B for balance
//! products and the configured operational-risk ratio (default 15%) × F for fee products;
//! RAR = margin − operating cost − EL; EVA = RAR − EC × hurdle (default 12%). Then each figure is
//! taken over the item's **first year**: multiplied by its year fraction — a term of `m` months
//! counts `min(m, 12)/12` (the proto's pinned `year_fraction`), a term of `d` days
//! `min(d, 365)/365` (the domain's actual/365 day count) — EC included, read as the capital held
//! on average over that year, so RAROC = RAR / EC is the same for a short term as for a year (and
//! is `None`, "n/a", when EC = 0). Totals are sums over the items converted to CNY at each
//! item's FX rate; total RAROC = ΣRAR / ΣEC. Nothing is rounded until the end: every figure is
//! carried exactly — as a numerator over the year fraction's denominator in lowest terms, which
//! divides 4380 = 12 × 365 so that month and day fractions share it — and rounded **once**, to the currency's minor unit, half away from zero;
//! RAROC is rounded to 4 decimal places (3.0000 = 300%).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::catalogue::{PriceTerms, ProductKind};
use super::{PricingError, PricingViolation, violations_result};
use crate::exact;
use crate::money::{BasisPoints, Currency, Money, ROUNDING};

/// The default hurdle rate: 12% a year.
pub const DEFAULT_HURDLE_RATE: BasisPoints = crate::contribution::DEFAULT_HURDLE_RATE;

/// The default operational-risk capital ratio of fee products: 15% of F (the Basel
/// basic-indicator charge).
pub const DEFAULT_OPERATIONAL_RISK_RATIO: BasisPoints = BasisPoints::new(1_500);

/// Decimal places of a RAROC: 4 (`3.0000` = 300%).
pub const RAROC_DECIMALS: u32 = 4;

/// The configuration of quote economics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EconomicsConfig {
    /// The hurdle rate of EVA, 0 to 10,000 bp (default 1,200 = 12%).
    pub hurdle_rate: BasisPoints,
    /// Economic capital of fee products as a share of F, 0 to 10,000 bp (default 1,500 = 15%).
    pub operational_risk_ratio: BasisPoints,
}

impl Default for EconomicsConfig {
    fn default() -> Self {
        Self {
            hurdle_rate: DEFAULT_HURDLE_RATE,
            operational_risk_ratio: DEFAULT_OPERATIONAL_RISK_RATIO,
        }
    }
}

impl EconomicsConfig {
    /// Checks both ratios are 0 to 10,000 bp (`hurdle_rate_bps`, `operational_risk_ratio_bps`).
    pub fn validate(&self) -> Result<(), Vec<PricingViolation>> {
        let mut v = Vec::new();
        for (field, value) in [
            ("hurdle_rate_bps", self.hurdle_rate),
            ("operational_risk_ratio_bps", self.operational_risk_ratio),
        ] {
            if !(0..=10_000).contains(&value.value()) {
                v.push(PricingViolation::new(
                    field,
                    format!("{} is outside 0 to 10000 bp", value.value()),
                ));
            }
        }
        violations_result(v)
    }
}

/// 4380 = 12 × 365: both month and day fractions of a year are whole multiples of 1/4380.
const YEAR_UNITS: u32 = 4_380;

/// The term of an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Term {
    /// A term in months (the proto's `term_months`): counts `min(m, 12)/12` of the first year.
    Months(u32),
    /// A term in days: counts `min(d, 365)/365` of the first year (actual/365).
    Days(u32),
}

impl Term {
    /// The share of the first year the item counts for. Fails (naming `term_months` or
    /// `term_days`) on a zero term.
    pub fn year_fraction(self) -> Result<YearFraction, PricingViolation> {
        match self {
            Term::Months(0) => Err(PricingViolation::new("term_months", "must be at least 1")),
            Term::Days(0) => Err(PricingViolation::new("term_days", "must be at least 1")),
            Term::Months(m) => Ok(YearFraction(m.min(12) * 365)),
            Term::Days(d) => Ok(YearFraction(d.min(365) * 12)),
        }
    }

    /// The term in whole months, rounding days up (for limits with term bounds in months): 1 to
    /// 30 days is 1 month, and so on by 365/12 days.
    pub fn months_ceil(self) -> u32 {
        match self {
            Term::Months(m) => m,
            Term::Days(d) => {
                let months = (u64::from(d) * 12).div_ceil(365);
                u32::try_from(months).unwrap_or(u32::MAX)
            }
        }
    }
}

/// The share of the first year an item counts for, exactly: a whole number of 1/4380 of a year,
/// 1 to 4380.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct YearFraction(u32);

impl YearFraction {
    /// A whole year.
    pub const FULL_YEAR: YearFraction = YearFraction(YEAR_UNITS);

    /// The fraction as a decimal, e.g. 0.5 for 6 months (1/12 has 28 significant digits).
    pub fn to_decimal(self) -> Decimal {
        (Decimal::from(self.0) / Decimal::from(YEAR_UNITS)).normalize()
    }

    /// The fraction in lowest terms, `(numerator, denominator)`; the denominator divides 4380.
    pub fn lowest_terms(self) -> (u32, u32) {
        let g = gcd(self.0, YEAR_UNITS);
        (self.0 / g, YEAR_UNITS / g)
    }
}

/// `x` major units as money, rounded once to the minor unit with the crate's rule (half away
/// from zero, as [`Money::from_decimal`]), in integer arithmetic on the decimal's mantissa:
/// `mantissa / 10^(scale − exponent)`, rounded away from zero when the remainder is at least
/// half the divisor.
fn to_money(currency: Currency, x: Decimal) -> Result<Money, PricingError> {
    let exp = currency.minor_exponent();
    let mantissa = x.mantissa();
    let minor = if x.scale() <= exp {
        mantissa.checked_mul(10_i128.pow(exp - x.scale()))
    } else {
        // scale ≤ 28, so the divisor fits an i128.
        let divisor = 10_i128.pow(x.scale() - exp);
        let (q, r) = (mantissa / divisor, mantissa % divisor);
        if r.unsigned_abs() * 2 >= divisor.unsigned_abs() {
            q.checked_add(mantissa.signum())
        } else {
            Some(q)
        }
    };
    let minor = minor
        .and_then(|m| i64::try_from(m).ok())
        .ok_or(crate::money::MoneyError::Overflow)?;
    Ok(Money::from_minor(currency, minor))
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

fn lcm(a: u32, b: u32) -> u32 {
    a / gcd(a, b) * b
}

/// What an item's economics are computed from: a balance at a customer rate, or an annual fee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EconomicsBasis {
    /// Balance products: the amount B and the customer rate.
    Balance {
        /// B, the (average) balance; not negative.
        amount: Money,
        /// The customer rate in basis points a year.
        customer_rate: BasisPoints,
    },
    /// Fee products: the annual fee income F; not negative.
    Fee {
        /// F.
        annual_fee: Money,
    },
}

impl EconomicsBasis {
    fn currency(&self) -> Currency {
        match self {
            EconomicsBasis::Balance { amount, .. } => amount.currency(),
            EconomicsBasis::Fee { annual_fee } => annual_fee.currency(),
        }
    }
}

/// An item's (or a total's) economics, exact and unrounded, in one currency. Figures are kept as
/// numerators over a common divisor of 4380 (the year fraction in lowest terms) so that sums and
/// conversions stay exact; read them rounded with [`ExactEconomics::rounded`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExactEconomics {
    currency: Currency,
    // Each field holds the figure × `divisor`; `divisor` divides 4380 (1 for whole-year items, so
    // that the common case never divides).
    divisor: u32,
    margin: Decimal,
    operating_cost: Decimal,
    expected_loss: Decimal,
    economic_capital: Decimal,
    risk_adjusted_return: Decimal,
    eva: Decimal,
}

/// Rounded economics, as a quote shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Economics {
    /// Asset: B × (customer rate − FTP); liability: B × (FTP − customer rate); fee: F.
    pub margin: Money,
    /// Cost ratio × B, or × F for fee products.
    pub operating_cost: Money,
    /// EL = B × PD × LGD, assets only.
    pub expected_loss: Money,
    /// EC = capital ratio × B, or the operational-risk ratio × F for fee products.
    pub economic_capital: Money,
    /// RAR = margin − operating cost − EL.
    pub risk_adjusted_return: Money,
    /// EVA = RAR − EC × hurdle.
    pub eva: Money,
    /// RAROC = RAR / EC to 4 decimal places; `None` ("n/a") when EC is zero.
    pub raroc: Option<Decimal>,
}

impl ExactEconomics {
    /// All zero, in `currency`.
    pub fn zero(currency: Currency) -> Self {
        Self {
            currency,
            divisor: 1,
            margin: Decimal::ZERO,
            operating_cost: Decimal::ZERO,
            expected_loss: Decimal::ZERO,
            economic_capital: Decimal::ZERO,
            risk_adjusted_return: Decimal::ZERO,
            eva: Decimal::ZERO,
        }
    }

    /// The currency of the figures.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    fn figures(&self) -> [Decimal; 6] {
        [
            self.margin,
            self.operating_cost,
            self.expected_loss,
            self.economic_capital,
            self.risk_adjusted_return,
            self.eva,
        ]
    }

    fn from_figures(currency: Currency, divisor: u32, f: [Decimal; 6]) -> Self {
        Self {
            currency,
            divisor,
            margin: f[0],
            operating_cost: f[1],
            expected_loss: f[2],
            economic_capital: f[3],
            risk_adjusted_return: f[4],
            eva: f[5],
        }
    }

    /// The exact EVA in major units (unrounded).
    pub fn eva_exact(&self) -> Result<Decimal, PricingError> {
        self.undivided(self.eva)
    }

    fn undivided(&self, x: Decimal) -> Result<Decimal, PricingError> {
        if self.divisor == 1 {
            Ok(x)
        } else {
            Ok(exact::div(x, Decimal::from(self.divisor))?)
        }
    }

    /// RAROC = RAR / EC, unrounded; `None` when EC is zero.
    pub fn raroc_exact(&self) -> Option<Decimal> {
        if self.economic_capital.is_zero() {
            None
        } else {
            self.risk_adjusted_return.checked_div(self.economic_capital)
        }
    }

    /// The figures converted at `rate` units of `to` per unit of this currency (exact).
    pub fn converted(&self, to: Currency, rate: Decimal) -> Result<Self, PricingError> {
        let mut f = self.figures();
        for x in &mut f {
            *x = exact::mul(*x, rate)?;
        }
        Ok(Self::from_figures(to, self.divisor, f))
    }

    /// The sum of two sets of figures in one currency.
    pub fn checked_add(&self, other: &ExactEconomics) -> Result<Self, PricingError> {
        if self.currency != other.currency {
            return Err(crate::money::MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            }
            .into());
        }
        // Both divisors divide 4380, so their least common multiple does too.
        let divisor = lcm(self.divisor, other.divisor);
        let (ka, kb) = (divisor / self.divisor, divisor / other.divisor);
        let scale = |x: Decimal, k: u32| -> Result<Decimal, PricingError> {
            if k == 1 {
                Ok(x)
            } else {
                Ok(exact::mul(x, Decimal::from(k))?)
            }
        };
        let (a, b) = (self.figures(), other.figures());
        let mut f = [Decimal::ZERO; 6];
        for i in 0..6 {
            f[i] = exact::add(scale(a[i], ka)?, scale(b[i], kb)?)?;
        }
        Ok(Self::from_figures(self.currency, divisor, f))
    }

    /// The figures rounded once to the minor unit (half away from zero), RAROC to 4 places.
    pub fn rounded(&self) -> Result<Economics, PricingError> {
        let money = |x: Decimal| to_money(self.currency, self.undivided(x)?);
        Ok(Economics {
            margin: money(self.margin)?,
            operating_cost: money(self.operating_cost)?,
            expected_loss: money(self.expected_loss)?,
            economic_capital: money(self.economic_capital)?,
            risk_adjusted_return: money(self.risk_adjusted_return)?,
            eva: money(self.eva)?,
            raroc: self
                .raroc_exact()
                .map(|r| r.round_dp_with_strategy(RAROC_DECIMALS, ROUNDING)),
        })
    }
}

/// The exact economics of one item of `kind` priced on `basis` under `terms`, over `fraction` of
/// its first year. Fails (naming `amount` or `annual_fee`) when the basis does not fit the kind
/// or is negative, or on an invalid configuration.
pub fn item_economics(
    kind: ProductKind,
    basis: &EconomicsBasis,
    terms: &PriceTerms,
    fraction: YearFraction,
    config: &EconomicsConfig,
) -> Result<ExactEconomics, PricingError> {
    config.validate()?;
    let currency = basis.currency();
    let (margin, volume, ec_ratio) = match (kind, basis) {
        (
            ProductKind::Asset | ProductKind::Liability,
            EconomicsBasis::Balance {
                amount,
                customer_rate,
            },
        ) => {
            if amount.is_negative() {
                return Err(PricingError::invalid("amount", "must not be negative"));
            }
            let b = amount.to_decimal();
            let spread = if kind == ProductKind::Asset {
                customer_rate.checked_sub(terms.ftp_rate)?
            } else {
                terms.ftp_rate.checked_sub(*customer_rate)?
            };
            (
                exact::mul(b, spread.to_rate())?,
                b,
                terms.economic_capital_ratio,
            )
        }
        (ProductKind::Fee, EconomicsBasis::Fee { annual_fee }) => {
            if annual_fee.is_negative() {
                return Err(PricingError::invalid("annual_fee", "must not be negative"));
            }
            let f = annual_fee.to_decimal();
            (f, f, config.operational_risk_ratio.to_rate())
        }
        (ProductKind::Fee, _) => {
            return Err(PricingError::invalid(
                "amount",
                "a fee product's economics come from its annual fee, not a balance",
            ));
        }
        (_, _) => {
            return Err(PricingError::invalid(
                "annual_fee",
                format!("a {kind} product's economics come from a balance, not a fee"),
            ));
        }
    };
    let operating_cost = exact::mul(terms.operating_cost_ratio, volume)?;
    let expected_loss = if kind == ProductKind::Asset {
        exact::mul(
            exact::mul(volume, terms.probability_of_default)?,
            terms.loss_given_default,
        )?
    } else {
        Decimal::ZERO
    };
    let economic_capital = exact::mul(ec_ratio, volume)?;
    let rar = exact::sub(exact::sub(margin, operating_cost)?, expected_loss)?;
    let eva = exact::sub(
        rar,
        exact::mul(economic_capital, config.hurdle_rate.to_rate())?,
    )?;
    let (numerator, divisor) = fraction.lowest_terms();
    let mut f = [
        margin,
        operating_cost,
        expected_loss,
        economic_capital,
        rar,
        eva,
    ];
    if numerator != 1 {
        let n = Decimal::from(numerator);
        for x in &mut f {
            *x = exact::mul(*x, n)?;
        }
    }
    Ok(ExactEconomics::from_figures(currency, divisor, f))
}

/// The sum of item economics already in `currency` (e.g. converted to CNY): totals with
/// RAROC = ΣRAR / ΣEC.
pub fn total<'a>(
    currency: Currency,
    items: impl IntoIterator<Item = &'a ExactEconomics>,
) -> Result<ExactEconomics, PricingError> {
    items
        .into_iter()
        .try_fold(ExactEconomics::zero(currency), |acc, e| acc.checked_add(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::catalogue::{FeeSchedule, ListPrice};
    use rust_decimal_macros::dec;

    fn cny(yuan: i64) -> Money {
        Money::from_minor(Currency::CNY, yuan * 100)
    }

    fn fee_terms(cost: Decimal) -> PriceTerms {
        PriceTerms {
            list_price: ListPrice::Fees(FeeSchedule::flat(cny(0))),
            ftp_rate: BasisPoints::ZERO,
            operating_cost_ratio: cost,
            economic_capital_ratio: Decimal::ZERO,
            probability_of_default: Decimal::ZERO,
            loss_given_default: Decimal::ZERO,
        }
    }

    fn loan_terms() -> PriceTerms {
        PriceTerms {
            list_price: ListPrice::RateBps(BasisPoints::new(435)),
            ftp_rate: BasisPoints::new(240),
            operating_cost_ratio: dec!(0.004),
            economic_capital_ratio: dec!(0.08),
            probability_of_default: dec!(0.005),
            loss_given_default: dec!(0.40),
        }
    }

    fn year() -> YearFraction {
        Term::Months(12).year_fraction().unwrap()
    }

    #[test]
    fn fee_item_of_the_cash_services_option_1() {
        let e = item_economics(
            ProductKind::Fee,
            &EconomicsBasis::Fee {
                annual_fee: cny(120_000),
            },
            &fee_terms(dec!(0.55)),
            year(),
            &EconomicsConfig::default(),
        )
        .unwrap()
        .rounded()
        .unwrap();
        assert_eq!(e.margin, cny(120_000));
        assert_eq!(e.operating_cost, cny(66_000));
        assert_eq!(e.expected_loss, cny(0));
        assert_eq!(e.risk_adjusted_return, cny(54_000));
        assert_eq!(e.economic_capital, cny(18_000));
        assert_eq!(e.eva, cny(51_840));
        assert_eq!(e.raroc, Some(dec!(3.0000)));
    }

    #[test]
    fn asset_and_liability_margins() {
        let config = EconomicsConfig::default();
        let loan = item_economics(
            ProductKind::Asset,
            &EconomicsBasis::Balance {
                amount: cny(10_000_000),
                customer_rate: BasisPoints::new(435),
            },
            &loan_terms(),
            year(),
            &config,
        )
        .unwrap()
        .rounded()
        .unwrap();
        // 10M × (4.35% − 2.40%) = 195,000; cost 40,000; EL 10M × 0.5% × 40% = 20,000.
        assert_eq!(loan.margin, cny(195_000));
        assert_eq!(loan.operating_cost, cny(40_000));
        assert_eq!(loan.expected_loss, cny(20_000));
        assert_eq!(loan.risk_adjusted_return, cny(135_000));
        assert_eq!(loan.economic_capital, cny(800_000));
        // 135,000 − 800,000 × 12% = 39,000.
        assert_eq!(loan.eva, cny(39_000));
        assert_eq!(loan.raroc, Some(dec!(0.1688)));
        let deposit_terms = PriceTerms {
            list_price: ListPrice::RateBps(BasisPoints::new(25)),
            ftp_rate: BasisPoints::new(160),
            operating_cost_ratio: dec!(0.003),
            economic_capital_ratio: Decimal::ZERO,
            probability_of_default: Decimal::ZERO,
            loss_given_default: Decimal::ZERO,
        };
        let deposit = item_economics(
            ProductKind::Liability,
            &EconomicsBasis::Balance {
                amount: cny(8_000_000),
                customer_rate: BasisPoints::new(25),
            },
            &deposit_terms,
            year(),
            &config,
        )
        .unwrap()
        .rounded()
        .unwrap();
        assert_eq!(deposit.margin, cny(108_000));
        assert_eq!(deposit.operating_cost, cny(24_000));
        assert_eq!(deposit.risk_adjusted_return, cny(84_000));
        assert_eq!(deposit.eva, cny(84_000));
        assert_eq!(deposit.raroc, None, "no capital: RAROC n/a");
        // PD and LGD never make an expected loss on a liability.
        let mut with_pd = deposit_terms;
        with_pd.probability_of_default = dec!(0.5);
        with_pd.loss_given_default = dec!(1);
        let e = item_economics(
            ProductKind::Liability,
            &EconomicsBasis::Balance {
                amount: cny(8_000_000),
                customer_rate: BasisPoints::new(25),
            },
            &with_pd,
            year(),
            &config,
        )
        .unwrap();
        assert_eq!(e.rounded().unwrap().expected_loss, cny(0));
    }

    #[test]
    fn short_terms_are_pro_rated_and_keep_their_raroc() {
        let config = EconomicsConfig::default();
        let basis = EconomicsBasis::Balance {
            amount: cny(10_000_000),
            customer_rate: BasisPoints::new(435),
        };
        let six = Term::Months(6).year_fraction().unwrap();
        assert_eq!(six.to_decimal(), dec!(0.5));
        let half = item_economics(ProductKind::Asset, &basis, &loan_terms(), six, &config)
            .unwrap()
            .rounded()
            .unwrap();
        assert_eq!(half.margin, cny(97_500));
        assert_eq!(half.economic_capital, cny(400_000));
        assert_eq!(half.eva, cny(19_500));
        assert_eq!(half.raroc, Some(dec!(0.1688)));
        // Terms beyond a year count one year.
        assert_eq!(
            Term::Months(36).year_fraction(),
            Ok(YearFraction::FULL_YEAR)
        );
        assert_eq!(Term::Days(400).year_fraction(), Ok(YearFraction::FULL_YEAR));
        // 91 days, actual/365: 195,000 × 91/365 = 48,616.438… → 48,616.44.
        let days = Term::Days(91).year_fraction().unwrap();
        let q = item_economics(ProductKind::Asset, &basis, &loan_terms(), days, &config)
            .unwrap()
            .rounded()
            .unwrap();
        assert_eq!(q.margin, Money::from_minor(Currency::CNY, 4_861_644));
        // 1 month is 1/12: 195,000 / 12 = 16,250.
        let month = Term::Months(1).year_fraction().unwrap();
        let m = item_economics(ProductKind::Asset, &basis, &loan_terms(), month, &config)
            .unwrap()
            .rounded()
            .unwrap();
        assert_eq!(m.margin, cny(16_250));
        assert_eq!(m.eva, cny(3_250));
        assert_eq!(
            Term::Months(0).year_fraction().unwrap_err().field,
            "term_months"
        );
        assert_eq!(
            Term::Days(0).year_fraction().unwrap_err().field,
            "term_days"
        );
        assert_eq!(YearFraction::FULL_YEAR.lowest_terms(), (1, 1));
        assert_eq!(six.lowest_terms(), (1, 2));
        assert_eq!(month.lowest_terms(), (1, 12));
        assert_eq!(days.lowest_terms(), (91, 365));
        // Items of different fractions add exactly over a common divisor.
        let half_exact =
            item_economics(ProductKind::Asset, &basis, &loan_terms(), six, &config).unwrap();
        let q_exact =
            item_economics(ProductKind::Asset, &basis, &loan_terms(), days, &config).unwrap();
        let m_exact =
            item_economics(ProductKind::Asset, &basis, &loan_terms(), month, &config).unwrap();
        let t = total(Currency::CNY, [&half_exact, &q_exact, &m_exact])
            .unwrap()
            .rounded()
            .unwrap();
        // 97,500 + 48,616.438… + 16,250 = 162,366.438… → 162,366.44.
        assert_eq!(t.margin, Money::from_minor(Currency::CNY, 16_236_644));
        assert_eq!(t.raroc, Some(dec!(0.1688)));
        assert_eq!(Term::Days(30).months_ceil(), 1);
        assert_eq!(Term::Days(31).months_ceil(), 2);
        assert_eq!(Term::Days(365).months_ceil(), 12);
        assert_eq!(Term::Months(18).months_ceil(), 18);
    }

    #[test]
    fn the_exact_fast_path_agrees_with_rounding() {
        for x in [
            dec!(0),
            dec!(1),
            dec!(-1.5),
            dec!(123.45),
            dec!(-0.01),
            dec!(0.005),
            dec!(-0.005),
            dec!(2.675),
            dec!(1e12),
            dec!(92233720368547758.07),
            dec!(-92233720368547758.08),
            dec!(0.0049999999999999999999999999),
            dec!(-7.123456789012345678901234567),
            dec!(175000.0000),
            dec!(1.125),
            dec!(-1.125),
        ] {
            assert_eq!(
                to_money(Currency::CNY, x).ok(),
                Money::from_decimal(Currency::CNY, x).ok(),
                "{x}"
            );
        }
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(to_money(jpy, dec!(100.5)), Ok(Money::from_minor(jpy, 101)));
        assert!(
            to_money(Currency::CNY, dec!(1e17)).is_err(),
            "overflow is an error"
        );
    }

    #[test]
    fn rounding_happens_once_at_the_end() {
        // Fee 0.01 at cost 50%: each exact figure is 0.005, and RAR = 0.01 − 0.005 = 0.005.
        // Rounded once: cost 0.01 and RAR 0.01 (rounding the cost first would give RAR 0.00).
        let e = item_economics(
            ProductKind::Fee,
            &EconomicsBasis::Fee {
                annual_fee: Money::from_minor(Currency::CNY, 1),
            },
            &fee_terms(dec!(0.5)),
            year(),
            &EconomicsConfig::default(),
        )
        .unwrap()
        .rounded()
        .unwrap();
        assert_eq!(e.operating_cost.minor_units(), 1);
        assert_eq!(e.risk_adjusted_return.minor_units(), 1);
    }

    #[test]
    fn totals_convert_and_sum_exactly() {
        let config = EconomicsConfig::default();
        let usd_fee = item_economics(
            ProductKind::Fee,
            &EconomicsBasis::Fee {
                annual_fee: Money::from_minor(Currency::USD, 2_000_000),
            },
            &fee_terms(dec!(0.5)),
            year(),
            &config,
        )
        .unwrap();
        let in_cny = usd_fee.converted(Currency::CNY, dec!(7.1)).unwrap();
        let cny_fee = item_economics(
            ProductKind::Fee,
            &EconomicsBasis::Fee {
                annual_fee: cny(120_000),
            },
            &fee_terms(dec!(0.55)),
            year(),
            &config,
        )
        .unwrap();
        let t = total(Currency::CNY, [&in_cny, &cny_fee])
            .unwrap()
            .rounded()
            .unwrap();
        // RAR 71,000 + 54,000; EC 21,300 + 18,000; EVA 68,444 + 51,840.
        assert_eq!(t.risk_adjusted_return, cny(125_000));
        assert_eq!(t.economic_capital, cny(39_300));
        assert_eq!(t.eva, cny(120_284));
        // 125,000 / 39,300 = 3.18066…
        assert_eq!(t.raroc, Some(dec!(3.1807)));
        assert!(
            total(Currency::CNY, [&usd_fee]).is_err(),
            "mixed currencies"
        );
        assert_eq!(
            total(Currency::CNY, []).unwrap().rounded().unwrap().raroc,
            None
        );
    }

    #[test]
    fn inputs_and_config_are_checked() {
        let config = EconomicsConfig::default();
        let field = |r: Result<ExactEconomics, PricingError>| match r {
            Err(PricingError::Invalid(v)) => v[0].field.clone(),
            other => panic!("{other:?}"),
        };
        let fee = EconomicsBasis::Fee {
            annual_fee: cny(-1),
        };
        assert_eq!(
            field(item_economics(
                ProductKind::Fee,
                &fee,
                &fee_terms(dec!(0)),
                year(),
                &config
            )),
            "annual_fee"
        );
        assert_eq!(
            field(item_economics(
                ProductKind::Asset,
                &fee,
                &loan_terms(),
                year(),
                &config
            )),
            "annual_fee"
        );
        let balance = EconomicsBasis::Balance {
            amount: cny(-1),
            customer_rate: BasisPoints::ZERO,
        };
        assert_eq!(
            field(item_economics(
                ProductKind::Asset,
                &balance,
                &loan_terms(),
                year(),
                &config
            )),
            "amount"
        );
        assert_eq!(
            field(item_economics(
                ProductKind::Fee,
                &balance,
                &fee_terms(dec!(0)),
                year(),
                &config
            )),
            "amount"
        );
        let bad = EconomicsConfig {
            hurdle_rate: BasisPoints::new(-1),
            operational_risk_ratio: BasisPoints::new(10_001),
        };
        let fields: Vec<_> = bad
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["hurdle_rate_bps", "operational_risk_ratio_bps"]);
    }
}
