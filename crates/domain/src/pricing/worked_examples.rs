//! The worked examples of `docs/pricing.md`, asserted to the fen with this module's functions.
//! The inputs here are exactly the document's (its "Shared data" section and each example's
//! table); if one changes, the other must.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::authority::{AuthorityBand, AuthorityLevel};
use super::bundles::{Bundle, BundleComponent, Prerequisite, Requirement};
use super::catalogue::{FeeSchedule, FeeTier, ListPrice, Price, PriceTerms, Product};
use super::catalogue::{ProductCategory, ProductKind};
use super::economics::{Economics, Term};
use super::effective::EffectiveRange;
use super::fx::FxRate;
use super::limits::RegulatoryLimitKind;
use super::limits::{LimitBound, ReferenceRate, ReferenceRateKind, RegulatoryLimit};
use super::quote::price_quote;
use super::quote::{PricingContext, QuoteConfig, QuoteItemInput, QuoteRequest, QuoteVerdict};
use super::rules::{Benefit, CustomerCondition, CustomerFacts, PricingRule, RuleTarget};
use super::simulation::{Scenario, simulate};
use crate::customer::{CorporateTier, CustomerKind, LifecycleStage};
use crate::money::{BasisPoints, Currency, Money};
use crate::org::BusinessLine;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn bp(v: i32) -> BasisPoints {
    BasisPoints::new(v)
}

/// Yuan and fen: `yuan(1_234, 56)` is CNY 1,234.56.
fn yuan(y: i64, fen: i64) -> Money {
    Money::from_minor(Currency::CNY, y * 100 + fen)
}

fn cny(y: i64) -> Money {
    yuan(y, 0)
}

fn usd(y: i64) -> Money {
    Money::from_minor(Currency::USD, y * 100)
}

fn since_2025() -> EffectiveRange {
    EffectiveRange::starting(d(2025, 1, 1))
}

/// The shared data of the document.
struct Book {
    loan_1y: Product,
    loan_5y: Product,
    deposit: Product,
    payroll: Product,
    card: Product,
    fx_settlement: Product,
    cash_two_stores: Product,
    cash_whole: Product,
    cash_deposit: Product,
    loan_1y_terms: PriceTerms,
    loan_5y_terms: PriceTerms,
    deposit_terms: PriceTerms,
    payroll_terms: PriceTerms,
    card_terms: PriceTerms,
    fx_terms: PriceTerms,
    cash_two_stores_terms: PriceTerms,
    cash_whole_terms: PriceTerms,
    cash_deposit_terms: PriceTerms,
    rules: Vec<PricingRule>,
    bands: Vec<AuthorityBand>,
    limits: Vec<RegulatoryLimit>,
    reference_rates: Vec<ReferenceRate>,
    fx_rates: Vec<FxRate>,
    payroll_plus: Bundle,
}

