//! Sets of sequence numbers, kept as ranges: the decision seqs a rollout has recorded, and the
//! telemetry batches an edge has delivered. Senders number from 0 without gaps, so a set is
//! normally one range however long it grows.

use serde::{Deserialize, Serialize};

/// A set of `u64`s as sorted, disjoint, non-adjacent half-open ranges.
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
