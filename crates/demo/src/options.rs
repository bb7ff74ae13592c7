//! What a demo run is started with: the canary's faults, the traffic, the schedule and the
//! ports. Every field has a healthy, realistic default; the command line only changes them.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rollgate_core::{Ppm, PpmError};

/// The settings of one demo run.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoOptions {
    /// Share of the canary's requests that fail with a 5xx; `None`: as often as stable.
    pub canary_error_rate: Option<Ppm>,
    /// Latency the canary adds to every answer.
    pub canary_latency: Duration,
    /// Change of the canary's conversion rate against stable, in percentage points.
    pub canary_conversion: Delta,
    /// Requests per second the users send through the proxy, all versions together.
    pub rps: u32,
    /// Minimum time the rollout holds each step.
    pub step_duration: Duration,
    /// Leave everything running after the summary, until Ctrl-C.
    pub keep_running: bool,
    /// Seed of every random choice (users, latencies, errors, conversions).
    pub seed: u64,
    /// Give up (and fail) when the rollout has not finished after this long.
    pub timeout: Duration,
    /// Port of the edge proxy on 127.0.0.1 (0: any free port).
    pub edge_port: u16,
    /// Port of the API and dashboard on 127.0.0.1 (0: any free port).
    pub api_port: u16,
}

/// A signed share in percentage points (`-3%`, `+1.5%`), exact to 1 ppm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    /// Parts per million, negative for a decrease.
    pub ppm: i64,
}

/// A flag value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    /// Not a share such as `8%`.
    #[error("{text:?} is not a percentage such as 8%, 0.5% or -3%: {reason}")]
    Share {
        /// What was given.
        text: String,
        /// Why it was refused.
        reason: String,
    },
    /// A value outside what the demo can run.
    #[error("{flag} {value}: {reason}")]
    Range {
        /// The flag.
        flag: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        reason: String,
    },
}

impl DemoOptions {
    /// Requests per second the demo allows (the load generator, the proxy and the backends
    /// share one machine).
    pub const MAX_RPS: u32 = 20_000;
    /// Fewest requests per second: below it the 1% step sees almost nothing.
    pub const MIN_RPS: u32 = 20;

    /// Checks the combination of settings, naming the flag at fault.
    pub fn validate(&self) -> Result<(), OptionsError> {
        let range = |flag, value: String, reason: &str| {
            Err(OptionsError::Range {
                flag,
                value,
                reason: reason.to_string(),
            })
        };
        if !(Self::MIN_RPS..=Self::MAX_RPS).contains(&self.rps) {
            let why = format!("must be {} to {}", Self::MIN_RPS, Self::MAX_RPS);
            return range("--rps", self.rps.to_string(), &why);
        }
        if self.step_duration < Duration::from_secs(1) {
            let shown = format!("{:?}", self.step_duration);
            return range("--step-duration", shown, "must be at least 1s");
        }
        if self.canary_latency > Duration::from_secs(10) {
            let shown = format!("{:?}", self.canary_latency);
            return range("--canary-latency", shown, "must be at most 10s");
        }
        if self.timeout < self.step_duration {
            let shown = format!("{:?}", self.timeout);
            return range("--timeout", shown, "must be longer than --step-duration");
        }
        if self.canary_conversion.ppm.abs() > i64::from(Ppm::FULL.get()) {
            let shown = self.canary_conversion.to_string();
            return range(
                "--canary-conversion",
                shown,
                "must be within -100% and +100%",
            );
        }
        Ok(())
    }

    /// True when the canary behaves exactly like stable.
    pub fn healthy(&self) -> bool {
        self.canary_error_rate.is_none()
            && self.canary_latency.is_zero()
            && self.canary_conversion.ppm == 0
    }
}

impl Default for DemoOptions {
    fn default() -> DemoOptions {
        DemoOptions {
            canary_error_rate: None,
            canary_latency: Duration::ZERO,
            canary_conversion: Delta::default(),
            rps: 300,
            step_duration: Duration::from_secs(15),
            keep_running: false,
            seed: 1,
            timeout: Duration::from_secs(600),
            edge_port: 0,
            api_port: 0,
        }
    }
}

impl Delta {
    /// The change as a fraction (`-3%` is `-0.03`).
    pub fn as_fraction(self) -> f64 {
        self.ppm as f64 / f64::from(Ppm::FULL.get())
    }
}

impl FromStr for Delta {
    type Err = OptionsError;

    fn from_str(raw: &str) -> Result<Delta, OptionsError> {
        let s = raw.trim();
        let (sign, magnitude) = match s.strip_prefix('-') {
            Some(rest) => (-1, rest),
            None => (1, s.strip_prefix('+').unwrap_or(s)),
        };
        let ppm = parse_share(magnitude).map_err(|e| match e {
            OptionsError::Share { reason, .. } => OptionsError::Share {
                text: raw.to_string(),
                reason,
            },
            other => other,
        })?;
        Ok(Delta {
            ppm: sign * i64::from(ppm.get()),
        })
    }
}

impl fmt::Display for Delta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.ppm < 0 { "-" } else { "+" };
        let magnitude = Ppm::saturating(self.ppm.unsigned_abs());
        write!(f, "{sign}{magnitude}")
    }
}

/// A share written as a percentage (`8%`, `0.5%`).
pub fn parse_share(raw: &str) -> Result<Ppm, OptionsError> {
    raw.parse::<Ppm>()
        .map_err(|e: PpmError| OptionsError::Share {
            text: raw.to_string(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_keep_their_sign() {
        assert_eq!("-3%".parse::<Delta>(), Ok(Delta { ppm: -30_000 }));
        assert_eq!("+1.5%".parse::<Delta>(), Ok(Delta { ppm: 15_000 }));
        assert_eq!("2%".parse::<Delta>(), Ok(Delta { ppm: 20_000 }));
        assert_eq!(Delta { ppm: -30_000 }.to_string(), "-3%");
        assert!((Delta { ppm: -30_000 }.as_fraction() + 0.03).abs() < 1e-12);
    }

    #[test]
    fn a_share_needs_a_percent_sign() {
        let err = "-3".parse::<Delta>().unwrap_err().to_string();
        assert!(err.contains("\"-3\" is not a percentage"), "{err}");
        assert!(parse_share("0.08").is_err());
        assert_eq!(parse_share("8%").map(Ppm::get), Ok(80_000));
    }

    #[test]
    fn validation_names_the_flag() {
        let bad = DemoOptions {
            rps: 5,
            ..DemoOptions::default()
        };
        let err = bad.validate().unwrap_err().to_string();
        assert!(err.starts_with("--rps 5: must be"), "{err}");
        let late = DemoOptions {
            timeout: Duration::from_secs(1),
            ..DemoOptions::default()
        };
        assert!(
            late.validate()
                .unwrap_err()
                .to_string()
                .contains("--timeout")
        );
        assert_eq!(DemoOptions::default().validate(), Ok(()));
        assert!(DemoOptions::default().healthy());
    }
}
