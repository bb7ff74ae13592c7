//! Reading a TOML document item by item, so one mistake does not hide the next: every table
//! and every array element is deserialized on its own and each failure is recorded with the
//! exact path of the offending field.

use rollgate_core::{SpecErrors, did_you_mean, path as spec_error};
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

/// How many mistakes one item may report before we stop looking for more.
const MAX_ERRORS_PER_ITEM: usize = 32;

/// Deserializes one value, recording every failure at `path` + the field path inside the
/// value. After a failure the offending key is removed and the value is read again, so one
/// item reports all of its independent mistakes (an unknown field does not hide a wrong type
/// next to it). When the mistakes were all in fields that could be dropped, the rest of the
/// item is still returned, so its other fields get checked too; the recorded errors guarantee
/// that nothing is applied.
pub(crate) fn item<T: DeserializeOwned, V: Tree>(
    mut value: V,
    path: &str,
    errs: &mut SpecErrors,
) -> Option<T> {
    let mut removed: Vec<(String, String)> = Vec::new();
    for _ in 0..MAX_ERRORS_PER_ITEM {
        let err = match serde_path_to_error::deserialize::<_, T>(value.clone()) {
            Ok(v) => return Some(v),
            Err(err) => err,
        };
        let segments: Vec<Segment> = err.path().iter().cloned().collect();
        let message = explain(&err.into_inner().to_string());
        // A required field we removed ourselves is not a new mistake: stop here.
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
            && removed
                .iter()
                .any(|(p, k)| *p == render(&segments) && k == field)
        {
            return None;
        }
        let parent = render(segments.split_last().map_or(&[][..], |(_, p)| p));
        // "unknown field `endpoint` … (did you mean "endpoints"?)": a later "missing field
        // `endpoints`" is the same mistake.
        if let Some(suggested) = message
            .rsplit("did you mean \"")
            .next()
            .filter(|_| message.contains("did you mean"))
            && let Some(name) = suggested.split('"').next()
        {
            removed.push((parent.clone(), name.to_string()));
        }
        errs.push(spec_error::join(path, &render(&segments)), message);
        match remove_at(&mut value, &segments) {
            Some(key) => removed.push((parent, key)),
            None => return None,
        }
    }
    None
}

/// A path like `versions[1].endpoints[0]` (serde_path_to_error prints `.` for the root).
fn render(segments: &[Segment]) -> String {
    let mut out = String::new();
    for s in segments {
        match s {
            Segment::Seq { index } => out = spec_error::index(&out, *index),
            Segment::Map { key } => out = spec_error::join(&out, key),
            Segment::Enum { variant } => out = spec_error::join(&out, variant),
            Segment::Unknown => out = spec_error::join(&out, "?"),
        }
    }
    out
}

/// A document read item by item: a TOML file, or a JSON request body.
pub(crate) trait Tree: Clone + for<'de> serde::Deserializer<'de> {
    /// The element or table entry a path segment names.
    fn child(&mut self, segment: &Segment) -> Option<&mut Self>;
    /// Removes `key` when this is a table holding it.
    fn remove(&mut self, key: &str) -> bool;
}

impl Tree for toml::Value {
    fn child(&mut self, segment: &Segment) -> Option<&mut Self> {
        match (segment, self) {
            (Segment::Seq { index }, toml::Value::Array(a)) => a.get_mut(*index),
            (Segment::Map { key } | Segment::Enum { variant: key }, toml::Value::Table(t)) => {
                t.get_mut(key.as_str())
            }
            _ => None,
        }
    }

    fn remove(&mut self, key: &str) -> bool {
        match self {
            toml::Value::Table(t) => t.remove(key).is_some(),
            _ => false,
        }
    }
}

impl Tree for serde_json::Value {
    fn child(&mut self, segment: &Segment) -> Option<&mut Self> {
        match (segment, self) {
            (Segment::Seq { index }, serde_json::Value::Array(a)) => a.get_mut(*index),
            (
                Segment::Map { key } | Segment::Enum { variant: key },
                serde_json::Value::Object(o),
            ) => o.get_mut(key.as_str()),
            _ => None,
        }
    }

