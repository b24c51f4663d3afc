//! slayer's forward reproduced exactly, and the deploy half of train -> export -> deploy:
//! an exported network's Process simulation spikes exactly as the slayer blocks.

use std::path::PathBuf;

use basalt_core::persist::{npz, NamedArray};
use basalt_core::prelude::*;
use basalt_slayer::{Device, Network, SlayerError, Synapse, Tensor, TensorData};
use ndarray::{ArrayD, IxDyn};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/lava-dl").join(rel)
}

/// A file under this crate's `tests/data`.
fn test_data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rel)
}

/// The array `name` of the npz file at `path`.
fn npz_array(path: &std::path::Path, name: &str) -> NamedArray {
    npz::read(path).unwrap().into_iter().find(|a| a.name == name).unwrap()
}

fn io(name: &str) -> NamedArray {
    npz_array(&fixture("tiny_cuba_slayer/io.npz"), name)
}

/// `values` as an f32 tensor of `dims`.
fn f32_tensor<const D: usize>(values: &[f64], dims: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values.iter().map(|&x| x as f32).collect::<Vec<_>>(), dims), device)
}

/// Integer `values` (labels) as an Int tensor of `dims`.
fn int_tensor<const D: usize>(values: &[f64], dims: [usize; D], device: &Device) -> Tensor<D, burn::tensor::Int> {
    Tensor::from_data(TensorData::new(values.iter().map(|&x| x as i64).collect::<Vec<_>>(), dims), device)
}

/// A (neurons, time) array as a batch of one.
fn tensor(a: &NamedArray, device: &Device) -> Tensor<3> {
    f32_tensor(&a.data, [1, a.shape[0], a.shape[1]], device)
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
    // tinynet's conv layers carry a bias (a batch norm's): read as a norm, written back the
    // same; a bias slayer cannot have (odd, or per neuron) is refused.
    let mut layers = basalt_netx::read_layers(fixture("tinynet/tiny.net")).unwrap();
    let tiny = Network::from_layers(&layers, &device).unwrap();
    assert!(tiny.blocks.iter().all(|b| b.norm.is_some()));
    let bias = |l: &basalt_netx::LayerConfig| match &l.kind {
        basalt_netx::LayerKind::Conv { bias, .. } => bias.clone(),
        _ => None,
    };
    let written = tiny.netx_layers().unwrap();
    assert!(bias(&layers[1]).is_some_and(|b| b.len() == 24));
    assert_eq!(bias(&written[1]), bias(&layers[1]));
    assert_eq!(bias(&written[2]), bias(&layers[2]));
    if let basalt_netx::LayerKind::Conv { bias: Some(b), .. } = &mut layers[1].kind {
        b[0] = 3.0;
    }
    let e = Network::from_layers(&layers, &device).unwrap_err();
    assert!(matches!(e, SlayerError::Unsupported { layer: 1, .. }), "{e}");
    assert!(e.to_string().contains("3 is not a slayer batch-norm bias (an even integer in [-256, 254]"), "{e}");
    if let basalt_netx::LayerKind::Conv { bias: Some(b), .. } = &mut layers[1].kind {
        b.push(0.0);
    }
    let e = Network::from_layers(&layers, &device).unwrap_err();
    assert!(e.to_string().contains("25 values for 24 channels"), "{e}");
    // Convolutions and pools whose kernel does not fit, or whose groups do not divide.
    assert!(basalt_slayer::Pool::new([1, 1, 1], [3, 3], 1.0).is_err());
    let g = basalt_slayer::ConvGeometry {
        in_shape: [3, 4, 4],
        stride: [1, 1],
        padding: [0, 0],
        dilation: [1, 1],
        groups: 2,
    };
    let e = basalt_slayer::Conv::init(g, 4, [3, 3], 1.0, &device).unwrap_err();
    assert!(e.to_string().contains("groups (2) must divide the input channels (3) and the output channels (4)"), "{e}");
    assert!(basalt_slayer::CubaNeuron::new(f64::NAN, 0.1, 0.1).is_err());
    // Sigma-delta: a negative threshold, a network without outputs, inputs of the wrong size.
    let e = basalt_slayer::SigmaDeltaNeuron::new(-0.5).unwrap_err();
    assert!(e.to_string().contains("-0.5 is not a finite value >= 0"), "{e}");
    assert!(Network::sigma_delta(&[4], 0.1, 1.0, &device).is_err());
    let sd = Network::sigma_delta(&[4, 3], 0.1, 1.0, &device).unwrap();
    let e = sd.forward(Tensor::<3>::zeros([2, 5, 3], &device)).unwrap_err();
    assert!(e.to_string().contains("Input block input: expected shape (batch, 4, time), got [2, 5, 3]"), "{e}");
    // Delays: one per output neuron only; the wrong channel count; none on a conv export.
    let mut layers = basalt_netx::read_layers(test_data("delay_recurrent/delay.net")).unwrap();
    if let basalt_netx::LayerKind::Dense { delay: Some(d), .. } = &mut layers[1].kind {
        d.push(1.0);
    }
    let e = Network::from_layers(&layers, &device).unwrap_err();
    assert!(e.to_string().contains("layer 1 (dense): 13 delays: only one per output neuron"), "{e}");
    let cuba = || basalt_slayer::neuron::Neuron::Cuba(basalt_slayer::CubaNeuron::new(0.5, 0.1, 0.1).unwrap());
    let dense = |o: usize, i: usize| basalt_slayer::Dense::new(Tensor::zeros([o, i], &device));
    let three = || basalt_slayer::axon::AxonDelay::from_steps(&[1.0, 2.0, 3.0], &device).unwrap();
    let b = basalt_slayer::Block::new(Synapse::Dense(dense(4, 2)), cuba()).with_delay(three());
    let e = b.forward(Tensor::zeros([1, 2, 5], &device)).unwrap_err();
    assert!(e.to_string().contains("delayed input: expected shape (batch, a multiple of 3 channels, time)"), "{e}");
    assert!(basalt_slayer::axon::AxonDelay::from_steps(&[f64::NAN], &device).is_err());
    let g1 = basalt_slayer::ConvGeometry { groups: 1, ..g };
    let conv = basalt_slayer::Conv::init(g1, 3, [3, 3], 1.0, &device).unwrap();
    let net = Network {
        input: None,
        blocks: vec![basalt_slayer::Block::new(Synapse::Conv(conv), cuba()).with_delay(three())],
    };
    let e = net.netx_layers().unwrap_err();
    assert!(e.to_string().contains("cannot export a delay: netx has delays on dense layers only"), "{e}");
    // ConvT: weights of the input's channels; an overlapping unpool does not export.
    let e = basalt_slayer::Conv::new_transposed(Tensor::zeros([2, 3, 3, 3], &device), g1).unwrap_err();
    assert!(e.to_string().contains("ConvT weight: expected shape (3, Cout/1, kH, kW), got [2, 3, 3, 3]"), "{e}");
    let overlapping = basalt_slayer::Pool::from_netx([2, 4, 4], [3, 3], &[64.0; 9], [[1, 1], [0, 0], [1, 1]], true);
    let net =
        Network { input: None, blocks: vec![basalt_slayer::Block::new(Synapse::Pool(overlapping.unwrap()), cuba())] };
    let e = net.netx_layers().unwrap_err();
    assert!(e.to_string().contains("netx unpools each channel on its own"), "{e}");
    // Recurrent: square weights of the block's size, spiking neurons only.
    let e = basalt_slayer::Block::recurrent(dense(4, 2), dense(3, 3), cuba()).unwrap_err();
    assert!(e.to_string().contains("recurrent weights: expected shape (4, 4), got [3, 3]"), "{e}");
    let sd_neuron = basalt_slayer::neuron::Neuron::SigmaDelta(basalt_slayer::SigmaDeltaNeuron::new(0.1).unwrap());
    assert!(basalt_slayer::Block::recurrent(dense(4, 2), dense(4, 4), sd_neuron.clone()).is_err());
    // Batch norm and learnable decays: CUBA and ALIF blocks without recurrence; a norm with delays
    // does not export (netx would delay the synapses but not the bias).
    let e = basalt_slayer::Block::new(Synapse::Dense(dense(4, 2)), sd_neuron).with_norm(&device).unwrap_err();
    assert!(e.to_string().contains("batch norm: only CUBA and ALIF blocks without recurrence"), "{e}");
    let rec = basalt_slayer::Block::recurrent(dense(4, 2), dense(4, 4), cuba()).unwrap();
    assert!(rec.with_learnable_decays(&device).is_err());
    let four = basalt_slayer::axon::AxonDelay::from_steps(&[1.0; 4], &device).unwrap();
    let b = basalt_slayer::Block::new(Synapse::Dense(dense(4, 2)), cuba()).with_norm(&device).unwrap();
    let net = Network { input: None, blocks: vec![b.with_delay(four)] };
    let e = net.netx_layers().unwrap_err();
    assert!(e.to_string().contains("cannot export a batch norm (bias) with delays"), "{e}");
}

/// The netx ALIF oracle (`tools/oracle/netx_alif.py`: alif.Dense 12 -> 8 -> cuba.Dense 8 -> 3
/// exported by slayer, with slayer's own forward spikes).
fn alif_oracle(name: &str) -> NamedArray {
    npz_array(&test_data("../../../netx/tests/data/alif/alif.npz"), name)
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
    let truth = npz::read(&test_data(truth)).unwrap();
    let want = |k: &str| truth.iter().find(|a| a.name == k).unwrap().data.clone();
    let got_loss = loss.clone().try_into_vec_as::<f32>().unwrap()[0];
    assert!((f64::from(got_loss) - want("loss")[0]).abs() < 1e-6, "loss {got_loss}");
    let grads = loss.backward();
    for (k, key) in ["w0", "w1"].iter().enumerate() {
        let g = net.blocks[k].synapse.as_dense().unwrap().weight.grad(&grads).unwrap();
        assert_close(key, g.try_into_vec_as::<f32>().unwrap(), want(key));
    }
    assert_close("x", x.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(), want("x"));
}

/// The gradient of a dense or conv synapse's weights (flat), if it has one.
fn weight_grad(s: &Synapse, grads: &burn::tensor::Gradients) -> Option<Vec<f32>> {
    match s {
        Synapse::Dense(d) | Synapse::Complex(d) => d.weight.grad(grads).map(|g| g.try_into_vec_as::<f32>().unwrap()),
        Synapse::Conv(c) => c.weight.grad(grads).map(|g| g.try_into_vec_as::<f32>().unwrap()),
        Synapse::Pool(_) | Synapse::Average(_) | Synapse::TimeDecimation(_) => None,
    }
}

