//! The trail of a write: its audit entry and its outbox event, both written on the write's own
//! transaction through the shared tables' one API ([`crate::audit`], [`crate::outbox`]), so they
//! exist exactly when the change does. Every service records its changes through [`record`].

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::audit::{self, AuditEntry};
use crate::auth::Caller;
use crate::outbox::{self, Envelope};

/// What one write records.
#[derive(Debug)]
pub struct Change<'a> {
    /// Who did it.
    pub caller: &'a Caller,
    /// The request id of the call.
    pub request_id: &'a str,
    /// The audit action, e.g. `product.create`.
    pub action: &'static str,
    /// The kind of thing changed, e.g. `product`; also the outbox aggregate type.
    pub target_type: &'static str,
    /// Its id.
    pub target_id: String,
    /// Summary before (empty for a creation).
    pub before: String,
    /// Summary after.
    pub after: String,
    /// The caller's reason (or what the write was, when the RPC takes none).
    pub reason: String,
    /// The outbox event type, e.g. `product.created`.
    pub event_type: &'static str,
    /// The aggregate's version after the change.
    pub version: i64,
    /// The protobuf-encoded event body (the changed entity as the API returns it).
    pub payload: Vec<u8>,
}

/// Writes the audit entry and the outbox event of `change` at `now` on `txn`.
pub async fn record<C: ConnectionTrait>(
    txn: &C,
    now: DateTime<Utc>,
    change: Change<'_>,
) -> Result<(), DbErr> {
    audit::record(
        txn,
        AuditEntry {
            actor: change.caller.subject.clone(),
            via_service: change.caller.via_service.clone(),
            action: change.action.to_owned(),
            target_type: change.target_type.to_owned(),
            target_id: change.target_id.clone(),
            before: change.before,
            after: change.after,
            reason: change.reason,
            request_id: change.request_id.to_owned(),
        },
        now,
    )
    .await?;
    outbox::append(
        txn,
        Envelope {
            aggregate_type: change.target_type.to_owned(),
            aggregate_id: change.target_id,
            aggregate_version: change.version,
            event_type: change.event_type.to_owned(),
            occurred_at: now,
            payload: change.payload,
        },
    )
    .await?;
    Ok(())
}
