//! Quotes, approvals, simulation and covenants: the RPCs `CreateQuote` ([`create`]),
//! `GetQuote` and `ListQuotes` ([`read`]), `SubmitQuote`, `ApproveQuote` and `RejectQuote`
//! ([`approvals`]), `SimulatePricing` ([`simulate`]) and `RecordCovenantObservation`
//! ([`covenants`]). The service only adapts: the customer's facts come from the registry
//! (`crate::facts`), the catalogue, rules, bands, limits and rates are read at one catalogue
//! version ([`context`]), and every figure, verdict, approval rule and step-up is the domain's
//! (`price_quote`, `simulate`, `decide`, `submit`, `observe`, `restate`). This module owns the
//! quote tables ([`entity`]) and their stored forms ([`stored`]), the branch chains approvals are
//! decided on ([`branches`]), the configuration of quoting ([`Quoting`]: hurdle, operational-risk
//! ratio, covenant step-up, expiry) and who may see and make quotes. A caller sees a quote whose
//! branch is in its own subtree (its branch is on the quote's materialised path), or every quote
//! with a bank-wide read role; any other quote is `NOT_FOUND`.

pub mod approvals;
pub mod branches;
pub mod context;
pub mod covenants;
pub mod create;
pub mod entity;
pub mod read;
pub mod simulate;
pub mod stored;

use std::time::Duration;

use bankmkt_domain::access::BANK_WIDE_READ_ROLES;
use bankmkt_domain::money::BasisPoints;
use bankmkt_domain::org::Role;
use bankmkt_domain::pricing::{CovenantStepUp, EconomicsConfig, QuoteConfig};
use bankmkt_platform::Caller;
use bankmkt_platform::bootstrap::ServiceContext;
use bankmkt_platform::client::ServiceIdentity;
use bankmkt_platform::settings::ServiceKind;
use bankmkt_platform::status::Violations;
use sea_orm::QueryOrder;
use sea_orm::entity::prelude::*;

use crate::error::{Result, ServiceError};
use entity::{quote, quote_decision, quote_item};

/// Roles that may price, store and submit quotes and run simulations.
pub const QUOTE_MAKERS: [Role; 5] = [
    Role::CustomerManager,
    Role::TeamLead,
    Role::BranchHead,
    Role::PricingCommittee,
    Role::Admin,
];

/// Roles that may record covenant observations: the makers, and the systems that observe.
pub const COVENANT_RECORDERS: [Role; 7] = [
    Role::CustomerManager,
    Role::TeamLead,
    Role::BranchHead,
    Role::PricingCommittee,
    Role::Admin,
    Role::CoreBanking,
    Role::Batch,
];

/// The default time a quote stays open: 30 days.
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(30 * 24 * 3600);

/// The configuration of quoting and the registry client of branch chains.
#[derive(Clone, Debug)]
pub struct Quoting {
    /// Hurdle, operational-risk ratio and covenant step-up.
    pub config: QuoteConfig,
    /// How long a quote stays open for submission and decision.
    pub expiry: Duration,
    /// The registry's branch tree; `None` answers `UNAVAILABLE` where a chain is needed.
    pub branches: Option<branches::BranchRegistry>,
}

impl Default for Quoting {
    fn default() -> Self {
        Quoting {
            config: QuoteConfig::default(),
            expiry: DEFAULT_EXPIRY,
            branches: None,
        }
    }
}

impl Quoting {
    /// The configuration of `ctx`'s settings, with a registry client at its endpoint.
    pub fn from_context(
        ctx: &ServiceContext,
    ) -> std::result::Result<Quoting, tonic::transport::Error> {
        let s = &ctx.settings;
        let branches = branches::BranchRegistry::connect_lazy(
            &s.service(ServiceKind::Registry).endpoint,
            s.rpc_default_deadline,
            ServiceIdentity::new(crate::KIND.short_name(), ctx.authenticator.clone()),
        )?;
        Ok(Quoting {
            config: QuoteConfig {
                economics: EconomicsConfig {
                    hurdle_rate: BasisPoints::new(s.quote_hurdle_rate_bps),
                    operational_risk_ratio: BasisPoints::new(s.quote_operational_risk_ratio_bps),
                },
                covenant_step_up: CovenantStepUp(BasisPoints::new(s.covenant_step_up_bps)),
            },
            expiry: s.quote_expiry,
            branches: Some(branches),
        })
    }
}

