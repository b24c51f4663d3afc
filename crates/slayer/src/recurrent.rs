//! Recurrent spiking dynamics (slayer's `utils.recurrent.custom_recurrent`, the core of its
//! `Recurrent` blocks, SPEC §3.7): `s[t] = f(z[t] + R·s[t-1])` with the neurons' integer
//! dynamics carried from step to step. slayer differentiates each step's neuron on its own
//! (the state between steps carries no gradient), so a step's spike has the surrogate slope
//! as its derivative with respect to that step's summed input, and the gradient reaches
//! earlier steps only through `R`.
//!
//! The whole time axis is one backend operation ([`RecurrentOps`]) with a hand-written
//! backward: with `e[t]` the gradient with respect to step `t`'s summed input,
//! `e[t] = slope[t]·(g[t] + Rᵀ·e[t+1])` backwards in time, the input gradient is `e` and the
//! weight gradient `Σ_t e[t]·s[t-1]ᵀ` (one matmul). The host kernels serve the CPU; on the
//! GPU (`wgpu` feature) one CubeCL workgroup per copy steps all neurons together
//! (`neuron::cube`). Elsewhere the same values and gradients come from standard operations
//! unrolled in time.

use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Backend, Dispatch, Flex, Slice, TensorMetadata};
use burn::tensor::{Shape, Tensor, TensorData};
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::CheckpointStrategy;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};
use burn_autodiff::Autodiff;
use burn_flex::FlexTensor;

use crate::error::Result;
use crate::neuron::ops::{flex_tensor, flex_values, has_dynamics_kernels, host, surrogate, CubaConstants, NeuronState};

/// Values per neuron of a recurrent population's state: current, voltage, threshold and
/// refractory state (the last two ALIF's), in units of 1/4096.
pub const STATE_VALUES: usize = 4;

/// The recurrent dynamics as one backend operation over the whole time axis.
#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait RecurrentOps: Backend {
    /// The spikes (batch, n, time) of the currents `z` with recurrent weights `r` (n, n),
    /// starting from the neuron states `state` (batch, n, [`STATE_VALUES`]), followed along
    /// the last axis by the final states: (batch, n, time + 4). `c` packs [`CubaConstants`].
    /// Differentiable with respect to `z` and `r` (the states carry no gradient).
    fn recurrent_spikes(
        z: FloatTensor<Self>,
        r: FloatTensor<Self>,
        state: FloatTensor<Self>,
        c: [f32; 16],
    ) -> FloatTensor<Self>;
}

