//! Crash safety: a child process commits in a loop and is killed with SIGKILL at a random
//! moment, several times over the same file. After each kill the reopened store must hold every
//! acknowledged commit, its decisions exactly once, and agree with itself.
//!
//! This is a `harness = false` test: the same binary is the parent (no environment variable)
//! and the child (`ROLLGATE_STORE_CRASH_CHILD` names the database file).

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rollgate_core::Ppm;
use rollgate_core::model::{Action, Actor, DecisionRecord};
use rollgate_store::conformance::{decision, rollout, seed_service};
use rollgate_store::{DecisionQuery, RolloutCommit, SqliteStore, StableChange, Store};
use serde_json::json;

const CHILD_ENV: &str = "ROLLGATE_STORE_CRASH_CHILD";
const ROUNDS: usize = 6;
/// The child stops by itself after this many commits if nobody kills it.
const MAX_COMMITS: u64 = 50_000;
const ROLLOUT: &str = "crash";

fn main() {
    match std::env::var(CHILD_ENV) {
        Ok(path) => runtime().block_on(child(Path::new(&path))),
        Err(_) => parent(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// How many decisions the commit that produces `revision` records.
fn decisions_at(revision: u64) -> u64 {
    1 + revision % 3
}

/// Whether the commit that produces `revision` also changes the stable version.
fn promotes_at(revision: u64) -> bool {
    revision.is_multiple_of(10)
}

/// Commits forever (bounded), printing `ack <revision>` after each commit returns.
async fn child(path: &Path) {
    let store = SqliteStore::open(path).unwrap();
    let mut current = match store.get_rollout(ROLLOUT).await.unwrap() {
        Some(r) => r,
        None => {
            seed_service(&store, "shop").await.unwrap();
            store
                .create_rollout(rollout(ROLLOUT, "shop"))
                .await
                .unwrap()
        }
    };
    let mut out = std::io::stdout().lock();
    for _ in 0..MAX_COMMITS {
        let revision = current.revision + 1;
        let mut next = current.clone();
        next.state = json!({ "counter": revision });
        next.weight = Ppm::saturating(revision * 1000 % 1_000_001);
        let decisions = (0..decisions_at(revision))
            .map(|k| DecisionRecord {
                details: json!({ "revision": revision, "k": k }),
                ..decision(Action::Ramp, 0, 1, 1_000 + revision as i64)
            })
            .collect();
        let mut commit = RolloutCommit::update(&current, next, decisions);
        if promotes_at(revision) {
            commit = commit.with_stable_change(StableChange {
                service: "shop".into(),
                version: if revision.is_multiple_of(20) {
                    "v1"
                } else {
                    "v2"
                }
                .into(),
                since: revision as i64,
                actor: Actor::Controller,
                reason: format!("revision {revision}"),
            });
        }
        current = commit.record.clone();
        let outcome = store.commit(commit).await.unwrap();
        current.revision = outcome.revision;
        assert_eq!(outcome.revision, revision);
        writeln!(out, "ack {revision}").unwrap();
        out.flush().unwrap();
    }
}

fn parent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let mut previous = 0;
    for round in 0..ROUNDS {
        let acked = run_and_kill(&path);
        let revision = runtime().block_on(verify(&path, acked));
        assert!(
            revision >= previous,
            "round {round}: revision went back from {previous} to {revision}"
        );
        println!("round {round}: killed after ack {acked}, store at revision {revision}");
        previous = revision;
    }
    assert!(
        previous > ROUNDS as u64,
        "the children made progress: {previous}"
    );
    println!("crash test passed: {ROUNDS} kills, final revision {previous}");
}

/// Starts a child, kills it with SIGKILL at a random moment after its first acknowledged
/// commit, and returns the highest revision it acknowledged.
fn run_and_kill(path: &Path) -> u64 {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(rev) = line.strip_prefix("ack ") {
                tx.send(rev.parse::<u64>().unwrap()).unwrap();
            }
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the child acknowledged nothing");
    let delay = Duration::from_millis(u64::from(getrandom::u32().unwrap() % 400));
    std::thread::sleep(delay);
    // Child::kill sends SIGKILL to this child's pid only.
    let _ = child.kill();
    child.wait().unwrap();
    reader.join().unwrap();
    rx.try_iter().fold(first, u64::max)
}

/// Checks the store after a kill and returns the rollout's revision.
async fn verify(path: &Path, acked: u64) -> u64 {
    let store = SqliteStore::open(path).unwrap();
    store.integrity_check().await.unwrap();
    let record = store.get_rollout(ROLLOUT).await.unwrap().unwrap();
    let revision = record.revision;
    assert!(
        revision == acked || revision == acked + 1,
        "acknowledged {acked}, stored {revision}: at most the one commit in flight may be extra"
    );
    assert_eq!(record.state, json!({ "counter": revision }));

    let decisions = all_decisions(&store).await;
    let expected: Vec<(u64, u64)> = (2..=revision)
        .flat_map(|rev| (0..decisions_at(rev)).map(move |k| (rev, k)))
        .collect();
    let found: Vec<(u64, u64)> = decisions
        .iter()
        .map(|d| {
            (
                d.details["revision"].as_u64().unwrap(),
                d.details["k"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found, expected,
        "every committed decision exactly once, in order"
    );
    let seqs: Vec<u64> = decisions.iter().map(|d| d.seq).collect();
    assert_eq!(
        seqs,
        (0..record.next_seq).collect::<Vec<_>>(),
        "seqs agree with next_seq"
    );
    assert!(decisions.windows(2).all(|w| w[0].id < w[1].id));

    let promotions = (2..=revision).filter(|&r| promotes_at(r)).count();
    assert_eq!(
        store.stable_history("shop").await.unwrap().len(),
        promotions
    );
    revision
}

async fn all_decisions(store: &dyn Store) -> Vec<DecisionRecord> {
    let mut query = DecisionQuery {
        limit: Some(DecisionQuery::MAX_LIMIT),
        ..DecisionQuery::for_rollout(ROLLOUT)
    };
    let mut all = Vec::new();
    loop {
        let page = store.list_decisions(&query).await.unwrap();
        let Some(last) = page.last() else { return all };
        query.after_id = Some(last.id);
        all.extend(page);
    }
}
