//! Leaky integrate-and-fire neurons (Lava `lava.proc.lif`, SPEC §2.1): `Lif`, `LifReset`,
//! `TernaryLif` and `LifRefractory`, with their float models and Loihi bit-accurate
//! fixed-point models (Lava has no fixed model of `LifRefractory`).

use serde::{Deserialize, Serialize};

use crate::error::{Error, ModelError, Result};
use crate::executable::LeafProcess;
use crate::fixed::{decay12, shift_by_exp, to_int, to_ints, I16, I32};
use crate::graph::{Handle, InPort, OutPort, Process, ProcessBuilder, VarRef};
use crate::model::{check_len, unknown_var, CpuModel, DType, SpikeIo};
use crate::registry::{ModelEntry, OutputTiming, Registry};
use crate::value::{numel, Init, Shape};

/// Var indices in declaration order (Lava's order: u, v, du, dv, bias_exp, bias_mant, then
/// the variant's Vars: `vth` / `vth_hi, vth_lo` / `vth, refractory_period_end`).
const U: usize = 0;
const V: usize = 1;
const DU: usize = 2;
const DV: usize = 3;
const BIAS_EXP: usize = 4;
const BIAS_MANT: usize = 5;
/// `vth`, or `vth_hi` for the ternary LIF.
const TH0: usize = 6;
/// `vth_lo` for the ternary LIF, `refractory_period_end` for the refractory LIF.
const TH1: usize = 7;
const COMMON: [&str; 6] = ["u", "v", "du", "dv", "bias_exp", "bias_mant"];

/// Which member of the LIF family a process is, with its extra parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LifKind {
    /// `LIF`: spike where `v > vth`.
    Plain,
    /// `LIFReset`: u and v are zeroed at the start of steps with
    /// `t mod interval == offset mod interval`.
    Reset {
        /// Steps between resets (>= 1).
        interval: u64,
        /// Phase of the resets.
        offset: u64,
    },
    /// `TernaryLIF`: +1 where `v > vth_hi`, -1 where `v < vth_lo`.
    Ternary,
    /// `LIFRefractory`: after a spike at t, v stays 0 until step `t + period` has passed.
    Refractory {
        /// Refractory period in steps (>= 1).
        period: u64,
    },
}

impl LifKind {
    /// Names of the Vars after the common six.
    fn extra_vars(self) -> &'static [&'static str] {
        match self {
            LifKind::Plain | LifKind::Reset { .. } => &["vth"],
            LifKind::Ternary => &["vth_hi", "vth_lo"],
            LifKind::Refractory { .. } => &["vth", "refractory_period_end"],
        }
    }
}

/// A population of LIF neurons:
/// `u = u(1-du) + a_in; v = v(1-dv) + u + bias; s = v > vth; v[s] = 0`.
/// In fixed point the same with Loihi's integer arithmetic (see [`LifFixed`]).
#[derive(Clone, Debug)]
pub struct Lif {
    shape: Shape,
    u: Init,
    v: Init,
    du: f64,
    dv: f64,
    bias_mant: Init,
    bias_exp: Init,
    vth: f64,
}

