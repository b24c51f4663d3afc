//! lava-dl's own netx ground truths (`../shared/fixtures/lava-dl/`, SPEC §4.5), run on
//! Basalt's fixed-point models: every comparison is exact.

use std::path::PathBuf;

use basalt_core::persist::{npz, NamedArray};
use basalt_core::prelude::*;
use basalt_core::process::io::reset::Reset;
use basalt_netx::{load, Options};
use ndarray::{ArrayD, IxDyn};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/lava-dl").join(rel)
}

fn npy(rel: &str) -> NamedArray {
    npz::read_npy(&fixture(rel)).unwrap_or_else(|e| panic!("{e}"))
}

fn array(a: &NamedArray) -> ArrayD<f64> {
    ArrayD::from_shape_vec(IxDyn(&a.shape), a.data.clone()).unwrap()
}

#[test]
fn tinynet_with_periodic_resets_matches_lava_dl_exactly() {
    let mut netx = load(fixture("tinynet/tiny.net"), &Options::default()).unwrap();
    assert_eq!(netx.blocks.len(), 3);
    assert_eq!(netx.blocks[0].shape, vec![16, 16, 3]);
    assert_eq!(netx.blocks[1].shape, vec![6, 6, 24]);
    assert_eq!(netx.blocks[2].shape, vec![1, 1, 36]);
    let net = &mut netx.net;
    let input = netx.blocks[0].neuron;
    net.set_init(&VarRef { proc: input, name: "bias_mant".into() }, array(&npy("tinynet/input_bias.npy"))).unwrap();
    for (i, b) in netx.blocks.iter().enumerate() {
        let offset = (i as i64 - 1).rem_euclid(17) as u64;
        for var in ["u", "v"] {
            Reset::attach(net, &VarRef { proc: b.neuron, name: var.into() }, 0.0, 17, offset).unwrap();
        }
    }
    let sink = net.add(sink::RingBuffer::new(&[1, 1, 36], 20)).unwrap();
    net.connect(netx.output.clone(), &sink.a_in()).unwrap();
    let mut rt = net.runtime(&RunConfig::fixed_pt()).unwrap();
    rt.run(RunSteps::new(20)).unwrap();
    let got = rt.get(&sink.data()).unwrap(); // (1, 1, 36, 20)
    let want = npy("tinynet/output.npy"); // (1, 36, 1, 1, 16)
    let mut compared = 0;
    let mut spikes = 0.0;
    for c in 0..36 {
        for t in 1..16 {
            // output.npy[0].transpose(2,1,0,3)[..., 1:] against sink[..., 2:17].
            let w = want.data[c * 16 + t];
            let g = got[[0, 0, c, t + 1]];
            assert_eq!(g, w, "channel {c}, step {}", t + 2);
            compared += 1;
            spikes += w;
        }
    }
    assert_eq!(compared, 36 * 15);
    assert!(spikes > 0.0);
}

/// Runs a pilotnet_sdnn file for 9 steps on lava-dl's input; returns its output.
fn run_pilotnet(path: &std::path::Path) -> Vec<f64> {
    let mut netx = load(path, &Options::default()).unwrap();
    assert_eq!(netx.blocks.len(), 9);
    let net = &mut netx.net;
    let src = net.add(source::RingBuffer::new(array(&npy("pilotnet_sdnn/input.npy")))).unwrap();
    net.connect(src.s_out(), &netx.input).unwrap();
    let sink = net.add(sink::RingBuffer::new(&[1], 9)).unwrap();
    net.connect(netx.output.clone(), &sink.a_in()).unwrap();
    let mut rt = net.runtime(&RunConfig::fixed_pt()).unwrap();
    rt.run(RunSteps::new(9)).unwrap();
    rt.get(&sink.data()).unwrap().iter().copied().collect()
}

#[test]
fn pilotnet_sdnn_matches_lava_dl_exactly() {
    let got = run_pilotnet(&fixture("pilotnet_sdnn/network.net"));
    let want = npy("pilotnet_sdnn/output.npy").data;
    assert_eq!(got, want);
    assert!(want.iter().any(|&x| x != 0.0));
}

