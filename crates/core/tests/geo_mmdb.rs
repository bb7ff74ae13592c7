//! Country rules against a real MaxMind-format database, written for the test by Debian's
//! `libmaxmind-db-writer-perl` from `tests/geo/make_mmdb.pl` (no GeoLite database ships in
//! Debian).
#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::sync::Arc;

use rollgate_core::{AttributesView, Audience, GeoSource, RuleSpec};

fn database() -> (tempfile::TempDir, GeoSource) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("countries.mmdb");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/geo/make_mmdb.pl");
    let run = Command::new("perl").arg(script).arg(&out).output();
    let ok = run.as_ref().is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "could not build the test GeoIP database with perl: install the Debian package \
         libmaxmind-db-writer-perl (apt-get install libmaxmind-db-writer-perl). {run:?}"
    );
    let bytes = std::fs::read(&out).unwrap();
    let reader = maxminddb::Reader::from_source(bytes).unwrap();
    (dir, GeoSource::Db(Arc::new(reader)))
}

fn from(ip: &str) -> AttributesView {
    AttributesView::new().with_ip(ip.parse().unwrap())
}

#[test]
fn countries_come_from_the_database() {
    let (_dir, geo) = database();
    let rule = |codes: &[&str]| {
        Audience::compile(&RuleSpec::Country(
            codes.iter().map(|c| c.to_string()).collect(),
        ))
        .unwrap()
    };
    let de = rule(&["DE"]);
    let fr_nl = rule(&["fr", "NL"]);
    let jp_us = rule(&["JP", "US"]);
    assert!(de.matches(&from("127.0.0.1"), "u", &geo));
    assert!(!de.matches(&from("127.0.0.200"), "u", &geo));
    assert!(fr_nl.matches(&from("127.0.0.200"), "u", &geo));
    assert!(fr_nl.matches(&from("10.20.30.40"), "u", &geo));
    assert!(
        fr_nl.matches(&from("::ffff:10.0.0.1"), "u", &geo),
        "IPv4-mapped clients"
    );
    assert!(jp_us.matches(&from("2001:db8::42"), "u", &geo));
    assert!(jp_us.matches(&from("::1"), "u", &geo));
    for unknown in ["192.0.2.1", "2001:db9::1"] {
        for r in [&de, &fr_nl, &jp_us] {
            assert!(
                !r.matches(&from(unknown), "u", &geo),
                "{unknown} is in no network"
            );
        }
    }
    assert!(
        !de.matches(&AttributesView::new(), "u", &geo),
        "no client address, no country"
    );
}

#[test]
fn an_explicit_country_wins_over_the_database() {
    let (_dir, geo) = database();
    let de = Audience::compile(&RuleSpec::Country(vec!["DE".into()])).unwrap();
    assert!(de.matches(&from("10.0.0.1").with_country("de"), "u", &geo));
}
