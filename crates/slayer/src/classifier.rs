//! Reading class decisions from output spikes (slayer's `slayer.classifier`): `Rate` over
//! the whole sample, `MovingWindow` per time step over a sliding box window.

use burn::tensor::{Int, Tensor};

use crate::error::{Result, SlayerError};

/// Mean over time of spikes (batch, outputs, time): (batch, outputs).
pub fn rate(spikes: Tensor<3>) -> Tensor<2> {
    spikes.mean_dim(2).squeeze_dim::<2>(2)
}

/// The predicted class of each sample: the output with the highest rate (batch).
pub fn predict(spikes: Tensor<3>) -> Tensor<1, Int> {
    rate(spikes).argmax(1).squeeze_dim::<1>(1)
}

/// A causal FIR filter along time: `y[t] = Σ_{k < taps.len()} taps[k]·x[t - k]` (slayer's
/// `filter.FIR` with sampling time 1), as one (time x time) matmul.
pub(crate) fn causal_fir(x: Tensor<3>, taps: &[f64]) -> Tensor<3> {
    let steps = x.dims()[2];
    let c: Vec<f64> = (0..steps).map(|lag| taps.get(lag).copied().unwrap_or(0.0)).collect();
    crate::neuron::ops::causal_filter(x, &c)
}

/// slayer's `classifier.MovingWindow(time_window)`: the rate at each step is the mean of the
/// last `window` steps (fewer at the start, still divided by `window`), and the prediction
/// at each step is the output with the highest such rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MovingWindow {
    /// Window length in steps.
    pub window: usize,
}

impl MovingWindow {
    /// A window of `window >= 1` steps.
    pub fn new(window: usize) -> Result<Self> {
        if window == 0 {
            return Err(SlayerError::Parameter { what: "moving window".into(), reason: "needs >= 1 step".into() });
        }
        Ok(MovingWindow { window })
    }

    /// The sliding rate of spikes (batch, outputs, time), same shape.
    pub fn rate(&self, spikes: Tensor<3>) -> Tensor<3> {
        causal_fir(spikes, &vec![1.0 / self.window as f64; self.window])
    }

    /// The predicted class at each step (batch, time).
    pub fn predict(&self, spikes: Tensor<3>) -> Tensor<2, Int> {
        self.rate(spikes).argmax(1).squeeze_dim::<2>(1)
    }
}
