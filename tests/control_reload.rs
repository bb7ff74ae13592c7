//! End to end with the real binary: `rollgate serve` applies a changed configuration on
//! `SIGHUP` (a new service starts routing, the running rollout keeps its stored weight), and
//! `rollgate control` runs the control plane alone on an ephemeral port and stops on
//! `SIGTERM` with exit 0.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use support::process::{Proc, rollgate};
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
    serve.proc.signal("HUP");
    let start = Instant::now();
    while served_by("blog.test", "u".into()).await != "b1" {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "blog not routed after the reload\n{}",
            serve.proc.logs()
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
    let mut control = Proc::spawn(
        rollgate()
            .args(["control", "--config"])
            .arg(&path)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--api-listen", "127.0.0.1:0", "--ready-file"])
            .arg(&ready),
        dir.path().join("control.log"),
        Stdio::null(),
    );
    let doc = control.ready(&ready, Duration::from_secs(30));
    let api: std::net::SocketAddr = doc["api"].as_str().unwrap().parse().unwrap();
    assert!(std::net::TcpStream::connect(api).is_ok());
    assert!(dir.path().join("data/rollgate.db").exists());
    let status = control
        .stop(Duration::from_secs(10))
        .expect("still running after SIGTERM");
    assert!(status.success(), "{status}\n{}", control.logs());
}
