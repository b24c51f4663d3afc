//! Processes that act on another process's Var in the post-management phase, every
//! `interval` steps at phase `offset` (Lava `lava.proc.io.reset.Reset`,
//! `lava.proc.io.sink.Read`, SPEC §2.6).

use serde::{Deserialize, Serialize};

use crate::error::{Error, ModelError, Result};
use crate::executable::LeafProcess;
use crate::fixed::{to_int, to_ints, I32};
use crate::graph::{Handle, Network, Process, ProcessBuilder, RefPort, VarRef};
use crate::model::{unknown_var, CpuModel, DType, MgmtIo, SpikeIo};
use crate::registry::{ModelEntry, OutputTiming, Registry};
use crate::value::numel;

/// When a periodic management process acts: steps with `(t - 1) mod interval == offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Period in steps (>= 1).
    pub interval: u64,
    /// Phase (taken modulo the interval, as Lava does).
    pub offset: u64,
}

impl Schedule {
    fn new(process: &str, interval: u64, offset: u64) -> Result<Self> {
        if interval == 0 {
            return Err(Error::InvalidParameter {
                process: process.into(),
                param: "interval".into(),
                reason: "must be at least 1".into(),
            });
        }
        Ok(Schedule { interval, offset: offset % interval })
    }
    /// Whether step `t` is one of the scheduled steps.
    pub fn due(&self, t: u64) -> bool {
        (t - 1) % self.interval == self.offset
    }
}

/// Writes `reset_value` into a Var every `interval` steps (Lava `io.reset.Reset`).
#[derive(Clone, Debug)]
pub struct Reset {
    reset_value: f64,
    schedule: Schedule,
    shape: Vec<usize>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ResetParams {
    reset_value: f64,
    schedule: Schedule,
}

impl Reset {
    /// Adds a Reset of `var` to the network (Lava: `Reset(...)` then `connect_var(var)`).
    pub fn attach(
        net: &mut Network,
        var: &VarRef,
        reset_value: f64,
        interval: u64,
        offset: u64,
    ) -> Result<Handle<Reset>> {
        let shape = net.var_shape(var)?;
        let h = net.add(Reset { reset_value, schedule: Schedule::new("Reset", interval, offset)?, shape })?;
        net.connect_var(&h.ref_port("state"), var)?;
        Ok(h)
    }
}

impl Process for Reset {
    const TYPE_NAME: &'static str = "io.Reset";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        b.ref_port("state", &self.shape)?;
        b.params(&ResetParams { reset_value: self.reset_value, schedule: self.schedule })
    }
}

/// Records a Var every `interval` steps into a ring buffer of `buffer` samples (Lava
/// `io.sink.Read`): `data[..., k mod buffer]` holds the k-th reading.
#[derive(Clone, Debug)]
pub struct Read {
    buffer: usize,
    schedule: Schedule,
    shape: Vec<usize>,
}

impl Read {
    /// Adds a Read of `var` to the network (Lava: `Read(buffer=...)` then `connect_var`).
    pub fn attach(net: &mut Network, var: &VarRef, buffer: usize, interval: u64, offset: u64) -> Result<Handle<Read>> {
        if buffer == 0 {
            return Err(Error::InvalidParameter {
                process: "Read".into(),
                param: "buffer".into(),
                reason: "must be at least 1".into(),
            });
        }
        let shape = net.var_shape(var)?;
        let h = net.add(Read { buffer, schedule: Schedule::new("Read", interval, offset)?, shape })?;
        net.connect_var(&h.ref_port("state"), var)?;
        Ok(h)
    }
}

impl Process for Read {
    const TYPE_NAME: &'static str = "io.Read";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        b.ref_port("state", &self.shape)?;
        let mut shape = self.shape.clone();
        shape.push(self.buffer);
        b.var("data", &shape, 0.0)?;
        b.params(&self.schedule)
    }
}

impl Handle<Read> {
    /// The readings, shape `(*var_shape, buffer)`.
    pub fn data(&self) -> VarRef {
        self.var("data")
    }
    /// The RefPort to the read Var.
    pub fn state(&self) -> RefPort {
        self.ref_port("state")
    }
}

