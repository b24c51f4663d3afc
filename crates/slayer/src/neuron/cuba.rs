//! Current-based LIF neurons (slayer's `slayer.neuron.cuba`, SPEC §3.1-3.2) with slayer's
//! fixed-point-faithful forward: states are integers at `s_scale = 4096` per unit, decays
//! are 12-bit (`p_scale = 4096`), and the arithmetic follows slayer's PyTorch code to the
//! float32 rounding, so the spikes equal slayer's — and, through a netx export, Lava's.

use burn::tensor::{Tensor, TensorData};

use crate::error::{Result, SlayerError};

/// slayer's default `scale`: weights at `w_scale = 64`, states at `s_scale = 64·64`.
const W_SCALE: f64 = 64.0;
const S_SCALE: f64 = 4096.0;
/// Decays are stored times `p_scale = 4096`.
const P_SCALE: f64 = 4096.0;

/// A population of CUBA LIF neurons (slayer's `cuba.Neuron` with `scale = 64`, shared
/// parameters, no persistent state).
#[derive(Clone, Debug, PartialEq)]
pub struct CubaNeuron {
    /// Threshold, quantized as slayer does (`int(θ·64)/64`).
    threshold: f64,
    /// Current decay times 4096, clamped to [0, 4096].
    current_decay: f64,
    /// Voltage decay times 4096, clamped to [0, 4096].
    voltage_decay: f64,
    /// Spikes carry the voltage (slayer's `graded_spike`).
    graded_spike: bool,
    /// Width of the surrogate gradient in thresholds (slayer's `tau_grad`).
    tau_grad: f64,
    /// Height of the surrogate gradient (slayer's `scale_grad`).
    scale_grad: f64,
}

/// slayer's CUBA surrogate constants: `tau = 100·tau_grad·θ`, `scale = 0.1·scale_grad`.
const TAU_RHO_MULT: f64 = 100.0;
const SCALE_RHO_MULT: f64 = 0.1;

/// torch's `round` (half to even) of a decay, the 12-bit value slayer uses and exports.
fn quantized(decay: f64) -> i64 {
    decay.round_ties_even() as i64
}

/// `sign(x)·(|x| >> 12)`: slayer's `right_shift_to_zero(x, 12)`.
fn rtz12(x: i64) -> i64 {
    x.signum() * (x.abs() >> 12)
}

impl CubaNeuron {
    /// Neurons with `threshold` and the fractions `current_decay`, `voltage_decay` of the
    /// state lost per step (slayer's `cuba.Neuron(threshold, current_decay, voltage_decay)`).
    pub fn new(threshold: f64, current_decay: f64, voltage_decay: f64) -> Result<Self> {
        for (what, x) in [("threshold", threshold), ("current_decay", current_decay), ("voltage_decay", voltage_decay)]
        {
            if !x.is_finite() {
                return Err(SlayerError::Parameter { what: what.into(), reason: format!("{x} is not finite") });
            }
        }
        Ok(CubaNeuron {
            threshold: (threshold * W_SCALE).trunc() / W_SCALE,
            current_decay: (P_SCALE * current_decay).clamp(0.0, P_SCALE),
            voltage_decay: (P_SCALE * voltage_decay).clamp(0.0, P_SCALE),
            graded_spike: false,
            tau_grad: 1.0,
            scale_grad: 1.0,
        })
    }

    /// Surrogate gradient width and height (slayer's `tau_grad`, `scale_grad`, default 1).
    pub fn surrogate(mut self, tau_grad: f64, scale_grad: f64) -> Self {
        self.tau_grad = tau_grad;
        self.scale_grad = scale_grad;
        self
    }

    /// Neurons from a netx `neuron` group's CUBA parameters (slayer's `neuron_params`:
    /// θ = vThMant / 64, decays = iDecay / 4096, vDecay / 4096).
    pub fn from_device_params(i_decay: f64, v_decay: f64, vth_mant: f64) -> Result<Self> {
        CubaNeuron::new(vth_mant / W_SCALE, i_decay / P_SCALE, v_decay / P_SCALE)
    }

