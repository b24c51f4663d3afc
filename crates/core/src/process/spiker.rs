//! Periodic spike sources and payload receivers (Lava `lava.proc.spiker`,
//! `lava.proc.receiver`, SPEC §2.7).

use crate::error::{Error, ModelError, Result};
use crate::executable::LeafProcess;
use crate::fixed::to_ints;
use crate::graph::{Handle, InPort, OutPort, Process, ProcessBuilder, VarRef};
use crate::model::{check_len, unknown_var, CpuModel, DType, SpikeIo};
use crate::registry::{ModelEntry, OutputTiming, Registry};
use crate::value::{Init, Shape};

/// Sends `payload` every `period` steps, first at step `period + 1` (Lava `Spiker`:
/// the counter starts at 0).
#[derive(Clone, Debug)]
pub struct Spiker {
    shape: Shape,
    period: Init,
    payload: Init,
}

impl Spiker {
    /// Spikers of `shape` with a period (steps) and a payload, scalar or per element.
    pub fn new(shape: &[usize], period: impl Into<Init>, payload: impl Into<Init>) -> Self {
        Spiker { shape: shape.to_vec(), period: period.into(), payload: payload.into() }
    }
}

impl Process for Spiker {
    const TYPE_NAME: &'static str = "Spiker";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        let rate = b.var("rate", &self.shape, self.period)?;
        if b.network().get(&rate)?.iter().any(|&p| p < 1.0) {
            return Err(Error::InvalidParameter {
                process: b.name().into(),
                param: "period".into(),
                reason: "must be at least 1".into(),
            });
        }
        b.out_port("s_out", &self.shape)?;
        b.var("counter", &self.shape, 0.0)?;
        b.var("payload", &self.shape, self.payload)?;
        Ok(())
    }
}

impl Handle<Spiker> {
    /// Output port.
    pub fn s_out(&self) -> OutPort {
        self.out_port("s_out")
    }
    /// Steps since the last emission.
    pub fn counter(&self) -> VarRef {
        self.var("counter")
    }
}

/// Stores its input as `payload` every step (Lava `Receiver`).
#[derive(Clone, Debug)]
pub struct Receiver {
    shape: Shape,
}

impl Receiver {
    /// Receivers of `shape`.
    pub fn new(shape: &[usize]) -> Self {
        Receiver { shape: shape.to_vec() }
    }
}

impl Process for Receiver {
    const TYPE_NAME: &'static str = "Receiver";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        b.in_port("a_in", &self.shape)?;
        b.var("payload", &self.shape, 0.0)?;
        Ok(())
    }
}

impl Handle<Receiver> {
    /// Input port.
    pub fn a_in(&self) -> InPort {
        self.in_port("a_in")
    }
    /// Last received input.
    pub fn payload(&self) -> VarRef {
        self.var("payload")
    }
}

pub(crate) fn register(r: &mut Registry) {
    let t = OutputTiming::SameStep;
    r.register_library([
        ModelEntry::cpu("Spiker", "SpikerModel", &[], t, |p| Ok(Box::new(IntVars::new(p, true)?) as Box<dyn CpuModel>)),
        ModelEntry::cpu("Receiver", "ReceiverModel", &[], t, |p| {
            Ok(Box::new(IntVars::new(p, false)?) as Box<dyn CpuModel>)
        }),
    ]);
}

/// Spiker and Receiver models: integer Vars (Lava types them `int`), held as i64.
struct IntVars {
    spiker: bool,
    vars: Vec<Vec<i64>>,
}

impl IntVars {
    fn new(p: &LeafProcess, spiker: bool) -> std::result::Result<Self, String> {
        let names: Vec<&str> = p.vars.iter().map(|v| v.name.as_str()).collect();
        let expected: &[&str] = if spiker { &["rate", "counter", "payload"] } else { &["payload"] };
        if names != expected {
            return Err(format!("process {} has Vars {names:?}, expected {expected:?}", p.name));
        }
        let vars = p
            .vars
            .iter()
            .map(|v| to_ints(&v.name, &v.data, i64::from(i32::MIN), i64::from(i32::MAX)))
            .collect::<std::result::Result<_, _>>()?;
        Ok(IntVars { spiker, vars })
    }
}

impl CpuModel for IntVars {
    fn var_dtype(&self, _var: usize) -> DType {
        DType::I64
    }

    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        if self.spiker {
            let out = io.send(0);
            let [rate, counter, payload] = &mut self.vars[..] else {
                return Err(ModelError::new("Spiker Vars missing"));
            };
            for k in 0..out.len() {
                let fire = counter[k] == rate[k];
                out[k] = if fire { payload[k] as f64 } else { 0.0 };
                counter[k] = if fire { 1 } else { counter[k] + 1 };
            }
        } else {
            for (p, &a) in self.vars[0].iter_mut().zip(io.recv(0)) {
                *p = a.trunc() as i64;
            }
        }
        Ok(())
    }

    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        let v = self.vars.get(var).ok_or_else(|| unknown_var(var))?;
        check_len("Var", v.len(), out.len())?;
        for (o, &x) in out.iter_mut().zip(v) {
            *o = x as f64;
        }
        Ok(())
    }

    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        let n = self.vars.get(var).ok_or_else(|| unknown_var(var))?.len();
        check_len("Var", n, data.len())?;
        self.vars[var] = to_ints("Var", data, i64::from(i32::MIN), i64::from(i32::MAX)).map_err(ModelError)?;
        Ok(())
    }
}
