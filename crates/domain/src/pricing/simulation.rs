//! Simulation (模拟定价, DOMAIN.md §4, seed 000 篇8): several options for one customer priced side
//! by side, without storing them, to compare revenue, cost, EVA and RAROC. This module owns the
//! ranking: by total EVA descending, then total RAROC descending (an option without capital, RAROC
//! "n/a", after those with one), then the order given; an option whose proposal breaches a
//! regulatory limit does not fail the call but gets the verdict `RegulatoryBreach` and ranks after
//! every option without a breach.

use std::cmp::Ordering;

use super::quote::{PricingContext, QuoteRequest, QuoteResult, QuoteVerdict, evaluate};
use super::rules::CustomerFacts;
use super::{PricingError, PricingViolation};

/// The most options one simulation may price.
pub const MAX_SCENARIOS: usize = 10;

/// One option to price.
#[derive(Clone, Debug)]
pub struct Scenario<'a> {
    /// A name unique within the simulation, e.g. `option 2: whole cash business`.
    pub name: String,
    /// The option's quote.
    pub request: QuoteRequest<'a>,
}

/// One priced option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimulationResult {
    /// The scenario's name.
    pub name: String,
    /// 1 for the best option.
    pub rank: u32,
    /// The option priced as a quote (with `breached_limit_ids` when it breaches a limit).
    pub quote: QuoteResult,
}

