//! Basalt networks exported to NIR (written to a file and read back) simulate exactly as
//! Basalt runs the original network; what has no NIR form is a clear error naming it.

use std::collections::BTreeMap;

use basalt_core::process::conv::Conv;
use basalt_core::process::dense::Dense;
use basalt_core::process::io::{sink, source};
use basalt_core::process::lif::Lif;
use basalt_core::{Network, PortTransforms, RunConfig, RunSteps, VarRef};
use basalt_nir::{network_to_nir, read, simulate, write, Node, Options};
use ndarray::{Array2, Array4, ArrayD, IxDyn};

const T: usize = 80;
const DT: f64 = 1e-3;

/// A small deterministic generator in [0, 1).
fn rand(seed: &mut u64) -> f64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    (*seed >> 11) as f64 / (1u64 << 53) as f64
}

/// Values of shape (Basalt shape..., T) as NIR's (T, size) with each step in NIR order.
fn per_step_nir(data: &ArrayD<f64>) -> Array2<f64> {
    let steps = *data.shape().last().expect("time axis");
    let size = data.len() / steps;
    let mut out = Array2::zeros((steps, size));
    for t in 0..steps {
        let step = data.index_axis(ndarray::Axis(data.ndim() - 1), t);
        for (o, v) in out.row_mut(t).iter_mut().zip(step.t().iter()) {
            *o = *v;
        }
    }
    out
}

/// Runs the network on the CPU, exports it (through a file), simulates the NIR graph with
/// the source's data, and checks every sink against its NIR Output.
fn check_export(net: Network, input: &ArrayD<f64>, sinks: &[(&str, VarRef)]) {
    let graph = network_to_nir(&net, DT).expect("exports");
    let path = std::env::temp_dir().join(format!("basalt-export-{}-{}.nir", std::process::id(), sinks[0].0));
    write(&path, &graph).expect("writes");
    let back = read(&path).expect("reads back");
    std::fs::remove_file(&path).ok();
    assert_eq!(back, graph);
    let mut rt = net.runtime(&RunConfig::floating_pt()).expect("runs");
    rt.run(RunSteps::new(T as u64)).expect("runs");
    let got = simulate(&back, &Options { dt: DT }, &BTreeMap::from([("input".to_string(), per_step_nir(input))]))
        .expect("simulates");
    for (name, var) in sinks {
        let want = per_step_nir(&rt.get(var).expect("sink data"));
        assert!(want.sum() > 5.0, "{name}: the original network spikes ({})", want.sum());
        assert_eq!(got[*name], want, "{name}: the NIR graph's spikes differ from Basalt's");
    }
}

#[test]
fn a_dense_network_exports_and_simulates_identically() {
    let mut seed = 0x1234_5678_9ABC_DEF1u64;
    let input = ArrayD::from_shape_fn(IxDyn(&[4, T]), |_| f64::from(u8::from(rand(&mut seed) < 0.3)));
    let mut net = Network::new();
    let src = net.add_named("input", source::RingBuffer::new(input.clone())).unwrap();
    let w1 = Array2::from_shape_fn((5, 4), |_| rand(&mut seed) * 1.5 - 0.2);
    let fc1 = net.add_named("fc1", Dense::new(w1)).unwrap();
    let bias: Vec<f64> = (0..5).map(|_| rand(&mut seed) * 0.05).collect();
    let lif1 = net.add_named("lif1", Lif::new(&[5]).du(0.2).dv(0.1).vth(0.6).bias_mant(bias)).unwrap();
    let w2 = Array2::from_shape_fn((3, 5), |_| rand(&mut seed) * 1.2 - 0.1);
    let fc2 = net.add_named("fc2", Dense::new(w2)).unwrap();
    let lif2 = net.add_named("lif2", Lif::new(&[3]).du(1.0).dv(0.3).vth(0.5)).unwrap();
    let s1 = net.add_named("hidden", sink::RingBuffer::new(&[5], T)).unwrap();
    let s2 = net.add_named("out", sink::RingBuffer::new(&[3], T)).unwrap();
    net.connect(src.s_out(), &fc1.s_in()).unwrap();
    net.connect(fc1.a_out(), &lif1.a_in()).unwrap();
    net.connect(lif1.s_out(), &fc2.s_in()).unwrap();
    net.connect(fc2.a_out(), &lif2.a_in()).unwrap();
    net.connect(lif1.s_out(), &s1.a_in()).unwrap();
    net.connect(lif2.s_out(), &s2.a_in()).unwrap();
    let g = network_to_nir(&net, DT).unwrap();
    // du = 0.2 with dt = 1 ms: tau_syn = 5 ms, w_in = 5; dv = 0.1: tau_mem = 10 ms, r = 10.
    let Node::CubaLIF { tau_syn, tau_mem, w_in, r, .. } = &g.nodes["lif1"] else { panic!("lif1 is a CubaLIF") };
    let close = |t: &basalt_nir::Tensor, x: f64| (t.data[0] - x).abs() < 1e-12;
    assert!(close(tau_syn, 5e-3) && close(tau_mem, 1e-2) && close(w_in, 5.0) && close(r, 10.0));
    check_export(net, &input, &[("hidden", s1.data()), ("out", s2.data())]);
}

