//! The condition language from the outside: error texts, evaluation, properties.

#![allow(clippy::unwrap_used)]

mod errors;
mod evaluate;
mod properties;
mod support;
