//! Fully connected synapses (slayer's `synapse.Dense`) with slayer's default weight hook,
//! `quantize_8bit`: weights on a grid of 2/64 in [-256/64, 254/64], the values a netx export
//! stores times 64 (even integers in [-256, 254]).

use burn::module::{Module, Param};
use burn::tensor::{Distribution, Tensor, TensorData};

use crate::error::{Result, SlayerError};
use crate::quantize::{quantize_8bit, W_SCALE};

/// A dense synapse: `z[b, o, t] = Σ_i q(w)[o, i]·x[b, i, t]` with `q` = `quantize_8bit`.
#[derive(Module, Debug)]
pub struct Dense {
    /// Weights (out, in) in slayer units (a trainable parameter); with weight
    /// normalization, the direction `v`.
    pub weight: Param<Tensor<2>>,
    /// Weight normalization's gain `g` per output (slayer's `weight_norm=True`).
    pub gain: Option<Param<Tensor<1>>>,
}

impl Dense {
    /// A synapse with `weight` (out, in) in slayer units.
    pub fn new(weight: Tensor<2>) -> Self {
        Dense { weight: Param::from_tensor(weight), gain: None }
    }

    /// With slayer's weight normalization (`weight_norm=True`): the weights become
    /// `g·v/||v||` per output, `v` the current weights and `g` starting at `||v||`.
    pub fn with_weight_norm(mut self) -> Self {
        self.gain = Some(super::weight_norm::initial_gain(self.weight.val()));
        self
    }

    /// The weights the synapse applies before quantization: `weight`, or `g·v/||v||`.
    pub fn effective_weight(&self) -> Tensor<2> {
        super::weight_norm::effective(&self.weight, self.gain.as_ref())
    }

    /// A synapse of `n_in -> n_out` with slayer's initial weights (PyTorch's default
    /// `U(-1/sqrt(n_in), 1/sqrt(n_in))` times `weight_scale`), on `device`.
    pub fn init(n_in: usize, n_out: usize, weight_scale: f64, device: &burn::tensor::Device) -> Self {
        let k = weight_scale / (n_in.max(1) as f64).sqrt();
        Dense::new(Tensor::random([n_out, n_in], Distribution::Uniform(-k, k), device))
    }

    /// A synapse from netx integer weights (out, in) (`w·64` as exported), on `device`.
    pub fn from_netx_weights(weight: &ndarray::Array2<f64>, device: &burn::tensor::Device) -> Result<Self> {
        if let Some(bad) = weight.iter().find(|w| !w.is_finite()) {
            return Err(SlayerError::Parameter { what: "weight".into(), reason: format!("holds {bad}") });
        }
        let (o, i) = weight.dim();
        let values: Vec<f32> = weight.iter().map(|&w| w as f32 / W_SCALE).collect();
        Ok(Dense::new(Tensor::from_data(TensorData::new(values, [o, i]), device)))
    }

    /// (out, in).
    pub fn dims(&self) -> [usize; 2] {
        self.weight.val().dims()
    }

    /// The weights after `quantize_8bit`; in backward the quantizer is straight-through
    /// inside the 8-bit range (and 0 outside it), as slayer's.
    pub fn quantized_weight(&self) -> Tensor<2> {
        quantize_8bit(self.effective_weight())
    }

    /// The exported integer weights (`quantize_8bit(w, descale=True)`), (out, in).
    pub fn netx_weights(&self) -> Result<ndarray::Array2<f64>> {
        let [o, i] = self.dims();
        let w = self.quantized_weight() * W_SCALE;
        let values: Vec<f32> = w.try_into_vec_as::<f32>().map_err(|e| SlayerError::Read(e.to_string()))?;
        ndarray::Array2::from_shape_vec((o, i), values.into_iter().map(f64::from).collect())
            .map_err(|e| SlayerError::Read(e.to_string()))
    }

    /// Weighted input of `x` (batch, in, time): (batch, out, time).
    pub fn forward(&self, x: Tensor<3>) -> Result<Tensor<3>> {
        let [batch, n_in, steps] = x.dims();
        let [o, i] = self.dims();
        if n_in != i {
            return Err(SlayerError::Shape {
                what: "Dense input".into(),
                expected: format!("(batch, {i}, time)"),
                got: vec![batch, n_in, steps],
            });
        }
        Ok(self.quantized_weight().unsqueeze::<3>().expand([batch, o, i]).matmul(x))
    }
}
