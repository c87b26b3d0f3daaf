//! The customer master: create, read (one or a batch), update with optimistic concurrency, search
//! with keyset paging, and source-system cross-references. Identity numbers and phone numbers are
//! sealed at rest by the [`PiiVault`] and found through blind indexes; a duplicate identity is
//! refused by a unique constraint, so concurrent creates of one person leave exactly one record.
//! Reads go through the shared cache, which holds only the stored (sealed) form: opening and
//! masking happen after the cache, per caller.

pub mod consent;
pub mod entity;
pub mod merge;
pub mod migration;
pub mod portfolio;

use std::collections::HashMap;
use std::time::Duration;

use bankmkt_domain::access::{may_read_customer, may_see_clear_pii};
use bankmkt_domain::branch_tree::BranchTree;
use bankmkt_domain::customer::{
    CustomerKind, IdentityType, LifecycleStage, normalize_identity_number,
};
use bankmkt_domain::masking::{mask_identity_number, mask_phone};
use bankmkt_domain::org::{BranchCode, Role};
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::cache::{CacheKey, ReadThrough};
use bankmkt_platform::clock::Clock;
use bankmkt_platform::idempotency::{self, Outcome};
use bankmkt_platform::outbox::{self, Envelope};
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::pii::{PiiVault, Sealed};
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::Datelike;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{
    ActiveValue::Set, DatabaseConnection, QueryOrder, QuerySelect, SqlErr, TransactionTrait,
};

use self::entity::{customer, customer_identity, customer_xref};
use crate::convert::{self, branch_code, optional_date};
use crate::error::{RegistryError, Result};
use crate::org::entity::employee;

/// How long a stored customer stays in the cache (writes invalidate it sooner).
const CACHE_TTL: Duration = Duration::from_secs(300);
/// Version of the cached shape; bump when [`StoredCustomer`] changes.
const CACHE_SCHEMA: u32 = 1;
/// Most ids in one `BatchGetCustomers`.
pub const MAX_BATCH: usize = 500;

/// The purpose (associated data and index domain) of a sealed identity number.
pub(crate) fn identity_purpose(kind: IdentityType) -> String {
    format!("identity:{}", kind.as_str())
}
pub(crate) const PHONE_PURPOSE: &str = "phone";

/// Everything stored about one customer, as the cache holds it (PII still sealed).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct StoredCustomer {
    /// The record.
    pub customer: customer::Model,
    /// Its identity documents.
    pub identities: Vec<customer_identity::Model>,
    /// Its cross-references.
    pub xrefs: Vec<customer_xref::Model>,
}

/// What the customer handlers need.
#[derive(Clone, Debug)]
pub struct Customers {
    /// The registry database.
    pub db: DatabaseConnection,
    /// The shared cache.
    pub cache: ReadThrough,
    /// Time and the business calendar.
    pub clock: Clock,
    /// Sealing and blind indexes.
    pub pii: std::sync::Arc<PiiVault>,
    /// Today's branch tree, remembered per tree version.
    pub trees: crate::org::branches::TreeMemo,
}

pub(crate) fn cache_key(customer_id: &str) -> CacheKey {
    CacheKey::new("customer", CACHE_SCHEMA, customer_id)
}

fn internal(e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Internal(e.to_string())
}

fn parse_code<T: std::str::FromStr>(what: &str, raw: &str) -> Result<T> {
    raw.parse()
        .map_err(|_| internal(format!("stored {what} {raw:?} is not valid")))
}

/// Roles that may create customers.
const CREATE_ROLES: [Role; 4] = [
    Role::CustomerManager,
    Role::Admin,
    Role::CoreBanking,
    Role::Batch,
];
/// Roles that may update master data.
const UPDATE_ROLES: [Role; 4] = [
    Role::CustomerManager,
    Role::Admin,
    Role::CoreBanking,
    Role::Batch,
];

impl Customers {
    async fn tree(&self) -> Result<std::sync::Arc<BranchTree>> {
        self.trees
            .current(&self.db, self.clock.today())
            .await?
            .0
            .ok_or_else(|| RegistryError::FailedPrecondition {
                kind: "BRANCH_TREE",
                subject: "tree".to_owned(),
                message: "no branch tree has been loaded yet".to_owned(),
            })
    }

    /// Loads the stored form through the cache.
    pub(crate) async fn stored(&self, customer_id: &str) -> Result<Option<StoredCustomer>> {
        let key = cache_key(customer_id);
        let db = self.db.clone();
        let id = customer_id.to_owned();
        let bytes = self
            .cache
            .get_or_load(&key, CACHE_TTL, || async move {
                let Some(stored) = load_stored(&db, &id).await? else {
                    return Ok::<_, RegistryError>(None);
                };
                serde_json::to_vec(&stored).map(Some).map_err(internal)
            })
            .await?;
        match bytes {
            None => Ok(None),
            Some(b) => match serde_json::from_slice(&b) {
                Ok(stored) => Ok(Some(stored)),
                Err(e) => {
                    // A corrupt or foreign entry: drop it and read the database.
                    tracing::warn!(customer_id, error = %e, "unreadable cache entry; reloading");
                    self.cache.invalidate(&key).await;
                    load_stored(&self.db, customer_id).await
                }
            },
        }
    }

    /// The caller's view of a customer it may read, or NOT_FOUND.
    fn view(
        &self,
        caller: &Caller,
        tree: &BranchTree,
        stored: &StoredCustomer,
    ) -> Result<v1::Customer> {
        let owning = parse_code::<BranchCode>("branch", &stored.customer.owning_branch_id)?;
        if !may_read_customer(&caller.roles, caller.branch.as_ref(), &owning, tree, false) {
            return Err(RegistryError::NotFound {
                kind: "customer",
                id: stored.customer.customer_id.clone(),
            });
        }
        self.view_unchecked(caller, stored)
    }

