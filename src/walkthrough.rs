//! The network of Lava's walkthrough tutorial (LIF -> Dense -> LIF with monitors), in
//! float and in bit-accurate fixed point, shared by `examples/walkthrough.rs` and the
//! `basalt` command's default job.

use std::time::{Duration, Instant};

use crate::prelude::*;
use crate::workloads::LifDenseLif;
use basalt_core::process::monitor::MonitorData;

/// Number precision of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// `floating_pt` models.
    Float,
    /// Loihi bit-accurate `fixed_pt` models.
    Fixed,
}

impl Precision {
    /// The RunConfig selecting this precision.
    pub fn run_config(self) -> RunConfig {
        match self {
            Precision::Float => RunConfig::floating_pt(),
            Precision::Fixed => RunConfig::fixed_pt(),
        }
    }
    /// `float` or `fixed`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::Float => "float",
            Precision::Fixed => "fixed",
        }
    }
}

/// The walkthrough network with monitors on v, u and s_out of `lif1` and `lif2`.
pub struct Walkthrough {
    /// The network.
    pub net: Network,
    /// First LIF population (3 neurons, biased).
    pub lif1: Handle<Lif>,
    /// The Dense connection (2 x 3).
    pub dense: Handle<Dense>,
    /// Second LIF population (2 neurons).
    pub lif2: Handle<Lif>,
    /// Monitor holding all six probes.
    pub monitor: Handle<Monitor>,
}

/// Builds the walkthrough network (parameters as in `../shared/fixtures/README.md`),
/// probing `steps` steps.
pub fn build(precision: Precision, steps: usize) -> Result<Walkthrough> {
    let (l1, d, l2) = match precision {
        Precision::Float => (
            Lif::new(&[3]).vth(10.0).du(0.1).dv(0.1).bias_mant([1.1, 1.2, 1.3]),
            Dense::new(matrix(&[[0.4, 0.1, 0.2], [0.5, 0.9, 0.05]])),
            Lif::new(&[2]).vth(10.0).du(0.1).dv(0.1),
        ),
        Precision::Fixed => (
            Lif::new(&[3]).vth(1000.0).du(409.0).dv(409.0).bias_mant([880.0, 960.0, 1040.0]).bias_exp(3.0),
            Dense::new(matrix(&[[40.0, 10.0, 20.0], [50.0, 90.0, 5.0]])),
            Lif::new(&[2]).vth(1000.0).du(409.0).dv(409.0),
        ),
    };
    let LifDenseLif { mut net, lif1, dense, lif2 } = LifDenseLif::chain(l1, d, l2)?;
    let monitor = net.add_named("monitor", Monitor::new())?;
    for lif in [lif1, lif2] {
        monitor.probe(&mut net, lif.v(), steps)?;
        monitor.probe(&mut net, lif.u(), steps)?;
        monitor.probe(&mut net, lif.s_out(), steps)?;
    }
    Ok(Walkthrough { net, lif1, dense, lif2, monitor })
}

/// Result of [`run`]: the runtime (to read Vars or plot) and the recorded data.
pub struct WalkthroughRun {
    /// The runtime after the run.
    pub runtime: Runtime,
    /// The network's handles.
    pub walkthrough: Walkthrough,
    /// Monitor data.
    pub data: MonitorData,
    /// Wall time of `run` (compile excluded).
    pub run_time: Duration,
}

/// Compiles and runs the walkthrough for `steps` steps.
pub fn run(precision: Precision, steps: usize) -> Result<WalkthroughRun> {
    let w = build(precision, steps)?;
    let mut runtime = w.net.runtime(&precision.run_config())?;
    let t0 = Instant::now();
    runtime.run(RunSteps::new(steps as u64))?;
    let run_time = t0.elapsed();
    let data = w.monitor.get_data(&runtime)?;
    Ok(WalkthroughRun { runtime, walkthrough: w, data, run_time })
}

/// 1-based steps at which each neuron of a `(steps, n)` spike record fired (first `max`).
pub fn first_spikes(s: &ndarray::ArrayD<f64>, max: usize) -> Vec<Vec<usize>> {
    let n = s.shape().get(1).copied().unwrap_or(0);
    (0..n).map(|i| (0..s.shape()[0]).filter(|&t| s[[t, i]] != 0.0).map(|t| t + 1).take(max).collect()).collect()
}