fn product(id: &str, kind: ProductKind, category: ProductCategory, currency: Currency) -> Product {
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

fn balance_terms(
    list: i32,
    ftp: i32,
    cost: Decimal,
    capital: Decimal,
    pd: Decimal,
    lgd: Decimal,
) -> PriceTerms {
    PriceTerms {
        list_price: ListPrice::RateBps(bp(list)),
        ftp_rate: bp(ftp),
        operating_cost_ratio: cost,
        economic_capital_ratio: capital,
        probability_of_default: pd,
        loss_given_default: lgd,
    }
}

fn fee_terms(schedule: FeeSchedule, cost: Decimal) -> PriceTerms {
    PriceTerms {
        list_price: ListPrice::Fees(schedule),
        ftp_rate: BasisPoints::ZERO,
        operating_cost_ratio: cost,
        economic_capital_ratio: Decimal::ZERO,
        probability_of_default: Decimal::ZERO,
        loss_given_default: Decimal::ZERO,
    }
}

fn rule(
    id: &str,
    name: &str,
    priority: i32,
    condition: CustomerCondition,
    kind: ProductKind,
    benefit: Benefit,
) -> PricingRule {
    PricingRule {
        rule_id: id.into(),
        version: 1,
        name: name.into(),
        priority,
        condition,
        target: RuleTarget {
            product_kind: Some(kind),
            ..RuleTarget::default()
        },
        benefit,
        exclusive: false,
        effective: since_2025(),
    }
}

fn band(level: AuthorityLevel, kind: ProductKind, max: i32) -> AuthorityBand {
    let (rate, fee) = match kind {
        ProductKind::Fee => (0, max),
        _ => (max, 0),
    };
    AuthorityBand {
        band_id: format!("{kind}/{level}"),
        level,
        product_kind: kind,
        max_rate_concession: bp(rate),
        max_fee_concession: bp(fee),
        effective: since_2025(),
    }
}

fn limit(
    id: &str,
    kind: RegulatoryLimitKind,
    bound: LimitBound,
    min_term: Option<u32>,
    max_term: Option<u32>,
) -> RegulatoryLimit {
    RegulatoryLimit {
        limit_id: id.into(),
        name: id.into(),
        kind,
        product_kind: kind.product_kind(),
        bound,
        min_term_months: min_term,
        max_term_months: max_term,
        effective: since_2025(),
    }
}

fn book() -> Book {
    use AuthorityLevel::*;
    use ProductCategory as C;
    use ProductKind::*;
    let core_or_strategic = CustomerCondition {
        stages: vec![LifecycleStage::Core, LifecycleStage::StrategicPartner],
        ..CustomerCondition::default()
    };
    let big_contributor = CustomerCondition {
        min_ttm_contribution: Some(cny(2_000_000)),
        ..CustomerCondition::default()
    };
    let senior_tier = CustomerCondition {
        corporate_tiers: vec![CorporateTier::HeadOffice, CorporateTier::Tier1Branch],
        ..CustomerCondition::default()
    };
    Book {
        loan_1y: product("LOAN-WC-1Y", Asset, C::Loan, Currency::CNY),
        loan_5y: product("LOAN-TERM-5Y", Asset, C::Loan, Currency::CNY),
        deposit: product("DEP-DEMAND", Liability, C::Deposit, Currency::CNY),
        payroll: product("PAYROLL", Fee, C::Payroll, Currency::CNY),
        card: product("CARD-CORP", Fee, C::Card, Currency::CNY),
        fx_settlement: product("FX-SETTLE", Fee, C::Fx, Currency::USD),
        cash_two_stores: product("CASH-2STORES", Fee, C::Settlement, Currency::CNY),
        cash_whole: product("CASH-WHOLE", Fee, C::Settlement, Currency::CNY),
        cash_deposit: product("DEP-CASH", Liability, C::Deposit, Currency::CNY),
        loan_1y_terms: balance_terms(435, 240, dec!(0.004), dec!(0.08), dec!(0.005), dec!(0.40)),
        loan_5y_terms: balance_terms(420, 290, dec!(0.004), dec!(0.08), dec!(0.005), dec!(0.40)),
        deposit_terms: balance_terms(35, 160, dec!(0.003), dec!(0), dec!(0), dec!(0)),
        payroll_terms: fee_terms(
            FeeSchedule {
                tiers: vec![
                    FeeTier {
                        volume_from: cny(0),
                        rate: bp(10),
                    },
                    FeeTier {
                        volume_from: cny(10_000_000),
                        rate: bp(5),
                    },
                ],
                whole_volume: false,
                flat_annual_fee: cny(0),
                minimum_annual_fee: None,
            },
            dec!(0.50),
        ),
        card_terms: fee_terms(FeeSchedule::flat(cny(2_000)), dec!(0.60)),
        fx_terms: fee_terms(FeeSchedule::flat(usd(20_000)), dec!(0.50)),
        cash_two_stores_terms: fee_terms(FeeSchedule::flat(cny(120_000)), dec!(0.55)),
        cash_whole_terms: fee_terms(FeeSchedule::flat(cny(394_000)), dec!(0.60)),
        cash_deposit_terms: balance_terms(25, 160, dec!(0.003), dec!(0), dec!(0), dec!(0)),
        rules: vec![
            rule(
                "R1",
                "core and strategic customers: loans -10 bp",
                10,
                core_or_strategic,
                Asset,
                Benefit::SpreadPercent(bp(10)),
            ),
            rule(
                "R2",
                "contribution of RMB 2,000,000 or more: loans -15 bp",
                20,
                big_contributor,
                Asset,
                Benefit::SpreadPercent(bp(15)),
            ),
            rule(
                "R3",
                "head-office and tier-1 customers: deposits +5 bp",
                10,
                senior_tier,
                Liability,
                Benefit::SpreadPercent(bp(5)),
            ),
        ],
        bands: vec![
            band(CustomerManager, Asset, 5),
            band(Outlet, Asset, 10),
            band(SubBranch, Asset, 15),
            band(Tier2Branch, Asset, 25),
            band(Tier1Branch, Asset, 40),
            band(HeadOffice, Asset, 150),
            band(CustomerManager, Liability, 5),
            band(SubBranch, Liability, 10),
            band(Tier1Branch, Liability, 20),
            band(HeadOffice, Liability, 50),
            band(CustomerManager, Fee, 500),
            band(SubBranch, Fee, 1_000),
            band(Tier1Branch, Fee, 2_000),
            band(HeadOffice, Fee, 10_000),
        ],
        limits: vec![
            limit(
                "floor-1y",
                RegulatoryLimitKind::LoanRateFloor,
                LimitBound::ReferenceSpread {
                    reference: ReferenceRateKind::Lpr1y,
                    spread: bp(-50),
                },
                None,
                Some(12),
            ),
            limit(
                "floor-5y",
                RegulatoryLimitKind::LoanRateFloor,
                LimitBound::ReferenceSpread {
                    reference: ReferenceRateKind::Lpr5y,
                    spread: bp(-80),
                },
                Some(13),
                None,
            ),
            limit(
                "cap-deposit",
                RegulatoryLimitKind::DepositRateCap,
                LimitBound::Absolute(bp(150)),
                None,
                None,
            ),
        ],
        reference_rates: vec![
            ReferenceRate {
                kind: ReferenceRateKind::Lpr1y,
                effective_date: d(2025, 5, 20),
                rate: bp(300),
            },
            ReferenceRate {
                kind: ReferenceRateKind::Lpr5y,
                effective_date: d(2025, 5, 20),
                rate: bp(350),
            },
        ],
        fx_rates: vec![FxRate {
            currency: Currency::USD,
            effective_date: d(2025, 1, 1),
            cny_per_unit: dec!(7.1),
        }],
        payroll_plus: Bundle {
            bundle_id: "payroll-plus".into(),
            version: 1,
            name: "Payroll plus".into(),
            description: String::new(),
            components: vec![
                BundleComponent {
                    component_id: "deposit".into(),
                    product_id: "DEP-DEMAND".into(),
                    mandatory: true,
                    benefit: Some(Benefit::SpreadPercent(bp(10))),
                    note: String::new(),
                },
                BundleComponent {
                    component_id: "payroll".into(),
                    product_id: "PAYROLL".into(),
                    mandatory: true,
                    benefit: Some(Benefit::FixedPercent(bp(2_000))),
                    note: String::new(),
                },
                BundleComponent {
                    component_id: "card".into(),
                    product_id: "CARD-CORP".into(),
                    mandatory: false,
                    benefit: Some(Benefit::Waive),
                    note: String::new(),
                },
            ],
            eligibility: CustomerCondition {
                corporate_tiers: vec![CorporateTier::Tier1Branch, CorporateTier::Tier2Branch],
                stages: vec![LifecycleStage::Established, LifecycleStage::Core],
                ..CustomerCondition::default()
            },
            prerequisites: vec![
                Prerequisite {
                    prerequisite_id: "executives".into(),
                    requirement: Requirement::ExecutivePersonalAccounts { min_count: 2 },
                    description: "two executives bank with us personally".into(),
                },
                Prerequisite {
                    prerequisite_id: "cards".into(),
                    requirement: Requirement::HoldsCategory(ProductCategory::Card),
                    description: "corporate card issuance".into(),
                },
            ],
            effective: since_2025(),
            active: true,
        },
    }
}

fn ctx(b: &Book) -> PricingContext<'_> {
    PricingContext {
        date: d(2025, 6, 2),
        rules: &b.rules,
        bands: &b.bands,
        limits: &b.limits,
        reference_rates: &b.reference_rates,
        fx_rates: &b.fx_rates,
        config: QuoteConfig::default(),
    }
}

