//! The `rollgate` command line: parses arguments and runs one subcommand.
//! Everything user-facing (messages, exit codes) is decided here; the work is done by the library crates.

use std::process::ExitCode;

/// Runs the command line with the process arguments and returns the exit code.
pub fn main() -> ExitCode {
    eprintln!("rollgate: no commands yet");
    ExitCode::from(2)
}
