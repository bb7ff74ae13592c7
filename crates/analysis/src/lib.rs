//! Statistics and verdicts for canary analysis: always-valid sequential tests of canary vs
//! matched baseline, Welch's t-test, Mann-Whitney U, the sample-ratio-mismatch check, and the
//! per-condition and per-rollout verdicts built on them. Pure: no IO, no clock, no environment;
//! everything arrives as arguments. The statistics are described in `docs/analysis.md`.

mod comparison;
mod condition;
mod document;
pub mod format;
mod render;
mod spec;
mod srm;
pub mod stats;
mod values;
mod verdict;

pub use comparison::{ComparisonVerdict, Margin, Method};
pub use condition::{ConditionVerdict, Effect};
pub use document::{CohortMetrics, RolloutMetrics, cohort_of};
pub use spec::{Analysis, AnalysisSpec, CheckedCondition, ConditionSpec, SrmPolicy};
pub use srm::{SrmCheck, cohort_sizes, srm_check};
pub use values::{MetricReading, interval};
pub use verdict::{Counts, RolloutVerdict, Tracker, analyze};
// A core type, shared with the controller (which must not depend on this crate).
pub use rollgate_core::model::Outcome;
