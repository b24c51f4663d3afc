//! # Basalt
//!
//! Lava's neuromorphic programming model in Rust. This facade re-exports
//! [`basalt_core`] (process graphs, the process library, the compiler and the CPU
//! runtime) and adds helpers shared by the examples and the `basalt` command-line tool.
//!
//! ```
//! use basalt::prelude::*;
//! let mut net = Network::new();
//! let lif = net.add(Lif::new(&[2]).bias_mant(3.0))?;
//! let mut rt = net.runtime(&RunConfig::floating_pt())?;
//! rt.run(RunSteps::new(2))?;
//! assert_eq!(rt.get(&lif.v())?.as_slice().unwrap(), &[6.0, 6.0]);
//! # Ok::<(), basalt::Error>(())
//! ```

pub use basalt_core::*;
/// lava-dl netx networks (`basalt_netx`).
pub use basalt_netx as netx;
/// NIR graphs (`basalt_nir`).
pub use basalt_nir as nir;

pub mod cli_netx;
pub mod cli_nir;
pub mod display;
pub mod walkthrough;
pub mod workloads;

/// Everything a typical program needs (`use basalt::prelude::*`).
pub mod prelude {
    pub use basalt_core::prelude::*;
}
