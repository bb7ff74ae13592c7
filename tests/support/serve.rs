//! The real `rollgate serve` as a child process: edge, control plane and API on ephemeral
//! ports, its bound addresses read from the `--ready-file` it writes, its store and its log in
//! a data directory the test owns. Signalled and killed by PID; killed when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use super::process::{Proc, now_ms, rollgate};

/// A running `rollgate serve`.
pub struct Serve {
    /// The process.
    pub proc: Proc,
    /// Where clients connect (the edge).
    pub edge: SocketAddr,
    /// The REST API.
    pub api: SocketAddr,
    /// The edge's admin endpoints.
    pub admin: Option<SocketAddr>,
    /// Its store directory.
    pub data_dir: PathBuf,
}

impl Serve {
    /// Starts `rollgate serve --config <config> --data-dir <data_dir>` with every listener on
    /// port 0, and waits (at most 30 s) until it has written its ready file.
    pub fn start(config: &Path, data_dir: &Path) -> Serve {
        std::fs::create_dir_all(data_dir).expect("create the data directory");
        let ready = data_dir.join("ready.json");
        let _ = std::fs::remove_file(&ready);
        let mut proc = Proc::spawn(
            rollgate()
                .args(["--log", "info", "serve", "--config"])
                .arg(config)
                .arg("--data-dir")
                .arg(data_dir)
                .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
                .args(["--api-listen", "127.0.0.1:0", "--workers", "2"])
                .arg("--ready-file")
                .arg(&ready),
            data_dir.join(format!("serve-{}.log", now_ms())),
            Stdio::null(),
        );
        let doc = proc.ready(&ready, Duration::from_secs(30));
        let addr = |k: &str| doc[k].as_str().and_then(|a| a.parse().ok());
        Serve {
            edge: addr("edge").expect("the edge address"),
            api: addr("api").expect("the API address"),
            admin: addr("admin"),
            data_dir: data_dir.to_path_buf(),
            proc,
        }
    }

    /// `http://<edge><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.edge)
    }

    /// The store file.
    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("rollgate.db")
    }
}
