//! The default store: one embedded SQLite file in WAL mode with `synchronous=FULL`, so an
//! acknowledged write survives `kill -9` and power loss. Blocking SQLite calls run on tokio's
//! blocking pool, one at a time over a single connection.

mod access;
mod catalog;
mod codec;
mod decisions;
mod rollouts;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use rollgate_core::model::{DecisionRecord, UnixMillis, VersionSnapshot};
use rusqlite::Connection;

use crate::{
    CommitOutcome, DecisionQuery, ExperimentRecord, RolloutCommit, RolloutFilter, RolloutRecord,
    ServiceRecord, StableChange, Store, StoreError, TokenRecord, VersionEntry,
};

/// How long a writer waits for another process holding the file's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A [`Store`] in one SQLite file. Cheap to clone; clones share the connection.
///
/// Its async methods must be called from inside a tokio runtime.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (or creates) the store at `path`, creating missing parent directories, and brings
    /// its schema up to date. Refuses a file written by a newer Rollgate (`SchemaTooNew`).
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_owned();
        let open_error = |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Open {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| open_error(Box::new(e)))?;
        }
        let mut conn = Connection::open(&path).map_err(|e| open_error(Box::new(e)))?;
        configure(&conn).map_err(|e| open_error(Box::new(e)))?;
        let from = schema::migrate(&mut conn, &path).map_err(|e| match e {
            StoreError::Backend(source) => open_error(source),
            other => other,
        })?;
        // Lets the query planner refresh its statistics where they are stale; cheap.
        conn.execute_batch("PRAGMA optimize=0x10002;")
            .map_err(|e| open_error(Box::new(e)))?;
        tracing::debug!(path = %path.display(), from, to = schema::latest_version(), "opened store");
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version this build writes.
    pub fn schema_version() -> u32 {
        schema::latest_version()
    }

    /// Runs SQLite's own consistency check over the whole file (slow on big files: for
    /// diagnostics and tests, not for every request). `Corrupt` lists what it found.
    pub async fn integrity_check(&self) -> Result<(), StoreError> {
        self.run(|conn| {
            let problems = conn
                .prepare("PRAGMA integrity_check")?
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            match problems.as_slice() {
                [ok] if ok == "ok" => Ok(()),
                _ => Err(StoreError::Corrupt(problems.join("; "))),
            }
        })
        .await
    }

    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic inside `f` drops its open transaction, which rolls back: the connection
            // is consistent, so a poisoned lock is safe to keep using.
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(StoreError::backend)?
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(
            mode,
            "the store's file system does not support WAL; using {mode}"
        );
    }
    // FULL: the WAL is synced at every commit, so an acknowledged commit survives power loss
    // (NORMAL would only survive a process crash).
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn put_service(&self, service: ServiceRecord) -> Result<(), StoreError> {
        self.run(move |c| catalog::put_service(c, &service)).await
    }

    async fn get_service(&self, name: &str) -> Result<Option<ServiceRecord>, StoreError> {
        let name = name.to_owned();
        self.run(move |c| Ok(catalog::services(c, Some(&name))?.pop()))
            .await
    }

    async fn list_services(&self) -> Result<Vec<ServiceRecord>, StoreError> {
        self.run(|c| catalog::services(c, None)).await
    }

    async fn put_version(&self, version: VersionSnapshot) -> Result<bool, StoreError> {
        self.run(move |c| catalog::put_version(c, &version)).await
    }

    async fn get_version(
        &self,
        service: &str,
        name: &str,
    ) -> Result<Option<VersionSnapshot>, StoreError> {
        let (service, name) = (service.to_owned(), name.to_owned());
        self.run(move |c| catalog::get_version(c, &service, &name))
            .await
    }

    async fn list_versions(&self, service: &str) -> Result<Vec<VersionEntry>, StoreError> {
        let service = service.to_owned();
        self.run(move |c| catalog::list_versions(c, &service)).await
    }

    async fn stable_history(&self, service: &str) -> Result<Vec<StableChange>, StoreError> {
        let service = service.to_owned();
        self.run(move |c| catalog::stable_history(c, &service))
            .await
    }

    async fn record_stable(&self, change: StableChange) -> Result<(), StoreError> {
        self.run(move |c| catalog::record_stable(c, &change)).await
    }

    async fn get_rollout(&self, name: &str) -> Result<Option<RolloutRecord>, StoreError> {
        let name = name.to_owned();
        self.run(move |c| rollouts::get(c, &name)).await
    }

    async fn list_rollouts(
        &self,
        filter: &RolloutFilter,
    ) -> Result<Vec<RolloutRecord>, StoreError> {
        let filter = filter.clone();
        self.run(move |c| rollouts::list(c, &filter)).await
    }

    async fn commit(&self, commit: RolloutCommit) -> Result<CommitOutcome, StoreError> {
        self.run(move |c| rollouts::commit(c, commit)).await
    }

    async fn list_decisions(
        &self,
        query: &DecisionQuery,
    ) -> Result<Vec<DecisionRecord>, StoreError> {
        let query = query.clone();
        self.run(move |c| decisions::list(c, &query)).await
    }

    async fn count_decisions(&self, query: &DecisionQuery) -> Result<u64, StoreError> {
        let query = query.clone();
        self.run(move |c| decisions::count(c, &query)).await
    }

    async fn put_experiment(&self, experiment: ExperimentRecord) -> Result<(), StoreError> {
        self.run(move |c| access::put_experiment(c, &experiment))
            .await
    }

    async fn get_experiment(&self, name: &str) -> Result<Option<ExperimentRecord>, StoreError> {
        let name = name.to_owned();
        self.run(move |c| Ok(access::experiments(c, Some(&name))?.pop()))
            .await
    }

    async fn list_experiments(&self) -> Result<Vec<ExperimentRecord>, StoreError> {
        self.run(|c| access::experiments(c, None)).await
    }

    async fn stop_experiment(
        &self,
        name: &str,
        at: UnixMillis,
    ) -> Result<ExperimentRecord, StoreError> {
        let name = name.to_owned();
        self.run(move |c| access::stop_experiment(c, &name, at))
            .await
    }

    async fn insert_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        self.run(move |c| access::insert_token(c, &token)).await
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let hash = hash.to_owned();
        self.run(move |c| access::token_by_hash(c, &hash)).await
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.run(|c| access::list_tokens(c)).await
    }

    async fn revoke_token(
        &self,
        name_or_id: &str,
        at: UnixMillis,
    ) -> Result<TokenRecord, StoreError> {
        let name_or_id = name_or_id.to_owned();
        self.run(move |c| access::revoke_token(c, &name_or_id, at))
            .await
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_owned();
        self.run(move |c| access::get_meta(c, &key)).await
    }

    async fn put_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.run(move |c| access::put_meta(c, &key, &value)).await
    }
}
