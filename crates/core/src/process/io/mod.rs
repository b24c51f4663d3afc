//! Input and output ring buffers (Lava `lava.proc.io.source` / `sink`, SPEC §2.6).

use crate::error::{Error, ModelError, Result};
use crate::executable::LeafProcess;
use crate::fixed::{to_ints, I32};
use crate::model::{check_len, unknown_var, CpuModel, DType, SpikeIo};
use crate::registry::{ModelEntry, OutputTiming, Registry};

pub mod dataloader;
pub mod mgmt;

/// Resets of Vars (Lava `lava.proc.io.reset`).
pub mod reset {
    pub use super::mgmt::Reset;
}

/// Sources: processes that send data into the network.
pub mod source {
    use ndarray::ArrayD;

    use super::*;
    use crate::graph::{Handle, OutPort, Process, ProcessBuilder, VarRef};

    /// Sends `data[..., (t-1) mod T]` at step t; the last axis of `data` is time.
    #[derive(Clone, Debug)]
    pub struct RingBuffer {
        data: ArrayD<f64>,
    }

    impl RingBuffer {
        /// A source playing `data` (shape `(..., T)`) in a loop.
        pub fn new(data: impl Into<ArrayD<f64>>) -> Self {
            RingBuffer { data: data.into() }
        }
    }

    impl Process for RingBuffer {
        const TYPE_NAME: &'static str = "source.RingBuffer";
        fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
            let shape = self.data.shape().to_vec();
            if shape.len() < 2 || shape[shape.len() - 1] == 0 {
                return Err(Error::InvalidParameter {
                    process: b.name().to_string(),
                    param: "data".into(),
                    reason: format!("needs at least 2 axes with a non-empty last (time) axis, got shape {shape:?}"),
                });
            }
            b.out_port("s_out", &shape[..shape.len() - 1])?;
            b.var("data", &shape, self.data)?;
            Ok(())
        }
    }

    impl Handle<RingBuffer> {
        /// Output port.
        pub fn s_out(&self) -> OutPort {
            self.out_port("s_out")
        }
        /// The data played (shape `(..., T)`).
        pub fn data(&self) -> VarRef {
            self.var("data")
        }
    }
}

/// Sinks: processes that record what the network sends.
pub mod sink {
    use super::*;
    use crate::graph::{Handle, InPort, Process, ProcessBuilder, VarRef};

    pub use super::mgmt::Read;

    /// Stores the input of step t into `data[..., (t-1) mod buffer]`.
    #[derive(Clone, Debug)]
    pub struct RingBuffer {
        shape: Vec<usize>,
        buffer: usize,
    }

    impl RingBuffer {
        /// A sink for inputs of `shape` keeping the last `buffer` steps.
        pub fn new(shape: &[usize], buffer: usize) -> Self {
            RingBuffer { shape: shape.to_vec(), buffer }
        }
    }

    impl Process for RingBuffer {
        const TYPE_NAME: &'static str = "sink.RingBuffer";
        fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
            if self.buffer == 0 {
                return Err(Error::InvalidParameter {
                    process: b.name().to_string(),
                    param: "buffer".into(),
                    reason: "must be at least 1".into(),
                });
            }
            b.in_port("a_in", &self.shape)?;
            let mut shape = self.shape.clone();
            shape.push(self.buffer);
            b.var("data", &shape, 0.0)?;
            Ok(())
        }
    }

    impl Handle<RingBuffer> {
        /// Input port.
        pub fn a_in(&self) -> InPort {
            self.in_port("a_in")
        }
        /// Recorded data (shape `(..., buffer)`).
        pub fn data(&self) -> VarRef {
            self.var("data")
        }
    }
}