#[test]
fn dense_block_2000_steps_matches_lava_dl_exactly() {
    // lava-dl's test_blocks dense case: one Dense block of 256 LIF (vth 6, du 4095, dv 415,
    // bias_exp 6) fed `in.npy`; spikes must equal `out.npy` and u `current.npy`.
    let w = npy("dense/weight.npy");
    let inp = npy("dense/in.npy");
    let mut net = Network::new();
    let src = net.add(source::RingBuffer::new(array(&inp))).unwrap();
    let opt = basalt_netx::weights::optimize_weight_bits(&w.data);
    let weights = ndarray::Array2::from_shape_vec((w.shape[0], w.shape[1]), opt.weights).unwrap();
    let dense = net.add(Dense::new(weights).weight_exp(opt.weight_exp).num_weight_bits(opt.num_weight_bits)).unwrap();
    let lif = net.add_named("lif", Lif::new(&[256]).vth(6.0).du(4095.0).dv(415.0).bias_exp(6.0)).unwrap();
    net.connect(src.s_out(), &dense.s_in()).unwrap();
    net.connect(dense.a_out(), &lif.a_in()).unwrap();
    let sink = net.add(sink::RingBuffer::new(&[256], 2000)).unwrap();
    net.connect(lif.s_out(), &sink.a_in()).unwrap();
    let mon = net.add(Monitor::new()).unwrap();
    mon.probe(&mut net, lif.u(), 2000).unwrap();
    let mut rt = net.runtime(&RunConfig::fixed_pt()).unwrap();
    rt.run(RunSteps::new(2000)).unwrap();
    let got = rt.get(&sink.data()).unwrap();
    let want = npy("dense/out.npy");
    let diff = got.iter().zip(&want.data).filter(|(a, b)| a != b).count();
    assert_eq!(diff, 0, "{diff} of {} spike values differ", want.data.len());
    let u = mon.data(&rt, "lif", "u").unwrap(); // (2000, 256)
    let current = npy("dense/current.npy"); // (256, 2000)
    for n in 0..256 {
        for t in 0..2000 {
            // lava-dl's test compares u with current·64 (its current is in slayer units).
            assert_eq!(u[[t, n]], current.data[n * 2000 + t] * 64.0, "u of neuron {n} at step {}", t + 1);
        }
    }
}

#[test]
fn tiny_cuba_network_exported_by_slayer_matches_lava() {
    let io = npz::read(&fixture("tiny_cuba_slayer/io.npz")).unwrap();
    let get = |k: &str| io.iter().find(|a| a.name == k).unwrap().clone();
    let mut netx = load(fixture("tiny_cuba_slayer/network.net"), &Options::default()).unwrap();
    assert_eq!(netx.blocks.len(), 2);
    let x = get("x"); // (20, 50)
    let steps = 55;
    let mut padded = vec![0.0; 20 * steps];
    for i in 0..20 {
        for t in 0..50 {
            padded[i * steps + t] = x.data[i * 50 + t];
        }
    }
    let net = &mut netx.net;
    let src = net.add(source::RingBuffer::new(ArrayD::from_shape_vec(IxDyn(&[20, steps]), padded).unwrap())).unwrap();
    net.connect(src.s_out(), &netx.input).unwrap();
    let mon = net.add(Monitor::new()).unwrap();
    let (hidden, out) = (netx.blocks[0].neuron, netx.blocks[1].neuron);
    mon.probe(net, OutPort { proc: hidden, name: "s_out".into() }, steps).unwrap();
    mon.probe(net, OutPort { proc: out, name: "s_out".into() }, steps).unwrap();
    mon.probe(net, VarRef { proc: out, name: "v".into() }, steps).unwrap();
    mon.probe(net, VarRef { proc: out, name: "u".into() }, steps).unwrap();
    let mut rt = net.runtime(&RunConfig::fixed_pt()).unwrap();
    rt.run(RunSteps::new(steps as u64)).unwrap();
    for (proc, var, key) in [
        ("layer0.neuron", "s_out", "hidden_lava"),
        ("layer1.neuron", "s_out", "out_lava"),
        ("layer1.neuron", "v", "out_v_lava"),
        ("layer1.neuron", "u", "out_u_lava"),
    ] {
        let got = mon.data(&rt, proc, var).unwrap(); // (steps, n)
        let want = get(key); // (n, steps)
        let n = want.shape[0];
        for i in 0..n {
            for t in 0..steps {
                assert_eq!(got[[t, i]], want.data[i * steps + t], "{key}: neuron {i} step {}", t + 1);
            }
        }
    }
    assert!(get("out_lava").data.iter().any(|&s| s != 0.0));
}

