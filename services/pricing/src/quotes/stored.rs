//! The stored forms of a quote's JSON columns and their conversions to the domain and the wire.
//! Like the catalogue's stored fee schedule, every form here is this module's own (minor units,
//! basis points, codes and decimal strings), independent of the domain types' serde shapes, so a
//! change there never misreads stored quotes. [`quote_to_proto`] builds the wire quote from its
//! rows, reading the status against the expiry time.

use bankmkt_domain::money::{BasisPoints, Currency, Money};
use bankmkt_domain::pricing::bundles::Requirement;
use bankmkt_domain::pricing::economics::RAROC_DECIMALS;
use bankmkt_domain::pricing::{
    AuthorityLevel, Economics, Prerequisite, Price, ProductCategory, QuoteDecisionOutcome,
    QuoteStatus, QuoteVerdict, RuleExplanation, UnmetCondition,
};
use bankmkt_proto::v1;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::entity::{quote, quote_decision, quote_item};
use crate::convert::{self, stored_code, stored_decimal};
use crate::error::{Result, ServiceError};

/// An amount: currency code and minor units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMoney {
    /// ISO 4217 code.
    pub currency: String,
    /// Minor units.
    pub minor_units: i64,
}

impl StoredMoney {
    /// The stored form of `m`.
    pub fn from_domain(m: Money) -> StoredMoney {
        StoredMoney {
            currency: m.currency().as_str().to_owned(),
            minor_units: m.minor_units(),
        }
    }

    /// The domain amount.
    pub fn to_domain(&self) -> Result<Money> {
        let currency = Currency::parse(&self.currency).map_err(ServiceError::internal)?;
        Ok(Money::from_minor(currency, self.minor_units))
    }
}

/// A price: a rate or an annual fee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum StoredPrice {
    /// A rate in basis points.
    Rate {
        /// The rate.
        rate_bps: i32,
    },
    /// An annual fee.
    Fee {
        /// The fee.
        annual_fee: StoredMoney,
    },
}

impl StoredPrice {
    /// The stored form of `p`.
    pub fn from_domain(p: Price) -> StoredPrice {
        match p {
            Price::Rate(rate) => StoredPrice::Rate {
                rate_bps: rate.value(),
            },
            Price::AnnualFee(fee) => StoredPrice::Fee {
                annual_fee: StoredMoney::from_domain(fee),
            },
        }
    }

    /// The domain price.
    pub fn to_domain(&self) -> Result<Price> {
        Ok(match self {
            StoredPrice::Rate { rate_bps } => Price::Rate(BasisPoints::new(*rate_bps)),
            StoredPrice::Fee { annual_fee } => Price::AnnualFee(annual_fee.to_domain()?),
        })
    }
}

/// Rounded economics in one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEconomics {
    /// The currency of every figure.
    pub currency: String,
    /// Margin, minor units.
    pub margin: i64,
    /// Operating cost.
    pub operating_cost: i64,
    /// Expected loss.
    pub expected_loss: i64,
    /// Economic capital.
    pub economic_capital: i64,
    /// RAR.
    pub risk_adjusted_return: i64,
    /// EVA.
    pub eva: i64,
    /// RAROC as a decimal string; `None` when EC is zero.
    pub raroc: Option<String>,
}

impl StoredEconomics {
    /// The stored form of `e`.
    pub fn from_domain(e: &Economics) -> StoredEconomics {
        StoredEconomics {
            currency: e.margin.currency().as_str().to_owned(),
            margin: e.margin.minor_units(),
            operating_cost: e.operating_cost.minor_units(),
            expected_loss: e.expected_loss.minor_units(),
            economic_capital: e.economic_capital.minor_units(),
            risk_adjusted_return: e.risk_adjusted_return.minor_units(),
            eva: e.eva.minor_units(),
            raroc: e.raroc.map(|r| r.to_string()),
        }
    }

