//! The real `rollgate serve` as a child process: edge, control plane and API on ephemeral
//! ports, its bound addresses read from the `--ready-file` it writes, its store in a data
//! directory the test owns. Signalled and killed by PID; killed when dropped.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running `rollgate serve`.
pub struct Serve {
    child: Child,
    /// Where clients connect (the edge).
    pub edge: SocketAddr,
    /// The REST API.
    pub api: SocketAddr,
    /// The edge's admin endpoints.
    pub admin: Option<SocketAddr>,
    /// Its store directory.
    pub data_dir: PathBuf,
    log: PathBuf,
}

impl Serve {
    /// Starts `rollgate serve --config <config> --data-dir <data_dir>` with every listener on
    /// port 0, and waits (at most 30 s) until it has written its ready file.
    pub fn start(config: &Path, data_dir: &Path) -> Serve {
        std::fs::create_dir_all(data_dir).expect("create the data directory");
        let ready = data_dir.join("ready.json");
        let _ = std::fs::remove_file(&ready);
        let log = data_dir.join(format!("serve-{}.log", now_ms()));
        let child = Command::new(env!("CARGO_BIN_EXE_rollgate"))
            .args(["--log", "info", "serve", "--config"])
            .arg(config)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .args([
                "--api-listen",
                "127.0.0.1:0",
                "--workers",
                "2",
                "--ready-file",
            ])
            .arg(&ready)
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("create the log file"))
            .spawn()
            .expect("start rollgate serve");
        let mut serve = Serve {
            child,
            edge: "127.0.0.1:0".parse().expect("an address"),
            api: "127.0.0.1:0".parse().expect("an address"),
            admin: None,
            data_dir: data_dir.to_path_buf(),
            log,
        };
        let started = Instant::now();
        let doc: serde_json::Value = loop {
            if let Ok(text) = std::fs::read_to_string(&ready)
                && let Ok(doc) = serde_json::from_str(&text)
            {
                break doc;
            }
            if let Ok(Some(status)) = serve.child.try_wait() {
                panic!("rollgate serve exited with {status}:\n{}", serve.logs());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "rollgate serve not ready after 30 s:\n{}",
                serve.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let addr = |k: &str| doc[k].as_str().and_then(|a| a.parse().ok());
        serve.edge = addr("edge").expect("the edge address");
        serve.api = addr("api").expect("the API address");
        serve.admin = addr("admin");
        serve
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `http://<edge><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.edge)
    }

    /// The store file.
    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("rollgate.db")
    }

    /// Sends a signal (`TERM`, `HUP`, `KILL`) to this process with `kill`.
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(ok.success(), "kill -{name} {} failed", self.pid());
    }

    /// `kill -9`, and waits for it to be gone.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}
