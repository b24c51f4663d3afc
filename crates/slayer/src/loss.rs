//! Losses on output spike trains (slayer's `slayer.loss`, SPEC §3.8).

use burn::tensor::{Int, Tensor};

use crate::classifier::MovingWindow;
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
        check_labels(&labels, batch)?;
        let rate = crate::classifier::rate(spikes);
        let one_hot = labels.one_hot::<2>(classes).float();
        let target = one_hot * (self.true_rate - self.false_rate) + self.false_rate;
        Ok((rate - target).powi_scalar(2).sum())
    }

    /// slayer's `SpikeRate(..., moving_window=w)`: the squared error between the sliding
    /// rate of `window` at every step and the target rates of per-step `labels` (batch, time).
    /// (Per-sample labels repeat along time: `labels.unsqueeze_dim(1).expand([batch, time])`.)
    pub fn forward_windowed(
        &self,
        spikes: Tensor<3>,
        labels: Tensor<2, Int>,
        window: &MovingWindow,
    ) -> Result<Tensor<1>> {
        let one_hot = step_one_hot(&spikes, labels)?;
        let target = one_hot.clone() * self.true_rate + (one_hot.neg() + 1.0) * self.false_rate;
        // Summed per row first: f32 rounding stays near torch's (blocked) sum.
        Ok((window.rate(spikes) - target).powi_scalar(2).sum_dim(2).sum())
    }
}

/// slayer's `SpikeMoid(alpha, theta, reduction='sum')`: each output's mean over time of
/// `(s - θ)/α` through a sigmoid is a probability, scored against 0/1 `targets` (batch,
/// outputs) with torch's binary cross entropy (logs clamped at -100), summed: a multi-label
/// loss for spike outputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpikeMoid {
    /// Sigmoid width α (slayer's default 1).
    pub alpha: f64,
    /// Offset θ subtracted from the spikes (slayer's default 0).
    pub theta: f64,
}

impl SpikeMoid {
    /// The loss with finite `alpha` ≠ 0 and finite `theta`.
    pub fn new(alpha: f64, theta: f64) -> Result<Self> {
        if !alpha.is_finite() || alpha == 0.0 || !theta.is_finite() {
            return Err(SlayerError::Parameter {
                what: "SpikeMoid".into(),
                reason: format!("alpha {alpha} must be finite and not 0, theta {theta} finite"),
            });
        }
        Ok(SpikeMoid { alpha, theta })
    }

    /// The loss of outputs (batch, outputs, time) for `targets` (batch, outputs) in [0, 1].
    pub fn forward(&self, spikes: Tensor<3>, targets: Tensor<2>) -> Result<Tensor<1>> {
        let [batch, outputs, steps] = spikes.dims();
        if targets.dims() != [batch, outputs] {
            return Err(SlayerError::Shape {
                what: "SpikeMoid targets".into(),
                expected: format!("({batch}, {outputs})"),
                got: targets.dims().to_vec(),
            });
        }
        if steps == 0 {
            return Err(SlayerError::Shape {
                what: "SpikeMoid input".into(),
                expected: "time > 0".into(),
                got: vec![batch, outputs, 0],
            });
        }
        let scaled = ((spikes - self.theta) / self.alpha).mean_dim(2).squeeze_dim::<2>(2);
        let p = burn::tensor::activation::sigmoid(scaled);
        let log_p = p.clone().log().clamp_min(-100.0);
        let log_q = p.neg().log1p().clamp_min(-100.0);
        Ok((targets.clone() * log_p + (targets.neg() + 1.0) * log_q).sum().neg())
    }
}

/// How [`SpikeMax`] turns rates into class log-probabilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpikeMaxMode {
    /// `log(rate / (Σ rate + 1e-6))` (slayer's default).
    Probability,
    /// `log_softmax(rate)`.
    LogSoftmax,
}

/// slayer's `SpikeMax(mode, reduction='sum')`: the negative log-likelihood of the labels
/// under the outputs' rate confidences, summed over the batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpikeMax {
    /// Confidence mode.
    pub mode: SpikeMaxMode,
}

