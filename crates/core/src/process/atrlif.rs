//! Adaptive-threshold-and-refractoriness LIF (Lava `lava.proc.atrlif`, SPEC §2.1, the
//! counterpart of lava-dl's ALIF): current i, voltage v, threshold θ relaxing to θ0, and a
//! refractory state r; a neuron spikes when `v - r >= θ`, after which `r += 2θ` and
//! `θ += θ_step`. Float and Loihi fixed-point models.

use crate::error::{ModelError, Result};
use crate::executable::LeafProcess;
use crate::fixed::{rtz, shift_by_exp, to_ints, I16, I32};
use crate::graph::{Handle, InPort, OutPort, Process, ProcessBuilder, VarRef};
use crate::model::{check_len, unknown_var, CpuModel, DType, SpikeIo};
use crate::registry::{ModelEntry, OutputTiming, Registry};
use crate::value::{numel, Init, Shape};

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
/// Index of the first scalar parameter Var (`delta_i`).
const FIRST_SCALAR: usize = 7;

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
    fixed: bool,
    /// Per-neuron Vars 0..7 (bias_mant, bias_exp, i, v, theta, r, s).
    state: Vec<Vec<f64>>,
    /// delta_i, delta_v, delta_theta, delta_r, theta_0, theta_step.
    scalars: [f64; 6],
    /// Fixed: θ0 and θ_step after scaling (first step).
    scaled: Option<(i64, i64)>,
}

const MAX_IV: i64 = 1 << 23;

impl AtrlifModel {
    fn new(p: &LeafProcess, fixed: bool) -> std::result::Result<Self, String> {
        if p.vars.len() != VAR_NAMES.len() || p.vars.iter().zip(VAR_NAMES).any(|(v, n)| v.name != n) {
            return Err(format!("process {} does not have the ATRLIF Vars", p.name));
        }
        let n = numel(p.in_port_shape("a_in")?);
        let mut m = AtrlifModel { fixed, state: vec![Vec::new(); FIRST_SCALAR], scalars: [0.0; 6], scaled: None };
        for (k, v) in p.vars.iter().enumerate() {
            let expected = if k < FIRST_SCALAR { n } else { 1 };
            if v.data.len() != expected {
                return Err(format!("ATRLIF Var `{}` has {} elements, expected {expected}", v.name, v.data.len()));
            }
            m.store(k, &v.data)?;
        }
        Ok(m)
    }

    fn store(&mut self, k: usize, data: &[f64]) -> std::result::Result<(), String> {
        let name = VAR_NAMES[k];
        if !self.fixed {
            if k < FIRST_SCALAR {
                self.state[k] = data.to_vec();
            } else {
                self.scalars[k - FIRST_SCALAR] = data[0];
            }
            return Ok(());
        }
        let (lo, hi) = match k {
            0 => I16,
            1 => (-31, 31),
            2..=5 => I32,
            6 => (0, 1),
            _ => (0, i64::from(u16::MAX)),
        };
        let ints = to_ints(name, data, lo, hi)?;
        if k < FIRST_SCALAR {
            self.state[k] = ints.into_iter().map(|x| x as f64).collect();
        } else {
            self.scalars[k - FIRST_SCALAR] = ints[0] as f64;
        }
        Ok(())
    }

    fn step_float(&mut self, a_in: &[f64], s_out: &mut [f64]) {
        let [di, dv, dth, dr, th0, step] = self.scalars;
        let [bias, _, i, v, theta, r, s] = &mut self.state[..] else { return };
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
        let [di, dv, dth, dr, th0, step] = self.scalars.map(|x| x as u16);
        // First step: θ0 and θ_step are scaled by 64 (in uint16, as Lava multiplies them)
        // and θ restarts from θ0.
        let (th0, step) = match self.scaled {
            Some(s) => s,
            None => {
                let s = (i64::from(th0.wrapping_mul(64)), i64::from(step.wrapping_mul(64)));
                self.scaled = Some(s);
                self.state[4].iter_mut().for_each(|t| *t = s.0 as f64);
                s
            }
        };
        // uint16 arithmetic of Lava's decay constants.
        let unity: u16 = 4096;
        let fi = unity.wrapping_sub(di.wrapping_mul(4096).wrapping_add(1));
        let fv = i64::from(unity.wrapping_sub(dv.wrapping_mul(4096)));
        let fth = i64::from(unity.wrapping_sub(dth.wrapping_mul(4096)));
        let fr = i64::from(unity.wrapping_sub(dr.wrapping_mul(4096)));
        let [bias_mant, bias_exp, i, v, theta, r, s] = &mut self.state[..] else { return };
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
        match (self.fixed, var) {
            (false, 6) => DType::I64,
            (false, _) => DType::F64,
            (true, 0 | 1) => DType::I16,
            (true, 6) => DType::I64,
            (true, v) if v >= FIRST_SCALAR => DType::U16,
            (true, _) => DType::I32,
        }
    }

    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        let (a_in, s_out) = io.recv_send(0, 0);
        if self.fixed {
            self.step_fixed(a_in, s_out);
        } else {
            self.step_float(a_in, s_out);
        }
        Ok(())
    }

    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        let src: Vec<f64> = match var {
            v if v < FIRST_SCALAR => self.state[v].clone(),
            v if v < VAR_NAMES.len() => {
                let x = self.scalars[v - FIRST_SCALAR];
                // After the first fixed step Lava holds θ0 and θ_step scaled by 64.
                match (self.scaled, v) {
                    (Some((th0, _)), 11) => vec![th0 as f64],
                    (Some((_, st)), 12) => vec![st as f64],
                    _ => vec![x],
                }
            }
            _ => return Err(unknown_var(var)),
        };
        check_len(VAR_NAMES[var], src.len(), out.len())?;
        out.copy_from_slice(&src);
        Ok(())
    }

    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        if var >= VAR_NAMES.len() {
            return Err(unknown_var(var));
        }
        let expected = if var < FIRST_SCALAR { self.state[2].len() } else { 1 };
        check_len(VAR_NAMES[var], expected, data.len())?;
        self.store(var, data).map_err(ModelError)
    }
}
