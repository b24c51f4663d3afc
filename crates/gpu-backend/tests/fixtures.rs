//! lava-dl's netx ground truths and Lava's Conv goldens, run on the GPU: exact.

use std::path::PathBuf;
use std::sync::Arc;

use basalt_core::persist::npz;
use basalt_core::prelude::*;
use basalt_core::process::io::reset::Reset;
use basalt_gpu::{GpuDevice, GpuRuntime};
use basalt_netx::{load, Options};
use ndarray::{ArrayD, IxDyn};

fn gpu() -> Option<Arc<GpuDevice>> {
    match GpuDevice::new() {
        Ok(d) => Some(Arc::new(d)),
        Err(e) if std::env::var_os("CI").is_some() => panic!("CI must provide a GPU adapter: {e}"),
        Err(e) => {
            eprintln!("skipping GPU test: {e}");
            None
        }
    }
}

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/lava-dl").join(rel)
}

fn npy(rel: &str) -> ArrayD<f64> {
    let a = npz::read_npy(&fixture(rel)).unwrap();
    ArrayD::from_shape_vec(IxDyn(&a.shape), a.data).unwrap()
}

#[test]
fn pilotnet_sdnn_on_the_gpu_matches_lava_dl_exactly() {
    let Some(gpu) = gpu() else { return };
    let mut netx = load(fixture("pilotnet_sdnn/network.net"), &Options::default()).unwrap();
    let net = &mut netx.net;
    let src = net.add(source::RingBuffer::new(npy("pilotnet_sdnn/input.npy"))).unwrap();
    net.connect(src.s_out(), &netx.input).unwrap();
    let sink = net.add(sink::RingBuffer::new(&[1], 9)).unwrap();
    net.connect(netx.output.clone(), &sink.a_in()).unwrap();
    let exe = net.compile(&RunConfig::fixed_pt()).unwrap();
    let mut rt = GpuRuntime::new(&exe, gpu).unwrap();
    rt.run(9).unwrap();
    let got: Vec<f64> = rt.get(&sink.data()).unwrap().iter().copied().collect();
    let want: Vec<f64> = npy("pilotnet_sdnn/output.npy").iter().copied().collect();
    assert_eq!(got, want);
}

/// PilotNet (Conv, sigma-delta neurons, flattens) as a batch of three copies sharing its
/// weights: copy 0 reads lava-dl's input and gives lava-dl's output; copies 1 and 2 read
/// the image mirrored and halved, and give what the CPU gives for those inputs.
#[test]
fn pilotnet_sdnn_batch_on_the_gpu_matches_lava_dl_and_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let mut netx = load(fixture("pilotnet_sdnn/network.net"), &Options::default()).unwrap();
    let net = &mut netx.net;
    let x = npy("pilotnet_sdnn/input.npy");
    let src = net.add(source::RingBuffer::new(x.clone())).unwrap();
    net.connect(src.s_out(), &netx.input).unwrap();
    let sink = net.add(sink::RingBuffer::new(&[1], 9)).unwrap();
    net.connect(netx.output.clone(), &sink.a_in()).unwrap();
    let exe = net.compile(&RunConfig::fixed_pt()).unwrap();
    let mut mirrored = x.clone();
    mirrored.invert_axis(ndarray::Axis(0));
    let halved = x.mapv(|v| (v / 2.0).trunc());
    let inputs = [x, mirrored, halved];
    let mut rt = GpuRuntime::with_batch(&exe, gpu, 3).unwrap();
    let views: Vec<_> = inputs.iter().map(|a| a.view()).collect();
    rt.set(&src.data(), &ndarray::stack(ndarray::Axis(0), &views).unwrap()).unwrap();
    rt.run(9).unwrap();
    let got = rt.get(&sink.data()).unwrap();
    assert_eq!(got.shape(), &[3, 1, 9]);
    let want: Vec<f64> = npy("pilotnet_sdnn/output.npy").iter().copied().collect();
    assert_eq!(got.index_axis(ndarray::Axis(0), 0).iter().copied().collect::<Vec<_>>(), want, "copy 0 vs lava-dl");
    for (k, input) in inputs.iter().enumerate().skip(1) {
        let mut cpu = Runtime::new(exe.clone(), RunConfig::fixed_pt().registry()).unwrap();
        cpu.set(&src.data(), input.clone()).unwrap();
        cpu.run(RunSteps::new(9)).unwrap();
        let expected = cpu.get(&sink.data()).unwrap();
        assert_ne!(expected.iter().copied().collect::<Vec<_>>(), want, "copy {k}'s input changes the output");
        assert_eq!(got.index_axis(ndarray::Axis(0), k), expected, "copy {k} vs the CPU");
    }
}

