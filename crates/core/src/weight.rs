//! Shares of traffic in parts per million, so 0.01% and 0.0001% rollouts are exact.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A share of units in parts per million: `0` is nobody, `1_000_000` is everybody.
///
/// Written in config and the API as a percentage string (`"10%"`, `"0.01%"`), as parts per
/// million (`"2500ppm"`), or as a bare integer number of ppm in machine-written JSON.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ppm(u32);

/// Why a share could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PpmError {
    /// Not a number followed by `%` or `ppm`.
    #[error(
        "{0:?} is not a share: write a percentage like \"10%\" or \"0.5%\", or parts per million like \"2500ppm\""
    )]
    Syntax(String),
    /// More precise than one part per million.
    #[error("{0:?} is finer than one part per million (0.0001%)")]
    TooPrecise(String),
    /// Above 100%.
    #[error("{0:?} is more than 100%")]
    TooLarge(String),
}

impl Ppm {
    /// Nobody.
    pub const ZERO: Ppm = Ppm(0);
    /// Everybody: one million parts per million.
    pub const FULL: Ppm = Ppm(1_000_000);
    /// The number of buckets units are hashed into.
    pub const SCALE: u32 = 1_000_000;

    /// A share of `ppm` parts per million, or `None` above one million.
    pub const fn new(ppm: u32) -> Option<Ppm> {
        if ppm <= Self::SCALE {
            Some(Ppm(ppm))
        } else {
            None
        }
    }

    /// A share of `ppm` parts per million, clamped to `[0, 1_000_000]`.
    pub const fn saturating(ppm: u64) -> Ppm {
        if ppm > Self::SCALE as u64 {
            Ppm::FULL
        } else {
            Ppm(ppm as u32)
        }
    }

    /// A whole percentage (`Ppm::percent(10)` is 10%), clamped to 100%.
    pub const fn percent(p: u32) -> Ppm {
        Ppm::saturating(p as u64 * 10_000)
    }

    /// The share as a fraction in `[0, 1]`, rounded to the nearest ppm.
    pub fn from_fraction(f: f64) -> Ppm {
        if f.is_nan() || f <= 0.0 {
            Ppm::ZERO
        } else if f >= 1.0 {
            Ppm::FULL
        } else {
            Ppm((f * f64::from(Self::SCALE)).round() as u32)
        }
    }

    /// Parts per million.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The share as a fraction in `[0, 1]`.
    pub fn as_fraction(self) -> f64 {
        f64::from(self.0) / f64::from(Self::SCALE)
    }

    /// The share as a percentage in `[0, 100]`.
    pub fn as_percent(self) -> f64 {
        self.as_fraction() * 100.0
    }
}

impl FromStr for Ppm {
    type Err = PpmError;

    fn from_str(raw: &str) -> Result<Ppm, PpmError> {
        let s = raw.trim();
        if let Some(n) = s.strip_suffix("ppm") {
            let n: u64 = n.trim().parse().map_err(|_| PpmError::Syntax(raw.into()))?;
            return Ppm::new(u32::try_from(n).unwrap_or(u32::MAX))
                .ok_or(PpmError::TooLarge(raw.into()));
        }
        let Some(p) = s.strip_suffix('%') else {
            return Err(PpmError::Syntax(raw.into()));
        };
        let p = p.trim();
        // Exact decimal parsing: 1% = 10_000 ppm, so up to four fractional digits are exact.
        let (int, frac) = p.split_once('.').unwrap_or((p, ""));
        let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
        if !digits(int) || !(frac.is_empty() || digits(frac)) {
            return Err(PpmError::Syntax(raw.into()));
        }
        let frac_trimmed = frac.trim_end_matches('0');
        if frac_trimmed.len() > 4 {
            return Err(PpmError::TooPrecise(raw.into()));
        }
        let int: u64 = int.parse().map_err(|_| PpmError::TooLarge(raw.into()))?;
        let mut frac_ppm: u64 = 0;
        for (i, b) in frac_trimmed.bytes().enumerate() {
            frac_ppm += u64::from(b - b'0') * 10u64.pow(3 - i as u32);
        }
        let total = int
            .checked_mul(10_000)
            .and_then(|v| v.checked_add(frac_ppm))
            .ok_or(PpmError::TooLarge(raw.into()))?;
        if total > u64::from(Self::SCALE) {
            return Err(PpmError::TooLarge(raw.into()));
        }
        Ok(Ppm(total as u32))
    }
}

