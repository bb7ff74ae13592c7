//! Why the stack could not start.

/// A part of the stack could not be set up. The message names the part and what to do.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// A setting that only shows up as wrong when it is used (a header name, a key, a file).
    #[error("{0}")]
    Config(String),
    /// The store could not be opened.
    #[error("cannot open the store {path}: {reason}")]
    Store {
        /// The database file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A listener could not be bound, or another IO failure.
    #[error("{what}: {source} (is another process using the port?)")]
    Io {
        /// What was being done.
        what: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// The control plane could not start.
    #[error("the control plane could not start: {0}")]
    Control(String),
}
