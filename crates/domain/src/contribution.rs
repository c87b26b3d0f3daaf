//! Comprehensive contribution (综合贡献度, DOMAIN.md §3, seed 000 篇3 §5 and 篇8). This module
//! owns the monthly contribution of one customer from its holdings snapshots — per holding and
//! in total: the net interest margin (liabilities B × (FTP − customer rate) × d/365, assets
//! B × (customer rate − FTP) × d/365), fee income, operating cost, *before risk*
//! (margin + fees − operating cost), expected loss, the capital charge (economic capital ×
//! hurdle × d/365), *after risk* (before risk − expected loss − capital charge), the separate
//! *potential* of undrawn facilities, and the separate *linked retail* statement of the
//! executives' and employees' holdings — and the sums over windows of months (trailing twelve
//! months, year to date). Every monthly figure is computed exactly in `Decimal` and rounded
//! **once**, to the fen, with the crate's [`ROUNDING`](crate::money::ROUNDING) rule: an item's
//! figures from that holding's exact values, a total from the exact sum over the holdings (so a
//! total may differ by a fen or so from the sum of its rounded items, and after risk from
//! before risk − EL − capital charge as rounded). A window's figure is the plain sum of its
//! monthly figures ("a year's figure is the sum of its months").

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::calendar::Period;
use crate::exact::{self, Overflow, clip};
use crate::money::{BasisPoints, Currency, Money, MoneyError, accrual};

code_enum! {
    /// The kind of a product, which decides how its margin is computed.
    pub enum ProductKind {
        /// An asset (loan, facility): margin = B × (customer rate − FTP rate).
        Asset => "asset",
        /// A liability (deposit): margin = B × (FTP rate − customer rate).
        Liability => "liability",
        /// Fee business: no margin; the fee income counts.
        Fee => "fee",
    }
}

/// The default hurdle rate of the capital charge: 12% a year.
pub const DEFAULT_HURDLE_RATE: BasisPoints = BasisPoints::new(1_200);

/// The default expected draw ratio of undrawn facilities: 50%.
pub const DEFAULT_DRAW_RATIO: BasisPoints = BasisPoints::new(5_000);

/// Errors of contribution inputs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ContributionError {
    /// An empty or over-long (64 characters) product id.
    #[error("invalid product id {0:?}: 1 to 64 characters")]
    ProductId(String),
    /// An amount in another currency than the reporting currency.
    #[error("{field} of holding {product_id:?} is in {actual}, expected {expected}")]
    Currency {
        /// The holding.
        product_id: String,
        /// The field.
        field: &'static str,
        /// Its currency.
        actual: Currency,
        /// The reporting currency.
        expected: Currency,
    },
    /// A negative amount where none can be.
    #[error("{field} of holding {product_id:?} is negative: {amount}")]
    Negative {
        /// The holding.
        product_id: String,
        /// The field.
        field: &'static str,
        /// The amount.
        amount: Money,
    },
    /// A rate outside −100% … 100%.
    #[error("{field} of holding {product_id:?} is {rate}, outside -10000bp..=10000bp")]
    RateRange {
        /// The holding.
        product_id: String,
        /// The field.
        field: &'static str,
        /// The rate.
        rate: BasisPoints,
    },
    /// A credit facility on a holding that is not an asset.
    #[error("holding {product_id:?} is a {kind} product and cannot carry a credit facility")]
    FacilityOnNonAsset {
        /// The holding.
        product_id: String,
        /// Its kind.
        kind: ProductKind,
    },
    /// An undrawn amount above the facility limit.
    #[error("undrawn amount {undrawn} of holding {product_id:?} exceeds its limit {limit}")]
    UndrawnAboveLimit {
        /// The holding.
        product_id: String,
        /// The undrawn amount.
        undrawn: Money,
        /// The limit.
        limit: Money,
    },
    /// A configuration rate outside 0% … 100%.
    #[error("{field} {rate} is outside 0bp..=10000bp")]
    Config {
        /// `hurdle_rate` or `draw_ratio`.
        field: &'static str,
        /// The value.
        rate: BasisPoints,
    },
    /// A month given twice for one window.
    #[error("month {0} is given twice")]
    DuplicateMonth(Period),
    /// A window whose first month is after its last, or that starts before representable dates.
    #[error("invalid window of months ending {0}")]
    Window(Period),
    /// Money arithmetic failed (overflow or a currency mismatch between months).
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl From<Overflow> for ContributionError {
    fn from(_: Overflow) -> Self {
        ContributionError::Money(MoneyError::Overflow)
    }
}

