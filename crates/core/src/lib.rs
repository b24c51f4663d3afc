//! # basalt-core
//!
//! Lava's programming model in Rust: build spiking networks as graphs of Processes with
//! Vars and ports, compile them with a [`RunConfig`] that selects a ProcessModel per
//! process (float or Loihi bit-accurate fixed point), and run them on the CPU reference
//! runtime with Lava's exact timestep semantics.
//!
//! ```
//! use basalt_core::prelude::*;
//!
//! let mut net = Network::new();
//! let lif1 = net.add_named("lif1", Lif::new(&[3]).vth(10.0).du(0.1).dv(0.1).bias_mant([1.1, 1.2, 1.3]))?;
//! let dense = net.add_named("dense", Dense::new(matrix(&[[0.4, 0.1, 0.2], [0.5, 0.9, 0.05]])))?;
//! let lif2 = net.add_named("lif2", Lif::new(&[2]).vth(10.0).du(0.1).dv(0.1))?;
//! net.connect(lif1.s_out(), &dense.s_in())?;
//! net.connect(dense.a_out(), &lif2.a_in())?;
//! let mon = net.add(Monitor::new())?;
//! mon.probe(&mut net, lif2.v(), 100)?;
//! let mut rt = net.runtime(&RunConfig::floating_pt())?;
//! rt.run(RunSteps::new(100))?;
//! let v = mon.data(&rt, "lif2", "v")?;
//! assert_eq!(v.shape(), &[100, 2]);
//! # Ok::<(), basalt_core::Error>(())
//! ```

#![warn(missing_docs)]

mod compile;
pub mod error;
pub mod executable;
mod f64_bytes;
pub mod fixed;
pub mod graph;
mod json_text;
pub mod learning;
pub mod model;
pub mod persist;
pub mod plot;
pub mod process;
pub mod registry;
pub mod runtime;
pub mod simd;
pub mod simulator;
pub mod value;
pub mod var_values;

pub use error::{Error, ModelError, Result};
pub use executable::Executable;
pub use graph::{
    Handle, InPort, Network, OutPort, PortExpr, PortTransforms, ProcId, Process, ProcessBuilder, RefPort, VarRef,
};
pub use registry::{Backend, ModelEntry, OutputTiming, Registry, RunConfig};
pub use runtime::{RunCondition, RunContinuous, RunSteps, Runtime};
pub use simulator::Simulator;
pub use value::{matrix, Init, Shape};
pub use var_values::VarValues;

/// Everything a typical program needs.
pub mod prelude {
    pub use crate::graph::{Handle, InPort, Network, OutPort, PortTransforms, Process, ProcessBuilder, VarRef};
    pub use crate::learning::{GradedSpikeCfg, LearningRule};
    pub use crate::model::{CpuModel, DType, MgmtIo, SpikeIo};
    pub use crate::persist::states::{LoadStatesOptions, StatesReport};
    pub use crate::persist::{load, load_signed, load_with, save, save_signed};
    pub use crate::process::dense::{Dense, SignMode};
    pub use crate::process::io::{sink, source};
    pub use crate::process::learning_dense::LearningDense;
    pub use crate::process::lif::Lif;
    pub use crate::process::monitor::Monitor;
    pub use crate::registry::{ModelEntry, OutputTiming, Registry, RunConfig};
    pub use crate::runtime::{RunContinuous, RunSteps, Runtime};
    pub use crate::simulator::Simulator;
    pub use crate::value::{matrix, Init};
    pub use crate::{Error, ModelError, Result};
}