    /// The domain economics.
    pub fn to_domain(&self) -> Result<Economics> {
        let currency = Currency::parse(&self.currency).map_err(ServiceError::internal)?;
        let m = |minor| Money::from_minor(currency, minor);
        Ok(Economics {
            margin: m(self.margin),
            operating_cost: m(self.operating_cost),
            expected_loss: m(self.expected_loss),
            economic_capital: m(self.economic_capital),
            risk_adjusted_return: m(self.risk_adjusted_return),
            eva: m(self.eva),
            raroc: self
                .raroc
                .as_deref()
                .map(|r| stored_decimal("raroc", r).map_err(ServiceError::Internal))
                .transpose()?,
        })
    }
}

/// An unmet condition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredUnmet {
    /// The condition's field.
    pub condition: String,
    /// What the customer has.
    pub actual: String,
    /// What is needed.
    pub required: String,
    /// The sentence for the manager.
    pub message: String,
}

impl StoredUnmet {
    fn from_domain(u: &UnmetCondition) -> StoredUnmet {
        StoredUnmet {
            condition: u.condition.clone(),
            actual: u.actual.clone(),
            required: u.required.clone(),
            message: u.message.clone(),
        }
    }
}

/// Why a rule (or the bundle component's benefit) did or did not apply to an item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRule {
    /// The rule id (`bundle:<bundle id>/<component id>` for a bundle benefit).
    pub rule_id: String,
    /// Its version.
    pub rule_version: i64,
    /// Its name.
    pub name: String,
    /// Whether it applied.
    pub applied: bool,
    /// The price before it.
    pub price_before: Option<StoredPrice>,
    /// The price after it.
    pub price_after: Option<StoredPrice>,
    /// What the customer lacks.
    pub unmet: Vec<StoredUnmet>,
}

impl StoredRule {
    /// The stored form of a domain explanation.
    pub fn from_domain(e: &RuleExplanation) -> StoredRule {
        StoredRule {
            rule_id: e.rule_id.clone(),
            rule_version: e.rule_version,
            name: e.name.clone(),
            applied: e.applied,
            price_before: e.price_before.map(StoredPrice::from_domain),
            price_after: e.price_after.map(StoredPrice::from_domain),
            unmet: e.unmet.iter().map(StoredUnmet::from_domain).collect(),
        }
    }
}

/// An item as requested (with defaults filled in: no volume is zero volume).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRequest {
    /// The product.
    pub product_id: String,
    /// The bundle component.
    pub bundle_component_id: Option<String>,
    /// The amount B of a balance product.
    pub amount: Option<StoredMoney>,
    /// The annual volume of a fee product.
    pub annual_volume: Option<StoredMoney>,
    /// The term in months.
    pub term_months: u32,
    /// The proposal.
    pub proposal: Option<StoredPrice>,
    /// The covenant's agreed ratio.
    pub covenant_agreed_ratio_bps: Option<i32>,
}

/// A quote's totals and the customer's contribution context.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTotals {
    /// Totals in CNY.
    pub totals: StoredEconomics,
    /// The existing contribution; `None` when the registry has none.
    pub existing_contribution: Option<StoredMoney>,
    /// Existing plus total EVA; `None` when the existing contribution is unknown.
    pub combined_contribution: Option<StoredMoney>,
    /// The operational-risk ratio the quote was priced with, bp (to restate it exactly).
    #[serde(default)]
    pub operational_risk_ratio_bps: Option<i32>,
}

/// A version of a rule, band, limit, price version or bundle used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRef {
    /// The family, e.g. `pricing_rule`.
    pub kind: String,
    /// The id within it.
    pub id: String,
    /// The version used.
    pub version: i64,
}

/// A bundle prerequisite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPrerequisite {
    /// Its id.
    pub prerequisite_id: String,
    /// `holds_product`, `holds_category` or `executive_personal_accounts`.
    pub kind: String,
    /// For `holds_product`.
    pub product_id: Option<String>,
    /// For `holds_category`: the category code.
    pub category: Option<String>,
    /// For `executive_personal_accounts`.
    pub min_count: Option<u32>,
    /// Its description.
    pub description: String,
}

