//! Server-side sessions. Signing in with an API token creates a session: a random id (256
//! bits from the OS) sent to the browser in an `HttpOnly; SameSite=Strict` cookie, mapped here
//! to the token's id, name, role and hash, a per-session CSRF token and an expiry. The API
//! token itself is never stored in the cookie nor kept here (only its SHA-256, to check at
//! every request that it was not revoked).
//!
//! Sessions live in memory: a restart of the control plane signs everybody out. Ids are kept
//! only as their SHA-256, so a memory dump does not hand out usable cookies.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rollgate_server::Caller;
use sha2::{Digest, Sha256};

/// The cookie that carries the session id.
pub const SESSION_COOKIE: &str = "rg_session";

/// A signed-in browser.
#[derive(Clone, Debug)]
pub struct Session {
    /// Who signed in: the token's id, name and role.
    pub caller: Caller,
    /// Hex SHA-256 of the token's secret, to look the token up again at every request.
    pub token_hash: String,
    /// The token every form of this session carries back (hidden field `csrf`).
    pub csrf: String,
    /// A message to show once on the next page (the outcome of an action).
    pub notice: Option<Notice>,
    created: Instant,
    last_used: Instant,
}

/// A one-time message for the next page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// Whether it reports success or a refusal.
    pub ok: bool,
    /// What to say.
    pub text: String,
}

/// Why a session could not be created.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The operating system's random number generator failed.
    #[error("cannot draw a random session id: {0}")]
    Entropy(String),
}

/// Every open session. Cheap to share behind an `Arc`; the lock is held only for map updates.
#[derive(Debug)]
pub struct Sessions {
    map: Mutex<HashMap<[u8; 32], Session>>,
    ttl: Duration,
    idle: Duration,
    max: usize,
}

impl Sessions {
    /// Sessions that last `ttl` at most, end after `idle` without use, at most `max` at once.
    pub fn new(ttl: Duration, idle: Duration, max: usize) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            ttl,
            idle,
            max: max.max(1),
        }
    }

    /// Opens a session for `caller` and returns its id (the cookie value) with the session.
    pub fn create(
        &self,
        caller: Caller,
        token_hash: String,
    ) -> Result<(String, Session), SessionError> {
        let id = random_hex()?;
        let now = Instant::now();
        let session = Session {
            caller,
            token_hash,
            csrf: random_hex()?,
            notice: None,
            created: now,
            last_used: now,
        };
        let mut map = self.lock();
        self.evict(&mut map, now);
        map.insert(key(&id), session.clone());
        Ok((id, session))
    }

    /// The live session with this id (and marks it used), or `None` when there is none or it
    /// expired.
    pub fn get(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut map = self.lock();
        let k = key(id);
        let alive = map.get(&k).map(|s| self.alive(s, now))?;
        if !alive {
            map.remove(&k);
            return None;
        }
        let session = map.get_mut(&k)?;
        session.last_used = now;
        Some(session.clone())
    }

    /// Ends the session with this id.
    pub fn remove(&self, id: &str) {
        self.lock().remove(&key(id));
    }

    /// Ends every session of the token `token_id` (it was revoked).
    pub fn remove_token(&self, token_id: &str) -> usize {
        let mut map = self.lock();
        let before = map.len();
        map.retain(|_, s| s.caller.token_id != token_id);
        before - map.len()
    }

    /// Leaves `notice` for the next page of the session.
    pub fn set_notice(&self, id: &str, notice: Notice) {
        if let Some(s) = self.lock().get_mut(&key(id)) {
            s.notice = Some(notice);
        }
    }

    /// Takes the session's notice, if any (shown once).
    pub fn take_notice(&self, id: &str) -> Option<Notice> {
        self.lock().get_mut(&key(id)).and_then(|s| s.notice.take())
    }

    /// Sessions open now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when nobody is signed in.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn alive(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.created) < self.ttl && now.duration_since(s.last_used) < self.idle
    }

    /// Drops expired sessions, then the least recently used ones while the map is full.
    fn evict(&self, map: &mut HashMap<[u8; 32], Session>, now: Instant) {
        map.retain(|_, s| self.alive(s, now));
        while map.len() >= self.max {
            let oldest = map.iter().min_by_key(|(_, s)| s.last_used).map(|(k, _)| *k);
            match oldest {
                Some(k) => map.remove(&k),
                None => break,
            };
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<[u8; 32], Session>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// 32 random bytes from the operating system, as 64 hex digits.
pub(crate) fn random_hex() -> Result<String, SessionError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| SessionError::Entropy(e.to_string()))?;
    Ok(hex::encode(bytes))
}

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rollgate_store::Role;

    use super::*;

    fn caller(id: &str) -> Caller {
        Caller {
            token_id: id.into(),
            name: format!("name-{id}"),
            role: Role::Operator,
        }
    }

    #[test]
    fn ids_are_random_and_sessions_found_by_id() {
        let s = Sessions::new(Duration::from_secs(60), Duration::from_secs(60), 10);
        let (a, sa) = s.create(caller("t1"), "h1".into()).unwrap();
        let (b, _) = s.create(caller("t1"), "h1".into()).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(sa.csrf, a, "the CSRF token is not the session id");
        assert_eq!(s.get(&a).unwrap().caller.token_id, "t1");
        assert!(s.get("not-a-session").is_none());
        s.remove(&a);
        assert!(s.get(&a).is_none());
        assert!(s.get(&b).is_some());
    }

    #[test]
    fn expired_sessions_end() {
        let s = Sessions::new(Duration::from_millis(30), Duration::from_secs(60), 10);
        let (a, _) = s.create(caller("t1"), "h".into()).unwrap();
        assert!(s.get(&a).is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert!(s.get(&a).is_none());
        let idle = Sessions::new(Duration::from_secs(60), Duration::from_millis(30), 10);
        let (b, _) = idle.create(caller("t1"), "h".into()).unwrap();
        std::thread::sleep(Duration::from_millis(40));
        assert!(idle.get(&b).is_none());
    }

    #[test]
    fn full_map_drops_the_least_recently_used() {
        let s = Sessions::new(Duration::from_secs(60), Duration::from_secs(60), 2);
        let (a, _) = s.create(caller("a"), "h".into()).unwrap();
        std::thread::sleep(Duration::from_millis(2));
        let (b, _) = s.create(caller("b"), "h".into()).unwrap();
        std::thread::sleep(Duration::from_millis(2));
        assert!(s.get(&a).is_some()); // a is now the most recently used
        let (c, _) = s.create(caller("c"), "h".into()).unwrap();
        assert_eq!(s.len(), 2);
        assert!(s.get(&b).is_none());
        assert!(s.get(&a).is_some() && s.get(&c).is_some());
    }

    #[test]
    fn revoking_a_token_ends_all_its_sessions_and_notices_show_once() {
        let s = Sessions::new(Duration::from_secs(60), Duration::from_secs(60), 10);
        let (a, _) = s.create(caller("t1"), "h".into()).unwrap();
        let (b, _) = s.create(caller("t1"), "h".into()).unwrap();
        let (c, _) = s.create(caller("t2"), "h".into()).unwrap();
        s.set_notice(
            &c,
            Notice {
                ok: true,
                text: "done".into(),
            },
        );
        assert_eq!(s.take_notice(&c).unwrap().text, "done");
        assert!(s.take_notice(&c).is_none());
        assert_eq!(s.remove_token("t1"), 2);
        assert!(s.get(&a).is_none() && s.get(&b).is_none() && s.get(&c).is_some());
    }
}
