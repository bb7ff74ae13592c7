//! Rollouts and the commit: revisions, atomicity, no duplicate decisions.

use rollgate_core::Ppm;
use rollgate_core::model::{Action, Actor, DecisionRecord, Phase};
use serde_json::json;

use super::expect::{decision_count, not_found, stored_rollout};
use super::fixtures::{decision, rollout, seed_service};
use crate::{
    DecisionQuery, RolloutCommit, RolloutFilter, RolloutRecord, StableChange, Store, StoreError,
};

/// Rollouts are created once, need their service, and are listed by creation with filters.
pub async fn rollouts_create_and_list(store: &dyn Store) -> Result<(), StoreError> {
    seed_service(store, "lst-a").await?;
    seed_service(store, "lst-b").await?;
    let mut late = rollout("lst-late", "lst-a");
    late.created_at = 9_000;
    let created = store.create_rollout(late).await?;
    assert_eq!(created.revision, 1);
    store.create_rollout(rollout("lst-early", "lst-b")).await?;
    let mut done = rollout("lst-done", "lst-a");
    done.phase = Phase::Aborted;
    store.create_rollout(done).await?;

    let again = store.create_rollout(rollout("lst-late", "lst-a")).await;
    assert!(
        matches!(
            again,
            Err(StoreError::AlreadyExists {
                kind: "rollout",
                ..
            })
        ),
        "{again:?}"
    );
    let orphan = store
        .create_rollout(rollout("lst-orphan", "lst-none"))
        .await;
    not_found(orphan, "service");
    assert_eq!(store.get_rollout("lst-orphan").await?, None);
    assert_eq!(store.get_rollout("lst-late").await?, Some(created));

    let names = |filter: RolloutFilter| async move {
        let list = store.list_rollouts(&filter).await?;
        Ok::<_, StoreError>(
            list.into_iter()
                .map(|r| r.name)
                .filter(|n| n.starts_with("lst-"))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        names(RolloutFilter::default()).await?,
        ["lst-done", "lst-early", "lst-late"]
    );
    let active = RolloutFilter {
        active_only: true,
        service: None,
    };
    assert_eq!(names(active).await?, ["lst-early", "lst-late"]);
    let of_a = RolloutFilter {
        active_only: false,
        service: Some("lst-a".into()),
    };
    assert_eq!(names(of_a).await?, ["lst-done", "lst-late"]);
    Ok(())
}

/// A commit stores the new state, bumps the revision, keeps `created_at` and appends its
/// decisions with increasing ids and the rollout's seqs.
pub async fn commit_appends_decisions(store: &dyn Store) -> Result<(), StoreError> {
    seed_service(store, "app").await?;
    let current = store.create_rollout(rollout("app-r", "app")).await?;
    let mut next = current.clone();
    next.phase = Phase::Progressing;
    next.weight = Ppm::percent(5);
    next.state = json!({ "step": 1, "step_started_at": 3_000 });
    next.updated_at = 3_000;
    next.created_at = 1;
    let decisions = vec![
        decision(Action::Start, 0, 0, 3_000),
        decision(Action::Ramp, 0, 5, 3_000),
    ];
    let commit = RolloutCommit::update(&current, next.clone(), decisions.clone());
    let outcome = store.commit(commit).await?;
    assert_eq!(outcome.revision, 2);
    assert_eq!(outcome.decision_ids.len(), 2);
    assert!(outcome.decision_ids[0] > 0 && outcome.decision_ids[0] < outcome.decision_ids[1]);

    let stored = stored_rollout(store, "app-r").await?;
    let expected = RolloutRecord {
        revision: 2,
        next_seq: 2,
        created_at: current.created_at,
        ..next
    };
    assert_eq!(stored, expected);

    let log = store
        .list_decisions(&DecisionQuery::for_rollout("app-r"))
        .await?;
    assert_eq!(log.len(), 2);
    for (i, (got, sent)) in log.iter().zip(&decisions).enumerate() {
        assert_eq!(got.id, outcome.decision_ids[i]);
        assert_eq!(got.seq, i as u64);
        assert_eq!(got.rollout, "app-r");
        let same = without_ids(got) == without_ids(sent);
        assert!(same, "decision {i} round-trips: {got:?} vs {sent:?}");
    }
    Ok(())
}

/// A commit based on an old revision fails with `Conflict` and writes nothing; a commit for a
/// rollout that does not exist fails with `NotFound`.
pub async fn stale_commit_conflicts(store: &dyn Store) -> Result<(), StoreError> {
    seed_service(store, "stale").await?;
    let v1 = store.create_rollout(rollout("stale-r", "stale")).await?;
    let ramp = |from: &RolloutRecord, w: u32| {
        let mut next = from.clone();
        next.weight = Ppm::percent(w);
        RolloutCommit::update(from, next, vec![decision(Action::Ramp, 0, w, 4_000)])
    };
    store.commit(ramp(&v1, 5)).await?;
    let late = store.commit(ramp(&v1, 10)).await;
    assert!(
        matches!(
            &late,
            Err(StoreError::Conflict {
                expected: 1,
                actual: 2,
                ..
            })
        ),
        "{late:?}"
    );
    let stored = store.get_rollout("stale-r").await?;
    assert_eq!(
        stored.map(|r| (r.revision, r.weight)),
        Some((2, Ppm::percent(5)))
    );
    assert_eq!(decision_count(store, "stale-r").await?, 1);

    let mut ghost = rollout("stale-ghost", "stale");
    ghost.revision = 3;
    let missing = store.commit(ramp(&ghost, 5)).await;
    not_found(missing, "rollout");
    Ok(())
}

/// Two commits based on the same revision, sent at the same time: exactly one succeeds.
pub async fn concurrent_commits_one_wins(store: &dyn Store) -> Result<(), StoreError> {
    seed_service(store, "race").await?;
    let mut current = store.create_rollout(rollout("race-r", "race")).await?;
    for round in 0..20u32 {
        let attempt = |w: u32| {
            let mut next = current.clone();
            next.weight = Ppm::percent(w);
            RolloutCommit::update(
                &current,
                next,
                vec![decision(Action::SetWeight, 0, w, 5_000)],
            )
        };
        let (a, b) = tokio::join!(store.commit(attempt(10)), store.commit(attempt(20)));
        let wins = [&a, &b].iter().filter(|r| r.is_ok()).count();
        let conflicts = [&a, &b]
            .iter()
            .filter(|r| matches!(r, Err(StoreError::Conflict { .. })))
            .count();
        assert_eq!((wins, conflicts), (1, 1), "round {round}: {a:?} / {b:?}");
        current = stored_rollout(store, "race-r").await?;
        assert_eq!(current.revision, u64::from(round) + 2);
    }
    assert_eq!(decision_count(store, "race-r").await?, 20);
    Ok(())
}

/// A commit that fails on its decisions writes neither the state, nor any decision, nor the
/// stable change: all or nothing. Replaying an acknowledged decision is refused.
pub async fn failed_commit_writes_nothing(store: &dyn Store) -> Result<(), StoreError> {
    seed_service(store, "atom").await?;
    let current = store.create_rollout(rollout("atom-r", "atom")).await?;
    let mut next = current.clone();
    next.weight = Ppm::percent(5);
    let first = RolloutCommit::update(&current, next, vec![decision(Action::Ramp, 0, 5, 6_000)]);
    store.commit(first).await?;
    let current = stored_rollout(store, "atom-r").await?;
    let before = Some(current.clone());

    // The state change and the first decision are valid; the second repeats its seq.
    let mut promoted = current.clone();
    promoted.phase = Phase::Promoted;
    promoted.weight = Ppm::FULL;
    let mut bad = RolloutCommit::update(
        &current,
        promoted.clone(),
        vec![
            decision(Action::Ramp, 5, 100, 7_000),
            decision(Action::Promote, 100, 100, 7_000),
        ],
    )
    .with_stable_change(StableChange {
        service: "atom".into(),
        version: "v2".into(),
        since: 7_000,
        actor: Actor::Controller,
        reason: "promoted".into(),
    });
    bad.decisions[1].seq = bad.decisions[0].seq;
    let err = store.commit(bad).await;
    assert!(
        matches!(&err, Err(StoreError::DuplicateDecision { seq: 1, .. })),
        "{err:?}"
    );
    assert_eq!(
        store.get_rollout("atom-r").await?,
        before,
        "the state is unchanged"
    );
    assert_eq!(decision_count(store, "atom-r").await?, 1);
    assert!(
        store.stable_history("atom").await?.is_empty(),
        "no stable change"
    );

    // A replay of the acknowledged decision (seq 0) on top of the current revision.
    let mut replay = RolloutCommit::update(
        &current,
        promoted,
        vec![decision(Action::Ramp, 0, 5, 6_000)],
    );
    replay.decisions[0].seq = 0;
    let err = store.commit(replay).await;
    assert!(
        matches!(&err, Err(StoreError::DuplicateDecision { seq: 0, .. })),
        "{err:?}"
    );
    assert_eq!(store.get_rollout("atom-r").await?, before);
    assert_eq!(decision_count(store, "atom-r").await?, 1);
    Ok(())
}

/// Commits that contradict themselves are refused before anything is written.
pub async fn invalid_commits_are_rejected(store: &dyn Store) -> Result<(), StoreError> {
    seed_service(store, "inv").await?;
    seed_service(store, "inv-other").await?;
    let created = store.create_rollout(rollout("inv-r", "inv")).await?;
    // Move to revision 2 with next_seq 3: gaps in seqs are allowed.
    let mut advance = RolloutCommit::update(&created, created.clone(), Vec::new());
    advance.record.next_seq = 3;
    store.commit(advance).await?;
    let current = stored_rollout(store, "inv-r").await?;
    assert_eq!((current.revision, current.next_seq), (2, 3));

    let base = || {
        RolloutCommit::update(
            &current,
            current.clone(),
            vec![decision(Action::Hold, 0, 0, 1)],
        )
    };
    let mut foreign = base();
    foreign.decisions[0].rollout = "someone-else".into();
    let mut beyond = base();
    beyond.decisions[0].seq = 7;
    let mut renamed = base();
    renamed.record.name = "inv-renamed".into();
    let mut backwards = base();
    backwards.decisions.clear();
    backwards.record.next_seq = 2;
    let other_service = base().with_stable_change(StableChange {
        service: "inv-other".into(),
        version: "v2".into(),
        since: 1,
        actor: Actor::Controller,
        reason: String::new(),
    });
    for (what, commit) in [
        ("decision of another rollout", foreign),
        ("seq past next_seq", beyond),
        ("record of another rollout", renamed),
        ("next_seq going back", backwards),
        ("stable change of another service", other_service),
    ] {
        let err = store.commit(commit).await;
        assert!(
            matches!(err, Err(StoreError::Invalid(_))),
            "{what}: {err:?}"
        );
    }
    assert_eq!(decision_count(store, "inv-r").await?, 0);
    assert_eq!(store.get_rollout("inv-r").await?, Some(current));
    Ok(())
}

/// A decision without the fields the store assigns, for comparisons.
fn without_ids(d: &DecisionRecord) -> DecisionRecord {
    DecisionRecord {
        id: 0,
        seq: 0,
        rollout: String::new(),
        ..d.clone()
    }
}
