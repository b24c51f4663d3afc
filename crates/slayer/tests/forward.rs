//! slayer's forward reproduced exactly, and the deploy half of train -> export -> deploy:
//! an exported network's Process simulation spikes exactly as the slayer blocks.

use std::path::PathBuf;

use basalt_core::persist::{npz, NamedArray};
use basalt_core::prelude::*;
use basalt_slayer::{Device, Network, SlayerError, Tensor, TensorData};
use ndarray::{ArrayD, IxDyn};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/lava-dl").join(rel)
}

fn io(name: &str) -> NamedArray {
    let arrays = npz::read(&fixture("tiny_cuba_slayer/io.npz")).unwrap();
    arrays.into_iter().find(|a| a.name == name).unwrap()
}

fn tensor(a: &NamedArray, device: &Device) -> Tensor<3> {
    let data: Vec<f32> = a.data.iter().map(|&x| x as f32).collect();
    Tensor::from_data(TensorData::new(data, [1, a.shape[0], a.shape[1]]), device)
}

fn values(t: &Tensor<3>) -> Vec<f64> {
    t.clone().try_into_vec_as::<f32>().unwrap().into_iter().map(f64::from).collect()
}

/// lava-dl's tiny_cuba_slayer network (20 -> 10 -> 2 CUBA, trained and exported by slayer):
/// our blocks' forward on its `x` equals slayer's `hidden_slayer` and `out_slayer` exactly.
#[test]
fn tiny_cuba_forward_equals_slayer_exactly() {
    let device = Device::default();
    let net = Network::from_netx(fixture("tiny_cuba_slayer/network.net"), &device).unwrap();
    assert_eq!(net.blocks.len(), 2);
    let outs = net.forward(tensor(&io("x"), &device)).unwrap();
    let (hidden, out) = (io("hidden_slayer"), io("out_slayer"));
    assert_eq!(values(&outs[0]), hidden.data);
    assert_eq!(values(&outs[1]), out.data);
    assert!(out.data.iter().sum::<f64>() > 0.0);
}

/// Export -> basalt-netx -> Process simulation in fixed point: on held-out random inputs,
/// every layer spikes exactly as the slayer forward (no time offset), and the exported file
/// holds the same layers as the one read.
#[test]
fn exported_networks_simulate_to_the_same_spikes() {
    let device = Device::default();
    let net = Network::from_netx(fixture("tiny_cuba_slayer/network.net"), &device).unwrap();
    let path = std::env::temp_dir().join(format!("basalt-slayer-export-{}.net", std::process::id()));
    net.export_netx(&path).unwrap();
    assert_eq!(
        basalt_netx::read_layers(&path).unwrap(),
        basalt_netx::read_layers(fixture("tiny_cuba_slayer/network.net")).unwrap()
    );
    let steps = 80;
    let mut seed = 0x0005_DEEC_E66D_u64;
    let mut total = 0.0;
    for sample in 0..3 {
        let x: Vec<f64> = (0..20 * steps)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                f64::from(u8::from((seed >> 33) % 100 < 15 + 10 * sample))
            })
            .collect();
        let xs = NamedArray { name: "x".into(), shape: vec![20, steps], dtype: DType::F64, data: x.clone() };
        let want = net.forward(tensor(&xs, &device)).unwrap();
        let mut netx = basalt_netx::load(&path, &basalt_netx::Options::default()).unwrap();
        let sim = &mut netx.net;
        let src = sim.add(source::RingBuffer::new(ArrayD::from_shape_vec(IxDyn(&[20, steps]), x).unwrap())).unwrap();
        sim.connect(src.s_out(), &netx.input).unwrap();
        let mut sinks = Vec::new();
        for b in &netx.blocks {
            let sink = sim.add(sink::RingBuffer::new(&b.shape, steps)).unwrap();
            sim.connect(b.output.clone(), &sink.a_in()).unwrap();
            sinks.push(sink);
        }
        let mut rt = sim.runtime(&RunConfig::fixed_pt()).unwrap();
        rt.run(RunSteps::new(steps as u64)).unwrap();
        for (layer, (sink, w)) in sinks.iter().zip(&want).enumerate() {
            let got: Vec<f64> = rt.get(&sink.data()).unwrap().iter().copied().collect();
            assert_eq!(got, values(w), "sample {sample}, layer {layer}");
        }
        total += values(&want[1]).iter().sum::<f64>();
    }
    let _ = std::fs::remove_file(&path);
    assert!(total > 10.0, "the output layer spikes ({total})");
}

