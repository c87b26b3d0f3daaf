//! Helpers shared by the pricing service's end-to-end tests: a connected client with tokens for
//! each role that writes pricing data, builders of the catalogue, reference-data, rule and bundle
//! messages, the subject a `FAILED_PRECONDITION` names, and the pricing database for audit and
//! outbox checks.

use bankmkt_platform::settings::ServiceKind;
use bankmkt_proto::v1;
use bankmkt_proto::v1::pricing_client::PricingClient;
use tonic::transport::Channel;
use tonic_types::StatusExt;

use crate::{Backend, TestSuite};

/// A suite with a pricing client and a token per role.
#[derive(Debug)]
pub struct PricingHarness {
    /// The running suite.
    pub suite: TestSuite,
    /// A client of the pricing service.
    pub client: PricingClient<Channel>,
    /// `admin` at HQ.
    pub admin: String,
    /// `product_manager` at HQ.
    pub product_manager: String,
    /// `pricing_committee` at HQ.
    pub committee: String,
    /// `customer_manager` at BJ: may read, may not write.
    pub manager: String,
}

impl PricingHarness {
    /// Starts a suite on `backend` and connects to its pricing service.
    pub async fn start(backend: Backend) -> PricingHarness {
        let suite = TestSuite::start_on(backend, |_| {}).await;
        let mut client = PricingClient::new(suite.channel("pricing").await);
        let manager = suite.token("cm1", "BJ", &["customer_manager"]);
        // The service answers only once its schema is migrated: a first read waits for that, so
        // tests may then open the database directly.
        client
            .list_products(TestSuite::authed(
                v1::ListProductsRequest::default(),
                &manager,
            ))
            .await
            .unwrap_or_else(|e| panic!("pricing not ready: {e}"));
        PricingHarness {
            admin: suite.token("admin1", "HQ", &["admin"]),
            product_manager: suite.token("pm1", "HQ", &["product_manager"]),
            committee: suite.token("pc1", "HQ", &["pricing_committee"]),
            manager,
            client,
            suite,
        }
    }

    /// The pricing service's database.
    pub async fn db(&self) -> sea_orm::DatabaseConnection {
        bankmkt_platform::db::connect(&self.suite.settings(), ServiceKind::Pricing)
            .await
            .unwrap_or_else(|e| panic!("pricing db: {e}"))
    }
}

/// A calendar date.
pub fn date(year: i32, month: i32, day: i32) -> v1::Date {
    v1::Date { year, month, day }
}

/// `[from, to)`, open-ended when `to` is `None`.
pub fn range(from: v1::Date, to: Option<v1::Date>) -> v1::EffectiveRange {
    v1::EffectiveRange {
        start_date: Some(from),
        end_date: to,
    }
}

/// An amount in minor units.
pub fn money(currency: &str, minor_units: i64) -> v1::Money {
    v1::Money {
        currency: currency.to_owned(),
        minor_units,
    }
}

/// A decimal.
pub fn dec(value: &str) -> v1::Decimal {
    v1::Decimal {
        value: value.to_owned(),
    }
}

/// An active CNY product of the corporate line.
pub fn product(id: &str, kind: v1::ProductKind, category: v1::ProductCategory) -> v1::Product {
    v1::Product {
        product_id: id.to_owned(),
        name: format!("Product {id}"),
        line: v1::BusinessLine::Corporate as i32,
        kind: kind as i32,
        category: category as i32,
        currency: "CNY".to_owned(),
        active: true,
        ..Default::default()
    }
}

/// A price version of a balance product at `rate_bps`, FTP 300 bp, cost 0.30%, capital 8%.
pub fn rate_version(
    product_id: &str,
    effective: v1::EffectiveRange,
    rate_bps: i32,
) -> v1::PriceVersion {
    v1::PriceVersion {
        product_id: product_id.to_owned(),
        effective: Some(effective),
        list_price: Some(v1::price_version::ListPrice::ListRateBps(rate_bps)),
        ftp_rate_bps: 300,
        operating_cost_ratio: Some(dec("0.0030")),
        economic_capital_ratio: Some(dec("0.08")),
        ..Default::default()
    }
}

/// A price version of a fee product with `schedule`, cost 55%.
pub fn fee_version(
    product_id: &str,
    effective: v1::EffectiveRange,
    schedule: v1::FeeSchedule,
) -> v1::PriceVersion {
    v1::PriceVersion {
        product_id: product_id.to_owned(),
        effective: Some(effective),
        list_price: Some(v1::price_version::ListPrice::FeeSchedule(schedule)),
        operating_cost_ratio: Some(dec("0.55")),
        ..Default::default()
    }
}

/// A marginal CNY schedule: 0.10% to 1M, 0.08% above; flat fee 1,000.
pub fn schedule() -> v1::FeeSchedule {
    v1::FeeSchedule {
        tiers: vec![
            v1::FeeTier {
                volume_from: Some(money("CNY", 0)),
                rate_bps: 10,
            },
            v1::FeeTier {
                volume_from: Some(money("CNY", 100_000_000)),
                rate_bps: 8,
            },
        ],
        whole_volume: false,
        flat_annual_fee: Some(money("CNY", 100_000)),
        minimum_annual_fee: None,
    }
}

/// A loan-rate floor of LPR 1Y − 50 bp for asset products.
pub fn loan_floor(effective: v1::EffectiveRange) -> v1::RegulatoryLimit {
    v1::RegulatoryLimit {
        name: "loan floor: LPR 1Y - 50 bp".to_owned(),
        kind: v1::RegulatoryLimitKind::LoanRateFloor as i32,
        product_kind: v1::ProductKind::Asset as i32,
        bound: Some(v1::regulatory_limit::Bound::ReferenceSpread(
            v1::ReferenceSpread {
                reference: v1::ReferenceRateKind::Lpr1y as i32,
                spread_bps: -50,
            },
        )),
        effective: Some(effective),
        ..Default::default()
    }
}

