//! lava-dl's SLAYER on burn (SPEC §3): spiking blocks whose forward reproduces slayer's
//! fixed-point-faithful dynamics exactly, loaded from and exported to netx HDF5 files so
//! that a network's spikes equal the Basalt Process simulation of the exported file.
//!
//! State of this crate: CUBA, ALIF, resonate-and-fire (phase RF and RF-IZ) and sigma-delta
//! (ReLU) neurons with slayer's exact forward and gradients (surrogate gradients for the
//! spiking ones; the CUBA/ALIF, recurrent/KWTA, sigma-delta and RF dynamics each one backend
//! operation over the time axis, with CubeCL kernels on the GPU); Dense, complex Dense (RF), Conv, ConvT, Pool and Unpool synapses with
//! slayer's `quantize_8bit` weights and optional weight normalization; Input, Dense, Conv,
//! ConvT, Pool, Unpool, Flatten and Recurrent blocks of each neuron (Recurrent for CUBA and
//! ALIF), RF Dense blocks, CUBA Affine (voltage output), CUBA and ALIF KWTA, Average and
//! TimeDecimation blocks, learnable axonal delays, slayer's mean-only batch norm on CUBA
//! blocks (exported as neuron biases) and ALIF blocks, learnable CUBA, ALIF and RF decays and
//! sigma-delta thresholds, and the sigma-delta Output block; networks of them read from and
//! written to netx files (and NIR graphs for dense CUBA); the SpikeTime / SpikeRate /
//! SpikeMax / SpikeMoid losses (the last two also over a moving window), the Rate and
//! MovingWindow classifiers, learning statistics (slayer's print, text files and plots)
//! with a progress bar, a training assistant, and NMNIST and SHD readers; training on the
//! CPU or a GPU ([`device::training_device`]). Not built yet: RF Conv/Affine/KWTA/Recurrent
//! blocks, adaptive RF (adrf).
//!
//! Tensors are burn's `Tensor<3>` in slayer's NCT layout (batch, neurons, time); images are
//! flattened C·H·W in C order (what slayer's Flatten block gives), so every block takes and
//! returns (batch, neurons, time); the device picks the backend (burn `flex` on the CPU by
//! default, `wgpu` with the feature).

pub mod axon;
pub mod classifier;
pub mod data;
pub mod device;
pub mod error;
pub mod kwta;
pub mod loss;
pub mod memory;
pub mod network;
pub mod neuron;
pub mod quantize;
mod recurrent;
pub mod stats;
pub mod synapse;
pub mod train;

pub use error::SlayerError;
pub use loss::{SpikeMax, SpikeMaxMode, SpikeMoid, SpikeRate, SpikeTime};
pub use network::{Block, DenseBlock, InputBlock, Network};
pub use neuron::cuba::CubaNeuron;
pub use neuron::sigma_delta::SigmaDeltaNeuron;
pub use synapse::{Average, Conv, ConvGeometry, Dense, Pool, Synapse, TimeDecimation};

/// burn's tensor API, re-exported so that users need not name the burn version.
pub use burn::tensor::{Device, Tensor, TensorData};
