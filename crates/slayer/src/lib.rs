//! lava-dl's SLAYER on burn (SPEC §3): spiking blocks whose forward reproduces slayer's
//! fixed-point-faithful dynamics exactly, loaded from and exported to netx HDF5 files so
//! that a network's spikes equal the Basalt Process simulation of the exported file.
//!
//! State of this crate: the CUBA neuron's forward, the Dense synapse (with slayer's
//! `quantize_8bit` weights), `cuba::Dense` blocks, and networks of them read from and
//! written to netx files. Surrogate-gradient training (the hand-written backward over the
//! time axis), the other neuron models, synapses, losses and the training assistant are
//! not built yet.
//!
//! Tensors are burn's `Tensor<3>` in slayer's NCT layout (batch, neurons, time); the device
//! picks the backend (burn `flex` on the CPU by default, `wgpu` with the feature).

pub mod classifier;
pub mod data;
pub mod error;
pub mod loss;
pub mod network;
pub mod neuron;
pub mod synapse;
pub mod train;

pub use error::SlayerError;
pub use loss::{SpikeMax, SpikeMaxMode, SpikeRate, SpikeTime};
pub use network::{DenseBlock, Network};
pub use neuron::cuba::CubaNeuron;
pub use synapse::Dense;

/// burn's tensor API, re-exported so that users need not name the burn version.
pub use burn::tensor::{Device, Tensor, TensorData};