/// A signed but (partly) undrawn credit facility.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditFacility {
    /// The facility limit; not negative.
    pub limit: Money,
    /// The undrawn amount at period end; not negative, at most the limit.
    pub undrawn: Money,
}

/// One month's snapshot of one holding, as core banking and the FTP and risk engines deliver it
/// (DOMAIN.md §2). Amounts are in the reporting currency; rates are annual.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldingSnapshot {
    /// The product (or account) the holding is reported under: 1–64 characters.
    pub product_id: String,
    /// The product's kind.
    pub kind: ProductKind,
    /// Average daily balance B over the month; not negative. Ignored for fee products.
    pub average_daily_balance: Money,
    /// The customer rate, per year.
    pub customer_rate: BasisPoints,
    /// The FTP rate, per year.
    pub ftp_rate: BasisPoints,
    /// Fee income of the month (any kind of product may earn fees); may be negative for a
    /// reversal.
    pub fee_income: Money,
    /// Operating cost allocated for the month; not negative.
    pub operating_cost: Money,
    /// Expected loss for the month; not negative.
    pub expected_loss: Money,
    /// Economic capital held (a stock); not negative.
    pub economic_capital: Money,
    /// For a credit facility (assets only): limit and undrawn amount.
    pub facility: Option<CreditFacility>,
}

/// The configuration of the contribution computation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContributionConfig {
    /// Hurdle rate of the capital charge, per year (default 12%).
    pub hurdle_rate: BasisPoints,
    /// Expected draw ratio of undrawn facilities (default 50%).
    pub draw_ratio: BasisPoints,
    /// The reporting currency (default CNY).
    pub currency: Currency,
}

impl Default for ContributionConfig {
    fn default() -> Self {
        Self {
            hurdle_rate: DEFAULT_HURDLE_RATE,
            draw_ratio: DEFAULT_DRAW_RATIO,
            currency: Currency::CNY,
        }
    }
}

impl ContributionConfig {
    /// Checks that the hurdle rate and the draw ratio are within 0% … 100%.
    pub fn validate(&self) -> Result<(), ContributionError> {
        for (field, rate) in [
            ("hurdle_rate", self.hurdle_rate),
            ("draw_ratio", self.draw_ratio),
        ] {
            if rate < BasisPoints::ZERO || rate > BasisPoints::ONE_HUNDRED_PERCENT {
                return Err(ContributionError::Config { field, rate });
            }
        }
        Ok(())
    }
}

/// The contribution of one holding, or (in a window) of one product summed over the months.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContributionLine {
    /// The product.
    pub product_id: String,
    /// The product's kind.
    pub kind: ProductKind,
    /// Net interest margin (0 for fee products).
    pub margin: Money,
    /// Fee income.
    pub fee_income: Money,
    /// Allocated operating cost.
    pub operating_cost: Money,
    /// Expected loss.
    pub expected_loss: Money,
    /// Capital charge: economic capital × hurdle × d/365.
    pub capital_charge: Money,
    /// margin + fee income − operating cost.
    pub before_risk: Money,
    /// before risk − expected loss − capital charge.
    pub after_risk: Money,
    /// Potential value of the undrawn facility (not part of before or after risk).
    pub potential: Money,
}

/// A contribution statement: totals and per-holding items.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContributionStatement {
    /// Net interest margin of the balance products.
    pub margin: Money,
    /// Fee income.
    pub fee_income: Money,
    /// Allocated operating cost.
    pub operating_cost: Money,
    /// Expected loss.
    pub expected_loss: Money,
    /// Capital charge.
    pub capital_charge: Money,
    /// Before risk: margin + fee income − operating cost.
    pub before_risk: Money,
    /// After risk: before risk − expected loss − capital charge.
    pub after_risk: Money,
    /// Potential value of undrawn facilities, kept apart from realised value:
    /// (customer rate − FTP rate) × undrawn × draw ratio × d/365.
    pub potential: Money,
    /// The items: one per holding for a month, one per (product, kind) for a window.
    pub items: Vec<ContributionLine>,
}