    /// The caller's view of a customer whose visibility was already decided: masked unless the
    /// caller may see personal data in clear.
    pub(crate) fn view_unchecked(
        &self,
        caller: &Caller,
        stored: &StoredCustomer,
    ) -> Result<v1::Customer> {
        let clear = may_see_clear_pii(
            &caller.roles,
            &caller.subject,
            &stored.customer.primary_manager_id,
            &stored.customer.backup_manager_id,
        );
        to_proto(&self.pii, stored, clear)
    }

    /// `CreateCustomer`.
    pub async fn create(
        &self,
        caller: &Caller,
        request_id: &str,
        request: v1::CreateCustomerRequest,
    ) -> Result<v1::CreateCustomerResponse> {
        crate::org::require_role(caller, &CREATE_ROLES, "CreateCustomer")?;
        let mut v = Violations::new();
        if request.idempotency_key.is_empty()
            || request.idempotency_key.len() > 128
            || !request
                .idempotency_key
                .chars()
                .all(|c| c.is_ascii_graphic())
        {
            v.add(
                "idempotency_key",
                "must be 1 to 128 printable ASCII characters",
            );
        }
        let Some(wire) = request.customer.as_ref() else {
            v.add("customer", "is required");
            return Err(v.into());
        };
        let kind = convert::kind_from_proto(wire.kind);
        if kind.is_none() {
            v.add("customer.kind", "must be a known customer kind");
        }
        validate_name("customer.name", &wire.name, &mut v);
        let identities = validate_identities("customer.", kind, &wire.identities, &mut v);
        let phone = validate_phone("customer.phone", &wire.phone, &mut v);
        let owning = branch_code("customer.owning_branch_id", &wire.owning_branch_id, &mut v);
        for (field, id) in [
            ("customer.primary_manager_id", &wire.primary_manager_id),
            ("customer.backup_manager_id", &wire.backup_manager_id),
        ] {
            if id.is_empty() {
                v.add(field, "is required");
            }
        }
        if !wire.primary_manager_id.is_empty() && wire.primary_manager_id == wire.backup_manager_id
        {
            v.add(
                "customer.backup_manager_id",
                "must differ from the primary manager",
            );
        }
        validate_industry("customer.industry_code", &wire.industry_code, &mut v);
        let details = validate_details(kind, wire.details.as_ref(), &mut v);
        let xrefs = validate_source_refs("source_refs", &request.source_refs, &mut v);
        let (Some(kind), Some(owning)) = (kind, owning) else {
            return Err(v.into());
        };
        if !v.is_empty() {
            return Err(v.into());
        }
        let tree = self.tree().await?;
        if !tree.contains(&owning) {
            return Err(RegistryError::invalid(
                "customer.owning_branch_id",
                format!("unknown branch {owning}"),
            ));
        }
        if !may_read_customer(&caller.roles, caller.branch.as_ref(), &owning, &tree, false) {
            return Err(RegistryError::PermissionDenied(format!(
                "branch {owning} is outside the caller's subtree"
            )));
        }
        let today = self.clock.today();
        let mut v = Violations::new();
        for (field, id) in [
            ("customer.primary_manager_id", &wire.primary_manager_id),
            ("customer.backup_manager_id", &wire.backup_manager_id),
        ] {
            match employee::Entity::find_by_id(id.clone())
                .one(&self.db)
                .await?
            {
                None => v.add(field, format!("unknown employee {id}")),
                Some(e) => {
                    let active = e.active_from <= today && e.active_to.is_none_or(|to| to > today);
                    let is_manager = e.roles.contains(",customer_manager,");
                    let in_subtree = BranchCode::parse(&e.branch_id)
                        .is_ok_and(|b| tree.is_in_subtree(&b, &owning));
                    if !(active && is_manager && in_subtree) {
                        v.add(
                            field,
                            format!(
                                "{id} is not an active customer manager in the subtree of {owning}"
                            ),
                        );
                    }
                }
            }
        }
        if !v.is_empty() {
            return Err(v.into());
        }

        let scope = format!("CustomerRegistry/CreateCustomer/{}", caller.subject);
        let hash = idempotency::request_hash(&request.encode_to_vec());
        let txn = self.db.begin().await?;
        match idempotency::check(&txn, &scope, &request.idempotency_key, &hash).await? {
            Outcome::Replay(bytes) => {
                txn.commit().await?;
                let stored: v1::CreateCustomerResponse =
                    Message::decode(bytes.as_slice()).map_err(internal)?;
                let id = stored.customer.map(|c| c.customer_id).unwrap_or_default();
                let again = self
                    .stored(&id)
                    .await?
                    .ok_or_else(|| internal("replayed customer vanished"))?;
                return Ok(v1::CreateCustomerResponse {
                    customer: Some(self.view(caller, &tree, &again)?),
                });
            }
            Outcome::Conflict => {
                return Err(RegistryError::invalid(
                    "idempotency_key",
                    "was already used with a different request",
                ));
            }
            Outcome::Fresh => {}
        }
        let now = self.clock.now();
        let customer_id = Uuid::now_v7().to_string();
        let phone_sealed = match &phone {
            Some(p) => Some(self.pii.seal(PHONE_PURPOSE, p).map_err(internal)?),
            None => None,
        };
        let row = customer::ActiveModel {
            customer_id: Set(customer_id.clone()),
            kind: Set(kind.as_str().to_owned()),
            name: Set(wire.name.trim().to_owned()),
            phone_key_id: Set(phone_sealed.as_ref().map(|s| s.key_id.clone())),
            phone_sealed: Set(phone_sealed.map(|s| s.bytes)),
            owning_branch_id: Set(owning.as_str().to_owned()),
            primary_manager_id: Set(wire.primary_manager_id.clone()),
            backup_manager_id: Set(wire.backup_manager_id.clone()),
            industry_code: Set(wire.industry_code.trim().to_owned()),
            stage: Set(LifecycleStage::Potential.as_str().to_owned()),
            corporate_tier: Set(None),
            wealth_tier: Set(None),
            segment_id: Set(String::new()),
            segment_label: Set(String::new()),
            status: Set("active".to_owned()),
            merged_into: Set(None),
            details: Set(details),
            create_time: Set(now),
            update_time: Set(now),
            version: Set(1),
        };
        let written = async {
            row.insert(&txn).await?;
            for (kind, number, country, expiry) in &identities {
                let sealed = self
                    .pii
                    .seal(&identity_purpose(*kind), number)
                    .map_err(internal)?;
                customer_identity::ActiveModel {
                    customer_id: Set(customer_id.clone()),
                    identity_type: Set(kind.as_str().to_owned()),
                    blind_index: Set(self.pii.blind_index(&identity_purpose(*kind), number)),
                    key_id: Set(sealed.key_id),
                    sealed: Set(sealed.bytes),
                    issuing_country: Set(country.clone()),
                    expiry_date: Set(*expiry),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
            for (system, id) in &xrefs {
                customer_xref::ActiveModel {
                    source_system: Set(system.clone()),
                    source_id: Set(id.clone()),
                    customer_id: Set(customer_id.clone()),
                    create_time: Set(now),
                }
                .insert(&txn)
                .await?;
            }
            Ok::<(), RegistryError>(())
        }
        .await;
        if let Err(err) = written {
            drop(txn);
            return Err(self
                .explain_conflict(caller, &tree, err, &identities, &xrefs)
                .await);
        }
        audit::record(
            &txn,
            AuditEntry {
                actor: caller.subject.clone(),
                via_service: caller.via_service.clone(),
                action: "customer.create".to_owned(),
                target_type: "customer".to_owned(),
                target_id: customer_id.clone(),
                before: String::new(),
                after: format!(
                    "kind={} branch={owning} managers={}/{}",
                    kind.as_str(),
                    wire.primary_manager_id,
                    wire.backup_manager_id
                ),
                reason: String::new(),
                request_id: request_id.to_owned(),
            },
            now,
        )
        .await?;
        outbox::append(
            &txn,
            Envelope {
                aggregate_type: "customer".to_owned(),
                aggregate_id: customer_id.clone(),
                aggregate_version: 1,
                event_type: "customer.created".to_owned(),
                occurred_at: now,
                payload: v1::Customer {
                    customer_id: customer_id.clone(),
                    ..Default::default()
                }
                .encode_to_vec(),
            },
        )
        .await?;
        // Store only the id: a replay re-reads and re-masks for whoever asks.
        let remembered = v1::CreateCustomerResponse {
            customer: Some(v1::Customer {
                customer_id: customer_id.clone(),
                ..Default::default()
            }),
        };
        idempotency::remember(
            &txn,
            &scope,
            &request.idempotency_key,
            &hash,
            remembered.encode_to_vec(),
            now,
        )
        .await?;
        txn.commit().await?;
        let stored = load_stored(&self.db, &customer_id)
            .await?
            .ok_or_else(|| internal("created customer vanished"))?;
        Ok(v1::CreateCustomerResponse {
            customer: Some(self.view(caller, &tree, &stored)?),
        })
    }

    /// Turns a unique violation into ALREADY_EXISTS naming the holder when the caller may see it.
    async fn explain_conflict(
        &self,
        caller: &Caller,
        tree: &BranchTree,
        err: RegistryError,
        identities: &[(IdentityType, String, String, Option<chrono::NaiveDate>)],
        xrefs: &[(String, String)],
    ) -> RegistryError {
        let RegistryError::Db(db_err) = &err else {
            return err;
        };
        if !matches!(db_err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
            return err;
        }
        let mut holder = None;
        for (kind, number, _, _) in identities {
            let index = self.pii.blind_index(&identity_purpose(*kind), number);
            if let Ok(Some(row)) = customer_identity::Entity::find()
                .filter(customer_identity::Column::IdentityType.eq(kind.as_str()))
                .filter(customer_identity::Column::BlindIndex.eq(index))
                .one(&self.db)
                .await
            {
                holder = Some(("IDENTITY_TAKEN", row.customer_id));
                break;
            }
        }
        if holder.is_none() {
            for (system, id) in xrefs {
                if let Ok(Some(row)) =
                    customer_xref::Entity::find_by_id((system.clone(), id.clone()))
                        .one(&self.db)
                        .await
                {
                    holder = Some(("SOURCE_REF_TAKEN", row.customer_id));
                    break;
                }
            }
        }
        let Some((reason, holder_id)) = holder else {
            return RegistryError::AlreadyExists {
                reason: "DUPLICATE",
                message: "the customer already exists".to_owned(),
                metadata: HashMap::new(),
            };
        };
        let mut metadata = HashMap::new();
        if let Ok(Some(stored)) = load_stored(&self.db, &holder_id).await
            && let Ok(owning) = BranchCode::parse(&stored.customer.owning_branch_id)
            && may_read_customer(&caller.roles, caller.branch.as_ref(), &owning, tree, false)
        {
            metadata.insert("existing_customer_id".to_owned(), holder_id);
        }
        let message = match reason {
            "IDENTITY_TAKEN" => "an identity document belongs to another customer",
            _ => "a source reference belongs to another customer",
        };
        RegistryError::AlreadyExists {
            reason,
            message: message.to_owned(),
            metadata,
        }
    }

    /// `GetCustomer`.
    pub async fn get(
        &self,
        caller: &Caller,
        request: v1::GetCustomerRequest,
    ) -> Result<v1::GetCustomerResponse> {
        if request.customer_id.is_empty() || request.customer_id.len() > 36 {
            return Err(RegistryError::invalid(
                "customer_id",
                "must be 1 to 36 characters",
            ));
        }
        let not_found = || RegistryError::NotFound {
            kind: "customer",
            id: request.customer_id.clone(),
        };
        let stored = self
            .stored(&request.customer_id)
            .await?
            .ok_or_else(not_found)?;
        let tree = self.tree().await?;
        let customer = match self.view(caller, &tree, &stored) {
            // Outside the subtree, an access grant (opportunity membership) still opens it.
            Err(RegistryError::NotFound { .. })
                if self.granted(caller, &request.customer_id).await? =>
            {
                self.view_unchecked(caller, &stored)?
            }
            other => other?,
        };
        Ok(v1::GetCustomerResponse {
            customer: Some(customer),
        })
    }

    /// `BatchGetCustomers`: visible customers in request order; the rest listed as missing.
    pub async fn batch_get(
        &self,
        caller: &Caller,
        request: v1::BatchGetCustomersRequest,
    ) -> Result<v1::BatchGetCustomersResponse> {
        if request.customer_ids.is_empty() || request.customer_ids.len() > MAX_BATCH {
            return Err(RegistryError::invalid(
                "customer_ids",
                format!("must hold 1 to {MAX_BATCH} ids"),
            ));
        }
        let tree = self.tree().await?;
        let mut response = v1::BatchGetCustomersResponse::default();
        for id in &request.customer_ids {
            let view = match self.stored(id).await? {
                Some(stored) => match self.view(caller, &tree, &stored) {
                    Ok(view) => Some(view),
                    Err(RegistryError::NotFound { .. }) => None,
                    Err(e) => return Err(e),
                },
                None => None,
            };
            match view {
                Some(c) => response.customers.push(c),
                None => response.missing_customer_ids.push(id.clone()),
            }
        }
        Ok(response)
    }

    /// `UpdateCustomer`.
    pub async fn update(
        &self,
        caller: &Caller,
        request_id: &str,
        request: v1::UpdateCustomerRequest,
    ) -> Result<v1::UpdateCustomerResponse> {
        crate::org::require_role(caller, &UPDATE_ROLES, "UpdateCustomer")?;
        let wire = request
            .customer
            .ok_or_else(|| RegistryError::invalid("customer", "is required"))?;
        let paths = request.update_mask.map(|m| m.paths).unwrap_or_default();
        const UPDATABLE: [&str; 5] = [
            "name",
            "phone",
            "industry_code",
            "individual",
            "organisation",
        ];
        let mut v = Violations::new();
        if paths.is_empty() {
            v.add("update_mask", "name at least one field to change");
        }
        for (i, p) in paths.iter().enumerate() {
            if !UPDATABLE.contains(&p.as_str()) {
                v.add(
                    format!("update_mask.paths[{i}]"),
                    format!(
                        "`{p}` cannot be updated here; use one of {}",
                        UPDATABLE.join(", ")
                    ),
                );
            }
        }
        if wire.customer_id.is_empty() {
            v.add("customer.customer_id", "is required");
        }
        if !v.is_empty() {
            return Err(v.into());
        }
        let tree = self.tree().await?;
        let not_found = || RegistryError::NotFound {
            kind: "customer",
            id: wire.customer_id.clone(),
        };
        let txn = self.db.begin().await?;
        let stored = load_stored(&txn, &wire.customer_id)
            .await?
            .ok_or_else(not_found)?;
        let owning = parse_code::<BranchCode>("branch", &stored.customer.owning_branch_id)?;
        if !may_read_customer(&caller.roles, caller.branch.as_ref(), &owning, &tree, false) {
            return Err(not_found());
        }
        if stored.customer.status != "active" {
            return Err(RegistryError::FailedPrecondition {
                kind: "CUSTOMER_STATUS",
                subject: wire.customer_id.clone(),
                message: "a merged record is read-only".to_owned(),
            });
        }
        if stored.customer.version != request.expected_version {
            return Err(RegistryError::StaleVersion {
                kind: "customer",
                id: wire.customer_id.clone(),
                expected: request.expected_version,
                actual: stored.customer.version,
            });
        }
        let kind = parse_code::<CustomerKind>("kind", &stored.customer.kind)?;
        let mut active: customer::ActiveModel = stored.customer.clone().into();
        let mut v = Violations::new();
        for p in &paths {
            match p.as_str() {
                "name" => {
                    validate_name("customer.name", &wire.name, &mut v);
                    active.name = Set(wire.name.trim().to_owned());
                }
                "phone" => {
                    let phone = validate_phone("customer.phone", &wire.phone, &mut v);
                    let sealed = match phone {
                        Some(p) => Some(self.pii.seal(PHONE_PURPOSE, &p).map_err(internal)?),
                        None => None,
                    };
                    active.phone_key_id = Set(sealed.as_ref().map(|s| s.key_id.clone()));
                    active.phone_sealed = Set(sealed.map(|s| s.bytes));
                }
                "industry_code" => {
                    validate_industry("customer.industry_code", &wire.industry_code, &mut v);
                    active.industry_code = Set(wire.industry_code.trim().to_owned());
                }
                "individual" | "organisation" => {
                    let details = validate_details(Some(kind), wire.details.as_ref(), &mut v);
                    active.details = Set(details);
                }
                _ => {}
            }
        }
        if !v.is_empty() {
            return Err(v.into());
        }
        let now = self.clock.now();
        let version = stored.customer.version + 1;
        active.version = Set(version);
        active.update_time = Set(now);
        active.update(&txn).await?;
        audit::record(
            &txn,
            AuditEntry {
                actor: caller.subject.clone(),
                via_service: caller.via_service.clone(),
                action: "customer.update".to_owned(),
                target_type: "customer".to_owned(),
                target_id: wire.customer_id.clone(),
                before: format!("version={}", stored.customer.version),
                after: format!("version={version}"),
                reason: format!("fields: {}", paths.join(",")),
                request_id: request_id.to_owned(),
            },
            now,
        )
        .await?;
        outbox::append(
            &txn,
            Envelope {
                aggregate_type: "customer".to_owned(),
                aggregate_id: wire.customer_id.clone(),
                aggregate_version: version,
                event_type: "customer.updated".to_owned(),
                occurred_at: now,
                payload: v1::Customer {
                    customer_id: wire.customer_id.clone(),
                    version,
                    ..Default::default()
                }
                .encode_to_vec(),
            },
        )
        .await?;
        txn.commit().await?;
        self.cache.invalidate(&cache_key(&wire.customer_id)).await;
        let fresh = load_stored(&self.db, &wire.customer_id)
            .await?
            .ok_or_else(not_found)?;
        Ok(v1::UpdateCustomerResponse {
            customer: Some(self.view(caller, &tree, &fresh)?),
        })
    }

    /// `SearchCustomers`: the caller's subtree (or the named branch inside it), filtered, in
    /// `customer_id` order (time-ordered ids, so later inserts land after the cursor).
    pub async fn search(
        &self,
        caller: &Caller,
        request: v1::SearchCustomersRequest,
    ) -> Result<v1::SearchCustomersResponse> {
        let mut v = Violations::new();
        let root = if request.branch_id.is_empty() {
            caller.branch.clone()
        } else {
            branch_code("branch_id", &request.branch_id, &mut v)
        };
        let kinds: Vec<String> = request
            .kinds
            .iter()
            .enumerate()
            .filter_map(|(i, k)| match convert::kind_from_proto(*k) {
                Some(k) => Some(k.as_str().to_owned()),
                None => {
                    v.add(format!("kinds[{i}]"), "must be a known customer kind");
                    None
                }
            })
            .collect();
        let stages: Vec<String> = request
            .stages
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match convert::stage_from_proto(*s) {
                Some(s) => Some(s.as_str().to_owned()),
                None => {
                    v.add(format!("stages[{i}]"), "must be a known lifecycle stage");
                    None
                }
            })
            .collect();
        let corporate_tiers: Vec<String> = request
            .corporate_tiers
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match convert::corporate_tier_from_proto(*t) {
                Some(t) => Some(t.as_str().to_owned()),
                None => {
                    v.add(
                        format!("corporate_tiers[{i}]"),
                        "must be a listed corporate tier",
                    );
                    None
                }
            })
            .collect();
        let wealth_tiers: Vec<String> = request
            .wealth_tiers
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match convert::wealth_tier_from_proto(*t) {
                Some(t) => Some(t.as_str().to_owned()),
                None => {
                    v.add(format!("wealth_tiers[{i}]"), "must be a known wealth tier");
                    None
                }
            })
            .collect();
        for (field, value, max) in [
            (
                "industry_code_prefix",
                &request.industry_code_prefix,
                16usize,
            ),
            ("manager_employee_id", &request.manager_employee_id, 64),
            ("name_prefix", &request.name_prefix, 200),
        ] {
            if value.chars().count() > max {
                v.add(field, format!("must be at most {max} characters"));
            }
        }
        let identity = match &request.identity {
            Some(lookup) => match convert::identity_type_from_proto(lookup.identity_type) {
                None => {
                    v.add("identity.identity_type", "must be a known identity type");
                    None
                }
                Some(kind) => v
                    .check(
                        "identity.number",
                        normalize_identity_number(kind, &lookup.number),
                    )
                    .map(|n| (kind, n)),
            },
            None => None,
        };
        let source = match &request.source_ref {
            Some(r) => validate_source_refs("source_ref", std::slice::from_ref(r), &mut v).pop(),
            None => None,
        };
        let filters = format!("{request:?}")
            .replace(&request.page_token, "")
            .replace(&format!("page_size: {}", request.page_size), "");
        let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
        let Some(root) = root else {
            v.add("branch_id", "is required for a caller without a branch");
            return Err(v.into());
        };
        if !v.is_empty() {
            return Err(v.into());
        }
        let tree = self.tree().await?;
        let not_found = || RegistryError::NotFound {
            kind: "branch",
            id: root.to_string(),
        };
        if !tree.contains(&root)
            || !may_read_customer(&caller.roles, caller.branch.as_ref(), &root, &tree, false)
        {
            return Err(not_found());
        }
        let subtree: Vec<String> = tree
            .subtree(&root)
            .map_err(internal)?
            .into_iter()
            .map(|c| c.as_str().to_owned())
            .collect();
        let mut query =
            customer::Entity::find().filter(customer::Column::OwningBranchId.is_in(subtree));
        if !kinds.is_empty() {
            query = query.filter(customer::Column::Kind.is_in(kinds));
        }
        if !stages.is_empty() {
            query = query.filter(customer::Column::Stage.is_in(stages));
        }
        if !corporate_tiers.is_empty() {
            query = query.filter(customer::Column::CorporateTier.is_in(corporate_tiers));
        }
        if !wealth_tiers.is_empty() {
            query = query.filter(customer::Column::WealthTier.is_in(wealth_tiers));
        }
        if !request.segment_ids.is_empty() {
            query = query.filter(customer::Column::SegmentId.is_in(request.segment_ids.clone()));
        }
        if !request.industry_code_prefix.is_empty() {
            query = query.filter(
                customer::Column::IndustryCode.starts_with(request.industry_code_prefix.clone()),
            );
        }
        if !request.manager_employee_id.is_empty() {
            query = query.filter(
                sea_orm::Condition::any()
                    .add(customer::Column::PrimaryManagerId.eq(request.manager_employee_id.clone()))
                    .add(customer::Column::BackupManagerId.eq(request.manager_employee_id.clone())),
            );
        }
        if !request.name_prefix.is_empty() {
            query = query.filter(customer::Column::Name.starts_with(request.name_prefix.clone()));
        }
        if let Some((kind, number)) = identity {
            let index = self.pii.blind_index(&identity_purpose(kind), &number);
            let holders: Vec<String> = customer_identity::Entity::find()
                .filter(customer_identity::Column::IdentityType.eq(kind.as_str()))
                .filter(customer_identity::Column::BlindIndex.eq(index))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|r| r.customer_id)
                .collect();
            query = query.filter(customer::Column::CustomerId.is_in(holders));
        }
        if let Some((system, id)) = source {
            let holders: Vec<String> = customer_xref::Entity::find_by_id((system, id))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|r| r.customer_id)
                .collect();
            query = query.filter(customer::Column::CustomerId.is_in(holders));
        }
        if !request.include_merged {
            query = query.filter(customer::Column::Status.eq("active"));
        }
        if let Some(after) = &page.after {
            query = query.filter(customer::Column::CustomerId.gt(after.clone()));
        }
        let mut rows = query
            .order_by_asc(customer::Column::CustomerId)
            .limit(page.fetch_limit())
            .all(&self.db)
            .await?;
        let next_page_token = page.finish(&mut rows, |r| r.customer_id.clone());
        let mut customers = Vec::with_capacity(rows.len());
        for row in rows {
            let stored = attach(&self.db, row).await?;
            customers.push(self.view(caller, &tree, &stored)?);
        }
        Ok(v1::SearchCustomersResponse {
            customers,
            next_page_token,
        })
    }

    /// `AddCrossReference` and `RemoveCrossReference`.
    pub async fn change_xref(
        &self,
        caller: &Caller,
        request_id: &str,
        customer_id: &str,
        source: Option<&v1::SourceRef>,
        expected_version: i64,
        add: bool,
    ) -> Result<v1::Customer> {
        crate::org::require_role(
            caller,
            &UPDATE_ROLES,
            if add {
                "AddCrossReference"
            } else {
                "RemoveCrossReference"
            },
        )?;
        let mut v = Violations::new();
        if customer_id.is_empty() {
            v.add("customer_id", "is required");
        }
        let source = match source {
            Some(s) => validate_source_refs("source_ref", std::slice::from_ref(s), &mut v).pop(),
            None => {
                v.add("source_ref", "is required");
                None
            }
        };
        let Some((system, source_id)) = source.filter(|_| v.is_empty()) else {
            return Err(v.into());
        };
        let tree = self.tree().await?;
        let not_found = || RegistryError::NotFound {
            kind: "customer",
            id: customer_id.to_owned(),
        };
        let txn = self.db.begin().await?;
        let stored = load_stored(&txn, customer_id)
            .await?
            .ok_or_else(not_found)?;
        let owning = parse_code::<BranchCode>("branch", &stored.customer.owning_branch_id)?;
        if !may_read_customer(&caller.roles, caller.branch.as_ref(), &owning, &tree, false) {
            return Err(not_found());
        }
        if stored.customer.version != expected_version {
            return Err(RegistryError::StaleVersion {
                kind: "customer",
                id: customer_id.to_owned(),
                expected: expected_version,
                actual: stored.customer.version,
            });
        }
        let now = self.clock.now();
        let existing = customer_xref::Entity::find_by_id((system.clone(), source_id.clone()))
            .one(&txn)
            .await?;
        if add {
            match existing {
                Some(x) if x.customer_id == customer_id => {
                    return Err(RegistryError::AlreadyExists {
                        reason: "SOURCE_REF_TAKEN",
                        message: "this customer already has that reference".to_owned(),
                        metadata: HashMap::new(),
                    });
                }
                Some(x) => {
                    let mut metadata = HashMap::new();
                    if let Some(holder) = load_stored(&txn, &x.customer_id).await?
                        && let Ok(b) = BranchCode::parse(&holder.customer.owning_branch_id)
                        && may_read_customer(
                            &caller.roles,
                            caller.branch.as_ref(),
                            &b,
                            &tree,
                            false,
                        )
                    {
                        metadata.insert("existing_customer_id".to_owned(), x.customer_id);
                    }
                    return Err(RegistryError::AlreadyExists {
                        reason: "SOURCE_REF_TAKEN",
                        message: "the reference belongs to another customer".to_owned(),
                        metadata,
                    });
                }
                None => {
                    let inserted = customer_xref::ActiveModel {
                        source_system: Set(system.clone()),
                        source_id: Set(source_id.clone()),
                        customer_id: Set(customer_id.to_owned()),
                        create_time: Set(now),
                    }
                    .insert(&txn)
                    .await;
                    if let Err(e) = inserted {
                        drop(txn);
                        return Err(self
                            .explain_conflict(
                                caller,
                                &tree,
                                RegistryError::Db(e),
                                &[],
                                &[(system, source_id)],
                            )
                            .await);
                    }
                }
            }
        } else {
            match existing {
                Some(x) if x.customer_id == customer_id => {
                    customer_xref::Entity::delete_by_id((system.clone(), source_id.clone()))
                        .exec(&txn)
                        .await?;
                }
                _ => {
                    return Err(RegistryError::NotFound {
                        kind: "cross-reference",
                        id: format!("{system}/{source_id}"),
                    });
                }
            }
        }
        let version = stored.customer.version + 1;
        customer::Entity::update_many()
            .col_expr(customer::Column::Version, Expr::value(version))
            .col_expr(customer::Column::UpdateTime, Expr::value(now))
            .filter(customer::Column::CustomerId.eq(customer_id))
            .exec(&txn)
            .await?;
        audit::record(
            &txn,
            AuditEntry {
                actor: caller.subject.clone(),
                via_service: caller.via_service.clone(),
                action: if add {
                    "customer.xref.add"
                } else {
                    "customer.xref.remove"
                }
                .to_owned(),
                target_type: "customer".to_owned(),
                target_id: customer_id.to_owned(),
                before: format!("version={}", stored.customer.version),
                after: format!("version={version} ref={system}/{source_id}"),
                reason: String::new(),
                request_id: request_id.to_owned(),
            },
            now,
        )
        .await?;
        txn.commit().await?;
        self.cache.invalidate(&cache_key(customer_id)).await;
        let fresh = load_stored(&self.db, customer_id)
            .await?
            .ok_or_else(not_found)?;
        self.view(caller, &tree, &fresh)
    }
}

