//! Which version was stable when, derived from the append-only list of stable changes.

use std::collections::HashMap;

use rollgate_core::model::VersionSnapshot;

use crate::{StableChange, StablePeriod, VersionEntry};

/// Pairs each snapshot with the periods it was stable. `history` is one service's stable
/// changes in the order they were recorded: each period lasts until the next change.
pub fn version_entries(
    snapshots: Vec<VersionSnapshot>,
    history: &[StableChange],
) -> Vec<VersionEntry> {
    let mut periods: HashMap<&str, Vec<StablePeriod>> = HashMap::new();
    for (i, change) in history.iter().enumerate() {
        periods
            .entry(change.version.as_str())
            .or_default()
            .push(StablePeriod {
                since: change.since,
                until: history.get(i + 1).map(|next| next.since),
                actor: change.actor.clone(),
                reason: change.reason.clone(),
            });
    }
    snapshots
        .into_iter()
        .map(|snapshot| VersionEntry {
            stable_periods: periods.remove(snapshot.name.as_str()).unwrap_or_default(),
            snapshot,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rollgate_core::model::Actor;

    use super::*;

    fn snap(name: &str) -> VersionSnapshot {
        VersionSnapshot {
            service: "shop".into(),
            name: name.into(),
            endpoints: vec![],
            labels: Default::default(),
            created_at: 0,
            created_by: "config".into(),
        }
    }

    fn change(version: &str, since: i64) -> StableChange {
        StableChange {
            service: "shop".into(),
            version: version.into(),
            since,
            actor: Actor::Controller,
            reason: String::new(),
        }
    }

    #[test]
    fn periods_end_at_the_next_change() {
        let history = [change("v1", 10), change("v2", 20), change("v1", 30)];
        let entries = version_entries(vec![snap("v1"), snap("v2"), snap("v3")], &history);
        let spans = |e: &VersionEntry| -> Vec<(i64, Option<i64>)> {
            e.stable_periods
                .iter()
                .map(|p| (p.since, p.until))
                .collect()
        };
        assert_eq!(spans(&entries[0]), vec![(10, Some(20)), (30, None)]);
        assert_eq!(spans(&entries[1]), vec![(20, Some(30))]);
        assert!(entries[2].stable_periods.is_empty());
        assert!(entries[0].is_stable());
        assert!(!entries[1].is_stable());
        assert!(!entries[2].is_stable());
    }
}
