//! Plastic dense synapses (Lava `LearningDense`, `proc/dense/process.py`, with the models
//! `PyLearningDenseModelFloat` and `PyLearningDenseModelBitApproximate`): a [`Dense`]
//! connection whose weights, delays (`tag_2`) and tags (`tag_1`) follow a
//! [`LearningRule`] online. The post-synaptic side reports its spikes on `s_in_bap` (connect
//! the post neurons' `s_out`, or a [`super::learning_lif::LearningLif`]'s `s_out_bap`); a
//! three-factor rule also receives y1..y3 on `s_in_y1..3`.
//!
//! As in Lava, delays are learned but do not delay spikes, and the fixed-point model
//! truncates the initial weights once, in the first step, with sign mode `Mixed` unless
//! another is given (it does not infer one from the weights as `Dense` does).
//!
//! [`Dense`]: super::dense::Dense

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::dense::{accumulate, check_dense_params, columns_to_rows, to_columns, truncate_weight, SignMode};
use crate::error::{Error, ModelError, Result};
use crate::executable::LeafProcess;
use crate::fixed::{shift_by_exp, to_int, to_ints};
use crate::graph::{Handle, InPort, OutPort, Process, ProcessBuilder, VarRef};
use crate::learning::{GradedSpikeCfg, LearningRule, Plasticity, RuleKind, Synapses};
use crate::model::{check_len, unknown_var, CpuModel, DType, MgmtIo, SpikeIo};
use crate::registry::{ModelEntry, OutputTiming, Registry};

/// Var names in declaration order.
const VAR_NAMES: [&str; 14] =
    ["weights", "a_buff", "num_message_bits", "x0", "tx", "x1", "x2", "y0", "ty", "y1", "y2", "y3", "tag_2", "tag_1"];
const WEIGHTS: usize = 0;
const A_BUFF: usize = 1;
const NUM_MESSAGE_BITS: usize = 2;
const X0: usize = 3;
const TX: usize = 4;
const X1: usize = 5;
const X2: usize = 6;
const Y0: usize = 7;
const TY: usize = 8;
const Y1: usize = 9;
const Y3: usize = 11;
const TAG_2: usize = 12;
const TAG_1: usize = 13;

/// Process parameters: the rule and the fixed-point weight configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearningDenseParams {
    /// The learning rule.
    pub rule: LearningRule,
    /// How graded pre spikes update x1/x2.
    pub graded_spike_cfg: GradedSpikeCfg,
    /// Fixed point: accumulated input shifted left by this (right if negative).
    pub weight_exp: i32,
    /// Fixed point: significant bits of the initial weights (1..=8).
    pub num_weight_bits: u32,
    /// Sign interpretation of the weights (Lava's default for learning: mixed).
    pub sign_mode: SignMode,
}

/// Dense synapses with a learning rule; see the module docs.
#[derive(Clone, Debug)]
pub struct LearningDense {
    weights: Array2<f64>,
    tag_1: Option<Array2<f64>>,
    tag_2: Option<Array2<f64>>,
    num_message_bits: u32,
    params: LearningDenseParams,
}

impl LearningDense {
    /// Plastic synapses with (num_out, num_in) weights following `rule`.
    pub fn new(weights: Array2<f64>, rule: LearningRule) -> Self {
        LearningDense {
            weights,
            tag_1: None,
            tag_2: None,
            num_message_bits: 0,
            params: LearningDenseParams {
                rule,
                graded_spike_cfg: GradedSpikeCfg::UseRegularImpulse,
                weight_exp: 0,
                num_weight_bits: 8,
                sign_mode: SignMode::Mixed,
            },
        }
    }
    /// Initial tags (Lava `tag_1`), same shape as the weights (default 0).
    pub fn tag_1(mut self, t: Array2<f64>) -> Self {
        self.tag_1 = Some(t);
        self
    }
    /// Initial delays (Lava `tag_2`), same shape as the weights (default 0).
    pub fn tag_2(mut self, d: Array2<f64>) -> Self {
        self.tag_2 = Some(d);
        self
    }
    /// Bits of graded spike payloads (0 = binary).
    pub fn num_message_bits(mut self, bits: u32) -> Self {
        self.num_message_bits = bits;
        self
    }
    /// How graded spikes update the pre traces. As in Lava, any mode but the regular
    /// impulse sets the x1 impulse to 0.
    pub fn graded_spike_cfg(mut self, cfg: GradedSpikeCfg) -> Self {
        self.params.graded_spike_cfg = cfg;
        self
    }
    /// Fixed point: exponent applied to the accumulated input.
    pub fn weight_exp(mut self, e: i32) -> Self {
        self.params.weight_exp = e;
        self
    }
    /// Fixed point: significant bits of the initial weights (1..=8).
    pub fn num_weight_bits(mut self, bits: u32) -> Self {
        self.params.num_weight_bits = bits;
        self
    }
    /// Sign mode (default mixed, as Lava's learning models).
    pub fn sign_mode(mut self, mode: SignMode) -> Self {
        self.params.sign_mode = mode;
        self
    }
}

