//! Edge-local settings (`[edge]`) that feed routing but are not part of the snapshot: where
//! countries come from and who may force a version.

use serde::{Deserialize, Serialize};

use crate::overrides::OverrideSettings;
use crate::spec::check::{check_header_name, parse_network};
use crate::spec_error::{field, index};
use crate::{GeoSource, SpecErrors};

/// Shortest HMAC key accepted for signed overrides, in bytes.
pub const MIN_HMAC_KEY_BYTES: usize = 16;

/// How the edge learns a request's country (`geo = { header = "CF-IPCountry" }` or
/// `geo = { mmdb = "/var/lib/rollgate/GeoLite2-Country.mmdb" }`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum GeoSpec {
    /// A header set by a trusted CDN in front of the edge, holding an ISO country code.
    Header(String),
    /// A MaxMind-format country database file (GeoLite2-Country.mmdb or compatible).
    Mmdb(String),
}

/// `[edge.overrides]`: a header or cookie that lets testers force a version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideSpec {
    /// The header that names the version (`X-Rollgate-Force`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// The cookie that names the version (`rg_force`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie: Option<String>,
    /// Networks whose requests may name a version in plain text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_cidrs: Vec<String>,
    /// The environment variable holding the HMAC key for signed overrides (at least 16 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hmac_key_env: Option<String>,
}

impl GeoSpec {
    /// Records the problems of this setting under `path` (e.g. `edge.geo`).
    pub fn validate_into(&self, path: &str, errs: &mut SpecErrors) {
        match self {
            GeoSpec::Header(h) => check_header_name(&field(path, "header"), h, errs),
            GeoSpec::Mmdb(p) if p.trim().is_empty() => {
                errs.push(field(path, "mmdb"), "the database path is empty")
            }
            GeoSpec::Mmdb(_) => {}
        }
    }
}

impl OverrideSpec {
    /// Records the problems of this table under `path` (e.g. `edge.overrides`).
    pub fn validate_into(&self, path: &str, errs: &mut SpecErrors) {
        if self.header.is_none() && self.cookie.is_none() {
            errs.push(
                path,
                "set `header`, `cookie` or both: otherwise no request can carry an override",
            );
        }
        if let Some(h) = &self.header {
            check_header_name(&field(path, "header"), h, errs);
        }
        if let Some(c) = &self.cookie {
            check_header_name(&field(path, "cookie"), c, errs);
        }
        if self.trusted_cidrs.is_empty() && self.hmac_key_env.is_none() {
            errs.push(
                path,
                "set `trusted_cidrs`, `hmac_key_env` or both: otherwise no override is ever honoured",
            );
        }
        for (i, c) in self.trusted_cidrs.iter().enumerate() {
            if parse_network(c).is_none() {
                errs.push(
                    index(&field(path, "trusted_cidrs"), i),
                    format!("{c:?} is not a network: write a CIDR like \"10.0.0.0/8\" or a single address"),
                );
            }
        }
        if let Some(env) = &self.hmac_key_env
            && (env.is_empty() || env.contains('='))
        {
            errs.push(
                field(path, "hmac_key_env"),
                format!("{env:?} is not an environment variable name"),
            );
        }
    }

    /// The runtime settings, given the HMAC key the caller read from `hmac_key_env` (or `None`).
    /// Every problem is reported, including a key shorter than 16 bytes.
    pub fn to_settings(&self, hmac_key: Option<Vec<u8>>) -> Result<OverrideSettings, SpecErrors> {
        let mut errs = SpecErrors::new();
        self.validate_into("", &mut errs);
        if let Some(k) = &hmac_key
            && k.len() < MIN_HMAC_KEY_BYTES
        {
            errs.push(
                "hmac_key_env",
                format!(
                    "the HMAC key is {} bytes; use at least {MIN_HMAC_KEY_BYTES} random bytes",
                    k.len()
                ),
            );
        }
        errs.into_result()?;
        Ok(OverrideSettings {
            header: self.header.clone(),
            cookie: self.cookie.clone(),
            trusted: self
                .trusted_cidrs
                .iter()
                .filter_map(|c| parse_network(c))
                .collect(),
            hmac_key,
        })
    }
}

impl GeoSource {
    /// The header source for `geo = { header = … }`; `None` for `mmdb`, which the caller loads.
    pub fn from_header_spec(spec: &GeoSpec) -> Option<GeoSource> {
        match spec {
            GeoSpec::Header(h) => Some(GeoSource::Header(h.clone())),
            GeoSpec::Mmdb(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_build_settings() {
        let spec = OverrideSpec {
            header: Some("X-Rollgate-Force".into()),
            cookie: None,
            trusted_cidrs: vec!["10.0.0.0/8".into(), "127.0.0.1".into()],
            hmac_key_env: Some("KEY".into()),
        };
        let s = spec.to_settings(Some(vec![7; 32])).unwrap();
        assert_eq!(s.trusted.len(), 2);
        assert!(s.is_trusted("127.0.0.1".parse().unwrap()));
        let err = spec.to_settings(Some(vec![7; 4])).unwrap_err();
        assert!(err.to_string().contains("the HMAC key is 4 bytes"), "{err}");
    }

    #[test]
    fn overrides_report_every_problem() {
        let spec = OverrideSpec {
            trusted_cidrs: vec!["10.0.0.0/33".into()],
            ..OverrideSpec::default()
        };
        let mut errs = SpecErrors::new();
        spec.validate_into("edge.overrides", &mut errs);
        let text = errs.to_string();
        assert!(
            text.contains("edge.overrides: set `header`, `cookie` or both"),
            "{text}"
        );
        assert!(
            text.contains("edge.overrides.trusted_cidrs[0]: \"10.0.0.0/33\" is not a network"),
            "{text}"
        );
        let none = OverrideSpec {
            header: Some("X".into()),
            ..OverrideSpec::default()
        };
        assert!(
            none.to_settings(None)
                .unwrap_err()
                .to_string()
                .contains("no override is ever honoured")
        );
    }

    #[test]
    fn geo_spec_shapes() {
        let g: GeoSpec = serde_json::from_str(r#"{"header":"CF-IPCountry"}"#).unwrap();
        assert!(
            matches!(GeoSource::from_header_spec(&g), Some(GeoSource::Header(h)) if h == "CF-IPCountry")
        );
        let g: GeoSpec = serde_json::from_str(r#"{"mmdb":""}"#).unwrap();
        let mut errs = SpecErrors::new();
        g.validate_into("edge.geo", &mut errs);
        assert_eq!(
            errs.to_string(),
            "edge.geo.mmdb: the database path is empty"
        );
        assert!(GeoSource::from_header_spec(&g).is_none());
    }
}
