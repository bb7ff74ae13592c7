//! A child process of a test: the real `rollgate` binary or another server, its log (stderr)
//! in a file the test owns, its ready file or its first line of output awaited, signalled and
//! waited for by PID, killed when dropped.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A running child process and its log file. Killed (and reaped) when dropped.
pub struct Proc {
    child: Option<Child>,
    log: PathBuf,
}

impl Proc {
    /// Starts `cmd` with no stdin, `stdout` as given (discarded, or piped for
    /// [`Proc::first_line`]) and stderr written to `log`.
    pub fn spawn(cmd: &mut Command, log: PathBuf, stdout: Stdio) -> Proc {
        let stderr = File::create(&log)
            .unwrap_or_else(|e| panic!("create the log file {}: {e}", log.display()));
        let child = cmd
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("start {:?}: {e}", cmd.get_program()));
        Proc::new(child, log)
    }

    /// Takes over `child`, which logs to `log`.
    pub fn new(child: Child, log: PathBuf) -> Proc {
        Proc {
            child: Some(child),
            log,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the process was killed").id()
    }

    /// Sends a signal (`HUP`, `TERM`, …) with `kill`.
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(ok.success(), "kill -{name} {} failed", self.pid());
    }

    /// How it ended, if it has.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.as_mut()?.try_wait().ok().flatten()
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// `SIGTERM`, then waits up to `limit` for the process to exit; `None` if it did not (or
    /// was killed before).
    pub fn stop(&mut self, limit: Duration) -> Option<ExitStatus> {
        self.child.as_ref()?;
        if let Some(status) = self.exited() {
            return Some(status);
        }
        self.signal("TERM");
        self.wait(limit)
    }

    /// `SIGKILL`, and waits for it to be gone.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Everything it logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
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

    /// The first line of its (piped) stdout; the rest is read and dropped on a thread, so the
    /// process never blocks on a full pipe.
    pub fn first_line(&mut self) -> String {
        let stdout = self
            .child
            .as_mut()
            .and_then(|c| c.stdout.take())
            .expect("a piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        std::thread::spawn(move || lines.for_each(drop));
        first
    }

    /// Waits (at most `limit`) until the JSON document a `--ready-file` names is written, and
    /// returns it; fails with the log when the process exits first or takes too long.
    pub fn ready(&mut self, path: &Path, limit: Duration) -> serde_json::Value {
        let started = Instant::now();
        loop {
            if let Some(doc) = std::fs::read_to_string(path)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
            {
                return doc;
            }
            if let Some(status) = self.exited() {
                panic!("exited with {status} before it was ready:\n{}", self.logs());
            }
            assert!(
                started.elapsed() < limit,
                "not ready after {limit:?}:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The `rollgate` binary under test, to add arguments to and hand to [`Proc::spawn`].
pub fn rollgate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rollgate"))
}

/// The listen and admin addresses in the first line `rollgate edge` prints:
/// `rollgate edge: listening on 127.0.0.1:1234 (admin http://127.0.0.1:5678)`.
pub fn edge_addresses(line: &str) -> Option<(SocketAddr, SocketAddr)> {
    let rest = line.trim().strip_prefix("rollgate edge: listening on ")?;
    let (addr, admin) = rest.split_once(" (admin http://")?;
    Some((
        addr.parse().ok()?,
        admin.trim_end_matches(')').parse().ok()?,
    ))
}

/// A 127.0.0.1 port the OS had free a moment ago, for programs that cannot listen on port 0
/// and say which port they got.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