/// Reads the stored form of one customer.
pub async fn load_stored<C: ConnectionTrait>(
    db: &C,
    customer_id: &str,
) -> Result<Option<StoredCustomer>> {
    let Some(row) = customer::Entity::find_by_id(customer_id.to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    attach(db, row).await.map(Some)
}

async fn attach<C: ConnectionTrait>(db: &C, row: customer::Model) -> Result<StoredCustomer> {
    let identities = customer_identity::Entity::find()
        .filter(customer_identity::Column::CustomerId.eq(row.customer_id.clone()))
        .order_by_asc(customer_identity::Column::Id)
        .all(db)
        .await?;
    let xrefs = customer_xref::Entity::find()
        .filter(customer_xref::Column::CustomerId.eq(row.customer_id.clone()))
        .order_by_asc(customer_xref::Column::SourceSystem)
        .order_by_asc(customer_xref::Column::SourceId)
        .all(db)
        .await?;
    Ok(StoredCustomer {
        customer: row,
        identities,
        xrefs,
    })
}

/// The wire form, with PII opened and masked unless `clear`.
fn to_proto(pii: &PiiVault, stored: &StoredCustomer, clear: bool) -> Result<v1::Customer> {
    let c = &stored.customer;
    let kind = parse_code::<CustomerKind>("kind", &c.kind)?;
    let mut identities = Vec::new();
    for id in &stored.identities {
        let identity_type = parse_code::<IdentityType>("identity type", &id.identity_type)?;
        let number = pii
            .open(
                &identity_purpose(identity_type),
                &Sealed {
                    key_id: id.key_id.clone(),
                    bytes: id.sealed.clone(),
                },
            )
            .map_err(internal)?;
        identities.push(v1::IdentityDocument {
            identity_type: convert::identity_type_to_proto(identity_type) as i32,
            number: if clear {
                number
            } else {
                mask_identity_number(&number)
            },
            issuing_country: id.issuing_country.clone(),
            expiry_date: id.expiry_date.map(convert::date_to_proto),
        });
    }
    let phone = match (&c.phone_key_id, &c.phone_sealed) {
        (Some(key_id), Some(bytes)) => {
            let phone = pii
                .open(
                    PHONE_PURPOSE,
                    &Sealed {
                        key_id: key_id.clone(),
                        bytes: bytes.clone(),
                    },
                )
                .map_err(internal)?;
            if clear { phone } else { mask_phone(&phone) }
        }
        _ => String::new(),
    };
    let details = if kind == CustomerKind::Individual {
        let mut d = v1::IndividualDetails::decode(c.details.as_slice()).map_err(internal)?;
        if !clear && let Some(birth) = d.birth_date.as_mut() {
            birth.month = 0;
            birth.day = 0;
        }
        Some(v1::customer::Details::Individual(d))
    } else {
        Some(v1::customer::Details::Organisation(
            v1::OrganisationDetails::decode(c.details.as_slice()).map_err(internal)?,
        ))
    };
    Ok(v1::Customer {
        customer_id: c.customer_id.clone(),
        kind: convert::kind_to_proto(kind) as i32,
        name: c.name.clone(),
        identities,
        phone,
        pii_masked: !clear,
        owning_branch_id: c.owning_branch_id.clone(),
        primary_manager_id: c.primary_manager_id.clone(),
        backup_manager_id: c.backup_manager_id.clone(),
        industry_code: c.industry_code.clone(),
        stage: convert::stage_to_proto(parse_code("stage", &c.stage)?) as i32,
        corporate_tier: match &c.corporate_tier {
            Some(t) => convert::corporate_tier_to_proto(parse_code("corporate tier", t)?) as i32,
            None if kind != CustomerKind::Individual => v1::CorporateTier::Unlisted as i32,
            None => 0,
        },
        wealth_tier: match &c.wealth_tier {
            Some(t) => convert::wealth_tier_to_proto(parse_code("wealth tier", t)?) as i32,
            None => 0,
        },
        segment_id: c.segment_id.clone(),
        segment_label: c.segment_label.clone(),
        status: if c.status == "active" {
            v1::CustomerStatus::Active
        } else {
            v1::CustomerStatus::Merged
        } as i32,
        merged_into_customer_id: c.merged_into.clone().unwrap_or_default(),
        cross_references: stored
            .xrefs
            .iter()
            .map(|x| v1::CrossReference {
                source_ref: Some(v1::SourceRef {
                    source_system: x.source_system.clone(),
                    source_id: x.source_id.clone(),
                }),
                create_time: Some(convert::timestamp(x.create_time)),
            })
            .collect(),
        details,
        create_time: Some(convert::timestamp(c.create_time)),
        update_time: Some(convert::timestamp(c.update_time)),
        version: c.version,
    })
}

pub(crate) fn validate_name(field: &str, name: &str, v: &mut Violations) {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 200 {
        v.add(field, "must be 1 to 200 characters");
    }
}

pub(crate) fn validate_industry(field: &str, code: &str, v: &mut Violations) {
    if code.chars().count() > 16 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        v.add(field, "must be at most 16 letters and digits (GB/T 4754)");
    }
}

