//! Relationships between customers (DOMAIN.md §2): the directed, effective-dated links of the
//! `customer_relationship` table (entity [`customer_relationship`], schema
//! [`RelationshipsMigration`]) and the four relationship RPCs, as methods on [`Customers`]: link,
//! unlink (which sets the end date and keeps the row, so history survives), list one customer's
//! links in either or both directions with keyset paging, and the bounded breadth-first traversal
//! (the rules live in `bankmkt_domain::relationship`). An open link is unique per (from, to, type)
//! through a partial unique index on rows without an end date, so two concurrent links of the same
//! pair leave exactly one; a new link may not start before an ended one of the same pair stops.
//! Both ends must exist, be visible to the caller and, to be linked, not be merged. Link and unlink
//! write one audit entry and a `customer.linked` / `customer.unlinked` outbox event for each end in
//! the same transaction, then drop both customers' cache entries. A traversal reports customers the
//! caller may not see as `restricted` (id, kind and depth only), never walks through them and
//! never reports an edge that touches them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bankmkt_domain::access::may_read_customer;
use bankmkt_domain::branch_tree::BranchTree;
use bankmkt_domain::customer::CustomerKind;
use bankmkt_domain::ids::CustomerId;
use bankmkt_domain::org::{BranchCode, Role};
use bankmkt_domain::relationship::{
    Direction, Edge, KeyPersonRole, LinkField, LinkShape, RelationshipType, TraversalError,
    TraversalSpec, check_kinds, check_shape, traverse,
};
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::outbox::{self, Envelope};
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::{NaiveDate, SubsecRound};
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, Condition, QueryOrder, QuerySelect, SqlErr, TransactionTrait};

use crate::convert::{self, optional_date};
use crate::customers::entity::customer;
use crate::customers::{Customers, cache_key};
use crate::error::{RegistryError, Result};
use crate::org::branches::tree_as_of;
use crate::org::require_role;

pub use schema::RelationshipsMigration;

/// `customer_relationship`: one row per link, kept after it ends.
pub mod customer_relationship {
    use sea_orm::entity::prelude::*;

    /// One directed link `from REL to`, in force on `[start_date, end_date)`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "customer_relationship")]
    pub struct Model {
        /// Stable id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub relationship_id: String,
        /// Type code (`bankmkt_domain::relationship::RelationshipType`).
        pub relationship_type: String,
        /// The from end.
        pub from_customer_id: String,
        /// The to end.
        pub to_customer_id: String,
        /// Key person role code, for `key_person_of` only.
        pub key_person_role: Option<String>,
        /// Title of the person; empty when none.
        pub title: String,
        /// The group parent's equity share as a canonical decimal string (never a SQL decimal).
        pub equity_share: Option<String>,
        /// First day in force.
        pub start_date: Date,
        /// First day no longer in force; `None` while open.
        pub end_date: Option<Date>,
        /// Who linked it.
        pub created_by: String,
        /// When it was linked.
        pub create_time: DateTimeUtc,
        /// Why it was linked.
        pub reason: String,
        /// Optimistic-concurrency version.
        pub version: i64,
        /// Last change.
        pub update_time: DateTimeUtc,
    }

    /// No relations declared.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use customer_relationship as rel;

/// The schema of the relationship table.
mod schema {
    use sea_orm_migration::prelude::*;

    #[allow(clippy::enum_variant_names)]
    #[derive(DeriveIden)]
    enum CustomerRelationship {
        Table,
        RelationshipId,
        RelationshipType,
        FromCustomerId,
        ToCustomerId,
        KeyPersonRole,
        Title,
        EquityShare,
        StartDate,
        EndDate,
        CreatedBy,
        CreateTime,
        Reason,
        Version,
        UpdateTime,
    }

    /// Creates `customer_relationship`, its partial unique index on open links and the indexes
    /// that serve both directions.
    #[derive(Debug, Clone, Copy)]
    pub struct RelationshipsMigration;

