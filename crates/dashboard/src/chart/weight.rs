//! The canary weight over time as a step chart, with a marker at every decision whose tooltip
//! says who did what and why. Markers are coloured and shaped by kind: the controller's
//! (circle), a person's (diamond), rollbacks and aborts (triangle).

use maud::{Markup, html};
use rollgate_core::Ppm;
use rollgate_core::model::{Action, Actor, DecisionRecord, UnixMillis};

use super::{BOTTOM, LEFT, RIGHT, TOP, time_ticks, x_scale, y_scale};
use crate::format;

/// Width of the weight chart's view box: it spans the page.
const WIDTH: f64 = 1440.0;
/// Height of the weight chart's view box.
const HEIGHT: f64 = 190.0;

/// The weight chart of a rollout, ready to render.
#[derive(Clone, Debug)]
pub(crate) struct WeightChart<'a> {
    /// Start of the time range.
    pub from: UnixMillis,
    /// End of the time range.
    pub to: UnixMillis,
    /// The weight at `from`.
    pub start: Ppm,
    /// The decisions in the range, oldest first.
    pub decisions: &'a [DecisionRecord],
}

/// What kind of marker a decision gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Controller,
    Person,
    Retreat,
}

impl WeightChart<'_> {
    /// The chart as a `<figure>` with an inline SVG and a legend.
    pub(crate) fn render(&self) -> Markup {
        let x = x_scale(self.from, self.to, WIDTH);
        let y = y_scale(0.0, 100.0, HEIGHT);
        let py = |w: Ppm| y.at(w.as_percent());
        let mut d = format!("M{} {}", x.at(self.from as f64), py(self.start));
        for dec in self.decisions {
            d.push_str(&format!(
                "H{}V{}",
                x.at(dec.at.clamp(self.from, self.to) as f64),
                py(dec.weight_after)
            ));
        }
        d.push_str(&format!("H{}", x.at(self.to as f64)));
        html! {
            figure.chart.weight {
                figcaption { "Canary weight " span.unit { "(% of eligible units)" } }
                svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img"
                    aria-label="canary weight over time with a marker per decision"
                    data-metric="weight" data-decisions=(self.decisions.len()) {
                    title { "Canary weight over time, one marker per decision" }
                    g.axis.y {
                        @for v in [0.0, 25.0, 50.0, 75.0, 100.0] {
                            line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y.at(v)) y2=(y.at(v)) stroke="#e3e3e3" {}
                            text x=(LEFT - 6.0) y=(y.at(v) + 4.0) text-anchor="end" { (v) "%" }
                        }
                    }
                    g.axis.x {
                        line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(HEIGHT - BOTTOM) y2=(HEIGHT - BOTTOM) stroke="#888" {}
                        @for (t, label) in time_ticks(self.from, self.to) {
                            text x=(x.at(t as f64)) y=(HEIGHT - 8.0) text-anchor="middle" { (label) }
                        }
                        text x=(WIDTH - RIGHT) y=(TOP - 3.0) text-anchor="end" class="axis-note" { "UTC" }
                    }
                    path.step d=(d) fill="none" stroke="#0072B2" stroke-width="2" {}
                    @for dec in self.decisions {
                        (marker(dec, x.at(dec.at.clamp(self.from, self.to) as f64), py(dec.weight_after)))
                    }
                }
                ul.legend {
                    li { span.swatch.step {} "weight" }
                    li { span.mark.controller {} "controller decision" }
                    li { span.mark.person {} "a person's command" }
                    li { span.mark.retreat {} "rollback or abort" }
                }
            }
        }
    }
}

fn kind(d: &DecisionRecord) -> Kind {
    match (d.action, &d.actor) {
        (Action::Rollback | Action::Abort, _) => Kind::Retreat,
        (_, Actor::User(_)) => Kind::Person,
        (_, Actor::Controller) => Kind::Controller,
    }
}

fn marker(d: &DecisionRecord, px: f64, py: f64) -> Markup {
    let tip = format!(
        "{} · {} · {} · {} → {} · {}",
        format::clock(d.at),
        d.actor,
        d.action,
        d.weight_before,
        d.weight_after,
        d.reason
    );
    html! {
        @match kind(d) {
            Kind::Controller => circle.marker.controller cx=(px) cy=(py) r="3.5" fill="#56B4E9" stroke="#0072B2" {
                title { (tip) }
            },
            Kind::Person => path.marker.person d=(format!("M{px} {}l5 5l-5 5l-5-5z", py - 5.0)) fill="#CC79A7" stroke="#6b2c55" {
                title { (tip) }
            },
            Kind::Retreat => path.marker.retreat d=(format!("M{px} {}l5 9h-10z", py - 6.0)) fill="#D55E00" stroke="#7a3300" {
                title { (tip) }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rollgate_core::model::Phase;

    use super::*;

    fn decision(
        at: i64,
        actor: Actor,
        action: Action,
        before: &str,
        after: &str,
    ) -> DecisionRecord {
        DecisionRecord {
            id: at,
            rollout: "shop-v2".into(),
            seq: 0,
            at,
            actor,
            action,
            phase_before: Phase::Progressing,
            phase_after: Phase::Progressing,
            weight_before: before.parse().unwrap(),
            weight_after: after.parse().unwrap(),
            reason: format!("{action} because"),
            details: serde_json::Value::Null,
        }
    }

    #[test]
    fn steps_and_one_marker_per_decision() {
        let decisions = [
            decision(1_000, Actor::Controller, Action::Start, "0%", "10%"),
            decision(
                5_000,
                Actor::User("alice".into()),
                Action::SetWeight,
                "10%",
                "25%",
            ),
            decision(8_000, Actor::Controller, Action::Rollback, "25%", "0%"),
        ];
        let html = WeightChart {
            from: 0,
            to: 10_000,
            start: Ppm::ZERO,
            decisions: &decisions,
        }
        .render()
        .into_string();
        assert!(html.contains(r#"data-decisions="3""#), "{html}");
        assert_eq!(html.matches("marker controller").count(), 1);
        assert_eq!(html.matches("marker person").count(), 1);
        assert_eq!(html.matches("marker retreat").count(), 1);
        assert!(html.contains("user:alice · set_weight · 10% → 25% · set_weight because"));
        // Starts at 0% (the bottom), steps up to 10% at t=1000, ends at the right edge at 0%.
        assert!(
            html.contains(&format!("M{LEFT} {}", HEIGHT - BOTTOM)),
            "{html}"
        );
        assert!(html.contains(&format!("H{}\"", WIDTH - RIGHT)), "{html}");
    }
}
