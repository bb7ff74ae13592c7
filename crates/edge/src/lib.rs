//! The edge proxy: routing snapshot, upstream pools, circuit breaker, telemetry.
