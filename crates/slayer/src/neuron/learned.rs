//! Learnable decays (slayer's `cuba.Neuron` and `alif.Neuron` with `requires_grad=True`,
//! shared parameters): the current and voltage decays as trainable scalars times 4096
//! (ALIF's threshold and refractory decays get zero gradients in slayer: they stay fixed). The forward uses their
//! rounded values (slayer's straight-through `quantize`); their gradient is slayer's
//! `_li_dynamics_bwd` rule, `Σ grad_input[n]·output[n-1]` over batch, neurons and time.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};

use super::cuba::P_SCALE;
use super::Neuron;
use crate::error::{Result, SlayerError};

/// A CUBA or ALIF population's current and voltage decays as trainable parameters.
#[derive(Module, Debug)]
pub struct LearnableDecays {
    /// Current decay times 4096 (one value, shared by the population).
    pub current: Param<Tensor<1>>,
    /// Voltage decay times 4096.
    pub voltage: Param<Tensor<1>>,
}

impl LearnableDecays {
    /// Trainable copies of the current and voltage decays (times 4096), on `device`.
    pub fn new((current, voltage): (f64, f64), device: &Device) -> Self {
        let scalar = |x: f64| Param::from_tensor(Tensor::from_data(TensorData::new(vec![x as f32], [1]), device));
        LearnableDecays { current: scalar(current), voltage: scalar(voltage) }
    }

    /// The decays' current values (times 4096, clamped to [0, 4096]).
    pub fn values(&self) -> Result<(f64, f64)> {
        let both = Tensor::cat(vec![self.current.val().detach(), self.voltage.val().detach()], 0);
        let v = crate::neuron::ops::host(both.reshape([1, 1, 2]))?;
        Ok((f64::from(v[0]).clamp(0.0, P_SCALE), f64::from(v[1]).clamp(0.0, P_SCALE)))
    }

    /// `neuron` with these decays; an error for neurons without learnable decays.
    pub fn applied_to(&self, neuron: &Neuron) -> Result<Neuron> {
        let (current, voltage) = self.values()?;
        neuron.with_decays(current, voltage).ok_or_else(|| SlayerError::Parameter {
            what: "learnable decays".into(),
            reason: "only CUBA and ALIF neurons have them".into(),
        })
    }

    /// The decays clamped to [0, 4096], as slayer clamps them before each forward; call
    /// after an optimiser step.
    pub fn clamped(self) -> Self {
        LearnableDecays {
            current: clamp_param(self.current, 0.0, P_SCALE as f32),
            voltage: clamp_param(self.voltage, 0.0, P_SCALE as f32),
        }
    }
}

/// A parameter clamped to [lo, hi] as a new leaf (the clamp is not part of any gradient),
/// trainable as before: what slayer's in-place `clamp_` of a parameter's data does.
pub(crate) fn clamp_param(p: Param<Tensor<1>>, lo: f32, hi: f32) -> Param<Tensor<1>> {
    p.map(|d| {
        let trainable = d.is_require_grad();
        d.clamp(lo, hi).detach().set_require_grad(trainable)
    })
}
