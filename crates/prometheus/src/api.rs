//! The Prometheus HTTP API: instant queries (`GET /api/v1/query`) and their answers.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Url;
use rollgate_core::model::UnixMillis;
use serde::Deserialize;

use crate::error::{BuildProblem, QueryError};

/// The largest answer read, in bytes: a query of one rollout's series is far smaller.
pub(crate) const MAX_ANSWER_BYTES: usize = 32 << 20;

/// How much of an unexpected body an error quotes.
const QUOTED_BODY: usize = 300;

/// One series of an instant-vector answer: its labels (with `__name__`) and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Every label of the series, `__name__` included.
    pub labels: BTreeMap<String, String>,
    /// The value at the evaluation time (may be NaN or infinite: Prometheus says so).
    pub value: f64,
}

/// A client of one Prometheus server's query endpoint.
#[derive(Clone, Debug)]
pub(crate) struct Api {
    http: reqwest::Client,
    endpoint: Url,
    timeout: Duration,
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct VectorSample {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    /// `[unix seconds, "value"]`; absent for native histograms, which are skipped.
    #[serde(default)]
    value: Option<(f64, String)>,
}

impl Api {
    /// A client of the server at `base` (`http://prometheus:9090`, a path prefix allowed)
    /// giving up on a query after `timeout`.
    pub(crate) fn new(base: &str, timeout: Duration) -> Result<Api, BuildProblem> {
        let trimmed = base.trim().trim_end_matches('/');
        let bad = |reason: String| BuildProblem::Url {
            url: base.to_string(),
            reason,
        };
        let parsed = Url::parse(trimmed).map_err(|e| bad(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https")
            || parsed.host_str().is_none_or(str::is_empty)
        {
            return Err(bad("not an http:// or https:// URL with a host".into()));
        }
        let endpoint =
            Url::parse(&format!("{trimmed}/api/v1/query")).map_err(|e| bad(e.to_string()))?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| BuildProblem::Client(e.to_string()))?;
        Ok(Api {
            http,
            endpoint,
            timeout,
        })
    }

    /// Evaluates `query` at `at` (Unix ms): the instant vector, with every sample that has a
    /// plain value.
    pub(crate) async fn instant(
        &self,
        query: &str,
        at: UnixMillis,
    ) -> Result<Vec<Sample>, QueryError> {
        let mut url = self.endpoint.clone();
        url.query_pairs_mut()
            .append_pair("query", query)
            .append_pair("time", &unix_seconds(at))
            .append_pair("timeout", &format!("{}ms", self.timeout.as_millis().max(1)));
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| self.transport(&e))?;
        let status = response.status().as_u16();
        let body = read_body(response).await.map_err(|e| match e {
            BodyError::TooLarge => QueryError::TooLarge {
                limit: MAX_ANSWER_BYTES,
            },
            BodyError::Transport(e) => self.transport(&e),
        })?;
        decode(status, &body, self.endpoint.as_str())
    }