impl Lif {
    /// LIF neurons of `shape` with Lava's defaults (u=v=0, du=dv=0, bias 0, vth=10).
    pub fn new(shape: &[usize]) -> Self {
        Lif {
            shape: shape.to_vec(),
            u: Init::Scalar(0.0),
            v: Init::Scalar(0.0),
            du: 0.0,
            dv: 0.0,
            bias_mant: Init::Scalar(0.0),
            bias_exp: Init::Scalar(0.0),
            vth: 10.0,
        }
    }
    /// Initial current.
    pub fn u(mut self, u: impl Into<Init>) -> Self {
        self.u = u.into();
        self
    }
    /// Initial voltage.
    pub fn v(mut self, v: impl Into<Init>) -> Self {
        self.v = v.into();
        self
    }
    /// Current decay (float: fraction per step; fixed: 0..4095 in units of 1/4096).
    pub fn du(mut self, du: f64) -> Self {
        self.du = du;
        self
    }
    /// Voltage decay (float: fraction per step; fixed: 0..4095 in units of 1/4096).
    pub fn dv(mut self, dv: f64) -> Self {
        self.dv = dv;
        self
    }
    /// Bias mantissa (per neuron or scalar).
    pub fn bias_mant(mut self, b: impl Into<Init>) -> Self {
        self.bias_mant = b.into();
        self
    }
    /// Bias exponent (fixed point only; ignored by the float model).
    pub fn bias_exp(mut self, e: impl Into<Init>) -> Self {
        self.bias_exp = e.into();
        self
    }
    /// Threshold.
    pub fn vth(mut self, vth: f64) -> Self {
        self.vth = vth;
        self
    }
    /// Turns these neurons into a `LifReset` (Lava `LIFReset`): u and v are zeroed at the
    /// start of every step with `t mod interval == offset mod interval`.
    pub fn with_reset(self, interval: u64, offset: u64) -> LifReset {
        LifReset { base: self, interval, offset }
    }
    /// Turns these neurons into a `TernaryLif` (Lava `TernaryLIF`) with thresholds
    /// `vth_lo < vth_hi` (Lava's defaults: -10, 10); `vth` is not used.
    pub fn ternary(self, vth_hi: f64, vth_lo: f64) -> TernaryLif {
        TernaryLif { base: self, vth_hi, vth_lo }
    }
    /// Turns these neurons into a `LifRefractory` (Lava `LIFRefractory`, float only).
    pub fn refractory(self, period: u64) -> LifRefractory {
        LifRefractory { base: self, period }
    }

    /// Turns these neurons into a `LearningLif` that also sends its spikes, a post trace
    /// y1 (`impulse` per spike, decay `tau`) and its third-factor input to a learning
    /// connection.
    pub fn learning(self, y1_impulse: f64, y1_tau: f64) -> super::learning_lif::LearningLif {
        super::learning_lif::LearningLif {
            base: self,
            post_trace: crate::learning::TraceParams { impulse: y1_impulse, tau: y1_tau },
        }
    }

    /// The population shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Declares the ports and Vars of a plain LIF (the six common ones and `vth`).
    pub(crate) fn declare_lif(&self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        self.declare_common(b)?;
        b.var("vth", &[1], self.vth)?;
        Ok(())
    }

    /// Declares the ports and the six common Vars.
    fn declare_common(&self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        let s = &self.shape;
        b.in_port("a_in", s)?;
        b.out_port("s_out", s)?;
        b.var("u", s, self.u.clone())?;
        b.var("v", s, self.v.clone())?;
        b.var("du", &[1], self.du)?;
        b.var("dv", &[1], self.dv)?;
        b.var("bias_exp", s, self.bias_exp.clone())?;
        b.var("bias_mant", s, self.bias_mant.clone())?;
        Ok(())
    }
}

/// LIF neurons whose u and v are reset periodically (Lava `LIFReset`); build with
/// [`Lif::with_reset`].
#[derive(Clone, Debug)]
pub struct LifReset {
    base: Lif,
    interval: u64,
    offset: u64,
}

/// LIF neurons with two thresholds and ternary spikes (Lava `TernaryLIF`); build with
/// [`Lif::ternary`].
#[derive(Clone, Debug)]
pub struct TernaryLif {
    base: Lif,
    vth_hi: f64,
    vth_lo: f64,
}

/// LIF neurons with a refractory period (Lava `LIFRefractory`); build with
/// [`Lif::refractory`].
#[derive(Clone, Debug)]
pub struct LifRefractory {
    base: Lif,
    period: u64,
}

fn invalid(b: &ProcessBuilder<'_>, param: &str, reason: String) -> Error {
    Error::InvalidParameter { process: b.name().to_string(), param: param.into(), reason }
}

impl Process for Lif {
    const TYPE_NAME: &'static str = "Lif";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        self.declare_lif(b)?;
        b.params(&LifKind::Plain)
    }
}

