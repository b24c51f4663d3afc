//! The open-neuromorphic SNN training benchmark's setup: one Linear(n, n) + LIF layer
//! (here slayer's CUBA Dense block: Dense n -> n, CUBA neurons), batch 16, T = 500 steps,
//! random input spikes (rate 0.1), forward + backward of the summed output spikes, timed
//! with the device synchronised. On the default device: the CPU, or with `--features wgpu`
//! burn's wgpu backend (the GPU; `neuron::cube` runs the dynamics there).
//! `benches/peers/onm_compare.sh` times lava-dl's slayer and a plain PyTorch LIF on the same
//! setup and prints the ratios.
//!
//! Sizes: `BASALT_ONM_SIZES` (default 1024; the benchmark's are 4096,16384 on a GPU),
//! steps: `BASALT_ONM_STEPS` (default 500). Throughput is in elements/s = fwd+bwd passes/s.
//!
//! `cargo bench -p basalt-slayer [--features wgpu] --bench onm`

use basalt_slayer::{CubaNeuron, Device, Network, Tensor, TensorData};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const BATCH: usize = 16;

fn env_list(var: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(var)
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

fn bench(c: &mut Criterion) {
    let device = Device::default().autodiff();
    device.seed(1);
    let steps = env_list("BASALT_ONM_STEPS", &[500])[0];
    let mut group = c.benchmark_group("slayer_onm");
    group.sample_size(10);
    group.throughput(Throughput::Elements(1));
    for n in env_list("BASALT_ONM_SIZES", &[1024]) {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ n as u64;
        let x: Vec<f32> = (0..BATCH * n * steps)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                f32::from(u8::from(seed.is_multiple_of(10)))
            })
            .collect();
        let x = Tensor::<3>::from_data(TensorData::new(x, [BATCH, n, steps]), &device);
        let neuron = CubaNeuron::new(1.25, 0.25, 0.03).expect("neuron").surrogate(0.03, 3.0);
        let net = Network::dense(&[n, n], &neuron, 1.0, &device);
        let id = BenchmarkId::new("linear_lif_fwd_bwd_b16", format!("n{n}_t{steps}"));
        group.bench_function(id, |b| {
            b.iter(|| {
                let out = net.forward_train(x.clone()).expect("forward").pop().expect("an output");
                let grads = out.sum().backward();
                device.sync().expect("the device finishes");
                grads
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
