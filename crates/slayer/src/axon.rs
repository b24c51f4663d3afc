//! Learnable axonal delays (slayer's `slayer.axon.Delay`, SPEC §3.6): each channel's spikes
//! arrive `int(d)` steps later, `d` clamped to [0, 62]; the delay's gradient is slayer's
//! `Σ grad·(y[t-1] - y[t])` over batch, time and the channel's positions.

use burn::module::{Module, Param};
use burn::tensor::{Distribution, Int, Tensor, TensorData};

use crate::error::{Result, SlayerError};
use crate::neuron::ops::host;

/// The largest delay slayer's blocks (and Loihi) allow.
pub const MAX_DELAY: f64 = 62.0;

/// One learnable delay per channel (per neuron of a dense block, per feature map of a
/// convolution), in time steps.
#[derive(Module, Debug)]
pub struct AxonDelay {
    /// Delays (channels), fractional while learning; the forward uses `int(clamp(d, 0, 62))`.
    pub delay: Param<Tensor<1>>,
}

impl AxonDelay {
    /// Delays of `delay` steps per channel.
    pub fn new(delay: Tensor<1>) -> Self {
        AxonDelay { delay: Param::from_tensor(delay) }
    }

    /// slayer's initial delays for `channels` channels: `U[0, 1)`, i.e. no delay yet.
    pub fn init(channels: usize, device: &burn::tensor::Device) -> Self {
        AxonDelay::new(Tensor::random([channels], Distribution::Uniform(0.0, 1.0), device))
    }

    /// Delays read from a netx file (whole steps, one per channel), on `device`.
    pub fn from_steps(steps: &[f64], device: &burn::tensor::Device) -> Result<Self> {
        if let Some(bad) = steps.iter().find(|d| !d.is_finite() || **d < 0.0) {
            return Err(SlayerError::Parameter { what: "delay".into(), reason: format!("holds {bad}") });
        }
        let values: Vec<f32> = steps.iter().map(|&d| d as f32).collect();
        Ok(AxonDelay::new(Tensor::from_data(TensorData::new(values, [steps.len()]), device)))
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.delay.val().dims()[0]
    }

    /// The delays the forward applies and netx stores: `floor(clamp(d, 0, 62))` steps.
    pub fn steps(&self) -> Result<Vec<usize>> {
        let d = self.delay.val().detach().reshape([-1, 1]);
        Ok(host(d.unsqueeze::<3>())?.into_iter().map(|d| f64::from(d).clamp(0.0, MAX_DELAY) as usize).collect())
    }

    /// The delays clamped to [0, 62] (slayer clamps its parameter before every forward);
    /// call after an optimiser step to keep learnt delays in range.
    pub fn clamped(self) -> Self {
        AxonDelay { delay: crate::neuron::learned::clamp_param(self.delay, 0.0, MAX_DELAY as f32) }
    }

    /// `x` (batch, channels·positions, time) with channel `c` shifted `steps[c]` steps
    /// later (zeros shifted in). The input's gradient is the output's shifted back; the
    /// delays' gradient is slayer's finite-difference rule.
    pub fn forward(&self, x: Tensor<3>) -> Result<Tensor<3>> {
        let [batch, n, time] = x.dims();
        let per = crate::error::positions_per_channel([batch, n, time], self.channels(), "delayed input")?;
        let steps = self.steps()?;
        if time == 0 {
            return Ok(x);
        }
        let longest = steps.iter().copied().max().unwrap_or(0).min(time);
        let device = x.device();
        let out = if longest == 0 {
            x
        } else {
            // out[.., t] = padded[.., t + longest - d] with `longest` leading zeros.
            let padded = Tensor::cat(vec![Tensor::zeros([batch, n, longest], &device), x], 2);
            let index: Vec<i64> = (0..n)
                .flat_map(|i| {
                    let d = steps[i / per].min(time);
                    (0..time).map(move |t| (t + longest - d) as i64)
                })
                .collect();
            let index =
                Tensor::<3, Int>::from_data(TensorData::new(index, [1, n, time]), &device).expand([batch, n, time]);
            padded.gather(2, index)
        };
        // The delay's gradient: Σ grad·(out[t-1] - out[t]).
        let earlier = Tensor::cat(
            vec![Tensor::zeros([batch, n, 1], &device), out.clone().slice([0..batch, 0..n, 0..time - 1])],
            2,
        );
        let difference = (earlier - out.clone()).detach();
        Ok(out.clone() + self.zero_with_gradient(difference, per))
    }

    /// `difference · (d - d)` broadcast over each channel's `per` positions: zero in value,
    /// with gradient `Σ grad·difference` for each channel's delay.
    fn zero_with_gradient(&self, difference: Tensor<3>, per: usize) -> Tensor<3> {
        let d = self.delay.val();
        let channels = d.dims()[0];
        let zero =
            (d.clone() - d.detach()).reshape([channels, 1]).expand([channels, per]).reshape([1, channels * per, 1]);
        difference * zero
    }
}
