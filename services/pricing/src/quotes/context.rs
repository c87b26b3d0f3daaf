//! What a quote or a simulation is priced against, read at **one catalogue version**: the
//! version is read from the database first (one primary-key lookup), and every product with its
//! price versions, the reference data (authority bands and regulatory limits in force on the
//! date, the LPR series, the FX series) and the rules in force are then read through the cache
//! under that version's stamp, so a stale L1 on another replica can never price with an old
//! price; the write that stores a quote checks the version again in its transaction
//! ([`check_version`]). This module also turns the wire items into the domain's inputs: shape
//! checks that name the field (`items[2].amount.currency`, ...), an unknown product
//! (`NOT_FOUND`), no price version in force on the date (`FAILED_PRECONDITION`, type
//! `PRICE_VERSION`), and the domain's own validation, run by `price_quote`.

use std::collections::BTreeMap;
use std::sync::Arc;

use bankmkt_domain::money::{BasisPoints, Money};
use bankmkt_domain::pricing::catalogue::check_product_id;
use bankmkt_domain::pricing::economics::Term;
use bankmkt_domain::pricing::{
    AuthorityBand, Bundle, FxRate, Price, PriceTerms, PricingContext, PricingError, PricingRule,
    Product, QuoteConfig, QuoteItemInput, ReferenceRate, RegulatoryLimit,
};
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::NaiveDate;
use sea_orm::QueryOrder;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use super::stored::{StoredMoney, StoredPrice, StoredRef, StoredRequest};
use crate::PricingService;
use crate::cache::{CatalogueVersion, catalogue_version};
use crate::catalogue::{StoredProduct, cached_product_at, domain_terms};
use crate::convert;
use crate::error::{Result, ServiceError};
use crate::reference::entity::{authority_band, fx_rate, reference_rate, regulatory_limit};
use crate::reference::{bands, fx, in_force, limits, rates};

/// Cache namespace of [`Reference`] values (keyed by catalogue stamp and date).
const REFERENCE_NAMESPACE: &str = "pricing_quote_reference";

/// The reference data in force on one date, as cached.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reference {
    /// Authority bands in force, with each one's version.
    pub bands: Vec<(AuthorityBand, i64)>,
    /// Regulatory limits in force, with each one's version.
    pub limits: Vec<(RegulatoryLimit, i64)>,
    /// Every point of the LPR series.
    pub reference_rates: Vec<ReferenceRate>,
    /// Every point of the FX series.
    pub fx_rates: Vec<FxRate>,
}

async fn load_reference<C: ConnectionTrait>(db: &C, date: NaiveDate) -> Result<Reference> {
    let band_rows = authority_band::Entity::find()
        .filter(authority_band::Column::EffectiveFrom.lte(date))
        .order_by_asc(authority_band::Column::BandId)
        .order_by_desc(authority_band::Column::Version)
        .all(db)
        .await?;
    let band_range = |r: &authority_band::Model| bankmkt_domain::pricing::EffectiveRange {
        from: r.effective_from,
        to: r.effective_to,
    };
    let bands = in_force(&band_rows, |r| r.band_id.as_str(), band_range, date)
        .into_iter()
        .map(|r| bands::to_domain(r).map(|b| (b, r.version)))
        .collect::<Result<Vec<_>>>()?;
    let limit_rows = regulatory_limit::Entity::find()
        .filter(regulatory_limit::Column::EffectiveFrom.lte(date))
        .order_by_asc(regulatory_limit::Column::LimitId)
        .order_by_desc(regulatory_limit::Column::Version)
        .all(db)
        .await?;
    let limit_range = |r: &regulatory_limit::Model| bankmkt_domain::pricing::EffectiveRange {
        from: r.effective_from,
        to: r.effective_to,
    };
    let limits = in_force(&limit_rows, |r| r.limit_id.as_str(), limit_range, date)
        .into_iter()
        .map(|r| limits::to_domain(r).map(|l| (l, r.version)))
        .collect::<Result<Vec<_>>>()?;
    let reference_rates = reference_rate::Entity::find()
        .filter(reference_rate::Column::EffectiveDate.lte(date))
        .all(db)
        .await?
        .iter()
        .map(rates::to_domain)
        .collect::<Result<Vec<_>>>()?;
    let fx_rates = fx_rate::Entity::find()
        .filter(fx_rate::Column::EffectiveDate.lte(date))
        .all(db)
        .await?
        .iter()
        .map(fx::to_domain)
        .collect::<Result<Vec<_>>>()?;
    Ok(Reference {
        bands,
        limits,
        reference_rates,
        fx_rates,
    })
}

/// The reference data in force on `date` at catalogue `version`, through the cache.
pub async fn reference(
    svc: &PricingService,
    version: &CatalogueVersion,
    date: NaiveDate,
) -> Result<Reference> {
    let db = svc.db.clone();
    svc.catalogue
        .get_or_load(
            REFERENCE_NAMESPACE,
            &version.stamp,
            &date.to_string(),
            || async move { load_reference(&db, date).await.map(Some) },
        )
        .await?
        .ok_or_else(|| ServiceError::internal("reference data did not load"))
}

