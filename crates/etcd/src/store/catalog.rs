//! Services, immutable version snapshots and each service's stable history.

use rollgate_core::model::VersionSnapshot;
use rollgate_store::{ServiceRecord, StableChange, StoreError, VersionEntry, version_entries};

use super::EtcdStore;
use super::codec::{backend, decode, decode_all, encode};
use super::commit::last_segment_number;
use crate::wire::{RangeRequest, RequestOp, TxnCompare, TxnRequest};

/// Rounds of read-then-append for a stable change racing another one.
const MAX_ROUNDS: usize = 32;

impl EtcdStore {
    pub(crate) async fn put_service_record(
        &self,
        service: ServiceRecord,
    ) -> Result<(), StoreError> {
        let key = self.layout.service(&service.name);
        self.put_json(key, &service).await
    }

    /// Creates the version unless it exists; an identical one is a no-op, a different one is
    /// refused. One transaction: "the service exists and the version does not".
    pub(crate) async fn put_version_record(&self, v: VersionSnapshot) -> Result<bool, StoreError> {
        let service_key = self.layout.service(&v.service);
        let key = self.layout.version(&v.service, &v.name);
        let txn = self.guarded(TxnRequest {
            compare: vec![
                TxnCompare::present(service_key.clone()),
                TxnCompare::absent(key.clone()),
            ],
            success: vec![RequestOp::put(key.clone(), encode(&v)?)],
            failure: vec![
                RequestOp::range(RangeRequest {
                    count_only: true,
                    ..RangeRequest::key(service_key)
                }),
                RequestOp::range(RangeRequest::key(key)),
            ],
        });
        let resp = self.etcd.txn(&txn).await.map_err(backend)?;
        if resp.succeeded {
            return Ok(true);
        }
        self.check_guard().await?;
        let mut ranges = resp.responses.into_iter().filter_map(|r| r.into_range());
        let service = ranges.next().is_some_and(|r| r.count > 0);
        if !service {
            return Err(StoreError::not_found("service", &v.service));
        }
        let existing = ranges.next().and_then(|r| r.kvs.into_iter().next());
        match existing {
            Some(kv) if decode::<VersionSnapshot>(&kv)? == v => Ok(false),
            Some(_) => Err(StoreError::VersionExists {
                service: v.service,
                version: v.name,
            }),
            // Only a guard failure leaves both present; the guard held, so this is a race
            // with nothing we can name: report it as such.
            None => Err(StoreError::Invalid(format!(
                "version {}/{} could not be recorded: the store changed during the write; retry",
                v.service, v.name
            ))),
        }
    }

    /// Every version of `service` with its stable periods, read at one revision.
    pub(crate) async fn version_entries(
        &self,
        service: &str,
    ) -> Result<Vec<VersionEntry>, StoreError> {
        let read = self
            .etcd
            .read_many(vec![
                RangeRequest::prefix(self.layout.versions(service)),
                RangeRequest::prefix(self.layout.stables(service)),
            ])
            .await
            .map_err(backend)?;
        let mut snapshots: Vec<VersionSnapshot> = decode_all(&read[0].kvs)?;
        snapshots.sort_by(|a, b| (a.created_at, &a.name).cmp(&(b.created_at, &b.name)));
        let history: Vec<StableChange> = decode_all(&read[1].kvs)?;
        Ok(version_entries(snapshots, &history))
    }

    /// Appends a stable change as the service's next numbered key (created only if absent,
    /// so two writers cannot take the same number).
    pub(crate) async fn append_stable(&self, change: StableChange) -> Result<(), StoreError> {
        for _ in 0..MAX_ROUNDS {
            let read = self
                .etcd
                .read_many(vec![
                    RangeRequest {
                        count_only: true,
                        ..RangeRequest::key(self.layout.version(&change.service, &change.version))
                    },
                    RangeRequest {
                        keys_only: true,
                        ..RangeRequest::prefix(self.layout.stables(&change.service))
                            .limit(1)
                            .descending()
                    },
                ])
                .await
                .map_err(backend)?;
            if read[0].count == 0 {
                return Err(StoreError::not_found(
                    "version",
                    format!("{}/{}", change.service, change.version),
                ));
            }
            let next = match read[1].kvs.first() {
                Some(kv) => last_segment_number(kv)? + 1,
                None => 1,
            };
            let key = self.layout.stable(&change.service, next);
            let op = RequestOp::put(key.clone(), encode(&change)?);
            if self.write(vec![TxnCompare::absent(key)], vec![op]).await? {
                return Ok(());
            }
        }
        Err(StoreError::Invalid(format!(
            "the stable version of {:?} is being changed concurrently; retry",
            change.service
        )))
    }
}