fn item<'a>(
    product: &'a Product,
    terms: &'a PriceTerms,
    amount: Option<Money>,
    term_months: u32,
) -> QuoteItemInput<'a> {
    QuoteItemInput {
        product,
        terms,
        bundle_component_id: None,
        amount,
        annual_volume: None,
        term: Term::Months(term_months),
        proposal: None,
        covenant_agreed_ratio: None,
    }
}

/// Asserts every money figure (and RAROC) of a set of economics.
#[track_caller]
fn assert_economics(
    e: &Economics,
    [margin, cost, el, ec, rar, eva]: [Money; 6],
    raroc: Option<Decimal>,
) {
    assert_eq!(e.margin, margin, "margin");
    assert_eq!(e.operating_cost, cost, "operating cost");
    assert_eq!(e.expected_loss, el, "expected loss");
    assert_eq!(e.economic_capital, ec, "economic capital");
    assert_eq!(e.risk_adjusted_return, rar, "RAR");
    assert_eq!(e.eva, eva, "EVA");
    assert_eq!(e.raroc, raroc, "RAROC");
}

#[test]
fn example_1_a_loan() {
    let b = book();
    let facts = CustomerFacts {
        kind: Some(CustomerKind::Corporate),
        corporate_tier: Some(CorporateTier::Tier2Branch),
        stage: Some(LifecycleStage::Core),
        ttm_contribution: Some(cny(1_800_000)),
        ..CustomerFacts::default()
    };
    let mut loan = item(&b.loan_1y, &b.loan_1y_terms, Some(cny(10_000_000)), 12);
    loan.proposal = Some(Price::Rate(bp(415)));
    let request = QuoteRequest {
        items: vec![loan],
        bundle: None,
        strategic: false,
    };
    let q = price_quote(&ctx(&b), &facts, &request).unwrap();
    let i = &q.items[0];
    assert_eq!(i.list_price, Price::Rate(bp(435)));
    assert_eq!(i.rules.len(), 2);
    assert_eq!(
        i.rules[0].text(),
        "core and strategic customers: loans -10 bp: applied, 4.35% → 4.25%"
    );
    assert_eq!(
        i.rules[1].text(),
        "contribution of RMB 2,000,000 or more: loans -15 bp: not applied: \
         contribution RMB 1,800,000.00, rule needs 2,000,000.00"
    );
    assert_eq!(i.relationship_price, Price::Rate(bp(425)));
    assert_eq!(i.proposed_price, Price::Rate(bp(415)));
    assert_eq!(i.concession, bp(10));
    assert_eq!(i.required_level, AuthorityLevel::Outlet);
    assert_eq!(i.regulatory_limit_ids, ["floor-1y"]);
    assert_eq!(i.year_fraction.to_decimal(), dec!(1));
    assert_economics(
        &i.economics,
        [
            cny(175_000),
            cny(40_000),
            cny(20_000),
            cny(800_000),
            cny(115_000),
            cny(19_000),
        ],
        Some(dec!(0.1438)),
    );
    assert_eq!(q.totals, i.economics);
    assert_eq!(q.verdict, QuoteVerdict::NeedsApproval);
    assert_eq!(q.required_level, AuthorityLevel::Outlet);
    assert_eq!(q.applied_rule_ids, ["R1"]);
    assert_eq!(q.existing_contribution, Some(cny(1_800_000)));
    assert_eq!(q.combined_contribution, Some(cny(1_819_000)));
}

