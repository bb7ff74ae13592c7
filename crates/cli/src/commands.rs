//! One module per subcommand: each has an `Args` (clap) and a `run` function.

pub mod assign;
pub mod control;
pub mod edge;
pub mod serve;
pub mod validate;