/// `got` equals slayer's gradient `want` to 1e-5 of its largest magnitude (which is not 0).
fn assert_close(name: &str, got: Vec<f32>, want: Vec<f64>) {
    let peak = want.iter().fold(0f64, |m, w| m.max(w.abs()));
    assert!(peak > 0.0, "{name}: the truth has gradients");
    assert_eq!(got.len(), want.len(), "{name}");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!((f64::from(*g) - w).abs() <= 1e-5 * peak, "{name}[{i}]: {g} vs slayer {w} (peak {peak})");
    }
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
        held_out.accuracy().unwrap()
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
/// SpikeTime (time constant 5, length 20), SpikeRate and SpikeMoid (α 0.2, θ 0.25, 0/1
/// targets), and with a moving window of 5 steps for per-step labels SpikeRate and SpikeMax
/// (logsoftmax), on random spikes: values to 1e-6 relative, gradients w.r.t. the spikes to
/// 1e-5 of their largest magnitude; MovingWindow's sliding rate and per-step predictions
/// equal slayer's.
#[test]
fn losses_and_their_gradients_equal_slayers() {
    use basalt_slayer::{SpikeMax, SpikeMaxMode, SpikeMoid, SpikeRate, SpikeTime};
    let truth = npz::read(&test_data("losses.npz")).unwrap();
    let get = |k: &str| truth.iter().find(|a| a.name == k).unwrap().clone();
    let device = Device::default().autodiff();
    let as3 = |a: &NamedArray| f32_tensor(&a.data, [3, 4, 30], &device);
    let labels = || int_tensor(&get("labels").data, [3], &device);
    type LossFn<'a> = Box<dyn Fn(Tensor<3>) -> Tensor<1> + 'a>;
    let desired = as3(&get("desired"));
    let window = basalt_slayer::classifier::MovingWindow::new(5).unwrap();
    let step_labels = || int_tensor(&get("step_labels").data, [3, 30], &device);
    let spikes = as3(&get("spikes"));
    assert_eq!(
        values(&window.rate(spikes.clone())),
        get("window_rate").data.iter().map(|&x| x as f32 as f64).collect::<Vec<_>>()
    );
    let predicted: Vec<f64> =
        window.predict(spikes).try_into_vec_as::<i64>().unwrap().into_iter().map(|p| p as f64).collect();
    assert_eq!(predicted, get("window_predict").data);
    let moid_target = f32_tensor(&get("moid_target").data, [3, 4], &device);
    let cases: Vec<(&str, LossFn<'_>)> = vec![
        ("max_probability", Box::new(|x| SpikeMax { mode: SpikeMaxMode::Probability }.forward(x, labels()).unwrap())),
        ("max_logsoftmax", Box::new(|x| SpikeMax { mode: SpikeMaxMode::LogSoftmax }.forward(x, labels()).unwrap())),
        ("time", Box::new(move |x| SpikeTime { time_constant: 5.0, length: 20 }.forward(x, desired.clone()).unwrap())),
        ("rate", Box::new(|x| SpikeRate::new(0.2, 0.03).unwrap().forward(x, labels()).unwrap())),
        ("moid", Box::new(move |x| SpikeMoid::new(0.2, 0.25).unwrap().forward(x, moid_target.clone()).unwrap())),
        (
            "rate_window",
            Box::new(|x| SpikeRate::new(0.2, 0.03).unwrap().forward_windowed(x, step_labels(), &window).unwrap()),
        ),
        (
            "max_window_logsoftmax",
            Box::new(|x| {
                SpikeMax { mode: SpikeMaxMode::LogSoftmax }.forward_windowed(x, step_labels(), &window).unwrap()
            }),
        ),
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
    let dir = test_data("nmnist");
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

/// The sigma-delta oracle (`tools/oracle/slayer_sigma_delta.py`: slayer's sigma_delta Input
/// -> Dense 12 -> 16 -> Dense 16 -> 8 -> Output 8 -> 3, exported by lava-dl's export_hdf5).
fn sd_oracle(name: &str) -> NamedArray {
    npz_array(&test_data("sigma_delta/sigma_delta.npz"), name)
}

fn sd_net_path() -> PathBuf {
    test_data("sigma_delta/sigma_delta.net")
}

/// A (batch, neurons, time) array as a tensor.
fn tensor_of(a: &NamedArray, device: &Device) -> Tensor<3> {
    f32_tensor(&a.data, [a.shape[0], a.shape[1], a.shape[2]], device)
}

/// A sigma-delta network read from lava-dl's own export: every block's messages on two
/// random-walk samples equal slayer's exactly, and the gradients of a squared-error loss
/// w.r.t. the three weight matrices and the input equal slayer's to 1e-5.
#[test]
fn sigma_delta_forward_and_gradients_equal_slayers() {
    let device = Device::default().autodiff();
    let net = Network::from_netx(sd_net_path(), &device).unwrap();
    assert!(net.input.is_some());
    assert_eq!(net.blocks.len(), 3);
    let x = tensor_of(&sd_oracle("x"), &device).require_grad();
    let exact = net.forward(x.clone()).unwrap();
    let outs = net.forward_train(x.clone()).unwrap();
    for (k, name) in ["input", "hidden1", "hidden2", "out"].iter().enumerate() {
        let want = sd_oracle(name).data;
        assert_eq!(values(&exact[k]), want, "{name}");
        assert_eq!(values(&outs[k]), want, "{name} (training forward)");
    }
    let target = tensor_of(&sd_oracle("target"), &device);
    let loss = (outs[3].clone() - target).powi_scalar(2).sum();
    let got_loss = f64::from(loss.clone().try_into_vec_as::<f32>().unwrap()[0]);
    let want_loss = sd_oracle("loss").data[0];
    assert!((got_loss - want_loss).abs() <= 1e-6 * want_loss, "loss {got_loss} vs slayer {want_loss}");
    let grads = loss.backward();
    for (k, key) in ["w0", "w1", "w2"].iter().enumerate() {
        let g = net.blocks[k].synapse.as_dense().unwrap().weight.grad(&grads).unwrap();
        assert_close(key, g.try_into_vec_as::<f32>().unwrap(), sd_oracle(key).data);
    }
    assert_close("x", x.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(), sd_oracle("grad_x").data);
}

/// Runs a netx file in Lava fixed point on one sample `x` (`in_shape` values in Lava's
/// order per step, `steps` steps, row-major with time last) followed by `hops` silent steps;
/// returns the output layer's s_out (outputs x (steps + hops)).
fn simulate(path: &std::path::Path, in_shape: &[usize], x: &[f64], steps: usize, hops: usize) -> Vec<f64> {
    let mut netx = basalt_netx::load(path, &basalt_netx::Options::default()).unwrap();
    let total = steps + hops;
    let n: usize = in_shape.iter().product();
    let mut padded = vec![0.0; n * total];
    for i in 0..n {
        padded[i * total..i * total + steps].copy_from_slice(&x[i * steps..(i + 1) * steps]);
    }
    let sim = &mut netx.net;
    let shape: Vec<usize> = in_shape.iter().copied().chain([total]).collect();
    let src = sim.add(source::RingBuffer::new(ArrayD::from_shape_vec(IxDyn(&shape), padded).unwrap())).unwrap();
    sim.connect(src.s_out(), &netx.input).unwrap();
    let out_shape = netx.blocks.last().unwrap().shape.clone();
    let sink = sim.add(sink::RingBuffer::new(&out_shape, total)).unwrap();
    sim.connect(netx.output.clone(), &sink.a_in()).unwrap();
    let mut rt = sim.runtime(&RunConfig::fixed_pt()).unwrap();
    rt.run(RunSteps::new(total as u64)).unwrap();
    rt.get(&sink.data()).unwrap().iter().copied().collect()
}

fn simulate_sdnn(path: &std::path::Path, x_q64: &[f64], steps: usize, hops: usize) -> Vec<f64> {
    simulate(path, &[12], x_q64, steps, hops)
}

/// One sample (C, H, W, T) of slayer's layout in Lava's (W, H, C, T) order.
fn to_whc(x: &[f64], [c, h, w]: [usize; 3], steps: usize) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    for ci in 0..c {
        for hi in 0..h {
            for wi in 0..w {
                let from = ((ci * h + hi) * w + wi) * steps;
                let to = ((wi * h + hi) * c + ci) * steps;
                out[to..to + steps].copy_from_slice(&x[from..from + steps]);
            }
        }
    }
    out
}

/// The 8-bit-quantized input times 64: what a netx input layer's `a_in` receives.
fn q64(v: &[f64]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(basalt_slayer::quantize::quantize_8bit_value(x as f32) * 64.0)).collect()
}

fn conv_oracle(file: &str, name: &str) -> NamedArray {
    npz_array(&test_data("conv").join(file), name)
}

/// slayer's conv networks (`tools/oracle/slayer_conv.py`) read from lava-dl's own exports:
/// sigma-delta Input -> Conv (stride 2, padding 1) -> Conv -> Flatten -> Dense -> Output,
/// and CUBA Input -> Conv (padding 1) -> Pool 2x2 -> Flatten -> Dense. Every block's output
/// equals slayer's exactly, the gradients of the loss w.r.t. every weight tensor and the
/// input equal slayer's to 1e-5, and the Process simulation of the sigma-delta file equals
/// Lava's own run of it.
#[test]
fn conv_and_pool_blocks_equal_slayers() {
    let device = Device::default().autodiff();
    let dir = test_data("conv");
    for (file, names, weights) in [
        ("sd_conv", &["input", "conv1", "conv2", "dense", "out"][..], &["w0", "w1", "w2", "w3"][..]),
        ("cuba_conv", &["input", "conv", "pool", "out"][..], &["w0", "w1"][..]),
    ] {
        let truth = |name: &str| conv_oracle(&format!("{file}.npz"), name);
        let net = Network::from_netx(dir.join(format!("{file}.net")), &device).unwrap();
        assert_eq!(net.blocks.len(), names.len() - 1, "{file}");
        let x = truth("x");
        let steps = *x.shape.last().unwrap();
        let x = f32_tensor(&x.data, [2, 160, steps], &device).require_grad();
        let exact = net.forward(x.clone()).unwrap();
        let outs = net.forward_train(x.clone()).unwrap();
        for (k, name) in names.iter().enumerate() {
            assert_eq!(values(&exact[k]), truth(name).data, "{file} {name}");
            assert_eq!(values(&outs[k]), truth(name).data, "{file} {name} (training forward)");
        }
        let out = outs.last().unwrap().clone();
        let loss = if file == "sd_conv" {
            (out - tensor_of(&truth("target"), &device)).powi_scalar(2).sum()
        } else {
            let labels = Tensor::<1, burn::tensor::Int>::from_data(TensorData::new(vec![1i64, 2], [2]), &device);
            basalt_slayer::SpikeRate::new(0.2, 0.03).unwrap().forward(out, labels).unwrap()
        };
        let got_loss = f64::from(loss.clone().try_into_vec_as::<f32>().unwrap()[0]);
        let want_loss = truth("loss").data[0];
        assert!(
            (got_loss - want_loss).abs() <= 1e-6 * want_loss.abs().max(1.0),
            "{file} loss {got_loss} vs {want_loss}"
        );
        let grads = loss.backward();
        let trained: Vec<_> = net.blocks.iter().filter(|b| !matches!(b.synapse, Synapse::Pool(_))).collect();
        assert_eq!(trained.len(), weights.len());
        for (b, key) in trained.iter().zip(weights) {
            let g = weight_grad(&b.synapse, &grads).unwrap();
            assert_close(&format!("{file} {key}"), g, truth(key).data);
        }
        assert_close(
            &format!("{file} x"),
            x.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(),
            truth("grad_x").data,
        );
    }
    // Lava's run of the sigma-delta conv file, 4 hops.
    let x = conv_oracle("sd_conv.npz", "x");
    let sample = to_whc(&q64(&x.data[..160 * 30]), [2, 8, 10], 30);
    let got = simulate(&dir.join("sd_conv.net"), &[10, 8, 2], &sample, 30, 4);
    assert_eq!(got, conv_oracle("sd_conv.npz", "out_lava").data);
}

