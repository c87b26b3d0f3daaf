//! Customer value (DOMAIN.md §3; issue 3 item 8): the value rules as versioned data, managers'
//! factor assessments, the batch re-scoring that computes and stores every result, and the reads
//! of those results. Monthly runs compute the comprehensive contribution (before and after risk,
//! potential and linked retail), dormancy and RFM with lifetime value; quarterly runs (window
//! length configurable) compute the five-dimension value score and the GE class from the window's
//! monthly figures. Every result keeps its month and the rule versions it used; a recompute with
//! the same versions replaces it and new versions add to the history. The math lives in
//! `bankmkt_domain` (`ahp`, `value`, `contribution`, `ge`, `dormancy`, `rfm`, `scoring`).
//!
//! - [`rules`]: AHP matrices (CR ≥ 0.10 refused), GE weights, the value configuration.
//! - [`assessments`]: `CreateFactorAssessment`, `ListFactorAssessments`.
//! - [`compute`]: the per-customer monthly and quarterly computations and their writes.
//! - [`jobs`]: `StartRescoring` (idempotent, spawned, resumable) and `GetRescoringJob`.
//! - [`results`]: contribution, value score, GE, dormancy and RFM reads.
//! - [`entity`], [`migration`] ([`ValueMigration`]) and [`wire`] (conversions).

pub mod assessments;
pub mod compute;
pub mod entity;
pub mod jobs;
pub mod migration;
pub mod results;
pub mod rules;
pub mod wire;

use bankmkt_domain::access::may_read_customer;
use bankmkt_domain::org::BranchCode;
use bankmkt_platform::Caller;
use sea_orm::EntityTrait;

pub use migration::ValueMigration;

use crate::customers::Customers;
use crate::customers::entity::customer;
use crate::error::{RegistryError, Result};
use crate::org::branches::tree_as_of;

/// The customer row when the caller may see it; `NOT_FOUND` otherwise.
pub(crate) async fn visible_customer(
    customers: &Customers,
    caller: &Caller,
    customer_id: &str,
) -> Result<customer::Model> {
    let not_found = || RegistryError::NotFound {
        kind: "customer",
        id: customer_id.to_owned(),
    };
    let row = customer::Entity::find_by_id(customer_id.to_owned())
        .one(&customers.db)
        .await?
        .ok_or_else(not_found)?;
    let tree = tree_as_of(&customers.db, customers.clock.today())
        .await?
        .ok_or_else(not_found)?;
    let owning = BranchCode::parse(&row.owning_branch_id)
        .map_err(|e| RegistryError::Internal(format!("stored branch code: {e}")))?;
    if may_read_customer(&caller.roles, caller.branch.as_ref(), &owning, &tree, false) {
        Ok(row)
    } else {
        Err(not_found())
    }
}
