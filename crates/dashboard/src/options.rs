//! How the dashboard behaves: session lifetime, cookie flags, refresh cadence, chart range.

use std::time::Duration;

/// Settings of the dashboard. `Default` is what `rollgate serve` and `rollgate control` use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DashboardOptions {
    /// How long a sign-in lasts, however active the session is.
    pub session_ttl: Duration,
    /// A session unused for this long ends.
    pub idle_timeout: Duration,
    /// Most sessions kept at once; beyond it the least recently used one ends.
    pub max_sessions: usize,
    /// Always mark the session cookie `Secure` (set it when a TLS proxy sits in front of the
    /// control plane without sending `X-Forwarded-Proto: https`).
    pub secure_cookies: bool,
    /// How often open pages refresh their live parts.
    pub refresh: Duration,
    /// The time range of the metric charts.
    pub chart_range: Duration,
    /// Decisions shown per page of the decision log.
    pub decisions_per_page: u32,
    /// Most decisions drawn as markers on the weight chart (the newest ones).
    pub weight_chart_decisions: u32,
}

impl Default for DashboardOptions {
    fn default() -> DashboardOptions {
        DashboardOptions {
            session_ttl: Duration::from_secs(12 * 3600),
            idle_timeout: Duration::from_secs(3600),
            max_sessions: 10_000,
            secure_cookies: false,
            refresh: Duration::from_secs(3),
            chart_range: Duration::from_secs(15 * 60),
            decisions_per_page: 50,
            weight_chart_decisions: 500,
        }
    }
}

impl DashboardOptions {
    /// The chart range in milliseconds.
    pub fn chart_range_ms(&self) -> i64 {
        i64::try_from(self.chart_range.as_millis()).unwrap_or(i64::MAX)
    }
}
