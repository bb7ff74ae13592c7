//! Key-value calls: range, put, delete and transactions.

use super::{Etcd, Retry};
use crate::EtcdError;
use crate::wire::{
    DeleteRangeRequest, DeleteRangeResponse, KeyValue, PutRequest, PutResponse, RangeRequest,
    RangeResponse, RequestOp, TxnRequest, TxnResponse,
};

/// How many keys [`Etcd::get_prefix`] asks for per page.
const PAGE: usize = 256;

impl Etcd {
    /// Reads a range as asked.
    pub async fn range(&self, req: &RangeRequest) -> Result<RangeResponse, EtcdError> {
        self.call("/v3/kv/range", req, Retry::Idempotent).await
    }

    /// One key, if it exists.
    pub async fn get(&self, key: &[u8]) -> Result<Option<KeyValue>, EtcdError> {
        let resp = self.range(&RangeRequest::key(key)).await?;
        Ok(resp.kvs.into_iter().next())
    }

    /// Every key under `prefix`, in key order, read page by page at one revision (so the
    /// answer is a consistent snapshot even when it spans pages).
    pub async fn get_prefix(&self, prefix: &[u8]) -> Result<Vec<KeyValue>, EtcdError> {
        let mut req = RangeRequest::prefix(prefix).limit(PAGE);
        let mut out = Vec::new();
        loop {
            let resp = self.range(&req).await?;
            req.revision = resp.header.revision;
            let more = resp.more;
            let Some(last) = resp.kvs.last() else { break };
            req.key = last.key.clone();
            req.key.push(0);
            out.extend(resp.kvs);
            if !more {
                break;
            }
        }
        Ok(out)
    }

    /// Writes `value` at `key` (attached to `lease` unless it is 0). Not retried once sent.
    pub async fn put(
        &self,
        key: &[u8],
        value: &[u8],
        lease: i64,
    ) -> Result<PutResponse, EtcdError> {
        let req = PutRequest {
            key: key.to_vec(),
            value: value.to_vec(),
            lease,
        };
        self.call("/v3/kv/put", &req, Retry::Once).await
    }

    /// Deletes `key`. Not retried once sent.
    pub async fn delete(&self, key: &[u8]) -> Result<DeleteRangeResponse, EtcdError> {
        let req = DeleteRangeRequest {
            key: key.to_vec(),
            range_end: Vec::new(),
        };
        self.call("/v3/kv/deleterange", &req, Retry::Once).await
    }

    /// Runs a transaction. Not retried once sent: after an `Unreachable` error the
    /// transaction may or may not have been applied.
    pub async fn txn(&self, txn: &TxnRequest) -> Result<TxnResponse, EtcdError> {
        self.call("/v3/kv/txn", txn, Retry::Once).await
    }

    /// Reads several ranges at one revision (a transaction of reads only, safe to retry).
    /// Returns one answer per range, in order.
    pub async fn read_many(
        &self,
        ranges: Vec<RangeRequest>,
    ) -> Result<Vec<RangeResponse>, EtcdError> {
        let n = ranges.len();
        let txn = TxnRequest {
            compare: Vec::new(),
            success: ranges.into_iter().map(RequestOp::range).collect(),
            failure: Vec::new(),
        };
        let resp: TxnResponse = self.call("/v3/kv/txn", &txn, Retry::Idempotent).await?;
        let ranges: Vec<RangeResponse> = resp
            .responses
            .into_iter()
            .filter_map(|r| r.into_range())
            .collect();
        if ranges.len() != n {
            return Err(EtcdError::Decode {
                endpoint: self.preferred_endpoint(),
                call: "/v3/kv/txn",
                reason: format!("asked for {n} ranges, got {}", ranges.len()),
            });
        }
        Ok(ranges)
    }

    /// The endpoint calls go to first (the one that answered last).
    pub fn preferred_endpoint(&self) -> String {
        let endpoints = &self.inner.config.endpoints;
        let i = self
            .inner
            .preferred
            .load(std::sync::atomic::Ordering::Relaxed);
        endpoints
            .get(i % endpoints.len().max(1))
            .cloned()
            .unwrap_or_default()
    }
}
