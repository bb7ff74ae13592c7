//! Where a request comes from: the country, from a trusted header or a MaxMind database.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use maxminddb::{PathElement, Reader};

use crate::RequestView;

/// How the edge learns a request's country.
#[derive(Clone, Default)]
pub enum GeoSource {
    /// No geo source: `country` rules never match.
    #[default]
    None,
    /// A header set by a trusted CDN in front of the edge (`CF-IPCountry`,
    /// `CloudFront-Viewer-Country`), holding an ISO 3166-1 alpha-2 code.
    Header(String),
    /// A MaxMind-format database (GeoLite2-Country or compatible), looked up by client address.
    /// The caller loads it (`Reader::from_source(bytes)`); this crate only reads it.
    Db(Arc<Reader<Vec<u8>>>),
}

/// Accepted country codes: ISO 3166-1 alpha-2, plus `XK` (Kosovo, used by MaxMind and CDNs),
/// and Cloudflare's `XX` (unknown) and `T1` (Tor).
const COUNTRY_CODES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ T1 TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK XX YE YT ZA ZM ZW";

/// An upper-case two-letter country code.
pub(crate) type Country = [u8; 2];

/// `raw` (any case, surrounding spaces ignored) as an upper-case two-character code, without
/// checking that the code exists: the request path only compares with configured codes.
pub(crate) fn country_key(raw: &str) -> Option<Country> {
    match raw.as_bytes().trim_ascii() {
        &[a, b] if a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric() => {
            Some([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
        }
        _ => None,
    }
}

/// The country code in `raw` (any case, surrounding spaces ignored), if it is a known code.
pub(crate) fn parse_country(raw: &str) -> Option<Country> {
    let code = country_key(raw)?;
    let known = COUNTRY_CODES
        .as_bytes()
        .chunks(3)
        .any(|c| c[0] == code[0] && c[1] == code[1]);
    known.then_some(code)
}

/// True when `code` (any case) is a country code `country` rules accept.
pub fn is_country_code(code: &str) -> bool {
    parse_country(code).is_some()
}

impl GeoSource {
    /// The country of a request, or `None` when the source does not know it.
    pub(crate) fn country_of(&self, req: &(impl RequestView + ?Sized)) -> Option<Country> {
        if let Some(c) = req.country() {
            return country_key(c);
        }
        match self {
            GeoSource::None => None,
            GeoSource::Header(name) => req.header(name).and_then(country_key),
            GeoSource::Db(reader) => req.client_ip().and_then(|ip| lookup(reader, ip)),
        }
    }
}

/// The `country.iso_code` of `ip` in a MaxMind database.
fn lookup(reader: &Reader<Vec<u8>>, ip: IpAddr) -> Option<Country> {
    let path = [PathElement::Key("country"), PathElement::Key("iso_code")];
    let found = reader.lookup(ip.to_canonical()).ok()?;
    let code: Option<&str> = found.decode_path(&path).ok()?;
    code.and_then(country_key)
}

impl fmt::Debug for GeoSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GeoSource::None => f.write_str("None"),
            GeoSource::Header(h) => f.debug_tuple("Header").field(h).finish(),
            GeoSource::Db(r) => f
                .debug_tuple("Db")
                .field(&r.metadata().database_type)
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AttributesView;

    #[test]
    fn country_codes() {
        assert_eq!(parse_country("de"), Some(*b"DE"));
        assert_eq!(parse_country(" FR "), Some(*b"FR"));
        assert_eq!(parse_country("ZW"), Some(*b"ZW"));
        assert_eq!(parse_country("AD"), Some(*b"AD"));
        assert_eq!(parse_country("XX"), Some(*b"XX"));
        assert_eq!(parse_country("QQ"), None);
        assert_eq!(parse_country("DEU"), None);
        assert_eq!(parse_country(""), None);
        assert_eq!(parse_country("é"), None);
        assert!(is_country_code("nl"));
        assert_eq!(country_key("qq"), Some(*b"QQ"));
        assert_eq!(country_key("t1"), Some(*b"T1"));
        assert_eq!(country_key("D-"), None);
    }

    #[test]
    fn header_source_and_explicit_country() {
        let geo = GeoSource::Header("CF-IPCountry".into());
        let req = AttributesView::new().with_header("cf-ipcountry", "nl");
        assert_eq!(geo.country_of(&req), Some(*b"NL"));
        assert_eq!(GeoSource::None.country_of(&req), None);
        let req = req.with_country("JP");
        assert_eq!(GeoSource::None.country_of(&req), Some(*b"JP"));
        assert_eq!(geo.country_of(&AttributesView::new()), None);
    }
}
