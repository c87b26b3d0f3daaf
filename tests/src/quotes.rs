//! The world the quote, approval and simulation tests (and the pricing benchmark) run in: the
//! real suite with docs/pricing.md's shared data loaded through the pricing RPCs (products and
//! price versions, the LPR series, the three regulatory limits, USD FX, the authority bands, the
//! rules R1–R3 and a `payroll-plus` bundle eligible by stage), and a corporate customer made
//! through the registry's own RPCs: owned by the sub-branch BJ0101 under HQ → BJ → BJ01, moved up
//! the lifecycle to core, with a month of fee income scored by the registry so that its
//! trailing-twelve-month contribution is RMB 1,800,000.00. Tokens are handed out per role and
//! branch; calls are thin wrappers that return the status so tests can assert refusals.

use bankmkt_domain::customer::uscc_check_char;
use bankmkt_platform::settings::Settings;
use bankmkt_proto::v1;
use bankmkt_proto::v1::customer_registry_client::CustomerRegistryClient;
use bankmkt_proto::v1::pricing_client::PricingClient;
use chrono::Datelike;
use tonic::transport::Channel;

use crate::pricing::{
    PricingHarness, band, benefit, bundle, component, date, dec, executives, holds_category, money,
    pricing_rule, product, range,
};
use crate::{Backend, TestSuite};

/// `yuan` CNY in fen.
pub fn cny(yuan: i64) -> v1::Money {
    money("CNY", yuan * 100)
}

/// A balance item: `amount` yuan of `product_id` for `months`, with an optional proposed rate.
pub fn balance_item(
    product_id: &str,
    amount: i64,
    months: i32,
    proposed_rate_bps: Option<i32>,
) -> v1::QuoteItemRequest {
    v1::QuoteItemRequest {
        product_id: product_id.into(),
        amount: Some(cny(amount)),
        term_months: months,
        proposal: proposed_rate_bps.map(v1::quote_item_request::Proposal::ProposedRateBps),
        ..Default::default()
    }
}

/// A fee item of `product_id` for a year, with an optional annual volume in yuan.
pub fn fee_item(product_id: &str, volume: Option<i64>) -> v1::QuoteItemRequest {
    v1::QuoteItemRequest {
        product_id: product_id.into(),
        annual_volume: volume.map(cny),
        term_months: 12,
        ..Default::default()
    }
}

/// The same item as the bundle component `component_id`.
pub fn as_component(item: v1::QuoteItemRequest, component_id: &str) -> v1::QuoteItemRequest {
    v1::QuoteItemRequest {
        bundle_component_id: component_id.into(),
        ..item
    }
}

/// The ids the service gave to the world's reference data.
#[derive(Clone, Debug, Default)]
pub struct Ids {
    /// `floor-1y`: loans of at most 12 months, LPR 1Y − 50 bp.
    pub floor_1y: String,
    /// `floor-5y`: loans of at least 13 months, LPR 5Y − 80 bp.
    pub floor_5y: String,
    /// `cap-deposit`: deposits, 1.50%.
    pub cap_deposit: String,
    /// R1: core and strategic customers, loans −10 bp.
    pub r1: String,
    /// R2: contribution of RMB 2,000,000 or more, loans −15 bp.
    pub r2: String,
    /// R3: head-office and tier-1 customers, deposits +5 bp.
    pub r3: String,
    /// The `payroll-plus` bundle.
    pub payroll_plus: String,
    /// The asset band of each level, customer manager first.
    pub asset_bands: Vec<String>,
}

/// The running suite with the world loaded.
#[derive(Debug)]
pub struct QuoteWorld {
    /// The pricing harness (suite, client, writer tokens).
    pub h: PricingHarness,
    /// A registry client.
    pub registry: CustomerRegistryClient<Channel>,
    /// The corporate customer (core, contribution RMB 1,800,000.00), owned by BJ0101.
    pub firm: String,
    /// Reference data ids.
    pub ids: Ids,
    /// Customer manager `e1` at BJ0101 (owns the firm).
    pub maker: String,
    /// Customer manager `s1` at SH01 (cannot see the firm).
    pub outsider: String,
    serial: u32,
}

