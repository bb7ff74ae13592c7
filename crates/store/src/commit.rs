//! The one write that moves a rollout: its new state, its decisions and (on promote or
//! restore) the service's new stable version, all or nothing.

use rollgate_core::model::DecisionRecord;

use crate::{RolloutRecord, StableChange, StoreError};

/// A rollout's state change with the decisions that explain it, written in one transaction.
#[derive(Clone, Debug, PartialEq)]
pub struct RolloutCommit {
    /// The rollout.
    pub name: String,
    /// The revision the writer read; the commit fails with `Conflict` if the rollout changed
    /// since. `0` means "the rollout must not exist yet": the commit creates it.
    pub expected_revision: u64,
    /// The rollout's new state. Its `revision` is ignored (the store assigns it), and so is its
    /// `created_at` when the rollout already exists.
    pub record: RolloutRecord,
    /// The decisions behind the change, appended to the audit log. Each names this rollout and
    /// carries its `seq`; a `seq` already recorded for the rollout fails the whole commit with
    /// `DuplicateDecision`. Their `id` is ignored (the store assigns it).
    pub decisions: Vec<DecisionRecord>,
    /// The service's new stable version, on promote or restore.
    pub stable_change: Option<StableChange>,
}

/// What a successful commit wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitOutcome {
    /// The rollout's revision after the commit.
    pub revision: u64,
    /// The ids the decisions got in the audit log, in the commit's order.
    pub decision_ids: Vec<i64>,
}

/// What a store knows about a rollout before a commit, for [`RolloutCommit::check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CurrentRollout {
    /// Its revision.
    pub revision: u64,
    /// Its next decision seq.
    pub next_seq: u64,
}

impl RolloutCommit {
    /// The change from `current` (as read from the store) to `next`, recording `decisions`:
    /// names them after the rollout, numbers them from `current.next_seq` and advances
    /// `next.next_seq` past them. This is how the controller and the API build commits.
    pub fn update(
        current: &RolloutRecord,
        mut next: RolloutRecord,
        decisions: Vec<DecisionRecord>,
    ) -> RolloutCommit {
        next.name.clone_from(&current.name);
        next.next_seq = current.next_seq;
        RolloutCommit::numbered(current.revision, next, decisions)
    }

    /// Creates `record` (which must not exist yet) together with its first `decisions`,
    /// numbered from `record.next_seq`.
    pub fn create(record: RolloutRecord, decisions: Vec<DecisionRecord>) -> RolloutCommit {
        RolloutCommit::numbered(0, record, decisions)
    }

    /// Also makes `change.version` the service's stable version, in the same transaction.
    pub fn with_stable_change(mut self, change: StableChange) -> RolloutCommit {
        self.stable_change = Some(change);
        self
    }

    fn numbered(
        expected_revision: u64,
        mut record: RolloutRecord,
        mut decisions: Vec<DecisionRecord>,
    ) -> RolloutCommit {
        for d in &mut decisions {
            d.id = 0;
            d.rollout.clone_from(&record.name);
            d.seq = record.next_seq;
            record.next_seq += 1;
        }
        RolloutCommit {
            name: record.name.clone(),
            expected_revision,
            record,
            decisions,
            stable_change: None,
        }
    }

    /// Checks the commit against the rollout as stored (`None`: it does not exist) and
    /// returns the revision it will have. Every store runs this inside its transaction before
    /// writing; duplicate decisions and missing services or versions are checked by the store.
    pub fn check(&self, current: Option<CurrentRollout>) -> Result<u64, StoreError> {
        let revision = match (self.expected_revision, current) {
            (0, None) => 1,
            (0, Some(cur)) => return Err(self.conflict(cur.revision)),
            (_, None) => return Err(StoreError::not_found("rollout", &self.name)),
            (expected, Some(cur)) if cur.revision != expected => {
                return Err(self.conflict(cur.revision));
            }
            (expected, Some(_)) => expected + 1,
        };
        self.check_shape(current.map_or(0, |c| c.next_seq))?;
        Ok(revision)
    }

    fn conflict(&self, actual: u64) -> StoreError {
        StoreError::Conflict {
            rollout: self.name.clone(),
            expected: self.expected_revision,
            actual,
        }
    }

