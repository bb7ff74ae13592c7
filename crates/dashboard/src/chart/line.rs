//! One metric over time: a line per cohort (gaps where there was no traffic), the failure
//! threshold of every condition on the metric as a dashed line with its label, a time axis
//! (UTC) and a value axis in the metric's unit.

use maud::{Markup, html};
use rollgate_core::Cohort;
use rollgate_core::model::UnixMillis;
use rollgate_metrics::MetricUnit;

use super::{
    BOTTOM, HEIGHT, LEFT, RIGHT, Scale, TOP, WIDTH, cohort_class, pen, time_ticks, value_ticks,
    x_scale, y_scale,
};
use crate::format;

/// A metric chart, ready to render.
#[derive(Clone, Debug)]
pub(crate) struct LineChart {
    /// The metric's name (`error_rate`).
    pub metric: String,
    /// What the chart shows, for people.
    pub title: String,
    /// The metric's unit (axis labels).
    pub unit: MetricUnit,
    /// Start of the time range.
    pub from: UnixMillis,
    /// End of the time range.
    pub to: UnixMillis,
    /// Milliseconds each point covers (points are drawn at the middle).
    pub step_ms: i64,
    /// One line per cohort.
    pub lines: Vec<Line>,
    /// The failure thresholds on this metric.
    pub thresholds: Vec<Threshold>,
}

/// One cohort's values over time.
#[derive(Clone, Debug)]
pub(crate) struct Line {
    /// Which cohort.
    pub cohort: Cohort,
    /// `canary (v2)`.
    pub label: String,
    /// `(start of the point, value)`; `None` where there was no data.
    pub points: Vec<(UnixMillis, Option<f64>)>,
    /// The value over the whole range and its samples, for the legend.
    pub overall: Option<(f64, u64)>,
}

/// Where a condition fails, over time (constant, or following another cohort).
#[derive(Clone, Debug)]
pub(crate) struct Threshold {
    /// `errors: fails when error_rate > 5%`.
    pub label: String,
    /// `(start of the point, threshold)`.
    pub points: Vec<(UnixMillis, Option<f64>)>,
}

impl LineChart {
    /// The chart as a `<figure>` with an inline SVG and an HTML legend.
    pub(crate) fn render(&self) -> Markup {
        let values = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter())
            .chain(self.thresholds.iter().flat_map(|t| t.points.iter()))
            .filter_map(|(_, v)| v.filter(|v| v.is_finite()));
        let (lo, hi) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let (lo, hi, ticks) = value_ticks(lo, hi * 1.05);
        let x = x_scale(self.from, self.to, WIDTH);
        let y = y_scale(lo, hi, HEIGHT);
        let half = self.step_ms / 2;
        let has_data = self
            .lines
            .iter()
            .any(|l| l.points.iter().any(|(_, v)| v.is_some()));
        let drawn: usize = self
            .lines
            .iter()
            .map(|l| l.points.iter().filter(|(_, v)| v.is_some()).count())
            .sum();
        html! {
            figure.chart {
                figcaption { (self.title) " " span.unit { "(" (unit_name(self.unit)) ")" } }
                svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img"
                    aria-label=(format!("{} per cohort over time", self.title))
                    data-metric=(self.metric) data-points=(drawn) {
                    title { (self.title) " per cohort" }
                    (value_axis(&ticks, y, self.unit))
                    (time_axis(self.from, self.to, x))
                    @for t in &self.thresholds {
                        (threshold(t, x, y, half))
                    }
                    @for line in &self.lines {
                        (cohort_line(line, x, y, half))
                    }
                    @if !has_data {
                        text.empty x=(WIDTH / 2.0) y=(HEIGHT / 2.0) text-anchor="middle" {
                            "no traffic in this range"
                        }
                    }
                }
                ul.legend {
                    @for line in &self.lines {
                        li {
                            span class=(format!("swatch {}", cohort_class(line.cohort))) {}
                            (line.label)
                            @if let Some((v, n)) = line.overall {
                                " " span.num { (format::value(self.unit, v)) } " "
                                span.samples { "(n=" (format::thousands(n)) ")" }
                            }
                        }
                    }
                    @for t in &self.thresholds {
                        li { span.swatch.threshold {} (t.label) }
                    }
                }
            }
        }
    }
}

/// What the value axis is measured in.
fn unit_name(unit: MetricUnit) -> &'static str {
    match unit {
        MetricUnit::Ratio => "%",
        MetricUnit::DurationMs => "ms",
        MetricUnit::Count => "count",
        MetricUnit::Number => "number",
    }
}

fn value_axis(ticks: &[f64], y: Scale, unit: MetricUnit) -> Markup {
    html! {
        g.axis.y {
            @for v in ticks {
                @let py = y.at(*v);
                line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(py) y2=(py) stroke="#e3e3e3" {}
                text x=(LEFT - 6.0) y=(py + 4.0) text-anchor="end" { (format::value(unit, *v)) }
            }
        }
    }
}

fn time_axis(from: UnixMillis, to: UnixMillis, x: Scale) -> Markup {
    html! {
        g.axis.x {
            line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(HEIGHT - BOTTOM) y2=(HEIGHT - BOTTOM) stroke="#888" {}
            @for (t, label) in time_ticks(from, to) {
                @let px = x.at(t as f64);
                line x1=(px) x2=(px) y1=(HEIGHT - BOTTOM) y2=(HEIGHT - BOTTOM + 4.0) stroke="#888" {}
                text x=(px) y=(HEIGHT - 8.0) text-anchor="middle" { (label) }
            }
            text x=(WIDTH - RIGHT) y=(TOP - 3.0) text-anchor="end" class="axis-note" { "UTC" }
        }
    }
}