#[test]
fn bad_inputs_are_clear_errors() {
    let device = Device::default();
    let net = Network::from_netx(fixture("tiny_cuba_slayer/network.net"), &device).unwrap();
    let wrong = Tensor::<3>::zeros([1, 7, 5], &device);
    let e = net.forward(wrong).unwrap_err();
    assert!(e.to_string().contains("expected shape (batch, 20, time), got [1, 7, 5]"), "{e}");
    let e = Network::from_netx(fixture("tinynet/tiny.net"), &device).unwrap_err();
    assert!(matches!(e, SlayerError::Unsupported { layer: 0, .. }), "{e}");
    assert!(basalt_slayer::CubaNeuron::new(f64::NAN, 0.1, 0.1).is_err());
}

/// The netx ALIF oracle (`tools/oracle/netx_alif.py`: alif.Dense 12 -> 8 -> cuba.Dense 8 -> 3
/// exported by slayer, with slayer's own forward spikes).
fn alif_oracle(name: &str) -> NamedArray {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../netx/tests/data/alif/alif.npz");
    npz::read(&path).unwrap().into_iter().find(|a| a.name == name).unwrap()
}

/// Back-propagates slayer's SpikeRate loss (true 0.2, false 0.03) of `label` through the
/// network of `net_path` on input `x`, after checking the training forward's spikes against
/// `hidden` and `out`; compares the loss and the gradients w.r.t. both weight matrices and
/// the input with slayer's (`tools/oracle/slayer_grads.py`) to 1e-5 of each gradient's
/// largest magnitude.
fn gradients_equal_slayers(net_path: PathBuf, x: &NamedArray, label: i64, spikes: [&NamedArray; 2], truth: &str) {
    let device = Device::default().autodiff();
    let net = Network::from_netx(net_path, &device).unwrap();
    let x = tensor(x, &device).require_grad();
    let outs = net.forward_train(x.clone()).unwrap();
    assert_eq!(values(&outs[0]), spikes[0].data);
    assert_eq!(values(&outs[1]), spikes[1].data);
    let labels = Tensor::<1, burn::tensor::Int>::from_data(TensorData::new(vec![label], [1]), &device);
    let loss = basalt_slayer::SpikeRate::new(0.2, 0.03).unwrap().forward(outs[1].clone(), labels).unwrap();
    let truth = npz::read(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(truth)).unwrap();
    let want = |k: &str| truth.iter().find(|a| a.name == k).unwrap().data.clone();
    let got_loss = loss.clone().try_into_vec_as::<f32>().unwrap()[0];
    assert!((f64::from(got_loss) - want("loss")[0]).abs() < 1e-6, "loss {got_loss}");
    let grads = loss.backward();
    let close = |name: &str, got: Vec<f32>, want: Vec<f64>| {
        let peak = want.iter().fold(0f64, |m, w| m.max(w.abs()));
        assert!(peak > 0.0, "{name}: the truth has gradients");
        assert_eq!(got.len(), want.len(), "{name}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((f64::from(*g) - w).abs() <= 1e-5 * peak, "{name}[{i}]: {g} vs slayer {w} (peak {peak})");
        }
    };
    for (k, key) in ["w0", "w1"].iter().enumerate() {
        let g = net.blocks[k].synapse.weight.grad(&grads).unwrap();
        close(key, g.try_into_vec_as::<f32>().unwrap(), want(key));
    }
    close("x", x.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(), want("x"));
}

