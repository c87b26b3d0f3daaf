//! The pricing catalogue and its reference data through gRPC, on the embedded default (SQLite,
//! in-process cache) and on Postgres with Redis: products created, read (through the versioned
//! cache, showing the price in force today), listed with filters and keyset pages and updated
//! under optimistic concurrency; effective-dated price versions (rate and fee schedule) with
//! overlapping periods refused naming the version they overlap; reference rates, FX rates,
//! regulatory limits and authority bands, with their versions, in-force reads, overlaps and the
//! monotone band rule; who may write; and one audit entry and one outbox event per write.

use bankmkt_e2e::on_both_backends;
use bankmkt_e2e::pricing::{
    PricingHarness, band, date, dec, fee_version, loan_floor, money, preconditions, product, range,
    rate_version, schedule,
};
use bankmkt_e2e::registry::fields;
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_platform::{audit, outbox};
use bankmkt_proto::v1;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tonic::Code;

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

async fn create_product(
    h: &mut PricingHarness,
    token: &str,
    p: v1::Product,
) -> Result<v1::Product, tonic::Status> {
    h.client
        .create_product(TestSuite::authed(
            v1::CreateProductRequest { product: Some(p) },
            token,
        ))
        .await
        .map(|r| r.into_inner().product.expect("product"))
}

async fn get_product(h: &mut PricingHarness, id: &str) -> Result<v1::Product, tonic::Status> {
    let token = h.manager.clone();
    h.client
        .get_product(TestSuite::authed(
            v1::GetProductRequest {
                product_id: id.into(),
            },
            &token,
        ))
        .await
        .map(|r| r.into_inner().product.expect("product"))
}

