//! Relationship pricing rules through gRPC, on the embedded default (SQLite, in-process cache) and
//! on Postgres with Redis: rules created (the pricing committee or an admin only), read at their
//! latest or a given version, updated as new versions under optimistic concurrency (a stale
//! `expected_version` is `ABORTED`), listed in force on a date (the highest version covering it,
//! in application order) or with every version in keyset pages; one audit entry and one outbox
//! event per write, each bumping the catalogue version; and the service's own `rules::in_force`
//! read through the versioned cache, seeing every write at once, whose rules explain what a
//! customer lacks ("contribution RMB 180,000.00, rule needs 200,000.00").

use std::time::Duration;

use bankmkt_domain::calendar::{BusinessCalendar, parse_timezone};
use bankmkt_domain::customer::{CorporateTier, CustomerKind};
use bankmkt_domain::money::{BasisPoints, Currency, Money};
use bankmkt_domain::pricing::rules::{CustomerFacts, relationship_price};
use bankmkt_domain::pricing::{Price, Product, ProductCategory, ProductKind};
use bankmkt_e2e::on_both_backends;
use bankmkt_e2e::pricing::{PricingHarness, benefit, date, money, pricing_rule, product, range};
use bankmkt_e2e::registry::fields;
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_platform::cache::ReadThrough;
use bankmkt_platform::client::ServiceIdentity;
use bankmkt_platform::clock::Clock;
use bankmkt_platform::{audit, outbox};
use bankmkt_pricing::PricingService;
use bankmkt_pricing::facts::RegistryClient;
use bankmkt_proto::v1;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tonic::Code;

pub(crate) fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

/// A pricing service of the library on the suite's database and cache settings, calling the
/// registry at `registry_endpoint`: for reading what the RPCs wrote through the service's own
/// functions.
pub(crate) async fn service(h: &PricingHarness, registry_endpoint: &str) -> PricingService {
    let settings = h.suite.settings();
    let cache = ReadThrough::from_settings(&settings).expect("cache");
    let tz = parse_timezone(&settings.timezone).expect("timezone");
    let calendar = BusinessCalendar::new(tz, [], []).expect("calendar");
    let registry = RegistryClient::connect_lazy(
        registry_endpoint,
        Duration::from_secs(5),
        ServiceIdentity::new("pricing", h.suite.authenticator()),
    )
    .expect("registry client");
    PricingService::new(h.db().await, cache, Clock::system(calendar), registry)
}

/// The number of audit entries and outbox events about targets of `target_type`.
pub(crate) async fn trail(h: &PricingHarness, target_type: &str) -> (u64, u64) {
    let db = h.db().await;
    let audits = audit::entity::Entity::find()
        .filter(audit::entity::Column::TargetType.eq(target_type))
        .count(&db)
        .await
        .expect("audit");
    let events = outbox::entity::Entity::find()
        .filter(outbox::entity::Column::AggregateType.eq(target_type))
        .count(&db)
        .await
        .expect("outbox");
    (audits, events)
}

pub(crate) async fn catalogue_version(h: &PricingHarness) -> i64 {
    bankmkt_pricing::cache::catalogue_version(&h.db().await)
        .await
        .expect("catalogue version")
        .number
}

async fn get_rule(
    h: &mut PricingHarness,
    rule_id: &str,
    version: i64,
) -> Result<v1::PricingRule, tonic::Status> {
    let token = h.manager.clone();
    h.client
        .get_pricing_rule(TestSuite::authed(
            v1::GetPricingRuleRequest {
                rule_id: rule_id.into(),
                version,
            },
            &token,
        ))
        .await
        .map(|r| r.into_inner().rule.expect("rule"))
}

