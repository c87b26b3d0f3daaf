//! The customer stream from a source system. A record is keyed by (source system, source id)
//! and its source version. A new key creates the customer — or, when one of its identity
//! documents already belongs to a customer, attaches the source record to that customer; a newer
//! version updates name, phone, industry and details (branch and managers change only by
//! hand-over); the same version is a replay; an older one is ignored. A chunk is written with one
//! multi-row upsert per table inside one transaction, and retried record by record only to isolate
//! a record the database refuses (e.g. an identity that another record in flight just took).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use bankmkt_domain::branch_tree::BranchTree;
use bankmkt_domain::customer::{CustomerKind, LifecycleStage};
use bankmkt_domain::org::BranchCode;
use bankmkt_platform::cache::ReadThrough;
use bankmkt_platform::clock::Clock;
use bankmkt_platform::pii::PiiVault;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, DatabaseConnection, DbBackend, Statement, TransactionTrait, TryIntoModel,
};

use super::entity::customer_source;
use super::{Sink, Summary};
use crate::convert;
use crate::customers::entity::{customer, customer_identity, customer_xref};
use crate::customers::{
    IdentityInput, PHONE_PURPOSE, cache_key, identity_purpose, validate_details,
    validate_identities, validate_industry, validate_name, validate_phone,
};
use crate::error::{RegistryError, Result};
use crate::org::entity::employee;

/// Writes customer records.
pub struct CustomersSink {
    /// The registry database.
    pub db: DatabaseConnection,
    /// Time.
    pub clock: Clock,
    /// The cache.
    pub cache: ReadThrough,
    /// Sealing and blind indexes.
    pub pii: Arc<PiiVault>,
    /// The branch tree as of today, loaded once per stream.
    pub tree: Option<BranchTree>,
}

/// A validated record, ready to write.
struct Valid {
    index: i64,
    source_id: String,
    version: i64,
    kind: CustomerKind,
    name: String,
    identities: Vec<IdentityInput>,
    phone: Option<String>,
    owning: Option<BranchCode>,
    primary: String,
    backup: String,
    industry: String,
    details: Vec<u8>,
}

fn validate(index: i64, r: &v1::CustomerRecord, v: &mut Violations) -> Option<Valid> {
    if r.source_id.is_empty()
        || r.source_id.len() > 64
        || !r.source_id.chars().all(|c| c.is_ascii_graphic())
    {
        v.add("source_id", "must be 1 to 64 printable ASCII characters");
    }
    if r.source_version <= 0 {
        v.add("source_version", "must be positive");
    }
    let kind = convert::kind_from_proto(r.kind);
    if kind.is_none() {
        v.add("kind", "must be a known customer kind");
    }
    validate_name("name", &r.name, v);
    let identities = validate_identities("", kind, &r.identities, v);
    let phone = validate_phone("phone", &r.phone, v);
    validate_industry("industry_code", &r.industry_code, v);
    let details = r.details.clone().map(|d| match d {
        v1::customer_record::Details::Individual(i) => v1::customer::Details::Individual(i),
        v1::customer_record::Details::Organisation(o) => v1::customer::Details::Organisation(o),
    });
    let details = validate_details(kind, details.as_ref(), v);
    let owning = if r.owning_branch_id.is_empty() {
        None
    } else {
        v.check("owning_branch_id", BranchCode::parse(&r.owning_branch_id))
    };
    if !v.is_empty() {
        return None;
    }
    Some(Valid {
        index,
        source_id: r.source_id.clone(),
        version: r.source_version,
        kind: kind?,
        name: r.name.trim().to_owned(),
        identities,
        phone,
        owning,
        primary: r.primary_manager_id.clone(),
        backup: r.backup_manager_id.clone(),
        industry: r.industry_code.trim().to_owned(),
        details,
    })
}

/// Rows to write for one record.
struct Rows {
    index: i64,
    key: String,
    customer: customer::ActiveModel,
    identities: Vec<customer_identity::ActiveModel>,
    xref: Option<customer_xref::ActiveModel>,
    source: customer_source::ActiveModel,
    customer_id: String,
    update: bool,
}

fn upsert_customer() -> OnConflict {
    OnConflict::column(customer::Column::CustomerId)
        .update_columns([
            customer::Column::Name,
            customer::Column::PhoneKeyId,
            customer::Column::PhoneSealed,
            customer::Column::IndustryCode,
            customer::Column::Details,
            customer::Column::UpdateTime,
            customer::Column::Version,
        ])
        .to_owned()
}

