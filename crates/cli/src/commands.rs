//! One module per subcommand: each has an `Args` (clap) and a `run` function.

pub mod analyze;
pub mod assign;
pub mod completions;
pub mod control;
pub mod demo;
pub mod distributed;
pub mod edge;
pub mod experiment;
pub mod rollout;
pub mod serve;
pub mod token;
pub mod validate;
pub mod version;
