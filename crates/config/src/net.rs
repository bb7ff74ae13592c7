//! Small parsers for network settings, with errors that say what to write instead.

use std::net::SocketAddr;

use rollgate_core::SpecErrors;

/// Parses a listen address (`127.0.0.1:8080`, `[::1]:8080`, `0.0.0.0:0` for any free port).
pub(crate) fn parse_listen(text: &str, path: &str, errs: &mut SpecErrors) -> Option<SocketAddr> {
    match text.parse::<SocketAddr>() {
        Ok(addr) => Some(addr),
        Err(_) => {
            let hint = if !text.contains(':') {
                " (add a port, like \"127.0.0.1:8080\")"
            } else if text.starts_with("localhost") {
                " (use an IP address: \"127.0.0.1:…\" or \"[::1]:…\")"
            } else {
                ""
            };
            errs.push(
                path,
                format!("{text:?} is not an IP address and port{hint}"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        let mut errs = SpecErrors::new();
        assert!(parse_listen("127.0.0.1:0", "a", &mut errs).is_some());
        assert!(parse_listen("[::1]:80", "a", &mut errs).is_some());
        assert!(errs.is_empty());
        assert!(parse_listen("localhost:80", "edge.listen", &mut errs).is_none());
        assert!(parse_listen("8080", "edge.listen", &mut errs).is_none());
        let text = errs.to_string();
        assert!(
            text.contains(
                "edge.listen: \"localhost:80\" is not an IP address and port (use an IP address"
            ),
            "{text}"
        );
        assert!(text.contains("(add a port"), "{text}");
    }
}
