//! The runtime form of a validated spec: names resolved to indices, salts and audiences ready.

use crate::audience::Audience;
use crate::spec::experiment::layer_ranges;
use crate::{Ppm, RoutingSpec, SpecErrors, path};

/// A service as the decision needs it.
#[derive(Clone, Debug)]
pub(crate) struct Service {
    pub name: Box<str>,
    pub versions: Box<[Box<str>]>,
    pub default_version: usize,
    pub unit_header: Option<Box<str>>,
    pub unit_cookie: Option<Box<str>>,
    pub anonymous_cookie: Box<str>,
    pub rollout: Option<usize>,
    /// Layers holding an experiment of this service or of every service.
    pub layers: Box<[usize]>,
}

/// A rollout's routing.
#[derive(Clone, Debug)]
pub(crate) struct Rollout {
    pub name: Box<str>,
    pub service: usize,
    pub stable: usize,
    pub canary: usize,
    pub salt: Box<str>,
    pub weight: Ppm,
    pub audience: Option<Audience>,
}

/// A layer: disjoint slices of its buckets, one per experiment.
#[derive(Clone, Debug)]
pub(crate) struct Layer {
    pub salt: Box<str>,
    /// `(start, end, experiment)`, sorted by start, non-overlapping.
    pub slices: Box<[(u32, u32, usize)]>,
}

/// An experiment.
#[derive(Clone, Debug)]
pub(crate) struct Experiment {
    pub name: Box<str>,
    pub service: Option<usize>,
    pub layer: usize,
    pub salt: Box<str>,
    pub audience: Option<Audience>,
    pub variants: Box<[Variant]>,
}

/// A variant: its buckets end (exclusive) at `end`, cumulative over the variants before it.
#[derive(Clone, Debug)]
pub(crate) struct Variant {
    pub name: Box<str>,
    pub end: u32,
    pub value: Option<serde_json::Value>,
    pub version: Option<usize>,
}

/// The compiled parts of a table.
pub(crate) struct Compiled {
    pub services: Vec<Service>,
    pub rollouts: Vec<Rollout>,
    pub layers: Vec<Layer>,
    pub experiments: Vec<Experiment>,
}

/// The salt of a layer's bucketing: `layer:<name>`.
pub(crate) fn layer_salt(layer: &str) -> String {
    format!("layer:{layer}")
}

impl Compiled {
    /// Compiles a spec that passed validation. Anything validation should have caught is
    /// reported again rather than trusted.
    pub(crate) fn new(spec: &RoutingSpec) -> Result<Compiled, SpecErrors> {
        let mut errs = SpecErrors::new();
        let service_index = |name: &str| spec.services.iter().position(|s| s.name == name);
        let version_index = |s: usize, name: &str| spec.services[s].version_index(name);
        let mut rollouts = Vec::with_capacity(spec.rollouts.len());
        for (i, r) in spec.rollouts.iter().enumerate() {
            let p = path::index("rollouts", i);
            let audience = r
                .audience
                .as_ref()
                .and_then(|a| Audience::compile_into(a, &path::field(&p, "audience"), &mut errs));
            let Some(service) = service_index(&r.service) else {
                errs.push(
                    path::field(&p, "service"),
                    format!("unknown service {:?}", r.service),
                );
                continue;
            };
            let (Some(stable), Some(canary)) = (
                version_index(service, &r.stable),
                version_index(service, &r.canary),
            ) else {
                errs.push(p, "unknown stable or canary version");
                continue;
            };
            rollouts.push(Rollout {
                name: r.name.as_str().into(),
                service,
                stable,
                canary,
                salt: r.salt().into(),
                weight: r.weight,
                audience,
            });
        }
        let (layers, experiments) = compile_experiments(spec, &mut errs);
        let services = compile_services(spec, &rollouts, &layers, &experiments, &mut errs);
        errs.into_result()?;
        Ok(Compiled {
            services,
            rollouts,
            layers,
            experiments,
        })
    }
}

fn compile_services(
    spec: &RoutingSpec,
    rollouts: &[Rollout],
    layers: &[Layer],
    experiments: &[Experiment],
    errs: &mut SpecErrors,
) -> Vec<Service> {
    let mut out = Vec::with_capacity(spec.services.len());
    for (i, s) in spec.services.iter().enumerate() {
        let Some(default_version) = s.default_version().and_then(|v| s.version_index(v)) else {
            errs.push(
                path::index("services", i),
                "the service has no version to serve",
            );
            continue;
        };
        let layers_here: Vec<usize> = (0..layers.len())
            .filter(|&l| {
                layers[l]
                    .slices
                    .iter()
                    .any(|&(_, _, e)| experiments[e].service.is_none_or(|es| es == i))
            })
            .collect();
        out.push(Service {
            name: s.name.as_str().into(),
            versions: s.versions.iter().map(|v| v.name.as_str().into()).collect(),
            default_version,
            unit_header: s
                .unit
                .header
                .as_deref()
                .map(|h| h.to_ascii_lowercase().into()),
            unit_cookie: s.unit.cookie.as_deref().map(Into::into),
            anonymous_cookie: s.unit.anonymous_cookie.as_str().into(),
            rollout: rollouts.iter().position(|r| r.service == i),
            layers: layers_here.into_boxed_slice(),
        });
    }
    out
}

