//! The pricing service's bad-input sweeps over the catalogue, reference-data, rule, bundle and
//! quote (create, read, approve, simulate, covenant) RPCs: more than fifty refused requests each, each answered with the right code — for
//! INVALID_ARGUMENT a field violation naming the field, for FAILED_PRECONDITION the subject it
//! names — after which every table of the pricing database has the same row count and checksum
//! (the refused writes took the catalogue-version lock and rolled back), on SQLite and on
//! Postgres.

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

/// The relationship rule and bundle RPCs' share of the sweep: every refusal names its field (or
/// answers its code), and the pricing database is unchanged afterwards.
async fn rules_and_bundles_sweep(backend: Backend) {
    use bankmkt_e2e::pricing::{
        amount_benefit, benefit, bundle, component, executives, holds_category, holds_product,
        pricing_rule,
    };
    use v1::BenefitType::*;
    use v1::ProductCategory::*;
    use v1::ProductKind::*;
    let mut h = PricingHarness::start(backend).await;
    let pm = h.product_manager.clone();
    let pc = h.committee.clone();
    let cm = h.manager.clone();
    let admin = h.admin.clone();
    let open = range(date(2026, 1, 1), None);
    h.create_products(vec![
        product("LOAN", Asset, Loan),
        product("DEP", Liability, Deposit),
        product("FEE", Fee, Settlement),
    ])
    .await;
    let rule = |b: v1::Benefit| {
        pricing_rule(
            "Deposit bonus",
            10,
            v1::CustomerCondition::default(),
            v1::RuleTarget {
                product_kind: Liability as i32,
                ..Default::default()
            },
            b,
            open,
        )
    };
    let stored_rule = h
        .create_rule(&pc, rule(benefit(SpreadPercent, 5)))
        .await
        .expect("rule");
    let package = |components: Vec<v1::BundleComponent>, prerequisites: Vec<v1::Prerequisite>| {
        bundle(
            "Credit plus payroll",
            components,
            v1::CustomerCondition::default(),
            prerequisites,
            open,
        )
    };
    let good_components = || {
        vec![
            component("loan", "LOAN", true, Some(benefit(SpreadPercent, 10))),
            component("fee", "FEE", false, Some(benefit(Waive, 0))),
        ]
    };
    let stored_bundle = h
        .create_bundle(&pm, package(good_components(), vec![]))
        .await
        .expect("bundle");

    let settings = h.suite.settings();
    let before = fingerprint(&settings, ServiceKind::Pricing).await;
    let mut f: Vec<String> = Vec::new();
    let c = &mut h.client;
    macro_rules! as_ {
        ($token:expr, $m:expr) => {
            TestSuite::authed($m, &$token)
        };
    }
    let create_rule = |r: Option<v1::PricingRule>| v1::CreatePricingRuleRequest {
        rule: r,
        reason: "committee minutes".into(),
    };
    let with = |f: &dyn Fn(&mut v1::PricingRule)| {
        let mut r = rule(benefit(SpreadPercent, 5));
        f(&mut r);
        create_rule(Some(r))
    };

    // CreatePricingRule.
    case!(
        f,
        "CreatePricingRule without a rule",
        InvalidArgument,
        Some("rule"),
        c.create_pricing_rule(as_!(pc, create_rule(None)))
    );
    case!(
        f,
        "CreatePricingRule without a reason",
        InvalidArgument,
        Some("reason"),
        c.create_pricing_rule(as_!(
            pc,
            v1::CreatePricingRuleRequest {
                reason: " ".into(),
                ..with(&|_| {})
            }
        ))
    );
    case!(
        f,
        "CreatePricingRule empty name",
        InvalidArgument,
        Some("rule.name"),
        c.create_pricing_rule(as_!(pc, with(&|r| r.name = String::new())))
    );
    case!(
        f,
        "CreatePricingRule a benefit over 100%",
        InvalidArgument,
        Some("rule.benefit.value_bps"),
        c.create_pricing_rule(as_!(
            pc,
            with(&|r| r.benefit = Some(benefit(FixedPercent, 10_001)))
        ))
    );
    case!(
        f,
        "CreatePricingRule a zero spread",
        InvalidArgument,
        Some("rule.benefit.value_bps"),
        c.create_pricing_rule(as_!(
            pc,
            with(&|r| r.benefit = Some(benefit(SpreadPercent, 0)))
        ))
    );
    case!(
        f,
        "CreatePricingRule without a benefit",
        InvalidArgument,
        Some("rule.benefit"),
        c.create_pricing_rule(as_!(pc, with(&|r| r.benefit = None)))
    );
    case!(
        f,
        "CreatePricingRule unknown benefit type",
        InvalidArgument,
        Some("rule.benefit.benefit_type"),
        c.create_pricing_rule(as_!(
            pc,
            with(&|r| r.benefit = Some(v1::Benefit {
                benefit_type: 99,
                ..Default::default()
            }))
        ))
    );
    case!(
        f,
        "CreatePricingRule fixed amount without an amount",
        InvalidArgument,
        Some("rule.benefit.amount"),
        c.create_pricing_rule(as_!(
            pc,
            with(&|r| {
                r.target = None;
                r.benefit = Some(benefit(FixedAmount, 0));
            })
        ))
    );
    case!(
        f,
        "CreatePricingRule negative amount",
        InvalidArgument,
        Some("rule.benefit.amount"),
        c.create_pricing_rule(as_!(
            pc,
            with(&|r| {
                r.target = None;
                r.benefit = Some(amount_benefit(SpreadAmount, money("CNY", -100)));
            })
        ))
    );
    case!(
        f,
        "CreatePricingRule a spread on fee products",
        InvalidArgument,
        Some("rule.benefit.benefit_type"),
        c.create_pricing_rule(as_!(
            pc,
            with(&|r| r.target = Some(v1::RuleTarget {
                product_kind: Fee as i32,
                ..Default::default()
            }))
        ))
    );
    case!(
        f,
        "CreatePricingRule a waiver of a loan",
        InvalidArgument,
        Some("rule.benefit.benefit_type"),
        c.create_pricing_rule(as_!(
            pc,
            with(&|r| {
                r.target = Some(v1::RuleTarget {
                    product_ids: vec!["LOAN".into()],
                    ..Default::default()
                });
                r.benefit = Some(benefit(Waive, 0));
            })
        ))
    );
    case!(
        f,
        "CreatePricingRule unknown target product",
        InvalidArgument,
        Some("rule.target.product_ids[0]"),
        c.create_pricing_rule(as_!(
            pc,
            with(&|r| r.target = Some(v1::RuleTarget {
                product_ids: vec!["NOPE".into()],
                ..Default::default()
            }))
        ))
    );
    case!(
        f,
        "CreatePricingRule unknown target kind",
        InvalidArgument,
        Some("rule.target.product_kind"),
        c.create_pricing_rule(as_!(
            pc,
            with(&|r| r.target = Some(v1::RuleTarget {
                product_kind: 99,
                ..Default::default()
            }))
        ))
    );
    case!(
        f,
        "CreatePricingRule a minimum contribution in USD",
        InvalidArgument,
        Some("rule.condition.min_ttm_contribution"),
        c.create_pricing_rule(as_!(
            pc,
            with(&|r| r.condition = Some(v1::CustomerCondition {
                min_ttm_contribution: Some(money("USD", 100)),
                ..Default::default()
            }))
        ))
    );
    case!(
        f,
        "CreatePricingRule a negative minimum contribution",
        InvalidArgument,
        Some("rule.condition.min_ttm_contribution"),
        c.create_pricing_rule(as_!(
            pc,
            with(&|r| r.condition = Some(v1::CustomerCondition {
                min_ttm_contribution: Some(money("CNY", -1)),
                ..Default::default()
            }))
        ))
    );
    case!(
        f,
        "CreatePricingRule unknown stage",
        InvalidArgument,
        Some("rule.condition.stages[0]"),
        c.create_pricing_rule(as_!(
            pc,
            with(&|r| r.condition = Some(v1::CustomerCondition {
                stages: vec![42],
                ..Default::default()
            }))
        ))
    );
    case!(
        f,
        "CreatePricingRule the unlisted tier as a condition",
        InvalidArgument,
        Some("rule.condition.corporate_tiers[0]"),
        c.create_pricing_rule(as_!(
            pc,
            with(&|r| r.condition = Some(v1::CustomerCondition {
                corporate_tiers: vec![v1::CorporateTier::Unlisted as i32],
                ..Default::default()
            }))
        ))
    );
    case!(
        f,
        "CreatePricingRule without an effective range",
        InvalidArgument,
        Some("rule.effective"),
        c.create_pricing_rule(as_!(pc, with(&|r| r.effective = None)))
    );
    case!(
        f,
        "CreatePricingRule ending before it starts",
        InvalidArgument,
        Some("rule.effective.end_date"),
        c.create_pricing_rule(as_!(
            pc,
            with(&|r| r.effective = Some(range(date(2026, 1, 1), Some(date(2025, 1, 1)))))
        ))
    );
    case!(
        f,
        "CreatePricingRule by a customer manager",
        PermissionDenied,
        NONE,
        c.create_pricing_rule(as_!(cm, with(&|_| {})))
    );
    case!(
        f,
        "CreatePricingRule by a product manager",
        PermissionDenied,
        NONE,
        c.create_pricing_rule(as_!(pm, with(&|_| {})))
    );

    // GetPricingRule and ListPricingRules.
    let get_rule = |id: &str, version: i64| v1::GetPricingRuleRequest {
        rule_id: id.into(),
        version,
    };
    case!(
        f,
        "GetPricingRule without an id",
        InvalidArgument,
        Some("rule_id"),
        c.get_pricing_rule(as_!(cm, get_rule("", 0)))
    );
    case!(
        f,
        "GetPricingRule an id this service never issues",
        InvalidArgument,
        Some("rule_id"),
        c.get_pricing_rule(as_!(cm, get_rule("rule-1", 0)))
    );
    case!(
        f,
        "GetPricingRule unknown",
        NotFound,
        NONE,
        c.get_pricing_rule(as_!(
            cm,
            get_rule("01900000-0000-7000-8000-000000000000", 0)
        ))
    );
    case!(
        f,
        "GetPricingRule a version not stored",
        NotFound,
        NONE,
        c.get_pricing_rule(as_!(cm, get_rule(&stored_rule.rule_id, 9)))
    );
    case!(
        f,
        "GetPricingRule negative version",
        InvalidArgument,
        Some("version"),
        c.get_pricing_rule(as_!(cm, get_rule(&stored_rule.rule_id, -1)))
    );
    case!(
        f,
        "ListPricingRules not a calendar date",
        InvalidArgument,
        Some("as_of_date"),
        c.list_pricing_rules(as_!(
            cm,
            v1::ListPricingRulesRequest {
                as_of_date: Some(date(2026, 2, 30)),
                ..Default::default()
            }
        ))
    );
    case!(
        f,
        "ListPricingRules page too large",
        InvalidArgument,
        Some("page_size"),
        c.list_pricing_rules(as_!(
            cm,
            v1::ListPricingRulesRequest {
                page_size: 501,
                ..Default::default()
            }
        ))
    );
    case!(
        f,
        "ListPricingRules forged token",
        InvalidArgument,
        Some("page_token"),
        c.list_pricing_rules(as_!(
            cm,
            v1::ListPricingRulesRequest {
                page_token: "AAAA".into(),
                ..Default::default()
            }
        ))
    );

    // UpdatePricingRule.
    let update_rule =
        |paths: &[&str], expected_version: i64, r: v1::PricingRule| v1::UpdatePricingRuleRequest {
            rule: Some(v1::PricingRule {
                rule_id: if r.rule_id.is_empty() {
                    stored_rule.rule_id.clone()
                } else {
                    r.rule_id.clone()
                },
                ..r
            }),
            update_mask: mask(paths),
            expected_version,
            reason: "review".into(),
        };
    case!(
        f,
        "UpdatePricingRule empty mask",
        InvalidArgument,
        Some("update_mask"),
        c.update_pricing_rule(as_!(pc, update_rule(&[], 1, v1::PricingRule::default())))
    );
    case!(
        f,
        "UpdatePricingRule the id in the mask",
        InvalidArgument,
        Some("update_mask.paths[0]"),
        c.update_pricing_rule(as_!(
            pc,
            update_rule(&["rule_id"], 1, v1::PricingRule::default())
        ))
    );
    case!(
        f,
        "UpdatePricingRule stale version",
        Aborted,
        NONE,
        c.update_pricing_rule(as_!(
            pc,
            update_rule(
                &["priority"],
                2,
                v1::PricingRule {
                    priority: 3,
                    ..Default::default()
                }
            )
        ))
    );
    case!(
        f,
        "UpdatePricingRule without an expected version",
        InvalidArgument,
        Some("expected_version"),
        c.update_pricing_rule(as_!(
            pc,
            update_rule(&["priority"], 0, v1::PricingRule::default())
        ))
    );
    case!(
        f,
        "UpdatePricingRule unknown rule",
        NotFound,
        NONE,
        c.update_pricing_rule(as_!(
            pc,
            update_rule(
                &["priority"],
                1,
                v1::PricingRule {
                    rule_id: "01900000-0000-7000-8000-000000000000".into(),
                    ..Default::default()
                }
            )
        ))
    );
    case!(
        f,
        "UpdatePricingRule a benefit over 100%",
        InvalidArgument,
        Some("rule.benefit.value_bps"),
        c.update_pricing_rule(as_!(
            pc,
            update_rule(
                &["benefit"],
                1,
                v1::PricingRule {
                    benefit: Some(benefit(SpreadPercent, 20_000)),
                    ..Default::default()
                }
            )
        ))
    );
    case!(
        f,
        "UpdatePricingRule emptying the name",
        InvalidArgument,
        Some("rule.name"),
        c.update_pricing_rule(as_!(
            pc,
            update_rule(&["name"], 1, v1::PricingRule::default())
        ))
    );
    case!(
        f,
        "UpdatePricingRule without a reason",
        InvalidArgument,
        Some("reason"),
        c.update_pricing_rule(as_!(
            pc,
            v1::UpdatePricingRuleRequest {
                reason: String::new(),
                ..update_rule(&["priority"], 1, v1::PricingRule::default())
            }
        ))
    );
    case!(
        f,
        "UpdatePricingRule by a customer manager",
        PermissionDenied,
        NONE,
        c.update_pricing_rule(as_!(
            cm,
            update_rule(&["priority"], 1, v1::PricingRule::default())
        ))
    );

    // CreateBundle.
    let create_bundle = |b: v1::Bundle| v1::CreateBundleRequest { bundle: Some(b) };
    case!(
        f,
        "CreateBundle without a bundle",
        InvalidArgument,
        Some("bundle"),
        c.create_bundle(as_!(pm, v1::CreateBundleRequest { bundle: None }))
    );
    case!(
        f,
        "CreateBundle without components",
        InvalidArgument,
        Some("bundle.components"),
        c.create_bundle(as_!(pm, create_bundle(package(vec![], vec![]))))
    );
    case!(
        f,
        "CreateBundle no mandatory component",
        InvalidArgument,
        Some("bundle.components"),
        c.create_bundle(as_!(
            pm,
            create_bundle(package(vec![component("fee", "FEE", false, None)], vec![]))
        ))
    );
    case!(
        f,
        "CreateBundle unknown product",
        InvalidArgument,
        Some("bundle.components[0].product_id"),
        c.create_bundle(as_!(
            pm,
            create_bundle(package(vec![component("x", "NOPE", true, None)], vec![]))
        ))
    );
    case!(
        f,
        "CreateBundle a product twice",
        InvalidArgument,
        Some("bundle.components[1].product_id"),
        c.create_bundle(as_!(
            pm,
            create_bundle(package(
                vec![
                    component("a", "LOAN", true, None),
                    component("b", "LOAN", false, None)
                ],
                vec![]
            ))
        ))
    );
    case!(
        f,
        "CreateBundle a component id twice",
        InvalidArgument,
        Some("bundle.components[1].component_id"),
        c.create_bundle(as_!(
            pm,
            create_bundle(package(
                vec![
                    component("a", "LOAN", true, None),
                    component("a", "DEP", false, None)
                ],
                vec![]
            ))
        ))
    );
    case!(
        f,
        "CreateBundle a waiver of a loan",
        InvalidArgument,
        Some("bundle.components[0].benefit.benefit_type"),
        c.create_bundle(as_!(
            pm,
            create_bundle(package(
                vec![component("loan", "LOAN", true, Some(benefit(Waive, 0)))],
                vec![]
            ))
        ))
    );
    case!(
        f,
        "CreateBundle a component benefit over 100%",
        InvalidArgument,
        Some("bundle.components[0].benefit.value_bps"),
        c.create_bundle(as_!(
            pm,
            create_bundle(package(
                vec![component(
                    "fee",
                    "FEE",
                    true,
                    Some(benefit(FixedPercent, 12_000))
                )],
                vec![]
            ))
        ))
    );
    case!(
        f,
        "CreateBundle a USD amount off a CNY fee",
        InvalidArgument,
        Some("bundle.components[0].benefit.benefit_type"),
        c.create_bundle(as_!(
            pm,
            create_bundle(package(
                vec![component(
                    "fee",
                    "FEE",
                    true,
                    Some(amount_benefit(SpreadAmount, money("USD", 1_000)))
                )],
                vec![]
            ))
        ))
    );
    case!(
        f,
        "CreateBundle a prerequisite of no kind",
        InvalidArgument,
        Some("bundle.prerequisites[0].kind"),
        c.create_bundle(as_!(
            pm,
            create_bundle(package(
                good_components(),
                vec![v1::Prerequisite {
                    prerequisite_id: "p".into(),
                    ..Default::default()
                }]
            ))
        ))
    );
    case!(
        f,
        "CreateBundle zero executives",
        InvalidArgument,
        Some("bundle.prerequisites[0].min_count"),
        c.create_bundle(as_!(
            pm,
            create_bundle(package(good_components(), vec![executives("execs", 0, "")]))
        ))
    );
    case!(
        f,
        "CreateBundle negative executives",
        InvalidArgument,
        Some("bundle.prerequisites[0].min_count"),
        c.create_bundle(as_!(
            pm,
            create_bundle(package(
                good_components(),
                vec![executives("execs", -2, "")]
            ))
        ))
    );
    case!(
        f,
        "CreateBundle a category prerequisite without a category",
        InvalidArgument,
        Some("bundle.prerequisites[0].category"),
        c.create_bundle(as_!(
            pm,
            create_bundle(package(
                good_components(),
                vec![holds_category(
                    "payroll",
                    v1::ProductCategory::Unspecified,
                    ""
                )]
            ))
        ))
    );
    case!(
        f,
        "CreateBundle a product prerequisite without a product",
        InvalidArgument,
        Some("bundle.prerequisites[0].product_id"),
        c.create_bundle(as_!(
            pm,
            create_bundle(package(
                good_components(),
                vec![holds_product("card", "", "")]
            ))
        ))
    );
    case!(
        f,
        "CreateBundle a prerequisite id twice",
        InvalidArgument,
        Some("bundle.prerequisites[1].prerequisite_id"),
        c.create_bundle(as_!(
            pm,
            create_bundle(package(
                good_components(),
                vec![
                    holds_product("p", "FEE", ""),
                    holds_category("p", Payroll, "")
                ]
            ))
        ))
    );
    case!(
        f,
        "CreateBundle empty name",
        InvalidArgument,
        Some("bundle.name"),
        c.create_bundle(as_!(
            pm,
            create_bundle(v1::Bundle {
                name: String::new(),
                ..package(good_components(), vec![])
            })
        ))
    );
    case!(
        f,
        "CreateBundle an eligibility stage unknown",
        InvalidArgument,
        Some("bundle.eligibility.stages[0]"),
        c.create_bundle(as_!(
            pm,
            create_bundle(v1::Bundle {
                eligibility: Some(v1::CustomerCondition {
                    stages: vec![77],
                    ..Default::default()
                }),
                ..package(good_components(), vec![])
            })
        ))
    );
    case!(
        f,
        "CreateBundle without an effective range",
        InvalidArgument,
        Some("bundle.effective"),
        c.create_bundle(as_!(
            pm,
            create_bundle(v1::Bundle {
                effective: None,
                ..package(good_components(), vec![])
            })
        ))
    );
    case!(
        f,
        "CreateBundle by a customer manager",
        PermissionDenied,
        NONE,
        c.create_bundle(as_!(cm, create_bundle(package(good_components(), vec![]))))
    );

    // GetBundle, ListBundles, UpdateBundle, ListEligibleBundles.
    case!(
        f,
        "GetBundle without an id",
        InvalidArgument,
        Some("bundle_id"),
        c.get_bundle(as_!(cm, v1::GetBundleRequest::default()))
    );
    case!(
        f,
        "GetBundle unknown",
        NotFound,
        NONE,
        c.get_bundle(as_!(
            cm,
            v1::GetBundleRequest {
                bundle_id: "01900000-0000-7000-8000-000000000000".into(),
                version: 0,
            }
        ))
    );
    case!(
        f,
        "ListBundles negative page size",
        InvalidArgument,
        Some("page_size"),
        c.list_bundles(as_!(
            cm,
            v1::ListBundlesRequest {
                page_size: -1,
                ..Default::default()
            }
        ))
    );
    let update_bundle =
        |paths: &[&str], expected_version: i64, b: v1::Bundle| v1::UpdateBundleRequest {
            bundle: Some(v1::Bundle {
                bundle_id: if b.bundle_id.is_empty() {
                    stored_bundle.bundle_id.clone()
                } else {
                    b.bundle_id.clone()
                },
                ..b
            }),
            update_mask: mask(paths),
            expected_version,
        };
    case!(
        f,
        "UpdateBundle stale version",
        Aborted,
        NONE,
        c.update_bundle(as_!(
            pm,
            update_bundle(
                &["name"],
                3,
                v1::Bundle {
                    name: "new".into(),
                    ..Default::default()
                }
            )
        ))
    );
    case!(
        f,
        "UpdateBundle unknown bundle",
        NotFound,
        NONE,
        c.update_bundle(as_!(
            pm,
            update_bundle(
                &["name"],
                1,
                v1::Bundle {
                    bundle_id: "01900000-0000-7000-8000-000000000000".into(),
                    name: "new".into(),
                    ..Default::default()
                }
            )
        ))
    );
    case!(
        f,
        "UpdateBundle the version in the mask",
        InvalidArgument,
        Some("update_mask.paths[0]"),
        c.update_bundle(as_!(
            pm,
            update_bundle(&["version"], 1, v1::Bundle::default())
        ))
    );
    case!(
        f,
        "UpdateBundle leaving no mandatory component",
        InvalidArgument,
        Some("bundle.components"),
        c.update_bundle(as_!(
            pm,
            update_bundle(
                &["components"],
                1,
                v1::Bundle {
                    components: vec![component("fee", "FEE", false, None)],
                    ..Default::default()
                }
            )
        ))
    );
    case!(
        f,
        "UpdateBundle by a customer manager",
        PermissionDenied,
        NONE,
        c.update_bundle(as_!(
            cm,
            update_bundle(
                &["name"],
                1,
                v1::Bundle {
                    name: "mine".into(),
                    ..Default::default()
                }
            )
        ))
    );
    case!(
        f,
        "ListEligibleBundles without a customer",
        InvalidArgument,
        Some("customer_id"),
        c.list_eligible_bundles(as_!(cm, v1::ListEligibleBundlesRequest::default()))
    );
    case!(
        f,
        "ListEligibleBundles unknown customer",
        NotFound,
        NONE,
        c.list_eligible_bundles(as_!(
            admin,
            v1::ListEligibleBundlesRequest {
                customer_id: "C-NO-SUCH".into(),
                ..Default::default()
            }
        ))
    );
    case!(
        f,
        "ListEligibleBundles forged token",
        InvalidArgument,
        Some("page_token"),
        c.list_eligible_bundles(as_!(
            admin,
            v1::ListEligibleBundlesRequest {
                customer_id: "C1".into(),
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
        "a refused rule or bundle request changed the pricing database"
    );
    h.suite.stop().await;
}

/// The quote RPCs' refusals: CreateQuote, GetQuote, ListQuotes, SubmitQuote, ApproveQuote,
/// RejectQuote, SimulatePricing and RecordCovenantObservation, against docs/pricing.md's data and
/// a registry customer, with quotes in every state made before the fingerprint.
async fn quotes_sweep(backend: Backend) {
    use bankmkt_e2e::quotes::{QuoteWorld, as_component, balance_item, cny, fee_item};
    let mut w = QuoteWorld::start(backend, |_| {}).await;
    let e1 = w.maker.clone();
    let outsider = w.outsider.clone();
    let mk = w.token("mk", "BJ01", &["customer_manager", "approver"]);
    let a_sub = w.token("a-sub", "BJ0101", &["approver"]);
    let a_t2 = w.token("a-t2", "BJ01", &["approver"]);
    let pm = w.h.product_manager.clone();
    let batch = w.token("batch", "HQ", &["batch"]);
    let firm = w.firm.clone();
    let ids = w.ids.clone();
    let loan = |proposal: Option<i32>| balance_item("LOAN-WC-1Y", 10_000_000, 12, proposal);

    // Quotes in every state: refused (a draft), a plain draft, pending (submitted by mk, needs
    // tier 2), approved, and approved with a covenant.
    let refused = w
        .quote(
            &e1,
            "refused",
            vec![balance_item("LOAN-TERM-5Y", 20_000_000, 60, Some(280))],
        )
        .await
        .expect("refused");
    let draft = w
        .quote(&e1, "draft", vec![loan(Some(415))])
        .await
        .expect("draft");
    let pending = w
        .create(
            &mk,
            v1::CreateQuoteRequest {
                idempotency_key: "pending".into(),
                customer_id: firm.clone(),
                branch_id: "BJ0101".into(),
                items: vec![loan(Some(400))],
                ..Default::default()
            },
        )
        .await
        .expect("pending");
    let pending = w.submit(&mk, &pending).await.expect("submit");
    let approved = w
        .quote(&e1, "approved", vec![loan(None)])
        .await
        .expect("approved");
    let approved = w.submit(&e1, &approved).await.expect("submit");
    let covenanted = w
        .quote(
            &e1,
            "covenanted",
            vec![v1::QuoteItemRequest {
                covenant: Some(v1::Covenant {
                    agreed_ratio_bps: 6_000,
                    step_up_bps: 0,
                }),
                ..loan(None)
            }],
        )
        .await
        .expect("covenanted");
    let covenanted = w.submit(&e1, &covenanted).await.expect("submit");

    let settings = w.h.suite.settings();
    let before = fingerprint(&settings, ServiceKind::Pricing).await;
    let mut f: Vec<String> = Vec::new();
    let c = &mut w.h.client;
    macro_rules! as_ {
        ($token:expr, $m:expr) => {
            TestSuite::authed($m, &$token)
        };
    }
    let quote = |items: Vec<v1::QuoteItemRequest>| v1::CreateQuoteRequest {
        idempotency_key: "bad".into(),
        customer_id: firm.clone(),
        items,
        ..Default::default()
    };
    let with = |item: v1::QuoteItemRequest| quote(vec![item]);

    // CreateQuote.
    case!(
        f,
        "CreateQuote without a key",
        InvalidArgument,
        Some("idempotency_key"),
        c.create_quote(as_!(
            e1,
            v1::CreateQuoteRequest {
                idempotency_key: String::new(),
                ..with(loan(None))
            }
        ))
    );
    case!(
        f,
        "CreateQuote without a customer",
        InvalidArgument,
        Some("customer_id"),
        c.create_quote(as_!(
            e1,
            v1::CreateQuoteRequest {
                customer_id: String::new(),
                ..with(loan(None))
            }
        ))
    );
    case!(
        f,
        "CreateQuote negative amount",
        InvalidArgument,
        Some("items[0].amount"),
        c.create_quote(as_!(e1, with(balance_item("LOAN-WC-1Y", -1, 12, None))))
    );
    case!(
        f,
        "CreateQuote zero term",
        InvalidArgument,
        Some("items[0].term_months"),
        c.create_quote(as_!(e1, with(balance_item("LOAN-WC-1Y", 1_000, 0, None))))
    );
    case!(
        f,
        "CreateQuote negative term",
        InvalidArgument,
        Some("items[0].term_months"),
        c.create_quote(as_!(e1, with(balance_item("LOAN-WC-1Y", 1_000, -3, None))))
    );
    case!(
        f,
        "CreateQuote term over 50 years",
        InvalidArgument,
        Some("items[0].term_months"),
        c.create_quote(as_!(e1, with(balance_item("LOAN-WC-1Y", 1_000, 601, None))))
    );
    case!(
        f,
        "CreateQuote unknown product",
        NotFound,
        NONE,
        c.create_quote(as_!(e1, with(balance_item("NOPE", 1_000, 12, None))))
    );
    case!(
        f,
        "CreateQuote malformed product id",
        InvalidArgument,
        Some("items[0].product_id"),
        c.create_quote(as_!(e1, with(balance_item("no such!", 1_000, 12, None))))
    );
    case!(
        f,
        "CreateQuote currency not the product's",
        InvalidArgument,
        Some("items[0].amount"),
        c.create_quote(as_!(
            e1,
            with(v1::QuoteItemRequest {
                amount: Some(money("USD", 100_000)),
                ..loan(None)
            })
        ))
    );
    case!(
        f,
        "CreateQuote currency not a code",
        InvalidArgument,
        Some("items[0].amount.currency"),
        c.create_quote(as_!(
            e1,
            with(v1::QuoteItemRequest {
                amount: Some(money("cny", 100_000)),
                ..loan(None)
            })
        ))
    );
    case!(
        f,
        "CreateQuote a fee proposed for a loan",
        InvalidArgument,
        Some("items[0].proposed_annual_fee"),
        c.create_quote(as_!(
            e1,
            with(v1::QuoteItemRequest {
                proposal: Some(v1::quote_item_request::Proposal::ProposedAnnualFee(cny(
                    1_000
                ))),
                ..loan(None)
            })
        ))
    );
    case!(
        f,
        "CreateQuote a rate proposed for a fee product",
        InvalidArgument,
        Some("items[0].proposed_rate_bps"),
        c.create_quote(as_!(
            e1,
            with(v1::QuoteItemRequest {
                proposal: Some(v1::quote_item_request::Proposal::ProposedRateBps(10)),
                ..fee_item("CASH-2STORES", None)
            })
        ))
    );
    case!(
        f,
        "CreateQuote a negative proposed fee",
        InvalidArgument,
        Some("items[0].proposed_annual_fee"),
        c.create_quote(as_!(
            e1,
            with(v1::QuoteItemRequest {
                proposal: Some(v1::quote_item_request::Proposal::ProposedAnnualFee(cny(-1))),
                ..fee_item("CASH-2STORES", None)
            })
        ))
    );
    case!(
        f,
        "CreateQuote an annual volume on a loan",
        InvalidArgument,
        Some("items[0].annual_volume"),
        c.create_quote(as_!(
            e1,
            with(v1::QuoteItemRequest {
                annual_volume: Some(cny(1_000)),
                ..loan(None)
            })
        ))
    );
    case!(
        f,
        "CreateQuote an amount on a fee product",
        InvalidArgument,
        Some("items[0].amount"),
        c.create_quote(as_!(
            e1,
            with(v1::QuoteItemRequest {
                amount: Some(cny(1_000)),
                ..fee_item("CASH-2STORES", None)
            })
        ))
    );
    case!(
        f,
        "CreateQuote no items",
        InvalidArgument,
        Some("items"),
        c.create_quote(as_!(e1, quote(vec![])))
    );
    case!(
        f,
        "CreateQuote 51 items",
        InvalidArgument,
        Some("items"),
        c.create_quote(as_!(e1, quote(vec![loan(None); 51])))
    );
    case!(
        f,
        "CreateQuote a covenant on a deposit",
        InvalidArgument,
        Some("items[0].covenant"),
        c.create_quote(as_!(
            e1,
            with(v1::QuoteItemRequest {
                covenant: Some(v1::Covenant {
                    agreed_ratio_bps: 6_000,
                    step_up_bps: 0,
                }),
                ..balance_item("DEP-DEMAND", 1_000, 12, None)
            })
        ))
    );
    case!(
        f,
        "CreateQuote a covenant ratio of 0",
        InvalidArgument,
        Some("items[0].covenant.agreed_ratio_bps"),
        c.create_quote(as_!(
            e1,
            with(v1::QuoteItemRequest {
                covenant: Some(v1::Covenant {
                    agreed_ratio_bps: 0,
                    step_up_bps: 0,
                }),
                ..loan(None)
            })
        ))
    );
    case!(
        f,
        "CreateQuote a concession beyond every band",
        InvalidArgument,
        Some("items[0].proposed_rate_bps"),
        c.create_quote(as_!(e1, with(loan(Some(250)))))
    );
    case!(
        f,
        "CreateQuote under the regulatory floor",
        FailedPrecondition,
        Some(ids.floor_5y.as_str()),
        c.create_quote(as_!(
            e1,
            with(balance_item("LOAN-TERM-5Y", 1_000_000, 60, Some(269)))
        ))
    );
    case!(
        f,
        "CreateQuote strategic without a reason",
        InvalidArgument,
        Some("strategic_reason"),
        c.create_quote(as_!(
            e1,
            v1::CreateQuoteRequest {
                strategic: true,
                ..with(loan(None))
            }
        ))
    );
    case!(
        f,
        "CreateQuote malformed branch",
        InvalidArgument,
        Some("branch_id"),
        c.create_quote(as_!(
            e1,
            v1::CreateQuoteRequest {
                branch_id: "BJ 01".into(),
                ..with(loan(None))
            }
        ))
    );
    case!(
        f,
        "CreateQuote for a branch outside the caller's subtree",
        PermissionDenied,
        NONE,
        c.create_quote(as_!(
            e1,
            v1::CreateQuoteRequest {
                branch_id: "SH01".into(),
                ..with(loan(None))
            }
        ))
    );
    case!(
        f,
        "CreateQuote for an unknown branch",
        NotFound,
        NONE,
        c.create_quote(as_!(
            e1,
            v1::CreateQuoteRequest {
                branch_id: "NOWHERE".into(),
                ..with(loan(None))
            }
        ))
    );
    case!(
        f,
        "CreateQuote unknown customer",
        NotFound,
        NONE,
        c.create_quote(as_!(
            e1,
            v1::CreateQuoteRequest {
                customer_id: "01900000-0000-7000-8000-000000000000".into(),
                ..with(loan(None))
            }
        ))
    );
    case!(
        f,
        "CreateQuote a customer of another branch",
        NotFound,
        NONE,
        c.create_quote(as_!(outsider, with(loan(None))))
    );
    case!(
        f,
        "CreateQuote by a product manager",
        PermissionDenied,
        NONE,
        c.create_quote(as_!(pm, with(loan(None))))
    );
    case!(
        f,
        "CreateQuote a component without a bundle",
        InvalidArgument,
        Some("items[0].bundle_component_id"),
        c.create_quote(as_!(e1, with(as_component(loan(None), "deposit"))))
    );
    case!(
        f,
        "CreateQuote an unknown bundle",
        NotFound,
        NONE,
        c.create_quote(as_!(
            e1,
            v1::CreateQuoteRequest {
                bundle_id: "01900000-0000-7000-8000-000000000000".into(),
                ..with(loan(None))
            }
        ))
    );
    case!(
        f,
        "CreateQuote a component of another product",
        InvalidArgument,
        Some("items[0].bundle_component_id"),
        c.create_quote(as_!(
            e1,
            v1::CreateQuoteRequest {
                bundle_id: ids.payroll_plus.clone(),
                items: vec![
                    as_component(fee_item("PAYROLL", Some(1_000)), "deposit"),
                    as_component(fee_item("PAYROLL", Some(1_000)), "payroll"),
                ],
                ..with(loan(None))
            }
        ))
    );
    case!(
        f,
        "CreateQuote a key reused for another request",
        InvalidArgument,
        Some("idempotency_key"),
        c.create_quote(as_!(
            e1,
            v1::CreateQuoteRequest {
                idempotency_key: "draft".into(),
                ..with(loan(Some(420)))
            }
        ))
    );

    // GetQuote and ListQuotes.
    case!(
        f,
        "GetQuote malformed id",
        InvalidArgument,
        Some("quote_id"),
        c.get_quote(as_!(
            e1,
            v1::GetQuoteRequest {
                quote_id: "q1".into(),
            }
        ))
    );
    case!(
        f,
        "GetQuote unknown",
        NotFound,
        NONE,
        c.get_quote(as_!(
            e1,
            v1::GetQuoteRequest {
                quote_id: "01900000-0000-7000-8000-000000000000".into(),
            }
        ))
    );
    case!(
        f,
        "GetQuote of another branch",
        NotFound,
        NONE,
        c.get_quote(as_!(
            outsider,
            v1::GetQuoteRequest {
                quote_id: draft.quote_id.clone(),
            }
        ))
    );
    case!(
        f,
        "ListQuotes forged token",
        InvalidArgument,
        Some("page_token"),
        c.list_quotes(as_!(
            e1,
            v1::ListQuotesRequest {
                page_token: "AAAA".into(),
                ..Default::default()
            }
        ))
    );
    case!(
        f,
        "ListQuotes negative page size",
        InvalidArgument,
        Some("page_size"),
        c.list_quotes(as_!(
            e1,
            v1::ListQuotesRequest {
                page_size: -1,
                ..Default::default()
            }
        ))
    );
    case!(
        f,
        "ListQuotes unknown status",
        InvalidArgument,
        Some("status"),
        c.list_quotes(as_!(
            e1,
            v1::ListQuotesRequest {
                status: 99,
                ..Default::default()
            }
        ))
    );
    case!(
        f,
        "ListQuotes malformed branch",
        InvalidArgument,
        Some("branch_id"),
        c.list_quotes(as_!(
            e1,
            v1::ListQuotesRequest {
                branch_id: "B J".into(),
                ..Default::default()
            }
        ))
    );

    // SubmitQuote.
    let submit = |q: &v1::Quote| v1::SubmitQuoteRequest {
        quote_id: q.quote_id.clone(),
        expected_version: q.version,
        reason: String::new(),
    };
    case!(
        f,
        "SubmitQuote a refused quote",
        FailedPrecondition,
        Some(refused.quote_id.as_str()),
        c.submit_quote(as_!(e1, submit(&refused)))
    );
    case!(
        f,
        "SubmitQuote a pending quote",
        FailedPrecondition,
        Some(pending.quote_id.as_str()),
        c.submit_quote(as_!(mk, submit(&pending)))
    );
    case!(
        f,
        "SubmitQuote a stale version",
        Aborted,
        NONE,
        c.submit_quote(as_!(
            e1,
            v1::SubmitQuoteRequest {
                expected_version: 7,
                ..submit(&draft)
            }
        ))
    );
    case!(
        f,
        "SubmitQuote a note over 500 characters",
        InvalidArgument,
        Some("reason"),
        c.submit_quote(as_!(
            e1,
            v1::SubmitQuoteRequest {
                reason: "x".repeat(501),
                ..submit(&draft)
            }
        ))
    );
    case!(
        f,
        "SubmitQuote malformed id",
        InvalidArgument,
        Some("quote_id"),
        c.submit_quote(as_!(
            e1,
            v1::SubmitQuoteRequest {
                quote_id: "nope".into(),
                ..submit(&draft)
            }
        ))
    );
    case!(
        f,
        "SubmitQuote of another branch",
        NotFound,
        NONE,
        c.submit_quote(as_!(outsider, submit(&draft)))
    );
    case!(
        f,
        "SubmitQuote by a product manager",
        PermissionDenied,
        NONE,
        c.submit_quote(as_!(pm, submit(&draft)))
    );

    // ApproveQuote and RejectQuote.
    let approve = |q: &v1::Quote| v1::ApproveQuoteRequest {
        quote_id: q.quote_id.clone(),
        expected_version: q.version,
        reason: "fine".into(),
    };
    let reject = |q: &v1::Quote| v1::RejectQuoteRequest {
        quote_id: q.quote_id.clone(),
        expected_version: q.version,
        reason: "no".into(),
    };
    case!(
        f,
        "ApproveQuote self-approval",
        PermissionDenied,
        NONE,
        c.approve_quote(as_!(mk, approve(&pending)))
    );
    case!(
        f,
        "RejectQuote self-rejection",
        PermissionDenied,
        NONE,
        c.reject_quote(as_!(mk, reject(&pending)))
    );
    case!(
        f,
        "ApproveQuote by a customer manager",
        PermissionDenied,
        NONE,
        c.approve_quote(as_!(e1, approve(&pending)))
    );
    case!(
        f,
        "ApproveQuote below the required level",
        PermissionDenied,
        NONE,
        c.approve_quote(as_!(a_sub, approve(&pending)))
    );
    case!(
        f,
        "ApproveQuote off the branch chain",
        PermissionDenied,
        NONE,
        c.approve_quote(as_!(
            w.h.suite.token("a-sh", "SH", &["approver"]),
            approve(&pending)
        ))
    );
    case!(
        f,
        "ApproveQuote without a reason",
        InvalidArgument,
        Some("reason"),
        c.approve_quote(as_!(
            a_t2,
            v1::ApproveQuoteRequest {
                reason: String::new(),
                ..approve(&pending)
            }
        ))
    );
    case!(
        f,
        "RejectQuote a reason over 500 characters",
        InvalidArgument,
        Some("reason"),
        c.reject_quote(as_!(
            a_t2,
            v1::RejectQuoteRequest {
                reason: "x".repeat(501),
                ..reject(&pending)
            }
        ))
    );
    case!(
        f,
        "ApproveQuote a stale version",
        Aborted,
        NONE,
        c.approve_quote(as_!(
            a_t2,
            v1::ApproveQuoteRequest {
                expected_version: 1,
                ..approve(&pending)
            }
        ))
    );
    case!(
        f,
        "ApproveQuote a draft",
        FailedPrecondition,
        Some(draft.quote_id.as_str()),
        c.approve_quote(as_!(a_sub, approve(&draft)))
    );
    case!(
        f,
        "ApproveQuote an approved quote",
        FailedPrecondition,
        Some(approved.quote_id.as_str()),
        c.approve_quote(as_!(a_t2, approve(&approved)))
    );
    case!(
        f,
        "RejectQuote an approved quote",
        FailedPrecondition,
        Some(approved.quote_id.as_str()),
        c.reject_quote(as_!(a_t2, reject(&approved)))
    );
    case!(
        f,
        "ApproveQuote unknown",
        NotFound,
        NONE,
        c.approve_quote(as_!(
            a_t2,
            v1::ApproveQuoteRequest {
                quote_id: "01900000-0000-7000-8000-000000000000".into(),
                ..approve(&pending)
            }
        ))
    );

    // SimulatePricing.
    let option = |name: &str, items: Vec<v1::QuoteItemRequest>| v1::SimulationScenario {
        name: name.into(),
        items,
        ..Default::default()
    };
    let simulate = |scenarios: Vec<v1::SimulationScenario>| v1::SimulatePricingRequest {
        customer_id: firm.clone(),
        branch_id: String::new(),
        scenarios,
    };
    case!(
        f,
        "SimulatePricing no options",
        InvalidArgument,
        Some("scenarios"),
        c.simulate_pricing(as_!(e1, simulate(vec![])))
    );
    case!(
        f,
        "SimulatePricing eleven options",
        InvalidArgument,
        Some("scenarios"),
        c.simulate_pricing(as_!(
            e1,
            simulate(
                (0..11)
                    .map(|i| option(&format!("o{i}"), vec![loan(None)]))
                    .collect()
            )
        ))
    );
    case!(
        f,
        "SimulatePricing a name used twice",
        InvalidArgument,
        Some("scenarios[1].name"),
        c.simulate_pricing(as_!(
            e1,
            simulate(vec![
                option("a", vec![loan(None)]),
                option("a", vec![loan(None)])
            ])
        ))
    );
    case!(
        f,
        "SimulatePricing an empty name",
        InvalidArgument,
        Some("scenarios[0].name"),
        c.simulate_pricing(as_!(e1, simulate(vec![option(" ", vec![loan(None)])])))
    );
    case!(
        f,
        "SimulatePricing an option without items",
        InvalidArgument,
        Some("scenarios[0].items"),
        c.simulate_pricing(as_!(e1, simulate(vec![option("a", vec![])])))
    );
    case!(
        f,
        "SimulatePricing a negative amount",
        InvalidArgument,
        Some("scenarios[0].items[0].amount"),
        c.simulate_pricing(as_!(
            e1,
            simulate(vec![option(
                "a",
                vec![balance_item("LOAN-WC-1Y", -5, 12, None)]
            )])
        ))
    );
    case!(
        f,
        "SimulatePricing an unknown product",
        NotFound,
        NONE,
        c.simulate_pricing(as_!(
            e1,
            simulate(vec![option("a", vec![balance_item("NOPE", 5, 12, None)])])
        ))
    );
    case!(
        f,
        "SimulatePricing without a customer",
        InvalidArgument,
        Some("customer_id"),
        c.simulate_pricing(as_!(
            e1,
            v1::SimulatePricingRequest {
                customer_id: String::new(),
                ..simulate(vec![option("a", vec![loan(None)])])
            }
        ))
    );

    // RecordCovenantObservation.
    let last_month = {
        use chrono::Datelike;
        let today = chrono::Utc::now().date_naive();
        let index = today.year() * 12 + today.month0() as i32 - 1;
        v1::Period {
            year: index.div_euclid(12),
            month: index.rem_euclid(12) + 1,
        }
    };
    let observe = |q: &v1::Quote| v1::RecordCovenantObservationRequest {
        idempotency_key: "observe".into(),
        quote_id: q.quote_id.clone(),
        item_id: "1".into(),
        period: Some(last_month),
        observed_ratio_bps: 5_000,
    };
    case!(
        f,
        "RecordCovenantObservation a ratio over 100%",
        InvalidArgument,
        Some("observed_ratio_bps"),
        c.record_covenant_observation(as_!(
            e1,
            v1::RecordCovenantObservationRequest {
                observed_ratio_bps: 10_001,
                ..observe(&covenanted)
            }
        ))
    );
    case!(
        f,
        "RecordCovenantObservation a future month",
        InvalidArgument,
        Some("period"),
        c.record_covenant_observation(as_!(
            e1,
            v1::RecordCovenantObservationRequest {
                period: Some(v1::Period {
                    year: 9_000,
                    month: 1,
                }),
                ..observe(&covenanted)
            }
        ))
    );
    case!(
        f,
        "RecordCovenantObservation month 13",
        InvalidArgument,
        Some("period"),
        c.record_covenant_observation(as_!(
            e1,
            v1::RecordCovenantObservationRequest {
                period: Some(v1::Period {
                    year: 2025,
                    month: 13,
                }),
                ..observe(&covenanted)
            }
        ))
    );
    case!(
        f,
        "RecordCovenantObservation without a month",
        InvalidArgument,
        Some("period"),
        c.record_covenant_observation(as_!(
            e1,
            v1::RecordCovenantObservationRequest {
                period: None,
                ..observe(&covenanted)
            }
        ))
    );
    case!(
        f,
        "RecordCovenantObservation without a key",
        InvalidArgument,
        Some("idempotency_key"),
        c.record_covenant_observation(as_!(
            e1,
            v1::RecordCovenantObservationRequest {
                idempotency_key: String::new(),
                ..observe(&covenanted)
            }
        ))
    );
    case!(
        f,
        "RecordCovenantObservation an item without a covenant",
        FailedPrecondition,
        Some("1"),
        c.record_covenant_observation(as_!(e1, observe(&approved)))
    );
    case!(
        f,
        "RecordCovenantObservation an unknown item",
        NotFound,
        NONE,
        c.record_covenant_observation(as_!(
            e1,
            v1::RecordCovenantObservationRequest {
                item_id: "9".into(),
                ..observe(&covenanted)
            }
        ))
    );
    case!(
        f,
        "RecordCovenantObservation on a draft",
        FailedPrecondition,
        Some(draft.quote_id.as_str()),
        c.record_covenant_observation(as_!(e1, observe(&draft)))
    );
    case!(
        f,
        "RecordCovenantObservation malformed quote id",
        InvalidArgument,
        Some("quote_id"),
        c.record_covenant_observation(as_!(
            batch,
            v1::RecordCovenantObservationRequest {
                quote_id: "x".into(),
                ..observe(&covenanted)
            }
        ))
    );
    case!(
        f,
        "RecordCovenantObservation by a product manager",
        PermissionDenied,
        NONE,
        c.record_covenant_observation(as_!(pm, observe(&covenanted)))
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
    w.h.suite.stop().await;
}

on_both_backends!(sweep, rules_and_bundles_sweep, quotes_sweep);