async fn update_rule(
    h: &mut PricingHarness,
    token: &str,
    rule: v1::PricingRule,
    paths: &[&str],
    expected_version: i64,
) -> Result<v1::PricingRule, tonic::Status> {
    h.client
        .update_pricing_rule(TestSuite::authed(
            v1::UpdatePricingRuleRequest {
                rule: Some(rule),
                update_mask: mask(paths),
                expected_version,
                reason: "committee review".into(),
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().rule.expect("rule"))
}

async fn list_rules(
    h: &mut PricingHarness,
    request: v1::ListPricingRulesRequest,
) -> v1::ListPricingRulesResponse {
    let token = h.manager.clone();
    h.client
        .list_pricing_rules(TestSuite::authed(request, &token))
        .await
        .expect("list rules")
        .into_inner()
}

fn ids_and_versions(rules: &[v1::PricingRule]) -> Vec<(String, i64)> {
    rules
        .iter()
        .map(|r| (r.rule_id.clone(), r.version))
        .collect()
}

fn cny(yuan: i64) -> v1::Money {
    money("CNY", yuan * 100)
}

async fn rules_are_versioned_listed_and_explained(backend: Backend) {
    use v1::BenefitType::*;
    use v1::ProductCategory as C;
    use v1::ProductKind as K;
    let mut h = PricingHarness::start(backend).await;
    h.create_products(vec![
        product("LOAN", K::Asset, C::Loan),
        product("DEP", K::Liability, C::Deposit),
        product("FEE", K::Fee, C::Settlement),
    ])
    .await;
    let committee = h.committee.clone();
    let admin = h.admin.clone();
    let pm = h.product_manager.clone();
    let manager = h.manager.clone();
    let since_2026 = range(date(2026, 1, 1), None);
    let version_at_start = catalogue_version(&h).await;

    // Load the rules: a contribution-gated loan discount, a tier-gated deposit bonus, and a fee
    // waiver that only starts in 2030.
    let loan_rule = h
        .create_rule(
            &committee,
            pricing_rule(
                "Big-contributor loan discount",
                10,
                v1::CustomerCondition {
                    min_ttm_contribution: Some(cny(200_000)),
                    ..Default::default()
                },
                v1::RuleTarget {
                    product_kind: K::Asset as i32,
                    ..Default::default()
                },
                benefit(SpreadPercent, 25),
                since_2026,
            ),
        )
        .await
        .expect("loan rule");
    assert_eq!(loan_rule.version, 1);
    assert_eq!(loan_rule.rule_id.len(), 36, "a UUID: {}", loan_rule.rule_id);
    assert_eq!(loan_rule.benefit, Some(benefit(SpreadPercent, 25)));
    assert_eq!(
        loan_rule
            .condition
            .as_ref()
            .and_then(|c| c.min_ttm_contribution.clone()),
        Some(cny(200_000))
    );
    assert_eq!(
        loan_rule.created.as_ref().map(|c| c.actor_id.as_str()),
        Some("pc1")
    );
    let deposit_rule = h
        .create_rule(
            &admin,
            pricing_rule(
                "Tier-1 deposit bonus",
                20,
                v1::CustomerCondition {
                    corporate_tiers: vec![v1::CorporateTier::Tier1Branch as i32],
                    ..Default::default()
                },
                v1::RuleTarget {
                    product_ids: vec!["DEP".into()],
                    ..Default::default()
                },
                benefit(SpreadPercent, 5),
                since_2026,
            ),
        )
        .await
        .expect("deposit rule");
    let waiver = h
        .create_rule(
            &committee,
            v1::PricingRule {
                exclusive: true,
                ..pricing_rule(
                    "Strategic fee waiver",
                    5,
                    v1::CustomerCondition {
                        stages: vec![v1::LifecycleStage::Strategic as i32],
                        ..Default::default()
                    },
                    v1::RuleTarget {
                        product_ids: vec!["FEE".into()],
                        ..Default::default()
                    },
                    benefit(Waive, 0),
                    range(date(2030, 1, 1), None),
                )
            },
        )
        .await
        .expect("waiver");
    assert!(waiver.exclusive);
    assert_eq!(catalogue_version(&h).await, version_at_start + 3);

    // Only the pricing committee and admins write rules.
    for token in [&manager, &pm] {
        let denied = h
            .create_rule(
                token,
                pricing_rule(
                    "x",
                    1,
                    v1::CustomerCondition::default(),
                    v1::RuleTarget::default(),
                    benefit(FixedPercent, 100),
                    since_2026,
                ),
            )
            .await
            .expect_err("not a rule writer");
        assert_eq!(denied.code(), Code::PermissionDenied);
    }
    let denied = update_rule(&mut h, &manager, loan_rule.clone(), &["priority"], 1)
        .await
        .expect_err("manager update");
    assert_eq!(denied.code(), Code::PermissionDenied);
    // A benefit that cannot apply to a named product is refused, naming the benefit type.
    let waive_a_loan = h
        .create_rule(
            &committee,
            pricing_rule(
                "Waive the loan",
                1,
                v1::CustomerCondition::default(),
                v1::RuleTarget {
                    product_ids: vec!["LOAN".into()],
                    ..Default::default()
                },
                benefit(Waive, 0),
                since_2026,
            ),
        )
        .await
        .expect_err("waive on a loan");
    assert_eq!(waive_a_loan.code(), Code::InvalidArgument);
    assert_eq!(fields(&waive_a_loan), ["rule.benefit.benefit_type"]);

    // Versions: an update stores version 2; a stale one is ABORTED and stores nothing.
    let v2 = update_rule(
        &mut h,
        &committee,
        v1::PricingRule {
            rule_id: loan_rule.rule_id.clone(),
            benefit: Some(benefit(SpreadPercent, 30)),
            name: "ignored: not in the mask".into(),
            ..Default::default()
        },
        &["benefit"],
        1,
    )
    .await
    .expect("update");
    assert_eq!(v2.version, 2);
    assert_eq!(v2.benefit, Some(benefit(SpreadPercent, 30)));
    assert_eq!(v2.name, "Big-contributor loan discount");
    assert_eq!(
        v2.condition, loan_rule.condition,
        "unmasked fields are kept"
    );
    let stale = update_rule(
        &mut h,
        &committee,
        v1::PricingRule {
            rule_id: loan_rule.rule_id.clone(),
            priority: 99,
            ..Default::default()
        },
        &["priority"],
        1,
    )
    .await
    .expect_err("stale");
    assert_eq!(stale.code(), Code::Aborted);
    let missing = update_rule(
        &mut h,
        &committee,
        v1::PricingRule {
            rule_id: uuid_like(),
            priority: 1,
            ..Default::default()
        },
        &["priority"],
        1,
    )
    .await
    .expect_err("unknown rule");
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(
        get_rule(&mut h, &loan_rule.rule_id, 0)
            .await
            .expect("latest"),
        v2
    );
    assert_eq!(
        get_rule(&mut h, &loan_rule.rule_id, 1)
            .await
            .expect("version 1"),
        loan_rule
    );
    assert_eq!(
        get_rule(&mut h, &loan_rule.rule_id, 3)
            .await
            .expect_err("no version 3")
            .code(),
        Code::NotFound
    );
    // A version 3 that only starts in 2031 leaves version 2 in force until then.
    let v3 = update_rule(
        &mut h,
        &admin,
        v1::PricingRule {
            rule_id: loan_rule.rule_id.clone(),
            effective: Some(range(date(2031, 1, 1), None)),
            benefit: Some(benefit(SpreadPercent, 40)),
            ..Default::default()
        },
        &["effective", "benefit"],
        2,
    )
    .await
    .expect("version 3");
    assert_eq!(v3.version, 3);

    // In force today: the loan rule at version 2, then the deposit rule (by priority).
    let today = list_rules(&mut h, v1::ListPricingRulesRequest::default()).await;
    assert_eq!(
        ids_and_versions(&today.rules),
        [
            (loan_rule.rule_id.clone(), 2),
            (deposit_rule.rule_id.clone(), 1)
        ]
    );
    assert_eq!(today.next_page_token, "");
    // In 2031: the waiver first (priority 5), the loan rule at version 3.
    let later = list_rules(
        &mut h,
        v1::ListPricingRulesRequest {
            as_of_date: Some(date(2031, 6, 1)),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        ids_and_versions(&later.rules),
        [
            (waiver.rule_id.clone(), 1),
            (loan_rule.rule_id.clone(), 3),
            (deposit_rule.rule_id.clone(), 1)
        ]
    );
    // Before 2026 nothing is in force.
    let before = list_rules(
        &mut h,
        v1::ListPricingRulesRequest {
            as_of_date: Some(date(2025, 12, 31)),
            ..Default::default()
        },
    )
    .await;
    assert!(before.rules.is_empty());
    // Every version, in application order then version descending, the same in pages of 2.
    let all = list_rules(
        &mut h,
        v1::ListPricingRulesRequest {
            all_versions: true,
            ..Default::default()
        },
    )
    .await;
    let expected_all = [
        (waiver.rule_id.clone(), 1),
        (loan_rule.rule_id.clone(), 3),
        (loan_rule.rule_id.clone(), 2),
        (loan_rule.rule_id.clone(), 1),
        (deposit_rule.rule_id.clone(), 1),
    ];
    assert_eq!(ids_and_versions(&all.rules), expected_all);
    for all_versions in [true, false] {
        let mut paged = Vec::new();
        let mut token = String::new();
        loop {
            let page = list_rules(
                &mut h,
                v1::ListPricingRulesRequest {
                    all_versions,
                    as_of_date: (!all_versions).then(|| date(2031, 6, 1)),
                    page_size: 2,
                    page_token: token.clone(),
                },
            )
            .await;
            assert!(page.rules.len() <= 2);
            paged.extend(page.rules);
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        let expected = if all_versions {
            ids_and_versions(&all.rules)
        } else {
            ids_and_versions(&later.rules)
        };
        assert_eq!(ids_and_versions(&paged), expected, "paged {all_versions}");
    }

    // One audit entry and one outbox event per stored version; refusals left none.
    assert_eq!(trail(&h, "pricing_rule").await, (5, 5));
    assert_eq!(catalogue_version(&h).await, version_at_start + 5);

    // The service's own read of the rules in force, through the versioned cache: in
    // application order, and every write is seen at once.
    let registry = h.suite.addr("customer-registry");
    let svc = service(&h, &format!("http://{registry}")).await;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
    let rules = bankmkt_pricing::rules::in_force(&svc, day)
        .await
        .expect("in force");
    let got: Vec<(String, i64)> = rules
        .iter()
        .map(|r| (r.rule_id.clone(), r.version))
        .collect();
    assert_eq!(
        got,
        [
            (loan_rule.rule_id.clone(), 2),
            (deposit_rule.rule_id.clone(), 1)
        ]
    );
    let again = bankmkt_pricing::rules::in_force(&svc, day)
        .await
        .expect("cached");
    assert_eq!(*again, *rules);
    update_rule(
        &mut h,
        &committee,
        v1::PricingRule {
            rule_id: deposit_rule.rule_id.clone(),
            priority: 1,
            ..Default::default()
        },
        &["priority"],
        1,
    )
    .await
    .expect("reprioritise");
    let after_write = bankmkt_pricing::rules::in_force(&svc, day)
        .await
        .expect("after a write");
    let got: Vec<(String, i64)> = after_write
        .iter()
        .map(|r| (r.rule_id.clone(), r.version))
        .collect();
    assert_eq!(
        got,
        [
            (deposit_rule.rule_id.clone(), 2),
            (loan_rule.rule_id.clone(), 2)
        ],
        "the write bumped the catalogue version, so the cached list was not reused"
    );

    // The stored rules explain what a customer lacks, by the domain's combination.
    let loan = Product {
        product_id: "LOAN".into(),
        name: "Product LOAN".into(),
        line: bankmkt_domain::org::BusinessLine::Corporate,
        kind: ProductKind::Asset,
        category: ProductCategory::Loan,
        currency: Currency::CNY,
        active: true,
    };
    let facts = CustomerFacts {
        kind: Some(CustomerKind::Corporate),
        corporate_tier: Some(CorporateTier::Tier2Branch),
        ttm_contribution: Some(Money::from_minor(Currency::CNY, 18_000_000)),
        ..CustomerFacts::default()
    };
    let priced = relationship_price(
        &after_write,
        &facts,
        &loan,
        Price::Rate(BasisPoints::new(435)),
        day,
    )
    .expect("price");
    assert_eq!(priced.price, Price::Rate(BasisPoints::new(435)));
    let texts: Vec<String> = priced.explanations.iter().map(|e| e.text()).collect();
    assert_eq!(
        texts,
        [
            "Big-contributor loan discount: not applied: contribution RMB 180,000.00, rule needs 200,000.00"
        ]
    );
    let richer = CustomerFacts {
        ttm_contribution: Some(Money::from_minor(Currency::CNY, 20_000_000)),
        ..facts
    };
    let priced = relationship_price(
        &after_write,
        &richer,
        &loan,
        Price::Rate(BasisPoints::new(435)),
        day,
    )
    .expect("price");
    assert_eq!(priced.price, Price::Rate(BasisPoints::new(405)));
    h.suite.stop().await;
}

/// A well-formed id no rule has.
fn uuid_like() -> String {
    "01900000-0000-7000-8000-000000000000".to_owned()
}

on_both_backends!(rules_are_versioned_listed_and_explained);
