//! Validating `[[metrics]]` specs against the built-ins and each other, reporting every
//! problem with its path, and resolving them into definitions.

use std::collections::BTreeMap;
use std::sync::Arc;

use rollgate_core::path::{field, index};
use rollgate_core::{SpecErrors, did_you_mean, suggest};

use super::def::{CountSource, LATENCY, MetricDef, ValueSource, builtins};
use super::spec::MetricSpec;
use crate::series::is_event_name;
use crate::value::MetricUnit;

/// The resolved metrics (built-ins, declared, event counters) and the events they read.
pub(crate) struct Built {
    pub(crate) metrics: BTreeMap<Arc<str>, MetricDef>,
    pub(crate) events: Vec<Arc<str>>,
}

const UNITS: [&str; 5] = ["ms", "duration_ms", "number", "count", "ratio"];

/// Resolves `specs` (the `[[metrics]]` list; paths are `metrics[i]…`).
pub(crate) fn build(specs: &[MetricSpec]) -> Result<Built, SpecErrors> {
    // Problems per spec, so they come out in document order whatever the phase found them.
    let mut errors = vec![SpecErrors::new(); specs.len()];
    let builtin: BTreeMap<Arc<str>, MetricDef> = builtins()
        .into_iter()
        .map(|(name, def)| (Arc::from(name), def))
        .collect();
    let declared = check_names(specs, &builtin, &mut errors);
    let resolver = Resolver {
        specs,
        declared: &declared,
        builtins: &builtin,
    };
    let mut resolved = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let path = index("metrics", i);
        if let Some(def) = resolver.resolve(spec, &path, &mut errors[i]) {
            resolved.push((i, def));
        }
    }
    let mut metrics = builtin.clone();
    let mut events: Vec<Arc<str>> = Vec::new();
    for (i, def) in resolved {
        for (event, at) in event_refs(&def, &index("metrics", i)) {
            check_event_name_is_free(&event, &at, specs, &declared, &builtin, i, &mut errors[i]);
            if !events.contains(&event) {
                events.push(event);
            }
        }
        if declared.get(specs[i].name.as_str()) == Some(&i) {
            metrics.insert(specs[i].name.as_str().into(), def);
        }
    }
    for event in &events {
        metrics
            .entry(event.clone())
            .or_insert_with(|| MetricDef::Count(CountSource::Event(event.clone())));
    }
    let mut all = SpecErrors::new();
    errors.into_iter().for_each(|e| all.append(e));
    all.into_result()?;
    Ok(Built { metrics, events })
}

/// Checks names (valid, unique, not a built-in) and the one-kind rule; returns the index of
/// the first declaration of each name.
fn check_names<'a>(
    specs: &'a [MetricSpec],
    builtins: &BTreeMap<Arc<str>, MetricDef>,
    all_errors: &mut [SpecErrors],
) -> BTreeMap<&'a str, usize> {
    let mut declared = BTreeMap::new();
    for ((i, spec), errors) in specs.iter().enumerate().zip(all_errors) {
        let path = index("metrics", i);
        let name = spec.name.as_str();
        if !is_event_name(name) {
            errors.push(field(&path, "name"), format!(
                "{name:?} is not a valid metric name: use lowercase letters, digits and '_', starting with a letter"
            ));
        } else if builtins.contains_key(name) {
            errors.push(
                field(&path, "name"),
                format!("{name:?} is a built-in metric; choose another name"),
            );
        } else if let Some(first) = declared.get(name) {
            errors.push(
                field(&path, "name"),
                format!("{name:?} is declared twice (first at metrics[{first}])"),
            );
        } else {
            declared.insert(name, i);
        }
        let kinds = [
            spec.ratio.is_some().then_some("ratio"),
            spec.mean.is_some().then_some("mean"),
            spec.quantile.is_some().then_some("quantile"),
            spec.counter.is_some().then_some("counter"),
        ];
        let given: Vec<&str> = kinds.into_iter().flatten().collect();
        if given.len() != 1 {
            let found = if given.is_empty() {
                "none".to_string()
            } else {
                given.join(" and ")
            };
            errors.push(
                path,
                format!("give exactly one of ratio, mean, quantile or counter (found {found})"),
            );
        }
    }
    declared
}