impl StoredPrerequisite {
    /// The stored form of `p`.
    pub fn from_domain(p: &Prerequisite) -> StoredPrerequisite {
        let mut out = StoredPrerequisite {
            prerequisite_id: p.prerequisite_id.clone(),
            kind: String::new(),
            product_id: None,
            category: None,
            min_count: None,
            description: p.description.clone(),
        };
        match &p.requirement {
            Requirement::HoldsProduct(id) => {
                out.kind = "holds_product".into();
                out.product_id = Some(id.clone());
            }
            Requirement::HoldsCategory(c) => {
                out.kind = "holds_category".into();
                out.category = Some(c.as_str().to_owned());
            }
            Requirement::ExecutivePersonalAccounts { min_count } => {
                out.kind = "executive_personal_accounts".into();
                out.min_count = Some(*min_count);
            }
        }
        out
    }

    /// The domain prerequisite.
    pub fn to_domain(&self) -> Result<Prerequisite> {
        let bad = || {
            ServiceError::internal(format!(
                "stored prerequisite {} is malformed",
                self.prerequisite_id
            ))
        };
        let requirement = match self.kind.as_str() {
            "holds_product" => Requirement::HoldsProduct(self.product_id.clone().ok_or_else(bad)?),
            "holds_category" => {
                let code = self.category.as_deref().ok_or_else(bad)?;
                let category: ProductCategory =
                    stored_code("product category", code).map_err(ServiceError::Internal)?;
                Requirement::HoldsCategory(category)
            }
            "executive_personal_accounts" => Requirement::ExecutivePersonalAccounts {
                min_count: self.min_count.ok_or_else(bad)?,
            },
            _ => return Err(bad()),
        };
        Ok(Prerequisite {
            prerequisite_id: self.prerequisite_id.clone(),
            requirement,
            description: self.description.clone(),
        })
    }
}

/// A value as JSON text.
pub fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(ServiceError::internal)
}

/// A stored JSON column of `what`.
pub fn from_json<T: DeserializeOwned>(what: &str, raw: &str) -> Result<T> {
    serde_json::from_str(raw)
        .map_err(|e| ServiceError::internal(format!("stored {what} does not decode: {e}")))
}

/// A price for the wire.
pub fn price_to_proto(p: Price) -> v1::Price {
    v1::Price {
        value: Some(match p {
            Price::Rate(rate) => v1::price::Value::RateBps(rate.value()),
            Price::AnnualFee(fee) => v1::price::Value::AnnualFee(convert::money_to_proto(fee)),
        }),
    }
}

fn stored_price_to_proto(raw: &str, what: &str) -> Result<v1::Price> {
    let p: StoredPrice = from_json(what, raw)?;
    Ok(price_to_proto(p.to_domain()?))
}

/// Economics for the wire.
pub fn economics_to_proto(e: &Economics) -> v1::QuoteEconomics {
    v1::QuoteEconomics {
        margin: Some(convert::money_to_proto(e.margin)),
        operating_cost: Some(convert::money_to_proto(e.operating_cost)),
        expected_loss: Some(convert::money_to_proto(e.expected_loss)),
        economic_capital: Some(convert::money_to_proto(e.economic_capital)),
        risk_adjusted_return: Some(convert::money_to_proto(e.risk_adjusted_return)),
        eva: Some(convert::money_to_proto(e.eva)),
        raroc: e.raroc.map(|r| convert::decimal_to_proto(raroc_display(r))),
    }
}

/// RAROC as shown: always four decimal places ("3.0000" for 300%); the domain has already
/// rounded it to four.
pub fn raroc_display(r: Decimal) -> Decimal {
    let mut shown = r;
    shown.rescale(RAROC_DECIMALS);
    shown
}

