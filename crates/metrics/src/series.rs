//! Series keys and the registry that interns them (and event names) into small ids, so the
//! recording hot path never hashes a string, with caps that keep memory and label sets bounded.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use rollgate_core::Cohort;
use serde::{Deserialize, Serialize};

/// What a window's numbers are about: one version of a service, in one cohort of one rollout.
/// Every part is bounded (never a unit id), so each is safe as a Prometheus label.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesKey {
    /// The service name.
    pub service: Arc<str>,
    /// The rollout name; empty when the service has no rollout.
    pub rollout: Arc<str>,
    /// The version name.
    pub version: Arc<str>,
    /// The cohort the units were in.
    pub cohort: Cohort,
}

/// A series interned by a [`Registry`]. Only meaningful with the registry that issued it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesId(pub(crate) u32);

/// An event name interned by a [`Registry`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(pub(crate) u32);

/// Limits of a [`Registry`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistryLimits {
    /// Most series tracked at once.
    pub max_series: usize,
    /// Most distinct event names, not counting the names metric definitions use (those are
    /// always accepted).
    pub max_event_names: usize,
}

/// Why a series or an event name was not accepted. The caller logs it (rate-limited by
/// `rejections`, which counts every refusal so far: log when it is a power of two) and counts
/// the record as dropped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The series cap is reached.
    #[error(
        "series cap of {cap} reached: not recording series {key} (refusal #{rejections}); raise the cap or retire unused series"
    )]
    SeriesCap {
        /// The cap.
        cap: usize,
        /// The refused series.
        key: SeriesKey,
        /// Refusals so far, this one included.
        rejections: u64,
    },
    /// The event-name cap is reached.
    #[error(
        "event-name cap of {cap} reached: not recording event {name:?} (refusal #{rejections}); declare it in [[metrics]] or raise the cap"
    )]
    EventCap {
        /// The cap.
        cap: usize,
        /// The refused name.
        name: String,
        /// Refusals so far, this one included.
        rejections: u64,
    },
    /// The event name is not a lowercase identifier.
    #[error(
        "event name {0:?} is not valid: use 1 to {MAX_EVENT_NAME_LEN} characters a-z, 0-9 and '_', starting with a letter"
    )]
    InvalidEventName(String),
}

/// The longest accepted event name.
pub const MAX_EVENT_NAME_LEN: usize = 64;

/// Interns series keys and event names into ids, with caps. Shared by every recording thread;
/// lookups take a read lock, and only a new key or name takes the write lock.
#[derive(Debug)]
pub struct Registry {
    limits: RegistryLimits,
    inner: RwLock<Inner>,
    rejections: AtomicU64,
}

#[derive(Debug, Default)]
struct Inner {
    series: HashMap<SeriesKey, SeriesId>,
    /// Every key ever issued, by id; retired keys stay so late records still resolve.
    keys: Vec<SeriesKey>,
    events: HashMap<Arc<str>, EventId>,
    names: Vec<Arc<str>>,
    declared: usize,
}

impl SeriesKey {
    /// A key from its parts.
    pub fn new(service: &str, rollout: &str, version: &str, cohort: Cohort) -> SeriesKey {
        SeriesKey {
            service: service.into(),
            rollout: rollout.into(),
            version: version.into(),
            cohort,
        }
    }
}

impl fmt::Display for SeriesKey {
    /// `service/rollout/version/cohort`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.service, self.rollout, self.version, self.cohort
        )
    }
}

impl fmt::Debug for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SeriesKey({self})")
    }
}

impl Default for RegistryLimits {
    fn default() -> RegistryLimits {
        RegistryLimits {
            max_series: 10_000,
            max_event_names: 200,
        }
    }
}

