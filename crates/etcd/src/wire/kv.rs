//! The KV service: range, put, delete range and txn (`/v3/kv/*`).

use serde::{Deserialize, Serialize};

use super::{KeyValue, ResponseHeader, b64, int64, is_false, is_zero};

/// Reads one key, or every key in `[key, range_end)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RangeRequest {
    /// The first key (the only key when `range_end` is empty).
    #[serde(with = "b64")]
    pub key: Vec<u8>,
    /// One past the last key; empty for a single key.
    #[serde(with = "b64", skip_serializing_if = "Vec::is_empty")]
    pub range_end: Vec<u8>,
    /// At most this many keys (0: no limit).
    #[serde(with = "int64", skip_serializing_if = "is_zero")]
    pub limit: i64,
    /// Read at this store revision (0: the newest).
    #[serde(with = "int64", skip_serializing_if = "is_zero")]
    pub revision: i64,
    /// In which order keys come back.
    #[serde(skip_serializing_if = "SortOrder::is_none")]
    pub sort_order: SortOrder,
    /// What the order is by.
    #[serde(skip_serializing_if = "SortTarget::is_key")]
    pub sort_target: SortTarget,
    /// Only keys and revisions, no values.
    #[serde(skip_serializing_if = "is_false")]
    pub keys_only: bool,
    /// Only the count.
    #[serde(skip_serializing_if = "is_false")]
    pub count_only: bool,
}

/// The order of a range's keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SortOrder {
    /// etcd's default (ascending by key).
    #[default]
    None,
    /// Smallest first.
    Ascend,
    /// Largest first.
    Descend,
}

/// What a range is sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SortTarget {
    /// The key bytes.
    #[default]
    Key,
    /// The key's version.
    Version,
    /// The key's create revision.
    Create,
    /// The key's mod revision.
    Mod,
    /// The value bytes.
    Value,
}

/// The keys a range found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct RangeResponse {
    /// The revision the range was read at.
    pub header: ResponseHeader,
    /// The keys (empty with `count_only`).
    pub kvs: Vec<KeyValue>,
    /// True when `limit` cut the answer short.
    pub more: bool,
    /// How many keys the range holds (regardless of `limit`).
    #[serde(with = "int64")]
    pub count: i64,
}

/// Writes one key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PutRequest {
    /// The key.
    #[serde(with = "b64")]
    pub key: Vec<u8>,
    /// The value.
    #[serde(with = "b64")]
    pub value: Vec<u8>,
    /// Attach the key to this lease (0: none): it is deleted when the lease expires.
    #[serde(with = "int64", skip_serializing_if = "is_zero")]
    pub lease: i64,
}

/// What a put answered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct PutResponse {
    /// The revision the put created.
    pub header: ResponseHeader,
}

/// Deletes one key, or every key in `[key, range_end)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeleteRangeRequest {
    /// The first key.
    #[serde(with = "b64")]
    pub key: Vec<u8>,
    /// One past the last key; empty for a single key.
    #[serde(with = "b64", skip_serializing_if = "Vec::is_empty")]
    pub range_end: Vec<u8>,
}

/// What a delete answered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct DeleteRangeResponse {
    /// The revision the delete created.
    pub header: ResponseHeader,
    /// How many keys were deleted.
    #[serde(with = "int64")]
    pub deleted: i64,
}

/// One condition of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TxnCompare {
    /// The key compared.
    #[serde(with = "b64")]
    pub key: Vec<u8>,
    /// The comparison.
    pub result: CompareResult,
    /// What of the key is compared.
    pub target: CompareTarget,
    /// The version compared with (`target` = `VERSION`).
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_int64")]
    pub version: Option<i64>,
    /// The create revision compared with (`CREATE`).
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_int64")]
    pub create_revision: Option<i64>,
    /// The mod revision compared with (`MOD`).
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_int64")]
    pub mod_revision: Option<i64>,
    /// The value compared with (`VALUE`).
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_b64")]
    pub value: Option<Vec<u8>>,
}

/// How a compare relates the key's field to the given one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompareResult {
    /// Equal.
    Equal,
    /// The key's field is greater.
    Greater,
    /// The key's field is smaller.
    Less,
    /// Not equal.
    NotEqual,
}

