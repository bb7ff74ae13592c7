//! The real `rollgate edge` binary as a child process: started with a config file, its
//! listening addresses read from its first line of output, signalled and measured by PID,
//! and killed when dropped. Depends on no other support module, so tests can include it alone
//! with `#[path]`.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `rollgate edge`.
pub struct Edge {
    child: Child,
    /// Where clients connect.
    pub addr: SocketAddr,
    /// The admin listener.
    pub admin: SocketAddr,
    /// The config file it runs with (rewrite it to reload).
    pub config: PathBuf,
    /// Its log (stderr), read continuously so the pipe never fills up.
    logs: Arc<Mutex<String>>,
}

impl Edge {
    /// Starts `rollgate edge --config <config>` with `listen` and `admin_listen` on port 0,
    /// and waits until it listens.
    pub fn start(config: &Path) -> Edge {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rollgate"))
            .args(["--log", "info", "edge", "--config"])
            .arg(config)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--admin-listen",
                "127.0.0.1:0",
                "--workers",
                "2",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start rollgate");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        if read.is_err() || !line.starts_with("rollgate edge: listening on ") {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            let _ = child.kill();
            panic!("rollgate edge did not start: {line:?}\n{err}");
        }
        // "rollgate edge: listening on 127.0.0.1:1234 (admin http://127.0.0.1:5678)"
        let rest = line
            .trim()
            .trim_start_matches("rollgate edge: listening on ");
        let (addr, admin) = rest
            .split_once(" (admin http://")
            .expect("the admin address");
        let logs = Arc::new(Mutex::new(String::new()));
        if let Some(stderr) = child.stderr.take() {
            let logs = Arc::clone(&logs);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let mut l = logs.lock().expect("the log buffer");
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        Edge {
            child,
            addr: addr.parse().expect("the listen address"),
            admin: admin
                .trim_end_matches(')')
                .parse()
                .expect("the admin address"),
            config: config.to_path_buf(),
            logs,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `http://<listen><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `http://<admin><path>`.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin)
    }

    /// Sends a signal (`HUP`, `TERM`, …) with `kill`.
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(ok.success(), "kill -{name} failed");
    }

    /// A field of `/proc/<pid>/status` in kB (`VmRSS`, `VmHWM`).
    pub fn memory_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc status"))
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Everything it logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().expect("the log buffer").clone()
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Edge {
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
