//! Commands from people through `ControlPlane::command`, rollout creation, version restore,
//! and their interplay with the loop.
#![allow(clippy::unwrap_used)]

#[path = "support/harness.rs"]
mod harness;

use harness::{CONFIG, Harness};
use rollgate_control::ControlError;
use rollgate_controller::Command;
use rollgate_core::Ppm;
use rollgate_core::model::{Action, Actor, Phase, VersionSnapshot};
use rollgate_store::DecisionQuery;
use serde_json::json;

fn ann() -> Actor {
    Actor::User("ann".into())
}

#[tokio::test]
async fn pause_set_weight_resume_promote() {
    let h = Harness::start(CONFIG).await;
    h.step().await; // started at 10%
    let v = h
        .plane
        .command("shop-v2", Command::Pause, ann())
        .await
        .unwrap();
    assert_eq!((v.phase, v.weight), (Phase::Paused, Ppm::percent(10)));
    let err = h
        .plane
        .command("shop-v2", Command::Pause, ann())
        .await
        .unwrap_err();
    assert!(matches!(err, ControlError::Refused(_)), "{err}");
    assert!(err.to_string().contains("already paused"), "{err}");

    let v = h
        .plane
        .command("shop-v2", Command::SetWeight(Ppm::percent(30)), ann())
        .await
        .unwrap();
    assert_eq!((v.phase, v.weight), (Phase::Paused, Ppm::percent(30)));
    assert_eq!(
        h.publisher.last().unwrap().weight("shop-v2"),
        Some(Ppm::percent(30))
    );
    // A paused rollout stays where the person put it.
    for _ in 0..20 {
        h.step().await;
    }
    assert_eq!(
        h.plane.rollout("shop-v2").await.unwrap().weight,
        Ppm::percent(30)
    );

    let v = h
        .plane
        .command("shop-v2", Command::Resume, ann())
        .await
        .unwrap();
    assert_eq!(v.phase, Phase::Progressing);
    let v = h
        .plane
        .command("shop-v2", Command::Promote, ann())
        .await
        .unwrap();
    assert_eq!((v.phase, v.weight), (Phase::Promoted, Ppm::FULL));
    assert_eq!(
        h.store.current_stable("shop").await.unwrap().unwrap().actor,
        ann()
    );
    let err = h
        .plane
        .command("shop-v2", Command::Resume, ann())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("promoted"), "{err}");

    let decisions = h
        .store
        .list_decisions(&DecisionQuery::for_rollout("shop-v2"))
        .await
        .unwrap();
    let by_ann: Vec<Action> = decisions
        .iter()
        .filter(|d| d.actor == ann())
        .map(|d| d.action)
        .collect();
    // Promoting from 30% records the ramp to 100% and the promotion.
    assert_eq!(
        by_ann,
        [
            Action::Pause,
            Action::SetWeight,
            Action::Resume,
            Action::Ramp,
            Action::Promote
        ]
    );
    let page = h
        .plane
        .decisions(&DecisionQuery::for_rollout("shop-v2"))
        .await
        .unwrap();
    assert_eq!(page.total, decisions.len() as u64);
    // A later page still reports the total of every page.
    let second = h
        .plane
        .decisions(&DecisionQuery {
            limit: Some(2),
            after_id: page.decisions.first().map(|d| d.id),
            ..DecisionQuery::for_rollout("shop-v2")
        })
        .await
        .unwrap();
    assert_eq!(second.decisions.len(), 2);
    assert_eq!(second.total, decisions.len() as u64);
}

#[tokio::test]
async fn abort_sends_everyone_to_stable_and_retry_starts_again() {
    let h = Harness::start(CONFIG).await;
    h.step().await;
    let v = h
        .plane
        .command("shop-v2", Command::Abort, ann())
        .await
        .unwrap();
    assert_eq!((v.phase, v.weight), (Phase::Aborted, Ppm::ZERO));
    assert_eq!(h.publisher.last().unwrap().weight("shop-v2"), None);
    let v = h
        .plane
        .command("shop-v2", Command::Retry, ann())
        .await
        .unwrap();
    assert_eq!((v.phase, v.weight), (Phase::Progressing, Ppm::percent(10)));
    assert_eq!(
        h.publisher.last().unwrap().weight("shop-v2"),
        Some(Ppm::percent(10))
    );
}

