//! Exit codes scripts can rely on, and how errors reach the terminal.

use std::process::ExitCode;

/// The outcome of a subcommand that did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything worked (exit code 0).
    Success,
    /// The command ran but the answer is "no": invalid config, a command the server refused
    /// (any 4xx: bad token, role too weak, unknown name, wrong phase), a failing verdict
    /// (exit code 1).
    Failure,
    /// The answer is "not yet": an inconclusive verdict (`rollgate analyze`, exit code 3).
    Inconclusive,
}

/// Exit code for errors: the command could not do its job (bad arguments, unreadable file,
/// unreachable server, a server error 5xx).
const ERROR: u8 = 2;

/// Prints an error chain for a person and turns the result into the process exit code.
pub fn report(result: anyhow::Result<Exit>) -> ExitCode {
    match result {
        Ok(Exit::Success) => ExitCode::SUCCESS,
        Ok(Exit::Failure) => ExitCode::from(1),
        Ok(Exit::Inconclusive) => ExitCode::from(3),
        Err(err) => {
            eprintln!("error: {err}");
            // Many errors already quote their cause; print only what adds something.
            let mut said = err.to_string();
            for cause in err.chain().skip(1) {
                let text = cause.to_string();
                if !said.contains(&text) {
                    eprintln!("  caused by: {text}");
                }
                said = text;
            }
            ExitCode::from(ERROR)
        }
    }
}
