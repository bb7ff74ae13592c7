//! What can go wrong when reading or writing the store.

use std::path::PathBuf;

/// Why a store operation failed. Variants name the record involved so the API and the CLI can
/// tell the user what to do; none of them carry SQL or backend internals except `Backend`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist.
    #[error("{kind} {name:?} does not exist")]
    NotFound {
        /// What kind of record (`service`, `version`, `rollout`, `experiment`, `token`).
        kind: &'static str,
        /// Its name (for a version: `service/version`).
        name: String,
    },
    /// A record with this name already exists and cannot be created again.
    #[error("{kind} {name:?} already exists")]
    AlreadyExists {
        /// What kind of record.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// A different snapshot was already recorded under this version name. Versions are
    /// immutable: register the change under a new version name.
    #[error(
        "version {version:?} of service {service:?} already exists with different content; \
         versions are immutable, register the change under a new version name"
    )]
    VersionExists {
        /// The service.
        service: String,
        /// The version name.
        version: String,
    },
    /// Someone else changed the rollout since it was read (optimistic concurrency). Re-read the
    /// rollout, decide again and retry.
    #[error(
        "rollout {rollout:?} changed concurrently: expected revision {expected}, found {actual}; \
         re-read it and retry"
    )]
    Conflict {
        /// The rollout.
        rollout: String,
        /// The revision the writer based its change on (0: "must not exist yet").
        expected: u64,
        /// The revision in the store (0: it does not exist).
        actual: u64,
    },
    /// This decision (rollout, seq) was already recorded: a replayed write. Nothing was written.
    #[error("decision {seq} of rollout {rollout:?} is already recorded; nothing was written")]
    DuplicateDecision {
        /// The rollout.
        rollout: String,
        /// The decision's sequence number within the rollout.
        seq: u64,
    },
    /// The caller asked for something inconsistent (a bug in the caller, not in the data).
    #[error("invalid store request: {0}")]
    Invalid(String),
    /// The database was written by a newer Rollgate; opening it could lose data.
    #[error(
        "{path} has schema version {found}, but this Rollgate understands up to {supported}; \
         upgrade Rollgate (never open a newer store with an older binary)"
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// The schema version found in the file.
        found: u32,
        /// The newest schema version this build knows.
        supported: u32,
    },
    /// The store file could not be opened (permissions, not a database, locked, disk full).
    #[error("cannot open the store at {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A stored value could not be decoded: the file was edited by hand or is damaged.
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// The operating system could not provide randomness for a token.
    #[error("no randomness available for a token: {0}")]
    Entropy(String),
    /// The storage backend failed (disk full, I/O error, locked database, lost connection).
    #[error("storage backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// A `NotFound` for `kind` named `name`.
    pub fn not_found(kind: &'static str, name: impl Into<String>) -> StoreError {
        StoreError::NotFound {
            kind,
            name: name.into(),
        }
    }

    /// A backend failure from any error.
    pub fn backend(err: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError::Backend(Box::new(err))
    }
}