impl SpikeMax {
    /// The loss of output spikes (batch, classes, time) for `labels` (batch).
    pub fn forward(&self, spikes: Tensor<3>, labels: Tensor<1, Int>) -> Result<Tensor<1>> {
        let [batch, classes, _] = spikes.dims();
        check_labels(&labels, batch)?;
        let log_p = self.log_confidence(crate::classifier::rate(spikes));
        let one_hot = labels.one_hot::<2>(classes).float();
        Ok((log_p * one_hot).sum().neg())
    }

    /// slayer's `SpikeMax(moving_window=w)`: the negative log-likelihood of per-step `labels`
    /// (batch, time) under the confidences of `window`'s sliding rates, summed over batch
    /// and time. In probability mode an output that has not spiked within the window gives
    /// log(0) = -inf for its label, as in slayer; log-softmax mode avoids that.
    pub fn forward_windowed(
        &self,
        spikes: Tensor<3>,
        labels: Tensor<2, Int>,
        window: &MovingWindow,
    ) -> Result<Tensor<1>> {
        let one_hot = step_one_hot(&spikes, labels)?;
        Ok((self.log_confidence(window.rate(spikes)) * one_hot).sum().neg())
    }

    /// Log-confidences of rates over the class axis (dimension 1).
    fn log_confidence<const D: usize>(&self, rate: Tensor<D>) -> Tensor<D> {
        match self.mode {
            SpikeMaxMode::Probability => {
                let total = rate.clone().sum_dim(1) + 1e-6;
                (rate / total).log()
            }
            SpikeMaxMode::LogSoftmax => burn::tensor::activation::log_softmax(rate, 1),
        }
    }
}

/// slayer's `SpikeTime(time_constant, length, filter_order=1, reduction='sum')`: the summed
/// squared error between the output and desired spike trains after a causal FIR filter
/// `h[k] = exp(-k/time_constant)`, `k < length`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpikeTime {
    /// Filter time constant (steps).
    pub time_constant: f64,
    /// Filter length (steps).
    pub length: usize,
}

impl SpikeTime {
    /// The loss of output spikes against `desired` spikes, both (batch, outputs, time).
    pub fn forward(&self, spikes: Tensor<3>, desired: Tensor<3>) -> Result<Tensor<1>> {
        if spikes.dims() != desired.dims() {
            return Err(SlayerError::Shape {
                what: "SpikeTime desired spikes".into(),
                expected: format!("{:?}", spikes.dims()),
                got: desired.dims().to_vec(),
            });
        }
        if !self.time_constant.is_finite() || self.time_constant <= 0.0 || self.length == 0 {
            return Err(SlayerError::Parameter {
                what: "SpikeTime".into(),
                reason: format!(
                    "needs time_constant > 0 and length >= 1, got {} and {}",
                    self.time_constant, self.length
                ),
            });
        }
        let diff = self.filter(spikes) - self.filter(desired);
        Ok(diff.powi_scalar(2).sum())
    }

    /// `y[t] = Σ_{k < length} h[k]·x[t - k]` along time.
    fn filter(&self, x: Tensor<3>) -> Tensor<3> {
        let taps: Vec<f64> = (0..self.length).map(|k| (-(k as f64) / self.time_constant).exp()).collect();
        crate::classifier::causal_fir(x, &taps)
    }
}

/// Per-step labels (batch, time) one-hot as (batch, classes, time), checked against the
/// outputs (batch, classes, time).
fn step_one_hot(spikes: &Tensor<3>, labels: Tensor<2, Int>) -> Result<Tensor<3>> {
    let [batch, classes, steps] = spikes.dims();
    if labels.dims() != [batch, steps] {
        return Err(SlayerError::Shape {
            what: "per-step labels".into(),
            expected: format!("({batch}, {steps})"),
            got: labels.dims().to_vec(),
        });
    }
    Ok(labels.one_hot::<3>(classes).float().swap_dims(1, 2))
}

fn check_labels(labels: &Tensor<1, Int>, batch: usize) -> Result<()> {
    if labels.dims() != [batch] {
        return Err(SlayerError::Shape {
            what: "labels".into(),
            expected: format!("({batch})"),
            got: labels.dims().to_vec(),
        });
    }
    Ok(())
}