impl QuoteWorld {
    /// Starts a suite on `backend` (after `adjust`), loads the pricing data and the customer.
    pub async fn start(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> QuoteWorld {
        let suite = TestSuite::start_on(backend, adjust).await;
        let mut client = PricingClient::new(suite.channel("pricing").await);
        let manager = suite.token("cm1", "BJ", &["customer_manager"]);
        client
            .list_products(TestSuite::authed(
                v1::ListProductsRequest::default(),
                &manager,
            ))
            .await
            .unwrap_or_else(|e| panic!("pricing not ready: {e}"));
        let registry = CustomerRegistryClient::new(suite.channel("customer-registry").await);
        let h = PricingHarness {
            admin: suite.token("admin1", "HQ", &["admin"]),
            product_manager: suite.token("pm1", "HQ", &["product_manager"]),
            committee: suite.token("pc1", "HQ", &["pricing_committee"]),
            manager,
            client,
            suite,
        };
        let maker = h.suite.token("e1", "BJ0101", &["customer_manager"]);
        let outsider = h.suite.token("s1", "SH01", &["customer_manager"]);
        let mut world = QuoteWorld {
            h,
            registry,
            firm: String::new(),
            ids: Ids::default(),
            maker,
            outsider,
            serial: 0,
        };
        world.load_pricing().await;
        world.load_registry().await;
        world.firm = world.corporate("Huadong Machinery", 1_800_000).await;
        world
    }

    /// A token for `sub` at `branch` with `roles`.
    pub fn token(&self, sub: &str, branch: &str, roles: &[&str]) -> String {
        self.h.suite.token(sub, branch, roles)
    }

    async fn load_pricing(&mut self) {
        use v1::AuthorityLevel::*;
        use v1::ProductCategory as C;
        use v1::ProductKind as K;
        let from = || range(date(2025, 1, 1), None);
        let mut products = vec![
            product("LOAN-WC-1Y", K::Asset, C::Loan),
            product("LOAN-TERM-5Y", K::Asset, C::Loan),
            product("DEP-DEMAND", K::Liability, C::Deposit),
            product("PAYROLL", K::Fee, C::Payroll),
            product("CARD-CORP", K::Fee, C::Card),
            product("CASH-2STORES", K::Fee, C::Settlement),
            product("CASH-WHOLE", K::Fee, C::Settlement),
            product("DEP-CASH", K::Liability, C::Deposit),
        ];
        products.push(v1::Product {
            currency: "USD".into(),
            ..product("FX-SETTLE", K::Fee, C::Fx)
        });
        self.h.create_products(products).await;
        let rate = |id: &str, list: i32, ftp: i32, cost: &str, capital: &str, loan: bool| {
            v1::PriceVersion {
                product_id: id.into(),
                effective: Some(from()),
                list_price: Some(v1::price_version::ListPrice::ListRateBps(list)),
                ftp_rate_bps: ftp,
                operating_cost_ratio: Some(dec(cost)),
                economic_capital_ratio: Some(dec(capital)),
                probability_of_default: loan.then(|| dec("0.005")),
                loss_given_default: loan.then(|| dec("0.40")),
                ..Default::default()
            }
        };
        let fee = |id: &str, schedule: v1::FeeSchedule, cost: &str| v1::PriceVersion {
            product_id: id.into(),
            effective: Some(from()),
            list_price: Some(v1::price_version::ListPrice::FeeSchedule(schedule)),
            operating_cost_ratio: Some(dec(cost)),
            ..Default::default()
        };
        let flat = |fee: v1::Money| v1::FeeSchedule {
            tiers: vec![],
            whole_volume: false,
            flat_annual_fee: Some(fee),
            minimum_annual_fee: None,
        };
        let payroll = v1::FeeSchedule {
            tiers: vec![
                v1::FeeTier {
                    volume_from: Some(cny(0)),
                    rate_bps: 10,
                },
                v1::FeeTier {
                    volume_from: Some(cny(10_000_000)),
                    rate_bps: 5,
                },
            ],
            whole_volume: false,
            flat_annual_fee: Some(cny(0)),
            minimum_annual_fee: None,
        };
        let versions = vec![
            rate("LOAN-WC-1Y", 435, 240, "0.0040", "0.08", true),
            rate("LOAN-TERM-5Y", 420, 290, "0.0040", "0.08", true),
            rate("DEP-DEMAND", 35, 160, "0.0030", "0", false),
            rate("DEP-CASH", 25, 160, "0.0030", "0", false),
            fee("PAYROLL", payroll, "0.50"),
            fee("CARD-CORP", flat(cny(2_000)), "0.60"),
            fee("FX-SETTLE", flat(money("USD", 2_000_000)), "0.50"),
            fee("CASH-2STORES", flat(cny(120_000)), "0.55"),
            fee("CASH-WHOLE", flat(cny(394_000)), "0.60"),
        ];
        let pm = self.h.product_manager.clone();
        for pv in versions {
            self.h
                .client
                .create_price_version(TestSuite::authed(
                    v1::CreatePriceVersionRequest {
                        price_version: Some(pv),
                        reason: "2025 price list".into(),
                    },
                    &pm,
                ))
                .await
                .unwrap_or_else(|e| panic!("price version: {e}"));
        }
        let pc = self.h.committee.clone();
        for (kind, bps) in [
            (v1::ReferenceRateKind::Lpr1y, 300),
            (v1::ReferenceRateKind::Lpr5y, 350),
        ] {
            self.h
                .client
                .create_reference_rate(TestSuite::authed(
                    v1::CreateReferenceRateRequest {
                        rate: Some(v1::ReferenceRate {
                            kind: kind as i32,
                            effective_date: Some(date(2025, 5, 20)),
                            rate_bps: bps,
                            created: None,
                        }),
                    },
                    &pc,
                ))
                .await
                .unwrap_or_else(|e| panic!("lpr: {e}"));
        }
        self.h
            .client
            .create_fx_rate(TestSuite::authed(
                v1::CreateFxRateRequest {
                    rate: Some(v1::FxRate {
                        currency: "USD".into(),
                        effective_date: Some(date(2025, 1, 1)),
                        cny_per_unit: Some(dec("7.1000")),
                        created: None,
                    }),
                },
                &pc,
            ))
            .await
            .unwrap_or_else(|e| panic!("fx: {e}"));
        let floor =
            |name: &str, reference: v1::ReferenceRateKind, spread: i32, min: i32, max: i32| {
                v1::RegulatoryLimit {
                    name: name.into(),
                    kind: v1::RegulatoryLimitKind::LoanRateFloor as i32,
                    product_kind: K::Asset as i32,
                    bound: Some(v1::regulatory_limit::Bound::ReferenceSpread(
                        v1::ReferenceSpread {
                            reference: reference as i32,
                            spread_bps: spread,
                        },
                    )),
                    min_term_months: min,
                    max_term_months: max,
                    effective: Some(from()),
                    ..Default::default()
                }
            };
        let limits = [
            floor(
                "floor-1y: LPR 1Y - 50 bp",
                v1::ReferenceRateKind::Lpr1y,
                -50,
                0,
                12,
            ),
            floor(
                "floor-5y: LPR 5Y - 80 bp",
                v1::ReferenceRateKind::Lpr5y,
                -80,
                13,
                0,
            ),
            v1::RegulatoryLimit {
                name: "cap-deposit: 1.50%".into(),
                kind: v1::RegulatoryLimitKind::DepositRateCap as i32,
                product_kind: K::Liability as i32,
                bound: Some(v1::regulatory_limit::Bound::AbsoluteRateBps(150)),
                effective: Some(from()),
                ..Default::default()
            },
        ];
        let mut limit_ids = Vec::new();
        for limit in limits {
            let stored = self
                .h
                .client
                .create_regulatory_limit(TestSuite::authed(
                    v1::CreateRegulatoryLimitRequest {
                        limit: Some(limit),
                        reason: "PBoC rules".into(),
                    },
                    &pc,
                ))
                .await
                .unwrap_or_else(|e| panic!("limit: {e}"))
                .into_inner()
                .limit
                .unwrap_or_default();
            limit_ids.push(stored.limit_id);
        }
        self.ids.floor_1y = limit_ids[0].clone();
        self.ids.floor_5y = limit_ids[1].clone();
        self.ids.cap_deposit = limit_ids[2].clone();
        let bands = [
            (CustomerManager, K::Asset, 5, 0),
            (Outlet, K::Asset, 10, 0),
            (SubBranch, K::Asset, 15, 0),
            (Tier2Branch, K::Asset, 25, 0),
            (Tier1Branch, K::Asset, 40, 0),
            (HeadOffice, K::Asset, 150, 0),
            (CustomerManager, K::Liability, 5, 0),
            (SubBranch, K::Liability, 10, 0),
            (Tier1Branch, K::Liability, 20, 0),
            (HeadOffice, K::Liability, 50, 0),
            (CustomerManager, K::Fee, 0, 500),
            (SubBranch, K::Fee, 0, 1_000),
            (Tier1Branch, K::Fee, 0, 2_000),
            (HeadOffice, K::Fee, 0, 10_000),
        ];
        for (level, kind, rate_bps, fee_bps) in bands {
            let stored = self
                .h
                .client
                .create_authority_band(TestSuite::authed(
                    v1::CreateAuthorityBandRequest {
                        band: Some(band(level, kind, rate_bps, fee_bps, from())),
                        reason: "authority delegation 2025".into(),
                    },
                    &pc,
                ))
                .await
                .unwrap_or_else(|e| panic!("band {level:?} {kind:?}: {e}"))
                .into_inner()
                .band
                .unwrap_or_default();
            if kind == K::Asset {
                self.ids.asset_bands.push(stored.band_id);
            }
        }
        let spread = |bps| benefit(v1::BenefitType::SpreadPercent, bps);
        let assets = v1::RuleTarget {
            product_kind: K::Asset as i32,
            ..Default::default()
        };
        let liabilities = v1::RuleTarget {
            product_kind: K::Liability as i32,
            ..Default::default()
        };
        let rules = [
            pricing_rule(
                "R1 core and strategic customers: loans -10 bp",
                10,
                v1::CustomerCondition {
                    stages: vec![
                        v1::LifecycleStage::Core as i32,
                        v1::LifecycleStage::Strategic as i32,
                    ],
                    ..Default::default()
                },
                assets.clone(),
                spread(10),
                from(),
            ),
            pricing_rule(
                "R2 contribution of RMB 2,000,000 or more: loans -15 bp",
                20,
                v1::CustomerCondition {
                    min_ttm_contribution: Some(cny(2_000_000)),
                    ..Default::default()
                },
                assets,
                spread(15),
                from(),
            ),
            pricing_rule(
                "R3 head-office and tier-1 customers: deposits +5 bp",
                10,
                v1::CustomerCondition {
                    corporate_tiers: vec![
                        v1::CorporateTier::HeadOffice as i32,
                        v1::CorporateTier::Tier1Branch as i32,
                    ],
                    ..Default::default()
                },
                liabilities,
                spread(5),
                from(),
            ),
        ];
        let mut rule_ids = Vec::new();
        for rule in rules {
            rule_ids.push(
                self.h
                    .create_rule(&pc, rule)
                    .await
                    .unwrap_or_else(|e| panic!("rule: {e}"))
                    .rule_id,
            );
        }
        self.ids.r1 = rule_ids[0].clone();
        self.ids.r2 = rule_ids[1].clone();
        self.ids.r3 = rule_ids[2].clone();
        let payroll_plus = bundle(
            "payroll-plus",
            vec![
                component("deposit", "DEP-DEMAND", true, Some(spread(10))),
                component(
                    "payroll",
                    "PAYROLL",
                    true,
                    Some(benefit(v1::BenefitType::FixedPercent, 2_000)),
                ),
                component(
                    "card",
                    "CARD-CORP",
                    false,
                    Some(benefit(v1::BenefitType::Waive, 0)),
                ),
            ],
            v1::CustomerCondition {
                kinds: vec![v1::CustomerKind::Corporate as i32],
                stages: vec![
                    v1::LifecycleStage::Established as i32,
                    v1::LifecycleStage::Core as i32,
                ],
                ..Default::default()
            },
            vec![
                executives("executives", 2, "two executives bank with us personally"),
                holds_category("cards", v1::ProductCategory::Card, "card issuance"),
            ],
            from(),
        );
        self.ids.payroll_plus = self
            .h
            .create_bundle(&pc, payroll_plus)
            .await
            .unwrap_or_else(|e| panic!("bundle: {e}"))
            .bundle_id;
    }

    async fn load_registry(&mut self) {
        use v1::BranchLevel::*;
        let admin = self.h.admin.clone();
        let branch = |id: &str, parent: &str, level: v1::BranchLevel| v1::Branch {
            branch_id: id.into(),
            parent_id: parent.into(),
            level: level as i32,
            name: id.into(),
            ..Default::default()
        };
        self.registry
            .load_branches(TestSuite::authed(
                v1::LoadBranchesRequest {
                    idempotency_key: "quote-tree".into(),
                    branches: vec![
                        branch("HQ", "", HeadOffice),
                        branch("BJ", "HQ", Tier1Branch),
                        branch("BJ01", "BJ", Tier2Branch),
                        branch("BJ0101", "BJ01", SubBranch),
                        branch("BJ010101", "BJ0101", Outlet),
                        branch("SH", "HQ", Tier1Branch),
                        branch("SH01", "SH", Tier2Branch),
                    ],
                    effective_date: None,
                },
                &admin,
            ))
            .await
            .unwrap_or_else(|e| panic!("tree: {e}"));
        let employee = |id: &str, b: &str| v1::Employee {
            employee_id: id.into(),
            name: id.into(),
            branch_id: b.into(),
            lines: vec![v1::BusinessLine::Corporate as i32],
            roles: vec![v1::Role::CustomerManager as i32],
            ..Default::default()
        };
        self.registry
            .load_employees(TestSuite::authed(
                v1::LoadEmployeesRequest {
                    idempotency_key: "quote-staff".into(),
                    employees: vec![employee("e1", "BJ0101"), employee("e2", "BJ0101")],
                },
                &admin,
            ))
            .await
            .unwrap_or_else(|e| panic!("staff: {e}"));
    }

    /// Creates a corporate customer at BJ0101, moves it up to core and gives it `contribution`
    /// yuan of scored trailing-twelve-month contribution (last month's fee income); returns its id.
    pub async fn corporate(&mut self, name: &str, contribution: i64) -> String {
        self.serial += 1;
        let serial = self.serial;
        let body = format!("91110100M{:08}", 700_000 + serial);
        let uscc = format!("{body}{}", uscc_check_char(&body).unwrap_or('0'));
        let maker = self.maker.clone();
        let id = self
            .registry
            .create_customer(TestSuite::authed(
                v1::CreateCustomerRequest {
                    idempotency_key: format!("quote-customer-{serial}"),
                    customer: Some(v1::Customer {
                        kind: v1::CustomerKind::Corporate as i32,
                        name: name.into(),
                        identities: vec![v1::IdentityDocument {
                            identity_type: v1::IdentityType::UnifiedSocialCreditCode as i32,
                            number: uscc,
                            ..Default::default()
                        }],
                        owning_branch_id: "BJ0101".into(),
                        primary_manager_id: "e1".into(),
                        backup_manager_id: "e2".into(),
                        ..Default::default()
                    }),
                    source_refs: vec![],
                },
                &maker,
            ))
            .await
            .unwrap_or_else(|e| panic!("create {name}: {e}"))
            .into_inner()
            .customer
            .unwrap_or_default()
            .customer_id;
        use v1::LifecycleStage::*;
        for (i, stage) in [Target, New, Established, Core].into_iter().enumerate() {
            self.registry
                .transition_lifecycle_stage(TestSuite::authed(
                    v1::TransitionLifecycleStageRequest {
                        idempotency_key: format!("stage-{serial}-{i}"),
                        customer_id: id.clone(),
                        to_stage: stage as i32,
                        reason: "relationship deepened".into(),
                        expected_version: 0,
                    },
                    &maker,
                ))
                .await
                .unwrap_or_else(|e| panic!("stage {stage:?}: {e}"));
        }
        if contribution > 0 {
            self.score(&id, contribution).await;
        }
        id
    }

    /// Ingests last month's fee income of `yuan` for `customer_id` and scores the month.
    async fn score(&mut self, customer_id: &str, yuan: i64) {
        use v1::ingest_holdings_request::Part;
        let today = chrono::Utc::now().date_naive();
        let last = today.with_day(1).unwrap_or(today) - chrono::Duration::days(1);
        let period = v1::Period {
            year: last.year(),
            month: last.month() as i32,
        };
        let snapshot = v1::HoldingSnapshot {
            customer: Some(v1::CustomerKey {
                key: Some(v1::customer_key::Key::CustomerId(customer_id.into())),
            }),
            product_id: "CASH-MGMT".into(),
            account_id: format!("ACC-{customer_id}"),
            product_kind: v1::ProductKind::Fee as i32,
            product_category: v1::ProductCategory::Settlement as i32,
            line: v1::BusinessLine::Corporate as i32,
            period: Some(period),
            source_version: 1,
            period_end_balance: Some(cny(0)),
            average_daily_balance: Some(cny(0)),
            fee_income: Some(cny(yuan)),
            operating_cost: Some(cny(0)),
            expected_loss: Some(cny(0)),
            economic_capital: Some(cny(0)),
            ..Default::default()
        };
        let messages = vec![
            v1::IngestHoldingsRequest {
                part: Some(Part::Header(v1::IngestHeader {
                    idempotency_key: format!("holdings-{customer_id}"),
                    source_system: "CORE".into(),
                    ..Default::default()
                })),
            },
            v1::IngestHoldingsRequest {
                part: Some(Part::Record(snapshot)),
            },
            v1::IngestHoldingsRequest {
                part: Some(Part::Trailer(v1::IngestTrailer {
                    control_totals: Some(v1::ControlTotals {
                        record_count: 1,
                        amount_sums: vec![],
                    }),
                })),
            },
        ];
        let core = self.token("core", "HQ", &["core_banking"]);
        self.registry
            .ingest_holdings(TestSuite::authed(
                tonic::codegen::tokio_stream::iter(messages),
                &core,
            ))
            .await
            .unwrap_or_else(|e| panic!("holdings: {e}"));
        let batch = self.token("batch", "HQ", &["batch"]);
        let job = self
            .registry
            .start_rescoring(TestSuite::authed(
                v1::StartRescoringRequest {
                    idempotency_key: format!("score-{customer_id}"),
                    kind: v1::RescoringKind::Monthly as i32,
                    period: Some(period),
                    customer_ids: vec![customer_id.into()],
                    ..Default::default()
                },
                &batch,
            ))
            .await
            .unwrap_or_else(|e| panic!("rescore: {e}"))
            .into_inner()
            .job
            .unwrap_or_default();
        let mut state = job.state;
        for _ in 0..600 {
            if state == v1::JobState::Succeeded as i32 || state == v1::JobState::Failed as i32 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            state = self
                .registry
                .get_rescoring_job(TestSuite::authed(
                    v1::GetRescoringJobRequest {
                        job_id: job.job_id.clone(),
                    },
                    &batch,
                ))
                .await
                .unwrap_or_else(|e| panic!("job: {e}"))
                .into_inner()
                .job
                .unwrap_or_default()
                .state;
        }
        assert_eq!(state, v1::JobState::Succeeded as i32, "scoring");
    }

    /// `CreateQuote` of `items` for the firm as `token`, with idempotency key `key`.
    pub async fn quote(
        &mut self,
        token: &str,
        key: &str,
        items: Vec<v1::QuoteItemRequest>,
    ) -> Result<v1::Quote, tonic::Status> {
        let request = v1::CreateQuoteRequest {
            idempotency_key: key.into(),
            customer_id: self.firm.clone(),
            items,
            ..Default::default()
        };
        self.create(token, request).await
    }

    /// `CreateQuote` as `token`.
    pub async fn create(
        &mut self,
        token: &str,
        request: v1::CreateQuoteRequest,
    ) -> Result<v1::Quote, tonic::Status> {
        self.h
            .client
            .create_quote(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner().quote.unwrap_or_default())
    }

    /// `GetQuote` as `token`.
    pub async fn get(&mut self, token: &str, id: &str) -> Result<v1::Quote, tonic::Status> {
        self.h
            .client
            .get_quote(TestSuite::authed(
                v1::GetQuoteRequest {
                    quote_id: id.into(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().quote.unwrap_or_default())
    }

    /// `ListQuotes` as `token`.
    pub async fn list(
        &mut self,
        token: &str,
        request: v1::ListQuotesRequest,
    ) -> Result<v1::ListQuotesResponse, tonic::Status> {
        self.h
            .client
            .list_quotes(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner())
    }

    /// `SubmitQuote` of `q` (at its version) as `token`.
    pub async fn submit(&mut self, token: &str, q: &v1::Quote) -> Result<v1::Quote, tonic::Status> {
        self.h
            .client
            .submit_quote(TestSuite::authed(
                v1::SubmitQuoteRequest {
                    quote_id: q.quote_id.clone(),
                    expected_version: q.version,
                    reason: "customer agreed the terms".into(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().quote.unwrap_or_default())
    }

    /// `ApproveQuote` of `q` (at its version) as `token`.
    pub async fn approve(
        &mut self,
        token: &str,
        q: &v1::Quote,
        reason: &str,
    ) -> Result<v1::Quote, tonic::Status> {
        self.h
            .client
            .approve_quote(TestSuite::authed(
                v1::ApproveQuoteRequest {
                    quote_id: q.quote_id.clone(),
                    expected_version: q.version,
                    reason: reason.into(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().quote.unwrap_or_default())
    }

    /// `RejectQuote` of `q` (at its version) as `token`.
    pub async fn reject(
        &mut self,
        token: &str,
        q: &v1::Quote,
        reason: &str,
    ) -> Result<v1::Quote, tonic::Status> {
        self.h
            .client
            .reject_quote(TestSuite::authed(
                v1::RejectQuoteRequest {
                    quote_id: q.quote_id.clone(),
                    expected_version: q.version,
                    reason: reason.into(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().quote.unwrap_or_default())
    }

    /// `SimulatePricing` of `scenarios` for the firm as `token`.
    pub async fn simulate(
        &mut self,
        token: &str,
        scenarios: Vec<v1::SimulationScenario>,
    ) -> Result<v1::SimulatePricingResponse, tonic::Status> {
        self.h
            .client
            .simulate_pricing(TestSuite::authed(
                v1::SimulatePricingRequest {
                    customer_id: self.firm.clone(),
                    branch_id: String::new(),
                    scenarios,
                },
                token,
            ))
            .await
            .map(|r| r.into_inner())
    }

    /// `RecordCovenantObservation` as `token`.
    pub async fn observe(
        &mut self,
        token: &str,
        request: v1::RecordCovenantObservationRequest,
    ) -> Result<v1::RecordCovenantObservationResponse, tonic::Status> {
        self.h
            .client
            .record_covenant_observation(TestSuite::authed(request, token))
            .await
            .map(|r| r.into_inner())
    }
}

/// The economics figures in minor units: margin, operating cost, EL, EC, RAR, EVA; and RAROC.
pub fn figures(e: &Option<v1::QuoteEconomics>) -> ([i64; 6], Option<String>) {
    let e = e.clone().unwrap_or_default();
    let m = |x: Option<v1::Money>| x.map_or(i64::MIN, |m| m.minor_units);
    (
        [
            m(e.margin),
            m(e.operating_cost),
            m(e.expected_loss),
            m(e.economic_capital),
            m(e.risk_adjusted_return),
            m(e.eva),
        ],
        e.raroc.map(|r| r.value),
    )
}

/// `[margin, operating cost, EL, EC, RAR, EVA]` in fen of figures given in yuan.
pub fn yuan(figures: [i64; 6]) -> [i64; 6] {
    figures.map(|y| y * 100)
}

/// A rate price.
pub fn rate(bps: i32) -> Option<v1::Price> {
    Some(v1::Price {
        value: Some(v1::price::Value::RateBps(bps)),
    })
}

/// A fee price in yuan.
pub fn fee(yuan: i64) -> Option<v1::Price> {
    Some(v1::Price {
        value: Some(v1::price::Value::AnnualFee(cny(yuan))),
    })
}
