//! The whole quote as one pure function (DOMAIN.md §4): [`price_quote`] takes the customer's
//! facts, the items (product, price-version terms, amount or annual volume, term, optional
//! proposal and covenant), an optional bundle, and the pricing context (the date, rules, bands,
//! regulatory limits with the reference series, FX, configuration), and gives per item the list,
//! relationship and proposed prices, the concession and the level whose band covers it, the
//! economics and the rules applied or not (with why), and for the quote the CNY totals, the
//! verdict, the approval level, the missing bundle prerequisites, the applied rule ids and the
//! existing contribution (context only) and existing + total EVA.
//!
//! Per item, in order: the list price (the rate, or the schedule's fee on the annual volume) →
//! the relationship rules ([`rules`](super::rules)) → the bundle component's benefit → the
//! relationship price (pre-approved policy) → the proposed price (the proposal, or the
//! relationship price) → the concession from the relationship price in the customer's favour and
//! the lowest level whose band (in force on the date) covers it — none covering it is invalid
//! input — → the regulatory limits in force that apply to the item's kind and term, checked on the
//! proposed rate (a breach fails the quote with [`PricingError::RegulatoryBreach`] naming the
//! limit) → the economics at the proposed price ([`economics`](super::economics)), converted to
//! CNY at the FX rate in force on the date.
//!
//! **Verdict**, on the rounded CNY totals: total EVA < 0 is *refused* ("no unprofitable
//! marketing") unless the quote is strategic, when it is a *strategic exception* needing
//! head-office approval; otherwise *acceptable* when every concession is within the customer
//! manager's discretion, else *needs approval* at the highest level any item requires.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::authority::{AuthorityBand, AuthorityLevel, concession, covering_band};
use super::bundles::{Bundle, Prerequisite};
use super::catalogue::{Price, PriceTerms, Product, ProductKind, rate_in_range};
use super::covenant::{Covenant, DEFAULT_COVENANT_STEP_UP};
use super::economics::{
    Economics, EconomicsBasis, EconomicsConfig, ExactEconomics, Term, YearFraction, item_economics,
    total,
};
use super::fx::{FxRate, cny_per_unit};
use super::limits::{ReferenceRate, RegulatoryBreach, RegulatoryLimit};
use super::rules::{Benefit, CustomerFacts, PricingRule, RuleExplanation, relationship_price};
use super::{PricingError, PricingViolation, UnmetCondition, prefix_all};
use crate::money::{BasisPoints, Currency, Money};

/// The most items a quote may have.
pub const MAX_ITEMS: usize = 50;

/// The longest term an item may have, in months (50 years).
pub const MAX_TERM_MONTHS: u32 = 600;

code_enum! {
    /// The verdict on a quote or a simulated option.
    pub enum QuoteVerdict {
        /// EVA not negative and every concession within the customer manager's discretion.
        Acceptable => "acceptable",
        /// EVA not negative but a concession needs an approver at the required level.
        NeedsApproval => "needs_approval",
        /// Negative EVA on a strategic quote: needs head-office approval.
        StrategicException => "strategic_exception",
        /// Negative EVA and not strategic: refused ("no unprofitable marketing").
        Refused => "refused",
        /// Simulation only: a proposal breaches a regulatory limit.
        RegulatoryBreach => "regulatory_breach",
    }
}

/// The configuration of quoting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteConfig {
    /// Hurdle rate and operational-risk ratio.
    pub economics: EconomicsConfig,
    /// The step-up of a breached covenant (default [`DEFAULT_COVENANT_STEP_UP`]).
    pub covenant_step_up: CovenantStepUp,
}

/// The configured covenant step-up, in basis points (a newtype so that its default is
/// [`DEFAULT_COVENANT_STEP_UP`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CovenantStepUp(pub BasisPoints);

impl Default for CovenantStepUp {
    fn default() -> Self {
        CovenantStepUp(DEFAULT_COVENANT_STEP_UP)
    }
}

impl QuoteConfig {
    /// Checks the configuration (field paths `economics.…`, `covenant_step_up_bps`).
    pub fn validate(&self) -> Result<(), Vec<PricingViolation>> {
        let mut v = prefix_all(self.economics.validate(), "economics");
        if !(0..=10_000).contains(&self.covenant_step_up.0.value()) {
            v.push(PricingViolation::new(
                "covenant_step_up_bps",
                format!(
                    "{} is outside 0 to 10000 bp",
                    self.covenant_step_up.0.value()
                ),
            ));
        }
        super::violations_result(v)
    }
}

/// Everything a quote is priced against, besides the customer and the items.
#[derive(Clone, Copy, Debug)]
pub struct PricingContext<'a> {
    /// The pricing (business) date: rules, bands, limits, reference and FX rates in force then.
    pub date: NaiveDate,
    /// Relationship pricing rules (those not in force on `date` are ignored).
    pub rules: &'a [PricingRule],
    /// Authority bands (those not in force on `date` are ignored).
    pub bands: &'a [AuthorityBand],
    /// Regulatory limits (those not in force on `date` are ignored).
    pub limits: &'a [RegulatoryLimit],
    /// The reference-rate series.
    pub reference_rates: &'a [ReferenceRate],
    /// The FX series to CNY.
    pub fx_rates: &'a [FxRate],
    /// The configuration.
    pub config: QuoteConfig,
}

/// One item requested in a quote.
#[derive(Clone, Debug)]
pub struct QuoteItemInput<'a> {
    /// The product; must be active.
    pub product: &'a Product,
    /// The terms of the product's price version in force.
    pub terms: &'a PriceTerms,
    /// Under a bundle: the component this item is.
    pub bundle_component_id: Option<&'a str>,
    /// Balance products: the amount B, positive, in the product's currency. Unset for fee
    /// products.
    pub amount: Option<Money>,
    /// Fee products: the expected annual volume for the schedule, not negative, in the product's
    /// currency (zero when unset). Unset for balance products.
    pub annual_volume: Option<Money>,
    /// The term; at least 1 month (or day), at most 600 months.
    pub term: Term,
    /// A proposed price: a rate for balance products, an annual fee for fee products.
    pub proposal: Option<Price>,
    /// Loan items only: the agreed sales-funds return ratio of a covenant, 1 to 10,000 bp.
    pub covenant_agreed_ratio: Option<BasisPoints>,
}

/// A quote to price.
#[derive(Clone, Debug)]
pub struct QuoteRequest<'a> {
    /// The items, 1 to 50.
    pub items: Vec<QuoteItemInput<'a>>,
    /// Quote under this bundle.
    pub bundle: Option<&'a Bundle>,
    /// Marked strategic: a negative EVA may then be approved at head office.
    pub strategic: bool,
}

