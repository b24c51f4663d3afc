//! Adaptive-threshold-and-refractoriness LIF (Lava `lava.proc.atrlif`, SPEC §2.1, the
//! counterpart of lava-dl's ALIF): current i, voltage v, threshold θ relaxing to θ0, and a
//! refractory state r; a neuron spikes when `v - r >= θ`, after which `r += 2θ` and
//! `θ += θ_step`. Float and Loihi fixed-point models.

use crate::error::{ModelError, Result};
use crate::executable::LeafProcess;
use crate::fixed::{rtz, shift_by_exp};
use crate::graph::{Handle, InPort, OutPort, Process, ProcessBuilder, VarRef};
use crate::model::{check_len, CpuModel, DType, SpikeIo};
use crate::registry::{ModelEntry, OutputTiming, Registry};
use crate::value::{Init, Shape};

use super::adaptive_vars::{AdaptiveVars, FIRST_SCALAR};

const VAR_NAMES: [&str; 13] = [
    "bias_mant",
    "bias_exp",
    "i",
    "v",
    "theta",
    "r",
    "s",
    "delta_i",
    "delta_v",
    "delta_theta",
    "delta_r",
    "theta_0",
    "theta_step",
];

/// ATRLIF neurons (Lava `ATRLIF`); Lava's defaults: θ = θ0 = 5, θ_step = 3.75,
/// δi = δv = 0.4, δθ = δr = 0.2.
#[derive(Clone, Debug)]
pub struct Atrlif {
    shape: Shape,
    state: [Init; 7],
    scalars: [f64; 6],
}

impl Atrlif {
    /// ATRLIF neurons of `shape` with Lava's defaults.
    pub fn new(shape: &[usize]) -> Self {
        let z = || Init::Scalar(0.0);
        Atrlif {
            shape: shape.to_vec(),
            state: [z(), z(), z(), z(), Init::Scalar(5.0), z(), z()],
            scalars: [0.4, 0.4, 0.2, 0.2, 5.0, 3.75],
        }
    }
    fn set(mut self, var: usize, x: impl Into<Init>) -> Self {
        self.state[var] = x.into();
        self
    }
    fn scalar(mut self, k: usize, x: f64) -> Self {
        self.scalars[k] = x;
        self
    }
    /// Bias mantissa.
    pub fn bias_mant(self, b: impl Into<Init>) -> Self {
        self.set(0, b)
    }
    /// Bias exponent (fixed point).
    pub fn bias_exp(self, e: impl Into<Init>) -> Self {
        self.set(1, e)
    }
    /// Initial current.
    pub fn i(self, x: impl Into<Init>) -> Self {
        self.set(2, x)
    }
    /// Initial voltage.
    pub fn v(self, x: impl Into<Init>) -> Self {
        self.set(3, x)
    }
    /// Initial threshold (the fixed model starts from θ0 instead, as Lava's does).
    pub fn theta(self, x: impl Into<Init>) -> Self {
        self.set(4, x)
    }
    /// Initial refractory state.
    pub fn r(self, x: impl Into<Init>) -> Self {
        self.set(5, x)
    }
    /// Current decay.
    pub fn delta_i(self, x: f64) -> Self {
        self.scalar(0, x)
    }
    /// Voltage decay.
    pub fn delta_v(self, x: f64) -> Self {
        self.scalar(1, x)
    }
    /// Threshold decay.
    pub fn delta_theta(self, x: f64) -> Self {
        self.scalar(2, x)
    }
    /// Refractory decay.
    pub fn delta_r(self, x: f64) -> Self {
        self.scalar(3, x)
    }
    /// Baseline threshold.
    pub fn theta_0(self, x: f64) -> Self {
        self.scalar(4, x)
    }
    /// Threshold increase per spike.
    pub fn theta_step(self, x: f64) -> Self {
        self.scalar(5, x)
    }
}

impl Process for Atrlif {
    const TYPE_NAME: &'static str = "Atrlif";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        b.in_port("a_in", &self.shape)?;
        b.out_port("s_out", &self.shape)?;
        for (name, init) in VAR_NAMES.iter().zip(self.state) {
            b.var(name, &self.shape, init)?;
        }
        for (name, x) in VAR_NAMES[FIRST_SCALAR..].iter().zip(self.scalars) {
            b.var(name, &[1], x)?;
        }
        Ok(())
    }
}

impl Handle<Atrlif> {
    /// Input port.
    pub fn a_in(&self) -> InPort {
        self.in_port("a_in")
    }
    /// Spike output.
    pub fn s_out(&self) -> OutPort {
        self.out_port("s_out")
    }
    /// Current.
    pub fn i(&self) -> VarRef {
        self.var("i")
    }
    /// Voltage.
    pub fn v(&self) -> VarRef {
        self.var("v")
    }
    /// Threshold.
    pub fn theta(&self) -> VarRef {
        self.var("theta")
    }
    /// Refractory state.
    pub fn r(&self) -> VarRef {
        self.var("r")
    }
    /// Last spikes.
    pub fn s(&self) -> VarRef {
        self.var("s")
    }
}

pub(crate) fn register(r: &mut Registry) {
    let t = OutputTiming::SameStep;
    let models = [
        ModelEntry::cpu("Atrlif", "PyATRLIFModelFloat", &["floating_pt"], t, |p| {
            Ok(Box::new(AtrlifModel::new(p, false)?) as Box<dyn CpuModel>)
        }),
        ModelEntry::cpu("Atrlif", "PyATRLIFModelFixed", &["bit_accurate_loihi", "fixed_pt"], t, |p| {
            Ok(Box::new(AtrlifModel::new(p, true)?) as Box<dyn CpuModel>)
        }),
    ];
    r.register_library(models);
}

