//! One reconcile step, the controller's hot path: it runs for every active rollout every window.

use criterion::{Criterion, criterion_group, criterion_main};
use rollgate_controller::{
    ControlSpec, Health, Observation, RolloutIds, RolloutPlan, RolloutState, StepSpec,
    StrategySpec, reconcile,
};
use rollgate_core::{DurationSpec, Ppm};
use std::hint::black_box;

fn plan() -> Option<RolloutPlan> {
    let steps = StrategySpec::Steps(vec![
        StepSpec::weight(Ppm::percent(1))
            .min_duration(DurationSpec::from_secs(30))
            .min_samples(500),
        StepSpec::weight(Ppm::percent(5)).min_duration(DurationSpec::from_secs(60)),
        StepSpec::pause(None),
        StepSpec::weight(Ppm::FULL),
    ]);
    let ids = RolloutIds {
        name: "shop-v1.2".into(),
        service: "shop".into(),
        stable: "v1.1".into(),
        canary: "v1.2".into(),
    };
    RolloutPlan::build(ids, &steps, &ControlSpec::default()).ok()
}

fn bench(c: &mut Criterion) {
    let Some(plan) = plan() else { return };
    let started = reconcile(&plan, &RolloutState::new(0), &Observation::at(0)).state;
    let health = Health::unchecked(1_000, 600, 600);
    let holding = Observation::at(1_000)
        .with_health(health.clone())
        .with_samples(600);
    c.bench_function("reconcile/hold (min_duration not reached)", |b| {
        b.iter(|| reconcile(black_box(&plan), black_box(&started), black_box(&holding)))
    });
    let ramping = Observation::at(31_000)
        .with_health(health)
        .with_samples(600);
    c.bench_function("reconcile/ramp to the next step", |b| {
        b.iter(|| reconcile(black_box(&plan), black_box(&started), black_box(&ramping)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
