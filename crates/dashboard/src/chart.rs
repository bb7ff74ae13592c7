//! Charts as SVG written on the server: a line chart per metric (one line per cohort, the
//! failure threshold dashed with its label) and a step chart of the canary weight with a
//! marker per decision. Shared here: the plot geometry, scales, ticks and the colour-blind-safe
//! palette (Okabe–Ito), with a dash pattern per cohort so colour is never the only cue.

mod line;
mod weight;

pub(crate) use line::{Line, LineChart, Threshold};
pub(crate) use weight::WeightChart;

use rollgate_core::Cohort;
use rollgate_core::model::UnixMillis;

use crate::format;

/// Width of a metric chart's view box (two fit side by side).
const WIDTH: f64 = 720.0;
/// Height of a metric chart's view box.
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 28.0;

/// A linear map from data to pixels.
#[derive(Clone, Copy, Debug)]
struct Scale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

/// How a cohort's line looks.
struct Pen {
    colour: &'static str,
    dash: Option<&'static str>,
    width: f64,
}

impl Scale {
    fn new(d0: f64, d1: f64, r0: f64, r1: f64) -> Scale {
        let d1 = if d1 > d0 { d1 } else { d0 + 1.0 };
        Scale { d0, d1, r0, r1 }
    }

    fn at(&self, v: f64) -> f64 {
        let x = self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0);
        (x * 10.0).round() / 10.0
    }
}

/// The time axis: `[from, to)` onto the plot's width in a view box `width` wide.
fn x_scale(from: UnixMillis, to: UnixMillis, width: f64) -> Scale {
    Scale::new(from as f64, to as f64, LEFT, width - RIGHT)
}

/// A value axis `[lo, hi]` onto the plot's height (up is more) in a view box `height` high.
fn y_scale(lo: f64, hi: f64, height: f64) -> Scale {
    Scale::new(lo, hi, height - BOTTOM, TOP)
}

/// The pen of a cohort: canary vermillion solid, baseline blue long dashes, stable green dots.
fn pen(cohort: Cohort) -> Pen {
    match cohort {
        Cohort::Canary => Pen {
            colour: "#D55E00",
            dash: None,
            width: 2.2,
        },
        Cohort::Baseline => Pen {
            colour: "#0072B2",
            dash: Some("7 3"),
            width: 1.8,
        },
        Cohort::Stable => Pen {
            colour: "#009E73",
            dash: Some("2 3"),
            width: 1.8,
        },
    }
}

/// The CSS class of a cohort (`canary`, `baseline`, `stable`).
pub(crate) fn cohort_class(cohort: Cohort) -> &'static str {
    match cohort {
        Cohort::Canary => "canary",
        Cohort::Baseline => "baseline",
        Cohort::Stable => "stable",
    }
}

/// A "nice" step (1, 2, 2.5 or 5 × 10ⁿ) that splits `range` into about `target` parts.
fn nice_step(range: f64, target: f64) -> f64 {
    if !(range.is_finite() && range > 0.0) {
        return 1.0;
    }
    let raw = range / target.max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 2.5 {
        2.5
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// The value axis for data in `[lo, hi]`: bounds rounded out to a nice step, and the ticks.
/// Always includes 0 (metrics are read against zero).
fn value_ticks(lo: f64, hi: f64) -> (f64, f64, Vec<f64>) {
    let lo = lo.min(0.0);
    let hi = if hi > lo { hi } else { lo + 1.0 };
    let step = nice_step(hi - lo, 4.0);
    let lo = (lo / step).floor() * step;
    let hi = (hi / step).ceil() * step;
    let n = ((hi - lo) / step).round().clamp(1.0, 20.0) as usize;
    let ticks = (0..=n).map(|i| lo + step * i as f64).collect();
    (lo, hi, ticks)
}

/// Time ticks over `[from, to)` at a round interval (about six of them), with their labels.
fn time_ticks(from: UnixMillis, to: UnixMillis) -> Vec<(UnixMillis, String)> {
    const STEPS: [i64; 20] = [
        1_000,
        2_000,
        5_000,
        10_000,
        15_000,
        30_000,
        60_000,
        120_000,
        300_000,
        600_000,
        900_000,
        1_800_000,
        3_600_000,
        7_200_000,
        10_800_000,
        21_600_000,
        43_200_000,
        86_400_000,
        172_800_000,
        604_800_000,
    ];
    let range = (to - from).max(1);
    let step = STEPS
        .iter()
        .copied()
        .find(|s| range / s <= 6)
        .unwrap_or(STEPS[STEPS.len() - 1]);
    let label = |t: UnixMillis| {
        if step < 60_000 {
            format::clock(t)
        } else if step < 86_400_000 {
            format::hour_minute(t)
        } else {
            format::day_hour(t)
        }
    };
    let first = from.div_euclid(step) * step + if from.rem_euclid(step) == 0 { 0 } else { step };
    (0..)
        .map(|i| first + i * step)
        .take_while(|t| *t <= to)
        .map(|t| (t, label(t)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(10.0, 4.0), 2.5);
        assert!((nice_step(0.05, 4.0) - 0.02).abs() < 1e-12);
        assert_eq!(nice_step(400.0, 4.0), 100.0);
        assert_eq!(nice_step(0.0, 4.0), 1.0);
    }

    #[test]
    fn value_axis_starts_at_zero_and_covers_the_data() {
        let (lo, hi, ticks) = value_ticks(0.002, 0.061);
        assert_eq!(lo, 0.0);
        assert!(hi >= 0.061);
        assert_eq!(ticks.first(), Some(&0.0));
        assert!(ticks.len() >= 3 && ticks.len() <= 7, "{ticks:?}");
        let (lo, hi, _) = value_ticks(0.0, 0.0);
        assert!(lo == 0.0 && hi > 0.0);
    }

    #[test]
    fn time_ticks_are_round_and_inside_the_range() {
        let from = 1_700_000_000_000 + 12_345;
        let to = from + 15 * 60_000;
        let ticks = time_ticks(from, to);
        assert!(ticks.len() >= 3 && ticks.len() <= 7, "{ticks:?}");
        for (t, label) in &ticks {
            assert!(*t >= from && *t <= to);
            assert_eq!(t % 300_000, 0, "{label}");
            assert_eq!(label.len(), 5, "HH:MM: {label}");
        }
    }

    #[test]
    fn scales_map_ends_to_ends() {
        let s = Scale::new(0.0, 10.0, 100.0, 0.0);
        assert_eq!(s.at(0.0), 100.0);
        assert_eq!(s.at(10.0), 0.0);
        assert_eq!(s.at(5.0), 50.0);
        let flat = Scale::new(3.0, 3.0, 0.0, 10.0);
        assert!(flat.at(3.0).is_finite());
    }
}
