//! Numbers as people read them in verdict reasons: `1,204`, `p=0.0003`, `99%`.

/// `1204` as `1,204`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A p-value with two significant digits (`0.0031`, `0.25`), scientific below 1e-4
/// (`3.1e-7`), `<1e-300` at the floor.
pub fn p_value(p: f64) -> String {
    if p.is_nan() {
        return "n/a".to_owned();
    }
    if p < 1e-300 {
        return "<1e-300".to_owned();
    }
    if p < 1e-4 {
        return format!("{p:.1e}");
    }
    let decimals = (1 - p.log10().floor() as i32).clamp(0, 6) as usize;
    trim(format!("{p:.decimals$}"))
}

/// A confidence level from a false-alarm rate: `0.01` → `99%`, `0.005` → `99.5%`.
pub fn confidence(alpha: f64) -> String {
    let pct = (1.0 - alpha) * 100.0;
    format!("{}%", trim(format!("{pct:.3}")))
}

fn trim(text: String) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_204), "1,204");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn p_values() {
        assert_eq!(p_value(0.0003), "0.0003");
        assert_eq!(p_value(0.00031), "0.00031");
        assert_eq!(p_value(0.25), "0.25");
        assert_eq!(p_value(1.0), "1");
        assert_eq!(p_value(0.012345), "0.012");
        assert_eq!(p_value(3.14e-7), "3.1e-7");
        assert_eq!(p_value(0.0), "<1e-300");
    }

    #[test]
    fn confidence_levels() {
        assert_eq!(confidence(0.01), "99%");
        assert_eq!(confidence(0.005), "99.5%");
        assert_eq!(confidence(0.0025), "99.75%");
    }
}
