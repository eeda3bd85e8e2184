//! Criterion benchmarks (sched): sock beside tokio and the smol crates in the same run.

use criterion::{Criterion, criterion_group, criterion_main};

fn placeholder(c: &mut Criterion) {
    c.bench_function("sched/noop", |b| b.iter(|| std::hint::black_box(1u32) + 1));
}

criterion_group!(benches, placeholder);
criterion_main!(benches);
