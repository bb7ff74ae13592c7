//! What can go wrong when talking to etcd. Every variant names the endpoint and the call, so
//! an operator reading a log line knows which member to look at.

/// Why an etcd call failed.
#[derive(Debug, thiserror::Error)]
pub enum EtcdError {
    /// No endpoint was configured.
    #[error("no etcd endpoint given: pass at least one URL such as http://127.0.0.1:2379")]
    NoEndpoints,
    /// An endpoint is not an `http://` or `https://` URL.
    #[error("{0:?} is not an etcd endpoint: use http://HOST:PORT or https://HOST:PORT")]
    InvalidEndpoint(String),
    /// The HTTP client could not be built (TLS roots, resolver).
    #[error("cannot set up the HTTP client for etcd: {0}")]
    Client(String),
    /// No endpoint answered: connection refused, reset, timed out. Nothing was applied when
    /// the connection could not be made; after a timeout a write may or may not have been.
    #[error("etcd at {endpoint} is unreachable ({call}): {reason}")]
    Unreachable {
        /// The last endpoint tried.
        endpoint: String,
        /// The call (`/v3/kv/txn`).
        call: &'static str,
        /// What the connection reported.
        reason: String,
    },
    /// etcd answered with an error (lease not found, request too large, no leader…).
    #[error("etcd at {endpoint} refused {call}: {message} (gRPC code {code}, HTTP {status})")]
    Rejected {
        /// The endpoint that answered.
        endpoint: String,
        /// The call.
        call: &'static str,
        /// The HTTP status.
        status: u16,
        /// The gRPC status code.
        code: i32,
        /// etcd's message.
        message: String,
    },
    /// The answer was not the JSON the call returns: not etcd, or an incompatible version.
    #[error("etcd at {endpoint} sent an unreadable answer to {call}: {reason}")]
    Decode {
        /// The endpoint that answered.
        endpoint: String,
        /// The call.
        call: &'static str,
        /// What could not be read.
        reason: String,
    },
    /// etcd ended a watch: its start revision was compacted, or the server cancelled it.
    #[error("etcd at {endpoint} ended the watch: {reason}")]
    WatchEnded {
        /// The endpoint.
        endpoint: String,
        /// Why (with the oldest revision still kept, when compacted).
        reason: String,
        /// The oldest revision still kept (0 when not compacted).
        compact_revision: i64,
    },
}

/// The gRPC code etcd uses for "try again" conditions (no leader, leader changed, stopping).
pub(crate) const UNAVAILABLE: i32 = 14;
/// The gRPC code for "not found" (an expired lease).
pub(crate) const NOT_FOUND: i32 = 5;

impl EtcdError {
    /// True when etcd could not be reached or had no leader: the cluster is down or
    /// partitioned from us, and the caller should keep its last known state.
    pub fn is_unavailable(&self) -> bool {
        match self {
            EtcdError::Unreachable { .. } => true,
            EtcdError::Rejected { code, status, .. } => *code == UNAVAILABLE || *status == 503,
            _ => false,
        }
    }

    /// True when etcd said the lease does not exist (it expired or was revoked).
    pub fn is_lease_not_found(&self) -> bool {
        matches!(self, EtcdError::Rejected { code: NOT_FOUND, message, .. }
            if message.contains("lease not found"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_endpoint_and_the_call() {
        let e = EtcdError::Rejected {
            endpoint: "http://10.0.0.1:2379".into(),
            call: "/v3/lease/keepalive",
            status: 404,
            code: NOT_FOUND,
            message: "etcdserver: requested lease not found".into(),
        };
        let text = e.to_string();
        assert!(text.contains("http://10.0.0.1:2379") && text.contains("/v3/lease/keepalive"));
        assert!(e.is_lease_not_found());
        assert!(!e.is_unavailable());
        let down = EtcdError::Unreachable {
            endpoint: "http://10.0.0.1:2379".into(),
            call: "/v3/kv/range",
            reason: "connection refused".into(),
        };
        assert!(down.is_unavailable());
    }
}
