//! Rollgate's distributed mode over etcd, the configuration store operators already run: a
//! thin v3 client over etcd's JSON gateway (plain HTTP/1.1 and JSON through `reqwest`, so no
//! protoc and no generated code), [`EtcdStore`] — the shared [`rollgate_store::Store`] every
//! control-plane replica uses — routing snapshot publishing ([`EtcdPublisher`]) and following
//! ([`SnapshotWatcher`], with a disk copy for starting while etcd is down), edge registration
//! ([`Registration`], [`fleet`]) and leader election with fenced writes ([`Election`]).
//!
//! It never decides anything: rollout logic stays in the controller, routing in the edge. Every
//! write that must not be repeated or lost is one etcd transaction guarded by compares, so a
//! retried, concurrent or deposed writer fails cleanly instead of overwriting.

mod client;
mod cluster;
mod election;
mod error;
mod follow;
mod guard;
mod http;
pub mod keys;
mod lease;
pub mod local;
mod merge;
mod publish;
mod push;
mod registry;
mod seqs;
mod status;
mod store;
mod switch;
mod time;
pub mod wire;

pub use client::{Etcd, EtcdConfig, WatchStream};
pub use cluster::{ClusterKeys, DEFAULT_PREFIX};
pub use election::{Election, LEADER_TTL, LeaderInfo, Leadership, leader_info};
pub use error::EtcdError;
pub use follow::{SNAPSHOT_FILE, SnapshotFile, SnapshotWatcher};
pub use guard::{GuardLost, WriteGuard};
pub use http::DistributedApi;
pub use lease::{KeptLease, LeaseState};
pub use local::{LocalEtcd, LocalEtcdError};
pub use merge::{BatchReceipt, WindowBatch, WindowMerger};
pub use publish::EtcdPublisher;
pub use push::{TelemetryPusher, WINDOWS_PATH};
pub use registry::{EDGE_TTL, EdgeView, Fleet, Registration, fleet};
pub use status::{EdgeStatus, Rejection, SnapshotSource};
pub use store::EtcdStore;
pub use switch::{FORWARDED_BY, RouterSwitch, follower_router};