/// A stored rule explanation for the wire.
pub fn rule_to_proto(r: &StoredRule) -> Result<v1::RuleExplanation> {
    Ok(v1::RuleExplanation {
        rule_id: r.rule_id.clone(),
        rule_version: r.rule_version,
        name: r.name.clone(),
        applied: r.applied,
        price_before: r
            .price_before
            .as_ref()
            .map(|p| p.to_domain().map(price_to_proto))
            .transpose()?,
        price_after: r
            .price_after
            .as_ref()
            .map(|p| p.to_domain().map(price_to_proto))
            .transpose()?,
        unmet_conditions: r
            .unmet
            .iter()
            .map(|u| v1::UnmetCondition {
                condition: u.condition.clone(),
                actual: u.actual.clone(),
                required: u.required.clone(),
                message: u.message.clone(),
            })
            .collect(),
    })
}

/// The wire form of a stored item request, with the covenant's stored step-up.
pub fn request_to_proto(
    r: &StoredRequest,
    step_up_bps: Option<i32>,
) -> Result<v1::QuoteItemRequest> {
    let money = |m: &Option<StoredMoney>| -> Result<Option<v1::Money>> {
        m.as_ref()
            .map(|m| m.to_domain().map(convert::money_to_proto))
            .transpose()
    };
    let proposal = match &r.proposal {
        None => None,
        Some(StoredPrice::Rate { rate_bps }) => {
            Some(v1::quote_item_request::Proposal::ProposedRateBps(*rate_bps))
        }
        Some(StoredPrice::Fee { annual_fee }) => {
            Some(v1::quote_item_request::Proposal::ProposedAnnualFee(
                convert::money_to_proto(annual_fee.to_domain()?),
            ))
        }
    };
    Ok(v1::QuoteItemRequest {
        product_id: r.product_id.clone(),
        bundle_component_id: r.bundle_component_id.clone().unwrap_or_default(),
        amount: money(&r.amount)?,
        annual_volume: money(&r.annual_volume)?,
        term_months: i32::try_from(r.term_months).unwrap_or(i32::MAX),
        proposal,
        covenant: r.covenant_agreed_ratio_bps.map(|agreed| v1::Covenant {
            agreed_ratio_bps: agreed,
            step_up_bps: step_up_bps.unwrap_or(0),
        }),
    })
}

/// A stored item for the wire.
pub fn item_to_proto(row: &quote_item::Model) -> Result<v1::QuoteItem> {
    let request: StoredRequest = from_json("item request", &row.request)?;
    let kind = stored_code("product kind", &row.product_kind).map_err(ServiceError::Internal)?;
    let level: AuthorityLevel =
        stored_code("authority level", &row.required_level).map_err(ServiceError::Internal)?;
    let economics: StoredEconomics = from_json("item economics", &row.economics)?;
    let rules: Vec<StoredRule> = from_json("item rules", &row.rules)?;
    let limits: Vec<String> = from_json("item limits", &row.regulatory_limit_ids)?;
    Ok(v1::QuoteItem {
        item_id: row.item_id.clone(),
        request: Some(request_to_proto(&request, row.covenant_step_up_bps)?),
        product_kind: convert::kind_to_proto(kind) as i32,
        currency: row.currency.clone(),
        price_version_id: row.price_version_id.clone(),
        list_price: Some(stored_price_to_proto(&row.list_price, "list price")?),
        relationship_price: Some(stored_price_to_proto(
            &row.relationship_price,
            "relationship price",
        )?),
        proposed_price: Some(stored_price_to_proto(
            &row.proposed_price,
            "proposed price",
        )?),
        concession_bps: row.concession_bps,
        required_level: convert::level_to_proto(level) as i32,
        year_fraction: Some(v1::Decimal {
            value: row.year_fraction.clone(),
        }),
        economics: Some(economics_to_proto(&economics.to_domain()?)),
        fx_rate: Some(v1::Decimal {
            value: row.fx_rate.clone(),
        }),
        rules: rules
            .iter()
            .map(rule_to_proto)
            .collect::<Result<Vec<_>>>()?,
        regulatory_limit_ids: limits,
    })
}

/// The wire value of a quote state.
pub fn status_to_proto(s: QuoteStatus) -> v1::QuoteStatus {
    match s {
        QuoteStatus::Draft => v1::QuoteStatus::Draft,
        QuoteStatus::PendingApproval => v1::QuoteStatus::PendingApproval,
        QuoteStatus::Approved => v1::QuoteStatus::Approved,
        QuoteStatus::Rejected => v1::QuoteStatus::Rejected,
        QuoteStatus::Expired => v1::QuoteStatus::Expired,
        QuoteStatus::Superseded => v1::QuoteStatus::Superseded,
    }
}

