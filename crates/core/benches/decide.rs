//! Cost of bucketing one unit.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rollgate_core::{BucketingVersion, bucket};

fn bench_bucket(c: &mut Criterion) {
    c.bench_function("bucket/v1/short", |b| {
        b.iter(|| {
            bucket(
                BucketingVersion::V1,
                black_box("shop-v1.2"),
                black_box("user-12345"),
            )
        })
    });
}

criterion_group!(benches, bench_bucket);
criterion_main!(benches);
