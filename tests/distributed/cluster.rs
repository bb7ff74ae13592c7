//! The processes of a distributed Rollgate, as the end-to-end tests run them: a real etcd
//! (`rollgate_etcd::LocalEtcd`), `rollgate control --etcd` replicas and `rollgate edge --etcd`
//! edges, every listener on an ephemeral port on 127.0.0.1, logs in files of the test's
//! temporary directory, signalled by PID, killed when dropped.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `rollgate` child process and its log file.
pub struct Proc {
    child: Option<Child>,
    log: PathBuf,
}

/// A control-plane replica.
pub struct Control {
    proc: Proc,
    /// Its id in the leader key.
    pub id: String,
    /// Its API.
    pub api: SocketAddr,
}

/// An edge.
pub struct Edge {
    proc: Proc,
    /// Its id in the registry.
    pub id: String,
    /// Where clients connect.
    pub addr: SocketAddr,
    /// Its admin endpoints.
    pub admin: SocketAddr,
}

impl Proc {
    fn spawn(args: &[String], log: PathBuf, stdout: Stdio) -> Proc {
        let child = Command::new(env!("CARGO_BIN_EXE_rollgate"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(std::fs::File::create(&log).expect("create the log file"))
            .spawn()
            .expect("start rollgate");
        Proc {
            child: Some(child),
            log,
        }
    }

    fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("the process runs")
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// SIGKILL, and wait for it.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, and wait (at most `limit`) for it to exit; true when it exited 0.
    pub fn terminate(&mut self, limit: Duration) -> bool {
        let pid = self.pid().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child().try_wait() {
                self.child = None;
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Everything it logged.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

impl Control {
    /// Starts `rollgate control --config <config> --etcd <etcd> --id <id>` with its API on an
    /// ephemeral port, and waits (at most 30 s) for its ready file.
    pub fn start(dir: &Path, config: &Path, etcd: &str, id: &str) -> Control {
        let ready = dir.join(format!("{id}.ready.json"));
        let _ = std::fs::remove_file(&ready);
        let args: Vec<String> = ["--log", "info", "control", "--config"]
            .iter()
            .map(|s| (*s).to_owned())
            .chain([config.display().to_string()])
            .chain(
                [
                    "--etcd",
                    etcd,
                    "--id",
                    id,
                    "--api-listen",
                    "127.0.0.1:0",
                    "--ready-file",
                ]
                .map(String::from),
            )
            .chain([ready.display().to_string()])
            .collect();
        let mut proc = Proc::spawn(&args, dir.join(format!("{id}.log")), Stdio::null());
        let started = Instant::now();
        let api = loop {
            let doc: Option<serde_json::Value> = std::fs::read_to_string(&ready)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok());
            if let Some(api) = doc.and_then(|d| d["api"].as_str().and_then(|a| a.parse().ok())) {
                break api;
            }
            if let Ok(Some(status)) = proc.child().try_wait() {
                panic!("{id} exited with {status}:\n{}", proc.logs());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{id} not ready:\n{}",
                proc.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
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

    /// The process.
    pub fn proc(&mut self) -> &mut Proc {
        &mut self.proc
    }

    /// Everything it logged.
    pub fn logs(&self) -> String {
        self.proc.logs()
    }
}

impl Edge {
    /// Starts `rollgate edge --etcd <etcd> --edge-id <id> --state-dir <dir>/<id>` (no config
    /// file) with both listeners on ephemeral ports, and waits until it listens.
    pub fn start(dir: &Path, etcd: &str, id: &str) -> Edge {
        let state = dir.join(id);
        let args: Vec<String> = [
            "--log",
            "info",
            "edge",
            "--etcd",
            etcd,
            "--edge-id",
            id,
            "--state-dir",
        ]
        .map(String::from)
        .into_iter()
        .chain([state.display().to_string()])
        .chain(
            [
                "--listen",
                "127.0.0.1:0",
                "--admin-listen",
                "127.0.0.1:0",
                "--workers",
                "2",
            ]
            .map(String::from),
        )
        .collect();
        let mut proc = Proc::spawn(
            &args,
            dir.join(format!("{id}.{}.log", now_ms())),
            Stdio::piped(),
        );
        let stdout = proc.child().stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        // Keep reading, so the edge never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        // "rollgate edge: listening on 127.0.0.1:1234 (admin http://127.0.0.1:5678)"
        let Some(rest) = first.strip_prefix("rollgate edge: listening on ") else {
            panic!("{id} did not start: {first:?}\n{}", proc.logs());
        };
        let (addr, admin) = rest
            .split_once(" (admin http://")
            .expect("the admin address");
        Edge {
            proc,
            id: id.to_owned(),
            addr: addr.parse().expect("the listen address"),
            admin: admin
                .trim_end_matches(')')
                .parse()
                .expect("the admin address"),
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

    /// The process.
    pub fn proc(&mut self) -> &mut Proc {
        &mut self.proc
    }

    /// Everything it logged.
    pub fn logs(&self) -> String {
        self.proc.logs()
    }
}

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}
