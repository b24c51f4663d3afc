//! netx workloads of the netx issue, fixed point, batch 1 and 64: lava-dl's `pilotnet_sdnn`
//! network file (input -> 5 conv -> 3 dense sigma-delta blocks; its 1-step input frame
//! repeated by the source ring buffer) for 90 steps, and lava-dl's `dense` block test
//! (Dense 200 -> 256 + LIF, `in.npy`) for 2000 steps. `benches/peers/lava_netx.py` times
//! Lava 0.10 on the same graphs and `benches/peers/netx_compare.sh` prints the ratios.
//! The files come from `../shared/fixtures/lava-dl/`.
//!
//! Batch 64 is 64 independent copies in one network (as `basalt run --batch 64` builds
//! them), each fed the same input.
//!
//! Throughput is reported in elements/s = simulated sample-steps per second (steps x batch).

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

/// `batch` copies of lava-dl's pilotnet_sdnn network, each with its input on a ring buffer.
fn pilotnet(batch: usize) -> Network {
    let mut net = Network::new();
    for k in 0..batch {
        let opts = basalt::netx::Options { name_prefix: format!("b{k}."), ..Default::default() };
        let part = basalt::netx::load_into(&mut net, fixture("pilotnet_sdnn/network.net"), &opts).expect("loads");
        let src = net.add(source::RingBuffer::new(npy("pilotnet_sdnn/input.npy"))).expect("source");
        net.connect(src.s_out(), &part.input).expect("connects");
    }
    net
}

/// `batch` copies of lava-dl's dense block test: 200 inputs -> Dense -> 256 LIF.
fn dense_block(batch: usize) -> Network {
    let w = npz::read_npy(&fixture("dense/weight.npy")).expect("weights");
    let opt = basalt::netx::weights::optimize_weight_bits(&w.data);
    let weights = ndarray::Array2::from_shape_vec((w.shape[0], w.shape[1]), opt.weights).expect("shape");
    let mut net = Network::new();
    for _ in 0..batch {
        let src = net.add(source::RingBuffer::new(npy("dense/in.npy"))).expect("source");
        let dense = Dense::new(weights.clone()).weight_exp(opt.weight_exp).num_weight_bits(opt.num_weight_bits);
        let dense = net.add(dense).expect("dense");
        let lif = net.add(Lif::new(&[256]).vth(6.0).du(4095.0).dv(415.0).bias_exp(6.0)).expect("lif");
        net.connect(src.s_out(), &dense.s_in()).expect("connects");
        net.connect(dense.a_out(), &lif.a_in()).expect("connects");
    }
    net
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("netx");
    group.sample_size(10);
    let workloads = [
        ("pilotnet_sdnn_90_steps", pilotnet(1), 90u64, 1u64),
        ("dense_2000_steps", dense_block(1), 2000, 1),
        ("pilotnet_sdnn_batch64_18_steps", pilotnet(64), 18, 64),
        ("dense_batch64_2000_steps", dense_block(64), 2000, 64),
    ];
    for (name, net, steps, batch) in workloads {
        let mut rt = net.runtime(&RunConfig::fixed_pt()).expect("compiles");
        rt.run(RunSteps::new(1)).expect("runs");
        group.throughput(Throughput::Elements(steps * batch));
        group.bench_function(name, |b| b.iter(|| rt.run(RunSteps::new(steps)).expect("runs")));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
