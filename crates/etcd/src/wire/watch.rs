//! The Watch service (`/v3/watch`): a stream of changes to a key range from a revision on.

use serde::{Deserialize, Serialize};

use super::{KeyValue, ResponseHeader, b64, int64, is_false, is_zero};

/// The body of a watch call: one create request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WatchRequest {
    /// What to watch.
    pub create_request: WatchCreateRequest,
}

/// Watch `[key, range_end)` from `start_revision` on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WatchCreateRequest {
    /// The first key.
    #[serde(with = "b64")]
    pub key: Vec<u8>,
    /// One past the last key; empty for a single key.
    #[serde(with = "b64", skip_serializing_if = "Vec::is_empty")]
    pub range_end: Vec<u8>,
    /// The first revision to report (0: changes after now). Must not be compacted.
    #[serde(with = "int64", skip_serializing_if = "is_zero")]
    pub start_revision: i64,
    /// Ask the server for periodic empty messages while nothing changes.
    #[serde(skip_serializing_if = "is_false")]
    pub progress_notify: bool,
}

/// One message of a watch stream.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct WatchResponse {
    /// The store revision the message was sent at.
    pub header: ResponseHeader,
    /// The watch id.
    #[serde(with = "int64")]
    pub watch_id: i64,
    /// True on the first message: the watch is registered.
    pub created: bool,
    /// True when the server ended the watch (see `compact_revision` and `cancel_reason`).
    pub canceled: bool,
    /// When canceled because `start_revision` was compacted: the oldest revision still kept.
    #[serde(with = "int64")]
    pub compact_revision: i64,
    /// Why the server ended the watch.
    pub cancel_reason: String,
    /// The changes, oldest first.
    pub events: Vec<Event>,
}

/// One change of one key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Event {
    /// Put or delete.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// The key after the change (for a delete: the key and the delete's mod revision).
    pub kv: KeyValue,
}

/// What happened to the key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EventType {
    /// Created or changed.
    #[default]
    Put,
    /// Deleted.
    Delete,
}

impl WatchCreateRequest {
    /// Watch one key from `start_revision` on.
    pub fn key(key: impl Into<Vec<u8>>, start_revision: i64) -> WatchCreateRequest {
        WatchCreateRequest {
            key: key.into(),
            start_revision,
            ..WatchCreateRequest::default()
        }
    }

    /// Watch every key under `prefix` from `start_revision` on.
    pub fn prefix(prefix: impl Into<Vec<u8>>, start_revision: i64) -> WatchCreateRequest {
        let key = prefix.into();
        WatchCreateRequest {
            range_end: crate::keys::prefix_end(&key),
            key,
            start_revision,
            progress_notify: false,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn watch_messages_decode() {
        let m: WatchResponse = serde_json::from_str(
            r#"{"header":{"revision":"5"},"events":[
                {"kv":{"key":"Zm9v","create_revision":"5","mod_revision":"5","version":"1","value":"YmFy"}},
                {"type":"DELETE","kv":{"key":"Zm9v","mod_revision":"6"}}]}"#,
        )
        .unwrap();
        assert_eq!(m.events.len(), 2);
        assert_eq!(m.events[0].kind, EventType::Put);
        assert_eq!(m.events[1].kind, EventType::Delete);
        assert_eq!(m.events[1].kv.mod_revision, 6);
        let canceled: WatchResponse =
            serde_json::from_str(r#"{"header":{},"canceled":true,"compact_revision":"4"}"#)
                .unwrap();
        assert!(canceled.canceled);
        assert_eq!(canceled.compact_revision, 4);
    }

    #[test]
    fn create_requests_encode() {
        let req = WatchRequest {
            create_request: WatchCreateRequest {
                key: b"/p/".to_vec(),
                range_end: b"/p0".to_vec(),
                start_revision: 9,
                progress_notify: false,
            },
        };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"create_request":{"key":"L3Av","range_end":"L3Aw","start_revision":"9"}}"#
        );
    }
}
