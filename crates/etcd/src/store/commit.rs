//! `Store::commit` as one etcd transaction: read what the checks need at one revision, run the
//! checks every store runs, then write the rollout, its decisions and the stable change with
//! compares that fail if anything read has changed since. A failed compare means another
//! writer got there first: read again and check again (which then reports the `Conflict`).

use std::collections::HashSet;

use rollgate_store::{CommitOutcome, CurrentRollout, RolloutCommit, StoreError};

use super::EtcdStore;
use super::codec::{StoredRollout, backend, decode, encode, text};
use super::layout::Layout;
use crate::wire::{CompareResult, RangeRequest, RangeResponse, RequestOp, TxnCompare, TxnRequest};

/// Rounds of read-check-write before giving up. Only writers racing on the decision counter
/// (commits of different rollouts at the same moment) need more than one.
const MAX_ROUNDS: usize = 32;

/// What a commit read, at one store revision.
struct Seen {
    /// The rollout and its key's mod revision.
    rollout: Option<(StoredRollout, i64)>,
    /// The last decision id handed out and the counter key's mod revision (0: no key yet).
    last_id: u64,
    counter_rev: i64,
    service_exists: bool,
    stable_version_exists: bool,
    /// The number of the service's next stable change.
    next_stable: u64,
}

impl EtcdStore {
    pub(crate) async fn commit_rollout(
        &self,
        c: RolloutCommit,
    ) -> Result<CommitOutcome, StoreError> {
        for _ in 0..MAX_ROUNDS {
            let seen = self.read_for_commit(&c).await?;
            let (txn, outcome) = plan(&self.layout, &c, seen)?;
            let txn = self.guarded(txn);
            let resp = self.etcd.txn(&txn).await.map_err(backend)?;
            if resp.succeeded {
                return Ok(outcome);
            }
            self.check_guard().await?;
        }
        Err(StoreError::Invalid(format!(
            "commit of rollout {:?} lost {MAX_ROUNDS} races in a row with other writers; retry later",
            c.name
        )))
    }

    async fn read_for_commit(&self, c: &RolloutCommit) -> Result<Seen, StoreError> {
        let l = &self.layout;
        let count = |key: Vec<u8>| RangeRequest {
            count_only: true,
            ..RangeRequest::key(key)
        };
        let mut ranges = vec![
            RangeRequest::key(l.rollout(&c.name)),
            RangeRequest::key(l.decision_counter()),
            count(l.service(&c.record.service)),
        ];
        if let Some(change) = &c.stable_change {
            ranges.push(count(l.version(&change.service, &change.version)));
            ranges.push(RangeRequest {
                keys_only: true,
                ..RangeRequest::prefix(l.stables(&change.service))
                    .limit(1)
                    .descending()
            });
        }
        let read = self.etcd.read_many(ranges).await.map_err(backend)?;
        let rollout = match read[0].kvs.first() {
            Some(kv) => Some((decode::<StoredRollout>(kv)?, kv.mod_revision)),
            None => None,
        };
        let (last_id, counter_rev) = match read[1].kvs.first() {
            Some(kv) => (parse_number(&text(kv)?, kv)?, kv.mod_revision),
            None => (0, 0),
        };
        let next_stable = match read.get(4).and_then(|r| r.kvs.first()) {
            Some(kv) => last_segment_number(kv)? + 1,
            None => 1,
        };
        Ok(Seen {
            rollout,
            last_id,
            counter_rev,
            service_exists: exists(&read[2]),
            stable_version_exists: read.get(3).is_some_and(exists),
            next_stable,
        })
    }
}

/// Runs the checks against what was read and builds the transaction that writes the commit
/// if nothing changed since.
fn plan(
    l: &Layout,
    c: &RolloutCommit,
    seen: Seen,
) -> Result<(TxnRequest, CommitOutcome), StoreError> {
    let current = seen.rollout.as_ref().map(|(r, _)| CurrentRollout {
        revision: r.record.revision,
        next_seq: r.record.next_seq,
    });
    let revision = c.check(current)?;
    if !seen.service_exists {
        return Err(StoreError::not_found("service", &c.record.service));
    }
    if let Some(change) = &c.stable_change
        && !seen.stable_version_exists
    {
        return Err(StoreError::not_found(
            "version",
            format!("{}/{}", change.service, change.version),
        ));
    }
    let (old, rollout_rev) = match seen.rollout {
        Some((old, rev)) => (Some(old), rev),
        None => (None, 0),
    };
    let mut seqs = old.as_ref().map(|o| o.seqs.clone()).unwrap_or_default();
    let mut in_commit = HashSet::new();
    for d in &c.decisions {
        if seqs.contains(d.seq) || !in_commit.insert(d.seq) {
            return Err(StoreError::DuplicateDecision {
                rollout: c.name.clone(),
                seq: d.seq,
            });
        }
    }
    let mut record = c.record.clone();
    record.revision = revision;
    record.created_at = old.map_or(c.record.created_at, |o| o.record.created_at);
    let mut decisions = c.decisions.clone();
    let mut decision_ids = Vec::with_capacity(decisions.len());
    for (d, id) in decisions.iter_mut().zip(seen.last_id + 1..) {
        d.id = i64::try_from(id)
            .map_err(|_| StoreError::Invalid("the decision log is full".into()))?;
        decision_ids.push(d.id);
        seqs.insert(d.seq);
    }

    let mut compare = vec![TxnCompare::mod_revision(
        l.rollout(&c.name),
        CompareResult::Equal,
        rollout_rev,
    )];
    let mut success = vec![RequestOp::put(
        l.rollout(&c.name),
        encode(&StoredRollout { record, seqs })?,
    )];
    if !decisions.is_empty() {
        let last_id = seen.last_id + decisions.len() as u64;
        let batch = encode(&decisions)?;
        compare.push(TxnCompare::mod_revision(
            l.decision_counter(),
            CompareResult::Equal,
            seen.counter_rev,
        ));
        success.push(RequestOp::put(l.decision_counter(), last_id.to_string()));
        success.push(RequestOp::put(
            Layout::batch(&l.log(None), last_id),
            batch.clone(),
        ));
        success.push(RequestOp::put(
            Layout::batch(&l.log(Some(&c.name)), last_id),
            batch,
        ));
    }
    if let Some(change) = &c.stable_change {
        let key = l.stable(&change.service, seen.next_stable);
        compare.push(TxnCompare::absent(key.clone()));
        success.push(RequestOp::put(key, encode(change)?));
    }
    let txn = TxnRequest {
        compare,
        success,
        failure: Vec::new(),
    };
    Ok((
        txn,
        CommitOutcome {
            revision,
            decision_ids,
        },
    ))
}

fn exists(r: &RangeResponse) -> bool {
    r.count > 0
}

fn parse_number(s: &str, kv: &crate::wire::KeyValue) -> Result<u64, StoreError> {
    s.trim().parse().map_err(|_| {
        StoreError::Corrupt(format!(
            "etcd key {} holds {s:?}, not a number",
            kv.key_lossy()
        ))
    })
}

/// The number at the end of a `…/<n>` key.
pub(crate) fn last_segment_number(kv: &crate::wire::KeyValue) -> Result<u64, StoreError> {
    let key = kv.key_lossy();
    let last = key.rsplit('/').next().unwrap_or_default();
    parse_number(last, kv)
}