impl Process for LifReset {
    const TYPE_NAME: &'static str = "LifReset";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        if self.interval == 0 {
            return Err(invalid(b, "reset_interval", "must be at least 1".into()));
        }
        self.base.declare_common(b)?;
        b.var("vth", &[1], self.base.vth)?;
        b.params(&LifKind::Reset { interval: self.interval, offset: self.offset })
    }
}

impl Process for TernaryLif {
    const TYPE_NAME: &'static str = "TernaryLif";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        if self.vth_lo > self.vth_hi {
            return Err(invalid(
                b,
                "vth_lo",
                format!("vth_lo ({}) must not exceed vth_hi ({})", self.vth_lo, self.vth_hi),
            ));
        }
        self.base.declare_common(b)?;
        b.var("vth_hi", &[1], self.vth_hi)?;
        b.var("vth_lo", &[1], self.vth_lo)?;
        b.params(&LifKind::Ternary)
    }
}

impl Process for LifRefractory {
    const TYPE_NAME: &'static str = "LifRefractory";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        if self.period == 0 {
            return Err(invalid(b, "refractory_period", "must be at least 1".into()));
        }
        self.base.declare_common(b)?;
        b.var("vth", &[1], self.base.vth)?;
        b.var("refractory_period_end", &self.base.shape, 0.0)?;
        b.params(&LifKind::Refractory { period: self.period })
    }
}

/// Port and Var accessors shared by the LIF family's handles.
macro_rules! lif_accessors {
    ($($t:ty),*) => {$(
        impl Handle<$t> {
            /// Input current port.
            pub fn a_in(&self) -> InPort {
                self.in_port("a_in")
            }
            /// Spike output port.
            pub fn s_out(&self) -> OutPort {
                self.out_port("s_out")
            }
            /// Current.
            pub fn u(&self) -> VarRef {
                self.var("u")
            }
            /// Voltage.
            pub fn v(&self) -> VarRef {
                self.var("v")
            }
            /// Current decay.
            pub fn du(&self) -> VarRef {
                self.var("du")
            }
            /// Voltage decay.
            pub fn dv(&self) -> VarRef {
                self.var("dv")
            }
            /// Bias exponent.
            pub fn bias_exp(&self) -> VarRef {
                self.var("bias_exp")
            }
            /// Bias mantissa.
            pub fn bias_mant(&self) -> VarRef {
                self.var("bias_mant")
            }
        }
    )*};
}
lif_accessors!(Lif, LifReset, TernaryLif, LifRefractory);

macro_rules! vth_accessor {
    ($($t:ty),*) => {$(
        impl Handle<$t> {
            /// Threshold.
            pub fn vth(&self) -> VarRef {
                self.var("vth")
            }
        }
    )*};
}
vth_accessor!(Lif, LifReset, LifRefractory);

impl Handle<TernaryLif> {
    /// Upper threshold.
    pub fn vth_hi(&self) -> VarRef {
        self.var("vth_hi")
    }
    /// Lower threshold.
    pub fn vth_lo(&self) -> VarRef {
        self.var("vth_lo")
    }
}

impl Handle<LifRefractory> {
    /// Last step of each neuron's current refractory period.
    pub fn refractory_period_end(&self) -> VarRef {
        self.var("refractory_period_end")
    }
}

/// Registers the LIF family's models in Lava's order.
pub(crate) fn register(r: &mut Registry) {
    let float = |p: &LeafProcess| Ok(Box::new(LifFloat::new(p)?) as Box<dyn CpuModel>);
    let fixed = |p: &LeafProcess| Ok(Box::new(LifFixed::new(p)?) as Box<dyn CpuModel>);
    let bit_acc: &[&str] = &["bit_accurate_loihi", "fixed_pt"];
    let models = [
        ModelEntry::cpu("Lif", "PyLifModelFloat", &["floating_pt"], OutputTiming::SameStep, float),
        ModelEntry::cpu("Lif", "PyLifModelBitAcc", bit_acc, OutputTiming::SameStep, fixed),
        ModelEntry::cpu("TernaryLif", "PyTernLifModelFloat", &["floating_pt"], OutputTiming::SameStep, float),
        ModelEntry::cpu("TernaryLif", "PyTernLifModelFixed", &["fixed_pt"], OutputTiming::SameStep, fixed),
        ModelEntry::cpu("LifReset", "PyLifResetModelFloat", &["floating_pt"], OutputTiming::SameStep, float),
        ModelEntry::cpu("LifReset", "PyLifResetModelBitAcc", bit_acc, OutputTiming::SameStep, fixed),
        ModelEntry::cpu("LifRefractory", "PyLifRefractoryModelFloat", &["floating_pt"], OutputTiming::SameStep, float),
    ];
    r.register_library(models);
}

