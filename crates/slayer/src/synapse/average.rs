//! slayer's Average block as a synapse: the mean of each of `outputs` equal, contiguous
//! groups of inputs (`mean(x.reshape(N, outputs, -1, T), dim=2)`), e.g. a population-coded
//! readout. Not trainable, and not exportable (netx has no average layer).

use burn::module::Module;
use burn::tensor::Tensor;

use crate::error::{Result, SlayerError};

/// The mean of `outputs` groups of `in_size / outputs` inputs.
#[derive(Module, Debug)]
pub struct Average {
    /// Number of inputs.
    #[module(skip)]
    pub in_size: usize,
    /// Number of groups (outputs).
    #[module(skip)]
    pub outputs: usize,
}

impl Average {
    /// The mean of `outputs` groups of `in_size` inputs (slayer's `Average(num_outputs)`);
    /// `outputs` must divide `in_size`.
    pub fn new(in_size: usize, outputs: usize) -> Result<Self> {
        if outputs == 0 || !in_size.is_multiple_of(outputs) {
            return Err(SlayerError::Parameter {
                what: "Average outputs".into(),
                reason: format!("{outputs} groups do not divide {in_size} inputs"),
            });
        }
        Ok(Average { in_size, outputs })
    }

    /// Each group's mean of `x` (batch, in_size, time) -> (batch, outputs, time).
    pub fn forward(&self, x: Tensor<3>) -> Result<Tensor<3>> {
        let [batch, n, steps] = x.dims();
        if n != self.in_size {
            return Err(SlayerError::Shape {
                what: "Average input".into(),
                expected: format!("(batch, {}, time)", self.in_size),
                got: vec![batch, n, steps],
            });
        }
        let per = n / self.outputs;
        Ok(x.reshape([batch, self.outputs, per, steps]).mean_dim(2).reshape([batch, self.outputs, steps]))
    }
}
