//! Access grants: coordination tells the registry which employees (an opportunity's members) may
//! read which customers (its targets), one grant source at a time. `SetCustomerAccessGrants`
//! replaces a source's whole set in one transaction; reads of a customer outside the caller's
//! subtree consult [`is_granted`]. Only service callers may set grants, so a user can never grant
//! themselves access.

use std::collections::BTreeSet;

use bankmkt_domain::org::Role;
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::clock::Clock;
use bankmkt_platform::idempotency::{self, Outcome};
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, DatabaseConnection, PaginatorTrait, TransactionTrait};
use sea_orm_migration::prelude::{
    ColumnDef, DeriveIden, Index, MigrationName, MigrationTrait, SchemaManager, Table,
};

use crate::error::{RegistryError, Result};

/// Most customers or employees in one grant.
pub const MAX_GRANT: usize = 1_000;

/// `customer_access_grant`.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One (source, employee, customer) grant.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "customer_access_grant")]
    pub struct Model {
        /// Who granted it, e.g. `opportunity:OPP-42`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub grant_source: String,
        /// The employee who may read.
        #[sea_orm(primary_key, auto_increment = false)]
        pub employee_id: String,
        /// The customer they may read.
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_id: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(DeriveIden)]
enum CustomerAccessGrant {
    Table,
    GrantSource,
    EmployeeId,
    CustomerId,
}

/// Creates the grants table.
pub struct GrantsMigration;

impl MigrationName for GrantsMigration {
    fn name(&self) -> &str {
        "m0110_registry_access_grants"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for GrantsMigration {
    async fn up(&self, manager: &SchemaManager) -> std::result::Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CustomerAccessGrant::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(CustomerAccessGrant::GrantSource)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CustomerAccessGrant::EmployeeId)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CustomerAccessGrant::CustomerId)
                            .string_len(36)
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(CustomerAccessGrant::GrantSource)
                            .col(CustomerAccessGrant::EmployeeId)
                            .col(CustomerAccessGrant::CustomerId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("customer_access_grant_lookup")
                    .table(CustomerAccessGrant::Table)
                    .col(CustomerAccessGrant::EmployeeId)
                    .col(CustomerAccessGrant::CustomerId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

/// Whether any source grants `employee_id` read access to `customer_id`.
pub async fn is_granted<C: ConnectionTrait>(
    db: &C,
    employee_id: &str,
    customer_id: &str,
) -> Result<bool> {
    Ok(entity::Entity::find()
        .filter(entity::Column::EmployeeId.eq(employee_id))
        .filter(entity::Column::CustomerId.eq(customer_id))
        .count(db)
        .await?
        > 0)
}

/// `SetCustomerAccessGrants`.
pub async fn set(
    db: &DatabaseConnection,
    clock: &Clock,
    caller: &Caller,
    request_id: &str,
    request: v1::SetCustomerAccessGrantsRequest,
) -> Result<v1::SetCustomerAccessGrantsResponse> {
    if caller.via_service.is_none() && !caller.has_role(Role::Service) {
        return Err(RegistryError::PermissionDenied(
            "only services (coordination) set access grants".to_owned(),
        ));
    }
    let mut v = Violations::new();
    if request.idempotency_key.is_empty() || request.idempotency_key.len() > 128 {
        v.add("idempotency_key", "must be 1 to 128 characters");
    }
    let source = request.grant_source.trim();
    if source.is_empty() || source.len() > 100 {
        v.add("grant_source", "must be 1 to 100 characters");
    }
    for (field, list, max_len) in [
        ("customer_ids", &request.customer_ids, 36usize),
        ("employee_ids", &request.employee_ids, 64),
    ] {
        if list.len() > MAX_GRANT {
            v.add(field, format!("at most {MAX_GRANT} entries"));
        }
        for (i, id) in list.iter().enumerate() {
            if id.is_empty() || id.len() > max_len {
                v.add(
                    format!("{field}[{i}]"),
                    format!("must be 1 to {max_len} characters"),
                );
            }
        }
    }
    if request.customer_ids.is_empty() != request.employee_ids.is_empty() {
        v.add(
            "employee_ids",
            "customers and employees are granted together; send both or neither (to revoke)",
        );
    }
    if !v.is_empty() {
        return Err(v.into());
    }
    let scope = format!(
        "CustomerRegistry/SetCustomerAccessGrants/{}",
        caller.subject
    );
    let hash = idempotency::request_hash(&request.encode_to_vec());
    let txn = db.begin().await?;
    match idempotency::check(&txn, &scope, &request.idempotency_key, &hash).await? {
        Outcome::Replay(bytes) => {
            return v1::SetCustomerAccessGrantsResponse::decode(bytes.as_slice())
                .map_err(|e| RegistryError::Internal(e.to_string()));
        }
        Outcome::Conflict => {
            return Err(RegistryError::invalid(
                "idempotency_key",
                "was already used with a different request",
            ));
        }
        Outcome::Fresh => {}
    }
    entity::Entity::delete_many()
        .filter(entity::Column::GrantSource.eq(source))
        .exec(&txn)
        .await?;
    let customers: BTreeSet<&String> = request.customer_ids.iter().collect();
    let employees: BTreeSet<&String> = request.employee_ids.iter().collect();
    let rows: Vec<entity::ActiveModel> = employees
        .iter()
        .flat_map(|e| {
            customers.iter().map(move |c| entity::ActiveModel {
                grant_source: Set(source.to_owned()),
                employee_id: Set((*e).clone()),
                customer_id: Set((*c).clone()),
            })
        })
        .collect();
    let count = rows.len() as i64;
    for chunk in rows.chunks(500) {
        entity::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    audit::record(
        &txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: "customer.access_grants.set".to_owned(),
            target_type: "grant_source".to_owned(),
            target_id: source.to_owned(),
            before: String::new(),
            after: format!(
                "customers={} employees={} pairs={count}",
                customers.len(),
                employees.len()
            ),
            reason: String::new(),
            request_id: request_id.to_owned(),
        },
        clock.now(),
    )
    .await?;
    let response = v1::SetCustomerAccessGrantsResponse { grant_count: count };
    idempotency::remember(
        &txn,
        &scope,
        &request.idempotency_key,
        &hash,
        response.encode_to_vec(),
        clock.now(),
    )
    .await?;
    txn.commit().await?;
    Ok(response)
}