#[test]
fn example_2_a_deposit_and_fee_bundle() {
    let b = book();
    let facts = CustomerFacts {
        kind: Some(CustomerKind::Corporate),
        corporate_tier: Some(CorporateTier::Tier1Branch),
        stage: Some(LifecycleStage::Established),
        ttm_contribution: Some(cny(600_000)),
        executives_with_personal_accounts: 3,
        ..CustomerFacts::default()
    };
    let mut deposit = item(&b.deposit, &b.deposit_terms, Some(cny(5_000_000)), 12);
    deposit.bundle_component_id = Some("deposit");
    let mut payroll = item(&b.payroll, &b.payroll_terms, None, 12);
    payroll.bundle_component_id = Some("payroll");
    payroll.annual_volume = Some(cny(30_000_000));
    let request = QuoteRequest {
        items: vec![deposit, payroll],
        bundle: Some(&b.payroll_plus),
        strategic: false,
    };
    let q = price_quote(&ctx(&b), &facts, &request).unwrap();
    let (dep, pay) = (&q.items[0], &q.items[1]);
    assert_eq!(dep.list_price, Price::Rate(bp(35)));
    assert_eq!(
        dep.rules[0].text(),
        "head-office and tier-1 customers: deposits +5 bp: applied, 0.35% → 0.40%"
    );
    let benefit = dep.bundle_benefit.as_ref().unwrap();
    assert_eq!(benefit.price_before, Price::Rate(bp(40)));
    assert_eq!(benefit.price_after, Price::Rate(bp(50)));
    assert_eq!(dep.relationship_price, Price::Rate(bp(50)));
    assert_eq!(dep.proposed_price, Price::Rate(bp(50)));
    assert_eq!(dep.regulatory_limit_ids, ["cap-deposit"]);
    assert_economics(
        &dep.economics,
        [
            cny(55_000),
            cny(15_000),
            cny(0),
            cny(0),
            cny(40_000),
            cny(40_000),
        ],
        None,
    );
    // Marginal: 10,000,000 × 0.10% + 20,000,000 × 0.05%; whole-volume would be 30M × 0.05%.
    assert_eq!(pay.list_price, Price::AnnualFee(cny(20_000)));
    let whole = FeeSchedule {
        whole_volume: true,
        ..match &b.payroll_terms.list_price {
            ListPrice::Fees(s) => s.clone(),
            ListPrice::RateBps(_) => unreachable!(),
        }
    };
    assert_eq!(whole.annual_fee(cny(30_000_000)), Ok(cny(15_000)));
    assert!(pay.rules.is_empty());
    assert_eq!(pay.relationship_price, Price::AnnualFee(cny(16_000)));
    assert_eq!(pay.concession, bp(0));
    assert_economics(
        &pay.economics,
        [
            cny(16_000),
            cny(8_000),
            cny(0),
            cny(2_400),
            cny(8_000),
            cny(7_712),
        ],
        Some(dec!(3.3333)),
    );
    assert_economics(
        &q.totals,
        [
            cny(71_000),
            cny(23_000),
            cny(0),
            cny(2_400),
            cny(48_000),
            cny(47_712),
        ],
        Some(dec!(20.0000)),
    );
    assert_eq!(q.verdict, QuoteVerdict::Acceptable);
    assert_eq!(q.required_level, AuthorityLevel::CustomerManager);
    let missing: Vec<_> = q
        .missing_prerequisites
        .iter()
        .map(|p| p.prerequisite_id.as_str())
        .collect();
    assert_eq!(missing, ["cards"]);
    assert_eq!(q.applied_rule_ids, ["R3"]);
    assert_eq!(q.combined_contribution, Some(cny(647_712)));
    // Adding the optional card component meets the card prerequisite and waives its fee.
    let mut card = item(&b.card, &b.card_terms, None, 12);
    card.bundle_component_id = Some("card");
    let mut with_card = request.clone();
    with_card.items.push(card);
    let q = price_quote(&ctx(&b), &facts, &with_card).unwrap();
    assert!(q.missing_prerequisites.is_empty());
    assert_eq!(q.items[2].list_price, Price::AnnualFee(cny(2_000)));
    assert_eq!(q.items[2].relationship_price, Price::AnnualFee(cny(0)));
}

