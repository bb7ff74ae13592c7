//! Per-version metric windows, latency sketches and metric definitions. Pure, no IO.