    /// Graded spikes: a spike carries the neuron's voltage instead of 1.
    pub fn graded_spike(mut self, graded: bool) -> Self {
        self.graded_spike = graded;
        self
    }

    /// Whether spikes are graded.
    pub fn is_graded(&self) -> bool {
        self.graded_spike
    }

    /// The hardware parameters slayer exports (`iDecay`, `vDecay`, `vThMant`).
    pub fn device_params(&self) -> (f64, f64, f64) {
        (quantized(self.current_decay) as f64, quantized(self.voltage_decay) as f64, (self.threshold * W_SCALE).trunc())
    }

    /// The spikes for input currents `z` of shape (batch, neurons, time), from rest.
    ///
    /// Per step, in slayer's integer arithmetic (`_li_dynamics_fwd`): `u = rtz(u·(4096 -
    /// iDecay), 12) + int(4096·z)`, `v = rtz(v·(4096 - vDecay), 12) + int(4096·u/4096)`;
    /// a neuron spikes (and v resets to 0) when `v/4096 >= θ + 0.01/4096` (the epsilon
    /// emulates the hardware's strict `>`), compared in float32 as slayer does.
    pub fn forward(&self, z: Tensor<3>) -> Result<Tensor<3>> {
        let dims = z.dims();
        let device = z.device();
        let (spikes, _) = self.dynamics(&host(z)?, dims, false);
        Ok(Tensor::from_data(TensorData::new(spikes, dims), &device))
    }

    /// The spikes of [`CubaNeuron::forward`] (the same values), differentiable with
    /// slayer's surrogate gradients: through the spike, `ds/dv = scale/(2τ)·exp(-|v -
    /// θ'|/τ)` at the pre-reset voltage; through the dynamics, the leaky integrators of u
    /// and v without resets (`grad[n] = (1 - decay)·grad[n+1] + grad_out[n]`), as slayer's
    /// backward. Both integrators are one (time x time) matmul, not per-step operations.
    pub fn forward_train(&self, z: Tensor<3>) -> Result<Tensor<3>> {
        if self.graded_spike {
            return Err(SlayerError::Parameter {
                what: "graded_spike".into(),
                reason: "training graded-spike CUBA neurons is not supported yet".into(),
            });
        }
        let dims = z.dims();
        let device = z.device();
        let (spikes, slope) = self.dynamics(&host(z.clone().detach())?, dims, true);
        let spikes = Tensor::<3>::from_data(TensorData::new(spikes, dims), &device);
        let slope = Tensor::<3>::from_data(TensorData::new(slope.unwrap_or_default(), dims), &device);
        let alpha = |d: f64| 1.0 - quantized(d) as f64 / P_SCALE;
        // Value: exactly the spikes (p - p = 0). Gradient: the surrogate slope at the
        // pre-reset voltage times the two integrators' gradient.
        let p = integrate_twice(z, alpha(self.current_decay), alpha(self.voltage_decay)) * slope;
        Ok(spikes + (p.clone() - p.detach()))
    }