/// E.164: `+`, then 8 to 15 digits. Empty means no phone.
pub(crate) fn validate_phone(field: &str, phone: &str, v: &mut Violations) -> Option<String> {
    let p = phone.trim();
    if p.is_empty() {
        return None;
    }
    let digits = p.strip_prefix('+').unwrap_or("");
    if (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Some(p.to_owned())
    } else {
        v.add(field, "must be in E.164 form, e.g. +8613800138000");
        None
    }
}

pub(crate) type IdentityInput = (IdentityType, String, String, Option<chrono::NaiveDate>);

pub(crate) fn validate_identities(
    prefix: &str,
    kind: Option<CustomerKind>,
    docs: &[v1::IdentityDocument],
    v: &mut Violations,
) -> Vec<IdentityInput> {
    if docs.is_empty() {
        v.add(
            format!("{prefix}identities"),
            "at least one identity document is required",
        );
    }
    if docs.len() > 10 {
        v.add(
            format!("{prefix}identities"),
            "at most 10 identity documents",
        );
    }
    let mut out: Vec<IdentityInput> = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        let field = |f: &str| format!("{prefix}identities[{i}].{f}");
        let Some(t) = convert::identity_type_from_proto(d.identity_type) else {
            v.add(field("identity_type"), "must be a known identity type");
            continue;
        };
        let organisational = t == IdentityType::UnifiedSocialCreditCode;
        if let Some(k) = kind
            && t != IdentityType::Other
            && organisational == (k == CustomerKind::Individual)
        {
            v.add(
                field("identity_type"),
                format!(
                    "{} does not fit a customer of kind {}",
                    t.as_str(),
                    k.as_str()
                ),
            );
        }
        let country = d.issuing_country.trim().to_ascii_uppercase();
        if !(country.is_empty()
            || (country.len() == 3 && country.chars().all(|c| c.is_ascii_alphabetic())))
        {
            v.add(
                field("issuing_country"),
                "must be an ISO 3166-1 alpha-3 code",
            );
        } else if t == IdentityType::Passport && country.is_empty() {
            v.add(field("issuing_country"), "is required for a passport");
        }
        let expiry = optional_date(&field("expiry_date"), d.expiry_date.as_ref(), v);
        if let Some(number) = v.check(field("number"), normalize_identity_number(t, &d.number)) {
            if out.iter().any(|(ot, on, _, _)| *ot == t && *on == number) {
                v.add(field("number"), "the same document appears twice");
            }
            out.push((t, number, country, expiry));
        }
    }
    out
}

