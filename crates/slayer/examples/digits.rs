//! Train -> export -> deploy on scikit-learn's 8x8 digits (1797 images, committed in
//! `data/digits.npz` by `tools/data/make_digits.py`): a 64 -> 128 -> 10 CUBA network trained
//! with slayer's surrogate gradients and SpikeRate loss on rate-coded images, exported to
//! netx, loaded by basalt-netx and simulated as Lava Processes in fixed point — with the
//! same spikes as the trained model on every held-out image.
//!
//! cargo run --release -p basalt-slayer --example digits [-- EPOCHS [DEVICE]]
//!
//! DEVICE: `cpu` (default) or `wgpu` (a GPU; build with `--features wgpu`).

use std::path::PathBuf;
use std::time::Instant;

use basalt_core::persist::npz;
use basalt_core::prelude::{sink, source, Network as ProcessNetwork, RunConfig, RunSteps};
use basalt_slayer::device::training_device;
use basalt_slayer::stats::{epoch_progress, LearningStats};
use basalt_slayer::train::{rate_encode, Assistant};
use basalt_slayer::{classifier, CubaNeuron, Network, SpikeRate, Tensor, TensorData};
use burn::tensor::Int;

const STEPS: usize = 32;
const BATCH: usize = 32;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let epochs: usize = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(40);
    let device_name = std::env::args().nth(2).unwrap_or_else(|| "cpu".into());
    let device = training_device(&device_name)?;
    let data = npz::read(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/digits.npz"))?;
    let get = |k: &str| data.iter().find(|a| a.name == k).map(|a| a.data.clone()).ok_or(format!("no `{k}`"));
    let (images, labels) = (get("images")?, get("labels")?);
    let n = labels.len();
    // A fixed shuffle, then 80 % for training and 20 % held out.
    let mut order: Vec<usize> = (0..n).collect();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for i in (1..n).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        order.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    let (train, test) = order.split_at(n * 4 / 5);
    let encode = |idx: &[usize]| -> Vec<f32> {
        idx.iter().flat_map(|&i| rate_encode(&images[i * 64..(i + 1) * 64], 16.0, STEPS)).collect()
    };
    device.seed(7);
    let batch = |idx: &[usize]| {
        let x = Tensor::<3>::from_data(TensorData::new(encode(idx), [idx.len(), 64, STEPS]), &device);
        let y: Vec<i64> = idx.iter().map(|&i| labels[i] as i64).collect();
        (x, Tensor::<1, Int>::from_data(TensorData::new(y, [idx.len()]), &device))
    };
    // slayer's NMNIST tutorial neuron (threshold 1.25, decays 0.25 / 0.03, tau_grad 0.03,
    // scale_grad 3).
    let neuron = CubaNeuron::new(1.25, 0.25, 0.03)?.surrogate(0.03, 3.0);
    let mut net = Network::dense(&[64, 128, 10], &neuron, 1.0, &device);
    let mut assistant = Assistant::new(SpikeRate::new(0.2, 0.03)?, 3e-3);
    let t0 = Instant::now();
    let mut stats = LearningStats::new();
    for epoch in 1..=epochs {
        // Reduce the learning rate by 10/3 after 60 % and 80 % of the epochs.
        if epoch * 10 == epochs * 6 + 10 || epoch * 10 == epochs * 8 + 10 {
            assistant.reduce_lr(10.0 / 3.0);
        }
        let bar = epoch_progress(epoch, train.len().div_ceil(BATCH));
        for chunk in train.chunks(BATCH) {
            let (x, y) = batch(chunk);
            net = assistant.train(net, x, y, &mut stats.training)?;
            bar.set_message(stats.training.to_string());
            bar.inc(1);
        }
        bar.finish_and_clear();
        for chunk in test.chunks(BATCH) {
            let (x, y) = batch(chunk);
            assistant.test(&net, x, y, &mut stats.testing)?;
        }
        println!("[Epoch {epoch:2}/{epochs}] {stats}({:.1} s)", t0.elapsed().as_secs_f64());
        stats.update();
    }
    let stats_dir = std::env::temp_dir().join("basalt-digits-stats");
    std::fs::create_dir_all(&stats_dir)?;
    stats.save(&stats_dir)?;
    stats.plot(&stats_dir)?;
    println!("Learning statistics: loss.txt, accuracy.txt, loss.png, accuracy.png in {}", stats_dir.display());

    // Export, load as Processes, simulate every held-out image in fixed point.
    let path = std::env::temp_dir().join("basalt-digits.net");
    net.export_netx(&path)?;
    let (x, y) = batch(test);
    let want = net.forward(x)?.pop().ok_or("empty network")?;
    let want_spikes: Vec<f32> = want.clone().try_into_vec_as::<f32>()?;
    let model_correct = classifier::predict(want).equal(y).int().sum().into_scalar::<i64>();
    let inputs = encode(test);
    let mut identical = 0;
    let mut deployed_correct = 0;
    for (k, &i) in test.iter().enumerate() {
        let mut netx = basalt_netx::load(&path, &basalt_netx::Options::default())?;
        let sim: &mut ProcessNetwork = &mut netx.net;
        let frame = inputs[k * 64 * STEPS..(k + 1) * 64 * STEPS].iter().map(|&v| f64::from(v)).collect();
        let src = sim.add(source::RingBuffer::new(ndarray::ArrayD::from_shape_vec(vec![64, STEPS], frame)?))?;
        sim.connect(src.s_out(), &netx.input)?;
        let out = sim.add(sink::RingBuffer::new(&[10], STEPS))?;
        sim.connect(netx.output.clone(), &out.a_in())?;
        let mut rt = sim.runtime(&RunConfig::fixed_pt())?;
        rt.run(RunSteps::new(STEPS as u64))?;
        let got: Vec<f32> = rt.get(&out.data())?.iter().map(|&v| v as f32).collect();
        if got[..] == want_spikes[k * 10 * STEPS..(k + 1) * 10 * STEPS] {
            identical += 1;
        }
        let counts: Vec<f32> = got.chunks(STEPS).map(|c| c.iter().sum()).collect();
        let best = counts.iter().enumerate().fold(0, |b, (j, &c)| if c > counts[b] { j } else { b });
        if best == labels[i] as usize {
            deployed_correct += 1;
        }
    }
    println!(
        "Exported to {}; Lava-process simulation (fixed point) of the {} held-out images: {identical} with spikes identical to the trained model's",
        path.display(),
        test.len()
    );
    println!(
        "Test accuracy: trained model {:.2} %, deployed network {:.2} %",
        100.0 * model_correct as f64 / test.len() as f64,
        100.0 * deployed_correct as f64 / test.len() as f64
    );
    Ok(())
}
