//! Benchmark of the in-process quote (`bankmkt_domain::pricing::price_quote`): a 10-item bundle
//! quote — 4 loans, 3 deposits, 3 fee products (one in USD, one on a marginal schedule), under a
//! bundle with benefits and prerequisites, 4 relationship rules, 14 authority bands, 3 limits —
//! priced repeatedly on one thread. Prints quotes per second. No timing assertions; run with
//! `cargo bench -p bankmkt-domain --bench quote`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bankmkt_domain::customer::{CorporateTier, CustomerKind, LifecycleStage};
use bankmkt_domain::money::{BasisPoints, Currency, Money};
use bankmkt_domain::org::BusinessLine;
use bankmkt_domain::pricing::{
    AuthorityBand, AuthorityLevel, Benefit, Bundle, BundleComponent, CustomerCondition,
    CustomerFacts, EffectiveRange, FeeSchedule, FeeTier, FxRate, LimitBound, ListPrice,
    Prerequisite, Price, PriceTerms, PricingContext, PricingRule, Product, ProductCategory,
    ProductKind, QuoteConfig, QuoteItemInput, QuoteRequest, ReferenceRate, ReferenceRateKind,
    RegulatoryLimit, RegulatoryLimitKind, Requirement, RuleTarget, Term, price_quote,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;

fn bp(v: i32) -> BasisPoints {
    BasisPoints::new(v)
}

fn cny(y: i64) -> Money {
    Money::from_minor(Currency::CNY, y * 100)
}

fn ratio(s: &str) -> Decimal {
    s.parse().expect("a decimal literal")
}

fn start() -> EffectiveRange {
    EffectiveRange::starting(NaiveDate::from_ymd_opt(2025, 1, 1).expect("a date"))
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

fn terms(list: ListPrice, ftp: i32, cost: &str, capital: &str, pd: &str, lgd: &str) -> PriceTerms {
    PriceTerms {
        list_price: list,
        ftp_rate: bp(ftp),
        operating_cost_ratio: ratio(cost),
        economic_capital_ratio: ratio(capital),
        probability_of_default: ratio(pd),
        loss_given_default: ratio(lgd),
    }
}

fn rule(
    id: &str,
    priority: i32,
    condition: CustomerCondition,
    kind: ProductKind,
    benefit: Benefit,
) -> PricingRule {
    PricingRule {
        rule_id: id.into(),
        version: 1,
        name: format!("rule {id}"),
        priority,
        condition,
        target: RuleTarget {
            product_kind: Some(kind),
            ..RuleTarget::default()
        },
        benefit,
        exclusive: false,
        effective: start(),
    }
}

fn main() {
    use ProductCategory as C;
    use ProductKind::*;
    let products: Vec<Product> = vec![
        product("LOAN-1", Asset, C::Loan, Currency::CNY),
        product("LOAN-2", Asset, C::Loan, Currency::CNY),
        product("LOAN-3", Asset, C::CreditFacility, Currency::CNY),
        product("LOAN-4", Asset, C::TradeFinance, Currency::CNY),
        product("DEP-1", Liability, C::Deposit, Currency::CNY),
        product("DEP-2", Liability, C::Deposit, Currency::CNY),
        product("DEP-3", Liability, C::Deposit, Currency::CNY),
        product("PAYROLL", Fee, C::Payroll, Currency::CNY),
        product("CASH", Fee, C::Settlement, Currency::CNY),
        product("FX", Fee, C::Fx, Currency::USD),
    ];
    let loan = || {
        terms(
            ListPrice::RateBps(bp(435)),
            240,
            "0.004",
            "0.08",
            "0.005",
            "0.40",
        )
    };
    let deposit = || terms(ListPrice::RateBps(bp(35)), 160, "0.003", "0", "0", "0");
    let schedule = FeeSchedule {
        tiers: vec![
            FeeTier {
                volume_from: cny(0),
                rate: bp(10),
            },
            FeeTier {
                volume_from: cny(10_000_000),
                rate: bp(8),
            },
            FeeTier {
                volume_from: cny(50_000_000),
                rate: bp(5),
            },
        ],
        whole_volume: false,
        flat_annual_fee: cny(1_000),
        minimum_annual_fee: Some(cny(5_000)),
    };
    let all_terms: Vec<PriceTerms> = vec![
        loan(),
        loan(),
        loan(),
        loan(),
        deposit(),
        deposit(),
        deposit(),
        terms(ListPrice::Fees(schedule), 0, "0.5", "0", "0", "0"),
        terms(
            ListPrice::Fees(FeeSchedule::flat(cny(120_000))),
            0,
            "0.55",
            "0",
            "0",
            "0",
        ),
        terms(
            ListPrice::Fees(FeeSchedule::flat(Money::from_minor(
                Currency::USD,
                2_000_000,
            ))),
            0,
            "0.5",
            "0",
            "0",
            "0",
        ),
    ];
    let core = CustomerCondition {
        stages: vec![LifecycleStage::Core, LifecycleStage::StrategicPartner],
        ..CustomerCondition::default()
    };
    let rich = CustomerCondition {
        min_ttm_contribution: Some(cny(2_000_000)),
        ..CustomerCondition::default()
    };
    let tier1 = CustomerCondition {
        corporate_tiers: vec![CorporateTier::HeadOffice, CorporateTier::Tier1Branch],
        ..CustomerCondition::default()
    };
    let rules = vec![
        rule(
            "R1",
            10,
            core.clone(),
            Asset,
            Benefit::SpreadPercent(bp(10)),
        ),
        rule("R2", 20, rich, Asset, Benefit::SpreadPercent(bp(15))),
        rule("R3", 10, tier1, Liability, Benefit::SpreadPercent(bp(5))),
        rule("R4", 30, core, Fee, Benefit::FixedPercent(bp(500))),
    ];
    let mut bands = Vec::new();
    for (kind, maxes) in [
        (Asset, [5, 10, 15, 25, 40, 150]),
        (Liability, [5, 5, 10, 10, 20, 50]),
        (Fee, [500, 500, 1_000, 1_000, 2_000, 10_000]),
    ] {
        for (level, max) in AuthorityLevel::ALL.iter().zip(maxes) {
            if kind == Liability
                && matches!(level, AuthorityLevel::Outlet | AuthorityLevel::Tier2Branch)
            {
                continue;
            }
            bands.push(AuthorityBand {
                band_id: format!("{kind}/{level}"),
                level: *level,
                product_kind: kind,
                max_rate_concession: bp(if kind == Fee { 0 } else { max }),
                max_fee_concession: bp(if kind == Fee { max } else { 0 }),
                effective: start(),
            });
        }
    }
    let limits = vec![
        RegulatoryLimit {
            limit_id: "floor-1y".into(),
            name: "loan floor: LPR 1Y - 50 bp".into(),
            kind: RegulatoryLimitKind::LoanRateFloor,
            product_kind: Asset,
            bound: LimitBound::ReferenceSpread {
                reference: ReferenceRateKind::Lpr1y,
                spread: bp(-50),
            },
            min_term_months: None,
            max_term_months: Some(12),
            effective: start(),
        },
        RegulatoryLimit {
            limit_id: "floor-5y".into(),
            name: "loan floor: LPR 5Y - 80 bp".into(),
            kind: RegulatoryLimitKind::LoanRateFloor,
            product_kind: Asset,
            bound: LimitBound::ReferenceSpread {
                reference: ReferenceRateKind::Lpr5y,
                spread: bp(-80),
            },
            min_term_months: Some(13),
            max_term_months: None,
            effective: start(),
        },
        RegulatoryLimit {
            limit_id: "cap-deposit".into(),
            name: "deposit cap 1.50%".into(),
            kind: RegulatoryLimitKind::DepositRateCap,
            product_kind: Liability,
            bound: LimitBound::Absolute(bp(150)),
            min_term_months: None,
            max_term_months: None,
            effective: start(),
        },
    ];
    let date = NaiveDate::from_ymd_opt(2025, 6, 2).expect("a date");
    let reference_rates = vec![
        ReferenceRate {
            kind: ReferenceRateKind::Lpr1y,
            effective_date: date,
            rate: bp(300),
        },
        ReferenceRate {
            kind: ReferenceRateKind::Lpr5y,
            effective_date: date,
            rate: bp(350),
        },
    ];
    let fx_rates = vec![FxRate {
        currency: Currency::USD,
        effective_date: date,
        cny_per_unit: ratio("7.1"),
    }];
    let components: Vec<BundleComponent> = products
        .iter()
        .enumerate()
        .map(|(i, p)| BundleComponent {
            component_id: format!("c{i}"),
            product_id: p.product_id.clone(),
            mandatory: i < 5,
            benefit: match p.kind {
                Asset => Some(Benefit::SpreadPercent(bp(5))),
                Liability => Some(Benefit::SpreadPercent(bp(5))),
                Fee => Some(Benefit::FixedPercent(bp(1_000))),
            },
            note: String::new(),
        })
        .collect();
    let bundle = Bundle {
        bundle_id: "ten".into(),
        version: 1,
        name: "Ten-product relationship package".into(),
        description: String::new(),
        components,
        eligibility: CustomerCondition {
            kinds: vec![CustomerKind::Corporate],
            stages: vec![LifecycleStage::Core, LifecycleStage::StrategicPartner],
            ..CustomerCondition::default()
        },
        prerequisites: vec![
            Prerequisite {
                prerequisite_id: "payroll".into(),
                requirement: Requirement::HoldsCategory(ProductCategory::Payroll),
                description: "payroll agency with us".into(),
            },
            Prerequisite {
                prerequisite_id: "executives".into(),
                requirement: Requirement::ExecutivePersonalAccounts { min_count: 2 },
                description: "two executives bank with us personally".into(),
            },
        ],
        effective: start(),
        active: true,
    };
    let facts = CustomerFacts {
        kind: Some(CustomerKind::Corporate),
        corporate_tier: Some(CorporateTier::Tier1Branch),
        stage: Some(LifecycleStage::Core),
        ttm_contribution: Some(cny(1_800_000)),
        segment_ids: vec!["high-value".into()],
        executives_with_personal_accounts: 1,
        ..CustomerFacts::default()
    };
    let component_ids: Vec<String> = (0..products.len()).map(|i| format!("c{i}")).collect();
    let items: Vec<QuoteItemInput<'_>> = products
        .iter()
        .zip(&all_terms)
        .zip(&component_ids)
        .enumerate()
        .map(|(i, ((product, terms), component))| QuoteItemInput {
            product,
            terms,
            bundle_component_id: Some(component.as_str()),
            amount: (product.kind != Fee).then(|| cny(5_000_000 * (i as i64 + 1))),
            annual_volume: (product.product_id == "PAYROLL").then(|| cny(80_000_000)),
            term: Term::Months(if i == 1 { 60 } else { 12 }),
            proposal: (i == 0).then_some(Price::Rate(bp(405))),
            covenant_agreed_ratio: (i == 0).then_some(bp(6_000)),
        })
        .collect();
    let request = QuoteRequest {
        items,
        bundle: Some(&bundle),
        strategic: false,
    };
    let ctx = PricingContext {
        date,
        rules: &rules,
        bands: &bands,
        limits: &limits,
        reference_rates: &reference_rates,
        fx_rates: &fx_rates,
        config: QuoteConfig::default(),
    };

    let first = price_quote(&ctx, &facts, &request).expect("the benchmark quote prices");
    println!(
        "quote: {} items, total EVA {}, RAROC {:?}, verdict {}, level {}",
        first.items.len(),
        first.totals.eva,
        first.totals.raroc,
        first.verdict,
        first.required_level
    );

    // Warm up, then time batches for about three seconds.
    for _ in 0..2_000 {
        black_box(price_quote(black_box(&ctx), black_box(&facts), black_box(&request)).ok());
    }
    let mut quotes = 0u64;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        for _ in 0..1_000 {
            black_box(price_quote(black_box(&ctx), black_box(&facts), black_box(&request)).ok());
        }
        quotes += 1_000;
    }
    let elapsed = started.elapsed();
    let nanos = elapsed.as_nanos().max(1);
    let per_second = u128::from(quotes) * 1_000_000_000 / nanos;
    let nanos_per_quote = nanos / u128::from(quotes.max(1));
    println!(
        "{quotes} quotes of 10 items in {elapsed:.2?} on one thread: {per_second} quotes/s \
         ({nanos_per_quote} ns per quote)"
    );
}
