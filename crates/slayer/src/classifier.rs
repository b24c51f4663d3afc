//! Reading class decisions from output spikes (slayer's `slayer.classifier.Rate`).

use burn::tensor::{Int, Tensor};

/// Mean over time of spikes (batch, outputs, time): (batch, outputs).
pub fn rate(spikes: Tensor<3>) -> Tensor<2> {
    spikes.mean_dim(2).squeeze_dim::<2>(2)
}

/// The predicted class of each sample: the output with the highest rate (batch).
pub fn predict(spikes: Tensor<3>) -> Tensor<1, Int> {
    rate(spikes).argmax(1).squeeze_dim::<1>(1)
}
