//! Lease calls: grant, keep alive, revoke.

use std::time::Duration;

use super::{Etcd, Retry};
use crate::EtcdError;
use crate::wire::{
    LeaseGrantRequest, LeaseKeepAliveRequest, LeaseResponse, LeaseRevokeRequest, StreamMessage,
};

impl Etcd {
    /// Grants a lease of `ttl` (rounded up to whole seconds, at least 1 s; etcd may raise
    /// it to its minimum).
    pub async fn lease_grant(&self, ttl: Duration) -> Result<LeaseResponse, EtcdError> {
        let secs = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
        let req = LeaseGrantRequest {
            ttl: i64::try_from(secs.max(1)).unwrap_or(i64::MAX),
        };
        // A repeated grant only leaves an unused lease behind, which expires on its own.
        self.call("/v3/lease/grant", &req, Retry::Idempotent).await
    }

    /// Renews lease `id`. Returns its new time to live; `0` when it had already expired.
    pub async fn lease_keep_alive(&self, id: i64) -> Result<i64, EtcdError> {
        let req = LeaseKeepAliveRequest { id };
        let msg: StreamMessage<LeaseResponse> = self
            .call("/v3/lease/keepalive", &req, Retry::Idempotent)
            .await?;
        match (msg.result, msg.error) {
            (Some(r), _) => Ok(r.ttl),
            (None, Some(e)) => Err(EtcdError::Rejected {
                endpoint: self.preferred_endpoint(),
                call: "/v3/lease/keepalive",
                status: 200,
                code: e.code,
                message: e.text().to_owned(),
            }),
            (None, None) => Ok(0),
        }
    }

    /// Revokes lease `id` now, deleting its keys. Revoking a lease that is already gone is
    /// not an error.
    pub async fn lease_revoke(&self, id: i64) -> Result<(), EtcdError> {
        let req = LeaseRevokeRequest { id };
        match self
            .call::<_, serde_json::Value>("/v3/lease/revoke", &req, Retry::Idempotent)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_lease_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}
