//! Building etcd keys: ranges over a prefix, names made safe as one path segment, and numbers
//! whose key order is their numeric order.

/// The smallest key greater than every key that starts with `prefix` (etcd's `range_end` for
/// a prefix read). An empty or all-`0xff` prefix gives `[0]`, which etcd reads as "to the end".
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// `name` as one key segment: bytes outside `[A-Za-z0-9._~-]` become `%XX`, so a name can
/// never contain the `/` that separates segments and two names never share a prefix unless
/// one is a prefix of the other.
pub fn segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0x0f));
        }
    }
    out
}

/// The name [`segment`] encoded, or `None` when `seg` is not such an encoding.
pub fn unsegment(seg: &str) -> Option<String> {
    let bytes = seg.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex_value(*bytes.get(i + 1)?)?;
            let lo = hex_value(*bytes.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `n` as 20 decimal digits, so keys sort in numeric order.
pub fn padded(n: u64) -> String {
    format!("{n:020}")
}

fn hex_digit(n: u8) -> char {
    char::from(b"0123456789ABCDEF"[usize::from(n & 0x0f)])
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ends_are_the_next_key() {
        assert_eq!(prefix_end(b"/a/"), b"/a0");
        assert_eq!(prefix_end(b"a\xff"), b"b");
        assert_eq!(prefix_end(b"\xff\xff"), [0]);
        assert_eq!(prefix_end(b""), [0]);
    }

    #[test]
    fn segments_escape_separators_and_round_trip() {
        for name in ["shop-v1.2", "a/b", "50%", "naïve", "", "x y"] {
            let seg = segment(name);
            assert!(!seg.contains('/'), "{seg}");
            assert_eq!(unsegment(&seg).as_deref(), Some(name));
        }
        assert_eq!(segment("a/b"), "a%2Fb");
        assert_eq!(unsegment("%2"), None);
        assert_eq!(unsegment("%zz"), None);
    }

    #[test]
    fn padded_numbers_sort_numerically() {
        let mut keys: Vec<String> = [10u64, 9, 100, 0, u64::MAX].map(padded).to_vec();
        keys.sort();
        assert_eq!(keys, [0u64, 9, 10, 100, u64::MAX].map(padded));
    }
}