impl Registry {
    /// A registry with `limits`; `declared_events` (the events metric definitions use) are
    /// always accepted and do not count against the event-name cap.
    pub fn new<'a>(
        limits: RegistryLimits,
        declared_events: impl IntoIterator<Item = &'a str>,
    ) -> Registry {
        let mut inner = Inner::default();
        for name in declared_events {
            if is_event_name(name) && !inner.events.contains_key(name) {
                inner.intern_event(name);
            }
        }
        inner.declared = inner.names.len();
        Registry {
            limits,
            inner: RwLock::new(inner),
            rejections: AtomicU64::new(0),
        }
    }

    /// The limits this registry enforces.
    pub fn limits(&self) -> RegistryLimits {
        self.limits
    }

    /// The id of `key`, interning it when it is new and the series cap allows.
    pub fn series(&self, key: &SeriesKey) -> Result<SeriesId, RegistryError> {
        if let Some(&id) = self.read().series.get(key) {
            return Ok(id);
        }
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(&id) = inner.series.get(key) {
            return Ok(id);
        }
        if inner.series.len() >= self.limits.max_series {
            let rejections = self.rejections.fetch_add(1, Ordering::Relaxed) + 1;
            return Err(RegistryError::SeriesCap {
                cap: self.limits.max_series,
                key: key.clone(),
                rejections,
            });
        }
        let id = SeriesId(u32::try_from(inner.keys.len()).unwrap_or(u32::MAX));
        inner.keys.push(key.clone());
        inner.series.insert(key.clone(), id);
        Ok(id)
    }

    /// The id of event `name`, interning it when it is new and the event-name cap allows.
    pub fn event(&self, name: &str) -> Result<EventId, RegistryError> {
        if let Some(&id) = self.read().events.get(name) {
            return Ok(id);
        }
        if !is_event_name(name) {
            return Err(RegistryError::InvalidEventName(name.to_string()));
        }
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(&id) = inner.events.get(name) {
            return Ok(id);
        }
        if inner.names.len() - inner.declared >= self.limits.max_event_names {
            let rejections = self.rejections.fetch_add(1, Ordering::Relaxed) + 1;
            let cap = self.limits.max_event_names;
            return Err(RegistryError::EventCap {
                cap,
                name: name.to_string(),
                rejections,
            });
        }
        Ok(inner.intern_event(name))
    }

    /// The key of a series id.
    pub fn key(&self, id: SeriesId) -> Option<SeriesKey> {
        self.read().keys.get(id.0 as usize).cloned()
    }

    /// The name of an event id.
    pub fn event_name(&self, id: EventId) -> Option<Arc<str>> {
        self.read().names.get(id.0 as usize).cloned()
    }

    /// How many series are tracked (and count against the cap).
    pub fn series_count(&self) -> usize {
        self.read().series.len()
    }

    /// Stops tracking the series `keep` returns false for, freeing room under the cap (for
    /// versions and rollouts that are gone). Ids are never reused: records still arriving with
    /// a retired id are counted under their old key.
    pub fn retain_series(&self, mut keep: impl FnMut(&SeriesKey) -> bool) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        inner.series.retain(|key, _| keep(key));
    }

    /// Resolves ids to keys and names with one lock: used when closing windows.
    pub(crate) fn resolver(&self) -> Resolver<'_> {
        Resolver(self.read())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A read view of a registry.
pub(crate) struct Resolver<'a>(std::sync::RwLockReadGuard<'a, Inner>);

impl Resolver<'_> {
    pub(crate) fn key(&self, id: SeriesId) -> Option<&SeriesKey> {
        self.0.keys.get(id.0 as usize)
    }

    pub(crate) fn event(&self, id: EventId) -> Option<&Arc<str>> {
        self.0.names.get(id.0 as usize)
    }
}

impl Inner {
    fn intern_event(&mut self, name: &str) -> EventId {
        let id = EventId(u32::try_from(self.names.len()).unwrap_or(u32::MAX));
        let name: Arc<str> = name.into();
        self.names.push(name.clone());
        self.events.insert(name, id);
        id
    }
}

/// True for a valid event name: 1 to 64 characters `a-z`, `0-9`, `_`, starting with a letter.
pub fn is_event_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= MAX_EVENT_NAME_LEN
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(version: &str) -> SeriesKey {
        SeriesKey::new("shop", "shop-v1.2", version, Cohort::Canary)
    }

    #[test]
    fn interns_series_once_and_enforces_the_cap() {
        let registry = Registry::new(
            RegistryLimits {
                max_series: 2,
                max_event_names: 1,
            },
            [],
        );
        let a = registry.series(&key("v1")).unwrap();
        assert_eq!(registry.series(&key("v1")).unwrap(), a);
        let b = registry.series(&key("v2")).unwrap();
        assert_ne!(a, b);
        let err = registry.series(&key("v3")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "series cap of 2 reached: not recording series shop/shop-v1.2/v3/canary (refusal #1); raise the cap or retire unused series"
        );
        assert_eq!(registry.key(b), Some(key("v2")));
        registry.retain_series(|k| k.version.as_ref() != "v1");
        assert_eq!(registry.series_count(), 1);
        let c = registry.series(&key("v3")).unwrap();
        assert_ne!(c, a, "ids are never reused");
        assert_eq!(
            registry.key(a),
            Some(key("v1")),
            "retired ids still resolve"
        );
    }

    #[test]
    fn declared_events_are_always_accepted() {
        let registry = Registry::new(
            RegistryLimits {
                max_series: 1,
                max_event_names: 1,
            },
            ["conversion", "exposure"],
        );
        let conversion = registry.event("conversion").unwrap();
        assert_eq!(
            registry.event_name(conversion).as_deref(),
            Some("conversion")
        );
        registry.event("click").unwrap();
        assert!(matches!(
            registry.event("scroll"),
            Err(RegistryError::EventCap { cap: 1, .. })
        ));
        registry.event("exposure").unwrap();
        assert!(matches!(
            registry.event("Bad-Name"),
            Err(RegistryError::InvalidEventName(_))
        ));
    }

    #[test]
    fn event_names_are_lowercase_identifiers() {
        assert!(is_event_name("page_load_ms"));
        assert!(is_event_name("a1"));
        assert!(!is_event_name(""));
        assert!(!is_event_name("1a"));
        assert!(!is_event_name("_a"));
        assert!(!is_event_name("Click"));
        assert!(!is_event_name("a-b"));
        assert!(!is_event_name(&"a".repeat(65)));
    }

    #[test]
    fn keys_serialize_by_name() {
        let json = serde_json::to_string(&key("v1.2")).unwrap();
        assert_eq!(
            json,
            r#"{"service":"shop","rollout":"shop-v1.2","version":"v1.2","cohort":"canary"}"#
        );
        assert_eq!(
            serde_json::from_str::<SeriesKey>(&json).unwrap(),
            key("v1.2")
        );
    }
}
