//! Merging two records of one customer. In one transaction the duplicate's identities,
//! cross-references, source records, relationships, holdings, transactions and lifecycle history
//! move to the survivor; the duplicate stays, read-only, as MERGED with a pointer to the survivor.
//! Where both hold the same fact (the same holdings snapshot or monthly summary, the same open
//! link) the survivor's is kept; a link between the two becomes a self-link and is ended.

use std::collections::{HashMap, HashSet};

use bankmkt_domain::access::may_read_customer;
use bankmkt_domain::org::{BranchCode, Role};
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::idempotency::{self, Outcome};
use bankmkt_platform::outbox::{self, Envelope};
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, TransactionTrait};

use super::entity::{customer, customer_identity, customer_xref};
use super::{Customers, cache_key, load_stored};
use crate::error::{RegistryError, Result};
use crate::ingest::entity::{customer_source, customer_transaction, holding, transaction_month};
use crate::lifecycle::lifecycle_transition;
use crate::relationships::customer_relationship as rel;

impl Customers {
    /// `MergeCustomers`.
    pub async fn merge(
        &self,
        caller: &Caller,
        request_id: &str,
        request: v1::MergeCustomersRequest,
    ) -> Result<v1::MergeCustomersResponse> {
        crate::org::require_role(
            caller,
            &[Role::CustomerManager, Role::Admin, Role::CoreBanking],
            "MergeCustomers",
        )?;
        let mut v = Violations::new();
        if request.idempotency_key.is_empty() || request.idempotency_key.len() > 128 {
            v.add("idempotency_key", "must be 1 to 128 characters");
        }
        for (field, id) in [
            ("survivor_customer_id", &request.survivor_customer_id),
            ("merged_customer_id", &request.merged_customer_id),
        ] {
            if id.is_empty() || id.len() > 36 {
                v.add(field, "must be 1 to 36 characters");
            }
        }
        if !request.survivor_customer_id.is_empty()
            && request.survivor_customer_id == request.merged_customer_id
        {
            v.add("merged_customer_id", "must differ from the survivor");
        }
        let reason = request.reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            v.add("reason", "must be 1 to 500 characters");
        }
        if !v.is_empty() {
            return Err(v.into());
        }
        let scope = format!("CustomerRegistry/MergeCustomers/{}", caller.subject);
        let hash = idempotency::request_hash(&request.encode_to_vec());
        let tree = crate::org::branches::tree_as_of(&self.db, self.clock.today()).await?;
        let txn = self.db.begin().await?;
        match idempotency::check(&txn, &scope, &request.idempotency_key, &hash).await? {
            Outcome::Replay(bytes) => {
                let stored = v1::MergeCustomersResponse::decode(bytes.as_slice())
                    .map_err(|e| RegistryError::Internal(e.to_string()))?;
                txn.commit().await?;
                let survivor = load_stored(&self.db, &request.survivor_customer_id)
                    .await?
                    .ok_or_else(|| RegistryError::Internal("survivor vanished".to_owned()))?;
                return Ok(v1::MergeCustomersResponse {
                    survivor: Some(self.view_unchecked(caller, &survivor)?),
                    ..stored
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
        let mut sides = Vec::new();
        for (id, expected) in [
            (
                &request.survivor_customer_id,
                request.survivor_expected_version,
            ),
            (&request.merged_customer_id, request.merged_expected_version),
        ] {
            let not_found = || RegistryError::NotFound {
                kind: "customer",
                id: id.clone(),
            };
            let stored = load_stored(&txn, id).await?.ok_or_else(not_found)?;
            let owning = BranchCode::parse(&stored.customer.owning_branch_id)
                .map_err(|e| RegistryError::Internal(e.to_string()))?;
            if !tree.as_ref().is_some_and(|t| {
                may_read_customer(&caller.roles, caller.branch.as_ref(), &owning, t, false)
            }) {
                return Err(not_found());
            }
            if stored.customer.status != "active" {
                return Err(RegistryError::FailedPrecondition {
                    kind: "CUSTOMER_STATUS",
                    subject: id.clone(),
                    message: format!("customer {id} is already merged"),
                });
            }
            if stored.customer.version != expected {
                return Err(RegistryError::StaleVersion {
                    kind: "customer",
                    id: id.clone(),
                    expected,
                    actual: stored.customer.version,
                });
            }
            sides.push(stored);
        }
        let (survivor, duplicate) = (&sides[0].customer, &sides[1].customer);
        if survivor.kind != duplicate.kind {
            return Err(RegistryError::invalid(
                "merged_customer_id",
                format!("a {} cannot merge into a {}", duplicate.kind, survivor.kind),
            ));
        }
        let (s_id, d_id) = (survivor.customer_id.clone(), duplicate.customer_id.clone());
        let now = self.clock.now();
        let today = self.clock.today();

        customer_identity::Entity::update_many()
            .col_expr(
                customer_identity::Column::CustomerId,
                Expr::value(s_id.clone()),
            )
            .filter(customer_identity::Column::CustomerId.eq(d_id.clone()))
            .exec(&txn)
            .await?;
        customer_xref::Entity::update_many()
            .col_expr(customer_xref::Column::CustomerId, Expr::value(s_id.clone()))
            .filter(customer_xref::Column::CustomerId.eq(d_id.clone()))
            .exec(&txn)
            .await?;
        customer_source::Entity::update_many()
            .col_expr(
                customer_source::Column::CustomerId,
                Expr::value(s_id.clone()),
            )
            .filter(customer_source::Column::CustomerId.eq(d_id.clone()))
            .exec(&txn)
            .await?;
        let transactions_moved = customer_transaction::Entity::update_many()
            .col_expr(
                customer_transaction::Column::CustomerId,
                Expr::value(s_id.clone()),
            )
            .filter(customer_transaction::Column::CustomerId.eq(d_id.clone()))
            .exec(&txn)
            .await?
            .rows_affected as i64;
        lifecycle_transition::Entity::update_many()
            .col_expr(
                lifecycle_transition::Column::CustomerId,
                Expr::value(s_id.clone()),
            )
            .filter(lifecycle_transition::Column::CustomerId.eq(d_id.clone()))
            .exec(&txn)
            .await?;

        // Holdings and monthly summaries: the survivor's snapshot of the same key wins.
        let survivor_holdings: HashSet<(String, String, i32, i32)> = holding::Entity::find()
            .filter(holding::Column::CustomerId.eq(s_id.clone()))
            .all(&txn)
            .await?
            .into_iter()
            .map(|h| (h.product_id, h.account_id, h.period_year, h.period_month))
            .collect();
        let mut holdings_moved = 0i64;
        for h in holding::Entity::find()
            .filter(holding::Column::CustomerId.eq(d_id.clone()))
            .all(&txn)
            .await?
        {
            if survivor_holdings.contains(&(
                h.product_id.clone(),
                h.account_id.clone(),
                h.period_year,
                h.period_month,
            )) {
                holding::Entity::delete_by_id(h.id).exec(&txn).await?;
            } else {
                let mut active: holding::ActiveModel = h.into();
                active.customer_id = Set(s_id.clone());
                active.update(&txn).await?;
                holdings_moved += 1;
            }
        }
        let survivor_months: HashSet<(i32, i32)> = transaction_month::Entity::find()
            .filter(transaction_month::Column::CustomerId.eq(s_id.clone()))
            .all(&txn)
            .await?
            .into_iter()
            .map(|m| (m.period_year, m.period_month))
            .collect();
        for m in transaction_month::Entity::find()
            .filter(transaction_month::Column::CustomerId.eq(d_id.clone()))
            .all(&txn)
            .await?
        {
            let key = (m.customer_id.clone(), m.period_year, m.period_month);
            transaction_month::Entity::delete_by_id(key)
                .exec(&txn)
                .await?;
            if !survivor_months.contains(&(m.period_year, m.period_month)) {
                transaction_month::ActiveModel::from(transaction_month::Model {
                    customer_id: s_id.clone(),
                    ..m
                })
                .insert(&txn)
                .await?;
            }
        }

        // Relationships: repoint; end self-links and duplicates of the survivor's open links.
        let links = rel::Entity::find()
            .filter(
                sea_orm::Condition::any()
                    .add(rel::Column::FromCustomerId.eq(d_id.clone()))
                    .add(rel::Column::ToCustomerId.eq(d_id.clone())),
            )
            .all(&txn)
            .await?;
        let survivor_open: HashMap<(String, String, String), String> = rel::Entity::find()
            .filter(
                sea_orm::Condition::any()
                    .add(rel::Column::FromCustomerId.eq(s_id.clone()))
                    .add(rel::Column::ToCustomerId.eq(s_id.clone())),
            )
            .filter(rel::Column::EndDate.is_null())
            .all(&txn)
            .await?
            .into_iter()
            .map(|l| {
                (
                    (
                        l.relationship_type.clone(),
                        l.from_customer_id.clone(),
                        l.to_customer_id.clone(),
                    ),
                    l.relationship_id,
                )
            })
            .collect();
        let mut relationships_moved = 0i64;
        for link in links {
            let swap = |id: &str| {
                if id == d_id {
                    s_id.clone()
                } else {
                    id.to_owned()
                }
            };
            let (from, to) = (swap(&link.from_customer_id), swap(&link.to_customer_id));
            let duplicate_of_open = link.end_date.is_none()
                && survivor_open.contains_key(&(
                    link.relationship_type.clone(),
                    from.clone(),
                    to.clone(),
                ));
            let mut active: rel::ActiveModel = link.clone().into();
            if link.end_date.is_none() && (from == to || duplicate_of_open) {
                // In force on [start, end): ending at the later of start and today ends it now.
                let end = link.start_date.max(today);
                active.end_date = Set(Some(end));
            } else {
                relationships_moved += 1;
            }
            active.from_customer_id = Set(from);
            active.to_customer_id = Set(to);
            active.version = Set(link.version + 1);
            active.update_time = Set(now);
            active.update(&txn).await?;
        }

        for (id, status, merged_into, version) in [
            (&s_id, "active", None, survivor.version + 1),
            (&d_id, "merged", Some(s_id.clone()), duplicate.version + 1),
        ] {
            customer::Entity::update_many()
                .col_expr(customer::Column::Status, Expr::value(status))
                .col_expr(customer::Column::MergedInto, Expr::value(merged_into))
                .col_expr(customer::Column::Version, Expr::value(version))
                .col_expr(customer::Column::UpdateTime, Expr::value(now))
                .filter(customer::Column::CustomerId.eq(id.clone()))
                .exec(&txn)
                .await?;
            outbox::append(
                &txn,
                Envelope {
                    aggregate_type: "customer".to_owned(),
                    aggregate_id: id.clone(),
                    aggregate_version: version,
                    event_type: "customer.merged".to_owned(),
                    occurred_at: now,
                    payload: v1::MergeCustomersRequest {
                        survivor_customer_id: s_id.clone(),
                        merged_customer_id: d_id.clone(),
                        ..Default::default()
                    }
                    .encode_to_vec(),
                },
            )
            .await?;
        }
        audit::record(
            &txn,
            AuditEntry {
                actor: caller.subject.clone(),
                via_service: caller.via_service.clone(),
                action: "customer.merge".to_owned(),
                target_type: "customer".to_owned(),
                target_id: s_id.clone(),
                before: format!("survivor={s_id} v{} duplicate={d_id} v{}", survivor.version, duplicate.version),
                after: format!("relationships_moved={relationships_moved} holdings_moved={holdings_moved} transactions_moved={transactions_moved}"),
                reason: reason.to_owned(),
                request_id: request_id.to_owned(),
            },
            now,
        )
        .await?;
        let remembered = v1::MergeCustomersResponse {
            survivor: None,
            relationships_moved,
            holdings_moved,
            transactions_moved,
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
        self.cache.invalidate(&cache_key(&s_id)).await;
        self.cache.invalidate(&cache_key(&d_id)).await;
        let after = load_stored(&self.db, &s_id)
            .await?
            .ok_or_else(|| RegistryError::Internal("survivor vanished".to_owned()))?;
        Ok(v1::MergeCustomersResponse {
            survivor: Some(self.view_unchecked(caller, &after)?),
            ..remembered
        })
    }
}