/// Both ATRLIF models; state in f64 (exact for the fixed model's int32 values).
///
/// The fixed model reproduces Lava's `PyATRLIFModelFixed` including its types: the decays
/// are uint16 integers multiplied by 4096 in uint16 arithmetic (so a fractional decay
/// truncates to 0, and 1 gives a factor of 0 — or 65535 for the current, whose product is
/// then taken in wrapping int32), θ0 and θ_step are scaled by 64 in the first step, which
/// also resets θ to θ0.
struct AtrlifModel {
    vars: AdaptiveVars,
    /// Fixed: θ0 and θ_step after scaling (first step).
    scaled: Option<(i64, i64)>,
}

const MAX_IV: i64 = 1 << 23;

impl AtrlifModel {
    fn new(p: &LeafProcess, fixed: bool) -> std::result::Result<Self, String> {
        // Lava types every scalar parameter uint16.
        let u16_range = (0, i64::from(u16::MAX));
        Ok(AtrlifModel { vars: AdaptiveVars::new(p, VAR_NAMES, "ATRLIF", fixed, [u16_range; 6])?, scaled: None })
    }

    fn step_float(&mut self, a_in: &[f64], s_out: &mut [f64]) {
        let [di, dv, dth, dr, th0, step] = self.vars.scalars;
        let [bias, _, i, v, theta, r, s] = &mut self.vars.state[..] else { return };
        for k in 0..i.len() {
            i[k] = (1.0 - di) * i[k] + a_in[k];
            v[k] = (1.0 - dv) * v[k] + i[k] + bias[k];
            theta[k] = (1.0 - dth) * (theta[k] - th0) + th0;
            r[k] *= 1.0 - dr;
            let spike = (v[k] - r[k]) >= theta[k];
            if spike {
                r[k] += 2.0 * theta[k];
                theta[k] += step;
            }
            s[k] = f64::from(u8::from(spike));
            s_out[k] = s[k];
        }
    }

    fn step_fixed(&mut self, a_in: &[f64], s_out: &mut [f64]) {
        let [di, dv, dth, dr, th0, step] = self.vars.scalars.map(|x| x as u16);
        // First step: θ0 and θ_step are scaled by 64 (in uint16, as Lava multiplies them)
        // and θ restarts from θ0.
        let (th0, step) = match self.scaled {
            Some(s) => s,
            None => {
                let s = (i64::from(th0.wrapping_mul(64)), i64::from(step.wrapping_mul(64)));
                self.scaled = Some(s);
                self.vars.state[4].iter_mut().for_each(|t| *t = s.0 as f64);
                s
            }
        };
        // uint16 arithmetic of Lava's decay constants.
        let unity: u16 = 4096;
        let fi = unity.wrapping_sub(di.wrapping_mul(4096).wrapping_add(1));
        let fv = i64::from(unity.wrapping_sub(dv.wrapping_mul(4096)));
        let fth = i64::from(unity.wrapping_sub(dth.wrapping_mul(4096)));
        let fr = i64::from(unity.wrapping_sub(dr.wrapping_mul(4096)));
        let [bias_mant, bias_exp, i, v, theta, r, s] = &mut self.vars.state[..] else { return };
        for k in 0..i.len() {
            let bias = shift_by_exp(bias_mant[k] as i64, bias_exp[k] as i32) as i32 as i64;
            let act = (a_in[k] as i32).wrapping_mul(64) as i64;
            let i_dec = rtz(i64::from((i[k] as i32).wrapping_mul(i32::from(fi))), 12);
            let upd = (i_dec + act) as i32 as i64;
            let cur = if upd > MAX_IV {
                upd - 2 * MAX_IV
            } else if upd <= -MAX_IV {
                upd + 2 * MAX_IV
            } else {
                upd
            };
            i[k] = cur as f64;
            let v_dec = rtz(v[k] as i64 * fv, 12);
            let volt = ((v_dec + cur + bias) as i32 as i64).clamp(-MAX_IV + 1, MAX_IV - 1);
            v[k] = volt as f64;
            let diff = (theta[k] as i32).wrapping_sub(th0 as i32) as i64;
            let th = (rtz(diff * fth, 12) as i32).wrapping_add(th0 as i32) as i64;
            let rr = rtz(r[k] as i64 * fr, 12) as i32 as i64;
            let spike = volt - rr >= th;
            let (th, rr) = if spike { ((th as i32).wrapping_add(step as i32) as i64, rr + 2 * th) } else { (th, rr) };
            theta[k] = th as i32 as f64;
            r[k] = rr as i32 as f64;
            s[k] = f64::from(u8::from(spike));
            s_out[k] = s[k];
        }
    }
}

impl CpuModel for AtrlifModel {
    fn var_dtype(&self, var: usize) -> DType {
        self.vars.dtype(var)
    }

    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        let (a_in, s_out) = io.recv_send(0, 0);
        if self.vars.is_fixed() {
            self.step_fixed(a_in, s_out);
        } else {
            self.step_float(a_in, s_out);
        }
        Ok(())
    }

    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        // After the first fixed step Lava holds θ0 and θ_step scaled by 64.
        let scaled = match (self.scaled, var) {
            (Some((th0, _)), 11) => th0,
            (Some((_, step)), 12) => step,
            _ => return self.vars.read(var, out),
        };
        check_len(VAR_NAMES[var], 1, out.len())?;
        out[0] = scaled as f64;
        Ok(())
    }

    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        self.vars.write(var, data)
    }
}
