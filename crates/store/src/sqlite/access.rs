//! Experiments, API tokens and small named values.

use rollgate_core::model::UnixMillis;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::codec::{is_unique_violation, json, json_text};
use crate::{ExperimentRecord, ExperimentState, Role, StoreError, TokenRecord};

/// Creates or replaces an experiment.
pub(crate) fn put_experiment(conn: &Connection, e: &ExperimentRecord) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO experiments (name, spec, state, created_at, stopped_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        e.name,
        json_text(&e.spec, "experiment spec")?,
        e.state.as_str(),
        e.created_at,
        e.stopped_at,
    ])?;
    Ok(())
}

/// Experiments, one by name or all by name.
pub(crate) fn experiments(
    conn: &Connection,
    name: Option<&str>,
) -> Result<Vec<ExperimentRecord>, StoreError> {
    conn.prepare_cached(
        "SELECT name, spec, state, created_at, stopped_at FROM experiments \
         WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
    )?
    .query_and_then([name], read_experiment)?
    .collect()
}

/// Stops an experiment; see `Store::stop_experiment`.
pub(crate) fn stop_experiment(
    conn: &mut Connection,
    name: &str,
    at: UnixMillis,
) -> Result<ExperimentRecord, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.prepare_cached(
        "UPDATE experiments SET state = 'stopped', stopped_at = ?2 \
         WHERE name = ?1 AND state = 'running'",
    )?
    .execute(params![name, at])?;
    let stopped = experiments(&tx, Some(name))?
        .pop()
        .ok_or_else(|| StoreError::not_found("experiment", name))?;
    tx.commit()?;
    Ok(stopped)
}

fn read_experiment(row: &Row<'_>) -> Result<ExperimentRecord, StoreError> {
    let state: String = row.get(2)?;
    Ok(ExperimentRecord {
        name: row.get(0)?,
        spec: json(&row.get::<_, String>(1)?, "experiment spec")?,
        state: ExperimentState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown experiment state {state:?}")))?,
        created_at: row.get(3)?,
        stopped_at: row.get(4)?,
    })
}

const TOKEN_COLUMNS: &str = "id, name, role, hash, created_at, revoked_at";

/// Stores a token; see `Store::insert_token`.
pub(crate) fn insert_token(conn: &Connection, t: &TokenRecord) -> Result<(), StoreError> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO tokens (id, name, role, hash, created_at, revoked_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            t.id,
            t.name,
            t.role.as_str(),
            t.hash,
            t.created_at,
            t.revoked_at
        ]);
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) || is_primary_key_violation(&e) => {
            Err(StoreError::AlreadyExists {
                kind: "token",
                name: t.name.clone(),
            })
        }
        Err(e) => Err(e.into()),
    }
}

fn is_primary_key_violation(err: &rusqlite::Error) -> bool {
    err.sqlite_error()
        .is_some_and(|e| e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

/// The token with this hash, revoked or not.
pub(crate) fn token_by_hash(
    conn: &Connection,
    hash: &str,
) -> Result<Option<TokenRecord>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = ?1"
    ))?
    .query_and_then([hash], read_token)?
    .next()
    .transpose()
}

/// Every token, by creation.
pub(crate) fn list_tokens(conn: &Connection) -> Result<Vec<TokenRecord>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id"
    ))?
    .query_and_then([], read_token)?
    .collect()
}

/// Revokes a token; see `Store::revoke_token`. An id match wins over a name match.
pub(crate) fn revoke_token(
    conn: &mut Connection,
    name_or_id: &str,
    at: UnixMillis,
) -> Result<TokenRecord, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let id: Option<String> = tx
        .prepare_cached(
            "SELECT id FROM tokens WHERE revoked_at IS NULL AND (id = ?1 OR name = ?1) \
             ORDER BY id = ?1 DESC LIMIT 1",
        )?
        .query_row([name_or_id], |r| r.get(0))
        .optional()?;
    let id = id.ok_or_else(|| StoreError::not_found("token", name_or_id))?;
    tx.prepare_cached("UPDATE tokens SET revoked_at = ?2 WHERE id = ?1")?
        .execute(params![id, at])?;
    let revoked = tx
        .prepare_cached(&format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = ?1"))?
        .query_and_then([&id], read_token)?
        .next()
        .ok_or_else(|| StoreError::not_found("token", &id))??;
    tx.commit()?;
    Ok(revoked)
}

fn read_token(row: &Row<'_>) -> Result<TokenRecord, StoreError> {
    let role: String = row.get(2)?;
    Ok(TokenRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        role: role
            .parse::<Role>()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        hash: row.get(3)?,
        created_at: row.get(4)?,
        revoked_at: row.get(5)?,
    })
}

/// A small named value.
pub(crate) fn get_meta(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// Sets a small named value.
pub(crate) fn put_meta(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([key, value])?;
    Ok(())
}
