//! The Lease service: grant, keep alive and revoke (`/v3/lease/*`). Keys attached to a lease
//! are deleted when it expires, which is how edges and the leader announce that they are alive.

use serde::{Deserialize, Serialize};

use super::{ResponseHeader, int64};

/// Asks for a lease of `ttl` seconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LeaseGrantRequest {
    /// Time to live, in seconds.
    #[serde(rename = "TTL", with = "int64")]
    pub ttl: i64,
}

/// A lease as granted or renewed: its id and time to live (0 when it had already expired).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct LeaseResponse {
    /// The revision when it was granted or renewed.
    pub header: ResponseHeader,
    /// The lease id.
    #[serde(rename = "ID", with = "int64")]
    pub id: i64,
    /// Its time to live in seconds; 0 when the lease is gone.
    #[serde(rename = "TTL", with = "int64")]
    pub ttl: i64,
}

/// Renews lease `id`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LeaseKeepAliveRequest {
    /// The lease id.
    #[serde(rename = "ID", with = "int64")]
    pub id: i64,
}

/// Ends lease `id` now, deleting its keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LeaseRevokeRequest {
    /// The lease id.
    #[serde(rename = "ID", with = "int64")]
    pub id: i64,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn lease_messages_use_the_proto_names() {
        let grant = serde_json::to_string(&LeaseGrantRequest { ttl: 5 }).unwrap();
        assert_eq!(grant, r#"{"TTL":"5"}"#);
        let granted: LeaseResponse =
            serde_json::from_str(r#"{"header":{},"ID":"4111120236920126729","TTL":"5"}"#).unwrap();
        assert_eq!((granted.id, granted.ttl), (4_111_120_236_920_126_729, 5));
        let expired: LeaseResponse = serde_json::from_str(r#"{"header":{},"ID":"7"}"#).unwrap();
        assert_eq!((expired.id, expired.ttl), (7, 0));
    }
}
