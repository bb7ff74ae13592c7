//! Rollgate's distributed mode over etcd, the configuration store operators already run: a
//! thin v3 client over etcd's JSON gateway (plain HTTP/1.1 and JSON through `reqwest`, so no
//! protoc and no generated code), [`EtcdStore`] — the shared [`rollgate_store::Store`] every
//! control-plane replica uses — routing snapshot publishing and watching, edge registration
//! and leader election.
//!
//! It never decides anything: rollout logic stays in the controller, routing in the edge. Every
//! write that must not be repeated or lost is one etcd transaction guarded by compares, so a
//! retried, concurrent or deposed writer fails cleanly instead of overwriting.

mod client;
mod error;
pub mod keys;
pub mod local;
mod store;
pub mod wire;

pub use client::{Etcd, EtcdConfig, WatchStream};
pub use error::EtcdError;
pub use local::{LocalEtcd, LocalEtcdError};
pub use store::{EtcdStore, GuardLost, WriteGuard};
