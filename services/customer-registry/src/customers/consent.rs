//! Consent of individual customers (PIPL): read, replace (audited, with evidence and optimistic
//! concurrency) and the batch contact check coordination calls. Storage: `customer_consent` (the
//! flags and version) and `consent_channel` (one row per channel, granted or withdrawn, with its
//! source). A customer with no consent row has granted nothing.

use std::collections::BTreeSet;

use bankmkt_domain::access::may_read_customer;
use bankmkt_domain::consent::{Consent, ContactChannel, Refusal, check_contact};
use bankmkt_domain::customer::CustomerKind;
use bankmkt_domain::org::{BranchCode, Role};
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, TransactionTrait};
use sea_orm_migration::prelude::{
    ColumnDef, DeriveIden, Index, MigrationName, MigrationTrait, SchemaManager, Table,
};

use super::{Customers, load_stored};
use crate::convert;
use crate::error::{RegistryError, Result};

/// Most customers one contact check may name.
pub const MAX_CHECK: usize = 500;

/// `customer_consent`.
pub mod customer_consent {
    use sea_orm::entity::prelude::*;

    /// The consent flags of one individual.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "customer_consent")]
    pub struct Model {
        /// The customer.
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_id: String,
        /// Do not contact at all.
        pub do_not_contact: bool,
        /// Cross-line use allowed.
        pub cross_line_use: bool,
        /// Optimistic-concurrency version.
        pub version: i64,
        /// Last change.
        pub update_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `consent_channel`.
pub mod consent_channel {
    use sea_orm::entity::prelude::*;

    /// Consent for one channel.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "consent_channel")]
    pub struct Model {
        /// The customer.
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_id: String,
        /// Channel code.
        #[sea_orm(primary_key, auto_increment = false)]
        pub channel: String,
        /// Granted or withdrawn.
        pub granted: bool,
        /// Where it was collected.
        pub source: String,
        /// When.
        pub update_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(DeriveIden)]
enum CustomerConsent {
    Table,
    CustomerId,
    DoNotContact,
    CrossLineUse,
    Version,
    UpdateTime,
}

#[derive(DeriveIden)]
enum ConsentChannel {
    Table,
    CustomerId,
    Channel,
    Granted,
    Source,
    UpdateTime,
}

/// Creates the consent tables.
pub struct ConsentMigration;

impl MigrationName for ConsentMigration {
    fn name(&self) -> &str {
        "m0104_registry_consent"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ConsentMigration {
    async fn up(&self, manager: &SchemaManager) -> std::result::Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CustomerConsent::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(CustomerConsent::CustomerId)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(CustomerConsent::DoNotContact)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CustomerConsent::CrossLineUse)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CustomerConsent::Version)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CustomerConsent::UpdateTime)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ConsentChannel::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(ConsentChannel::CustomerId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConsentChannel::Channel)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ConsentChannel::Granted).boolean().not_null())
                    .col(
                        ColumnDef::new(ConsentChannel::Source)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConsentChannel::UpdateTime)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ConsentChannel::CustomerId)
                            .col(ConsentChannel::Channel),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

fn channel_from_proto(raw: i32) -> Option<ContactChannel> {
    Some(match v1::ContactChannel::try_from(raw).ok()? {
        v1::ContactChannel::Unspecified => return None,
        v1::ContactChannel::InPerson => ContactChannel::InPerson,
        v1::ContactChannel::Phone => ContactChannel::Phone,
        v1::ContactChannel::Sms => ContactChannel::Sms,
        v1::ContactChannel::Email => ContactChannel::Email,
        v1::ContactChannel::Wechat => ContactChannel::Wechat,
        v1::ContactChannel::Digital => ContactChannel::Digital,
        v1::ContactChannel::Event => ContactChannel::Event,
        v1::ContactChannel::Mail => ContactChannel::Mail,
    })
}

fn channel_to_proto(c: ContactChannel) -> v1::ContactChannel {
    match c {
        ContactChannel::InPerson => v1::ContactChannel::InPerson,
        ContactChannel::Phone => v1::ContactChannel::Phone,
        ContactChannel::Sms => v1::ContactChannel::Sms,
        ContactChannel::Email => v1::ContactChannel::Email,
        ContactChannel::Wechat => v1::ContactChannel::Wechat,
        ContactChannel::Digital => v1::ContactChannel::Digital,
        ContactChannel::Event => v1::ContactChannel::Event,
        ContactChannel::Mail => v1::ContactChannel::Mail,
    }
}

async fn read<C: ConnectionTrait>(
    db: &C,
    customer_id: &str,
) -> Result<(Option<customer_consent::Model>, Vec<consent_channel::Model>)> {
    let flags = customer_consent::Entity::find_by_id(customer_id.to_owned())
        .one(db)
        .await?;
    let channels = consent_channel::Entity::find()
        .filter(consent_channel::Column::CustomerId.eq(customer_id))
        .all(db)
        .await?;
    Ok((flags, channels))
}

