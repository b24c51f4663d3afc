//! The CUBA (and ALIF) dynamics as one backend operation with a hand-written backward (burn's backend
//! extension): the forward runs slayer's integer dynamics over the whole time axis on the
//! host and keeps the surrogate slope; the backward multiplies the incoming gradient by that
//! slope and runs the two leaky integrators backwards (`grad[n] = a·grad[n+1] + g[n]`), as
//! slayer's `_li_dynamics_bwd` does. Both are O(neurons·time). The host kernels serve the
//! CPU; `neuron::cube` has the same two as CubeCL kernels for the GPU (`wgpu` feature).

use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, AutodiffBackend, Backend, Dispatch, Flex};
use burn::tensor::{Tensor, TensorData};
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::CheckpointStrategy;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{unary, Backward, Ops, OpsKind};
use burn_autodiff::Autodiff;
use burn_flex::FlexTensor;

/// The constants of one CUBA population's forward, in slayer's units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CubaConstants {
    /// 4096 - iDecay and 4096 - vDecay.
    pub factors: [i64; 2],
    /// Reset when `v >= reset_at` (float32 of `(θ + eps)·4096`).
    pub reset_at: f32,
    /// Spike when `v/4096 >= spike_at` (float32 of `θ + eps`).
    pub spike_at: f32,
    /// Graded spikes carry the voltage.
    pub graded: bool,
    /// Surrogate: `height·exp(-|v - spike_at|/tau)`.
    pub tau: f32,
    /// Surrogate height `scale/(2·tau)`.
    pub height: f32,
    /// Integrator factors for the backward: `1 - iDecay/4096`, `1 - vDecay/4096`.
    pub alphas: [f32; 2],
    /// ALIF: an adaptive threshold and refractory state instead of the voltage reset.
    pub adaptation: Option<Adaptation>,
}

/// slayer's ALIF threshold dynamics (`_ath_dynamics_fwd`), in state units (x4096):
/// `r = rtz(r·fr, 12)`, `θ = rtz((θ - θ0)·fθ, 12) + θ0`, spike when `v >= θ + r`, then
/// `r += 2θ`, `θ += step`; no voltage reset; the surrogate is centred on `θ + r`. The
/// default (all zero) stands in where a kernel takes CUBA constants.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Adaptation {
    /// 4096 - thDecay and 4096 - refDecay.
    pub factors: [i64; 2],
    /// Base threshold θ0 = vThMant·64.
    pub theta0: i64,
    /// Threshold step = vThStep·64.
    pub step: i64,
}

/// The spikes of the CUBA dynamics for inputs `z` (batch, neurons, time), with slayer's
/// surrogate gradient. Values are slayer's exactly.
#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait CubaOps: Backend {
    /// Spikes (batch, neurons, time) of the currents `z`; `c` packs [`CubaConstants`].
    fn cuba_spikes(z: FloatTensor<Self>, c: [f32; 16]) -> FloatTensor<Self>;
    /// The dynamics' trace for the staged forward (`neuron::staged`), not differentiable:
    /// the outputs, the pre-reset voltage minus the threshold and the pre-reset voltage,
    /// stacked along the first axis (3·batch, neurons, time).
    fn cuba_trace(z: FloatTensor<Self>, c: [f32; 16]) -> FloatTensor<Self>;
}

impl CubaConstants {
    /// Packed as plain numbers for the extension call.
    pub fn pack(&self) -> [f32; 16] {
        let a = self.adaptation.unwrap_or_default();
        [
            self.factors[0] as f32,
            self.factors[1] as f32,
            self.reset_at,
            self.spike_at,
            f32::from(u8::from(self.graded)),
            self.tau,
            self.height,
            self.alphas[0],
            self.alphas[1],
            f32::from(u8::from(self.adaptation.is_some())),
            a.factors[0] as f32,
            a.factors[1] as f32,
            a.theta0 as f32,
            a.step as f32,
            0.0,
            0.0,
        ]
    }
    /// The constants [`CubaConstants::pack`] packed.
    pub(crate) fn unpack(c: [f32; 16]) -> Self {
        CubaConstants {
            factors: [c[0] as i64, c[1] as i64],
            reset_at: c[2],
            spike_at: c[3],
            graded: c[4] != 0.0,
            tau: c[5],
            height: c[6],
            alphas: [c[7], c[8]],
            adaptation: (c[9] != 0.0).then(|| Adaptation {
                factors: [c[10] as i64, c[11] as i64],
                theta0: c[12] as i64,
                step: c[13] as i64,
            }),
        }
    }
}