    impl MigrationName for RelationshipsMigration {
        fn name(&self) -> &str {
            "m0105_registry_relationships"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for RelationshipsMigration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            use CustomerRelationship as R;
            manager
                .create_table(
                    Table::create()
                        .table(R::Table)
                        .if_not_exists()
                        .col(
                            ColumnDef::new(R::RelationshipId)
                                .string_len(36)
                                .not_null()
                                .primary_key(),
                        )
                        .col(
                            ColumnDef::new(R::RelationshipType)
                                .string_len(32)
                                .not_null(),
                        )
                        .col(ColumnDef::new(R::FromCustomerId).string_len(36).not_null())
                        .col(ColumnDef::new(R::ToCustomerId).string_len(36).not_null())
                        .col(ColumnDef::new(R::KeyPersonRole).string_len(32).null())
                        .col(ColumnDef::new(R::Title).string_len(100).not_null())
                        .col(ColumnDef::new(R::EquityShare).string_len(40).null())
                        .col(ColumnDef::new(R::StartDate).date().not_null())
                        .col(ColumnDef::new(R::EndDate).date().null())
                        .col(ColumnDef::new(R::CreatedBy).string_len(64).not_null())
                        .col(
                            ColumnDef::new(R::CreateTime)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .col(ColumnDef::new(R::Reason).string_len(500).not_null())
                        .col(ColumnDef::new(R::Version).big_integer().not_null())
                        .col(
                            ColumnDef::new(R::UpdateTime)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .to_owned(),
                )
                .await?;
            // At most one open link per (from, to, type): Postgres and SQLite both support
            // partial indexes, so ended rows stay as history without blocking a new link.
            manager
                .create_index(
                    Index::create()
                        .name("customer_relationship_open_unique")
                        .table(R::Table)
                        .col(R::FromCustomerId)
                        .col(R::ToCustomerId)
                        .col(R::RelationshipType)
                        .unique()
                        .and_where(Expr::col(R::EndDate).is_null())
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("customer_relationship_from")
                        .table(R::Table)
                        .col(R::FromCustomerId)
                        .col(R::RelationshipId)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("customer_relationship_to")
                        .table(R::Table)
                        .col(R::ToCustomerId)
                        .col(R::RelationshipId)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
            Ok(())
        }
    }
}

/// Roles that may link and unlink customers (within what they can see).
const WRITE_ROLES: [Role; 4] = [
    Role::CustomerManager,
    Role::Admin,
    Role::CoreBanking,
    Role::Batch,
];
/// Longest reason, in characters.
const MAX_REASON: usize = 500;
/// Most ids in one `IN (...)` list.
const CHUNK: usize = 500;

/// The domain type of a wire type; unspecified or unknown is `None`.
pub fn type_from_proto(raw: i32) -> Option<RelationshipType> {
    Some(match v1::RelationshipType::try_from(raw).ok()? {
        v1::RelationshipType::Unspecified => return None,
        v1::RelationshipType::GroupParentOf => RelationshipType::GroupParentOf,
        v1::RelationshipType::SupplierOf => RelationshipType::SupplierOf,
        v1::RelationshipType::DistributorOf => RelationshipType::DistributorOf,
        v1::RelationshipType::ExecutiveOf => RelationshipType::ExecutiveOf,
        v1::RelationshipType::EmployeeOf => RelationshipType::EmployeeOf,
        v1::RelationshipType::KeyPersonOf => RelationshipType::KeyPersonOf,
        v1::RelationshipType::MarketMemberOf => RelationshipType::MarketMemberOf,
    })
}

/// The wire type of a domain type.
pub fn type_to_proto(t: RelationshipType) -> v1::RelationshipType {
    match t {
        RelationshipType::GroupParentOf => v1::RelationshipType::GroupParentOf,
        RelationshipType::SupplierOf => v1::RelationshipType::SupplierOf,
        RelationshipType::DistributorOf => v1::RelationshipType::DistributorOf,
        RelationshipType::ExecutiveOf => v1::RelationshipType::ExecutiveOf,
        RelationshipType::EmployeeOf => v1::RelationshipType::EmployeeOf,
        RelationshipType::KeyPersonOf => v1::RelationshipType::KeyPersonOf,
        RelationshipType::MarketMemberOf => v1::RelationshipType::MarketMemberOf,
    }
}

fn role_from_proto(raw: i32) -> Option<KeyPersonRole> {
    Some(match v1::KeyPersonRole::try_from(raw).ok()? {
        v1::KeyPersonRole::Unspecified => return None,
        v1::KeyPersonRole::DecisionMaker => KeyPersonRole::DecisionMaker,
        v1::KeyPersonRole::Contact => KeyPersonRole::Contact,
        v1::KeyPersonRole::Influencer => KeyPersonRole::Influencer,
    })
}

fn role_to_proto(r: KeyPersonRole) -> v1::KeyPersonRole {
    match r {
        KeyPersonRole::DecisionMaker => v1::KeyPersonRole::DecisionMaker,
        KeyPersonRole::Contact => v1::KeyPersonRole::Contact,
        KeyPersonRole::Influencer => v1::KeyPersonRole::Influencer,
    }
}

/// The direction of a wire value (unspecified means both), recording a violation when unknown.
fn direction(field: &str, raw: i32, v: &mut Violations) -> Direction {
    match v1::RelationshipDirection::try_from(raw) {
        Ok(v1::RelationshipDirection::Outgoing) => Direction::Outgoing,
        Ok(v1::RelationshipDirection::Incoming) => Direction::Incoming,
        Ok(v1::RelationshipDirection::Both | v1::RelationshipDirection::Unspecified) => {
            Direction::Both
        }
        Err(_) => {
            v.add(field, "must be a known relationship direction");
            Direction::Both
        }
    }
}

/// The types of a filter (empty means all), recording a violation per unknown value.
fn type_filter(field: &str, raw: &[i32], v: &mut Violations) -> BTreeSet<RelationshipType> {
    raw.iter()
        .enumerate()
        .filter_map(|(i, t)| {
            type_from_proto(*t).or_else(|| {
                v.add(format!("{field}[{i}]"), "must be a known relationship type");
                None
            })
        })
        .collect()
}

/// A customer id from the wire, in its canonical form.
fn customer_id(field: &str, raw: &str, v: &mut Violations) -> Option<String> {
    if raw.is_empty() {
        v.add(field, "is required");
        return None;
    }
    v.check(field, CustomerId::parse(raw))
        .map(|c| c.to_string())
}

fn internal(e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Internal(e.to_string())
}

fn parse_code<T: std::str::FromStr>(what: &str, raw: &str) -> Result<T> {
    raw.parse()
        .map_err(|_| internal(format!("stored {what} {raw:?} is not valid")))
}

fn customer_not_found(id: &str) -> RegistryError {
    RegistryError::NotFound {
        kind: "customer",
        id: id.to_owned(),
    }
}

/// Whether the caller may read the customer `row`.
fn may_see(caller: &Caller, tree: &BranchTree, row: &customer::Model) -> bool {
    BranchCode::parse(&row.owning_branch_id)
        .is_ok_and(|b| may_read_customer(&caller.roles, caller.branch.as_ref(), &b, tree, false))
}

/// Rows that hold today: started and not yet ended.
fn in_force(today: NaiveDate) -> Condition {
    Condition::all().add(rel::Column::StartDate.lte(today)).add(
        Condition::any()
            .add(rel::Column::EndDate.is_null())
            .add(rel::Column::EndDate.gt(today)),
    )
}

/// The wire form of a stored link.
pub fn to_proto(row: &rel::Model) -> Result<v1::Relationship> {
    let t: RelationshipType = parse_code("relationship type", &row.relationship_type)?;
    let role = match &row.key_person_role {
        Some(r) => role_to_proto(parse_code("key person role", r)?) as i32,
        None => 0,
    };
    Ok(v1::Relationship {
        relationship_id: row.relationship_id.clone(),
        relationship_type: type_to_proto(t) as i32,
        from_customer_id: row.from_customer_id.clone(),
        to_customer_id: row.to_customer_id.clone(),
        key_person_role: role,
        title: row.title.clone(),
        equity_share: row.equity_share.clone().map(|value| v1::Decimal { value }),
        effective: Some(v1::EffectiveRange {
            start_date: Some(convert::date_to_proto(row.start_date)),
            end_date: row.end_date.map(convert::date_to_proto),
        }),
        created: Some(v1::AuditStamp {
            actor_id: row.created_by.clone(),
            time: Some(convert::timestamp(row.create_time)),
            reason: row.reason.clone(),
        }),
        version: row.version,
    })
}

/// A one-line summary of a link for the audit log.
fn summary(row: &rel::Model) -> String {
    format!(
        "{} {} {} [{}..{}) version={}",
        row.from_customer_id,
        row.relationship_type,
        row.to_customer_id,
        row.start_date,
        row.end_date.map(|d| d.to_string()).unwrap_or_default(),
        row.version
    )
}

/// Active relationship counts of one customer by type and direction (seen from the customer), for
/// the customer 360.
pub async fn relationship_counts<C: ConnectionTrait>(
    db: &C,
    customer_id: &str,
    today: NaiveDate,
) -> Result<Vec<v1::RelationshipCount>> {
    let rows = rel::Entity::find()
        .filter(
            Condition::any()
                .add(rel::Column::FromCustomerId.eq(customer_id))
                .add(rel::Column::ToCustomerId.eq(customer_id)),
        )
        .filter(in_force(today))
        .all(db)
        .await?;
    let mut counts: BTreeMap<(i32, i32), i64> = BTreeMap::new();
    for row in rows {
        let t = type_to_proto(parse_code("relationship type", &row.relationship_type)?) as i32;
        let d = if row.from_customer_id == customer_id {
            v1::RelationshipDirection::Outgoing
        } else {
            v1::RelationshipDirection::Incoming
        } as i32;
        *counts.entry((t, d)).or_default() += 1;
    }
    Ok(counts
        .into_iter()
        .map(
            |((relationship_type, direction), count)| v1::RelationshipCount {
                relationship_type,
                direction,
                count,
            },
        )
        .collect())
}

/// The customer rows of `ids`, by id.
async fn customers_by_id<C: ConnectionTrait>(
    db: &C,
    ids: &BTreeSet<String>,
) -> Result<HashMap<String, customer::Model>> {
    let ids: Vec<&String> = ids.iter().collect();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows = customer::Entity::find()
            .filter(customer::Column::CustomerId.is_in(chunk.iter().map(|s| s.as_str())))
            .all(db)
            .await?;
        out.extend(rows.into_iter().map(|r| (r.customer_id.clone(), r)));
    }
    Ok(out)
}

/// The links in force today that touch any of `nodes` the way `spec` follows them.
async fn edges_touching<C: ConnectionTrait>(
    db: &C,
    nodes: &[String],
    spec: &TraversalSpec,
    today: NaiveDate,
) -> Result<Vec<rel::Model>> {
    let mut out = Vec::new();
    for chunk in nodes.chunks(CHUNK) {
        let mut ends = Condition::any();
        if spec.direction().outgoing() {
            ends = ends.add(rel::Column::FromCustomerId.is_in(chunk.iter().map(|s| s.as_str())));
        }
        if spec.direction().incoming() {
            ends = ends.add(rel::Column::ToCustomerId.is_in(chunk.iter().map(|s| s.as_str())));
        }
        let mut query = rel::Entity::find().filter(ends).filter(in_force(today));
        if !spec.types().is_empty() {
            query = query.filter(
                rel::Column::RelationshipType.is_in(spec.types().iter().map(|t| t.as_str())),
            );
        }
        out.extend(query.all(db).await?);
    }
    Ok(out)
}

impl Customers {
    /// The branch tree of today; `None` before one is loaded (then no customer exists either).
    async fn relationship_tree<C: ConnectionTrait>(&self, db: &C) -> Result<Option<BranchTree>> {
        tree_as_of(db, self.clock.today()).await
    }