/// A CUBA conv network built in code (Input -> Conv -> Pool -> Flatten -> Dense), exported
/// and read back to the same layers, simulates in Lava fixed point to exactly its own
/// forward spikes on random inputs, one step earlier: slayer's Input block shifts its spikes
/// one step (`delay_shift`), while Lava's input neurons take the input with no synapse hop
/// before them (lava-dl's tinynet test compares `output[..., 1:]` for the same reason).
#[test]
fn conv_networks_export_and_deploy_exactly() {
    use basalt_slayer::neuron::Neuron;
    use basalt_slayer::{Block, Conv, ConvGeometry, CubaNeuron, Dense, InputBlock, Pool};
    let device = Device::default();
    let cuba = |th: f64| Neuron::Cuba(CubaNeuron::new(th, 0.25, 0.1).unwrap());
    let geometry = ConvGeometry { in_shape: [2, 8, 10], stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 };
    // Fixed weights (not burn's global RNG, which parallel tests share): U(-k, k) with
    // k = 4/sqrt(fan_in), slayer's initialisation with weight_scale 4.
    let conv = Conv::new(uniform_weights([4, 2, 3, 3], 4.0 / 18f64.sqrt(), 0xC0, &device), geometry).unwrap();
    let pool = Pool::new([4, 8, 10], [2, 2], 1.0).unwrap();
    let net = Network {
        input: Some(InputBlock::new(cuba(0.5), [2, 8, 10]).unwrap()),
        blocks: vec![
            Block::new(Synapse::Conv(conv), cuba(0.75)),
            Block::new(Synapse::Pool(pool), cuba(0.5)),
            Block::new(
                Synapse::Dense(Dense::new(uniform_weights([3, 80], 4.0 / 80f64.sqrt(), 0xDE, &device))),
                cuba(0.5),
            )
            .after_flatten(),
        ],
    };
    let path = std::env::temp_dir().join(format!("basalt-slayer-conv-{}.net", std::process::id()));
    net.export_netx(&path).unwrap();
    let types: Vec<String> = basalt_netx::read_layers(&path).unwrap().into_iter().map(|l| l.type_name).collect();
    assert_eq!(types, ["input", "conv", "pool", "flatten", "dense"]);
    assert_eq!(Network::from_netx(&path, &device).unwrap().netx_layers().unwrap(), net.netx_layers().unwrap());
    let steps = 40;
    let mut seed = 0xC0A7_u64;
    let mut spikes = 0.0;
    for sample in 0..2 {
        let x: Vec<f64> = (0..160 * steps)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                f64::from(u8::from((seed >> 33) % 100 < 30))
            })
            .collect();
        let want = values(net.forward(f32_tensor(&x, [1, 160, steps], &device)).unwrap().last().unwrap());
        let got = simulate(&path, &[10, 8, 2], &to_whc(&q64(&x), [2, 8, 10], steps), steps, 0);
        for k in 0..3 {
            let (lava, ours) = (&got[k * steps..(k + 1) * steps], &want[k * steps..(k + 1) * steps]);
            assert_eq!(ours[0], 0.0);
            assert_eq!(lava[..steps - 1], ours[1..], "sample {sample}, output {k}");
        }
        spikes += want.iter().sum::<f64>();
    }
    let _ = std::fs::remove_file(&path);
    assert!(spikes > 10.0, "the output layer spikes ({spikes})");
}

/// The Lava message scale: a sigma-delta output of 1.0 in slayer is 2^18 in Lava fixed point
/// (weights x64, messages x4096).
const SD_SCALE: f64 = (1 << 18) as f64;

/// Deploy: the Process simulation (basalt-netx, fixed point) of lava-dl's exported
/// sigma-delta file equals Lava's own run of it (`out_lava`) exactly; and a sigma-delta
/// network trained here (squared error toward a smoothed, rescaled copy of its input)
/// learns, is exported, and simulates on held-out inputs to exactly its own forward output,
/// one step later per synapse hop (three for the oracle's network, two for ours).
#[test]
fn sigma_delta_networks_train_export_and_deploy_exactly() {
    use burn::optim::{AdamConfig, GradientsParams};
    let steps = 40;
    // Lava's run of the oracle file.
    let x = sd_oracle("x");
    let q64 =
        |v: &[f64]| -> Vec<f64> { v.iter().map(|&x| ((x as f32 * 32.0).round_ties_even() * 2.0) as f64).collect() };
    let got = simulate_sdnn(&sd_net_path(), &q64(&x.data[..12 * steps]), steps, 3);
    assert_eq!(got, sd_oracle("out_lava").data);

    // Train a fresh network: 12 -> 24 -> 3, output k should follow the mean of inputs 4k..4k+4.
    let device = Device::default().autodiff();
    let mut net = Network::sigma_delta(&[12, 24, 3], 0.05, 1.0, &device).unwrap();
    // Fixed initial weights (burn's RNG is global and shared by parallel tests).
    for (k, b) in net.blocks.iter_mut().enumerate() {
        let [o, i] = b.synapse.as_dense().unwrap().dims();
        b.synapse = Synapse::Dense(basalt_slayer::Dense::new(uniform_weights(
            [o, i],
            1.0 / (i as f64).sqrt(),
            k as u64,
            &device,
        )));
    }
    let mut seed = 0x5D_u64;
    let mut walk = |batch: usize| -> Vec<f64> {
        let mut v = vec![0.0; batch * 12 * steps];
        for row in v.chunks_mut(steps) {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let mut level = ((seed >> 33) % 1000) as f64 / 500.0;
            for x in row.iter_mut() {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                level = (level + (((seed >> 33) % 1000) as f64 / 1000.0 - 0.5) * 0.4).clamp(0.0, 2.5);
                *x = level;
            }
        }
        v
    };
    let batch = 8;
    let targets = |x: &[f64], batch: usize| -> Vec<f32> {
        let mut t = vec![0f32; batch * 3 * steps];
        for b in 0..batch {
            for k in 0..3 {
                for s in 0..steps {
                    let m: f64 = (0..4).map(|i| x[(b * 12 + 4 * k + i) * steps + s]).sum::<f64>() / 4.0;
                    t[(b * 3 + k) * steps + s] = m as f32;
                }
            }
        }
        t
    };
    let mut optim = AdamConfig::new().init();
    let mut losses = Vec::new();
    for _ in 0..60 {
        let xs = walk(batch);
        let target = Tensor::<3>::from_data(TensorData::new(targets(&xs, batch), [batch, 3, steps]), &device);
        let out = net.forward_train(f32_tensor(&xs, [batch, 12, steps], &device)).unwrap().pop().unwrap();
        let loss = (out - target).powi_scalar(2).mean();
        losses.push(f64::from(loss.clone().try_into_vec_as::<f32>().unwrap()[0]));
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optim.step(0.01, net, grads);
    }
    let first: f64 = losses[..5].iter().sum::<f64>() / 5.0;
    let last: f64 = losses[losses.len() - 5..].iter().sum::<f64>() / 5.0;
    assert!(last < 0.1 * first, "training lowers the loss: {first} -> {last}");

    let hops = net.blocks.len();
    let path = std::env::temp_dir().join(format!("basalt-slayer-sd-{}.net", std::process::id()));
    net.export_netx(&path).unwrap();
    assert_eq!(Network::from_netx(&path, &device).unwrap().netx_layers().unwrap(), net.netx_layers().unwrap());
    let mut nonzero = 0;
    for sample in 0..3 {
        let xs = walk(1);
        let want = values(&net.forward(f32_tensor(&xs, [1, 12, steps], &device)).unwrap()[2]);
        let got = simulate_sdnn(&path, &q64(&xs), steps, hops);
        for k in 0..3 {
            assert!(got[k * (steps + hops)..k * (steps + hops) + hops].iter().all(|&v| v == 0.0));
            let lava: Vec<f64> = got[k * (steps + hops) + hops..(k + 1) * (steps + hops)].to_vec();
            let ours: Vec<f64> = want[k * steps..(k + 1) * steps].iter().map(|v| v * SD_SCALE).collect();
            assert_eq!(lava, ours, "sample {sample}, output {k}");
            nonzero += ours.iter().filter(|v| **v != 0.0).count();
        }
    }
    let _ = std::fs::remove_file(&path);
    assert!(nonzero > 100, "the outputs are not silent ({nonzero})");
}

/// Deterministic weights U(-k, k) of `shape` from an LCG seeded with `seed`.
fn uniform_weights<const D: usize>(shape: [usize; D], k: f64, seed: u64, device: &Device) -> Tensor<D> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let n: usize = shape.iter().product();
    let values: Vec<f32> = (0..n)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((((state >> 33) as f64) / (1u64 << 31) as f64 * 2.0 - 1.0) * k) as f32
        })
        .collect();
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// An array of `tools/oracle/slayer_delay_recurrent.py`'s `file` (delay.npz, recurrent.npz).
fn dr_oracle(file: &str, name: &str) -> NamedArray {
    npz_array(&test_data(&format!("delay_recurrent/{file}")), name)
}

/// Loads the oracle network `{dir}/{stem}.net` (through `prepare`, which may make parts of
/// it learnable), checks every block's training-forward spikes on the oracle's `x`
/// (2, 8, 50) against slayer's (`blocks`, exact) and the SpikeRate loss of `labels`;
/// returns the network, the input and the gradients of that loss.
fn forward_against_slayer(
    (dir, stem): (&str, &str),
    blocks: &[&str],
    labels: [f64; 2],
    prepare: fn(Network, &Device) -> Network,
) -> (Network, Tensor<3>, burn::tensor::Gradients) {
    let device = Device::default().autodiff();
    let net = prepare(Network::from_netx(test_data(&format!("{dir}/{stem}.net")), &device).unwrap(), &device);
    let truth = |name: &str| npz_array(&test_data(&format!("{dir}/{stem}.npz")), name);
    let x = f32_tensor(&truth("x").data, [2, 8, 50], &device).require_grad();
    let outs = net.forward_train(x.clone()).unwrap();
    for (name, out) in blocks.iter().zip(&outs) {
        assert_eq!(values(out), truth(name).data, "{stem}: block {name}");
    }
    let loss = basalt_slayer::SpikeRate::new(0.2, 0.03)
        .unwrap()
        .forward(outs.last().unwrap().clone(), int_tensor(&labels, [2], &device))
        .unwrap();
    let grads = loss_against(loss, truth("loss").data[0], stem);
    assert_close("x", x.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(), truth("grad_x").data);
    (net, x, grads)
}

