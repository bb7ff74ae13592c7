//! Services, their immutable versions and the history of which version was stable.

use rollgate_core::model::VersionSnapshot;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::codec::{actor, actor_columns, json, json_text};
use crate::{ServiceRecord, StableChange, StoreError, VersionEntry, version_entries};

/// Creates or replaces a service.
pub(crate) fn put_service(conn: &Connection, s: &ServiceRecord) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO services (name, spec, updated_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at",
    )?
    .execute(params![
        s.name,
        json_text(&s.spec, "service spec")?,
        s.updated_at
    ])?;
    Ok(())
}

/// Services, one by name or all by name.
pub(crate) fn services(
    conn: &Connection,
    name: Option<&str>,
) -> Result<Vec<ServiceRecord>, StoreError> {
    conn.prepare_cached(
        "SELECT name, spec, updated_at FROM services WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
    )?
    .query_and_then([name], |row| {
        Ok(ServiceRecord {
            name: row.get(0)?,
            spec: json(&row.get::<_, String>(1)?, "service spec")?,
            updated_at: row.get(2)?,
        })
    })?
    .collect()
}

/// `NotFound` unless the service exists.
pub(crate) fn require_service(conn: &Connection, name: &str) -> Result<(), StoreError> {
    let found = conn
        .prepare_cached("SELECT 1 FROM services WHERE name = ?1")?
        .query_row([name], |_| Ok(()))
        .optional()?;
    found.ok_or_else(|| StoreError::not_found("service", name))
}

/// `NotFound` unless the version exists.
pub(crate) fn require_version(
    conn: &Connection,
    service: &str,
    version: &str,
) -> Result<(), StoreError> {
    get_version(conn, service, version)?
        .map(drop)
        .ok_or_else(|| StoreError::not_found("version", format!("{service}/{version}")))
}

/// Records a snapshot; see `Store::put_version`.
pub(crate) fn put_version(conn: &mut Connection, v: &VersionSnapshot) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    require_service(&tx, &v.service)?;
    match get_version(&tx, &v.service, &v.name)? {
        Some(existing) if existing == *v => return Ok(false),
        Some(_) => {
            return Err(StoreError::VersionExists {
                service: v.service.clone(),
                version: v.name.clone(),
            });
        }
        None => {}
    }
    tx.prepare_cached(
        "INSERT INTO versions (service, name, endpoints, labels, created_at, created_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        v.service,
        v.name,
        json_text(&v.endpoints, "version endpoints")?,
        json_text(&v.labels, "version labels")?,
        v.created_at,
        v.created_by,
    ])?;
    tx.commit()?;
    Ok(true)
}

/// One snapshot.
pub(crate) fn get_version(
    conn: &Connection,
    service: &str,
    name: &str,
) -> Result<Option<VersionSnapshot>, StoreError> {
    conn.prepare_cached(
        "SELECT service, name, endpoints, labels, created_at, created_by FROM versions \
         WHERE service = ?1 AND name = ?2",
    )?
    .query_and_then([service, name], read_version)?
    .next()
    .transpose()
}

/// Every snapshot of a service with its stable periods.
pub(crate) fn list_versions(
    conn: &Connection,
    service: &str,
) -> Result<Vec<VersionEntry>, StoreError> {
    let snapshots = conn
        .prepare_cached(
            "SELECT service, name, endpoints, labels, created_at, created_by FROM versions \
             WHERE service = ?1 ORDER BY created_at, name",
        )?
        .query_and_then([service], read_version)?
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(version_entries(snapshots, &stable_history(conn, service)?))
}

fn read_version(row: &Row<'_>) -> Result<VersionSnapshot, StoreError> {
    let endpoints = json(&row.get::<_, String>(2)?, "version endpoints")?;
    let labels = json(&row.get::<_, String>(3)?, "version labels")?;
    Ok(VersionSnapshot {
        service: row.get(0)?,
        name: row.get(1)?,
        endpoints: serde_json::from_value(endpoints)
            .map_err(|e| StoreError::Corrupt(format!("version endpoints: {e}")))?,
        labels: serde_json::from_value(labels)
            .map_err(|e| StoreError::Corrupt(format!("version labels: {e}")))?,
        created_at: row.get(4)?,
        created_by: row.get(5)?,
    })
}

/// Appends a stable change (the caller checked that the version exists).
pub(crate) fn insert_stable_change(conn: &Connection, c: &StableChange) -> Result<(), StoreError> {
    let (actor_kind, actor_name) = actor_columns(&c.actor);
    conn.prepare_cached(
        "INSERT INTO stable_changes (service, version, since, actor_kind, actor_name, reason) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        c.service, c.version, c.since, actor_kind, actor_name, c.reason
    ])?;
    Ok(())
}

/// Appends a stable change outside a commit; see `Store::record_stable`.
pub(crate) fn record_stable(conn: &mut Connection, c: &StableChange) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    require_version(&tx, &c.service, &c.version)?;
    insert_stable_change(&tx, c)?;
    tx.commit()?;
    Ok(())
}

/// A service's stable changes in the order they were recorded.
pub(crate) fn stable_history(
    conn: &Connection,
    service: &str,
) -> Result<Vec<StableChange>, StoreError> {
    conn.prepare_cached(
        "SELECT service, version, since, actor_kind, actor_name, reason FROM stable_changes \
         WHERE service = ?1 ORDER BY id",
    )?
    .query_and_then([service], |row| {
        Ok(StableChange {
            service: row.get(0)?,
            version: row.get(1)?,
            since: row.get(2)?,
            actor: actor(&row.get::<_, String>(3)?, row.get(4)?)?,
            reason: row.get(5)?,
        })
    })?
    .collect()
}