pub(crate) fn register(r: &mut Registry) {
    let t = OutputTiming::SameStep;
    let reset = |fixed: bool| {
        move |p: &LeafProcess| {
            let params: ResetParams = p.params()?;
            let size = p.ref_ports.first().map(|r| numel(&r.shape)).ok_or("Reset has no RefPort")?;
            let value = if fixed {
                to_int("reset_value", params.reset_value, I32.0, I32.1)? as f64
            } else {
                params.reset_value
            };
            Ok(Box::new(ResetModel { schedule: params.schedule, values: vec![value; size] }) as Box<dyn CpuModel>)
        }
    };
    let read = |fixed: bool| move |p: &LeafProcess| Ok(Box::new(ReadModel::new(p, fixed)?) as Box<dyn CpuModel>);
    let models = [
        ModelEntry::cpu("io.Reset", "PyResetFixed", &["fixed_pt"], t, reset(true)),
        ModelEntry::cpu("io.Reset", "PyResetFloat", &["floating_pt"], t, reset(false)),
        ModelEntry::cpu("io.Read", "PyReadFixed", &["fixed_pt"], t, read(true)),
        ModelEntry::cpu("io.Read", "PyReadFloat", &["floating_pt"], t, read(false)),
    ];
    r.register_library(models);
}

struct ResetModel {
    schedule: Schedule,
    values: Vec<f64>,
}

impl CpuModel for ResetModel {
    fn run_spk(&mut self, _io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        Ok(())
    }
    fn post_guard(&self, t: u64) -> bool {
        self.schedule.due(t)
    }
    fn run_post_mgmt(&mut self, io: &mut MgmtIo<'_>) -> Result<(), ModelError> {
        io.write_ref(0, &self.values)
    }
    fn read_var(&self, var: usize, _out: &mut [f64]) -> Result<(), ModelError> {
        Err(unknown_var(var))
    }
    fn write_var(&mut self, var: usize, _data: &[f64]) -> Result<(), ModelError> {
        Err(unknown_var(var))
    }
}

struct ReadModel {
    schedule: Schedule,
    fixed: bool,
    buffer: usize,
    data: Vec<f64>,
    reading: Vec<f64>,
    counter: usize,
}

impl ReadModel {
    fn new(p: &LeafProcess, fixed: bool) -> std::result::Result<Self, String> {
        let schedule: Schedule = p.params()?;
        let var = p.var("data")?;
        let buffer = *var.shape.last().ok_or("Read data has no buffer axis")?;
        let size = p.ref_ports.first().map(|r| numel(&r.shape)).ok_or("Read has no RefPort")?;
        if buffer == 0 || var.data.len() != size * buffer {
            return Err("Read buffer does not match its Var".into());
        }
        let data = if fixed {
            to_ints("data", &var.data, I32.0, I32.1)?.into_iter().map(|x| x as f64).collect()
        } else {
            var.data.to_vec()
        };
        Ok(ReadModel { schedule, fixed, buffer, data, reading: vec![0.0; size], counter: 0 })
    }
}

impl CpuModel for ReadModel {
    fn var_dtype(&self, _var: usize) -> DType {
        if self.fixed {
            DType::I32
        } else {
            DType::F64
        }
    }
    fn run_spk(&mut self, _io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        Ok(())
    }
    fn post_guard(&self, t: u64) -> bool {
        self.schedule.due(t)
    }
    fn run_post_mgmt(&mut self, io: &mut MgmtIo<'_>) -> Result<(), ModelError> {
        io.read_ref(0, &mut self.reading)?;
        let col = self.counter % self.buffer;
        for (i, &x) in self.reading.iter().enumerate() {
            self.data[i * self.buffer + col] = if self.fixed { x.trunc() } else { x };
        }
        self.counter += 1;
        Ok(())
    }
    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        super::read_data_var(var, &self.data, out)
    }
    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        super::write_data_var(var, &mut self.data, data, self.fixed)
    }
}
