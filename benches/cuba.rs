//! The CUBA E/I benchmark network (src/workloads.rs `cuba_network`): 10,000 steps (1 s of
//! biological time at dt = 0.1 ms). Peers: benches/peers/brian2_cuba.py and
//! benches/peers/brainpy_cuba.py on the same network.

use basalt::prelude::*;
use basalt::workloads::cuba_network;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("cuba_10000_steps");
    g.sample_size(10);
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("float", |b| {
        b.iter_batched(
            || {
                let (net, _) = cuba_network(42).expect("builds");
                net.runtime(&RunConfig::floating_pt()).expect("compiles")
            },
            |mut rt| rt.run(RunSteps::new(10_000)).expect("runs"),
            criterion::BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
