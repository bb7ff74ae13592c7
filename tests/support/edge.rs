//! The real `rollgate edge` binary as a child process: started with a config file, its
//! listening addresses read from its first line of output, its log in a file beside the
//! config, signalled and measured by PID, and killed when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use super::process::{Proc, edge_addresses, now_ms, rollgate};

/// A running `rollgate edge`.
pub struct Edge {
    /// The process.
    pub proc: Proc,
    /// Where clients connect.
    pub addr: SocketAddr,
    /// The admin listener.
    pub admin: SocketAddr,
    /// The config file it runs with (rewrite it to reload).
    pub config: PathBuf,
}

impl Edge {
    /// Starts `rollgate edge --config <config>` with `listen` and `admin_listen` on port 0,
    /// and waits until it listens.
    pub fn start(config: &Path) -> Edge {
        let dir = config.parent().expect("the config's directory");
        let mut proc = Proc::spawn(
            rollgate()
                .args(["--log", "info", "edge", "--config"])
                .arg(config)
                .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
                .args(["--workers", "2"]),
            dir.join(format!("edge-{}.log", now_ms())),
            Stdio::piped(),
        );
        let line = proc.first_line();
        let Some((addr, admin)) = edge_addresses(&line) else {
            panic!("rollgate edge did not start: {line:?}\n{}", proc.logs());
        };
        Edge {
            proc,
            addr,
            admin,
            config: config.to_path_buf(),
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

    /// The admin `/metrics` text.
    pub async fn metrics(&self) -> String {
        let r = reqwest::get(self.admin_url("/metrics"))
            .await
            .expect("GET /metrics");
        r.text().await.expect("the /metrics body")
    }

    /// Routing tables swapped in since start (`rollgate_edge_table_swaps_total`).
    pub async fn swaps(&self) -> u64 {
        let m = self.metrics().await;
        m.lines()
            .find_map(|l| {
                l.strip_prefix("rollgate_edge_table_swaps_total ")?
                    .parse()
                    .ok()
            })
            .expect("rollgate_edge_table_swaps_total in /metrics")
    }

    /// Waits up to 5 s for more than `before` table swaps; false when none came.
    pub async fn swapped_since(&self, before: u64) -> bool {
        for _ in 0..250 {
            if self.swaps().await > before {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }
}
