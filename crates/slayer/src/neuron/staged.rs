//! CUBA (and ALIF) dynamics in two stages — the current integrator, then the voltage integrator with
//! its spikes — for what sits between them or learns them: slayer's batch norm (between
//! the stages) and learnable decays. Values come from slayer's integer arithmetic on the
//! host, exactly as the fused operation's; gradients from differentiable stand-ins whose
//! value is cancelled (`v + (p - p.detach())`): each integrator as one causal matmul, the
//! decays through `decay·(integrated previous outputs)`, which is slayer's
//! `Σ grad_input[n]·output[n-1]`.

use burn::tensor::{Tensor, TensorData};

use super::cuba::CubaNeuron;
use super::learned::LearnableDecays;
use super::norm::MeanOnlyBatchNorm;
use super::ops::{host, integrate_once, surrogate, CubaConstants, NeuronState};
use super::Neuron;
use crate::error::Result;

/// What sits between or learns the two stages.
pub(crate) struct Stages<'a> {
    /// Batch norm of the current (between the stages).
    pub norm: Option<&'a MeanOnlyBatchNorm>,
    /// Learnable decays (their values are already in the constants stepped).
    pub decays: Option<&'a LearnableDecays>,
}

/// `int(4096·z)` summed into the current with slayer's rounding, per row of `steps`:
/// the current `u/4096` and, for the decay's gradient, the previous step's current. (The
/// fused step with a voltage factor of 0 and no threshold: its voltage is the current.)
fn currents(c: &CubaConstants, z: &[f32], steps: usize) -> (Vec<f32>, Vec<f32>) {
    let c = CubaConstants { factors: [c.factors[0], 0], adaptation: None, ..without_threshold(c) };
    voltages(&c, z, steps).2.into_iter().unzip()
}

/// `c` with a threshold that is never reached: no spikes, no reset.
fn without_threshold(c: &CubaConstants) -> CubaConstants {
    CubaConstants { reset_at: f32::INFINITY, spike_at: f32::INFINITY, ..*c }
}

/// Steps `c`'s dynamics over rows of `steps`: outputs, pre-reset voltages minus the
/// threshold, and (value, previous value) of the pre-reset voltage.
#[allow(clippy::type_complexity)]
fn voltages(c: &CubaConstants, z: &[f32], steps: usize) -> (Vec<f32>, Vec<f32>, Vec<(f32, f32)>) {
    let (mut out, mut above, mut trace) = (Vec::with_capacity(z.len()), Vec::with_capacity(z.len()), Vec::new());
    for row in z.chunks(steps.max(1)) {
        let mut state = NeuronState::at_rest(c);
        let mut previous = 0f32;
        for &x in row {
            let (s, a, v) = state.step(c, x);
            out.push(s);
            above.push(a);
            trace.push((v, previous));
            previous = v;
        }
    }
    (out, above, trace)
}

impl CubaNeuron {
    /// The voltage (batch, neurons, time) for currents `z` without threshold or reset
    /// (slayer's Affine block: `threshold = -1`), in slayer's integer arithmetic; with
    /// `train`, differentiable through both integrators as slayer's `_li_dynamics_bwd`.
    pub(crate) fn forward_voltage(&self, z: Tensor<3>, train: bool) -> Result<Tensor<3>> {
        let c = without_threshold(&self.constants());
        let dims = z.dims();
        let (_, _, trace) = voltages(&c, &host(z.clone().detach())?, dims[2]);
        let voltage =
            Tensor::<3>::from_data(TensorData::new(trace.into_iter().map(|(v, _)| v).collect(), dims), &z.device());
        if !train {
            return Ok(voltage);
        }
        let p = super::ops::integrate_twice(z, f64::from(c.alphas[0]), f64::from(c.alphas[1]));
        Ok(voltage + (p.clone() - p.detach()))
    }
}

/// The spikes of CUBA or ALIF neurons `neuron` (learnt decays in place) for currents `z`
/// (batch, neurons, time) with a batch norm between the current and the voltage and/or
/// learnable decays; differentiable with `train`.
pub(crate) fn forward_staged(neuron: &Neuron, z: Tensor<3>, stages: &Stages, train: bool) -> Result<Tensor<3>> {
    let c = neuron.spiking_constants().ok_or_else(|| crate::error::SlayerError::Parameter {
        what: "batch norm or learnable decays".into(),
        reason: "only CUBA and ALIF neurons run in stages".into(),
    })?;
    if train && c.graded {
        return Err(crate::error::SlayerError::Parameter {
            what: "graded_spike".into(),
            reason: "training graded-spike CUBA neurons is not supported yet".into(),
        });
    }
    let dims = z.dims();
    let device = z.device();
    let tensor = |v: Vec<f32>| Tensor::<3>::from_data(TensorData::new(v, dims), &device);
    let scalar = |p: &burn::module::Param<Tensor<1>>| p.val().reshape([1, 1, 1]);

    // Stage 1: the current (no reset).
    let (current, previous) = currents(&c, &host(z.clone().detach())?, dims[2]);
    let mut current = tensor(current);
    if train {
        let mut p = integrate_once(z, f64::from(c.alphas[0]));
        if let Some(d) = stages.decays {
            p = p + integrate_once(tensor(previous), f64::from(c.alphas[0])) * scalar(&d.current);
        }
        current = current + (p.clone() - p.detach());
    }
    if let Some(norm) = stages.norm {
        current = norm.forward(current, train)?;
    }

    // Stage 2: the voltage from the (normed) current, spikes and resets; a current
    // factor of 0 makes the fused step's current its input.
    let vc = CubaConstants { factors: [0, c.factors[1]], alphas: [0.0, c.alphas[1]], ..c };
    let (spikes, above, trace) = voltages(&vc, &host(current.clone().detach())?, dims[2]);
    let spikes = tensor(spikes);
    if !train {
        return Ok(spikes);
    }
    let slope = tensor(above.into_iter().map(|a| surrogate(&vc, a)).collect());
    let mut p = integrate_once(current, f64::from(vc.alphas[1]));
    if let Some(d) = stages.decays {
        let previous = tensor(trace.into_iter().map(|(_, p)| p).collect());
        p = p + integrate_once(previous, f64::from(vc.alphas[1])) * scalar(&d.voltage);
    }
    let p = p * slope;
    Ok(spikes + (p.clone() - p.detach()))
}
