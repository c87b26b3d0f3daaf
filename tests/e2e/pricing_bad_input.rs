//! The pricing service's bad-input sweep over the catalogue and reference-data RPCs: more than
//! fifty refused requests, each answered with the right code — for INVALID_ARGUMENT a field
//! violation naming the field, for FAILED_PRECONDITION the subject it names — after which every
//! table of the pricing database has the same row count and checksum (the refused writes took the
//! catalogue-version lock and rolled back), on SQLite and on Postgres.

use bankmkt_e2e::fingerprint::fingerprint;
use bankmkt_e2e::on_both_backends;
use bankmkt_e2e::pricing::{
    PricingHarness, band, date, dec, fee_version, loan_floor, money, preconditions, product, range,
    rate_version, schedule,
};
use bankmkt_e2e::registry::fields;
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_platform::settings::ServiceKind;
use bankmkt_proto::v1;
use tonic::Code;

/// What a refused call must answer: a code, and the field (INVALID_ARGUMENT) or precondition
/// subject (FAILED_PRECONDITION) it names.
struct Expect {
    name: &'static str,
    code: Code,
    names: Option<String>,
}

fn check(expect: Expect, result: Result<(), tonic::Status>, failures: &mut Vec<String>) {
    let status = match result {
        Ok(()) => {
            failures.push(format!("{}: accepted", expect.name));
            return;
        }
        Err(status) => status,
    };
    if status.code() != expect.code {
        failures.push(format!(
            "{}: {:?} instead of {:?} ({})",
            expect.name,
            status.code(),
            expect.code,
            status.message()
        ));
    }
    let Some(named) = expect.names else { return };
    let found: Vec<String> = if expect.code == Code::FailedPrecondition {
        preconditions(&status).into_iter().map(|(_, s)| s).collect()
    } else {
        fields(&status)
    };
    if !found.contains(&named) {
        failures.push(format!("{}: {named} not named in {found:?}", expect.name));
    }
}

macro_rules! case {
    ($failures:expr, $name:expr, $code:ident, $names:expr, $call:expr) => {
        check(
            Expect {
                name: $name,
                code: Code::$code,
                names: $names.map(|n: &str| n.to_owned()),
            },
            $call.await.map(|_| ()),
            &mut $failures,
        )
    };
}

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

const NONE: Option<&str> = None;

