//! Sigma-delta neurons (slayer's `slayer.neuron.sigma_delta` with `axon.Delta` and
//! `dendrite.Sigma`, SPEC §3.4): a sigma unit accumulates the input over time, a ReLU
//! activates it, and a delta unit sends only changes of at least the threshold (graded
//! messages), keeping the rest as a residue; messages are floor-quantized to 1/4096. The
//! arithmetic follows slayer's float32 PyTorch code, so the messages equal slayer's — and,
//! through a netx export, Lava's `Delta` / `SigmaDelta` / `Sigma` processes in fixed point.
//!
//! The dynamics over the whole time axis are one backend operation ([`SigmaDeltaOps`]): the
//! host kernel on the CPU, a CubeCL kernel on the GPU (`wgpu` feature), so that training on a
//! GPU keeps the activations on the device; slayer's gradients are built around its outputs
//! from standard operations.

use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, AutodiffBackend, Backend, Dispatch, Flex};
use burn::tensor::Tensor;
use burn_autodiff::checkpoint::strategy::CheckpointStrategy;
use burn_autodiff::Autodiff;
use burn_flex::FlexTensor;

use super::cuba::{step_delay, S_SCALE, W_SCALE};
use super::ops::{flex_tensor, flex_values, stacked_planes, stacked_shape};
use crate::error::{Result, SlayerError};

/// slayer's sigma-delta dynamics over the time axis of `z` (batch, neurons, time) as one
/// operation: the outputs, the ReLU's mask (1 where `σ > 0`; [`Stage::SigmaDelta`] only, else
/// 0) and the delta unit's changes before thresholding (0 for [`Stage::Sigma`]), stacked
/// along the first axis (3·batch, neurons, time). Not differentiable: the caller builds
/// slayer's gradients from them.
#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait SigmaDeltaOps: Backend {
    /// The stacked outputs, mask and changes; `c` = [stage code, threshold, cum_error, 0]
    /// (see [`Stage::code`]).
    fn sigma_delta_dynamics(z: FloatTensor<Self>, c: [f32; 4]) -> FloatTensor<Self>;
}

impl SigmaDeltaOps for Flex {
    fn sigma_delta_dynamics(z: FlexTensor, c: [f32; 4]) -> FlexTensor {
        let (values, shape) = flex_values(z);
        let steps = shape.last().copied().unwrap_or(1);
        let stacked = planes(&values, steps, Stage::from_code(c[0]), c[1], c[2] != 0.0);
        flex_tensor(stacked, stacked_shape(&shape, 3))
    }
}

impl<B: Backend + SigmaDeltaOps, C: CheckpointStrategy> SigmaDeltaOps for Autodiff<B, C> {
    fn sigma_delta_dynamics(z: FloatTensor<Self>, c: [f32; 4]) -> FloatTensor<Self> {
        Self::from_inner(B::sigma_delta_dynamics(Self::inner(z), c))
    }
}

/// Which part of a sigma-delta neuron runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// The delta encoder alone (slayer's sigma-delta Input block).
    Delta,
    /// Sigma, ReLU, delta: a sigma-delta neuron (Dense / Conv blocks).
    SigmaDelta,
    /// The sigma accumulator alone (slayer's sigma-delta Output block).
    Sigma,
}

impl Stage {
    /// The stage as [`SigmaDeltaOps`] takes it: 0 Delta, 1 SigmaDelta, 2 Sigma.
    pub(crate) fn code(self) -> f32 {
        match self {
            Stage::Delta => 0.0,
            Stage::SigmaDelta => 1.0,
            Stage::Sigma => 2.0,
        }
    }

    fn from_code(code: f32) -> Stage {
        match code as u32 {
            0 => Stage::Delta,
            1 => Stage::SigmaDelta,
            _ => Stage::Sigma,
        }
    }
}

/// A population of sigma-delta ReLU neurons (slayer's `sigma_delta.Neuron(threshold,
/// activation=relu)` with `scale = 64`, shared threshold, no persistent state, no bias).
/// A block makes the threshold learnable with [`crate::Block::with_learnable_threshold`].
#[derive(Clone, Debug, PartialEq)]
pub struct SigmaDeltaNeuron {
    /// Threshold of the delta unit, quantized as slayer does (`int(θ·64)/64`).
    threshold: f64,
    /// Fire on the error accumulated since the last message (slayer's `cum_error`).
    cum_error: bool,
}

impl SigmaDeltaNeuron {
    /// Neurons whose delta units send changes of at least `threshold`.
    pub fn new(threshold: f64) -> Result<Self> {
        if !threshold.is_finite() || threshold < 0.0 {
            return Err(SlayerError::Parameter {
                what: "sigma-delta threshold".into(),
                reason: format!("{threshold} is not a finite value >= 0"),
            });
        }
        Ok(SigmaDeltaNeuron { threshold: (threshold * W_SCALE).trunc() / W_SCALE, cum_error: false })
    }

