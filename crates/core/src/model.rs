//! CPU ProcessModels: the behaviour of a process on the CPU backend, phase by phase of
//! Lava's LoihiProtocol (spike, pre-management, learning, post-management).

use crate::error::ModelError;

/// Element type of a Var as a model stores it (Lava's `LavaPyType` dtype); state files
/// store Vars in this type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DType {
    /// float64 (every float model).
    F64,
    /// float32 (read from files; no model stores it).
    F32,
    /// int64.
    I64,
    /// int32.
    I32,
    /// int16.
    I16,
    /// uint16.
    U16,
}

impl DType {
    /// NumPy's name for the type (`float64`, `int32`, ...).
    pub fn numpy_name(self) -> &'static str {
        match self {
            DType::F64 => "float64",
            DType::F32 => "float32",
            DType::I64 => "int64",
            DType::I32 => "int32",
            DType::I16 => "int16",
            DType::U16 => "uint16",
        }
    }
}

/// Messages of one process during the spike phase: its InPorts (already summed over all
/// sources and transformed) and its OutPorts (written by the model).
pub struct SpikeIo<'a> {
    pub(crate) time_step: u64,
    pub(crate) inputs: &'a [Vec<f64>],
    pub(crate) outputs: &'a mut [Vec<f64>],
}

impl SpikeIo<'_> {
    /// The current time step (1 in the first step, continuing across runs).
    pub fn time_step(&self) -> u64 {
        self.time_step
    }
    /// The message received on InPort `port` (declaration order) this step.
    #[inline]
    pub fn recv(&self, port: usize) -> &[f64] {
        &self.inputs[port]
    }
    /// The buffer of OutPort `port` to write this step's message into. A model writes
    /// every element of every OutPort each step (elements it skips keep the last message).
    #[inline]
    pub fn send(&mut self, port: usize) -> &mut [f64] {
        &mut self.outputs[port]
    }
    /// Every InPort (declaration order) to read and OutPort `out` to write at once.
    #[inline]
    pub fn inputs_send(&mut self, out: usize) -> (&[Vec<f64>], &mut [f64]) {
        (self.inputs, &mut self.outputs[out])
    }
    /// InPort `port` to read and OutPort `out` to write at once.
    #[inline]
    pub fn recv_send(&mut self, port: usize, out: usize) -> (&[f64], &mut [f64]) {
        (&self.inputs[port], &mut self.outputs[out])
    }
}

/// Access of one process to the Vars its RefPorts point at, during the management phases.
///
/// Reads see the state at the start of the phase; writes are applied after every model
/// has run the phase (in schedule order). Lava services RefPort requests concurrently; its
/// traces show reads observing the pre-write values (a Monitor of a Var that an `io.Reset`
/// zeroes records the value before the reset), which this ordering reproduces
/// deterministically.
pub struct MgmtIo<'a> {
    pub(crate) time_step: u64,
    pub(crate) targets: &'a [Option<(usize, usize)>],
    pub(crate) models: &'a [Option<Box<dyn CpuModel>>],
    pub(crate) pending: &'a mut [PendingWrite],
}

/// A RefPort write waiting for the end of its phase (buffer preallocated to the Var size).
pub(crate) struct PendingWrite {
    pub(crate) data: Vec<f64>,
    pub(crate) set: bool,
}

impl MgmtIo<'_> {
    /// The current time step.
    pub fn time_step(&self) -> u64 {
        self.time_step
    }

    fn target(&self, port: usize) -> Result<(usize, usize), ModelError> {
        self.targets
            .get(port)
            .copied()
            .flatten()
            .ok_or_else(|| ModelError::new(format!("RefPort {port} is not connected to a Var")))
    }

    /// Reads the Var behind RefPort `port` into `out` (its length is the Var's size).
    pub fn read_ref(&mut self, port: usize, out: &mut [f64]) -> Result<(), ModelError> {
        let (p, v) = self.target(port)?;
        match self.models.get(p).and_then(|m| m.as_ref()) {
            Some(m) => m.read_var(v, out),
            None => Err(ModelError::new("RefPort target is not available")),
        }
    }

    /// Writes `data` into the Var behind RefPort `port` at the end of this phase.
    pub fn write_ref(&mut self, port: usize, data: &[f64]) -> Result<(), ModelError> {
        self.target(port)?;
        let w = self.pending.get_mut(port).ok_or_else(|| ModelError::new(format!("no RefPort {port}")))?;
        check_len("RefPort target", w.data.len(), data.len())?;
        w.data.copy_from_slice(data);
        w.set = true;
        Ok(())
    }
}

/// The behaviour of one process on the CPU, phase by phase. Vars are addressed by their
/// declaration index; values cross this interface as `f64` (exact for every fixed-point
/// type Lava uses) while models keep state in their native types.
pub trait CpuModel: Send {
    /// Sends messages computed in the previous step, before any process receives. Only
    /// models registered with [`crate::OutputTiming::PreviousStep`] (synapses) use it.
    fn emit(&mut self, _io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        Ok(())
    }
    /// The spike phase: receive, update, send.
    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError>;
    /// Whether to run the pre-management phase this step.
    fn pre_guard(&self, _time_step: u64) -> bool {
        false
    }
    /// Pre-management phase.
    fn run_pre_mgmt(&mut self, _io: &mut MgmtIo<'_>) -> Result<(), ModelError> {
        Ok(())
    }
    /// Whether to run the learning phase this step.
    fn lrn_guard(&self, _time_step: u64) -> bool {
        false
    }
    /// Learning phase.
    fn run_lrn(&mut self, _io: &mut MgmtIo<'_>) -> Result<(), ModelError> {
        Ok(())
    }
    /// Whether to run the post-management phase this step.
    fn post_guard(&self, _time_step: u64) -> bool {
        false
    }
    /// Post-management phase (RefPort reads/writes, monitors of Vars).
    fn run_post_mgmt(&mut self, _io: &mut MgmtIo<'_>) -> Result<(), ModelError> {
        Ok(())
    }
    /// The element type Var `var` is stored in (float64 unless the model says otherwise).
    fn var_dtype(&self, _var: usize) -> DType {
        DType::F64
    }
    /// Copies Var `var` into `out` (C order, `out.len()` = Var size).
    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError>;
    /// Overwrites Var `var` from `data` (C order), converting to the model's type.
    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError>;
}

/// Checks that a Var buffer has the expected length (used by `read_var`/`write_var`).
pub fn check_len(var: &str, expected: usize, got: usize) -> Result<(), ModelError> {
    if expected == got {
        Ok(())
    } else {
        Err(ModelError::new(format!("Var `{var}` has {expected} elements, got {got}")))
    }
}

/// Error for a Var index the model does not have.
pub fn unknown_var(var: usize) -> ModelError {
    ModelError::new(format!("unknown Var index {var}"))
}