fn compile_experiments(spec: &RoutingSpec, errs: &mut SpecErrors) -> (Vec<Layer>, Vec<Experiment>) {
    let ranges = layer_ranges(&spec.experiments);
    let mut layer_names: Vec<&str> = Vec::new();
    let mut slices: Vec<Vec<(u32, u32, usize)>> = Vec::new();
    let mut experiments = Vec::with_capacity(spec.experiments.len());
    for (i, e) in spec.experiments.iter().enumerate() {
        let p = path::index("experiments", i);
        let layer = match layer_names.iter().position(|l| *l == e.layer()) {
            Some(l) => l,
            None => {
                layer_names.push(e.layer());
                slices.push(Vec::new());
                layer_names.len() - 1
            }
        };
        let (start, end) = ranges[i];
        match (u32::try_from(start), u32::try_from(end)) {
            (Ok(s), Ok(en)) if en <= Ppm::SCALE => {
                if en > s {
                    slices[layer].push((s, en, i));
                }
            }
            _ => errs.push(path::field(&p, "allocation"), "the layer is over-allocated"),
        }
        let service = e
            .service
            .as_ref()
            .and_then(|name| spec.services.iter().position(|s| &s.name == name));
        let mut end_acc = 0u32;
        let variants = e
            .variants
            .iter()
            .map(|v| {
                end_acc = end_acc.saturating_add(v.weight.get());
                Variant {
                    name: v.name.as_str().into(),
                    end: end_acc,
                    value: v.value.clone(),
                    version: v.version.as_ref().and_then(|name| {
                        service.and_then(|s| spec.services[s].version_index(name))
                    }),
                }
            })
            .collect::<Box<[Variant]>>();
        if end_acc != Ppm::SCALE {
            errs.push(
                path::field(&p, "variants"),
                "variant weights must add up to exactly 100%",
            );
        }
        let audience = e
            .audience
            .as_ref()
            .and_then(|a| Audience::compile_into(a, &path::field(&p, "audience"), errs));
        experiments.push(Experiment {
            name: e.name.as_str().into(),
            service,
            layer,
            salt: e.salt().into(),
            audience,
            variants,
        });
    }
    let layers = layer_names
        .iter()
        .zip(slices)
        .map(|(name, mut s)| {
            s.sort_unstable();
            Layer {
                salt: layer_salt(name).into(),
                slices: s.into_boxed_slice(),
            }
        })
        .collect();
    (layers, experiments)
}

impl Layer {
    /// The experiment whose slice holds `bucket`.
    pub(crate) fn experiment_at(&self, bucket: u32) -> Option<usize> {
        let i = self
            .slices
            .partition_point(|&(start, _, _)| start <= bucket);
        let &(_, end, e) = self.slices.get(i.checked_sub(1)?)?;
        (bucket < end).then_some(e)
    }
}

impl Experiment {
    /// The variant of a unit whose variant bucket is `bucket`.
    pub(crate) fn variant_at(&self, bucket: u32) -> usize {
        let i = self.variants.partition_point(|v| v.end <= bucket);
        i.min(self.variants.len().saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_are_found_by_bucket() {
        let layer = Layer {
            salt: "layer:l".into(),
            slices: vec![(0, 400_000, 7), (500_000, 600_000, 9)].into_boxed_slice(),
        };
        assert_eq!(layer.experiment_at(0), Some(7));
        assert_eq!(layer.experiment_at(399_999), Some(7));
        assert_eq!(layer.experiment_at(400_000), None);
        assert_eq!(layer.experiment_at(500_000), Some(9));
        assert_eq!(layer.experiment_at(600_000), None);
        let empty = Layer {
            salt: "x".into(),
            slices: Box::new([]),
        };
        assert_eq!(empty.experiment_at(5), None);
    }

    #[test]
    fn variants_split_by_cumulative_weight() {
        let v = |name: &str, end| Variant {
            name: name.into(),
            end,
            value: None,
            version: None,
        };
        let e = Experiment {
            name: "e".into(),
            service: None,
            layer: 0,
            salt: "e".into(),
            audience: None,
            variants: vec![v("a", 0), v("b", 250_000), v("c", 1_000_000)].into_boxed_slice(),
        };
        assert_eq!(e.variant_at(0), 1, "a zero-weight variant gets nobody");
        assert_eq!(e.variant_at(249_999), 1);
        assert_eq!(e.variant_at(250_000), 2);
        assert_eq!(e.variant_at(999_999), 2);
    }
}
