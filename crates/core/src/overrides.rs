//! Tester overrides: a header or cookie that forces a version, honoured only from trusted
//! networks or with a valid, unexpired HMAC-SHA256 signature.

use std::fmt;
use std::net::IpAddr;

use hmac::{Hmac, KeyInit, Mac};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::RequestView;

/// Where a request may name a forced version, and who is believed. Built by the edge from
/// [`crate::OverrideSpec`] and the key it reads from the environment.
#[derive(Clone, Default)]
pub struct OverrideSettings {
    /// The header that names the version (`X-Rollgate-Force`).
    pub header: Option<String>,
    /// The cookie that names the version (`rg_force`); the header wins when both are present.
    pub cookie: Option<String>,
    /// Networks whose requests may name a version in plain text.
    pub trusted: Vec<IpNet>,
    /// The HMAC-SHA256 key for signed overrides, usable from anywhere until they expire.
    pub hmac_key: Option<Vec<u8>>,
}

/// Which part of the request carried an honoured override.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideVia {
    /// The override header.
    Header,
    /// The override cookie.
    Cookie,
}

/// Why an override was believed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideTrust {
    /// The client is in a trusted network.
    TrustedNetwork,
    /// The value carried a valid, unexpired signature.
    Signature,
}

/// An honoured override: the forced version's position in the service, and how it came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Forced {
    pub version: usize,
    pub via: OverrideVia,
    pub trust: OverrideTrust,
}

type HmacSha256 = Hmac<Sha256>;

/// A signed override value that forces `version` of `service` until `expires_unix_secs`
/// (inclusive): `<version>.<expires>.<hex hmac-sha256(key, "<service>\n<version>\n<expires>")>`.
/// Give it to a tester to send in the override header or cookie.
pub fn sign_override(key: &[u8], service: &str, version: &str, expires_unix_secs: u64) -> String {
    let tag = mac(key, service, version, expires_unix_secs)
        .finalize()
        .into_bytes();
    format!("{version}.{expires_unix_secs}.{}", hex::encode(tag))
}

fn mac(key: &[u8], service: &str, version: &str, expires: u64) -> HmacSha256 {
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(key)
        .expect("HMAC-SHA256 accepts keys of any length");
    m.update(service.as_bytes());
    m.update(b"\n");
    m.update(version.as_bytes());
    m.update(b"\n");
    m.update(expires.to_string().as_bytes());
    m
}

impl OverrideSettings {
    /// The version a request forces for `service`, if it carries an override that is believed.
    /// `versions` are the service's version names; `now_unix_secs` checks expiry.
    pub(crate) fn forced<R: RequestView + ?Sized>(
        &self,
        req: &R,
        service: &str,
        versions: &[Box<str>],
        now_unix_secs: u64,
    ) -> Option<Forced> {
        let (value, via) = self
            .header
            .as_deref()
            .and_then(|h| req.header(h))
            .map(|v| (v, OverrideVia::Header))
            .or_else(|| {
                let c = self.cookie.as_deref()?;
                req.cookie(c).map(|v| (v, OverrideVia::Cookie))
            })?;
        let value = value.trim_ascii();
        if let Some(version) = versions.iter().position(|v| &**v == value) {
            let trusted = req.client_ip().is_some_and(|ip| self.is_trusted(ip));
            return trusted.then_some(Forced {
                version,
                via,
                trust: OverrideTrust::TrustedNetwork,
            });
        }
        let version = self.verify_signed(value, service, now_unix_secs)?;
        let version = versions.iter().position(|v| &**v == version)?;
        Some(Forced {
            version,
            via,
            trust: OverrideTrust::Signature,
        })
    }

    /// True when `ip` is in a trusted network (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted.iter().any(|n| n.contains(&ip))
    }

    /// The version named by a signed value, when the signature is valid for `service` and it has
    /// not expired at `now_unix_secs`.
    pub fn verify_signed<'v>(
        &self,
        value: &'v str,
        service: &str,
        now_unix_secs: u64,
    ) -> Option<&'v str> {
        let key = self.hmac_key.as_deref()?;
        let mut parts = value.rsplitn(3, '.');
        let tag_hex = parts.next()?;
        let expires_text = parts.next()?;
        let version = parts.next()?;
        if expires_text.is_empty() || !expires_text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let expires: u64 = expires_text.parse().ok()?;
        if now_unix_secs > expires || expires.to_string() != expires_text {
            return None;
        }
        let tag = hex::decode(tag_hex).ok()?;
        // `verify_slice` compares in constant time.
        mac(key, service, version, expires)
            .verify_slice(&tag)
            .ok()?;
        Some(version)
    }
}

