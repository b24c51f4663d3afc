//! Learnable decays (slayer's `cuba.Neuron` and `alif.Neuron` with `requires_grad=True`,
//! shared parameters): the current and voltage decays as trainable scalars times 4096
//! (ALIF's threshold and refractory decays get zero gradients in slayer: they stay fixed);
//! RF sin and cos decays (their gradient is slayer's resonator backward's, in
//! [`crate::neuron::rf`]); and sigma-delta thresholds. The forward uses their
//! rounded values (slayer's straight-through `quantize`); their gradient is slayer's
//! `_li_dynamics_bwd` rule, `Σ grad_input[n]·output[n-1]` over batch, neurons and time.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};

use super::cuba::{P_SCALE, S_SCALE};
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
        LearnableDecays { current: scalar_param(current, device), voltage: scalar_param(voltage, device) }
    }

    /// The decays' current values (times 4096, clamped to [0, 4096]).
    pub fn values(&self) -> Result<(f64, f64)> {
        let (current, voltage) = pair_values(&self.current, &self.voltage)?;
        Ok((current.clamp(0.0, P_SCALE), voltage.clamp(0.0, P_SCALE)))
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

/// A trainable scalar parameter of value `x`, on `device`.
fn scalar_param(x: f64, device: &Device) -> Param<Tensor<1>> {
    Param::from_tensor(Tensor::from_data(TensorData::new(vec![x as f32], [1]), device))
}

/// The current values of two scalar parameters, read in one transfer.
fn pair_values(a: &Param<Tensor<1>>, b: &Param<Tensor<1>>) -> Result<(f64, f64)> {
    let both = Tensor::cat(vec![a.val().detach(), b.val().detach()], 0);
    let v = crate::neuron::ops::host(both.reshape([1, 1, 2]))?;
    Ok((f64::from(v[0]), f64::from(v[1])))
}

/// A parameter clamped to [lo, hi] as a new leaf (the clamp is not part of any gradient),
/// trainable as before: what slayer's in-place `clamp_` of a parameter's data does.
pub(crate) fn clamp_param(p: Param<Tensor<1>>, lo: f32, hi: f32) -> Param<Tensor<1>> {
    p.map(|d| {
        let trainable = d.is_require_grad();
        d.clamp(lo, hi).detach().set_require_grad(trainable)
    })
}

/// A sigma-delta population's delta threshold as a trainable parameter (slayer's
/// `sigma_delta.Neuron(requires_grad=True)`, shared). The forward uses it truncated to 1/64 —
/// the value the netx export writes (`vThMant = int(θ·64)`) — so the trained model and its
/// deployment stay identical; slayer's own forward compares against the unquantized value,
/// which its export then truncates (the two agree on multiples of 1/64).
#[derive(Module, Debug)]
pub struct LearnableThreshold {
    /// The threshold θ.
    pub value: Param<Tensor<1>>,
}

impl LearnableThreshold {
    /// A trainable copy of `threshold`, on `device`.
    pub fn new(threshold: f64, device: &Device) -> Self {
        LearnableThreshold { value: scalar_param(threshold, device) }
    }

    /// The threshold's current value, at least slayer's minimum 1/4096.
    pub fn current(&self) -> Result<f64> {
        let v = crate::neuron::ops::host(self.value.val().detach().reshape([1, 1, 1]))?;
        Ok(f64::from(v[0]).max(1.0 / S_SCALE))
    }

    /// `neuron` with this threshold; an error for neurons other than sigma-delta.
    pub fn applied_to(&self, neuron: &Neuron) -> Result<Neuron> {
        match neuron {
            Neuron::SigmaDelta(n) => Ok(Neuron::SigmaDelta(n.with_threshold(self.current()?)?)),
            _ => Err(SlayerError::Parameter {
                what: "learnable threshold".into(),
                reason: "only sigma-delta neurons have one".into(),
            }),
        }
    }

    /// The threshold clamped to at least 1/4096, as slayer's `Delta.clamp` before each
    /// forward; call after an optimiser step.
    pub fn clamped(self) -> Self {
        LearnableThreshold { value: clamp_param(self.value, (1.0 / S_SCALE) as f32, f32::MAX) }
    }
}

/// A resonate-and-fire population's sin and cos decays (times 4096, shared) as trainable
/// parameters (slayer's `rf.Neuron(requires_grad=True)`). The forward uses them clamped
/// (gain below 4096) and rounded, as slayer's straight-through `quantize`.
#[derive(Module, Debug)]
pub struct LearnableRfDecays {
    /// `(1 - α)·sin(2π/period)·4096`.
    pub sin: Param<Tensor<1>>,
    /// `(1 - α)·cos(2π/period)·4096`.
    pub cos: Param<Tensor<1>>,
}

impl LearnableRfDecays {
    /// Trainable copies of the sin and cos decays (times 4096), on `device`.
    pub fn new((sin, cos): (f64, f64), device: &Device) -> Self {
        LearnableRfDecays { sin: scalar_param(sin, device), cos: scalar_param(cos, device) }
    }

    /// The decays' current values (times 4096, unrounded).
    pub fn values(&self) -> Result<(f64, f64)> {
        pair_values(&self.sin, &self.cos)
    }

    /// `neuron` with these decays (clamped and rounded); an error for neurons other than RF.
    pub fn applied_to(&self, neuron: &Neuron) -> Result<Neuron> {
        let (sin, cos) = self.values()?;
        match neuron {
            Neuron::Rf(n) => Ok(Neuron::Rf(n.with_decays(sin, cos))),
            _ => Err(SlayerError::Parameter {
                what: "learnable RF decays".into(),
                reason: "only resonate-and-fire neurons have them".into(),
            }),
        }
    }

    /// The decays clamped as slayer's `rf.Neuron.clamp` before each forward (gain below
    /// 4096, sin at least 1, cos at least 0), as new leaves; call after an optimiser step.
    pub fn clamped(self) -> Self {
        let (sin, cos) = (self.sin.val().detach(), self.cos.val().detach());
        let gain = (sin.clone() * sin.clone() + cos.clone() * cos.clone()).sqrt();
        let factor = gain.clone().clamp(0.0, P_SCALE as f32 - 1.0) / gain.clamp_min(f32::MIN_POSITIVE);
        let (sin_new, cos_new) = ((sin * factor.clone()).clamp_min(1.0), (cos * factor).clamp_min(0.0));
        let set = |p: Param<Tensor<1>>, x: Tensor<1>| {
            p.map(|d| {
                let trainable = d.is_require_grad();
                x.detach().set_require_grad(trainable)
            })
        };
        LearnableRfDecays { sin: set(self.sin, sin_new), cos: set(self.cos, cos_new) }
    }
}
