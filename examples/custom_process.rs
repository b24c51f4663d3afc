//! A custom Process and its ProcessModel defined outside the library, as in Lava's
//! process tutorials: a `SpikeGenerator` that emits random spikes with a given probability,
//! driving Dense -> LIF. Shows the three pieces a user writes:
//! 1. the Process (Vars and ports), 2. typed port accessors through an extension trait,
//! 3. a CpuModel registered under a tag, selected by the RunConfig.
//!
//! `cargo run --release --example custom_process`

use std::sync::Arc;

use basalt::display::numpy_str;
use basalt::prelude::*;
use ndarray::Axis;

/// Emits a spike on each of its outputs with probability `spike_prob` per step.
struct SpikeGenerator {
    shape: Vec<usize>,
    spike_prob: f64,
    seed: u64,
}

impl Process for SpikeGenerator {
    const TYPE_NAME: &'static str = "examples.SpikeGenerator";
    fn build(self, b: &mut ProcessBuilder<'_>) -> basalt::Result<()> {
        if !(0.0..=1.0).contains(&self.spike_prob) {
            return Err(basalt::Error::InvalidParameter {
                process: b.name().into(),
                param: "spike_prob".into(),
                reason: format!("must be within [0, 1], got {}", self.spike_prob),
            });
        }
        b.out_port("s_out", &self.shape)?;
        b.var("spike_prob", &[1], self.spike_prob)?;
        b.var("seed", &[1], self.seed as f64)?;
        Ok(())
    }
}

/// Typed accessors for the generator's handle (user crates extend `Handle` this way).
trait SpikeGeneratorPorts {
    fn s_out(&self) -> OutPort;
}
impl SpikeGeneratorPorts for Handle<SpikeGenerator> {
    fn s_out(&self) -> OutPort {
        self.out_port("s_out")
    }
}

/// The float model: a xorshift64* generator seeded from the `seed` Var.
struct PySpikeGenModel {
    spike_prob: f64,
    state: u64,
}

impl PySpikeGenModel {
    /// Uniform in [0, 1).
    fn next_uniform(&mut self) -> f64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        (self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl CpuModel for PySpikeGenModel {
    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        let p = self.spike_prob;
        let out = io.send(0);
        for o in out.iter_mut() {
            *o = f64::from(u8::from(self.next_uniform() < p));
        }
        Ok(())
    }
    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        out[0] = if var == 0 { self.spike_prob } else { self.state as f64 };
        Ok(())
    }
    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        match var {
            0 if (0.0..=1.0).contains(&data[0]) => self.spike_prob = data[0],
            0 => return Err(ModelError::new("spike_prob must be within [0, 1]")),
            _ => self.state = (data[0] as u64).max(1),
        }
        Ok(())
    }
}

fn main() -> basalt::Result<()> {
    // Register the model next to the library's models.
    let mut registry = Registry::with_library();
    registry.register(ModelEntry::cpu(
        SpikeGenerator::TYPE_NAME,
        "PySpikeGenModel",
        &["floating_pt"],
        OutputTiming::SameStep,
        |p| {
            Ok(Box::new(PySpikeGenModel {
                spike_prob: p.var("spike_prob")?.data[0],
                state: (p.var("seed")?.data[0] as u64).max(1),
            }) as Box<dyn CpuModel>)
        },
    ))?;

    let mut net = Network::new();
    let spike_gen = net.add_named("spike_gen", SpikeGenerator { shape: vec![3], spike_prob: 0.2, seed: 42 })?;
    let dense = net.add_named("dense", Dense::new(matrix(&[[1.5, 1.0, 0.5], [0.5, 1.0, 1.5]])))?;
    let lif = net.add_named("lif", Lif::new(&[2]).du(0.1).dv(0.1).vth(10.0))?;
    net.connect(spike_gen.s_out(), &dense.s_in())?;
    net.connect(dense.a_out(), &lif.a_in())?;
    let monitor = net.add(Monitor::new())?;
    monitor.probe(&mut net, spike_gen.s_out(), 50)?;
    monitor.probe(&mut net, lif.v(), 50)?;
    monitor.probe(&mut net, lif.s_out(), 50)?;

    let cfg = RunConfig::floating_pt().with_registry(Arc::new(registry));
    let mut rt = net.runtime(&cfg)?;
    rt.run(RunSteps::new(50))?;
    let data = monitor.get_data(&rt)?;
    println!("input spikes per neuron: {}", numpy_str(&data["spike_gen"]["s_out"].sum_axis(Axis(0))));
    println!("LIF spikes per neuron:   {}", numpy_str(&data["lif"]["s_out"].sum_axis(Axis(0))));
    println!(
        "LIF v, last 5 steps:\n{}",
        numpy_str(&data["lif"]["v"].slice(ndarray::s![45.., ..]).to_owned().into_dyn())
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/plots");
    std::fs::create_dir_all(&path)
        .map_err(|e| basalt::Error::Io { path: path.display().to_string(), message: e.to_string() })?;
    monitor.plot(&rt, "lif", "v", path.join("custom_process_lif_v.png"))?;
    println!("plotted lif.v to {}", path.join("custom_process_lif_v.png").display());
    Ok(())
}
