//! LIF(N) -> Dense(N x N) -> LIF(N), 1000 steps in one `run`, N in {100, 1000, 4000}, float
//! and fixed point: the core issue's benchmark. The network is `basalt::workloads::
//! lif_dense_lif`; `benches/peers/lava_lif_dense_lif.py` times Lava 0.10 on the same one
//! and `benches/peers/compare.sh` runs both and prints the ratios.
//!
//! Throughput is reported in elements/s = simulated steps per second.

use basalt::prelude::*;
use basalt::walkthrough::Precision;
use basalt::workloads::lif_dense_lif;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const STEPS: u64 = 1000;

fn bench(c: &mut Criterion) {
    let sizes: Vec<usize> = std::env::var("BASALT_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100, 1000, 4000]);
    let mut group = c.benchmark_group("lif_dense_lif_1000_steps");
    group.throughput(Throughput::Elements(STEPS));
    group.sample_size(10);
    for &n in &sizes {
        for precision in [Precision::Float, Precision::Fixed] {
            let w = lif_dense_lif(n, precision).expect("network builds");
            let mut rt = w.net.runtime(&precision.run_config()).expect("compiles");
            drop(w);
            rt.run(RunSteps::new(1)).expect("runs");
            group.bench_with_input(BenchmarkId::new(precision.name(), n), &n, |b, _| {
                b.iter(|| rt.run(RunSteps::new(STEPS)).expect("runs"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