    fn transport(&self, e: &reqwest::Error) -> QueryError {
        if e.is_timeout() {
            QueryError::Timeout {
                timeout_ms: u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
            }
        } else {
            QueryError::Unreachable(error_chain(e))
        }
    }
}

enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The samples of an API answer with HTTP `status` and `body`.
fn decode(status: u16, body: &[u8], url: &str) -> Result<Vec<Sample>, QueryError> {
    let envelope: Envelope = match serde_json::from_slice(body) {
        Ok(e) => e,
        Err(e) if (200..300).contains(&status) => return Err(QueryError::Decode(e.to_string())),
        Err(_) => {
            return Err(QueryError::Http {
                status,
                url: url.to_string(),
                body: quoted(body),
            });
        }
    };
    if envelope.status != "success" || !(200..300).contains(&status) {
        return Err(QueryError::Refused {
            status,
            error_type: envelope.error_type.unwrap_or_else(|| "unknown".into()),
            message: envelope
                .error
                .unwrap_or_else(|| format!("status {:?} without a message", envelope.status)),
        });
    }
    for warning in &envelope.warnings {
        tracing::warn!(warning = %warning, "Prometheus warned about a query");
    }
    let data = envelope
        .data
        .ok_or_else(|| QueryError::Decode("a successful answer without data".into()))?;
    if data.result_type != "vector" {
        return Err(QueryError::NotAVector(data.result_type));
    }
    let samples: Vec<VectorSample> =
        serde_json::from_value(data.result).map_err(|e| QueryError::Decode(e.to_string()))?;
    Ok(samples
        .into_iter()
        .filter_map(|s| {
            let (_, text) = s.value?;
            Some(Sample {
                labels: s.metric,
                value: parse_value(&text),
            })
        })
        .collect())
}

/// A Prometheus sample value: a decimal, `NaN`, `+Inf` or `-Inf`. Anything else is NaN.
fn parse_value(text: &str) -> f64 {
    text.parse().unwrap_or(f64::NAN)
}

/// Unix ms as the API's decimal seconds (`1700000000.250`).
pub(crate) fn unix_seconds(at: UnixMillis) -> String {
    let sign = if at < 0 { "-" } else { "" };
    let ms = at.unsigned_abs();
    format!("{sign}{}.{:03}", ms / 1000, ms % 1000)
}

fn quoted(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(QUOTED_BODY) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// An error with its sources (`error sending request: connection refused`).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const URL: &str = "http://p/api/v1/query";

    #[test]
    fn decodes_a_vector_with_odd_values() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"__name__":"x","a":"1"},"value":[1700000000.5,"12"]},
            {"metric":{"__name__":"x","a":"2"},"value":[1700000000.5,"NaN"]},
            {"metric":{"__name__":"x","a":"3"},"value":[1700000000.5,"+Inf"]},
            {"metric":{"__name__":"x","a":"4"},"histogram":[1700000000.5,{}]}]}}"#;
        let samples = decode(200, body, URL).unwrap();
        assert_eq!(samples.len(), 3);
        assert_eq!(samples[0].value, 12.0);
        assert_eq!(samples[0].labels["a"], "1");
        assert!(samples[1].value.is_nan());
        assert_eq!(samples[2].value, f64::INFINITY);
        let empty = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert_eq!(decode(200, empty, URL).unwrap(), Vec::new());
    }

    #[test]
    fn names_prometheus_errors_and_foreign_answers() {
        let body = br#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#;
        assert_eq!(
            decode(400, body, URL).unwrap_err().to_string(),
            "Prometheus refused the query (HTTP 400, bad_data): parse error at char 3"
        );
        let err = decode(502, b"<html>Bad Gateway</html>", URL).unwrap_err();
        assert_eq!(
            err.to_string(),
            "HTTP 502 from http://p/api/v1/query: <html>Bad Gateway</html>"
        );
        let scalar = br#"{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}"#;
        assert_eq!(
            decode(200, scalar, URL).unwrap_err(),
            QueryError::NotAVector("scalar".into())
        );
        assert!(matches!(
            decode(200, b"{", URL).unwrap_err(),
            QueryError::Decode(_)
        ));
    }

    #[test]
    fn times_are_decimal_seconds() {
        assert_eq!(unix_seconds(1_700_000_000_250), "1700000000.250");
        assert_eq!(unix_seconds(5), "0.005");
        assert_eq!(unix_seconds(-1), "-0.001");
    }

    #[test]
    fn urls_must_be_http_with_a_host() {
        let t = Duration::from_secs(1);
        let api = Api::new("http://127.0.0.1:9090/prom/", t).unwrap();
        assert_eq!(
            api.endpoint.as_str(),
            "http://127.0.0.1:9090/prom/api/v1/query"
        );
        for bad in ["127.0.0.1:9090", "ftp://x", "http://", ""] {
            assert!(
                matches!(Api::new(bad, t), Err(BuildProblem::Url { .. })),
                "{bad}"
            );
        }
    }
}
