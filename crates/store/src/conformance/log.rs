//! Reading the decision log: order, cursors, time ranges, counts and page sizes.

use rollgate_core::model::{Action, DecisionRecord};

use super::expect::{decision_count, stored_rollout};
use super::fixtures::{decision, rollout, seed_service};
use crate::{DecisionQuery, Order, RolloutCommit, Store, StoreError};

/// Pages of the log come back in id order without gaps or repeats, forwards and backwards,
/// filtered by rollout and time, and never larger than the limit.
pub async fn decisions_paginate(store: &dyn Store) -> Result<(), StoreError> {
    seed_service(store, "page").await?;
    for name in ["page-a", "page-b"] {
        store.create_rollout(rollout(name, "page")).await?;
    }
    let newest = DecisionQuery {
        limit: Some(1),
        order: Order::NewestFirst,
        ..Default::default()
    };
    let base_id = store
        .list_decisions(&newest)
        .await?
        .first()
        .map_or(0, |d| d.id);

    // 30 commits of one decision each: a, a, b, a, a, b… at 10_000 + 100 * i.
    let owner = |i: i64| if i % 3 == 2 { "page-b" } else { "page-a" };
    for i in 0..30 {
        append(
            store,
            owner(i),
            vec![decision(Action::Hold, 1, 1, 10_000 + 100 * i)],
        )
        .await?;
    }

    let everything = DecisionQuery {
        after_id: Some(base_id),
        limit: Some(1000),
        ..Default::default()
    };
    let all = store.list_decisions(&everything).await?;
    let owners: Vec<&str> = all.iter().map(|d| d.rollout.as_str()).collect();
    let expected: Vec<&str> = (0..30).map(owner).collect();
    assert_eq!(
        owners, expected,
        "the log is in commit order across rollouts"
    );
    assert_eq!(store.count_decisions(&everything).await?, 30);

    let forward = page_through(
        store,
        DecisionQuery {
            limit: Some(7),
            ..DecisionQuery::for_rollout("page-a")
        },
    )
    .await?;
    assert_eq!(
        forward.iter().map(|d| d.seq).collect::<Vec<_>>(),
        (0..20).collect::<Vec<u64>>()
    );
    let backward = page_through(
        store,
        DecisionQuery {
            limit: Some(6),
            order: Order::NewestFirst,
            ..DecisionQuery::for_rollout("page-a")
        },
    )
    .await?;
    assert_eq!(backward, forward.iter().rev().cloned().collect::<Vec<_>>());

    // Time range [10_500, 11_500): commits 5..15, of which 6 belong to page-a.
    let window = DecisionQuery {
        since: Some(10_500),
        until: Some(11_500),
        ..DecisionQuery::for_rollout("page-a")
    };
    let in_window = store.list_decisions(&window).await?;
    assert_eq!(
        in_window.iter().map(|d| d.at).collect::<Vec<_>>(),
        [10_600, 10_700, 10_900, 11_000, 11_200, 11_300]
    );
    assert_eq!(store.count_decisions(&window).await?, 6);
    assert_eq!(decision_count(store, "page-b").await?, 10);

    // Page sizes: the default, and the cap.
    store.create_rollout(rollout("page-bulk", "page")).await?;
    let bulk = (0..1001)
        .map(|i| decision(Action::Hold, 1, 1, 20_000 + i))
        .collect();
    append(store, "page-bulk", bulk).await?;
    let bulk_query = DecisionQuery::for_rollout("page-bulk");
    assert_eq!(
        store.list_decisions(&bulk_query).await?.len(),
        DecisionQuery::DEFAULT_LIMIT as usize
    );
    let huge = DecisionQuery {
        limit: Some(5_000),
        ..bulk_query.clone()
    };
    assert_eq!(
        store.list_decisions(&huge).await?.len(),
        DecisionQuery::MAX_LIMIT as usize
    );
    assert_eq!(store.count_decisions(&huge).await?, 1001);
    Ok(())
}

/// Commits `decisions` on top of the rollout's current state.
async fn append(
    store: &dyn Store,
    name: &str,
    decisions: Vec<DecisionRecord>,
) -> Result<(), StoreError> {
    let current = stored_rollout(store, name).await?;
    store
        .commit(RolloutCommit::update(&current, current.clone(), decisions))
        .await?;
    Ok(())
}

/// Follows the cursor from the first page to the last, checking each page's size and order.
async fn page_through(
    store: &dyn Store,
    mut query: DecisionQuery,
) -> Result<Vec<DecisionRecord>, StoreError> {
    let limit = query.effective_limit() as usize;
    let mut seen: Vec<DecisionRecord> = Vec::new();
    loop {
        let page = store.list_decisions(&query).await?;
        assert!(page.len() <= limit, "a page is never larger than the limit");
        let Some(last) = page.last() else { break };
        match query.order {
            Order::OldestFirst => query.after_id = Some(last.id),
            Order::NewestFirst => query.before_id = Some(last.id),
        }
        seen.extend(page);
    }
    let ordered = seen.windows(2).all(|w| match query.order {
        Order::OldestFirst => w[0].id < w[1].id,
        Order::NewestFirst => w[0].id > w[1].id,
    });
    assert!(ordered, "ids are strictly ordered across pages");
    Ok(seen)
}
