//! Conversions between the wire types of `bankmkt.v1` and the domain's coordination types, done
//! once at the edge: every parse takes the field path of the value in its request and records a
//! violation naming it, so a request is refused with all of its bad fields at once. Also the
//! stored forms of units (JSON text), paging (keyset tokens bound to their filters) and the
//! idempotency helpers every create uses. The business rules themselves (shares summing to
//! 10,000, one lead, …) are the domain's.

use bankmkt_domain::coordination::{
    AcceptanceState, AmendmentStatus, ClaimState, JoinRequestStatus, MemberRole, OpportunityStage,
    OpportunityType, QuoteStatus, ShareSet, UnitRef, UnitRole, UnitShare,
};
use bankmkt_domain::ids::CustomerId;
use bankmkt_domain::org::{BranchCode, BusinessLine};
use bankmkt_platform::Caller;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Result, ServiceError};

pub use bankmkt_proto::wire::{date_from_proto, date_to_proto, timestamp};

/// The default page size.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// The largest page size.
pub const MAX_PAGE_SIZE: i32 = 500;

/// An optional wire date; a violation against `field` when it is set and invalid.
pub fn optional_date(
    field: &str,
    date: Option<&v1::Date>,
    v: &mut Violations,
) -> Option<NaiveDate> {
    date.and_then(|d| v.check(field, date_from_proto(d)))
}

/// Who did something, when and why, for the wire.
pub fn stamp(actor: &str, at: DateTime<Utc>, reason: &str) -> v1::AuditStamp {
    v1::AuditStamp {
        actor_id: actor.to_owned(),
        time: Some(timestamp(at)),
        reason: reason.to_owned(),
    }
}

macro_rules! enum_map {
    ($from:ident, $to:ident, $wire:ty, $domain:ty, { $($w:ident => $d:ident),* $(,)? }) => {
        /// The domain value of a wire value; unspecified or unknown is `None`.
        pub fn $from(raw: i32) -> Option<$domain> {
            match <$wire>::try_from(raw).ok()? {
                $(<$wire>::$w => Some(<$domain>::$d),)*
                _ => None,
            }
        }

        /// The wire value of a domain value.
        pub fn $to(value: $domain) -> $wire {
            match value {
                $(<$domain>::$d => <$wire>::$w,)*
            }
        }
    };
}

enum_map!(line_from_proto, line_to_proto, v1::BusinessLine, BusinessLine, {
    Corporate => Corporate,
    SmallBusiness => SmallBusiness,
    Retail => Retail,
    TradeFinance => TradeFinance,
    FxSettlement => FxSettlement,
    Wealth => Wealth,
});

enum_map!(stage_from_proto, stage_to_proto, v1::OpportunityStage, OpportunityStage, {
    Preparation => Preparation,
    Execution => Execution,
    Won => Won,
    FollowUp => FollowUp,
    Closed => Closed,
    Lost => Lost,
});

enum_map!(type_from_proto, type_to_proto, v1::OpportunityType, OpportunityType, {
    General => General,
    SupplyChainFinance => SupplyChainFinance,
    PayrollAndCards => PayrollAndCards,
    MarketBatch => MarketBatch,
    GroupCustomer => GroupCustomer,
    InternalSyndicate => InternalSyndicate,
});

enum_map!(role_from_proto, role_to_proto, v1::UnitRole, UnitRole, {
    Lead => Lead,
    Co => Co,
});

enum_map!(member_role_from_proto, member_role_to_proto, v1::MemberRole, MemberRole, {
    UnitLead => UnitLead,
    CustomerManager => CustomerManager,
    ProductSpecialist => ProductSpecialist,
    Support => Support,
});

enum_map!(claim_state_from_proto, claim_state_to_proto, v1::ClaimState, ClaimState, {
    Active => Active,
    Released => Released,
    Transferred => Transferred,
});

enum_map!(amendment_status_from_proto, amendment_status_to_proto, v1::AmendmentStatus, AmendmentStatus, {
    Proposed => Proposed,
    Accepted => Accepted,
    Rejected => Rejected,
    Withdrawn => Withdrawn,
});