/// One requested item, parsed from the wire but not yet checked against its product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemSpec {
    /// The product.
    pub product_id: String,
    /// The bundle component, if named.
    pub component: Option<String>,
    /// The amount B.
    pub amount: Option<Money>,
    /// The annual volume.
    pub annual_volume: Option<Money>,
    /// The term in months (0 is refused by the domain, naming the field).
    pub term_months: u32,
    /// The proposal.
    pub proposal: Option<Price>,
    /// The covenant's agreed ratio.
    pub covenant: Option<BasisPoints>,
}

impl ItemSpec {
    /// The stored form of the request.
    pub fn stored(&self) -> StoredRequest {
        StoredRequest {
            product_id: self.product_id.clone(),
            bundle_component_id: self.component.clone(),
            amount: self.amount.map(StoredMoney::from_domain),
            annual_volume: self.annual_volume.map(StoredMoney::from_domain),
            term_months: self.term_months,
            proposal: self.proposal.map(StoredPrice::from_domain),
            covenant_agreed_ratio_bps: self.covenant.map(|c| c.value()),
        }
    }
}

/// Parses the wire items at `field` (e.g. `items` or `scenarios[1].items`): every shape problem
/// is recorded in `v`, naming its field; items with problems are left out.
pub fn parse_items(
    field: &str,
    items: &[v1::QuoteItemRequest],
    v: &mut Violations,
) -> Vec<ItemSpec> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = |f: &str| format!("{field}[{i}].{f}");
        let before = v.fields().len();
        if let Err(why) = check_product_id(&item.product_id) {
            v.add(at("product_id"), why);
        }
        let component = match item.bundle_component_id.trim() {
            "" => None,
            c if c.chars().count() > 64 => {
                v.add(at("bundle_component_id"), "must be at most 64 characters");
                None
            }
            c => Some(c.to_owned()),
        };
        let amount = convert::money(&at("amount"), item.amount.as_ref(), false, v);
        let annual_volume =
            convert::money(&at("annual_volume"), item.annual_volume.as_ref(), false, v);
        let term_months = match u32::try_from(item.term_months) {
            Ok(m) => m,
            Err(_) => {
                v.add(at("term_months"), "must be at least 1");
                0
            }
        };
        let proposal = match &item.proposal {
            None => None,
            Some(v1::quote_item_request::Proposal::ProposedRateBps(rate)) => {
                Some(Price::Rate(BasisPoints::new(*rate)))
            }
            Some(v1::quote_item_request::Proposal::ProposedAnnualFee(fee)) => {
                convert::money(&at("proposed_annual_fee"), Some(fee), true, v).map(Price::AnnualFee)
            }
        };
        let covenant = item
            .covenant
            .as_ref()
            .map(|c| BasisPoints::new(c.agreed_ratio_bps));
        if v.fields().len() == before {
            out.push(ItemSpec {
                product_id: item.product_id.clone(),
                component,
                amount,
                annual_volume,
                term_months,
                proposal,
                covenant,
            });
        }
    }
    out
}

/// A product with the terms of its price version in force on the pricing date.
#[derive(Clone, Debug)]
pub struct PricedProduct {
    /// The product.
    pub product: Product,
    /// The price version in force.
    pub price_version_id: String,
    /// Its number within the product.
    pub price_version: i64,
    /// Its terms.
    pub terms: PriceTerms,
}

/// Everything a quote is priced against, read at one catalogue version.
#[derive(Clone, Debug)]
pub struct Catalogue {
    /// The catalogue version read.
    pub version: CatalogueVersion,
    /// The pricing date.
    pub date: NaiveDate,
    /// The products named, by id.
    pub products: BTreeMap<String, PricedProduct>,
    /// The reference data in force.
    pub reference: Reference,
    /// The rules in force.
    pub rules: Arc<Vec<PricingRule>>,
    /// Bundle ids named, with the bundle (latest version).
    pub bundles: BTreeMap<String, Bundle>,
    /// The bands of `reference`, without versions (for the domain's context).
    bands: Vec<AuthorityBand>,
    /// The limits of `reference`, without versions.
    limits: Vec<RegulatoryLimit>,
}