/// A bundle component's benefit as applied to an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedBenefit {
    /// The component.
    pub component_id: String,
    /// Its benefit.
    pub benefit: Benefit,
    /// The price before it (after the rules).
    pub price_before: Price,
    /// The price after it.
    pub price_after: Price,
}

/// One priced item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuoteItemResult {
    /// The product.
    pub product_id: String,
    /// The product's kind.
    pub kind: ProductKind,
    /// The item's currency (the product's).
    pub currency: Currency,
    /// The list price.
    pub list_price: Price,
    /// The relationship price: the list price after rules and bundle benefit.
    pub relationship_price: Price,
    /// The proposed price; the relationship price when none was proposed.
    pub proposed_price: Price,
    /// The concession from the relationship price in the customer's favour (bp of rate, or bp
    /// of the relationship fee); 0 when none.
    pub concession: BasisPoints,
    /// The level whose band covers the concession.
    pub required_level: AuthorityLevel,
    /// The band that covers it; `None` when the concession is 0.
    pub band_id: Option<String>,
    /// The share of the first year the item counts for.
    pub year_fraction: YearFraction,
    /// Economics in the item's currency.
    pub economics: Economics,
    /// CNY per unit of the item's currency (1 for CNY).
    pub fx_rate: Decimal,
    /// Every rule that targets the item, applied or not.
    pub rules: Vec<RuleExplanation>,
    /// The bundle component's benefit, when the item is a component with one.
    pub bundle_benefit: Option<AppliedBenefit>,
    /// The regulatory limits checked and passed.
    pub regulatory_limit_ids: Vec<String>,
    /// The covenant, with the configured step-up.
    pub covenant: Option<Covenant>,
}

/// A priced quote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuoteResult {
    /// The items, in request order.
    pub items: Vec<QuoteItemResult>,
    /// Totals in CNY; RAROC = ΣRAR / ΣEC.
    pub totals: Economics,
    /// The verdict.
    pub verdict: QuoteVerdict,
    /// The highest level any item requires, or head office for a strategic exception.
    pub required_level: AuthorityLevel,
    /// Bundle prerequisites met neither by the customer's holdings nor by the quote's items.
    pub missing_prerequisites: Vec<Prerequisite>,
    /// The rules applied to any item, in order of first application.
    pub applied_rule_ids: Vec<String>,
    /// The customer's existing trailing-twelve-month contribution after risk (context only).
    pub existing_contribution: Option<Money>,
    /// Existing contribution + total EVA (context only).
    pub combined_contribution: Option<Money>,
    /// The hurdle rate used.
    pub hurdle_rate: BasisPoints,
    /// Simulation only: the limits breached (the verdict is then `RegulatoryBreach`).
    pub breached_limit_ids: Vec<String>,
}

/// Prices a quote; see the module doc. Invalid input fails with every violation, each naming its
/// field (`items[2].amount`, …); a proposal that breaches a regulatory limit fails with
/// [`PricingError::RegulatoryBreach`]; a missing reference or FX rate and an ineligible or
/// inactive bundle fail with their own errors.
pub fn price_quote(
    ctx: &PricingContext<'_>,
    facts: &CustomerFacts,
    request: &QuoteRequest<'_>,
) -> Result<QuoteResult, PricingError> {
    evaluate(ctx, facts, request, false)
}

/// [`price_quote`], except that regulatory breaches do not fail: every breach is collected, the
/// items are priced at their proposed rates anyway, and the verdict is `RegulatoryBreach`.
pub(crate) fn evaluate(
    ctx: &PricingContext<'_>,
    facts: &CustomerFacts,
    request: &QuoteRequest<'_>,
    collect_breaches: bool,
) -> Result<QuoteResult, PricingError> {
    validate_request(ctx, request)?;
    let date = ctx.date;
    if let Some(bundle) = request.bundle {
        let mut unmet = Vec::new();
        if !bundle.active {
            unmet.push(UnmetCondition {
                condition: "active".into(),
                actual: "inactive".into(),
                required: "active".into(),
                message: format!("bundle {} is not active", bundle.bundle_id),
            });
        } else if !bundle.effective.contains(date) {
            unmet.push(UnmetCondition {
                condition: "effective".into(),
                actual: date.to_string(),
                required: bundle.effective.to_string(),
                message: format!(
                    "bundle {} is in force {}, not on {date}",
                    bundle.bundle_id, bundle.effective
                ),
            });
        }
        unmet.extend(bundle.eligibility.unmet(facts, "bundle"));
        if !unmet.is_empty() {
            return Err(PricingError::BundleNotEligible {
                bundle_id: bundle.bundle_id.clone(),
                unmet,
            });
        }
    }
    let bands: Vec<&AuthorityBand> = ctx
        .bands
        .iter()
        .filter(|b| b.effective.contains(date))
        .collect();
    let mut items = Vec::with_capacity(request.items.len());
    let mut converted = Vec::with_capacity(request.items.len());
    let mut breaches: Vec<RegulatoryBreach> = Vec::new();
    for (i, item) in request.items.iter().enumerate() {
        let at = |e: PricingError| e.prefixed(&format!("items[{i}]"));
        let (result, exact) = price_item(
            ctx,
            facts,
            request,
            &bands,
            item,
            &mut breaches,
            collect_breaches,
        )
        .map_err(at)?;
        let rate = cny_per_unit(ctx.fx_rates, result.currency, date)?;
        converted.push(exact.converted(Currency::CNY, rate)?);
        items.push(QuoteItemResult {
            fx_rate: rate,
            ..result
        });
    }
    let totals = total(Currency::CNY, &converted)?.rounded()?;
    let (verdict, required_level) = verdict(
        &totals,
        request.strategic,
        items.iter().map(|i| i.required_level),
        !breaches.is_empty(),
    );
    let missing_prerequisites = match request.bundle {
        Some(bundle) => {
            let quoted: Vec<&Product> = request.items.iter().map(|i| i.product).collect();
            bundle.missing_prerequisites_with(facts, &quoted)
        }
        None => Vec::new(),
    };
    let mut applied_rule_ids: Vec<String> = Vec::new();
    for e in items.iter().flat_map(|i| &i.rules).filter(|e| e.applied) {
        if !applied_rule_ids.contains(&e.rule_id) {
            applied_rule_ids.push(e.rule_id.clone());
        }
    }
    let existing_contribution = facts.ttm_contribution;
    let combined_contribution = existing_contribution
        .map(|c| c.checked_add(totals.eva))
        .transpose()?;
    let mut breached_limit_ids: Vec<String> = Vec::new();
    for b in breaches {
        if !breached_limit_ids.contains(&b.limit_id) {
            breached_limit_ids.push(b.limit_id);
        }
    }
    Ok(QuoteResult {
        items,
        totals,
        verdict,
        required_level,
        missing_prerequisites,
        applied_rule_ids,
        existing_contribution,
        combined_contribution,
        hurdle_rate: ctx.config.economics.hurdle_rate,
        breached_limit_ids,
    })
}