    /// Neurons from a netx `SDNN` neuron group (θ = vThMant / 64).
    pub fn from_device_params(vth_mant: f64) -> Result<Self> {
        SigmaDeltaNeuron::new(vth_mant / W_SCALE)
    }

    /// Fire when the error accumulated since the last message reaches the threshold
    /// (slayer's `cum_error`; off by default).
    pub fn cum_error(mut self, on: bool) -> Self {
        self.cum_error = on;
        self
    }

    /// The threshold (a multiple of 1/64).
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The same neurons with threshold `threshold` (quantized to 1/64 as [`Self::new`]).
    pub fn with_threshold(&self, threshold: f64) -> Result<Self> {
        Ok(SigmaDeltaNeuron { cum_error: self.cum_error, ..SigmaDeltaNeuron::new(threshold)? })
    }

    /// The exported threshold mantissa `vThMant = int(θ·64)`.
    pub fn vth_mant(&self) -> f64 {
        (self.threshold * W_SCALE).trunc()
    }

    /// The delta unit alone on activations `x` (batch, neurons, time): slayer's
    /// `neuron.delta`, used by the sigma-delta Input block. Differentiable: the gradient of
    /// `x[t]` is `g[t] - g[t+1]`, as slayer's.
    pub fn encode(&self, x: Tensor<3>) -> Result<Tensor<3>> {
        self.run(x, Stage::Delta)
    }

    /// The messages of sigma-delta ReLU neurons for input `z` (batch, neurons, time), from
    /// rest: `σ = Σ_t z`, `a = max(σ, 0)`, `Δ = a[t] - a[t-1] + r`, message `Δ` where `|Δ| >=
    /// θ` (else 0, and `r = Δ` carries over), floored to 1/4096. Differentiable as slayer's
    /// (delta: `g[t] - g[t+1]`; ReLU: where `σ > 0`; sigma: reversed cumulative sum).
    pub fn forward(&self, z: Tensor<3>) -> Result<Tensor<3>> {
        self.run(z, Stage::SigmaDelta)
    }

    /// The sigma unit alone: the running sum of `z` over time (slayer's sigma-delta Output
    /// block, which decodes messages back into activations).
    pub fn accumulate(&self, z: Tensor<3>) -> Result<Tensor<3>> {
        self.run(z, Stage::Sigma)
    }

    /// slayer clamps the threshold to at least one message step, 1/4096.
    fn effective_threshold(&self) -> f32 {
        self.threshold.max(1.0 / S_SCALE) as f32
    }

    /// The messages of [`Self::forward`] with the threshold's gradient too: `threshold`
    /// is the trainable parameter whose value (quantized to 1/64) this neuron holds. slayer's
    /// `_DeltaUnit` rule: `Σ g[t]·(-Δ[t]·exp(-(|Δ[t]| - θ))/θ)` where `|Δ[t]| > θ`, else
    /// `Σ g[t]·(-sign Δ[t])`, with Δ the change before thresholding.
    pub(crate) fn forward_with_threshold(&self, z: Tensor<3>, threshold: Tensor<1>) -> Result<Tensor<3>> {
        self.run_with(z, Stage::SigmaDelta, Some(threshold))
    }

    fn run(&self, z: Tensor<3>, stage: Stage) -> Result<Tensor<3>> {
        self.run_with(z, stage, None)
    }

    /// The stage's outputs, differentiable as slayer's; with `threshold`, also w.r.t. that
    /// parameter (slayer's `_DeltaUnit` rule on each change Δ: `-Δ·exp(-(|Δ| - θ))/θ` where
    /// `|Δ| > θ`, else `-sign Δ`).
    fn run_with(&self, z: Tensor<3>, stage: Stage, threshold: Option<Tensor<1>>) -> Result<Tensor<3>> {
        let dims = z.dims();
        let theta = self.effective_threshold();
        let c = [stage.code(), theta, f32::from(u8::from(self.cum_error)), 0.0];
        let [out, mask, deltas] = stacked_planes(
            z.clone(),
            dims[1],
            |z| <Dispatch as SigmaDeltaOps>::sigma_delta_dynamics(z, c),
            |values| planes(values, dims[2], stage, theta, self.cum_error),
        )?;
        let threshold = threshold.filter(|t| t.is_tracked());
        if !z.is_tracked() && threshold.is_none() {
            return Ok(out);
        }
        // A differentiable expression with slayer's gradient; its value is cancelled.
        let difference = |x: Tensor<3>| x.clone() - step_delay(x);
        let mut p = match stage {
            Stage::Delta => difference(z),
            Stage::SigmaDelta => difference(z.cumsum(2) * mask),
            Stage::Sigma => z.cumsum(2),
        };
        if let Some(t) = threshold {
            let above = deltas.clone().abs() - theta;
            let over = above.clone().greater_elem(0.0);
            let slope =
                (deltas.clone().neg() * above.neg().exp() / theta).mask_where(over.bool_not(), deltas.sign().neg());
            p = p + t.reshape([1, 1, 1]) * slope;
        }
        Ok(out + (p.clone() - p.detach()))
    }
}

