//! `steps = [ … ]`: weight steps and pauses.

use rollgate_core::path::{field, index};
use rollgate_core::{DurationSpec, Ppm, SpecErrors};
use serde::{Deserialize, Serialize};

use super::{check_positive_duration, check_positive_share};
use crate::{StepPlan, Steps};

/// One entry of `steps`: either a weight (`{ weight = "5%", min_duration = "1m",
/// min_samples = 500 }`) or a pause (`{ pause = {} }` waits for a person,
/// `{ pause = { duration = "10m" } }` waits ten minutes).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// The canary's share during this step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<Ppm>,
    /// The least time to stay at this step before moving on (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration: Option<DurationSpec>,
    /// The least number of canary samples (requests or events) to see at this step before
    /// moving on (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_samples: Option<u64>,
    /// Hold the weight of the previous step: for `duration`, or until a person resumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<PauseSpec>,
}

/// `pause = {}` or `pause = { duration = "10m" }`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PauseSpec {
    /// How long to pause; without it the rollout waits for `rollgate rollout resume`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationSpec>,
}

impl StepSpec {
    /// A weight step without minimums.
    pub fn weight(weight: Ppm) -> StepSpec {
        StepSpec {
            weight: Some(weight),
            ..StepSpec::default()
        }
    }

    /// A pause step; `None` waits for a person.
    pub fn pause(duration: Option<DurationSpec>) -> StepSpec {
        StepSpec {
            pause: Some(PauseSpec { duration }),
            ..StepSpec::default()
        }
    }

    /// Sets the minimum duration.
    pub fn min_duration(mut self, d: DurationSpec) -> StepSpec {
        self.min_duration = Some(d);
        self
    }

    /// Sets the minimum number of samples.
    pub fn min_samples(mut self, n: u64) -> StepSpec {
        self.min_samples = Some(n);
        self
    }
}

/// Checks the step list at `path`: each step is a weight or a pause, weights are above 0% and
/// never decrease, and the last weight step is 100%.
pub(crate) fn validate(steps: &[StepSpec], path: &str, errs: &mut SpecErrors) {
    if steps.is_empty() {
        errs.push(
            path,
            "list at least one step, and end with { weight = \"100%\" }",
        );
        return;
    }
    let mut previous: Option<Ppm> = None;
    let mut last_weight: Option<(usize, Ppm)> = None;
    for (i, step) in steps.iter().enumerate() {
        let at = index(path, i);
        check_step(step, &at, errs);
        if let Some(w) = step.weight {
            if let Some(p) = previous.filter(|p| w < *p) {
                errs.push(
                    field(&at, "weight"),
                    format!("{w} is below the previous step's {p}: weights never go down (rolling back is the controller's job)"),
                );
            }
            previous = Some(previous.map_or(w, |p| p.max(w)));
            last_weight = Some((i, w));
        }
    }
    match last_weight {
        None => errs.push(path, "no step sets a weight: end with { weight = \"100%\" }"),
        Some((i, w)) if w != Ppm::FULL => errs.push(
            field(&index(path, i), "weight"),
            format!("the last weight step is {w}; end with {{ weight = \"100%\" }} (put a {{ pause = {{}} }} before it if a person should confirm)"),
        ),
        Some(_) => {}
    }
}

fn check_step(step: &StepSpec, at: &str, errs: &mut SpecErrors) {
    match (&step.weight, &step.pause) {
        (Some(w), None) => check_positive_share(*w, at, "weight", errs),
        (None, Some(pause)) => {
            if let Some(d) = pause.duration {
                check_positive_duration(d, &field(at, "pause"), "duration", errs);
            }
            if step.min_duration.is_some() {
                errs.push(
                    field(at, "min_duration"),
                    "a pause has no min_duration; write pause = { duration = \"10m\" } instead",
                );
            }
            if step.min_samples.is_some() {
                errs.push(
                    field(at, "min_samples"),
                    "a pause has no min_samples; put it on a weight step",
                );
            }
        }
        (Some(_), Some(_)) => errs.push(
            at,
            "a step is either a weight or a pause, not both: split it in two",
        ),
        (None, None) => errs.push(
            at,
            "a step needs a weight (weight = \"5%\") or a pause (pause = {})",
        ),
    }
}

/// The runtime steps of a validated list.
pub(crate) fn build(steps: &[StepSpec]) -> Steps {
    Steps::new(
        steps
            .iter()
            .map(|s| match s.weight {
                Some(weight) => StepPlan::weight(
                    weight,
                    s.min_duration.map_or(0, DurationSpec::as_millis),
                    s.min_samples.unwrap_or(0),
                ),
                None => StepPlan::Pause {
                    duration_ms: s
                        .pause
                        .as_ref()
                        .and_then(|p| p.duration)
                        .map(DurationSpec::as_millis),
                },
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(steps: &[StepSpec]) -> Vec<String> {
        let mut errs = SpecErrors::new();
        validate(steps, "steps", &mut errs);
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_good_list_has_no_errors_and_builds() {
        let steps = [
            StepSpec::weight(Ppm::percent(1))
                .min_duration(DurationSpec::from_secs(30))
                .min_samples(500),
            StepSpec::pause(None),
            StepSpec::weight(Ppm::percent(1)),
            StepSpec::pause(Some(DurationSpec::from_secs(600))),
            StepSpec::weight(Ppm::FULL),
        ];
        assert!(errors(&steps).is_empty());
        let built = build(&steps);
        assert_eq!(
            built.get(0),
            Some(&StepPlan::weight(Ppm::percent(1), 30_000, 500))
        );
        assert_eq!(built.get(1), Some(&StepPlan::Pause { duration_ms: None }));
        assert_eq!(
            built.get(3),
            Some(&StepPlan::Pause {
                duration_ms: Some(600_000)
            })
        );
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let steps = [
            StepSpec::weight(Ppm::percent(10)),
            StepSpec::weight(Ppm::percent(5)),
            StepSpec::default(),
            StepSpec {
                weight: Some(Ppm::percent(20)),
                pause: Some(PauseSpec::default()),
                ..StepSpec::default()
            },
            StepSpec::pause(Some(DurationSpec::ZERO)).min_samples(3),
            StepSpec::weight(Ppm::ZERO),
            StepSpec::weight(Ppm::percent(50)),
        ];
        let errs = errors(&steps);
        let paths: Vec<&str> = errs.iter().filter_map(|e| e.split(':').next()).collect();
        assert_eq!(
            paths,
            [
                "steps[1].weight",
                "steps[2]",
                "steps[3]",
                "steps[4].pause.duration",
                "steps[4].min_samples",
                "steps[5].weight",
                "steps[5].weight",
                "steps[6].weight",
            ],
            "{errs:#?}"
        );
        assert!(
            errs[0].contains("5% is below the previous step's 10%"),
            "{}",
            errs[0]
        );
        assert!(
            errs[7].contains("the last weight step is 50%"),
            "{}",
            errs[7]
        );
    }

    #[test]
    fn an_empty_list_or_only_pauses_is_rejected() {
        assert_eq!(errors(&[]).len(), 1);
        let errs = errors(&[StepSpec::pause(None)]);
        assert_eq!(
            errs,
            ["steps: no step sets a weight: end with { weight = \"100%\" }"]
        );
    }

    #[test]
    fn pauses_after_the_last_weight_are_allowed() {
        assert!(errors(&[StepSpec::weight(Ppm::FULL), StepSpec::pause(None)]).is_empty());
    }
}
