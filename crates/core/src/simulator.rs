//! [`Simulator`]: what any backend's runtime offers a driver that only needs to advance
//! time and read Vars (the NIR simulator, command-line runs), so that one driver serves
//! the CPU [`Runtime`] and the GPU backend alike.

use ndarray::ArrayD;

use crate::error::Result;
use crate::executable::Executable;
use crate::graph::VarRef;
use crate::runtime::{RunSteps, Runtime};

/// A runtime of some backend: runs blocking steps and reads Vars between them.
pub trait Simulator {
    /// Runs `steps` more time steps (blocking).
    fn advance(&mut self, steps: u64) -> Result<()>;
    /// Reads a Var's current value (C order, as float64).
    fn read(&self, var: &VarRef) -> Result<ArrayD<f64>>;
    /// The device it runs on, for reports ("cpu", or the GPU adapter's name).
    fn device(&self) -> String;
    /// The executable it runs (process parameters such as a Monitor's probes).
    fn executable(&self) -> &Executable;
}

impl Simulator for Runtime {
    fn advance(&mut self, steps: u64) -> Result<()> {
        self.run(RunSteps::new(steps))
    }

    fn read(&self, var: &VarRef) -> Result<ArrayD<f64>> {
        self.get(var)
    }

    fn device(&self) -> String {
        "cpu".into()
    }

    fn executable(&self) -> &Executable {
        Runtime::executable(self)
    }
}