/// The float or fixed-point model of a compiled LIF-family process.
pub(crate) fn model(p: &LeafProcess, fixed: bool) -> Result<Box<dyn CpuModel>, String> {
    Ok(if fixed { Box::new(LifFixed::new(p)?) } else { Box::new(LifFloat::new(p)?) })
}

/// The kind of a compiled LIF-family process, checked against its Vars, and the Vars' data.
fn lif_vars(p: &LeafProcess) -> Result<(LifKind, Vec<&[f64]>), String> {
    let kind: LifKind = p.params()?;
    let names: Vec<&str> = COMMON.iter().chain(kind.extra_vars()).copied().collect();
    if p.vars.len() != names.len() || p.vars.iter().zip(&names).any(|(v, n)| v.name != *n) {
        return Err(format!("process {} does not have the Vars {names:?} of {kind:?}", p.name));
    }
    if let LifKind::Reset { interval: 0, .. } | LifKind::Refractory { period: 0 } = kind {
        return Err("reset interval and refractory period must be at least 1".into());
    }
    let n = numel(p.in_port_shape("a_in")?);
    for (i, v) in p.vars.iter().enumerate() {
        let per_neuron = matches!(i, U | V | BIAS_EXP | BIAS_MANT) || v.name == "refractory_period_end";
        let expected = if per_neuron { n } else { 1 };
        if v.data.len() != expected {
            return Err(format!("LIF Var `{}` has {} elements, expected {expected}", v.name, v.data.len()));
        }
    }
    Ok((kind, p.vars.iter().map(|v| &v.data[..]).collect()))
}

/// Whether step `t` resets u and v (LIFReset).
#[inline]
fn resets_at(kind: LifKind, t: u64) -> bool {
    matches!(kind, LifKind::Reset { interval, offset } if t % interval == offset % interval)
}

/// Float LIF-family model (Lava `PyLifModelFloat`, `PyLifResetModelFloat`,
/// `PyTernLifModelFloat`, `PyLifRefractoryModelFloat`); `bias_exp` is ignored.
pub struct LifFloat {
    kind: LifKind,
    u: Vec<f64>,
    v: Vec<f64>,
    du: f64,
    dv: f64,
    bias_exp: Vec<f64>,
    bias_mant: Vec<f64>,
    /// `vth`, or (`vth_hi`, `vth_lo`).
    th: [f64; 2],
    /// Refractory LIF: last step of the refractory period, per neuron.
    refractory_end: Vec<f64>,
}

impl LifFloat {
    fn new(p: &LeafProcess) -> Result<Self, String> {
        let (kind, d) = lif_vars(p)?;
        let th1 = if kind == LifKind::Ternary { d[TH1][0] } else { 0.0 };
        let refractory_end = if let LifKind::Refractory { .. } = kind { d[TH1].to_vec() } else { Vec::new() };
        Ok(LifFloat {
            kind,
            u: d[U].to_vec(),
            v: d[V].to_vec(),
            du: d[DU][0],
            dv: d[DV][0],
            bias_exp: d[BIAS_EXP].to_vec(),
            bias_mant: d[BIAS_MANT].to_vec(),
            th: [d[TH0][0], th1],
            refractory_end,
        })
    }