/// The three planes of [`SigmaDeltaOps`] from [`dynamics`], one after the other.
fn planes(z: &[f32], steps: usize, stage: Stage, threshold: f32, cum_error: bool) -> Vec<f32> {
    let (out, mask, deltas) = dynamics(z, steps, stage, threshold, cum_error);
    [out, mask, deltas].concat()
}

/// slayer's sigma-delta arithmetic over rows of `steps` values: the outputs, the ReLU's mask
/// (1 where `σ > 0`; [`Stage::SigmaDelta`] only, else 0), and the delta unit's changes
/// before thresholding (0 for [`Stage::Sigma`]). The sigma sums in f64 and rounds each
/// partial sum to f32 (torch's CPU `cumsum`); the delta unit works in f32.
#[allow(clippy::type_complexity)]
fn dynamics(z: &[f32], steps: usize, stage: Stage, threshold: f32, cum_error: bool) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut out = vec![0f32; z.len()];
    let mut deltas = vec![0f32; z.len()];
    let mut mask = vec![0f32; z.len()];
    for (row, (x, y)) in z.chunks(steps.max(1)).zip(out.chunks_mut(steps.max(1))).enumerate() {
        let (mut sum, mut pre, mut residue, mut error) = (0f64, 0f32, 0f32, 0f32);
        for (t, (&zt, yt)) in x.iter().zip(y.iter_mut()).enumerate() {
            let a = if stage == Stage::Delta {
                zt
            } else {
                sum += f64::from(zt);
                let sigma = sum as f32;
                if stage == Stage::Sigma {
                    *yt = sigma;
                    continue;
                }
                mask[row * steps + t] = f32::from(u8::from(sigma > 0.0));
                sigma.max(0.0)
            };
            let delta = a - pre + residue;
            deltas[row * steps + t] = delta;
            let fire = if cum_error {
                error += delta;
                error.abs() >= threshold
            } else {
                delta.abs() >= threshold
            };
            let sent = if fire { delta } else { 0.0 };
            if cum_error && sent != 0.0 {
                error = 0.0;
            }
            residue = delta - sent;
            pre = a;
            *yt = (sent * S_SCALE as f32).floor() / S_SCALE as f32;
        }
    }
    (out, mask, deltas)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-derived: θ = 0.5 on a = [0.3, 0.6, 0.6, 1.7, 1.0]: Δ = 0.3 (kept), 0.6 (sent,
    /// r = 0), 0 , 1.1 (sent), -0.7 (sent); messages floored to 1/4096.
    #[test]
    fn the_delta_unit_sends_changes_of_at_least_the_threshold() {
        let a = [0.3f32, 0.6, 0.6, 1.7, 1.0];
        let (y, _, _) = dynamics(&a, 5, Stage::Delta, 0.5, false);
        let floor = |x: f32| (x * 4096.0).floor() / 4096.0;
        assert_eq!(y, vec![0.0, floor(0.6), 0.0, floor(1.7 - 0.6), floor(1.0 - 1.7)]);
        // cum_error fires on the accumulated error: 0.3, then 0.9 -> sends Δ = 0.6.
        let (y, _, _) = dynamics(&[0.3f32, 0.6, 0.9], 3, Stage::Delta, 0.5, true);
        assert_eq!(y, vec![0.0, floor(0.6), 0.0]);
    }

    /// Sigma then ReLU: inputs [1, -2, 3] sum to [1, -1, 2]; the ReLU mask is [1, 0, 1].
    #[test]
    fn sigma_sums_and_relu_masks() {
        let (y, _, _) = dynamics(&[1.0f32, -2.0, 3.0], 3, Stage::Sigma, 0.5, false);
        assert_eq!(y, vec![1.0, -1.0, 2.0]);
        let (y, mask, _) = dynamics(&[1.0f32, -2.0, 3.0], 3, Stage::SigmaDelta, 0.5, false);
        assert_eq!(mask, vec![1.0, 0.0, 1.0]);
        // a = [1, 0, 2]: Δ = 1, -1, 2, all sent.
        assert_eq!(y, vec![1.0, -1.0, 2.0]);
    }
}