#[tokio::test]
async fn unknown_rollouts_get_a_suggestion() {
    let h = Harness::start(CONFIG).await;
    let err = h
        .plane
        .command("shop-v3", Command::Pause, ann())
        .await
        .unwrap_err();
    assert!(matches!(err, ControlError::NotFound { .. }));
    assert!(
        err.to_string().contains("did you mean \"shop-v2\""),
        "{err}"
    );
}

#[tokio::test]
async fn created_rollouts_are_validated_whole_and_against_the_store() {
    let h = Harness::start(CONFIG).await;
    let bad = json!({
        "name": "shop-v3", "service": "shop", "stable": "v1", "canary": "v9",
        "strategy": {"steps": [{"weight": "10%"}]},
        "analysis": {"conditions": [{"name": "e", "fail_when": "eror_rate > 5%"}]}
    });
    let err = h.plane.create_rollout(bad, ann()).await.unwrap_err();
    let ControlError::Invalid(errors) = err else {
        panic!("{err}")
    };
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert!(
        paths.contains(&"analysis.conditions[0].fail_when"),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|p| p.starts_with("strategy.steps")),
        "{paths:?}"
    );

    // Valid on its own, but the service already has a rollout.
    let second = json!({"name": "shop-again", "service": "shop", "stable": "v1", "canary": "v2",
                        "strategy": {"steps": [{"weight": "100%"}]}});
    let err = h
        .plane
        .create_rollout(second.clone(), ann())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("one rollout at a time"), "{err}");

    // Once the first is over, the second can start, from the pending state.
    h.plane
        .command("shop-v2", Command::Abort, ann())
        .await
        .unwrap();
    let v = h.plane.create_rollout(second, ann()).await.unwrap();
    assert_eq!((v.phase, v.weight), (Phase::Pending, Ppm::ZERO));
    h.step().await;
    assert_eq!(
        h.plane.rollout("shop-again").await.unwrap().phase,
        Phase::Progressing
    );
}

#[tokio::test]
async fn a_rollout_without_strategy_moves_only_by_hand() {
    let config = CONFIG.replace(
        "[rollouts.strategy]\nsteps = [\n  { weight = \"10%\", min_duration = \"10s\" },\n  { weight = \"50%\", min_duration = \"10s\" },\n  { weight = \"100%\" },\n]\n",
        "weight = \"5%\"\n",
    );
    assert_ne!(config, CONFIG);
    let h = Harness::start(&config).await;
    let v = h.plane.rollout("shop-v2").await.unwrap();
    assert_eq!(
        (v.phase, v.weight, v.strategy.as_str()),
        (Phase::Paused, Ppm::percent(5), "manual")
    );
    for _ in 0..30 {
        h.step().await;
    }
    assert_eq!(
        h.plane.rollout("shop-v2").await.unwrap().weight,
        Ppm::percent(5)
    );
    let err = h
        .plane
        .command("shop-v2", Command::Resume, ann())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no strategy"), "{err}");
    let v = h
        .plane
        .command("shop-v2", Command::SetWeight(Ppm::percent(20)), ann())
        .await
        .unwrap();
    assert_eq!(v.weight, Ppm::percent(20));
}

