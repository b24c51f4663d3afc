//! Training throughput of the slayer issue's workload: a 200 -> 256 -> 10 CUBA dense
//! network, batch 32, T = 100 steps, random input spikes (rate 0.1) and labels, SpikeRate
//! loss, Adam: one forward + backward + optimizer step per iteration, on the CPU device.
//! Run with `RAYON_NUM_THREADS=1` for the one-thread figure (`benches/peers/train_compare.sh`
//! does, and times lava-dl and snnTorch on the same workload).
//!
//! A second workload makes the hidden layer a CUBA Recurrent block (256 x 256 recurrent
//! weights), whose dynamics and backward through time run as one operation.
//!
//! Throughput is reported in elements/s = training samples per second.

use basalt_slayer::neuron::Neuron;
use basalt_slayer::train::{Assistant, LearningStat};
use basalt_slayer::{Block, CubaNeuron, Dense, Device, Network, SpikeRate, Synapse, Tensor, TensorData};
use burn::tensor::Int;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const BATCH: usize = 32;
const STEPS: usize = 100;

fn bench(c: &mut Criterion) {
    let device = Device::default().autodiff();
    device.seed(1);
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let x: Vec<f32> = (0..BATCH * 200 * STEPS).map(|_| f32::from(u8::from(rand() < 0.1))).collect();
    let y: Vec<i64> = (0..BATCH).map(|_| (rand() * 10.0) as i64).collect();
    let x = Tensor::<3>::from_data(TensorData::new(x, [BATCH, 200, STEPS]), &device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(y, [BATCH]), &device);
    let neuron = CubaNeuron::new(1.25, 0.25, 0.03).expect("neuron").surrogate(0.03, 3.0);
    let dense = Network::dense(&[200, 256, 10], &neuron, 1.0, &device);
    let recurrent = Network {
        input: None,
        blocks: vec![
            Block::recurrent(
                Dense::init(200, 256, 1.0, &device),
                Dense::init(256, 256, 1.0, &device),
                Neuron::Cuba(neuron.clone()),
            )
            .expect("a recurrent block"),
            Block::new(Synapse::Dense(Dense::init(256, 10, 1.0, &device)), Neuron::Cuba(neuron)),
        ],
    };
    let mut group = c.benchmark_group("slayer");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BATCH as u64));
    for (name, net) in [("train_200_256_10_b32_t100", dense), ("train_200_rec256_10_b32_t100", recurrent)] {
        let mut assistant = Assistant::new(SpikeRate::new(0.2, 0.03).expect("loss"), 1e-3);
        let mut net = Some(net);
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut stat = LearningStat::default();
                let n = net.take().expect("network");
                net = Some(assistant.train(n, x.clone(), y.clone(), &mut stat).expect("trains"));
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
