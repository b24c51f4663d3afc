//! Losses on output spike trains (slayer's `slayer.loss`, SPEC §3.8).

use burn::tensor::{Int, Tensor};

use crate::error::{Result, SlayerError};

/// slayer's `SpikeRate(true_rate, false_rate, reduction='sum')`: the squared error between
/// each output's mean rate over time and `true_rate` for the labelled output, `false_rate`
/// for the others, summed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpikeRate {
    /// Target rate of the labelled output.
    pub true_rate: f64,
    /// Target rate of every other output.
    pub false_rate: f64,
}

impl SpikeRate {
    /// The loss with both rates in [0, 1].
    pub fn new(true_rate: f64, false_rate: f64) -> Result<Self> {
        for (what, r) in [("true_rate", true_rate), ("false_rate", false_rate)] {
            if !(0.0..=1.0).contains(&r) {
                return Err(SlayerError::Parameter { what: what.into(), reason: format!("{r} is not in [0, 1]") });
            }
        }
        Ok(SpikeRate { true_rate, false_rate })
    }

    /// The loss of output spikes (batch, classes, time) for `labels` (batch).
    pub fn forward(&self, spikes: Tensor<3>, labels: Tensor<1, Int>) -> Result<Tensor<1>> {
        let [batch, classes, _] = spikes.dims();
        if labels.dims() != [batch] {
            return Err(SlayerError::Shape {
                what: "SpikeRate labels".into(),
                expected: format!("({batch})"),
                got: labels.dims().to_vec(),
            });
        }
        let rate = crate::classifier::rate(spikes);
        let one_hot = labels.one_hot::<2>(classes).float();
        let target = one_hot * (self.true_rate - self.false_rate) + self.false_rate;
        Ok((rate - target).powi_scalar(2).sum())
    }
}