struct Resolver<'a> {
    specs: &'a [MetricSpec],
    declared: &'a BTreeMap<&'a str, usize>,
    builtins: &'a BTreeMap<Arc<str>, MetricDef>,
}

impl Resolver<'_> {
    fn resolve(&self, spec: &MetricSpec, path: &str, errors: &mut SpecErrors) -> Option<MetricDef> {
        if let Some(ratio) = &spec.ratio {
            let path = field(path, "ratio");
            let numerator = self.count(&ratio.numerator, &field(&path, "numerator"), errors);
            let denominator = self.count(&ratio.denominator, &field(&path, "denominator"), errors);
            return Some(MetricDef::Ratio {
                numerator: numerator?,
                denominator: denominator?,
            });
        }
        if let Some(mean) = &spec.mean {
            let (source, unit) = observed(
                &mean.event,
                mean.unit.as_deref(),
                &field(path, "mean"),
                errors,
            )?;
            return Some(MetricDef::Mean { source, unit });
        }
        if let Some(quantile) = &spec.quantile {
            let path = field(path, "quantile");
            let observed = observed(&quantile.event, quantile.unit.as_deref(), &path, errors);
            let q = quantile.q;
            if !(q > 0.0 && q < 1.0) {
                errors.push(
                    field(&path, "q"),
                    format!(
                        "{q} is not a quantile: use a number strictly between 0 and 1, like 0.99"
                    ),
                );
                return None;
            }
            let (source, unit) = observed?;
            return Some(MetricDef::Quantile { source, q, unit });
        }
        let counter = spec.counter.as_ref()?;
        let event = event(
            &counter.event,
            &field(&field(path, "counter"), "event"),
            errors,
        )?;
        Some(MetricDef::Count(CountSource::Event(event)))
    }

    /// A ratio operand: a built-in count, a declared counter, or an event name.
    fn count(&self, name: &str, path: &str, errors: &mut SpecErrors) -> Option<CountSource> {
        let not_a_count = |kind: &str| {
            format!(
                "{name:?} is {kind}, not a count: a ratio divides counts (requests, http_5xx, a counter metric or an event name)"
            )
        };
        if let Some(def) = self.builtins.get(name) {
            return match def {
                MetricDef::Count(source) => Some(source.clone()),
                other => {
                    errors.push(path, not_a_count(other.kind()));
                    None
                }
            };
        }
        if let Some(&i) = self.declared.get(name) {
            let spec = &self.specs[i];
            return match &spec.counter {
                Some(counter) => event(&counter.event, path, errors).map(CountSource::Event),
                None => {
                    errors.push(path, not_a_count("a declared metric that is not a counter"));
                    None
                }
            };
        }
        let metric_names = self
            .builtins
            .keys()
            .map(|k| k.as_ref())
            .chain(self.declared.keys().copied());
        if let Some(close) = suggest(name, metric_names) {
            errors.push(path, format!(
                "unknown metric {name:?} (did you mean {close:?}?); an event name this close to a metric is refused as a likely typo"
            ));
            return None;
        }
        event(name, path, errors).map(CountSource::Event)
    }
}

/// The values a mean or quantile at `path` reads, and their unit.
fn observed(
    event: &str,
    given_unit: Option<&str>,
    path: &str,
    errors: &mut SpecErrors,
) -> Option<(ValueSource, MetricUnit)> {
    let source = values(event, &field(path, "event"), errors);
    let unit = unit(event, given_unit, &field(path, "unit"), errors);
    Some((source?, unit?))
}

/// The values a mean or quantile reads: request latency or an event's values.
fn values(name: &str, path: &str, errors: &mut SpecErrors) -> Option<ValueSource> {
    if name == LATENCY {
        return Some(ValueSource::Latency);
    }
    if suggest(name, [LATENCY]).is_some() {
        errors.push(
            path,
            format!("unknown event {name:?} (did you mean \"latency\", the request latency?)"),
        );
        return None;
    }
    event(name, path, errors).map(ValueSource::Event)
}

