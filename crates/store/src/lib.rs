//! Everything the control plane persists — services, immutable version snapshots, rollouts with
//! their current state, the append-only decision log, experiments, API tokens — behind the
//! [`Store`] trait, with an embedded SQLite implementation (the default) and an in-memory one
//! for tests. The trait speaks in records, never SQL, so a shared store (etcd, PostgreSQL) can
//! implement it; [`conformance`] is the suite every implementation must pass.
//!
//! The one rule: a rollout's new state, the decisions behind it and any change of stable
//! version are written by [`Store::commit`] in one transaction, before the new routing snapshot
//! is published. A crash never leaves them disagreeing, and a replayed commit can neither
//! overwrite a newer state (revision check) nor duplicate a decision (`(rollout, seq)` unique).

mod commit;
pub mod conformance;
mod error;
mod history;
mod mem;
mod query;
mod records;
mod sqlite;
mod store;
mod token;

pub use commit::{CommitOutcome, CurrentRollout, RolloutCommit};
pub use error::StoreError;
pub use history::version_entries;
pub use mem::MemStore;
pub use query::{DecisionQuery, Order};
pub use records::{
    ExperimentRecord, ExperimentState, RolloutFilter, RolloutRecord, ServiceRecord, StableChange,
    StablePeriod, VersionEntry,
};
pub use sqlite::SqliteStore;
pub use store::Store;
pub use token::{
    Role, SECRET_PREFIX, Secret, TokenRecord, UnknownRole, generate_token, generate_token_id,
    new_token,
};
