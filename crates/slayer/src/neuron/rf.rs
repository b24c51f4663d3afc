//! Resonate-and-fire neurons (slayer's `slayer.neuron.rf` and `rf_iz`, SPEC §3.5): a complex
//! state `z ← λ·z + x` with `λ = (cos + i·sin)/4096` (the decays `(1 - α)·cos/sin(2π/period)`
//! times 4096, rounded) in slayer's integer arithmetic (states times 4096, products
//! truncated toward zero). Phase RF (`rf`) spikes when `Re z ≥ θ` as `Im z` crosses zero
//! upward; RF-IZ (`rf_iz`) spikes when `Im z ≥ θ`, then sets `Re z = 0` and `Im z` just under
//! the threshold. The input is complex: a block's complex synapse stacks the real and
//! imaginary currents along the neuron axis, (batch, 2·n, time), real first.
//!
//! Gradients are slayer's: the resonator's backward is the adjoint of the linear rotation
//! (the RF-IZ reset passes no gradient), and the spike's surrogate is `complex.Spike`'s for
//! phase RF and the plain spike's on `Im z` for RF-IZ.
//!
//! The forward over the whole time axis is one backend operation ([`RfOps`]): the host
//! kernel on the CPU, a CubeCL kernel on the GPU (`wgpu` feature); the gradients are built
//! around its outputs from standard operations, on the device.

use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, AutodiffBackend, Backend, Dispatch, Flex};
use burn::tensor::Tensor;
use burn_autodiff::checkpoint::strategy::CheckpointStrategy;
use burn_autodiff::Autodiff;
use burn_flex::FlexTensor;

use super::cuba::{step_delay, P_SCALE, W_SCALE};
use super::learned::LearnableRfDecays;
use super::ops::{apply_causal_kernel, causal_kernel, flex_tensor, flex_values, stacked_planes};
use crate::error::{Result, SlayerError};

/// slayer's RF / RF-IZ forward over the time axis of `z` (batch, 2·neurons, time: real
/// currents, then imaginary) as one operation: the real and imaginary states, the spikes and
/// the surrogate slopes with respect to the real and imaginary states, stacked along the
/// first axis (5·batch, neurons, time). Not differentiable: the caller builds slayer's
/// gradients from them.
#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait RfOps: Backend {
    /// The five stacked planes; `c` packs [`RfConstants`].
    fn rf_dynamics(z: FloatTensor<Self>, c: [f32; 8]) -> FloatTensor<Self>;
}

/// The constants of one RF population's forward, in slayer's units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RfConstants {
    /// The decays times 4096: `cos` in 0..4096, `sin` in 1..4096 (see [`clamp_decays`]).
    pub cos: i64,
    pub sin: i64,
    /// The threshold θ (a multiple of 1/64).
    pub theta: f32,
    /// θ·4096, an integer: RF-IZ fires when the integer imaginary state reaches it.
    pub reset_at: i64,
    /// Surrogate width and height (the multipliers applied).
    pub tau: f32,
    pub scale: f32,
    /// RF-IZ instead of phase RF.
    pub izhikevich: bool,
}

impl RfConstants {
    /// Packed as plain numbers for the extension call (the integers are below 2^24, exact).
    pub(crate) fn pack(&self) -> [f32; 8] {
        [
            self.cos as f32,
            self.sin as f32,
            self.theta,
            self.reset_at as f32,
            self.tau,
            self.scale,
            f32::from(u8::from(self.izhikevich)),
            0.0,
        ]
    }

    /// The constants [`RfConstants::pack`] packed.
    pub(crate) fn unpack(c: [f32; 8]) -> Self {
        RfConstants {
            cos: c[0] as i64,
            sin: c[1] as i64,
            theta: c[2],
            reset_at: c[3] as i64,
            tau: c[4],
            scale: c[5],
            izhikevich: c[6] != 0.0,
        }
    }
}