/// `sign(x)·(|x| >> 12)`: slayer's `right_shift_to_zero(x, 12)`, which is integer division
/// by 4096 truncating toward zero (branch-free).
#[inline(always)]
fn rtz12(x: i64) -> i64 {
    x / 4096
}

/// `exp(-x)` for `x >= 0` (relative error below 3e-7·max(1, x)), in plain float and integer arithmetic
/// so that the slope pass vectorises: `2^(-x·log2 e)` as a power of two times a polynomial.
#[inline(always)]
fn exp_neg(x: f32) -> f32 {
    /// 1.5·2^23: adding it rounds a small float to an integer held in the low mantissa bits.
    const ROUNDER: f32 = 12_582_912.0;
    // In [-126, 0], so that 2^n below is a normal float (NaN stays NaN).
    let y = (-x * std::f32::consts::LOG2_E).clamp(-126.0, 0.0);
    let shifted = y + ROUNDER;
    let n = shifted - ROUNDER;
    let f = y - n;
    let p = 1.0
        + f * (std::f32::consts::LN_2
            + f * (0.240_226_5 + f * (0.055_504_11 + f * (0.009_618_129 + f * (0.001_333_355 + f * 0.000_154_035_3)))));
    // n + 127 in the exponent field: the low mantissa bits of `shifted` hold n.
    let exponent = shifted.to_bits().wrapping_sub(ROUNDER.to_bits()).wrapping_add(127) << 23;
    p * f32::from_bits(exponent)
}

/// One neuron's integer state in slayer's units (x4096): current, voltage and, for ALIF,
/// the adaptive threshold and refractory state.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NeuronState {
    u: i64,
    v: i64,
    theta: i64,
    r: i64,
}

impl NeuronState {
    /// A neuron at rest (ALIF threshold at its base value).
    pub(crate) fn at_rest(c: &CubaConstants) -> Self {
        NeuronState { u: 0, v: 0, theta: c.adaptation.map_or(0, |a| a.theta0), r: 0 }
    }

    /// The state from its four values (current, voltage, threshold, refractory state in
    /// units of 1/4096), as [`Self::values`] gives them.
    pub(crate) fn from_values([u, v, theta, r]: [f32; 4]) -> Self {
        NeuronState { u: u as i64, v: v as i64, theta: theta as i64, r: r as i64 }
    }

    /// The state's four values (current, voltage, threshold, refractory state), as slayer
    /// keeps a persistent state: float32 (exact below 2^24 units).
    pub(crate) fn values(&self) -> [f32; 4] {
        [self.u as f32, self.v as f32, self.theta as f32, self.r as f32]
    }

    /// Advances one step with input current `z`: returns the output (0, 1 or the graded
    /// voltage), the pre-reset voltage minus the spike threshold (the surrogate's argument;
    /// around `θ + r` for ALIF) and the pre-reset voltage itself.
    #[inline(always)]
    pub(crate) fn step(&mut self, c: &CubaConstants, z: f32) -> (f32, f32, f32) {
        if c.adaptation.is_some() {
            self.step_as::<true>(c, z)
        } else {
            self.step_as::<false>(c, z)
        }
    }

