//! LIF neurons that feed a three-factor learning rule (Lava `LearningLIF` as its R-STDP
//! tests and tutorial use it): besides `s_out` they send their spikes on `s_out_bap`, a
//! post-synaptic trace on `s_out_y1` and their third-factor input (`a_third_factor_in`, e.g.
//! a reward) on `s_out_y2`; `s_out_y3` sends the Var `y3`.
//!
//! Per step: `y1 = y1 * exp(-1/tau) + impulse * s_prev` (s_prev: last step's spikes; fixed
//! point floors it), then the LIF update, then `y2 = a_third_factor_in`, then the four
//! sends. Lava 0.10's own `LearningLIF` models send nothing on these ports; the behaviour
//! here is that of the `RSTDPLIF` models in Lava's tests, with the post trace's impulse and
//! decay as parameters instead of read from the rule.

use super::lif::{Lif, LifKind};
use crate::error::{Error, ModelError, Result};
use crate::executable::LeafProcess;
use crate::graph::{Handle, InPort, OutPort, Process, ProcessBuilder, VarRef};
use crate::learning::TraceParams;
use crate::model::{check_len, unknown_var, CpuModel, DType, SpikeIo};
use crate::registry::{ModelEntry, OutputTiming, Registry};

/// Index of the first learning Var (after the LIF's seven).
const Y1: usize = 7;
/// InPort and OutPort indices.
const THIRD_FACTOR_IN: usize = 1;
const S_OUT: usize = 0;
const S_OUT_BAP: usize = 1;

/// LIF neurons with a post trace and a third-factor output; build with [`Lif::learning`].
#[derive(Clone, Debug)]
pub struct LearningLif {
    pub(super) base: Lif,
    pub(super) post_trace: TraceParams,
}

impl Process for LearningLif {
    const TYPE_NAME: &'static str = "LearningLif";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        let TraceParams { impulse, tau } = self.post_trace;
        if !(impulse.is_finite() && impulse >= 0.0 && tau.is_finite() && tau > 0.0) {
            return Err(Error::InvalidParameter {
                process: b.name().to_string(),
                param: "post_trace".into(),
                reason: format!("impulse must be finite and >= 0 and tau finite and > 0, got {impulse}, {tau}"),
            });
        }
        let shape = self.base.shape().to_vec();
        self.base.declare_lif(b)?;
        b.in_port("a_third_factor_in", &shape)?;
        for port in ["s_out_bap", "s_out_y1", "s_out_y2", "s_out_y3"] {
            b.out_port(port, &shape)?;
        }
        for y in ["y1", "y2", "y3"] {
            b.var(y, &shape, 0.0)?;
        }
        b.params(&self.post_trace)
    }
}

impl Handle<LearningLif> {
    /// Synaptic input.
    pub fn a_in(&self) -> InPort {
        self.in_port("a_in")
    }
    /// Third-factor input (e.g. a reward), sent on as y2.
    pub fn a_third_factor_in(&self) -> InPort {
        self.in_port("a_third_factor_in")
    }
    /// Spikes.
    pub fn s_out(&self) -> OutPort {
        self.out_port("s_out")
    }
    /// Spikes for the learning connection's `s_in_bap`.
    pub fn s_out_bap(&self) -> OutPort {
        self.out_port("s_out_bap")
    }
    /// Trace `k` (1..=3) for the learning connection's `s_in_y<k>`.
    pub fn s_out_y(&self, k: usize) -> OutPort {
        self.out_port(&format!("s_out_y{k}"))
    }
    /// Voltage.
    pub fn v(&self) -> VarRef {
        self.var("v")
    }
    /// Trace `k` (1..=3).
    pub fn y(&self, k: usize) -> VarRef {
        self.var(&format!("y{k}"))
    }
}

