//! Per-version metric windows, latency sketches and metric definitions. Pure, no IO: the
//! proxy and the event ingest record into it, the analysis reads values out of it, and
//! nothing here reads a clock (window times are passed in).

mod value;

pub use value::{MetricUnit, MetricValue, SufficientStats};
