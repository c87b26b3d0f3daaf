//! Who may change pricing data. Reads of the catalogue and reference data are open to every
//! authenticated caller (they are bank-wide, not branch data); each write needs one of the roles
//! its RPC's documentation names, else `PERMISSION_DENIED`:
//! - products ([`CATALOGUE_WRITERS`]): product manager or admin;
//! - price versions ([`PRICE_WRITERS`]): product manager, pricing committee or admin;
//! - relationship rules and authority bands ([`RULE_WRITERS`]): pricing committee or admin;
//! - bundles ([`BUNDLE_WRITERS`]): product manager, pricing committee or admin;
//! - reference rates, regulatory limits and FX rates ([`REFERENCE_WRITERS`]): pricing committee
//!   or admin.

use bankmkt_domain::org::Role;
use bankmkt_platform::Caller;

use crate::error::{Result, ServiceError};

/// Roles that may create and change products.
pub const CATALOGUE_WRITERS: [Role; 2] = [Role::ProductManager, Role::Admin];
/// Roles that may add price versions.
pub const PRICE_WRITERS: [Role; 3] = [Role::ProductManager, Role::PricingCommittee, Role::Admin];
/// Roles that may change relationship pricing rules and authority bands.
pub const RULE_WRITERS: [Role; 2] = [Role::PricingCommittee, Role::Admin];
/// Roles that may create and change bundles.
pub const BUNDLE_WRITERS: [Role; 3] = [Role::ProductManager, Role::PricingCommittee, Role::Admin];
/// Roles that may record reference rates, regulatory limits and FX rates.
pub const REFERENCE_WRITERS: [Role; 2] = [Role::PricingCommittee, Role::Admin];

/// Refuses callers holding none of `roles`.
pub fn require_role(caller: &Caller, roles: &[Role], action: &str) -> Result<()> {
    if roles.iter().any(|r| caller.has_role(*r)) {
        Ok(())
    } else {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(ServiceError::PermissionDenied(format!(
            "{action} needs one of the roles {}",
            names.join(", ")
        )))
    }
}
