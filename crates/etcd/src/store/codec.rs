//! Values as stored: JSON documents, a rollout together with the decision seqs it has
//! recorded, and the mapping of etcd failures onto [`StoreError`].

use rollgate_store::{RolloutRecord, StoreError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::EtcdError;
use crate::wire::KeyValue;

/// A rollout's key: its record and the seqs of every decision recorded for it, so a commit
/// can refuse a repeated `(rollout, seq)` by reading one key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredRollout {
    pub record: RolloutRecord,
    pub seqs: SeqSet,
}

/// A set of `u64`s as sorted, disjoint, non-adjacent half-open ranges. The controller numbers
/// decisions `0, 1, 2…`, so a rollout's set is normally one range.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct SeqSet(Vec<[u64; 2]>);

impl SeqSet {
    /// True when `seq` is in the set.
    pub fn contains(&self, seq: u64) -> bool {
        let i = self.0.partition_point(|r| r[1] <= seq);
        self.0.get(i).is_some_and(|r| r[0] <= seq)
    }

    /// Adds `seq`, merging neighbouring ranges.
    pub fn insert(&mut self, seq: u64) {
        if self.contains(seq) {
            return;
        }
        let i = self.0.partition_point(|r| r[1] < seq);
        let end = seq.saturating_add(1);
        let joins_left = self.0.get(i).is_some_and(|r| r[1] == seq);
        let joins_right_at = if joins_left { i + 1 } else { i };
        let joins_right = self.0.get(joins_right_at).is_some_and(|r| r[0] == end);
        match (joins_left, joins_right) {
            (true, true) => {
                self.0[i][1] = self.0[i + 1][1];
                self.0.remove(i + 1);
            }
            (true, false) => self.0[i][1] = end,
            (false, true) => self.0[i][0] = seq,
            (false, false) => self.0.insert(i, [seq, end]),
        }
    }
}

/// A backend failure from etcd.
pub(crate) fn backend(e: EtcdError) -> StoreError {
    StoreError::backend(e)
}

/// The JSON of a record.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value)
        .map_err(|e| StoreError::Invalid(format!("cannot encode a record: {e}")))
}

/// A record from its key, or `Corrupt` naming the key.
pub(crate) fn decode<T: DeserializeOwned>(kv: &KeyValue) -> Result<T, StoreError> {
    serde_json::from_slice(&kv.value)
        .map_err(|e| StoreError::Corrupt(format!("etcd key {}: {e}", kv.key_lossy())))
}

/// Every record of a prefix read.
pub(crate) fn decode_all<T: DeserializeOwned>(kvs: &[KeyValue]) -> Result<Vec<T>, StoreError> {
    kvs.iter().map(decode).collect()
}

/// A text value.
pub(crate) fn text(kv: &KeyValue) -> Result<String, StoreError> {
    kv.value_str()
        .map(str::to_owned)
        .ok_or_else(|| StoreError::Corrupt(format!("etcd key {} is not UTF-8", kv.key_lossy())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(s: &SeqSet) -> Vec<[u64; 2]> {
        s.0.clone()
    }

    #[test]
    fn seq_sets_merge_and_answer() {
        let mut s = SeqSet::default();
        for seq in [0, 1, 2, 5, 7, 6, 3] {
            s.insert(seq);
        }
        assert_eq!(ranges(&s), [[0, 4], [5, 8]]);
        s.insert(4);
        assert_eq!(ranges(&s), [[0, 8]]);
        s.insert(2);
        assert_eq!(ranges(&s), [[0, 8]]);
        s.insert(20);
        s.insert(10);
        assert_eq!(ranges(&s), [[0, 8], [10, 11], [20, 21]]);
        for (seq, inside) in [
            (0, true),
            (7, true),
            (8, false),
            (9, false),
            (10, true),
            (11, false),
            (20, true),
        ] {
            assert_eq!(s.contains(seq), inside, "{seq}");
        }
    }

    #[test]
    fn seq_sets_agree_with_a_plain_set() {
        // Deterministic pseudo-random inserts, checked against BTreeSet.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut s = SeqSet::default();
        let mut plain = std::collections::BTreeSet::new();
        for _ in 0..2_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let seq = x % 300;
            s.insert(seq);
            plain.insert(seq);
        }
        for seq in 0..310 {
            assert_eq!(s.contains(seq), plain.contains(&seq), "{seq}");
        }
        let r = ranges(&s);
        assert!(
            r.windows(2).all(|w| w[0][1] < w[1][0]),
            "disjoint, non-adjacent: {r:?}"
        );
    }

    #[test]
    fn seq_sets_are_compact_json() {
        let mut s = SeqSet::default();
        (0..100).for_each(|i| s.insert(i));
        assert_eq!(serde_json::to_string(&s).ok().as_deref(), Some("[[0,100]]"));
    }
}