#[test]
fn tinynet_with_resets_on_the_gpu_matches_lava_dl_exactly() {
    let Some(gpu) = gpu() else { return };
    let mut netx = load(fixture("tinynet/tiny.net"), &Options::default()).unwrap();
    let net = &mut netx.net;
    net.set_init(&VarRef { proc: netx.blocks[0].neuron, name: "bias_mant".into() }, npy("tinynet/input_bias.npy"))
        .unwrap();
    for (i, b) in netx.blocks.iter().enumerate() {
        let offset = (i as i64 - 1).rem_euclid(17) as u64;
        for var in ["u", "v"] {
            Reset::attach(net, &VarRef { proc: b.neuron, name: var.into() }, 0.0, 17, offset).unwrap();
        }
    }
    let sink = net.add(sink::RingBuffer::new(&[1, 1, 36], 20)).unwrap();
    net.connect(netx.output.clone(), &sink.a_in()).unwrap();
    let exe = net.compile(&RunConfig::fixed_pt()).unwrap();
    let mut rt = GpuRuntime::new(&exe, gpu).unwrap();
    rt.run(20).unwrap();
    let got = rt.get(&sink.data()).unwrap();
    let want = npy("tinynet/output.npy"); // (1, 36, 1, 1, 16)
    for c in 0..36 {
        for t in 1..16 {
            assert_eq!(got[[0, 0, c, t + 1]], want[[0, c, 0, 0, t]], "channel {c}, step {}", t + 2);
        }
    }
}

#[test]
fn conv_goldens_from_lava_on_the_gpu() {
    let Some(gpu) = gpu() else { return };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../core/tests/data/golden");
    for (case, fixed, tol) in [
        ("conv_float", false, 1e-4),
        ("conv_fixed_groups_asymmetric", true, 0.0),
        ("conv_fixed_graded_wraps_24_bits", true, 0.0),
    ] {
        let arrays = npz::read(&dir.join(format!("{case}.npz"))).unwrap();
        let get = |k: &str| arrays.iter().find(|a| a.name == k).unwrap().clone();
        let w = get("p_weight");
        let weight = ndarray::Array4::from_shape_vec((w.shape[0], w.shape[1], w.shape[2], w.shape[3]), w.data).unwrap();
        let input = get("in");
        let pair = |k: &str, d: usize| match arrays.iter().find(|a| a.name == format!("p_{k}")) {
            Some(a) if a.data.len() == 2 => [a.data[0] as usize, a.data[1] as usize],
            Some(a) => [a.data[0] as usize; 2],
            None => [d; 2],
        };
        let groups = arrays.iter().find(|a| a.name == "p_groups").map_or(1, |a| a.data[0] as usize);
        let graded = input.data.iter().any(|&x| x != 0.0 && x != 1.0);
        let steps = input.shape[3];
        let conv = basalt_core::process::conv::Conv::new(weight, [input.shape[0], input.shape[1], input.shape[2]])
            .padding(pair("padding", 0))
            .stride(pair("stride", 1))
            .dilation(pair("dilation", 1))
            .groups(groups)
            .num_message_bits(if graded { 8 } else { 0 });
        let mut net = Network::new();
        let src = net
            .add(source::RingBuffer::new(ArrayD::from_shape_vec(IxDyn(&input.shape), input.data.clone()).unwrap()))
            .unwrap();
        let c = net.add(conv).unwrap();
        net.connect(src.s_out(), &c.s_in()).unwrap();
        let out_shape = net.out_port_shape(&c.a_out()).unwrap();
        let sink = net.add(sink::RingBuffer::new(&out_shape, steps)).unwrap();
        net.connect(c.a_out(), &sink.a_in()).unwrap();
        let cfg = if fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
        let exe = net.compile(&cfg).unwrap();
        let mut rt = GpuRuntime::new(&exe, gpu.clone()).unwrap();
        rt.run(steps as u64).unwrap();
        let got = rt.get(&sink.data()).unwrap(); // (X, Y, C, steps)
        let want = get("a_out"); // (steps, X, Y, C)
        let per_step = want.data.len() / steps;
        for t in 0..steps {
            for e in 0..per_step {
                let (g, w) = (got.as_slice().unwrap()[e * steps + t], want.data[t * per_step + e]);
                assert!(
                    (g - w).abs() <= tol * w.abs().max(1.0),
                    "{case}: step {} element {e}: gpu {g}, Lava {w}",
                    t + 1
                );
            }
        }
    }
}