    /// [`Self::step`] compiled for CUBA (`ADAPTIVE` false: `c.adaptation` is not looked at)
    /// or for ALIF, so that the time loops carry no per-step test of the neuron kind.
    #[inline(always)]
    fn step_as<const ADAPTIVE: bool>(&mut self, c: &CubaConstants, z: f32) -> (f32, f32, f32) {
        let [cd, vd] = c.factors;
        self.u = rtz12(self.u * cd) + (4096f32 * z) as i32 as i64;
        // slayer's current u/4096 scaled back by 4096: exactly `u as f32` (powers of two).
        self.v = rtz12(self.v * vd) + (self.u as f32) as i32 as i64;
        let voltage = (self.v as f32) / 4096f32;
        let adaptation = if ADAPTIVE { c.adaptation } else { None };
        let (spike, centre) = match adaptation {
            None => (voltage >= c.spike_at, c.spike_at),
            Some(a) => {
                self.r = rtz12(self.r * a.factors[1]);
                self.theta = rtz12((self.theta - a.theta0) * a.factors[0]) + a.theta0;
                // slayer emits on the float32 sum, adapts on the integers.
                let centre = (self.theta as f32) / 4096f32 + (self.r as f32) / 4096f32;
                if self.v >= self.theta + self.r {
                    self.r += 2 * self.theta;
                    self.theta += a.step;
                }
                (voltage >= centre, centre)
            }
        };
        if adaptation.is_none() && (self.v as f32) >= c.reset_at {
            self.v = 0;
        }
        let out = match (spike, c.graded) {
            (false, _) => 0.0,
            (true, true) => voltage,
            (true, false) => 1.0,
        };
        (out, voltage - centre, voltage)
    }
}

/// The surrogate gradient `height·exp(-|x|/tau)` at `x` = voltage minus threshold.
#[inline(always)]
pub(crate) fn surrogate(c: &CubaConstants, x: f32) -> f32 {
    c.height * exp_neg((x / c.tau).abs())
}

/// Rows advanced together by the sequential time loops: independent neurons interleaved so
/// that each step's dependency chain overlaps with the other rows' (the loops are
/// latency-bound one row at a time).
const INTERLEAVED_ROWS: usize = 8;

/// slayer's integer dynamics over rows of `steps` values: the spikes, and (when asked) the
/// surrogate slope at each pre-reset voltage (around `θ + r` for ALIF).
pub(crate) fn dynamics(c: &CubaConstants, data: &[f32], steps: usize, with_slope: bool) -> (Vec<f32>, Vec<f32>) {
    let steps = steps.max(1);
    let mut spikes = vec![0f32; data.len()];
    let mut slope = if with_slope { vec![0f32; data.len()] } else { Vec::new() };
    let rows = data.len() / steps;
    let full = rows - rows % INTERLEAVED_ROWS;
    let adaptive = c.adaptation.is_some();
    for first in (0..full).step_by(INTERLEAVED_ROWS) {
        match adaptive {
            false => dynamics_rows::<INTERLEAVED_ROWS, false>(c, data, steps, first, &mut spikes, &mut slope),
            true => dynamics_rows::<INTERLEAVED_ROWS, true>(c, data, steps, first, &mut spikes, &mut slope),
        }
    }
    for row in full..rows {
        dynamics_rows::<1, true>(c, data, steps, row, &mut spikes, &mut slope);
    }
    for s in slope.iter_mut() {
        *s = surrogate(c, *s);
    }
    (spikes, slope)
}

/// [`dynamics`] of the `R` rows from `first` on, interleaved step by step; `slope` (empty
/// when not asked for) receives the pre-reset voltage minus the threshold. `ADAPTIVE` false
/// only for CUBA constants (see [`NeuronState::step_as`]).
#[inline(always)]
fn dynamics_rows<const R: usize, const ADAPTIVE: bool>(
    c: &CubaConstants,
    data: &[f32],
    steps: usize,
    first: usize,
    spikes: &mut [f32],
    slope: &mut [f32],
) {
    let base = first * steps;
    let mut states = [NeuronState::at_rest(c); R];
    for t in 0..steps {
        for (lane, state) in states.iter_mut().enumerate() {
            let k = base + lane * steps + t;
            let (spike, above, _) = state.step_as::<ADAPTIVE>(c, data[k]);
            spikes[k] = spike;
            if let Some(s) = slope.get_mut(k) {
                *s = above;
            }
        }
    }
}

