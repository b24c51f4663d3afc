//! I/O and utility processes against Lava 0.10 (tools/oracle/golden_library.py): Spiker,
//! Receiver, io.Reset, io.sink.Read, SpikeDataloader, StateDataloader.

mod common;

use basalt_core::prelude::*;
use basalt_core::process::io::dataloader::{Dataset, SpikeDataloader, StateDataloader};
use basalt_core::process::io::{reset::Reset, sink::Read};
use basalt_core::process::spiker::{Receiver, Spiker};
use common::{compare, feed, monitor_all, Golden};
use ndarray::{ArrayD, IxDyn};

fn same(name: &str, got: &ArrayD<f64>, want: &basalt_core::persist::NamedArray, tol: f64) {
    assert_eq!(got.shape(), want.shape.as_slice(), "{name}: shape");
    for (i, (a, b)) in got.iter().zip(&want.data).enumerate() {
        assert!((a - b).abs() <= tol * b.abs().max(1.0), "{name}: element {i}: basalt {a}, Lava {b}");
    }
}

#[test]
fn spiker_drives_receiver() {
    let g = Golden::load("spiker_receiver");
    let mut net = Network::new();
    let sp = net.add_named("spiker", Spiker::new(&[3], g.vec("period"), g.vec("payload"))).unwrap();
    let rc = net.add_named("receiver", Receiver::new(&[3])).unwrap();
    net.connect(sp.s_out(), &rc.a_in()).unwrap();
    let steps = g.steps("s_out");
    let mon = monitor_all(&mut net, sp.id(), &[], &["s_out"], steps);
    let mon2 = monitor_all(&mut net, rc.id(), &["payload"], &[], steps);
    let mut rt = net.runtime(&RunConfig::fixed_pt()).unwrap();
    rt.run(RunSteps::new(steps as u64)).unwrap();
    compare(&g, &rt, &mon, "spiker", &["s_out"], 0.0);
    compare(&g, &rt, &mon2, "receiver", &["payload"], 0.0);
}

fn reset_read(case: &str, fixed: bool) {
    let g = Golden::load(case);
    let n = g.get("in").shape[0];
    let lif = Lif::new(&[n])
        .du(g.scalar("du"))
        .dv(g.scalar("dv"))
        .bias_mant(g.vec("bias_mant"))
        .bias_exp(g.vec("bias_exp"))
        .vth(g.scalar("vth"));
    let mut net = Network::new();
    let h = net.add_named("lif", lif).unwrap();
    feed(&mut net, &g, h.id(), "a_in");
    Reset::attach(&mut net, &h.u(), 0.0, 7, 2).unwrap();
    let read = Read::attach(&mut net, &h.v(), 5, 3, 1).unwrap();
    let steps = g.steps("v");
    let mon = monitor_all(&mut net, h.id(), &["v"], &[], steps);
    let cfg = if fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
    let mut rt = net.runtime(&cfg).unwrap();
    rt.run(RunSteps::new(steps as u64)).unwrap();
    let tol = if fixed { 0.0 } else { 1e-9 };
    compare(&g, &rt, &mon, "lif", &["v"], tol);
    same("read data", &rt.get(&read.data()).unwrap(), g.get("read_data"), tol);
    // The resets matter: without them v differs.
    let mut net2 = Network::new();
    let h2 = net2
        .add_named(
            "lif",
            Lif::new(&[n])
                .du(g.scalar("du"))
                .dv(g.scalar("dv"))
                .bias_mant(g.vec("bias_mant"))
                .bias_exp(g.vec("bias_exp"))
                .vth(g.scalar("vth")),
        )
        .unwrap();
    feed(&mut net2, &g, h2.id(), "a_in");
    let mut rt2 = net2.runtime(&cfg).unwrap();
    rt2.run(RunSteps::new(steps as u64)).unwrap();
    assert_ne!(rt2.get(&h2.v()).unwrap(), rt.get(&h.v()).unwrap());
}

#[test]
fn reset_and_read_float() {
    reset_read("reset_read_float", false);
}

#[test]
fn reset_and_read_fixed() {
    reset_read("reset_read_fixed", true);
}

fn dataset(samples: &basalt_core::persist::NamedArray) -> Dataset {
    let n = samples.shape[0];
    let size = samples.data.len() / n;
    Dataset {
        data: (0..n)
            .map(|k| {
                ArrayD::from_shape_vec(IxDyn(&samples.shape[1..]), samples.data[k * size..(k + 1) * size].to_vec())
                    .unwrap()
            })
            .collect(),
        ground_truth: (0..n).map(|k| ArrayD::from_elem(IxDyn(&[1]), k as f64)).collect(),
    }
}

#[test]
fn spike_dataloader_plays_samples_and_ground_truth() {
    let g = Golden::load("spike_dataloader");
    let mut net = Network::new();
    let dl = net.add(SpikeDataloader::new(&dataset(g.get("samples")), 8, 2).unwrap()).unwrap();
    let s1 = net.add(sink::RingBuffer::new(&[3], 120)).unwrap();
    let s2 = net.add(sink::RingBuffer::new(&[1], 120)).unwrap();
    net.connect(dl.s_out(), &s1.a_in()).unwrap();
    net.connect(dl.ground_truth(), &s2.a_in()).unwrap();
    let mut rt = net.runtime(&RunConfig::floating_pt()).unwrap();
    rt.run(RunSteps::new(120)).unwrap();
    same("s_out", &rt.get(&s1.data()).unwrap(), g.get("s_out"), 0.0);
    same("ground truth", &rt.get(&s2.data()).unwrap(), g.get("gt"), 0.0);
}

#[test]
fn state_dataloader_writes_samples_into_a_var() {
    let g = Golden::load("state_dataloader");
    let mut net = Network::new();
    let lif = net.add_named("lif", Lif::new(&[3]).du(0.5).dv(0.5).vth(1000.0)).unwrap();
    StateDataloader::attach(&mut net, &lif.u(), &dataset(g.get("samples")), 5, 1).unwrap();
    let mon = monitor_all(&mut net, lif.id(), &["v"], &[], 120);
    let mut rt = net.runtime(&RunConfig::floating_pt()).unwrap();
    rt.run(RunSteps::new(120)).unwrap();
    compare(&g, &rt, &mon, "lif", &["v"], 1e-9);
    assert!(g.get("v").data.iter().any(|&x| x != 0.0));
}

#[test]
fn io_parameter_errors() {
    let mut net = Network::new();
    let lif = net.add(Lif::new(&[2])).unwrap();
    assert!(Reset::attach(&mut net, &lif.u(), 0.0, 0, 0).is_err());
    assert!(Read::attach(&mut net, &lif.v(), 0, 1, 0).is_err());
    let bad = Dataset { data: vec![ArrayD::zeros(IxDyn(&[3]))], ground_truth: vec![] };
    assert!(StateDataloader::attach(&mut net, &lif.u(), &bad, 1, 0).is_err());
    let wrong_shape =
        Dataset { data: vec![ArrayD::zeros(IxDyn(&[3]))], ground_truth: vec![ArrayD::zeros(IxDyn(&[1]))] };
    let e = StateDataloader::attach(&mut net, &lif.u(), &wrong_shape, 1, 0).unwrap_err();
    assert!(e.to_string().contains("[3]") && e.to_string().contains("[2]"), "{e}");
    assert!(net.add(Spiker::new(&[1], 0.0, 1.0)).is_err());
}
