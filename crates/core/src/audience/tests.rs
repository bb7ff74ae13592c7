use super::*;
use crate::AttributesView;

fn rule(json: &str) -> Audience {
    let spec: RuleSpec = serde_json::from_str(json).unwrap();
    Audience::compile(&spec).unwrap()
}

fn errors(json: &str) -> String {
    let spec: RuleSpec = serde_json::from_str(json).unwrap();
    Audience::compile(&spec).unwrap_err().to_string()
}

fn yes(a: &Audience, req: &AttributesView) -> bool {
    a.matches(req, "unit-1", &GeoSource::None)
}

#[test]
fn header_equals_prefix_regex() {
    let eq = rule(r#"{"header":{"name":"X-Beta","equals":"1"}}"#);
    assert!(yes(&eq, &AttributesView::new().with_header("x-beta", "1")));
    assert!(!yes(
        &eq,
        &AttributesView::new().with_header("x-beta", "10")
    ));
    assert!(!yes(&eq, &AttributesView::new()));
    let prefix = rule(r#"{"header":{"name":"X-Plan","prefix":"pro"}}"#);
    assert!(yes(
        &prefix,
        &AttributesView::new().with_header("X-Plan", "pro-annual")
    ));
    assert!(!yes(
        &prefix,
        &AttributesView::new().with_header("X-Plan", "Pro")
    ));
    let re = rule(r#"{"header":{"name":"X-Team","regex":"^(qa|dev)-\\d+$"}}"#);
    assert!(yes(
        &re,
        &AttributesView::new().with_header("X-Team", "qa-7")
    ));
    assert!(!yes(
        &re,
        &AttributesView::new().with_header("X-Team", "ops-7")
    ));
}

#[test]
fn cookie_and_query() {
    let c = rule(r#"{"cookie":{"name":"plan","equals":"gold"}}"#);
    assert!(yes(&c, &AttributesView::new().with_cookie("plan", "gold")));
    assert!(!yes(&c, &AttributesView::new().with_header("plan", "gold")));
    let q = rule(r#"{"query":{"name":"exp","regex":"(?i)^ON$"}}"#);
    assert!(yes(&q, &AttributesView::new().with_query("exp", "on")));
    assert!(!yes(&q, &AttributesView::new().with_query("exp", "off")));
}

#[test]
fn path_prefix() {
    let p = rule(r#"{"path_prefix":"/checkout"}"#);
    assert!(yes(&p, &AttributesView::new().with_path("/checkout/pay")));
    assert!(!yes(&p, &AttributesView::new().with_path("/checkouts")));
}

#[test]
fn ip_networks_v4_v6_and_mapped() {
    let ip = rule(r#"{"ip":["10.0.0.0/8","2001:db8::/32","192.0.2.7","::ffff:172.16.0.0/108"]}"#);
    let from = |s: &str| AttributesView::new().with_ip(s.parse().unwrap());
    assert!(yes(&ip, &from("10.200.0.1")));
    assert!(
        yes(&ip, &from("::ffff:10.0.0.1")),
        "IPv4-mapped clients match IPv4 networks"
    );
    assert!(yes(&ip, &from("2001:db8::1")));
    assert!(yes(&ip, &from("192.0.2.7")));
    assert!(!yes(&ip, &from("192.0.2.8")));
    assert!(
        yes(&ip, &from("172.16.5.5")),
        "mapped networks match plain IPv4 clients"
    );
    assert!(!yes(&ip, &AttributesView::new()));
}

#[test]
fn country_from_header_source() {
    let c = rule(r#"{"country":["de","FR"]}"#);
    let geo = GeoSource::Header("CF-IPCountry".into());
    let req = AttributesView::new().with_header("cf-ipcountry", "DE");
    assert!(c.matches(&req, "u", &geo));
    assert!(!c.matches(&req, "u", &GeoSource::None));
    let req = AttributesView::new().with_header("cf-ipcountry", "us");
    assert!(!c.matches(&req, "u", &geo));
}

#[test]
fn device_classes() {
    let d = rule(r#"{"device":["mobile","tablet"]}"#);
    let ua = |s: &str| AttributesView::new().with_header("User-Agent", s);
    assert!(yes(
        &d,
        &ua(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
        )
    ));
    assert!(!yes(
        &d,
        &ua(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
        )
    ));
    assert!(
        yes(&d, &AttributesView::new().with_device(DeviceClass::Tablet)),
        "a known class wins"
    );
    let bot = rule(r#"{"not":{"device":["bot"]}}"#);
    assert!(!yes(&bot, &AttributesView::new()), "no User-Agent is a bot");
    assert!(yes(
        &bot,
        &ua("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0")
    ));
}

#[test]
fn unit_in() {
    let u = rule(r#"{"unit_in":["alice","日本"]}"#);
    let req = AttributesView::new();
    assert!(u.matches(&req, "alice", &GeoSource::None));
    assert!(u.matches(&req, "日本", &GeoSource::None));
    assert!(!u.matches(&req, "Alice", &GeoSource::None));
}

#[test]
fn app_version_ranges() {
    let a = rule(r#"{"app_version":{"header":"X-App-Version","range":">=2.3.0, <3"}}"#);
    let v = |s: &str| AttributesView::new().with_header("x-app-version", s);
    assert!(yes(&a, &v("2.3.0")));
    assert!(yes(&a, &v("v2.9.1")));
    assert!(yes(&a, &v("2.4")));
    assert!(!yes(&a, &v("3.0.0")));
    assert!(!yes(&a, &v("2.2.9")));
    assert!(!yes(&a, &v("garbage")));
    assert!(!yes(&a, &AttributesView::new()));
}

#[test]
fn lenient_app_versions() {
    assert_eq!(parse_app_version("2"), Some(Version::new(2, 0, 0)));
    assert_eq!(parse_app_version(" V1.2 "), Some(Version::new(1, 2, 0)));
    assert_eq!(
        parse_app_version("1.2.3-beta.1").map(|v| v.pre.is_empty()),
        Some(false)
    );
    assert_eq!(parse_app_version("1.2.3.4"), None);
    assert_eq!(parse_app_version("1..2"), None);
    assert_eq!(parse_app_version(""), None);
    assert_eq!(parse_app_version("01.2.3"), Some(Version::new(1, 2, 3)));
    assert_eq!(
        parse_app_version("99999999999999999999.0.0"),
        None,
        "overflow"
    );
    assert_eq!(
        parse_app_version("2.3.0+build.7").map(|v| v.build.is_empty()),
        Some(false)
    );
}

#[test]
fn combinators_short_circuit_in_order() {
    let all = rule(
        r#"{"all":[{"header":{"name":"a","equals":"1"}},{"header":{"name":"b","equals":"1"}}]}"#,
    );
    let any = rule(
        r#"{"any":[{"header":{"name":"a","equals":"1"}},{"header":{"name":"b","equals":"1"}}]}"#,
    );
    let a = AttributesView::new().with_header("a", "1");
    let ab = a.clone().with_header("b", "1");
    assert!(!yes(&all, &a) && yes(&all, &ab));
    assert!(yes(&any, &a) && !yes(&any, &AttributesView::new()));
    let not = rule(r#"{"not":{"any":[{"header":{"name":"a","equals":"1"}}]}}"#);
    assert!(!yes(&not, &a) && yes(&not, &AttributesView::new()));
}

#[test]
fn the_user_agent_is_parsed_once_per_request() {
    struct Counting(std::cell::Cell<u32>);
    impl RequestView for Counting {
        fn host(&self) -> Option<&str> {
            None
        }
        fn path(&self) -> &str {
            "/"
        }
        fn header(&self, name: &str) -> Option<&str> {
            if name.eq_ignore_ascii_case("user-agent") {
                self.0.set(self.0.get() + 1);
                Some("curl/8")
            } else {
                None
            }
        }
        fn cookie(&self, _: &str) -> Option<&str> {
            None
        }
        fn query(&self, _: &str) -> Option<&str> {
            None
        }
        fn client_ip(&self) -> Option<std::net::IpAddr> {
            None
        }
    }
    let a = rule(r#"{"any":[{"device":["mobile"]},{"device":["tablet"]},{"device":["bot"]}]}"#);
    let req = Counting(std::cell::Cell::new(0));
    assert!(a.matches(&req, "u", &GeoSource::None));
    assert_eq!(req.0.get(), 1);
}

#[test]
fn every_bad_rule_is_reported_with_its_path() {
    let text = errors(
        r#"{"all":[
            {"header":{"name":"X A","equals":"1"}},
            {"cookie":{"name":"c","equals":"1","prefix":"2"}},
            {"query":{"name":"q","regex":"(unclosed"}},
            {"path_prefix":"api"},
            {"ip":["10.0.0.0/33","::1/128"]},
            {"country":["Germany","de"]},
            {"device":["mobil"]},
            {"unit_in":[]},
            {"app_version":{"header":"X-App-Version","range":">=2.x.y"}},
            {"any":[]},
            {"not":{"ip":["nope"]}}
        ]}"#,
    );
    for expected in [
        "all[0].header.name: \"X A\" is not a header or cookie name",
        "all[1].cookie: write exactly one of `equals`, `prefix` or `regex`",
        "all[2].query.regex: \"(unclosed\" is not a valid regular expression",
        "all[3].path_prefix: \"api\" must start with \"/\"",
        "all[4].ip[0]: \"10.0.0.0/33\" is not a network",
        "all[5].country[0]: \"Germany\" is not an ISO 3166-1 alpha-2 country code",
        "all[6].device[0]: unknown device class \"mobil\" (did you mean \"mobile\"?)",
        "all[7].unit_in: the list is empty",
        "all[8].app_version.range: \">=2.x.y\" is not a semver range",
        "all[9].any: the list of rules is empty",
        "all[10].not.ip[0]: \"nope\" is not a network",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert_eq!(
        text.lines().filter(|l| l.starts_with("all[")).count(),
        11,
        "{text}"
    );
}

#[test]
fn toml_shapes_from_the_example_parse() {
    let spec: RuleSpec = toml::from_str::<toml::Table>(
        r#"
        audience = { all = [
          { country = ["DE", "FR", "NL"] },
          { not = { device = ["bot"] } },
          { any = [
              { header = { name = "X-Beta", equals = "1" } },
              { app_version = { header = "X-App-Version", range = ">=2.3.0" } },
              { ip = ["0.0.0.0/0", "::/0"] },
          ] },
        ] }
        "#,
    )
    .unwrap()["audience"]
        .clone()
        .try_into()
        .unwrap();
    assert!(Audience::compile(&spec).is_ok());
    let two_keys =
        toml::from_str::<toml::Table>(r#"r = { ip = ["10.0.0.0/8"], country = ["DE"] }"#).unwrap()
            ["r"]
            .clone()
            .try_into::<RuleSpec>();
    assert!(two_keys.is_err(), "a rule table has exactly one key");
}
