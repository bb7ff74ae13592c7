//! The append-only decision log.

use rollgate_core::model::DecisionRecord;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, Row, Transaction, params, params_from_iter};

use super::codec::{
    action, actor, actor_columns, is_unique_violation, json, json_text, phase, ppm, ppm_value,
    to_i64, to_u64,
};
use crate::{DecisionQuery, Order, StoreError};

const COLUMNS: &str = "id, rollout, seq, at, actor_kind, actor_name, action, phase_before, \
                       phase_after, weight_before, weight_after, reason, details";

/// Appends one decision and returns its id. A recorded `(rollout, seq)` is a
/// `DuplicateDecision`; the caller's transaction then rolls back whole.
pub(crate) fn insert_decision(tx: &Transaction<'_>, d: &DecisionRecord) -> Result<i64, StoreError> {
    let (actor_kind, actor_name) = actor_columns(&d.actor);
    let inserted = tx
        .prepare_cached(
            "INSERT INTO decisions (rollout, seq, at, actor_kind, actor_name, action, \
             phase_before, phase_after, weight_before, weight_after, reason, details) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            d.rollout,
            to_i64(d.seq, "decision seq")?,
            d.at,
            actor_kind,
            actor_name,
            d.action.as_str(),
            d.phase_before.as_str(),
            d.phase_after.as_str(),
            ppm_value(d.weight_before),
            ppm_value(d.weight_after),
            d.reason,
            json_text(&d.details, "decision details")?,
        ]);
    match inserted {
        Ok(_) => Ok(tx.last_insert_rowid()),
        Err(e) if is_unique_violation(&e) => Err(StoreError::DuplicateDecision {
            rollout: d.rollout.clone(),
            seq: d.seq,
        }),
        Err(e) => Err(e.into()),
    }
}

/// A page of decisions.
pub(crate) fn list(
    conn: &Connection,
    q: &DecisionQuery,
) -> Result<Vec<DecisionRecord>, StoreError> {
    let (filter, mut args) = filter(q);
    let order = match q.order {
        Order::OldestFirst => "ASC",
        Order::NewestFirst => "DESC",
    };
    args.push(SqlValue::Integer(i64::from(q.effective_limit())));
    let sql = format!("SELECT {COLUMNS} FROM decisions {filter} ORDER BY id {order} LIMIT ?");
    conn.prepare_cached(&sql)?
        .query_and_then(params_from_iter(args), read)?
        .collect()
}

/// How many decisions pass the query's filters.
pub(crate) fn count(conn: &Connection, q: &DecisionQuery) -> Result<u64, StoreError> {
    let (filter, args) = filter(q);
    let sql = format!("SELECT COUNT(*) FROM decisions {filter}");
    let n: i64 = conn
        .prepare_cached(&sql)?
        .query_row(params_from_iter(args), |r| r.get(0))?;
    to_u64(n, "decision count")
}

/// The WHERE clause for `q` (without limit and order) and its arguments.
fn filter(q: &DecisionQuery) -> (String, Vec<SqlValue>) {
    let mut clauses = Vec::new();
    let mut args = Vec::new();
    let mut push = |clause: &'static str, value: SqlValue| {
        clauses.push(clause);
        args.push(value);
    };
    if let Some(rollout) = &q.rollout {
        push("rollout = ?", SqlValue::Text(rollout.clone()));
    }
    if let Some(t) = q.since {
        push("at >= ?", SqlValue::Integer(t));
    }
    if let Some(t) = q.until {
        push("at < ?", SqlValue::Integer(t));
    }
    if let Some(id) = q.after_id {
        push("id > ?", SqlValue::Integer(id));
    }
    if let Some(id) = q.before_id {
        push("id < ?", SqlValue::Integer(id));
    }
    if clauses.is_empty() {
        (String::new(), args)
    } else {
        (format!("WHERE {}", clauses.join(" AND ")), args)
    }
}

fn read(row: &Row<'_>) -> Result<DecisionRecord, StoreError> {
    Ok(DecisionRecord {
        id: row.get(0)?,
        rollout: row.get(1)?,
        seq: to_u64(row.get(2)?, "decision seq")?,
        at: row.get(3)?,
        actor: actor(&row.get::<_, String>(4)?, row.get(5)?)?,
        action: action(&row.get::<_, String>(6)?)?,
        phase_before: phase(&row.get::<_, String>(7)?)?,
        phase_after: phase(&row.get::<_, String>(8)?)?,
        weight_before: ppm(row.get(9)?, "decision weight_before")?,
        weight_after: ppm(row.get(10)?, "decision weight_after")?,
        reason: row.get(11)?,
        details: json(&row.get::<_, String>(12)?, "decision details")?,
    })
}