fn cohort_line(line: &Line, x: Scale, y: Scale, half: i64) -> Markup {
    let (d, isolated) = path(&line.points, x, y, half);
    let pen = pen(line.cohort);
    let class = format!("line {}", cohort_class(line.cohort));
    html! {
        path class=(class) d=(d) fill="none" stroke=(pen.colour) stroke-width=(pen.width)
            stroke-dasharray=[pen.dash] stroke-linejoin="round" {}
        @for (px, py) in isolated {
            circle class=(format!("dot {}", cohort_class(line.cohort))) cx=(px) cy=(py) r="2.2" fill=(pen.colour) {}
        }
    }
}

fn threshold(t: &Threshold, x: Scale, y: Scale, half: i64) -> Markup {
    let (d, isolated) = path(&t.points, x, y, half);
    let end = t
        .points
        .iter()
        .rev()
        .find_map(|(_, v)| v.filter(|v| v.is_finite()));
    html! {
        g.threshold {
            title { (t.label) }
            path d=(d) fill="none" stroke="#222" stroke-width="1.4" stroke-dasharray="6 4" {}
            @for (px, py) in isolated {
                circle cx=(px) cy=(py) r="1.8" fill="#222" {}
            }
            @if let Some(v) = end {
                text x=(WIDTH - RIGHT - 4.0) y=(y.at(v) - 5.0) text-anchor="end" class="threshold-label" {
                    (t.label)
                }
            }
        }
    }
}

/// SVG path data for the points (a gap wherever a value is missing), and the points that
/// stand alone (drawn as dots, since a path of one point is invisible).
fn path(
    points: &[(UnixMillis, Option<f64>)],
    x: Scale,
    y: Scale,
    half: i64,
) -> (String, Vec<(f64, f64)>) {
    let mut d = String::new();
    let mut isolated = Vec::new();
    let mut run: Vec<(f64, f64)> = Vec::new();
    let flush = |run: &mut Vec<(f64, f64)>, d: &mut String, isolated: &mut Vec<(f64, f64)>| {
        match run.len() {
            0 => {}
            1 => isolated.push(run[0]),
            _ => {
                for (i, (px, py)) in run.iter().enumerate() {
                    d.push_str(if i == 0 { "M" } else { "L" });
                    d.push_str(&format!("{px} {py}"));
                }
            }
        }
        run.clear();
    };
    for (t, v) in points {
        match v.filter(|v| v.is_finite()) {
            Some(v) => run.push((x.at((t + half) as f64), y.at(v))),
            None => flush(&mut run, &mut d, &mut isolated),
        }
    }
    flush(&mut run, &mut d, &mut isolated);
    (d, isolated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(points: Vec<(i64, Option<f64>)>) -> LineChart {
        LineChart {
            metric: "error_rate".into(),
            title: "Error rate".into(),
            unit: MetricUnit::Ratio,
            from: 0,
            to: 10_000,
            step_ms: 1_000,
            lines: vec![Line {
                cohort: Cohort::Canary,
                label: "canary (v2)".into(),
                points,
                overall: Some((0.02, 1_204)),
            }],
            thresholds: vec![Threshold {
                label: "errors: fails when error_rate > 5%".into(),
                points: vec![(0, Some(0.05)), (9_000, Some(0.05))],
            }],
        }
    }

    #[test]
    fn gaps_split_the_line_and_lone_points_become_dots() {
        let x = Scale::new(0.0, 10.0, 0.0, 10.0);
        let y = Scale::new(0.0, 1.0, 0.0, 1.0);
        let pts = vec![
            (0, Some(0.5)),
            (1, Some(0.5)),
            (2, None),
            (3, Some(1.0)),
            (4, None),
            (5, Some(0.0)),
            (6, Some(0.0)),
        ];
        let (d, dots) = path(&pts, x, y, 0);
        assert_eq!(d, "M0 0.5L1 0.5M5 0L6 0");
        assert_eq!(dots, vec![(3.0, 1.0)]);
    }

    #[test]
    fn renders_lines_threshold_axes_and_legend() {
        let html = chart(vec![(0, Some(0.01)), (1_000, Some(0.02)), (2_000, None)])
            .render()
            .into_string();
        assert!(html.contains(r#"data-metric="error_rate""#), "{html}");
        assert!(html.contains(r#"data-points="2""#));
        assert!(html.contains(r#"class="line canary""#));
        assert!(
            html.contains(r#"stroke-dasharray="6 4""#),
            "threshold dashed"
        );
        assert!(html.contains("errors: fails when error_rate &gt; 5%"));
        assert!(html.contains("(n=1,204)") && html.contains("2%"));
        assert!(html.contains("UTC") && html.contains("(%)"));
        assert!(!html.contains("no traffic"));
    }

    #[test]
    fn says_so_when_there_is_no_data() {
        let html = chart(vec![(0, None)]).render().into_string();
        assert!(html.contains("no traffic in this range"));
        assert!(html.contains(r#"data-points="0""#));
    }
}
