//! 2-D convolution synapses (slayer's `synapse.Conv`, a `Conv3d` with a (kH, kW, 1) kernel
//! over (N, C, H, W, T)) with slayer's `quantize_8bit` weights. Tensors stay in this crate's
//! flat layout (batch, C·H·W, time), C-order CHW as slayer's Flatten block writes it.

use burn::module::{Module, Param};
use burn::tensor::module::{conv2d, conv_transpose2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{Device, Distribution, Tensor, TensorData};

use crate::error::{Result, SlayerError};
use crate::quantize::{quantize_8bit, W_SCALE};

/// The fixed geometry of a convolution: input shape and torch's `(H, W)` parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Input (C, H, W).
    pub in_shape: [usize; 3],
    /// Stride (H, W).
    pub stride: [usize; 2],
    /// Zero padding on both sides (H, W).
    pub padding: [usize; 2],
    /// Dilation (H, W).
    pub dilation: [usize; 2],
    /// Channel groups.
    pub groups: usize,
}

impl ConvGeometry {
    /// The output (C, H, W) of `out_channels` kernels of `kernel` (kH, kW), or an error when
    /// the kernel does not fit the (padded) input or the groups do not divide the channels.
    pub fn out_shape(&self, out_channels: usize, kernel: [usize; 2]) -> Result<[usize; 3]> {
        conv_out_shape(self.in_shape, out_channels, kernel, [self.stride, self.padding, self.dilation], self.groups)
            .map_err(|reason| SlayerError::Parameter { what: "convolution".into(), reason })
    }

    /// The output (C, H, W) of the transposed convolution (slayer's `ConvTranspose`, torch's
    /// `conv_transpose`) with `out_channels` and `kernel` (kH, kW): core's
    /// `transposed_output_size` (`(n-1)·s - 2p + d(k-1) + 1` per axis); an error unless the
    /// forward convolution of that output gives back the input (what core's `ConvTranspose`,
    /// which deploys it, checks).
    pub fn transposed_out_shape(&self, out_channels: usize, kernel: [usize; 2]) -> Result<[usize; 3]> {
        let bad = |reason: String| SlayerError::Parameter { what: "transposed convolution".into(), reason };
        let [c, h, w] = self.in_shape;
        let [oh, ow] = basalt_core::process::conv::transposed_output_size(
            [h, w],
            kernel,
            self.padding.into(),
            self.stride.into(),
            self.dilation.into(),
        )
        .ok_or_else(|| bad(format!("padding {:?} leaves no output for input {:?}", self.padding, self.in_shape)))?;
        let out = [out_channels, oh, ow];
        let forward =
            conv_out_shape(out, c, kernel, [self.stride, self.padding, self.dilation], self.groups).map_err(bad)?;
        if forward != self.in_shape {
            return Err(bad(format!("input {:?} is not a convolution output of {out:?}", self.in_shape)));
        }
        Ok(out)
    }

    fn options(&self) -> ConvOptions<2> {
        ConvOptions::new(self.stride, self.padding, self.dilation, self.groups)
    }

    fn transposed_options(&self) -> ConvTransposeOptions<2> {
        ConvTransposeOptions::new(self.stride, self.padding, [0, 0], self.dilation, self.groups)
    }
}

/// The output (C, H, W) of `out_channels` kernels of `kernel` (kH, kW) over `in_shape`
/// (C, H, W) with `[stride, padding, dilation]` (H, W) in `groups`: the checks and output
/// size of core's convolution (the one the Process simulation runs), read in (H, W) order.
pub(crate) fn conv_out_shape(
    in_shape: [usize; 3],
    out_channels: usize,
    kernel: [usize; 2],
    [stride, padding, dilation]: [[usize; 2]; 3],
    groups: usize,
) -> std::result::Result<[usize; 3], String> {
    let [c, h, w] = in_shape;
    let weight_shape = [out_channels, kernel[0], kernel[1], c / groups.max(1)];
    let g = basalt_core::process::conv::ConvGeometry::new(
        [h, w, c],
        weight_shape,
        padding.into(),
        stride.into(),
        dilation.into(),
        groups,
    )?;
    let [oh, ow, co] = g.output_shape;
    Ok([co, oh, ow])
}

