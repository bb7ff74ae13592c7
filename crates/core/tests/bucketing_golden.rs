//! Bucketing V1 never changes: every row of the committed golden file (produced by the
//! independent Python reproduction in `tests/reference/`) must bucket the same forever.
#![allow(clippy::unwrap_used)]

use rollgate_core::{BucketingVersion, Cohort, Ppm, bucket};

const GOLDEN: &str = include_str!("data/bucketing_v1.tsv");

/// Undoes the file's escapes: `\\`, `\t`, `\n`, `\r`, `\0`.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next() {
            Some('\\') => '\\',
            Some('t') => '\t',
            Some('n') => '\n',
            Some('r') => '\r',
            Some('0') => '\0',
            other => panic!("bad escape \\{other:?} in {s:?}"),
        });
    }
    out
}

fn rows() -> Vec<(String, String, u32)> {
    GOLDEN
        .lines()
        .filter(|l| !l.starts_with('#') && *l != "salt\tunit\tbucket")
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 3, "{l:?}");
            (
                unescape(cols[0]),
                unescape(cols[1]),
                cols[2].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_golden_vector_still_buckets_the_same() {
    let rows = rows();
    assert!(rows.len() >= 1_000, "only {} rows", rows.len());
    let wrong: Vec<_> = rows
        .iter()
        .filter(|(salt, unit, expected)| bucket(BucketingVersion::V1, salt, unit) != *expected)
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} rows moved, e.g. {:?}",
        wrong.len(),
        rows.len(),
        &wrong[..wrong.len().min(5)]
    );
}

#[test]
fn the_golden_file_covers_the_hard_cases() {
    let rows = rows();
    let has = |f: &dyn Fn(&str, &str) -> bool| rows.iter().any(|(s, u, _)| f(s, u));
    assert!(has(&|_, u| u.is_empty()), "empty unit");
    assert!(has(&|s, _| s.is_empty()), "empty salt");
    assert!(
        has(&|_, u| u == "é") && has(&|_, u| u == "e\u{301}"),
        "both normal forms of é"
    );
    assert!(has(&|_, u| u == "日本"), "CJK");
    assert!(has(&|_, u| u.contains('🚀')), "emoji");
    assert!(has(&|_, u| u.contains('ש')), "right-to-left");
    assert!(
        has(&|_, u| u.contains('\t') && u.starts_with("tab")),
        "escaped tab"
    );
    assert!(has(&|_, u| u.contains('\0')), "escaped NUL");
    assert!(
        has(&|_, u| u.len() >= 1000),
        "long ids beyond one hash block"
    );
    assert!(
        has(&|s, _| s.len() > 256),
        "salt + unit past the stack buffer"
    );
    assert!(rows.iter().all(|(_, _, b)| *b < 1_000_000));
}

#[test]
fn the_documented_worked_example_holds() {
    // docs/bucketing.md walks through this one by hand.
    assert_eq!(bucket(BucketingVersion::V1, "shop-v1.2", "alice"), 500_050);
    let cohort = |ppm| Cohort::of_bucket(500_050, Ppm::new(ppm).unwrap());
    assert_eq!(cohort(100_000), Cohort::Baseline);
    assert_eq!(cohort(50), Cohort::Stable);
    assert_eq!(cohort(51), Cohort::Baseline);
    assert_eq!(cohort(500_050), Cohort::Baseline);
    assert_eq!(cohort(500_051), Cohort::Canary);
    for (unit, expected) in [
        ("", 968_266),
        ("é", 522_880),
        ("e\u{301}", 931_729),
        ("日本", 925_042),
    ] {
        assert_eq!(
            bucket(BucketingVersion::V1, "shop-v1.2", unit),
            expected,
            "{unit:?}"
        );
    }
}