pub(crate) fn register(r: &mut Registry) {
    mgmt::register(r);
    dataloader::register(r);
    let models = [
        ModelEntry::cpu("source.RingBuffer", "PySendModelFloat", &["floating_pt"], OutputTiming::SameStep, |p| {
            Ok(Box::new(Ring::new(p, false, Role::Source)?) as Box<dyn CpuModel>)
        }),
        ModelEntry::cpu("source.RingBuffer", "PySendModelFixed", &["fixed_pt"], OutputTiming::SameStep, |p| {
            Ok(Box::new(Ring::new(p, true, Role::Source)?) as Box<dyn CpuModel>)
        }),
        ModelEntry::cpu("sink.RingBuffer", "PyReceiveModelFloat", &["floating_pt"], OutputTiming::SameStep, |p| {
            Ok(Box::new(Ring::new(p, false, Role::Sink)?) as Box<dyn CpuModel>)
        }),
        ModelEntry::cpu("sink.RingBuffer", "PyReceiveModelFixed", &["fixed_pt"], OutputTiming::SameStep, |p| {
            Ok(Box::new(Ring::new(p, true, Role::Sink)?) as Box<dyn CpuModel>)
        }),
    ];
    r.register_library(models);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Source,
    Sink,
}

/// The models of both ring buffers: a `(size, buffer)` array in C order, read (source) or
/// written (sink) at column `(t-1) mod buffer`. The fixed models hold int32 values, as
/// Lava's do: data are truncated toward zero.
struct Ring {
    role: Role,
    fixed: bool,
    buffer: usize,
    data: Vec<f64>,
}

impl Ring {
    fn new(p: &LeafProcess, fixed: bool, role: Role) -> Result<Self, String> {
        let var = p.var("data")?;
        let buffer = *var.shape.last().ok_or("data must have a time axis")?;
        if buffer == 0 {
            return Err("data must have a non-empty time axis".into());
        }
        let port_size: usize = match role {
            Role::Source => p.out_ports.first().map(|s| s.shape.iter().product()),
            Role::Sink => p.in_ports.first().map(|s| s.shape.iter().product()),
        }
        .ok_or("ring buffer has no port")?;
        if var.data.len() != port_size * buffer {
            return Err(format!("data has {} elements, expected {port_size} x {buffer}", var.data.len()));
        }
        let mut data = var.data.to_vec();
        if fixed {
            data = to_ints("data", &data, I32.0, I32.1)?.into_iter().map(|x| x as f64).collect();
        }
        Ok(Ring { role, fixed, buffer, data })
    }
}

impl CpuModel for Ring {
    fn var_dtype(&self, _var: usize) -> DType {
        if self.fixed {
            DType::I32
        } else {
            DType::F64
        }
    }

    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        let col = ((io.time_step() - 1) % self.buffer as u64) as usize;
        let b = self.buffer;
        match self.role {
            Role::Source => {
                for (i, o) in io.send(0).iter_mut().enumerate() {
                    *o = self.data[i * b + col];
                }
            }
            Role::Sink => {
                for (i, &x) in io.recv(0).iter().enumerate() {
                    self.data[i * b + col] = if self.fixed { (x.trunc() as i32) as f64 } else { x };
                }
            }
        }
        Ok(())
    }

    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        read_data_var(var, &self.data, out)
    }

    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        write_data_var(var, &mut self.data, data, self.fixed)
    }
}

/// `get` of a model whose only Var (index 0) is its `data` buffer.
pub(crate) fn read_data_var(var: usize, data: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
    if var != 0 {
        return Err(unknown_var(var));
    }
    check_len("data", data.len(), out.len())?;
    out.copy_from_slice(data);
    Ok(())
}

/// `set` of a model whose only Var (index 0) is its `data` buffer; fixed-point models hold
/// int32 values (truncated toward zero, range-checked).
pub(crate) fn write_data_var(var: usize, data: &mut [f64], new: &[f64], fixed: bool) -> Result<(), ModelError> {
    if var != 0 {
        return Err(unknown_var(var));
    }
    check_len("data", data.len(), new.len())?;
    if fixed {
        let ints = to_ints("data", new, I32.0, I32.1).map_err(ModelError)?;
        for (d, x) in data.iter_mut().zip(ints) {
            *d = x as f64;
        }
    } else {
        data.copy_from_slice(new);
    }
    Ok(())
}