/// An authority band of `level` for `kind`.
pub fn band(
    level: v1::AuthorityLevel,
    kind: v1::ProductKind,
    rate_bps: i32,
    fee_bps: i32,
    effective: v1::EffectiveRange,
) -> v1::AuthorityBand {
    v1::AuthorityBand {
        level: level as i32,
        product_kind: kind as i32,
        max_rate_concession_bps: rate_bps,
        max_fee_concession_bps: fee_bps,
        effective: Some(effective),
        ..Default::default()
    }
}

/// The `(type, subject)` of each `PreconditionFailure` violation of a status.
pub fn preconditions(status: &tonic::Status) -> Vec<(String, String)> {
    status
        .get_error_details()
        .precondition_failure()
        .map(|p| {
            p.violations
                .iter()
                .map(|v| (v.r#type.clone(), v.subject.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// A benefit of `benefit_type` worth `value_bps` (for the percentage types).
pub fn benefit(benefit_type: v1::BenefitType, value_bps: i32) -> v1::Benefit {
    v1::Benefit {
        benefit_type: benefit_type as i32,
        value_bps,
        amount: None,
    }
}

/// A benefit of `benefit_type` worth `amount` (for the amount types).
pub fn amount_benefit(benefit_type: v1::BenefitType, amount: v1::Money) -> v1::Benefit {
    v1::Benefit {
        benefit_type: benefit_type as i32,
        value_bps: 0,
        amount: Some(amount),
    }
}

/// A relationship pricing rule (not exclusive).
pub fn pricing_rule(
    name: &str,
    priority: i32,
    condition: v1::CustomerCondition,
    target: v1::RuleTarget,
    benefit: v1::Benefit,
    effective: v1::EffectiveRange,
) -> v1::PricingRule {
    v1::PricingRule {
        name: name.to_owned(),
        priority,
        condition: Some(condition),
        target: Some(target),
        benefit: Some(benefit),
        exclusive: false,
        effective: Some(effective),
        ..Default::default()
    }
}

/// A bundle component.
pub fn component(
    component_id: &str,
    product_id: &str,
    mandatory: bool,
    benefit: Option<v1::Benefit>,
) -> v1::BundleComponent {
    v1::BundleComponent {
        component_id: component_id.to_owned(),
        product_id: product_id.to_owned(),
        mandatory,
        benefit,
        note: String::new(),
    }
}

/// A prerequisite: the customer holds a product of `category`.
pub fn holds_category(
    id: &str,
    category: v1::ProductCategory,
    description: &str,
) -> v1::Prerequisite {
    v1::Prerequisite {
        prerequisite_id: id.to_owned(),
        kind: v1::PrerequisiteKind::HoldsCategory as i32,
        category: category as i32,
        description: description.to_owned(),
        ..Default::default()
    }
}

/// A prerequisite: the customer holds `product_id`.
pub fn holds_product(id: &str, product_id: &str, description: &str) -> v1::Prerequisite {
    v1::Prerequisite {
        prerequisite_id: id.to_owned(),
        kind: v1::PrerequisiteKind::HoldsProduct as i32,
        product_id: product_id.to_owned(),
        description: description.to_owned(),
        ..Default::default()
    }
}

/// A prerequisite: at least `min_count` executives bank with us personally.
pub fn executives(id: &str, min_count: i32, description: &str) -> v1::Prerequisite {
    v1::Prerequisite {
        prerequisite_id: id.to_owned(),
        kind: v1::PrerequisiteKind::ExecutivePersonalAccounts as i32,
        min_count,
        description: description.to_owned(),
        ..Default::default()
    }
}

/// An active bundle.
pub fn bundle(
    name: &str,
    components: Vec<v1::BundleComponent>,
    eligibility: v1::CustomerCondition,
    prerequisites: Vec<v1::Prerequisite>,
    effective: v1::EffectiveRange,
) -> v1::Bundle {
    v1::Bundle {
        name: name.to_owned(),
        description: format!("{name}, for the test"),
        components,
        eligibility: Some(eligibility),
        prerequisites,
        effective: Some(effective),
        active: true,
        ..Default::default()
    }
}

impl PricingHarness {
    /// Creates products as the product manager.
    pub async fn create_products(&mut self, products: Vec<v1::Product>) {
        let token = self.product_manager.clone();
        for p in products {
            self.client
                .create_product(TestSuite::authed(
                    v1::CreateProductRequest { product: Some(p) },
                    &token,
                ))
                .await
                .unwrap_or_else(|e| panic!("create product: {e}"));
        }
    }

    /// `CreatePricingRule` as `token`.
    pub async fn create_rule(
        &mut self,
        token: &str,
        rule: v1::PricingRule,
    ) -> Result<v1::PricingRule, tonic::Status> {
        self.client
            .create_pricing_rule(TestSuite::authed(
                v1::CreatePricingRuleRequest {
                    rule: Some(rule),
                    reason: "pricing committee minutes 2026-11".into(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().rule.unwrap_or_default())
    }

    /// `CreateBundle` as `token`.
    pub async fn create_bundle(
        &mut self,
        token: &str,
        bundle: v1::Bundle,
    ) -> Result<v1::Bundle, tonic::Status> {
        self.client
            .create_bundle(TestSuite::authed(
                v1::CreateBundleRequest {
                    bundle: Some(bundle),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().bundle.unwrap_or_default())
    }
}
