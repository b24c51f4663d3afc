//! Training helpers: spike encoding of analog inputs and the training assistant (slayer's `utils.assistant`,
//! SPEC §3.8).

use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Int, Tensor};

use crate::error::{Result, SlayerError};
use crate::loss::SpikeRate;
use crate::network::Network;

/// Regular spike trains for values in `[0, max_value]` (rate coding without randomness):
/// a value `p` spikes at step `t` when `floor((t+1)·r) > floor(t·r)` with `r = p/max_value`,
/// i.e. `round(steps·r)` evenly spaced spikes. Returns (values, steps) in row order.
pub fn rate_encode(values: &[f64], max_value: f64, steps: usize) -> Vec<f32> {
    let mut out = vec![0f32; values.len() * steps];
    for (i, &p) in values.iter().enumerate() {
        let r = (p / max_value).clamp(0.0, 1.0);
        for t in 0..steps {
            if ((t + 1) as f64 * r).floor() > (t as f64 * r).floor() {
                out[i * steps + t] = 1.0;
            }
        }
    }
    out
}

pub use crate::stats::LearningStat;

/// slayer's `Assistant` for rate-coded classification: one optimisation step per `train`
/// call (Adam), evaluation with `test` (exact forward, no gradients), and `reduce_lr`.
pub struct Assistant {
    optim: ModuleOptimizer,
    loss: SpikeRate,
    /// Current learning rate.
    pub lr: f64,
}

impl Assistant {
    /// An assistant minimising `loss` with Adam at learning rate `lr`. Training then keeps
    /// freed memory for reuse ([`crate::memory::retain_freed_memory`]).
    pub fn new(loss: SpikeRate, lr: f64) -> Self {
        crate::memory::retain_freed_memory();
        Assistant { optim: AdamConfig::new().init(), loss, lr }
    }

    /// One training step on a batch (`x`: (batch, inputs, time) spikes, `labels`:
    /// (batch)); the network must live on an autodiff device. Adds the batch to `stat`
    /// and returns the updated network.
    pub fn train(
        &mut self,
        net: Network,
        x: Tensor<3>,
        labels: Tensor<1, Int>,
        stat: &mut LearningStat,
    ) -> Result<Network> {
        let batch = labels.dims()[0];
        let out = net.forward_train(x)?.pop().ok_or_else(empty)?;
        let correct = correct(out.clone(), labels.clone())?;
        let loss = self.loss.forward(out, labels)?;
        let value = scalar(loss.clone())?;
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        stat.add(batch, value, correct);
        Ok(self.optim.step(self.lr, net, grads).clamped())
    }

    /// Evaluates a batch with the exact forward; adds it to `stat`.
    pub fn test(&self, net: &Network, x: Tensor<3>, labels: Tensor<1, Int>, stat: &mut LearningStat) -> Result<()> {
        let batch = labels.dims()[0];
        let out = net.forward(x)?.pop().ok_or_else(empty)?;
        let correct = correct(out.clone(), labels.clone())?;
        let value = scalar(self.loss.forward(out, labels)?)?;
        stat.add(batch, value, correct);
        Ok(())
    }

    /// Divides the learning rate by `factor` (slayer's default is 10/3).
    pub fn reduce_lr(&mut self, factor: f64) {
        self.lr /= factor;
    }
}

fn empty() -> SlayerError {
    SlayerError::Parameter { what: "network".into(), reason: "has no blocks".into() }
}

fn scalar(t: Tensor<1>) -> Result<f64> {
    let v = t.try_into_vec_as::<f32>().map_err(|e| SlayerError::Read(e.to_string()))?;
    Ok(f64::from(v[0]))
}

/// How many samples `classifier::predict` gets right.
fn correct(out: Tensor<3>, labels: Tensor<1, Int>) -> Result<usize> {
    let hits = crate::classifier::predict(out).equal(labels).int().sum();
    let v = hits.try_into_vec_as::<i64>().map_err(|e| SlayerError::Read(e.to_string()))?;
    Ok(v[0] as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-derived: r = 0.5 over 4 steps spikes at t = 1, 3; r = 0.25 at t = 3; r = 1 at
    /// every step; 0 never.
    #[test]
    fn rate_encoding_spaces_spikes_evenly() {
        let s = rate_encode(&[8.0, 4.0, 16.0, 0.0], 16.0, 4);
        assert_eq!(s, vec![0., 1., 0., 1., 0., 0., 0., 1., 1., 1., 1., 1., 0., 0., 0., 0.]);
    }

    #[test]
    fn stats_average_over_samples() {
        let mut s = LearningStat::default();
        s.add(2, 0.5, 1);
        s.add(6, 0.1, 6);
        assert_eq!(s.num_samples, 8);
        assert!((s.loss().unwrap() - 0.2).abs() < 1e-12);
        assert_eq!(s.accuracy(), Some(7.0 / 8.0));
    }
}