pub(crate) fn register(r: &mut Registry) {
    let model = |fixed| move |p: &LeafProcess| Ok(Box::new(LearningLifModel::new(p, fixed)?) as Box<dyn CpuModel>);
    r.register_library([
        ModelEntry::cpu(
            "LearningLif",
            "PyLearningLifModelFloat",
            &["floating_pt"],
            OutputTiming::SameStep,
            model(false),
        ),
        ModelEntry::cpu(
            "LearningLif",
            "PyLearningLIFModelFixed",
            &["bit_accurate_loihi", "fixed_pt"],
            OutputTiming::SameStep,
            model(true),
        ),
    ]);
}

/// A LIF model (float or fixed) plus the y traces.
pub struct LearningLifModel {
    lif: Box<dyn CpuModel>,
    fixed: bool,
    decay: f64,
    impulse: f64,
    y: [Vec<f64>; 3],
    prev_spikes: Vec<f64>,
}

impl LearningLifModel {
    fn new(p: &LeafProcess, fixed: bool) -> Result<Self, String> {
        let trace: TraceParams = p.params()?;
        if p.vars.len() != Y1 + 3 {
            return Err(format!("process {} does not have the LearningLif Vars", p.name));
        }
        // The LIF part is an ordinary LIF over the first seven Vars and the first ports.
        let mut lif = p.clone();
        lif.vars.truncate(Y1);
        lif.in_ports.truncate(1);
        lif.out_ports.truncate(1);
        lif.params = serde_json::to_value(LifKind::Plain).map_err(|e| e.to_string())?;
        let lif = super::lif::model(&lif, fixed)?;
        let n = p.vars[Y1].data.len();
        Ok(LearningLifModel {
            lif,
            fixed,
            decay: (-1.0 / trace.tau).exp(),
            impulse: trace.impulse,
            y: std::array::from_fn(|k| p.vars[Y1 + k].data.to_vec()),
            prev_spikes: vec![0.0; n],
        })
    }
}

impl CpuModel for LearningLifModel {
    fn var_dtype(&self, var: usize) -> DType {
        match var {
            v if v < Y1 => self.lif.var_dtype(v),
            _ if self.fixed => DType::I32,
            _ => DType::F64,
        }
    }

    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        for (y, &s) in self.y[0].iter_mut().zip(&self.prev_spikes) {
            let v = *y * self.decay + self.impulse * s;
            *y = if self.fixed { v.floor() } else { v };
        }
        self.lif.run_spk(io)?;
        let third = io.recv(THIRD_FACTOR_IN);
        self.y[1].copy_from_slice(third);
        // The spikes go out on s_out_bap too and drive next step's y1.
        self.prev_spikes.copy_from_slice(io.send(S_OUT));
        io.send(S_OUT_BAP).copy_from_slice(&self.prev_spikes);
        for k in 0..3 {
            let y = &self.y[k];
            let out = io.send(S_OUT_BAP + 1 + k);
            if self.fixed {
                // The ports carry int32.
                out.iter_mut().zip(y).for_each(|(o, &v)| *o = f64::from(v as i64 as i32));
            } else {
                out.copy_from_slice(y);
            }
        }
        Ok(())
    }

    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        if var < Y1 {
            return self.lif.read_var(var, out);
        }
        let y = self.y.get(var - Y1).ok_or_else(|| unknown_var(var))?;
        check_len("y", y.len(), out.len())?;
        out.copy_from_slice(y);
        Ok(())
    }

    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        if var < Y1 {
            return self.lif.write_var(var, data);
        }
        let fixed = self.fixed;
        let y = self.y.get_mut(var - Y1).ok_or_else(|| unknown_var(var))?;
        check_len("y", y.len(), data.len())?;
        if let Some(bad) = data.iter().find(|x| !x.is_finite()) {
            return Err(ModelError::new(format!("Var `y{}` must be finite, got {bad}", var - Y1 + 1)));
        }
        y.iter_mut().zip(data).for_each(|(y, &x)| *y = if fixed { x.trunc() } else { x });
        Ok(())
    }
}
