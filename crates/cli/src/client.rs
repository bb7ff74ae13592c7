//! The HTTP client the API subcommands share (`rollout`, `version`, `experiment`, `token`):
//! where the server is (`--server`, `ROLLGATE_SERVER`), the token (`--token`,
//! `ROLLGATE_TOKEN`), one request helper that turns the server's problem documents into a
//! refusal (exit 1) and an unreachable or failing server into an error (exit 2), and the
//! table and colour helpers their output uses.

mod render;

use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use reqwest::{Method, StatusCode};
use rollgate_server::Problem;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Exit;
use crate::output::OutputFormat;

pub use render::{Palette, Style, table};

/// Where the API is and how to authenticate.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// URL of the control plane (`rollgate control` / `rollgate serve`).
    #[arg(
        long,
        env = "ROLLGATE_SERVER",
        default_value = "http://127.0.0.1:9000",
        global = true
    )]
    pub server: String,
    /// API token. Prefer the `ROLLGATE_TOKEN` variable: arguments are visible to other users
    /// in `ps`.
    #[arg(long, env = "ROLLGATE_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// `text` for people (tables, colours on a terminal), `json` for scripts.
    #[arg(long, short, value_enum, default_value_t, global = true)]
    pub output: OutputFormat,
}

/// A client of one server.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

/// What the server answered to a request that reached it.
#[derive(Debug)]
pub enum Reply<T> {
    /// A 2xx answer, decoded.
    Ok(T),
    /// A 4xx answer: the server understood and said no (bad token, role, name, state).
    Refused(Problem),
}

/// How long one request may take, connection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

impl Client {
    /// A client of `args.server` authenticating with `args.token`.
    pub fn new(args: &ServerArgs) -> Result<Client> {
        let base = args.server.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(anyhow!(
                "--server {:?} must be an http:// or https:// URL",
                args.server
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("rollgate-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot set up the HTTP client")?;
        Ok(Client {
            http,
            base,
            token: args.token.clone().filter(|t| !t.trim().is_empty()),
        })
    }

    /// `GET path`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Reply<T>> {
        self.call(Method::GET, path, None::<&()>).await
    }

    /// `POST path` with a JSON body.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Reply<T>> {
        self.call(Method::POST, path, Some(body)).await
    }

    /// `DELETE path`.
    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<Reply<T>> {
        self.call(Method::DELETE, path, None::<&()>).await
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<Reply<T>> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| unreachable(&self.base, e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .with_context(|| format!("{method} {url}: the answer was cut off"))?;
        if status.is_success() {
            let value = serde_json::from_slice(&bytes).with_context(|| {
                format!("{method} {url}: cannot read the answer (is --server a Rollgate server?)")
            })?;
            return Ok(Reply::Ok(value));
        }
        let problem = serde_json::from_slice::<Problem>(&bytes)
            .unwrap_or_else(|_| plain_problem(status, &bytes));
        if status.is_client_error() {
            Ok(Reply::Refused(problem))
        } else {
            Err(anyhow!("{method} {path} failed: {problem}"))
        }
    }
}

impl<T> Reply<T> {
    /// The value, or prints the refusal and returns the exit code for it.
    pub fn or_refused(self, output: OutputFormat) -> std::result::Result<T, Exit> {
        match self {
            Reply::Ok(v) => Ok(v),
            Reply::Refused(problem) => {
                print_refusal(&problem, output);
                Err(Exit::Failure)
            }
        }
    }
}

/// Prints a refusal: the problem document on stdout for `json`, a readable line (and one per
/// bad field) on stderr for `text`.
pub fn print_refusal(problem: &Problem, output: OutputFormat) {
    match output {
        OutputFormat::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(problem).unwrap_or_default()
            );
        }
        OutputFormat::Text => {
            eprintln!("refused ({}): {}", problem.status, problem.detail);
            for e in problem
                .errors
                .iter()
                .filter(|e| !problem.detail.contains(&e.message))
            {
                eprintln!("  {}: {}", e.path, e.message);
            }
            if problem.status == 401 {
                eprintln!(
                    "  hint: set ROLLGATE_TOKEN (or --token) to a token from `rollgate token create`"
                );
            }
        }
    }
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Runs `f` on a small single-threaded runtime: the API commands make a few requests.
pub fn block_on<F: std::future::Future>(f: F) -> Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    Ok(runtime.block_on(f))
}

/// Percent-encodes one path segment or query value (a rollout, service or version name).
pub fn segment(s: &str) -> String {
    rollgate_server::percent_encode(s)
}

/// A time (Unix milliseconds) for people: `2025-06-01 12:00:03Z`.
pub fn time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// A duration for people: `4s`, `3m`, `2h`, `5d` (negative counts as zero).
pub fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

fn unreachable(base: &str, e: reqwest::Error) -> anyhow::Error {
    let what = if e.is_timeout() {
        "did not answer in time"
    } else {
        "cannot be reached"
    };
    anyhow!(e).context(format!(
        "the server at {base} {what} (is `rollgate serve` running? set --server or ROLLGATE_SERVER)"
    ))
}

fn plain_problem(status: StatusCode, body: &[u8]) -> Problem {
    let text = String::from_utf8_lossy(body);
    let detail = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text.chars().take(500).collect()
    };
    Problem {
        kind: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("error").into(),
        status: status.as_u16(),
        detail,
        errors: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(segment("shop-v1.2"), "shop-v1.2");
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
        assert_eq!(segment("é"), "%C3%A9");
    }

    #[test]
    fn times_for_people() {
        assert_eq!(time(0), "1970-01-01 00:00:00Z");
        assert_eq!(duration(60_000), "1m");
        assert_eq!(duration(-4_000), "0s");
        assert_eq!(duration(7_200_000), "2h");
        assert_eq!(duration(3 * 86_400_000), "3d");
    }

    #[test]
    fn servers_must_be_http_urls() {
        let args = |server: &str| ServerArgs {
            server: server.into(),
            token: Some("  ".into()),
            output: OutputFormat::Text,
        };
        assert!(Client::new(&args("127.0.0.1:9000")).is_err());
        let c = Client::new(&args("http://127.0.0.1:9000/")).unwrap();
        assert_eq!(c.base, "http://127.0.0.1:9000");
        assert!(c.token.is_none());
    }

    #[test]
    fn an_unreachable_server_is_an_error_not_a_refusal() {
        // A port that was just free: nothing listens, the connect fails at once.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let client = Client::new(&ServerArgs {
            server: format!("http://{addr}"),
            token: None,
            output: OutputFormat::Text,
        })
        .unwrap();
        let err = block_on(client.get::<serde_json::Value>("/api/v1/rollouts"))
            .unwrap()
            .unwrap_err();
        assert!(format!("{err:#}").contains("cannot be reached"), "{err:#}");
    }
}