/// Which field of the key a compare reads. A missing key has version, create and mod
/// revision 0, and fails every value compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CompareTarget {
    /// The version (writes since creation).
    Version,
    /// The create revision.
    Create,
    /// The mod revision.
    Mod,
    /// The value.
    Value,
}

/// One operation of a transaction branch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestOp {
    /// A read.
    RequestRange(RangeRequest),
    /// A write.
    RequestPut(PutRequest),
    /// A delete.
    RequestDeleteRange(DeleteRangeRequest),
}

/// The answer to one operation of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseOp {
    /// A read's keys.
    ResponseRange(RangeResponse),
    /// A write.
    ResponsePut(PutResponse),
    /// A delete.
    ResponseDeleteRange(DeleteRangeResponse),
}

/// If every compare holds, run `success`, else `failure` — atomically.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TxnRequest {
    /// The conditions (all must hold).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub compare: Vec<TxnCompare>,
    /// Run when they hold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub success: Vec<RequestOp>,
    /// Run when one does not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failure: Vec<RequestOp>,
}

/// What a transaction did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct TxnResponse {
    /// The revision after the transaction.
    pub header: ResponseHeader,
    /// True when the compares held and `success` ran.
    pub succeeded: bool,
    /// One answer per operation of the branch that ran.
    pub responses: Vec<ResponseOp>,
}

impl RangeRequest {
    /// One key.
    pub fn key(key: impl Into<Vec<u8>>) -> RangeRequest {
        RangeRequest {
            key: key.into(),
            ..RangeRequest::default()
        }
    }

    /// Every key in `[start, end)`.
    pub fn range(start: impl Into<Vec<u8>>, end: impl Into<Vec<u8>>) -> RangeRequest {
        RangeRequest {
            key: start.into(),
            range_end: end.into(),
            ..RangeRequest::default()
        }
    }

    /// Every key that starts with `prefix`.
    pub fn prefix(prefix: impl Into<Vec<u8>>) -> RangeRequest {
        let key = prefix.into();
        let range_end = crate::keys::prefix_end(&key);
        RangeRequest::range(key, range_end)
    }

    /// At most `n` keys.
    pub fn limit(mut self, n: usize) -> RangeRequest {
        self.limit = i64::try_from(n).unwrap_or(i64::MAX);
        self
    }

    /// Largest key first.
    pub fn descending(mut self) -> RangeRequest {
        self.sort_order = SortOrder::Descend;
        self.sort_target = SortTarget::Key;
        self
    }
}

impl SortOrder {
    fn is_none(&self) -> bool {
        *self == SortOrder::None
    }
}

impl SortTarget {
    fn is_key(&self) -> bool {
        *self == SortTarget::Key
    }
}

impl TxnCompare {
    fn new(key: impl Into<Vec<u8>>, result: CompareResult, target: CompareTarget) -> TxnCompare {
        TxnCompare {
            key: key.into(),
            result,
            target,
            version: None,
            create_revision: None,
            mod_revision: None,
            value: None,
        }
    }

    /// The key's version compared with `version` (0: the key does not exist).
    pub fn version(key: impl Into<Vec<u8>>, result: CompareResult, version: i64) -> TxnCompare {
        TxnCompare {
            version: Some(version),
            ..TxnCompare::new(key, result, CompareTarget::Version)
        }
    }

    /// The key's create revision compared with `revision` (0: the key does not exist).
    pub fn create_revision(
        key: impl Into<Vec<u8>>,
        result: CompareResult,
        revision: i64,
    ) -> TxnCompare {
        TxnCompare {
            create_revision: Some(revision),
            ..TxnCompare::new(key, result, CompareTarget::Create)
        }
    }

    /// The key's mod revision compared with `revision` (0: the key does not exist).
    pub fn mod_revision(
        key: impl Into<Vec<u8>>,
        result: CompareResult,
        revision: i64,
    ) -> TxnCompare {
        TxnCompare {
            mod_revision: Some(revision),
            ..TxnCompare::new(key, result, CompareTarget::Mod)
        }
    }