impl ContributionStatement {
    /// An empty statement in `currency`.
    pub fn zero(currency: Currency) -> Self {
        let z = Money::zero(currency);
        Self {
            margin: z,
            fee_income: z,
            operating_cost: z,
            expected_loss: z,
            capital_charge: z,
            before_risk: z,
            after_risk: z,
            potential: z,
            items: Vec::new(),
        }
    }
}

/// A customer's contribution for one month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyContribution {
    /// The month.
    pub period: Period,
    /// Its days d (28–31), the d of d/365.
    pub days: u32,
    /// The hurdle rate used.
    pub hurdle_rate: BasisPoints,
    /// The draw ratio used.
    pub draw_ratio: BasisPoints,
    /// The customer's own holdings.
    pub own: ContributionStatement,
    /// The linked retail line: the same computation over the holdings of the customer's
    /// executives and employees, shown separately and never added to `own`.
    pub linked_retail: ContributionStatement,
}

/// The exact (unrounded) figures of a holding or a sum of holdings, in major units.
#[derive(Clone, Copy, Default)]
struct Exact {
    margin: Decimal,
    fee_income: Decimal,
    operating_cost: Decimal,
    expected_loss: Decimal,
    capital_charge: Decimal,
    potential: Decimal,
}

impl Exact {
    fn plus(self, o: Exact) -> Result<Exact, Overflow> {
        Ok(Exact {
            margin: exact::add(self.margin, o.margin)?,
            fee_income: exact::add(self.fee_income, o.fee_income)?,
            operating_cost: exact::add(self.operating_cost, o.operating_cost)?,
            expected_loss: exact::add(self.expected_loss, o.expected_loss)?,
            capital_charge: exact::add(self.capital_charge, o.capital_charge)?,
            potential: exact::add(self.potential, o.potential)?,
        })
    }

    fn before_risk(&self) -> Result<Decimal, Overflow> {
        exact::sub(
            exact::add(self.margin, self.fee_income)?,
            self.operating_cost,
        )
    }

    fn after_risk(&self) -> Result<Decimal, Overflow> {
        exact::sub(
            exact::sub(self.before_risk()?, self.expected_loss)?,
            self.capital_charge,
        )
    }

    /// Rounds every figure once.
    fn round(&self, currency: Currency) -> Result<[Money; 8], MoneyError> {
        let m = |d: Decimal| Money::from_decimal(currency, d);
        let o = MoneyError::Overflow;
        Ok([
            m(self.margin)?,
            m(self.fee_income)?,
            m(self.operating_cost)?,
            m(self.expected_loss)?,
            m(self.capital_charge)?,
            m(self.before_risk().map_err(|_| o.clone())?)?,
            m(self.after_risk().map_err(|_| o.clone())?)?,
            m(self.potential)?,
        ])
    }
}

fn check_holding(h: &HoldingSnapshot, currency: Currency) -> Result<(), ContributionError> {
    let len = h.product_id.chars().count();
    if len == 0 || len > 64 {
        return Err(ContributionError::ProductId(clip(&h.product_id)));
    }
    let id = || h.product_id.clone();
    let mut amounts = vec![
        ("average_daily_balance", h.average_daily_balance, false),
        ("fee_income", h.fee_income, true),
        ("operating_cost", h.operating_cost, false),
        ("expected_loss", h.expected_loss, false),
        ("economic_capital", h.economic_capital, false),
    ];
    if let Some(f) = &h.facility {
        amounts.push(("facility_limit", f.limit, false));
        amounts.push(("undrawn_amount", f.undrawn, false));
    }
    for (field, amount, may_be_negative) in amounts {
        if amount.currency() != currency {
            return Err(ContributionError::Currency {
                product_id: id(),
                field,
                actual: amount.currency(),
                expected: currency,
            });
        }
        if amount.is_negative() && !may_be_negative {
            return Err(ContributionError::Negative {
                product_id: id(),
                field,
                amount,
            });
        }
    }
    for (field, rate) in [("customer_rate", h.customer_rate), ("ftp_rate", h.ftp_rate)] {
        if rate.value().unsigned_abs() > BasisPoints::ONE_HUNDRED_PERCENT.value().unsigned_abs() {
            return Err(ContributionError::RateRange {
                product_id: id(),
                field,
                rate,
            });
        }
    }
    if let Some(f) = &h.facility {
        if h.kind != ProductKind::Asset {
            return Err(ContributionError::FacilityOnNonAsset {
                product_id: id(),
                kind: h.kind,
            });
        }
        if f.undrawn.minor_units() > f.limit.minor_units() {
            return Err(ContributionError::UndrawnAboveLimit {
                product_id: id(),
                undrawn: f.undrawn,
                limit: f.limit,
            });
        }
    }
    Ok(())
}