    /// The neuron update for a spike rule `spike(v) -> -1/0/+1`, over equal-length slices.
    #[inline(always)]
    fn update(&mut self, a_in: &[f64], s_out: &mut [f64], spike: impl Fn(f64) -> f64) {
        let (fu, fv) = (1.0 - self.du, 1.0 - self.dv);
        let n = self.u.len();
        let (us, vs, bs) = (&mut self.u[..n], &mut self.v[..n], &self.bias_mant[..n]);
        let (a_in, s_out) = (&a_in[..n], &mut s_out[..n]);
        for ((((u, v), &bias), &a), s) in us.iter_mut().zip(vs.iter_mut()).zip(bs).zip(a_in).zip(s_out.iter_mut()) {
            let cur = *u * fu + a;
            let volt = *v * fv + cur + bias;
            let sp = spike(volt);
            *u = cur;
            *v = if sp != 0.0 { 0.0 } else { volt };
            *s = sp;
        }
    }
}

impl CpuModel for LifFloat {
    fn var_dtype(&self, var: usize) -> DType {
        if var == TH1 && matches!(self.kind, LifKind::Refractory { .. }) {
            DType::I64
        } else {
            DType::F64
        }
    }

    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        let t = io.time_step();
        let (a_in, s_out) = io.recv_send(0, 0);
        if resets_at(self.kind, t) {
            self.u.iter_mut().for_each(|x| *x *= 0.0);
            self.v.iter_mut().for_each(|x| *x *= 0.0);
        }
        let [th0, th1] = self.th;
        match self.kind {
            LifKind::Plain | LifKind::Reset { .. } => crate::simd::dispatch(
                #[inline(always)]
                || self.update(a_in, s_out, |v| f64::from(u8::from(v > th0))),
            ),
            LifKind::Ternary => {
                self.update(a_in, s_out, |v| f64::from(u8::from(v > th0)) - f64::from(u8::from(v < th1)))
            }
            LifKind::Refractory { period } => {
                let (fu, fv) = (1.0 - self.du, 1.0 - self.dv);
                let (tf, end_after_spike) = (t as f64, (t + period) as f64);
                let n = self.u.len();
                let (us, vs, bs, ends) =
                    (&mut self.u[..n], &mut self.v[..n], &self.bias_mant[..n], &mut self.refractory_end[..n]);
                let (a_in, s_out) = (&a_in[..n], &mut s_out[..n]);
                // Branch-free: v is updated only outside the refractory period (Lava
                // computes v·(1-dv) + (u + bias) there).
                crate::simd::dispatch(
                    #[inline(always)]
                    || {
                        // Masks as 0.0/1.0 factors (exact: x·1 + y·0 = x) so the loop
                        // vectorises.
                        for k in 0..n {
                            let cur = us[k] * fu + a_in[k];
                            let decayed = vs[k] * fv + (cur + bs[k]);
                            let active = f64::from(u8::from(ends[k] < tf));
                            let volt = decayed * active + vs[k] * (1.0 - active);
                            let spike = f64::from(u8::from(volt > th0));
                            us[k] = cur;
                            ends[k] += spike * (end_after_spike - ends[k]);
                            vs[k] = volt * (1.0 - spike);
                            s_out[k] = spike;
                        }
                    },
                );
            }
        }
        Ok(())
    }

    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        let src: &[f64] = match var {
            U => &self.u,
            V => &self.v,
            DU => std::slice::from_ref(&self.du),
            DV => std::slice::from_ref(&self.dv),
            BIAS_EXP => &self.bias_exp,
            BIAS_MANT => &self.bias_mant,
            TH0 => &self.th[..1],
            TH1 if self.kind == LifKind::Ternary => &self.th[1..],
            TH1 if matches!(self.kind, LifKind::Refractory { .. }) => &self.refractory_end,
            _ => return Err(unknown_var(var)),
        };
        check_len("LIF Var", src.len(), out.len())?;
        out.copy_from_slice(src);
        Ok(())
    }

    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        let refractory = matches!(self.kind, LifKind::Refractory { .. });
        let dst: &mut [f64] = match var {
            U => &mut self.u,
            V => &mut self.v,
            DU => std::slice::from_mut(&mut self.du),
            DV => std::slice::from_mut(&mut self.dv),
            BIAS_EXP => &mut self.bias_exp,
            BIAS_MANT => &mut self.bias_mant,
            TH0 => &mut self.th[..1],
            TH1 if self.kind == LifKind::Ternary => &mut self.th[1..],
            TH1 if refractory => &mut self.refractory_end,
            _ => return Err(unknown_var(var)),
        };
        check_len("LIF Var", dst.len(), data.len())?;
        dst.copy_from_slice(data);
        Ok(())
    }
}

