//! Sigma-delta neurons (Lava `lava.proc.sdn`, SPEC §2.2): `Sigma` (accumulator), `Delta`
//! (delta encoder with residue or cumulative error) and `SigmaDelta` (both, with a ReLU or
//! identity activation and a bias), float and fixed point, plus the corrected fixed-point
//! SigmaDelta model selectable through the RunConfig exception map.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ModelError, Result};
use crate::executable::LeafProcess;
use crate::fixed::{to_int, to_ints, I32};
use crate::graph::{Handle, InPort, OutPort, Process, ProcessBuilder, VarRef};
use crate::model::{check_len, unknown_var, CpuModel, DType, SpikeIo};
use crate::registry::{ModelEntry, OutputTiming, Registry};
use crate::value::{numel, Init, Shape};

/// Activation of a `SigmaDelta` neuron (Lava `ActivationMode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivationMode {
    /// Identity: `act = sigma + bias`.
    Unit,
    /// `act = max(sigma + bias, 0)` (Lava's default).
    #[default]
    Relu,
}

/// Which sigma-delta process, with its activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum SdnKind {
    Sigma,
    Delta,
    SigmaDelta(ActivationMode),
}

impl SdnKind {
    fn var_names(self) -> &'static [&'static str] {
        match self {
            SdnKind::Sigma => &["sigma"],
            SdnKind::Delta => &["vth", "sigma", "act", "residue", "error", "spike_exp", "state_exp", "cum_error"],
            SdnKind::SigmaDelta(_) => {
                &["vth", "sigma", "act", "residue", "error", "bias", "spike_exp", "state_exp", "cum_error"]
            }
        }
    }
}

/// An accumulator: `sigma += a_in; s_out = sigma` (Lava `Sigma`).
#[derive(Clone, Debug)]
pub struct Sigma {
    shape: Shape,
}

impl Sigma {
    /// Sigma units of `shape`.
    pub fn new(shape: &[usize]) -> Self {
        Sigma { shape: shape.to_vec() }
    }
}

/// A delta encoder (Lava `Delta`): sends `delta = a_in - act + residue` where
/// `|delta| >= vth` (with `cum_error`: where the accumulated error reaches vth).
#[derive(Clone, Debug)]
pub struct Delta {
    shape: Shape,
    vth: f64,
    cum_error: bool,
    spike_exp: i32,
    state_exp: i32,
}

impl Delta {
    /// Delta encoders of `shape` with threshold `vth` (before scaling by
    /// `2^(spike_exp + state_exp)`).
    pub fn new(shape: &[usize], vth: f64) -> Self {
        Delta { shape: shape.to_vec(), vth, cum_error: false, spike_exp: 0, state_exp: 0 }
    }
    /// Fire on the accumulated error instead of the instantaneous delta.
    pub fn cum_error(mut self, on: bool) -> Self {
        self.cum_error = on;
        self
    }
    /// Exponent of the spike message (fixed point).
    pub fn spike_exp(mut self, e: i32) -> Self {
        self.spike_exp = e;
        self
    }
    /// Exponent of the state (fixed point).
    pub fn state_exp(mut self, e: i32) -> Self {
        self.state_exp = e;
        self
    }
}

/// A sigma-delta neuron (Lava `SigmaDelta`): `sigma += a_in; act = f(sigma + bias)`, then
/// delta encoding of `act` as in [`Delta`].
#[derive(Clone, Debug)]
pub struct SigmaDelta {
    delta: Delta,
    bias: Init,
    act_mode: ActivationMode,
}

impl SigmaDelta {
    /// Sigma-delta neurons of `shape` with threshold `vth` (ReLU, no bias).
    pub fn new(shape: &[usize], vth: f64) -> Self {
        SigmaDelta { delta: Delta::new(shape, vth), bias: Init::Scalar(0.0), act_mode: ActivationMode::Relu }
    }
    /// Bias (before scaling by `2^(spike_exp + state_exp)`).
    pub fn bias(mut self, b: impl Into<Init>) -> Self {
        self.bias = b.into();
        self
    }
    /// Activation function.
    pub fn act_mode(mut self, m: ActivationMode) -> Self {
        self.act_mode = m;
        self
    }
    /// Fire on the accumulated error.
    pub fn cum_error(mut self, on: bool) -> Self {
        self.delta.cum_error = on;
        self
    }
    /// Exponent of the spike message (fixed point).
    pub fn spike_exp(mut self, e: i32) -> Self {
        self.delta.spike_exp = e;
        self
    }
    /// Exponent of the state (fixed point).
    pub fn state_exp(mut self, e: i32) -> Self {
        self.delta.state_exp = e;
        self
    }
}

