//! # basalt-nir
//!
//! Reads and writes NIR (Neuromorphic Intermediate Representation) graphs, the exchange
//! format of snnTorch, Norse, Sinabs, Rockpool, Spyx and others (SPEC §5), and simulates
//! them as Basalt Processes with a chosen time step; exports Basalt networks as NIR graphs.
//!
//! ```no_run
//! let graph = basalt_nir::read("model.nir")?;
//! let built = basalt_nir::build(&graph, &basalt_nir::Options { dt: 1e-4 })?;
//! // connect sources to `built.inputs`, read `built.outputs`, run `built.net` ...
//! # Ok::<(), basalt_nir::NirError>(())
//! ```

mod error;
mod export;
mod file;
mod flat;
pub mod ir;
mod netx;
mod sim;

pub use error::NirError;
pub use export::{executable_to_nir, network_to_nir};
pub use file::{read, write, NIR_VERSION};
pub use ir::{Graph, Node, Padding, Tensor};
pub use netx::{netx_to_nir, nir_to_netx};
pub use sim::{build, simulate, simulate_on, NirInput, NirNetwork, NirOutput, Options, Readout};
