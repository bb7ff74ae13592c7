//! The processes of a distributed Rollgate, as the end-to-end tests run them: a real etcd
//! (`rollgate_etcd::LocalEtcd`), `rollgate control --etcd` replicas and `rollgate edge --etcd`
//! edges, every listener on an ephemeral port on 127.0.0.1, logs in files of the test's
//! temporary directory, signalled by PID, killed when dropped.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::support::process::{Proc, edge_addresses, now_ms, rollgate};

/// A control-plane replica.
pub struct Control {
    /// The process.
    pub proc: Proc,
    /// Its id in the leader key.
    pub id: String,
    /// Its API.
    pub api: SocketAddr,
}

/// An edge.
pub struct Edge {
    /// The process.
    pub proc: Proc,
    /// Its id in the registry.
    pub id: String,
    /// Where clients connect.
    pub addr: SocketAddr,
    /// Its admin endpoints.
    pub admin: SocketAddr,
}

impl Control {
    /// Starts `rollgate control --config <config> --etcd <etcd> --id <id>` with its API on an
    /// ephemeral port, and waits (at most 30 s) for its ready file.
    pub fn start(dir: &Path, config: &Path, etcd: &str, id: &str) -> Control {
        let ready = dir.join(format!("{id}.ready.json"));
        let _ = std::fs::remove_file(&ready);
        let mut proc = Proc::spawn(
            rollgate()
                .args(["--log", "info", "control", "--config"])
                .arg(config)
                .args(["--etcd", etcd, "--id", id, "--api-listen", "127.0.0.1:0"])
                .arg("--ready-file")
                .arg(&ready),
            dir.join(format!("{id}.log")),
            Stdio::null(),
        );
        let doc = proc.ready(&ready, Duration::from_secs(30));
        let api = doc["api"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("{id}: no API address in its ready file: {doc}"));
        Control {
            proc,
            id: id.to_owned(),
            api,
        }
    }

    /// `http://<api><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.api)
    }
}

impl Edge {
    /// Starts `rollgate edge --etcd <etcd> --edge-id <id> --state-dir <dir>/<id>` (no config
    /// file) with both listeners on ephemeral ports, and waits until it listens.
    pub fn start(dir: &Path, etcd: &str, id: &str) -> Edge {
        let mut proc = Proc::spawn(
            rollgate()
                .args(["--log", "info", "edge", "--etcd", etcd, "--edge-id", id])
                .arg("--state-dir")
                .arg(dir.join(id))
                .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
                .args(["--workers", "2"]),
            dir.join(format!("{id}.{}.log", now_ms())),
            Stdio::piped(),
        );
        let line = proc.first_line();
        let Some((addr, admin)) = edge_addresses(&line) else {
            panic!("{id} did not start: {line:?}\n{}", proc.logs());
        };
        Edge {
            proc,
            id: id.to_owned(),
            addr,
            admin,
        }
    }

    /// `http://<listen><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `http://<admin><path>`.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin)
    }
}