#[test]
fn example_3_a_loan_under_ftp_covered_by_deposits_and_fees() {
    let b = book();
    let facts = CustomerFacts {
        kind: Some(CustomerKind::Corporate),
        corporate_tier: Some(CorporateTier::Tier1Branch),
        stage: Some(LifecycleStage::StrategicPartner),
        ttm_contribution: Some(cny(2_500_000)),
        ..CustomerFacts::default()
    };
    let mut loan = item(&b.loan_5y, &b.loan_5y_terms, Some(cny(20_000_000)), 60);
    loan.proposal = Some(Price::Rate(bp(280)));
    let deposit = item(&b.deposit, &b.deposit_terms, Some(cny(60_000_000)), 12);
    let fx = item(&b.fx_settlement, &b.fx_terms, None, 12);
    let request = QuoteRequest {
        items: vec![loan, deposit, fx],
        bundle: None,
        strategic: false,
    };
    let q = price_quote(&ctx(&b), &facts, &request).unwrap();
    let (loan, dep, fx) = (&q.items[0], &q.items[1], &q.items[2]);
    assert_eq!(loan.list_price, Price::Rate(bp(420)));
    assert_eq!(
        loan.rules.iter().map(|r| r.text()).collect::<Vec<_>>(),
        [
            "core and strategic customers: loans -10 bp: applied, 4.20% → 4.10%",
            "contribution of RMB 2,000,000 or more: loans -15 bp: applied, 4.10% → 3.95%",
        ]
    );
    assert_eq!(loan.relationship_price, Price::Rate(bp(395)));
    assert_eq!(loan.concession, bp(115));
    assert_eq!(loan.required_level, AuthorityLevel::HeadOffice);
    assert_eq!(loan.regulatory_limit_ids, ["floor-5y"]);
    assert_economics(
        &loan.economics,
        [
            cny(-20_000),
            cny(80_000),
            cny(40_000),
            cny(1_600_000),
            cny(-140_000),
            cny(-332_000),
        ],
        Some(dec!(-0.0875)),
    );
    assert_eq!(dep.relationship_price, Price::Rate(bp(40)));
    assert_economics(
        &dep.economics,
        [
            cny(720_000),
            cny(180_000),
            cny(0),
            cny(0),
            cny(540_000),
            cny(540_000),
        ],
        None,
    );
    assert_eq!(fx.currency, Currency::USD);
    assert_eq!(fx.fx_rate, dec!(7.1));
    assert_economics(
        &fx.economics,
        [
            usd(20_000),
            usd(10_000),
            usd(0),
            usd(3_000),
            usd(10_000),
            usd(9_640),
        ],
        Some(dec!(3.3333)),
    );
    assert_economics(
        &q.totals,
        [
            cny(842_000),
            cny(331_000),
            cny(40_000),
            cny(1_621_300),
            cny(471_000),
            cny(276_444),
        ],
        Some(dec!(0.2905)),
    );
    assert_eq!(q.verdict, QuoteVerdict::NeedsApproval);
    assert_eq!(q.required_level, AuthorityLevel::HeadOffice);
    assert_eq!(q.applied_rule_ids, ["R1", "R2", "R3"]);
    assert_eq!(q.combined_contribution, Some(cny(2_776_444)));
    // The loan alone is refused: "no unprofitable marketing".
    let alone = QuoteRequest {
        items: vec![request.items[0].clone()],
        bundle: None,
        strategic: false,
    };
    let q = price_quote(&ctx(&b), &facts, &alone).unwrap();
    assert_eq!(q.totals.eva, cny(-332_000));
    assert_eq!(q.verdict, QuoteVerdict::Refused);
}