/// Whether `caller` reads quotes of every branch.
pub fn reads_bank_wide(caller: &Caller) -> bool {
    BANK_WIDE_READ_ROLES.iter().any(|r| caller.has_role(*r))
}

/// Whether `caller` may see a quote filed under `branch_path` (`/HQ/BJ/BJ01/`).
pub fn may_see(caller: &Caller, branch_path: &str) -> bool {
    reads_bank_wide(caller)
        || caller
            .branch
            .as_ref()
            .is_some_and(|b| branch_path.contains(&format!("/{}/", b.as_str())))
}

/// A quote id from the wire: a UUID this service issued, in canonical form.
pub fn quote_id(field: &str, raw: &str, v: &mut Violations) -> Option<String> {
    crate::convert::series_id(field, raw, v)
}

/// A quote with its items and decisions.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The quote row.
    pub quote: quote::Model,
    /// Its items.
    pub items: Vec<quote_item::Model>,
    /// Its decisions, oldest first.
    pub decisions: Vec<quote_decision::Model>,
}

/// Loads quote `id` with its items and decisions, when it exists and `caller` may see it
/// (`NOT_FOUND` otherwise).
pub async fn load<C: ConnectionTrait>(db: &C, caller: &Caller, id: &str) -> Result<Loaded> {
    let loaded = load_any(db, id).await?;
    if may_see(caller, &loaded.quote.branch_path) {
        Ok(loaded)
    } else {
        Err(ServiceError::NotFound {
            kind: "quote",
            id: id.to_owned(),
        })
    }
}

/// Loads quote `id` with its items and decisions whoever asks (`NOT_FOUND` when it does not
/// exist): for decisions, where whoever is not an approver on the quote's chain is refused with
/// `PERMISSION_DENIED` by the domain's rule.
pub async fn load_any<C: ConnectionTrait>(db: &C, id: &str) -> Result<Loaded> {
    let not_found = || ServiceError::NotFound {
        kind: "quote",
        id: id.to_owned(),
    };
    let quote = quote::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let items = quote_item::Entity::find()
        .filter(quote_item::Column::QuoteId.eq(id))
        .order_by_asc(quote_item::Column::Position)
        .all(db)
        .await?;
    let decisions = quote_decision::Entity::find()
        .filter(quote_decision::Column::QuoteId.eq(id))
        .order_by_asc(quote_decision::Column::Id)
        .all(db)
        .await?;
    Ok(Loaded {
        quote,
        items,
        decisions,
    })
}

/// A required idempotency key: 1 to 128 printable ASCII characters.
pub fn idempotency_key(raw: &str, v: &mut Violations) {
    if raw.is_empty() || raw.len() > 128 || !raw.chars().all(|c| c.is_ascii_graphic()) {
        v.add(
            "idempotency_key",
            "must be 1 to 128 printable ASCII characters",
        );
    }
}

/// The idempotency scope of `rpc` for `caller` (keys are scoped to the caller and the RPC).
pub fn scope(rpc: &str, caller: &Caller) -> String {
    format!("Pricing/{rpc}/{}", caller.subject)
}

/// What the idempotency store says of `key` in `scope` for a request hashing to `hash`: the
/// stored response on a replay, `None` when fresh, `INVALID_ARGUMENT` naming `idempotency_key`
/// when the key came with another request.
pub async fn replay<T: prost::Message + Default, C: ConnectionTrait>(
    db: &C,
    scope: &str,
    key: &str,
    hash: &str,
) -> Result<Option<T>> {
    use bankmkt_platform::idempotency::{self, Outcome};
    match idempotency::check(db, scope, key, hash).await? {
        Outcome::Fresh => Ok(None),
        Outcome::Replay(bytes) => T::decode(bytes.as_slice())
            .map(Some)
            .map_err(|e| ServiceError::internal(format!("stored response: {e}"))),
        Outcome::Conflict => Err(ServiceError::invalid(
            "idempotency_key",
            "was already used with a different request",
        )),
    }
}

/// Now, to the microsecond: what every backend stores, so a write's answer equals a later read.
pub fn now(svc: &crate::PricingService) -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    svc.clock.now().trunc_subsecs(6)
}
