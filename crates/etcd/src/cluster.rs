//! The keys distributed mode shares under one prefix (`/rollgate` by default):
//!
//! | key | written by | value |
//! | --- | --- | --- |
//! | `<prefix>/snapshot` | the leader's [`EtcdPublisher`](crate::EtcdPublisher) | the routing snapshot (revision, spec, checksum) |
//! | `<prefix>/edges/<edge id>` | each edge, on a lease | [`EdgeStatus`](crate::EdgeStatus): the revision it serves |
//! | `<prefix>/leader` | the elected control-plane replica, on a lease | [`LeaderInfo`](crate::LeaderInfo) |
//! | `<prefix>/store/…` | [`EtcdStore`](crate::EtcdStore) | rollouts, decisions, versions… |

use crate::keys::segment;

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "/rollgate";

/// The distributed-mode keys under one prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterKeys {
    prefix: String,
}

impl ClusterKeys {
    /// The keys under `prefix` (a trailing `/` is ignored).
    pub fn new(prefix: &str) -> ClusterKeys {
        ClusterKeys {
            prefix: prefix.trim_end_matches('/').to_owned(),
        }
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The routing snapshot.
    pub fn snapshot(&self) -> Vec<u8> {
        format!("{}/snapshot", self.prefix).into_bytes()
    }

    /// Every edge's registration.
    pub fn edges(&self) -> Vec<u8> {
        format!("{}/edges/", self.prefix).into_bytes()
    }

    /// One edge's registration.
    pub fn edge(&self, id: &str) -> Vec<u8> {
        format!("{}/edges/{}", self.prefix, segment(id)).into_bytes()
    }

    /// The leader key.
    pub fn leader(&self) -> Vec<u8> {
        format!("{}/leader", self.prefix).into_bytes()
    }
}

impl Default for ClusterKeys {
    fn default() -> ClusterKeys {
        ClusterKeys::new(DEFAULT_PREFIX)
    }
}

/// The fields of a stored snapshot that say which one it is.
#[derive(Clone, Debug, serde::Deserialize)]
pub(crate) struct Stamp {
    pub revision: u64,
    pub checksum: String,
}
