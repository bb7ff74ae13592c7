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
    Catalog, CountSource, CounterSpec, LATENCY, MeanSpec, MetricDef, MetricSpec, QuantileSpec,
    RatioSpec, ValueSource, builtins,
};
pub use exposition::{CONTENT_TYPE, Exposition, OPENMETRICS_CONTENT_TYPE, names};
pub use moments::{Moments, U256};
pub use record::{
    DropCounts, DropReason, EVENT_VALUE_SCALE, ErrorSide, EventRecord, MAX_EVENT_VALUE,
    RequestRecord, event_value_units,
};
pub use recorder::{RecordError, Recorder, RecorderConfig, ShardHandle};
pub use series::{
    EventId, MAX_EVENT_NAME_LEN, Registry, RegistryError, RegistryLimits, SeriesId, SeriesKey,
    is_event_name,
};
pub use shard::{Closing, Shard, WindowConfig};
pub use sketch::{BinOutOfRange, DenseSketch, RELATIVE_ACCURACY, Sketch};
pub use stats::{
    EventStats, LATENCY_BUCKETS_US, LatencyBuckets, LatencyStats, RequestCounts, SeriesStats,
    latency_bucket,
};
pub use store::{InsertError, InsertOutcome, StoreConfig, WindowStore};
pub use value::{MetricUnit, MetricValue, SufficientStats};
pub use window::{Window, WindowMismatch};
