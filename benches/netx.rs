//! netx workloads of the netx issue, fixed point, batch 1: lava-dl's `pilotnet_sdnn`
//! network file (input -> 5 conv -> 3 dense sigma-delta blocks; its 1-step input frame
//! repeated by the source ring buffer) for 90 steps, and lava-dl's `dense` block test
//! (Dense 200 -> 256 + LIF, `in.npy`) for 2000 steps. `benches/peers/lava_netx.py` times
//! Lava 0.10 on the same graphs and `benches/peers/netx_compare.sh` prints the ratios.
//! The files come from `../shared/fixtures/lava-dl/`.
//!
//! Throughput is reported in elements/s = simulated steps per second.

use std::path::PathBuf;

use basalt::persist::npz;
use basalt::prelude::*;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ndarray::{ArrayD, IxDyn};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/lava-dl").join(rel)
}

fn npy(rel: &str) -> ArrayD<f64> {
    let a = npz::read_npy(&fixture(rel)).expect("fixture");
    ArrayD::from_shape_vec(IxDyn(&a.shape), a.data).expect("shape")
}

/// lava-dl's pilotnet_sdnn network with its input on a ring buffer.
fn pilotnet() -> Network {
    let mut netx = basalt::netx::load(fixture("pilotnet_sdnn/network.net"), &Default::default()).expect("loads");
    let src = netx.net.add(source::RingBuffer::new(npy("pilotnet_sdnn/input.npy"))).expect("source");
    netx.net.connect(src.s_out(), &netx.input).expect("connects");
    netx.net
}

/// lava-dl's dense block test: 200 inputs -> Dense -> 256 LIF.
fn dense_block() -> Network {
    let w = npz::read_npy(&fixture("dense/weight.npy")).expect("weights");
    let opt = basalt::netx::weights::optimize_weight_bits(&w.data);
    let weights = ndarray::Array2::from_shape_vec((w.shape[0], w.shape[1]), opt.weights).expect("shape");
    let mut net = Network::new();
    let src = net.add(source::RingBuffer::new(npy("dense/in.npy"))).expect("source");
    let dense =
        net.add(Dense::new(weights).weight_exp(opt.weight_exp).num_weight_bits(opt.num_weight_bits)).expect("dense");
    let lif = net.add(Lif::new(&[256]).vth(6.0).du(4095.0).dv(415.0).bias_exp(6.0)).expect("lif");
    net.connect(src.s_out(), &dense.s_in()).expect("connects");
    net.connect(dense.a_out(), &lif.a_in()).expect("connects");
    net
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("netx");
    group.sample_size(10);
    for (name, net, steps) in [("pilotnet_sdnn_90_steps", pilotnet(), 90u64), ("dense_2000_steps", dense_block(), 2000)]
    {
        let mut rt = net.runtime(&RunConfig::fixed_pt()).expect("compiles");
        rt.run(RunSteps::new(1)).expect("runs");
        group.throughput(Throughput::Elements(steps));
        group.bench_function(name, |b| b.iter(|| rt.run(RunSteps::new(steps)).expect("runs")));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