enum_map!(acceptance_from_proto, acceptance_to_proto, v1::AcceptanceState, AcceptanceState, {
    Pending => Pending,
    Accepted => Accepted,
    Rejected => Rejected,
    NotRequired => NotRequired,
});

enum_map!(join_status_from_proto, join_status_to_proto, v1::JoinRequestStatus, JoinRequestStatus, {
    Pending => Pending,
    Accepted => Accepted,
    Declined => Declined,
});

enum_map!(quote_status_from_proto, quote_status_to_proto, v1::QuoteStatus, QuoteStatus, {
    Draft => Draft,
    PendingApproval => PendingApproval,
    Approved => Approved,
    Rejected => Rejected,
    Expired => Expired,
    Superseded => Superseded,
});

/// A required wire enum at `field`, through `from`; unspecified or unknown is a violation.
pub fn required_enum<T>(
    field: &str,
    raw: i32,
    from: fn(i32) -> Option<T>,
    what: &str,
    v: &mut Violations,
) -> Option<T> {
    let value = from(raw);
    if value.is_none() {
        v.add(field, format!("must be a known {what} ({raw} is not)"));
    }
    value
}

/// An optional wire enum filter at `field`: unspecified (0) is `None`, unknown a violation.
pub fn filter_enum<T>(
    field: &str,
    raw: i32,
    from: fn(i32) -> Option<T>,
    what: &str,
    v: &mut Violations,
) -> Option<T> {
    if raw == 0 {
        return None;
    }
    required_enum(field, raw, from, what, v)
}

/// A stored code of a `code_enum!` type.
pub fn stored<T: std::str::FromStr>(what: &str, raw: &str) -> Result<T> {
    raw.parse()
        .map_err(|_| ServiceError::internal(format!("stored {what} {raw:?} is not a known code")))
}

/// An id this service issued (a UUID) at `field`, required.
pub fn issued_id(field: &str, raw: &str, v: &mut Violations) -> Option<String> {
    if raw.is_empty() {
        v.add(field, "is required");
        return None;
    }
    match uuid::Uuid::try_parse(raw) {
        Ok(id) if !id.is_nil() => Some(id.to_string()),
        _ => {
            v.add(field, "is not an id this service issued");
            None
        }
    }
}

/// A customer id at `field`, required.
pub fn customer_id(field: &str, raw: &str, v: &mut Violations) -> Option<CustomerId> {
    if raw.is_empty() {
        v.add(field, "is required");
        return None;
    }
    v.check(field, CustomerId::parse(raw))
}

/// An employee id at `field`, required: 1 to 64 characters.
pub fn employee_id(field: &str, raw: &str, v: &mut Violations) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.chars().count() > 64 {
        v.add(field, "is required, 1 to 64 characters");
        return None;
    }
    Some(raw.to_owned())
}

/// A new stable id (UUID v7).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A unit from the wire at `field` (`branch_id` and `line` required).
pub fn unit_ref(field: &str, raw: Option<&v1::UnitRef>, v: &mut Violations) -> Option<UnitRef> {
    let Some(raw) = raw else {
        v.add(field, "is required");
        return None;
    };
    let branch = if raw.branch_id.is_empty() {
        v.add(format!("{field}.branch_id"), "is required");
        None
    } else {
        v.check(
            format!("{field}.branch_id"),
            BranchCode::parse(&raw.branch_id),
        )
    };
    let line = required_enum(
        &format!("{field}.line"),
        raw.line,
        line_from_proto,
        "business line",
        v,
    );
    Some(UnitRef::new(branch?, line?))
}

/// A unit for the wire.
pub fn unit_to_proto(unit: &UnitRef) -> v1::UnitRef {
    v1::UnitRef {
        branch_id: unit.branch.as_str().to_owned(),
        line: line_to_proto(unit.line) as i32,
    }
}

/// The stable id of a unit within its opportunity: `BRANCH/line`.
pub fn unit_id(unit: &UnitRef) -> String {
    unit.to_string()
}

