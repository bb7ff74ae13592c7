//! The SQLite schema as ordered, embedded migrations, applied in one transaction at open.
//!
//! Policy: a migration is never edited once released; a change is a new migration appended to
//! [`MIGRATIONS`]. A file whose schema is newer than this build is refused, never touched.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, TransactionBehavior, params};

use crate::StoreError;

/// One step of the schema's history.
pub(crate) struct Migration {
    /// Its number: migrations run in increasing order, starting at 1, without gaps.
    pub version: u32,
    /// A short name, recorded with it.
    pub name: &'static str,
    /// The SQL it runs.
    pub sql: &'static str,
}

/// Every migration, oldest first.
pub(crate) const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "initial schema",
    sql: include_str!("schema/0001_initial.sql"),
}];

/// The newest schema this build knows.
pub(crate) fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Brings the database up to [`latest_version`] and returns the version it was at. Runs in
/// one immediate transaction: a failed migration leaves the file as it was.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<u32, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY NOT NULL,
             name       TEXT NOT NULL,
             applied_at INTEGER NOT NULL
         ) STRICT;",
    )?;
    let found: u32 = tx.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |row| row.get(0),
    )?;
    let supported = latest_version();
    if found > supported {
        return Err(StoreError::SchemaTooNew {
            path: path.to_owned(),
            found,
            supported,
        });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > found) {
        tx.execute_batch(m.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![m.version, m.name, now_millis()],
        )?;
        tracing::info!(version = m.version, name = m.name, path = %path.display(), "applied store migration");
    }
    tx.commit()?;
    Ok(found)
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_from_one_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "migration {:?}", m.name);
        }
        assert_eq!(latest_version() as usize, MIGRATIONS.len());
    }

    #[test]
    fn migrating_twice_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        let path = Path::new(":memory:");
        assert_eq!(migrate(&mut conn, path).unwrap(), 0);
        assert_eq!(migrate(&mut conn, path).unwrap(), latest_version());
        let rows: u32 = conn
            .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, latest_version());
    }

    #[test]
    fn a_newer_schema_is_refused_untouched() {
        let mut conn = Connection::open_in_memory().unwrap();
        let path = Path::new("future.db");
        migrate(&mut conn, path).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations VALUES (?1, 'from the future', 0)",
            [latest_version() + 1],
        )
        .unwrap();
        let err = migrate(&mut conn, path).unwrap_err();
        assert!(
            matches!(err, StoreError::SchemaTooNew { found, supported, .. }
                if found == latest_version() + 1 && supported == latest_version()),
            "{err}"
        );
        assert!(err.to_string().contains("future.db"), "{err}");
    }
}