fn upsert_source() -> OnConflict {
    OnConflict::columns([
        customer_source::Column::SourceSystem,
        customer_source::Column::SourceId,
    ])
    .update_columns([
        customer_source::Column::CustomerId,
        customer_source::Column::SourceVersion,
    ])
    .to_owned()
}

async fn write_rows<C: ConnectionTrait>(db: &C, rows: &[&Rows]) -> std::result::Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        postgres_customers(db, rows).await?;
    } else {
        let customers: Vec<customer::ActiveModel> =
            rows.iter().map(|r| r.customer.clone()).collect();
        customer::Entity::insert_many(customers)
            .on_conflict(upsert_customer())
            .exec_without_returning(db)
            .await?;
        let identities: Vec<customer_identity::ActiveModel> =
            rows.iter().flat_map(|r| r.identities.clone()).collect();
        // Up to ten documents per record: keep each statement under SQLite's bound-parameter limit.
        for part in identities.chunks(2_000) {
            customer_identity::Entity::insert_many(part.to_vec())
                .exec_without_returning(db)
                .await?;
        }
    }
    let xrefs: Vec<customer_xref::ActiveModel> =
        rows.iter().filter_map(|r| r.xref.clone()).collect();
    if !xrefs.is_empty() {
        customer_xref::Entity::insert_many(xrefs)
            .exec_without_returning(db)
            .await?;
    }
    let sources: Vec<customer_source::ActiveModel> =
        rows.iter().map(|r| r.source.clone()).collect();
    customer_source::Entity::insert_many(sources)
        .on_conflict(upsert_source())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Postgres: the chunk's customers and identities as two statements of one JSON parameter each
/// (`json_populate_recordset`), instead of a multi-row `VALUES` list of ~20 parameters a row —
/// binding and planning 20,000 parameters was most of a chunk's time. Same upsert semantics as the
/// SQLite path: a customer's master columns are replaced on conflict, identities only inserted.
async fn postgres_customers<C: ConnectionTrait>(
    db: &C,
    rows: &[&Rows],
) -> std::result::Result<(), DbErr> {
    let mut customers = Vec::with_capacity(rows.len());
    let mut identities = Vec::new();
    for r in rows {
        let model = r.customer.clone().try_into_model()?;
        let mut value = serde_json::to_value(&model).map_err(|e| DbErr::Custom(e.to_string()))?;
        value["phone_sealed"] = model
            .phone_sealed
            .as_deref()
            .map_or(serde_json::Value::Null, |b| bytea(b).into());
        value["details"] = bytea(&model.details).into();
        customers.push(value);
        for identity in &r.identities {
            let i = identity.clone();
            identities.push(serde_json::json!({
                "customer_id": i.customer_id.try_as_ref(),
                "identity_type": i.identity_type.try_as_ref(),
                "blind_index": i.blind_index.try_as_ref(),
                "key_id": i.key_id.try_as_ref(),
                "sealed": i.sealed.try_as_ref().map(|b| bytea(b)),
                "issuing_country": i.issuing_country.try_as_ref(),
                "expiry_date": i.expiry_date.try_as_ref().copied().flatten(),
            }));
        }
    }
    let statement = |sql: &str, rows: Vec<serde_json::Value>| {
        Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [serde_json::Value::Array(rows).to_string().into()],
        )
    };
    db.execute_raw(statement(
        "INSERT INTO customer SELECT * FROM json_populate_recordset(NULL::customer, $1::json) \
         ON CONFLICT (customer_id) DO UPDATE SET name = EXCLUDED.name, \
         phone_key_id = EXCLUDED.phone_key_id, phone_sealed = EXCLUDED.phone_sealed, \
         industry_code = EXCLUDED.industry_code, details = EXCLUDED.details, \
         update_time = EXCLUDED.update_time, version = EXCLUDED.version",
        customers,
    ))
    .await?;
    if !identities.is_empty() {
        db.execute_raw(statement(
            "INSERT INTO customer_identity (customer_id, identity_type, blind_index, key_id, sealed, \
             issuing_country, expiry_date) SELECT customer_id, identity_type, blind_index, key_id, \
             sealed, issuing_country, expiry_date \
             FROM json_populate_recordset(NULL::customer_identity, $1::json)",
            identities,
        ))
        .await?;
    }
    Ok(())
}

