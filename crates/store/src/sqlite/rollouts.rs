//! Rollouts and the commit that moves them: state, decisions and stable change in one
//! immediate transaction.

use rollgate_core::model::Phase;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};

use super::catalog::{insert_stable_change, require_service, require_version};
use super::codec::{json, json_text, phase, ppm, ppm_value, to_i64, to_u64};
use super::decisions::insert_decision;
use crate::{
    CommitOutcome, CurrentRollout, RolloutCommit, RolloutFilter, RolloutRecord, StoreError,
};

const COLUMNS: &str = "name, service, spec, state, phase, weight_ppm, stable, canary, revision, \
                       created_at, updated_at, next_seq";

/// Applies a commit; see `Store::commit`.
pub(crate) fn commit(conn: &mut Connection, c: RolloutCommit) -> Result<CommitOutcome, StoreError> {
    // IMMEDIATE takes the write lock before the revision is read, so a second writer (another
    // process on the same file) waits and then sees the new revision: no lost update.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current = current(&tx, &c.name)?;
    let revision = c.check(current)?;
    require_service(&tx, &c.record.service)?;
    if let Some(change) = &c.stable_change {
        require_version(&tx, &change.service, &change.version)?;
    }
    write_record(&tx, &c.record, revision, current.is_none())?;
    let decision_ids = c
        .decisions
        .iter()
        .map(|d| insert_decision(&tx, d))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(change) = &c.stable_change {
        insert_stable_change(&tx, change)?;
    }
    tx.commit()?;
    Ok(CommitOutcome {
        revision,
        decision_ids,
    })
}

fn current(tx: &Transaction<'_>, name: &str) -> Result<Option<CurrentRollout>, StoreError> {
    let row = tx
        .prepare_cached("SELECT revision, next_seq FROM rollouts WHERE name = ?1")?
        .query_row([name], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
        .optional()?;
    row.map(|(revision, next_seq)| {
        Ok(CurrentRollout {
            revision: to_u64(revision, "rollout revision")?,
            next_seq: to_u64(next_seq, "rollout next_seq")?,
        })
    })
    .transpose()
}

fn write_record(
    tx: &Transaction<'_>,
    r: &RolloutRecord,
    revision: u64,
    create: bool,
) -> Result<(), StoreError> {
    let sql = if create {
        "INSERT INTO rollouts (service, spec, state, phase, weight_ppm, stable, canary, revision, \
         created_at, updated_at, next_seq, name) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    } else {
        // created_at (?9) is kept from the creation.
        "UPDATE rollouts SET service = ?1, spec = ?2, state = ?3, phase = ?4, weight_ppm = ?5, \
         stable = ?6, canary = ?7, revision = ?8, updated_at = ?10, next_seq = ?11 \
         WHERE name = ?12"
    };
    tx.prepare_cached(sql)?.execute(params![
        r.service,
        json_text(&r.spec, "rollout spec")?,
        json_text(&r.state, "rollout state")?,
        r.phase.as_str(),
        ppm_value(r.weight),
        r.stable,
        r.canary,
        to_i64(revision, "revision")?,
        r.created_at,
        r.updated_at,
        to_i64(r.next_seq, "next_seq")?,
        r.name,
    ])?;
    Ok(())
}

/// One rollout.
pub(crate) fn get(conn: &Connection, name: &str) -> Result<Option<RolloutRecord>, StoreError> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM rollouts WHERE name = ?1"))?
        .query_and_then([name], read)?
        .next()
        .transpose()
}

/// The rollouts that pass `filter`, by creation.
pub(crate) fn list(
    conn: &Connection,
    filter: &RolloutFilter,
) -> Result<Vec<RolloutRecord>, StoreError> {
    let terminal: Vec<String> = Phase::ALL
        .into_iter()
        .filter(|p| p.is_terminal())
        .map(|p| format!("'{p}'"))
        .collect();
    let terminal = terminal.join(", ");
    let sql = format!(
        "SELECT {COLUMNS} FROM rollouts \
         WHERE (?1 IS NULL OR service = ?1) AND (?2 = 0 OR phase NOT IN ({terminal})) \
         ORDER BY created_at, name"
    );
    conn.prepare_cached(&sql)?
        .query_and_then(params![filter.service, filter.active_only], read)?
        .collect()
}

fn read(row: &Row<'_>) -> Result<RolloutRecord, StoreError> {
    Ok(RolloutRecord {
        name: row.get(0)?,
        service: row.get(1)?,
        spec: json(&row.get::<_, String>(2)?, "rollout spec")?,
        state: json(&row.get::<_, String>(3)?, "rollout state")?,
        phase: phase(&row.get::<_, String>(4)?)?,
        weight: ppm(row.get(5)?, "rollout weight")?,
        stable: row.get(6)?,
        canary: row.get(7)?,
        revision: to_u64(row.get(8)?, "rollout revision")?,
        created_at: row.get(9)?,
        updated_at: row.get(10)?,
        next_seq: to_u64(row.get(11)?, "rollout next_seq")?,
    })
}
