//! Criterion benchmarks (addr): `sock_addr::lookup` and `resolve` beside
//! `std::net::ToSocketAddrs` and `tokio::net::lookup_host`, in the same run.
//!
//! Two workloads: a numeric host (`127.0.0.1:80`, `resolve`'s fast path: no thread) and
//! `localhost` (answered from `/etc/hosts`, so no network is involved; `resolve` and
//! tokio both hop to a thread pool). Each iteration does one complete lookup.

use std::hint::black_box;
use std::net::ToSocketAddrs;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use sock_addr::{Hints, lookup, resolve};

/// Benchmarks one host with every implementation.
fn bench_host(c: &mut Criterion, group_name: &str, host: &str) {
    let mut group = c.benchmark_group(group_name);
    let hints = Hints::tcp();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    group.bench_function(BenchmarkId::new("sock_addr::lookup", host), |b| {
        b.iter(|| lookup(black_box(host), 80, &hints).expect("lookup").len())
    });
    group.bench_function(BenchmarkId::new("sock_addr::resolve", host), |b| {
        b.iter(|| {
            futures_lite::future::block_on(resolve(black_box(host), 80, &hints))
                .expect("resolve")
                .len()
        })
    });
    group.bench_function(BenchmarkId::new("std::ToSocketAddrs", host), |b| {
        b.iter(|| {
            (black_box(host), 80)
                .to_socket_addrs()
                .expect("std lookup")
                .count()
        })
    });
    group.bench_function(BenchmarkId::new("tokio::lookup_host", host), |b| {
        b.iter(|| {
            rt.block_on(async {
                tokio::net::lookup_host((black_box(host), 80))
                    .await
                    .expect("tokio lookup")
                    .count()
            })
        })
    });
    group.finish();
}

fn numeric(c: &mut Criterion) {
    bench_host(c, "addr/numeric", "127.0.0.1");
}

fn localhost(c: &mut Criterion) {
    bench_host(c, "addr/localhost", "localhost");
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    targets = numeric, localhost
}
criterion_main!(benches);
