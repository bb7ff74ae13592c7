//! Hot reload: on `SIGHUP`, or when a watched file changes, load the configuration again,
//! build a new routing table and swap it in. A configuration with errors is rejected whole:
//! every error is logged and the current table keeps serving.
//!
//! Files are watched by polling their metadata (modification time, size, inode) once a
//! second rather than with inotify: polling sees editors that replace a file by renaming,
//! Kubernetes ConfigMap symlink swaps and network filesystems alike, and a `stat` per second
//! costs nothing.

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rollgate_core::RoutingTable;
use tokio::signal::unix::{SignalKind, signal};

use crate::shared::TableHandle;

/// How often watched files are checked for changes.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Loads a fresh routing table, or lists every problem (one line each).
pub type Loader = dyn Fn() -> Result<Arc<RoutingTable>, Vec<String>> + Send + Sync;

/// Reloads an edge's routing table on `SIGHUP` and on changes of the watched files.
pub struct Reloader {
    handle: TableHandle,
    load: Arc<Loader>,
    files: Vec<PathBuf>,
    poll: Duration,
}

/// A file's identity and content version as far as `stat` can tell.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fingerprint(Option<(SystemTime, u64, u64)>);

impl Reloader {
    /// Reloads through `handle` with `load`, watching `files`.
    pub fn new(handle: TableHandle, load: Arc<Loader>, files: Vec<PathBuf>) -> Reloader {
        Reloader {
            handle,
            load,
            files,
            poll: POLL_INTERVAL,
        }
    }

    /// Checks the files every `poll` instead of every second.
    pub fn poll_every(mut self, poll: Duration) -> Reloader {
        self.poll = poll;
        self
    }

    /// Loads and swaps once; returns whether the new table is serving.
    pub async fn reload(&self, why: &str) -> bool {
        let load = Arc::clone(&self.load);
        match tokio::task::spawn_blocking(move || load()).await {
            Ok(Ok(table)) => {
                self.handle.swap(table);
                tracing::info!(trigger = why, "routing table reloaded");
                true
            }
            Ok(Err(errors)) => {
                tracing::error!(
                    trigger = why,
                    errors = errors.len(),
                    "new configuration rejected; the current one keeps serving"
                );
                for e in &errors {
                    tracing::error!("  {e}");
                }
                false
            }
            Err(e) => {
                tracing::error!(trigger = why, error = %e, "loading the configuration panicked; the current one keeps serving");
                false
            }
        }
    }

    /// Watches for `SIGHUP` and file changes until `shutdown` resolves.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        watch_files(&self.files, self.poll, shutdown, |why| self.reload(why)).await;
    }
}

/// Calls `on_change` on `SIGHUP` and whenever one of `files` changes (checked every `poll`:
/// modification time, size and inode, so renames over the file are seen), until `shutdown`
/// resolves. The edge's configuration and certificate reloads and the control plane's
/// configuration reload all run on it.
pub async fn watch_files<F, Fut, T>(
    files: &[PathBuf],
    poll: Duration,
    shutdown: impl Future<Output = ()>,
    mut on_change: F,
) where
    F: FnMut(&'static str) -> Fut,
    Fut: Future<Output = T>,
{
    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP; reloading on file changes only");
            None
        }
    };
    let mut seen: Vec<Fingerprint> = files.iter().map(fingerprint).collect();
    let mut tick = tokio::time::interval(poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        let hup = async {
            match hangup.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = &mut shutdown => return,
            _ = hup => { on_change("SIGHUP").await; }
            _ = tick.tick() => {
                let now: Vec<Fingerprint> = files.iter().map(fingerprint).collect();
                if now != seen {
                    // Remember the new state whatever the outcome: a broken file is
                    // reported once, and tried again when it changes again.
                    seen = now;
                    on_change("file change").await;
                }
            }
        }
    }
}

fn fingerprint(path: &PathBuf) -> Fingerprint {
    use std::os::unix::fs::MetadataExt;
    Fingerprint(fs::metadata(path).ok().map(|m| {
        (
            m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            m.len(),
            m.ino(),
        )
    }))
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader")
            .field("files", &self.files)
            .field("poll", &self.poll)
            .finish_non_exhaustive()
    }
}