/// Deploy: basalt-netx's fixed-point simulation of the oracle file `{dir}/{stem}.net` on
/// sample 0 equals Lava's run of it (`out_lava`, which the oracle checked to be slayer's
/// output one step earlier; absent where lava-dl's netx cannot load the file); then `net`
/// learns for a few Adam steps (its delays, recurrent weights, decays or running means
/// included), is exported, and simulates on held-out inputs exactly as its own forward,
/// one step earlier (the Input block's shift).
fn deploys_exactly(dir: &str, stem: &str, mut net: Network) {
    use burn::optim::{AdamConfig, GradientsParams};
    let truth = test_data(&format!("{dir}/{stem}.npz"));
    let x = npz_array(&truth, "x");
    let steps = 50;
    let lava_run = npz::read(&truth).unwrap().into_iter().find(|a| a.name == "out_lava");
    if let Some(lava_run) = lava_run {
        let got = simulate(&test_data(&format!("{dir}/{stem}.net")), &[8], &q64(&x.data[..8 * steps]), steps, 0);
        assert_eq!(got, lava_run.data, "{stem}: Lava's run");
    }

    let device = Device::default().autodiff();
    let mut seed = 0xDE1A_u64;
    let mut spikes = |n: usize| -> Vec<f64> {
        (0..n)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                f64::from(u8::from((seed >> 33) % 100 < 30))
            })
            .collect()
    };
    // What learns beside the weights: delays (in steps), decays and running means.
    let delays = |net: &Network| -> Vec<Vec<f64>> {
        let mut learnt: Vec<Vec<f64>> = net
            .blocks
            .iter()
            .filter_map(|b| b.delay.as_ref())
            .map(|d| d.steps().unwrap().into_iter().map(|s| s as f64).collect())
            .collect();
        for b in &net.blocks {
            if let Some(d) = &b.decays {
                learnt.push(vec![d.values().unwrap().0, d.values().unwrap().1]);
            }
            if let Some(d) = &b.rf_decays {
                learnt.push(vec![d.values().unwrap().0, d.values().unwrap().1]);
            }
            if let Some(n) = &b.norm {
                learnt.push(values(&n.running_mean.value_sync().reshape([1, 1, -1])));
            }
        }
        learnt
    };
    let before = delays(&net);
    let mut optim = AdamConfig::new().init();
    for _ in 0..5 {
        let x = f32_tensor(&spikes(4 * 8 * steps), [4, 8, steps], &device);
        let out = net.forward_train(x).unwrap().pop().unwrap();
        let loss = basalt_slayer::SpikeRate::new(0.2, 0.03)
            .unwrap()
            .forward(out, int_tensor(&[0.0, 1.0, 2.0, 0.0], [4], &device))
            .unwrap();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optim.step(0.01, net, grads).clamped();
    }
    if !before.is_empty() {
        assert_ne!(delays(&net), before, "{stem}: the delays, decays or running means learn");
    }
    let path = std::env::temp_dir().join(format!("basalt-slayer-{stem}-{}.net", std::process::id()));
    net.export_netx(&path).unwrap();
    assert_eq!(Network::from_netx(&path, &device).unwrap().netx_layers().unwrap(), net.netx_layers().unwrap());
    let mut total = 0.0;
    for sample in 0..2 {
        let x = spikes(8 * steps);
        // Each sample is simulated from rest: forget what Recurrent blocks carry.
        net.reset_state();
        let want = values(net.forward(f32_tensor(&x, [1, 8, steps], &device)).unwrap().last().unwrap());
        let got = simulate(&path, &[8], &q64(&x), steps, 0);
        for k in 0..3 {
            let (lava, ours) = (&got[k * steps..(k + 1) * steps], &want[k * steps..(k + 1) * steps]);
            assert_eq!(lava[..steps - 1], ours[1..], "{stem}: sample {sample}, output {k}");
        }
        total += want.iter().sum::<f64>();
    }
    let _ = std::fs::remove_file(&path);
    assert!(total > 5.0, "{stem}: the trained network spikes ({total})");
}

/// Axonal delays (slayer's `delay=True`): lava-dl's export of Input(8) -> Dense(8 -> 12,
/// delay) -> Dense(12 -> 10, delay) -> Dense(10 -> 3) reads back as blocks with those
/// delays; every block's spikes equal slayer's, the loss, and the gradients w.r.t. the
/// weights, the delays and the input are slayer's; trained delays export and deploy.
#[test]
fn axonal_delays_equal_slayers_and_deploy_exactly() {
    let (net, _, grads) = forward_against_slayer(
        ("delay_recurrent", "delay"),
        &["input", "dense1", "dense2", "out"],
        [0.0, 2.0],
        |n, _| n,
    );
    let delays: Vec<Vec<usize>> = net.blocks[..2].iter().map(|b| b.delay.as_ref().unwrap().steps().unwrap()).collect();
    for (k, d) in delays.iter().enumerate() {
        let want: Vec<usize> = dr_oracle("delay.npz", &format!("d{k}")).data.iter().map(|&d| d as usize).collect();
        assert_eq!(*d, want, "delays of block {k}");
        assert!(d.iter().any(|&d| d > 0));
    }
    for (k, b) in net.blocks.iter().enumerate() {
        let g = b.synapse.as_dense().unwrap().weight.grad(&grads).unwrap();
        assert_close(
            &format!("w{k}"),
            g.try_into_vec_as::<f32>().unwrap(),
            dr_oracle("delay.npz", &format!("w{k}")).data,
        );
    }
    for k in 0..2 {
        let g = net.blocks[k].delay.as_ref().unwrap().delay.grad(&grads).unwrap();
        let want = dr_oracle("delay.npz", &format!("grad_d{k}")).data;
        assert_close(&format!("delay {k}"), g.try_into_vec_as::<f32>().unwrap(), want);
    }
    deploys_exactly("delay_recurrent", "delay", net);
}

/// slayer's cuba.Recurrent and alif.Recurrent: lava-dl's export (dense_rec) of Input(8) ->
/// Recurrent(8 -> 12) -> Dense(12 -> 3) reads back as a Recurrent block; spikes, loss and the gradients w.r.t.
/// the input, recurrent and dense weights and the input equal slayer's; a trained recurrent
/// network exports and deploys exactly.
#[test]
fn recurrent_blocks_equal_slayers_and_deploy_exactly() {
    for stem in ["recurrent", "alif_recurrent"] {
        let (net, _, grads) =
            forward_against_slayer(("delay_recurrent", stem), &["input", "rec", "out"], [1.0, 2.0], |n, _| n);
        let rec = &net.blocks[0];
        let weights = [
            ("w_in", rec.synapse.as_dense().unwrap()),
            ("w_rec", rec.recurrent.as_ref().unwrap()),
            ("w_out", net.blocks[1].synapse.as_dense().unwrap()),
        ];
        for (name, w) in weights {
            let g = w.weight.grad(&grads).unwrap();
            assert_close(name, g.try_into_vec_as::<f32>().unwrap(), dr_oracle(&format!("{stem}.npz"), name).data);
        }
        deploys_exactly("delay_recurrent", stem, net);
    }
}

/// slayer's ConvT and Unpool blocks (`tools/oracle/slayer_convt.py`): lava-dl's export of
/// cuba Input(2x4x5) -> ConvT(2 -> 3, 3x3, stride 2, padding 1) -> Unpool(2) -> Flatten ->
/// Dense(756 -> 3) reads back as blocks whose spikes equal slayer's; the loss and the
/// gradients w.r.t. the ConvT and dense weights and the input equal slayer's; our export
/// holds the same layers and its Process simulation spikes as the blocks, one step earlier.
#[test]
fn convt_and_unpool_blocks_equal_slayers_and_deploy_exactly() {
    let oracle = |name: &str| npz_array(&test_data("convt/convt.npz"), name);
    let device = Device::default().autodiff();
    let file = test_data("convt/convt.net");
    let net = Network::from_netx(&file, &device).unwrap();
    let steps = 40;
    let x = f32_tensor(&oracle("x").data, [2, 40, steps], &device).require_grad();
    let outs = net.forward_train(x.clone()).unwrap();
    for (name, out) in ["input", "convt", "unpool", "out"].iter().zip(&outs) {
        assert_eq!(values(out), oracle(name).data, "block {name}");
    }
    let loss = basalt_slayer::SpikeRate::new(0.2, 0.03)
        .unwrap()
        .forward(outs[3].clone(), int_tensor(&[2.0, 0.0], [2], &device))
        .unwrap();
    let got = f64::from(loss.clone().try_into_vec_as::<f32>().unwrap()[0]);
    assert!((got - oracle("loss").data[0]).abs() < 1e-6, "loss {got}");
    let grads = loss.backward();
    let convt = net.blocks[0].synapse.as_conv().unwrap();
    assert!(convt.transposed);
    assert_close("w0", convt.weight.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(), oracle("w0").data);
    let dense = net.blocks[2].synapse.as_dense().unwrap();
    assert_close("w1", dense.weight.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(), oracle("w1").data);
    assert_close("x", x.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(), oracle("grad_x").data);

    let path = std::env::temp_dir().join(format!("basalt-slayer-convt-{}.net", std::process::id()));
    net.export_netx(&path).unwrap();
    assert_eq!(basalt_netx::read_layers(&path).unwrap(), basalt_netx::read_layers(&file).unwrap());
    let mut spikes = 0.0;
    for sample in 0..2 {
        let xs = &oracle("x").data[sample * 40 * steps..(sample + 1) * 40 * steps];
        let got = simulate(&path, &[5, 4, 2], &to_whc(&q64(xs), [2, 4, 5], steps), steps, 0);
        let want = &oracle("out").data[sample * 3 * steps..(sample + 1) * 3 * steps];
        for k in 0..3 {
            let (lava, ours) = (&got[k * steps..(k + 1) * steps], &want[k * steps..(k + 1) * steps]);
            assert_eq!(lava[..steps - 1], ours[1..], "sample {sample}, output {k}");
        }
        spikes += want.iter().sum::<f64>();
    }
    let _ = std::fs::remove_file(&path);
    assert!(spikes > 5.0, "the output spikes ({spikes})");
}

fn nd_oracle(file: &str, name: &str) -> NamedArray {
    npz_array(&test_data(&format!("norm_decay/{file}")), name)
}

/// Sets every normed block's running mean to the oracle's float value before its training
/// forward (the file holds only its quantized bias).
fn set_running_means(net: &mut Network, file: &str, normed: &[usize], device: &Device) {
    for &i in normed {
        let rm = nd_oracle(file, &format!("rm{i}_before"));
        let norm = net.blocks[i - 1].norm.as_mut().unwrap();
        norm.running_mean = burn::module::RunningState::new(f32_tensor(&rm.data, [rm.data.len()], device));
    }
}

