//! Distributed mode (`--etcd`): `rollgate edge` follows its routing snapshot in etcd, keeps a
//! disk copy, registers and pushes its telemetry to the leader; `rollgate control` replicas
//! share their store in etcd and elect the one that decides. See `docs/distributed.md`.

pub mod control;
pub mod edge;

use anyhow::{Result, anyhow};
use rollgate_etcd::{ClusterKeys, DEFAULT_PREFIX, Etcd, EtcdConfig};

/// Where the cluster's etcd is.
#[derive(Clone, Debug, clap::Args)]
pub struct Cluster {
    /// Run in distributed mode with these etcd client URLs (comma-separated): routing
    /// snapshots, the shared store, leader election and the edge registry live in etcd.
    #[arg(long, value_name = "URLS", global = true)]
    pub etcd: Option<String>,
    /// The key prefix in etcd (several installations can share one cluster).
    #[arg(long, value_name = "PREFIX", default_value = DEFAULT_PREFIX, requires = "etcd", global = true)]
    pub etcd_prefix: String,
}

impl Cluster {
    /// The client and keys, when `--etcd` was given.
    pub fn connect(&self) -> Result<Option<(Etcd, ClusterKeys)>> {
        let Some(urls) = &self.etcd else {
            return Ok(None);
        };
        let etcd = Etcd::new(EtcdConfig::parse(urls)).map_err(|e| anyhow!("--etcd: {e}"))?;
        Ok(Some((etcd, ClusterKeys::new(&self.etcd_prefix))))
    }
}
