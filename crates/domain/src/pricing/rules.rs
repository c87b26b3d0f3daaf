//! Relationship pricing (DOMAIN.md §4, seed 000 篇1 §4 and 篇3 §3(5)): versioned, effective-dated
//! rules that grant a customer a better price from what the customer is — customer kind,
//! corporate tier, wealth tier, segments, lifecycle stage, minimum trailing-twelve-month
//! comprehensive contribution — and the [`Benefit`] types shared with bundle components. This
//! module owns the customer facts pricing reads, the conditions and their explanations, the
//! benefits and their exact meaning (the proto's `BenefitType`), and the relationship price of an
//! item: the list price after the rules.
//!
//! **Combination order.** The rules in force on the pricing date whose target matches the item
//! (product ids, kind, category, line; a benefit that cannot apply to the item's kind or currency
//! does not match) are taken in ascending `priority`, then `rule_id`. Each rule whose customer
//! conditions all hold applies its benefit to the price left by the rule before it (so fixed
//! benefits replace and spreads add, in that order). After an **exclusive** rule applies, or a
//! **waive** (a fee of 0, which nothing after can lower), no further rule applies to the item;
//! the rules skipped are explained as such. Bundle component benefits apply after the rules, and
//! regulatory limits are checked last (in [`quote`](super::quote)). A benefit never moves a price
//! against the customer and never takes a loan rate or a fee below zero.
//!
//! **Benefits.** `Waive`: fee → 0 (fee products only). `FixedPercent(p)`: the price moves by
//! p/10,000 of itself in the customer's favour — a fee or loan rate × (1 − p), a deposit rate
//! × (1 + p); a rate moves by a whole number of basis points (rounded half away from zero), a fee
//! is rounded to the minor unit. `SpreadPercent(s)`: rate products only, s basis points — a
//! deposit rate + s, a loan rate − s. `FixedAmount(a)`: fee products only, the fee becomes `a`
//! (but never more than it was). `SpreadAmount(a)`: fee products only, the fee is reduced by `a`,
//! not below zero.

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use super::catalogue::{Price, Product, ProductCategory, ProductKind, check_product_id};
use super::effective::EffectiveRange;
use super::{PricingError, PricingViolation, UnmetCondition, violations_result};
use crate::customer::{CorporateTier, CustomerKind, LifecycleStage, WealthTier};
use crate::exact;
use crate::money::{BasisPoints, Currency, Money, MoneyError, ROUNDING};
use crate::org::BusinessLine;
use crate::tiers::grouped;

/// What pricing knows of a customer: the facts its rules and bundles test, and the holdings that
/// meet bundle prerequisites. Unknown facts fail the conditions on them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomerFacts {
    /// The customer kind.
    pub kind: Option<CustomerKind>,
    /// The corporate tier; `None` when unlisted or not a corporate customer.
    pub corporate_tier: Option<CorporateTier>,
    /// The retail wealth tier; `None` when not known.
    pub wealth_tier: Option<WealthTier>,
    /// The segments the customer belongs to.
    pub segment_ids: Vec<String>,
    /// The lifecycle stage.
    pub stage: Option<LifecycleStage>,
    /// The trailing-twelve-month comprehensive contribution after risk, in CNY; also echoed on a
    /// quote as the existing contribution.
    pub ttm_contribution: Option<Money>,
    /// Products the customer holds (for `HoldsProduct` prerequisites).
    pub held_product_ids: Vec<String>,
    /// Categories of the products the customer holds (for `HoldsCategory` prerequisites).
    pub held_categories: Vec<ProductCategory>,
    /// How many of the customer's executives hold a personal account with the bank.
    pub executives_with_personal_accounts: u32,
}

/// Who qualifies for a rule or a bundle: every non-empty condition must hold; a list holds when
/// the customer matches any of its values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerCondition {
    /// Customer kinds.
    pub kinds: Vec<CustomerKind>,
    /// Corporate tiers.
    pub corporate_tiers: Vec<CorporateTier>,
    /// Wealth tiers.
    pub wealth_tiers: Vec<WealthTier>,
    /// Segment ids.
    pub segment_ids: Vec<String>,
    /// Lifecycle stages.
    pub stages: Vec<LifecycleStage>,
    /// Minimum trailing-twelve-month contribution after risk, in CNY (inclusive).
    pub min_ttm_contribution: Option<Money>,
}