/// slayer's mean-only batch norm and learnable decays (`tools/oracle/slayer_norm_decay.py`):
/// lava-dl's exports (with `bias` = -quantize_8bit(running mean)·64 and learnt decays) read
/// back as blocks with a norm; in eval mode every block spikes as slayer's and the Process
/// simulation equals Lava's run; in training mode (batch means) every block's spikes, the
/// loss, the gradients w.r.t. weights, decays and input, and the running means after the
/// forward equal slayer's. A dense network then trains a few steps, exports and deploys with
/// identical spikes.
#[test]
fn batch_norm_and_learnable_decays_equal_slayers_and_deploy_exactly() {
    let device = Device::default().autodiff();
    for (stem, in_shape, names, normed, learn, labels) in [
        ("dense", [8, 1, 1], &[(0, 0), (1, 1), (2, 2)][..], &[1usize, 2][..], true, [0.0, 2.0]),
        ("conv", [2, 6, 6], &[(0, 0), (1, 1), (3, 2)][..], &[1][..], false, [1.0, 2.0]),
    ] {
        let file = format!("{stem}.npz");
        let truth = |name: &str| nd_oracle(&file, name);
        let net = Network::from_netx(test_data(&format!("norm_decay/{stem}.net")), &device).unwrap();
        let mut net = Network {
            input: net.input,
            blocks: net
                .blocks
                .into_iter()
                .map(|b| if learn { b.with_learnable_decays(&device).unwrap() } else { b })
                .collect(),
        };
        for &i in normed {
            assert!(net.blocks[i - 1].norm.is_some(), "{stem}: block {i} reads its bias as a batch norm");
        }
        let n: usize = in_shape.iter().product();
        let x = truth("x");
        let xt = f32_tensor(&x.data, [2, n, 50], &device);

        // Eval mode: the running means as biases; Lava's run of the file.
        let evals = net.forward(xt.clone()).unwrap();
        for &(theirs, ours) in names {
            assert_eq!(values(&evals[ours]), truth(&format!("eval{theirs}")).data, "{stem}: eval block {theirs}");
        }
        let sample = &q64(&x.data[..n * 50]);
        let got = if stem == "conv" {
            simulate(&test_data("norm_decay/conv.net"), &[6, 6, 2], &to_whc(sample, in_shape, 50), 50, 0)
        } else {
            simulate(&test_data("norm_decay/dense.net"), &[8], sample, 50, 0)
        };
        assert_eq!(got, truth("out_lava").data, "{stem}: basalt-netx equals Lava's run");

        // Training mode: batch means, gradients, running means.
        set_running_means(&mut net, &file, normed, &device);
        let xt = xt.require_grad();
        let outs = net.forward_train(xt.clone()).unwrap();
        for &(theirs, ours) in names {
            assert_eq!(values(&outs[ours]), truth(&format!("train{theirs}")).data, "{stem}: train block {theirs}");
        }
        let loss = basalt_slayer::SpikeRate::new(0.2, 0.03)
            .unwrap()
            .forward(outs.last().unwrap().clone(), int_tensor(&labels, [2], &device))
            .unwrap();
        let grads = loss_against(loss, truth("loss").data[0], stem);
        assert_close("x", xt.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(), truth("grad_x").data);
        for &(theirs, ours) in &names[1..] {
            let w = weight_grad(&net.blocks[ours - 1].synapse, &grads).unwrap();
            assert_close(&format!("{stem} weights {theirs}"), w, truth(&format!("grad_w{theirs}")).data);
        }
        for &i in normed {
            let block = &net.blocks[i - 1];
            let rm = block.norm.as_ref().unwrap().running_mean.value_sync();
            let want = truth(&format!("rm{i}_after")).data;
            for (g, w) in values(&rm.reshape([1, 1, -1])).iter().zip(&want) {
                assert!((g - w).abs() < 1e-6, "{stem}: running mean {i}: {g} vs slayer {w}");
            }
            if let Some(d) = &block.decays {
                for (name, p) in [("cd", &d.current), ("vd", &d.voltage)] {
                    let g = p.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap();
                    assert_close(&format!("{stem} {name}{i}"), g, truth(&format!("grad_{name}{i}")).data);
                }
            }
        }
        if stem == "dense" {
            deploys_exactly("norm_decay", stem, net);
        }
    }
}

fn ak_oracle(file: &str, name: &str) -> NamedArray {
    npz_array(&test_data(&format!("affine_kwta/{file}")), name)
}

/// The last layer's voltage `v` (neurons, steps) of the netx file at `path` simulated in
/// fixed point with `x` (a flat input of `n` values per step) on the input layer.
fn simulate_voltage(path: &std::path::Path, n: usize, x: &[f64], steps: usize) -> Vec<f64> {
    let mut netx = basalt_netx::load(path, &basalt_netx::Options::default()).unwrap();
    let sim = &mut netx.net;
    let src =
        sim.add(source::RingBuffer::new(ArrayD::from_shape_vec(IxDyn(&[n, steps]), x.to_vec()).unwrap())).unwrap();
    sim.connect(src.s_out(), &netx.input).unwrap();
    let last = netx.blocks.last().unwrap().neuron;
    let mon = sim.add(Monitor::new()).unwrap();
    mon.probe(sim, basalt_core::graph::Handle::<()>::from_id(last).var("v"), steps).unwrap();
    let name = sim.process_name(last).unwrap().to_string();
    let mut rt = sim.runtime(&RunConfig::fixed_pt()).unwrap();
    rt.run(RunSteps::new(steps as u64)).unwrap();
    let v = mon.data(&rt, &name, "v").unwrap(); // (steps, neurons)
    let neurons = v.shape()[1];
    (0..neurons).flat_map(|i| (0..steps).map(move |t| (i, t))).map(|(i, t)| v[[t, i]]).collect()
}

/// `sum((y - target)^2)`, the oracle's loss for real-valued outputs.
fn squared_error(y: Tensor<3>, target: f64) -> Tensor<1> {
    (y - target).powi_scalar(2).sum()
}

/// Checks a differentiable scalar `loss` against the oracle's and returns its gradients.
fn loss_against(loss: Tensor<1>, want: f64, what: &str) -> burn::tensor::Gradients {
    let got = f64::from(loss.clone().try_into_vec_as::<f32>().unwrap()[0]);
    assert!((got - want).abs() < 1e-5 * want.abs(), "{what}: loss {got} vs slayer {want}");
    loss.backward()
}

/// The weight gradient of block `k`'s dense synapse.
fn dense_grad(net: &Network, k: usize, grads: &burn::tensor::Gradients) -> Vec<f32> {
    weight_grad(&net.blocks[k].synapse, grads).unwrap()
}

/// slayer's Affine, Average and KWTA blocks (`tools/oracle/slayer_affine_average_kwta.py`):
/// every block's output equals slayer's exactly and the gradients of a loss w.r.t. weights,
/// the KWTA self-excitation and the input match to 1e-5. lava-dl's Affine export reads back
/// as an Affine block and exports the same layers; its last layer's voltage in the Process
/// simulation equals Lava's and the Affine output times 4096.
#[test]
fn affine_average_and_kwta_blocks_equal_slayers() {
    use basalt_slayer::neuron::Neuron;
    use basalt_slayer::{Block, CubaNeuron, Dense, InputBlock};
    let device = Device::default().autodiff();
    let steps = 50;
    let cuba = || CubaNeuron::new(0.5, 0.25, 0.1).unwrap();
    let input = || Some(InputBlock::new(Neuron::Cuba(cuba()), [8, 1, 1]).unwrap());
    let dense = |a: &NamedArray| Dense::new(f32_tensor(&a.data, [a.shape[0], a.shape[1]], &device));

    // Affine, with dynamics: the voltage.
    let path = test_data("affine_kwta/affine.net");
    let net = Network::from_netx(&path, &device).unwrap();
    assert!(matches!(net.blocks[1].neuron, Neuron::Voltage(_)) && !net.blocks[1].delay_shift);
    let x = ak_oracle("affine.npz", "x");
    let xt = f32_tensor(&x.data, [2, 8, steps], &device).require_grad();
    let outs = net.forward_train(xt.clone()).unwrap();
    for (k, out) in outs.iter().enumerate() {
        assert_eq!(values(out), ak_oracle("affine.npz", &format!("out{k}")).data, "affine: block {k}");
    }
    let grads = loss_against(squared_error(outs[2].clone(), 0.1), ak_oracle("affine.npz", "loss").data[0], "affine");
    assert_close(
        "affine x",
        xt.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(),
        ak_oracle("affine.npz", "grad_x").data,
    );
    for k in 0..2 {
        let want = ak_oracle("affine.npz", &format!("grad_w{}", k + 1)).data;
        assert_close(&format!("affine w{k}"), dense_grad(&net, k, &grads), want);
    }
    let v = simulate_voltage(&path, 8, &q64(&x.data[..8 * steps]), steps);
    assert_eq!(v, ak_oracle("affine.npz", "v_lava").data, "the Process simulation's voltage equals Lava's");
    let ours: Vec<f64> = values(&outs[2])[..3 * steps].iter().map(|v| v * 4096.0).collect();
    assert_eq!(v, ours, "the simulated voltage is the Affine output times 4096");
    assert_eq!(net.netx_layers().unwrap(), basalt_netx::read_layers(&path).unwrap(), "exports as lava-dl does");
    // Without dynamics: the synaptic current.
    let w2 = net.blocks[1].synapse.as_dense().unwrap().weight.val().detach();
    let current = Block::affine(Dense::new(w2), None);
    let c = current.forward_train(outs[1].clone().detach()).unwrap();
    assert_eq!(values(&c), ak_oracle("affine.npz", "current").data);
    let g = c.powi_scalar(2).sum().backward();
    let g = current.synapse.as_dense().unwrap().weight.grad(&g).unwrap().try_into_vec_as::<f32>().unwrap();
    assert_close("affine current w", g, ak_oracle("affine.npz", "grad_w_current").data);

    // Average: group means of the dense block's spikes.
    let a = |name: &str| ak_oracle("average.npz", name);
    let net = Network {
        input: input(),
        blocks: vec![Block::new(Synapse::Dense(dense(&a("w1"))), Neuron::Cuba(cuba())), Block::average(12, 3).unwrap()],
    };
    let xt = f32_tensor(&a("x").data, [2, 8, steps], &device).require_grad();
    let outs = net.forward_train(xt.clone()).unwrap();
    for (k, out) in outs.iter().enumerate() {
        assert_eq!(values(out), a(&format!("out{k}")).data, "average: block {k}");
    }
    let grads = loss_against(squared_error(outs[2].clone(), 0.2), a("loss").data[0], "average");
    assert_close("average x", xt.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(), a("grad_x").data);
    assert_close("average w", dense_grad(&net, 0, &grads), a("grad_w1").data);
    let e = net.netx_layers().unwrap_err();
    assert!(e.to_string().contains("cannot export an Average block: netx has no average layer"), "{e}");

    // KWTA (no delay_shift, as the oracle's: lava-dl's KWTA cannot train with it).
    let k = |name: &str| ak_oracle("kwta.npz", name);
    let mut kwta = Block::kwta(dense(&k("w1")), Neuron::Cuba(cuba()), 2, 0.5).unwrap();
    kwta.delay_shift = false;
    let net = Network {
        input: input(),
        blocks: vec![kwta, Block::new(Synapse::Dense(dense(&k("w2"))), Neuron::Cuba(cuba()))],
    };
    let xt = f32_tensor(&k("x").data, [2, 8, steps], &device).require_grad();
    let outs = net.forward_train(xt.clone()).unwrap();
    for (b, out) in outs.iter().enumerate() {
        assert_eq!(values(out), k(&format!("out{b}")).data, "kwta: block {b}");
    }
    let loss = basalt_slayer::SpikeRate::new(0.2, 0.03)
        .unwrap()
        .forward(outs[2].clone(), int_tensor(&[0.0, 2.0], [2], &device));
    let grads = loss_against(loss.unwrap(), k("loss").data[0], "kwta");
    assert_close("kwta x", xt.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(), k("grad_x").data);
    assert_close("kwta w1", dense_grad(&net, 0, &grads), k("grad_w1").data);
    assert_close("kwta w2", dense_grad(&net, 1, &grads), k("grad_w2").data);
    let a = net.blocks[0].kwta.as_ref().unwrap().self_excitation.grad(&grads).unwrap();
    assert_close("kwta self-excitation", a.try_into_vec_as::<f32>().unwrap(), k("grad_a").data);
    let e = net.netx_layers().unwrap_err();
    assert!(e.to_string().contains("cannot export a KWTA block"), "{e}");
}