fn exact_figures(
    h: &HoldingSnapshot,
    days: u32,
    config: &ContributionConfig,
) -> Result<Exact, ContributionError> {
    // Rates are within ±10,000 bp, so the differences cannot overflow.
    let asset_spread = h.customer_rate.checked_sub(h.ftp_rate)?.to_rate();
    let balance = h.average_daily_balance.to_decimal();
    let margin = match h.kind {
        ProductKind::Asset => accrual(balance, asset_spread, days)?,
        ProductKind::Liability => accrual(balance, -asset_spread, days)?,
        ProductKind::Fee => Decimal::ZERO,
    };
    let capital_charge = accrual(
        h.economic_capital.to_decimal(),
        config.hurdle_rate.to_rate(),
        days,
    )?;
    let potential = match &h.facility {
        Some(f) => {
            let expected_draw = exact::mul(f.undrawn.to_decimal(), config.draw_ratio.to_rate())?;
            accrual(expected_draw, asset_spread, days)?
        }
        None => Decimal::ZERO,
    };
    Ok(Exact {
        margin,
        fee_income: h.fee_income.to_decimal(),
        operating_cost: h.operating_cost.to_decimal(),
        expected_loss: h.expected_loss.to_decimal(),
        capital_charge,
        potential,
    })
}

fn line(product_id: String, kind: ProductKind, m: [Money; 8]) -> ContributionLine {
    let [
        margin,
        fee_income,
        operating_cost,
        expected_loss,
        capital_charge,
        before_risk,
        after_risk,
        potential,
    ] = m;
    ContributionLine {
        product_id,
        kind,
        margin,
        fee_income,
        operating_cost,
        expected_loss,
        capital_charge,
        before_risk,
        after_risk,
        potential,
    }
}

/// The contribution statement of `holdings` over `days` days (a month's d). Each item's
/// figures are rounded once from that holding's exact values; each total once from the exact
/// sum over all holdings.
pub fn contribution_statement(
    days: u32,
    holdings: &[HoldingSnapshot],
    config: &ContributionConfig,
) -> Result<ContributionStatement, ContributionError> {
    config.validate()?;
    let currency = config.currency;
    let mut total = Exact::default();
    let mut items = Vec::with_capacity(holdings.len());
    for h in holdings {
        check_holding(h, currency)?;
        let e = exact_figures(h, days, config)?;
        total = total.plus(e)?;
        items.push(line(h.product_id.clone(), h.kind, e.round(currency)?));
    }
    let [
        margin,
        fee_income,
        operating_cost,
        expected_loss,
        capital_charge,
        before_risk,
        after_risk,
        potential,
    ] = total.round(currency)?;
    Ok(ContributionStatement {
        margin,
        fee_income,
        operating_cost,
        expected_loss,
        capital_charge,
        before_risk,
        after_risk,
        potential,
        items,
    })
}

/// A customer's comprehensive contribution for `period` (d = the month's days), with the
/// linked retail line computed the same way over `linked_retail_holdings` (pass `&[]` for an
/// individual).
pub fn monthly_contribution(
    period: Period,
    holdings: &[HoldingSnapshot],
    linked_retail_holdings: &[HoldingSnapshot],
    config: &ContributionConfig,
) -> Result<MonthlyContribution, ContributionError> {
    let days = period.days();
    Ok(MonthlyContribution {
        period,
        days,
        hurdle_rate: config.hurdle_rate,
        draw_ratio: config.draw_ratio,
        own: contribution_statement(days, holdings, config)?,
        linked_retail: contribution_statement(days, linked_retail_holdings, config)?,
    })
}