impl CustomerCondition {
    /// Checks the condition: the minimum contribution in CNY and not negative, segment ids 1 to
    /// 64 characters.
    pub fn validate(&self) -> Result<(), Vec<PricingViolation>> {
        let mut v = Vec::new();
        if let Some(min) = self.min_ttm_contribution {
            if min.currency() != Currency::CNY {
                v.push(PricingViolation::new(
                    "min_ttm_contribution",
                    format!("must be in CNY, not {}", min.currency()),
                ));
            } else if min.is_negative() {
                v.push(PricingViolation::new(
                    "min_ttm_contribution",
                    "must not be negative",
                ));
            }
        }
        for (i, s) in self.segment_ids.iter().enumerate() {
            if s.is_empty() || s.chars().count() > 64 {
                v.push(PricingViolation::new(
                    format!("segment_ids[{i}]"),
                    "must be 1 to 64 characters",
                ));
            }
        }
        violations_result(v)
    }

    /// The conditions `facts` do not meet (empty when all hold). `subject` names what imposes
    /// them in the messages, e.g. `rule` → "contribution RMB 180,000.00, rule needs 200,000.00".
    pub fn unmet(&self, facts: &CustomerFacts, subject: &str) -> Vec<UnmetCondition> {
        let mut out = Vec::new();
        list_condition(
            &mut out,
            "kinds",
            "customer kind",
            &self.kinds,
            facts.kind.as_ref(),
            subject,
        );
        list_condition(
            &mut out,
            "corporate_tiers",
            "corporate tier",
            &self.corporate_tiers,
            facts.corporate_tier.as_ref(),
            subject,
        );
        list_condition(
            &mut out,
            "wealth_tiers",
            "wealth tier",
            &self.wealth_tiers,
            facts.wealth_tier.as_ref(),
            subject,
        );
        if !self.segment_ids.is_empty()
            && !facts
                .segment_ids
                .iter()
                .any(|s| self.segment_ids.contains(s))
        {
            let actual = if facts.segment_ids.is_empty() {
                "none".to_owned()
            } else {
                facts.segment_ids.join(", ")
            };
            let required = one_of(&self.segment_ids);
            out.push(UnmetCondition {
                condition: "segment_ids".into(),
                message: format!("segments {actual}, {subject} needs {required}"),
                actual,
                required,
            });
        }
        list_condition(
            &mut out,
            "stages",
            "lifecycle stage",
            &self.stages,
            facts.stage.as_ref(),
            subject,
        );
        if let Some(min) = self.min_ttm_contribution {
            let met = facts.ttm_contribution.is_some_and(|c| {
                c.currency() == min.currency() && c.minor_units() >= min.minor_units()
            });
            if !met {
                let actual = facts
                    .ttm_contribution
                    .map_or_else(|| "unknown".to_owned(), with_code);
                let message = match facts.ttm_contribution {
                    Some(c) => format!(
                        "contribution {} {}, {subject} needs {}",
                        display_currency(c.currency()),
                        grouped(c),
                        if c.currency() == min.currency() {
                            grouped(min)
                        } else {
                            with_code(min)
                        }
                    ),
                    None => format!("contribution unknown, {subject} needs {}", grouped(min)),
                };
                out.push(UnmetCondition {
                    condition: "min_ttm_contribution".into(),
                    actual,
                    required: with_code(min),
                    message,
                });
            }
        }
        out
    }
}

fn list_condition<T: PartialEq + fmt::Display>(
    out: &mut Vec<UnmetCondition>,
    condition: &str,
    what: &str,
    allowed: &[T],
    actual: Option<&T>,
    subject: &str,
) {
    if allowed.is_empty() || actual.is_some_and(|a| allowed.contains(a)) {
        return;
    }
    let actual = actual.map_or_else(|| "none".to_owned(), ToString::to_string);
    let required = one_of(allowed);
    out.push(UnmetCondition {
        condition: condition.to_owned(),
        message: format!("{what} {actual}, {subject} needs {required}"),
        actual,
        required,
    });
}

fn one_of<T: fmt::Display>(values: &[T]) -> String {
    let joined = values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if values.len() == 1 {
        joined
    } else {
        format!("one of {joined}")
    }
}

/// `CNY 180,000.00`.
fn with_code(m: Money) -> String {
    format!("{} {}", m.currency(), grouped(m))
}

/// `RMB` for CNY in sentences, the ISO code otherwise.
fn display_currency(c: Currency) -> String {
    if c == Currency::CNY {
        "RMB".to_owned()
    } else {
        c.to_string()
    }
}

/// A price benefit of a rule or a bundle component; see the module doc for each meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Benefit {
    /// Fee products only: the fee is waived (becomes zero).
    Waive,
    /// A share of the price itself, 1 to 10,000 bp of it, in the customer's favour.
    FixedPercent(BasisPoints),
    /// Rate products only: a spread of 1 to 10,000 bp (deposit rate up, loan rate down).
    SpreadPercent(BasisPoints),
    /// Fee products only: the annual fee is set to this amount (never raised by it).
    FixedAmount(Money),
    /// Fee products only: the annual fee is reduced by this amount, not below zero.
    SpreadAmount(Money),
}