/// CUBA: the tiny_cuba_slayer network on its `x`, label 1.
#[test]
fn surrogate_gradients_equal_slayers() {
    let (hidden, out) = (io("hidden_slayer"), io("out_slayer"));
    gradients_equal_slayers(fixture("tiny_cuba_slayer/network.net"), &io("x"), 1, [&hidden, &out], "grads.npz");
}

/// ALIF: slayer's alif block forward reproduced exactly (adaptive threshold and refractory
/// state, no voltage reset), and its gradients (label 2).
#[test]
fn alif_forward_and_gradients_equal_slayers() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../netx/tests/data/alif/alif.net");
    let (input, hidden, out) = (alif_oracle("input"), alif_oracle("hidden"), alif_oracle("out"));
    let device = Device::default();
    let net = Network::from_netx(&path, &device).unwrap();
    let outs = net.forward(tensor(&input, &device)).unwrap();
    assert_eq!(values(&outs[0]), hidden.data);
    assert_eq!(values(&outs[1]), out.data);
    assert!(hidden.data.iter().sum::<f64>() > 100.0);
    // Export keeps the ALIF parameters.
    let copy = std::env::temp_dir().join(format!("basalt-slayer-alif-{}.net", std::process::id()));
    net.export_netx(&copy).unwrap();
    let (a, b) = (basalt_netx::read_layers(&copy).unwrap(), basalt_netx::read_layers(&path).unwrap());
    let _ = std::fs::remove_file(&copy);
    assert_eq!(a[0].neuron, b[0].neuron);
    gradients_equal_slayers(path, &input, 2, [&hidden, &out], "grads_alif.npz");
}

