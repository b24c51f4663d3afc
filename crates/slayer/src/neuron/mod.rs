//! Spiking neuron models (slayer's `slayer.neuron`).

pub mod alif;
pub mod cuba;
#[cfg(feature = "wgpu")]
mod cube;
pub mod learned;
pub mod norm;
pub mod ops;
pub mod rf;
pub mod sigma_delta;
pub(crate) mod staged;

use burn::tensor::Tensor;

use crate::error::Result;

/// A block's neuron model.
#[derive(Clone, Debug, PartialEq)]
pub enum Neuron {
    /// CUBA LIF.
    Cuba(cuba::CubaNeuron),
    /// Adaptive LIF.
    Alif(alif::AlifNeuron),
    /// Resonate-and-fire (phase RF or RF-IZ), fed by a complex synapse.
    Rf(rf::RfNeuron),
    /// Sigma-delta ReLU neurons (graded messages).
    SigmaDelta(sigma_delta::SigmaDeltaNeuron),
    /// The sigma half of sigma-delta neurons: slayer's sigma-delta Output block, which
    /// accumulates messages back into activations.
    Sigma(sigma_delta::SigmaDeltaNeuron),
    /// The voltage of CUBA neurons without threshold or reset (slayer's Affine block with
    /// `dynamics=True`): a real-valued output, no spikes.
    Voltage(cuba::CubaNeuron),
    /// No neurons: the block's output is its synaptic current (slayer's Affine block with
    /// `dynamics=False`, and the Average block).
    Identity,
}

impl Neuron {
    /// The constants of the integer spiking dynamics (CUBA and ALIF); `None` for
    /// sigma-delta neurons.
    pub(crate) fn spiking_constants(&self) -> Option<ops::CubaConstants> {
        match self {
            Neuron::Cuba(n) => Some(n.constants()),
            Neuron::Alif(n) => Some(n.constants()),
            Neuron::Rf(_) | Neuron::SigmaDelta(_) | Neuron::Sigma(_) | Neuron::Voltage(_) | Neuron::Identity => None,
        }
    }

    /// The current and voltage decays times 4096 of neurons whose decays slayer can learn
    /// (CUBA and ALIF; ALIF's threshold and refractory decays get no gradient in slayer).
    pub fn learnable_decays(&self) -> Option<(f64, f64)> {
        match self {
            Neuron::Cuba(n) => Some(n.decays()),
            Neuron::Alif(n) => Some(n.decays()),
            _ => None,
        }
    }

    /// The same neurons with current and voltage decays `current` and `voltage` times 4096;
    /// `None` for neurons without learnable decays.
    pub fn with_decays(&self, current: f64, voltage: f64) -> Option<Neuron> {
        match self {
            Neuron::Cuba(n) => Some(Neuron::Cuba(n.clone().with_decays(current, voltage))),
            Neuron::Alif(n) => Some(Neuron::Alif(n.clone().with_decays(current, voltage))),
            _ => None,
        }
    }

    /// Whether the neurons emit binary (or graded) spikes, which slayer's blocks shift one
    /// step later by default (`delay_shift`): CUBA, ALIF and RF.
    pub fn spikes(&self) -> bool {
        matches!(self, Neuron::Cuba(_) | Neuron::Alif(_) | Neuron::Rf(_))
    }

    /// Whether the neurons emit spikes or messages (not a voltage or the current itself).
    pub fn emits_events(&self) -> bool {
        !matches!(self, Neuron::Voltage(_) | Neuron::Identity)
    }

    /// The spikes (messages) for currents `z` (batch, neurons, time).
    pub fn forward(&self, z: Tensor<3>) -> Result<Tensor<3>> {
        match self {
            Neuron::Cuba(n) => n.forward(z),
            Neuron::Alif(n) => n.forward(z),
            Neuron::Rf(n) => n.forward(z),
            Neuron::SigmaDelta(n) => n.forward(z.detach()),
            Neuron::Sigma(n) => n.accumulate(z.detach()),
            Neuron::Voltage(n) => n.forward_voltage(z, false),
            Neuron::Identity => Ok(z.detach()),
        }
    }
    /// The same outputs, differentiable (surrogate gradients for spiking neurons).
    pub fn forward_train(&self, z: Tensor<3>) -> Result<Tensor<3>> {
        match self {
            Neuron::Cuba(n) => n.forward_train(z),
            Neuron::Alif(n) => n.forward_train(z),
            Neuron::Rf(n) => n.forward_train(z),
            Neuron::SigmaDelta(n) => n.forward(z),
            Neuron::Sigma(n) => n.accumulate(z),
            Neuron::Voltage(n) => n.forward_voltage(z, true),
            Neuron::Identity => Ok(z),
        }
    }
}