/// The contribution over a window of months.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowContribution {
    /// The first month of the window.
    pub first: Period,
    /// The last month of the window.
    pub last: Period,
    /// The months of the window for which a monthly figure was given (missing months count as
    /// zero).
    pub months_with_data: u32,
    /// The sum of the own statements; items summed per (product, kind), ordered by product id.
    pub own: ContributionStatement,
    /// The sum of the linked retail statements.
    pub linked_retail: ContributionStatement,
}

fn add_statement(
    acc: &mut ContributionStatement,
    items: &mut BTreeMap<(String, ProductKind), ContributionLine>,
    s: &ContributionStatement,
) -> Result<(), MoneyError> {
    acc.margin = acc.margin.checked_add(s.margin)?;
    acc.fee_income = acc.fee_income.checked_add(s.fee_income)?;
    acc.operating_cost = acc.operating_cost.checked_add(s.operating_cost)?;
    acc.expected_loss = acc.expected_loss.checked_add(s.expected_loss)?;
    acc.capital_charge = acc.capital_charge.checked_add(s.capital_charge)?;
    acc.before_risk = acc.before_risk.checked_add(s.before_risk)?;
    acc.after_risk = acc.after_risk.checked_add(s.after_risk)?;
    acc.potential = acc.potential.checked_add(s.potential)?;
    for item in &s.items {
        let key = (item.product_id.clone(), item.kind);
        match items.get_mut(&key) {
            None => {
                items.insert(key, item.clone());
            }
            Some(t) => {
                t.margin = t.margin.checked_add(item.margin)?;
                t.fee_income = t.fee_income.checked_add(item.fee_income)?;
                t.operating_cost = t.operating_cost.checked_add(item.operating_cost)?;
                t.expected_loss = t.expected_loss.checked_add(item.expected_loss)?;
                t.capital_charge = t.capital_charge.checked_add(item.capital_charge)?;
                t.before_risk = t.before_risk.checked_add(item.before_risk)?;
                t.after_risk = t.after_risk.checked_add(item.after_risk)?;
                t.potential = t.potential.checked_add(item.potential)?;
            }
        }
    }
    Ok(())
}

/// Sums the monthly figures of the months `first ..= last` found in `months` (others are
/// ignored; a month given twice is an error). Totals are in `currency`.
pub fn window_contribution(
    first: Period,
    last: Period,
    months: &[MonthlyContribution],
    currency: Currency,
) -> Result<WindowContribution, ContributionError> {
    if first > last {
        return Err(ContributionError::Window(last));
    }
    let mut seen = Vec::new();
    let mut own = ContributionStatement::zero(currency);
    let mut linked = ContributionStatement::zero(currency);
    let mut own_items = BTreeMap::new();
    let mut linked_items = BTreeMap::new();
    for m in months
        .iter()
        .filter(|m| first <= m.period && m.period <= last)
    {
        if seen.contains(&m.period) {
            return Err(ContributionError::DuplicateMonth(m.period));
        }
        seen.push(m.period);
        add_statement(&mut own, &mut own_items, &m.own)?;
        add_statement(&mut linked, &mut linked_items, &m.linked_retail)?;
    }
    own.items = own_items.into_values().collect();
    linked.items = linked_items.into_values().collect();
    Ok(WindowContribution {
        first,
        last,
        months_with_data: u32::try_from(seen.len()).unwrap_or(u32::MAX),
        own,
        linked_retail: linked,
    })
}

/// The trailing twelve months ending with `as_of` (inclusive): what a price, a pricing rule or
/// a quote means by a customer's "contribution".
pub fn trailing_twelve_months(
    as_of: Period,
    months: &[MonthlyContribution],
    currency: Currency,
) -> Result<WindowContribution, ContributionError> {
    let mut first = as_of;
    for _ in 0..11 {
        first = first.prev().ok_or(ContributionError::Window(as_of))?;
    }
    window_contribution(first, as_of, months, currency)
}