    /// slayer's integer dynamics on host data (batch·neurons rows of `steps` values):
    /// the spikes and, when asked for binary spikes, the surrogate slope `ds/dv` at each pre-reset
    /// voltage (`scale/(2τ)·exp(-|v - θ'|/τ)`, τ = 100·tau_grad·θ, scale = 0.1·scale_grad).
    fn dynamics(&self, data: &[f32], [batch, n, steps]: [usize; 3], with_slope: bool) -> (Vec<f32>, Option<Vec<f32>>) {
        let (cd, vd) = (4096 - quantized(self.current_decay), 4096 - quantized(self.voltage_decay));
        let theta = self.threshold + 0.01 / S_SCALE;
        // float32 thresholds, as torch compares a float32 tensor with a Python float.
        let reset_at = (theta * S_SCALE) as f32;
        let spike_at = theta as f32;
        let tau = (TAU_RHO_MULT * self.tau_grad * self.threshold) as f32;
        let height = (SCALE_RHO_MULT * self.scale_grad / 2.0) as f32 / tau;
        let theta32 = theta as f32;
        let mut spikes = vec![0f32; data.len()];
        let mut slope = if with_slope && !self.graded_spike { Some(vec![0f32; data.len()]) } else { None };
        for row in 0..batch * n {
            let (mut u, mut v) = (0i64, 0i64);
            for t in 0..steps {
                let k = row * steps + t;
                u = rtz12(u * cd) + (4096f32 * data[k]) as i32 as i64;
                let current = (u as f32) / 4096f32;
                v = rtz12(v * vd) + (4096f32 * current) as i32 as i64;
                let voltage = (v as f32) / 4096f32;
                if let Some(slope) = slope.as_mut() {
                    // The voltage for now; the slope in one pass below.
                    slope[k] = voltage;
                }
                if voltage >= spike_at {
                    spikes[k] = if self.graded_spike { voltage } else { 1.0 };
                }
                if (v as f32) >= reset_at {
                    v = 0;
                }
            }
        }
        if let Some(slope) = slope.as_mut() {
            for x in slope.iter_mut() {
                *x = height * exp_neg(((*x - theta32) / tau).abs());
            }
        }
        (spikes, slope)
    }
}

/// `exp(-x)` for `x >= 0` (relative error below 3e-7), written without library calls so
/// that the slope pass vectorises: `2^(-x·log2 e)` split into an integer power of two and a
/// polynomial on [-1/2, 1/2].
#[inline(always)]
fn exp_neg(x: f32) -> f32 {
    let y = (-x * std::f32::consts::LOG2_E).max(-126.0);
    let n = y.round();
    let f = y - n;
    // 2^f on [-1/2, 1/2] (Taylor coefficients of e^(f·ln 2) to degree 6).
    let p = 1.0
        + f * (std::f32::consts::LN_2
            + f * (0.240_226_5 + f * (0.055_504_11 + f * (0.009_618_129 + f * (0.001_333_355 + f * 0.000_154_035_3)))));
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// A tensor's values on the host.
fn host(t: Tensor<3>) -> Result<Vec<f32>> {
    t.try_into_vec_as::<f32>().map_err(|e| SlayerError::Read(e.to_string()))
}

/// Two leaky integrators in a row (current with factor `a_u`, then voltage with `a_v`),
/// without rounding or reset: one matmul of the time axis with the product of the two
/// (time x time) decay matrices. Its gradient is slayer's integrator backward
/// (`grad[n] = a·grad[n+1] + grad_out[n]`) applied twice.
pub(crate) fn integrate_twice(x: Tensor<3>, a_u: f64, a_v: f64) -> Tensor<3> {
    let [batch, n, steps] = x.dims();
    // (K_u·K_v)[from, to] = c[to - from] with c[d] = Σ_{j <= d} a_u^j·a_v^(d - j), i.e.
    // c[0] = 1, c[d] = a_v·c[d - 1] + a_u^d.
    let mut c = vec![1f64; steps];
    let mut a_u_d = 1.0;
    for d in 1..steps {
        a_u_d *= a_u;
        c[d] = a_v * c[d - 1] + a_u_d;
    }
    let mut k = vec![0f32; steps * steps];
    for from in 0..steps {
        for to in from..steps {
            k[from * steps + to] = c[to - from] as f32;
        }
    }
    let kernel = Tensor::<2>::from_data(TensorData::new(k, [steps, steps]), &x.device());
    x.reshape([batch * n, steps]).matmul(kernel).reshape([batch, n, steps])
}

/// Shifts spikes one step later along time (slayer's `delay_shift`, which mirrors the
/// one-step hop between Loihi/Lava layers): `y[.., 0] = 0`, `y[.., t] = x[.., t - 1]`.
pub fn step_delay(x: Tensor<3>) -> Tensor<3> {
    let [batch, n, steps] = x.dims();
    if steps == 0 {
        return x;
    }
    let zeros = Tensor::<3>::zeros([batch, n, 1], &x.device());
    Tensor::cat(vec![zeros, x.slice([0..batch, 0..n, 0..steps - 1])], 2)
}
