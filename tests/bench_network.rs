//! The benchmark network (benches/lif_dense_lif.rs) produces exactly the spikes Lava 0.10
//! produced for it (tests/data/bench_n*_*.npz, written by
//! benches/peers/lava_lif_dense_lif.py --traces tests/data).

mod common;

use basalt::prelude::*;
use basalt::walkthrough::Precision;
use basalt::workloads::lif_dense_lif;
use common::read_npz;

fn check(n: usize, precision: Precision) {
    let mut w = lif_dense_lif(n, precision).unwrap();
    let mon = w.net.add(Monitor::new()).unwrap();
    mon.probe(&mut w.net, w.lif1.s_out(), 100).unwrap();
    mon.probe(&mut w.net, w.lif2.s_out(), 100).unwrap();
    let mut rt = w.net.runtime(&precision.run_config()).unwrap();
    rt.run(RunSteps::new(100)).unwrap();
    let lava = read_npz(&format!("bench_n{n}_{}.npz", precision.name()));
    for (proc, key) in [("lif1", "lif1_s"), ("lif2", "lif2_s")] {
        let got = mon.data(&rt, proc, "s_out").unwrap();
        let want = &lava[key];
        assert_eq!(got.shape(), want.shape());
        let diff = got.iter().zip(want.iter()).filter(|(a, b)| a != b).count();
        assert_eq!(diff, 0, "N={n} {}: {proc} spikes differ from Lava in {diff} places", precision.name());
        assert!(want.sum() > 0.0, "reference has spikes");
    }
}

#[test]
fn n100_float_spikes_equal_lava() {
    check(100, Precision::Float);
}

#[test]
fn n100_fixed_spikes_equal_lava() {
    check(100, Precision::Fixed);
}

#[test]
fn n1000_float_spikes_equal_lava() {
    check(1000, Precision::Float);
}

#[test]
fn n1000_fixed_spikes_equal_lava() {
    check(1000, Precision::Fixed);
}