/// Whether [`CubaOps`] has kernels on `device`: the CPU (flex) device, and with the `wgpu`
/// feature burn's cube backend (CubeCL kernels on the GPU, `neuron::cube`).
pub(crate) fn has_dynamics_kernels(device: &burn::tensor::Device) -> bool {
    let inner = device.clone().without_autodiff();
    #[cfg(feature = "wgpu")]
    if matches!(inner.as_dispatch(), burn::backend::DispatchDevice::Cube(_)) {
        return true;
    }
    inner == burn::tensor::Device::flex()
}

/// The spikes of currents `z` (batch, neurons, time) with slayer's surrogate gradients:
/// the backend operation where it has kernels (see [`has_dynamics_kernels`]); elsewhere the
/// same values and gradients from standard operations (spikes and slope on the host, the
/// integrators as one matmul).
pub(crate) fn spikes(z: Tensor<3>, c: &CubaConstants) -> crate::error::Result<Tensor<3>> {
    let device = z.device();
    if has_dynamics_kernels(&device) {
        let out = <Dispatch as CubaOps>::cuba_spikes(z.into_dispatch(), c.pack());
        return Ok(Tensor::from_dispatch(out));
    }
    let dims = z.dims();
    let (spikes, slope) = dynamics(c, &host(z.clone().detach())?, dims[2], true);
    let spikes = Tensor::<3>::from_data(TensorData::new(spikes, dims), &device);
    let slope = Tensor::<3>::from_data(TensorData::new(slope, dims), &device);
    // Value: exactly the spikes (p - p = 0). Gradient: the surrogate slope at the
    // pre-reset voltage times the two integrators' gradient.
    let p = integrate_twice(z, f64::from(c.alphas[0]), f64::from(c.alphas[1])) * slope;
    Ok(spikes + (p.clone() - p.detach()))
}

/// A tensor's values on the host.
pub(crate) fn host(t: Tensor<3>) -> crate::error::Result<Vec<f32>> {
    t.try_into_vec_as::<f32>().map_err(|e| crate::error::SlayerError::Read(e.to_string()))
}

/// Two leaky integrators in a row (current with factor `a_u`, then voltage with `a_v`),
/// without rounding or reset: one matmul of the time axis with the product of the two
/// (time x time) decay matrices. Its gradient is slayer's integrator backward
/// (`grad[n] = a·grad[n+1] + grad_out[n]`) applied twice.
pub(crate) fn integrate_twice(x: Tensor<3>, a_u: f64, a_v: f64) -> Tensor<3> {
    let steps = x.dims()[2];
    // (K_u·K_v)[from, to] = c[to - from] with c[d] = Σ_{j <= d} a_u^j·a_v^(d - j), i.e.
    // c[0] = 1, c[d] = a_v·c[d - 1] + a_u^d.
    let mut c = vec![1f64; steps];
    let mut a_u_d = 1.0;
    for d in 1..steps {
        a_u_d *= a_u;
        c[d] = a_v * c[d - 1] + a_u_d;
    }
    causal_filter(x, &c)
}

/// One leaky integrator with factor `a` (`y[n] = a·y[n-1] + x[n]`), without rounding or
/// reset, as one matmul; its gradient is slayer's `_li_dynamics_bwd`.
pub(crate) fn integrate_once(x: Tensor<3>, a: f64) -> Tensor<3> {
    let steps = x.dims()[2];
    let c: Vec<f64> = std::iter::successors(Some(1f64), |p| Some(p * a)).take(steps).collect();
    causal_filter(x, &c)
}

/// `y[to] = Σ_{from <= to} c[to - from]·x[from]` along the time axis, as one matmul with the
/// (time x time) Toeplitz matrix of `c`.
pub(crate) fn causal_filter(x: Tensor<3>, c: &[f64]) -> Tensor<3> {
    let kernel = causal_kernel(c, x.dims()[2], &x.device());
    apply_causal_kernel(x, kernel)
}

/// The (time x time) Toeplitz matrix of a causal filter `c`: `k[from, to] = c[to - from]`
/// for `to >= from`, else 0.
pub(crate) fn causal_kernel(c: &[f64], steps: usize, device: &burn::tensor::Device) -> Tensor<2> {
    let mut k = vec![0f32; steps * steps];
    for from in 0..steps {
        for to in from..steps {
            k[from * steps + to] = c[to - from] as f32;
        }
    }
    Tensor::<2>::from_data(TensorData::new(k, [steps, steps]), device)
}