/// The verdict on rounded CNY `totals` and the level it requires, given each item's required
/// level (see the module doc): a regulatory `breach` first; then total EVA < 0 is refused, or a
/// strategic exception needing head office when `strategic`; else acceptable when every item
/// needs only the customer manager, or needs approval at the highest level any item requires.
/// A refused quote keeps the highest item level, for information.
pub fn verdict(
    totals: &Economics,
    strategic: bool,
    item_levels: impl IntoIterator<Item = AuthorityLevel>,
    breach: bool,
) -> (QuoteVerdict, AuthorityLevel) {
    let level = item_levels
        .into_iter()
        .max()
        .unwrap_or(AuthorityLevel::CustomerManager);
    if breach {
        (QuoteVerdict::RegulatoryBreach, level)
    } else if totals.eva.is_negative() {
        if strategic {
            (QuoteVerdict::StrategicException, AuthorityLevel::HeadOffice)
        } else {
            (QuoteVerdict::Refused, level)
        }
    } else if level == AuthorityLevel::CustomerManager {
        (QuoteVerdict::Acceptable, level)
    } else {
        (QuoteVerdict::NeedsApproval, level)
    }
}

/// One item of a priced quote to restate, as stored: its kind, the terms of the price version it
/// was priced on, its amount (balance products), its proposed price (possibly changed, e.g. by a
/// covenant step-up), its term, its FX rate to CNY and the level its concession requires.
#[derive(Clone, Debug)]
pub struct RestateItem<'a> {
    /// The product's kind.
    pub kind: ProductKind,
    /// The terms of the price version the item was priced on.
    pub terms: &'a PriceTerms,
    /// Balance products: the amount B.
    pub amount: Option<Money>,
    /// The proposed price the economics are taken at.
    pub proposed: Price,
    /// The term.
    pub term: Term,
    /// CNY per unit of the item's currency.
    pub fx_rate: Decimal,
    /// The level the item's concession requires.
    pub required_level: AuthorityLevel,
}

/// A quote restated at its items' (possibly changed) proposed prices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restated {
    /// Each item's economics in its own currency, in order.
    pub items: Vec<Economics>,
    /// Totals in CNY.
    pub totals: Economics,
    /// The verdict on the totals.
    pub verdict: QuoteVerdict,
    /// The level it requires.
    pub required_level: AuthorityLevel,
}

/// Restates a priced quote's economics, totals and verdict from its stored items, exactly as
/// [`price_quote`] computes them (each item exact, converted at its FX rate, summed, rounded
/// once): a quote restated at unchanged prices reproduces its figures to the fen. Used for a new
/// quote version whose only change is a price (a covenant step-up).
pub fn restate(
    items: &[RestateItem<'_>],
    strategic: bool,
    config: &EconomicsConfig,
) -> Result<Restated, PricingError> {
    let mut economics = Vec::with_capacity(items.len());
    let mut converted = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = |e: PricingError| e.prefixed(&format!("items[{i}]"));
        let basis = match item.proposed {
            Price::Rate(customer_rate) => EconomicsBasis::Balance {
                amount: item.amount.ok_or_else(|| {
                    PricingError::invalid(format!("items[{i}].amount"), "is required")
                })?,
                customer_rate,
            },
            Price::AnnualFee(annual_fee) => EconomicsBasis::Fee { annual_fee },
        };
        let fraction = item
            .term
            .year_fraction()
            .map_err(|v| at(PricingError::Invalid(vec![v])))?;
        let exact = item_economics(item.kind, &basis, item.terms, fraction, config).map_err(at)?;
        economics.push(exact.rounded()?);
        converted.push(exact.converted(Currency::CNY, item.fx_rate)?);
    }
    let totals = total(Currency::CNY, &converted)?.rounded()?;
    let (verdict, required_level) = verdict(
        &totals,
        strategic,
        items.iter().map(|i| i.required_level),
        false,
    );
    Ok(Restated {
        items: economics,
        totals,
        verdict,
        required_level,
    })
}

fn price_item(
    ctx: &PricingContext<'_>,
    facts: &CustomerFacts,
    request: &QuoteRequest<'_>,
    bands: &[&AuthorityBand],
    item: &QuoteItemInput<'_>,
    breaches: &mut Vec<RegulatoryBreach>,
    collect_breaches: bool,
) -> Result<(QuoteItemResult, ExactEconomics), PricingError> {
    let product = item.product;
    let kind = product.kind;
    let list = item.terms.list_price.price(item.annual_volume)?;
    let rel = relationship_price(ctx.rules, facts, product, list, ctx.date)?;
    let mut relationship = rel.price;
    let mut bundle_benefit = None;
    if let (Some(bundle), Some(component_id)) = (request.bundle, item.bundle_component_id)
        && let Some(component) = bundle.component(component_id)
        && let Some(benefit) = component.benefit
    {
        let after = benefit
            .apply(kind, relationship)
            .map_err(|e| e.prefixed("bundle_component_id"))?;
        bundle_benefit = Some(AppliedBenefit {
            component_id: component.component_id.clone(),
            benefit,
            price_before: relationship,
            price_after: after,
        });
        relationship = after;
    }
    let proposed = item.proposal.unwrap_or(relationship);
    let conceded = concession(kind, &relationship, &proposed)?;
    let band = covering_band(bands.iter().copied(), kind, conceded);
    let required_level = if conceded <= BasisPoints::ZERO {
        AuthorityLevel::CustomerManager
    } else if let Some(band) = band {
        band.level
    } else {
        let field = match kind {
            ProductKind::Fee => "proposed_annual_fee",
            _ => "proposed_rate_bps",
        };
        return Err(PricingError::invalid(
            field,
            format!(
                "a concession of {conceded} from the relationship price {relationship} is \
                 beyond every authority band for {kind} products"
            ),
        ));
    };
    let months = item.term.months_ceil();
    let mut regulatory_limit_ids = Vec::new();
    if let Price::Rate(rate) = proposed {
        for limit in ctx
            .limits
            .iter()
            .filter(|l| l.applies_to(kind, months, ctx.date))
        {
            let bound = limit.bound_on(ctx.reference_rates, ctx.date)?;
            match limit.check_bound(bound, rate) {
                Ok(()) => regulatory_limit_ids.push(limit.limit_id.clone()),
                Err(breach) if collect_breaches => breaches.push(breach),
                Err(breach) => return Err(breach.into()),
            }
        }
    }
    let basis = match proposed {
        Price::Rate(customer_rate) => EconomicsBasis::Balance {
            amount: item.amount.unwrap_or(Money::zero(product.currency)),
            customer_rate,
        },
        Price::AnnualFee(annual_fee) => EconomicsBasis::Fee { annual_fee },
    };
    let year_fraction = item
        .term
        .year_fraction()
        .map_err(|v| PricingError::Invalid(vec![v]))?;
    let exact = item_economics(
        kind,
        &basis,
        item.terms,
        year_fraction,
        &ctx.config.economics,
    )?;
    let result = QuoteItemResult {
        product_id: product.product_id.clone(),
        kind,
        currency: product.currency,
        list_price: list,
        relationship_price: relationship,
        proposed_price: proposed,
        concession: conceded,
        required_level,
        band_id: band.map(|b| b.band_id.clone()),
        year_fraction,
        economics: exact.rounded()?,
        fx_rate: Decimal::ONE,
        rules: rel.explanations,
        bundle_benefit,
        regulatory_limit_ids,
        covenant: item.covenant_agreed_ratio.map(|agreed_ratio| Covenant {
            agreed_ratio,
            step_up: ctx.config.covenant_step_up.0,
        }),
    };
    Ok((result, exact))
}