    fn check_shape(&self, stored_next_seq: u64) -> Result<(), StoreError> {
        let invalid = |msg: String| Err(StoreError::Invalid(msg));
        if self.record.name != self.name {
            return invalid(format!(
                "commit for rollout {:?} carries the record of {:?}",
                self.name, self.record.name
            ));
        }
        if self.record.next_seq < stored_next_seq {
            return invalid(format!(
                "rollout {:?}: next_seq would go back from {stored_next_seq} to {}",
                self.name, self.record.next_seq
            ));
        }
        for d in &self.decisions {
            if d.rollout != self.name {
                return invalid(format!(
                    "a decision for rollout {:?} was committed with rollout {:?}",
                    d.rollout, self.name
                ));
            }
            if d.seq >= self.record.next_seq {
                return invalid(format!(
                    "rollout {:?}: decision seq {} is not below next_seq {}",
                    self.name, d.seq, self.record.next_seq
                ));
            }
        }
        if let Some(change) = &self.stable_change
            && change.service != self.record.service
        {
            return invalid(format!(
                "rollout {:?} of service {:?} cannot change the stable version of {:?}",
                self.name, self.record.service, change.service
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rollgate_core::model::Action;

    use super::*;
    use crate::conformance::{decision, rollout};

    fn stored(revision: u64, next_seq: u64) -> RolloutRecord {
        RolloutRecord {
            revision,
            next_seq,
            ..rollout("r", "svc")
        }
    }

    #[test]
    fn update_numbers_decisions_from_the_stored_counter() {
        let current = stored(4, 7);
        let mut next = stored(0, 0);
        next.name = "renamed-by-mistake".into();
        let ds = vec![
            decision(Action::Ramp, 0, 5, 1),
            decision(Action::Hold, 5, 5, 2),
        ];
        let c = RolloutCommit::update(&current, next, ds);
        assert_eq!(c.expected_revision, 4);
        assert_eq!(c.record.name, "r");
        assert_eq!(c.record.next_seq, 9);
        let seqs: Vec<(&str, u64)> = c
            .decisions
            .iter()
            .map(|d| (d.rollout.as_str(), d.seq))
            .collect();
        assert_eq!(seqs, [("r", 7), ("r", 8)]);
        assert_eq!(
            c.check(Some(CurrentRollout {
                revision: 4,
                next_seq: 7
            }))
            .unwrap(),
            5
        );
    }

    #[test]
    fn create_expects_no_rollout() {
        let c = RolloutCommit::create(stored(0, 0), vec![decision(Action::Start, 0, 0, 1)]);
        assert_eq!(c.check(None).unwrap(), 1);
        let existing = Some(CurrentRollout {
            revision: 3,
            next_seq: 1,
        });
        assert!(matches!(
            c.check(existing),
            Err(StoreError::Conflict {
                expected: 0,
                actual: 3,
                ..
            })
        ));
    }

    #[test]
    fn revisions_are_compared_first() {
        let mut c = RolloutCommit::update(&stored(2, 0), stored(0, 0), vec![]);
        c.record.name = "other".into();
        let moved_on = Some(CurrentRollout {
            revision: 3,
            next_seq: 0,
        });
        assert!(matches!(
            c.check(moved_on),
            Err(StoreError::Conflict { .. })
        ));
        assert!(matches!(
            c.check(None),
            Err(StoreError::NotFound {
                kind: "rollout",
                ..
            })
        ));
        let same = Some(CurrentRollout {
            revision: 2,
            next_seq: 0,
        });
        assert!(matches!(c.check(same), Err(StoreError::Invalid(_))));
    }

    #[test]
    fn seqs_must_stay_below_next_seq_and_never_go_back() {
        let current = Some(CurrentRollout {
            revision: 1,
            next_seq: 5,
        });
        let mut c = RolloutCommit::update(
            &stored(1, 5),
            stored(0, 0),
            vec![decision(Action::Hold, 0, 0, 1)],
        );
        c.decisions[0].seq = 6;
        assert!(matches!(c.check(current), Err(StoreError::Invalid(_))));
        c.decisions.clear();
        c.record.next_seq = 4;
        assert!(matches!(c.check(current), Err(StoreError::Invalid(_))));
        c.record.next_seq = 5;
        assert_eq!(c.check(current).unwrap(), 2);
    }
}