impl RfOps for Flex {
    fn rf_dynamics(z: FlexTensor, c: [f32; 8]) -> FlexTensor {
        let (values, shape) = flex_values(z);
        let (batch, n, steps) = (shape[0], shape[1] / 2, shape[2]);
        let planes = host_run(&RfConstants::unpack(c), &values, [batch, n, steps]);
        flex_tensor(planes, vec![5 * batch, n, steps])
    }
}

impl<B: Backend + RfOps, C: CheckpointStrategy> RfOps for Autodiff<B, C> {
    fn rf_dynamics(z: FloatTensor<Self>, c: [f32; 8]) -> FloatTensor<Self> {
        Self::from_inner(B::rf_dynamics(Self::inner(z), c))
    }
}

/// Surrogate width and height multipliers of phase RF (slayer's `rf.TAU_RHO_MULT`,
/// `SCALE_RHO_MULT`).
const RF_RHO_MULT: (f64, f64) = (0.5, 10.0);
/// The same for RF-IZ (`rf_iz.TAU_RHO_MULT`, `SCALE_RHO_MULT`).
const RF_IZ_RHO_MULT: (f64, f64) = (100.0, 0.1);

/// A population of resonate-and-fire neurons with shared parameters (slayer's `rf.Neuron` /
/// `rf_iz.Neuron` with `scale = 64`, no persistent state).
#[derive(Clone, Debug, PartialEq)]
pub struct RfNeuron {
    /// Threshold, quantized to 1/64.
    threshold: f64,
    /// `(1 - α)·sin(2π/period)·4096`, rounded (the netx `sinDecay`).
    sin_decay: i64,
    /// `(1 - α)·cos(2π/period)·4096`, rounded (the netx `cosDecay`).
    cos_decay: i64,
    /// RF-IZ (Izhikevich spike and reset on the imaginary state) instead of phase RF.
    izhikevich: bool,
    tau_grad: f64,
    scale_grad: f64,
}

impl RfNeuron {
    /// Phase resonate-and-fire neurons (slayer's `rf.Neuron(threshold, period, decay)`):
    /// oscillation `period` in steps (at least 4) and `decay` α, the fraction of the state
    /// lost per step.
    pub fn new(threshold: f64, period: f64, decay: f64) -> Result<Self> {
        let (sin_decay, cos_decay) = decays_of(period, decay)?;
        RfNeuron::from_decays(threshold, sin_decay, cos_decay, false)
    }

    /// Resonate-and-fire neurons with Izhikevich spikes and reset (slayer's
    /// `rf_iz.Neuron(threshold, period, decay)`).
    pub fn izhikevich(threshold: f64, period: f64, decay: f64) -> Result<Self> {
        let (sin_decay, cos_decay) = decays_of(period, decay)?;
        RfNeuron::from_decays(threshold, sin_decay, cos_decay, true)
    }

    /// Neurons from netx device parameters: `sinDecay`, `cosDecay`, `vThMant` (threshold
    /// times 64) and the kind (RF-IZ unless the netx type names `PHASE`).
    pub fn from_device_params(sin_decay: f64, cos_decay: f64, vth_mant: f64, izhikevich: bool) -> Result<Self> {
        let integral = |x: f64| x.is_finite() && x.fract() == 0.0 && (0.0..P_SCALE).contains(&x);
        if !integral(sin_decay) || !integral(cos_decay) || sin_decay.hypot(cos_decay) >= P_SCALE {
            return Err(SlayerError::Parameter {
                what: "RF sinDecay / cosDecay".into(),
                reason: format!("{sin_decay}, {cos_decay}: need integers in [0, 4096) of magnitude below 4096"),
            });
        }
        RfNeuron::from_decays(vth_mant / W_SCALE, sin_decay as i64, cos_decay as i64, izhikevich)
    }

