//! What pricing knows of a customer, read from the customer registry over gRPC (pricing →
//! registry is the allowed call direction) **on behalf of the end user**: every call carries the
//! user's own bearer token plus pricing's service identity
//! ([`bankmkt_platform::client::ServiceIdentity`]), so the registry decides what the user may see
//! and pricing never widens it. [`read`] takes the customer 360 (served from the registry's
//! cache: kind, tiers, segment, stage, trailing-twelve-month contribution after risk, owning
//! branch, holdings summary, relationship counts, data version), then, only when the 360 shows
//! them, the customer's holdings of the latest month (held product ids and categories) and its
//! executives (`EXECUTIVE_OF` relationships), each counted as holding a personal account when the
//! executive's own 360, as this user may see it, shows at least one holding. Nothing is cached on
//! the pricing side: the registry's cache answers, and access stays decided per user. Registry
//! `NOT_FOUND` and `PERMISSION_DENIED` keep their codes; a registry that cannot be reached (or is
//! overloaded or too slow) is `UNAVAILABLE`.

use std::collections::BTreeSet;
use std::time::Duration;

use bankmkt_domain::customer::{CorporateTier, CustomerKind, LifecycleStage, WealthTier};
use bankmkt_domain::money::{Currency, Money};
use bankmkt_domain::pricing::rules::CustomerFacts;
use bankmkt_platform::Caller;
use bankmkt_platform::client::{ServiceIdentity, lazy_channel};
use bankmkt_proto::v1;
use bankmkt_proto::v1::customer_registry_client::CustomerRegistryClient;
use tonic::Code;
use tonic::transport::Channel;

use crate::PricingService;
use crate::convert;
use crate::error::{Result, ServiceError};

/// How many executives of one customer are looked at, at most.
const MAX_EXECUTIVES: usize = 50;
/// How many pages of holdings or relationships are read, at most (500 rows each).
const MAX_PAGES: usize = 20;
/// The page size of the registry lists read here.
const PAGE_SIZE: i32 = 500;

/// A customer as pricing sees it at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerSnapshot {
    /// The customer.
    pub customer_id: String,
    /// The owning branch (管户行).
    pub branch_id: String,
    /// The registry's data version of the customer's 360, recorded on quotes.
    pub data_version: String,
    /// The facts the rules and bundles test.
    pub facts: CustomerFacts,
}

/// The registry client pricing calls on behalf of its callers.
#[derive(Clone, Debug)]
pub struct RegistryClient {
    client: CustomerRegistryClient<Channel>,
    identity: ServiceIdentity,
}

impl RegistryClient {
    /// A client on `channel` that adds `identity` to every call.
    pub fn new(channel: Channel, identity: ServiceIdentity) -> RegistryClient {
        RegistryClient {
            client: CustomerRegistryClient::new(channel),
            identity,
        }
    }

    /// A client of the registry at `endpoint` (connected on first use), each call bounded by
    /// `call_timeout`.
    pub fn connect_lazy(
        endpoint: &str,
        call_timeout: Duration,
        identity: ServiceIdentity,
    ) -> std::result::Result<RegistryClient, tonic::transport::Error> {
        Ok(RegistryClient::new(
            lazy_channel(endpoint, call_timeout)?,
            identity,
        ))
    }

    fn request<T>(&self, caller: &Caller, message: T) -> Result<tonic::Request<T>> {
        self.identity
            .request(caller, message)
            .map_err(|e| ServiceError::internal(format!("cannot sign a registry call: {e}")))
    }

    /// `GetCustomer360` of `customer_id` as `caller` may see it.
    pub async fn customer_360(
        &self,
        caller: &Caller,
        customer_id: &str,
    ) -> Result<v1::GetCustomer360Response> {
        let request = self.request(
            caller,
            v1::GetCustomer360Request {
                customer_id: customer_id.to_owned(),
            },
        )?;
        self.client
            .clone()
            .get_customer360(request)
            .await
            .map(tonic::Response::into_inner)
            .map_err(|s| from_registry(s, customer_id))
    }