/// slayer's ALIF KWTA and TimeDecimation blocks (`tools/oracle/slayer_alif_kwta_decimation.py`):
/// every block's output equals slayer's exactly; the gradients of a loss w.r.t. the weights,
/// the KWTA self-excitation and the input match to 1e-5. A decimation factor that is not a
/// power of two and a block of the wrong size are clear errors, and neither block exports.
#[test]
fn alif_kwta_and_time_decimation_blocks_equal_slayers() {
    use basalt_slayer::neuron::alif::AlifNeuron;
    use basalt_slayer::neuron::Neuron;
    use basalt_slayer::{Block, CubaNeuron, Dense, InputBlock};
    let device = Device::default().autodiff();
    let steps = 50;
    let truth = |file: &str, name: &str| npz_array(&test_data(&format!("kwta_decimation/{file}")), name);
    let dense = |a: &NamedArray| Dense::new(f32_tensor(&a.data, [a.shape[0], a.shape[1]], &device));

    // ALIF KWTA (no delay_shift, as the oracle's).
    let alif = || Neuron::Alif(AlifNeuron::new(0.5, 0.2, [0.25, 0.1, 0.1, 0.2]).unwrap());
    let k = |name: &str| truth("alif_kwta.npz", name);
    let mut kwta = Block::kwta(dense(&k("w1")), alif(), 2, 0.5).unwrap();
    kwta.delay_shift = false;
    let net = Network {
        input: Some(InputBlock::new(alif(), [8, 1, 1]).unwrap()),
        blocks: vec![kwta, Block::new(Synapse::Dense(dense(&k("w2"))), alif())],
    };
    let xt = f32_tensor(&k("x").data, [2, 8, steps], &device).require_grad();
    let outs = net.forward_train(xt.clone()).unwrap();
    for (b, out) in outs.iter().enumerate() {
        assert_eq!(values(out), k(&format!("out{b}")).data, "alif kwta: block {b}");
    }
    let loss = basalt_slayer::SpikeRate::new(0.2, 0.03)
        .unwrap()
        .forward(outs[2].clone(), int_tensor(&[0.0, 2.0], [2], &device));
    let grads = loss_against(loss.unwrap(), k("loss").data[0], "alif kwta");
    assert_close("alif kwta x", xt.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(), k("grad_x").data);
    assert_close("alif kwta w1", dense_grad(&net, 0, &grads), k("grad_w1").data);
    assert_close("alif kwta w2", dense_grad(&net, 1, &grads), k("grad_w2").data);
    let a = net.blocks[0].kwta.as_ref().unwrap().self_excitation.grad(&grads).unwrap();
    assert_close("alif kwta self-excitation", a.try_into_vec_as::<f32>().unwrap(), k("grad_a").data);
    let sd = Neuron::SigmaDelta(basalt_slayer::SigmaDeltaNeuron::new(0.1).unwrap());
    let e = Block::kwta(dense(&k("w1")), sd, 2, 0.5).unwrap_err();
    assert!(e.to_string().contains("must be CUBA or ALIF"), "{e}");

    // TimeDecimation by 4: 50 steps pad to 52, 13 bins.
    let d = |name: &str| truth("decimation.npz", name);
    let cuba = || Neuron::Cuba(CubaNeuron::new(0.5, 0.25, 0.1).unwrap());
    let net = Network {
        input: Some(InputBlock::new(cuba(), [8, 1, 1]).unwrap()),
        blocks: vec![
            Block::new(Synapse::Dense(dense(&d("w1"))), cuba()),
            Block::time_decimation([12, 1, 1], 4).unwrap(),
            Block::new(Synapse::Dense(dense(&d("w2"))), cuba()),
        ],
    };
    let xt = f32_tensor(&d("x").data, [2, 8, steps], &device).require_grad();
    let outs = net.forward_train(xt.clone()).unwrap();
    assert_eq!(outs[2].dims(), [2, 12, 13]);
    for (b, out) in outs.iter().enumerate() {
        assert_eq!(values(out), d(&format!("out{b}")).data, "decimation: block {b}");
    }
    let grads = loss_against(squared_error(outs[3].clone(), 0.1), d("loss").data[0], "decimation");
    assert_close("decimation x", xt.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(), d("grad_x").data);
    assert_close("decimation w1", dense_grad(&net, 0, &grads), d("grad_w1").data);
    assert_close("decimation w2", dense_grad(&net, 2, &grads), d("grad_w2").data);
    // By 8 (50 steps pad to 56, 7 bins), on the hidden spikes alone.
    let by8 = Block::time_decimation([12, 1, 1], 8).unwrap().forward(outs[1].clone()).unwrap();
    assert_eq!(values(&by8), d("by8").data);
    let e = net.netx_layers().unwrap_err();
    assert!(e.to_string().contains("cannot export a TimeDecimation block"), "{e}");
    let e = Block::time_decimation([12, 1, 1], 3).unwrap_err();
    assert!(e.to_string().contains("3 is not a power of two"), "{e}");
    let e = Block::time_decimation([12, 1, 1], 4).unwrap().forward(outs[0].clone()).unwrap_err();
    assert!(matches!(e, SlayerError::Shape { .. }), "{e}");
}