#[test]
fn cash_services_options_compare_as_domain_section_4_says() {
    let b = book();
    let facts = CustomerFacts {
        kind: Some(CustomerKind::Corporate),
        corporate_tier: Some(CorporateTier::Tier2Branch),
        stage: Some(LifecycleStage::Established),
        ..CustomerFacts::default()
    };
    let scenarios = vec![
        Scenario {
            name: "option 1: cash counting and change for two stores".into(),
            request: QuoteRequest {
                items: vec![item(&b.cash_two_stores, &b.cash_two_stores_terms, None, 12)],
                bundle: None,
                strategic: false,
            },
        },
        Scenario {
            name: "option 2: the whole cash business".into(),
            request: QuoteRequest {
                items: vec![
                    item(&b.cash_whole, &b.cash_whole_terms, None, 12),
                    item(
                        &b.cash_deposit,
                        &b.cash_deposit_terms,
                        Some(cny(8_000_000)),
                        12,
                    ),
                ],
                bundle: None,
                strategic: false,
            },
        },
    ];
    let results = simulate(&ctx(&b), &facts, &scenarios).unwrap();
    assert_eq!(results[0].name, "option 2: the whole cash business");
    assert_eq!(results[0].rank, 1);
    assert_eq!(results[1].rank, 2);
    let option_2 = &results[0].quote;
    let option_1 = &results[1].quote;
    assert_economics(
        &option_1.totals,
        [
            cny(120_000),
            cny(66_000),
            cny(0),
            cny(18_000),
            cny(54_000),
            cny(51_840),
        ],
        Some(dec!(3.0000)),
    );
    assert_economics(
        &option_2.items[0].economics,
        [
            cny(394_000),
            cny(236_400),
            cny(0),
            cny(59_100),
            cny(157_600),
            cny(150_508),
        ],
        Some(dec!(2.6667)),
    );
    assert_economics(
        &option_2.items[1].economics,
        [
            cny(108_000),
            cny(24_000),
            cny(0),
            cny(0),
            cny(84_000),
            cny(84_000),
        ],
        None,
    );
    // 241,600 / 59,100 = 4.08798… ≈ 408.8%.
    assert_economics(
        &option_2.totals,
        [
            cny(502_000),
            cny(260_400),
            cny(0),
            cny(59_100),
            cny(241_600),
            cny(234_508),
        ],
        Some(dec!(4.0880)),
    );
    assert_eq!(option_1.verdict, QuoteVerdict::Acceptable);
    assert_eq!(option_2.verdict, QuoteVerdict::Acceptable);
}

