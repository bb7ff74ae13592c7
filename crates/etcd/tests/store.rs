//! `EtcdStore` against a real etcd (Debian's `etcd-server`, started on 127.0.0.1 with a
//! temporary data directory): the store conformance suite every implementation passes, and
//! what only a shared store has — two replicas racing, and a deposed leader fenced off.

#![allow(clippy::unwrap_used)]

mod support;

use rollgate_core::model::Action;
use rollgate_etcd::{EtcdStore, LocalEtcd, WriteGuard};
use rollgate_store::conformance::{self, decision, rollout, seed_service};
use rollgate_store::{RolloutCommit, Store};

/// Every check of the suite every store passes, on one store (each check uses its own names).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_on_one_store() {
    let dir = tempfile::tempdir().unwrap();
    let etcd = LocalEtcd::start(&dir.path().join("etcd")).unwrap();
    let store = EtcdStore::new(support::client(&etcd), "/rollgate");
    conformance::run_all(&store).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_one_log_without_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let etcd = LocalEtcd::start(&dir.path().join("etcd")).unwrap();
    let a = EtcdStore::new(support::client(&etcd), "/shared");
    let b = EtcdStore::new(support::client(&etcd), "/shared");
    seed_service(&a, "svc").await.unwrap();
    for name in ["ra", "rb"] {
        a.create_rollout(rollout(name, "svc")).await.unwrap();
    }
    // Each replica appends 20 decisions to its own rollout, at the same time: they race on
    // the shared decision counter, never on a rollout.
    let append = |store: EtcdStore, name: &'static str| async move {
        for i in 0..20 {
            let current = store.get_rollout(name).await.unwrap().unwrap();
            let d = vec![decision(Action::Hold, 1, 1, 1_000 + i)];
            store
                .commit(RolloutCommit::update(&current, current.clone(), d))
                .await
                .unwrap();
        }
    };
    let started = std::time::Instant::now();
    tokio::join!(append(a.clone(), "ra"), append(b.clone(), "rb"));
    eprintln!(
        "40 commits (read + commit each) from two racing replicas: {:?} per commit",
        started.elapsed() / 40
    );
    let log = a
        .list_decisions(&rollgate_store::DecisionQuery {
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap();
    let ids: Vec<i64> = log.iter().map(|d| d.id).collect();
    assert_eq!(
        ids,
        (1..=40).collect::<Vec<i64>>(),
        "ids are gap-free and unique"
    );
    for name in ["ra", "rb"] {
        let seqs: Vec<u64> = log
            .iter()
            .filter(|d| d.rollout == name)
            .map(|d| d.seq)
            .collect();
        assert_eq!(seqs, (0..20).collect::<Vec<u64>>(), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposed_writer_is_fenced_off() {
    let dir = tempfile::tempdir().unwrap();
    let etcd = LocalEtcd::start(&dir.path().join("etcd")).unwrap();
    let c = support::client(&etcd);
    let store = EtcdStore::new(c.clone(), "/fenced");
    seed_service(&store, "svc").await.unwrap();
    let created = store.create_rollout(rollout("r", "svc")).await.unwrap();

    let leader_key = b"/fenced/leader".to_vec();
    let put = c.put(&leader_key, b"replica-1", 0).await.unwrap();
    let guard = WriteGuard {
        key: leader_key.clone(),
        create_revision: put.header.revision,
    };
    let leader = store.with_guard(guard);
    leader.put_meta("k", "while leading").await.unwrap();
    let mut next = created.clone();
    next.weight = rollgate_core::Ppm::percent(5);
    let ramp = RolloutCommit::update(&created, next, vec![decision(Action::Ramp, 0, 5, 2_000)]);
    leader.commit(ramp).await.unwrap();

    // Another replica takes over: the key is deleted and created again.
    c.delete(&leader_key).await.unwrap();
    c.put(&leader_key, b"replica-2", 0).await.unwrap();
    let current = store.get_rollout("r").await.unwrap().unwrap();
    let late = RolloutCommit::update(
        &current,
        current.clone(),
        vec![decision(Action::Hold, 5, 5, 3_000)],
    );
    let err = leader.commit(late).await.unwrap_err();
    assert!(err.to_string().contains("no longer the leader"), "{err}");
    let err = leader.put_meta("k", "after losing").await.unwrap_err();
    assert!(err.to_string().contains("no longer the leader"), "{err}");
    assert_eq!(store.get_rollout("r").await.unwrap(), Some(current));
    assert_eq!(
        store.get_meta("k").await.unwrap().as_deref(),
        Some("while leading")
    );
    // The unguarded handle (the API's) still writes.
    store.put_meta("k", "api").await.unwrap();
}
