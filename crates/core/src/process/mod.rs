//! The process library: Lava's processes with their float and Loihi bit-accurate models.

mod adaptive_vars;
pub mod alif;
pub mod atrlif;
pub mod conv;
pub mod dense;
pub mod io;
pub mod learning_dense;
pub mod learning_lif;
pub mod lif;
pub mod monitor;
pub mod rf;
pub mod sdn;
pub mod sparse;
pub mod spiker;

use crate::registry::Registry;

/// Registers every library model, in Lava's order within each process module.
pub(crate) fn register_library(r: &mut Registry) {
    lif::register(r);
    atrlif::register(r);
    alif::register(r);
    dense::register(r);
    learning_dense::register(r);
    learning_lif::register(r);
    conv::register(r);
    io::register(r);
    monitor::register(r);
    sdn::register(r);
    rf::register(r);
    sparse::register(r);
    spiker::register(r);
}
