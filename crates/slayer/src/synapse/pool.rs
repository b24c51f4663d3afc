//! Sum pooling (slayer's `synapse.Pool`): one fixed kernel of `weight_scale` (8-bit
//! quantized) shared by every channel, stride = kernel by default. As slayer's, odd sizes
//! are zero-padded at the end by `size % kernel` and the channels are pooled as one tall
//! image (C·H, W), so the windows match a per-channel pooling whenever the padded H is a
//! multiple of the kernel.

use burn::module::Module;
use burn::tensor::module::{conv2d, conv_transpose2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::Tensor;

use super::conv::{conv_out_shape, from_images, per_step_images, ConvGeometry};
use crate::error::{Result, SlayerError};
use crate::quantize::{quantize_8bit_value, W_SCALE};

/// A pooling synapse (not trainable).
#[derive(Module, Debug)]
pub struct Pool {
    /// Input (C, H, W).
    #[module(skip)]
    pub in_shape: [usize; 3],
    /// Kernel (kH, kW).
    #[module(skip)]
    pub kernel: [usize; 2],
    /// Stride (H, W).
    #[module(skip)]
    pub stride: [usize; 2],
    /// Padding (H, W) of the tall (C·H, W) image, as slayer's.
    #[module(skip)]
    pub padding: [usize; 2],
    /// Dilation (H, W).
    #[module(skip)]
    pub dilation: [usize; 2],
    /// Unpooling (slayer's `Unpool`, netx `unpool`): a transposed convolution of the tall
    /// image with the same fixed kernel.
    #[module(skip)]
    pub transposed: bool,
    /// The kernel's value in slayer units, quantized (`quantize_8bit(weight_scale)`).
    #[module(skip)]
    pub weight: f32,
}

impl Pool {
    /// `kernel` sum pooling over inputs of `in_shape` (C, H, W) with stride = kernel and
    /// kernel value `weight_scale` (slayer's `Pool(kernel_size, weight_scale=...)`).
    pub fn new(in_shape: [usize; 3], kernel: [usize; 2], weight_scale: f64) -> Result<Self> {
        Pool::with_geometry(in_shape, kernel, kernel, [0, 0], [1, 1], quantize_8bit_value(weight_scale as f32))
    }

    /// A pool with every parameter given (`weight` already quantized, slayer units).
    pub fn with_geometry(
        in_shape: [usize; 3],
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
        weight: f32,
    ) -> Result<Self> {
        Pool { in_shape, kernel, stride, padding, dilation, transposed: false, weight }.checked()
    }

    /// `kernel` unpooling of inputs of `in_shape` (C, H, W) with stride = kernel and kernel
    /// value `weight_scale` (slayer's `Unpool(kernel_size, weight_scale=...)`): every input
    /// spreads to a kH x kW patch.
    pub fn unpool(in_shape: [usize; 3], kernel: [usize; 2], weight_scale: f64) -> Result<Self> {
        let weight = quantize_8bit_value(weight_scale as f32);
        Pool { in_shape, kernel, stride: kernel, padding: [0, 0], dilation: [1, 1], transposed: true, weight }.checked()
    }

    /// A pool (or, `transposed`, an unpool) from a netx `pool` (`unpool`) layer's shared
    /// kernel (integers `w·64`, all equal).
    pub fn from_netx(
        in_shape: [usize; 3],
        kernel: [usize; 2],
        weight: &[f64],
        [stride, padding, dilation]: [[usize; 2]; 3],
        transposed: bool,
    ) -> Result<Self> {
        let first = weight.first().copied().unwrap_or(0.0);
        if weight.iter().any(|&w| w != first) {
            return Err(SlayerError::Parameter {
                what: "pool weight".into(),
                reason: "slayer's pooling kernel holds one value; the file's differ".into(),
            });
        }
        let weight = first as f32 / W_SCALE;
        Pool { in_shape, kernel, stride, padding, dilation, transposed, weight }.checked()
    }

    /// The pool if its weight is finite and its geometry gives an output.
    fn checked(self) -> Result<Self> {
        if !self.weight.is_finite() {
            return Err(SlayerError::Parameter {
                what: "pool weight".into(),
                reason: format!("{} is not finite", self.weight),
            });
        }
        self.out_shape()?;
        Ok(self)
    }

    /// The padded input (H, W) and the output (C, H, W).
    fn sizes(&self) -> Result<([usize; 2], [usize; 3])> {
        let [c, h, w] = self.in_shape;
        let bad = |reason: String| SlayerError::Parameter { what: "pool".into(), reason };
        if self.kernel.contains(&0) || c == 0 {
            return Err(bad(format!("kernel {:?} and channels must be positive", self.kernel)));
        }
        if self.transposed {
            // The transposed convolution of the tall (C·H, W) image, no end padding.
            let geometry = ConvGeometry {
                in_shape: [1, c * h, w],
                stride: self.stride,
                padding: self.padding,
                dilation: self.dilation,
                groups: 1,
            };
            let [_, rows, ow] = geometry.transposed_out_shape(1, self.kernel)?;
            if rows % c != 0 {
                return Err(bad(format!(
                    "{rows} unpooled rows do not split into {c} channels (slayer cannot reshape)"
                )));
            }
            return Ok(([h, w], [c, rows / c, ow]));
        }
        let padded = [h + h % self.kernel[0], w + w % self.kernel[1]];
        let geometry = [self.stride, self.padding, self.dilation];
        let [_, rows, ow] = conv_out_shape([1, c * padded[0], padded[1]], 1, self.kernel, geometry, 1).map_err(bad)?;
        if rows % c != 0 {
            return Err(bad(format!("{rows} pooled rows do not split into {c} channels (slayer cannot reshape)")));
        }
        Ok((padded, [c, rows / c, ow]))
    }

    /// The output (C, H, W).
    pub fn out_shape(&self) -> Result<[usize; 3]> {
        Ok(self.sizes()?.1)
    }

    /// The exported kernel (`w·64` for each of kH·kW taps).
    pub fn netx_weights(&self) -> Vec<f64> {
        vec![f64::from(self.weight * W_SCALE); self.kernel[0] * self.kernel[1]]
    }

    /// Pooled input of `x` (batch, C·H·W, time).
    pub fn forward(&self, x: Tensor<3>) -> Result<Tensor<3>> {
        let ([ph, pw], [c, oh, ow]) = self.sizes()?;
        let [_, h, w] = self.in_shape;
        let images = per_step_images(x, self.in_shape, "Pool input")?;
        let (n, device) = (images.batch * images.steps, images.x.device());
        let mut x = images.x;
        if ph > h {
            x = Tensor::cat(vec![x, Tensor::zeros([n, c, ph - h, w], &device)], 2);
        }
        if pw > w {
            x = Tensor::cat(vec![x, Tensor::zeros([n, c, ph, pw - w], &device)], 3);
        }
        let kernel = Tensor::<4>::ones([1, 1, self.kernel[0], self.kernel[1]], &device) * self.weight;
        let z = if self.transposed {
            let options = ConvTransposeOptions::new(self.stride, self.padding, [0, 0], self.dilation, 1);
            conv_transpose2d(x.reshape([n, 1, c * ph, pw]), kernel, None, options)
        } else {
            let options = ConvOptions::new(self.stride, self.padding, self.dilation, 1);
            conv2d(x.reshape([n, 1, c * ph, pw]), kernel, None, options)
        };
        Ok(from_images(z.reshape([n, c, oh, ow]), images.batch, images.steps))
    }
}