impl fmt::Display for Ppm {
    /// Shows the exact percentage with no trailing zeros: `10%`, `0.01%`, `12.5%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let int = self.0 / 10_000;
        let frac = self.0 % 10_000;
        if frac == 0 {
            write!(f, "{int}%")
        } else {
            let s = format!("{frac:04}");
            write!(f, "{int}.{}%", s.trim_end_matches('0'))
        }
    }
}

impl Serialize for Ppm {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ppm {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ppm, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Str(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(n) => u32::try_from(n).ok().and_then(Ppm::new).ok_or_else(|| {
                serde::de::Error::custom(format!("{n} ppm is more than 100% (1000000 ppm)"))
            }),
            Raw::Str(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_percentages_and_ppm_exactly() {
        assert_eq!("10%".parse::<Ppm>(), Ok(Ppm(100_000)));
        assert_eq!("0.01%".parse::<Ppm>(), Ok(Ppm(100)));
        assert_eq!("0.0001%".parse::<Ppm>(), Ok(Ppm(1)));
        assert_eq!("12.50%".parse::<Ppm>(), Ok(Ppm(125_000)));
        assert_eq!(" 100 % ".parse::<Ppm>(), Ok(Ppm::FULL));
        assert_eq!("2500ppm".parse::<Ppm>(), Ok(Ppm(2_500)));
        assert_eq!("0%".parse::<Ppm>(), Ok(Ppm::ZERO));
    }

    #[test]
    fn rejects_bad_shares_with_reasons() {
        assert!(matches!("10".parse::<Ppm>(), Err(PpmError::Syntax(_))));
        assert!(matches!("ten%".parse::<Ppm>(), Err(PpmError::Syntax(_))));
        assert!(matches!("-1%".parse::<Ppm>(), Err(PpmError::Syntax(_))));
        assert!(matches!(".5%".parse::<Ppm>(), Err(PpmError::Syntax(_))));
        assert!(matches!(
            "0.00001%".parse::<Ppm>(),
            Err(PpmError::TooPrecise(_))
        ));
        assert!(matches!(
            "100.01%".parse::<Ppm>(),
            Err(PpmError::TooLarge(_))
        ));
        assert!(matches!(
            "1000001ppm".parse::<Ppm>(),
            Err(PpmError::TooLarge(_))
        ));
        assert!(matches!(
            "99999999999999999999%".parse::<Ppm>(),
            Err(PpmError::TooLarge(_))
        ));
    }

    #[test]
    fn display_round_trips() {
        for ppm in [0, 1, 10, 100, 2_500, 10_000, 125_000, 333_333, 1_000_000] {
            let p = Ppm(ppm);
            assert_eq!(p.to_string().parse::<Ppm>(), Ok(p), "{p}");
        }
        assert_eq!(Ppm(125_000).to_string(), "12.5%");
        assert_eq!(Ppm(1).to_string(), "0.0001%");
    }

    #[test]
    fn serde_accepts_strings_and_integers() {
        let p: Ppm = serde_json::from_str("\"5%\"").unwrap();
        assert_eq!(p, Ppm(50_000));
        let p: Ppm = serde_json::from_str("50000").unwrap();
        assert_eq!(p, Ppm(50_000));
        assert!(serde_json::from_str::<Ppm>("2000000").is_err());
        assert_eq!(serde_json::to_string(&Ppm(50_000)).unwrap(), "\"5%\"");
    }
}
