//! What `rollgate validate` and every loader report: all problems of a file at once.

use std::fmt;
use std::path::PathBuf;

use rollgate_core::SpecErrors;

/// Why a configuration could not be used. Nothing from it was applied.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file is not valid TOML; nothing else could be checked.
    #[error("{origin}: {message}")]
    Syntax {
        /// Where the text came from (a path, or `<input>`).
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The file is valid TOML but some values are wrong: every one of them.
    #[error("{}", Invalid { origin, errors })]
    Invalid {
        /// Where the text came from.
        origin: String,
        /// Every problem, each with its path.
        errors: SpecErrors,
    },
}

impl ConfigError {
    /// How many problems were found (a syntax error counts as one).
    pub fn count(&self) -> usize {
        match self {
            ConfigError::Read { .. } | ConfigError::Syntax { .. } => 1,
            ConfigError::Invalid { errors, .. } => errors.len(),
        }
    }
}

struct Invalid<'a> {
    origin: &'a str,
    errors: &'a SpecErrors,
}

impl fmt::Display for Invalid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        writeln!(
            f,
            "{}: {n} problem{}",
            self.origin,
            if n == 1 { "" } else { "s" }
        )?;
        for e in self.errors.iter() {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}
