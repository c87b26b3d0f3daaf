//! The organisation: the branch tree with its effective-dated history ([`branches`]) and the staff
//! directory ([`employees`]). Other services read both from here, cached.

pub mod branches;
pub mod employees;
pub mod entity;
pub mod teams;

use bankmkt_domain::org::Role;
use bankmkt_platform::Caller;

use crate::error::{RegistryError, Result};

/// Refuses callers holding none of `roles`.
pub fn require_role(caller: &Caller, roles: &[Role], action: &str) -> Result<()> {
    if roles.iter().any(|r| caller.has_role(*r)) {
        Ok(())
    } else {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(RegistryError::PermissionDenied(format!(
            "{action} needs one of the roles {}",
            names.join(", ")
        )))
    }
}