pub(crate) fn validate_details(
    kind: Option<CustomerKind>,
    details: Option<&v1::customer::Details>,
    v: &mut Violations,
) -> Vec<u8> {
    match (kind, details) {
        (Some(CustomerKind::Individual), Some(v1::customer::Details::Individual(d))) => {
            if let Some(b) = &d.birth_date
                && let Some(date) = v.check(
                    "customer.individual.birth_date",
                    convert::date_from_proto(b),
                )
                && date.year() < 1900
            {
                v.add("customer.individual.birth_date", "is before 1900");
            }
            if d.occupation.chars().count() > 100 {
                v.add(
                    "customer.individual.occupation",
                    "must be at most 100 characters",
                );
            }
            d.encode_to_vec()
        }
        (Some(CustomerKind::Individual), None) => v1::IndividualDetails::default().encode_to_vec(),
        (Some(CustomerKind::Individual), Some(_)) => {
            v.add(
                "customer.organisation",
                "an individual carries individual details",
            );
            Vec::new()
        }
        (Some(_), Some(v1::customer::Details::Organisation(d))) => {
            for (field, money) in [
                (
                    "customer.organisation.registered_capital",
                    &d.registered_capital,
                ),
                ("customer.organisation.annual_revenue", &d.annual_revenue),
            ] {
                if let Some(m) = money {
                    if m.currency != "CNY" {
                        v.add(format!("{field}.currency"), "must be CNY");
                    }
                    if m.minor_units < 0 {
                        v.add(format!("{field}.minor_units"), "must not be negative");
                    }
                }
            }
            if d.employee_count < 0 {
                v.add(
                    "customer.organisation.employee_count",
                    "must not be negative",
                );
            }
            if let Some(e) = &d.established_on {
                v.check(
                    "customer.organisation.established_on",
                    convert::date_from_proto(e),
                );
            }
            if d.legal_representative.chars().count() > 100 || d.credit_rating.chars().count() > 8 {
                v.add(
                    "customer.organisation",
                    "legal_representative is at most 100 and credit_rating at most 8 characters",
                );
            }
            d.encode_to_vec()
        }
        (Some(_), None) => v1::OrganisationDetails::default().encode_to_vec(),
        (Some(_), Some(_)) => {
            v.add(
                "customer.individual",
                "an organisation carries organisation details",
            );
            Vec::new()
        }
        (None, _) => Vec::new(),
    }
}

fn validate_source_refs(
    field: &str,
    refs: &[v1::SourceRef],
    v: &mut Violations,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        let prefix = if refs.len() == 1 && !field.ends_with('s') {
            field.to_owned()
        } else {
            format!("{field}[{i}]")
        };
        let system = r.source_system.trim();
        let id = r.source_id.trim();
        let mut ok = true;
        if system.is_empty()
            || system.len() > 32
            || !system
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            v.add(
                format!("{prefix}.source_system"),
                "must be 1 to 32 letters, digits, '-' or '_'",
            );
            ok = false;
        }
        if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_graphic()) {
            v.add(
                format!("{prefix}.source_id"),
                "must be 1 to 64 printable ASCII characters",
            );
            ok = false;
        }
        if ok {
            out.push((system.to_owned(), id.to_owned()));
        }
    }
    out
}