#[test]
fn the_shared_data_is_valid() {
    let b = book();
    for (p, t) in [
        (&b.loan_1y, &b.loan_1y_terms),
        (&b.loan_5y, &b.loan_5y_terms),
        (&b.deposit, &b.deposit_terms),
        (&b.payroll, &b.payroll_terms),
        (&b.card, &b.card_terms),
        (&b.fx_settlement, &b.fx_terms),
        (&b.cash_two_stores, &b.cash_two_stores_terms),
        (&b.cash_whole, &b.cash_whole_terms),
        (&b.cash_deposit, &b.cash_deposit_terms),
    ] {
        assert_eq!(p.validate(), Ok(()), "{}", p.product_id);
        assert_eq!(
            t.validate_for(p.kind, p.currency),
            Ok(()),
            "{}",
            p.product_id
        );
    }
    for r in &b.rules {
        assert_eq!(r.validate(), Ok(()), "{}", r.rule_id);
    }
    assert_eq!(super::authority::validate_bands(&b.bands), Ok(()));
    for l in &b.limits {
        assert_eq!(l.validate(), Ok(()), "{}", l.limit_id);
    }
    let catalogue = [&b.deposit, &b.payroll, &b.card];
    assert_eq!(
        b.payroll_plus
            .validate(|id| catalogue.iter().copied().find(|p| p.product_id == id)),
        Ok(())
    );
    assert_eq!(yuan(1, 5).to_string(), "CNY 1.05");
}
