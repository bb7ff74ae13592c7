//! A real headless Chromium driven over WebDriver: `chromedriver` (Debian `chromium-driver`)
//! started on a free 127.0.0.1 port, Chromium (Debian `chromium`) in a fresh profile with the
//! flags that keep it off the network, and a `fantoccini` client. Processes are stopped by
//! PID: the client's session first (chromedriver quits its Chromium), then every process
//! chromedriver started, then chromedriver.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::support::process::free_port;

/// A running chromedriver and the profile directory its Chromium uses.
pub struct Driver {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    chromium: PathBuf,
    profile: tempfile::TempDir,
    log: PathBuf,
}

impl Driver {
    /// Finds Chromium and chromedriver (`ROLLGATE_CHROMIUM` / `ROLLGATE_CHROMEDRIVER`, else
    /// on `PATH`) — failing with the Debian package names when they are missing — and starts
    /// chromedriver, waiting (at most 20 s) until it is ready.
    pub fn start() -> Driver {
        let chromium = find("ROLLGATE_CHROMIUM", &["chromium", "chromium-browser"]);
        let chromedriver = find("ROLLGATE_CHROMEDRIVER", &["chromedriver"]);
        let port = free_port();
        let profile = tempfile::tempdir().expect("a Chromium profile directory");
        let log = profile.path().join("chromedriver.log");
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            chromium,
            profile,
            log,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver not listening after 20 s:\n{}",
                driver.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    /// A new browser session: headless Chromium, no sandbox (containers), no GPU, no QUIC, no
    /// background networking, updates or sync, a fresh profile, a large window (screenshots).
    pub async fn client(&self) -> Client {
        let profile = self.profile.path().join("profile");
        let caps = json!({
            "browserName": "chrome",
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": {
                "binary": self.chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--hide-scrollbars", "--force-device-scale-factor=1",
                    "--window-size=1400,2100",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let caps = caps.as_object().expect("an object").clone();
        ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("no Chromium session: {e}\n{}", self.logs()))
    }

    /// What chromedriver logged.
    pub fn logs(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        for pid in descendants(self.child.id()) {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The program named by `env`, or the first of `names` on `PATH`; fails naming the Debian
/// packages otherwise.
fn find(env: &str, names: &[&str]) -> PathBuf {
    let candidates: Vec<PathBuf> = match std::env::var_os(env) {
        Some(p) => vec![PathBuf::from(p)],
        None => {
            let path = std::env::var_os("PATH").unwrap_or_default();
            std::env::split_paths(&path)
                .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
                .collect()
        }
    };
    candidates
        .into_iter()
        .find(|p| is_executable(p))
        .unwrap_or_else(|| {
            panic!(
                "{} not found: the dashboard browser test needs a real Chromium and its WebDriver — \
                 install the Debian packages `chromium` and `chromium-driver` (.ci/run does), or \
                 set {env} to the program",
                names[0]
            )
        })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Every process below `pid` (children first listed, then theirs), from `/proc`.
fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut queue = vec![pid];
    while let Some(p) = queue.pop() {
        let tasks = std::fs::read_dir(format!("/proc/{p}/task"))
            .into_iter()
            .flatten();
        for task in tasks.flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for c in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                if !out.contains(&c) {
                    out.push(c);
                    queue.push(c);
                }
            }
        }
    }
    out
}