/// A convolution synapse: `z = conv2d(x, q(w))` per time step, `q` = `quantize_8bit`; or,
/// `transposed`, slayer's `ConvTranspose` (`z = conv_transpose2d(x, q(w))`).
#[derive(Module, Debug)]
pub struct Conv {
    /// Weights in slayer units (a trainable parameter): (Cout, Cin/groups, kH, kW), or
    /// (Cin, Cout/groups, kH, kW) when transposed (torch's layouts).
    pub weight: Param<Tensor<4>>,
    /// Weight normalization's gain `g` per slice along dim 0 (slayer's `weight_norm=True`).
    pub gain: Option<Param<Tensor<1>>>,
    /// Input shape, stride, padding, dilation, groups.
    #[module(skip)]
    pub geometry: ConvGeometry,
    /// A transposed convolution (netx `convT`).
    #[module(skip)]
    pub transposed: bool,
}

impl Conv {
    /// A synapse with `weight` (Cout, Cin/groups, kH, kW) in slayer units; checks the shapes.
    pub fn new(weight: Tensor<4>, geometry: ConvGeometry) -> Result<Self> {
        let [co, ci, kh, kw] = weight.dims();
        if ci * geometry.groups != geometry.in_shape[0] {
            return Err(SlayerError::Shape {
                what: "Conv weight".into(),
                expected: format!("({co}, {}, {kh}, {kw})", geometry.in_shape[0] / geometry.groups.max(1)),
                got: vec![co, ci, kh, kw],
            });
        }
        geometry.out_shape(co, [kh, kw])?;
        Ok(Conv { weight: Param::from_tensor(weight), gain: None, geometry, transposed: false })
    }

    /// A transposed convolution (slayer's `synapse.ConvTranspose`) with `weight` (Cin,
    /// Cout/groups, kH, kW) in slayer units; checks the shapes.
    pub fn new_transposed(weight: Tensor<4>, geometry: ConvGeometry) -> Result<Self> {
        let [ci, co_g, kh, kw] = weight.dims();
        let groups = geometry.groups.max(1);
        if ci != geometry.in_shape[0] || ci % groups != 0 {
            return Err(SlayerError::Shape {
                what: "ConvT weight".into(),
                expected: format!("({}, Cout/{groups}, kH, kW)", geometry.in_shape[0]),
                got: vec![ci, co_g, kh, kw],
            });
        }
        geometry.transposed_out_shape(co_g * groups, [kh, kw])?;
        Ok(Conv { weight: Param::from_tensor(weight), gain: None, geometry, transposed: true })
    }

    /// A transposed convolution of `geometry` to `out_channels` with `kernel`, initialised
    /// as torch's `ConvTranspose3d` (`U(-1/sqrt(fan_in), ..)` with fan_in = Cout/groups·kH·kW)
    /// times `weight_scale`.
    pub fn init_transposed(
        geometry: ConvGeometry,
        out_channels: usize,
        kernel: [usize; 2],
        weight_scale: f64,
        device: &Device,
    ) -> Result<Self> {
        let co_g = out_channels / geometry.groups.max(1);
        let k = weight_scale / ((co_g * kernel[0] * kernel[1]).max(1) as f64).sqrt();
        let w =
            Tensor::random([geometry.in_shape[0], co_g, kernel[0], kernel[1]], Distribution::Uniform(-k, k), device);
        Conv::new_transposed(w, geometry)
    }

    /// `out_channels` kernels of `kernel` over inputs of `geometry`, initialised as slayer's
    /// (PyTorch's `U(-1/sqrt(fan_in), 1/sqrt(fan_in))` times `weight_scale`).
    pub fn init(
        geometry: ConvGeometry,
        out_channels: usize,
        kernel: [usize; 2],
        weight_scale: f64,
        device: &Device,
    ) -> Result<Self> {
        geometry.out_shape(out_channels, kernel)?;
        let ci = geometry.in_shape[0] / geometry.groups;
        let k = weight_scale / ((ci * kernel[0] * kernel[1]).max(1) as f64).sqrt();
        let w = Tensor::random([out_channels, ci, kernel[0], kernel[1]], Distribution::Uniform(-k, k), device);
        Conv::new(w, geometry)
    }

    /// A synapse from netx integer weights (`w·64`, C order, `shape` (Cout, Cin/groups, kH, kW)).
    pub fn from_netx_weights(
        weight: &[f64],
        shape: [usize; 4],
        geometry: ConvGeometry,
        device: &Device,
    ) -> Result<Self> {
        Conv::new(netx_kernel(weight, shape, "conv weight", device)?, geometry)
    }

