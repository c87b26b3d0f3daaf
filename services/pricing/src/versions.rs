//! Reading a versioned series (pricing rules, bundles): every write stores a new row under the
//! same id with the next version, and a read asks for one version or, with 0, the latest.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::error::{Result, ServiceError};

/// Version `version` of series `id` of entity `E` (the latest when `version` is 0), or
/// `NOT_FOUND` naming `kind` and the version asked for.
pub async fn find<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    id_column: E::Column,
    version_column: E::Column,
    kind: &'static str,
    id: &str,
    version: i64,
) -> Result<E::Model> {
    let mut query = E::find().filter(id_column.eq(id));
    if version > 0 {
        query = query.filter(version_column.eq(version));
    }
    query
        .order_by_desc(version_column)
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::NotFound {
            kind,
            id: if version > 0 {
                format!("{id} version {version}")
            } else {
                id.to_owned()
            },
        })
}
