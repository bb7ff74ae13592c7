//! Statistics and verdicts for canary analysis: always-valid sequential tests of canary vs
//! matched baseline, Welch's t-test, Mann-Whitney U, the sample-ratio-mismatch check, and the
//! per-condition and per-rollout verdicts built on them. Pure: no IO, no clock, no environment;
//! everything arrives as arguments.

pub mod stats;