impl Process for LearningDense {
    const TYPE_NAME: &'static str = "LearningDense";
    fn build(mut self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        let (num_out, num_in) = self.weights.dim();
        let invalid = |param: &str, reason: String| Error::InvalidParameter {
            process: b.name().to_string(),
            param: param.into(),
            reason,
        };
        check_dense_params(b.name(), self.params.weight_exp, self.params.num_weight_bits, self.num_message_bits)?;
        if let Some(bad) = self.weights.iter().find(|w| !w.is_finite()) {
            return Err(invalid("weights", format!("must be finite, got {bad}")));
        }
        if self.params.graded_spike_cfg != GradedSpikeCfg::UseRegularImpulse {
            self.params.rule.x[0].impulse = 0.0;
        }
        self.params.rule.compile().map_err(Error::LearningRule)?;
        let zeros = || Array2::zeros((num_out, num_in));
        let mut tags = Vec::new();
        for (name, t) in [("tag_2", self.tag_2.take()), ("tag_1", self.tag_1.take())] {
            let t = t.unwrap_or_else(zeros);
            if t.dim() != (num_out, num_in) {
                return Err(invalid(
                    name,
                    format!("must have the weights' shape {:?}, got {:?}", (num_out, num_in), t.dim()),
                ));
            }
            if let Some(bad) = t.iter().find(|w| !w.is_finite()) {
                return Err(invalid(name, format!("must be finite, got {bad}")));
            }
            tags.push((name, t));
        }
        b.in_port("s_in", &[num_in])?;
        b.in_port("s_in_bap", &[num_out])?;
        for y in ["s_in_y1", "s_in_y2", "s_in_y3"] {
            b.in_port(y, &[num_out])?;
        }
        b.out_port("a_out", &[num_out])?;
        b.var("weights", &[num_out, num_in], self.weights.into_dyn())?;
        b.var("a_buff", &[num_out], 0.0)?;
        b.var("num_message_bits", &[1], f64::from(self.num_message_bits))?;
        for (name, n) in [("x0", num_in), ("tx", num_in), ("x1", num_in), ("x2", num_in)] {
            b.var(name, &[n], 0.0)?;
        }
        for name in ["y0", "ty", "y1", "y2", "y3"] {
            b.var(name, &[num_out], 0.0)?;
        }
        for (name, t) in tags {
            b.var(name, &[num_out, num_in], t.into_dyn())?;
        }
        b.params(&self.params)
    }
}

impl Handle<LearningDense> {
    /// Pre-synaptic spikes.
    pub fn s_in(&self) -> InPort {
        self.in_port("s_in")
    }
    /// Post-synaptic spikes (back-propagating action potentials).
    pub fn s_in_bap(&self) -> InPort {
        self.in_port("s_in_bap")
    }
    /// Post-synaptic trace `k` (1..=3) of a three-factor rule.
    pub fn s_in_y(&self, k: usize) -> InPort {
        self.in_port(&format!("s_in_y{k}"))
    }
    /// Output activation.
    pub fn a_out(&self) -> OutPort {
        self.out_port("a_out")
    }
    /// Weights (num_out, num_in).
    pub fn weights(&self) -> VarRef {
        self.var("weights")
    }
    /// Delays (Lava `tag_2`), learned but not applied to spikes.
    pub fn tag_2(&self) -> VarRef {
        self.var("tag_2")
    }
    /// Tags (Lava `tag_1`).
    pub fn tag_1(&self) -> VarRef {
        self.var("tag_1")
    }
    /// Any learning Var by Lava's name (`x0`, `tx`, `x1`, `x2`, `y0`, `ty`, `y1`..`y3`).
    pub fn trace(&self, name: &str) -> VarRef {
        self.var(name)
    }
}

