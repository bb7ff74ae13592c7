//! Request attributes sent as JSON — an OpenFeature context, an event's `attributes` — read
//! into the [`AttributesView`] the routing table decides on. A few names have a meaning for
//! audience rules; every other attribute is ignored (contexts often carry many).
//!
//! | attribute | type | used as |
//! | --- | --- | --- |
//! | `country` | string (ISO 3166-1 alpha-2) | the request's country |
//! | `ip` | string (IPv4 or IPv6) | the client address (`ip` rules, GeoIP) |
//! | `device` | `mobile`, `tablet`, `desktop`, `bot` | the device class |
//! | `userAgent` | string | the `User-Agent` header (device class) |
//! | `host`, `path` | string | the request's host and path |
//! | `headers`, `cookies`, `query` | object of strings | request headers, cookies, query parameters |

use std::net::IpAddr;

use rollgate_core::{AttributesView, DeviceClass};
use serde_json::{Map, Value};

use crate::problem::FieldError;

/// Reads the known attributes of `map`; errors name the attribute under `prefix`
/// (`context.ip`, `events[3].attributes.device`).
pub fn read_attributes(
    map: &Map<String, Value>,
    prefix: &str,
) -> Result<AttributesView, FieldError> {
    let at = |key: &str| rollgate_core::path::join(prefix, key);
    let mut view = AttributesView::new();
    if let Some(c) = string(map, "country", prefix)? {
        view = view.with_country(c.to_ascii_uppercase());
    }
    if let Some(ip) = string(map, "ip", prefix)? {
        let ip: IpAddr = ip
            .parse()
            .map_err(|_| FieldError::new(at("ip"), format!("{ip:?} is not an IP address")))?;
        view = view.with_ip(ip);
    }
    if let Some(d) = string(map, "device", prefix)? {
        let device = DeviceClass::parse(d).ok_or_else(|| {
            FieldError::new(
                at("device"),
                format!("{d:?} is not one of mobile, tablet, desktop, bot"),
            )
        })?;
        view = view.with_device(device);
    }
    if let Some(ua) = string(map, "userAgent", prefix)? {
        view = view.with_header("user-agent", ua);
    }
    if let Some(h) = string(map, "host", prefix)? {
        view = view.with_host(h);
    }
    if let Some(p) = string(map, "path", prefix)? {
        view = view.with_path(p);
    }
    for (name, value) in pairs(map, "headers", prefix)? {
        view = view.with_header(name, value);
    }
    for (name, value) in pairs(map, "cookies", prefix)? {
        view = view.with_cookie(name, value);
    }
    for (name, value) in pairs(map, "query", prefix)? {
        view = view.with_query(name, value);
    }
    Ok(view)
}

/// The string at `key`, if present; another type is an error.
pub fn string<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    prefix: &str,
) -> Result<Option<&'a str>, FieldError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(FieldError::new(
            rollgate_core::path::join(prefix, key),
            format!("must be a string, not {}", kind(other)),
        )),
    }
}

fn pairs<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    prefix: &str,
) -> Result<Vec<(&'a str, &'a str)>, FieldError> {
    let path = rollgate_core::path::join(prefix, key);
    let object = match map.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(FieldError::new(
                path,
                format!("must be an object of strings, not {}", kind(other)),
            ));
        }
    };
    object
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.as_str(), s.as_str())),
            other => Err(FieldError::new(
                rollgate_core::path::join(&path, k),
                format!("must be a string, not {}", kind(other)),
            )),
        })
        .collect()
}

/// `a string`, `a number`, … for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rollgate_core::RequestView;
    use serde_json::json;

    use super::*;

    fn read(v: Value) -> Result<AttributesView, FieldError> {
        read_attributes(v.as_object().unwrap(), "context")
    }

    #[test]
    fn reads_known_attributes_and_ignores_the_rest() {
        let view = read(json!({
            "country": "de",
            "ip": "10.1.2.3",
            "device": "mobile",
            "headers": {"X-Beta": "1"},
            "cookies": {"uid": "7"},
            "query": {"q": "x"},
            "plan": "gold",
            "age": 42
        }))
        .unwrap();
        assert_eq!(view.country(), Some("DE"));
        assert_eq!(view.client_ip(), Some("10.1.2.3".parse().unwrap()));
        assert_eq!(view.device_class(), Some(DeviceClass::Mobile));
        assert_eq!(view.header("x-beta"), Some("1"));
        assert_eq!(view.cookie("uid"), Some("7"));
        assert_eq!(view.query("q"), Some("x"));
    }

    #[test]
    fn bad_attributes_name_their_path() {
        let e = read(json!({"ip": "nope"})).unwrap_err();
        assert_eq!(e.path, "context.ip");
        let e = read(json!({"headers": {"a": 1}})).unwrap_err();
        assert_eq!(e.path, "context.headers.a");
        assert!(e.message.contains("a number"), "{}", e.message);
        let e = read(json!({"device": "fridge"})).unwrap_err();
        assert_eq!(e.path, "context.device");
        let e = read(json!({"country": ["DE"]})).unwrap_err();
        assert_eq!(e.path, "context.country");
    }
}
