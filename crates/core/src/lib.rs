//! Rollgate's pure core: traffic shares, bucketing, cohorts, audience rules and the routing
//! decision the edge makes for every request, plus the domain records the rest of the system
//! stores. This crate does no IO, reads no clock and spawns nothing: time, randomness and
//! anything loaded from disk are passed in.

pub mod model;
mod weight;

pub use weight::{Ppm, PpmError};
