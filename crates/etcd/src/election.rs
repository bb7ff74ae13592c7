//! Leader election among control-plane replicas: whoever creates `<prefix>/leader` (only if
//! absent, attached to its lease) leads until the lease ends. Followers watch the key and
//! campaign again the moment it is deleted — when the leader resigns, or its lease expires a
//! time-to-live after it died. The key's create revision is the leader's [`WriteGuard`]: every
//! store write and snapshot publish of the leader carries it, so a deposed leader that has not
//! noticed yet still cannot write.

use std::time::Duration;

use rollgate_core::model::UnixMillis;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::lease::KeptLease;
use crate::wire::{RangeRequest, RequestOp, TxnCompare, TxnRequest, WatchCreateRequest};
use crate::{ClusterKeys, Etcd, EtcdError, WriteGuard};

/// The leader lease's default time to live: a dead leader is replaced within about this long.
pub const LEADER_TTL: Duration = Duration::from_secs(3);
/// The longest pause between campaign attempts while etcd is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Who leads, as written in the leader key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderInfo {
    /// The replica's id (`control-1`, or host:pid).
    pub id: String,
    /// Where its API listens (`http://10.0.0.5:9000`), for edges and followers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// When it became leader.
    pub since: UnixMillis,
}

/// Campaigns for leadership.
#[derive(Clone, Debug)]
pub struct Election {
    etcd: Etcd,
    keys: ClusterKeys,
    ttl: Duration,
}

/// Being the leader: ends when the lease is lost or the key changes hands.
#[derive(Debug)]
pub struct Leadership {
    lease: KeptLease,
    guard: WriteGuard,
    info: LeaderInfo,
    deposed: watch::Receiver<bool>,
    watcher: JoinHandle<()>,
}

impl Election {
    /// An election on `keys.leader()` with the default time to live.
    pub fn new(etcd: Etcd, keys: ClusterKeys) -> Election {
        Election {
            etcd,
            keys,
            ttl: LEADER_TTL,
        }
    }

    /// Uses `ttl` for the leader lease instead.
    pub fn with_ttl(mut self, ttl: Duration) -> Election {
        self.ttl = ttl;
        self
    }

    /// The current leader, if there is one.
    pub async fn leader(&self) -> Result<Option<LeaderInfo>, EtcdError> {
        leader_info(&self.etcd, &self.keys).await
    }

    /// Waits until this replica is the leader (retrying through etcd outages), announcing
    /// `id` and `api` in the leader key.
    pub async fn campaign(&self, id: &str, api: Option<String>) -> Leadership {
        let mut failures = 0u32;
        loop {
            crate::time::pause(Duration::from_millis(100), failures, MAX_BACKOFF).await;
            match self.try_lead(id, api.clone()).await {
                Ok(Some(leadership)) => return leadership,
                Ok(None) => failures = 0,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::debug!(error = %e, "campaign interrupted; trying again");
                }
            }
        }
    }

    /// With a fresh lease: take the key if it is free, else wait until it is deleted
    /// (`Ok(None)`: try again) or the lease is lost.
    async fn try_lead(
        &self,
        id: &str,
        api: Option<String>,
    ) -> Result<Option<Leadership>, EtcdError> {
        let lease = KeptLease::grant(&self.etcd, self.ttl).await?;
        loop {
            let info = LeaderInfo {
                id: id.to_owned(),
                api: api.clone(),
                since: crate::time::now(),
            };
            let key = self.keys.leader();
            let value = serde_json::to_vec(&info).unwrap_or_default();
            let txn = TxnRequest {
                compare: vec![TxnCompare::absent(key.clone())],
                success: vec![RequestOp::RequestPut(crate::wire::PutRequest {
                    key: key.clone(),
                    value,
                    lease: lease.id(),
                })],
                failure: vec![RequestOp::range(RangeRequest::key(key.clone()))],
            };
            let resp = self.etcd.txn(&txn).await?;
            if resp.succeeded {
                let guard = WriteGuard {
                    key,
                    create_revision: resp.header.revision,
                };
                tracing::info!(id, revision = guard.create_revision, "elected leader");
                return Ok(Some(Leadership::new(self.etcd.clone(), lease, guard, info)));
            }
            tokio::select! {
                r = self.until_deleted(resp.header.revision + 1) => r?,
                () = lease.lost() => return Ok(None),
            }
        }
    }

    /// Returns when the leader key is deleted at or after `from`.
    async fn until_deleted(&self, from: i64) -> Result<(), EtcdError> {
        let mut stream = self
            .etcd
            .watch(WatchCreateRequest::key(self.keys.leader(), from))
            .await?;
        loop {
            let msg = tokio::time::timeout(self.ttl, stream.next()).await;
            let msg = match msg {
                Ok(msg) => msg?,
                // Quiet: check that etcd (and the key) are still there.
                Err(_) => match self.etcd.get(&self.keys.leader()).await? {
                    Some(_) => continue,
                    None => return Ok(()),
                },
            };
            let Some(msg) = msg else { return Ok(()) };
            if msg
                .events
                .iter()
                .any(|e| e.kind == crate::wire::EventType::Delete)
            {
                return Ok(());
            }
        }
    }
}