/// slayer's batch norm on ALIF blocks (`tools/oracle/slayer_alif_norm.py`): the norm shifts
/// the input current (CUBA's shifts the current). With learnable decays, in eval mode (the
/// running means) and training mode (batch means) every block spikes as slayer's; the loss,
/// the gradients w.r.t. weights, decays and input match to 1e-5 and the running means to
/// 1e-6. The export is refused (a netx bias is added to the voltage), and a netx bias on an
/// ALIF layer does not read as one.
#[test]
fn alif_batch_norm_equals_slayers() {
    use basalt_slayer::neuron::alif::AlifNeuron;
    use basalt_slayer::neuron::Neuron;
    use basalt_slayer::{Block, Dense, InputBlock};
    let device = Device::default().autodiff();
    let truth = |name: &str| npz_array(&test_data("alif_norm/alif_norm.npz"), name);
    let alif = |decays: [f64; 4]| Neuron::Alif(AlifNeuron::new(0.5, 0.2, decays).unwrap());
    let block = |i: usize| {
        let d = |name: &str| truth(&format!("{name}{i}")).data[0] / 4096.0;
        let w = truth(&format!("w{i}"));
        let synapse = Synapse::Dense(Dense::new(f32_tensor(&w.data, [w.shape[0], w.shape[1]], &device)));
        let mut b = Block::new(synapse, alif([d("cd"), d("vd"), d("td"), d("rd")]))
            .with_norm(&device)
            .unwrap()
            .with_learnable_decays(&device)
            .unwrap();
        let rm = truth(&format!("rm{i}_before")).data;
        b.norm.as_mut().unwrap().running_mean = burn::module::RunningState::new(f32_tensor(&rm, [rm.len()], &device));
        b
    };
    let net = Network {
        input: Some(InputBlock::new(alif([0.25, 0.1, 0.1, 0.2]), [8, 1, 1]).unwrap()),
        blocks: vec![block(1), block(2)],
    };
    let xt = f32_tensor(&truth("x").data, [2, 8, 50], &device);
    for (i, out) in net.forward(xt.clone()).unwrap().iter().enumerate() {
        assert_eq!(values(out), truth(&format!("eval{i}")).data, "eval block {i}");
    }
    let xt = xt.require_grad();
    let outs = net.forward_train(xt.clone()).unwrap();
    for (i, out) in outs.iter().enumerate() {
        assert_eq!(values(out), truth(&format!("train{i}")).data, "train block {i}");
    }
    let loss = basalt_slayer::SpikeRate::new(0.2, 0.03)
        .unwrap()
        .forward(outs[2].clone(), int_tensor(&[0.0, 2.0], [2], &device))
        .unwrap();
    let grads = loss_against(loss, truth("loss").data[0], "alif norm");
    assert_close("alif norm x", xt.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(), truth("grad_x").data);
    for i in 1..=2 {
        let block = &net.blocks[i - 1];
        assert_close(&format!("alif norm w{i}"), dense_grad(&net, i - 1, &grads), truth(&format!("grad_w{i}")).data);
        let d = block.decays.as_ref().unwrap();
        for (name, p) in [("cd", &d.current), ("vd", &d.voltage)] {
            let g = p.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap();
            assert_close(&format!("alif norm {name}{i}"), g, truth(&format!("grad_{name}{i}")).data);
        }
        let rm = block.norm.as_ref().unwrap().running_mean.value_sync();
        for (g, w) in values(&rm.reshape([1, 1, -1])).iter().zip(&truth(&format!("rm{i}_after")).data) {
            assert!((g - w).abs() < 1e-6, "running mean {i}: {g} vs slayer {w}");
        }
    }
    let e = net.netx_layers().unwrap_err();
    assert!(e.to_string().contains("an ALIF block with a batch norm"), "{e}");
    // A netx ALIF layer with a bias (a voltage bias) is not an ALIF norm.
    let mut layers =
        basalt_netx::read_layers(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../netx/tests/data/alif/alif.net"))
            .unwrap();
    let basalt_netx::LayerKind::Dense { bias, weight, .. } = &mut layers[0].kind else { panic!("a dense layer") };
    *bias = Some(vec![0.0; weight.nrows()]);
    let e = Network::from_layers(&layers, &device).unwrap_err();
    assert!(e.to_string().contains("batch norm of CUBA blocks without recurrence only"), "{e}");
}

/// slayer's resonate-and-fire neurons (`tools/oracle/slayer_rf.py`): lava-dl's exports of
/// Input(8) -> {rf, rf_iz}.Dense(8 -> 6) -> Dense(6 -> 3) read back as a complex synapse
/// into RF / RF-IZ neurons with slayer's rounded sin/cos decays; the RF block's real and
/// imaginary states and every block's spikes equal slayer's exactly, the loss and the
/// gradients w.r.t. the real, imaginary and output weights and the input match to 1e-5; the
/// Process simulation of the file equals Lava's run, and a network trained here exports and
/// deploys with identical spikes. Learnable sin and cos decays (`tools/oracle/slayer_rf_learn.py`)
/// get slayer's gradients (1e-5), learn and deploy. Mismatched synapses and bad parameters
/// are clear errors.
#[test]
fn rf_neurons_equal_slayers_and_deploy_exactly() {
    use basalt_slayer::neuron::rf::RfNeuron;
    use basalt_slayer::neuron::Neuron;
    let device = Device::default().autodiff();
    for (stem, izhikevich, params) in [("rf", false, (0.1, 7.0, 0.05)), ("rf_iz", true, (0.2, 9.0, 0.1))] {
        let file = format!("{stem}.npz");
        let truth = |name: &str| npz_array(&test_data(&format!("rf/{file}")), name);
        let net = Network::from_netx(test_data(&format!("rf/{stem}.net")), &device).unwrap();
        let Neuron::Rf(rf) = &net.blocks[0].neuron else { panic!("{stem}: block 1 is RF") };
        assert_eq!(rf.is_izhikevich(), izhikevich);
        let (sin, cos, _) = rf.device_params();
        assert_eq!([sin, cos], [truth("sin_decay").data[0], truth("cos_decay").data[0]], "{stem}: decays");
        // The same neurons from slayer's parameters.
        let (threshold, period, decay) = params;
        let built = if izhikevich {
            RfNeuron::izhikevich(threshold, period, decay)
        } else {
            RfNeuron::new(threshold, period, decay)
        };
        assert_eq!(&built.unwrap(), rf, "{stem}: neurons from (threshold, period, decay)");

        let x = truth("x");
        let xt = f32_tensor(&x.data, [2, 8, 50], &device).require_grad();
        let outs = net.forward_train(xt.clone()).unwrap();
        for (k, out) in outs.iter().enumerate() {
            assert_eq!(values(out), truth(&format!("out{k}")).data, "{stem}: block {k}");
        }
        let z = net.blocks[0].synapse.forward(outs[0].clone()).unwrap();
        let (real, imag) = rf.states(z).unwrap();
        assert_eq!(values(&real), truth("real").data, "{stem}: real state");
        assert_eq!(values(&imag), truth("imag").data, "{stem}: imaginary state");
        let loss = basalt_slayer::SpikeRate::new(0.2, 0.03)
            .unwrap()
            .forward(outs[2].clone(), int_tensor(&[0.0, 2.0], [2], &device))
            .unwrap();
        let grads = loss_against(loss, truth("loss").data[0], stem);
        assert_close(
            &format!("{stem} x"),
            xt.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(),
            truth("grad_x").data,
        );
        let stacked = weight_grad(&net.blocks[0].synapse, &grads).unwrap();
        let (re, im) = stacked.split_at(6 * 8);
        assert_close(&format!("{stem} real weights"), re.to_vec(), truth("grad_w_real").data);
        assert_close(&format!("{stem} imaginary weights"), im.to_vec(), truth("grad_w_imag").data);
        assert_close(&format!("{stem} output weights"), dense_grad(&net, 1, &grads), truth("grad_w_out").data);
        assert_eq!(
            net.netx_layers().unwrap(),
            basalt_netx::read_layers(test_data(&format!("rf/{stem}.net"))).unwrap(),
            "{stem}: exports as lava-dl does"
        );
        // Bad pairings and parameters.
        let synapse = net.blocks[0].synapse.as_complex().unwrap().weight.val().detach();
        let real_only =
            basalt_slayer::Block::new(Synapse::Dense(basalt_slayer::Dense::new(synapse)), Neuron::Rf(rf.clone()));
        let e = real_only.forward(outs[0].clone()).unwrap_err();
        assert!(e.to_string().contains("resonate-and-fire neurons take a complex synapse"), "{e}");
        deploys_exactly("rf", stem, net);
    }
    // Learnable sin and cos decays (`tools/oracle/slayer_rf_learn.py`).
    let truth = |name: &str| npz_array(&test_data("rf/rf_learn.npz"), name);
    let net = Network::from_netx(test_data("rf/rf_learn.net"), &device).unwrap();
    let mut blocks = net.blocks.into_iter();
    let rf_block = blocks.next().unwrap().with_learnable_decays(&device).unwrap();
    let net = Network { input: net.input, blocks: std::iter::once(rf_block).chain(blocks).collect() };
    let xt = f32_tensor(&truth("x").data, [2, 8, 50], &device).require_grad();
    let outs = net.forward_train(xt.clone()).unwrap();
    for (k, out) in outs.iter().enumerate() {
        assert_eq!(values(out), truth(&format!("out{k}")).data, "rf_learn: block {k}");
    }
    let loss = basalt_slayer::SpikeRate::new(0.2, 0.03)
        .unwrap()
        .forward(outs[2].clone(), int_tensor(&[0.0, 2.0], [2], &device))
        .unwrap();
    let grads = loss_against(loss, truth("loss").data[0], "rf_learn");
    assert_close("rf_learn x", xt.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(), truth("grad_x").data);
    let d = net.blocks[0].rf_decays.as_ref().unwrap();
    for (name, p) in [("sin", &d.sin), ("cos", &d.cos)] {
        let g = p.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap();
        assert_close(&format!("rf_learn {name} decay"), g, truth(&format!("grad_{name}")).data);
    }
    let stacked = weight_grad(&net.blocks[0].synapse, &grads).unwrap();
    assert_close("rf_learn real weights", stacked[..48].to_vec(), truth("grad_w_real").data);
    assert_close("rf_learn imaginary weights", stacked[48..].to_vec(), truth("grad_w_imag").data);
    // slayer's clamp keeps the gain below 4096.
    let big = basalt_slayer::neuron::learned::LearnableRfDecays::new((4000.0, 3000.0), &device).clamped();
    let (sin, cos) = big.values().unwrap();
    assert!((sin.hypot(cos) - 4095.0).abs() < 1e-3 && (sin / cos - 4.0 / 3.0).abs() < 1e-6, "{sin}, {cos}");
    let empty = net.blocks[0].forward_train(Tensor::zeros([1, 8, 0], &device)).unwrap();
    assert_eq!(empty.dims(), [1, 6, 0], "no steps, no spikes (and no panic)");
    let cuba = net.blocks[1].clone().with_learnable_decays(&device).unwrap().with_norm(&device).unwrap();
    assert_eq!(cuba.forward_train(Tensor::zeros([1, 6, 0], &device)).unwrap().dims(), [1, 3, 0]);
    deploys_exactly("rf", "rf_learn", net);

    let rf = RfNeuron::new(0.1, 7.0, 0.05).unwrap();
    let e = basalt_slayer::InputBlock::new(Neuron::Rf(rf), [8, 1, 1]).unwrap_err();
    assert!(e.to_string().contains("RF (complex input)"), "{e}");
    let e = RfNeuron::new(0.1, 3.0, 0.05).unwrap_err();
    assert!(e.to_string().contains("need at least 4 steps"), "{e}");
    assert!(RfNeuron::new(f64::NAN, 7.0, 0.05).is_err() && RfNeuron::new(0.1, 7.0, 1.5).is_err());
    assert!(RfNeuron::from_device_params(4000.0, 3000.0, 6.0, false).is_err(), "gain past 4096");
    let e = Synapse::complex(Tensor::zeros([3, 2], &device), Tensor::zeros([2, 2], &device)).unwrap_err();
    assert!(matches!(e, SlayerError::Shape { .. }), "{e}");
}

/// SHD-format files written by h5py (`tools/oracle/shd_files.py`: float16 times / uint16
/// units / uint8 labels as SHD's own, and float64 / int32 / int16, with an empty sample)
/// read to the values h5py reads, and bin to slayer's `Event.fill_tensor` tensors exactly.
/// A truncated file, a file without the SHD datasets and mismatched sequences are clear
/// errors.
#[test]
fn shd_files_read_and_bin_as_slayers() {
    use basalt_slayer::data::{read_shd, SHD_CHANNELS};
    let all = npz::read(&test_data("shd/shd.npz")).unwrap();
    let truth = |name: &str| all.iter().find(|a| a.name == name).unwrap().data.clone();
    for (stem, samples) in [("shd_f16", 4), ("shd_f64", 3)] {
        let path = test_data(&format!("shd/{stem}.h5"));
        let got = read_shd(&path).unwrap();
        assert_eq!(got.len(), samples);
        let labels: Vec<f64> = got.iter().map(|s| s.label as f64).collect();
        assert_eq!(labels, truth(&format!("{stem}_labels")));
        for (i, s) in got.iter().enumerate() {
            assert_eq!(s.times_s, truth(&format!("{stem}_{i}_times")), "{stem} sample {i} times");
            let units: Vec<f64> = s.units.iter().map(|&u| u as f64).collect();
            assert_eq!(units, truth(&format!("{stem}_{i}_units")), "{stem} sample {i} units");
            let bins: Vec<f64> = s.bin(SHD_CHANNELS, 1000, 1.0).into_iter().map(f64::from).collect();
            assert_eq!(bins, truth(&format!("{stem}_{i}_bins")), "{stem} sample {i} bins");
        }
        assert!(got.iter().any(|s| s.times_s.is_empty()) == (stem == "shd_f16"), "the empty sample reads empty");
    }
    // Truncated: a clear error, no panic.
    let bytes = std::fs::read(test_data("shd/shd_f16.h5")).unwrap();
    let dir = std::env::temp_dir().join(format!("basalt-shd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for cut in [100, bytes.len() / 2, bytes.len() - 200] {
        let p = dir.join("cut.h5");
        std::fs::write(&p, &bytes[..cut]).unwrap();
        assert!(read_shd(&p).is_err(), "truncated at {cut}");
    }
    // Not SHD: a netx file.
    let e = read_shd(test_data("norm_decay/dense.net")).unwrap_err();
    assert!(e.to_string().contains("spikes/times"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// slayer's weight normalization (`tools/oracle/slayer_weight_norm.py`: Input(2x6x6) ->
/// Conv(weight_norm) -> Flatten -> Dense(weight_norm), gains moved off ||v||): every block's
/// spikes equal slayer's, and the gradients w.r.t. both directions `v`, both gains `g` and
/// the input match to 1e-5.
#[test]
fn weight_norm_equals_slayers() {
    use basalt_slayer::neuron::Neuron;
    use basalt_slayer::{Block, Conv, ConvGeometry, CubaNeuron, Dense, InputBlock};
    use burn::module::Param;
    let device = Device::default().autodiff();
    let all = npz::read(&test_data("weight_norm/weight_norm.npz")).unwrap();
    let truth = |name: &str| all.iter().find(|a| a.name == name).unwrap().clone();
    let cuba = || Neuron::Cuba(CubaNeuron::new(0.5, 0.25, 0.1).unwrap());
    let gain = |name: &str| {
        let g = truth(name);
        Some(Param::from_tensor(f32_tensor(&g.data, [g.data.len()], &device)))
    };
    let geometry = ConvGeometry { in_shape: [2, 6, 6], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 };
    let mut conv =
        Conv::new(f32_tensor(&truth("v1").data, [4, 2, 3, 3], &device), geometry).unwrap().with_weight_norm();
    conv.gain = gain("g1");
    let mut dense = Dense::new(f32_tensor(&truth("v3").data, [3, 64], &device)).with_weight_norm();
    dense.gain = gain("g3");
    let net = Network {
        input: Some(InputBlock::new(cuba(), [2, 6, 6]).unwrap()),
        blocks: vec![
            Block::new(Synapse::Conv(conv), cuba()),
            Block::new(Synapse::Dense(dense), cuba()).after_flatten(),
        ],
    };
    let x = f32_tensor(&truth("x").data, [2, 72, 50], &device).require_grad();
    let outs = net.forward_train(x.clone()).unwrap();
    for (ours, theirs) in [(0, 0), (1, 1), (2, 3)] {
        assert_eq!(values(&outs[ours]), truth(&format!("out{theirs}")).data, "block {theirs}");
    }
    let loss = basalt_slayer::SpikeRate::new(0.2, 0.03)
        .unwrap()
        .forward(outs[2].clone(), int_tensor(&[1.0, 2.0], [2], &device));
    let grads = loss_against(loss.unwrap(), truth("loss").data[0], "weight norm");
    assert_close("x", x.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(), truth("grad_x").data);
    let (Synapse::Conv(c), Synapse::Dense(d)) = (&net.blocks[0].synapse, &net.blocks[1].synapse) else {
        unreachable!()
    };
    let flat = |t: Option<Tensor<1>>| t.unwrap().try_into_vec_as::<f32>().unwrap();
    assert_close("v1", c.weight.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(), truth("grad_v1").data);
    assert_close("v3", d.weight.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(), truth("grad_v3").data);
    assert_close("g1", flat(c.gain.as_ref().unwrap().grad(&grads)), truth("grad_g1").data);
    assert_close("g3", flat(d.gain.as_ref().unwrap().grad(&grads)), truth("grad_g3").data);
    // The export writes the normalized, quantized weights: a plain copy gives the same layers.
    let plain = Dense::new(d.effective_weight().detach());
    assert_eq!(plain.netx_weights().unwrap(), d.netx_weights().unwrap());
}

/// Learnable ALIF decays (`tools/oracle/slayer_alif_decays.py`: slayer's alif Input ->
/// Dense(8 -> 12) -> Dense(12 -> 3) with `requires_grad=True`, decays off round values):
/// every block's spikes exact, the loss, and the gradients w.r.t. the weights, the input
/// and the current and voltage decays equal slayer's; the learnt decays export and the
/// trained network deploys exactly.
#[test]
fn learnable_alif_decays_equal_slayers_and_deploy_exactly() {
    let learnable = |net: Network, device: &Device| Network {
        input: net.input,
        blocks: net.blocks.into_iter().map(|b| b.with_learnable_decays(device).unwrap()).collect(),
    };
    let blocks = ["out0", "out1", "out2"];
    let (net, _, grads) = forward_against_slayer(("alif_decays", "alif"), &blocks, [0.0, 2.0], learnable);
    let truth = |name: &str| npz_array(&test_data("alif_decays/alif.npz"), name);
    for (k, block) in net.blocks.iter().enumerate() {
        let i = k + 1;
        assert!(matches!(block.neuron, basalt_slayer::neuron::Neuron::Alif(_)), "block {i} is ALIF");
        let w = weight_grad(&block.synapse, &grads).unwrap();
        assert_close(&format!("grad_w{i}"), w, truth(&format!("grad_w{i}")).data);
        let d = block.decays.as_ref().unwrap();
        for (name, p) in [("cd", &d.current), ("vd", &d.voltage)] {
            let g = p.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap();
            assert_close(&format!("{name}{i}"), g, truth(&format!("grad_{name}{i}")).data);
        }
        // slayer's threshold and refractory decays get zero gradients: they are not learnt.
        assert_eq!(truth(&format!("grad_td{i}")).data, [0.0]);
        assert_eq!(truth(&format!("grad_rd{i}")).data, [0.0]);
    }
    deploys_exactly("alif_decays", "alif", net);
}

/// Learnable sigma-delta thresholds (`tools/oracle/slayer_sd_threshold.py`: slayer's
/// sigma-delta Input -> Dense 12 -> 16 -> Dense 16 -> 8 -> Output 8 -> 3, both Dense blocks
/// with `requires_grad=True`): every block's messages exact, the squared error, and its
/// gradients w.r.t. the weights, the input and both thresholds equal slayer's; after a few
/// Adam steps the thresholds have moved, export as int(θ·64), and the network's Process
/// simulation equals its own forward exactly (three synapse hops later).
#[test]
fn learnable_sigma_delta_thresholds_equal_slayers_and_deploy_exactly() {
    use burn::optim::{AdamConfig, GradientsParams};
    let device = Device::default().autodiff();
    let truth = |name: &str| npz_array(&test_data("sd_threshold/sd.npz"), name);
    let net = Network::from_netx(test_data("sd_threshold/sd.net"), &device).unwrap();
    let mut net = Network {
        input: net.input,
        blocks: net
            .blocks
            .into_iter()
            .enumerate()
            .map(|(k, b)| if k < 2 { b.with_learnable_threshold(&device).unwrap() } else { b })
            .collect(),
    };
    let e = net.blocks[2].clone().with_learnable_threshold(&device).unwrap_err().to_string();
    assert!(e.contains("only sigma-delta Dense, Conv and ConvT blocks have one"), "{e}");
    let steps = 40;
    let x = f32_tensor(&truth("x").data, [2, 12, steps], &device).require_grad();
    let outs = net.forward_train(x.clone()).unwrap();
    for (k, out) in outs.iter().enumerate() {
        assert_eq!(values(out), truth(&format!("out{k}")).data, "block {k}");
    }
    let target = tensor_of(&truth("target"), &device);
    let loss = (outs.last().unwrap().clone() - target.clone()).powi_scalar(2).sum();
    let grads = loss_against(loss, truth("loss").data[0], "sigma-delta thresholds");
    assert_close("x", x.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(), truth("grad_x").data);
    for (k, block) in net.blocks.iter().enumerate() {
        let i = k + 1;
        assert_close(&format!("w{i}"), weight_grad(&block.synapse, &grads).unwrap(), truth(&format!("grad_w{i}")).data);
        if let Some(t) = &block.threshold {
            let g = t.value.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap();
            assert_close(&format!("th{i}"), g, truth(&format!("grad_th{i}")).data);
        }
    }

    let before: Vec<f64> = net.blocks[..2].iter().map(|b| b.threshold.as_ref().unwrap().current().unwrap()).collect();
    let mut optim = AdamConfig::new().init();
    for _ in 0..5 {
        let out = net.forward_train(f32_tensor(&truth("x").data, [2, 12, steps], &device)).unwrap().pop().unwrap();
        let grads = GradientsParams::from_grads((out - target.clone()).powi_scalar(2).sum().backward(), &net);
        net = optim.step(0.01, net, grads).clamped();
    }
    let after: Vec<f64> = net.blocks[..2].iter().map(|b| b.threshold.as_ref().unwrap().current().unwrap()).collect();
    // They moved by more than a 1/64 step: the deployed thresholds change too.
    let steps64 = |v: &[f64]| v.iter().map(|t| (t * 64.0).trunc()).collect::<Vec<_>>();
    assert!(steps64(&before).iter().zip(steps64(&after)).all(|(b, a)| *b != a), "thresholds {before:?} -> {after:?}");
    let path = std::env::temp_dir().join(format!("basalt-slayer-sd-threshold-{}.net", std::process::id()));
    net.export_netx(&path).unwrap();
    for (k, layer) in basalt_netx::read_layers(&path).unwrap()[1..3].iter().enumerate() {
        let want = (after[k] * 64.0).trunc();
        assert!(
            matches!(layer.neuron, Some(basalt_netx::NeuronConfig { kind: basalt_netx::NeuronKind::Sdnn { vth_mant, .. }, .. }) if vth_mant == want),
            "layer {}: {:?}",
            k + 1,
            layer.neuron
        );
    }
    let hops = 3;
    let sample = &truth("x").data[12 * steps..];
    let q64: Vec<f64> = sample.iter().map(|&x| ((x as f32 * 32.0).round_ties_even() * 2.0) as f64).collect();
    let want = values(net.forward(f32_tensor(sample, [1, 12, steps], &device)).unwrap().last().unwrap());
    let got = simulate_sdnn(&path, &q64, steps, hops);
    let _ = std::fs::remove_file(&path);
    for k in 0..3 {
        let lava = &got[k * (steps + hops) + hops..(k + 1) * (steps + hops)];
        let ours: Vec<f64> = want[k * steps..(k + 1) * steps].iter().map(|v| v * SD_SCALE).collect();
        assert_eq!(lava, &ours[..], "output {k}");
    }
    assert!(want.iter().filter(|v| **v != 0.0).count() > 20, "the output is not silent");
}

/// slayer's Recurrent (CUBA and ALIF) and KWTA blocks carry their neurons' states, and KWTA
/// its last output step, from one forward call to the next
/// (`tools/oracle/slayer_persistent_state.py`): four calls, the third with another batch size
/// (from rest), give slayer's outputs exactly; after `reset_state` a call starts from rest.
#[test]
fn recurrent_and_kwta_blocks_carry_their_state_as_slayers() {
    use basalt_slayer::neuron::alif::AlifNeuron;
    use basalt_slayer::neuron::Neuron;
    use basalt_slayer::{Block, CubaNeuron, Dense};
    let device = Device::default();
    let o = |name: &str| npz_array(&test_data("persistent/persistent.npz"), name);
    let dense = |a: &NamedArray| Dense::new(f32_tensor(&a.data, [a.shape[0], a.shape[1]], &device));
    let input = |k: usize| {
        let x = o(&format!("x{k}"));
        f32_tensor(&x.data, [x.shape[0], x.shape[1], x.shape[2]], &device)
    };
    let cuba = || Neuron::Cuba(CubaNeuron::new(0.5, 0.25, 0.1).unwrap());
    let alif = Neuron::Alif(AlifNeuron::new(1.0, 0.5, [0.3, 0.1, 0.1, 0.2]).unwrap());
    let blocks = [
        ("rec", Block::recurrent(dense(&o("rec_w")), dense(&o("rec_r")), cuba()).unwrap()),
        ("alif", Block::recurrent(dense(&o("alif_w")), dense(&o("alif_r")), alif).unwrap()),
        ("kwta", Block::kwta(dense(&o("kwta_w")), cuba(), 2, 0.5).unwrap()),
    ];
    for (name, block) in blocks {
        for k in 0..4 {
            let got = values(&block.forward(input(k)).unwrap());
            let want = o(&format!("{name}_out{k}")).data;
            let differ = got.iter().zip(&want).filter(|(a, b)| a != b).count();
            assert!(got.len() == want.len() && differ == 0, "{name}: call {k}: {differ} outputs differ");
        }
        block.reset_state();
        assert!(values(&block.forward(input(0)).unwrap()) == o(&format!("{name}_out0")).data, "{name}: reset");
    }
}
