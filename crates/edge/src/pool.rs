//! Idle keep-alive connections to one endpoint. The pool is split into shards, one per worker
//! thread (by a thread-local index), so a worker checks connections out of and back into its
//! own, uncontended shard; a connection handed back on another thread simply joins that
//! thread's shard.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::clock::Millis;
use crate::conn::UpstreamConn;

/// A keep-alive connection to an upstream, boxed: it moves between the pool, the request
/// and its response body.
pub(crate) type Conn = Box<UpstreamConn>;

/// Idle connections to one endpoint.
#[derive(Debug)]
pub(crate) struct IdlePool {
    shards: Box<[Mutex<Vec<Idle>>]>,
    max_idle_per_shard: usize,
    idle_timeout_ms: Millis,
}

#[derive(Debug)]
struct Idle {
    conn: Conn,
    since: Millis,
}

/// Shards per pool: more than the worker threads of any machine this runs on keeps the
/// per-thread shards apart (a connection then never leaves the thread, and the runtime, that
/// opened it); beyond that, threads share shards (still correct, a little slower).
const SHARDS: usize = 64;

static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SHARD: Cell<usize> = Cell::new(NEXT_THREAD.fetch_add(1, Ordering::Relaxed) % SHARDS);
}

impl IdlePool {
    /// An empty pool keeping at most `max_idle_per_shard` connections per thread, each for at
    /// most `idle_timeout_ms`.
    pub(crate) fn new(max_idle_per_shard: usize, idle_timeout_ms: Millis) -> IdlePool {
        IdlePool {
            shards: (0..SHARDS).map(|_| Mutex::new(Vec::new())).collect(),
            max_idle_per_shard,
            idle_timeout_ms,
        }
    }

    /// The most recently used open connection of this thread's shard at `now`, if any.
    /// Connections that closed or idled too long are dropped on the way.
    pub(crate) fn checkout(&self, now: Millis) -> Option<Conn> {
        let mut shard = self.local();
        while let Some(idle) = shard.pop() {
            if idle.conn.is_open() && now.saturating_sub(idle.since) < self.idle_timeout_ms {
                return Some(idle.conn);
            }
        }
        None
    }

    /// Hands back, at `now`, a connection whose last exchange finished cleanly.
    pub(crate) fn checkin(&self, conn: Conn, now: Millis) {
        if !conn.is_open() {
            return;
        }
        let mut shard = self.local();
        // Idle connections are polled by nobody: drop the expired ones at the bottom of the
        // stack here, so sockets the upstream closed do not linger until the next quiet spell.
        let expired = shard
            .iter()
            .take_while(|i| now.saturating_sub(i.since) >= self.idle_timeout_ms)
            .count();
        shard.drain(..expired);
        if shard.len() >= self.max_idle_per_shard {
            // Full: drop the oldest, which is the most likely to be closed by the upstream.
            shard.remove(0);
        }
        shard.push(Idle { conn, since: now });
    }

    /// Idle connections across all shards.
    #[cfg(test)]
    pub(crate) fn idle(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    fn local(&self) -> MutexGuard<'_, Vec<Idle>> {
        lock(&self.shards[SHARD.with(Cell::get)])
    }
}

/// Locks a shard, carrying on after a panic elsewhere: a list of idle connections cannot be
/// left half-updated.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TCP server that accepts connections and keeps them open until dropped.
    async fn server() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                held.push(s);
            }
        });
        (addr, task)
    }

    #[tokio::test]
    async fn connections_come_back_most_recent_first_and_closed_ones_are_dropped() {
        let (addr, task) = server().await;
        let pool = IdlePool::new(2, 60_000);
        assert!(pool.checkout(0).is_none());
        let limit = std::time::Duration::from_secs(1);
        for _ in 0..3 {
            let conn = Box::new(UpstreamConn::open(&addr.to_string(), limit).await.unwrap());
            pool.checkin(conn, 0);
        }
        assert_eq!(
            pool.idle(),
            2,
            "the oldest is dropped when the shard is full"
        );
        assert!(pool.checkout(1).is_some());
        assert_eq!(pool.idle(), 1);
        let mut last = pool.checkout(1).unwrap();
        assert!(last.ready().await);
        task.abort();
        // The server's sockets close with its task: driving the connection notices, and the
        // pool refuses it.
        for _ in 0..200 {
            if !last.ready().await {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(!last.is_open());
        pool.checkin(last, 2);
        assert_eq!(pool.idle(), 0);
    }

    #[tokio::test]
    async fn idle_connections_expire() {
        let (addr, task) = server().await;
        let pool = IdlePool::new(4, 1_000);
        let limit = std::time::Duration::from_secs(1);
        let conn = Box::new(UpstreamConn::open(&addr.to_string(), limit).await.unwrap());
        pool.checkin(conn, 5_000);
        let fresh = pool.checkout(5_999).expect("still fresh");
        pool.checkin(fresh, 6_000);
        assert!(pool.checkout(7_000).is_none(), "idle for the whole timeout");
        assert_eq!(pool.idle(), 0);
        // An expired connection at the bottom goes when another one comes back.
        let (a, b) = (
            Box::new(UpstreamConn::open(&addr.to_string(), limit).await.unwrap()),
            Box::new(UpstreamConn::open(&addr.to_string(), limit).await.unwrap()),
        );
        pool.checkin(a, 10_000);
        pool.checkin(b, 11_500);
        assert_eq!(pool.idle(), 1);
        task.abort();
    }
}
