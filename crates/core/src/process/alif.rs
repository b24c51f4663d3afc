//! Adaptive LIF with 12-bit decays (lava-dl's `slayer.neuron.alif` and the `ALIF` neuron
//! of netx files, SPEC §3.3): current u and voltage v as in CUBA LIF but without a voltage
//! reset, an adaptive threshold θ relaxing to θ0 and a refractory state r. A neuron spikes
//! when `v >= θ + r`; then `r += 2θ` and `θ += θ_step`. Lava 0.10 has no such process (its
//! `ATRLIF` takes fractional decays that its fixed model truncates to 0), so netx ALIF
//! layers load as this one.
//!
//! Fixed point (slayer's integer forward, in Loihi state units): with decays `d` in
//! 0..=4096 and `decay(x, d) = rtz(x·(4096 - d), 12)`,
//! `u = decay(u, du) + (a_in << 6)` (24-bit wrap, as Lava's LIF), `v = decay(v, dv) + u +
//! (bias_mant << bias_exp)` (saturated to ±(2^23-1)), `r = decay(r, dr)`,
//! `θ = decay(θ - θ0, dθ) + θ0` with `θ0 = vth << 6`; spike if `v >= θ + r` (slayer's `>=`,
//! not the hardware's `>` that CUBA emulates); after a spike `r += 2θ`, `θ += vth_step << 6`.
//! The float model runs the same equations with decays `d` as fractions of 1 and no shifts.

use crate::error::{Error, ModelError, Result};
use crate::executable::LeafProcess;
use crate::fixed::{rtz, shift_by_exp, I32};
use crate::graph::{Handle, InPort, OutPort, Process, ProcessBuilder, VarRef};
use crate::model::{CpuModel, DType, SpikeIo};
use crate::registry::{ModelEntry, OutputTiming, Registry};
use crate::value::{Init, Shape};

use super::adaptive_vars::{AdaptiveVars, FIRST_SCALAR};

const VAR_NAMES: [&str; 13] =
    ["bias_mant", "bias_exp", "u", "v", "theta", "r", "s", "du", "dv", "dtheta", "dr", "vth", "vth_step"];
/// Index of `theta` among the per-neuron Vars.
const THETA: usize = 4;

/// Adaptive LIF neurons (lava-dl ALIF). Decays `du, dv, dtheta, dr` are 12-bit integers
/// (0..=4096) for the fixed model and fractions (0..=1) for the float model, as Lava's LIF
/// takes them; `vth` is the base threshold θ0 (a mantissa in fixed point) and `vth_step`
/// the threshold increase per spike.
#[derive(Clone, Debug)]
pub struct Alif {
    shape: Shape,
    bias_mant: Init,
    bias_exp: Init,
    /// du, dv, dtheta, dr, vth, vth_step.
    scalars: [f64; 6],
}

impl Alif {
    /// ALIF neurons of `shape`: no decay, θ0 = 10, no threshold step, no bias.
    pub fn new(shape: &[usize]) -> Self {
        Alif {
            shape: shape.to_vec(),
            bias_mant: Init::Scalar(0.0),
            bias_exp: Init::Scalar(0.0),
            scalars: [0.0, 0.0, 0.0, 0.0, 10.0, 0.0],
        }
    }
    fn scalar(mut self, k: usize, x: f64) -> Self {
        self.scalars[k] = x;
        self
    }
    /// Current decay.
    pub fn du(self, x: f64) -> Self {
        self.scalar(0, x)
    }
    /// Voltage decay.
    pub fn dv(self, x: f64) -> Self {
        self.scalar(1, x)
    }
    /// Decay of the threshold toward `vth`.
    pub fn dtheta(self, x: f64) -> Self {
        self.scalar(2, x)
    }
    /// Refractory decay.
    pub fn dr(self, x: f64) -> Self {
        self.scalar(3, x)
    }
    /// Base threshold θ0 (the initial threshold).
    pub fn vth(self, x: f64) -> Self {
        self.scalar(4, x)
    }
    /// Threshold increase per spike.
    pub fn vth_step(self, x: f64) -> Self {
        self.scalar(5, x)
    }
    /// Bias mantissa.
    pub fn bias_mant(mut self, b: impl Into<Init>) -> Self {
        self.bias_mant = b.into();
        self
    }
    /// Bias exponent (fixed point).
    pub fn bias_exp(mut self, e: impl Into<Init>) -> Self {
        self.bias_exp = e.into();
        self
    }
}