fn event(name: &str, path: &str, errors: &mut SpecErrors) -> Option<Arc<str>> {
    if name == LATENCY {
        errors.push(
            path,
            "\"latency\" is not an event: count requests with the built-in \"requests\"",
        );
        return None;
    }
    if !is_event_name(name) {
        errors.push(path, format!(
            "{name:?} is not a valid event name: use 1 to 64 lowercase letters, digits and '_', starting with a letter"
        ));
        return None;
    }
    Some(name.into())
}

/// The unit of a mean or quantile: as given, or by the event name's `_ms` suffix.
fn unit(
    event: &str,
    given: Option<&str>,
    path: &str,
    errors: &mut SpecErrors,
) -> Option<MetricUnit> {
    let unit = match given {
        None if event == LATENCY || event.ends_with("_ms") => MetricUnit::DurationMs,
        None => MetricUnit::Number,
        Some("ms" | "duration_ms") => MetricUnit::DurationMs,
        Some("number") => MetricUnit::Number,
        Some("count") => MetricUnit::Count,
        Some("ratio") => MetricUnit::Ratio,
        Some(other) => {
            let hint = did_you_mean(other, UNITS);
            errors.push(
                path,
                format!(
                    "unknown unit {other:?}: use \"ms\", \"number\", \"count\" or \"ratio\"{hint}"
                ),
            );
            return None;
        }
    };
    if event == LATENCY && unit != MetricUnit::DurationMs {
        errors.push(
            path,
            "latency is always in milliseconds: leave the unit out or write \"ms\"",
        );
        return None;
    }
    Some(unit)
}

/// The events a definition reads, with the path of each reference.
fn event_refs(def: &MetricDef, path: &str) -> Vec<(Arc<str>, String)> {
    let count = |source: &CountSource, at: String| match source {
        CountSource::Event(e) => Some((e.clone(), at)),
        _ => None,
    };
    match def {
        MetricDef::Count(source) => count(source, field(path, "counter.event"))
            .into_iter()
            .collect(),
        MetricDef::Ratio {
            numerator,
            denominator,
        } => [
            count(numerator, field(path, "ratio.numerator")),
            count(denominator, field(path, "ratio.denominator")),
        ]
        .into_iter()
        .flatten()
        .collect(),
        MetricDef::Mean {
            source: ValueSource::Event(e),
            ..
        } => vec![(e.clone(), field(path, "mean.event"))],
        MetricDef::Quantile {
            source: ValueSource::Event(e),
            ..
        } => vec![(e.clone(), field(path, "quantile.event"))],
        MetricDef::Mean { .. } | MetricDef::Quantile { .. } => Vec::new(),
    }
}

/// Every event has a counter metric of its own name, so no other metric may take that name;
/// the one exception is a `counter` of that very event.
fn check_event_name_is_free(
    event: &str,
    path: &str,
    specs: &[MetricSpec],
    declared: &BTreeMap<&str, usize>,
    builtins: &BTreeMap<Arc<str>, MetricDef>,
    referrer: usize,
    errors: &mut SpecErrors,
) {
    if builtins
        .get(event)
        .is_some_and(|def| !matches!(def, MetricDef::Count(CountSource::Event(_))))
    {
        errors.push(
            path,
            format!("event {event:?} has the name of a built-in metric; rename the event"),
        );
        return;
    }
    let Some(&owner) = declared.get(event) else {
        return;
    };
    let counts_itself = specs[owner]
        .counter
        .as_ref()
        .is_some_and(|c| c.event == event);
    if !counts_itself && owner != referrer {
        errors.push(path, format!(
            "event {event:?} has the name of the metric at metrics[{owner}], but every event already has a counter metric of its own name; rename that metric"
        ));
    } else if !counts_itself {
        errors.push(path, format!(
            "event {event:?} has this metric's name, but every event already has a counter metric of its own name; rename the metric (e.g. \"avg_{event}\")"
        ));
    }
}