/// Prices every scenario and ranks them (best first); see the module doc. Invalid input in any
/// scenario fails the call, naming `scenarios[i].…`.
pub fn simulate(
    ctx: &PricingContext<'_>,
    facts: &CustomerFacts,
    scenarios: &[Scenario<'_>],
) -> Result<Vec<SimulationResult>, PricingError> {
    let mut v = Vec::new();
    if scenarios.is_empty() || scenarios.len() > MAX_SCENARIOS {
        v.push(PricingViolation::new(
            "scenarios",
            format!(
                "a simulation has 1 to {MAX_SCENARIOS} scenarios, not {}",
                scenarios.len()
            ),
        ));
    }
    for (i, s) in scenarios.iter().enumerate() {
        if s.name.trim().is_empty() || s.name.chars().count() > 200 {
            v.push(PricingViolation::new(
                format!("scenarios[{i}].name"),
                "must be 1 to 200 characters",
            ));
        } else if scenarios[..i].iter().any(|o| o.name == s.name) {
            v.push(PricingViolation::new(
                format!("scenarios[{i}].name"),
                format!("{:?} is used twice", s.name),
            ));
        }
    }
    if !v.is_empty() {
        return Err(PricingError::Invalid(v));
    }
    let mut priced = Vec::with_capacity(scenarios.len());
    for (i, s) in scenarios.iter().enumerate() {
        let quote = evaluate(ctx, facts, &s.request, true)
            .map_err(|e| e.prefixed(&format!("scenarios[{i}]")))?;
        priced.push((s.name.clone(), quote));
    }
    priced.sort_by(|(_, a), (_, b)| rank_order(a, b));
    Ok(priced
        .into_iter()
        .zip(1u32..)
        .map(|((name, quote), rank)| SimulationResult { name, rank, quote })
        .collect())
}

/// The ranking order: options without a breach first; then total EVA descending; then RAROC
/// descending with "n/a" last. Equal options keep their order (the sort is stable).
pub fn rank_order(a: &QuoteResult, b: &QuoteResult) -> Ordering {
    let breach = |q: &QuoteResult| q.verdict == QuoteVerdict::RegulatoryBreach;
    breach(a)
        .cmp(&breach(b))
        .then_with(|| b.totals.eva.minor_units().cmp(&a.totals.eva.minor_units()))
        .then_with(|| match (a.totals.raroc, b.totals.raroc) {
            (Some(x), Some(y)) => y.cmp(&x),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::LifecycleStage;
    use crate::money::{BasisPoints, Currency, Money};
    use crate::org::BusinessLine;
    use crate::pricing::authority::{AuthorityBand, AuthorityLevel};
    use crate::pricing::catalogue::{
        FeeSchedule, ListPrice, Price, PriceTerms, Product, ProductCategory, ProductKind,
    };
    use crate::pricing::economics::Term;
    use crate::pricing::effective::EffectiveRange;
    use crate::pricing::limits::{LimitBound, RegulatoryLimit, RegulatoryLimitKind};
    use crate::pricing::quote::{QuoteConfig, QuoteItemInput};
    use chrono::NaiveDate;
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
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

    fn fee_terms(fee: i64, cost: Decimal) -> PriceTerms {
        PriceTerms {
            list_price: ListPrice::Fees(FeeSchedule::flat(cny(fee))),
            ftp_rate: BasisPoints::ZERO,
            operating_cost_ratio: cost,
            economic_capital_ratio: Decimal::ZERO,
            probability_of_default: Decimal::ZERO,
            loss_given_default: Decimal::ZERO,
        }
    }

    #[test]
    fn options_rank_by_eva_then_raroc_with_breaches_last() {
        let fee = product("FEE", ProductKind::Fee, ProductCategory::Settlement);
        let dep = product("DEP", ProductKind::Liability, ProductCategory::Deposit);
        let small = fee_terms(100_000, dec!(0.5)); // RAR 50,000, EC 15,000, EVA 48,200
        let big = fee_terms(200_000, dec!(0.75)); // RAR 50,000, EC 30,000, EVA 46,400
        // A deposit with no capital: margin 8M × 0.60% = 48,200 exactly → same EVA as `small`,
        // RAROC n/a.
        let dep_terms = PriceTerms {
            list_price: ListPrice::RateBps(BasisPoints::new(100)),
            ftp_rate: BasisPoints::new(160),
            operating_cost_ratio: Decimal::ZERO,
            economic_capital_ratio: Decimal::ZERO,
            probability_of_default: Decimal::ZERO,
            loss_given_default: Decimal::ZERO,
        };
        let fee_item = |terms| QuoteItemInput {
            product: &fee,
            terms,
            bundle_component_id: None,
            amount: None,
            annual_volume: None,
            term: Term::Months(12),
            proposal: None,
            covenant_agreed_ratio: None,
        };
        let dep_item = |amount: i64, proposal: Option<i32>| QuoteItemInput {
            product: &dep,
            terms: &dep_terms,
            bundle_component_id: None,
            amount: Some(cny(amount)),
            annual_volume: None,
            term: Term::Months(12),
            proposal: proposal.map(|r| Price::Rate(BasisPoints::new(r))),
            covenant_agreed_ratio: None,
        };
        let cap = RegulatoryLimit {
            limit_id: "cap".into(),
            name: "deposit cap 1.20%".into(),
            kind: RegulatoryLimitKind::DepositRateCap,
            product_kind: ProductKind::Liability,
            bound: LimitBound::Absolute(BasisPoints::new(120)),
            min_term_months: None,
            max_term_months: None,
            effective: EffectiveRange::starting(d(2025, 1, 1)),
        };
        let band = AuthorityBand {
            band_id: "dep-cm".into(),
            level: AuthorityLevel::CustomerManager,
            product_kind: ProductKind::Liability,
            max_rate_concession: BasisPoints::new(100),
            max_fee_concession: BasisPoints::ZERO,
            effective: EffectiveRange::starting(d(2025, 1, 1)),
        };
        let limits = [cap];
        let bands = [band];
        let ctx = PricingContext {
            date: d(2025, 6, 2),
            rules: &[],
            bands: &bands,
            limits: &limits,
            reference_rates: &[],
            fx_rates: &[],
            config: QuoteConfig::default(),
        };
        let scenario = |name: &str, items| Scenario {
            name: name.into(),
            request: QuoteRequest {
                items,
                bundle: None,
                strategic: false,
            },
        };
        let scenarios = vec![
            scenario("breach", vec![dep_item(100_000_000, Some(150))]),
            scenario("big fee", vec![fee_item(&big)]),
            scenario("deposit", vec![dep_item(8_033_333, None)]),
            scenario("small fee", vec![fee_item(&small)]),
        ];
        let facts = CustomerFacts {
            stage: Some(LifecycleStage::Core),
            ..CustomerFacts::default()
        };
        let results = simulate(&ctx, &facts, &scenarios).unwrap();
        let order: Vec<_> = results.iter().map(|r| (r.rank, r.name.as_str())).collect();
        assert_eq!(
            order,
            [
                (1, "small fee"),
                (2, "deposit"),
                (3, "big fee"),
                (4, "breach")
            ]
        );
        assert_eq!(results[0].quote.totals.eva, cny(48_200));
        // 8,033,333 × 0.60% = 48,199.998 → 48,200.00: same EVA, RAROC n/a ranks after.
        assert_eq!(results[1].quote.totals.eva, cny(48_200));
        assert_eq!(results[1].quote.totals.raroc, None);
        assert_eq!(results[3].quote.verdict, QuoteVerdict::RegulatoryBreach);
        assert_eq!(results[3].quote.breached_limit_ids, ["cap"]);
        assert!(
            results[3].quote.totals.eva.minor_units() > results[0].quote.totals.eva.minor_units(),
            "a breach ranks last however good its EVA"
        );
    }

    #[test]
    fn scenario_names_and_counts_are_checked() {
        let ctx = PricingContext {
            date: d(2025, 6, 2),
            rules: &[],
            bands: &[],
            limits: &[],
            reference_rates: &[],
            fx_rates: &[],
            config: QuoteConfig::default(),
        };
        let facts = CustomerFacts::default();
        let err = simulate(&ctx, &facts, &[]).unwrap_err();
        assert!(matches!(err, PricingError::Invalid(v) if v[0].field == "scenarios"));
        let s = |name: &str| Scenario {
            name: name.into(),
            request: QuoteRequest {
                items: vec![],
                bundle: None,
                strategic: false,
            },
        };
        let err = simulate(&ctx, &facts, &[s("a"), s("a"), s(" ")]).unwrap_err();
        let PricingError::Invalid(v) = err else {
            panic!("{err:?}")
        };
        let fields: Vec<_> = v.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["scenarios[1].name", "scenarios[2].name"]);
        // A scenario's own problems are named under it.
        let err = simulate(&ctx, &facts, &[s("a")]).unwrap_err();
        assert!(matches!(err, PricingError::Invalid(v) if v[0].field == "scenarios[0].items"));
        let many: Vec<_> = (0..11).map(|i| s(&format!("o{i}"))).collect();
        assert!(matches!(
            simulate(&ctx, &facts, &many),
            Err(PricingError::Invalid(v)) if v[0].field == "scenarios"
        ));
    }
}