impl Process for Sigma {
    const TYPE_NAME: &'static str = "Sigma";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        b.in_port("a_in", &self.shape)?;
        b.out_port("s_out", &self.shape)?;
        b.var("sigma", &self.shape, 0.0)?;
        b.params(&SdnKind::Sigma)
    }
}

impl Delta {
    /// Declares ports and the Vars before `bias`; returns the scale `2^(spike_exp+state_exp)`.
    fn declare_head(&self, b: &mut ProcessBuilder<'_>) -> Result<f64> {
        let e = self.spike_exp + self.state_exp;
        if !(0..=24).contains(&self.spike_exp) || !(0..=24).contains(&self.state_exp) || e > 24 {
            return Err(Error::InvalidParameter {
                process: b.name().into(),
                param: "spike_exp/state_exp".into(),
                reason: format!("must be >= 0 with a sum <= 24, got {} and {}", self.spike_exp, self.state_exp),
            });
        }
        let scale = f64::from(1u32 << e);
        let s = &self.shape;
        b.in_port("a_in", s)?;
        b.out_port("s_out", s)?;
        b.var("vth", &[1], self.vth * scale)?;
        for name in ["sigma", "act", "residue", "error"] {
            b.var(name, s, 0.0)?;
        }
        Ok(scale)
    }

    fn declare_tail(&self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        b.var("spike_exp", &[1], f64::from(self.spike_exp))?;
        b.var("state_exp", &[1], f64::from(self.state_exp))?;
        b.var("cum_error", &[1], f64::from(u8::from(self.cum_error)))?;
        Ok(())
    }
}

impl Process for Delta {
    const TYPE_NAME: &'static str = "Delta";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        self.declare_head(b)?;
        self.declare_tail(b)?;
        b.params(&SdnKind::Delta)
    }
}

impl Process for SigmaDelta {
    const TYPE_NAME: &'static str = "SigmaDelta";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        let scale = self.delta.declare_head(b)?;
        let bias = self.bias.broadcast(&self.delta.shape).map_err(|reason| Error::InvalidParameter {
            process: b.name().into(),
            param: "bias".into(),
            reason,
        })?;
        b.var("bias", &self.delta.shape, bias.mapv(|x| x * scale))?;
        self.delta.declare_tail(b)?;
        b.params(&SdnKind::SigmaDelta(self.act_mode))
    }
}

macro_rules! sdn_accessors {
    ($($t:ty),*) => {$(
        impl Handle<$t> {
            /// Input port.
            pub fn a_in(&self) -> InPort {
                self.in_port("a_in")
            }
            /// Output port.
            pub fn s_out(&self) -> OutPort {
                self.out_port("s_out")
            }
            /// Accumulated input.
            pub fn sigma(&self) -> VarRef {
                self.var("sigma")
            }
        }
    )*};
}
sdn_accessors!(Sigma, Delta, SigmaDelta);

macro_rules! delta_accessors {
    ($($t:ty),*) => {$(
        impl Handle<$t> {
            /// Threshold (scaled).
            pub fn vth(&self) -> VarRef {
                self.var("vth")
            }
            /// Last activation.
            pub fn act(&self) -> VarRef {
                self.var("act")
            }
            /// Residue not yet sent.
            pub fn residue(&self) -> VarRef {
                self.var("residue")
            }
            /// Accumulated error (cum_error mode).
            pub fn error(&self) -> VarRef {
                self.var("error")
            }
        }
    )*};
}
delta_accessors!(Delta, SigmaDelta);

impl Handle<SigmaDelta> {
    /// Bias (scaled).
    pub fn bias(&self) -> VarRef {
        self.var("bias")
    }
}

pub(crate) fn register(r: &mut Registry) {
    let float = |p: &LeafProcess| Ok(Box::new(SdnModel::<f64>::new(p, Variant::Lava)?) as Box<dyn CpuModel>);
    let fixed = |p: &LeafProcess| Ok(Box::new(SdnModel::<i32>::new(p, Variant::Lava)?) as Box<dyn CpuModel>);
    let corrected = |p: &LeafProcess| Ok(Box::new(SdnModel::<i32>::new(p, Variant::Corrected)?) as Box<dyn CpuModel>);
    let t = OutputTiming::SameStep;
    let models = [
        ModelEntry::cpu("Sigma", "PySigmaModelFloat", &["floating_pt"], t, float),
        ModelEntry::cpu("Sigma", "PySigmaModelFixed", &["fixed_pt"], t, fixed),
        ModelEntry::cpu("Delta", "PyDeltaModelFloat", &["floating_pt"], t, float),
        ModelEntry::cpu("Delta", "PyDeltaModelFixed", &["fixed_pt"], t, fixed),
        ModelEntry::cpu("SigmaDelta", "PySigmaDeltaModelFloat", &["floating_pt"], t, float),
        ModelEntry::cpu("SigmaDelta", "PySigmaDeltaModelFixed", &["fixed_pt"], t, fixed),
        ModelEntry::cpu("SigmaDelta", "PySigmaDeltaModelFixedCorrected", &["fixed_pt"], t, corrected),
    ];
    r.register_library(models);
}

