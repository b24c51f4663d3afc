//! The CUBA E/I benchmark network (Brette et al. 2007, benchmark 2), built from library
//! processes only (`LifRefractory` + `Sparse`), run for 1 s of biological time
//! (10,000 steps of 0.1 ms). Prints the firing rate, synaptic events per second and the
//! realtime factor. `cargo run --release --example cuba`

use std::time::Instant;

use basalt::prelude::*;
use basalt::workloads::{cuba, cuba_network};

/// Counts spikes per neuron (a measurement process for this example).
struct SpikeCounter(usize);

impl Process for SpikeCounter {
    const TYPE_NAME: &'static str = "examples.SpikeCounter";
    fn build(self, b: &mut ProcessBuilder<'_>) -> basalt::Result<()> {
        b.in_port("s_in", &[self.0])?;
        b.var("count", &[1], 0.0)?;
        Ok(())
    }
}

struct CounterModel(f64);

impl CpuModel for CounterModel {
    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        self.0 += io.recv(0).iter().filter(|&&s| s != 0.0).count() as f64;
        Ok(())
    }
    fn read_var(&self, _var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        out[0] = self.0;
        Ok(())
    }
    fn write_var(&mut self, _var: usize, data: &[f64]) -> Result<(), ModelError> {
        self.0 = data[0];
        Ok(())
    }
}

fn main() -> basalt::Result<()> {
    let steps: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let t0 = Instant::now();
    let (mut net, neurons) = cuba_network(42)?;
    let counter = net.add_named("counter", SpikeCounter(cuba::N))?;
    net.connect(neurons.s_out(), &counter.in_port("s_in"))?;
    let mut registry = Registry::with_library();
    registry.register(ModelEntry::cpu(
        SpikeCounter::TYPE_NAME,
        "CounterModel",
        &["floating_pt"],
        OutputTiming::SameStep,
        |_| Ok(Box::new(CounterModel(0.0)) as Box<dyn CpuModel>),
    ))?;
    let cfg = RunConfig::floating_pt().with_registry(std::sync::Arc::new(registry));
    let mut rt = net.runtime(&cfg)?;
    let build = t0.elapsed();
    let t1 = Instant::now();
    rt.run(RunSteps::new(steps))?;
    let run = t1.elapsed().as_secs_f64();
    let spikes = rt.get(&counter.var("count"))?[[0]];
    let synapses = rt.get(&basalt::VarRef { proc: net.find("synapses")?, name: "weights".into() })?.len();
    let events = spikes * synapses as f64 / cuba::N as f64;
    let bio_s = steps as f64 * cuba::DT / 1000.0;
    println!("CUBA: {} neurons, {synapses} synapses, {steps} steps of {} ms", cuba::N, cuba::DT);
    println!("built and compiled in {:.2} s", build.as_secs_f64());
    println!("{spikes} spikes: mean rate {:.2} Hz", spikes / cuba::N as f64 / bio_s);
    println!("run: {run:.3} s, {:.3e} synaptic events/s, realtime factor {:.2}", events / run, bio_s / run);
    Ok(())
}