    /// `LinkCustomers`.
    pub async fn link(
        &self,
        caller: &Caller,
        request_id: &str,
        request: v1::LinkCustomersRequest,
    ) -> Result<v1::LinkCustomersResponse> {
        require_role(caller, &WRITE_ROLES, "LinkCustomers")?;
        let today = self.clock.today();
        let mut v = Violations::new();
        let Some(wire) = request.relationship else {
            return Err(RegistryError::invalid("relationship", "is required"));
        };
        let relationship_type = type_from_proto(wire.relationship_type);
        if relationship_type.is_none() {
            v.add(
                "relationship.relationship_type",
                "must be a known relationship type",
            );
        }
        let from = customer_id(
            "relationship.from_customer_id",
            &wire.from_customer_id,
            &mut v,
        );
        let to = customer_id("relationship.to_customer_id", &wire.to_customer_id, &mut v);
        let role = match wire.key_person_role {
            0 => None,
            raw => role_from_proto(raw).or_else(|| {
                v.add(
                    "relationship.key_person_role",
                    "must be a known key person role",
                );
                None
            }),
        };
        let title = wire.title.trim();
        let mut start = today;
        if let Some(effective) = &wire.effective {
            if let Some(d) = optional_date(
                "relationship.effective.start_date",
                effective.start_date.as_ref(),
                &mut v,
            ) {
                start = d;
            }
            if effective.end_date.is_some() {
                v.add(
                    "relationship.effective.end_date",
                    "must be unset; a link ends through UnlinkCustomers",
                );
            }
        }
        if request.reason.chars().count() > MAX_REASON {
            v.add("reason", format!("must be at most {MAX_REASON} characters"));
        }
        let mut equity_share = None;
        match (relationship_type, &from, &to) {
            (Some(t), Some(from), Some(to)) => {
                let (errors, share) = check_shape(&LinkShape {
                    relationship_type: t,
                    from,
                    to,
                    key_person_role: role,
                    title,
                    equity_share: wire.equity_share.as_ref().map(|d| d.value.as_str()),
                });
                for e in errors {
                    let field = match e.field() {
                        LinkField::From => "relationship.from_customer_id",
                        LinkField::To => "relationship.to_customer_id",
                        LinkField::KeyPersonRole => "relationship.key_person_role",
                        LinkField::Title => "relationship.title",
                        LinkField::EquityShare => "relationship.equity_share",
                    };
                    v.add(field, e.to_string());
                }
                equity_share = share.map(|s| s.to_string());
            }
            (None, Some(from), Some(to)) if from == to => {
                v.add(
                    "relationship.to_customer_id",
                    "a customer cannot be linked to itself",
                );
            }
            _ => {}
        }
        let (Some(t), Some(from), Some(to), true) = (relationship_type, from, to, v.is_empty())
        else {
            return Err(v.into());
        };

        let txn = self.db.begin().await?;
        let tree = self
            .relationship_tree(&txn)
            .await?
            .ok_or_else(|| customer_not_found(&from))?;
        let mut ends = Vec::with_capacity(2);
        for id in [&from, &to] {
            let row = customer::Entity::find_by_id(id.as_str())
                .one(&txn)
                .await?
                .filter(|row| may_see(caller, &tree, row))
                .ok_or_else(|| customer_not_found(id))?;
            ends.push(row);
        }
        let from_kind: CustomerKind = parse_code("kind", &ends[0].kind)?;
        let to_kind: CustomerKind = parse_code("kind", &ends[1].kind)?;
        let mut v = Violations::new();
        for e in check_kinds(t, from_kind, to_kind) {
            let field = match e.field() {
                LinkField::From => "relationship.from_customer_id",
                _ => "relationship.to_customer_id",
            };
            v.add(field, e.to_string());
        }
        if !v.is_empty() {
            return Err(v.into());
        }
        for row in &ends {
            if row.status != "active" {
                return Err(RegistryError::FailedPrecondition {
                    kind: "CUSTOMER_STATUS",
                    subject: row.customer_id.clone(),
                    message: format!(
                        "customer {} was merged into {}; link the survivor",
                        row.customer_id,
                        row.merged_into.clone().unwrap_or_default()
                    ),
                });
            }
        }
        // The partial unique index guards open links; an ended link of the same pair still holds
        // until its end date, so a new one may only start from then.
        let overlapping = rel::Entity::find()
            .filter(rel::Column::FromCustomerId.eq(from.as_str()))
            .filter(rel::Column::ToCustomerId.eq(to.as_str()))
            .filter(rel::Column::RelationshipType.eq(t.as_str()))
            .filter(
                Condition::any()
                    .add(rel::Column::EndDate.is_null())
                    .add(rel::Column::EndDate.gt(start)),
            )
            .one(&txn)
            .await?;
        if let Some(existing) = overlapping {
            return Err(already_linked(
                t,
                &from,
                &to,
                Some(existing.relationship_id),
            ));
        }
        // Postgres keeps microseconds: answer with what is stored.
        let now = self.clock.now().trunc_subsecs(6);
        let row = rel::Model {
            relationship_id: Uuid::now_v7().to_string(),
            relationship_type: t.as_str().to_owned(),
            from_customer_id: from.clone(),
            to_customer_id: to.clone(),
            key_person_role: role.map(|r| r.as_str().to_owned()),
            title: title.to_owned(),
            equity_share,
            start_date: start,
            end_date: None,
            created_by: caller.subject.clone(),
            create_time: now,
            reason: request.reason.trim().to_owned(),
            version: 1,
            update_time: now,
        };
        let inserted = rel::ActiveModel {
            relationship_id: Set(row.relationship_id.clone()),
            relationship_type: Set(row.relationship_type.clone()),
            from_customer_id: Set(row.from_customer_id.clone()),
            to_customer_id: Set(row.to_customer_id.clone()),
            key_person_role: Set(row.key_person_role.clone()),
            title: Set(row.title.clone()),
            equity_share: Set(row.equity_share.clone()),
            start_date: Set(row.start_date),
            end_date: Set(None),
            created_by: Set(row.created_by.clone()),
            create_time: Set(now),
            reason: Set(row.reason.clone()),
            version: Set(1),
            update_time: Set(now),
        }
        .insert(&txn)
        .await;
        if let Err(e) = inserted {
            drop(txn);
            return Err(match e.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => already_linked(t, &from, &to, None),
                _ => RegistryError::Db(e),
            });
        }
        let wire = to_proto(&row)?;
        self.record_link_change(
            &txn,
            caller,
            request_id,
            Change {
                action: "customer.link",
                event_type: "customer.linked",
                before: String::new(),
                reason: row.reason.clone(),
            },
            &row,
            &ends,
            &wire,
        )
        .await?;
        txn.commit().await?;
        self.invalidate_link_ends(&row).await;
        Ok(v1::LinkCustomersResponse {
            relationship: Some(wire),
        })
    }

