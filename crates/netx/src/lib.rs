//! # basalt-netx
//!
//! Loads networks in lava-dl's netx HDF5 format (`.net`, SPEC §4) as Basalt Processes:
//! one block (synapse + neuron) per layer, chained input to output, exactly as lava-dl's
//! `netx.hdf5.Network` builds them, so a network trained and exported by lava-dl runs with
//! the same spikes in Basalt's fixed-point models.
//!
//! ```no_run
//! use basalt_core::prelude::*;
//! let netx = basalt_netx::load("network.net", &basalt_netx::Options::default())?;
//! let mut net = netx.net;
//! // feed `netx.input` (the first neuron's a_in), record `netx.output` ...
//! # Ok::<(), basalt_netx::NetxError>(())
//! ```
//!
//! Supported now: layer types `input`, `dense` (with delays and `messageBits`), `dense_rec`,
//! complex `dense`/`dense_comp` (`weight/real`, `weight/imag`), `conv`, `pool` (beyond
//! lava-dl, whose loader cannot build it), `flatten`; neuron types `CUBA`/`LOIHI` (LIF,
//! LIFReset with `reset_interval`), `SDNN` (Delta / SigmaDelta / Sigma) and RF (`RF_PHASE`
//! -> RF, other `RF*` -> RF_IZ). Other layer and neuron types fail with an error naming the
//! layer.

mod config;
mod error;
mod network;
pub mod weights;
mod writer;

pub use config::{LayerConfig, LayerKind, NeuronConfig, NeuronKind};
pub use error::NetxError;
pub use network::{build_block, load, load_into, Block, NetxNetwork, NetxPart, Options};
pub use writer::{read_layers, write};