    fn from_decays(threshold: f64, sin_decay: i64, cos_decay: i64, izhikevich: bool) -> Result<Self> {
        if !threshold.is_finite() || threshold < 0.0 {
            return Err(SlayerError::Parameter {
                what: "RF threshold".into(),
                reason: format!("need a finite non-negative value, got {threshold}"),
            });
        }
        let threshold = (threshold * W_SCALE).trunc() / W_SCALE;
        Ok(RfNeuron { threshold, sin_decay, cos_decay, izhikevich, tau_grad: 1.0, scale_grad: 1.0 })
    }

    /// Surrogate gradient width and height (slayer's `tau_grad`, `scale_grad`, default 1).
    pub fn surrogate(mut self, tau_grad: f64, scale_grad: f64) -> Self {
        self.tau_grad = tau_grad;
        self.scale_grad = scale_grad;
        self
    }

    /// The threshold, quantized as slayer does (`int(θ·64)/64`).
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The sin and cos decays times 4096 (slayer's `sin_decay`, `cos_decay`, rounded).
    pub fn decays(&self) -> (f64, f64) {
        (self.sin_decay as f64, self.cos_decay as f64)
    }

    /// The same neurons with sin and cos decays `sin`, `cos` (times 4096; clamped as slayer
    /// clamps them, then rounded half to even as its `quantize`).
    pub fn with_decays(&self, sin: f64, cos: f64) -> Self {
        let (sin, cos) = clamp_decays(sin as f32, cos as f32);
        RfNeuron { sin_decay: sin.round_ties_even() as i64, cos_decay: cos.round_ties_even() as i64, ..self.clone() }
    }

    /// Whether these are RF-IZ neurons (Izhikevich spike and reset).
    pub fn is_izhikevich(&self) -> bool {
        self.izhikevich
    }

    /// The netx device parameters: (sinDecay, cosDecay, vThMant).
    pub fn device_params(&self) -> (f64, f64, f64) {
        (self.sin_decay as f64, self.cos_decay as f64, (self.threshold * W_SCALE).round())
    }

    /// The spikes for stacked complex currents `z` (batch, 2·n, time), real half first.
    pub fn forward(&self, z: Tensor<3>) -> Result<Tensor<3>> {
        Ok(self.run(z, false)?.detach())
    }

    /// The same spikes with slayer's surrogate gradients.
    pub fn forward_train(&self, z: Tensor<3>) -> Result<Tensor<3>> {
        self.run(z, true)
    }

    /// The spikes of neurons whose decays are `decays` (these neurons carry their rounded
    /// values), differentiable with respect to them as slayer's resonator backward:
    /// `∂/∂sin = Σ -g_re[t+1]·im[t] + g_im[t+1]·re[t]`, `∂/∂cos = Σ g_re[t+1]·re[t] +
    /// g_im[t+1]·im[t]`, `g` the gradient at the resonator's input.
    pub(crate) fn forward_learning(&self, z: Tensor<3>, decays: &LearnableRfDecays) -> Result<Tensor<3>> {
        self.run_with(z, true, Some(decays))
    }

    /// The real and imaginary states (batch, n, time) for stacked currents `z` (slayer's
    /// `dynamics`), after the RF-IZ reset where there is one.
    pub fn states(&self, z: Tensor<3>) -> Result<(Tensor<3>, Tensor<3>)> {
        self.check(&z)?;
        let [real, imag, ..] = self.dynamics(z)?;
        Ok((real, imag))
    }

    /// The constants of the forward.
    fn constants(&self) -> RfConstants {
        let (tau_mult, scale_mult) = if self.izhikevich { RF_IZ_RHO_MULT } else { RF_RHO_MULT };
        RfConstants {
            cos: self.cos_decay,
            sin: self.sin_decay,
            theta: self.threshold as f32,
            // slayer compares the integer state with θ·4096 (θ is a multiple of 1/64).
            reset_at: (self.threshold * P_SCALE) as i64,
            tau: (self.tau_grad * self.threshold * tau_mult) as f32,
            scale: (self.scale_grad * scale_mult) as f32,
            izhikevich: self.izhikevich,
        }
    }

    /// The forward's five planes for `z` (batch, 2·n, time): real and imaginary states,
    /// spikes, the slopes w.r.t. the real and imaginary states; from the backend operation
    /// where it has kernels and from the host kernel elsewhere.
    fn dynamics(&self, z: Tensor<3>) -> Result<[Tensor<3>; 5]> {
        let [batch, two_n, steps] = z.dims();
        let n = two_n / 2;
        let c = self.constants();
        stacked_planes(
            z,
            n,
            |z| <Dispatch as RfOps>::rf_dynamics(z, c.pack()),
            |values| host_run(&c, values, [batch, n, steps]),
        )
    }

    fn check(&self, z: &Tensor<3>) -> Result<[usize; 3]> {
        let dims = z.dims();
        if !dims[1].is_multiple_of(2) {
            return Err(SlayerError::Shape {
                what: "RF neuron input (real and imaginary currents stacked)".into(),
                expected: "(batch, 2·neurons, time)".into(),
                got: dims.to_vec(),
            });
        }
        Ok(dims)
    }

    fn run(&self, z: Tensor<3>, train: bool) -> Result<Tensor<3>> {
        self.run_with(z, train, None)
    }

    fn run_with(&self, z: Tensor<3>, train: bool, decays: Option<&LearnableRfDecays>) -> Result<Tensor<3>> {
        let [batch, two_n, steps] = self.check(&z)?;
        let n = two_n / 2;
        let device = z.device();
        if steps == 0 {
            return Ok(Tensor::zeros([batch, n, 0], &device));
        }
        let [real_state, imag_state, spikes, slope_real, slope_imag] = self.dynamics(z.clone())?;
        if !train {
            return Ok(spikes);
        }
        let mut real_in = z.clone().slice([0..batch, 0..n, 0..steps]);
        let mut imag_in = z.slice([0..batch, n..two_n, 0..steps]);
        if let Some(d) = decays {
            // Each step's input gains (Δcos·re + i·Δsin·...)·z[t-1] of the host states, whose
            // value is 0 and whose gradient is slayer's decay gradient.
            let (re, im) = (step_delay(real_state), step_delay(imag_state));
            let delta = |p: &burn::module::Param<Tensor<1>>| (p.val() - p.val().detach()).reshape([1, 1, 1]);
            let (ds, dc) = (delta(&d.sin), delta(&d.cos));
            real_in = real_in + re.clone() * dc.clone() - im.clone() * ds.clone();
            imag_in = imag_in + re * ds + im * dc;
        }
        let (real, imag) = self.resonate(real_in, imag_in);
        let p = real * slope_real + imag * slope_imag;
        Ok(spikes + (p.clone() - p.detach()))
    }

    /// The resonator without rounding or reset, `z[t] = Σ λ^(t-k)·x[k]`, as two real
    /// causal filters: differentiable, its gradient is slayer's resonator backward.
    fn resonate(&self, real: Tensor<3>, imag: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
        let steps = real.dims()[2];
        let (c, s) = (self.cos_decay as f64 / P_SCALE, self.sin_decay as f64 / P_SCALE);
        let mut powers = vec![(1f64, 0f64); steps];
        for k in 1..steps {
            let (re, im) = powers[k - 1];
            powers[k] = (re * c - im * s, re * s + im * c);
        }
        let (re_powers, im_powers): (Vec<f64>, Vec<f64>) = powers.into_iter().unzip();
        let device = real.device();
        let (kc, ks) = (causal_kernel(&re_powers, steps, &device), causal_kernel(&im_powers, steps, &device));
        let re = apply_causal_kernel(real.clone(), kc.clone()) - apply_causal_kernel(imag.clone(), ks.clone());
        let im = apply_causal_kernel(real, ks) + apply_causal_kernel(imag, kc);
        (re, im)
    }
}

/// slayer's forward on the host over `z` (batch, 2·n, time): the five planes of [`RfOps`],
/// one after the other.
fn host_run(c: &RfConstants, z: &[f32], [batch, n, steps]: [usize; 3]) -> Vec<f32> {
    let plane = batch * n * steps;
    let mut out = vec![0f32; 5 * plane];
    let (theta, tau, scale) = (c.theta, c.tau, c.scale);
    let delta = |x: f32| 1.0 / 2.0 / tau * (-x.abs() / tau).exp();
    let (cd, sd) = (c.cos, c.sin);
    for b in 0..batch {
        for i in 0..n {
            let real_row = &z[(b * 2 * n + i) * steps..][..steps];
            let imag_row = &z[(b * 2 * n + n + i) * steps..][..steps];
            let (mut re, mut im) = (0i64, 0i64);
            let mut imag_before = 0f32;
            for t in 0..steps {
                let re_new = (cd * re) / 4096 - (sd * im) / 4096 + (4096f32 * real_row[t]) as i64;
                let im_new = (sd * re) / 4096 + (cd * im) / 4096 + (4096f32 * imag_row[t]) as i64;
                let (real, imag) = (re_new as f32 / 4096.0, im_new as f32 / 4096.0);
                let (spike, slope_real, slope_imag) = if c.izhikevich {
                    let fired = im_new >= c.reset_at;
                    (re, im) = if fired { (0, c.reset_at - 1) } else { (re_new, im_new) };
                    (imag >= theta, 0.0, scale * delta(imag - theta))
                } else {
                    (re, im) = (re_new, im_new);
                    let (d_real, d_imag) = (delta(real - theta), delta(imag));
                    let step_real = 0.5 * (1.0 + sign(real - theta) * (1.0 - 2.0 * tau * d_real));
                    let spike = real >= theta && imag_before < 0.0 && imag >= 0.0;
                    (spike, scale * d_real * d_imag, -scale / tau * sign(imag) * d_imag * step_real)
                };
                imag_before = imag;
                let k = (b * n + i) * steps + t;
                out[k] = real;
                out[plane + k] = imag;
                out[2 * plane + k] = if spike { 1.0 } else { 0.0 };
                out[3 * plane + k] = slope_real;
                out[4 * plane + k] = slope_imag;
            }
        }
    }
    out
}

/// torch's `sign`: -1, 0 or 1.
fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// slayer's decays for `period` and `decay`: `4096·(1 - α)·sin/cos(2π/period)` in float32,
/// the gain clamped below 4096, sin at least 1 and cos at least 0, then rounded (half to
/// even, as torch).
fn decays_of(period: f64, decay: f64) -> Result<(i64, i64)> {
    if !(period.is_finite() && period >= 4.0 && (0.0..=1.0).contains(&decay)) {
        return Err(SlayerError::Parameter {
            what: "RF period / decay".into(),
            reason: format!("period {period} (need at least 4 steps), decay {decay} (need [0, 1])"),
        });
    }
    let angle = 2.0 * std::f64::consts::PI / period;
    let sin = (P_SCALE * (angle.sin() * (1.0 - decay))) as f32;
    let cos = (P_SCALE * (angle.cos() * (1.0 - decay))) as f32;
    let (sin, cos) = clamp_decays(sin, cos);
    Ok((sin.round_ties_even() as i64, cos.round_ties_even() as i64))
}

/// slayer's `rf.Neuron.clamp` of the sin and cos decays (times 4096, float32): the gain
/// `sqrt(sin² + cos²)` scaled below 4096, then sin at least 1 and cos at least 0.
pub(crate) fn clamp_decays(mut sin: f32, mut cos: f32) -> (f32, f32) {
    let gain = (sin * sin + cos * cos).sqrt();
    let clamped = gain.clamp(0.0, P_SCALE as f32 - 1.0);
    if gain > 0.0 {
        sin *= clamped / gain;
        cos *= clamped / gain;
    }
    (sin.max(1.0), cos.max(0.0))
}