impl Catalogue {
    /// Reads the catalogue version, then the products, bundles, rules and reference data a quote
    /// on `date` needs. `NOT_FOUND` for an unknown product or bundle; `FAILED_PRECONDITION` (type
    /// `PRICE_VERSION`) for a product with no price version in force on the date.
    pub async fn load(
        svc: &PricingService,
        date: NaiveDate,
        product_ids: &[&str],
        bundle_ids: &[&str],
    ) -> Result<Catalogue> {
        let version = catalogue_version(&svc.db).await?;
        let mut products = BTreeMap::new();
        for &id in product_ids {
            if products.contains_key(id) {
                continue;
            }
            let stored: StoredProduct =
                cached_product_at(svc, &version, id).await?.ok_or_else(|| {
                    ServiceError::NotFound {
                        kind: "product",
                        id: id.to_owned(),
                    }
                })?;
            let price = stored
                .price_on(date)
                .ok_or_else(|| ServiceError::FailedPrecondition {
                    kind: "PRICE_VERSION",
                    subject: id.to_owned(),
                    message: format!("product {id} has no price version in force on {date}"),
                })?;
            products.insert(
                id.to_owned(),
                PricedProduct {
                    product: stored.domain()?,
                    price_version_id: price.price_version_id.clone(),
                    price_version: price.version,
                    terms: domain_terms(price)?,
                },
            );
        }
        let mut bundles = BTreeMap::new();
        for &id in bundle_ids {
            if !bundles.contains_key(id) {
                bundles.insert(id.to_owned(), crate::bundles::load(svc, id).await?);
            }
        }
        let reference = reference(svc, &version, date).await?;
        let rules = crate::rules::in_force(svc, date).await?;
        let bands = reference.bands.iter().map(|(b, _)| b.clone()).collect();
        let limits = reference.limits.iter().map(|(l, _)| l.clone()).collect();
        Ok(Catalogue {
            version,
            date,
            products,
            reference,
            rules,
            bundles,
            bands,
            limits,
        })
    }

    /// The domain's pricing context.
    pub fn context(&self, config: QuoteConfig) -> PricingContext<'_> {
        PricingContext {
            date: self.date,
            rules: &self.rules,
            bands: &self.bands,
            limits: &self.limits,
            reference_rates: &self.reference.reference_rates,
            fx_rates: &self.reference.fx_rates,
            config,
        }
    }

    /// The domain inputs of `specs` (every product is loaded).
    pub fn inputs<'a>(&'a self, specs: &'a [ItemSpec]) -> Result<Vec<QuoteItemInput<'a>>> {
        specs
            .iter()
            .map(|s| {
                let p = self.products.get(&s.product_id).ok_or_else(|| {
                    ServiceError::internal(format!("product {} was not loaded", s.product_id))
                })?;
                Ok(QuoteItemInput {
                    product: &p.product,
                    terms: &p.terms,
                    bundle_component_id: s.component.as_deref(),
                    amount: s.amount,
                    annual_volume: s.annual_volume,
                    term: Term::Months(s.term_months),
                    proposal: s.proposal,
                    covenant_agreed_ratio: s.covenant,
                })
            })
            .collect()
    }

    /// The versions used by a quote of `specs` whose items evaluated `rule_ids`, were covered by
    /// `band_ids` and checked `limit_ids`, under `bundle`.
    pub fn versions_used<'a>(
        &self,
        specs: &[ItemSpec],
        rule_ids: impl IntoIterator<Item = (&'a str, i64)>,
        band_ids: impl IntoIterator<Item = &'a str>,
        limit_ids: impl IntoIterator<Item = &'a str>,
        bundle: Option<&Bundle>,
    ) -> Vec<StoredRef> {
        let mut out: Vec<StoredRef> = Vec::new();
        let mut push = |kind: &str, id: &str, version: i64| {
            if !out.iter().any(|r| r.kind == kind && r.id == id) {
                out.push(StoredRef {
                    kind: kind.to_owned(),
                    id: id.to_owned(),
                    version,
                });
            }
        };
        for (id, version) in rule_ids {
            push("pricing_rule", id, version);
        }
        for id in band_ids {
            if let Some((_, version)) = self.reference.bands.iter().find(|(b, _)| b.band_id == id) {
                push("authority_band", id, *version);
            }
        }
        for id in limit_ids {
            if let Some((_, version)) = self.reference.limits.iter().find(|(l, _)| l.limit_id == id)
            {
                push("regulatory_limit", id, *version);
            }
        }
        for s in specs {
            if let Some(p) = self.products.get(&s.product_id) {
                push("price_version", &p.price_version_id, p.price_version);
            }
        }
        if let Some(b) = bundle {
            push("bundle", &b.bundle_id, b.version);
        }
        out
    }
}

/// Checks, inside a write's transaction, that the catalogue is still at `version`: a catalogue or
/// rule write since the quote was priced answers `ABORTED` (price again).
pub async fn check_version<C: ConnectionTrait>(txn: &C, version: &CatalogueVersion) -> Result<()> {
    // On Postgres the state row is read FOR SHARE: a catalogue writer (which takes the row lock
    // in `bump_catalogue_version`) then waits for this quote's commit, so no catalogue change can
    // slip in between the check and the commit. SQLite has one writer at a time anyway.
    let now = if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        crate::cache::catalogue_version_for_share(txn).await?
    } else {
        catalogue_version(txn).await?
    };
    if now.number != version.number {
        return Err(ServiceError::StaleVersion {
            kind: "catalogue",
            id: "pricing".to_owned(),
            expected: version.number,
            actual: now.number,
        });
    }
    Ok(())
}

/// A domain pricing error of a request: field violations keep their paths (the domain names them
/// from the request's root, `items[0].amount`), breaches and missing rates become
/// `FAILED_PRECONDITION`, and an arithmetic overflow is a bad value of `money_field`.
pub fn pricing_error(e: PricingError, money_field: &str) -> ServiceError {
    match e {
        PricingError::Money(m) => ServiceError::invalid(money_field, m.to_string()),
        other => ServiceError::from_pricing(other, ""),
    }
}