/// Lava's models, or the corrected fixed-point SigmaDelta (SPEC §2.2).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Lava,
    Corrected,
}

/// Number type of a sigma-delta model: f64 (float) or wrapping i32 (fixed).
trait SdnNum: Copy + PartialOrd + Default + Send + 'static {
    const FIXED: bool;
    fn from_f64(name: &str, x: f64) -> Result<Self, String>;
    fn to_f64(self) -> f64;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn abs(self) -> Self;
    fn shl(self, e: u32) -> Self;
    fn shr(self, e: u32) -> Self;
    fn zero() -> Self {
        Self::default()
    }
}

impl SdnNum for f64 {
    const FIXED: bool = false;
    fn from_f64(_: &str, x: f64) -> Result<f64, String> {
        Ok(x)
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn add(self, o: f64) -> f64 {
        self + o
    }
    fn sub(self, o: f64) -> f64 {
        self - o
    }
    fn abs(self) -> f64 {
        f64::abs(self)
    }
    fn shl(self, _: u32) -> f64 {
        self
    }
    fn shr(self, _: u32) -> f64 {
        self
    }
}

impl SdnNum for i32 {
    const FIXED: bool = true;
    fn from_f64(name: &str, x: f64) -> Result<i32, String> {
        Ok(to_int(name, x, I32.0, I32.1)? as i32)
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn add(self, o: i32) -> i32 {
        self.wrapping_add(o)
    }
    fn sub(self, o: i32) -> i32 {
        self.wrapping_sub(o)
    }
    fn abs(self) -> i32 {
        self.wrapping_abs()
    }
    fn shl(self, e: u32) -> i32 {
        self.wrapping_shl(e)
    }
    fn shr(self, e: u32) -> i32 {
        self >> e.min(31)
    }
}

/// The state of one sigma-delta process; Var indices follow `SdnKind::var_names`.
struct SdnModel<T: SdnNum> {
    kind: SdnKind,
    variant: Variant,
    vth: T,
    sigma: Vec<T>,
    act: Vec<T>,
    residue: Vec<T>,
    error: Vec<T>,
    bias: Vec<T>,
    spike_exp: i32,
    state_exp: i32,
    cum_error: bool,
}

impl<T: SdnNum> SdnModel<T> {
    fn new(p: &LeafProcess, variant: Variant) -> Result<Self, String> {
        let kind: SdnKind = p.params()?;
        let names = kind.var_names();
        if p.vars.len() != names.len() || p.vars.iter().zip(names).any(|(v, n)| v.name != *n) {
            return Err(format!("process {} does not have the Vars {names:?}", p.name));
        }
        let n = numel(p.in_port_shape("a_in")?);
        let mut m = SdnModel {
            kind,
            variant,
            vth: T::zero(),
            sigma: vec![T::zero(); n],
            act: vec![T::zero(); n],
            residue: vec![T::zero(); n],
            error: vec![T::zero(); n],
            bias: vec![T::zero(); n],
            spike_exp: 0,
            state_exp: 0,
            cum_error: false,
        };
        for (i, v) in p.vars.iter().enumerate() {
            m.store(i, &v.data)?;
        }
        Ok(m)
    }

    fn name(&self, var: usize) -> &'static str {
        self.kind.var_names().get(var).copied().unwrap_or("?")
    }

    fn vec_mut(&mut self, name: &str) -> Option<&mut Vec<T>> {
        Some(match name {
            "sigma" => &mut self.sigma,
            "act" => &mut self.act,
            "residue" => &mut self.residue,
            "error" => &mut self.error,
            "bias" => &mut self.bias,
            _ => return None,
        })
    }

    fn store(&mut self, var: usize, data: &[f64]) -> Result<(), String> {
        let name = self.name(var);
        let n = self.sigma.len();
        let scalar = |d: &[f64]| if d.len() == 1 { Ok(d[0]) } else { Err(format!("`{name}` must have one element")) };
        match name {
            "vth" => self.vth = T::from_f64(name, scalar(data)?)?,
            "spike_exp" | "state_exp" => {
                let e = to_int(name, scalar(data)?, 0, 24)? as i32;
                if name == "spike_exp" {
                    self.spike_exp = e
                } else {
                    self.state_exp = e
                }
            }
            "cum_error" => self.cum_error = scalar(data)? != 0.0,
            _ => {
                if data.len() != n {
                    return Err(format!("`{name}` has {} elements, expected {n}", data.len()));
                }
                let values: Vec<T> = if T::FIXED {
                    to_ints(name, data, I32.0, I32.1)?
                        .into_iter()
                        .map(|x| T::from_f64(name, x as f64))
                        .collect::<Result<_, _>>()?
                } else {
                    data.iter().map(|&x| T::from_f64(name, x)).collect::<Result<_, _>>()?
                };
                *self.vec_mut(name).ok_or_else(|| format!("unknown Var {name}"))? = values;
            }
        }
        Ok(())
    }