#[test]
fn bad_files_are_clear_errors() {
    let dir = std::env::temp_dir().join(format!("basalt-netx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_h5 = dir.join("x.net");
    std::fs::write(&not_h5, b"not an hdf5 file").unwrap();
    let e = load(&not_h5, &Options::default()).unwrap_err();
    assert!(e.to_string().contains("not a readable HDF5 file"), "{e}");
    let e = load(dir.join("missing.net"), &Options::default()).unwrap_err();
    assert!(e.to_string().contains("missing.net"), "{e}");
    // A state file is HDF5 but not a netx network.
    let arrays = vec![NamedArray { name: "a".into(), shape: vec![1], dtype: DType::F64, data: vec![1.0] }];
    basalt_core::persist::hdf5::write(&dir.join("s.h5"), &arrays).unwrap();
    let e = load(dir.join("s.h5"), &Options::default()).unwrap_err();
    assert!(e.to_string().contains("no /layer group"), "{e}");
    // Truncated copies of a real network fail cleanly.
    let bytes = std::fs::read(fixture("tiny_cuba_slayer/network.net")).unwrap();
    for cut in [0, 100, 1000, bytes.len() / 2, bytes.len() - 10] {
        let p = dir.join(format!("cut{cut}.net"));
        std::fs::write(&p, &bytes[..cut]).unwrap();
        assert!(load(&p, &Options::default()).is_err(), "cut at {cut}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn written_files_round_trip_through_the_reader_and_run_the_same() {
    let dir = std::env::temp_dir().join(format!("basalt-netx-write-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for rel in ["tinynet/tiny.net", "pilotnet_sdnn/network.net", "tiny_cuba_slayer/network.net"] {
        let layers = basalt_netx::read_layers(fixture(rel)).unwrap();
        let out = dir.join(rel.replace('/', "_"));
        basalt_netx::write(&out, &layers).unwrap();
        let again = basalt_netx::read_layers(&out).unwrap();
        assert_eq!(again, layers, "{rel}: layers differ after write -> read");
    }
    // The written pilotnet runs to lava-dl's output.
    assert_eq!(run_pilotnet(&dir.join("pilotnet_sdnn_network.net")), npy("pilotnet_sdnn/output.npy").data);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Ground truths generated by `tools/oracle/netx_*.py` (committed under tests/data).
fn oracle_data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rel)
}

/// The arrays of an oracle npz, by name.
fn oracle_arrays(rel: &str) -> impl Fn(&str) -> NamedArray {
    let truth = npz::read(&oracle_data(rel)).unwrap();
    move |name| truth.iter().find(|a| a.name == name).unwrap_or_else(|| panic!("{name}")).clone()
}

/// One oracle network's fixed-point run: its input on a source, every layer's spikes on
/// sinks, for as many steps as the input has.
struct OracleRun {
    /// The synapse processes' types, in executable order.
    synapse_types: Vec<String>,
    /// Each layer's spikes, (shape..., T), input to output.
    layers: Vec<ArrayD<f64>>,
}

impl OracleRun {
    fn layer1(&self) -> &ArrayD<f64> {
        &self.layers[1]
    }
    fn out(&self) -> &ArrayD<f64> {
        self.layers.last().unwrap()
    }
}

fn run_oracle_network(net_rel: &str, opts: &Options, input: &NamedArray) -> OracleRun {
    let steps = *input.shape.last().unwrap();
    let mut netx = load(oracle_data(net_rel), opts).unwrap();
    let net = &mut netx.net;
    let src = net.add(source::RingBuffer::new(array(input))).unwrap();
    net.connect(src.s_out(), &netx.input).unwrap();
    let mut sinks = Vec::new();
    for b in &netx.blocks {
        let sink = net.add(sink::RingBuffer::new(&b.shape, steps)).unwrap();
        net.connect(OutPort { proc: b.neuron, name: "s_out".into() }, &sink.a_in()).unwrap();
        sinks.push(sink);
    }
    let exe = net.compile(&RunConfig::fixed_pt()).unwrap();
    let synapse_types =
        exe.processes.iter().filter(|p| p.name.contains("synapse")).map(|p| p.type_name.clone()).collect();
    let mut rt = Runtime::new(exe, RunConfig::fixed_pt().registry()).unwrap();
    rt.run(RunSteps::new(steps as u64)).unwrap();
    OracleRun { synapse_types, layers: sinks.iter().map(|s| rt.get(&s.data()).unwrap()).collect() }
}

/// Writes layers to a temporary netx file and reads them back; returns the file (to reuse).
fn write_and_reread(layers: &[basalt_netx::LayerConfig], tag: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("basalt-netx-{tag}-{}.net", std::process::id()));
    basalt_netx::write(&path, layers).unwrap();
    assert_eq!(basalt_netx::read_layers(&path).unwrap(), layers, "{tag}: layers differ after write -> read");
    path
}

fn values(a: &ArrayD<f64>) -> Vec<f64> {
    a.iter().copied().collect()
}

/// A slayer-exported `pool` layer (which lava-dl's netx cannot load) runs exactly as Lava
/// runs the equivalent grouped convolution (`tools/oracle/netx_pool.py`).
#[test]
fn slayer_pool_layers_match_lava_running_the_equivalent_convolution() {
    let netx = load(oracle_data("pool/pool.net"), &Options::default()).unwrap();
    let shapes: Vec<Vec<usize>> = netx.blocks.iter().map(|b| b.shape.clone()).collect();
    assert_eq!(shapes, vec![vec![6, 6, 2], vec![3, 3, 2], vec![4]]);
    let get = oracle_arrays("pool/pool.npz");
    let (input, pool, out) = (get("input"), get("pool"), get("out"));
    let run = run_oracle_network("pool/pool.net", &Options::default(), &input);
    assert_eq!(run.layer1().shape(), pool.shape.as_slice());
    assert_eq!(values(run.layer1()), pool.data);
    assert_eq!(values(run.out()), out.data);
    assert!(pool.data.iter().sum::<f64>() > 100.0 && out.data.iter().sum::<f64>() > 10.0);
    // The pool layer survives write -> read unchanged.
    let layers = basalt_netx::read_layers(oracle_data("pool/pool.net")).unwrap();
    let _ = std::fs::remove_file(write_and_reread(&layers, "pool"));
}

#[test]
fn pool_kernels_that_do_not_tile_the_input_are_refused() {
    let mut layers = basalt_netx::read_layers(oracle_data("pool/pool.net")).unwrap();
    if let basalt_netx::LayerKind::Pool { weight, kernel, stride, .. } = &mut layers[1].kind {
        *weight = vec![128.0; 16];
        *kernel = [4, 4];
        *stride = [4, 4];
    } else {
        panic!("layer 1 is not a pool");
    }
    let path = std::env::temp_dir().join(format!("basalt-netx-pool-odd-{}.net", std::process::id()));
    basalt_netx::write(&path, &layers).unwrap();
    let Err(e) = load(&path, &Options::default()) else { panic!("a 4x4 kernel on a 6x6 input was accepted") };
    let e = e.to_string();
    let _ = std::fs::remove_file(&path);
    assert!(e.contains("layer 1") && e.contains("does not divide"), "{e}");
}

/// A slayer Recurrent block exported as `dense_rec` runs exactly as lava-dl's netx runs it
/// (`tools/oracle/netx_dense_rec.py`).
#[test]
fn slayer_dense_rec_layers_match_lava_dl_exactly() {
    let get = oracle_arrays("dense_rec/dense_rec.npz");
    let (input, rec, out) = (get("input"), get("rec"), get("out"));
    // Dense synapses, and Sparse ones with lava-dl's `sparse_fc_layer` option: same spikes.
    for sparse_fc_layer in [false, true] {
        let opts = Options { sparse_fc_layer, ..Options::default() };
        let run = run_oracle_network("dense_rec/dense_rec.net", &opts, &input);
        assert_eq!(run.synapse_types, vec![if sparse_fc_layer { "Sparse" } else { "Dense" }; 3]);
        assert_eq!(values(run.layer1()), rec.data);
        assert_eq!(values(run.out()), out.data);
    }
    // Round trip through the writer keeps the recurrent weights.
    let layers = basalt_netx::read_layers(oracle_data("dense_rec/dense_rec.net")).unwrap();
    assert!(matches!(&layers[1].kind, basalt_netx::LayerKind::Dense { weight_rec: Some(r), .. } if r.dim() == (8, 8)));
    let _ = std::fs::remove_file(write_and_reread(&layers, "rec"));
}

/// With axonal delays, `sparse_fc_layer` builds DelaySparse over the non-zero weights; it
/// must spike exactly as the DelayDense build (both are checked against Lava in the
/// process-library goldens).
#[test]
fn sparse_fc_layers_with_delays_equal_the_dense_build() {
    let mut layers = basalt_netx::read_layers(fixture("tiny_cuba_slayer/network.net")).unwrap();
    if let basalt_netx::LayerKind::Dense { delay, .. } = &mut layers[0].kind {
        *delay = Some((0..10).map(|i| f64::from(i % 4)).collect());
    }
    let path = std::env::temp_dir().join(format!("basalt-netx-delay-{}.net", std::process::id()));
    basalt_netx::write(&path, &layers).unwrap();
    let io = npz::read(&fixture("tiny_cuba_slayer/io.npz")).unwrap();
    let x = io.iter().find(|a| a.name == "x").unwrap().clone(); // (20, 50)
    let run = |sparse_fc_layer: bool| {
        let mut netx = load(&path, &Options { sparse_fc_layer, ..Options::default() }).unwrap();
        let net = &mut netx.net;
        let src = net.add(source::RingBuffer::new(array(&x))).unwrap();
        net.connect(src.s_out(), &netx.input).unwrap();
        let sink = net.add(sink::RingBuffer::new(&[10], 50)).unwrap();
        net.connect(OutPort { proc: netx.blocks[0].neuron, name: "s_out".into() }, &sink.a_in()).unwrap();
        let exe = net.compile(&RunConfig::fixed_pt()).unwrap();
        let kind = exe.processes.iter().find(|p| p.name == "layer0.synapse").unwrap().type_name.clone();
        let mut rt = Runtime::new(exe, RunConfig::fixed_pt().registry()).unwrap();
        rt.run(RunSteps::new(50)).unwrap();
        (kind, rt.get(&sink.data()).unwrap())
    };
    let (dense_kind, dense) = run(false);
    let (sparse_kind, sparse) = run(true);
    let _ = std::fs::remove_file(&path);
    assert_eq!((dense_kind.as_str(), sparse_kind.as_str()), ("DelayDense", "DelaySparse"));
    assert!(dense.sum() > 10.0, "the delayed layer spikes");
    assert_eq!(dense, sparse);
}

/// slayer's RF block (RF_PHASE neurons behind a complex dense layer) runs exactly as
/// lava-dl's netx runs it (`tools/oracle/netx_rf.py`), and survives write -> read.
#[test]
fn slayer_rf_layers_match_lava_dl_exactly() {
    let get = oracle_arrays("rf/rf.npz");
    let (input, rf, out) = (get("input"), get("rf"), get("out"));
    let run = run_oracle_network("rf/rf.net", &Options::default(), &input);
    assert_eq!(values(run.layer1()), rf.data);
    assert_eq!(values(run.out()), out.data);
    assert!(rf.data.iter().sum::<f64>() >= 5.0 && out.data.iter().sum::<f64>() >= 10.0);
    let mut layers = basalt_netx::read_layers(oracle_data("rf/rf.net")).unwrap();
    let path = write_and_reread(&layers, "rf");
    // The same layer typed `dense_comp` loads; without imaginary weights it is refused.
    layers[1].type_name = "dense_comp".into();
    basalt_netx::write(&path, &layers).unwrap();
    assert!(load(&path, &Options::default()).is_ok());
    if let basalt_netx::LayerKind::Dense { weight_imag, .. } = &mut layers[1].kind {
        *weight_imag = None;
    }
    basalt_netx::write(&path, &layers).unwrap();
    let Err(e) = load(&path, &Options::default()) else { panic!("dense_comp without weight/imag loaded") };
    assert!(e.to_string().contains("weight/imag"), "{e}");
    let _ = std::fs::remove_file(&path);
}

/// A slayer ALIF block (adaptive threshold and refractory state with 12-bit decays), which
/// lava-dl's netx cannot load, spikes exactly as slayer's own forward
/// (`tools/oracle/netx_alif.py`), and survives write -> read.
#[test]
fn slayer_alif_layers_match_slayer_exactly() {
    let get = oracle_arrays("alif/alif.npz");
    let (input, hidden, out) = (get("input"), get("hidden"), get("out"));
    let run = run_oracle_network("alif/alif.net", &Options::default(), &input);
    assert_eq!(values(&run.layers[0]), hidden.data);
    assert_eq!(values(run.out()), out.data);
    assert!(hidden.data.iter().sum::<f64>() >= 100.0 && out.data.iter().sum::<f64>() >= 20.0);
    let layers = basalt_netx::read_layers(oracle_data("alif/alif.net")).unwrap();
    assert!(
        matches!(layers[0].neuron.as_ref().unwrap().kind, basalt_netx::NeuronKind::Alif { vth_step, .. } if vth_step == 19.0)
    );
    let path = write_and_reread(&layers, "alif");
    // A periodic reset is a CUBA feature: asking for it on ALIF is a clear error.
    let Err(e) = load(&path, &Options { reset_interval: Some(8), ..Options::default() }) else {
        panic!("reset_interval on ALIF loaded")
    };
    let _ = std::fs::remove_file(&path);
    assert!(e.to_string().contains("layer 0") && e.to_string().contains("ALIF"), "{e}");
}

/// slayer's ConvT and Unpool blocks (`convT`, `unpool` layers, which lava-dl's netx cannot
/// load) run exactly as Lava runs the dense layers they equal
/// (`tools/oracle/netx_convt.py`), and survive write -> read.
#[test]
fn slayer_convt_and_unpool_layers_match_lava_running_the_equivalent_dense_layers() {
    let get = oracle_arrays("convt/convt.npz");
    let (input, convt, out) = (get("input"), get("convt"), get("out"));
    let run = run_oracle_network("convt/convt.net", &Options::default(), &input);
    let shapes: Vec<Vec<usize>> = run.layers.iter().map(|l| l.shape()[..l.ndim() - 1].to_vec()).collect();
    assert_eq!(shapes, vec![vec![3, 3, 2], vec![5, 5, 4], vec![10, 10, 4], vec![5]]);
    assert_eq!(run.synapse_types, vec!["ConvTranspose", "ConvTranspose", "Dense"]);
    // Lava's equivalent layer is flat in C-order (C, H, W); Basalt's is (X = W, Y = H, C).
    let steps = *input.shape.last().unwrap();
    let got = run.layer1();
    for c in 0..4 {
        for h in 0..5 {
            for w in 0..5 {
                for t in 0..steps {
                    let want = convt.data[((c * 5 + h) * 5 + w) * steps + t];
                    assert_eq!(got[[w, h, c, t]], want, "convT neuron (c {c}, h {h}, w {w}), step {t}");
                }
            }
        }
    }
    assert_eq!(values(run.out()), out.data);
    assert!(convt.data.iter().sum::<f64>() > 100.0 && out.data.iter().sum::<f64>() > 20.0);
    let layers = basalt_netx::read_layers(oracle_data("convt/convt.net")).unwrap();
    let _ = std::fs::remove_file(write_and_reread(&layers, "convt"));
}

/// A `concat` layer (skip connection; lava-dl's netx cannot load it) runs exactly as Lava
/// runs the network built by hand with two synapses into the last layer
/// (`tools/oracle/netx_concat.py`), and survives write -> read; swapping the concatenation
/// order changes the output.
#[test]
fn concat_skip_connections_match_lava_running_the_hand_built_network() {
    let get = oracle_arrays("concat/concat.npz");
    let (input, layer1, out) = (get("input"), get("layer1"), get("out"));
    let run = run_oracle_network("concat/concat.net", &Options::default(), &input);
    assert_eq!(run.layers.len(), 4, "input, two dense, the last dense: concat has no block");
    assert_eq!(values(run.layer1()), layer1.data);
    assert_eq!(values(run.out()), out.data);
    assert!(out.data.iter().sum::<f64>() >= 50.0 && out.data.contains(&0.0));
    let mut layers = basalt_netx::read_layers(oracle_data("concat/concat.net")).unwrap();
    assert_eq!(layers[3].kind, basalt_netx::LayerKind::Concat { layers: vec![1] });
    let path = write_and_reread(&layers, "concat");
    // A concat of layers that are not earlier blocks, or of the wrong size, is refused.
    for (ids, shape, needle) in [(vec![4], vec![13], "not an earlier built layer"), (vec![1], vec![12], "disagrees")] {
        layers[3].kind = basalt_netx::LayerKind::Concat { layers: ids };
        layers[3].shape = shape;
        basalt_netx::write(&path, &layers).unwrap();
        let Err(e) = load(&path, &Options::default()) else { panic!("a bad concat loaded") };
        assert!(e.to_string().contains("layer 3") && e.to_string().contains(needle), "{e}");
    }
    let _ = std::fs::remove_file(&path);
}

/// An `average` layer sums equal groups of the previous layer's output (slayer's Average
/// block flattens it in C-order (C, H, W)) and sends the sums one step later: checked
/// against the spikes of the pool oracle's 3x3x2 pool layer, recorded in the same run.
#[test]
fn average_layers_send_group_sums_of_the_previous_layer() {
    let mut layers = basalt_netx::read_layers(oracle_data("pool/pool.net")).unwrap();
    layers.truncate(2); // input (6x6x2) -> pool (3x3x2)
    layers.push(basalt_netx::LayerConfig {
        index: 2,
        type_name: "average".into(),
        kind: basalt_netx::LayerKind::Average { groups: 2 },
        shape: vec![2, 1, 1],
        neuron: None,
    });
    let path = write_and_reread(&layers, "average");
    let input = oracle_arrays("pool/pool.npz")("input");
    let steps = *input.shape.last().unwrap();
    let mut netx = load(&path, &Options::default()).unwrap();
    let _ = std::fs::remove_file(&path);
    let net = &mut netx.net;
    let src = net.add(source::RingBuffer::new(array(&input))).unwrap();
    net.connect(src.s_out(), &netx.input).unwrap();
    let pool_sink = net.add(sink::RingBuffer::new(&[3, 3, 2], steps)).unwrap();
    net.connect(netx.blocks[1].output.clone(), &pool_sink.a_in()).unwrap();
    let avg_sink = net.add(sink::RingBuffer::new(&[2], steps)).unwrap();
    net.connect(netx.output.clone(), &avg_sink.a_in()).unwrap();
    let mut rt = net.runtime(&RunConfig::fixed_pt()).unwrap();
    rt.run(RunSteps::new(steps as u64)).unwrap();
    let pool = rt.get(&pool_sink.data()).unwrap(); // (3, 3, 2, T)
    let avg = rt.get(&avg_sink.data()).unwrap(); // (2, T)
                                                 // With C outermost in CHW order, group g is channel g.
    let mut total = 0.0;
    for g in 0..2 {
        assert_eq!(avg[[g, 0]], 0.0);
        for t in 1..steps {
            let want: f64 = (0..3).flat_map(|x| (0..3).map(move |y| (x, y))).map(|(x, y)| pool[[x, y, g, t - 1]]).sum();
            assert_eq!(avg[[g, t]], want, "group {g}, step {t}");
            total += want;
        }
    }
    assert!(total > 20.0);
}