#[tokio::test]
async fn a_version_restore_aborts_the_running_rollout_and_is_recorded() {
    let h = Harness::start(CONFIG).await;
    h.step().await;
    let v0 = VersionSnapshot {
        service: "shop".into(),
        name: "v0".into(),
        endpoints: vec!["127.0.0.1:3".into()],
        labels: Default::default(),
        created_at: 0,
        created_by: String::new(),
    };
    let stored = h.plane.create_version(v0.clone(), ann()).await.unwrap();
    assert_eq!(stored.created_by, "ann");
    // The same snapshot again is fine; different endpoints under the name are not.
    h.plane.create_version(v0.clone(), ann()).await.unwrap();
    let changed = VersionSnapshot {
        endpoints: vec!["127.0.0.1:4".into()],
        ..v0.clone()
    };
    assert!(matches!(
        h.plane.create_version(changed, ann()).await,
        Err(ControlError::Invalid(_))
    ));
    let bad = VersionSnapshot {
        name: "v 0".into(),
        endpoints: vec![],
        ..v0
    };
    let err = h.plane.create_version(bad, ann()).await.unwrap_err();
    assert!(matches!(err, ControlError::Invalid(_)), "{err}");

    let out = h.plane.restore_version("shop", "v0", ann()).await.unwrap();
    assert_eq!((out.previous.as_str(), out.stable.as_str()), ("v1", "v0"));
    assert_eq!(out.aborted.as_ref().map(|a| a.phase), Some(Phase::Aborted));
    assert_eq!(out.record.strategy, "restore");
    let stable = h.store.current_stable("shop").await.unwrap().unwrap();
    assert_eq!(
        (stable.version.as_str(), stable.actor.clone()),
        ("v0", ann())
    );
    let restore = h
        .store
        .list_decisions(&DecisionQuery::for_rollout(&out.record.name))
        .await
        .unwrap();
    assert_eq!(restore.len(), 1);
    assert_eq!(restore[0].action, Action::Restore);
    assert!(
        restore[0].reason.contains("user:ann restored shop to v0"),
        "{}",
        restore[0].reason
    );
    let last = h.publisher.last().unwrap();
    assert_eq!(last.spec.services[0].stable.as_deref(), Some("v0"));
    assert!(
        last.spec.services[0]
            .versions
            .iter()
            .any(|v| v.name == "v0")
    );
    assert!(last.spec.rollouts.is_empty());

    let err = h
        .plane
        .restore_version("shop", "v0", ann())
        .await
        .unwrap_err();
    assert!(matches!(err, ControlError::RestoreRefused(_)), "{err}");
    let err = h
        .plane
        .restore_version("shop", "v7", ann())
        .await
        .unwrap_err();
    assert!(matches!(err, ControlError::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn a_reload_adds_what_is_new_and_keeps_what_is_stored() {
    let h = Harness::start(CONFIG).await;
    for _ in 0..12 {
        h.step().await;
    }
    let before = h.plane.rollout("shop-v2").await.unwrap();
    assert_eq!(before.weight, Ppm::percent(50));
    // The file now: v2's endpoint changed, a v3 added, a new service with its own rollout,
    // and shop-v2's strategy changed.
    let changed = CONFIG
        .replace(
            "endpoints = [\"127.0.0.1:2\"]",
            "endpoints = [\"127.0.0.1:22\"]",
        )
        .replace(
            "{ weight = \"10%\", min_duration = \"10s\" },",
            "{ weight = \"20%\", min_duration = \"10s\" },",
        )
        .replacen("[[rollouts]]", BLOG, 1);
    let config = rollgate_config::parse(&changed, "changed.toml").unwrap();
    let report = h.plane.reload(&config, Default::default()).await.unwrap();
    assert_eq!(report.new_rollouts, ["blog-b2"]);
    assert!(
        report.new_versions.contains(&"shop/v3".to_string()),
        "{report:?}"
    );
    assert!(
        report.kept.iter().any(|k| k.contains("shop/v2")),
        "{report:?}"
    );
    assert!(
        report.kept.iter().any(|k| k.contains("rollout shop-v2")),
        "{report:?}"
    );

    let after = h.plane.rollout("shop-v2").await.unwrap();
    assert_eq!(
        (after.phase, after.weight, after.revision),
        (before.phase, before.weight, before.revision)
    );
    let snap = h.publisher.last().unwrap();
    let shop = snap
        .spec
        .services
        .iter()
        .find(|s| s.name == "shop")
        .unwrap();
    let v2 = shop.versions.iter().find(|v| v.name == "v2").unwrap();
    assert_eq!(v2.endpoints, ["127.0.0.1:2"], "versions are immutable");
    assert_eq!(snap.weight("blog-b2"), Some(Ppm::percent(5)));
    assert_eq!(snap.weight("shop-v2"), Some(Ppm::percent(50)));
    let table = h.plane.routing();
    assert!(table.service("blog").is_some());
}

/// A third version of `shop`, then a second service with a rollout of its own, then the
/// `[[rollouts]]` header it replaces.
const BLOG: &str = r#"[[services.versions]]
name = "v3"
endpoints = ["127.0.0.1:3"]

[[services]]
name = "blog"
hosts = ["blog.test"]

[[services.versions]]
name = "b1"
endpoints = ["127.0.0.1:5"]

[[services.versions]]
name = "b2"
endpoints = ["127.0.0.1:6"]

[[rollouts]]
name = "blog-b2"
service = "blog"
stable = "b1"
canary = "b2"
weight = "5%"

[[rollouts]]"#;