async fn create_price(
    h: &mut PricingHarness,
    token: &str,
    pv: v1::PriceVersion,
) -> Result<v1::PriceVersion, tonic::Status> {
    h.client
        .create_price_version(TestSuite::authed(
            v1::CreatePriceVersionRequest {
                price_version: Some(pv),
                reason: "annual price review".into(),
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().price_version.expect("price version"))
}

async fn list_products(
    h: &mut PricingHarness,
    request: v1::ListProductsRequest,
) -> v1::ListProductsResponse {
    let token = h.manager.clone();
    h.client
        .list_products(TestSuite::authed(request, &token))
        .await
        .expect("list products")
        .into_inner()
}

/// The number of audit entries and outbox events about targets of `target_type`.
async fn trail(h: &PricingHarness, target_type: &str) -> (u64, u64) {
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

async fn catalogue_version(h: &PricingHarness) -> i64 {
    bankmkt_pricing::cache::catalogue_version(&h.db().await)
        .await
        .expect("catalogue version")
        .number
}

async fn products_and_price_versions(backend: Backend) {
    use v1::ProductCategory::*;
    use v1::ProductKind::*;
    let mut h = PricingHarness::start(backend).await;
    let pm = h.product_manager.clone();
    let committee = h.committee.clone();
    let version_at_start = catalogue_version(&h).await;

    // Create three products; a second create of an id answers ALREADY_EXISTS.
    let loan = create_product(&mut h, &pm, product("LOAN-WC-1Y", Asset, Loan))
        .await
        .expect("loan");
    assert_eq!(loan.version, 1);
    assert_eq!(loan.current_price, None);
    assert_eq!(loan.kind, Asset as i32);
    create_product(&mut h, &pm, product("DEP-DEMAND", Liability, Deposit))
        .await
        .expect("deposit");
    create_product(&mut h, &pm, product("FEE-CASH", Fee, Settlement))
        .await
        .expect("fee");
    let again = create_product(&mut h, &pm, product("LOAN-WC-1Y", Asset, Loan))
        .await
        .expect_err("duplicate");
    assert_eq!(again.code(), Code::AlreadyExists);
    let manager = h.manager.clone();
    let denied = create_product(&mut h, &manager, product("X", Asset, Loan))
        .await
        .expect_err("manager");
    assert_eq!(denied.code(), Code::PermissionDenied);

    // Price versions: a past one, one in force today (open-ended), numbered 1 and 2.
    let past = create_price(
        &mut h,
        &pm,
        rate_version(
            "LOAN-WC-1Y",
            range(date(2000, 1, 1), Some(date(2001, 1, 1))),
            520,
        ),
    )
    .await
    .expect("past version");
    assert_eq!(past.version, 1);
    assert_eq!(
        past.created.as_ref().map(|c| c.actor_id.as_str()),
        Some("pm1")
    );
    assert_eq!(
        past.created.as_ref().map(|c| c.reason.as_str()),
        Some("annual price review")
    );
    // The pricing committee may set prices too.
    let current = create_price(
        &mut h,
        &committee,
        v1::PriceVersion {
            probability_of_default: Some(dec("0.0125")),
            loss_given_default: Some(dec("0.45")),
            ..rate_version("LOAN-WC-1Y", range(date(2001, 1, 1), None), 435)
        },
    )
    .await
    .expect("current version");
    assert_eq!(current.version, 2);
    assert_eq!(
        current.list_price,
        Some(v1::price_version::ListPrice::ListRateBps(435))
    );
    assert_eq!(current.operating_cost_ratio, Some(dec("0.0030")));
    assert_eq!(current.probability_of_default, Some(dec("0.0125")));

    // An overlapping period is refused, naming the version it overlaps; nothing is stored.
    let overlap = create_price(
        &mut h,
        &pm,
        rate_version("LOAN-WC-1Y", range(date(2030, 1, 1), None), 400),
    )
    .await
    .expect_err("overlap");
    assert_eq!(overlap.code(), Code::FailedPrecondition);
    assert_eq!(
        preconditions(&overlap),
        [(
            "PRICE_VERSION_OVERLAP".to_owned(),
            current.price_version_id.clone()
        )]
    );
    // Touching periods do not overlap: a version ending where the past one starts is fine.
    let earliest = create_price(
        &mut h,
        &pm,
        rate_version(
            "LOAN-WC-1Y",
            range(date(1999, 1, 1), Some(date(2000, 1, 1))),
            560,
        ),
    )
    .await
    .expect("touching version");
    assert_eq!(earliest.version, 3);

    // GetProduct shows the version in force today.
    let got = get_product(&mut h, "LOAN-WC-1Y").await.expect("get");
    let shown = got.current_price.expect("a price in force today");
    assert_eq!(
        (
            shown.price_version_id.as_str(),
            shown.version,
            shown.list_price
        ),
        (
            current.price_version_id.as_str(),
            2,
            current.list_price.clone()
        )
    );
    assert_eq!(
        get_product(&mut h, "NOPE")
            .await
            .expect_err("missing")
            .code(),
        Code::NotFound
    );

    // A fee product priced by a schedule.
    let fee = create_price(
        &mut h,
        &pm,
        fee_version("FEE-CASH", range(date(2001, 1, 1), None), schedule()),
    )
    .await
    .expect("fee version");
    let Some(v1::price_version::ListPrice::FeeSchedule(stored)) = &fee.list_price else {
        panic!("fee version without a schedule: {fee:?}");
    };
    assert_eq!(stored.tiers.len(), 2);
    assert_eq!(stored.flat_annual_fee, Some(money("CNY", 100_000)));
    assert_eq!(fee.ftp_rate_bps, 0);
    assert_eq!(fee.economic_capital_ratio, Some(dec("0")));
    assert_eq!(
        get_product(&mut h, "FEE-CASH")
            .await
            .expect("fee product")
            .current_price
            .map(|p| p.price_version_id),
        Some(fee.price_version_id.clone())
    );

    // ListPriceVersions: newest effective date first, in keyset pages.
    let token = h.manager.clone();
    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = h
            .client
            .list_price_versions(TestSuite::authed(
                v1::ListPriceVersionsRequest {
                    product_id: "LOAN-WC-1Y".into(),
                    page_size: 2,
                    page_token: page_token.clone(),
                },
                &token,
            ))
            .await
            .expect("list versions")
            .into_inner();
        seen.extend(page.price_versions.iter().map(|p| p.version));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(seen, [2, 1, 3]);

    // Two writers racing with overlapping periods of one product: exactly one is stored.
    let racing = |from: v1::Date, rate: i32| v1::CreatePriceVersionRequest {
        price_version: Some(rate_version("DEP-DEMAND", range(from, None), rate)),
        reason: "race".into(),
    };
    let mut other = h.client.clone();
    let (a, b) = tokio::join!(
        h.client
            .create_price_version(TestSuite::authed(racing(date(2001, 1, 1), 35), &pm)),
        other.create_price_version(TestSuite::authed(racing(date(2010, 1, 1), 30), &pm)),
    );
    let outcomes = [a.map(|_| ()), b.map(|_| ())];
    assert_eq!(
        outcomes.iter().filter(|r| r.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    let refused = outcomes
        .iter()
        .find_map(|r| r.as_ref().err())
        .expect("one refused");
    assert!(
        matches!(refused.code(), Code::FailedPrecondition | Code::Aborted),
        "{refused:?}"
    );
    let deposit_versions = h
        .client
        .list_price_versions(TestSuite::authed(
            v1::ListPriceVersionsRequest {
                product_id: "DEP-DEMAND".into(),
                ..Default::default()
            },
            &manager,
        ))
        .await
        .expect("deposit versions")
        .into_inner()
        .price_versions;
    assert_eq!(deposit_versions.len(), 1);
    assert_eq!(deposit_versions[0].version, 1);

    // ListProducts: by id, active only by default, filters by kind and category.
    let all = list_products(&mut h, v1::ListProductsRequest::default()).await;
    let ids: Vec<&str> = all.products.iter().map(|p| p.product_id.as_str()).collect();
    assert_eq!(ids, ["DEP-DEMAND", "FEE-CASH", "LOAN-WC-1Y"]);
    assert_eq!(
        all.products[2].current_price.as_ref().map(|p| p.version),
        Some(2)
    );
    let fees = list_products(
        &mut h,
        v1::ListProductsRequest {
            kind: Fee as i32,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(fees.products.len(), 1);
    let first = list_products(
        &mut h,
        v1::ListProductsRequest {
            page_size: 2,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(first.products.len(), 2);
    let second = list_products(
        &mut h,
        v1::ListProductsRequest {
            page_size: 2,
            page_token: first.next_page_token.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        second
            .products
            .iter()
            .map(|p| p.product_id.as_str())
            .collect::<Vec<_>>(),
        ["LOAN-WC-1Y"]
    );
    assert!(second.next_page_token.is_empty());

    // UpdateProduct: masked fields only, version checked, kind immutable.
    let update = |p: v1::Product, paths: &[&str], expected_version: i64| v1::UpdateProductRequest {
        product: Some(p),
        update_mask: mask(paths),
        expected_version,
    };
    let renamed = h
        .client
        .update_product(TestSuite::authed(
            update(
                v1::Product {
                    name: "Working-capital loan, 1 year".into(),
                    active: false,
                    category: CreditFacility as i32,
                    ..product("LOAN-WC-1Y", Asset, Loan)
                },
                &["name", "active"],
                1,
            ),
            &pm,
        ))
        .await
        .expect("update")
        .into_inner()
        .product
        .expect("product");
    assert_eq!(renamed.version, 2);
    assert_eq!(renamed.name, "Working-capital loan, 1 year");
    assert!(!renamed.active);
    assert_eq!(
        renamed.category, Loan as i32,
        "category was not in the mask"
    );
    assert_eq!(renamed.current_price.map(|p| p.version), Some(2));
    let stale = h
        .client
        .update_product(TestSuite::authed(
            update(product("LOAN-WC-1Y", Asset, Loan), &["name"], 1),
            &pm,
        ))
        .await
        .expect_err("stale");
    assert_eq!(stale.code(), Code::Aborted);
    let immutable = h
        .client
        .update_product(TestSuite::authed(
            update(product("LOAN-WC-1Y", Liability, Loan), &["kind"], 2),
            &pm,
        ))
        .await
        .expect_err("kind");
    assert_eq!(immutable.code(), Code::InvalidArgument);
    assert_eq!(fields(&immutable), ["update_mask.paths[0]"]);
    // The cached product follows the update (the write bumped the catalogue version).
    let got = get_product(&mut h, "LOAN-WC-1Y")
        .await
        .expect("get after update");
    assert_eq!((got.version, got.active), (2, false));
    let active_only = list_products(&mut h, v1::ListProductsRequest::default()).await;
    assert_eq!(active_only.products.len(), 2);
    let with_inactive = list_products(
        &mut h,
        v1::ListProductsRequest {
            include_inactive: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(with_inactive.products.len(), 3);

    // One audit entry and one outbox event per successful write; the version grew with each
    // (3 products, 5 price versions, 1 update).
    assert_eq!(trail(&h, "product").await, (4, 4));
    assert_eq!(trail(&h, "price_version").await, (5, 5));
    assert_eq!(catalogue_version(&h).await, version_at_start + 9);
    let db = h.db().await;
    let events: Vec<String> = outbox::entity::Entity::find()
        .filter(outbox::entity::Column::AggregateId.eq("LOAN-WC-1Y"))
        .all(&db)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(events, ["product.created", "product.updated"]);
    h.suite.stop().await;
}

async fn reference_rates_and_fx(backend: Backend) {
    let mut h = PricingHarness::start(backend).await;
    let committee = h.committee.clone();
    let reader = h.manager.clone();
    let lpr = |kind: v1::ReferenceRateKind, d: v1::Date, bps: i32| v1::CreateReferenceRateRequest {
        rate: Some(v1::ReferenceRate {
            kind: kind as i32,
            effective_date: Some(d),
            rate_bps: bps,
            created: None,
        }),
    };
    use v1::ReferenceRateKind::*;
    for (kind, d, bps) in [
        (Lpr1y, date(2024, 10, 21), 310),
        (Lpr1y, date(2025, 5, 20), 300),
        (Lpr5y, date(2025, 5, 20), 350),
    ] {
        let stored = h
            .client
            .create_reference_rate(TestSuite::authed(lpr(kind, d, bps), &committee))
            .await
            .expect("rate")
            .into_inner()
            .rate
            .expect("rate");
        assert_eq!(stored.rate_bps, bps);
        assert_eq!(stored.created.map(|c| c.actor_id), Some("pc1".to_owned()));
    }
    let duplicate = h
        .client
        .create_reference_rate(TestSuite::authed(
            lpr(Lpr1y, date(2025, 5, 20), 299),
            &committee,
        ))
        .await
        .expect_err("duplicate");
    assert_eq!(duplicate.code(), Code::AlreadyExists);
    let denied = h
        .client
        .create_reference_rate(TestSuite::authed(
            lpr(Lpr1y, date(2025, 6, 20), 299),
            &h.product_manager.clone(),
        ))
        .await
        .expect_err("product manager");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let listed = h
        .client
        .list_reference_rates(TestSuite::authed(
            v1::ListReferenceRatesRequest::default(),
            &reader,
        ))
        .await
        .expect("list")
        .into_inner()
        .rates;
    let points: Vec<(i32, i32)> = listed.iter().map(|r| (r.kind, r.rate_bps)).collect();
    assert_eq!(
        points,
        [
            (Lpr1y as i32, 300),
            (Lpr5y as i32, 350),
            (Lpr1y as i32, 310)
        ],
        "newest first, then by series"
    );
    let one_year = h
        .client
        .list_reference_rates(TestSuite::authed(
            v1::ListReferenceRatesRequest {
                kind: Lpr1y as i32,
                page_size: 1,
                ..Default::default()
            },
            &reader,
        ))
        .await
        .expect("page 1")
        .into_inner();
    assert_eq!(one_year.rates[0].rate_bps, 300);
    let rest = h
        .client
        .list_reference_rates(TestSuite::authed(
            v1::ListReferenceRatesRequest {
                kind: Lpr1y as i32,
                page_size: 1,
                page_token: one_year.next_page_token,
            },
            &reader,
        ))
        .await
        .expect("page 2")
        .into_inner();
    assert_eq!(
        rest.rates.iter().map(|r| r.rate_bps).collect::<Vec<_>>(),
        [310]
    );

    // FX: exact decimal rates per currency and date.
    let fx = |currency: &str, d: v1::Date, rate: &str| v1::CreateFxRateRequest {
        rate: Some(v1::FxRate {
            currency: currency.into(),
            effective_date: Some(d),
            cny_per_unit: Some(dec(rate)),
            created: None,
        }),
    };
    for (c, d, r) in [
        ("USD", date(2025, 1, 1), "7.2993"),
        ("USD", date(2025, 6, 1), "7.1834"),
        ("HKD", date(2025, 6, 1), "0.9150"),
    ] {
        let stored = h
            .client
            .create_fx_rate(TestSuite::authed(fx(c, d, r), &committee))
            .await
            .expect("fx")
            .into_inner()
            .rate
            .expect("fx");
        assert_eq!(stored.cny_per_unit, Some(dec(r)), "stored exactly");
    }
    let duplicate = h
        .client
        .create_fx_rate(TestSuite::authed(
            fx("USD", date(2025, 6, 1), "7.0"),
            &committee,
        ))
        .await
        .expect_err("duplicate");
    assert_eq!(duplicate.code(), Code::AlreadyExists);
    let usd = h
        .client
        .list_fx_rates(TestSuite::authed(
            v1::ListFxRatesRequest {
                currency: "USD".into(),
                ..Default::default()
            },
            &reader,
        ))
        .await
        .expect("usd")
        .into_inner()
        .rates;
    let usd: Vec<String> = usd
        .into_iter()
        .filter_map(|r| r.cny_per_unit.map(|d| d.value))
        .collect();
    assert_eq!(usd, ["7.1834", "7.2993"]);
    let all = h
        .client
        .list_fx_rates(TestSuite::authed(
            v1::ListFxRatesRequest::default(),
            &reader,
        ))
        .await
        .expect("all")
        .into_inner()
        .rates;
    let currencies: Vec<&str> = all.iter().map(|r| r.currency.as_str()).collect();
    assert_eq!(currencies, ["HKD", "USD", "USD"]);
    assert_eq!(trail(&h, "reference_rate").await, (3, 3));
    assert_eq!(trail(&h, "fx_rate").await, (3, 3));
    h.suite.stop().await;
}

async fn regulatory_limits(backend: Backend) {
    let mut h = PricingHarness::start(backend).await;
    let committee = h.committee.clone();
    let reader = h.manager.clone();
    let create = |limit: v1::RegulatoryLimit| v1::CreateRegulatoryLimitRequest {
        limit: Some(limit),
        reason: "PBoC floor".into(),
    };
    let floor = h
        .client
        .create_regulatory_limit(TestSuite::authed(
            create(v1::RegulatoryLimit {
                max_term_months: 60,
                ..loan_floor(range(date(2020, 1, 1), None))
            }),
            &committee,
        ))
        .await
        .expect("floor")
        .into_inner()
        .limit
        .expect("limit");
    assert_eq!(floor.version, 1);
    assert!(!floor.limit_id.is_empty());
    let cap = h
        .client
        .create_regulatory_limit(TestSuite::authed(
            create(v1::RegulatoryLimit {
                name: "deposit cap: 1.50%".into(),
                kind: v1::RegulatoryLimitKind::DepositRateCap as i32,
                product_kind: v1::ProductKind::Liability as i32,
                bound: Some(v1::regulatory_limit::Bound::AbsoluteRateBps(150)),
                effective: Some(range(date(2020, 1, 1), None)),
                ..Default::default()
            }),
            &committee,
        ))
        .await
        .expect("cap")
        .into_inner()
        .limit
        .expect("limit");
    // Another floor for the same terms and an overlapping period is refused, naming the first.
    let overlap = h
        .client
        .create_regulatory_limit(TestSuite::authed(
            create(v1::RegulatoryLimit {
                max_term_months: 60,
                ..loan_floor(range(date(2024, 1, 1), None))
            }),
            &committee,
        ))
        .await
        .expect_err("overlap");
    assert_eq!(overlap.code(), Code::FailedPrecondition);
    assert_eq!(
        preconditions(&overlap),
        [(
            "REGULATORY_LIMIT_OVERLAP".to_owned(),
            floor.limit_id.clone()
        )]
    );
    // A floor for longer terms is another slot.
    h.client
        .create_regulatory_limit(TestSuite::authed(
            create(v1::RegulatoryLimit {
                min_term_months: 61,
                ..loan_floor(range(date(2020, 1, 1), None))
            }),
            &committee,
        ))
        .await
        .expect("long-term floor");

    // A new version of the floor from 2030: today the first version is still in force.
    let update = |limit: v1::RegulatoryLimit, paths: &[&str], expected: i64| {
        v1::UpdateRegulatoryLimitRequest {
            limit: Some(limit),
            update_mask: mask(paths),
            expected_version: expected,
            reason: "new spread from 2030".into(),
        }
    };
    let next = v1::RegulatoryLimit {
        limit_id: floor.limit_id.clone(),
        bound: Some(v1::regulatory_limit::Bound::ReferenceSpread(
            v1::ReferenceSpread {
                reference: v1::ReferenceRateKind::Lpr1y as i32,
                spread_bps: -30,
            },
        )),
        effective: Some(range(date(2030, 1, 1), None)),
        ..Default::default()
    };
    let v2 = h
        .client
        .update_regulatory_limit(TestSuite::authed(
            update(next.clone(), &["bound", "effective"], 1),
            &committee,
        ))
        .await
        .expect("update")
        .into_inner()
        .limit
        .expect("limit");
    assert_eq!(v2.version, 2);
    assert_eq!(v2.name, floor.name, "unmasked fields are kept");
    assert_eq!(v2.max_term_months, 60);
    let stale = h
        .client
        .update_regulatory_limit(TestSuite::authed(update(next, &["bound"], 1), &committee))
        .await
        .expect_err("stale");
    assert_eq!(stale.code(), Code::Aborted);

    let list = |as_of: Option<v1::Date>, all_versions: bool| v1::ListRegulatoryLimitsRequest {
        as_of_date: as_of,
        all_versions,
        ..Default::default()
    };
    let versions_of = |limits: &[v1::RegulatoryLimit], id: &str| -> Vec<i64> {
        limits
            .iter()
            .filter(|l| l.limit_id == id)
            .map(|l| l.version)
            .collect()
    };
    let today = h
        .client
        .list_regulatory_limits(TestSuite::authed(list(None, false), &reader))
        .await
        .expect("today")
        .into_inner()
        .limits;
    assert_eq!(today.len(), 3);
    assert_eq!(versions_of(&today, &floor.limit_id), [1]);
    let later = h
        .client
        .list_regulatory_limits(TestSuite::authed(
            list(Some(date(2031, 1, 1)), false),
            &reader,
        ))
        .await
        .expect("2031")
        .into_inner()
        .limits;
    assert_eq!(versions_of(&later, &floor.limit_id), [2]);
    let before = h
        .client
        .list_regulatory_limits(TestSuite::authed(
            list(Some(date(2019, 1, 1)), false),
            &reader,
        ))
        .await
        .expect("2019")
        .into_inner()
        .limits;
    assert!(before.is_empty());
    let all = h
        .client
        .list_regulatory_limits(TestSuite::authed(list(None, true), &reader))
        .await
        .expect("all")
        .into_inner()
        .limits;
    assert_eq!(all.len(), 4);
    assert_eq!(versions_of(&all, &floor.limit_id), [2, 1]);
    let ids: Vec<&str> = all.iter().map(|l| l.limit_id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "ordered by limit id");
    // Paging through the limits in force one at a time visits each once.
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page = h
            .client
            .list_regulatory_limits(TestSuite::authed(
                v1::ListRegulatoryLimitsRequest {
                    page_size: 1,
                    page_token: token.clone(),
                    ..Default::default()
                },
                &reader,
            ))
            .await
            .expect("page")
            .into_inner();
        paged.extend(page.limits.into_iter().map(|l| l.limit_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        paged,
        today.iter().map(|l| l.limit_id.clone()).collect::<Vec<_>>()
    );
    assert!(paged.contains(&cap.limit_id));
    assert_eq!(trail(&h, "regulatory_limit").await, (4, 4));
    h.suite.stop().await;
}

async fn authority_bands(backend: Backend) {
    use v1::AuthorityLevel::*;
    use v1::ProductKind::*;
    let mut h = PricingHarness::start(backend).await;
    let committee = h.committee.clone();
    let admin = h.admin.clone();
    let reader = h.manager.clone();
    let open = range(date(2020, 1, 1), None);
    let create = |b: v1::AuthorityBand| v1::CreateAuthorityBandRequest {
        band: Some(b),
        reason: "2020 authority table".into(),
    };
    let mut created = Vec::new();
    for b in [
        band(HeadOffice, Asset, 100, 0, open),
        band(CustomerManager, Asset, 5, 0, open),
        band(SubBranch, Asset, 15, 0, open),
        band(CustomerManager, Fee, 0, 500, open),
    ] {
        created.push(
            h.client
                .create_authority_band(TestSuite::authed(create(b), &committee))
                .await
                .expect("band")
                .into_inner()
                .band
                .expect("band"),
        );
    }
    // A tier-1 band narrower than the sub-branch's is refused naming the field.
    let narrower = h
        .client
        .create_authority_band(TestSuite::authed(
            create(band(Tier1Branch, Asset, 10, 0, open)),
            &admin,
        ))
        .await
        .expect_err("narrower");
    assert_eq!(narrower.code(), Code::InvalidArgument);
    assert_eq!(fields(&narrower), ["band.max_rate_concession_bps"]);
    // A second sub-branch band for assets overlapping the first answers FAILED_PRECONDITION.
    let overlap = h
        .client
        .create_authority_band(TestSuite::authed(
            create(band(SubBranch, Asset, 20, 0, range(date(2025, 1, 1), None))),
            &admin,
        ))
        .await
        .expect_err("overlap");
    assert_eq!(overlap.code(), Code::FailedPrecondition);
    assert_eq!(
        preconditions(&overlap),
        [(
            "AUTHORITY_BAND_OVERLAP".to_owned(),
            created[2].band_id.clone()
        )]
    );
    let denied = h
        .client
        .create_authority_band(TestSuite::authed(
            create(band(Outlet, Asset, 10, 0, open)),
            &h.product_manager.clone(),
        ))
        .await
        .expect_err("product manager");
    assert_eq!(denied.code(), Code::PermissionDenied);

    // Listing: by product kind, then level.
    let list = |as_of: Option<v1::Date>, all_versions: bool| v1::ListAuthorityBandsRequest {
        as_of_date: as_of,
        all_versions,
        ..Default::default()
    };
    let listed = h
        .client
        .list_authority_bands(TestSuite::authed(list(None, false), &reader))
        .await
        .expect("list")
        .into_inner()
        .bands;
    let order: Vec<(i32, i32)> = listed.iter().map(|b| (b.product_kind, b.level)).collect();
    assert_eq!(
        order,
        [
            (Asset as i32, CustomerManager as i32),
            (Asset as i32, SubBranch as i32),
            (Asset as i32, HeadOffice as i32),
            (Fee as i32, CustomerManager as i32),
        ]
    );

    // Widening the sub-branch band from 2030 stores version 2; today version 1 is in force.
    let update =
        |b: v1::AuthorityBand, paths: &[&str], expected: i64| v1::UpdateAuthorityBandRequest {
            band: Some(b),
            update_mask: mask(paths),
            expected_version: expected,
            reason: "wider from 2030".into(),
        };
    let sub = created[2].band_id.clone();
    let wider = v1::AuthorityBand {
        band_id: sub.clone(),
        max_rate_concession_bps: 30,
        effective: Some(range(date(2030, 1, 1), None)),
        ..Default::default()
    };
    let v2 = h
        .client
        .update_authority_band(TestSuite::authed(
            update(wider.clone(), &["max_rate_concession_bps", "effective"], 1),
            &committee,
        ))
        .await
        .expect("update")
        .into_inner()
        .band
        .expect("band");
    assert_eq!(
        (v2.version, v2.max_rate_concession_bps, v2.level),
        (2, 30, SubBranch as i32)
    );
    let stale = h
        .client
        .update_authority_band(TestSuite::authed(
            update(wider.clone(), &["max_rate_concession_bps"], 1),
            &committee,
        ))
        .await
        .expect_err("stale");
    assert_eq!(stale.code(), Code::Aborted);
    // Wider than head office's 100 bp: refused.
    let too_wide = h
        .client
        .update_authority_band(TestSuite::authed(
            update(
                v1::AuthorityBand {
                    max_rate_concession_bps: 150,
                    ..wider
                },
                &["max_rate_concession_bps"],
                2,
            ),
            &committee,
        ))
        .await
        .expect_err("wider than head office");
    assert_eq!(too_wide.code(), Code::InvalidArgument);
    assert_eq!(fields(&too_wide), ["band.max_rate_concession_bps"]);
    let sub_band = |bands: &[v1::AuthorityBand]| -> Vec<(i64, i32)> {
        bands
            .iter()
            .filter(|b| b.band_id == sub)
            .map(|b| (b.version, b.max_rate_concession_bps))
            .collect()
    };
    let today = h
        .client
        .list_authority_bands(TestSuite::authed(list(None, false), &reader))
        .await
        .expect("today")
        .into_inner()
        .bands;
    assert_eq!(sub_band(&today), [(1, 15)]);
    let later = h
        .client
        .list_authority_bands(TestSuite::authed(
            list(Some(date(2030, 6, 1)), false),
            &reader,
        ))
        .await
        .expect("2030")
        .into_inner()
        .bands;
    assert_eq!(sub_band(&later), [(2, 30)]);
    let all = h
        .client
        .list_authority_bands(TestSuite::authed(list(None, true), &reader))
        .await
        .expect("all")
        .into_inner()
        .bands;
    assert_eq!(all.len(), 5);
    assert_eq!(sub_band(&all), [(2, 30), (1, 15)]);
    // Paging over every version two at a time visits each once, in order.
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page = h
            .client
            .list_authority_bands(TestSuite::authed(
                v1::ListAuthorityBandsRequest {
                    all_versions: true,
                    page_size: 2,
                    page_token: token.clone(),
                    ..Default::default()
                },
                &reader,
            ))
            .await
            .expect("page")
            .into_inner();
        paged.extend(page.bands.into_iter().map(|b| (b.band_id, b.version)));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        paged,
        all.iter()
            .map(|b| (b.band_id.clone(), b.version))
            .collect::<Vec<_>>()
    );
    assert_eq!(trail(&h, "authority_band").await, (5, 5));
    h.suite.stop().await;
}

on_both_backends!(
    products_and_price_versions,
    reference_rates_and_fx,
    regulatory_limits,
    authority_bands,
);