/// The unit a unit id names, if it is one.
pub fn parse_unit_id(raw: &str) -> Option<UnitRef> {
    let (branch, line) = raw.split_once('/')?;
    Some(UnitRef::new(
        BranchCode::parse(branch).ok()?,
        line.parse().ok()?,
    ))
}

/// The units of a request at `field` (e.g. `opportunity.units`), shape only: each unit's branch,
/// line and role are converted here; the shares, the lead and duplicates are the domain's
/// [`ShareSet::parse`]. `None` when any unit's shape is bad.
pub fn units(
    field: &str,
    raw: &[v1::OpportunityUnit],
    v: &mut Violations,
) -> Option<Vec<UnitShare>> {
    let before = v.fields().len();
    let mut out = Vec::with_capacity(raw.len());
    for (i, u) in raw.iter().enumerate() {
        let unit = unit_ref(&format!("{field}[{i}].unit"), u.unit.as_ref(), v);
        let role = required_enum(
            &format!("{field}[{i}].role"),
            u.role,
            role_from_proto,
            "unit role",
            v,
        );
        if let (Some(unit), Some(role)) = (unit, role) {
            out.push(UnitShare::new(unit, role, u.share_bps));
        }
    }
    (v.fields().len() == before).then_some(out)
}

/// Units and shares for the wire.
pub fn share_set_to_proto(set: &ShareSet) -> Vec<v1::OpportunityUnit> {
    set.units()
        .iter()
        .map(|u| v1::OpportunityUnit {
            unit_id: unit_id(&u.unit),
            unit: Some(unit_to_proto(&u.unit)),
            role: role_to_proto(u.role) as i32,
            share_bps: u.share.value(),
        })
        .collect()
}

/// A unit as stored in JSON.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredUnit {
    /// The branch.
    pub branch: String,
    /// The line code.
    pub line: String,
    /// The role code.
    pub role: String,
    /// The share.
    pub share_bps: i32,
}

/// The stored JSON of a share set.
pub fn units_to_json(set: &ShareSet) -> Result<String> {
    let stored: Vec<StoredUnit> = set
        .units()
        .iter()
        .map(|u| StoredUnit {
            branch: u.unit.branch.as_str().to_owned(),
            line: u.unit.line.as_str().to_owned(),
            role: u.role.as_str().to_owned(),
            share_bps: u.share.value(),
        })
        .collect();
    serde_json::to_string(&stored).map_err(ServiceError::internal)
}

/// A stored share set read back.
pub fn units_from_json(raw: &str) -> Result<ShareSet> {
    let stored: Vec<StoredUnit> = serde_json::from_str(raw).map_err(ServiceError::internal)?;
    let mut units = Vec::with_capacity(stored.len());
    for u in stored {
        let branch = BranchCode::parse(&u.branch).map_err(ServiceError::internal)?;
        units.push(UnitShare::new(
            UnitRef::new(branch, stored_code(&u.line)?),
            stored_code(&u.role)?,
            u.share_bps,
        ));
    }
    ShareSet::parse(units, "units").map_err(ServiceError::internal)
}

fn stored_code<T: std::str::FromStr>(raw: &str) -> Result<T> {
    stored("code", raw)
}

/// A page size: 0 is the default of 50; negative or above 500 is a violation.
pub fn page_size(raw: i32, v: &mut Violations) -> usize {
    if raw == 0 {
        DEFAULT_PAGE_SIZE
    } else if !(1..=MAX_PAGE_SIZE).contains(&raw) {
        v.add(
            "page_size",
            format!("must be 0 to {MAX_PAGE_SIZE}, not {raw}"),
        );
        DEFAULT_PAGE_SIZE
    } else {
        raw as usize
    }
}

/// The filter binding of a page token: a short hash of the request with paging cleared.
pub fn filter_hash(encoded: &[u8]) -> String {
    bankmkt_platform::idempotency::request_hash(encoded)[..16].to_owned()
}

/// The last key of a page token issued for `filters`; `None` for the first page.
pub fn page_after(raw: &str, filters: &str, v: &mut Violations) -> Option<String> {
    if raw.is_empty() {
        return None;
    }
    match raw.split_once('.') {
        Some((hash, key)) if hash == filters && !key.is_empty() => Some(key.to_owned()),
        _ => {
            v.add(
                "page_token",
                "is not a token this list issued for these filters",
            );
            None
        }
    }
}

