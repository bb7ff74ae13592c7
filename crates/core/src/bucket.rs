//! Bucketing: a unit id and a salt hash to one of a million buckets, the same way forever.

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

/// Number of buckets: one per part per million of traffic.
pub const BUCKETS: u32 = 1_000_000;

/// The byte placed between the salt and the unit id, so `("ab", "c")` and `("a", "bc")` never
/// share a hash input.
pub const SEPARATOR: u8 = 0x00;

/// Inputs up to this many bytes are hashed from a stack buffer; longer ones are streamed.
const STACK_INPUT: usize = 256;

/// Which bucketing algorithm assigns units. A version never changes once released: a user
/// lands in the same bucket after every upgrade. A new algorithm gets a new variant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BucketingVersion {
    /// xxh3-64 (seed 0) over `salt ‖ 0x00 ‖ unit`, scaled to `[0, 1_000_000)` by a
    /// multiply-shift. Specified exactly in `docs/bucketing.md`.
    #[default]
    V1,
}

impl BucketingVersion {
    /// The name used in config and the API (`v1`).
    pub fn as_str(self) -> &'static str {
        match self {
            BucketingVersion::V1 => "v1",
        }
    }
}

/// The bucket in `[0, 1_000_000)` of `unit` under `salt`.
///
/// The same `(version, salt, unit)` always gives the same bucket, on every machine and in every
/// release. Different salts give independent buckets.
pub fn bucket(version: BucketingVersion, salt: &str, unit: &str) -> u32 {
    match version {
        BucketingVersion::V1 => scale(hash_v1(salt.as_bytes(), unit.as_bytes())),
    }
}

/// xxh3-64 with seed 0 over `salt ‖ 0x00 ‖ unit`, without allocating.
fn hash_v1(salt: &[u8], unit: &[u8]) -> u64 {
    let len = salt.len() + 1 + unit.len();
    if len <= STACK_INPUT {
        let mut buf = [0u8; STACK_INPUT];
        buf[..salt.len()].copy_from_slice(salt);
        buf[salt.len()] = SEPARATOR;
        buf[salt.len() + 1..len].copy_from_slice(unit);
        xxh3_64(&buf[..len])
    } else {
        let mut h = Xxh3::new();
        h.update(salt);
        h.update(&[SEPARATOR]);
        h.update(unit);
        h.digest()
    }
}

/// Maps a 64-bit hash onto `[0, 1_000_000)`: `(h × 1_000_000) >> 64`, in integers.
fn scale(h: u64) -> u32 {
    // The product is below 2^64 × 10^6, so the shifted value is below 10^6 and fits a u32.
    ((u128::from(h) * u128::from(BUCKETS)) >> 64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_covers_the_range_exactly() {
        assert_eq!(scale(0), 0);
        assert_eq!(scale(u64::MAX), BUCKETS - 1);
        assert_eq!(scale(1 << 63), BUCKETS / 2);
    }

    #[test]
    fn separator_keeps_salt_and_unit_apart() {
        let a = hash_v1(b"ab", b"c");
        let b = hash_v1(b"a", b"bc");
        assert_ne!(a, b);
        assert_eq!(a, xxh3_64(b"ab\0c"));
    }

    #[test]
    fn streamed_and_stack_hashes_agree() {
        let salt = "s".repeat(100);
        for unit_len in [0, 100, 154, 155, 156, 300, 5000] {
            let unit = "u".repeat(unit_len);
            let whole = format!("{salt}\0{unit}");
            assert_eq!(
                hash_v1(salt.as_bytes(), unit.as_bytes()),
                xxh3_64(whole.as_bytes()),
                "{unit_len}"
            );
        }
    }

    #[test]
    fn version_names() {
        assert_eq!(BucketingVersion::V1.as_str(), "v1");
        assert_eq!(
            serde_json::to_string(&BucketingVersion::V1).unwrap(),
            "\"v1\""
        );
    }
}