/// Every problem with the request's shape, each naming its field.
fn validate_request(
    ctx: &PricingContext<'_>,
    request: &QuoteRequest<'_>,
) -> Result<(), PricingError> {
    let mut v = prefix_all(ctx.config.validate(), "config");
    if request.items.is_empty() || request.items.len() > MAX_ITEMS {
        v.push(PricingViolation::new(
            "items",
            format!(
                "a quote has 1 to {MAX_ITEMS} items, not {}",
                request.items.len()
            ),
        ));
    }
    let mut named: Vec<&str> = Vec::new();
    for (i, item) in request.items.iter().enumerate() {
        let before = v.len();
        validate_item(item, request.bundle, &mut v);
        if let Some(id) = item.bundle_component_id {
            if named.contains(&id) {
                v.push(PricingViolation::new(
                    "bundle_component_id",
                    format!("component {id:?} is quoted twice"),
                ));
            }
            named.push(id);
        }
        for violation in &mut v[before..] {
            *violation = violation.clone().prefixed(&format!("items[{i}]"));
        }
    }
    if let Some(bundle) = request.bundle {
        for c in bundle.components.iter().filter(|c| c.mandatory) {
            if !named.contains(&c.component_id.as_str()) {
                v.push(PricingViolation::new(
                    "items",
                    format!(
                        "the bundle's mandatory component {:?} ({}) is not among the items",
                        c.component_id, c.product_id
                    ),
                ));
            }
        }
    }
    super::violations_result(v).map_err(PricingError::Invalid)
}