/// Bytes as a Postgres `bytea` hex literal (`\x…`), for JSON input.
fn bytea(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(2 + bytes.len() * 2);
    out.push_str("\\x");
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[async_trait::async_trait]
impl Sink for CustomersSink {
    type Record = v1::CustomerRecord;
    const RPC: &'static str = "IngestCustomers";
    const TABLES: &'static [&'static str] = &[
        "customer",
        "customer_identity",
        "customer_xref",
        "customer_source",
    ];
    const SUM_FIELDS: &'static [&'static str] = &[];

    fn add_sums(_record: &v1::CustomerRecord, _summary: &mut Summary) {}

    async fn write_chunk(
        &mut self,
        chunk: Vec<(i64, v1::CustomerRecord)>,
        header: &v1::IngestHeader,
        summary: &mut Summary,
    ) -> Result<()> {
        if self.tree.is_none() {
            self.tree = crate::org::branches::tree_as_of(&self.db, self.clock.today()).await?;
        }
        let system = header.source_system.clone();
        let now = self.clock.now();
        let today = self.clock.today();
        // 1. Validate; keep the newest version of each source id in the chunk.
        let mut valid: HashMap<String, Valid> = HashMap::new();
        for (index, record) in &chunk {
            let mut v = Violations::new();
            let Some(ok) = validate(*index, record, &mut v) else {
                summary.reject_invalid(*index, &record.source_id, &v);
                continue;
            };
            match valid.get(&ok.source_id) {
                Some(old) if old.version > ok.version => summary.inner.ignored_older += 1,
                Some(old) if old.version == ok.version => summary.inner.replayed += 1,
                _ => {
                    valid.insert(ok.source_id.clone(), ok);
                }
            }
        }
        if valid.is_empty() {
            return Ok(());
        }
        // 2. What is known already: source versions, and customers holding these identities.
        let source_ids: Vec<String> = valid.keys().cloned().collect();
        let known: HashMap<String, customer_source::Model> = customer_source::Entity::find()
            .filter(customer_source::Column::SourceSystem.eq(system.clone()))
            .filter(customer_source::Column::SourceId.is_in(source_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|s| (s.source_id.clone(), s))
            .collect();
        let mut indexes = Vec::new();
        let mut types = BTreeSet::new();
        for r in valid.values() {
            for (kind, number, _, _) in &r.identities {
                indexes.push(self.pii.blind_index(&identity_purpose(*kind), number));
                types.insert(kind.as_str().to_owned());
            }
        }
        // Both columns of the unique (identity_type, blind_index) index, so the lookup is an
        // index scan rather than a scan of every identity (which made large loads quadratic).
        let holders: HashMap<String, String> = customer_identity::Entity::find()
            .filter(customer_identity::Column::IdentityType.is_in(types))
            .filter(customer_identity::Column::BlindIndex.is_in(indexes))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|i| {
                (
                    format!("{}:{}", i.identity_type, i.blind_index),
                    i.customer_id,
                )
            })
            .collect();
        let manager_ids: BTreeSet<String> = valid
            .values()
            .flat_map(|r| [r.primary.clone(), r.backup.clone()])
            .collect();
        let managers: HashMap<String, employee::Model> = employee::Entity::find()
            .filter(employee::Column::EmployeeId.is_in(manager_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|e| (e.employee_id.clone(), e))
            .collect();
        let existing_ids: Vec<String> = known
            .values()
            .map(|s| s.customer_id.clone())
            .chain(holders.values().cloned())
            .collect();
        let existing: HashMap<String, customer::Model> = customer::Entity::find()
            .filter(customer::Column::CustomerId.is_in(existing_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| (c.customer_id.clone(), c))
            .collect();

        // 3. Decide each record and build its rows.
        let mut plan: Vec<Rows> = Vec::new();
        let mut taken: HashMap<String, String> = HashMap::new();
        for r in valid.into_values() {
            let known_source = known.get(&r.source_id);
            if let Some(k) = known_source {
                if k.source_version > r.version {
                    summary.inner.ignored_older += 1;
                    continue;
                }
                if k.source_version == r.version {
                    summary.inner.replayed += 1;
                    continue;
                }
            }
            let identity_keys: Vec<(String, String)> = r
                .identities
                .iter()
                .map(|(kind, number, _, _)| {
                    (
                        kind.as_str().to_owned(),
                        self.pii.blind_index(&identity_purpose(*kind), number),
                    )
                })
                .collect();
            let holder = identity_keys
                .iter()
                .find_map(|(t, i)| holders.get(&format!("{t}:{i}")).cloned());
            let target = known_source
                .map(|k| k.customer_id.clone())
                .or(holder.clone());
            // Two records of this chunk claiming one identity: the first wins.
            if let Some((t, i)) = identity_keys.iter().find(|(t, i)| {
                taken
                    .get(&format!("{t}:{i}"))
                    .is_some_and(|s| *s != r.source_id)
            }) {
                summary.reject(
                    r.index,
                    &r.source_id,
                    "identities",
                    "ALREADY_EXISTS",
                    &format!(
                        "identity {t} is claimed by another record of this batch ({})",
                        &i[..8]
                    ),
                );
                continue;
            }
            for (t, i) in &identity_keys {
                taken.insert(format!("{t}:{i}"), r.source_id.clone());
            }
            let phone = match &r.phone {
                Some(p) => Some(
                    self.pii
                        .seal(PHONE_PURPOSE, p)
                        .map_err(|e| RegistryError::Internal(e.to_string()))?,
                ),
                None => None,
            };
            match target.and_then(|id| existing.get(&id).cloned()) {
                Some(current) => {
                    if current.status != "active" {
                        summary.reject(
                            r.index,
                            &r.source_id,
                            "source_id",
                            "FAILED_PRECONDITION",
                            "the customer was merged; send the survivor's records",
                        );
                        continue;
                    }
                    if current.kind != r.kind.as_str() {
                        summary.reject(
                            r.index,
                            &r.source_id,
                            "kind",
                            "INVALID_ARGUMENT",
                            "the kind of a customer cannot change",
                        );
                        continue;
                    }
                    let mut model: customer::ActiveModel = current.clone().into();
                    model.name = Set(r.name.clone());
                    model.phone_key_id = Set(phone.as_ref().map(|p| p.key_id.clone()));
                    model.phone_sealed = Set(phone.map(|p| p.bytes));
                    model.industry_code = Set(r.industry.clone());
                    model.details = Set(r.details.clone());
                    model.update_time = Set(now);
                    model.version = Set(current.version + 1);
                    // Identities the customer does not hold yet are added.
                    let mut new_identities = Vec::new();
                    for (kind, number, country, expiry) in &r.identities {
                        let index = self.pii.blind_index(&identity_purpose(*kind), number);
                        if holders
                            .get(&format!("{}:{index}", kind.as_str()))
                            .is_some_and(|h| *h == current.customer_id)
                        {
                            continue;
                        }
                        if holders.contains_key(&format!("{}:{index}", kind.as_str())) {
                            summary.reject(
                                r.index,
                                &r.source_id,
                                "identities",
                                "ALREADY_EXISTS",
                                "an identity belongs to another customer",
                            );
                            new_identities.clear();
                            break;
                        }
                        let sealed = self
                            .pii
                            .seal(&identity_purpose(*kind), number)
                            .map_err(|e| RegistryError::Internal(e.to_string()))?;
                        new_identities.push(customer_identity::ActiveModel {
                            customer_id: Set(current.customer_id.clone()),
                            identity_type: Set(kind.as_str().to_owned()),
                            blind_index: Set(index),
                            key_id: Set(sealed.key_id),
                            sealed: Set(sealed.bytes),
                            issuing_country: Set(country.clone()),
                            expiry_date: Set(*expiry),
                            ..Default::default()
                        });
                    }
                    plan.push(Rows {
                        index: r.index,
                        key: r.source_id.clone(),
                        customer: model,
                        identities: new_identities,
                        xref: known_source.is_none().then(|| customer_xref::ActiveModel {
                            source_system: Set(system.clone()),
                            source_id: Set(r.source_id.clone()),
                            customer_id: Set(current.customer_id.clone()),
                            create_time: Set(now),
                        }),
                        source: customer_source::ActiveModel {
                            source_system: Set(system.clone()),
                            source_id: Set(r.source_id.clone()),
                            customer_id: Set(current.customer_id.clone()),
                            source_version: Set(r.version),
                        },
                        customer_id: current.customer_id.clone(),
                        update: true,
                    });
                }
                None => {
                    // A new customer needs its branch and managers.
                    let Some(owning) = r.owning.clone() else {
                        summary.reject(
                            r.index,
                            &r.source_id,
                            "owning_branch_id",
                            "INVALID_ARGUMENT",
                            "is required for a new customer",
                        );
                        continue;
                    };
                    if !self.tree.as_ref().is_some_and(|t| t.contains(&owning)) {
                        summary.reject(
                            r.index,
                            &r.source_id,
                            "owning_branch_id",
                            "INVALID_ARGUMENT",
                            &format!("unknown branch {owning}"),
                        );
                        continue;
                    }
                    let manager_ok = |id: &str| {
                        managers.get(id).is_some_and(|e| {
                            e.roles.contains(",customer_manager,")
                                && e.active_from <= today
                                && e.active_to.is_none_or(|to| to > today)
                                && BranchCode::parse(&e.branch_id).is_ok_and(|b| {
                                    self.tree
                                        .as_ref()
                                        .is_some_and(|t| t.is_in_subtree(&b, &owning))
                                })
                        })
                    };
                    if !manager_ok(&r.primary) {
                        summary.reject(
                            r.index,
                            &r.source_id,
                            "primary_manager_id",
                            "INVALID_ARGUMENT",
                            "must be an active customer manager in the branch's subtree",
                        );
                        continue;
                    }
                    if !manager_ok(&r.backup) || r.backup == r.primary {
                        summary.reject(
                            r.index,
                            &r.source_id,
                            "backup_manager_id",
                            "INVALID_ARGUMENT",
                            "must be another active customer manager in the branch's subtree",
                        );
                        continue;
                    }
                    let customer_id = Uuid::now_v7().to_string();
                    let mut identities = Vec::new();
                    for (kind, number, country, expiry) in &r.identities {
                        let sealed = self
                            .pii
                            .seal(&identity_purpose(*kind), number)
                            .map_err(|e| RegistryError::Internal(e.to_string()))?;
                        identities.push(customer_identity::ActiveModel {
                            customer_id: Set(customer_id.clone()),
                            identity_type: Set(kind.as_str().to_owned()),
                            blind_index: Set(self
                                .pii
                                .blind_index(&identity_purpose(*kind), number)),
                            key_id: Set(sealed.key_id),
                            sealed: Set(sealed.bytes),
                            issuing_country: Set(country.clone()),
                            expiry_date: Set(*expiry),
                            ..Default::default()
                        });
                    }
                    plan.push(Rows {
                        index: r.index,
                        key: r.source_id.clone(),
                        customer: customer::ActiveModel {
                            customer_id: Set(customer_id.clone()),
                            kind: Set(r.kind.as_str().to_owned()),
                            name: Set(r.name.clone()),
                            phone_key_id: Set(phone.as_ref().map(|p| p.key_id.clone())),
                            phone_sealed: Set(phone.map(|p| p.bytes)),
                            owning_branch_id: Set(owning.as_str().to_owned()),
                            primary_manager_id: Set(r.primary.clone()),
                            backup_manager_id: Set(r.backup.clone()),
                            industry_code: Set(r.industry.clone()),
                            stage: Set(LifecycleStage::Potential.as_str().to_owned()),
                            corporate_tier: Set(None),
                            wealth_tier: Set(None),
                            segment_id: Set(String::new()),
                            segment_label: Set(String::new()),
                            status: Set("active".to_owned()),
                            merged_into: Set(None),
                            details: Set(r.details.clone()),
                            create_time: Set(now),
                            update_time: Set(now),
                            version: Set(1),
                        },
                        identities,
                        xref: Some(customer_xref::ActiveModel {
                            source_system: Set(system.clone()),
                            source_id: Set(r.source_id.clone()),
                            customer_id: Set(customer_id.clone()),
                            create_time: Set(now),
                        }),
                        source: customer_source::ActiveModel {
                            source_system: Set(system.clone()),
                            source_id: Set(r.source_id.clone()),
                            customer_id: Set(customer_id.clone()),
                            source_version: Set(r.version),
                        },
                        customer_id,
                        update: false,
                    });
                }
            }
        }
        if plan.is_empty() {
            return Ok(());
        }
        // 4. One transaction, one statement per table; on refusal, record by record.
        let all: Vec<&Rows> = plan.iter().collect();
        let txn = self.db.begin().await?;
        let written = match write_rows(&txn, &all).await {
            Ok(()) => {
                txn.commit().await?;
                plan.iter().collect::<Vec<_>>()
            }
            Err(e) => {
                tracing::warn!(error = %e, "multi-row customer upsert failed; retrying record by record");
                drop(txn);
                let mut ok = Vec::new();
                for rows in &plan {
                    let txn = self.db.begin().await?;
                    match write_rows(&txn, &[rows]).await {
                        Ok(()) => {
                            txn.commit().await?;
                            ok.push(rows);
                        }
                        Err(e) => {
                            drop(txn);
                            let code = if matches!(
                                e.sql_err(),
                                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                            ) {
                                "ALREADY_EXISTS"
                            } else {
                                "INTERNAL"
                            };
                            summary.reject(rows.index, &rows.key, "identities", code, "the database refused the record (an identity or source reference is taken)");
                        }
                    }
                }
                ok
            }
        };
        for rows in written {
            if rows.update {
                summary.inner.updated += 1;
                self.cache.invalidate(&cache_key(&rows.customer_id)).await;
            } else {
                summary.inner.inserted += 1;
            }
        }
        Ok(())
    }
}