    /// Delta encoding of one activation (Lava's `delta_dynamics`), returning the message
    /// before the `state_exp` shift.
    #[inline]
    fn delta(&mut self, i: usize, act: T) -> T {
        let delta = act.sub(self.act[i]).add(self.residue[i]);
        let fire = if self.cum_error {
            self.error[i] = self.error[i].add(delta);
            self.error[i].abs() >= self.vth
        } else {
            delta.abs() >= self.vth
        };
        let s = if fire { delta } else { T::zero() };
        if self.cum_error && s.abs() > T::zero() {
            self.error[i] = T::zero();
        }
        self.residue[i] = delta.sub(s);
        s
    }
}

impl<T: SdnNum> CpuModel for SdnModel<T> {
    fn var_dtype(&self, var: usize) -> DType {
        match self.name(var) {
            "spike_exp" | "state_exp" => DType::I32,
            "cum_error" => DType::I64,
            _ if T::FIXED => DType::I32,
            _ => DType::F64,
        }
    }

    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        let (a_in, s_out) = io.recv_send(0, 0);
        let shift = (self.spike_exp + self.state_exp) as u32;
        let state = self.state_exp as u32;
        for i in 0..self.sigma.len() {
            let a = T::from_f64("a_in", a_in[i].trunc_if(T::FIXED)).map_err(ModelError)?;
            let out = match self.kind {
                SdnKind::Sigma => {
                    self.sigma[i] = a.add(self.sigma[i]);
                    self.sigma[i]
                }
                SdnKind::Delta => {
                    // Fixed: the input is MSB-aligned first, the message shifted back.
                    let a = a.shl(shift);
                    let s = self.delta(i, a);
                    self.act[i] = a;
                    s.shr(state)
                }
                SdnKind::SigmaDelta(mode) => {
                    self.sigma[i] = a.add(self.sigma[i]);
                    let x = self.sigma[i].add(self.bias[i]);
                    let act = match mode {
                        ActivationMode::Unit => x,
                        ActivationMode::Relu if x > T::zero() => x,
                        ActivationMode::Relu => T::zero(),
                    };
                    if self.variant == Variant::Corrected {
                        // No residue: the delta is against what was actually sent.
                        let delta = act.sub(self.act[i]);
                        let scaled = if delta.abs() >= self.vth { delta } else { T::zero() };
                        let s = scaled.shr(state);
                        self.act[i] = self.act[i].add(s.shl(state));
                        s
                    } else {
                        let s = self.delta(i, act);
                        self.act[i] = act;
                        s.shr(state)
                    }
                }
            };
            s_out[i] = out.to_f64();
        }
        Ok(())
    }

    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        let name = self.name(var);
        let one = |out: &mut [f64], x: f64| {
            check_len(name, 1, out.len())?;
            out[0] = x;
            Ok(())
        };
        let v: &[T] = match name {
            "vth" => return one(out, self.vth.to_f64()),
            "spike_exp" => return one(out, f64::from(self.spike_exp)),
            "state_exp" => return one(out, f64::from(self.state_exp)),
            "cum_error" => return one(out, f64::from(u8::from(self.cum_error))),
            "sigma" => &self.sigma,
            "act" => &self.act,
            "residue" => &self.residue,
            "error" => &self.error,
            "bias" => &self.bias,
            _ => return Err(unknown_var(var)),
        };
        check_len(name, v.len(), out.len())?;
        for (o, x) in out.iter_mut().zip(v) {
            *o = x.to_f64();
        }
        Ok(())
    }

    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        if var >= self.kind.var_names().len() {
            return Err(unknown_var(var));
        }
        self.store(var, data).map_err(ModelError)
    }
}

/// Truncation toward zero for values entering a fixed-point model (Lava's int32 ports).
trait TruncIf {
    fn trunc_if(self, yes: bool) -> Self;
}
impl TruncIf for f64 {
    #[inline]
    fn trunc_if(self, yes: bool) -> f64 {
        if yes && !self.is_nan() {
            // The cast truncates toward zero and saturates: trunc + clamp to i32.
            f64::from(self as i32)
        } else {
            self
        }
    }
}
