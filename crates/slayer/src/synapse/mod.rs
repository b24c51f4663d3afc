//! Synapses (slayer's `slayer.synapse`): weighted sums of the previous layer's spikes, in
//! this crate's flat layout (batch, C·H·W, time).

mod average;
pub mod conv;
mod decimation;
mod dense;
pub mod pool;
mod weight_norm;

use burn::module::Module;
use burn::tensor::Tensor;

pub use average::Average;
pub use conv::{Conv, ConvGeometry};
pub use decimation::TimeDecimation;
pub use dense::Dense;
pub use pool::Pool;

use crate::error::Result;

/// A block's synapse.
#[derive(Module, Debug)]
pub enum Synapse {
    /// All-to-all (slayer's `synapse.Dense`).
    Dense(Dense),
    /// Complex all-to-all (slayer's `synapse.complex.Dense`, into resonate-and-fire
    /// neurons): one dense synapse of 2·n rows, the n real rows then the n imaginary ones,
    /// whose output stacks the real and imaginary currents (batch, 2·n, time).
    Complex(Dense),
    /// 2-D convolution (slayer's `synapse.Conv`) or its transpose (`synapse.ConvTranspose`).
    Conv(Conv),
    /// Sum pooling (slayer's `synapse.Pool`) or unpooling (`synapse.Unpool`).
    Pool(Pool),
    /// Group means (slayer's Average block; not trainable).
    Average(Average),
    /// Bin means over time (slayer's TimeDecimation block; not trainable).
    TimeDecimation(TimeDecimation),
}

impl Synapse {
    /// Weighted input of `x` (batch, inputs, time).
    pub fn forward(&self, x: Tensor<3>) -> Result<Tensor<3>> {
        match self {
            Synapse::Dense(s) | Synapse::Complex(s) => s.forward(x),
            Synapse::Conv(s) => s.forward(x),
            Synapse::Pool(s) => s.forward(x),
            Synapse::Average(s) => s.forward(x),
            Synapse::TimeDecimation(s) => s.forward(x),
        }
    }

    /// Number of inputs (C·H·W of the input image for Conv and Pool).
    pub fn in_size(&self) -> usize {
        match self {
            Synapse::Dense(s) | Synapse::Complex(s) => s.dims()[1],
            Synapse::Conv(s) => s.geometry.in_shape.iter().product(),
            Synapse::Pool(s) => s.in_shape.iter().product(),
            Synapse::Average(s) => s.in_size,
            Synapse::TimeDecimation(s) => s.shape.iter().product(),
        }
    }

    /// The output shape (C, H, W); a dense synapse's is (outputs, 1, 1).
    pub fn out_shape(&self) -> Result<[usize; 3]> {
        match self {
            Synapse::Dense(s) => Ok([s.dims()[0], 1, 1]),
            Synapse::Complex(s) => Ok([s.dims()[0] / 2, 1, 1]),
            Synapse::Conv(s) => Ok(s.out_shape()),
            Synapse::Pool(s) => s.out_shape(),
            Synapse::Average(s) => Ok([s.outputs, 1, 1]),
            Synapse::TimeDecimation(s) => Ok(s.shape),
        }
    }

    /// A complex dense synapse of real weights `real` and imaginary weights `imag`, both
    /// (n, in) in slayer units.
    pub fn complex(real: Tensor<2>, imag: Tensor<2>) -> Result<Synapse> {
        if real.dims() != imag.dims() {
            return Err(crate::error::SlayerError::Shape {
                what: "imaginary weights".into(),
                expected: format!("{:?} (the real weights' shape)", real.dims()),
                got: imag.dims().to_vec(),
            });
        }
        Ok(Synapse::Complex(Dense::new(Tensor::cat(vec![real, imag], 0))))
    }

    /// The dense synapse, if this is one.
    pub fn as_dense(&self) -> Option<&Dense> {
        match self {
            Synapse::Dense(s) => Some(s),
            _ => None,
        }
    }

    /// The complex dense synapse (real rows, then imaginary rows), if this is one.
    pub fn as_complex(&self) -> Option<&Dense> {
        match self {
            Synapse::Complex(s) => Some(s),
            _ => None,
        }
    }

    /// The convolution, if this is one.
    pub fn as_conv(&self) -> Option<&Conv> {
        match self {
            Synapse::Conv(s) => Some(s),
            _ => None,
        }
    }
}
