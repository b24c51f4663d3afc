//! Spiking neuron models (slayer's `slayer.neuron`).

pub mod alif;
pub mod cuba;
pub mod ops;

use burn::tensor::Tensor;

use crate::error::Result;

/// A block's neuron model.
#[derive(Clone, Debug, PartialEq)]
pub enum Neuron {
    /// CUBA LIF.
    Cuba(cuba::CubaNeuron),
    /// Adaptive LIF.
    Alif(alif::AlifNeuron),
}

impl Neuron {
    /// The spikes for currents `z` (batch, neurons, time).
    pub fn forward(&self, z: Tensor<3>) -> Result<Tensor<3>> {
        match self {
            Neuron::Cuba(n) => n.forward(z),
            Neuron::Alif(n) => n.forward(z),
        }
    }
    /// The spikes with surrogate gradients.
    pub fn forward_train(&self, z: Tensor<3>) -> Result<Tensor<3>> {
        match self {
            Neuron::Cuba(n) => n.forward_train(z),
            Neuron::Alif(n) => n.forward_train(z),
        }
    }
}
