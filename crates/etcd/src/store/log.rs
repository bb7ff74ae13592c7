//! Reading the decision log. Each commit's decisions are one key named by the commit's last
//! id, in the global log and in the rollout's copy, so a page is a key range: forward from
//! `after_id + 1`, or backward from `before_id` (plus the one commit that straddles it).
//! Time filters are applied to the records read; pages of commits are read at one revision.

use std::ops::ControlFlow;

use rollgate_core::model::DecisionRecord;
use rollgate_store::{DecisionQuery, Order, StoreError};

use super::EtcdStore;
use super::codec::{backend, decode};
use super::layout::Layout;
use crate::keys::prefix_end;
use crate::wire::RangeRequest;

/// Commits read per range request.
const PAGE: usize = 64;

impl EtcdStore {
    /// Up to `limit` decisions that match `q`, in its order.
    pub(crate) async fn decisions(
        &self,
        q: &DecisionQuery,
        limit: usize,
    ) -> Result<Vec<DecisionRecord>, StoreError> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        self.visit(q, |d| {
            out.push(d);
            if out.len() >= limit {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .await?;
        Ok(out)
    }

    /// How many decisions match `q` (limit and order ignored).
    pub(crate) async fn count(&self, q: &DecisionQuery) -> Result<u64, StoreError> {
        let forward = DecisionQuery {
            order: Order::OldestFirst,
            ..q.clone()
        };
        let mut n = 0u64;
        self.visit(&forward, |_| {
            n += 1;
            ControlFlow::Continue(())
        })
        .await?;
        Ok(n)
    }

    /// Calls `f` with every decision matching `q`, in `q.order`, until it breaks.
    async fn visit(
        &self,
        q: &DecisionQuery,
        mut f: impl FnMut(DecisionRecord) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let log = self.layout.log(q.rollout.as_deref());
        let after = q
            .after_id
            .map_or(0, |a| u64::try_from(a.saturating_add(1)).unwrap_or(0));
        let start = Layout::batch(&log, after);
        let end = prefix_end(&log);
        let mut take = |batch: Vec<DecisionRecord>, newest_first: bool| {
            let mut keep = |d: DecisionRecord| {
                if q.matches(&d) {
                    f(d)
                } else {
                    ControlFlow::Continue(())
                }
            };
            if newest_first {
                batch.into_iter().rev().try_for_each(&mut keep)
            } else {
                batch.into_iter().try_for_each(&mut keep)
            }
        };
        match (q.order, q.before_id) {
            (Order::OldestFirst, _) => {
                self.scan(RangeRequest::range(start, end), false, |batch| {
                    let past_end = batch
                        .first()
                        .is_some_and(|d| q.before_id.is_some_and(|b| d.id >= b));
                    if past_end {
                        ControlFlow::Break(())
                    } else {
                        take(batch, false)
                    }
                })
                .await
            }
            (Order::NewestFirst, before) => {
                let end = match before {
                    Some(b) => {
                        // The commit holding `b - 1` may end at or after `b`: read it first.
                        let at = Layout::batch(&log, u64::try_from(b).unwrap_or(0));
                        let straddle = RangeRequest::range(at.clone(), end).limit(1);
                        let mut flow = ControlFlow::Continue(());
                        self.scan(straddle, false, |batch| {
                            flow = take(batch, true);
                            ControlFlow::Break(())
                        })
                        .await?;
                        if flow.is_break() {
                            return Ok(());
                        }
                        at
                    }
                    None => end,
                };
                self.scan(RangeRequest::range(start, end), true, |batch| {
                    take(batch, true)
                })
                .await
            }
        }
    }

    /// Reads the commit batches of `range` page by page at one revision, in key order (or
    /// reversed), handing each to `f` until it breaks.
    async fn scan(
        &self,
        mut range: RangeRequest,
        descending: bool,
        mut f: impl FnMut(Vec<DecisionRecord>) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let single = range.limit > 0;
        if !single {
            range = range.limit(PAGE);
        }
        if descending {
            range = range.descending();
        }
        loop {
            let resp = self.etcd.range(&range).await.map_err(backend)?;
            range.revision = resp.header.revision;
            for kv in &resp.kvs {
                if f(decode(kv)?).is_break() {
                    return Ok(());
                }
            }
            let Some(last) = resp.kvs.last() else {
                return Ok(());
            };
            if single || !resp.more {
                return Ok(());
            }
            if descending {
                range.range_end = last.key.clone();
            } else {
                range.key = last.key.clone();
                range.key.push(0);
            }
        }
    }
}
