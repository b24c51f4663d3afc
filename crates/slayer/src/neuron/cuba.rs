//! Current-based LIF neurons (slayer's `slayer.neuron.cuba`, SPEC §3.1-3.2) with slayer's
//! fixed-point-faithful forward: states are integers at `s_scale = 4096` per unit, decays
//! are 12-bit (`p_scale = 4096`), and the arithmetic follows slayer's PyTorch code to the
//! float32 rounding, so the spikes equal slayer's — and, through a netx export, Lava's.

use burn::tensor::Tensor;

use super::ops::{self, CubaConstants};
use crate::error::{Result, SlayerError};

/// slayer's default `scale`: weights at `w_scale = 64`, states at `s_scale = 64·64`.
pub(crate) const W_SCALE: f64 = 64.0;
pub(crate) const S_SCALE: f64 = 4096.0;
/// Decays are stored times `p_scale = 4096`.
pub(crate) const P_SCALE: f64 = 4096.0;

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
pub(crate) const TAU_RHO_MULT: f64 = 100.0;
pub(crate) const SCALE_RHO_MULT: f64 = 0.1;

/// torch's `round` (half to even) of a decay, the 12-bit value slayer uses and exports.
pub(crate) fn quantized(decay: f64) -> i64 {
    decay.round_ties_even() as i64
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

    /// The threshold, quantized as slayer does (`int(θ·64)/64`).
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The decays times 4096 (slayer's `current_decay`, `voltage_decay` parameters).
    pub fn decays(&self) -> (f64, f64) {
        (self.current_decay, self.voltage_decay)
    }

    /// The same neurons with decays `current` and `voltage` times 4096 (learnt values,
    /// clamped to [0, 4096] as slayer clamps them).
    pub fn with_decays(mut self, current: f64, voltage: f64) -> Self {
        self.current_decay = current.clamp(0.0, P_SCALE);
        self.voltage_decay = voltage.clamp(0.0, P_SCALE);
        self
    }

    /// The hardware parameters slayer exports (`iDecay`, `vDecay`, `vThMant`).
    pub fn device_params(&self) -> (f64, f64, f64) {
        (quantized(self.current_decay) as f64, quantized(self.voltage_decay) as f64, (self.threshold * W_SCALE).trunc())
    }

    /// The constants of the dynamics and the surrogate, as the backend operation takes them.
    pub(crate) fn constants(&self) -> CubaConstants {
        let theta = self.threshold + 0.01 / S_SCALE;
        let tau = TAU_RHO_MULT * self.tau_grad * self.threshold;
        let (cd, vd) = (quantized(self.current_decay), quantized(self.voltage_decay));
        CubaConstants {
            factors: [4096 - cd, 4096 - vd],
            // float32 thresholds, as torch compares a float32 tensor with a Python float.
            reset_at: (theta * S_SCALE) as f32,
            spike_at: theta as f32,
            graded: self.graded_spike,
            tau: tau as f32,
            height: (SCALE_RHO_MULT * self.scale_grad / 2.0 / tau) as f32,
            alphas: [(1.0 - cd as f64 / P_SCALE) as f32, (1.0 - vd as f64 / P_SCALE) as f32],
            adaptation: None,
        }
    }

    /// The spikes for input currents `z` of shape (batch, neurons, time), from rest.
    ///
    /// Per step, in slayer's integer arithmetic (`_li_dynamics_fwd`): `u = rtz(u·(4096 -
    /// iDecay), 12) + int(4096·z)`, `v = rtz(v·(4096 - vDecay), 12) + int(4096·u/4096)`;
    /// a neuron spikes (and v resets to 0) when `v/4096 >= θ + 0.01/4096` (the epsilon
    /// emulates the hardware's strict `>`), compared in float32 as slayer does.
    pub fn forward(&self, z: Tensor<3>) -> Result<Tensor<3>> {
        self.forward_train(z.detach())
    }

    /// The spikes of [`CubaNeuron::forward`] (the same values), differentiable with
    /// slayer's surrogate gradients: through the spike, `ds/dv = scale/(2τ)·exp(-|v -
    /// θ'|/τ)` at the pre-reset voltage; through the dynamics, the leaky integrators of u
    /// and v without resets (`grad[n] = (1 - decay)·grad[n+1] + grad_out[n]`), as slayer's
    /// backward. On the CPU (flex) device this is one backend operation with a hand-written
    /// backward (`neuron::ops`), O(neurons·time) both ways; on other devices the integrators
    /// are one (time x time) matmul.
    pub fn forward_train(&self, z: Tensor<3>) -> Result<Tensor<3>> {
        if self.graded_spike && z.is_tracked() {
            return Err(SlayerError::Parameter {
                what: "graded_spike".into(),
                reason: "training graded-spike CUBA neurons is not supported yet".into(),
            });
        }
        ops::spikes(z, &self.constants())
    }
}

/// Shifts spikes one step later along time (slayer's `delay_shift`, which mirrors the
/// one-step hop between Loihi/Lava layers): `y[.., 0] = 0`, `y[.., t] = x[.., t - 1]`.
pub fn step_delay(x: Tensor<3>) -> Tensor<3> {
    step_delay_after(x, None)
}

/// [`step_delay`] with `first` (batch, n, 1) instead of zeros at step 0: slayer's
/// `step_delay` of a block with a persistent state, which sends the last call's final step.
pub fn step_delay_after(x: Tensor<3>, first: Option<Tensor<3>>) -> Tensor<3> {
    let [batch, n, steps] = x.dims();
    if steps == 0 {
        return x;
    }
    let first = first.unwrap_or_else(|| Tensor::<3>::zeros([batch, n, 1], &x.device()));
    Tensor::cat(vec![first, x.slice([0..batch, 0..n, 0..steps - 1])], 2)
}
