//! Adaptive LIF neurons (slayer's `slayer.neuron.alif`, SPEC §3.3): CUBA current and
//! voltage without a voltage reset, an adaptive threshold θ relaxing to θ0 and a refractory
//! state r, in slayer's integer arithmetic; a neuron spikes when `v >= θ + r`, then
//! `r += 2θ`, `θ += θ_step`. The surrogate gradient is CUBA's centred on `θ + r`; like
//! slayer, no gradient flows through θ and r.

use burn::tensor::Tensor;

use super::cuba::{quantized, P_SCALE, SCALE_RHO_MULT, S_SCALE, TAU_RHO_MULT, W_SCALE};
use super::ops::{self, Adaptation, CubaConstants};
use crate::error::{Result, SlayerError};

/// A population of ALIF neurons (slayer's `alif.Neuron` with `scale = 64`, shared
/// parameters, no persistent state).
#[derive(Clone, Debug, PartialEq)]
pub struct AlifNeuron {
    /// Base threshold θ0, quantized to 1/64.
    threshold: f64,
    /// Threshold step, quantized to 1/64.
    threshold_step: f64,
    /// Current, voltage, threshold and refractory decays, times 4096.
    decays: [f64; 4],
    tau_grad: f64,
    scale_grad: f64,
}

impl AlifNeuron {
    /// Neurons with base `threshold`, `threshold_step` and the fractions lost per step of the
    /// current, voltage, threshold (toward θ0) and refractory state.
    pub fn new(threshold: f64, threshold_step: f64, decays: [f64; 4]) -> Result<Self> {
        if [threshold, threshold_step].iter().chain(&decays).any(|x| !x.is_finite()) {
            return Err(SlayerError::Parameter {
                what: "ALIF parameters".into(),
                reason: format!("need finite values, got {threshold}, {threshold_step}, {decays:?}"),
            });
        }
        let q = |x: f64| (x * W_SCALE).trunc() / W_SCALE;
        Ok(AlifNeuron {
            threshold: q(threshold),
            threshold_step: q(threshold_step),
            decays: decays.map(|d| (P_SCALE * d).clamp(0.0, P_SCALE)),
            tau_grad: 1.0,
            scale_grad: 1.0,
        })
    }

    /// Neurons from a netx `ALIF` neuron group (iDecay, vDecay, thDecay, refDecay, vThMant,
    /// vThStep).
    pub fn from_device_params(decays: [f64; 4], vth_mant: f64, vth_step: f64) -> Result<Self> {
        AlifNeuron::new(vth_mant / W_SCALE, vth_step / W_SCALE, decays.map(|d| d / P_SCALE))
    }

    /// Surrogate gradient width and height (slayer's `tau_grad`, `scale_grad`, default 1).
    pub fn surrogate(mut self, tau_grad: f64, scale_grad: f64) -> Self {
        self.tau_grad = tau_grad;
        self.scale_grad = scale_grad;
        self
    }

    /// The base threshold θ0, quantized as slayer does (`int(θ·64)/64`).
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The current and voltage decays times 4096 (the ones slayer learns).
    pub fn decays(&self) -> (f64, f64) {
        (self.decays[0], self.decays[1])
    }

    /// The same neurons with current and voltage decays `current` and `voltage` times 4096
    /// (learnt values, clamped to [0, 4096] as slayer clamps them).
    pub fn with_decays(mut self, current: f64, voltage: f64) -> Self {
        self.decays[0] = current.clamp(0.0, P_SCALE);
        self.decays[1] = voltage.clamp(0.0, P_SCALE);
        self
    }

    /// The exported decays (iDecay, vDecay, thDecay, refDecay), vThMant and vThStep.
    pub fn device_params(&self) -> ([f64; 4], f64, f64) {
        (
            self.decays.map(|d| quantized(d) as f64),
            (self.threshold * W_SCALE).trunc(),
            (self.threshold_step * W_SCALE).trunc(),
        )
    }

    pub(crate) fn constants(&self) -> CubaConstants {
        let [cd, vd, td, rd] = self.decays.map(quantized);
        let tau = TAU_RHO_MULT * self.tau_grad * self.threshold;
        CubaConstants {
            factors: [4096 - cd, 4096 - vd],
            reset_at: f32::INFINITY,
            spike_at: self.threshold as f32,
            graded: false,
            tau: tau as f32,
            height: (SCALE_RHO_MULT * self.scale_grad / 2.0 / tau) as f32,
            alphas: [(1.0 - cd as f64 / P_SCALE) as f32, (1.0 - vd as f64 / P_SCALE) as f32],
            adaptation: Some(Adaptation {
                factors: [4096 - td, 4096 - rd],
                theta0: (self.threshold * S_SCALE) as i64,
                step: (self.threshold_step * S_SCALE) as i64,
            }),
        }
    }

    /// The spikes for input currents `z` (batch, neurons, time), from rest (θ = θ0, r = 0).
    pub fn forward(&self, z: Tensor<3>) -> Result<Tensor<3>> {
        self.forward_train(z.detach())
    }

    /// The same spikes with slayer's surrogate gradients.
    pub fn forward_train(&self, z: Tensor<3>) -> Result<Tensor<3>> {
        ops::spikes(z, &self.constants())
    }
}
