//! slayer's K-winner-take-all block (`block.cuba.KWTA`, `block.alif.KWTA`): CUBA or ALIF neurons with a fixed
//! recurrence that lets about K of N fire, `s[t] = f(W x[t] + R s[t-1] + b)` with
//! `R = q((1 + a)·I - 1)` (self-excitation `a` on the diagonal, -1 elsewhere) and
//! `b = q(θ·(N - 2K)/N/64)`, `q` slayer's 8-bit quantization. The self-excitation is
//! learnable (clamped to [0, 1]); the recurrent dynamics and their gradient are the
//! Recurrent block's (`recurrent`).

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};

use crate::error::{Result, SlayerError};
use crate::neuron::learned::clamp_param;
use crate::quantize::{quantize_8bit, quantize_8bit_value};

/// The winner-take-all recurrence of a block of `n` neurons.
#[derive(Module, Debug)]
pub struct Kwta {
    /// Self-excitation `a` (one value), learnable, in [0, 1].
    pub self_excitation: Param<Tensor<1>>,
    /// Number of winners K.
    #[module(skip)]
    pub winners: usize,
}

impl Kwta {
    /// K = `winners` of `n` neurons with self-excitation `a` (slayer's default 0.5).
    pub fn new(n: usize, winners: usize, self_excitation: f64, device: &Device) -> Result<Self> {
        if winners == 0 || winners > n {
            return Err(SlayerError::Parameter {
                what: "KWTA winners".into(),
                reason: format!("{winners} winners of {n} neurons: need 1 to {n}"),
            });
        }
        if !self_excitation.is_finite() {
            return Err(SlayerError::Parameter {
                what: "KWTA self_excitation".into(),
                reason: format!("{self_excitation} is not finite"),
            });
        }
        let a = Tensor::from_data(TensorData::new(vec![self_excitation.clamp(0.0, 1.0) as f32], [1]), device);
        Ok(Kwta { self_excitation: Param::from_tensor(a), winners })
    }

    /// The recurrent weights `q((1 + a)·I - 1)` (n, n), differentiable w.r.t. `a` (slayer's
    /// straight-through quantization).
    pub fn recurrent_weights(&self, n: usize) -> Tensor<2> {
        // Clamped in value only, as slayer clamps the parameter's data in place.
        let a = self.self_excitation.val();
        let a = a.clone() + (a.clone().detach().clamp(0.0, 1.0) - a.detach());
        let device = a.device();
        let eye = Tensor::<2>::eye(n, &device);
        quantize_8bit(eye * (a.reshape([1, 1]) + 1.0) - 1.0)
    }

    /// The constant input `q(θ·(N - 2K)/N/64)` for neurons of threshold `threshold`.
    pub fn bias(&self, n: usize, threshold: f64) -> f32 {
        let b = threshold * (n as f64 - 2.0 * self.winners as f64) / n as f64 / 64.0;
        quantize_8bit_value(b as f32)
    }

    /// The self-excitation clamped to [0, 1], as slayer clamps it before each forward.
    pub fn clamped(self) -> Self {
        Kwta { self_excitation: clamp_param(self.self_excitation, 0.0, 1.0), winners: self.winners }
    }
}