fn to_domain(
    flags: &Option<customer_consent::Model>,
    channels: &[consent_channel::Model],
) -> Consent {
    Consent {
        granted_channels: channels
            .iter()
            .filter(|c| c.granted)
            .filter_map(|c| c.channel.parse().ok())
            .collect(),
        do_not_contact: flags.as_ref().is_some_and(|f| f.do_not_contact),
        cross_line_use: flags.as_ref().is_some_and(|f| f.cross_line_use),
    }
}

fn to_proto(
    customer_id: &str,
    flags: &Option<customer_consent::Model>,
    channels: &[consent_channel::Model],
) -> v1::Consent {
    v1::Consent {
        customer_id: customer_id.to_owned(),
        channels: channels
            .iter()
            .filter_map(|c| {
                Some(v1::ChannelConsent {
                    channel: channel_to_proto(c.channel.parse().ok()?) as i32,
                    granted: c.granted,
                    source: c.source.clone(),
                    update_time: Some(convert::timestamp(c.update_time)),
                })
            })
            .collect(),
        do_not_contact: flags.as_ref().is_some_and(|f| f.do_not_contact),
        cross_line_use: flags.as_ref().is_some_and(|f| f.cross_line_use),
        version: flags.as_ref().map_or(0, |f| f.version),
        update_time: flags.as_ref().map(|f| convert::timestamp(f.update_time)),
    }
}

impl Customers {
    /// The individual `customer_id` if the caller may see it.
    async fn visible_individual<C: ConnectionTrait>(
        &self,
        db: &C,
        caller: &Caller,
        customer_id: &str,
    ) -> Result<()> {
        let not_found = || RegistryError::NotFound {
            kind: "customer",
            id: customer_id.to_owned(),
        };
        let stored = load_stored(db, customer_id).await?.ok_or_else(not_found)?;
        let tree = crate::org::branches::tree_as_of(db, self.clock.today())
            .await?
            .ok_or_else(not_found)?;
        let owning = BranchCode::parse(&stored.customer.owning_branch_id)
            .map_err(|e| RegistryError::Internal(e.to_string()))?;
        if !may_read_customer(&caller.roles, caller.branch.as_ref(), &owning, &tree, false) {
            return Err(not_found());
        }
        if stored.customer.kind != CustomerKind::Individual.as_str() {
            return Err(RegistryError::FailedPrecondition {
                kind: "CUSTOMER_KIND",
                subject: customer_id.to_owned(),
                message: "consent is kept for individuals only".to_owned(),
            });
        }
        Ok(())
    }

    /// `GetConsent`.
    pub async fn get_consent(
        &self,
        caller: &Caller,
        request: v1::GetConsentRequest,
    ) -> Result<v1::GetConsentResponse> {
        if request.customer_id.is_empty() {
            return Err(RegistryError::invalid("customer_id", "is required"));
        }
        self.visible_individual(&self.db, caller, &request.customer_id)
            .await?;
        let (flags, channels) = read(&self.db, &request.customer_id).await?;
        Ok(v1::GetConsentResponse {
            consent: Some(to_proto(&request.customer_id, &flags, &channels)),
        })
    }