/// The kernels behind [`RecurrentOps`], per execution backend.
pub trait RecurrentKernels: Backend {
    /// The spikes of `z` with recurrent weights `r` from the states `state`, followed by the
    /// final states (as [`RecurrentOps::recurrent_spikes`]), and with `with_slope` the
    /// spikes' surrogate slopes (otherwise a placeholder that is never read).
    fn recurrent_forward(
        z: FloatTensor<Self>,
        r: FloatTensor<Self>,
        state: FloatTensor<Self>,
        c: &CubaConstants,
        with_slope: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
    /// The gradient with respect to each step's summed input, `e[t] = slope[t]·(g[t] + Rᵀ·e[t+1])`
    /// backwards in time, for the gradient `g` of the spikes.
    fn recurrent_backward(g: FloatTensor<Self>, slope: FloatTensor<Self>, r: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// The states of `batch` copies of `n` neurons with constants `c` at rest (the ALIF
/// threshold at its base value): (batch, n, [`STATE_VALUES`]).
pub(crate) fn rest_state(c: &CubaConstants, batch: usize, n: usize, device: &burn::tensor::Device) -> Tensor<3> {
    let rest = NeuronState::at_rest(c).values();
    let values = (0..batch * n).flat_map(|_| rest).collect();
    Tensor::<3>::from_data(TensorData::new(values, [batch, n, STATE_VALUES]), device)
}

/// The spikes of neurons with constants `c` for input currents `z` (batch, n, time) and
/// recurrent weights `r` (n, n, already quantized), from the neuron states `state` (see
/// [`rest_state`]), and their final states; with `train`, the spikes are differentiable
/// with respect to `z` and `r` as slayer's `CustomRecurrent`.
pub(crate) fn spikes(
    c: &CubaConstants,
    z: Tensor<3>,
    r: Tensor<2>,
    state: Tensor<3>,
    train: bool,
) -> Result<(Tensor<3>, Tensor<3>)> {
    let state = state.detach();
    let (z, r) = if train { (z, r) } else { (z.detach(), r.detach()) };
    let [batch, n, time] = z.dims();
    if state.dims() != [batch, n, STATE_VALUES] {
        return Err(crate::error::SlayerError::Shape {
            what: "recurrent neuron states".into(),
            expected: format!("({batch}, {n}, {STATE_VALUES})"),
            got: state.dims().to_vec(),
        });
    }
    if has_dynamics_kernels(&z.device()) {
        let out = <Dispatch as RecurrentOps>::recurrent_spikes(
            z.into_dispatch(),
            r.into_dispatch(),
            state.into_dispatch(),
            c.pack(),
        );
        let out = Tensor::<3>::from_dispatch(out);
        let final_state = out.clone().narrow(2, time, STATE_VALUES).detach();
        return Ok((out.narrow(2, 0, time), final_state));
    }
    unrolled(c, z, r, state, train)
}

/// [`spikes`] from standard operations: the forward on the host, then (with `train`) the
/// time axis unrolled so that autodiff carries the gradient through `R`.
fn unrolled(
    c: &CubaConstants,
    z: Tensor<3>,
    r: Tensor<2>,
    state: Tensor<3>,
    train: bool,
) -> Result<(Tensor<3>, Tensor<3>)> {
    let [batch, n, time] = z.dims();
    let z_host = host(z.clone().detach())?;
    let r_host = host(r.clone().detach().unsqueeze::<3>())?;
    let (spikes, slope, final_state) = run(c, &z_host, &r_host, &host(state)?, [batch, n, time]);
    let device = z.device();
    let spikes = Tensor::<3>::from_data(TensorData::new(spikes, [batch, n, time]), &device);
    let final_state = Tensor::<3>::from_data(TensorData::new(final_state, [batch, n, STATE_VALUES]), &device);
    if !train {
        return Ok((spikes, final_state));
    }
    // Each step's value is the host spike (d - d = 0 adds nothing), its derivative the
    // surrogate slope.
    let slope = Tensor::<3>::from_data(TensorData::new(slope, [batch, n, time]), &device);
    let r_t = r.transpose();
    let mut previous: Option<Tensor<2>> = None;
    let mut steps = Vec::with_capacity(time);
    for t in 0..time {
        let at = |x: &Tensor<3>| x.clone().slice([0..batch, 0..n, t..t + 1]).reshape([batch, n]);
        let input = at(&z);
        let summed = match previous {
            Some(s) => input + s.matmul(r_t.clone()),
            None => input,
        };
        let s = at(&spikes) + at(&slope) * (summed.clone() - summed.detach());
        steps.push(s.clone().reshape([batch, n, 1]));
        previous = Some(s);
    }
    Ok((Tensor::cat(steps, 2), final_state))
}

/// The forward on the host from the states `state` (batch, n, 4): spikes and surrogate
/// slopes (batch, n, time) in row order, and the final states.
/// `R·s[t-1]` is summed in float32 over the previous step's non-zero outputs in ascending
/// order (the zeros add nothing), so its cost follows the spike rate.
fn run(
    c: &CubaConstants,
    z: &[f32],
    r: &[f32],
    state: &[f32],
    [_, n, time]: [usize; 3],
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut spikes = vec![0f32; z.len()];
    let mut slope = vec![0f32; z.len()];
    let mut active: Vec<(usize, f32)> = Vec::with_capacity(n);
    let mut now_active: Vec<(usize, f32)> = Vec::with_capacity(n);
    let mut states: Vec<NeuronState> =
        state.chunks_exact(STATE_VALUES).map(|v| NeuronState::from_values([v[0], v[1], v[2], v[3]])).collect();
    for (b, states) in states.chunks_mut(n.max(1)).enumerate() {
        active.clear();
        for t in 0..time {
            now_active.clear();
            for (i, (state, row)) in states.iter_mut().zip(r.chunks_exact(n.max(1))).enumerate() {
                let feedback: f32 = active.iter().map(|&(j, s)| row[j] * s).sum();
                let k = (b * n + i) * time + t;
                let (s, above, _) = state.step(c, z[k] + feedback);
                spikes[k] = s;
                slope[k] = surrogate(c, above);
                if s != 0.0 {
                    now_active.push((i, s));
                }
            }
            std::mem::swap(&mut active, &mut now_active);
        }
    }
    (spikes, slope, states.iter().flat_map(NeuronState::values).collect())
}

/// [`RecurrentKernels::recurrent_backward`] on the host: `e[t] = slope[t]·(g[t] + Rᵀ·e[t+1])`,
/// `Rᵀ·e` summed over ascending source neurons (as the GPU kernel does).
fn run_backward(g: &[f32], slope: &[f32], r: &[f32], [batch, n, time]: [usize; 3]) -> Vec<f32> {
    let mut e = vec![0f32; g.len()];
    let mut next = vec![0f32; n];
    let mut feedback = vec![0f32; n];
    for b in 0..batch {
        next.fill(0.0);
        for t in (0..time).rev() {
            feedback.fill(0.0);
            for (&ej, row) in next.iter().zip(r.chunks_exact(n.max(1))) {
                if ej != 0.0 {
                    for (f, &w) in feedback.iter_mut().zip(row) {
                        *f += w * ej;
                    }
                }
            }
            for (i, (x, f)) in next.iter_mut().zip(&feedback).enumerate() {
                let k = (b * n + i) * time + t;
                *x = slope[k] * (g[k] + f);
                e[k] = *x;
            }
        }
    }
    e
}

/// The (batch, n, time) dimensions of a recurrent operation's currents.
fn dims3(shape: &[usize]) -> [usize; 3] {
    match *shape {
        [batch, n, time] => [batch, n, time],
        _ => [0, 0, 0],
    }
}

/// Spikes (batch, n, time) followed along the last axis by the final states (batch, n, 4).
fn spikes_then_states(spikes: &[f32], states: &[f32], [batch, n, time]: [usize; 3]) -> Vec<f32> {
    let mut out = Vec::with_capacity(batch * n * (time + STATE_VALUES));
    for (k, state) in states.chunks_exact(STATE_VALUES).enumerate() {
        out.extend_from_slice(&spikes[k * time..(k + 1) * time]);
        out.extend_from_slice(state);
    }
    out
}

impl RecurrentKernels for Flex {
    fn recurrent_forward(
        z: FlexTensor,
        r: FlexTensor,
        state: FlexTensor,
        c: &CubaConstants,
        with_slope: bool,
    ) -> (FlexTensor, FlexTensor) {
        let (z, shape) = flex_values(z);
        let (r, _) = flex_values(r);
        let (state, _) = flex_values(state);
        let dims = dims3(&shape);
        let (spikes, slope, states) = run(c, &z, &r, &state, dims);
        let slope = if with_slope { flex_tensor(slope, shape) } else { flex_tensor(vec![0.0], vec![1]) };
        let out = spikes_then_states(&spikes, &states, dims);
        (flex_tensor(out, vec![dims[0], dims[1], dims[2] + STATE_VALUES]), slope)
    }
    fn recurrent_backward(g: FlexTensor, slope: FlexTensor, r: FlexTensor) -> FlexTensor {
        let (g, shape) = flex_values(g);
        let (slope, _) = flex_values(slope);
        let (r, _) = flex_values(r);
        flex_tensor(run_backward(&g, &slope, &r, dims3(&shape)), shape)
    }
}

impl RecurrentOps for Flex {
    fn recurrent_spikes(z: FlexTensor, r: FlexTensor, state: FlexTensor, c: [f32; 16]) -> FlexTensor {
        Flex::recurrent_forward(z, r, state, &CubaConstants::unpack(c), false).0
    }
}

/// The recurrent weights' gradient `Σ_{b,t} e[b,:,t]·s[b,:,t-1]ᵀ` (n, n) as one matmul.
fn weight_gradient<B: Backend>(e: FloatTensor<B>, spikes: FloatTensor<B>) -> FloatTensor<B> {
    let [batch, n, time] = dims3(&e.shape().to_vec());
    if time < 2 || batch == 0 {
        let device = e.device();
        return B::float_zeros(Shape::new([n, n]), &device, e.dtype().into());
    }
    let later = B::float_slice(e, &[Slice::from(0..batch), Slice::from(0..n), Slice::from(1..time)]);
    let earlier = B::float_slice(spikes, &[Slice::from(0..batch), Slice::from(0..n), Slice::from(0..time - 1)]);
    let later = B::float_reshape(B::float_permute(later, &[1, 0, 2]), Shape::new([n, batch * (time - 1)]));
    let earlier = B::float_reshape(B::float_permute(earlier, &[0, 2, 1]), Shape::new([batch * (time - 1), n]));
    B::float_matmul(later, earlier)
}

/// The first `time` steps of `t` (batch, n, time + 4): the spikes without the final states.
fn first_steps<B: Backend>(t: FloatTensor<B>, time: usize) -> FloatTensor<B> {
    let [batch, n, _] = dims3(&t.shape().to_vec());
    B::float_slice(t, &[Slice::from(0..batch), Slice::from(0..n), Slice::from(0..time)])
}

impl<B: Backend + RecurrentKernels, C: CheckpointStrategy> RecurrentOps for Autodiff<B, C> {
    fn recurrent_spikes(
        z: FloatTensor<Self>,
        r: FloatTensor<Self>,
        state: FloatTensor<Self>,
        c: [f32; 16],
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct RecurrentBackward;

        impl<B: Backend + RecurrentKernels> Backward<B, 2> for RecurrentBackward {
            /// The slopes, the spikes and the recurrent weights.
            type State = (B::FloatTensorPrimitive, B::FloatTensorPrimitive, B::FloatTensorPrimitive);

            fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
                let (slope, spikes, r) = ops.state;
                let [z_node, r_node] = ops.parents;
                let time = slope.shape()[2];
                // The final states carry no gradient.
                let g = first_steps::<B>(grads.consume::<B>(&ops.node), time);
                let e = B::recurrent_backward(g, slope, r);
                if let Some(node) = r_node {
                    grads.register::<B>(node.id, weight_gradient::<B>(e.clone(), spikes));
                }
                if let Some(node) = z_node {
                    grads.register::<B>(node.id, e);
                }
            }
        }

        let constants = CubaConstants::unpack(c);
        let nodes = [z.node(), r.node()];
        let time = z.primitive().shape()[2];
        let (z, r, state) = (z.into_primitive(), r.into_primitive(), state.into_primitive());
        // The slopes are only computed (and kept) when a gradient will be asked for.
        match RecurrentBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (out, slope) = B::recurrent_forward(z, r.clone(), state, &constants, true);
                let spikes = first_steps::<B>(out.clone(), time);
                prep.finish((slope, spikes, r), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::recurrent_forward(z, r, state, &constants, false).0),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::neuron::ops::{Adaptation, SAMPLE_CUBA};
    use burn::tensor::Device;

    /// CUBA and ALIF constants that make recurrent populations spike, adapt and reset.
    pub(crate) fn sample_constants() -> [(&'static str, CubaConstants); 2] {
        let alif = CubaConstants {
            reset_at: f32::INFINITY,
            adaptation: Some(Adaptation { factors: [4096 - 300, 4096 - 700], theta0: 5120, step: 2048 }),
            ..SAMPLE_CUBA
        };
        [("cuba", SAMPLE_CUBA), ("alif", alif)]
    }

    /// Currents, recurrent weights (on the 8-bit grid, as quantized) and output weights of a
    /// recurrent population of `n` neurons over `batch` copies and `steps` steps.
    pub(crate) fn sample_inputs(batch: usize, n: usize, steps: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let len = batch * n * steps;
        let z = (0..len).map(|i| ((i * 7919) % 113) as f32 / 90.0 - 0.45).collect();
        let r = (0..n * n).map(|i| ((i * 104_729) % 61) as f32 / 64.0 - 0.5).map(|w| w * 4.0 / n as f32).collect();
        let w = (0..len).map(|i| ((i * 7727) % 17) as f32 / 8.0 - 1.0).collect();
        (z, r, w)
    }

    /// The largest magnitude among `values`.
    pub(crate) fn largest(values: &[f32]) -> f32 {
        values.iter().fold(0f32, |m, x| m.max(x.abs()))
    }

    /// The spikes, input gradient and recurrent weight gradient of `loss = Σ w·s` on `device`,
    /// through the backend operation (`fused`) or the time axis unrolled.
    pub(crate) fn run_on(
        device: &Device,
        c: &CubaConstants,
        (z, r, w): &(Vec<f32>, Vec<f32>, Vec<f32>),
        [batch, n, steps]: [usize; 3],
        fused: bool,
    ) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let zt = Tensor::<3>::from_data(TensorData::new(z.clone(), [batch, n, steps]), device).require_grad();
        let rt = Tensor::<2>::from_data(TensorData::new(r.clone(), [n, n]), device).require_grad();
        let wt = Tensor::<3>::from_data(TensorData::new(w.clone(), [batch, n, steps]), device);
        let rest = rest_state(c, batch, n, device);
        let s = if fused {
            spikes(c, zt.clone(), rt.clone(), rest, true)
        } else {
            unrolled(c, zt.clone(), rt.clone(), rest, true)
        };
        let s = s.expect("spikes").0;
        let grads = (s.clone() * wt).sum().backward();
        let gz = host(zt.grad(&grads).expect("an input gradient")).expect("gradient");
        let gr = host(rt.grad(&grads).expect("a weight gradient").unsqueeze::<3>()).expect("gradient");
        (host(s).expect("spikes"), gz, gr)
    }

    /// Asserts `got` equals `want` to `tol` relative, absolute below `scale` (the magnitude
    /// of the largest term of a sum: a sum's rounding error is relative to its terms).
    pub(crate) fn assert_close(label: &str, want: &[f32], got: &[f32], tol: f32, scale: f32) {
        assert_eq!(want.len(), got.len(), "{label}: lengths");
        for (k, (a, b)) in want.iter().zip(got).enumerate() {
            assert!((a - b).abs() <= tol * a.abs().max(scale), "{label} {k}: want {a}, got {b}");
        }
        assert!(want.iter().any(|&x| x.abs() > 1e-3), "{label}: gradients flow");
    }

    /// The backend operation (host kernels on the CPU) gives the unrolled standard operations'
    /// spikes exactly and their input and recurrent-weight gradients to float rounding, for
    /// CUBA and ALIF populations that spike, adapt and reset; untracked it gives the same spikes.
    #[test]
    fn the_recurrent_operation_equals_the_unrolled_one() {
        let cpu = crate::device::training_device("cpu").expect("the CPU device");
        assert!(has_dynamics_kernels(&cpu));
        let dims = [3, 37, 40];
        let inputs = sample_inputs(dims[0], dims[1], dims[2]);
        for (label, c) in sample_constants() {
            let (want_s, want_gz, want_gr) = run_on(&cpu, &c, &inputs, dims, false);
            let (got_s, got_gz, got_gr) = run_on(&cpu, &c, &inputs, dims, true);
            assert_eq!(got_s, want_s, "{label}: spikes");
            let spiking = want_s.iter().filter(|&&s| s != 0.0).count();
            assert!(spiking > want_s.len() / 20 && spiking < want_s.len() * 4 / 5, "{label}: {spiking} spikes");
            assert_close(&format!("{label}: input gradient"), &want_gz, &got_gz, 1e-5, 1.0);
            // Each entry sums batch·(steps - 1) products of an input gradient and a spike.
            assert_close(&format!("{label}: weight gradient"), &want_gr, &got_gr, 1e-5, largest(&want_gz));
            let z = Tensor::<3>::from_data(TensorData::new(inputs.0.clone(), dims), &cpu);
            let r = Tensor::<2>::from_data(TensorData::new(inputs.1.clone(), [dims[1], dims[1]]), &cpu);
            let rest = rest_state(&c, dims[0], dims[1], &cpu);
            assert_eq!(
                host(spikes(&c, z, r, rest, false).expect("spikes").0).expect("spikes"),
                want_s,
                "{label}: untracked"
            );
        }
    }

    /// The spikes and final states of two calls on `device` (25 then 35 steps), the second
    /// starting from the states the first left, for the sample currents and recurrent
    /// weights `r` (None: all zero) of 2 copies of 45 neurons, per sample neuron kind.
    pub(crate) fn two_calls(device: &Device, with_recurrence: bool) -> Vec<(Vec<f32>, Vec<f32>)> {
        let dims = [2, 45, 60];
        let (z, r, _) = sample_inputs(dims[0], dims[1], dims[2]);
        let n = dims[1];
        let r = if with_recurrence { r } else { vec![0.0; n * n] };
        let z = Tensor::<3>::from_data(TensorData::new(z, dims), device);
        let r = Tensor::<2>::from_data(TensorData::new(r, [n, n]), device);
        let part = |from: usize, to: usize| z.clone().narrow(2, from, to - from);
        let mut runs = Vec::new();
        for (label, c) in sample_constants() {
            let rest = rest_state(&c, dims[0], n, device);
            let (first, middle) = spikes(&c, part(0, 25), r.clone(), rest.clone(), false).expect("spikes");
            let voltages: Vec<f32> = host(middle.clone()).expect("states").chunks(STATE_VALUES).map(|s| s[1]).collect();
            assert!(voltages.iter().filter(|&&v| v != 0.0).count() > n / 2, "{label}: the middle state is not rest");
            let (second, last) = spikes(&c, part(25, 60), r.clone(), middle, false).expect("spikes");
            let joined = host(Tensor::cat(vec![first, second], 2)).expect("spikes");
            runs.push((joined, host(last).expect("states")));
            if !with_recurrence {
                // Without recurrence a call boundary changes nothing.
                let (whole, end) = spikes(&c, z.clone(), r.clone(), rest, false).expect("spikes");
                let (whole, end) = (host(whole).expect("spikes"), host(end).expect("states"));
                let (got, want) = runs.last().expect("a run");
                assert!(got == &whole && want == &end, "{label}: two calls differ from one");
            }
        }
        runs
    }

    /// The host kernels carry the neuron states from one call to the next exactly: without
    /// recurrence, two calls give one call's spikes and final states.
    #[test]
    fn recurrent_calls_carry_the_neuron_states() {
        two_calls(&crate::device::training_device("cpu").expect("the CPU device"), false);
    }
}
