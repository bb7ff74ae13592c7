//! The Prometheus metric provider: answers the control plane's metric queries with PromQL over
//! the Prometheus HTTP API, for a fleet of edges Prometheus already scrapes. Counts are exact
//! differences of the edges' counters between two instants (never `increase()`'s
//! extrapolation), latency quantiles come from the exposed histogram's buckets.
//!
//! It only reads: it never writes to Prometheus, never retries on its own (the control plane
//! asks again next tick), and never panics on an odd answer (NaN, missing series, a reset
//! counter): what it cannot read is missing data, which holds a rollout instead of moving it.

mod api;
mod compute;
mod counts;
mod error;
mod histogram;
mod increase;
mod promql;
mod provider;

pub use error::{BuildError, BuildProblem};
pub use provider::PrometheusProvider;