    /// A transposed convolution from netx `convT` integer weights (C order, `shape` (Cin,
    /// Cout/groups, kH, kW)).
    pub fn from_netx_weights_transposed(
        weight: &[f64],
        shape: [usize; 4],
        geometry: ConvGeometry,
        device: &Device,
    ) -> Result<Self> {
        Conv::new_transposed(netx_kernel(weight, shape, "convT weight", device)?, geometry)
    }

    /// With slayer's weight normalization (`weight_norm=True`): the kernel becomes
    /// `g·v/||v||` per slice along dim 0 (output channel; input channel when transposed, as
    /// torch's), `v` the current kernel and `g` starting at `||v||`.
    pub fn with_weight_norm(mut self) -> Self {
        self.gain = Some(super::weight_norm::initial_gain(self.weight.val()));
        self
    }

    /// The kernel the synapse applies before quantization: `weight`, or `g·v/||v||`.
    pub fn effective_weight(&self) -> Tensor<4> {
        super::weight_norm::effective(&self.weight, self.gain.as_ref())
    }

    /// (Cout, Cin/groups, kH, kW).
    pub fn dims(&self) -> [usize; 4] {
        self.weight.val().dims()
    }

    /// The output (C, H, W).
    pub fn out_shape(&self) -> [usize; 3] {
        let [a, b, kh, kw] = self.dims();
        // Checked when the synapse was made.
        if self.transposed {
            let co = b * self.geometry.groups;
            self.geometry.transposed_out_shape(co, [kh, kw]).unwrap_or([co, 0, 0])
        } else {
            self.geometry.out_shape(a, [kh, kw]).unwrap_or([a, 0, 0])
        }
    }

    /// The exported integer weights (`quantize_8bit(w, descale=True)`), C order.
    pub fn netx_weights(&self) -> Result<Vec<f64>> {
        let w = quantize_8bit(self.effective_weight()) * W_SCALE;
        let values: Vec<f32> = w.try_into_vec_as::<f32>().map_err(|e| SlayerError::Read(e.to_string()))?;
        Ok(values.into_iter().map(f64::from).collect())
    }

    /// Weighted input of `x` (batch, C·H·W, time): (batch, C'·H'·W', time).
    pub fn forward(&self, x: Tensor<3>) -> Result<Tensor<3>> {
        let [c, h, w] = self.geometry.in_shape;
        let images = per_step_images(x, [c, h, w], "Conv input")?;
        let w = quantize_8bit(self.effective_weight());
        let z = if self.transposed {
            conv_transpose2d(images.x, w, None, self.geometry.transposed_options())
        } else {
            conv2d(images.x, w, None, self.geometry.options())
        };
        Ok(from_images(z, images.batch, images.steps))
    }
}

/// netx integer kernel values (`w·64`, C order) of `shape` as slayer weights; refuses
/// non-finite values.
fn netx_kernel(weight: &[f64], shape: [usize; 4], what: &str, device: &Device) -> Result<Tensor<4>> {
    if let Some(bad) = weight.iter().find(|w| !w.is_finite()) {
        return Err(SlayerError::Parameter { what: what.into(), reason: format!("holds {bad}") });
    }
    let values: Vec<f32> = weight.iter().map(|&w| w as f32 / W_SCALE).collect();
    Ok(Tensor::from_data(TensorData::new(values, shape), device))
}

/// A (batch, C·H·W, time) tensor as (batch·time, C, H, W) images.
pub(crate) struct StepImages {
    pub x: Tensor<4>,
    pub batch: usize,
    pub steps: usize,
}

/// Checks `x` is (batch, C·H·W, time) for `shape` and lays it out as one image per step.
pub(crate) fn per_step_images(x: Tensor<3>, shape: [usize; 3], what: &str) -> Result<StepImages> {
    let [batch, n, steps] = x.dims();
    let [c, h, w] = shape;
    if n != c * h * w {
        return Err(SlayerError::Shape {
            what: what.into(),
            expected: format!("(batch, {} = {c}x{h}x{w}, time)", c * h * w),
            got: vec![batch, n, steps],
        });
    }
    Ok(StepImages { x: x.swap_dims(1, 2).reshape([batch * steps, c, h, w]), batch, steps })
}

/// (batch·time, C, H, W) images back to (batch, C·H·W, time).
pub(crate) fn from_images(z: Tensor<4>, batch: usize, steps: usize) -> Tensor<3> {
    let [_, c, h, w] = z.dims();
    z.reshape([batch, steps, c * h * w]).swap_dims(1, 2)
}