impl Benefit {
    /// The proto's name of the benefit type, e.g. `spread_percent`.
    pub fn type_code(&self) -> &'static str {
        match self {
            Benefit::Waive => "waive",
            Benefit::FixedPercent(_) => "fixed_percent",
            Benefit::SpreadPercent(_) => "spread_percent",
            Benefit::FixedAmount(_) => "fixed_amount",
            Benefit::SpreadAmount(_) => "spread_amount",
        }
    }

    /// Whether the benefit can apply to a product of `kind`.
    pub fn fits(&self, kind: ProductKind) -> bool {
        match self {
            Benefit::FixedPercent(_) => true,
            Benefit::SpreadPercent(_) => kind != ProductKind::Fee,
            Benefit::Waive | Benefit::FixedAmount(_) | Benefit::SpreadAmount(_) => {
                kind == ProductKind::Fee
            }
        }
    }

    /// The currency of an amount benefit.
    pub fn currency(&self) -> Option<Currency> {
        match self {
            Benefit::FixedAmount(m) | Benefit::SpreadAmount(m) => Some(m.currency()),
            _ => None,
        }
    }

    /// Whether the benefit can apply to a product of `kind` in `currency` (an amount must be in
    /// the product's currency).
    pub fn applies_to(&self, kind: ProductKind, currency: Currency) -> bool {
        self.fits(kind) && self.currency().is_none_or(|c| c == currency)
    }

    /// Checks the value: percentages and spreads 1 to 10,000 bp (`value_bps`), amounts not
    /// negative (`amount`).
    pub fn validate(&self) -> Result<(), Vec<PricingViolation>> {
        match self {
            Benefit::FixedPercent(p) | Benefit::SpreadPercent(p)
                if !(1..=10_000).contains(&p.value()) =>
            {
                Err(vec![PricingViolation::new(
                    "value_bps",
                    format!(
                        "{} is outside 1 to 10000 bp (more than 100% is not allowed)",
                        p.value()
                    ),
                )])
            }
            Benefit::FixedAmount(m) | Benefit::SpreadAmount(m) if m.is_negative() => {
                Err(vec![PricingViolation::new(
                    "amount",
                    "must not be negative",
                )])
            }
            _ => Ok(()),
        }
    }

    /// The price after the benefit for a product of `kind`. Fails (naming `benefit_type` or
    /// `amount`) when the benefit cannot apply to the kind or the price's form or currency.
    pub fn apply(&self, kind: ProductKind, price: Price) -> Result<Price, PricingError> {
        let wrong = || {
            PricingError::invalid(
                "benefit_type",
                format!(
                    "a {} benefit cannot apply to a {kind} product",
                    self.type_code()
                ),
            )
        };
        if !self.fits(kind) || !price.fits(kind) {
            return Err(wrong());
        }
        self.validate()?;
        match (self, price) {
            (Benefit::Waive, Price::AnnualFee(fee)) => {
                Ok(Price::AnnualFee(Money::zero(fee.currency())))
            }
            (Benefit::FixedPercent(p), Price::AnnualFee(fee)) => {
                let keep = exact::sub(Decimal::ONE, p.to_rate())?;
                Ok(Price::AnnualFee(fee.checked_mul_decimal(keep)?))
            }
            (Benefit::FixedPercent(p), Price::Rate(rate)) => {
                let moved = exact::mul(Decimal::from(rate.value()), p.to_rate())?
                    .round_dp_with_strategy(0, ROUNDING)
                    .to_i32()
                    .ok_or(MoneyError::Overflow)?;
                rate_in_favour(kind, rate, BasisPoints::new(moved))
            }
            (Benefit::SpreadPercent(s), Price::Rate(rate)) => rate_in_favour(kind, rate, *s),
            (Benefit::FixedAmount(a), Price::AnnualFee(fee))
            | (Benefit::SpreadAmount(a), Price::AnnualFee(fee))
                if a.currency() != fee.currency() =>
            {
                Err(PricingError::invalid(
                    "amount",
                    format!(
                        "is in {}, the product is in {}",
                        a.currency(),
                        fee.currency()
                    ),
                ))
            }
            (Benefit::FixedAmount(a), Price::AnnualFee(fee)) => {
                Ok(Price::AnnualFee(if a.minor_units() < fee.minor_units() {
                    *a
                } else {
                    fee
                }))
            }
            (Benefit::SpreadAmount(a), Price::AnnualFee(fee)) => {
                let reduced = fee.minor_units().saturating_sub(a.minor_units()).max(0);
                Ok(Price::AnnualFee(Money::from_minor(fee.currency(), reduced)))
            }
            _ => Err(wrong()),
        }
    }
}