    /// The key's value compared with `value` (a missing key fails).
    pub fn value(key: impl Into<Vec<u8>>, result: CompareResult, value: Vec<u8>) -> TxnCompare {
        TxnCompare {
            value: Some(value),
            ..TxnCompare::new(key, result, CompareTarget::Value)
        }
    }

    /// Holds while `key` does not exist.
    pub fn absent(key: impl Into<Vec<u8>>) -> TxnCompare {
        TxnCompare::create_revision(key, CompareResult::Equal, 0)
    }

    /// Holds while `key` exists.
    pub fn present(key: impl Into<Vec<u8>>) -> TxnCompare {
        TxnCompare::create_revision(key, CompareResult::Greater, 0)
    }
}

impl RequestOp {
    /// Reads `req`.
    pub fn range(req: RangeRequest) -> RequestOp {
        RequestOp::RequestRange(req)
    }

    /// Writes `value` at `key`.
    pub fn put(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> RequestOp {
        RequestOp::RequestPut(PutRequest {
            key: key.into(),
            value: value.into(),
            lease: 0,
        })
    }

    /// Deletes `key`.
    pub fn delete(key: impl Into<Vec<u8>>) -> RequestOp {
        RequestOp::RequestDeleteRange(DeleteRangeRequest {
            key: key.into(),
            range_end: Vec::new(),
        })
    }
}

impl ResponseOp {
    /// The keys, when this answers a range.
    pub fn into_range(self) -> Option<RangeResponse> {
        match self {
            ResponseOp::ResponseRange(r) => Some(r),
            _ => None,
        }
    }
}

mod opt_int64 {
    use serde::Serializer;

    #[allow(clippy::ref_option)] // serde's `with` passes `&Option<T>`
    pub fn serialize<S: Serializer>(n: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match n {
            Some(n) => s.collect_str(n),
            None => s.serialize_none(),
        }
    }
}

mod opt_b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::Serializer;

    #[allow(clippy::ref_option)] // serde's `with` passes `&Option<T>`
    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_str(&STANDARD.encode(v)),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn txn_requests_have_the_gateway_shape() {
        let txn = TxnRequest {
            compare: vec![
                TxnCompare::mod_revision("foo", CompareResult::Equal, 2),
                TxnCompare::absent("bar"),
            ],
            success: vec![RequestOp::put("foo", "baz"), RequestOp::delete("bar")],
            failure: vec![RequestOp::range(
                RangeRequest::prefix("f").limit(3).descending(),
            )],
        };
        assert_eq!(
            serde_json::to_value(&txn).unwrap(),
            json!({
                "compare": [
                    { "key": "Zm9v", "result": "EQUAL", "target": "MOD", "mod_revision": "2" },
                    { "key": "YmFy", "result": "EQUAL", "target": "CREATE", "create_revision": "0" },
                ],
                "success": [
                    { "request_put": { "key": "Zm9v", "value": "YmF6" } },
                    { "request_delete_range": { "key": "YmFy" } },
                ],
                "failure": [
                    { "request_range": { "key": "Zg==", "range_end": "Zw==", "limit": "3",
                                         "sort_order": "DESCEND" } },
                ],
            })
        );
    }

    #[test]
    fn txn_responses_decode_both_branches() {
        let ok: TxnResponse = serde_json::from_str(
            r#"{"header":{"revision":"3"},"succeeded":true,"responses":[
                {"response_put":{"header":{"revision":"3"}}},
                {"response_range":{"header":{"revision":"3"},"kvs":[{"key":"Zm9v","value":"YmF6"}],"count":"1"}}]}"#,
        )
        .unwrap();
        assert!(ok.succeeded);
        let range = ok.responses[1].clone().into_range().unwrap();
        assert_eq!(
            (range.count, range.kvs[0].value.as_slice()),
            (1, &b"baz"[..])
        );
        // A failed txn leaves `succeeded` out (false is protobuf's default).
        let failed: TxnResponse =
            serde_json::from_str(r#"{"header":{"revision":"3"},"responses":[]}"#).unwrap();
        assert!(!failed.succeeded);
    }
}
