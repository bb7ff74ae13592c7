//! End to end with the real binary: `rollgate serve` applies a changed configuration on
//! `SIGHUP` (a new service starts routing, the running rollout keeps its stored weight), and
//! `rollgate control` runs the control plane alone on an ephemeral port and stops on
//! `SIGTERM` with exit 0.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::serve::Serve;
use support::upstream::Upstream;

/// The rollout without a strategy: 30% by hand.
const MANUAL: &str = "weight = \"30%\"\n";

/// A second service, appended to the file on reload.
fn blog(endpoint: &str) -> String {
    format!(
        "\n[[services]]\nname = \"blog\"\nhosts = [\"blog.test\"]\n\n[[services.versions]]\nname = \"b1\"\nendpoints = [\"{endpoint}\"]\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_adds_a_service_and_keeps_the_rollout() {
    let (v1, v2, b1) = (
        Upstream::start("v1").await,
        Upstream::start("v2").await,
        Upstream::start("b1").await,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollgate.toml");
    let text = support::config::served(&v1.endpoint(), &v2.endpoint(), MANUAL);
    std::fs::write(&path, &text).unwrap();
    let serve = Serve::start(&path, &dir.path().join("data"));
    let client = reqwest::Client::new();
    let served_by = |host: &'static str, user: String| {
        let req = client
            .get(serve.url("/"))
            .header("host", host)
            .header("x-user-id", user);
        async move {
            match req.send().await {
                Ok(r) => r
                    .headers()
                    .get("x-served-by")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string(),
                Err(_) => String::new(),
            }
        }
    };
    assert_ne!(served_by("blog.test", "u".into()).await, "b1");

    // The new file also asks for 90%: the stored rollout keeps its 30%.
    let changed = text.replace("weight = \"30%\"", "weight = \"90%\"") + &blog(&b1.endpoint());
    support::config::write(&path, &changed);
    serve.signal("HUP");
    let start = Instant::now();
    while served_by("blog.test", "u".into()).await != "b1" {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "blog not routed after the reload\n{}",
            serve.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("new service routed {:?} after SIGHUP", start.elapsed());
    let mut canary = 0;
    for i in 0..400 {
        if served_by("shop.test", format!("user-{i}")).await == "v2" {
            canary += 1;
        }
    }
    let share = f64::from(canary) / 400.0;
    assert!(
        (0.2..0.4).contains(&share),
        "canary share {share} after the reload (stored weight 30%)"
    );
}

#[test]
fn rollgate_control_runs_alone_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollgate.toml");
    std::fs::write(
        &path,
        support::config::served("127.0.0.1:9", "127.0.0.1:10", MANUAL),
    )
    .unwrap();
    let ready = dir.path().join("ready.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollgate"))
        .args(["control", "--config"])
        .arg(&path)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["--api-listen", "127.0.0.1:0", "--ready-file"])
        .arg(&ready)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let doc: serde_json::Value = loop {
        if let Some(doc) = std::fs::read_to_string(&ready)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
        {
            break doc;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "rollgate control exited"
        );
        assert!(start.elapsed() < Duration::from_secs(30), "not ready");
        std::thread::sleep(Duration::from_millis(20));
    };
    let api: std::net::SocketAddr = doc["api"].as_str().unwrap().parse().unwrap();
    assert!(std::net::TcpStream::connect(api).is_ok());
    assert!(dir.path().join("data/rollgate.db").exists());
    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
}