/// Moves a rate by `by` bp in the customer's favour: a loan rate down (not below zero, and a
/// negative rate is left as it is), a deposit rate up.
fn rate_in_favour(
    kind: ProductKind,
    rate: BasisPoints,
    by: BasisPoints,
) -> Result<Price, PricingError> {
    let by = by.value().abs();
    Ok(Price::Rate(match kind {
        ProductKind::Asset => {
            BasisPoints::new(rate.value().saturating_sub(by).max(rate.value().min(0)))
        }
        _ => rate.checked_add(BasisPoints::new(by))?,
    }))
}

impl fmt::Display for Benefit {
    /// `waive`, `fixed 20.00%`, `spread 5bp`, `fixed amount CNY 1,000.00`, `less CNY 500.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Benefit::Waive => f.write_str("waive"),
            Benefit::FixedPercent(p) => {
                write!(f, "fixed {}%", Decimal::new(i64::from(p.value()), 2))
            }
            Benefit::SpreadPercent(s) => write!(f, "spread {s}"),
            Benefit::FixedAmount(a) => write!(f, "fixed amount {}", with_code(*a)),
            Benefit::SpreadAmount(a) => write!(f, "less {}", with_code(*a)),
        }
    }
}

/// Which quote items a rule applies to; every non-empty field must match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleTarget {
    /// Product ids.
    pub product_ids: Vec<String>,
    /// Product kind; any when `None`.
    pub product_kind: Option<ProductKind>,
    /// Product category; any when `None`.
    pub product_category: Option<ProductCategory>,
    /// Business line; any when `None`.
    pub line: Option<BusinessLine>,
}

impl RuleTarget {
    /// Whether `product` is targeted.
    pub fn matches(&self, product: &Product) -> bool {
        (self.product_ids.is_empty() || self.product_ids.contains(&product.product_id))
            && self.product_kind.is_none_or(|k| k == product.kind)
            && self.product_category.is_none_or(|c| c == product.category)
            && self.line.is_none_or(|l| l == product.line)
    }
}

/// A relationship pricing rule: one version of a versioned, effective-dated rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingRule {
    /// Stable id of the rule series.
    pub rule_id: String,
    /// The version.
    pub version: i64,
    /// Display name, 1 to 200 characters.
    pub name: String,
    /// Order of application; lower first (ties by `rule_id`).
    pub priority: i32,
    /// Who qualifies.
    pub condition: CustomerCondition,
    /// Which items it applies to.
    pub target: RuleTarget,
    /// What it grants.
    pub benefit: Benefit,
    /// When it applies, no rule after it applies to the same item.
    pub exclusive: bool,
    /// When it is in force.
    pub effective: EffectiveRange,
}

impl PricingRule {
    /// Checks the rule: name 1 to 200 characters, a valid condition, target product ids and
    /// benefit, a benefit that fits the target's kind (when the target names one), a valid
    /// range. Every problem is returned, named by its proto field path.
    pub fn validate(&self) -> Result<(), Vec<PricingViolation>> {
        let mut v = Vec::new();
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            v.push(PricingViolation::new("name", "must be 1 to 200 characters"));
        }
        v.extend(super::prefix_all(self.condition.validate(), "condition"));
        for (i, id) in self.target.product_ids.iter().enumerate() {
            if let Err(m) = check_product_id(id) {
                v.push(PricingViolation::new(format!("target.product_ids[{i}]"), m));
            }
        }
        v.extend(super::prefix_all(self.benefit.validate(), "benefit"));
        if let Some(kind) = self.target.product_kind
            && !self.benefit.fits(kind)
        {
            v.push(PricingViolation::new(
                "benefit.benefit_type",
                format!(
                    "a {} benefit cannot apply to the target's {kind} products",
                    self.benefit.type_code()
                ),
            ));
        }
        if let Err(e) = self.effective.validate() {
            v.push(e.prefixed("effective"));
        }
        violations_result(v)
    }

    /// Whether the rule is in force on `date` and targets `product` with a benefit that can
    /// apply to it.
    pub fn targets(&self, product: &Product, date: NaiveDate) -> bool {
        self.effective.contains(date)
            && self.target.matches(product)
            && self.benefit.applies_to(product.kind, product.currency)
    }
}

/// Why a rule did or did not apply to an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleExplanation {
    /// The rule.
    pub rule_id: String,
    /// The rule version evaluated.
    pub rule_version: i64,
    /// The rule's name.
    pub name: String,
    /// Whether it applied.
    pub applied: bool,
    /// For an applied rule: the price before it.
    pub price_before: Option<Price>,
    /// For an applied rule: the price after it.
    pub price_after: Option<Price>,
    /// For a rule that did not apply: what the customer lacks, or (condition `exclusive`) the
    /// rule that stopped it.
    pub unmet: Vec<UnmetCondition>,
}

