//! [`Etcd`]: a thin client for the v3 calls Rollgate needs, over etcd's JSON gateway with
//! `reqwest`. One logical client for a list of endpoints: a call goes to the endpoint that
//! answered last and fails over to the next one when it cannot connect.
//!
//! Retries: a call whose connection could not be made is always retried on the next endpoint
//! (nothing was sent). Reads and lease renewals are also retried after a timeout or an
//! "unavailable" answer; writes are not, because the first attempt may have been applied
//! (the caller re-reads and decides, which every write in this crate does with compares).

mod kv;
mod lease;
mod watch;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::EtcdError;
use crate::error::UNAVAILABLE;
use crate::wire::GatewayError;

pub use watch::WatchStream;

/// How to reach etcd.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EtcdConfig {
    /// Client URLs of the cluster's members (`http://10.0.0.1:2379`).
    pub endpoints: Vec<String>,
    /// How long one call may take, connection included (watches are not limited).
    pub request_timeout: Duration,
    /// How long connecting to one endpoint may take before the next is tried.
    pub connect_timeout: Duration,
    /// Rounds over the endpoint list before a call gives up.
    pub attempts: u32,
    /// The pause after the first failed round; doubled after each (with jitter), up to 2 s.
    pub backoff: Duration,
}

/// A client for one etcd cluster. Cheap to clone; clones share connections.
#[derive(Clone, Debug)]
pub struct Etcd {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    config: EtcdConfig,
    /// The endpoint that answered last; calls start there.
    preferred: AtomicUsize,
}

/// Whether a call may be sent again after it might have reached the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Reads, lease renewals: repeating them changes nothing.
    Idempotent,
    /// Writes: only retried when the connection could not be made.
    Once,
}

/// One failed attempt and whether another endpoint may be tried.
struct Failure {
    error: EtcdError,
    retry: bool,
}

const MAX_BACKOFF: Duration = Duration::from_secs(2);

impl EtcdConfig {
    /// The defaults (5 s per call, 1 s to connect, 3 rounds, 100 ms back-off) for `endpoints`.
    pub fn new<S: Into<String>>(endpoints: impl IntoIterator<Item = S>) -> EtcdConfig {
        EtcdConfig {
            endpoints: endpoints.into_iter().map(Into::into).collect(),
            request_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(1),
            attempts: 3,
            backoff: Duration::from_millis(100),
        }
    }

    /// The defaults for a comma-separated list of URLs (`--etcd http://a:2379,http://b:2379`).
    pub fn parse(list: &str) -> EtcdConfig {
        EtcdConfig::new(list.split(',').map(str::trim).filter(|s| !s.is_empty()))
    }
}

impl Etcd {
    /// A client for `config`'s endpoints. Checks the URLs; connects lazily.
    pub fn new(config: EtcdConfig) -> Result<Etcd, EtcdError> {
        if config.endpoints.is_empty() {
            return Err(EtcdError::NoEndpoints);
        }
        let mut config = config;
        for endpoint in &mut config.endpoints {
            let url = endpoint.trim().trim_end_matches('/');
            let valid = ["http://", "https://"].iter().any(|scheme| {
                url.strip_prefix(scheme)
                    .is_some_and(|rest| !rest.is_empty())
            });
            if !valid || reqwest::Url::parse(url).is_err() {
                return Err(EtcdError::InvalidEndpoint(endpoint.clone()));
            }
            *endpoint = url.to_owned();
        }
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .tcp_keepalive(Duration::from_secs(15))
            .no_proxy()
            .build()
            .map_err(|e| EtcdError::Client(e.to_string()))?;
        Ok(Etcd {
            inner: Arc::new(Inner {
                http,
                config,
                preferred: AtomicUsize::new(0),
            }),
        })
    }

    /// The configuration this client was made with.
    pub fn config(&self) -> &EtcdConfig {
        &self.inner.config
    }

