//! A lease kept alive in the background: what edges register on and what the leader holds.
//! Renewed every third of its time to live; known lost when etcd says so, or when no renewal
//! was confirmed for a whole time to live (etcd has then expired it, or will any moment).

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::{Etcd, EtcdError};

/// A lease and the task renewing it. Dropping it stops the renewals (etcd then expires the
/// lease after its time to live); [`KeptLease::revoke`] ends it at once.
#[derive(Debug)]
pub struct KeptLease {
    etcd: Etcd,
    id: i64,
    ttl: Duration,
    state: watch::Receiver<LeaseState>,
    task: JoinHandle<()>,
}

/// Whether the lease is still ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseState {
    /// Renewed; etcd keeps it at least until this instant.
    Alive {
        /// When it expires unless renewed again.
        until: Instant,
    },
    /// Expired or revoked: keys attached to it are gone.
    Lost,
}

impl KeptLease {
    /// Grants a lease of `ttl` and starts renewing it.
    pub async fn grant(etcd: &Etcd, ttl: Duration) -> Result<KeptLease, EtcdError> {
        let sent = Instant::now();
        let granted = etcd.lease_grant(ttl).await?;
        let ttl = Duration::from_secs(u64::try_from(granted.ttl.max(1)).unwrap_or(1));
        let (tx, state) = watch::channel(LeaseState::Alive { until: sent + ttl });
        let task = tokio::spawn(renew(etcd.clone(), granted.id, ttl, tx));
        Ok(KeptLease {
            etcd: etcd.clone(),
            id: granted.id,
            ttl,
            state,
            task,
        })
    }

    /// The lease id (to attach keys to).
    pub fn id(&self) -> i64 {
        self.id
    }

    /// Its time to live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// True while the lease is known to be alive.
    pub fn is_alive(&self) -> bool {
        match *self.state.borrow() {
            LeaseState::Alive { until } => Instant::now() < until,
            LeaseState::Lost => false,
        }
    }

    /// Resolves when the lease is lost (etcd said so, or no renewal was confirmed in time).
    pub async fn lost(&self) {
        let mut rx = self.state.clone();
        loop {
            let seen = *rx.borrow_and_update();
            let LeaseState::Alive { until } = seen else {
                return;
            };
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { return },
                () = tokio::time::sleep_until(until) => {
                    if *rx.borrow() == seen {
                        return;
                    }
                }
            }
        }
    }

    /// Stops renewing and revokes the lease, deleting its keys now.
    pub async fn revoke(&self) -> Result<(), EtcdError> {
        self.task.abort();
        self.etcd.lease_revoke(self.id).await
    }
}

impl Drop for KeptLease {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn renew(etcd: Etcd, id: i64, ttl: Duration, tx: watch::Sender<LeaseState>) {
    let every = (ttl / 3).max(Duration::from_millis(300));
    loop {
        tokio::time::sleep(every).await;
        let sent = Instant::now();
        match etcd.lease_keep_alive(id).await {
            Ok(secs) if secs > 0 => {
                let until = sent + Duration::from_secs(u64::try_from(secs).unwrap_or(1));
                let _ = tx.send(LeaseState::Alive { until });
            }
            Ok(_) => return lose(&tx, id, "etcd says it expired"),
            Err(e) if e.is_lease_not_found() => return lose(&tx, id, "etcd no longer knows it"),
            Err(e) => {
                let expired =
                    matches!(*tx.borrow(), LeaseState::Alive { until } if Instant::now() >= until);
                if expired {
                    return lose(&tx, id, &format!("no renewal confirmed in time: {e}"));
                }
                tracing::debug!(lease = id, error = %e, "lease renewal failed; retrying");
            }
        }
    }
}

fn lose(tx: &watch::Sender<LeaseState>, id: i64, why: &str) {
    tracing::warn!(lease = id, "lease lost: {why}");
    let _ = tx.send(LeaseState::Lost);
}
