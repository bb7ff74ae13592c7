//! What an edge reports about itself under `<prefix>/edges/<edge id>`: the snapshot revision
//! it serves, where that snapshot came from, and the last one it refused.

use rollgate_core::model::UnixMillis;
use serde::{Deserialize, Serialize};

/// One edge's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeStatus {
    /// The edge's id (`pop-fra-1`).
    pub edge_id: String,
    /// The snapshot revision it routes by (0: none yet).
    pub revision: u64,
    /// That snapshot's checksum.
    pub checksum: String,
    /// Where the snapshot came from.
    pub source: SnapshotSource,
    /// When it started routing by it.
    pub since: UnixMillis,
    /// True while its watch on etcd is established.
    pub connected: bool,
    /// The last snapshot it refused, and why (the previous one kept serving).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<Rejection>,
    /// When the edge process started.
    pub started_at: UnixMillis,
    /// When this report was written.
    pub reported_at: UnixMillis,
}

/// Where the snapshot an edge serves came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotSource {
    /// No snapshot yet: nothing is routed.
    None,
    /// Its local disk copy (etcd was unreachable at start).
    Disk,
    /// etcd.
    Etcd,
}

/// A snapshot an edge refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// Its revision (0 when it could not even be read).
    pub revision: u64,
    /// Why.
    pub reason: String,
}

impl EdgeStatus {
    /// The report of an edge that serves nothing yet.
    pub fn starting(edge_id: &str, now: UnixMillis) -> EdgeStatus {
        EdgeStatus {
            edge_id: edge_id.to_owned(),
            revision: 0,
            checksum: String::new(),
            source: SnapshotSource::None,
            since: now,
            connected: false,
            rejected: None,
            started_at: now,
            reported_at: now,
        }
    }
}
