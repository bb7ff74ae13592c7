//! Where each record lives in etcd. Every name is one escaped key segment
//! ([`crate::keys::segment`]), every number 20 zero-padded digits, so a prefix read returns
//! exactly one kind of record in a stable order.
//!
//! | record | key under `<prefix>/store` | value |
//! | --- | --- | --- |
//! | service | `services/<name>` | `ServiceRecord` |
//! | version | `versions/<service>/<name>` | `VersionSnapshot`, created once |
//! | stable change | `stable/<service>/<n>` | `StableChange`, `n` = 1, 2, 3… |
//! | rollout | `rollouts/<name>` | `RolloutRecord` + the set of decision seqs recorded |
//! | decisions of one commit | `log/<last id>` | the commit's `DecisionRecord`s (ids in a row) |
//! | the same, by rollout | `rollout-log/<rollout>/<last id>` | the same records |
//! | decision id counter | `counters/decision-id` | the last id handed out |
//! | experiment | `experiments/<name>` | `ExperimentRecord` |
//! | token | `tokens/<sha256 hex>` | `TokenRecord` |
//! | token id / active name | `token-ids/<id>`, `token-names/<name>` | the token's hash |
//! | named value | `meta/<key>` | the text |

use crate::keys::{padded, segment};

/// The store's keys under one prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    root: String,
}

impl Layout {
    /// The keys under `<prefix>/store/`.
    pub fn new(prefix: &str) -> Layout {
        Layout {
            root: format!("{}/store/", prefix.trim_end_matches('/')),
        }
    }

    fn key(&self, parts: &[&str]) -> Vec<u8> {
        let mut key = self.root.clone();
        key.push_str(&parts.join("/"));
        key.into_bytes()
    }

    pub fn service(&self, name: &str) -> Vec<u8> {
        self.key(&["services", &segment(name)])
    }

    pub fn services(&self) -> Vec<u8> {
        self.key(&["services", ""])
    }

    pub fn version(&self, service: &str, name: &str) -> Vec<u8> {
        self.key(&["versions", &segment(service), &segment(name)])
    }

    pub fn versions(&self, service: &str) -> Vec<u8> {
        self.key(&["versions", &segment(service), ""])
    }

    pub fn stable(&self, service: &str, n: u64) -> Vec<u8> {
        self.key(&["stable", &segment(service), &padded(n)])
    }

    pub fn stables(&self, service: &str) -> Vec<u8> {
        self.key(&["stable", &segment(service), ""])
    }

    pub fn rollout(&self, name: &str) -> Vec<u8> {
        self.key(&["rollouts", &segment(name)])
    }

    pub fn rollouts(&self) -> Vec<u8> {
        self.key(&["rollouts", ""])
    }

    /// The global decision log, or one rollout's copy of it.
    pub fn log(&self, rollout: Option<&str>) -> Vec<u8> {
        match rollout {
            None => self.key(&["log", ""]),
            Some(r) => self.key(&["rollout-log", &segment(r), ""]),
        }
    }

    /// The key of the commit batch ending at `last_id` in `log`.
    pub fn batch(log: &[u8], last_id: u64) -> Vec<u8> {
        let mut key = log.to_vec();
        key.extend_from_slice(padded(last_id).as_bytes());
        key
    }

    pub fn decision_counter(&self) -> Vec<u8> {
        self.key(&["counters", "decision-id"])
    }

    pub fn experiment(&self, name: &str) -> Vec<u8> {
        self.key(&["experiments", &segment(name)])
    }

    pub fn experiments(&self) -> Vec<u8> {
        self.key(&["experiments", ""])
    }

    pub fn token(&self, hash: &str) -> Vec<u8> {
        self.key(&["tokens", &segment(hash)])
    }

    pub fn tokens(&self) -> Vec<u8> {
        self.key(&["tokens", ""])
    }

    pub fn token_id(&self, id: &str) -> Vec<u8> {
        self.key(&["token-ids", &segment(id)])
    }

    pub fn token_name(&self, name: &str) -> Vec<u8> {
        self.key(&["token-names", &segment(name)])
    }

    pub fn meta(&self, key: &str) -> Vec<u8> {
        self.key(&["meta", &segment(key)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_segments_under_the_prefix() {
        let l = Layout::new("/rollgate/");
        assert_eq!(l.service("shop"), b"/rollgate/store/services/shop");
        assert_eq!(l.version("a/b", "v1"), b"/rollgate/store/versions/a%2Fb/v1");
        assert_eq!(
            Layout::batch(&l.log(Some("r")), 42),
            b"/rollgate/store/rollout-log/r/00000000000000000042"
        );
        // A rollout's log prefix never covers another rollout's.
        assert!(!l.log(Some("r/x")).starts_with(&l.log(Some("r"))));
        assert!(!l.log(Some("rx")).starts_with(&l.log(Some("r"))));
    }
}
