//! Per-version metric windows, latency sketches and metric definitions. Pure, no IO: the
//! proxy and the event ingest record into it, the analysis reads values out of it, and
//! nothing here reads a clock (window times are passed in).

mod aggregate;
mod catalog;
mod exposition;
mod moments;
mod record;
mod recorder;
mod series;
mod shard;
mod sketch;
mod stats;
mod store;
mod value;
mod window;

pub use aggregate::{Aggregate, SeriesFilter};
pub use catalog::{
    builtins, Catalog, CountSource, CounterSpec, MeanSpec, MetricDef, MetricSpec, QuantileSpec, RatioSpec, ValueSource,
    LATENCY,
};
pub use exposition::{names, Exposition, CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE};
pub use moments::{Moments, U256};
pub use record::{
    event_value_units, DropCounts, DropReason, ErrorSide, EventRecord, RequestRecord, EVENT_VALUE_SCALE,
    MAX_EVENT_VALUE,
};
pub use recorder::{RecordError, Recorder, RecorderConfig, ShardHandle};
pub use series::{
    is_event_name, EventId, Registry, RegistryError, RegistryLimits, SeriesId, SeriesKey, MAX_EVENT_NAME_LEN,
};
pub use shard::{Shard, WindowConfig};
pub use sketch::{BinOutOfRange, DenseSketch, Sketch, RELATIVE_ACCURACY};
pub use stats::{
    latency_bucket, EventStats, LatencyBuckets, LatencyStats, RequestCounts, SeriesStats, LATENCY_BUCKETS_US,
};
pub use store::{InsertError, InsertOutcome, StoreConfig, WindowStore};
pub use value::{MetricUnit, MetricValue, SufficientStats};
pub use window::{Window, WindowMismatch};