/// The current leader under `keys`, if there is one (and its key is readable).
pub async fn leader_info(etcd: &Etcd, keys: &ClusterKeys) -> Result<Option<LeaderInfo>, EtcdError> {
    let Some(kv) = etcd.get(&keys.leader()).await? else {
        return Ok(None);
    };
    Ok(serde_json::from_slice(&kv.value).ok())
}

impl Leadership {
    fn new(etcd: Etcd, lease: KeptLease, guard: WriteGuard, info: LeaderInfo) -> Leadership {
        let (tx, deposed) = watch::channel(false);
        let watcher = tokio::spawn(watch_key(etcd, guard.clone(), tx));
        Leadership {
            lease,
            guard,
            info,
            deposed,
            watcher,
        }
    }

    /// The guard for this term's writes.
    pub fn guard(&self) -> WriteGuard {
        self.guard.clone()
    }

    /// What the leader key says.
    pub fn info(&self) -> &LeaderInfo {
        &self.info
    }

    /// True while the lease is known alive and the key was not seen changing hands.
    pub fn is_leader(&self) -> bool {
        self.lease.is_alive() && !*self.deposed.borrow()
    }

    /// Resolves when leadership is lost: the lease ended or was not renewed in time, or the
    /// leader key was deleted or replaced.
    pub async fn lost(&self) {
        let mut deposed = self.deposed.clone();
        tokio::select! {
            () = self.lease.lost() => {}
            _ = deposed.wait_for(|d| *d) => {}
        }
    }

    /// Steps down now: revokes the lease, which deletes the key, so a follower takes over at
    /// once instead of after the time to live.
    pub async fn resign(self) -> Result<(), EtcdError> {
        self.watcher.abort();
        self.lease.revoke().await
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

/// Sets `deposed` when the leader key is deleted or rewritten after our creation. The key is
/// read, then watched from the next revision; a watch that fails is opened again after a new
/// read (so a compaction cannot hide a change). The lease covers the time etcd is unreachable.
async fn watch_key(etcd: Etcd, guard: WriteGuard, deposed: watch::Sender<bool>) {
    let mut failures = 0u32;
    loop {
        crate::time::pause(Duration::from_millis(100), failures, MAX_BACKOFF).await;
        failures = failures.saturating_add(1);
        let Ok(read) = etcd.range(&RangeRequest::key(guard.key.clone())).await else {
            continue;
        };
        let ours = read
            .kvs
            .first()
            .is_some_and(|kv| kv.create_revision == guard.create_revision);
        if !ours {
            tracing::warn!("the leader key changed hands; stepping down");
            let _ = deposed.send(true);
            return;
        }
        let watch = etcd
            .watch(WatchCreateRequest::key(
                guard.key.clone(),
                read.header.revision + 1,
            ))
            .await;
        let Ok(mut stream) = watch else { continue };
        failures = 0;
        while let Ok(Some(msg)) = stream.next().await {
            if !msg.events.is_empty() {
                tracing::warn!("the leader key changed hands; stepping down");
                let _ = deposed.send(true);
                return;
            }
        }
    }
}
