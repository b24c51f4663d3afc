//! CUBA (and ALIF) dynamics in two stages — the current integrator, then the voltage integrator with
//! its spikes — for what sits between them or learns them: slayer's batch norm (between
//! the stages) and learnable decays. Values come from slayer's integer arithmetic, exactly
//! as the fused operation's, through the dynamics' trace (`ops::dynamics_trace`: the host
//! kernel on the CPU, the CubeCL kernel on the GPU); gradients from differentiable stand-ins
//! whose value is cancelled (`v + (p - p.detach())`): each integrator as one causal matmul,
//! the decays through `decay·(integrated previous outputs)`, which is slayer's
//! `Σ grad_input[n]·output[n-1]`.

use burn::tensor::Tensor;

use super::cuba::{step_delay, CubaNeuron};
use super::learned::LearnableDecays;
use super::norm::MeanOnlyBatchNorm;
use super::ops::{dynamics_trace, integrate_once, CubaConstants};
use super::Neuron;
use crate::error::Result;

/// What sits between or learns the two stages.
pub(crate) struct Stages<'a> {
    /// Batch norm of the current (between the stages).
    pub norm: Option<&'a MeanOnlyBatchNorm>,
    /// Learnable decays (their values are already in the constants stepped).
    pub decays: Option<&'a LearnableDecays>,
}

/// The constants whose dynamics give the current alone: `int(4096·z)` summed into the
/// current with slayer's rounding, which the voltage then equals (a voltage factor of 0, no
/// threshold, no adaptation).
fn current_only(c: &CubaConstants) -> CubaConstants {
    CubaConstants { factors: [c.factors[0], 0], adaptation: None, ..without_threshold(c) }
}

/// `c` with a threshold that is never reached: no spikes, no reset.
fn without_threshold(c: &CubaConstants) -> CubaConstants {
    CubaConstants { reset_at: f32::INFINITY, spike_at: f32::INFINITY, ..*c }
}

impl CubaNeuron {
    /// The voltage (batch, neurons, time) for currents `z` without threshold or reset
    /// (slayer's Affine block: `threshold = -1`), in slayer's integer arithmetic; with
    /// `train`, differentiable through both integrators as slayer's `_li_dynamics_bwd`.
    pub(crate) fn forward_voltage(&self, z: Tensor<3>, train: bool) -> Result<Tensor<3>> {
        let c = without_threshold(&self.constants());
        let [_, _, voltage] = dynamics_trace(z.clone(), &c)?;
        if !train {
            return Ok(voltage);
        }
        let p = super::ops::integrate_twice(z, f64::from(c.alphas[0]), f64::from(c.alphas[1]));
        Ok(voltage + (p.clone() - p.detach()))
    }
}

/// The spikes of CUBA or ALIF neurons `neuron` (learnt decays in place) for currents `z`
/// (batch, neurons, time) with a batch norm between the current and the voltage and/or
/// learnable decays; differentiable with `train`.
pub(crate) fn forward_staged(neuron: &Neuron, z: Tensor<3>, stages: &Stages, train: bool) -> Result<Tensor<3>> {
    let c = neuron.spiking_constants().ok_or_else(|| crate::error::SlayerError::Parameter {
        what: "batch norm or learnable decays".into(),
        reason: "only CUBA and ALIF neurons run in stages".into(),
    })?;
    if train && c.graded {
        return Err(crate::error::SlayerError::Parameter {
            what: "graded_spike".into(),
            reason: "training graded-spike CUBA neurons is not supported yet".into(),
        });
    }
    let scalar = |p: &burn::module::Param<Tensor<1>>| p.val().reshape([1, 1, 1]);

    // Stage 1: the current (no reset).
    let [_, _, mut current] = dynamics_trace(z.clone(), &current_only(&c))?;
    if train {
        let mut p = integrate_once(z, f64::from(c.alphas[0]));
        if let Some(d) = stages.decays {
            let previous = step_delay(current.clone());
            p = p + integrate_once(previous, f64::from(c.alphas[0])) * scalar(&d.current);
        }
        current = current + (p.clone() - p.detach());
    }
    if let Some(norm) = stages.norm {
        current = norm.forward(current, train)?;
    }

    // Stage 2: the voltage from the (normed) current, spikes and resets; a current
    // factor of 0 makes the fused step's current its input.
    let vc = CubaConstants { factors: [0, c.factors[1]], alphas: [0.0, c.alphas[1]], ..c };
    let [spikes, above, voltage] = dynamics_trace(current.clone(), &vc)?;
    if !train {
        return Ok(spikes);
    }
    // slayer's surrogate `height·exp(-|v - θ|/tau)` at the pre-reset voltage.
    let slope = (above.abs() / vc.tau).neg().exp() * vc.height;
    let mut p = integrate_once(current, f64::from(vc.alphas[1]));
    if let Some(d) = stages.decays {
        p = p + integrate_once(step_delay(voltage), f64::from(vc.alphas[1])) * scalar(&d.voltage);
    }
    let p = p * slope;
    Ok(spikes + (p.clone() - p.detach()))
}