/// Surrogate-gradient training learns: 12 epochs on the digits' first 1000 images (rate
/// coded, 32 steps, 64 -> 64 -> 10 CUBA, Adam through the Assistant) take the 300 held-out
/// images from chance (~10 %) to at least 80 % (83 % here); the exported network's Process simulation
/// then spikes exactly as the trained model on held-out images.
#[test]
fn training_learns_digits_and_deploys_identically() {
    use basalt_slayer::train::{rate_encode, Assistant, LearningStat};
    let data = npz::read(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/digits.npz")).unwrap();
    let get = |k: &str| data.iter().find(|a| a.name == k).unwrap().data.clone();
    let (images, labels) = (get("images"), get("labels"));
    let steps = 32;
    let device = Device::default().autodiff();
    device.seed(3);
    let batch = |range: std::ops::Range<usize>| {
        let x: Vec<f32> = range.clone().flat_map(|i| rate_encode(&images[i * 64..(i + 1) * 64], 16.0, steps)).collect();
        let y: Vec<i64> = range.clone().map(|i| labels[i] as i64).collect();
        (
            Tensor::<3>::from_data(TensorData::new(x, [range.len(), 64, steps]), &device),
            Tensor::<1, burn::tensor::Int>::from_data(TensorData::new(y, [range.len()]), &device),
        )
    };
    let neuron = basalt_slayer::CubaNeuron::new(1.25, 0.25, 0.03).unwrap().surrogate(0.03, 3.0);
    let mut net = Network::dense(&[64, 64, 10], &neuron, 1.0, &device);
    let mut assistant = Assistant::new(basalt_slayer::SpikeRate::new(0.2, 0.03).unwrap(), 3e-3);
    let evaluate = |net: &Network, assistant: &Assistant| {
        let mut held_out = LearningStat::default();
        let (x, y) = batch(1000..1300);
        assistant.test(net, x, y, &mut held_out).unwrap();
        held_out.accuracy()
    };
    let before = evaluate(&net, &assistant);
    for _ in 0..12 {
        let mut stat = LearningStat::default();
        for start in (0..1000).step_by(32) {
            let (x, y) = batch(start..(start + 32).min(1000));
            net = assistant.train(net, x, y, &mut stat).unwrap();
        }
    }
    let after = evaluate(&net, &assistant);
    assert!(before < 0.3 && after >= 0.8, "held-out accuracy {before} -> {after}");
    // Deploy: the exported file's Process simulation equals the model on 5 held-out images.
    let path = std::env::temp_dir().join(format!("basalt-slayer-digits-{}.net", std::process::id()));
    net.export_netx(&path).unwrap();
    let (x, _) = batch(1300..1305);
    let inputs = values(&x);
    let want = values(net.forward(x).unwrap().last().unwrap());
    for k in 0..5 {
        let mut netx = basalt_netx::load(&path, &basalt_netx::Options::default()).unwrap();
        let sim = &mut netx.net;
        let frame = inputs[k * 64 * steps..(k + 1) * 64 * steps].to_vec();
        let src =
            sim.add(source::RingBuffer::new(ArrayD::from_shape_vec(IxDyn(&[64, steps]), frame).unwrap())).unwrap();
        sim.connect(src.s_out(), &netx.input).unwrap();
        let out = sim.add(sink::RingBuffer::new(&[10], steps)).unwrap();
        sim.connect(netx.output.clone(), &out.a_in()).unwrap();
        let mut rt = sim.runtime(&RunConfig::fixed_pt()).unwrap();
        rt.run(RunSteps::new(steps as u64)).unwrap();
        let got: Vec<f64> = rt.get(&out.data()).unwrap().iter().copied().collect();
        assert_eq!(got, want[k * 10 * steps..(k + 1) * 10 * steps], "held-out image {k}");
    }
    let _ = std::fs::remove_file(&path);
}

/// slayer's losses (`tools/oracle/slayer_losses.py`): SpikeMax (probability and logsoftmax),
/// SpikeTime (time constant 5, length 20) and SpikeRate on random spikes: values to 1e-6
/// relative, gradients w.r.t. the spikes to 1e-5 of their largest magnitude.
#[test]
fn losses_and_their_gradients_equal_slayers() {
    use basalt_slayer::{SpikeMax, SpikeMaxMode, SpikeRate, SpikeTime};
    let truth = npz::read(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/losses.npz")).unwrap();
    let get = |k: &str| truth.iter().find(|a| a.name == k).unwrap().clone();
    let device = Device::default().autodiff();
    let as3 = |a: &NamedArray| {
        Tensor::<3>::from_data(
            TensorData::new(a.data.iter().map(|&x| x as f32).collect::<Vec<_>>(), [3, 4, 30]),
            &device,
        )
    };
    let labels = || {
        let l: Vec<i64> = get("labels").data.iter().map(|&x| x as i64).collect();
        Tensor::<1, burn::tensor::Int>::from_data(TensorData::new(l, [3]), &device)
    };
    type LossFn<'a> = Box<dyn Fn(Tensor<3>) -> Tensor<1> + 'a>;
    let desired = as3(&get("desired"));
    let cases: Vec<(&str, LossFn<'_>)> = vec![
        ("max_probability", Box::new(|x| SpikeMax { mode: SpikeMaxMode::Probability }.forward(x, labels()).unwrap())),
        ("max_logsoftmax", Box::new(|x| SpikeMax { mode: SpikeMaxMode::LogSoftmax }.forward(x, labels()).unwrap())),
        ("time", Box::new(move |x| SpikeTime { time_constant: 5.0, length: 20 }.forward(x, desired.clone()).unwrap())),
        ("rate", Box::new(|x| SpikeRate::new(0.2, 0.03).unwrap().forward(x, labels()).unwrap())),
    ];
    for (name, f) in cases {
        let x = as3(&get("spikes")).require_grad();
        let loss = f(x.clone());
        let value = f64::from(loss.clone().try_into_vec_as::<f32>().unwrap()[0]);
        let want = get(&format!("{name}_loss")).data[0];
        assert!((value - want).abs() <= 1e-6 * want.abs().max(1.0), "{name}: loss {value} vs slayer {want}");
        let grad = x.grad(&loss.backward()).unwrap().try_into_vec_as::<f32>().unwrap();
        let want = get(&format!("{name}_grad")).data;
        let peak = want.iter().fold(0f64, |m, w| m.max(w.abs()));
        assert!(peak > 0.0);
        for (i, (g, w)) in grad.iter().zip(&want).enumerate() {
            assert!((f64::from(*g) - w).abs() <= 1e-5 * peak, "{name} grad[{i}]: {g} vs slayer {w}");
        }
    }
}

/// NMNIST event files (`tools/oracle/slayer_nmnist.py`: written by lava-dl's
/// `encode_2d_spikes`): decoded events and the binned (2, 8, 8, 40) tensor at sampling time
/// 1.5 ms equal `read_2d_spikes(...).to_tensor(...)`; a truncated file is a clear error.
#[test]
fn nmnist_events_read_and_bin_as_slayers() {
    use basalt_slayer::data::{bin_events, read_nmnist};
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/nmnist");
    let truth = npz::read(&dir.join("events.npz")).unwrap();
    let get = |k: &str| truth.iter().find(|a| a.name == k).unwrap().data.clone();
    let events = read_nmnist(dir.join("events.bin")).unwrap();
    assert_eq!(events.len(), 300);
    for (k, e) in events.iter().enumerate() {
        assert_eq!(
            [f64::from(e.x), f64::from(e.y), f64::from(e.polarity), e.t_ms],
            [get("x")[k], get("y")[k], get("p")[k], get("t")[k]],
            "event {k}"
        );
    }
    let frame: Vec<f64> = bin_events(&events, [2, 8, 8, 40], 1.5).into_iter().map(f64::from).collect();
    let want = get("frame");
    assert_eq!(frame.len(), want.len());
    for (i, (a, b)) in frame.iter().zip(&want).enumerate() {
        assert!((a - b).abs() < 1e-6, "frame[{i}]: {a} vs slayer {b}");
    }
    assert!(want.iter().filter(|&&v| v != 0.0).count() > 50);
    let bytes = std::fs::read(dir.join("events.bin")).unwrap();
    let cut = std::env::temp_dir().join(format!("basalt-nmnist-cut-{}.bin", std::process::id()));
    std::fs::write(&cut, &bytes[..bytes.len() - 2]).unwrap();
    let e = read_nmnist(&cut).unwrap_err();
    let _ = std::fs::remove_file(&cut);
    assert!(e.to_string().contains("truncated"), "{e}");
}

/// A NIR graph (lava-dl's tiny CUBA network through NIR with dt = 1 ms) loads as slayer
/// blocks whose forward equals slayer's exactly, and exports back to the same NIR graph;
/// a graph with what netx cannot hold is a clear error naming the node.
#[test]
fn nir_graphs_load_for_fine_tuning_and_export_back() {
    let device = Device::default();
    let layers = basalt_netx::read_layers(fixture("tiny_cuba_slayer/network.net")).unwrap();
    let graph = basalt_nir::netx_to_nir(&layers, 1e-3).unwrap();
    let net = Network::from_nir(&graph, 1e-3, &device).unwrap();
    let outs = net.forward(tensor(&io("x"), &device)).unwrap();
    assert_eq!(values(&outs[0]), io("hidden_slayer").data);
    assert_eq!(values(&outs[1]), io("out_slayer").data);
    assert_eq!(net.to_nir(1e-3).unwrap(), graph);
    let snn = basalt_nir::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../nir/tests/data/conv.nir")).unwrap();
    let e = Network::from_nir(&snn, 1e-3, &device).unwrap_err().to_string();
    assert!(e.contains("conv") || e.contains("Conv2d"), "{e}");
}