fn validate_item(
    item: &QuoteItemInput<'_>,
    bundle: Option<&Bundle>,
    v: &mut Vec<PricingViolation>,
) {
    let product = item.product;
    let currency = product.currency;
    let kind = product.kind;
    if !product.active {
        v.push(PricingViolation::new(
            "product_id",
            format!("product {} is not active", product.product_id),
        ));
    }
    v.extend(prefix_all(
        item.terms.validate_for(kind, currency),
        "price_version",
    ));
    let money_field = |v: &mut Vec<PricingViolation>, field: &str, m: Money, positive: bool| {
        if m.currency() != currency {
            v.push(PricingViolation::new(
                field,
                format!("is in {}, the product is in {currency}", m.currency()),
            ));
        } else if m.is_negative() || (positive && m.is_zero()) {
            v.push(PricingViolation::new(
                field,
                if positive {
                    "must be positive"
                } else {
                    "must not be negative"
                },
            ));
        }
    };
    match kind {
        ProductKind::Asset | ProductKind::Liability => {
            match item.amount {
                None => v.push(PricingViolation::new(
                    "amount",
                    "is required for a balance product",
                )),
                Some(m) => money_field(v, "amount", m, true),
            }
            if item.annual_volume.is_some() {
                v.push(PricingViolation::new(
                    "annual_volume",
                    "is for fee products; a balance product is priced on its amount",
                ));
            }
        }
        ProductKind::Fee => {
            if item.amount.is_some() {
                v.push(PricingViolation::new(
                    "amount",
                    "is for balance products; a fee product is priced on its annual volume",
                ));
            }
            if let Some(m) = item.annual_volume {
                money_field(v, "annual_volume", m, false);
            }
        }
    }
    match item.term {
        Term::Months(m) if m > MAX_TERM_MONTHS => v.push(PricingViolation::new(
            "term_months",
            format!("must be at most {MAX_TERM_MONTHS}"),
        )),
        Term::Days(d) if d > MAX_TERM_MONTHS * 31 => v.push(PricingViolation::new(
            "term_days",
            format!("must be at most {}", MAX_TERM_MONTHS * 31),
        )),
        term => {
            if let Err(e) = term.year_fraction() {
                v.push(e);
            }
        }
    }
    match (kind, item.proposal) {
        (_, None) => {}
        (ProductKind::Fee, Some(Price::AnnualFee(fee))) => {
            money_field(v, "proposed_annual_fee", fee, false);
        }
        (ProductKind::Fee, Some(Price::Rate(_))) => v.push(PricingViolation::new(
            "proposed_rate_bps",
            "a fee product takes a proposed annual fee, not a rate",
        )),
        (_, Some(Price::Rate(rate))) => {
            if !rate_in_range(rate) {
                v.push(PricingViolation::new(
                    "proposed_rate_bps",
                    format!("{} is outside -10000 to 10000 bp", rate.value()),
                ));
            }
        }
        (_, Some(Price::AnnualFee(_))) => v.push(PricingViolation::new(
            "proposed_annual_fee",
            format!("a {kind} product takes a proposed rate, not an annual fee"),
        )),
    }
    if let Some(ratio) = item.covenant_agreed_ratio {
        if kind != ProductKind::Asset {
            v.push(PricingViolation::new(
                "covenant",
                format!("only loan items carry a covenant, not {kind} products"),
            ));
        } else if !(1..=10_000).contains(&ratio.value()) {
            v.push(PricingViolation::new(
                "covenant.agreed_ratio_bps",
                format!("{} is outside 1 to 10000 bp", ratio.value()),
            ));
        }
    }
    if let Some(component_id) = item.bundle_component_id {
        match bundle.map(|b| b.component(component_id)) {
            None => v.push(PricingViolation::new(
                "bundle_component_id",
                "names a bundle component, but the quote has no bundle",
            )),
            Some(None) => v.push(PricingViolation::new(
                "bundle_component_id",
                format!("{component_id:?} is not a component of the bundle"),
            )),
            Some(Some(c)) if c.product_id != product.product_id => v.push(PricingViolation::new(
                "bundle_component_id",
                format!(
                    "component {component_id:?} is product {}, not {}",
                    c.product_id, product.product_id
                ),
            )),
            Some(Some(_)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::{CorporateTier, CustomerKind, LifecycleStage};
    use crate::org::BusinessLine;
    use crate::pricing::bundles::{BundleComponent, Requirement};
    use crate::pricing::catalogue::{FeeSchedule, ListPrice, ProductCategory};
    use crate::pricing::effective::EffectiveRange;
    use crate::pricing::limits::{LimitBound, ReferenceRateKind, RegulatoryLimitKind};
    use crate::pricing::rules::{CustomerCondition, RuleTarget};
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn bp(v: i32) -> BasisPoints {
        BasisPoints::new(v)
    }

    fn cny(yuan: i64) -> Money {
        Money::from_minor(Currency::CNY, yuan * 100)
    }

    fn product(
        id: &str,
        kind: ProductKind,
        category: ProductCategory,
        currency: Currency,
    ) -> Product {
        Product {
            product_id: id.into(),
            name: id.into(),
            line: BusinessLine::Corporate,
            kind,
            category,
            currency,
            active: true,
        }
    }

    struct World {
        loan: Product,
        deposit: Product,
        fee: Product,
        usd_fee: Product,
        loan_terms: PriceTerms,
        deposit_terms: PriceTerms,
        fee_terms: PriceTerms,
        usd_terms: PriceTerms,
        rules: Vec<PricingRule>,
        bands: Vec<AuthorityBand>,
        limits: Vec<RegulatoryLimit>,
        refs: Vec<ReferenceRate>,
        fx: Vec<FxRate>,
    }

    fn band(level: AuthorityLevel, kind: ProductKind, rate: i32, fee: i32) -> AuthorityBand {
        AuthorityBand {
            band_id: format!("{kind}-{level}"),
            level,
            product_kind: kind,
            max_rate_concession: bp(rate),
            max_fee_concession: bp(fee),
            effective: EffectiveRange::starting(d(2025, 1, 1)),
        }
    }

    fn world() -> World {
        use AuthorityLevel::*;
        let terms =
            |list: ListPrice, ftp: i32, cost: Decimal, cap: Decimal, pd: Decimal, lgd: Decimal| {
                PriceTerms {
                    list_price: list,
                    ftp_rate: bp(ftp),
                    operating_cost_ratio: cost,
                    economic_capital_ratio: cap,
                    probability_of_default: pd,
                    loss_given_default: lgd,
                }
            };
        World {
            loan: product(
                "LOAN",
                ProductKind::Asset,
                ProductCategory::Loan,
                Currency::CNY,
            ),
            deposit: product(
                "DEP",
                ProductKind::Liability,
                ProductCategory::Deposit,
                Currency::CNY,
            ),
            fee: product(
                "CASH",
                ProductKind::Fee,
                ProductCategory::Settlement,
                Currency::CNY,
            ),
            usd_fee: product("FXS", ProductKind::Fee, ProductCategory::Fx, Currency::USD),
            loan_terms: terms(
                ListPrice::RateBps(bp(435)),
                240,
                dec!(0.004),
                dec!(0.08),
                dec!(0.005),
                dec!(0.40),
            ),
            deposit_terms: terms(
                ListPrice::RateBps(bp(25)),
                160,
                dec!(0.003),
                dec!(0),
                dec!(0),
                dec!(0),
            ),
            fee_terms: terms(
                ListPrice::Fees(FeeSchedule::flat(cny(120_000))),
                0,
                dec!(0.55),
                dec!(0),
                dec!(0),
                dec!(0),
            ),
            usd_terms: terms(
                ListPrice::Fees(FeeSchedule::flat(Money::from_minor(
                    Currency::USD,
                    2_000_000,
                ))),
                0,
                dec!(0.5),
                dec!(0),
                dec!(0),
                dec!(0),
            ),
            rules: vec![PricingRule {
                rule_id: "core-loan".into(),
                version: 3,
                name: "Core customers: loans -10 bp".into(),
                priority: 10,
                condition: CustomerCondition {
                    stages: vec![LifecycleStage::Core],
                    ..CustomerCondition::default()
                },
                target: RuleTarget {
                    product_kind: Some(ProductKind::Asset),
                    ..RuleTarget::default()
                },
                benefit: Benefit::SpreadPercent(bp(10)),
                exclusive: false,
                effective: EffectiveRange::starting(d(2025, 1, 1)),
            }],
            bands: vec![
                band(CustomerManager, ProductKind::Asset, 5, 0),
                band(SubBranch, ProductKind::Asset, 15, 0),
                band(Tier1Branch, ProductKind::Asset, 40, 0),
                band(HeadOffice, ProductKind::Asset, 150, 0),
                band(CustomerManager, ProductKind::Fee, 0, 500),
                band(HeadOffice, ProductKind::Fee, 0, 10_000),
                band(CustomerManager, ProductKind::Liability, 5, 0),
            ],
            limits: vec![RegulatoryLimit {
                limit_id: "floor-1y".into(),
                name: "loan floor: LPR 1Y - 50 bp".into(),
                kind: RegulatoryLimitKind::LoanRateFloor,
                product_kind: ProductKind::Asset,
                bound: LimitBound::ReferenceSpread {
                    reference: ReferenceRateKind::Lpr1y,
                    spread: bp(-50),
                },
                min_term_months: None,
                max_term_months: None,
                effective: EffectiveRange::starting(d(2025, 1, 1)),
            }],
            refs: vec![ReferenceRate {
                kind: ReferenceRateKind::Lpr1y,
                effective_date: d(2025, 5, 20),
                rate: bp(300),
            }],
            fx: vec![FxRate {
                currency: Currency::USD,
                effective_date: d(2025, 1, 1),
                cny_per_unit: dec!(7.1),
            }],
        }
    }

    fn ctx(w: &World) -> PricingContext<'_> {
        PricingContext {
            date: d(2025, 6, 2),
            rules: &w.rules,
            bands: &w.bands,
            limits: &w.limits,
            reference_rates: &w.refs,
            fx_rates: &w.fx,
            config: QuoteConfig::default(),
        }
    }

    fn core() -> CustomerFacts {
        CustomerFacts {
            kind: Some(CustomerKind::Corporate),
            corporate_tier: Some(CorporateTier::Tier2Branch),
            stage: Some(LifecycleStage::Core),
            ttm_contribution: Some(cny(500_000)),
            ..CustomerFacts::default()
        }
    }

    fn loan_item<'a>(w: &'a World, proposal: Option<i32>) -> QuoteItemInput<'a> {
        QuoteItemInput {
            product: &w.loan,
            terms: &w.loan_terms,
            bundle_component_id: None,
            amount: Some(cny(10_000_000)),
            annual_volume: None,
            term: Term::Months(12),
            proposal: proposal.map(|r| Price::Rate(bp(r))),
            covenant_agreed_ratio: None,
        }
    }

    fn fee_item<'a>(w: &'a World, proposal: Option<i64>) -> QuoteItemInput<'a> {
        QuoteItemInput {
            product: &w.fee,
            terms: &w.fee_terms,
            bundle_component_id: None,
            amount: None,
            annual_volume: None,
            term: Term::Months(12),
            proposal: proposal.map(|y| Price::AnnualFee(cny(y))),
            covenant_agreed_ratio: None,
        }
    }

    fn request(items: Vec<QuoteItemInput<'_>>) -> QuoteRequest<'_> {
        QuoteRequest {
            items,
            bundle: None,
            strategic: false,
        }
    }

    #[test]
    fn a_loan_at_its_relationship_price_needs_no_approval() {
        let w = world();
        let q = price_quote(&ctx(&w), &core(), &request(vec![loan_item(&w, None)])).unwrap();
        let item = &q.items[0];
        assert_eq!(item.list_price, Price::Rate(bp(435)));
        assert_eq!(item.relationship_price, Price::Rate(bp(425)));
        assert_eq!(item.proposed_price, Price::Rate(bp(425)));
        assert_eq!(item.concession, bp(0));
        assert_eq!(item.required_level, AuthorityLevel::CustomerManager);
        assert_eq!(item.band_id, None);
        assert_eq!(item.regulatory_limit_ids, ["floor-1y"]);
        // 10M × (4.25% − 2.40%) = 185,000; − 40,000 − 20,000 = 125,000; − 96,000 = 29,000.
        assert_eq!(item.economics.risk_adjusted_return, cny(125_000));
        assert_eq!(item.economics.eva, cny(29_000));
        assert_eq!(q.totals, item.economics);
        assert_eq!(q.verdict, QuoteVerdict::Acceptable);
        assert_eq!(q.required_level, AuthorityLevel::CustomerManager);
        assert_eq!(q.applied_rule_ids, ["core-loan"]);
        assert_eq!(q.existing_contribution, Some(cny(500_000)));
        assert_eq!(q.combined_contribution, Some(cny(529_000)));
        assert_eq!(q.hurdle_rate, bp(1_200));
        // Not a core customer: the rule is explained, not applied.
        let established = CustomerFacts {
            stage: Some(LifecycleStage::Established),
            ..core()
        };
        let q = price_quote(&ctx(&w), &established, &request(vec![loan_item(&w, None)])).unwrap();
        assert_eq!(q.items[0].relationship_price, Price::Rate(bp(435)));
        assert_eq!(
            q.items[0].rules[0].text(),
            "Core customers: loans -10 bp: not applied: lifecycle stage established, rule needs core"
        );
        assert!(q.applied_rule_ids.is_empty());
    }

    #[test]
    fn concessions_need_the_covering_level() {
        let w = world();
        let q = price_quote(&ctx(&w), &core(), &request(vec![loan_item(&w, Some(415))])).unwrap();
        assert_eq!(q.items[0].concession, bp(10));
        assert_eq!(q.items[0].required_level, AuthorityLevel::SubBranch);
        assert_eq!(q.items[0].band_id.as_deref(), Some("asset-sub_branch"));
        assert_eq!(q.verdict, QuoteVerdict::NeedsApproval);
        assert_eq!(q.required_level, AuthorityLevel::SubBranch);
        // The highest level over the items: a fee 20% off needs head office.
        let q = price_quote(
            &ctx(&w),
            &core(),
            &request(vec![loan_item(&w, Some(415)), fee_item(&w, Some(96_000))]),
        )
        .unwrap();
        assert_eq!(q.items[1].concession, bp(2_000));
        assert_eq!(q.items[1].required_level, AuthorityLevel::HeadOffice);
        assert_eq!(q.required_level, AuthorityLevel::HeadOffice);
        // A proposal worse for the customer is no concession.
        let q = price_quote(&ctx(&w), &core(), &request(vec![loan_item(&w, Some(500))])).unwrap();
        assert_eq!(q.items[0].concession, bp(0));
        assert_eq!(q.verdict, QuoteVerdict::Acceptable);
        // Beyond head office's band: invalid, naming the proposal.
        let err =
            price_quote(&ctx(&w), &core(), &request(vec![loan_item(&w, Some(260))])).unwrap_err();
        let PricingError::Invalid(v) = err else {
            panic!("{err:?}")
        };
        assert_eq!(v[0].field, "items[0].proposed_rate_bps");
        assert!(
            v[0].message.contains("beyond every authority band"),
            "{}",
            v[0].message
        );
    }

    #[test]
    fn a_breach_names_the_limit() {
        let mut w = world();
        w.bands[3].max_rate_concession = bp(300);
        // Floor: LPR 3.00% − 50 bp = 2.50%.
        let err =
            price_quote(&ctx(&w), &core(), &request(vec![loan_item(&w, Some(249))])).unwrap_err();
        let PricingError::RegulatoryBreach(b) = err else {
            panic!("{err:?}")
        };
        assert_eq!(b.limit_id, "floor-1y");
        assert_eq!(b.bound, bp(250));
        assert!(price_quote(&ctx(&w), &core(), &request(vec![loan_item(&w, Some(250))])).is_ok());
        // Collected instead in simulation mode.
        let q = evaluate(
            &ctx(&w),
            &core(),
            &request(vec![loan_item(&w, Some(249))]),
            true,
        )
        .unwrap();
        assert_eq!(q.verdict, QuoteVerdict::RegulatoryBreach);
        assert_eq!(q.breached_limit_ids, ["floor-1y"]);
        // No reference rate yet on the date.
        let mut early = ctx(&w);
        early.date = d(2025, 5, 19);
        assert_eq!(
            price_quote(&early, &core(), &request(vec![loan_item(&w, None)])).unwrap_err(),
            PricingError::NoReferenceRate {
                kind: ReferenceRateKind::Lpr1y,
                date: d(2025, 5, 19)
            }
        );
    }

    #[test]
    fn negative_eva_is_refused_unless_strategic() {
        let w = world();
        // 10M at 3.00%: margin 60,000 − 40,000 − 20,000 = 0 RAR; EVA −96,000. Concession 125 bp.
        let mut req = request(vec![loan_item(&w, Some(300))]);
        let q = price_quote(&ctx(&w), &core(), &req).unwrap();
        assert_eq!(q.totals.eva, cny(-96_000));
        assert_eq!(q.verdict, QuoteVerdict::Refused);
        assert_eq!(
            q.required_level,
            AuthorityLevel::HeadOffice,
            "the concession's own level"
        );
        req.strategic = true;
        let q = price_quote(&ctx(&w), &core(), &req).unwrap();
        assert_eq!(q.verdict, QuoteVerdict::StrategicException);
        assert_eq!(q.required_level, AuthorityLevel::HeadOffice);
        // A small strategic loss with no concession still needs head office.
        let mut thin = w.loan_terms.clone();
        thin.list_price = ListPrice::RateBps(bp(400));
        let mut item = loan_item(&w, None);
        item.terms = &thin;
        let q = price_quote(
            &ctx(&w),
            &core(),
            &QuoteRequest {
                items: vec![item],
                bundle: None,
                strategic: true,
            },
        )
        .unwrap();
        // 10M × (3.90% − 2.40%) = 150,000 − 60,000 = 90,000 − 96,000 = −6,000.
        assert_eq!(q.totals.eva, cny(-6_000));
        assert_eq!(q.items[0].required_level, AuthorityLevel::CustomerManager);
        assert_eq!(q.verdict, QuoteVerdict::StrategicException);
        assert_eq!(q.required_level, AuthorityLevel::HeadOffice);
    }

    #[test]
    fn foreign_currency_items_total_in_cny() {
        let w = world();
        let usd = QuoteItemInput {
            product: &w.usd_fee,
            terms: &w.usd_terms,
            ..fee_item(&w, None)
        };
        let q = price_quote(&ctx(&w), &core(), &request(vec![usd, fee_item(&w, None)])).unwrap();
        assert_eq!(q.items[0].currency, Currency::USD);
        assert_eq!(q.items[0].fx_rate, dec!(7.1));
        assert_eq!(
            q.items[0].economics.eva,
            Money::from_minor(Currency::USD, 964_000)
        );
        assert_eq!(q.items[1].fx_rate, Decimal::ONE);
        assert_eq!(q.totals.risk_adjusted_return, cny(125_000));
        assert_eq!(q.totals.eva, cny(120_284));
        assert_eq!(q.totals.raroc, Some(dec!(3.1807)));
        let mut no_fx = ctx(&w);
        no_fx.fx_rates = &[];
        let usd = QuoteItemInput {
            product: &w.usd_fee,
            terms: &w.usd_terms,
            ..fee_item(&w, None)
        };
        assert!(matches!(
            price_quote(&no_fx, &core(), &request(vec![usd])),
            Err(PricingError::NoFxRate {
                currency: Currency::USD,
                ..
            })
        ));
    }

    #[test]
    fn item_inputs_are_validated_with_field_paths() {
        let w = world();
        let mut bad_loan = loan_item(&w, None);
        bad_loan.amount = Some(cny(0));
        bad_loan.annual_volume = Some(cny(1));
        bad_loan.term = Term::Months(0);
        bad_loan.proposal = Some(Price::AnnualFee(cny(1)));
        bad_loan.covenant_agreed_ratio = Some(bp(0));
        bad_loan.bundle_component_id = Some("x");
        let mut bad_fee = fee_item(&w, None);
        bad_fee.amount = Some(cny(1));
        bad_fee.annual_volume = Some(Money::from_minor(Currency::USD, 1));
        bad_fee.proposal = Some(Price::Rate(bp(1)));
        bad_fee.covenant_agreed_ratio = Some(bp(5_000));
        bad_fee.term = Term::Months(601);
        let err = price_quote(&ctx(&w), &core(), &request(vec![bad_loan, bad_fee])).unwrap_err();
        let PricingError::Invalid(v) = err else {
            panic!("{err:?}")
        };
        let fields: Vec<_> = v.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "items[0].amount",
                "items[0].annual_volume",
                "items[0].term_months",
                "items[0].proposed_annual_fee",
                "items[0].covenant.agreed_ratio_bps",
                "items[0].bundle_component_id",
                "items[1].amount",
                "items[1].annual_volume",
                "items[1].term_months",
                "items[1].proposed_rate_bps",
                "items[1].covenant",
            ]
        );
        let err = price_quote(&ctx(&w), &core(), &request(vec![])).unwrap_err();
        assert!(matches!(err, PricingError::Invalid(v) if v[0].field == "items"));
        let mut missing = loan_item(&w, None);
        missing.amount = None;
        let mut inactive = w.loan.clone();
        inactive.active = false;
        let mut off = loan_item(&w, None);
        off.product = &inactive;
        let err = price_quote(&ctx(&w), &core(), &request(vec![missing, off])).unwrap_err();
        let PricingError::Invalid(v) = err else {
            panic!("{err:?}")
        };
        let fields: Vec<_> = v.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["items[0].amount", "items[1].product_id"]);
        let mut bad_config = ctx(&w);
        bad_config.config.economics.hurdle_rate = bp(-1);
        let err =
            price_quote(&bad_config, &core(), &request(vec![loan_item(&w, None)])).unwrap_err();
        assert!(
            matches!(err, PricingError::Invalid(v) if v[0].field == "config.economics.hurdle_rate_bps")
        );
    }

    fn bundle(w: &World) -> Bundle {
        Bundle {
            bundle_id: "cash-plus".into(),
            version: 2,
            name: "Cash plus".into(),
            description: String::new(),
            components: vec![
                BundleComponent {
                    component_id: "deposit".into(),
                    product_id: w.deposit.product_id.clone(),
                    mandatory: true,
                    benefit: Some(Benefit::SpreadPercent(bp(5))),
                    note: String::new(),
                },
                BundleComponent {
                    component_id: "cash".into(),
                    product_id: w.fee.product_id.clone(),
                    mandatory: false,
                    benefit: Some(Benefit::FixedPercent(bp(1_000))),
                    note: String::new(),
                },
            ],
            eligibility: CustomerCondition {
                stages: vec![LifecycleStage::Core, LifecycleStage::StrategicPartner],
                ..CustomerCondition::default()
            },
            prerequisites: vec![Prerequisite {
                prerequisite_id: "payroll".into(),
                requirement: Requirement::HoldsCategory(ProductCategory::Payroll),
                description: "payroll agency with us".into(),
            }],
            effective: EffectiveRange::starting(d(2025, 1, 1)),
            active: true,
        }
    }

    fn deposit_item<'a>(w: &'a World, component: Option<&'a str>) -> QuoteItemInput<'a> {
        QuoteItemInput {
            product: &w.deposit,
            terms: &w.deposit_terms,
            bundle_component_id: component,
            amount: Some(cny(8_000_000)),
            annual_volume: None,
            term: Term::Months(12),
            proposal: None,
            covenant_agreed_ratio: None,
        }
    }

    #[test]
    fn bundle_benefits_apply_after_the_rules_and_prerequisites_are_reported() {
        let w = world();
        let b = bundle(&w);
        let mut fee = fee_item(&w, None);
        fee.bundle_component_id = Some("cash");
        let req = QuoteRequest {
            items: vec![deposit_item(&w, Some("deposit")), fee],
            bundle: Some(&b),
            strategic: false,
        };
        let q = price_quote(&ctx(&w), &core(), &req).unwrap();
        assert_eq!(q.items[0].relationship_price, Price::Rate(bp(30)));
        let applied = q.items[0].bundle_benefit.as_ref().unwrap();
        assert_eq!(
            (applied.price_before, applied.price_after),
            (Price::Rate(bp(25)), Price::Rate(bp(30)))
        );
        assert_eq!(
            q.items[1].relationship_price,
            Price::AnnualFee(cny(108_000))
        );
        assert_eq!(q.missing_prerequisites.len(), 1);
        assert_eq!(q.missing_prerequisites[0].prerequisite_id, "payroll");
        // A mandatory component left out, or a component of another product, is invalid.
        let req = QuoteRequest {
            items: vec![fee_item(&w, None)],
            bundle: Some(&b),
            strategic: false,
        };
        let err = price_quote(&ctx(&w), &core(), &req).unwrap_err();
        assert!(
            matches!(&err, PricingError::Invalid(v) if v[0].field == "items" && v[0].message.contains("\"deposit\"")),
            "{err:?}"
        );
        let mut wrong = fee_item(&w, None);
        wrong.bundle_component_id = Some("deposit");
        let req = QuoteRequest {
            items: vec![deposit_item(&w, Some("deposit")), wrong],
            bundle: Some(&b),
            strategic: false,
        };
        let err = price_quote(&ctx(&w), &core(), &req).unwrap_err();
        let PricingError::Invalid(v) = err else {
            panic!("{err:?}")
        };
        let fields: Vec<_> = v.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "items[1].bundle_component_id",
                "items[1].bundle_component_id"
            ],
            "{v:?}"
        );
        // Not eligible, or not in force: refused with the unmet conditions.
        let req = QuoteRequest {
            items: vec![deposit_item(&w, Some("deposit"))],
            bundle: Some(&b),
            strategic: false,
        };
        let new = CustomerFacts {
            stage: Some(LifecycleStage::New),
            ..core()
        };
        let err = price_quote(&ctx(&w), &new, &req).unwrap_err();
        let PricingError::BundleNotEligible { bundle_id, unmet } = err else {
            panic!("{err:?}")
        };
        assert_eq!(bundle_id, "cash-plus");
        assert_eq!(
            unmet[0].message,
            "lifecycle stage new, bundle needs one of core, strategic_partner"
        );
        let inactive = Bundle {
            active: false,
            ..bundle(&w)
        };
        let req = QuoteRequest {
            items: vec![deposit_item(&w, Some("deposit"))],
            bundle: Some(&inactive),
            strategic: false,
        };
        assert!(matches!(
            price_quote(&ctx(&w), &core(), &req),
            Err(PricingError::BundleNotEligible { unmet, .. }) if unmet[0].condition == "active"
        ));
    }

    #[test]
    fn restating_reproduces_the_figures_and_follows_a_new_price() {
        let w = world();
        let mut usd = fee_item(&w, None);
        usd.product = &w.usd_fee;
        usd.terms = &w.usd_terms;
        usd.term = Term::Months(6);
        let req = request(vec![loan_item(&w, Some(415)), usd]);
        let c = ctx(&w);
        let q = price_quote(&c, &core(), &req).unwrap();
        let items: Vec<RestateItem<'_>> = req
            .items
            .iter()
            .zip(&q.items)
            .map(|(i, r)| RestateItem {
                kind: r.kind,
                terms: i.terms,
                amount: i.amount,
                proposed: r.proposed_price,
                term: i.term,
                fx_rate: r.fx_rate,
                required_level: r.required_level,
            })
            .collect();
        let again = restate(&items, false, &c.config.economics).unwrap();
        assert_eq!(again.totals, q.totals);
        let priced: Vec<Economics> = q.items.iter().map(|i| i.economics).collect();
        assert_eq!(again.items, priced);
        assert_eq!(
            (again.verdict, again.required_level),
            (q.verdict, q.required_level)
        );
        // Stepped up 50 bp, the loan needs no approval and earns 10M × 0.50% = 50,000 more.
        let mut stepped = items.clone();
        stepped[0].proposed = Price::Rate(bp(465));
        stepped[0].required_level = AuthorityLevel::CustomerManager;
        let s = restate(&stepped, false, &c.config.economics).unwrap();
        assert_eq!(
            s.items[0].margin.minor_units() - q.items[0].economics.margin.minor_units(),
            5_000_000
        );
        assert_eq!(
            s.totals.eva.minor_units() - q.totals.eva.minor_units(),
            5_000_000
        );
        assert_eq!(
            (s.verdict, s.required_level),
            (QuoteVerdict::Acceptable, AuthorityLevel::CustomerManager)
        );
        // A balance item without its amount is named.
        stepped[0].amount = None;
        assert!(matches!(
            restate(&stepped, false, &c.config.economics),
            Err(PricingError::Invalid(v)) if v[0].field == "items[0].amount"
        ));
    }

    #[test]
    fn the_verdict_follows_eva_strategy_and_levels() {
        let eva = |yuan| Economics {
            margin: cny(0),
            operating_cost: cny(0),
            expected_loss: cny(0),
            economic_capital: cny(0),
            risk_adjusted_return: cny(0),
            eva: cny(yuan),
            raroc: None,
        };
        use AuthorityLevel::*;
        assert_eq!(
            verdict(&eva(0), false, [CustomerManager], false),
            (QuoteVerdict::Acceptable, CustomerManager)
        );
        assert_eq!(
            verdict(&eva(1), false, [Outlet, SubBranch], false),
            (QuoteVerdict::NeedsApproval, SubBranch)
        );
        assert_eq!(
            verdict(&eva(-1), false, [Outlet], false),
            (QuoteVerdict::Refused, Outlet)
        );
        assert_eq!(
            verdict(&eva(-1), true, [Outlet], false),
            (QuoteVerdict::StrategicException, HeadOffice)
        );
        assert_eq!(
            verdict(&eva(5), false, [], true),
            (QuoteVerdict::RegulatoryBreach, CustomerManager)
        );
    }

    #[test]
    fn covenants_carry_the_configured_step_up() {
        let w = world();
        let mut item = loan_item(&w, None);
        item.covenant_agreed_ratio = Some(bp(6_000));
        let mut c = ctx(&w);
        c.config.covenant_step_up = CovenantStepUp(bp(30));
        let q = price_quote(&c, &core(), &request(vec![item])).unwrap();
        assert_eq!(
            q.items[0].covenant,
            Some(Covenant {
                agreed_ratio: bp(6_000),
                step_up: bp(30)
            })
        );
        assert_eq!(
            QuoteConfig::default().covenant_step_up.0,
            DEFAULT_COVENANT_STEP_UP
        );
    }
}