    /// `UnlinkCustomers`: sets the end date and keeps the row.
    pub async fn unlink(
        &self,
        caller: &Caller,
        request_id: &str,
        request: v1::UnlinkCustomersRequest,
    ) -> Result<v1::UnlinkCustomersResponse> {
        require_role(caller, &WRITE_ROLES, "UnlinkCustomers")?;
        let mut v = Violations::new();
        let id = if request.relationship_id.is_empty() {
            v.add("relationship_id", "is required");
            None
        } else {
            v.check("relationship_id", Uuid::try_parse(&request.relationship_id))
                .map(|u| u.to_string())
        };
        let end = optional_date("end_date", request.end_date.as_ref(), &mut v);
        let reason = request.reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON {
            v.add("reason", format!("must be 1 to {MAX_REASON} characters"));
        }
        let (Some(id), true) = (id, v.is_empty()) else {
            return Err(v.into());
        };
        let not_found = || RegistryError::NotFound {
            kind: "relationship",
            id: id.clone(),
        };
        let txn = self.db.begin().await?;
        let row = rel::Entity::find_by_id(id.as_str())
            .one(&txn)
            .await?
            .ok_or_else(not_found)?;
        let tree = self.relationship_tree(&txn).await?.ok_or_else(not_found)?;
        let ends = customers_by_id(
            &txn,
            &BTreeSet::from([row.from_customer_id.clone(), row.to_customer_id.clone()]),
        )
        .await?;
        let ends: Vec<customer::Model> = [&row.from_customer_id, &row.to_customer_id]
            .into_iter()
            .filter_map(|c| ends.get(c).cloned())
            .collect();
        if ends.len() != 2 {
            return Err(internal(format!(
                "relationship {id} names a missing customer"
            )));
        }
        let seen = ends.iter().filter(|c| may_see(caller, &tree, c)).count();
        if seen == 0 {
            return Err(not_found());
        }
        if seen < 2 {
            return Err(RegistryError::PermissionDenied(format!(
                "relationship {id} links a customer outside your subtree"
            )));
        }
        if let Some(ended) = row.end_date {
            return Err(RegistryError::FailedPrecondition {
                kind: "RELATIONSHIP_ENDED",
                subject: id.clone(),
                message: format!("relationship {id} already ended on {ended}"),
            });
        }
        if row.version != request.expected_version {
            return Err(RegistryError::StaleVersion {
                kind: "relationship",
                id: id.clone(),
                expected: request.expected_version,
                actual: row.version,
            });
        }
        let end = end.unwrap_or_else(|| self.clock.today());
        if end <= row.start_date {
            return Err(RegistryError::invalid(
                "end_date",
                format!("must be after the link's start_date {}", row.start_date),
            ));
        }
        // Postgres keeps microseconds: answer with what is stored.
        let now = self.clock.now().trunc_subsecs(6);
        let mut next = row.clone();
        next.end_date = Some(end);
        next.version = row.version + 1;
        next.update_time = now;
        let updated = rel::Entity::update_many()
            .col_expr(rel::Column::EndDate, Expr::value(next.end_date))
            .col_expr(rel::Column::Version, Expr::value(next.version))
            .col_expr(rel::Column::UpdateTime, Expr::value(now))
            .filter(rel::Column::RelationshipId.eq(id.as_str()))
            .filter(rel::Column::Version.eq(row.version))
            .filter(rel::Column::EndDate.is_null())
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(RegistryError::StaleVersion {
                kind: "relationship",
                id: id.clone(),
                expected: request.expected_version,
                actual: row.version + 1,
            });
        }
        let wire = to_proto(&next)?;
        self.record_link_change(
            &txn,
            caller,
            request_id,
            Change {
                action: "customer.unlink",
                event_type: "customer.unlinked",
                before: summary(&row),
                reason: reason.to_owned(),
            },
            &next,
            &ends,
            &wire,
        )
        .await?;
        txn.commit().await?;
        self.invalidate_link_ends(&next).await;
        Ok(v1::UnlinkCustomersResponse {
            relationship: Some(wire),
        })
    }