impl fmt::Debug for OverrideSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OverrideSettings")
            .field("header", &self.header)
            .field("cookie", &self.cookie)
            .field("trusted", &self.trusted)
            .field("hmac_key", &self.hmac_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AttributesView;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn settings() -> OverrideSettings {
        OverrideSettings {
            header: Some("X-Rollgate-Force".into()),
            cookie: Some("rg_force".into()),
            trusted: vec!["10.0.0.0/8".parse().unwrap()],
            hmac_key: Some(KEY.to_vec()),
        }
    }

    fn versions() -> Vec<Box<str>> {
        vec!["v1.1".into(), "v1.2".into()]
    }

    fn forced(req: &AttributesView, now: u64) -> Option<Forced> {
        settings().forced(req, "shop", &versions(), now)
    }

    #[test]
    fn plain_names_only_from_trusted_networks() {
        let req = AttributesView::new().with_header("x-rollgate-force", "v1.2");
        assert_eq!(forced(&req, 0), None);
        let outside = req.clone().with_ip("192.0.2.1".parse().unwrap());
        assert_eq!(forced(&outside, 0), None);
        let inside = req.with_ip("10.1.2.3".parse().unwrap());
        let f = forced(&inside, 0).unwrap();
        assert_eq!(
            (f.version, f.via, f.trust),
            (1, OverrideVia::Header, OverrideTrust::TrustedNetwork)
        );
        let mapped = AttributesView::new()
            .with_cookie("rg_force", "v1.1")
            .with_ip("::ffff:10.0.0.1".parse().unwrap());
        let f = forced(&mapped, 0).unwrap();
        assert_eq!((f.version, f.via), (0, OverrideVia::Cookie));
        let unknown = AttributesView::new()
            .with_header("x-rollgate-force", "v9")
            .with_ip("10.0.0.1".parse().unwrap());
        assert_eq!(forced(&unknown, 0), None);
    }

    #[test]
    fn signed_values_work_anywhere_until_they_expire() {
        let token = sign_override(KEY, "shop", "v1.2", 1_700_000_000);
        assert!(token.starts_with("v1.2.1700000000."));
        let req = AttributesView::new().with_cookie("rg_force", token.clone());
        let f = forced(&req, 1_700_000_000).unwrap();
        assert_eq!((f.version, f.trust), (1, OverrideTrust::Signature));
        assert_eq!(forced(&req, 1_700_000_001), None, "expired");
        let other_service = settings().forced(&req, "cart", &versions(), 0);
        assert_eq!(other_service, None);
    }

    #[test]
    fn the_signature_format_matches_openssl() {
        // printf 'shop\nv1.2\n1767225600' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef -hex
        assert_eq!(
            sign_override(KEY, "shop", "v1.2", 1_767_225_600),
            "v1.2.1767225600.5c2cb7187b803e4723447c355fd7e0bccbe04272f91459c605b8720e8a1ce1b3"
        );
    }

    #[test]
    fn tampered_or_unkeyed_signatures_are_ignored() {
        let token = sign_override(KEY, "shop", "v1.1", 1_700_000_000);
        let s = settings();
        assert_eq!(s.verify_signed(&token, "shop", 0), Some("v1.1"));
        let swapped = token.replacen("v1.1", "v1.2", 1);
        assert_eq!(s.verify_signed(&swapped, "shop", 0), None);
        let later = token.replacen("1700000000", "1800000000", 1);
        assert_eq!(s.verify_signed(&later, "shop", 0), None);
        let padded = token.replacen("1700000000", "01700000000", 1);
        assert_eq!(s.verify_signed(&padded, "shop", 0), None);
        assert_eq!(s.verify_signed("v1.1.1700000000.zz", "shop", 0), None);
        assert_eq!(s.verify_signed("garbage", "shop", 0), None);
        let other_key = sign_override(
            b"another key of enough length!!",
            "shop",
            "v1.1",
            1_700_000_000,
        );
        assert_eq!(s.verify_signed(&other_key, "shop", 0), None);
        let no_key = OverrideSettings {
            hmac_key: None,
            ..settings()
        };
        assert_eq!(no_key.verify_signed(&token, "shop", 0), None);
    }

    #[test]
    fn debug_hides_the_key() {
        let text = format!("{:?}", settings());
        assert!(
            text.contains("<redacted>") && !text.contains("0123456789abcdef"),
            "{text}"
        );
    }
}