impl RuleExplanation {
    /// One line for the manager: `VIP deposit bonus: applied, 0.35% → 0.40%` or
    /// `Big-contributor loan discount: not applied: contribution RMB 180,000.00, rule needs
    /// 200,000.00`.
    pub fn text(&self) -> String {
        match (self.applied, self.price_before, self.price_after) {
            (true, Some(before), Some(after)) => {
                format!("{}: applied, {before} → {after}", self.name)
            }
            _ => format!(
                "{}: not applied: {}",
                self.name,
                self.unmet
                    .iter()
                    .map(|u| u.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        }
    }
}

/// The relationship price of an item and how the rules made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelationshipPrice {
    /// The list price after the rules.
    pub price: Price,
    /// Every rule that targets the item, in application order, applied or not.
    pub explanations: Vec<RuleExplanation>,
}

impl RelationshipPrice {
    /// The ids of the rules that applied, in order.
    pub fn applied_rule_ids(&self) -> impl Iterator<Item = &str> {
        self.explanations
            .iter()
            .filter(|e| e.applied)
            .map(|e| e.rule_id.as_str())
    }
}

/// The relationship price of `product` for the customer: `list` after every rule in force on
/// `date` that targets the product, in the order and with the effects the module doc states.
pub fn relationship_price(
    rules: &[PricingRule],
    facts: &CustomerFacts,
    product: &Product,
    list: Price,
    date: NaiveDate,
) -> Result<RelationshipPrice, PricingError> {
    let mut targeted: Vec<&PricingRule> =
        rules.iter().filter(|r| r.targets(product, date)).collect();
    targeted.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then_with(|| a.rule_id.cmp(&b.rule_id))
    });
    let mut price = list;
    let mut explanations = Vec::with_capacity(targeted.len());
    let mut stopped_by: Option<(&PricingRule, &'static str)> = None;
    for rule in targeted {
        let explanation = |applied, before, after, unmet| RuleExplanation {
            rule_id: rule.rule_id.clone(),
            rule_version: rule.version,
            name: rule.name.clone(),
            applied,
            price_before: before,
            price_after: after,
            unmet,
        };
        if let Some((by, why)) = stopped_by {
            let message = format!("{why} rule {} ({}) applied first", by.rule_id, by.name);
            explanations.push(explanation(
                false,
                None,
                None,
                vec![UnmetCondition {
                    condition: "exclusive".into(),
                    actual: format!("{why} rule {}", by.rule_id),
                    required: "no exclusive or waiving rule before it".into(),
                    message,
                }],
            ));
            continue;
        }
        let unmet = rule.condition.unmet(facts, "rule");
        if !unmet.is_empty() {
            explanations.push(explanation(false, None, None, unmet));
            continue;
        }
        let after = rule
            .benefit
            .apply(product.kind, price)
            .map_err(|e| e.prefixed(&format!("rule {}.benefit", rule.rule_id)))?;
        explanations.push(explanation(true, Some(price), Some(after), Vec::new()));
        price = after;
        if rule.exclusive {
            stopped_by = Some((rule, "exclusive"));
        } else if rule.benefit == Benefit::Waive {
            stopped_by = Some((rule, "waiving"));
        }
    }
    Ok(RelationshipPrice {
        price,
        explanations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn bp(v: i32) -> BasisPoints {
        BasisPoints::new(v)
    }

    fn cny(yuan: i64) -> Money {
        Money::from_minor(Currency::CNY, yuan * 100)
    }

    fn product(id: &str, kind: ProductKind, category: ProductCategory) -> Product {
        Product {
            product_id: id.into(),
            name: id.into(),
            line: BusinessLine::Corporate,
            kind,
            category,
            currency: Currency::CNY,
            active: true,
        }
    }

    fn loan() -> Product {
        product("LOAN", ProductKind::Asset, ProductCategory::Loan)
    }

    fn deposit() -> Product {
        product("DEP", ProductKind::Liability, ProductCategory::Deposit)
    }

    fn fee() -> Product {
        product("PAYROLL", ProductKind::Fee, ProductCategory::Payroll)
    }

    fn rule(id: &str, priority: i32, benefit: Benefit) -> PricingRule {
        PricingRule {
            rule_id: id.into(),
            version: 1,
            name: format!("rule {id}"),
            priority,
            condition: CustomerCondition::default(),
            target: RuleTarget::default(),
            benefit,
            exclusive: false,
            effective: EffectiveRange::starting(d(2025, 1, 1)),
        }
    }

    fn facts() -> CustomerFacts {
        CustomerFacts {
            kind: Some(CustomerKind::Corporate),
            corporate_tier: Some(CorporateTier::Tier2Branch),
            stage: Some(LifecycleStage::Core),
            ttm_contribution: Some(cny(180_000)),
            segment_ids: vec!["seg-a".into()],
            ..CustomerFacts::default()
        }
    }

    fn apply(b: Benefit, kind: ProductKind, price: Price) -> Price {
        b.apply(kind, price).unwrap()
    }

    #[test]
    fn each_benefit_type_means_what_the_proto_says() {
        use ProductKind::*;
        let rate = |v| Price::Rate(bp(v));
        let fee = |y| Price::AnnualFee(cny(y));
        // Waive: fee to 0.
        assert_eq!(apply(Benefit::Waive, Fee, fee(1_000)), fee(0));
        // Fixed percent: 20% off a fee; a loan rate down, a deposit rate up by 20% of itself.
        assert_eq!(
            apply(Benefit::FixedPercent(bp(2_000)), Fee, fee(1_000)),
            fee(800)
        );
        assert_eq!(
            apply(Benefit::FixedPercent(bp(2_000)), Asset, rate(400)),
            rate(320)
        );
        assert_eq!(
            apply(Benefit::FixedPercent(bp(2_000)), Liability, rate(35)),
            rate(42)
        );
        // 15% of 345 bp is 51.75 bp: the move is rounded to 52 bp.
        assert_eq!(
            apply(Benefit::FixedPercent(bp(1_500)), Asset, rate(345)),
            rate(293)
        );
        // 100% off a fee is a waiver; a fee percentage rounds to the fen once.
        assert_eq!(
            apply(Benefit::FixedPercent(bp(10_000)), Fee, fee(1_000)),
            fee(0)
        );
        assert_eq!(
            apply(
                Benefit::FixedPercent(bp(3_333)),
                Fee,
                Price::AnnualFee(Money::from_minor(Currency::CNY, 1_001))
            ),
            Price::AnnualFee(Money::from_minor(Currency::CNY, 667))
        );
        // Spread percent: +5 bp on a deposit, −25 bp on a loan, a loan never below 0.
        assert_eq!(
            apply(Benefit::SpreadPercent(bp(5)), Liability, rate(35)),
            rate(40)
        );
        assert_eq!(
            apply(Benefit::SpreadPercent(bp(25)), Asset, rate(400)),
            rate(375)
        );
        assert_eq!(
            apply(Benefit::SpreadPercent(bp(25)), Asset, rate(10)),
            rate(0)
        );
        // Fixed amount replaces the fee but never raises it.
        assert_eq!(
            apply(Benefit::FixedAmount(cny(300)), Fee, fee(1_000)),
            fee(300)
        );
        assert_eq!(
            apply(Benefit::FixedAmount(cny(3_000)), Fee, fee(1_000)),
            fee(1_000)
        );
        // Spread amount reduces the fee, not below 0.
        assert_eq!(
            apply(Benefit::SpreadAmount(cny(300)), Fee, fee(1_000)),
            fee(700)
        );
        assert_eq!(
            apply(Benefit::SpreadAmount(cny(3_000)), Fee, fee(1_000)),
            fee(0)
        );
    }

    #[test]
    fn benefits_only_apply_where_they_fit() {
        use ProductKind::*;
        let err = Benefit::Waive
            .apply(Asset, Price::Rate(bp(400)))
            .unwrap_err();
        assert!(matches!(&err, PricingError::Invalid(v) if v[0].field == "benefit_type"));
        assert!(
            Benefit::SpreadPercent(bp(5))
                .apply(Fee, Price::AnnualFee(cny(1)))
                .is_err()
        );
        assert!(
            Benefit::FixedAmount(cny(1))
                .apply(Liability, Price::Rate(bp(1)))
                .is_err()
        );
        assert!(
            Benefit::FixedPercent(bp(10))
                .apply(Fee, Price::Rate(bp(1)))
                .is_err()
        );
        let usd = Money::from_minor(Currency::USD, 100);
        let err = Benefit::SpreadAmount(usd)
            .apply(Fee, Price::AnnualFee(cny(1)))
            .unwrap_err();
        assert!(matches!(&err, PricingError::Invalid(v) if v[0].field == "amount"));
        assert!(!Benefit::SpreadAmount(usd).applies_to(Fee, Currency::CNY));
        assert!(Benefit::SpreadAmount(usd).applies_to(Fee, Currency::USD));
        for (b, field) in [
            (Benefit::FixedPercent(bp(10_001)), "value_bps"),
            (Benefit::SpreadPercent(bp(0)), "value_bps"),
            (Benefit::FixedAmount(cny(-1)), "amount"),
            (Benefit::SpreadAmount(cny(-1)), "amount"),
        ] {
            assert_eq!(b.validate().unwrap_err()[0].field, field, "{b:?}");
        }
        assert_eq!(Benefit::Waive.validate(), Ok(()));
        assert_eq!(Benefit::FixedPercent(bp(2_000)).to_string(), "fixed 20.00%");
        assert_eq!(
            Benefit::SpreadAmount(cny(500)).to_string(),
            "less CNY 500.00"
        );
    }

    #[test]
    fn rules_combine_by_priority_then_id_and_fixed_then_spread_in_that_order() {
        let list = Price::Rate(bp(400));
        // Same priority: "a" before "b" by id; priority 1 before both.
        let rules = vec![
            rule("b", 5, Benefit::SpreadPercent(bp(10))),
            rule("a", 5, Benefit::FixedPercent(bp(1_000))),
            rule("z", 1, Benefit::SpreadPercent(bp(20))),
        ];
        let r = relationship_price(&rules, &facts(), &loan(), list, d(2025, 6, 1)).unwrap();
        // 400 − 20 = 380; × 0.9 → 342; − 10 = 332.
        assert_eq!(r.price, Price::Rate(bp(332)));
        let order: Vec<_> = r.applied_rule_ids().collect();
        assert_eq!(order, ["z", "a", "b"]);
        assert_eq!(r.explanations[1].price_before, Some(Price::Rate(bp(380))));
        assert_eq!(r.explanations[1].price_after, Some(Price::Rate(bp(342))));
        // The other order of the same two benefits gives another price: order matters.
        let swapped = vec![
            rule("a", 5, Benefit::SpreadPercent(bp(10))),
            rule("b", 5, Benefit::FixedPercent(bp(1_000))),
            rule("z", 1, Benefit::SpreadPercent(bp(20))),
        ];
        let r = relationship_price(&swapped, &facts(), &loan(), list, d(2025, 6, 1)).unwrap();
        // 400 − 20 = 380; − 10 = 370; × 0.9 = 333.
        assert_eq!(r.price, Price::Rate(bp(333)));
    }

    #[test]
    fn exclusive_and_waive_stop_later_rules() {
        let mut first = rule("a", 1, Benefit::SpreadPercent(bp(5)));
        first.exclusive = true;
        let rules = vec![first, rule("b", 2, Benefit::SpreadPercent(bp(10)))];
        let r = relationship_price(
            &rules,
            &facts(),
            &deposit(),
            Price::Rate(bp(35)),
            d(2025, 6, 1),
        )
        .unwrap();
        assert_eq!(r.price, Price::Rate(bp(40)));
        assert!(!r.explanations[1].applied);
        assert_eq!(r.explanations[1].unmet[0].condition, "exclusive");
        assert_eq!(
            r.explanations[1].text(),
            "rule b: not applied: exclusive rule a (rule a) applied first"
        );
        let rules = vec![
            rule("w", 1, Benefit::Waive),
            rule("x", 2, Benefit::FixedAmount(cny(10))),
        ];
        let r = relationship_price(
            &rules,
            &facts(),
            &fee(),
            Price::AnnualFee(cny(1_000)),
            d(2025, 6, 1),
        )
        .unwrap();
        assert_eq!(r.price, Price::AnnualFee(cny(0)));
        assert_eq!(r.explanations[1].unmet[0].actual, "waiving rule w");
        // An exclusive rule whose conditions fail does not stop the others.
        let mut excl = rule("a", 1, Benefit::SpreadPercent(bp(5)));
        excl.exclusive = true;
        excl.condition.stages = vec![LifecycleStage::StrategicPartner];
        let rules = vec![excl, rule("b", 2, Benefit::SpreadPercent(bp(10)))];
        let r = relationship_price(
            &rules,
            &facts(),
            &deposit(),
            Price::Rate(bp(35)),
            d(2025, 6, 1),
        )
        .unwrap();
        assert_eq!(r.price, Price::Rate(bp(45)));
    }

    #[test]
    fn targets_and_dates_select_the_rules() {
        let mut for_fees = rule("f", 1, Benefit::FixedPercent(bp(1_000)));
        for_fees.target.product_kind = Some(ProductKind::Fee);
        let mut for_payroll = rule("p", 1, Benefit::SpreadAmount(cny(100)));
        for_payroll.target.product_category = Some(ProductCategory::Payroll);
        let waive_any = rule("w", 9, Benefit::Waive); // no target: fee items only, by its type
        let mut expired = rule("x", 1, Benefit::SpreadPercent(bp(50)));
        expired.effective = EffectiveRange::new(d(2024, 1, 1), Some(d(2025, 1, 1))).unwrap();
        let mut other_line = rule("l", 1, Benefit::SpreadPercent(bp(50)));
        other_line.target.line = Some(BusinessLine::Retail);
        let mut by_id = rule("i", 1, Benefit::SpreadPercent(bp(7)));
        by_id.target.product_ids = vec!["LOAN".into()];
        let rules = vec![for_fees, for_payroll, waive_any, expired, other_line, by_id];
        let date = d(2025, 6, 1);
        let r = relationship_price(&rules, &facts(), &loan(), Price::Rate(bp(400)), date).unwrap();
        assert_eq!(r.price, Price::Rate(bp(393)));
        assert_eq!(r.explanations.len(), 1, "only rule i targets the loan");
        let r = relationship_price(&rules, &facts(), &fee(), Price::AnnualFee(cny(1_000)), date)
            .unwrap();
        // f (10% off) then p (−100), then the waiver.
        let ids: Vec<_> = r.explanations.iter().map(|e| e.rule_id.as_str()).collect();
        assert_eq!(ids, ["f", "p", "w"]);
        assert_eq!(r.price, Price::AnnualFee(cny(0)));
        assert!(!expired_rule_targets(&rules[3], date));
    }

    fn expired_rule_targets(r: &PricingRule, date: NaiveDate) -> bool {
        r.targets(&loan(), date)
    }

    #[test]
    fn unmet_conditions_explain_what_the_customer_lacks() {
        let mut r = rule("big", 1, Benefit::SpreadPercent(bp(10)));
        r.name = "Big-contributor loan discount".into();
        r.condition.min_ttm_contribution = Some(cny(200_000));
        let out = relationship_price(
            &[r.clone()],
            &facts(),
            &loan(),
            Price::Rate(bp(400)),
            d(2025, 6, 1),
        )
        .unwrap();
        assert_eq!(out.price, Price::Rate(bp(400)));
        let e = &out.explanations[0];
        assert!(!e.applied);
        assert_eq!(
            e.unmet,
            [UnmetCondition {
                condition: "min_ttm_contribution".into(),
                actual: "CNY 180,000.00".into(),
                required: "CNY 200,000.00".into(),
                message: "contribution RMB 180,000.00, rule needs 200,000.00".into(),
            }]
        );
        assert_eq!(
            e.text(),
            "Big-contributor loan discount: not applied: contribution RMB 180,000.00, rule needs 200,000.00"
        );
        // At the minimum exactly, it holds.
        let mut rich = facts();
        rich.ttm_contribution = Some(cny(200_000));
        assert!(r.condition.unmet(&rich, "rule").is_empty());
        let c = CustomerCondition {
            kinds: vec![CustomerKind::Individual],
            corporate_tiers: vec![CorporateTier::HeadOffice, CorporateTier::Tier1Branch],
            wealth_tiers: vec![WealthTier::Vip],
            segment_ids: vec!["seg-b".into()],
            stages: vec![LifecycleStage::Core],
            min_ttm_contribution: Some(cny(1)),
        };
        let unmet = c.unmet(&CustomerFacts::default(), "bundle");
        let messages: Vec<_> = unmet.iter().map(|u| u.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "customer kind none, bundle needs individual",
                "corporate tier none, bundle needs one of head_office, tier1_branch",
                "wealth tier none, bundle needs vip",
                "segments none, bundle needs seg-b",
                "lifecycle stage none, bundle needs core",
                "contribution unknown, bundle needs 1.00",
            ]
        );
        let unmet = c.unmet(&facts(), "rule");
        assert_eq!(unmet[0].actual, "corporate");
        assert_eq!(
            unmet[1].message,
            "corporate tier tier2_branch, rule needs one of head_office, tier1_branch"
        );
        assert_eq!(unmet[3].message, "segments seg-a, rule needs seg-b");
        assert_eq!(
            unmet.len(),
            4,
            "stage core and contribution 180,000 ≥ 1 hold"
        );
    }

    #[test]
    fn rule_validation() {
        assert_eq!(rule("a", 1, Benefit::Waive).validate(), Ok(()));
        let mut bad = rule("a", 1, Benefit::Waive);
        bad.name = String::new();
        bad.condition.min_ttm_contribution = Some(Money::from_minor(Currency::USD, 1));
        bad.condition.segment_ids = vec![String::new()];
        bad.target.product_ids = vec!["A B".into()];
        bad.target.product_kind = Some(ProductKind::Asset);
        bad.effective.to = Some(bad.effective.from);
        let fields: Vec<_> = bad
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            [
                "name",
                "condition.min_ttm_contribution",
                "condition.segment_ids[0]",
                "target.product_ids[0]",
                "benefit.benefit_type",
                "effective.end_date"
            ]
        );
        let mut pct = rule("a", 1, Benefit::FixedPercent(bp(20_000)));
        pct.condition.min_ttm_contribution = Some(cny(-1));
        let fields: Vec<_> = pct
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            ["condition.min_ttm_contribution", "benefit.value_bps"]
        );
    }
}