/// January to `as_of` of `as_of`'s year.
pub fn year_to_date(
    as_of: Period,
    months: &[MonthlyContribution],
    currency: Currency,
) -> Result<WindowContribution, ContributionError> {
    let first = Period::new(as_of.year(), 1).map_err(|_| ContributionError::Window(as_of))?;
    window_contribution(first, as_of, months, currency)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(yuan: &str) -> Money {
        Money::parse(&format!("CNY {yuan}")).unwrap()
    }

    fn holding(product_id: &str, kind: ProductKind) -> HoldingSnapshot {
        HoldingSnapshot {
            product_id: product_id.into(),
            kind,
            average_daily_balance: cny("0"),
            customer_rate: BasisPoints::ZERO,
            ftp_rate: BasisPoints::ZERO,
            fee_income: cny("0"),
            operating_cost: cny("0"),
            expected_loss: cny("0"),
            economic_capital: cny("0"),
            facility: None,
        }
    }

    /// A deposit, a loan with an undrawn facility and a fee business.
    fn relationship() -> Vec<HoldingSnapshot> {
        vec![
            HoldingSnapshot {
                average_daily_balance: cny("10000000.00"),
                customer_rate: BasisPoints::new(150),
                ftp_rate: BasisPoints::new(220),
                operating_cost: cny("1200.00"),
                ..holding("demand_deposit", ProductKind::Liability)
            },
            HoldingSnapshot {
                average_daily_balance: cny("5000000.00"),
                customer_rate: BasisPoints::new(435),
                ftp_rate: BasisPoints::new(280),
                operating_cost: cny("800.00"),
                expected_loss: cny("1250.00"),
                economic_capital: cny("400000.00"),
                facility: Some(CreditFacility {
                    limit: cny("8000000.00"),
                    undrawn: cny("3000000.00"),
                }),
                ..holding("working_capital_loan", ProductKind::Asset)
            },
            HoldingSnapshot {
                fee_income: cny("3500.00"),
                operating_cost: cny("1925.00"),
                economic_capital: cny("525.00"),
                ..holding("cash_management", ProductKind::Fee)
            },
        ]
    }

    fn executive() -> Vec<HoldingSnapshot> {
        vec![HoldingSnapshot {
            average_daily_balance: cny("2000000.00"),
            customer_rate: BasisPoints::new(35),
            ftp_rate: BasisPoints::new(180),
            operating_cost: cny("150.00"),
            ..holding("personal_deposit", ProductKind::Liability)
        }]
    }

    fn september() -> Period {
        Period::new(2025, 9).unwrap()
    }

    #[test]
    fn a_deposit_loan_and_fee_month_to_the_fen() {
        let c = monthly_contribution(
            september(),
            &relationship(),
            &executive(),
            &ContributionConfig::default(),
        )
        .unwrap();
        assert_eq!(c.days, 30);
        let [dep, loan, fee] = &c.own.items[..] else {
            panic!("three items")
        };
        // Deposit: 10,000,000 × (2.20% − 1.50%) × 30/365 = 2,100,000/365 = 5,753.4246575… → 5,753.42
        assert_eq!(dep.margin, cny("5753.42"));
        assert_eq!(dep.before_risk, cny("4553.42")); // 5,753.4246… − 1,200
        assert_eq!(dep.after_risk, cny("4553.42"));
        assert_eq!(dep.capital_charge, cny("0.00"));
        assert_eq!(dep.potential, cny("0.00"));
        // Loan: 5,000,000 × (4.35% − 2.80%) × 30/365 = 2,325,000/365 = 6,369.8630136… → 6,369.86
        assert_eq!(loan.margin, cny("6369.86"));
        // Capital charge: 400,000 × 12% × 30/365 = 1,440,000/365 = 3,945.2054794… → 3,945.21
        assert_eq!(loan.capital_charge, cny("3945.21"));
        assert_eq!(loan.before_risk, cny("5569.86")); // 6,369.8630… − 800
        // 6,369.8630136… − 800 − 1,250 − 3,945.2054794… = 374.6575342… → 374.66
        assert_eq!(loan.after_risk, cny("374.66"));
        // Potential: 3,000,000 × 50% × 1.55% × 30/365 = 697,500/365 = 1,910.9589041… → 1,910.96
        assert_eq!(loan.potential, cny("1910.96"));
        // Fee: 3,500 − 1,925 = 1,575.00; capital 525 × 12% × 30/365 = 1,890/365 = 5.1780821… → 5.18
        assert_eq!(fee.margin, cny("0.00"));
        assert_eq!(fee.before_risk, cny("1575.00"));
        assert_eq!(fee.capital_charge, cny("5.18"));
        assert_eq!(fee.after_risk, cny("1569.82")); // 1,575 − 5.1780821… = 1,569.8219…

        let own = &c.own;
        // Margin: (2,100,000 + 2,325,000)/365 = 12,123.2876712… → 12,123.29, one fen more than
        // the rounded items (5,753.42 + 6,369.86 = 12,123.28): rounded once, from the exact sum.
        assert_eq!(own.margin, cny("12123.29"));
        assert_eq!(own.fee_income, cny("3500.00"));
        assert_eq!(own.operating_cost, cny("3925.00")); // 1,200 + 800 + 1,925
        assert_eq!(own.expected_loss, cny("1250.00"));
        // (400,000 + 525) × 12% × 30/365 = 1,441,890/365 = 3,950.3835616… → 3,950.38
        // (the items round to 3,945.21 + 5.18 = 3,950.39)
        assert_eq!(own.capital_charge, cny("3950.38"));
        // 12,123.2876712… + 3,500 − 3,925 = 11,698.2876712… → 11,698.29
        assert_eq!(own.before_risk, cny("11698.29"));
        // 11,698.2876712… − 1,250 − 3,950.3835616… = 6,497.9041095… → 6,497.90
        assert_eq!(own.after_risk, cny("6497.90"));
        assert_eq!(own.potential, cny("1910.96"));

        // Linked retail: 2,000,000 × (1.80% − 0.35%) × 30/365 = 870,000/365 = 2,383.5616438…
        let linked = &c.linked_retail;
        assert_eq!(linked.margin, cny("2383.56"));
        assert_eq!(linked.before_risk, cny("2233.56"));
        assert_eq!(linked.after_risk, cny("2233.56"));
        assert_eq!(linked.items.len(), 1);
    }

    #[test]
    fn hurdle_draw_ratio_and_days_are_configuration() {
        let config = ContributionConfig {
            hurdle_rate: BasisPoints::new(1_000),
            draw_ratio: BasisPoints::new(10_000),
            currency: Currency::CNY,
        };
        // February 2024: 29 days.
        let feb = Period::new(2024, 2).unwrap();
        let c = monthly_contribution(feb, &relationship()[1..2], &[], &config).unwrap();
        assert_eq!(c.days, 29);
        // 400,000 × 10% × 29/365 = 1,160,000/365 = 3,178.0821917… → 3,178.08
        assert_eq!(c.own.capital_charge, cny("3178.08"));
        // 3,000,000 × 100% × 1.55% × 29/365 = 1,348,500/365 = 3,694.5205479… → 3,694.52
        assert_eq!(c.own.potential, cny("3694.52"));
        assert_eq!(c.linked_retail, ContributionStatement::zero(Currency::CNY));
        // Negative spreads give negative margins, not errors.
        let mut upside_down = relationship();
        upside_down[0].customer_rate = BasisPoints::new(300);
        let s =
            contribution_statement(30, &upside_down[..1], &ContributionConfig::default()).unwrap();
        // 10,000,000 × (2.20% − 3.00%) × 30/365 = −2,400,000/365 = −6,575.3424657… → −6,575.34
        assert_eq!(s.margin, cny("-6575.34"));
        let bad = ContributionConfig {
            hurdle_rate: BasisPoints::new(10_001),
            ..ContributionConfig::default()
        };
        assert_eq!(
            contribution_statement(30, &[], &bad),
            Err(ContributionError::Config {
                field: "hurdle_rate",
                rate: BasisPoints::new(10_001)
            })
        );
    }

    #[test]
    fn bad_holdings_name_the_product_and_field() {
        let config = ContributionConfig::default();
        let check = |mutate: &dyn Fn(&mut HoldingSnapshot)| {
            let mut hs = relationship();
            mutate(&mut hs[1]);
            contribution_statement(30, &hs, &config)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            check(&|h| h.average_daily_balance = cny("-1.00")),
            "average_daily_balance of holding \"working_capital_loan\" is negative: CNY -1.00"
        );
        assert_eq!(
            check(&|h| h.expected_loss = Money::from_minor(Currency::USD, 5)),
            "expected_loss of holding \"working_capital_loan\" is in USD, expected CNY"
        );
        assert_eq!(
            check(&|h| h.ftp_rate = BasisPoints::new(28_000)),
            "ftp_rate of holding \"working_capital_loan\" is 28000bp, outside -10000bp..=10000bp"
        );
        assert_eq!(
            check(&|h| h.facility = Some(CreditFacility {
                limit: cny("1.00"),
                undrawn: cny("2.00")
            })),
            "undrawn amount CNY 2.00 of holding \"working_capital_loan\" exceeds its limit CNY 1.00"
        );
        assert_eq!(
            check(&|h| h.kind = ProductKind::Liability),
            "holding \"working_capital_loan\" is a liability product and cannot carry a credit facility"
        );
        assert_eq!(
            check(&|h| h.product_id = String::new()),
            "invalid product id \"\": 1 to 64 characters"
        );
        // A fee reversal is allowed.
        let mut hs = relationship();
        hs[2].fee_income = cny("-100.00");
        let s = contribution_statement(30, &hs, &config).unwrap();
        assert_eq!(s.fee_income, cny("-100.00"));
    }

    #[test]
    fn trailing_twelve_months_and_year_to_date_sum_the_months() {
        let config = ContributionConfig::default();
        let hs = relationship();
        // Months from 2024-08 to 2025-09 (14 months), each with the same holdings.
        let mut months = Vec::new();
        let mut p = Period::new(2024, 8).unwrap();
        while p <= september() {
            months.push(monthly_contribution(p, &hs, &executive(), &config).unwrap());
            p = p.next().unwrap();
        }
        let ttm = trailing_twelve_months(september(), &months, Currency::CNY).unwrap();
        assert_eq!(ttm.first, Period::new(2024, 10).unwrap());
        assert_eq!(ttm.months_with_data, 12);
        // The sum of the 12 rounded monthly figures, exactly.
        let expected: i64 = months[2..]
            .iter()
            .map(|m| m.own.after_risk.minor_units())
            .sum();
        assert_eq!(ttm.own.after_risk.minor_units(), expected);
        let linked: i64 = months[2..]
            .iter()
            .map(|m| m.linked_retail.after_risk.minor_units())
            .sum();
        assert_eq!(ttm.linked_retail.after_risk.minor_units(), linked);
        // 2024-10 … 2025-09 has 365 days, so the margin sums month by month to about a year of
        // it: 10,000,000 × 0.70% + 5,000,000 × 1.55% = 70,000 + 77,500 = 147,500 (± rounding).
        assert!(
            (ttm.own.margin.to_decimal() - rust_decimal::Decimal::from(147_500)).abs()
                < rust_decimal::Decimal::ONE
        );
        // Items summed per product, ordered by product id.
        let ids: Vec<&str> = ttm
            .own
            .items
            .iter()
            .map(|i| i.product_id.as_str())
            .collect();
        assert_eq!(
            ids,
            ["cash_management", "demand_deposit", "working_capital_loan"]
        );
        assert_eq!(ttm.own.items[0].fee_income, cny("42000.00")); // 12 × 3,500
        // Year to date: January to September 2025.
        let ytd = year_to_date(september(), &months, Currency::CNY).unwrap();
        assert_eq!(ytd.months_with_data, 9);
        assert_eq!(ytd.own.fee_income, cny("31500.00"));
        // Missing months count as zero; duplicates are refused.
        let sparse = trailing_twelve_months(september(), &months[..3], Currency::CNY).unwrap();
        assert_eq!(sparse.months_with_data, 1);
        assert_eq!(sparse.own.after_risk, months[2].own.after_risk);
        let mut twice = months.clone();
        twice.push(months[5].clone());
        assert_eq!(
            trailing_twelve_months(september(), &twice, Currency::CNY),
            Err(ContributionError::DuplicateMonth(months[5].period))
        );
        assert!(
            window_contribution(
                september(),
                Period::new(2025, 1).unwrap(),
                &months,
                Currency::CNY
            )
            .is_err()
        );
    }
}
