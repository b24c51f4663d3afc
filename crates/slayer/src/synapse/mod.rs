//! Synapses (slayer's `slayer.synapse`): weighted sums of the previous layer's spikes.

mod dense;

pub use dense::Dense;