impl Process for Alif {
    const TYPE_NAME: &'static str = "Alif";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        let [du, dv, dtheta, dr, vth, step] = self.scalars;
        if [du, dv, dtheta, dr, vth, step].iter().any(|x| !x.is_finite())
            || [du, dv, dtheta, dr].iter().any(|&d| d < 0.0)
        {
            return Err(Error::InvalidParameter {
                process: b.name().into(),
                param: "du/dv/dtheta/dr/vth/vth_step".into(),
                reason: format!("need finite values and non-negative decays, got {:?}", self.scalars),
            });
        }
        b.in_port("a_in", &self.shape)?;
        b.out_port("s_out", &self.shape)?;
        let z = || Init::Scalar(0.0);
        let state = [self.bias_mant, self.bias_exp, z(), z(), Init::Scalar(vth), z(), z()];
        for (name, init) in VAR_NAMES.iter().zip(state) {
            b.var(name, &self.shape, init)?;
        }
        for (name, x) in VAR_NAMES[FIRST_SCALAR..].iter().zip(self.scalars) {
            b.var(name, &[1], x)?;
        }
        Ok(())
    }
}

impl Handle<Alif> {
    /// Input port.
    pub fn a_in(&self) -> InPort {
        self.in_port("a_in")
    }
    /// Spike output.
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
    /// Adaptive threshold (fixed point: state units, `vth << 6` at rest).
    pub fn theta(&self) -> VarRef {
        self.var("theta")
    }
    /// Refractory state.
    pub fn r(&self) -> VarRef {
        self.var("r")
    }
    /// Bias mantissa.
    pub fn bias_mant(&self) -> VarRef {
        self.var("bias_mant")
    }
}

pub(crate) fn register(r: &mut Registry) {
    let t = OutputTiming::SameStep;
    let models = [
        ModelEntry::cpu("Alif", "PyAlifModelFloat", &["floating_pt"], t, |p| {
            Ok(Box::new(AlifModel::new(p, false)?) as Box<dyn CpuModel>)
        }),
        ModelEntry::cpu("Alif", "PyAlifModelFixed", &["bit_accurate_loihi", "fixed_pt"], t, |p| {
            Ok(Box::new(AlifModel::new(p, true)?) as Box<dyn CpuModel>)
        }),
    ];
    r.register_library(models);
}

/// Both ALIF models (Vars in [`AdaptiveVars`]).
struct AlifModel {
    vars: AdaptiveVars,
}

/// Largest magnitude of u and v: 24-bit state.
const MAX_UV: i64 = 1 << 23;
/// Thresholds and inputs are MSB-aligned by 6 bits in fixed point.
const SHIFT: u32 = 6;

impl AlifModel {
    fn new(p: &LeafProcess, fixed: bool) -> std::result::Result<Self, String> {
        // Decays are 12-bit (0..=4096); vth and vth_step int32 mantissas.
        let decay = (0, 4096);
        let mut vars = AdaptiveVars::new(p, VAR_NAMES, "ALIF", fixed, [decay, decay, decay, decay, I32, I32])?;
        if fixed {
            // The initial threshold is given like vth (a mantissa); state units from here on.
            for t in &mut vars.state[THETA] {
                *t = (*t as i64).wrapping_shl(SHIFT) as i32 as f64;
            }
        }
        Ok(AlifModel { vars })
    }

    fn step_float(&mut self, a_in: &[f64], s_out: &mut [f64]) {
        let [du, dv, dth, dr, th0, step] = self.vars.scalars;
        let [bias, _, u, v, theta, r, s] = &mut self.vars.state[..] else { return };
        for k in 0..u.len() {
            u[k] = (1.0 - du) * u[k] + a_in[k];
            v[k] = (1.0 - dv) * v[k] + u[k] + bias[k];
            r[k] *= 1.0 - dr;
            theta[k] = (1.0 - dth) * (theta[k] - th0) + th0;
            let spike = v[k] >= theta[k] + r[k];
            if spike {
                r[k] += 2.0 * theta[k];
                theta[k] += step;
            }
            s[k] = f64::from(u8::from(spike));
            s_out[k] = s[k];
        }
    }