    /// Every holding of the customer's latest ingested month.
    async fn holdings(
        &self,
        caller: &Caller,
        customer_id: &str,
    ) -> Result<Vec<v1::HoldingSnapshot>> {
        let mut out = Vec::new();
        let mut page_token = String::new();
        for _ in 0..MAX_PAGES {
            let request = self.request(
                caller,
                v1::ListHoldingsRequest {
                    customer_id: customer_id.to_owned(),
                    period: None,
                    product_kind: 0,
                    page_size: PAGE_SIZE,
                    page_token: page_token.clone(),
                },
            )?;
            let page = self
                .client
                .clone()
                .list_holdings(request)
                .await
                .map_err(|s| from_registry(s, customer_id))?
                .into_inner();
            out.extend(page.holdings);
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        Ok(out)
    }

    /// The ids of the customer's current executives (`EXECUTIVE_OF` edges into it).
    async fn executives(&self, caller: &Caller, customer_id: &str) -> Result<Vec<String>> {
        let mut out = BTreeSet::new();
        let mut page_token = String::new();
        for _ in 0..MAX_PAGES {
            let request = self.request(
                caller,
                v1::ListRelationshipsRequest {
                    customer_id: customer_id.to_owned(),
                    direction: v1::RelationshipDirection::Incoming as i32,
                    relationship_types: vec![v1::RelationshipType::ExecutiveOf as i32],
                    include_ended: false,
                    page_size: PAGE_SIZE,
                    page_token: page_token.clone(),
                },
            )?;
            let page = self
                .client
                .clone()
                .list_relationships(request)
                .await
                .map_err(|s| from_registry(s, customer_id))?
                .into_inner();
            out.extend(
                page.relationships
                    .into_iter()
                    .filter(|r| r.to_customer_id == customer_id)
                    .map(|r| r.from_customer_id),
            );
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        Ok(out.into_iter().collect())
    }
}

/// A registry status as this service's error: `NOT_FOUND` and `PERMISSION_DENIED` keep their
/// codes, an unreachable, overloaded or slow registry is `UNAVAILABLE`, a refused id is a bad
/// `customer_id`, anything else is internal (and logged).
fn from_registry(status: tonic::Status, customer_id: &str) -> ServiceError {
    match status.code() {
        Code::NotFound => ServiceError::NotFound {
            kind: "customer",
            id: customer_id.to_owned(),
        },
        Code::PermissionDenied => ServiceError::PermissionDenied(format!(
            "the customer registry refused access to customer {customer_id}: {}",
            status.message()
        )),
        Code::InvalidArgument => ServiceError::invalid(
            "customer_id",
            format!("the customer registry refused it: {}", status.message()),
        ),
        Code::Unavailable
        | Code::DeadlineExceeded
        | Code::ResourceExhausted
        | Code::Cancelled
        | Code::Aborted => ServiceError::Unavailable(format!(
            "the customer registry is unavailable ({:?}: {})",
            status.code(),
            status.message()
        )),
        code => ServiceError::internal(format!(
            "customer registry answered {code:?} for customer {customer_id}: {}",
            status.message()
        )),
    }
}

/// The domain customer kind of a wire value.
pub fn customer_kind_from_proto(raw: i32) -> Option<CustomerKind> {
    match v1::CustomerKind::try_from(raw).ok()? {
        v1::CustomerKind::Individual => Some(CustomerKind::Individual),
        v1::CustomerKind::Corporate => Some(CustomerKind::Corporate),
        v1::CustomerKind::SmallBusiness => Some(CustomerKind::SmallBusiness),
        v1::CustomerKind::Institution => Some(CustomerKind::Institution),
        v1::CustomerKind::Unspecified => None,
    }
}

/// The wire value of a customer kind.
pub fn customer_kind_to_proto(kind: CustomerKind) -> v1::CustomerKind {
    match kind {
        CustomerKind::Individual => v1::CustomerKind::Individual,
        CustomerKind::Corporate => v1::CustomerKind::Corporate,
        CustomerKind::SmallBusiness => v1::CustomerKind::SmallBusiness,
        CustomerKind::Institution => v1::CustomerKind::Institution,
    }
}

/// The domain corporate tier of a wire value; unlisted and unspecified are `None`.
pub fn corporate_tier_from_proto(raw: i32) -> Option<CorporateTier> {
    match v1::CorporateTier::try_from(raw).ok()? {
        v1::CorporateTier::HeadOffice => Some(CorporateTier::HeadOffice),
        v1::CorporateTier::Tier1Branch => Some(CorporateTier::Tier1Branch),
        v1::CorporateTier::Tier2Branch => Some(CorporateTier::Tier2Branch),
        v1::CorporateTier::SubBranch => Some(CorporateTier::SubBranch),
        v1::CorporateTier::Unlisted | v1::CorporateTier::Unspecified => None,
    }
}

/// The wire value of a corporate tier.
pub fn corporate_tier_to_proto(tier: CorporateTier) -> v1::CorporateTier {
    match tier {
        CorporateTier::HeadOffice => v1::CorporateTier::HeadOffice,
        CorporateTier::Tier1Branch => v1::CorporateTier::Tier1Branch,
        CorporateTier::Tier2Branch => v1::CorporateTier::Tier2Branch,
        CorporateTier::SubBranch => v1::CorporateTier::SubBranch,
    }
}

/// The domain wealth tier of a wire value.
pub fn wealth_tier_from_proto(raw: i32) -> Option<WealthTier> {
    match v1::WealthTier::try_from(raw).ok()? {
        v1::WealthTier::Mass => Some(WealthTier::Mass),
        v1::WealthTier::Vip => Some(WealthTier::Vip),
        v1::WealthTier::Platinum => Some(WealthTier::Platinum),
        v1::WealthTier::PrivateBanking => Some(WealthTier::PrivateBanking),
        v1::WealthTier::Unspecified => None,
    }
}

/// The wire value of a wealth tier.
pub fn wealth_tier_to_proto(tier: WealthTier) -> v1::WealthTier {
    match tier {
        WealthTier::Mass => v1::WealthTier::Mass,
        WealthTier::Vip => v1::WealthTier::Vip,
        WealthTier::Platinum => v1::WealthTier::Platinum,
        WealthTier::PrivateBanking => v1::WealthTier::PrivateBanking,
    }
}

/// The domain lifecycle stage of a wire value.
pub fn stage_from_proto(raw: i32) -> Option<LifecycleStage> {
    match v1::LifecycleStage::try_from(raw).ok()? {
        v1::LifecycleStage::Potential => Some(LifecycleStage::Potential),
        v1::LifecycleStage::Target => Some(LifecycleStage::Target),
        v1::LifecycleStage::New => Some(LifecycleStage::New),
        v1::LifecycleStage::Established => Some(LifecycleStage::Established),
        v1::LifecycleStage::Core => Some(LifecycleStage::Core),
        v1::LifecycleStage::Strategic => Some(LifecycleStage::StrategicPartner),
        v1::LifecycleStage::Problem => Some(LifecycleStage::Problem),
        v1::LifecycleStage::Exited => Some(LifecycleStage::Exited),
        v1::LifecycleStage::Unspecified => None,
    }
}

/// The wire value of a lifecycle stage.
pub fn stage_to_proto(stage: LifecycleStage) -> v1::LifecycleStage {
    match stage {
        LifecycleStage::Potential => v1::LifecycleStage::Potential,
        LifecycleStage::Target => v1::LifecycleStage::Target,
        LifecycleStage::New => v1::LifecycleStage::New,
        LifecycleStage::Established => v1::LifecycleStage::Established,
        LifecycleStage::Core => v1::LifecycleStage::Core,
        LifecycleStage::StrategicPartner => v1::LifecycleStage::Strategic,
        LifecycleStage::Problem => v1::LifecycleStage::Problem,
        LifecycleStage::Exited => v1::LifecycleStage::Exited,
    }
}

/// A registry amount; `None` when absent or not in a known currency.
fn registry_money(raw: Option<&v1::Money>) -> Option<Money> {
    let raw = raw?;
    let currency = Currency::parse(&raw.currency).ok()?;
    Some(Money::from_minor(currency, raw.minor_units))
}

/// The facts of a customer 360 alone (no holdings list, no executives).
pub fn facts_of_360(c360: &v1::GetCustomer360Response) -> CustomerFacts {
    let mut facts = CustomerFacts::default();
    if let Some(c) = &c360.customer {
        facts.kind = customer_kind_from_proto(c.kind);
        facts.corporate_tier = corporate_tier_from_proto(c.corporate_tier);
        facts.wealth_tier = wealth_tier_from_proto(c.wealth_tier);
        facts.stage = stage_from_proto(c.stage);
        if !c.segment_id.is_empty() {
            facts.segment_ids = vec![c.segment_id.clone()];
        }
    }
    facts.ttm_contribution = c360
        .ttm_contribution
        .as_ref()
        .and_then(|c| registry_money(c.after_risk.as_ref()));
    if let Some(h) = &c360.holdings {
        for category in &h.categories {
            if category.account_count > 0
                && let Some(cat) = convert::category_from_proto(category.category)
                && !facts.held_categories.contains(&cat)
            {
                facts.held_categories.push(cat);
            }
        }
    }
    facts
}

/// Whether a 360 shows any holding in its latest month.
fn holds_anything(c360: &v1::GetCustomer360Response) -> bool {
    c360.holdings
        .as_ref()
        .is_some_and(|h| h.product_count > 0 || h.categories.iter().any(|c| c.account_count > 0))
}

/// How many executives of the customer an organisation has that the 360 counts.
fn executive_count(c360: &v1::GetCustomer360Response) -> i64 {
    c360.relationship_counts
        .iter()
        .filter(|r| {
            r.relationship_type == v1::RelationshipType::ExecutiveOf as i32
                && r.direction == v1::RelationshipDirection::Incoming as i32
        })
        .map(|r| r.count)
        .sum()
}

/// Reads the customer `customer_id` from the registry on behalf of `caller`: the registry decides
/// whether the caller may see it (`NOT_FOUND` or `PERMISSION_DENIED` as it answers); a registry
/// that cannot be reached is `UNAVAILABLE`; a merged customer is `FAILED_PRECONDITION` naming
/// its survivor.
pub async fn read(
    svc: &PricingService,
    caller: &Caller,
    customer_id: &str,
) -> Result<CustomerSnapshot> {
    let customer_id = customer_id.trim();
    if customer_id.is_empty() {
        return Err(ServiceError::invalid("customer_id", "is required"));
    }
    let registry = &svc.registry;
    let c360 = registry.customer_360(caller, customer_id).await?;
    let Some(customer) = &c360.customer else {
        return Err(ServiceError::internal(format!(
            "the registry's 360 of {customer_id} has no customer"
        )));
    };
    if customer.status == v1::CustomerStatus::Merged as i32 {
        return Err(ServiceError::FailedPrecondition {
            kind: "CUSTOMER_MERGED",
            subject: customer_id.to_owned(),
            message: format!(
                "customer {customer_id} was merged into {}; price the survivor",
                customer.merged_into_customer_id
            ),
        });
    }
    let branch_id = c360
        .ownership
        .as_ref()
        .map(|o| o.owning_branch_id.clone())
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| customer.owning_branch_id.clone());
    let mut facts = facts_of_360(&c360);

    if holds_anything(&c360) {
        for holding in registry.holdings(caller, customer_id).await? {
            if !facts.held_product_ids.contains(&holding.product_id) {
                facts.held_product_ids.push(holding.product_id);
            }
            if let Some(cat) = convert::category_from_proto(holding.product_category)
                && !facts.held_categories.contains(&cat)
            {
                facts.held_categories.push(cat);
            }
        }
    }

    if facts.kind != Some(CustomerKind::Individual) && executive_count(&c360) > 0 {
        let executives = registry.executives(caller, customer_id).await?;
        let reads = executives
            .iter()
            .take(MAX_EXECUTIVES)
            .map(|id| registry.customer_360(caller, id));
        let mut with_accounts = 0u32;
        for result in futures::future::join_all(reads).await {
            match result {
                Ok(exec) if holds_anything(&exec) => with_accounts += 1,
                Ok(_) => {}
                // An executive this user may not see does not count for them.
                Err(ServiceError::NotFound { .. } | ServiceError::PermissionDenied(_)) => {}
                Err(e) => return Err(e),
            }
        }
        facts.executives_with_personal_accounts = with_accounts;
    }

    Ok(CustomerSnapshot {
        customer_id: customer.customer_id.clone(),
        branch_id,
        data_version: c360.data_version.to_string(),
        facts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bankmkt_domain::pricing::ProductCategory;

    #[test]
    fn a_360_gives_the_facts_rules_test() {
        let c360 = v1::GetCustomer360Response {
            customer: Some(v1::Customer {
                customer_id: "C1".into(),
                kind: v1::CustomerKind::Corporate as i32,
                corporate_tier: v1::CorporateTier::Tier2Branch as i32,
                stage: v1::LifecycleStage::Strategic as i32,
                segment_id: "seg-a".into(),
                ..v1::Customer::default()
            }),
            ttm_contribution: Some(v1::Contribution {
                after_risk: Some(v1::Money {
                    currency: "CNY".into(),
                    minor_units: 18_000_000,
                }),
                ..v1::Contribution::default()
            }),
            holdings: Some(v1::HoldingsSummary {
                product_count: 1,
                categories: vec![v1::CategoryHolding {
                    category: v1::ProductCategory::Payroll as i32,
                    account_count: 1,
                    ..v1::CategoryHolding::default()
                }],
                ..v1::HoldingsSummary::default()
            }),
            relationship_counts: vec![v1::RelationshipCount {
                relationship_type: v1::RelationshipType::ExecutiveOf as i32,
                direction: v1::RelationshipDirection::Incoming as i32,
                count: 2,
            }],
            data_version: 7,
            ..v1::GetCustomer360Response::default()
        };
        let facts = facts_of_360(&c360);
        assert_eq!(facts.kind, Some(CustomerKind::Corporate));
        assert_eq!(facts.corporate_tier, Some(CorporateTier::Tier2Branch));
        assert_eq!(facts.stage, Some(LifecycleStage::StrategicPartner));
        assert_eq!(facts.segment_ids, ["seg-a"]);
        assert_eq!(
            facts.ttm_contribution,
            Some(Money::from_minor(Currency::CNY, 18_000_000))
        );
        assert_eq!(facts.held_categories, [ProductCategory::Payroll]);
        assert!(holds_anything(&c360));
        assert_eq!(executive_count(&c360), 2);
        let unlisted = v1::GetCustomer360Response {
            customer: Some(v1::Customer {
                corporate_tier: v1::CorporateTier::Unlisted as i32,
                ..v1::Customer::default()
            }),
            ..v1::GetCustomer360Response::default()
        };
        assert_eq!(facts_of_360(&unlisted), CustomerFacts::default());
    }

    #[test]
    fn registry_codes_map_to_pricing_codes() {
        let code =
            |c: Code| tonic::Status::from(from_registry(tonic::Status::new(c, "x"), "C1")).code();
        assert_eq!(code(Code::NotFound), Code::NotFound);
        assert_eq!(code(Code::PermissionDenied), Code::PermissionDenied);
        assert_eq!(code(Code::Unavailable), Code::Unavailable);
        assert_eq!(code(Code::DeadlineExceeded), Code::Unavailable);
        assert_eq!(code(Code::InvalidArgument), Code::InvalidArgument);
        assert_eq!(code(Code::DataLoss), Code::Internal);
    }

    #[test]
    fn customer_enums_round_trip() {
        for stage in [
            LifecycleStage::Potential,
            LifecycleStage::StrategicPartner,
            LifecycleStage::Exited,
        ] {
            assert_eq!(stage_from_proto(stage_to_proto(stage) as i32), Some(stage));
        }
        for tier in [CorporateTier::HeadOffice, CorporateTier::SubBranch] {
            assert_eq!(
                corporate_tier_from_proto(corporate_tier_to_proto(tier) as i32),
                Some(tier)
            );
        }
        for tier in [WealthTier::Mass, WealthTier::PrivateBanking] {
            assert_eq!(
                wealth_tier_from_proto(wealth_tier_to_proto(tier) as i32),
                Some(tier)
            );
        }
        for kind in [CustomerKind::Individual, CustomerKind::Institution] {
            assert_eq!(
                customer_kind_from_proto(customer_kind_to_proto(kind) as i32),
                Some(kind)
            );
        }
    }
}
