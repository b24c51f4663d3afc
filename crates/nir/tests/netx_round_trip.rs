//! netx -> NIR -> netx keeps lava-dl's network: the same layers, and in fixed point the
//! same spikes as Lava on the lava-dl fixture.

use std::path::{Path, PathBuf};

use basalt_core::persist::npz;
use basalt_core::prelude::*;
use basalt_nir::{netx_to_nir, nir_to_netx, read, write, Node};
use ndarray::{ArrayD, IxDyn};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/lava-dl").join(rel)
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("basalt-nir-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

#[test]
fn tiny_cuba_network_survives_netx_nir_netx_with_lavas_spikes() {
    let original = basalt_netx::read_layers(fixture("tiny_cuba_slayer/network.net")).expect("fixture");
    let dt = 1e-3;
    let graph = netx_to_nir(&original, dt).expect("exportable");
    // iDecay 1024 and vDecay 123 of 4096 with dt = 1 ms.
    let Node::CubaLIF { tau_syn, tau_mem, v_threshold, .. } = &graph.nodes["layer0_neuron"] else { panic!("CubaLIF") };
    assert!((tau_syn.data[0] - 4.0e-3).abs() < 1e-15, "{tau_syn:?}");
    assert!((tau_mem.data[0] - 4.096 / 123.0).abs() < 1e-15, "{tau_mem:?}");
    assert_eq!(v_threshold.data[0], 80.0);
    let nir_path = temp("tiny.nir");
    write(&nir_path, &graph).expect("writable");
    let back = nir_to_netx(&read(&nir_path).expect("readable"), dt).expect("importable");
    assert_eq!(back, original, "the layers changed in the round trip");

    let net_path = temp("tiny_back.net");
    basalt_netx::write(&net_path, &back).expect("netx writable");
    let io = npz::read(&fixture("tiny_cuba_slayer/io.npz")).expect("fixture io");
    let get = |k: &str| io.iter().find(|a| a.name == k).expect("array").clone();
    let mut netx = basalt_netx::load(&net_path, &basalt_netx::Options::default()).expect("loads");
    let (x, steps) = (get("x"), 50);
    let net = &mut netx.net;
    let src =
        net.add(source::RingBuffer::new(ArrayD::from_shape_vec(IxDyn(&[20, steps]), x.data).expect("x"))).expect("src");
    net.connect(src.s_out(), &netx.input).expect("connect");
    let mon = net.add(Monitor::new()).expect("monitor");
    for b in &netx.blocks {
        mon.probe(net, OutPort { proc: b.neuron, name: "s_out".into() }, steps).expect("probe");
    }
    let mut rt = net.runtime(&RunConfig::fixed_pt()).expect("runtime");
    rt.run(RunSteps::new(steps as u64)).expect("run");
    for (proc, key) in [("layer0.neuron", "hidden_lava"), ("layer1.neuron", "out_lava")] {
        let got = mon.data(&rt, proc, "s_out").expect("data"); // (steps, n)
        let want = get(key); // (n, 55)
        let (n, t_want) = (want.shape[0], want.shape[1]);
        for i in 0..n {
            for t in 0..steps {
                assert_eq!(got[[t, i]], want.data[i * t_want + t], "{key}: neuron {i} step {}", t + 1);
            }
        }
        assert!(want.data.iter().any(|&s| s != 0.0));
    }
}

#[test]
fn snntorch_leaky_layers_map_to_cuba_with_an_instant_current() {
    // A two-layer snnTorch Leaky network (tau = 1 ms, r = 10, dt = 0.1 ms) built as NIR.
    let g = read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/recurrent.nir")).expect("readable");
    let e = nir_to_netx(&g, 1e-4).expect_err("recurrence has no netx chain").to_string();
    assert!(e.contains("feeds 2 nodes"), "{e}");
    let t = |n: usize, x: f64| basalt_nir::ir::tensor(&[n], vec![x; n]);
    let graph = basalt_nir::Graph::new(
        [
            ("in".to_string(), Node::Input { shape: vec![3] }),
            (
                "w".to_string(),
                Node::Linear { weight: basalt_nir::ir::tensor(&[2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]) },
            ),
            (
                "lif".to_string(),
                Node::LIF {
                    tau: t(2, 1e-3),
                    r: t(2, 10.0),
                    v_leak: t(2, 0.0),
                    v_threshold: t(2, 0.5),
                    v_reset: t(2, 0.0),
                },
            ),
            ("out".to_string(), Node::Output { shape: vec![2] }),
        ],
        &[("in", "w"), ("w", "lif"), ("lif", "out")],
    );
    let layers = nir_to_netx(&graph, 1e-4).expect("a LIF chain converts");
    let basalt_netx::NeuronKind::Cuba { i_decay, v_decay, vth_mant } = layers[0].neuron.as_ref().expect("neuron").kind
    else {
        panic!("CUBA")
    };
    // dt/tau = 0.1 -> 409.6/4096 rounds to 410; gain r dt/tau = 1 leaves the threshold.
    assert_eq!((i_decay, v_decay, vth_mant), (4096.0, 410.0, 0.5));
}

#[test]
fn graphs_netx_cannot_hold_are_refused_by_name() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let e =
        nir_to_netx(&read(data.join("lif_family.nir")).expect("readable"), 1e-3).expect_err("lif_family").to_string();
    assert!(e.contains("feeds"), "{e}");
    let e = nir_to_netx(&read(data.join("snntorch.nir")).expect("readable"), 1e-4).expect_err("snntorch").to_string();
    assert!(e.contains("`2`") && e.contains("bias into a decaying current"), "{e}");
    let e = nir_to_netx(&read(data.join("cuba.nir")).expect("readable"), 1e-5).expect_err("decay").to_string();
    assert!(e.contains("netx needs 1..=4096") || e.contains("bias"), "{e}");
    let pilot = basalt_netx::read_layers(fixture("pilotnet_sdnn/network.net")).expect("fixture");
    let e = netx_to_nir(&pilot, 1e-3).expect_err("sdnn").to_string();
    assert!(e.contains("layer0"), "{e}");
    let e = netx_to_nir(&[], 1e-3).expect_err("empty").to_string();
    assert!(e.contains("no layers"), "{e}");
    let e = netx_to_nir(&pilot, f64::NAN).expect_err("dt").to_string();
    assert!(e.contains("dt must be"), "{e}");
}