    fn step_fixed(&mut self, a_in: &[f64], s_out: &mut [f64]) {
        let [du, dv, dth, dr, th0, step] = self.vars.scalars.map(|x| x as i64);
        let factor = |d: i64| 4096 - d;
        let (fu, fv, fth, fr) = (factor(du), factor(dv), factor(dth), factor(dr));
        let th0 = th0.wrapping_shl(SHIFT) as i32 as i64;
        let step = step.wrapping_shl(SHIFT) as i32 as i64;
        let [bias_mant, bias_exp, u, v, theta, r, s] = &mut self.vars.state[..] else { return };
        for k in 0..u.len() {
            let bias = shift_by_exp(bias_mant[k] as i64, bias_exp[k] as i32) as i32 as i64;
            let act = (a_in[k] as i64 as i32).wrapping_shl(SHIFT) as i64;
            let mut cur = rtz(u[k] as i64 * fu, 12) + act;
            if cur > MAX_UV {
                cur -= 2 * MAX_UV;
            } else if cur <= -MAX_UV {
                cur += 2 * MAX_UV;
            }
            let volt = (rtz(v[k] as i64 * fv, 12) + cur + bias).clamp(-MAX_UV + 1, MAX_UV - 1);
            let mut rr = rtz(r[k] as i64 * fr, 12);
            let mut th = rtz((theta[k] as i64 - th0) * fth, 12) + th0;
            let spike = volt >= th + rr;
            if spike {
                rr += 2 * th;
                th += step;
            }
            u[k] = cur as f64;
            v[k] = volt as f64;
            theta[k] = th as i32 as f64;
            r[k] = rr as i32 as f64;
            s[k] = f64::from(u8::from(spike));
            s_out[k] = s[k];
        }
    }
}

impl CpuModel for AlifModel {
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
        self.vars.read(var, out)
    }

    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        self.vars.write(var, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    /// Runs one fixed-point neuron on a constant a_in = 2 for 4 steps with du = dv = 4096
    /// (u = v = 2 << 6 = 128 every step), dθ = dr = 2048 (θ - θ0 and r halve), vth = 1
    /// (θ0 = 64); returns the s, r and θ traces.
    fn constant_drive(vth_step: f64) -> [Vec<f64>; 3] {
        let mut net = Network::new();
        let src = net.add(source::RingBuffer::new(ndarray::ArrayD::from_elem(ndarray::IxDyn(&[1, 4]), 2.0))).unwrap();
        let alif = Alif::new(&[1]).du(4096.0).dv(4096.0).dtheta(2048.0).dr(2048.0).vth(1.0).vth_step(vth_step);
        let alif = net.add_named("alif", alif).unwrap();
        net.connect(src.s_out(), &alif.a_in()).unwrap();
        let mon = net.add(Monitor::new()).unwrap();
        for var in ["s", "r", "theta"] {
            mon.probe(&mut net, alif.var(var), 4).unwrap();
        }
        let mut rt = net.runtime(&RunConfig::fixed_pt()).unwrap();
        rt.run(RunSteps::new(4)).unwrap();
        ["s", "r", "theta"].map(|var| mon.data(&rt, "alif", var).unwrap().iter().copied().collect())
    }

    /// vth_step = 1 (+64): step 1 spikes (128 >= 64 + 0) -> r = 128, θ = 128; step 2:
    /// r = 64, θ = 96, 128 < 160; step 3: r = 32, θ = 80, 128 >= 112 spikes -> r = 192,
    /// θ = 144; step 4: r = 96, θ = 104, 128 < 200.
    #[test]
    fn fixed_point_adaptation_matches_the_hand_derived_trace() {
        let [s, r, theta] = constant_drive(1.0);
        assert_eq!(s, vec![1.0, 0.0, 1.0, 0.0]);
        assert_eq!(r, vec![128.0, 64.0, 192.0, 96.0]);
        assert_eq!(theta, vec![128.0, 96.0, 144.0, 104.0]);
    }

    /// vth_step = 0: step 2 has v = θ + r exactly (128 = 64 + 64) and spikes, as slayer's
    /// `>=` does: r = 64 + 128 = 192; step 3: r = 96, no spike; step 4: r = 48, spikes.
    #[test]
    fn a_voltage_equal_to_the_threshold_spikes() {
        let [s, r, theta] = constant_drive(0.0);
        assert_eq!(s, vec![1.0, 1.0, 0.0, 1.0]);
        assert_eq!(r, vec![128.0, 192.0, 96.0, 176.0]);
        assert_eq!(theta, vec![64.0; 4]);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let mut net = Network::new();
        assert!(net.add(Alif::new(&[2]).du(-1.0)).is_err());
        assert!(net.add(Alif::new(&[2]).vth(f64::NAN)).is_err());
        net.add(Alif::new(&[2]).du(5000.0)).unwrap();
        let e = net.runtime(&RunConfig::fixed_pt()).map(|_| ()).unwrap_err();
        assert!(e.to_string().contains("du"), "{e}");
    }
}