/// Largest magnitude of u and v: 24-bit state (`max_uv = 2^23`).
const MAX_UV: i32 = 1 << 23;
/// Decay constants are in units of 1/4096.
const DECAY_UNITY: i64 = 1 << 12;
/// Threshold and input are MSB-aligned by 6 bits.
const VTH_SHIFT: u32 = 6;
const ACT_SHIFT: u32 = 6;

/// Loihi bit-accurate LIF-family model (Lava `PyLifModelBitAcc`, `PyLifResetModelBitAcc`,
/// `PyTernLifModelFixed`).
///
/// Per step (after the LIFReset zeroing): `u = rtz(u·(4096-(du+1)), 12) + (a_in << 6)`
/// wrapped once into 24 bits; `v = rtz(v·(4096-dv), 12) + u + (bias_mant << bias_exp)`
/// saturated to ±(2^23-1); `s = v > vth << 6` (ternary: +1 above `vth_hi << 6`, -1 below
/// `vth_lo << 6`); `v[s != 0] = 0`. As in Lava, thresholds are scaled in the first step only
/// (a later `set` of them has no effect), while the bias is rescaled every step. Vars are
/// checked against Lava's integer types (u, v, thresholds: i32; bias_mant, bias_exp: i16,
/// |bias_exp| <= 31; du: -1..=4095, dv: 0..=4095) instead of being silently wrapped.
pub struct LifFixed {
    kind: LifKind,
    u: Vec<i32>,
    v: Vec<i32>,
    du: i64,
    dv: i64,
    bias_exp: Vec<i32>,
    bias_mant: Vec<i32>,
    /// `vth`, or (`vth_hi`, `vth_lo`).
    th: [i32; 2],
    effective_th: Option<[i32; 2]>,
    effective_bias: Vec<i32>,
    /// Per-step scratch: scaled input, then spikes.
    scratch: Vec<i32>,
}

fn i32s(name: &str, d: &[f64], (lo, hi): (i64, i64)) -> Result<Vec<i32>, String> {
    Ok(to_ints(name, d, lo, hi)?.into_iter().map(|x| x as i32).collect())
}

impl LifFixed {
    fn new(p: &LeafProcess) -> Result<Self, String> {
        let (kind, d) = lif_vars(p)?;
        if let LifKind::Refractory { .. } = kind {
            return Err("Lava has no fixed-point model of LIFRefractory".into());
        }
        let n = d[U].len();
        let mut m = LifFixed {
            kind,
            u: Vec::new(),
            v: Vec::new(),
            du: 0,
            dv: 0,
            bias_exp: Vec::new(),
            bias_mant: Vec::new(),
            th: [0, 0],
            effective_th: None,
            effective_bias: vec![0; n],
            scratch: vec![0; n],
        };
        for (i, data) in d.iter().enumerate() {
            m.convert_and_store(i, data)?;
        }
        Ok(m)
    }