/// Runs an oracle network of `crates/netx/tests/data/<name>` (`tools/oracle/netx_<name>.py`)
/// on the GPU; returns its output spikes and the ground truth's.
fn oracle_network_on_the_gpu(gpu: Arc<GpuDevice>, name: &str) -> (Vec<f64>, Vec<f64>) {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../netx/tests/data").join(name);
    let mut netx = load(data.join(format!("{name}.net")), &Options::default()).unwrap();
    let truth = npz::read(&data.join(format!("{name}.npz"))).unwrap();
    let get = |n: &str| truth.iter().find(|a| a.name == n).unwrap_or_else(|| panic!("{n}")).clone();
    let (input, out) = (get("input"), get("out"));
    let steps = *input.shape.last().unwrap();
    let out_shape = &out.shape[..out.shape.len() - 1];
    let net = &mut netx.net;
    let src = net.add(source::RingBuffer::new(ArrayD::from_shape_vec(IxDyn(&input.shape), input.data).unwrap()));
    net.connect(src.unwrap().s_out(), &netx.input).unwrap();
    let sink = net.add(sink::RingBuffer::new(out_shape, steps)).unwrap();
    net.connect(netx.output.clone(), &sink.a_in()).unwrap();
    let exe = net.compile(&RunConfig::fixed_pt()).unwrap();
    let mut rt = GpuRuntime::new(&exe, gpu).unwrap();
    rt.run(steps as u64).unwrap();
    (rt.get(&sink.data()).unwrap().iter().copied().collect(), out.data)
}

#[test]
fn slayer_pool_network_on_the_gpu_matches_lava_exactly() {
    let Some(gpu) = gpu() else { return };
    let (got, want) = oracle_network_on_the_gpu(gpu, "pool");
    assert_eq!(got, want);
}

#[test]
fn slayer_dense_rec_network_on_the_gpu_matches_lava_dl_exactly() {
    let Some(gpu) = gpu() else { return };
    let (got, want) = oracle_network_on_the_gpu(gpu, "dense_rec");
    assert_eq!(got, want);
}

/// lava-dl's dense block test (Dense 200 -> 256 LIF, vth 6, du 4095, dv 415, 2000 steps of
/// `in.npy`) on the GPU: the spikes equal `out.npy`.
#[test]
fn dense_block_2000_steps_on_the_gpu_matches_lava_dl_exactly() {
    let Some(gpu) = gpu() else { return };
    let w = npz::read_npy(&fixture("dense/weight.npy")).unwrap();
    let opt = basalt_netx::weights::optimize_weight_bits(&w.data);
    let weights = ndarray::Array2::from_shape_vec((w.shape[0], w.shape[1]), opt.weights).unwrap();
    let mut net = Network::new();
    let src = net.add(source::RingBuffer::new(npy("dense/in.npy"))).unwrap();
    let dense = net.add(Dense::new(weights).weight_exp(opt.weight_exp).num_weight_bits(opt.num_weight_bits)).unwrap();
    let lif = net.add(Lif::new(&[256]).vth(6.0).du(4095.0).dv(415.0).bias_exp(6.0)).unwrap();
    net.connect(src.s_out(), &dense.s_in()).unwrap();
    net.connect(dense.a_out(), &lif.a_in()).unwrap();
    let sink = net.add(sink::RingBuffer::new(&[256], 2000)).unwrap();
    net.connect(lif.s_out(), &sink.a_in()).unwrap();
    let exe = net.compile(&RunConfig::fixed_pt()).unwrap();
    let mut rt = GpuRuntime::new(&exe, gpu).unwrap();
    rt.run(2000).unwrap();
    let got = rt.get(&sink.data()).unwrap();
    let want = npy("dense/out.npy");
    assert_eq!(got.shape(), want.shape());
    let diff = got.iter().zip(want.iter()).filter(|(a, b)| a != b).count();
    assert_eq!(diff, 0, "{diff} of {} spike values differ", want.len());
    assert!(want.iter().any(|&s| s != 0.0));
}