async fn sweep(backend: Backend) {
    use v1::AuthorityLevel::*;
    use v1::ProductCategory::*;
    use v1::ProductKind::*;
    let mut h = PricingHarness::start(backend).await;
    let pm = h.product_manager.clone();
    let pc = h.committee.clone();
    let cm = h.manager.clone();
    let open = range(date(2001, 1, 1), None);

    // What exists before the sweep.
    for p in [
        product("LOAN", Asset, Loan),
        product("DEP", Liability, Deposit),
        product("FEE", Fee, Settlement),
    ] {
        h.client
            .create_product(TestSuite::authed(
                v1::CreateProductRequest { product: Some(p) },
                &pm,
            ))
            .await
            .expect("product");
    }
    let price = |pv: v1::PriceVersion| v1::CreatePriceVersionRequest {
        price_version: Some(pv),
        reason: "review".into(),
    };
    let loan_price = h
        .client
        .create_price_version(TestSuite::authed(
            price(rate_version("LOAN", open, 435)),
            &pm,
        ))
        .await
        .expect("price")
        .into_inner()
        .price_version
        .expect("price");
    h.client
        .create_reference_rate(TestSuite::authed(
            v1::CreateReferenceRateRequest {
                rate: Some(v1::ReferenceRate {
                    kind: v1::ReferenceRateKind::Lpr1y as i32,
                    effective_date: Some(date(2001, 1, 1)),
                    rate_bps: 345,
                    created: None,
                }),
            },
            &pc,
        ))
        .await
        .expect("lpr");
    h.client
        .create_fx_rate(TestSuite::authed(
            v1::CreateFxRateRequest {
                rate: Some(v1::FxRate {
                    currency: "USD".into(),
                    effective_date: Some(date(2001, 1, 1)),
                    cny_per_unit: Some(dec("7.1")),
                    created: None,
                }),
            },
            &pc,
        ))
        .await
        .expect("fx");
    let limit = |l: v1::RegulatoryLimit| v1::CreateRegulatoryLimitRequest {
        limit: Some(l),
        reason: "floor".into(),
    };
    let floor = h
        .client
        .create_regulatory_limit(TestSuite::authed(limit(loan_floor(open)), &pc))
        .await
        .expect("floor")
        .into_inner()
        .limit
        .expect("limit");
    let bands = |b: v1::AuthorityBand| v1::CreateAuthorityBandRequest {
        band: Some(b),
        reason: "table".into(),
    };
    let mut band_ids = Vec::new();
    for b in [
        band(CustomerManager, Asset, 10, 0, open),
        band(SubBranch, Asset, 30, 0, open),
    ] {
        band_ids.push(
            h.client
                .create_authority_band(TestSuite::authed(bands(b), &pc))
                .await
                .expect("band")
                .into_inner()
                .band
                .expect("band")
                .band_id,
        );
    }

    let settings = h.suite.settings();
    let before = fingerprint(&settings, ServiceKind::Pricing).await;
    let mut f: Vec<String> = Vec::new();
    let c = &mut h.client;
    macro_rules! as_ {
        ($token:expr, $m:expr) => {
            TestSuite::authed($m, &$token)
        };
    }
    let create_product = |p: Option<v1::Product>| v1::CreateProductRequest { product: p };

    // Products.
    case!(
        f,
        "CreateProduct without a product",
        InvalidArgument,
        Some("product"),
        c.create_product(as_!(pm, create_product(None)))
    );
    case!(
        f,
        "CreateProduct empty id",
        InvalidArgument,
        Some("product.product_id"),
        c.create_product(as_!(pm, create_product(Some(product("", Asset, Loan)))))
    );
    case!(
        f,
        "CreateProduct over-long id",
        InvalidArgument,
        Some("product.product_id"),
        c.create_product(as_!(
            pm,
            create_product(Some(product(&"L".repeat(33), Asset, Loan)))
        ))
    );
    case!(
        f,
        "CreateProduct id with a space",
        InvalidArgument,
        Some("product.product_id"),
        c.create_product(as_!(
            pm,
            create_product(Some(product("LOAN 2", Asset, Loan)))
        ))
    );
    case!(
        f,
        "CreateProduct unknown kind",
        InvalidArgument,
        Some("product.kind"),
        c.create_product(as_!(
            pm,
            create_product(Some(v1::Product {
                kind: 99,
                ..product("X", Asset, Loan)
            }))
        ))
    );
    case!(
        f,
        "CreateProduct unspecified line",
        InvalidArgument,
        Some("product.line"),
        c.create_product(as_!(
            pm,
            create_product(Some(v1::Product {
                line: 0,
                ..product("X", Asset, Loan)
            }))
        ))
    );
    case!(
        f,
        "CreateProduct category that does not fit the kind",
        InvalidArgument,
        Some("product.category"),
        c.create_product(as_!(pm, create_product(Some(product("X", Asset, Deposit)))))
    );
    case!(
        f,
        "CreateProduct lower-case currency",
        InvalidArgument,
        Some("product.currency"),
        c.create_product(as_!(
            pm,
            create_product(Some(v1::Product {
                currency: "usd".into(),
                ..product("X", Asset, Loan)
            }))
        ))
    );
    case!(
        f,
        "CreateProduct empty currency",
        InvalidArgument,
        Some("product.currency"),
        c.create_product(as_!(
            pm,
            create_product(Some(v1::Product {
                currency: String::new(),
                ..product("X", Asset, Loan)
            }))
        ))
    );
    case!(
        f,
        "CreateProduct over-long name",
        InvalidArgument,
        Some("product.name"),
        c.create_product(as_!(
            pm,
            create_product(Some(v1::Product {
                name: "n".repeat(201),
                ..product("X", Asset, Loan)
            }))
        ))
    );
    case!(
        f,
        "CreateProduct taken id",
        AlreadyExists,
        NONE,
        c.create_product(as_!(pm, create_product(Some(product("LOAN", Asset, Loan)))))
    );
    case!(
        f,
        "CreateProduct by a customer manager",
        PermissionDenied,
        NONE,
        c.create_product(as_!(cm, create_product(Some(product("X", Asset, Loan)))))
    );
    case!(
        f,
        "CreateProduct by the pricing committee",
        PermissionDenied,
        NONE,
        c.create_product(as_!(pc, create_product(Some(product("X", Asset, Loan)))))
    );
    case!(
        f,
        "GetProduct unknown",
        NotFound,
        NONE,
        c.get_product(as_!(
            cm,
            v1::GetProductRequest {
                product_id: "NOPE".into()
            }
        ))
    );
    case!(
        f,
        "GetProduct empty id",
        InvalidArgument,
        Some("product_id"),
        c.get_product(as_!(
            cm,
            v1::GetProductRequest {
                product_id: String::new()
            }
        ))
    );
    case!(
        f,
        "ListProducts oversize page",
        InvalidArgument,
        Some("page_size"),
        c.list_products(as_!(
            cm,
            v1::ListProductsRequest {
                page_size: 501,
                ..Default::default()
            }
        ))
    );
    case!(
        f,
        "ListProducts negative page",
        InvalidArgument,
        Some("page_size"),
        c.list_products(as_!(
            cm,
            v1::ListProductsRequest {
                page_size: -1,
                ..Default::default()
            }
        ))
    );
    case!(
        f,
        "ListProducts forged token",
        InvalidArgument,
        Some("page_token"),
        c.list_products(as_!(
            cm,
            v1::ListProductsRequest {
                page_token: "garbage!".into(),
                ..Default::default()
            }
        ))
    );
    case!(
        f,
        "ListProducts unknown category",
        InvalidArgument,
        Some("category"),
        c.list_products(as_!(
            cm,
            v1::ListProductsRequest {
                category: 77,
                ..Default::default()
            }
        ))
    );
    let update = |p: v1::Product, paths: &[&str], expected_version: i64| v1::UpdateProductRequest {
        product: Some(p),
        update_mask: mask(paths),
        expected_version,
    };
    case!(
        f,
        "UpdateProduct changing the kind",
        InvalidArgument,
        Some("update_mask.paths[0]"),
        c.update_product(as_!(
            pm,
            update(product("LOAN", Liability, Loan), &["kind"], 1)
        ))
    );
    case!(
        f,
        "UpdateProduct changing the currency",
        InvalidArgument,
        Some("update_mask.paths[1]"),
        c.update_product(as_!(
            pm,
            update(product("LOAN", Asset, Loan), &["name", "currency"], 1)
        ))
    );
    case!(
        f,
        "UpdateProduct empty mask",
        InvalidArgument,
        Some("update_mask"),
        c.update_product(as_!(pm, update(product("LOAN", Asset, Loan), &[], 1)))
    );
    case!(
        f,
        "UpdateProduct stale version",
        Aborted,
        NONE,
        c.update_product(as_!(pm, update(product("LOAN", Asset, Loan), &["name"], 7)))
    );
    case!(
        f,
        "UpdateProduct unknown product",
        NotFound,
        NONE,
        c.update_product(as_!(pm, update(product("NOPE", Asset, Loan), &["name"], 1)))
    );
    case!(
        f,
        "UpdateProduct category that does not fit",
        InvalidArgument,
        Some("product.category"),
        c.update_product(as_!(
            pm,
            update(product("LOAN", Asset, Payroll), &["category"], 1)
        ))
    );
    case!(
        f,
        "UpdateProduct empty name",
        InvalidArgument,
        Some("product.name"),
        c.update_product(as_!(
            pm,
            update(
                v1::Product {
                    name: " ".into(),
                    ..product("LOAN", Asset, Loan)
                },
                &["name"],
                1
            )
        ))
    );
    case!(
        f,
        "UpdateProduct by a customer manager",
        PermissionDenied,
        NONE,
        c.update_product(as_!(cm, update(product("LOAN", Asset, Loan), &["name"], 1)))
    );

    // Price versions.
    let later = range(date(1990, 1, 1), Some(date(2000, 1, 1)));
    case!(
        f,
        "CreatePriceVersion unknown product",
        NotFound,
        NONE,
        c.create_price_version(as_!(pm, price(rate_version("NOPE", later, 400))))
    );
    case!(
        f,
        "CreatePriceVersion without a reason",
        InvalidArgument,
        Some("reason"),
        c.create_price_version(as_!(
            pm,
            v1::CreatePriceVersionRequest {
                reason: String::new(),
                ..price(rate_version("LOAN", later, 400))
            }
        ))
    );
    case!(
        f,
        "CreatePriceVersion without a list price",
        InvalidArgument,
        Some("price_version.list_price"),
        c.create_price_version(as_!(
            pm,
            price(v1::PriceVersion {
                list_price: None,
                ..rate_version("LOAN", later, 400)
            })
        ))
    );
    case!(
        f,
        "CreatePriceVersion rate on a fee product",
        InvalidArgument,
        Some("price_version.list_rate_bps"),
        c.create_price_version(as_!(
            pm,
            price(v1::PriceVersion {
                ftp_rate_bps: 0,
                economic_capital_ratio: None,
                ..rate_version("FEE", later, 400)
            })
        ))
    );
    case!(
        f,
        "CreatePriceVersion schedule on a balance product",
        InvalidArgument,
        Some("price_version.fee_schedule"),
        c.create_price_version(as_!(pm, price(fee_version("DEP", later, schedule()))))
    );
    let mut from_ten = schedule();
    from_ten.tiers[0].volume_from = Some(money("CNY", 1_000));
    case!(
        f,
        "CreatePriceVersion first tier not at zero",
        InvalidArgument,
        Some("price_version.fee_schedule.tiers[0].volume_from"),
        c.create_price_version(as_!(pm, price(fee_version("FEE", later, from_ten))))
    );
    let mut not_increasing = schedule();
    not_increasing.tiers[1].volume_from = Some(money("CNY", 0));
    case!(
        f,
        "CreatePriceVersion tiers not increasing",
        InvalidArgument,
        Some("price_version.fee_schedule.tiers[1].volume_from"),
        c.create_price_version(as_!(pm, price(fee_version("FEE", later, not_increasing))))
    );
    let mut negative_rate = schedule();
    negative_rate.tiers[1].rate_bps = -5;
    case!(
        f,
        "CreatePriceVersion negative tier rate",
        InvalidArgument,
        Some("price_version.fee_schedule.tiers[1].rate_bps"),
        c.create_price_version(as_!(pm, price(fee_version("FEE", later, negative_rate))))
    );
    let negative_flat = v1::FeeSchedule {
        flat_annual_fee: Some(money("CNY", -100)),
        ..schedule()
    };
    case!(
        f,
        "CreatePriceVersion negative flat fee",
        InvalidArgument,
        Some("price_version.fee_schedule.flat_annual_fee"),
        c.create_price_version(as_!(pm, price(fee_version("FEE", later, negative_flat))))
    );
    let usd = v1::FeeSchedule {
        tiers: vec![v1::FeeTier {
            volume_from: Some(money("USD", 0)),
            rate_bps: 10,
        }],
        whole_volume: false,
        flat_annual_fee: Some(money("USD", 100)),
        minimum_annual_fee: None,
    };
    case!(
        f,
        "CreatePriceVersion schedule not in the product's currency",
        InvalidArgument,
        Some("price_version.fee_schedule.flat_annual_fee"),
        c.create_price_version(as_!(pm, price(fee_version("FEE", later, usd))))
    );
    let bad_currency = v1::FeeSchedule {
        minimum_annual_fee: Some(money("yen", 1)),
        ..schedule()
    };
    case!(
        f,
        "CreatePriceVersion malformed currency",
        InvalidArgument,
        Some("price_version.fee_schedule.minimum_annual_fee.currency"),
        c.create_price_version(as_!(pm, price(fee_version("FEE", later, bad_currency))))
    );
    case!(
        f,
        "CreatePriceVersion FTP on a fee product",
        InvalidArgument,
        Some("price_version.ftp_rate_bps"),
        c.create_price_version(as_!(
            pm,
            price(v1::PriceVersion {
                ftp_rate_bps: 100,
                ..fee_version("FEE", later, schedule())
            })
        ))
    );
    case!(
        f,
        "CreatePriceVersion ratio above 1",
        InvalidArgument,
        Some("price_version.operating_cost_ratio"),
        c.create_price_version(as_!(
            pm,
            price(v1::PriceVersion {
                operating_cost_ratio: Some(dec("1.5")),
                ..rate_version("LOAN", later, 400)
            })
        ))
    );
    case!(
        f,
        "CreatePriceVersion negative probability of default",
        InvalidArgument,
        Some("price_version.probability_of_default"),
        c.create_price_version(as_!(
            pm,
            price(v1::PriceVersion {
                probability_of_default: Some(dec("-0.01")),
                ..rate_version("LOAN", later, 400)
            })
        ))
    );
    case!(
        f,
        "CreatePriceVersion PD on a liability",
        InvalidArgument,
        Some("price_version.probability_of_default"),
        c.create_price_version(as_!(
            pm,
            price(v1::PriceVersion {
                probability_of_default: Some(dec("0.01")),
                ..rate_version("DEP", later, 150)
            })
        ))
    );
    case!(
        f,
        "CreatePriceVersion exponent decimal",
        InvalidArgument,
        Some("price_version.economic_capital_ratio"),
        c.create_price_version(as_!(
            pm,
            price(v1::PriceVersion {
                economic_capital_ratio: Some(dec("8e-2")),
                ..rate_version("LOAN", later, 400)
            })
        ))
    );
    case!(
        f,
        "CreatePriceVersion missing operating cost",
        InvalidArgument,
        Some("price_version.operating_cost_ratio"),
        c.create_price_version(as_!(
            pm,
            price(v1::PriceVersion {
                operating_cost_ratio: None,
                ..rate_version("LOAN", later, 400)
            })
        ))
    );
    case!(
        f,
        "CreatePriceVersion rate above 100%",
        InvalidArgument,
        Some("price_version.list_rate_bps"),
        c.create_price_version(as_!(pm, price(rate_version("LOAN", later, 10_001))))
    );
    case!(
        f,
        "CreatePriceVersion end before start",
        InvalidArgument,
        Some("price_version.effective.end_date"),
        c.create_price_version(as_!(
            pm,
            price(rate_version(
                "LOAN",
                range(date(2000, 1, 1), Some(date(1999, 1, 1))),
                400
            ))
        ))
    );
    case!(
        f,
        "CreatePriceVersion impossible date",
        InvalidArgument,
        Some("price_version.effective.start_date"),
        c.create_price_version(as_!(
            pm,
            price(rate_version("LOAN", range(date(2000, 2, 30), None), 400))
        ))
    );
    case!(
        f,
        "CreatePriceVersion overlapping period",
        FailedPrecondition,
        Some(loan_price.price_version_id.as_str()),
        c.create_price_version(as_!(
            pm,
            price(rate_version("LOAN", range(date(2020, 1, 1), None), 400))
        ))
    );
    case!(
        f,
        "CreatePriceVersion by a customer manager",
        PermissionDenied,
        NONE,
        c.create_price_version(as_!(cm, price(rate_version("LOAN", later, 400))))
    );
    case!(
        f,
        "ListPriceVersions unknown product",
        NotFound,
        NONE,
        c.list_price_versions(as_!(
            cm,
            v1::ListPriceVersionsRequest {
                product_id: "NOPE".into(),
                ..Default::default()
            }
        ))
    );
    case!(
        f,
        "ListPriceVersions oversize page",
        InvalidArgument,
        Some("page_size"),
        c.list_price_versions(as_!(
            cm,
            v1::ListPriceVersionsRequest {
                product_id: "LOAN".into(),
                page_size: 1_000,
                ..Default::default()
            }
        ))
    );

    // Reference rates and FX.
    let lpr = |kind: i32, d: Option<v1::Date>, bps: i32| v1::CreateReferenceRateRequest {
        rate: Some(v1::ReferenceRate {
            kind,
            effective_date: d,
            rate_bps: bps,
            created: None,
        }),
    };
    case!(
        f,
        "CreateReferenceRate negative rate",
        InvalidArgument,
        Some("rate.rate_bps"),
        c.create_reference_rate(as_!(pc, lpr(1, Some(date(2002, 1, 1)), -5)))
    );
    case!(
        f,
        "CreateReferenceRate unknown series",
        InvalidArgument,
        Some("rate.kind"),
        c.create_reference_rate(as_!(pc, lpr(9, Some(date(2002, 1, 1)), 300)))
    );
    case!(
        f,
        "CreateReferenceRate without a date",
        InvalidArgument,
        Some("rate.effective_date"),
        c.create_reference_rate(as_!(pc, lpr(1, None, 300)))
    );
    case!(
        f,
        "CreateReferenceRate same series and date",
        AlreadyExists,
        NONE,
        c.create_reference_rate(as_!(pc, lpr(1, Some(date(2001, 1, 1)), 300)))
    );
    case!(
        f,
        "CreateReferenceRate by a product manager",
        PermissionDenied,
        NONE,
        c.create_reference_rate(as_!(pm, lpr(1, Some(date(2002, 1, 1)), 300)))
    );
    case!(
        f,
        "ListReferenceRates unknown series",
        InvalidArgument,
        Some("kind"),
        c.list_reference_rates(as_!(
            cm,
            v1::ListReferenceRatesRequest {
                kind: 5,
                ..Default::default()
            }
        ))
    );
    let fx = |currency: &str, rate: Option<v1::Decimal>| v1::CreateFxRateRequest {
        rate: Some(v1::FxRate {
            currency: currency.into(),
            effective_date: Some(date(2002, 1, 1)),
            cny_per_unit: rate,
            created: None,
        }),
    };
    case!(
        f,
        "CreateFxRate for CNY",
        InvalidArgument,
        Some("rate.currency"),
        c.create_fx_rate(as_!(pc, fx("CNY", Some(dec("1")))))
    );
    case!(
        f,
        "CreateFxRate zero rate",
        InvalidArgument,
        Some("rate.cny_per_unit"),
        c.create_fx_rate(as_!(pc, fx("EUR", Some(dec("0")))))
    );
    case!(
        f,
        "CreateFxRate negative rate",
        InvalidArgument,
        Some("rate.cny_per_unit"),
        c.create_fx_rate(as_!(pc, fx("EUR", Some(dec("-7.8")))))
    );
    case!(
        f,
        "CreateFxRate missing rate",
        InvalidArgument,
        Some("rate.cny_per_unit"),
        c.create_fx_rate(as_!(pc, fx("EUR", None)))
    );
    case!(
        f,
        "CreateFxRate same currency and date",
        AlreadyExists,
        NONE,
        c.create_fx_rate(as_!(
            pc,
            v1::CreateFxRateRequest {
                rate: Some(v1::FxRate {
                    currency: "USD".into(),
                    effective_date: Some(date(2001, 1, 1)),
                    cny_per_unit: Some(dec("7.2")),
                    created: None
                })
            }
        ))
    );
    case!(
        f,
        "ListFxRates malformed currency",
        InvalidArgument,
        Some("currency"),
        c.list_fx_rates(as_!(
            cm,
            v1::ListFxRatesRequest {
                currency: "US".into(),
                ..Default::default()
            }
        ))
    );

    // Regulatory limits.
    case!(
        f,
        "CreateRegulatoryLimit floor on liabilities",
        InvalidArgument,
        Some("limit.product_kind"),
        c.create_regulatory_limit(as_!(
            pc,
            limit(v1::RegulatoryLimit {
                product_kind: Liability as i32,
                ..loan_floor(later)
            })
        ))
    );
    case!(
        f,
        "CreateRegulatoryLimit without a bound",
        InvalidArgument,
        Some("limit.bound"),
        c.create_regulatory_limit(as_!(
            pc,
            limit(v1::RegulatoryLimit {
                bound: None,
                ..loan_floor(later)
            })
        ))
    );
    case!(
        f,
        "CreateRegulatoryLimit terms reversed",
        InvalidArgument,
        Some("limit.max_term_months"),
        c.create_regulatory_limit(as_!(
            pc,
            limit(v1::RegulatoryLimit {
                min_term_months: 24,
                max_term_months: 12,
                ..loan_floor(later)
            })
        ))
    );
    case!(
        f,
        "CreateRegulatoryLimit negative term",
        InvalidArgument,
        Some("limit.min_term_months"),
        c.create_regulatory_limit(as_!(
            pc,
            limit(v1::RegulatoryLimit {
                min_term_months: -1,
                ..loan_floor(later)
            })
        ))
    );
    case!(
        f,
        "CreateRegulatoryLimit negative absolute cap",
        InvalidArgument,
        Some("limit.absolute_rate_bps"),
        c.create_regulatory_limit(as_!(
            pc,
            limit(v1::RegulatoryLimit {
                bound: Some(v1::regulatory_limit::Bound::AbsoluteRateBps(-1)),
                ..loan_floor(later)
            })
        ))
    );
    case!(
        f,
        "CreateRegulatoryLimit without a reason",
        InvalidArgument,
        Some("reason"),
        c.create_regulatory_limit(as_!(
            pc,
            v1::CreateRegulatoryLimitRequest {
                reason: String::new(),
                ..limit(loan_floor(later))
            }
        ))
    );
    case!(
        f,
        "CreateRegulatoryLimit overlapping the floor",
        FailedPrecondition,
        Some(floor.limit_id.as_str()),
        c.create_regulatory_limit(as_!(
            pc,
            limit(loan_floor(range(date(2010, 1, 1), Some(date(2011, 1, 1)))))
        ))
    );
    let limit_update = |id: &str, expected_version: i64| v1::UpdateRegulatoryLimitRequest {
        limit: Some(v1::RegulatoryLimit {
            limit_id: id.into(),
            name: "renamed".into(),
            ..Default::default()
        }),
        update_mask: mask(&["name"]),
        expected_version,
        reason: "rename".into(),
    };
    case!(
        f,
        "UpdateRegulatoryLimit unknown limit",
        NotFound,
        NONE,
        c.update_regulatory_limit(as_!(
            pc,
            limit_update("0190a6d2-7c4e-7b1a-9f3e-2d4c5b6a7e8f", 1)
        ))
    );
    case!(
        f,
        "UpdateRegulatoryLimit malformed id",
        InvalidArgument,
        Some("limit.limit_id"),
        c.update_regulatory_limit(as_!(pc, limit_update("floor-1", 1)))
    );
    case!(
        f,
        "UpdateRegulatoryLimit stale version",
        Aborted,
        NONE,
        c.update_regulatory_limit(as_!(pc, limit_update(&floor.limit_id, 3)))
    );
    case!(
        f,
        "UpdateRegulatoryLimit changing the kind",
        InvalidArgument,
        Some("update_mask.paths[0]"),
        c.update_regulatory_limit(as_!(
            pc,
            v1::UpdateRegulatoryLimitRequest {
                update_mask: mask(&["kind"]),
                ..limit_update(&floor.limit_id, 1)
            }
        ))
    );
    case!(
        f,
        "ListRegulatoryLimits impossible date",
        InvalidArgument,
        Some("as_of_date"),
        c.list_regulatory_limits(as_!(
            cm,
            v1::ListRegulatoryLimitsRequest {
                as_of_date: Some(date(2025, 13, 1)),
                ..Default::default()
            }
        ))
    );

    // Authority bands.
    case!(
        f,
        "CreateAuthorityBand concession above 100%",
        InvalidArgument,
        Some("band.max_rate_concession_bps"),
        c.create_authority_band(as_!(pc, bands(band(HeadOffice, Asset, 10_001, 0, open))))
    );
    case!(
        f,
        "CreateAuthorityBand negative fee concession",
        InvalidArgument,
        Some("band.max_fee_concession_bps"),
        c.create_authority_band(as_!(pc, bands(band(HeadOffice, Fee, 0, -1, open))))
    );
    case!(
        f,
        "CreateAuthorityBand unknown level",
        InvalidArgument,
        Some("band.level"),
        c.create_authority_band(as_!(
            pc,
            bands(v1::AuthorityBand {
                level: 42,
                ..band(HeadOffice, Asset, 50, 0, open)
            })
        ))
    );
    case!(
        f,
        "CreateAuthorityBand narrower than a lower level",
        InvalidArgument,
        Some("band.max_rate_concession_bps"),
        c.create_authority_band(as_!(pc, bands(band(Tier1Branch, Asset, 20, 0, open))))
    );
    case!(
        f,
        "CreateAuthorityBand overlapping its level",
        FailedPrecondition,
        Some(band_ids[1].as_str()),
        c.create_authority_band(as_!(
            pc,
            bands(band(SubBranch, Asset, 40, 0, range(date(2024, 1, 1), None)))
        ))
    );
    case!(
        f,
        "CreateAuthorityBand by a product manager",
        PermissionDenied,
        NONE,
        c.create_authority_band(as_!(pm, bands(band(HeadOffice, Asset, 100, 0, open))))
    );
    let band_update = |expected_version: i64, bps: i32| v1::UpdateAuthorityBandRequest {
        band: Some(v1::AuthorityBand {
            band_id: band_ids[0].clone(),
            max_rate_concession_bps: bps,
            ..Default::default()
        }),
        update_mask: mask(&["max_rate_concession_bps"]),
        expected_version,
        reason: "wider".into(),
    };
    case!(
        f,
        "UpdateAuthorityBand stale version",
        Aborted,
        NONE,
        c.update_authority_band(as_!(pc, band_update(2, 20)))
    );
    case!(
        f,
        "UpdateAuthorityBand wider than a higher level",
        InvalidArgument,
        Some("band.max_rate_concession_bps"),
        c.update_authority_band(as_!(pc, band_update(1, 50)))
    );
    case!(
        f,
        "UpdateAuthorityBand without a reason",
        InvalidArgument,
        Some("reason"),
        c.update_authority_band(as_!(
            pc,
            v1::UpdateAuthorityBandRequest {
                reason: String::new(),
                ..band_update(1, 20)
            }
        ))
    );
    case!(
        f,
        "UpdateAuthorityBand changing the level",
        InvalidArgument,
        Some("update_mask.paths[0]"),
        c.update_authority_band(as_!(
            pc,
            v1::UpdateAuthorityBandRequest {
                update_mask: mask(&["level"]),
                ..band_update(1, 20)
            }
        ))
    );
    case!(
        f,
        "ListAuthorityBands forged token",
        InvalidArgument,
        Some("page_token"),
        c.list_authority_bands(as_!(
            cm,
            v1::ListAuthorityBandsRequest {
                page_token: "AAAA".into(),
                ..Default::default()
            }
        ))
    );

    assert!(
        f.is_empty(),
        "{} refusals went wrong:\n{}",
        f.len(),
        f.join("\n")
    );
    let after = fingerprint(&settings, ServiceKind::Pricing).await;
    assert_eq!(
        before, after,
        "a refused request changed the pricing database"
    );
    h.suite.stop().await;
}

on_both_backends!(sweep);