    /// `UpdateConsent`: replaces the whole consent.
    pub async fn update_consent(
        &self,
        caller: &Caller,
        request_id: &str,
        request: v1::UpdateConsentRequest,
    ) -> Result<v1::UpdateConsentResponse> {
        crate::org::require_role(
            caller,
            &[Role::CustomerManager, Role::Admin, Role::CoreBanking],
            "UpdateConsent",
        )?;
        let mut v = Violations::new();
        let Some(wire) = request.consent else {
            return Err(RegistryError::invalid("consent", "is required"));
        };
        if wire.customer_id.is_empty() {
            v.add("consent.customer_id", "is required");
        }
        let evidence = request.evidence.trim();
        if evidence.is_empty() || evidence.chars().count() > 200 {
            v.add("evidence", "must be 1 to 200 characters");
        }
        let mut seen = BTreeSet::new();
        let mut channels = Vec::new();
        for (i, c) in wire.channels.iter().enumerate() {
            match channel_from_proto(c.channel) {
                None => v.add(
                    format!("consent.channels[{i}].channel"),
                    "must be a known contact channel",
                ),
                Some(ch) if !seen.insert(ch) => {
                    v.add(format!("consent.channels[{i}].channel"), "appears twice")
                }
                Some(ch) => {
                    if c.source.chars().count() > 100 {
                        v.add(
                            format!("consent.channels[{i}].source"),
                            "must be at most 100 characters",
                        );
                    }
                    channels.push((ch, c.granted, c.source.clone()));
                }
            }
        }
        if !v.is_empty() {
            return Err(v.into());
        }
        let txn = self.db.begin().await?;
        self.visible_individual(&txn, caller, &wire.customer_id)
            .await?;
        let (flags, before_channels) = read(&txn, &wire.customer_id).await?;
        let current_version = flags.as_ref().map_or(0, |f| f.version);
        if current_version != request.expected_version {
            return Err(RegistryError::StaleVersion {
                kind: "consent",
                id: wire.customer_id.clone(),
                expected: request.expected_version,
                actual: current_version,
            });
        }
        let before = to_domain(&flags, &before_channels);
        let now = self.clock.now();
        let version = current_version + 1;
        let row = customer_consent::ActiveModel {
            customer_id: Set(wire.customer_id.clone()),
            do_not_contact: Set(wire.do_not_contact),
            cross_line_use: Set(wire.cross_line_use),
            version: Set(version),
            update_time: Set(now),
        };
        if flags.is_some() {
            row.update(&txn).await?;
        } else {
            row.insert(&txn).await?;
        }
        consent_channel::Entity::delete_many()
            .filter(consent_channel::Column::CustomerId.eq(wire.customer_id.clone()))
            .exec(&txn)
            .await?;
        for (ch, granted, source) in &channels {
            consent_channel::ActiveModel {
                customer_id: Set(wire.customer_id.clone()),
                channel: Set(ch.as_str().to_owned()),
                granted: Set(*granted),
                source: Set(source.clone()),
                update_time: Set(now),
            }
            .insert(&txn)
            .await?;
        }
        let (flags, stored_channels) = read(&txn, &wire.customer_id).await?;
        let after = to_domain(&flags, &stored_channels);
        audit::record(
            &txn,
            AuditEntry {
                actor: caller.subject.clone(),
                via_service: caller.via_service.clone(),
                action: "customer.consent.update".to_owned(),
                target_type: "customer".to_owned(),
                target_id: wire.customer_id.clone(),
                before: format!("{before:?}"),
                after: format!("{after:?}"),
                reason: evidence.to_owned(),
                request_id: request_id.to_owned(),
            },
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v1::UpdateConsentResponse {
            consent: Some(to_proto(&wire.customer_id, &flags, &stored_channels)),
        })
    }

    /// `CheckContactPermission`.
    pub async fn check_contact_permission(
        &self,
        caller: &Caller,
        request: v1::CheckContactPermissionRequest,
    ) -> Result<v1::CheckContactPermissionResponse> {
        let mut v = Violations::new();
        if request.customer_ids.is_empty() || request.customer_ids.len() > MAX_CHECK {
            v.add("customer_ids", format!("must hold 1 to {MAX_CHECK} ids"));
        }
        let channel = match request.channel {
            0 => None,
            raw => channel_from_proto(raw).or_else(|| {
                v.add("channel", "must be a known contact channel");
                None
            }),
        };
        if channel.is_none() && !request.cross_line_use && v.is_empty() {
            v.add(
                "channel",
                "name a channel, ask about cross-line use, or both",
            );
        }
        if !v.is_empty() {
            return Err(v.into());
        }
        let tree = crate::org::branches::tree_as_of(&self.db, self.clock.today()).await?;
        let mut permissions = Vec::with_capacity(request.customer_ids.len());
        for id in &request.customer_ids {
            let stored = self.stored(id).await?;
            let visible = match (&stored, &tree) {
                (Some(s), Some(t)) => {
                    BranchCode::parse(&s.customer.owning_branch_id).is_ok_and(|b| {
                        may_read_customer(&caller.roles, caller.branch.as_ref(), &b, t, false)
                    })
                }
                _ => false,
            };
            let refusals = match stored {
                Some(s) if visible => {
                    if s.customer.kind == CustomerKind::Individual.as_str() {
                        let (flags, channels) = read(&self.db, id).await?;
                        check_contact(
                            &to_domain(&flags, &channels),
                            channel,
                            request.cross_line_use,
                        )
                        .into_iter()
                        .map(|r| match r {
                            Refusal::DoNotContact => v1::ContactRefusal::DoNotContact,
                            Refusal::NoChannelConsent => v1::ContactRefusal::NoChannelConsent,
                            Refusal::NoCrossLineConsent => v1::ContactRefusal::NoCrossLineConsent,
                        } as i32)
                        .collect()
                    } else {
                        Vec::new()
                    }
                }
                _ => vec![v1::ContactRefusal::NotFound as i32],
            };
            permissions.push(v1::ContactPermission {
                customer_id: id.clone(),
                allowed: refusals.is_empty(),
                refusals,
            });
        }
        Ok(v1::CheckContactPermissionResponse { permissions })
    }
}