    /// Sends `req` to `path` and decodes the answer, failing over and retrying as `retry`
    /// allows.
    pub(crate) async fn call<Req, Resp>(
        &self,
        path: &'static str,
        req: &Req,
        retry: Retry,
    ) -> Result<Resp, EtcdError>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let body = self.encode(path, req)?;
        self.with_failover(path, |endpoint| {
            let body = body.clone();
            async move {
                let resp = self.send(&endpoint, path, body, retry, true).await?;
                read_json(&endpoint, path, resp).await
            }
        })
        .await
    }

    /// Runs `attempt` against each endpoint in turn, for up to `attempts` rounds with back-off,
    /// until one succeeds or fails in a way that must not be retried.
    async fn with_failover<T, F, Fut>(&self, path: &'static str, attempt: F) -> Result<T, EtcdError>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let cfg = &self.inner.config;
        let n = cfg.endpoints.len();
        let mut last = None;
        for round in 0..cfg.attempts.max(1) {
            if round > 0 {
                tokio::time::sleep(crate::time::backoff(cfg.backoff, round, MAX_BACKOFF)).await;
            }
            let start = self.inner.preferred.load(Ordering::Relaxed);
            for i in 0..n {
                let index = (start + i) % n;
                match attempt(cfg.endpoints[index].clone()).await {
                    Ok(value) => {
                        self.inner.preferred.store(index, Ordering::Relaxed);
                        return Ok(value);
                    }
                    Err(Failure { error, retry: true }) => {
                        tracing::debug!(call = path, %error, "etcd attempt failed; trying the next endpoint");
                        last = Some(error);
                    }
                    Err(Failure { error, .. }) => return Err(error),
                }
            }
        }
        Err(last.unwrap_or(EtcdError::NoEndpoints))
    }

    fn encode<Req: Serialize + ?Sized>(
        &self,
        path: &'static str,
        req: &Req,
    ) -> Result<Bytes, EtcdError> {
        serde_json::to_vec(req)
            .map(Bytes::from)
            .map_err(|e| EtcdError::Decode {
                endpoint: "(not sent)".into(),
                call: path,
                reason: format!("cannot encode the request: {e}"),
            })
    }

    /// One POST; a non-2xx answer becomes `Rejected`. `limited`: apply the request timeout
    /// (off for watches, which stay open).
    async fn send(
        &self,
        endpoint: &str,
        path: &'static str,
        body: Bytes,
        retry: Retry,
        limited: bool,
    ) -> Result<reqwest::Response, Failure> {
        let mut request = self
            .inner
            .http
            .post(format!("{endpoint}{path}"))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if limited {
            request = request.timeout(self.inner.config.request_timeout);
        }
        let resp = request.send().await.map_err(|e| Failure {
            retry: e.is_connect() || retry == Retry::Idempotent,
            error: unreachable(endpoint, path, &e),
        })?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let err: GatewayError = serde_json::from_str(&text).unwrap_or_else(|_| GatewayError {
            message: text.chars().take(200).collect(),
            ..GatewayError::default()
        });
        let unavailable = err.code == UNAVAILABLE || status == 503;
        Err(Failure {
            retry: unavailable && retry == Retry::Idempotent,
            error: EtcdError::Rejected {
                endpoint: endpoint.to_owned(),
                call: path,
                status,
                code: err.code,
                message: err.text().to_owned(),
            },
        })
    }
}

async fn read_json<T: DeserializeOwned>(
    endpoint: &str,
    path: &'static str,
    resp: reqwest::Response,
) -> Result<T, Failure> {
    let bytes = resp.bytes().await.map_err(|e| Failure {
        retry: false,
        error: unreachable(endpoint, path, &e),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| Failure {
        retry: false,
        error: EtcdError::Decode {
            endpoint: endpoint.to_owned(),
            call: path,
            reason: e.to_string(),
        },
    })
}

fn unreachable(endpoint: &str, path: &'static str, e: &reqwest::Error) -> EtcdError {
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason = format!("{reason}: {s}");
        source = s.source();
    }
    EtcdError::Unreachable {
        endpoint: endpoint.to_owned(),
        call: path,
        reason,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn endpoints_are_checked_and_normalised() {
        let etcd = Etcd::new(EtcdConfig::parse(
            " http://127.0.0.1:2379/ , https://e:2379",
        ))
        .unwrap();
        assert_eq!(
            etcd.config().endpoints,
            ["http://127.0.0.1:2379", "https://e:2379"]
        );
        assert!(matches!(
            Etcd::new(EtcdConfig::parse("")),
            Err(EtcdError::NoEndpoints)
        ));
        for bad in ["127.0.0.1:2379", "ftp://x", "http://"] {
            assert!(
                matches!(
                    Etcd::new(EtcdConfig::new([bad])),
                    Err(EtcdError::InvalidEndpoint(_))
                ),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn a_dead_endpoint_is_unreachable_and_named() {
        // A port that was just free: nothing listens there.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let mut config = EtcdConfig::new([format!("http://{addr}")]);
        config.attempts = 2;
        config.backoff = Duration::from_millis(1);
        let etcd = Etcd::new(config).unwrap();
        let err = etcd.get(b"k").await.unwrap_err();
        assert!(err.is_unavailable(), "{err}");
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    }
}