/// The domain quote state of a wire value; unspecified or unknown is `None`.
pub fn status_from_proto(raw: i32) -> Option<QuoteStatus> {
    Some(match v1::QuoteStatus::try_from(raw).ok()? {
        v1::QuoteStatus::Draft => QuoteStatus::Draft,
        v1::QuoteStatus::PendingApproval => QuoteStatus::PendingApproval,
        v1::QuoteStatus::Approved => QuoteStatus::Approved,
        v1::QuoteStatus::Rejected => QuoteStatus::Rejected,
        v1::QuoteStatus::Expired => QuoteStatus::Expired,
        v1::QuoteStatus::Superseded => QuoteStatus::Superseded,
        v1::QuoteStatus::Unspecified => return None,
    })
}

/// The wire value of a verdict.
pub fn verdict_to_proto(v: QuoteVerdict) -> v1::QuoteVerdict {
    match v {
        QuoteVerdict::Acceptable => v1::QuoteVerdict::Acceptable,
        QuoteVerdict::NeedsApproval => v1::QuoteVerdict::NeedsApproval,
        QuoteVerdict::StrategicException => v1::QuoteVerdict::StrategicException,
        QuoteVerdict::Refused => v1::QuoteVerdict::Refused,
        QuoteVerdict::RegulatoryBreach => v1::QuoteVerdict::RegulatoryBreach,
    }
}

/// The stored state of a quote row.
pub fn stored_status(row: &quote::Model) -> Result<QuoteStatus> {
    stored_code("quote status", &row.status).map_err(ServiceError::Internal)
}

/// The state of a quote row as it reads at `now` (a draft or pending quote past its expiry
/// time is expired).
pub fn status_at(row: &quote::Model, now: DateTime<Utc>) -> Result<QuoteStatus> {
    Ok(stored_status(row)?.effective(now >= row.expire_time))
}