/// `x` (batch, n, time) filtered along time by a [`causal_kernel`], as one matmul.
pub(crate) fn apply_causal_kernel(x: Tensor<3>, kernel: Tensor<2>) -> Tensor<3> {
    let [batch, n, steps] = x.dims();
    if steps == 0 {
        return x; // nothing to filter (and burn reads a 0 in a reshape as "keep this axis")
    }
    x.reshape([batch * n, steps]).matmul(kernel).reshape([batch, n, steps])
}

/// The two integrators' backward over rows of `steps`: `h[n] = a_v·h[n+1] + g[n]`, then
/// `w[n] = a_u·w[n+1] + h[n]`, in place.
pub(crate) fn integrators_backward(g: &mut [f32], steps: usize, alphas: [f32; 2]) {
    let steps = steps.max(1);
    let mut groups = g.chunks_exact_mut(steps * INTERLEAVED_ROWS);
    for group in &mut groups {
        integrators_backward_rows::<INTERLEAVED_ROWS>(group, steps, alphas);
    }
    for row in groups.into_remainder().chunks_mut(steps) {
        integrators_backward_rows::<1>(row, steps, alphas);
    }
}

/// [`integrators_backward`] of `R` rows of `steps`, interleaved step by step.
#[inline(always)]
fn integrators_backward_rows<const R: usize>(g: &mut [f32], steps: usize, [a_u, a_v]: [f32; 2]) {
    let (mut h, mut w) = ([0f32; R], [0f32; R]);
    for t in (0..steps).rev() {
        for lane in 0..R {
            let x = &mut g[lane * steps + t];
            h[lane] = a_v * h[lane] + *x;
            *x = h[lane];
        }
    }
    for t in (0..steps).rev() {
        for lane in 0..R {
            let x = &mut g[lane * steps + t];
            w[lane] = a_u * w[lane] + *x;
            *x = w[lane];
        }
    }
}

/// `shape` with its first axis `planes` times longer: the shape of `planes` results stacked.
pub(crate) fn stacked_shape(shape: &[usize], planes: usize) -> Vec<usize> {
    let mut stacked = shape.to_vec();
    if let Some(first) = stacked.first_mut() {
        *first *= planes;
    }
    stacked
}

/// A flex tensor's float32 values and shape.
pub(crate) fn flex_values(t: FlexTensor) -> (Vec<f32>, Vec<usize>) {
    let data = t.into_data();
    let shape = data.shape().to_vec();
    // f32 data moves out as it is (no copy); other float types are cast.
    let values = data.try_into_vec_as::<f32>().unwrap_or_default();
    (values, shape)
}

/// A flex tensor of float32 `values` shaped `shape`.
pub(crate) fn flex_tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// The host kernels behind [`CubaOps`], per execution backend.
pub trait CubaKernels: Backend {
    /// Spikes of `z` (batch, neurons, time).
    fn spikes(z: FloatTensor<Self>, c: &CubaConstants) -> FloatTensor<Self>;
    /// Spikes of `z` and their surrogate slopes.
    fn spikes_and_slope(z: FloatTensor<Self>, c: &CubaConstants) -> (FloatTensor<Self>, FloatTensor<Self>);
    /// The integrators' backward of a gradient (batch, neurons, time).
    fn integrate_backward(g: FloatTensor<Self>, alphas: [f32; 2]) -> FloatTensor<Self>;
    /// The trace of [`CubaOps::cuba_trace`].
    fn trace(z: FloatTensor<Self>, c: &CubaConstants) -> FloatTensor<Self>;
}

/// [`CubaOps::cuba_trace`] on the host over rows of `steps`: the three planes, one after
/// the other.
pub(crate) fn trace(c: &CubaConstants, z: &[f32], steps: usize) -> Vec<f32> {
    let plane = z.len();
    let mut out = vec![0f32; 3 * plane];
    for (row, x) in z.chunks(steps.max(1)).enumerate() {
        let mut state = NeuronState::at_rest(c);
        for (t, &zt) in x.iter().enumerate() {
            let k = row * steps + t;
            let (spike, above, voltage) = state.step(c, zt);
            out[k] = spike;
            out[plane + k] = above;
            out[2 * plane + k] = voltage;
        }
    }
    out
}

