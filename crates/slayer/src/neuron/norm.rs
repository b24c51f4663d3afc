//! slayer's mean-only batch norm (`slayer.neuron.norm.MeanOnlyBatchNorm`): CUBA neurons'
//! currents (ALIF neurons' input currents) minus the 8-bit-quantized mean of their channel.
//! While training, the mean is the batch's (over batch, the channel's positions and time)
//! and a running mean follows it (momentum 0.1); otherwise the running mean is used, which
//! makes the norm a fixed per-channel bias — for CUBA what a netx export stores as the
//! layer's `bias` (`-quantize_8bit(mean)·64`) and Lava adds to the voltage.

use burn::module::{Module, RunningState};
use burn::tensor::{Device, Tensor, TensorData};

use crate::error::{Result, SlayerError};
use crate::quantize::{quantize_8bit, quantize_8bit_value, W_SCALE};

/// slayer's default momentum of the running mean.
pub const MOMENTUM: f64 = 0.1;

/// A mean-only batch norm over `channels` channels.
#[derive(Module, Debug)]
pub struct MeanOnlyBatchNorm {
    /// The running mean current per channel (slayer's `running_mean`), in slayer's units.
    pub running_mean: RunningState<Tensor<1>>,
    /// Weight of each batch's mean in the running mean.
    #[module(skip)]
    pub momentum: f64,
}

impl MeanOnlyBatchNorm {
    /// A norm of `channels` channels with running mean 0 (slayer's initial state).
    pub fn new(channels: usize, device: &Device) -> Self {
        MeanOnlyBatchNorm { running_mean: RunningState::new(Tensor::zeros([channels], device)), momentum: MOMENTUM }
    }

    /// The norm a netx layer's `bias` (one value per channel, or one for all) stands for:
    /// running mean `-bias/64`. Only slayer's biases are accepted — even integers in
    /// [-256, 254], the values `-quantize_8bit(mean)·64` can take.
    pub fn from_netx_bias(bias: &[f64], channels: usize, device: &Device) -> Result<Self> {
        if bias.len() != channels && bias.len() != 1 {
            return Err(SlayerError::Parameter {
                what: "bias".into(),
                reason: format!("{} values for {channels} channels: slayer's bias is one per channel", bias.len()),
            });
        }
        if let Some(b) = bias.iter().find(|&&b| !(b.fract() == 0.0 && b % 2.0 == 0.0 && (-256.0..=254.0).contains(&b)))
        {
            return Err(SlayerError::Parameter {
                what: "bias".into(),
                reason: format!(
                    "{b} is not a slayer batch-norm bias (an even integer in [-256, 254], -quantize_8bit(mean)·64)"
                ),
            });
        }
        let mean: Vec<f32> = (0..channels).map(|c| (-bias[c % bias.len()] / f64::from(W_SCALE)) as f32).collect();
        Ok(MeanOnlyBatchNorm {
            running_mean: RunningState::new(Tensor::from_data(TensorData::new(mean, [channels]), device)),
            momentum: MOMENTUM,
        })
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.running_mean.value_sync().dims()[0]
    }

    /// The bias per channel a netx export stores: `-quantize_8bit(running mean)·64`.
    pub fn netx_bias(&self) -> Result<Vec<f64>> {
        let mean = crate::neuron::ops::host(self.running_mean.value_sync().detach().reshape([1, 1, -1]))?;
        Ok(mean.into_iter().map(|m| -f64::from(quantize_8bit_value(m) * W_SCALE)).collect())
    }

    /// `current` (batch, channels·positions, time) minus its channel's quantized mean: the
    /// batch's mean while `train` (differentiable, and folded into the running mean), the
    /// running mean otherwise.
    pub fn forward(&self, current: Tensor<3>, train: bool) -> Result<Tensor<3>> {
        let [batch, n, steps] = current.dims();
        let channels = self.channels();
        let per = crate::error::positions_per_channel([batch, n, steps], channels, "batch norm input")?;
        let mean = if train && batch * steps > 0 {
            let mean =
                current.clone().reshape([batch, channels, per * steps]).mean_dim(2).mean_dim(0).reshape([channels]);
            let running = self.running_mean.value_sync();
            let m = self.momentum as f32;
            self.running_mean.update(running * (1.0 - m) + mean.clone().detach() * m);
            mean
        } else {
            self.running_mean.value_sync()
        };
        let shift = quantize_8bit(mean).reshape([channels, 1]).expand([channels, per]).reshape([1, n, 1]);
        Ok(current - shift)
    }
}
