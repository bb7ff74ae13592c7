//! The JSON shapes of etcd's v3 gRPC gateway, typed. The gateway speaks protobuf's JSON
//! mapping with the `.proto` field names: `bytes` fields are standard base64, 64-bit integers
//! are decimal strings, fields at their default value are left out, and enums are their names.

mod kv;
mod lease;
mod watch;

use serde::{Deserialize, Serialize};

pub use kv::{
    CompareResult, CompareTarget, DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse,
    RangeRequest, RangeResponse, RequestOp, ResponseOp, SortOrder, SortTarget, TxnCompare,
    TxnRequest, TxnResponse,
};
pub use lease::{LeaseGrantRequest, LeaseKeepAliveRequest, LeaseResponse, LeaseRevokeRequest};
pub use watch::{Event, EventType, WatchCreateRequest, WatchRequest, WatchResponse};

/// One key with its value and revisions, as etcd stores it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyValue {
    /// The key.
    #[serde(with = "b64")]
    pub key: Vec<u8>,
    /// The cluster revision of the key's creation (0 for a deletion event).
    #[serde(with = "int64")]
    pub create_revision: i64,
    /// The cluster revision of the key's last change.
    #[serde(with = "int64")]
    pub mod_revision: i64,
    /// How many times the key was written since its creation (1 after the create).
    #[serde(with = "int64")]
    pub version: i64,
    /// The value.
    #[serde(with = "b64")]
    pub value: Vec<u8>,
    /// The lease the key is attached to, 0 for none.
    #[serde(with = "int64")]
    pub lease: i64,
}

/// The header of every response: the cluster revision the answer was taken at.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponseHeader {
    /// The store's revision when the request was served.
    #[serde(with = "int64")]
    pub revision: i64,
    /// The cluster's id.
    #[serde(with = "uint64")]
    pub cluster_id: u64,
    /// The member that answered.
    #[serde(with = "uint64")]
    pub member_id: u64,
    /// The raft term of that member.
    #[serde(with = "uint64")]
    pub raft_term: u64,
}

/// The error body the gateway sends with a non-2xx status.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct GatewayError {
    /// The gRPC status code (5 not found, 9 failed precondition, 14 unavailable…).
    pub code: i32,
    /// etcd's message (`etcdserver: requested lease not found`).
    pub message: String,
    /// The same message under its older name.
    pub error: String,
}

/// One message of a server-streaming call: a result or an error.
#[derive(Clone, Debug, Deserialize)]
pub struct StreamMessage<T> {
    /// The message, when the call went well.
    pub result: Option<T>,
    /// The error that ended the stream.
    pub error: Option<GatewayError>,
}

impl KeyValue {
    /// The value as UTF-8 text, if it is.
    pub fn value_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.value).ok()
    }

    /// The key as text (lossy), for messages.
    pub fn key_lossy(&self) -> String {
        String::from_utf8_lossy(&self.key).into_owned()
    }
}

impl GatewayError {
    /// The message, whichever field carried it.
    pub fn text(&self) -> &str {
        if self.message.is_empty() {
            &self.error
        } else {
            &self.message
        }
    }
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `bytes` fields: standard base64 on the wire, raw bytes in Rust.
pub(crate) mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = Option::<String>::deserialize(d)?.unwrap_or_default();
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// `int64` fields: a decimal string on the wire (a number is accepted too).
pub(crate) mod int64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(n: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(n)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        match Option::<super::Number>::deserialize(d)? {
            None => Ok(0),
            Some(super::Number::Int(n)) => Ok(n),
            Some(super::Number::Text(t)) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// `uint64` fields (ids): a decimal string on the wire.
pub(crate) mod uint64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(n: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(n)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match Option::<super::UNumber>::deserialize(d)? {
            None => Ok(0),
            Some(super::UNumber::Int(n)) => Ok(n),
            Some(super::UNumber::Text(t)) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Int(i64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum UNumber {
    Int(u64),
    Text(String),
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn key_values_decode_from_the_gateway_shape() {
        let json = r#"{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"}"#;
        let kv: KeyValue = serde_json::from_str(json).unwrap();
        assert_eq!(kv.key, b"foo");
        assert_eq!(kv.value_str(), Some("baz"));
        assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (2, 3, 2));
        assert_eq!(kv.lease, 0);
    }

    #[test]
    fn int64_round_trips_as_text_and_accepts_numbers() {
        let kv = KeyValue {
            key: b"k".to_vec(),
            lease: 4_111_120_236_920_126_729,
            ..KeyValue::default()
        };
        let text = serde_json::to_string(&kv).unwrap();
        assert!(text.contains(r#""lease":"4111120236920126729""#), "{text}");
        let back: KeyValue = serde_json::from_str(&text).unwrap();
        assert_eq!(back, kv);
        let numeric: KeyValue = serde_json::from_str(r#"{"version": 7}"#).unwrap();
        assert_eq!(numeric.version, 7);
        assert!(serde_json::from_str::<KeyValue>(r#"{"version": "seven"}"#).is_err());
    }

    #[test]
    fn headers_and_errors_decode() {
        let h: ResponseHeader = serde_json::from_str(
            r#"{"cluster_id":"15118495548433857066","member_id":"1","revision":"5","raft_term":"2"}"#,
        )
        .unwrap();
        assert_eq!(h.revision, 5);
        assert_eq!(h.cluster_id, 15_118_495_548_433_857_066);
        let e: GatewayError =
            serde_json::from_str(r#"{"error":"etcdserver: requested lease not found","code":5}"#)
                .unwrap();
        assert_eq!(
            (e.code, e.text()),
            (5, "etcdserver: requested lease not found")
        );
    }

    #[test]
    fn bad_base64_is_an_error() {
        assert!(serde_json::from_str::<KeyValue>(r#"{"key":"not base64!"}"#).is_err());
    }
}
