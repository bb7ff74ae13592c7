//! "Did you mean …?": the closest known name to a misspelled one.

/// The candidate closest to `word` by edit distance (ignoring case), when it is close enough to
/// be a plausible typo: at most one edit per three characters, and at least one.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (distance(&word, &c.to_lowercase()), c))
        .filter(|&(d, _)| d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and transpositions
/// of adjacent characters each cost one.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rolling rows: two rows back (for transpositions), the previous one, the current one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("abc", ""), 3);
        assert_eq!(distance("", "ab"), 2);
        assert_eq!(distance("eror_rate", "error_rate"), 1);
        assert_eq!(distance("erorr_rate", "error_rate"), 1, "transposition");
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("läuft", "lauft"), 1);
    }

    #[test]
    fn suggests_close_names_only() {
        let names = ["error_rate", "p99_latency", "p95_latency", "requests"];
        assert_eq!(closest("eror_rate", names), Some("error_rate"));
        assert_eq!(closest("Error_Rate", names), Some("error_rate"));
        assert_eq!(
            closest("p98_latency", names),
            Some("p95_latency"),
            "ties break by name"
        );
        assert_eq!(closest("request", names), Some("requests"));
        assert_eq!(closest("conversion", names), None);
        assert_eq!(closest("x", names), None);
    }
}