pub(crate) fn register(r: &mut Registry) {
    let model = |fixed| move |p: &LeafProcess| Ok(Box::new(LearningDenseModel::new(p, fixed)?) as Box<dyn CpuModel>);
    r.register_library([
        ModelEntry::cpu(
            "LearningDense",
            "PyLearningDenseModelFloat",
            &["floating_pt"],
            OutputTiming::PreviousStep,
            model(false),
        ),
        ModelEntry::cpu(
            "LearningDense",
            "PyLearningDenseModelBitApproximate",
            &["bit_approximate_loihi", "fixed_pt"],
            OutputTiming::PreviousStep,
            model(true),
        ),
    ]);
}

/// The float or bit-approximate LearningDense model. Synaptic variables are kept
/// column-major (the weights of input j contiguous) as f64 (integers in fixed point).
pub struct LearningDenseModel {
    fixed: bool,
    params: LearningDenseParams,
    n_post: usize,
    n_pre: usize,
    weights: Vec<f64>,
    tag_2: Vec<f64>,
    tag_1: Vec<f64>,
    a_buff: Vec<f64>,
    num_message_bits: u32,
    /// Fixed point: the initial truncation has happened.
    weights_set: bool,
    plasticity: Plasticity,
    active: Vec<(usize, f64)>,
}

impl LearningDenseModel {
    fn new(p: &LeafProcess, fixed: bool) -> Result<Self, String> {
        if p.vars.len() != VAR_NAMES.len() || p.vars.iter().zip(VAR_NAMES).any(|(v, n)| v.name != n) {
            return Err(format!("process {} does not have the LearningDense Vars {VAR_NAMES:?}", p.name));
        }
        let params: LearningDenseParams = p.params()?;
        let [n_post, n_pre] = p.vars[WEIGHTS].shape[..] else {
            return Err("LearningDense weights must be 2-D".into());
        };
        let synaptic = |var: usize| -> Result<Vec<f64>, String> {
            let d = &p.vars[var].data;
            if d.len() != n_post * n_pre {
                return Err(format!("Var `{}` must have {} elements", VAR_NAMES[var], n_post * n_pre));
            }
            let d = if fixed {
                to_ints(VAR_NAMES[var], &d.iter().map(|x| x.trunc()).collect::<Vec<_>>(), -(1 << 31), (1 << 31) - 1)?
                    .into_iter()
                    .map(|x| x as f64)
                    .collect()
            } else {
                d.clone()
            };
            Ok(to_columns(n_post, n_pre, &d))
        };
        let plasticity =
            Plasticity::new(&params.rule, fixed, params.graded_spike_cfg, params.sign_mode, n_post, n_pre)?;
        Ok(LearningDenseModel {
            fixed,
            n_post,
            n_pre,
            weights: synaptic(WEIGHTS)?,
            tag_2: synaptic(TAG_2)?,
            tag_1: synaptic(TAG_1)?,
            a_buff: p.vars[A_BUFF].data.to_vec(),
            num_message_bits: to_int("num_message_bits", p.vars[NUM_MESSAGE_BITS].data[0], 0, 32)? as u32,
            weights_set: false,
            plasticity,
            active: Vec::with_capacity(n_pre),
            params,
        })
    }

    fn var_len(&self, var: usize) -> usize {
        match var {
            WEIGHTS | TAG_1 | TAG_2 => self.n_post * self.n_pre,
            A_BUFF | Y0..=Y3 => self.n_post,
            NUM_MESSAGE_BITS => 1,
            _ => self.n_pre,
        }
    }
}

impl CpuModel for LearningDenseModel {
    fn var_dtype(&self, var: usize) -> DType {
        match var {
            _ if !self.fixed && matches!(var, WEIGHTS | A_BUFF | X1 | X2 | Y1..=Y3 | TAG_1 | TAG_2) => DType::F64,
            WEIGHTS | A_BUFF => DType::I32,
            _ => DType::I64,
        }
    }

