//! Spiking neuron models (slayer's `slayer.neuron`).

pub mod cuba;
pub mod ops;
