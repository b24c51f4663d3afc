//! On-chip learning of a temporal pattern with STDP, in Loihi bit-approximate fixed point.
//!
//! Ten inputs drive one LIF neuron through a `LearningDense` with pair-based STDP (Lava's
//! `STDPLoihi`). Every 20 steps inputs 0..5 fire in a fixed sequence (steps 2, 3, .., 6 of
//! the period); inputs 5..10 fire at random times at the same average rate. Inputs that
//! fire just before the neuron are potentiated, the others depressed: the pattern's weights
//! grow, the noise weights shrink and the neuron stops answering the noise.
//!
//! `cargo run --release --example stdp` (the weight plot goes to `target/plots/`).

use basalt::prelude::*;
use ndarray::{Array2, ArrayD, IxDyn};

const INPUTS: usize = 10;
const PATTERN: usize = 5;
const PERIOD: usize = 20;
const STEPS: usize = 3000;

/// A small deterministic generator (xorshift64*), so the example needs no extra crate.
struct Rng(u64);
impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Input spikes (INPUTS x STEPS): the pattern every period, Poisson noise elsewhere.
fn input_spikes() -> ArrayD<f64> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut s = ArrayD::zeros(IxDyn(&[INPUTS, STEPS]));
    for t in 0..STEPS {
        let phase = t % PERIOD;
        for i in 0..PATTERN {
            if phase == 2 + i {
                s[[i, t]] = 1.0;
            }
        }
        for i in PATTERN..INPUTS {
            if rng.uniform() < 1.0 / PERIOD as f64 {
                s[[i, t]] = 1.0;
            }
        }
    }
    s
}

/// (spikes during the pattern window, spikes elsewhere) over the periods in `range`.
fn spike_counts(spikes: &ArrayD<f64>, range: std::ops::Range<usize>) -> (usize, usize) {
    let (mut inside, mut outside) = (0, 0);
    for t in range.start * PERIOD..range.end * PERIOD {
        if spikes[[t, 0]] != 0.0 {
            // The pattern's spikes arrive one step after they are sent, at phases 3..=7.
            if (3..=3 + PATTERN).contains(&(t % PERIOD)) {
                inside += 1;
            } else {
                outside += 1;
            }
        }
    }
    (inside, outside)
}

fn main() -> basalt::Result<()> {
    let mut net = Network::new();
    let input = net.add_named("input", source::RingBuffer::new(input_spikes()))?;
    let rule = LearningRule::stdp(1.0, 0.25, -0.5, 8.0, 8.0)?.t_epoch(1).rng_seed(1);
    let weights = Array2::from_elem((1, INPUTS), 100.0);
    let plastic = net.add_named("plastic", LearningDense::new(weights, rule).sign_mode(SignMode::Excitatory))?;
    let neuron = net.add_named("neuron", Lif::new(&[1]).du(4095.0).dv(410.0).vth(400.0))?;
    net.connect(input.s_out(), &plastic.s_in())?;
    net.connect(plastic.a_out(), &neuron.a_in())?;
    net.connect(neuron.s_out(), &plastic.s_in_bap())?;
    let monitor = net.add(Monitor::new())?;
    monitor.probe(&mut net, plastic.weights(), STEPS)?;
    monitor.probe(&mut net, neuron.s_out(), STEPS)?;

    let mut rt = net.runtime(&RunConfig::fixed_pt())?;
    println!("weights before: {}", basalt::display::numpy_str(&rt.get(&plastic.weights())?));
    rt.run(RunSteps::new(STEPS as u64))?;
    let w = rt.get(&plastic.weights())?;
    println!("weights after {STEPS} steps: {}", basalt::display::numpy_str(&w));
    let w: Vec<f64> = w.iter().copied().collect();
    let mean = |r: std::ops::Range<usize>| r.clone().map(|i| w[i]).sum::<f64>() / r.len() as f64;
    println!("mean weight: pattern inputs {:.1}, noise inputs {:.1}", mean(0..PATTERN), mean(PATTERN..INPUTS));
    let spikes = monitor.data(&rt, "neuron", "s_out")?;
    let periods = STEPS / PERIOD;
    for (name, range) in [("first", 0..20), ("last", periods - 20..periods)] {
        let (inside, outside) = spike_counts(&spikes, range);
        println!("{name} 20 periods: {inside} spikes during the pattern, {outside} elsewhere");
    }

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/plots");
    std::fs::create_dir_all(&dir)
        .map_err(|e| basalt::Error::Io { path: dir.display().to_string(), message: e.to_string() })?;
    let path = dir.join("stdp_weights.png");
    monitor.plot(&rt, "plastic", "weights", &path)?;
    println!("plotted the weights to {}", path.display());
    Ok(())
}
