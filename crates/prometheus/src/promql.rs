//! PromQL text: label names, quoted strings and series selectors.

/// A series selector for the metric names `names` and the equality `matchers` (in order):
/// `name{a="x",b="y"}` for one name, `{__name__=~"n1|n2",a="x"}` for several.
pub(crate) fn selector(names: &[String], matchers: &[(String, String)]) -> String {
    let mut parts = Vec::with_capacity(matchers.len() + 1);
    let head = match names {
        [one] => one.clone(),
        _ => {
            let alternatives: Vec<String> = names.iter().map(|n| regex_escape(n)).collect();
            parts.push(format!("__name__=~{}", quote(&alternatives.join("|"))));
            String::new()
        }
    };
    parts.extend(matchers.iter().map(|(k, v)| format!("{k}={}", quote(v))));
    format!("{head}{{{}}}", parts.join(","))
}

/// A PromQL double-quoted string literal of `value` (Go escapes).
pub(crate) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// True for a Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub(crate) fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `text` with the characters RE2 treats specially escaped, so it matches itself.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matchers() -> Vec<(String, String)> {
        vec![
            ("service".into(), "shop".into()),
            ("rollout".into(), "shop \"v2\"\\\n".into()),
        ]
    }

    #[test]
    fn one_name_is_written_before_the_braces() {
        assert_eq!(
            selector(&["rollgate_requests_total".into()], &matchers()),
            r#"rollgate_requests_total{service="shop",rollout="shop \"v2\"\\\n"}"#
        );
    }

    #[test]
    fn several_names_are_an_anchored_alternation() {
        let names = ["a_total".to_string(), "b.c".to_string()];
        assert_eq!(
            selector(&names, &matchers()[..1]),
            r#"{__name__=~"a_total|b\\.c",service="shop"}"#
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(quote("a\u{1}b\tc"), r#""a\u0001b\tc""#);
    }

    #[test]
    fn label_names() {
        for ok in ["job", "_x", "a1_B"] {
            assert!(is_label_name(ok), "{ok}");
        }
        for bad in ["", "1a", "a-b", "a.b", "é"] {
            assert!(!is_label_name(bad), "{bad}");
        }
    }
}