    fn emit(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        let fixed = self.fixed;
        for (o, &a) in io.send(0).iter_mut().zip(&self.a_buff) {
            *o = if fixed { f64::from(a as i64 as i32) } else { a };
        }
        Ok(())
    }

    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        if self.fixed && !self.weights_set {
            let (mode, bits) = (self.params.sign_mode, self.params.num_weight_bits);
            for w in &mut self.weights {
                *w = truncate_weight(*w as i64, mode, bits) as f64;
            }
            self.weights_set = true;
        }
        let graded = self.num_message_bits > 0;
        self.a_buff.fill(0.0);
        accumulate(&mut self.a_buff, &self.weights, io.recv(0), graded, &mut self.active);
        if self.fixed && self.params.weight_exp != 0 {
            for a in &mut self.a_buff {
                *a = shift_by_exp(*a as i64, self.params.weight_exp) as f64;
            }
        }
        let y_in = (self.plasticity.kind() == RuleKind::ThreeFactor).then(|| [io.recv(2), io.recv(3), io.recv(4)]);
        self.plasticity.spike(io.time_step(), io.recv(0), graded, io.recv(1), y_in);
        Ok(())
    }

    fn lrn_guard(&self, time_step: u64) -> bool {
        self.plasticity.epoch_ends(time_step)
    }

    fn run_lrn(&mut self, io: &mut MgmtIo<'_>) -> Result<(), ModelError> {
        let syn = Synapses { weights: &mut self.weights, delays: &mut self.tag_2, tags: &mut self.tag_1 };
        self.plasticity.learn(io.time_step(), syn);
        Ok(())
    }

    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        let name = VAR_NAMES.get(var).ok_or_else(|| unknown_var(var))?;
        check_len(name, self.var_len(var), out.len())?;
        let p = &self.plasticity;
        let from_bools =
            |out: &mut [f64], b: &[bool]| out.iter_mut().zip(b).for_each(|(o, &x)| *o = f64::from(u8::from(x)));
        let from_times = |out: &mut [f64], t: &[u32]| out.iter_mut().zip(t).for_each(|(o, &x)| *o = f64::from(x));
        match var {
            WEIGHTS => columns_to_rows(self.n_post, self.n_pre, &self.weights, out),
            TAG_2 => columns_to_rows(self.n_post, self.n_pre, &self.tag_2, out),
            TAG_1 => columns_to_rows(self.n_post, self.n_pre, &self.tag_1, out),
            A_BUFF => out.copy_from_slice(&self.a_buff),
            NUM_MESSAGE_BITS => out[0] = f64::from(self.num_message_bits),
            X0 => from_bools(out, &p.x0),
            Y0 => from_bools(out, &p.y0),
            TX => from_times(out, &p.tx),
            TY => from_times(out, &p.ty),
            X1 | X2 => out.copy_from_slice(&p.traces[var - X1]),
            _ => out.copy_from_slice(&p.traces[2 + var - Y1]),
        }
        Ok(())
    }

    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        let name = *VAR_NAMES.get(var).ok_or_else(|| unknown_var(var))?;
        check_len(name, self.var_len(var), data.len())?;
        if let Some(bad) = data.iter().find(|x| !x.is_finite()) {
            return Err(ModelError::new(format!("Var `{name}` must be finite, got {bad}")));
        }
        let fixed = self.fixed;
        let conv = |x: f64| if fixed { x.trunc() } else { x };
        let (n_post, n_pre) = (self.n_post, self.n_pre);
        let columns = |data: &[f64]| to_columns(n_post, n_pre, &data.iter().map(|&x| conv(x)).collect::<Vec<_>>());
        let p = &mut self.plasticity;
        let times = |t: &mut [u32], d: &[f64]| -> Result<(), ModelError> {
            for (t, &x) in t.iter_mut().zip(d) {
                *t = to_int(name, x, 0, 63).map_err(ModelError)? as u32;
            }
            Ok(())
        };
        match var {
            WEIGHTS => self.weights = columns(data),
            TAG_2 => self.tag_2 = columns(data),
            TAG_1 => self.tag_1 = columns(data),
            A_BUFF => self.a_buff.iter_mut().zip(data).for_each(|(a, &x)| *a = conv(x)),
            NUM_MESSAGE_BITS => {
                self.num_message_bits = to_int(name, data[0], 0, 32).map_err(ModelError)? as u32;
            }
            X0 => p.x0.iter_mut().zip(data).for_each(|(b, &x)| *b = x != 0.0),
            Y0 => p.y0.iter_mut().zip(data).for_each(|(b, &x)| *b = x != 0.0),
            TX => times(&mut p.tx, data)?,
            TY => times(&mut p.ty, data)?,
            X1 | X2 => p.traces[var - X1].iter_mut().zip(data).for_each(|(t, &x)| *t = conv(x)),
            _ => p.traces[2 + var - Y1].iter_mut().zip(data).for_each(|(t, &x)| *t = conv(x)),
        }
        Ok(())
    }
}