    fn var_name(&self, var: usize) -> &'static str {
        COMMON.iter().chain(self.kind.extra_vars()).nth(var).copied().unwrap_or("?")
    }

    fn convert_and_store(&mut self, var: usize, data: &[f64]) -> Result<(), String> {
        let name = self.var_name(var);
        match var {
            U => self.u = i32s(name, data, I32)?,
            V => self.v = i32s(name, data, I32)?,
            // -1 is what netx makes of iDecay = 0 (no current decay).
            DU => self.du = to_int(name, data[0], -1, 4095)?,
            DV => self.dv = to_int(name, data[0], 0, 4095)?,
            BIAS_EXP => self.bias_exp = i32s(name, data, (-31, 31))?,
            BIAS_MANT => self.bias_mant = i32s(name, data, I16)?,
            TH0 => self.th[0] = to_int(name, data[0], I32.0, I32.1)? as i32,
            TH1 if self.kind == LifKind::Ternary => self.th[1] = to_int(name, data[0], I32.0, I32.1)? as i32,
            _ => return Err(format!("unknown Var index {var}")),
        }
        Ok(())
    }

    /// The integer neuron update for a spike rule `spike(v) -> -1/0/+1`.
    #[inline(always)]
    fn update(&mut self, fu: u32, fv: u32, spike: impl Fn(i32) -> i32) {
        let n = self.u.len();
        let (us, vs, bs, xs) = (&mut self.u[..n], &mut self.v[..n], &self.effective_bias[..n], &mut self.scratch[..n]);
        for (((u, v), &bias), x) in us.iter_mut().zip(vs.iter_mut()).zip(bs).zip(xs.iter_mut()) {
            let mut cur = decay12(*u, fu).wrapping_add(*x);
            cur = if cur > MAX_UV {
                cur.wrapping_sub(2 * MAX_UV)
            } else if cur <= -MAX_UV {
                cur.wrapping_add(2 * MAX_UV)
            } else {
                cur
            };
            let volt = decay12(*v, fv).wrapping_add(cur).wrapping_add(bias).clamp(-MAX_UV + 1, MAX_UV - 1);
            let s = spike(volt);
            *u = cur;
            *v = if s != 0 { 0 } else { volt };
            *x = s;
        }
    }
}

impl CpuModel for LifFixed {
    fn var_dtype(&self, var: usize) -> DType {
        match var {
            DU | DV => DType::U16,
            BIAS_EXP | BIAS_MANT => DType::I16,
            _ => DType::I32,
        }
    }

    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        if resets_at(self.kind, io.time_step()) {
            self.u.fill(0);
            self.v.fill(0);
        }
        for ((b, &m), &e) in self.effective_bias.iter_mut().zip(&self.bias_mant).zip(&self.bias_exp) {
            *b = shift_by_exp(i64::from(m), e) as i32;
        }
        let [hi, lo] = *self.effective_th.get_or_insert(self.th.map(|t| t.wrapping_shl(VTH_SHIFT)));
        let (a_in, s_out) = io.recv_send(0, 0);
        let n = self.u.len();
        for (x, &a) in self.scratch[..n].iter_mut().zip(&a_in[..n]) {
            *x = (a as i32).wrapping_shl(ACT_SHIFT);
        }
        // du, dv are in 0..=4095, so both factors are in 0..=4096.
        let fu = (DECAY_UNITY - (self.du + 1)) as u32;
        let fv = (DECAY_UNITY - self.dv) as u32;
        match self.kind {
            LifKind::Ternary => self.update(fu, fv, |v| i32::from(v > hi) - i32::from(v < lo)),
            _ => crate::simd::dispatch(
                #[inline(always)]
                || self.update(fu, fv, |v| i32::from(v > hi)),
            ),
        }
        for (s, &x) in s_out[..n].iter_mut().zip(&self.scratch[..n]) {
            *s = f64::from(x);
        }
        Ok(())
    }

    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        let ints: &[i32] = match var {
            U => &self.u,
            V => &self.v,
            BIAS_EXP => &self.bias_exp,
            BIAS_MANT => &self.bias_mant,
            TH0 => &self.th[..1],
            TH1 if self.kind == LifKind::Ternary => &self.th[1..],
            DU | DV => {
                check_len(self.var_name(var), 1, out.len())?;
                out[0] = if var == DU { self.du } else { self.dv } as f64;
                return Ok(());
            }
            _ => return Err(unknown_var(var)),
        };
        check_len(self.var_name(var), ints.len(), out.len())?;
        for (o, &x) in out.iter_mut().zip(ints) {
            *o = f64::from(x);
        }
        Ok(())
    }

    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        let expected = match var {
            DU | DV | TH0 | TH1 => 1,
            U | V | BIAS_EXP | BIAS_MANT => self.u.len(),
            _ => return Err(unknown_var(var)),
        };
        check_len(self.var_name(var), expected, data.len())?;
        self.convert_and_store(var, data).map_err(ModelError)
    }
}
