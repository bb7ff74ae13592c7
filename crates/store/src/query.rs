//! Reading the decision log a page at a time.

use rollgate_core::model::{DecisionRecord, UnixMillis};

/// In which order decisions come back. Decision ids grow in the order decisions were
/// committed, across all rollouts, so id order is the log's order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    /// Oldest first (ascending id). Page forward with `after_id` = the last id seen.
    #[default]
    OldestFirst,
    /// Newest first (descending id). Page backward with `before_id` = the last id seen.
    NewestFirst,
}

/// Which decisions `list_decisions` and `count_decisions` return. All conditions combine with
/// AND; the default is "every decision, oldest first, one default-sized page".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecisionQuery {
    /// Only decisions of this rollout.
    pub rollout: Option<String>,
    /// Only decisions made at or after this time.
    pub since: Option<UnixMillis>,
    /// Only decisions made before this time.
    pub until: Option<UnixMillis>,
    /// Only decisions with an id greater than this (a cursor).
    pub after_id: Option<i64>,
    /// Only decisions with an id smaller than this (a cursor).
    pub before_id: Option<i64>,
    /// The page size: `None` means [`DecisionQuery::DEFAULT_LIMIT`], and anything above
    /// [`DecisionQuery::MAX_LIMIT`] is capped. Ignored by `count_decisions`.
    pub limit: Option<u32>,
    /// Oldest or newest first. Ignored by `count_decisions`.
    pub order: Order,
}

impl DecisionQuery {
    /// The page size when none is asked for.
    pub const DEFAULT_LIMIT: u32 = 100;
    /// The largest page the store returns at once.
    pub const MAX_LIMIT: u32 = 1000;

    /// Every decision of one rollout, oldest first (one page).
    pub fn for_rollout(rollout: impl Into<String>) -> DecisionQuery {
        DecisionQuery {
            rollout: Some(rollout.into()),
            ..DecisionQuery::default()
        }
    }

    /// The page size actually used.
    pub fn effective_limit(&self) -> u32 {
        self.limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .min(Self::MAX_LIMIT)
    }

    /// True when `d` passes every condition (not the limit).
    pub fn matches(&self, d: &DecisionRecord) -> bool {
        self.rollout.as_ref().is_none_or(|r| *r == d.rollout)
            && self.since.is_none_or(|t| d.at >= t)
            && self.until.is_none_or(|t| d.at < t)
            && self.after_id.is_none_or(|id| d.id > id)
            && self.before_id.is_none_or(|id| d.id < id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_defaults_and_caps() {
        assert_eq!(DecisionQuery::default().effective_limit(), 100);
        let q = DecisionQuery {
            limit: Some(5_000),
            ..DecisionQuery::default()
        };
        assert_eq!(q.effective_limit(), 1000);
        let q = DecisionQuery {
            limit: Some(0),
            ..DecisionQuery::default()
        };
        assert_eq!(q.effective_limit(), 0);
    }
}
