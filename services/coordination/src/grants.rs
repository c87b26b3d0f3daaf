//! Access through membership (DOMAIN.md §5): keeps the registry's access grants of each
//! opportunity (grant source `opportunity:<id>`) in step with the domain's `members::read_grants`
//! — every active member may read every target (main and linked) while the opportunity is not
//! lost or closed, and nobody once it is. [`sync`] is the one place that does it: every write that
//! changes an opportunity's members, targets or stage (create, follow-on and its parent, linked
//! targets, members, transitions, applied share amendments, join acceptances and bid awards)
//! calls it on its own transaction, after its changes and *before* it commits, so a registry that
//! cannot be reached fails the write with `UNAVAILABLE` and nothing is half-done. The registry's
//! call replaces the source's whole set and is idempotent under a key made of the opportunity, its
//! new version and a digest of the set, so a retry converges. The call carries coordination's
//! service identity ([`crate::clients::Registry::set_access_grants`]); the registry accepts grants
//! from services only. When the write leaves the grant set as it was, no call is made.

use std::collections::BTreeSet;

use bankmkt_domain::coordination::members;
use bankmkt_domain::ids::CustomerId;
use bankmkt_platform::Caller;
use bankmkt_proto::v1;
use chrono::NaiveDate;
use prost::Message;
use sea_orm::ConnectionTrait;

use crate::CoordinationService;
use crate::convert;
use crate::error::Result;
use crate::store::{self, Loaded};

/// The registry's grant source of opportunity `id`.
pub fn source(id: &str) -> String {
    format!("opportunity:{id}")
}

/// The (customers, employees) the opportunity grants on `today`: both empty when it grants
/// nothing (no active member, or lost or closed).
pub fn grant_set(loaded: &Loaded, today: NaiveDate) -> Result<(Vec<String>, Vec<String>)> {
    let mut targets: Vec<CustomerId> = vec![loaded.target()?];
    targets.extend(loaded.linked()?);
    let pairs = members::read_grants(loaded.stage()?, &loaded.memberships()?, &targets, today);
    let customers: BTreeSet<String> = pairs.iter().map(|(_, c)| c.to_string()).collect();
    let employees: BTreeSet<String> = pairs.iter().map(|(e, _)| e.clone()).collect();
    Ok((
        customers.into_iter().collect(),
        employees.into_iter().collect(),
    ))
}

/// Puts opportunity `id`'s grants, as `txn` now holds it, into the registry on behalf of
/// `caller`, unless they equal those of `before` (the opportunity as the write found it; `None`
/// for a new one, whose empty set is then compared). Call it last on the write's transaction,
/// just before the commit.
pub async fn sync<C: ConnectionTrait>(
    svc: &CoordinationService,
    caller: &Caller,
    txn: &C,
    id: &str,
    before: Option<&Loaded>,
) -> Result<()> {
    let today = svc.clock.today();
    let after = store::load_any(txn, id).await?;
    let (customer_ids, employee_ids) = grant_set(&after, today)?;
    let was = match before {
        Some(b) => grant_set(b, today)?,
        None => (Vec::new(), Vec::new()),
    };
    if was == (customer_ids.clone(), employee_ids.clone()) {
        return Ok(());
    }
    let grant_source = source(id);
    let digest = convert::filter_hash(
        &v1::SetCustomerAccessGrantsRequest {
            idempotency_key: String::new(),
            grant_source: grant_source.clone(),
            customer_ids: customer_ids.clone(),
            employee_ids: employee_ids.clone(),
        }
        .encode_to_vec(),
    );
    let request = v1::SetCustomerAccessGrantsRequest {
        idempotency_key: format!("{grant_source}@{}:{digest}", after.row.version),
        grant_source,
        customer_ids,
        employee_ids,
    };
    svc.registry.set_access_grants(caller, request).await?;
    Ok(())
}
