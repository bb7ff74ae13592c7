//! A throwaway single-member etcd on 127.0.0.1, for tests, demos and development: started
//! from the `etcd` binary (Debian's `etcd-server`) with a data directory of the caller's
//! choosing and free ports, stopped by PID. Never for production: it has no TLS, no auth and
//! one member.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The variable naming the etcd binary (default: `etcd` on `PATH`, then `/usr/bin/etcd`).
pub const ETCD_BIN_ENV: &str = "ROLLGATE_ETCD_BIN";

/// How long [`LocalEtcd::start`] waits for the member to report healthy.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A running etcd member. Killed (and waited for) when dropped.
#[derive(Debug)]
pub struct LocalEtcd {
    child: Option<Child>,
    data_dir: PathBuf,
    client: SocketAddr,
    peer: SocketAddr,
}

/// Why a local etcd did not start.
#[derive(Debug, thiserror::Error)]
pub enum LocalEtcdError {
    /// The binary could not be run.
    #[error("cannot run {binary}: {source} (install Debian's etcd-server or set {ETCD_BIN_ENV})")]
    Spawn {
        /// The binary tried.
        binary: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file or port could not be set up.
    #[error("cannot prepare a local etcd: {0}")]
    Setup(#[from] std::io::Error),
    /// It started but never became healthy.
    #[error("etcd did not become healthy within {timeout:?}; its log ({log}):\n{tail}")]
    NotReady {
        /// How long it was given.
        timeout: Duration,
        /// The log file.
        log: String,
        /// The end of the log.
        tail: String,
    },
}

impl LocalEtcd {
    /// Starts a member keeping its data in `data_dir` (created if missing), on two free ports,
    /// and waits until it is healthy.
    pub fn start(data_dir: &Path) -> Result<LocalEtcd, LocalEtcdError> {
        let client = free_port()?;
        let peer = free_port()?;
        LocalEtcd::start_on(data_dir, client, peer)
    }

    /// Starts a member on the given addresses (to restart one where it was).
    pub fn start_on(
        data_dir: &Path,
        client: SocketAddr,
        peer: SocketAddr,
    ) -> Result<LocalEtcd, LocalEtcdError> {
        std::fs::create_dir_all(data_dir)?;
        let log_path = data_dir.with_extension("log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)?;
        let binary = etcd_binary();
        let (c, p) = (format!("http://{client}"), format!("http://{peer}"));
        let child = Command::new(&binary)
            .arg("--name=rollgate-test")
            .arg(format!(
                "--data-dir={}",
                data_dir.join("member-data").display()
            ))
            .args([
                format!("--listen-client-urls={c}"),
                format!("--advertise-client-urls={c}"),
            ])
            .args([
                format!("--listen-peer-urls={p}"),
                format!("--initial-advertise-peer-urls={p}"),
            ])
            .arg(format!("--initial-cluster=rollgate-test={p}"))
            // A short election timeout: a single member elects itself within ~0.2 s.
            .args(["--heartbeat-interval=25", "--election-timeout=250"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|source| LocalEtcdError::Spawn {
                binary: binary.clone(),
                source,
            })?;
        let mut etcd = LocalEtcd {
            child: Some(child),
            data_dir: data_dir.to_owned(),
            client,
            peer,
        };
        etcd.wait_ready(&log_path)?;
        Ok(etcd)
    }

    /// The client URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.client)
    }

    /// The client address.
    pub fn client_addr(&self) -> SocketAddr {
        self.client
    }

    /// The peer address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The member's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the member (SIGKILL to its PID) and waits for it. Its data stays on disk, so
    /// [`LocalEtcd::restart`] brings it back with every key.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the member again on the same ports and data directory.
    pub fn restart(&mut self) -> Result<(), LocalEtcdError> {
        self.kill();
        let again = LocalEtcd::start_on(&self.data_dir.clone(), self.client, self.peer)?;
        *self = again;
        Ok(())
    }

    fn wait_ready(&mut self, log_path: &Path) -> Result<(), LocalEtcdError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            let exited = self
                .child
                .as_mut()
                .is_none_or(|c| c.try_wait().ok().flatten().is_some());
            if exited {
                break;
            }
            if healthy(self.client) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill();
        let text = std::fs::read_to_string(log_path).unwrap_or_default();
        let tail: String = text
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        Err(LocalEtcdError::NotReady {
            timeout: READY_TIMEOUT,
            log: log_path.display().to_string(),
            tail,
        })
    }
}

impl Drop for LocalEtcd {
    fn drop(&mut self) {
        self.kill();
    }
}

fn etcd_binary() -> String {
    if let Ok(bin) = std::env::var(ETCD_BIN_ENV) {
        return bin;
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("etcd"))
            .find(|p| p.is_file())
    });
    on_path.map_or_else(|| "/usr/bin/etcd".to_owned(), |p| p.display().to_string())
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> std::io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// True when `GET /health` answers `"health":"true"`.
fn healthy(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    if s.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.contains("\"health\":\"true\"")
}