    fn remove(&mut self, key: &str) -> bool {
        match self {
            serde_json::Value::Object(o) => o.remove(key).is_some(),
            _ => false,
        }
    }
}

/// Removes the table key the path ends at, returning its name. Array elements are never
/// removed (that would shift the indices of the mistakes after them).
fn remove_at<V: Tree>(value: &mut V, segments: &[Segment]) -> Option<String> {
    let (last, parents) = segments.split_last()?;
    let mut node = value;
    for s in parents {
        node = node.child(s)?;
    }
    match last {
        Segment::Map { key } | Segment::Enum { variant: key } => {
            node.remove(key).then(|| key.clone())
        }
        _ => None,
    }
}

/// Reads a JSON document (an API request body) the way a config file's items are read: every
/// independent mistake is recorded in `errs` with its path, not only the first. When the
/// mistakes were all in fields that could be dropped, the rest is still returned so the caller
/// can check it too; the caller refuses the document whenever `errs` is not empty.
pub fn from_json<T: DeserializeOwned>(
    value: serde_json::Value,
    errs: &mut SpecErrors,
) -> Option<T> {
    item(value, "", errs)
}

/// Deserializes every element of an array of tables (`[[services]]`), keeping the ones that
/// are well-formed and recording the others. A non-array is one error.
pub(crate) fn items<T: DeserializeOwned>(
    value: Option<toml::Value>,
    path: &str,
    errs: &mut SpecErrors,
) -> Vec<T> {
    match value {
        None => Vec::new(),
        Some(toml::Value::Array(values)) => values
            .into_iter()
            .enumerate()
            .filter_map(|(i, v)| item(v, &spec_error::index(path, i), errs))
            .collect(),
        Some(other) => {
            errs.push(
                path,
                format!(
                    "expected an array of tables (`[[{path}]]`), found {}",
                    other.type_str()
                ),
            );
            Vec::new()
        }
    }
}

/// Makes serde's messages friendlier: an unknown field gets a "did you mean".
fn explain(message: &str) -> String {
    // toml adds "\nin `a.b`" naming the table; our path already says where.
    let message = message.split("\nin `").next().unwrap_or(message).trim_end();
    // serde: "unknown field `endpoint`, expected one of `name`, `endpoints`, `labels`"
    //        "unknown field `x`, expected `a` or `b`"
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_string();
    };
    let Some((unknown, expected)) = rest.split_once('`') else {
        return message.to_string();
    };
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let hint = did_you_mean(unknown, candidates.iter().copied());
    format!("{message}{hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Version {
        name: String,
        endpoints: Vec<String>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Service {
        name: String,
        versions: Vec<Version>,
    }

    fn parse(text: &str) -> toml::Value {
        toml::Value::Table(toml::from_str(text).unwrap())
    }

    #[test]
    fn records_every_bad_item_with_its_inner_path() {
        let doc = parse(
            r#"
            [[services]]
            name = "a"
            versions = [{ name = "v1", endpoint = ["x:1"] }]
            [[services]]
            name = "b"
            versions = [{ name = "v1", endpoints = ["x:1"] }]
            [[services]]
            name = 3
            versions = []
            "#,
        );
        let services = doc.get("services").cloned();
        let mut errs = SpecErrors::new();
        let ok: Vec<Service> = items(services, "services", &mut errs);
        assert_eq!(ok.len(), 1);
        let lines: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].starts_with("services[0].versions[0]"),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].contains("unknown field `endpoint`"),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].contains("did you mean \"endpoints\""),
            "{}",
            lines[0]
        );
        assert!(lines[1].starts_with("services[2].name"), "{}", lines[1]);
    }

    #[test]
    fn a_table_where_an_array_belongs_is_one_error() {
        let mut errs = SpecErrors::new();
        let v: Vec<Service> = items(Some(toml::Value::Integer(1)), "services", &mut errs);
        assert!(v.is_empty());
        assert_eq!(errs.len(), 1);
        assert!(errs.to_string().contains("expected an array of tables"));
    }
}