/// lava-dl's tiny_cuba_slayer network (trained and exported by slayer) on the GPU: hidden
/// and output spikes equal Lava's (`hidden_lava`, `out_lava`).
#[test]
fn tiny_cuba_slayer_network_on_the_gpu_matches_lava_exactly() {
    let Some(gpu) = gpu() else { return };
    let io = npz::read(&fixture("tiny_cuba_slayer/io.npz")).unwrap();
    let get = |k: &str| io.iter().find(|a| a.name == k).unwrap().clone();
    let mut netx = load(fixture("tiny_cuba_slayer/network.net"), &Options::default()).unwrap();
    let (x, steps) = (get("x"), 55); // x: (20, 50), padded with silence to 55 steps
    let mut padded = vec![0.0; 20 * steps];
    for i in 0..20 {
        padded[i * steps..i * steps + 50].copy_from_slice(&x.data[i * 50..i * 50 + 50]);
    }
    let net = &mut netx.net;
    let src = net.add(source::RingBuffer::new(ArrayD::from_shape_vec(IxDyn(&[20, steps]), padded).unwrap())).unwrap();
    net.connect(src.s_out(), &netx.input).unwrap();
    let mut sinks = Vec::new();
    for b in &netx.blocks {
        let sink = net.add(sink::RingBuffer::new(&b.shape, steps)).unwrap();
        net.connect(b.output.clone(), &sink.a_in()).unwrap();
        sinks.push(sink);
    }
    let exe = net.compile(&RunConfig::fixed_pt()).unwrap();
    let mut rt = GpuRuntime::new(&exe, gpu).unwrap();
    rt.run(steps as u64).unwrap();
    for (sink, key) in sinks.iter().zip(["hidden_lava", "out_lava"]) {
        let got: Vec<f64> = rt.get(&sink.data()).unwrap().iter().copied().collect();
        assert_eq!(got, get(key).data, "{key}");
    }
    assert!(get("out_lava").data.iter().any(|&s| s != 0.0));
}

/// slayer's ConvT and Unpool layers (ConvTranspose synapses) on the GPU: the convT oracle
/// network's output equals Lava's.
#[test]
fn slayer_convt_network_on_the_gpu_matches_lava_exactly() {
    let Some(gpu) = gpu() else { return };
    let (got, want) = oracle_network_on_the_gpu(gpu, "convt");
    assert_eq!(got, want);
}

/// A float ConvTranspose network (graded random input, asymmetric stride, padding and
/// dilation, two groups) on the GPU agrees with the CPU within 1e-5 relative.
#[test]
fn float_conv_transpose_on_the_gpu_agrees_with_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut rand = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let w = ndarray::Array4::from_shape_fn((6, 3, 2, 2), |_| rand() * 2.0 - 1.0);
    let x = ArrayD::from_shape_fn(IxDyn(&[4, 4, 6, 5]), |_| if rand() < 0.5 { rand() * 3.0 } else { 0.0 });
    let mut net = Network::new();
    let src = net.add(source::RingBuffer::new(x)).unwrap();
    let t = basalt_core::process::conv::Conv::new(w, [4, 4, 6])
        .stride([2, 1])
        .padding([1, 0])
        .dilation([1, 2])
        .groups(2)
        .num_message_bits(16)
        .transposed();
    let t = net.add(t).unwrap();
    net.connect(src.s_out(), &t.s_in()).unwrap();
    let sink = net.add(sink::RingBuffer::new(&[7, 6, 4], 5)).unwrap();
    net.connect(t.a_out(), &sink.a_in()).unwrap();
    let cfg = RunConfig::floating_pt();
    let exe = net.compile(&cfg).unwrap();
    let mut g = GpuRuntime::new(&exe, gpu).unwrap();
    let mut c = Runtime::new(exe, cfg.registry()).unwrap();
    g.run(5).unwrap();
    c.run(RunSteps::new(5)).unwrap();
    let (cpu, gpu) = (c.get(&sink.data()).unwrap(), g.get(&sink.data()).unwrap());
    assert!(cpu.iter().filter(|&&v| v != 0.0).count() > 100);
    for (a, b) in cpu.iter().zip(gpu.iter()) {
        assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "cpu {a}, gpu {b}");
    }
}

