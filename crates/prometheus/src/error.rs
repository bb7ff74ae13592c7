//! What can go wrong: building the provider from its configuration, and asking Prometheus.

use std::fmt;

/// The `[control.provider.prometheus]` settings cannot be used. Lists every problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct BuildError {
    /// Every problem found, in the order of the settings.
    pub problems: Vec<BuildProblem>,
}

/// One problem with the provider's settings.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildProblem {
    /// The server's URL is not an absolute `http://` or `https://` URL.
    #[error(
        "control.provider.prometheus.url: {url:?} is not a usable URL ({reason}); write the server's base URL, like \"http://prometheus:9090\""
    )]
    Url {
        /// The URL as written.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// A key of `matchers` is not a Prometheus label name.
    #[error(
        "control.provider.prometheus.matchers.{name}: not a Prometheus label name; use letters, digits and '_', not starting with a digit"
    )]
    LabelName {
        /// The key as written.
        name: String,
    },
    /// A key of `matchers` is a label the provider sets itself to pick the rollout's series.
    #[error(
        "control.provider.prometheus.matchers.{name}: a label of rollgate's own series, which the provider selects itself; remove it"
    )]
    ReservedLabel {
        /// The key as written.
        name: String,
    },
    /// The HTTP client could not be created (TLS set-up).
    #[error("control.provider.prometheus: cannot create the HTTP client: {0}")]
    Client(String),
}

/// Why one query to Prometheus gave no usable answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// No complete answer within the configured timeout.
    #[error("no answer within {timeout_ms} ms (control.provider.prometheus.timeout)")]
    Timeout {
        /// The timeout, in milliseconds.
        timeout_ms: u64,
    },
    /// The server could not be reached or the connection failed.
    #[error("cannot reach Prometheus: {0}")]
    Unreachable(String),
    /// Prometheus answered with an error of its own (a bad query, a timeout on its side).
    #[error("Prometheus refused the query (HTTP {status}, {error_type}): {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Prometheus' `errorType` (`bad_data`, `timeout`, `execution` …).
        error_type: String,
        /// Prometheus' `error` message.
        message: String,
    },
    /// Something that is not the Prometheus API answered with an error status (a proxy, a
    /// wrong URL).
    #[error("HTTP {status} from {url}: {body}")]
    Http {
        /// The HTTP status.
        status: u16,
        /// The URL asked.
        url: String,
        /// The start of the body.
        body: String,
    },
    /// The answer is larger than the provider accepts.
    #[error("the answer is larger than {limit} bytes; narrow the series with matchers")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The answer is not the JSON the Prometheus API sends.
    #[error("unreadable answer: {0}")]
    Decode(String),
    /// The answer is not an instant vector.
    #[error("expected an instant vector, got a {0}")]
    NotAVector(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}
