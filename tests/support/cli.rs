//! Running the real `rollgate` binary as a client: arguments, environment, captured output
//! and exit code.

use std::path::Path;
use std::process::Stdio;

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `rollgate ARGS` with `env` set (and `ROLLGATE_TOKEN`/`ROLLGATE_SERVER` cleared unless
/// given), waiting for it to exit.
pub fn rollgate(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = super::process::rollgate();
    cmd.args(args)
        .env_remove("ROLLGATE_TOKEN")
        .env_remove("ROLLGATE_SERVER")
        .env_remove("ROLLGATE_LOG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run rollgate");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Creates a token offline on the store in `data_dir` and returns its secret.
pub fn offline_token(data_dir: &Path, name: &str, role: &str) -> String {
    let dir = data_dir.to_str().expect("a UTF-8 path");
    let run = rollgate(
        &[
            "token",
            "create",
            "--name",
            name,
            "--role",
            role,
            "--data-dir",
            dir,
        ],
        &[],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    let secret = run.stdout.trim().to_owned();
    assert!(
        secret.starts_with("rg_") && !secret.contains('\n'),
        "{run:?}"
    );
    assert!(run.stderr.contains("shown once"), "{run:?}");
    secret
}

impl Run {
    /// Asserts the exit code and returns stdout.
    pub fn expect(&self, code: i32) -> &str {
        assert_eq!(
            self.code,
            Some(code),
            "stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        &self.stdout
    }

    /// Stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr))
    }
}
