//! Durations written with a unit (`"500ms"`, `"30s"`, `"5m"`, `"1h"`), as config and the API
//! show them.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A length of time written as a number with a unit: `"500ms"`, `"30s"`, `"5m"`, `"1h"`, or
/// a combination such as `"1h 30m"`. A bare number is rejected (except `"0"`), so `"30"` can
/// never silently mean seconds in one place and milliseconds in another.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DurationSpec(Duration);

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{text:?} is not a duration ({reason}): write a number with a unit, like \"500ms\", \"30s\", \"5m\" or \"1h\""
)]
pub struct DurationError {
    text: String,
    reason: String,
}

impl DurationSpec {
    /// No time at all.
    pub const ZERO: DurationSpec = DurationSpec(Duration::ZERO);

    /// Wraps a [`Duration`].
    pub const fn new(d: Duration) -> DurationSpec {
        DurationSpec(d)
    }

    /// Whole seconds.
    pub const fn from_secs(secs: u64) -> DurationSpec {
        DurationSpec(Duration::from_secs(secs))
    }

    /// Whole milliseconds.
    pub const fn from_millis(millis: u64) -> DurationSpec {
        DurationSpec(Duration::from_millis(millis))
    }

    /// The length of time.
    pub const fn get(self) -> Duration {
        self.0
    }

    /// Whole milliseconds, saturating at `u64::MAX`.
    pub fn as_millis(self) -> u64 {
        u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX)
    }

    /// True for a zero duration.
    pub const fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

impl From<Duration> for DurationSpec {
    fn from(d: Duration) -> DurationSpec {
        DurationSpec(d)
    }
}

impl From<DurationSpec> for Duration {
    fn from(d: DurationSpec) -> Duration {
        d.0
    }
}

impl FromStr for DurationSpec {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<DurationSpec, DurationError> {
        humantime::parse_duration(s.trim())
            .map(DurationSpec)
            .map_err(|e| DurationError {
                text: s.to_string(),
                reason: e.to_string(),
            })
    }
}

impl fmt::Display for DurationSpec {
    /// Shows the duration the way it parses back: `500ms`, `30s`, `1h 30m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_zero() {
            f.write_str("0s")
        } else {
            write!(f, "{}", humantime::format_duration(self.0))
        }
    }
}

impl Serialize for DurationSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DurationSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DurationSpec, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!("500ms".parse(), Ok(DurationSpec::from_millis(500)));
        assert_eq!("30s".parse(), Ok(DurationSpec::from_secs(30)));
        assert_eq!("5m".parse(), Ok(DurationSpec::from_secs(300)));
        assert_eq!("1h".parse(), Ok(DurationSpec::from_secs(3600)));
        assert_eq!(" 1h 30m ".parse(), Ok(DurationSpec::from_secs(5400)));
        assert_eq!("0".parse(), Ok(DurationSpec::ZERO));
    }

    #[test]
    fn rejects_bare_numbers_and_garbage() {
        let err = "30".parse::<DurationSpec>().unwrap_err();
        assert!(
            err.to_string().contains("\"30\" is not a duration"),
            "{err}"
        );
        assert!("".parse::<DurationSpec>().is_err());
        assert!("fast".parse::<DurationSpec>().is_err());
        assert!("-1s".parse::<DurationSpec>().is_err());
    }

    #[test]
    fn display_round_trips() {
        for d in [
            DurationSpec::ZERO,
            DurationSpec::from_millis(1500),
            DurationSpec::from_secs(5400),
        ] {
            assert_eq!(d.to_string().parse(), Ok(d), "{d}");
        }
        assert_eq!(DurationSpec::from_millis(500).to_string(), "500ms");
    }

    #[test]
    fn serde_uses_strings() {
        let d: DurationSpec = serde_json::from_str("\"2s\"").unwrap();
        assert_eq!(d.as_millis(), 2000);
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2s\"");
        assert!(serde_json::from_str::<DurationSpec>("2").is_err());
    }
}