/// A netx `concat` skip connection (one concatenating port expression into a Dense) on the
/// GPU: the concat oracle network's output equals Lava's.
#[test]
fn concat_network_on_the_gpu_matches_lava_exactly() {
    let Some(gpu) = gpu() else { return };
    let (got, want) = oracle_network_on_the_gpu(gpu, "concat");
    assert_eq!(got, want);
}

/// slayer's ALIF layer (Basalt `Alif`) on the GPU: the ALIF oracle network's output equals
/// slayer's forward.
#[test]
fn slayer_alif_network_on_the_gpu_matches_slayer_exactly() {
    let Some(gpu) = gpu() else { return };
    let (got, want) = oracle_network_on_the_gpu(gpu, "alif");
    assert_eq!(got, want);
}

/// An Alif population driven through a Dense by graded random input with random
/// parameters: fixed point bit-exact on the GPU (u, v, θ, r, spikes), float within 1e-5.
#[test]
fn random_alif_networks_on_the_gpu_agree_with_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let mut seed = 0x1234_5678_9ABC_DEF1u64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let steps = 60;
    for fixed in [true, false] {
        // Fixed: integer weights, inputs, 12-bit decays and mantissas; float: fractions.
        let (scale, unit) = if fixed { (100.0, 4096.0) } else { (1.0, 1.0) };
        let q = |x: f64| if fixed { x.floor() } else { x };
        let x = ArrayD::from_shape_fn(IxDyn(&[12, steps]), |_| if rand() < 0.4 { q(rand() * scale) } else { 0.0 });
        let w = ndarray::Array2::from_shape_fn((8, 12), |_| q((rand() * 1.5 - 0.3) * scale));
        let decay = |r: f64| q(r * unit);
        let alif = basalt_core::process::alif::Alif::new(&[8])
            .du(decay(0.1 + 0.4 * rand()))
            .dv(decay(0.3 * rand()))
            .dtheta(decay(0.2 * rand()))
            .dr(decay(0.3 * rand()))
            .vth(if fixed { 40000.0 } else { 15.0 })
            .vth_step(if fixed { 20000.0 } else { 8.0 })
            .bias_mant(q(0.05 * scale))
            .bias_exp(if fixed { 2.0 } else { 0.0 });
        let mut net = Network::new();
        let src = net.add(source::RingBuffer::new(x)).unwrap();
        let dense = net.add(Dense::new(w).num_message_bits(16)).unwrap();
        let alif = net.add(alif).unwrap();
        net.connect(src.s_out(), &dense.s_in()).unwrap();
        net.connect(dense.a_out(), &alif.a_in()).unwrap();
        let sink = net.add(sink::RingBuffer::new(&[8], steps)).unwrap();
        net.connect(alif.s_out(), &sink.a_in()).unwrap();
        let cfg = if fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
        let exe = net.compile(&cfg).unwrap();
        let mut g = GpuRuntime::new(&exe, gpu.clone()).unwrap();
        let mut c = Runtime::new(exe, cfg.registry()).unwrap();
        g.run(steps as u64).unwrap();
        c.run(RunSteps::new(steps as u64)).unwrap();
        let spikes = c.get(&sink.data()).unwrap();
        let total = spikes.sum();
        assert!(total >= 20.0 && total <= 0.8 * (8 * steps) as f64, "fixed = {fixed}: {total} spikes");
        assert_eq!(spikes, g.get(&sink.data()).unwrap(), "fixed = {fixed}: spikes");
        for var in [alif.u(), alif.v(), alif.theta(), alif.r()] {
            let (cpu, gpu) = (c.get(&var).unwrap(), g.get(&var).unwrap());
            for (a, b) in cpu.iter().zip(gpu.iter()) {
                let tol = if fixed { 0.0 } else { 1e-5 * a.abs().max(1.0) };
                assert!((a - b).abs() <= tol, "fixed = {fixed}: {}: cpu {a}, gpu {b}", var.name);
            }
        }
    }
}