impl CubaKernels for Flex {
    fn spikes(z: FlexTensor, c: &CubaConstants) -> FlexTensor {
        let (values, shape) = flex_values(z);
        let steps = shape.last().copied().unwrap_or(1);
        flex_tensor(dynamics(c, &values, steps, false).0, shape)
    }
    fn spikes_and_slope(z: FlexTensor, c: &CubaConstants) -> (FlexTensor, FlexTensor) {
        let (values, shape) = flex_values(z);
        let steps = shape.last().copied().unwrap_or(1);
        let (spikes, slope) = dynamics(c, &values, steps, true);
        (flex_tensor(spikes, shape.clone()), flex_tensor(slope, shape))
    }
    fn integrate_backward(g: FlexTensor, alphas: [f32; 2]) -> FlexTensor {
        let (mut values, shape) = flex_values(g);
        integrators_backward(&mut values, shape.last().copied().unwrap_or(1), alphas);
        flex_tensor(values, shape)
    }
    fn trace(z: FlexTensor, c: &CubaConstants) -> FlexTensor {
        let (values, shape) = flex_values(z);
        let steps = shape.last().copied().unwrap_or(1);
        flex_tensor(trace(c, &values, steps), stacked_shape(&shape, 3))
    }
}

impl CubaOps for Flex {
    fn cuba_spikes(z: FlexTensor, c: [f32; 16]) -> FlexTensor {
        Flex::spikes(z, &CubaConstants::unpack(c))
    }
    fn cuba_trace(z: FlexTensor, c: [f32; 16]) -> FlexTensor {
        Flex::trace(z, &CubaConstants::unpack(c))
    }
}

impl<B: Backend + CubaKernels, C: CheckpointStrategy> CubaOps for Autodiff<B, C> {
    fn cuba_spikes(z: FloatTensor<Self>, c: [f32; 16]) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct CubaBackward;

        impl<B: Backend + CubaKernels> Backward<B, 1> for CubaBackward {
            type State = (B::FloatTensorPrimitive, [f32; 2]);

            fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
                let (slope, alphas) = ops.state;
                unary::<B, _>(ops.parents, ops.node, grads, |grad| {
                    B::integrate_backward(B::float_mul(grad, slope), alphas)
                });
            }
        }

        let constants = CubaConstants::unpack(c);
        let guard = z.node();
        let z = z.into_primitive();
        // The slope is only computed (and kept) when a gradient will be asked for.
        match CubaBackward.prepare::<C>([guard]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (spikes, slope) = B::spikes_and_slope(z, &constants);
                prep.finish((slope, constants.alphas), spikes)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::spikes(z, &constants)),
        }
    }

    fn cuba_trace(z: FloatTensor<Self>, c: [f32; 16]) -> FloatTensor<Self> {
        Self::from_inner(B::trace(Self::inner(z), &CubaConstants::unpack(c)))
    }
}

/// The trace of [`CubaOps::cuba_trace`] for currents `z` (batch, neurons, time): (outputs,
/// pre-reset voltage minus the threshold, pre-reset voltage), from the backend operation
/// where it has kernels and from the host kernel elsewhere.
pub(crate) fn dynamics_trace(z: Tensor<3>, c: &CubaConstants) -> crate::error::Result<[Tensor<3>; 3]> {
    let rows = z.dims()[1];
    let steps = z.dims()[2];
    stacked_planes(z, rows, |z| <Dispatch as CubaOps>::cuba_trace(z, c.pack()), |values| trace(c, values, steps))
}

