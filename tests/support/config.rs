//! `rollgate.toml` files for end-to-end tests: one service `shop` with versions `v1`
//! (stable) and `v2` (canary), and usually a rollout `shop-v2` from one to the other.

use std::path::Path;

/// The `[[rollouts]]` header of `shop-v2`, from `v1` to `v2`; its other keys follow it.
const ROLLOUT: &str = r#"[[rollouts]]
name = "shop-v2"
service = "shop"
stable = "v1"
canary = "v2"
"#;

/// A config file text for `rollgate edge`. `weight` is the rollout's weight (`"30%"`),
/// `audience` an optional TOML inline table for `[rollouts.audience]`
/// (`{ header = { name = "X-Beta", equals = "1" } }`), `service_extra` extra lines in the
/// `[[services]]` table.
pub fn shop(
    stable: &str,
    canary: &str,
    weight: &str,
    audience: Option<&str>,
    service_extra: &str,
) -> String {
    let audience = audience.map_or(String::new(), |a| format!("audience = {a}\n"));
    let versions = versions(stable, canary);
    format!(
        r#"
[edge]
version_header = "X-Version"
geo = {{ header = "CF-IPCountry" }}
drain_timeout = "5s"

[[services]]
name = "shop"
unit = {{ header = "X-User-Id", cookie = "uid", anonymous_cookie = "rg_uid" }}
timeouts = {{ connect = "500ms", first_byte = "5s", total = "60s" }}
{service_extra}
{versions}
{ROLLOUT}weight = "{weight}"
{audience}"#
    )
}

/// Writes `text` to `path` atomically (write, then rename), as deploy tools do.
pub fn write(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).expect("write the config");
    std::fs::rename(&tmp, path).expect("move the config in place");
}

/// A `rollgate serve` file: `[edge]` with a short drain, `[control]` with 1 s windows, the
/// service `shop` (units by `X-User-Id`) with `v1` at `stable` and `v2` at `canary`, and the
/// rollout `shop-v2` from `v1` to `v2` followed by `rollout_tables` (its
/// `[rollouts.strategy]` and `[rollouts.analysis]`, as TOML).
pub fn served(stable: &str, canary: &str, rollout_tables: &str) -> String {
    let versions = versions(stable, canary);
    format!(
        r#"
[edge]
drain_timeout = "2s"

[control]
window = "1s"

[[services]]
name = "shop"
unit = {{ header = "X-User-Id" }}
{versions}
{ROLLOUT}{rollout_tables}"#
    )
}

/// A file for API tests: `[control]` with a 1 s window and the `control` lines, the service
/// `shop` with versions `v1` and `v2` (nothing needs to listen on their endpoints), then
/// `rest` (metrics, rollouts, experiments).
pub fn api(control: &str, rest: &str) -> String {
    let versions = versions("127.0.0.1:9", "127.0.0.1:9");
    format!(
        r#"
[control]
window = "1s"
{control}

[[services]]
name = "shop"
{versions}{rest}"#
    )
}

/// The `[[services.versions]]` tables of `shop`: `v1` at `stable`, `v2` at `canary`.
fn versions(stable: &str, canary: &str) -> String {
    format!(
        r#"
[[services.versions]]
name = "v1"
endpoints = ["{stable}"]

[[services.versions]]
name = "v2"
endpoints = ["{canary}"]
"#
    )
}