    /// Writes the audit entry and one outbox event per end of a link change.
    #[allow(clippy::too_many_arguments)]
    async fn record_link_change<C: ConnectionTrait>(
        &self,
        txn: &C,
        caller: &Caller,
        request_id: &str,
        change: Change,
        row: &rel::Model,
        ends: &[customer::Model],
        wire: &v1::Relationship,
    ) -> Result<()> {
        let now = row.update_time;
        audit::record(
            txn,
            AuditEntry {
                actor: caller.subject.clone(),
                via_service: caller.via_service.clone(),
                action: change.action.to_owned(),
                target_type: "relationship".to_owned(),
                target_id: row.relationship_id.clone(),
                before: change.before,
                after: summary(row),
                reason: change.reason,
                request_id: request_id.to_owned(),
            },
            now,
        )
        .await?;
        let payload = wire.encode_to_vec();
        for end in ends {
            outbox::append(
                txn,
                Envelope {
                    aggregate_type: "customer".to_owned(),
                    aggregate_id: end.customer_id.clone(),
                    aggregate_version: end.version,
                    event_type: change.event_type.to_owned(),
                    occurred_at: now,
                    payload: payload.clone(),
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Drops both ends' cache entries: either end's 360 counts its links.
    async fn invalidate_link_ends(&self, row: &rel::Model) {
        self.cache
            .invalidate(&cache_key(&row.from_customer_id))
            .await;
        self.cache.invalidate(&cache_key(&row.to_customer_id)).await;
    }

    /// `ListRelationships`: one customer's links, in `relationship_id` order. Links to customers
    /// the caller may not read are listed too: they are facts about this customer and carry only
    /// the other end's id.
    pub async fn list_relationships(
        &self,
        caller: &Caller,
        request: v1::ListRelationshipsRequest,
    ) -> Result<v1::ListRelationshipsResponse> {
        let mut v = Violations::new();
        let id = customer_id("customer_id", &request.customer_id, &mut v);
        let way = direction("direction", request.direction, &mut v);
        let types = type_filter("relationship_types", &request.relationship_types, &mut v);
        let filters = format!("{id:?}|{way:?}|{types:?}|{}", request.include_ended);
        let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
        let (Some(id), true) = (id, v.is_empty()) else {
            return Err(v.into());
        };
        let tree = self
            .relationship_tree(&self.db)
            .await?
            .ok_or_else(|| customer_not_found(&id))?;
        customer::Entity::find_by_id(id.as_str())
            .one(&self.db)
            .await?
            .filter(|row| may_see(caller, &tree, row))
            .ok_or_else(|| customer_not_found(&id))?;
        let mut ends = Condition::any();
        if way.outgoing() {
            ends = ends.add(rel::Column::FromCustomerId.eq(id.as_str()));
        }
        if way.incoming() {
            ends = ends.add(rel::Column::ToCustomerId.eq(id.as_str()));
        }
        let mut query = rel::Entity::find().filter(ends);
        if !types.is_empty() {
            query =
                query.filter(rel::Column::RelationshipType.is_in(types.iter().map(|t| t.as_str())));
        }
        if !request.include_ended {
            query = query.filter(
                Condition::any()
                    .add(rel::Column::EndDate.is_null())
                    .add(rel::Column::EndDate.gt(self.clock.today())),
            );
        }
        if let Some(after) = &page.after {
            query = query.filter(rel::Column::RelationshipId.gt(after.clone()));
        }
        let mut rows = query
            .order_by_asc(rel::Column::RelationshipId)
            .limit(page.fetch_limit())
            .all(&self.db)
            .await?;
        let next_page_token = page.finish(&mut rows, |r| r.relationship_id.clone());
        Ok(v1::ListRelationshipsResponse {
            relationships: rows.iter().map(to_proto).collect::<Result<Vec<_>>>()?,
            next_page_token,
        })
    }

    /// `TraverseRelationships`: breadth first from a visible root over links in force today.
    pub async fn traverse_relationships(
        &self,
        caller: &Caller,
        request: v1::TraverseRelationshipsRequest,
    ) -> Result<v1::TraverseRelationshipsResponse> {
        let mut v = Violations::new();
        let root = customer_id("root_customer_id", &request.root_customer_id, &mut v);
        let types = type_filter("relationship_types", &request.relationship_types, &mut v);
        let way = direction("direction", request.direction, &mut v);
        let spec = match TraversalSpec::new(types, way, request.max_depth, request.max_nodes) {
            Ok(spec) => Some(spec),
            Err(errors) => {
                for e in errors {
                    let field = match e {
                        TraversalError::Depth(_) => "max_depth",
                        TraversalError::Nodes(_) => "max_nodes",
                    };
                    v.add(field, e.to_string());
                }
                None
            }
        };
        let (Some(root), Some(spec), true) = (root, spec, v.is_empty()) else {
            return Err(v.into());
        };
        let today = self.clock.today();
        let tree = self
            .relationship_tree(&self.db)
            .await?
            .ok_or_else(|| customer_not_found(&root))?;
        let root_row = customer::Entity::find_by_id(root.as_str())
            .one(&self.db)
            .await?
            .filter(|row| may_see(caller, &tree, row))
            .ok_or_else(|| customer_not_found(&root))?;

        // Load the neighbourhood level by level: only visible customers are walked through, and
        // loading stops once more customers are known than the cap lets through.
        let mut customers: HashMap<String, customer::Model> =
            HashMap::from([(root.clone(), root_row)]);
        let mut links: BTreeMap<String, rel::Model> = BTreeMap::new();
        let mut frontier = vec![root.clone()];
        for _ in 0..spec.max_depth() {
            if frontier.is_empty() || customers.len() > spec.max_nodes() {
                break;
            }
            let mut reached = BTreeSet::new();
            for edge in edges_touching(&self.db, &frontier, &spec, today).await? {
                for end in [&edge.from_customer_id, &edge.to_customer_id] {
                    if !customers.contains_key(end) {
                        reached.insert(end.clone());
                    }
                }
                links.insert(edge.relationship_id.clone(), edge);
            }
            let found = customers_by_id(&self.db, &reached).await?;
            frontier = reached
                .iter()
                .filter(|id| {
                    found
                        .get(*id)
                        .is_some_and(|row| may_see(caller, &tree, row))
                })
                .cloned()
                .collect();
            customers.extend(found);
        }
        let mut edges = Vec::with_capacity(links.len());
        for link in links.values() {
            edges.push(Edge {
                id: link.relationship_id.clone(),
                relationship_type: parse_code("relationship type", &link.relationship_type)?,
                from: link.from_customer_id.clone(),
                to: link.to_customer_id.clone(),
            });
        }
        let walk = traverse(&root, &edges, &spec, |id| {
            customers
                .get(id)
                .is_some_and(|row| may_see(caller, &tree, row))
        });
        let mut nodes = Vec::with_capacity(walk.nodes.len());
        for reached in &walk.nodes {
            let row = customers.get(&reached.node);
            let kind = match row {
                Some(r) => convert::kind_to_proto(parse_code("kind", &r.kind)?) as i32,
                None => 0,
            };
            let depth = i32::try_from(reached.depth).map_err(internal)?;
            nodes.push(if reached.visible {
                v1::TraversalNode {
                    customer_id: reached.node.clone(),
                    kind,
                    name: row.map(|r| r.name.clone()).unwrap_or_default(),
                    depth,
                    parent_customer_id: reached.parent.clone().unwrap_or_default(),
                    via_relationship_id: reached.via.clone().unwrap_or_default(),
                    restricted: false,
                }
            } else {
                v1::TraversalNode {
                    customer_id: reached.node.clone(),
                    kind,
                    depth,
                    restricted: true,
                    ..Default::default()
                }
            });
        }
        let relationships = walk
            .edges
            .iter()
            .filter_map(|id| links.get(id))
            .map(to_proto)
            .collect::<Result<Vec<_>>>()?;
        Ok(v1::TraverseRelationshipsResponse {
            nodes,
            relationships,
            truncated: walk.truncated,
        })
    }
}

/// What one link change records.
struct Change {
    action: &'static str,
    event_type: &'static str,
    before: String,
    reason: String,
}

/// `ALREADY_EXISTS` for a link of the same type between the same two customers.
fn already_linked(
    t: RelationshipType,
    from: &str,
    to: &str,
    existing: Option<String>,
) -> RegistryError {
    let mut metadata = HashMap::from([
        ("from_customer_id".to_owned(), from.to_owned()),
        ("to_customer_id".to_owned(), to.to_owned()),
        ("relationship_type".to_owned(), t.as_str().to_owned()),
    ]);
    if let Some(id) = existing {
        metadata.insert("existing_relationship_id".to_owned(), id);
    }
    RegistryError::AlreadyExists {
        reason: "RELATIONSHIP_EXISTS",
        message: format!("{from} is already {t} {to}"),
        metadata,
    }
}