/// The `N` planes, each (batch, `plane_rows`, time), of a stacked-plane operation on `z`
/// (batch, rows, time): `on_device` (the backend operation, on `z` detached) where the device
/// has kernels (see [`has_dynamics_kernels`]), else `on_host` over `z`'s values, returning
/// the planes one after the other.
pub(crate) fn stacked_planes<const N: usize>(
    z: Tensor<3>,
    plane_rows: usize,
    on_device: impl FnOnce(FloatTensor<Dispatch>) -> FloatTensor<Dispatch>,
    on_host: impl FnOnce(&[f32]) -> Vec<f32>,
) -> crate::error::Result<[Tensor<3>; N]> {
    let device = z.device();
    let [batch, _, steps] = z.dims();
    let stacked = if has_dynamics_kernels(&device) {
        Tensor::<3>::from_dispatch(on_device(z.detach().into_dispatch()))
    } else {
        let planes = on_host(&host(z.detach())?);
        Tensor::<3>::from_data(TensorData::new(planes, [N * batch, plane_rows, steps]), &device)
    };
    Ok(unstack(stacked, batch))
}

/// The `N` planes of `batch` rows each that a backend operation stacked along the first axis.
pub(crate) fn unstack<const N: usize>(stacked: Tensor<3>, batch: usize) -> [Tensor<3>; N] {
    std::array::from_fn(|k| stacked.clone().narrow(0, k * batch, batch))
}

/// CUBA constants for tests (θ 1.25, current and voltage decays 1024 and 128 of 4096).
#[cfg(test)]
pub(crate) const SAMPLE_CUBA: CubaConstants = CubaConstants {
    factors: [4096 - 1024, 4096 - 128],
    reset_at: 1.25 * 4096.0,
    spike_at: 1.25,
    graded: false,
    tau: 0.03,
    height: 50.0,
    alphas: [0.75, 0.97],
    adaptation: None,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_neg_matches_the_library_exponential() {
        // From 0 to 87 (exp(-87.3) is the smallest normal float) in uneven steps.
        let mut worst = 0f64;
        for i in 0..200_000 {
            let x = i as f32 * 4.35e-4 + (i % 7) as f32 * 1e-6;
            let exact = (-f64::from(x)).exp();
            // The error grows with x through the rounding of -x·log2(e) in float32.
            worst = worst.max((f64::from(exp_neg(x)) - exact).abs() / exact / f64::from(x.max(1.0)));
        }
        assert!(worst < 3e-7, "relative error over max(1, x): {worst}");
        assert_eq!(exp_neg(0.0), 1.0);
        // Past the normal range: 2^-126 times the polynomial, never garbage; NaN stays NaN.
        assert!(exp_neg(1e6) > 0.0 && exp_neg(1e6) < 1.2e-38);
        assert!(exp_neg(f32::NAN).is_nan());
    }

    #[test]
    fn rtz12_truncates_toward_zero() {
        // slayer's right_shift_to_zero: sign(x)·(|x| >> 12).
        for x in [-8193i64, -4097, -4096, -4095, -1, 0, 1, 4095, 4096, 4097, 8193, -(1 << 40) - 5] {
            assert_eq!(rtz12(x), x.signum() * (x.abs() >> 12), "x = {x}");
        }
    }

    #[test]
    fn interleaved_rows_equal_one_row_at_a_time() {
        // 8 interleaved rows plus 3 left over, against each row run alone.
        let c = SAMPLE_CUBA;
        let steps = 37;
        let data: Vec<f32> = (0..11 * steps).map(|i| ((i * 7919) % 113) as f32 / 50.0 - 0.7).collect();
        let (spikes, slope) = dynamics(&c, &data, steps, true);
        assert!(spikes.contains(&1.0));
        for (row, x) in data.chunks(steps).enumerate() {
            let (one, one_slope) = dynamics(&c, x, steps, true);
            assert_eq!(&spikes[row * steps..][..steps], &one[..]);
            assert_eq!(&slope[row * steps..][..steps], &one_slope[..]);
        }
        let mut g: Vec<f32> = (0..11 * steps).map(|i| (i % 5) as f32 - 2.0).collect();
        let mut alone = g.clone();
        integrators_backward(&mut g, steps, c.alphas);
        for row in alone.chunks_mut(steps) {
            integrators_backward(row, steps, c.alphas);
        }
        assert_eq!(g, alone);
    }
}
