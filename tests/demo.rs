//! End to end: the real `rollgate demo` binary, run three ways on a shortened schedule
//! (3-second steps, 400 requests/s): a healthy canary must be promoted through every step; a
//! canary failing 10% of its requests and one 150 ms slower must be rolled back, with the
//! failing condition named, its numbers in the reason, and the detection time in the summary.
//! The runs take turns (one at a time), so they do not slow each other down on a small machine.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// One demo at a time: each is a whole Rollgate plus its users.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
/// The demo's own `--timeout`; the test waits a little longer before it kills it.
const TIMEOUT_S: u64 = 240;

/// What a finished run printed.
struct Run {
    code: Option<i32>,
    out: String,
    err: String,
}

impl Run {
    /// The value of a `name:` line of the summary.
    fn field(&self, name: &str) -> &str {
        let summary = self
            .out
            .split("── summary ──")
            .nth(1)
            .unwrap_or_else(|| panic!("no summary in:\n{}\n{}", self.out, self.err));
        summary
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .map_or_else(
                || panic!("no {name:?} in the summary:\n{summary}"),
                str::trim,
            )
    }

    /// The detection time of the summary, in seconds.
    fn detection_s(&self) -> f64 {
        let value = self.field("detection time");
        value
            .split('s')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("detection time is not in seconds: {value}"))
    }
}

fn demo(args: &[&str]) -> Run {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rollgate"));
    cmd.arg("demo")
        .args(["--step-duration", "3s", "--rps", "400"]);
    if !args.contains(&"--timeout") {
        cmd.arg("--timeout").arg(format!("{TIMEOUT_S}s"));
    }
    let mut child = cmd
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = drain(child.stdout.take().unwrap());
    let err = drain(child.stderr.take().unwrap());
    let code = wait(&mut child, Duration::from_secs(TIMEOUT_S + 30));
    Run {
        code,
        out: out.join().unwrap(),
        err: err.join().unwrap(),
    }
}

/// Reads a pipe to the end on its own thread, so the child never blocks on a full pipe.
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut s = String::new();
        let _ = pipe.read_to_string(&mut s);
        s
    })
}

/// The exit code, or `None` after killing a child that did not end within `limit`.
fn wait(child: &mut Child, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// The header a person needs: where the edge and the dashboard are, and a token.
fn assert_header(run: &Run) {
    for needle in [
        "  edge       http://127.0.0.1:",
        "  dashboard  http://127.0.0.1:",
        "  token      rg_",
    ] {
        assert!(run.out.contains(needle), "{needle:?} missing:\n{}", run.out);
    }
}

#[test]
fn a_healthy_canary_is_promoted_through_every_step() {
    let run = demo(&[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.out, run.err);
    assert_header(&run);
    assert!(
        run.field("outcome").starts_with("promoted: v2"),
        "{}",
        run.out
    );
    assert_eq!(
        run.field("weights"),
        "0% → 1% → 5% → 10% → 25% → 50% → 100%"
    );
    assert!(
        run.out.contains("] promote 100% → 100%: every step done"),
        "{}",
        run.out
    );
    assert!(!run.out.contains("detection time:"), "{}", run.out);
    assert!(
        run.field("rollout time")
            .ends_with("(from the start decision to the last)")
    );
}

#[test]
fn a_canary_failing_ten_percent_of_requests_is_rolled_back_on_errors() {
    let run = demo(&["--canary-error-rate", "10%"]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.out, run.err);
    assert_header(&run);
    assert!(
        run.field("outcome").starts_with("rolled back"),
        "{}",
        run.out
    );
    let condition = run.field("condition");
    assert!(
        ["error-budget", "errors"].contains(&condition),
        "{}",
        run.out
    );
    let reason = run.field("reason");
    assert!(
        reason.contains(&format!("{condition} failed: error_rate ")),
        "{reason}"
    );
    let detection = run.detection_s();
    assert!(
        detection > 0.0 && detection < 120.0,
        "{detection} s:\n{}",
        run.out
    );
    assert!(
        run.out.contains("] rollback "),
        "the decision is shown as it happens:\n{}",
        run.out
    );
}

#[test]
fn a_canary_150ms_slower_is_rolled_back_on_latency() {
    let run = demo(&["--canary-latency", "150ms"]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.out, run.err);
    assert!(
        run.field("outcome").starts_with("rolled back"),
        "{}",
        run.out
    );
    assert_eq!(run.field("condition"), "latency", "{}", run.out);
    let reason = run.field("reason");
    assert!(reason.contains("latency failed: p99_latency "), "{reason}");
    assert!(reason.contains("Mann-Whitney p="), "{reason}");
    let detection = run.detection_s();
    assert!(
        detection > 0.0 && detection < 120.0,
        "{detection} s:\n{}",
        run.out
    );
}

#[test]
fn a_bad_flag_is_refused_with_its_name_and_nothing_runs() {
    let run = demo(&["--canary-error-rate", "10"]);
    assert_eq!(run.code, Some(2), "{}\n{}", run.out, run.err);
    assert!(run.err.contains("--canary-error-rate"), "{}", run.err);
    assert!(run.err.contains("is not a percentage"), "{}", run.err);
    assert!(run.out.is_empty(), "{}", run.out);
}

#[test]
fn a_rollout_that_cannot_finish_in_time_fails_with_a_clear_message() {
    let run = demo(&["--timeout", "5s"]);
    assert_eq!(run.code, Some(2), "{}\n{}", run.out, run.err);
    assert!(
        run.err.contains("did not finish within --timeout 5s"),
        "{}",
        run.err
    );
    assert!(
        run.out.contains("] start 0% → 1%"),
        "it ran until then:\n{}",
        run.out
    );
    assert!(!run.out.contains("── summary ──"), "{}", run.out);
}
