//! "Did you mean …?" hints for misspelt names.

/// The candidate closest to `name`, when it is close enough to be a likely typo.
///
/// Closeness is the edit distance (insertions, deletions, substitutions, counted in
/// characters, ignoring ASCII case); a candidate qualifies within `max(1, len / 3)` edits.
/// Ties go to the earliest candidate. `name` itself is never suggested.
pub fn suggest<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let d = edit_distance(name, candidate);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// Edit distance over characters where swapping two neighbours counts as one edit (optimal
/// string alignment), case-insensitive for ASCII.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    // Three rows: i-2, i-1 and i.
    let mut prev2 = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 0..a.len() {
        cur[0] = i + 1;
        for j in 0..b.len() {
            let mut d = (prev[j] + usize::from(a[i] != b[j]))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
            if i > 0 && j > 0 && a[i] == b[j - 1] && a[i - 1] == b[j] {
                d = d.min(prev2[j - 1] + 1);
            }
            cur[j + 1] = d;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// `" (did you mean \"x\"?)"` when a close candidate exists, otherwise an empty string: ready to
/// append to an error message.
pub fn did_you_mean<'a, I>(name: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    match suggest(name, candidates) {
        Some(s) => format!(" (did you mean {s:?}?)"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("v13", "v1.3"), 1);
        assert_eq!(edit_distance("Shop", "shop"), 0);
        assert_eq!(edit_distance("日本", "日"), 1);
        assert_eq!(edit_distance("shpo", "shop"), 1);
        assert_eq!(edit_distance("ab", "ba"), 1);
    }

    #[test]
    fn suggests_close_names_only() {
        let names = ["v1.2", "v1.3", "stable"];
        assert_eq!(suggest("v13", names), Some("v1.3"));
        assert_eq!(suggest("stabel", names), Some("stable"));
        assert_eq!(suggest("canary", names), None);
        assert_eq!(suggest("v1.3", ["v1.3"]), None);
        assert_eq!(
            suggest("eror_rate", ["error_rate", "p99_latency"]),
            Some("error_rate")
        );
    }

    #[test]
    fn hint_text() {
        assert_eq!(did_you_mean("shpo", ["shop"]), " (did you mean \"shop\"?)");
        assert_eq!(did_you_mean("zzz", ["shop"]), "");
    }
}