/// The wire quote of its rows, its state read at `now`.
pub fn quote_to_proto(
    row: &quote::Model,
    items: &[quote_item::Model],
    decisions: &[quote_decision::Model],
    now: DateTime<Utc>,
) -> Result<v1::Quote> {
    let verdict: QuoteVerdict =
        stored_code("quote verdict", &row.verdict).map_err(ServiceError::Internal)?;
    let level: AuthorityLevel =
        stored_code("authority level", &row.required_level).map_err(ServiceError::Internal)?;
    let totals: StoredTotals = from_json("quote totals", &row.totals)?;
    let prerequisites: Vec<StoredPrerequisite> =
        from_json("missing prerequisites", &row.missing_prerequisites)?;
    let refs: Vec<StoredRef> = from_json("rule versions", &row.rule_versions)?;
    let money = |m: &Option<StoredMoney>| -> Result<Option<v1::Money>> {
        m.as_ref()
            .map(|m| m.to_domain().map(convert::money_to_proto))
            .transpose()
    };
    let mut sorted: Vec<&quote_item::Model> = items.iter().collect();
    sorted.sort_by_key(|i| i.position);
    let decisions = decisions
        .iter()
        .map(|d| {
            let outcome: QuoteDecisionOutcome =
                stored_code("decision outcome", &d.outcome).map_err(ServiceError::Internal)?;
            Ok(v1::QuoteDecision {
                outcome: match outcome {
                    QuoteDecisionOutcome::Approved => v1::DecisionOutcome::Approved,
                    QuoteDecisionOutcome::Rejected => v1::DecisionOutcome::Rejected,
                } as i32,
                stamp: Some(convert::stamp(&d.actor_id, d.decide_time, &d.reason)),
                approver_branch: Some(v1::BranchRef {
                    branch_id: d.approver_branch_id.clone(),
                    ..v1::BranchRef::default()
                }),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(v1::Quote {
        quote_id: row.quote_id.clone(),
        customer_id: row.customer_id.clone(),
        branch_id: row.branch_id.clone(),
        opportunity_id: row.opportunity_id.clone().unwrap_or_default(),
        bundle_id: row.bundle_id.clone().unwrap_or_default(),
        bundle_version: row.bundle_version.unwrap_or(0),
        items: sorted
            .into_iter()
            .map(item_to_proto)
            .collect::<Result<Vec<_>>>()?,
        totals: Some(economics_to_proto(&totals.totals.to_domain()?)),
        existing_contribution: money(&totals.existing_contribution)?,
        combined_contribution: money(&totals.combined_contribution)?,
        verdict: verdict_to_proto(verdict) as i32,
        required_approval_level: convert::level_to_proto(level) as i32,
        strategic: row.strategic,
        strategic_reason: row.strategic_reason.clone(),
        missing_prerequisites: prerequisites
            .iter()
            .map(|p| {
                p.to_domain()
                    .map(|p| crate::bundles::prerequisite_to_proto(&p))
            })
            .collect::<Result<Vec<_>>>()?,
        rule_versions: refs
            .into_iter()
            .map(|r| v1::RuleVersionRef {
                rule_kind: r.kind,
                rule_id: r.id,
                version: r.version,
            })
            .collect(),
        registry_data_version: row.registry_data_version,
        hurdle_rate_bps: row.hurdle_rate_bps,
        status: status_to_proto(status_at(row, now)?) as i32,
        created: Some(convert::stamp(&row.created_by, row.create_time, "")),
        submitted: match (&row.submitted_by, row.submit_time) {
            (Some(by), Some(at)) => Some(convert::stamp(
                by,
                at,
                row.submit_reason.as_deref().unwrap_or(""),
            )),
            _ => None,
        },
        decisions,
        expire_time: Some(convert::timestamp(row.expire_time)),
        supersedes_quote_id: row.supersedes_quote_id.clone().unwrap_or_default(),
        version: row.version,
    })
}

/// A stored decimal string of `what` (FX rate, year fraction).
pub fn decimal_of(what: &str, raw: &str) -> Result<Decimal> {
    stored_decimal(what, raw).map_err(ServiceError::Internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_forms_round_trip() {
        let cny = |minor| Money::from_minor(Currency::CNY, minor);
        let e = Economics {
            margin: cny(17_500_000),
            operating_cost: cny(4_000_000),
            expected_loss: cny(2_000_000),
            economic_capital: cny(80_000_000),
            risk_adjusted_return: cny(11_500_000),
            eva: cny(1_900_000),
            raroc: Some(Decimal::new(1438, 4)),
        };
        let stored = StoredEconomics::from_domain(&e);
        let json = to_json(&stored).unwrap_or_default();
        let back: StoredEconomics = from_json("economics", &json).unwrap_or(stored.clone());
        assert_eq!(back.to_domain().ok(), Some(e));
        for p in [
            Price::Rate(BasisPoints::new(415)),
            Price::AnnualFee(Money::from_minor(Currency::USD, 2_000_000)),
        ] {
            let json = to_json(&StoredPrice::from_domain(p)).unwrap_or_default();
            let back: Option<StoredPrice> = from_json("price", &json).ok();
            assert_eq!(back.and_then(|b| b.to_domain().ok()), Some(p));
        }
        for requirement in [
            Requirement::HoldsProduct("CARD".into()),
            Requirement::HoldsCategory(ProductCategory::Card),
            Requirement::ExecutivePersonalAccounts { min_count: 2 },
        ] {
            let p = Prerequisite {
                prerequisite_id: "x".into(),
                requirement,
                description: "d".into(),
            };
            assert_eq!(
                StoredPrerequisite::from_domain(&p).to_domain().ok(),
                Some(p)
            );
        }
        assert_eq!(
            status_from_proto(status_to_proto(QuoteStatus::Superseded) as i32),
            Some(QuoteStatus::Superseded)
        );
        assert_eq!(status_from_proto(0), None);
    }
}
