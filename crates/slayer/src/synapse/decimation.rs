//! slayer's TimeDecimation block as a synapse: the time axis zero-padded to a multiple of
//! `factor` steps, then each bin of `factor` steps averaged into one step
//! (`mean(pad(x).reshape(..., T/factor, factor), -1)`), e.g. to read a slow output from a
//! fast network. Not trainable, and not exportable (netx has no such layer).

use burn::module::Module;
use burn::tensor::Tensor;

use crate::error::{Result, SlayerError};

/// Bins of `factor` steps of `size` inputs averaged into one step.
#[derive(Module, Debug)]
pub struct TimeDecimation {
    /// Number of inputs per step (C·H·W); the output has as many.
    #[module(skip)]
    pub shape: [usize; 3],
    /// Steps per bin, a power of two.
    #[module(skip)]
    pub factor: usize,
}

impl TimeDecimation {
    /// Decimation by `factor` (a power of two, as slayer requires) of inputs of `shape`
    /// (C, H, W).
    pub fn new(shape: [usize; 3], factor: usize) -> Result<Self> {
        if !factor.is_power_of_two() {
            return Err(SlayerError::Parameter {
                what: "TimeDecimation factor".into(),
                reason: format!("{factor} is not a power of two (1, 2, 4, ...)"),
            });
        }
        Ok(TimeDecimation { shape, factor })
    }

    /// The bin means of `x` (batch, C·H·W, time) -> (batch, C·H·W, ceil(time / factor)).
    pub fn forward(&self, x: Tensor<3>) -> Result<Tensor<3>> {
        let [batch, n, steps] = x.dims();
        let size: usize = self.shape.iter().product();
        if n != size {
            return Err(SlayerError::Shape {
                what: "TimeDecimation input".into(),
                expected: format!("(batch, {size}, time)"),
                got: vec![batch, n, steps],
            });
        }
        let bins = steps.div_ceil(self.factor);
        let padding = bins * self.factor - steps;
        let x = if padding > 0 {
            let zeros = Tensor::<3>::zeros([batch, n, padding], &x.device());
            Tensor::cat(vec![x, zeros], 2)
        } else {
            x
        };
        Ok(x.reshape([batch, n, bins, self.factor]).mean_dim(3).reshape([batch, n, bins]))
    }
}
