//! On-chip learning: LIF(100) -> LearningDense(100x100, pair STDP, t_epoch 1) -> LIF(100)
//! with the post spikes fed back, 1000 steps, float and fixed point
//! (`basalt::workloads::stdp_network`). Peer: benches/peers/lava_learning.py (Lava 0.10) on
//! the same network; benches/peers/learning_compare.sh runs both.

use basalt::prelude::*;
use basalt::workloads::stdp_network;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const STEPS: u64 = 1000;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("stdp_100x100_1000_steps");
    g.sample_size(10);
    g.throughput(Throughput::Elements(STEPS));
    for (name, fixed) in [("float", false), ("fixed", true)] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let net = stdp_network(100, fixed).expect("builds");
                    let cfg = if fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
                    net.runtime(&cfg).expect("compiles")
                },
                |mut rt| rt.run(RunSteps::new(STEPS)).expect("runs"),
                criterion::BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