/// A page token after `key`.
pub fn page_token(filters: &str, key: &str) -> String {
    format!("{filters}.{key}")
}

/// A required idempotency key: 1 to 128 printable ASCII characters.
pub fn idempotency_key(raw: &str, v: &mut Violations) {
    if raw.is_empty() || raw.len() > 128 || !raw.chars().all(|c| c.is_ascii_graphic()) {
        v.add(
            "idempotency_key",
            "must be 1 to 128 printable ASCII characters",
        );
    }
}

/// The idempotency scope of `rpc` for `caller`.
pub fn scope(rpc: &str, caller: &Caller) -> String {
    format!("Coordination/{rpc}/{}", caller.subject)
}

/// What the idempotency store says of `key` in `scope`: the stored response on a replay, `None`
/// when fresh, `INVALID_ARGUMENT` naming `idempotency_key` when it came with another request.
pub async fn replay<T: prost::Message + Default, C: sea_orm::ConnectionTrait>(
    db: &C,
    scope: &str,
    key: &str,
    hash: &str,
) -> Result<Option<T>> {
    use bankmkt_platform::idempotency::{self, Outcome};
    match idempotency::check(db, scope, key, hash).await? {
        Outcome::Fresh => Ok(None),
        Outcome::Replay(bytes) => T::decode(bytes.as_slice())
            .map(Some)
            .map_err(|e| ServiceError::internal(format!("stored response: {e}"))),
        Outcome::Conflict => Err(ServiceError::invalid(
            "idempotency_key",
            "was already used with a different request",
        )),
    }
}

/// The answer of an idempotent write: `response` when `written` succeeded; when it lost a race
/// to a concurrent call with the same key (a unique violation), the response that call stored.
pub async fn settle<T: prost::Message + Default, C: sea_orm::ConnectionTrait>(
    db: &C,
    written: Result<()>,
    response: T,
    scope: &str,
    key: &str,
    hash: &str,
) -> Result<T> {
    match written {
        Ok(()) => Ok(response),
        Err(e) if e.is_unique_violation() => replay(db, scope, key, hash).await?.ok_or(e),
        Err(e) => Err(e),
    }
}

/// A reason at `field`: optional or required, at most 500 characters (the domain's rule).
pub fn reason(field: &str, raw: &str, required: bool, v: &mut Violations) {
    if let Err(e) = bankmkt_domain::coordination::check_reason(raw, required) {
        for violation in e.violations() {
            v.add(field, violation.message.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_round_trip_through_storage_and_ids() {
        let set = ShareSet::parse(
            vec![
                UnitShare::new(
                    UnitRef::new(BranchCode::parse("BJ01").unwrap(), BusinessLine::Corporate),
                    UnitRole::Lead,
                    6000,
                ),
                UnitShare::new(
                    UnitRef::new(BranchCode::parse("BJ01").unwrap(), BusinessLine::Retail),
                    UnitRole::Co,
                    4000,
                ),
            ],
            "units",
        )
        .unwrap();
        let json = units_to_json(&set).unwrap();
        assert_eq!(units_from_json(&json).unwrap(), set);
        let id = unit_id(&set.units()[1].unit);
        assert_eq!(id, "BJ01/retail");
        assert_eq!(parse_unit_id(&id), Some(set.units()[1].unit.clone()));
        assert_eq!(parse_unit_id("nope"), None);
    }

    #[test]
    fn page_tokens_are_bound_to_their_filters() {
        let mut v = Violations::new();
        let token = page_token("abc", "k1");
        assert_eq!(page_after(&token, "abc", &mut v), Some("k1".into()));
        assert!(v.is_empty());
        assert_eq!(page_after(&token, "xyz", &mut v), None);
        assert_eq!(page_size(501, &mut v), DEFAULT_PAGE_SIZE);
        let fields: Vec<&str> = v.fields().iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["page_token", "page_size"]);
    }
}