#[test]
fn a_conv_network_exports_with_a_flatten_and_simulates_identically() {
    let mut seed = 0x0F0F_1234_4321_F0F0u64;
    let (w, h, c) = (6, 5, 2);
    let input = ArrayD::from_shape_fn(IxDyn(&[w, h, c, T]), |_| f64::from(u8::from(rand(&mut seed) < 0.3)));
    let mut net = Network::new();
    let src = net.add_named("input", source::RingBuffer::new(input.clone())).unwrap();
    // Basalt kernel (Cout, kW, kH, Cin).
    let kernel = Array4::from_shape_fn((3, 3, 3, c), |_| rand(&mut seed) * 0.8 - 0.2);
    let conv = net.add_named("conv", Conv::new(kernel, [w, h, c]).padding([1, 1])).unwrap();
    let lif1 = net.add_named("lif1", Lif::new(&[w, h, 3]).du(0.5).dv(0.2).vth(0.8)).unwrap();
    let fc = net
        .add_named("fc", Dense::new(Array2::from_shape_fn((4, w * h * 3), |_| rand(&mut seed) * 0.4 - 0.1)))
        .unwrap();
    let lif2 = net.add_named("lif2", Lif::new(&[4]).du(1.0).dv(0.25).vth(1.0)).unwrap();
    let s1 = net.add_named("maps", sink::RingBuffer::new(&[w, h, 3], T)).unwrap();
    let s2 = net.add_named("out", sink::RingBuffer::new(&[4], T)).unwrap();
    net.connect(src.s_out(), &conv.s_in()).unwrap();
    net.connect(conv.a_out(), &lif1.a_in()).unwrap();
    // Flattened in NIR's (C, H, W) order, as a NIR Flatten does.
    net.connect(lif1.s_out().transpose(&[2, 1, 0]).flatten(), &fc.s_in()).unwrap();
    net.connect(fc.a_out(), &lif2.a_in()).unwrap();
    net.connect(lif1.s_out(), &s1.a_in()).unwrap();
    net.connect(lif2.s_out(), &s2.a_in()).unwrap();
    let g = network_to_nir(&net, DT).unwrap();
    assert!(matches!(g.nodes["lif1_flatten"], Node::Flatten { .. }), "{:?}", g.nodes.keys());
    let Node::Conv2d { weight, .. } = &g.nodes["conv"] else { panic!("conv is a Conv2d") };
    assert_eq!(weight.shape, [3, c, 3, 3]);
    check_export(net, &input, &[("maps", s1.data()), ("out", s2.data())]);
}

#[test]
fn what_nir_cannot_hold_is_refused_naming_the_process() {
    let refusal = |net: &Network| network_to_nir(net, DT).expect_err("refused").to_string();
    let mut net = Network::new();
    net.add_named("fixed", Lif::new(&[2]).du(409.0).dv(409.0).vth(1000.0)).unwrap();
    let e = refusal(&net);
    assert!(e.contains("`fixed`") && e.contains("fixed-point"), "{e}");
    let mut net = Network::new();
    net.add_named("warm", Lif::new(&[2]).du(0.1).dv(0.1).v([0.5, 0.0])).unwrap();
    let e = refusal(&net);
    assert!(e.contains("`warm`") && e.contains("initial `v`"), "{e}");
    let mut net = Network::new();
    net.add_named("sd", basalt_core::process::sdn::Sigma::new(&[2])).unwrap();
    let e = refusal(&net);
    assert!(e.contains("`sd`") && e.contains("no NIR counterpart"), "{e}");
    let mut net = Network::new();
    let a = net.add_named("a", Lif::new(&[2, 3]).du(0.1).dv(0.1)).unwrap();
    let d = net.add_named("d", Dense::new(Array2::zeros((1, 6)))).unwrap();
    net.connect(a.s_out().flatten(), &d.s_in()).unwrap();
    let e = refusal(&net);
    assert!(e.contains("`d`") && e.contains("reshape or transpose"), "{e}");
    assert!(network_to_nir(&Network::new(), 0.0).is_err(), "dt 0");
}
