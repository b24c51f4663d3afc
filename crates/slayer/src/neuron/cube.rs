//! The CUBA and ALIF dynamics as CubeCL kernels on burn's cube backend (the `wgpu` feature):
//! the same integer forward and integrator backward as the host kernels of [`super::ops`],
//! one GPU thread per neuron walking the time axis, so that training on a GPU keeps the
//! currents on the device instead of reading them back every layer and step. The
//! sigma-delta ([`super::sigma_delta::SigmaDeltaOps`]) and resonate-and-fire
//! ([`super::rf::RfOps`]) dynamics likewise.
//!
//! The states are 32-bit integers on the GPU (WGSL has no 64-bit integers): `rtz(x·f, 12)`
//! is computed exactly for any i32 `x` and `0 <= f <= 4096` by splitting `|x|` at bit 12,
//! so spikes equal the host's while the current and voltage stay below 2^31 state units
//! (2^19 in slayer's units; the host keeps 64 bits). The surrogate's exponential is the
//! device's `exp` (the host uses its own polynomial): slopes agree to float rounding.
//!
//! The sigma unit sums in float32 on the GPU (as PyTorch's `cumsum` does on CUDA); the host
//! sums in float64 and rounds each partial sum (PyTorch's CPU `cumsum`), so the two agree
//! exactly where the partial sums are exact in float32 and to float rounding otherwise.

use burn::backend::DType;
use burn::tensor::Shape;
use burn_cubecl::cubecl;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::CubeBackend;
use cubecl::calculate_cube_count_elemwise;
use cubecl::prelude::*;

use super::ops::{stacked_shape, CubaConstants, CubaKernels, CubaOps};
use super::rf::{RfConstants, RfOps};
use super::sigma_delta::SigmaDeltaOps;
use crate::recurrent::{RecurrentKernels, RecurrentOps};

/// `rtz(x·f, 12)` (truncating toward zero) in 32-bit arithmetic, exact for any i32 `x` and
/// `0 <= f <= 4096`: `|x| = 4096a + b` gives `a·f + floor(b·f / 4096)`.
#[cube]
fn decay12(x: i32, f: u32) -> i32 {
    let negative = x < 0i32;
    // 0 - i32::MIN wraps to itself, which as u32 is 2^31: the split handles it.
    let m = if negative { u32::cast_from(0i32 - x) } else { u32::cast_from(x) };
    let r = i32::cast_from((m >> 12u32) * f + (((m & 4095u32) * f) >> 12u32));
    if negative {
        0i32 - r
    } else {
        r
    }
}

/// One step of slayer's CUBA (`adaptive` 0) or ALIF dynamics from the state `(u, v, θ, r)`
/// with input current `z`: the new state, the output (0, 1 or the graded voltage), the
/// pre-reset voltage minus the threshold (the surrogate's argument) and the pre-reset voltage.
#[cube]
#[allow(clippy::too_many_arguments)]
fn neuron_step(
    state: (i32, i32, i32, i32),
    z: f32,
    cd: u32,
    vd: u32,
    reset_at: f32,
    spike_at: f32,
    graded: u32,
    adaptive: u32,
    theta_factor: u32,
    r_factor: u32,
    theta0: i32,
    theta_step: i32,
) -> (i32, i32, i32, i32, f32, f32, f32) {
    let (u0, v0, theta0_state, r0) = state;
    let u = decay12(u0, cd) + i32::cast_from(4096.0f32 * z);
    // slayer's current u/4096 scaled back by 4096: u through float32.
    let mut v = decay12(v0, vd) + i32::cast_from(f32::cast_from(u));
    let mut theta = theta0_state;
    let mut r = r0;
    let voltage = f32::cast_from(v) / 4096.0f32;
    let mut centre = spike_at;
    if adaptive != 0u32 {
        r = decay12(r, r_factor);
        theta = decay12(theta - theta0, theta_factor) + theta0;
        // slayer emits on the float32 sum, adapts on the integers.
        centre = f32::cast_from(theta) / 4096.0f32 + f32::cast_from(r) / 4096.0f32;
        if v >= theta + r {
            r += 2i32 * theta;
            theta += theta_step;
        }
    } else if f32::cast_from(v) >= reset_at {
        v = 0i32;
    }
    let mut out = 0.0f32;
    if voltage >= centre {
        out = if graded != 0u32 { voltage } else { 1.0f32 };
    }
    (u, v, theta, r, out, voltage - centre, voltage)
}

/// One thread per neuron (row of `steps` values of `z`): slayer's CUBA (`adaptive` 0) or
/// ALIF dynamics, writing each step's output (0, 1 or the graded voltage), when
/// `with_slope` its surrogate slope, and when `with_trace` the pre-reset voltage minus the
/// threshold and the pre-reset voltage to the second and third planes of `spikes` (each
/// rows·steps values).
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
fn dynamics_kernel(
    z: &[f32],
    spikes: &mut [f32],
    slope: &mut [f32],
    with_slope: u32,
    with_trace: u32,
    rows: usize,
    steps: usize,
    cd: u32,
    vd: u32,
    reset_at: f32,
    spike_at: f32,
    graded: u32,
    tau: f32,
    height: f32,
    adaptive: u32,
    theta_factor: u32,
    r_factor: u32,
    theta0: i32,
    theta_step: i32,
) {
    let row = ABSOLUTE_POS;
    if row >= rows {
        terminate!();
    }
    let mut state = (0i32, 0i32, theta0, 0i32);
    let base = row * steps;
    for t in 0..steps {
        let k = base + t;
        let (u, v, theta, r, out, above, voltage) = neuron_step(
            state,
            z[k],
            cd,
            vd,
            reset_at,
            spike_at,
            graded,
            adaptive,
            theta_factor,
            r_factor,
            theta0,
            theta_step,
        );
        state = (u, v, theta, r);
        spikes[k] = out;
        if with_trace != 0u32 {
            spikes[rows * steps + k] = above;
            spikes[2 * rows * steps + k] = voltage;
        }
        if with_slope != 0u32 {
            slope[k] = height * f32::exp(-f32::abs(above / tau));
        }
    }
}

/// One workgroup per copy (`CUBE_POS`), its units striding over the `n` neurons: slayer's
/// recurrent CUBA or ALIF dynamics (`crate::recurrent`) from the states `initial` (4 per
/// neuron and copy), each step's input being `z[t] + R·s[t-1]` summed over ascending source
/// neurons. The working states live in `state` (i32), the last two steps' spikes in
/// `previous` (two planes of batch·n); a storage barrier closes each step, so that every
/// unit reads the whole previous step. Writes each neuron's spikes followed by its final
/// states to its row of `out` (steps + 4 values), and when `with_slope` the surrogate slopes
/// to `slope`.
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
fn recurrent_kernel(
    z: &[f32],
    r: &[f32],
    initial: &[f32],
    out: &mut [f32],
    slope: &mut [f32],
    state: &mut [i32],
    previous: &mut [f32],
    batch: usize,
    n: usize,
    steps: usize,
    with_slope: u32,
    cd: u32,
    vd: u32,
    reset_at: f32,
    spike_at: f32,
    graded: u32,
    tau: f32,
    height: f32,
    adaptive: u32,
    theta_factor: u32,
    r_factor: u32,
    theta0: i32,
    theta_step: i32,
) {
    let b = usize::cast_from(CUBE_POS);
    let units = usize::cast_from(CUBE_DIM);
    let per_unit = n.div_ceil(units);
    let row = steps + 4;
    for k in 0..per_unit {
        let i = usize::cast_from(UNIT_POS) + k * units;
        if i < n {
            let s = (b * n + i) * 4;
            for q in 0..4 {
                state[s + q] = i32::cast_from(initial[s + q]);
            }
        }
    }
    for t in 0..steps {
        // Step t writes the plane t % 2 and reads the other, written by step t - 1.
        let write = (t % 2) * batch * n + b * n;
        let read = ((t + 1) % 2) * batch * n + b * n;
        for k in 0..per_unit {
            let i = usize::cast_from(UNIT_POS) + k * units;
            if i < n {
                let mut feedback = 0.0f32;
                if t > 0 {
                    for j in 0..n {
                        // The same for every unit: a uniform branch past silent neurons.
                        let s = previous[read + j];
                        if s != 0.0f32 {
                            feedback += r[i * n + j] * s;
                        }
                    }
                }
                let s = (b * n + i) * 4;
                let at = (b * n + i) * steps + t;
                let (u, v, theta, rr, spike, above, _voltage) = neuron_step(
                    (state[s], state[s + 1], state[s + 2], state[s + 3]),
                    z[at] + feedback,
                    cd,
                    vd,
                    reset_at,
                    spike_at,
                    graded,
                    adaptive,
                    theta_factor,
                    r_factor,
                    theta0,
                    theta_step,
                );
                state[s] = u;
                state[s + 1] = v;
                state[s + 2] = theta;
                state[s + 3] = rr;
                out[(b * n + i) * row + t] = spike;
                if with_slope != 0u32 {
                    slope[at] = height * f32::exp(-f32::abs(above / tau));
                }
                previous[write + i] = spike;
            }
        }
        sync_storage();
    }
    for k in 0..per_unit {
        let i = usize::cast_from(UNIT_POS) + k * units;
        if i < n {
            let s = (b * n + i) * 4;
            for q in 0..4 {
                out[(b * n + i) * row + steps + q] = f32::cast_from(state[s + q]);
            }
        }
    }
}

/// One workgroup per copy, as [`recurrent_kernel`], backwards in time: the gradient with
/// respect to each step's summed input, `e[t] = slope[t]·(g[t] + Rᵀ·e[t+1])`, `Rᵀ·e` summed
/// over ascending source neurons (as the host does); `e[t+1]` is read back from `e` itself.
#[cube(launch_unchecked)]
fn recurrent_backward_kernel(g: &[f32], slope: &[f32], r: &[f32], e: &mut [f32], n: usize, steps: usize) {
    let b = usize::cast_from(CUBE_POS);
    let units = usize::cast_from(CUBE_DIM);
    let per_unit = n.div_ceil(units);
    for back in 0..steps {
        let t = steps - 1 - back;
        for k in 0..per_unit {
            let i = usize::cast_from(UNIT_POS) + k * units;
            if i < n {
                let mut feedback = 0.0f32;
                if back > 0 {
                    for j in 0..n {
                        let x = e[(b * n + j) * steps + t + 1];
                        if x != 0.0f32 {
                            feedback += r[j * n + i] * x;
                        }
                    }
                }
                let at = (b * n + i) * steps + t;
                e[at] = slope[at] * (g[at] + feedback);
            }
        }
        sync_storage();
    }
}

/// One thread per row of `steps` gradients: `h[n] = a_v·h[n+1] + g[n]`, then
/// `w[n] = a_u·w[n+1] + h[n]` written to `out` (the two integrators' backward, as the host's).
#[cube(launch_unchecked)]
fn integrators_backward_kernel(g: &[f32], out: &mut [f32], rows: usize, steps: usize, a_u: f32, a_v: f32) {
    let row = ABSOLUTE_POS;
    if row >= rows {
        terminate!();
    }
    let mut h = 0.0f32;
    let mut w = 0.0f32;
    for i in 0..steps {
        let k = row * steps + steps - 1 - i;
        h = a_v * h + g[k];
        w = a_u * w + h;
        out[k] = w;
    }
}

/// One thread per row of `steps` values of `z`: slayer's sigma-delta dynamics (`stage` 0
/// delta, 1 sigma-ReLU-delta, 2 sigma), writing the outputs, the ReLU's mask and the delta
/// unit's changes to the three planes of `out` (each rows·steps values).
#[cube(launch_unchecked)]
fn sigma_delta_kernel(
    z: &[f32],
    out: &mut [f32],
    rows: usize,
    steps: usize,
    stage: u32,
    threshold: f32,
    cum_error: u32,
) {
    let row = ABSOLUTE_POS;
    if row >= rows {
        terminate!();
    }
    let plane = rows * steps;
    let mut sum = 0.0f32;
    let mut pre = 0.0f32;
    let mut residue = 0.0f32;
    let mut error = 0.0f32;
    for t in 0..steps {
        let k = row * steps + t;
        let mut a = z[k];
        let mut mask = 0.0f32;
        if stage != 0u32 {
            sum += z[k];
            a = f32::max(sum, 0.0f32);
            if sum > 0.0f32 && stage == 1u32 {
                mask = 1.0f32;
            }
        }
        if stage == 2u32 {
            out[k] = sum;
            out[plane + k] = 0.0f32;
            out[2 * plane + k] = 0.0f32;
        } else {
            let delta = a - pre + residue;
            let mut fire = f32::abs(delta) >= threshold;
            if cum_error != 0u32 {
                error += delta;
                fire = f32::abs(error) >= threshold;
            }
            let mut sent = 0.0f32;
            if fire {
                sent = delta;
            }
            if cum_error != 0u32 && sent != 0.0f32 {
                error = 0.0f32;
            }
            residue = delta - sent;
            pre = a;
            out[k] = f32::floor(sent * 4096.0f32) / 4096.0f32;
            out[plane + k] = mask;
            out[2 * plane + k] = delta;
        }
    }
}

/// torch's `sign`: -1, 0 or 1.
#[cube]
fn sign(x: f32) -> f32 {
    let mut s = 0.0f32;
    if x > 0.0f32 {
        s = 1.0f32;
    } else if x < 0.0f32 {
        s = -1.0f32;
    }
    s
}

/// The RF surrogate's `exp(-|x|/tau)/(2·tau)`.
#[cube]
fn rf_delta(x: f32, tau: f32) -> f32 {
    f32::exp(-f32::abs(x) / tau) / (2.0f32 * tau)
}

/// One thread per neuron (`rows` = batch·n): slayer's phase RF (`izhikevich` 0) or RF-IZ
/// dynamics over the real and imaginary currents of `z` (batch, 2·n, time), writing the
/// real and imaginary states, the spikes and the two surrogate slopes to the five planes
/// of `out` (each rows·steps values). The integer states are i32 (see `decay12`).
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
fn rf_kernel(
    z: &[f32],
    out: &mut [f32],
    rows: usize,
    n: usize,
    steps: usize,
    cd: u32,
    sd: u32,
    theta: f32,
    reset_at: i32,
    tau: f32,
    scale: f32,
    izhikevich: u32,
) {
    let row = ABSOLUTE_POS;
    if row >= rows {
        terminate!();
    }
    let plane = rows * steps;
    let b = row / n;
    let i = row % n;
    let real_base = (b * 2 * n + i) * steps;
    let imag_base = (b * 2 * n + n + i) * steps;
    let mut re = 0i32;
    let mut im = 0i32;
    let mut imag_before = 0.0f32;
    for t in 0..steps {
        let re_new = decay12(re, cd) - decay12(im, sd) + i32::cast_from(4096.0f32 * z[real_base + t]);
        let im_new = decay12(re, sd) + decay12(im, cd) + i32::cast_from(4096.0f32 * z[imag_base + t]);
        let real = f32::cast_from(re_new) / 4096.0f32;
        let imag = f32::cast_from(im_new) / 4096.0f32;
        let mut spike = 0.0f32;
        let mut slope_real = 0.0f32;
        // RF-IZ's slope (phase RF replaces it below).
        let mut slope_imag = scale * rf_delta(imag - theta, tau);
        if izhikevich != 0u32 {
            re = re_new;
            im = im_new;
            if im_new >= reset_at {
                re = 0i32;
                im = reset_at - 1i32;
            }
            if imag >= theta {
                spike = 1.0f32;
            }
        } else {
            re = re_new;
            im = im_new;
            let d_real = rf_delta(real - theta, tau);
            let d_imag = rf_delta(imag, tau);
            let step_real = 0.5f32 * (1.0f32 + sign(real - theta) * (1.0f32 - 2.0f32 * tau * d_real));
            if real >= theta && imag_before < 0.0f32 && imag >= 0.0f32 {
                spike = 1.0f32;
            }
            slope_real = scale * d_real * d_imag;
            slope_imag = -scale / tau * sign(imag) * d_imag * step_real;
        }
        imag_before = imag;
        let k = row * steps + t;
        out[k] = real;
        out[plane + k] = imag;
        out[2 * plane + k] = spike;
        out[3 * plane + k] = slope_real;
        out[4 * plane + k] = slope_imag;
    }
}

/// Rows (neurons over the batch) and steps of a (batch, neurons, time) tensor.
fn rows_and_steps(t: &CubeTensor) -> (usize, usize) {
    let dims = t.meta.shape().to_vec();
    let steps = dims.last().copied().unwrap_or(1).max(1);
    (dims.iter().product::<usize>() / steps, steps)
}

/// One thread per row: the cube count and size of a launch over `rows` rows.
fn per_row(client: &cubecl::client::Client, rows: usize) -> (CubeCount, CubeDim) {
    let cube_dim = CubeDim::new(client, rows);
    (calculate_cube_count_elemwise(client, rows, cube_dim), cube_dim)
}

/// An uninitialised float32 tensor shaped like `like`, on its device.
fn empty_like(like: &CubeTensor) -> CubeTensor {
    empty_shaped(like, like.meta.shape().to_vec())
}

/// An uninitialised float32 tensor of `shape` on `like`'s device.
fn empty_shaped(like: &CubeTensor, shape: Vec<usize>) -> CubeTensor {
    empty_device_contiguous_dtype(like.client.clone(), like.device.clone(), Shape::from(shape), DType::F32)
}

/// Launches [`dynamics_kernel`] over `z`: the spikes (with `with_trace`, stacked with the
/// trace: three planes along the first axis), and the surrogate slopes as a tensor like them
/// when `with_slope` (otherwise the kernel skips the slope and its buffer is one unused value).
fn run_dynamics(z: CubeTensor, c: &CubaConstants, with_slope: bool, with_trace: bool) -> (CubeTensor, CubeTensor) {
    let z = into_contiguous(z);
    let spikes = if with_trace { empty_shaped(&z, stacked_shape(z.meta.shape(), 3)) } else { empty_like(&z) };
    let slope = if with_slope { empty_like(&z) } else { empty_shaped(&z, vec![1]) };
    let (rows, steps) = rows_and_steps(&z);
    if rows == 0 || z.meta.num_elements() == 0 {
        return (spikes, slope);
    }
    let a = c.adaptation.unwrap_or_default();
    let client = z.client.clone();
    let (cube_count, cube_dim) = per_row(&client, rows);
    // SAFETY: z and spikes (and slope when written) hold rows·steps float32 values, and each
    // thread touches only its own row (the kernel returns for rows past the end).
    unsafe {
        dynamics_kernel::launch_unchecked(
            &client,
            cube_count,
            cube_dim,
            z.into_buffer_arg(),
            spikes.clone().into_buffer_arg(),
            slope.clone().into_buffer_arg(),
            u32::from(with_slope),
            u32::from(with_trace),
            rows,
            steps,
            c.factors[0] as u32,
            c.factors[1] as u32,
            c.reset_at,
            c.spike_at,
            u32::from(c.graded),
            c.tau,
            c.height,
            u32::from(c.adaptation.is_some()),
            a.factors[0] as u32,
            a.factors[1] as u32,
            a.theta0 as i32,
            a.step as i32,
        );
    }
    (spikes, slope)
}

impl CubaKernels for CubeBackend {
    fn spikes(z: CubeTensor, c: &CubaConstants) -> CubeTensor {
        run_dynamics(z, c, false, false).0
    }

    fn spikes_and_slope(z: CubeTensor, c: &CubaConstants) -> (CubeTensor, CubeTensor) {
        run_dynamics(z, c, true, false)
    }

    fn trace(z: CubeTensor, c: &CubaConstants) -> CubeTensor {
        run_dynamics(z, c, false, true).0
    }

    fn integrate_backward(g: CubeTensor, [a_u, a_v]: [f32; 2]) -> CubeTensor {
        let g = into_contiguous(g);
        let out = empty_like(&g);
        let (rows, steps) = rows_and_steps(&out);
        if rows == 0 || out.meta.num_elements() == 0 {
            return out;
        }
        let client = out.client.clone();
        let (cube_count, cube_dim) = per_row(&client, rows);
        // SAFETY: both buffers hold rows·steps float32 values; each thread touches its own row.
        unsafe {
            integrators_backward_kernel::launch_unchecked(
                &client,
                cube_count,
                cube_dim,
                g.into_buffer_arg(),
                out.clone().into_buffer_arg(),
                rows,
                steps,
                a_u,
                a_v,
            );
        }
        out
    }
}

impl CubaOps for CubeBackend {
    fn cuba_spikes(z: CubeTensor, c: [f32; 16]) -> CubeTensor {
        Self::spikes(z, &CubaConstants::unpack(c))
    }
    fn cuba_trace(z: CubeTensor, c: [f32; 16]) -> CubeTensor {
        Self::trace(z, &CubaConstants::unpack(c))
    }
}

/// Units per workgroup of the recurrent kernels: up to 256, fewer for small populations.
fn recurrent_cube(n: usize) -> CubeDim {
    CubeDim::new_1d(n.next_power_of_two().clamp(32, 256) as u32)
}

impl RecurrentKernels for CubeBackend {
    fn recurrent_forward(
        z: CubeTensor,
        r: CubeTensor,
        state: CubeTensor,
        c: &CubaConstants,
        with_slope: bool,
    ) -> (CubeTensor, CubeTensor) {
        let (z, r, initial) = (into_contiguous(z), into_contiguous(r), into_contiguous(state));
        let dims = z.meta.shape().to_vec();
        let (batch, n, steps) = (dims[0], dims[1], dims[2]);
        let out = empty_shaped(&z, vec![batch, n, steps + 4]);
        let slope = if with_slope { empty_like(&z) } else { empty_shaped(&z, vec![1]) };
        if batch * n == 0 {
            return (out, slope);
        }
        let state = empty_device_contiguous_dtype(
            z.client.clone(),
            z.device.clone(),
            Shape::from(vec![batch * n * 4]),
            DType::I32,
        );
        let previous = empty_shaped(&z, vec![2 * batch * n]);
        let a = c.adaptation.unwrap_or_default();
        let client = z.client.clone();
        // SAFETY: z (and slope when written) hold batch·n·steps values, out batch·n·(steps + 4),
        // r n·n, initial and state 4·batch·n, previous 2·batch·n; workgroup b touches only
        // copy b's rows, states and spikes.
        unsafe {
            recurrent_kernel::launch_unchecked(
                &client,
                CubeCount::Static(batch as u32, 1, 1),
                recurrent_cube(n),
                z.into_buffer_arg(),
                r.into_buffer_arg(),
                initial.into_buffer_arg(),
                out.clone().into_buffer_arg(),
                slope.clone().into_buffer_arg(),
                state.into_buffer_arg(),
                previous.into_buffer_arg(),
                batch,
                n,
                steps,
                u32::from(with_slope),
                c.factors[0] as u32,
                c.factors[1] as u32,
                c.reset_at,
                c.spike_at,
                u32::from(c.graded),
                c.tau,
                c.height,
                u32::from(c.adaptation.is_some()),
                a.factors[0] as u32,
                a.factors[1] as u32,
                a.theta0 as i32,
                a.step as i32,
            );
        }
        (out, slope)
    }

    fn recurrent_backward(g: CubeTensor, slope: CubeTensor, r: CubeTensor) -> CubeTensor {
        let (g, slope, r) = (into_contiguous(g), into_contiguous(slope), into_contiguous(r));
        let dims = g.meta.shape().to_vec();
        let (batch, n, steps) = (dims[0], dims[1], dims[2]);
        let e = empty_like(&g);
        if batch * n * steps == 0 {
            return e;
        }
        let client = g.client.clone();
        // SAFETY: g, slope and e hold batch·n·steps values, r n·n; workgroup b touches only
        // copy b's rows.
        unsafe {
            recurrent_backward_kernel::launch_unchecked(
                &client,
                CubeCount::Static(batch as u32, 1, 1),
                recurrent_cube(n),
                g.into_buffer_arg(),
                slope.into_buffer_arg(),
                r.into_buffer_arg(),
                e.clone().into_buffer_arg(),
                n,
                steps,
            );
        }
        e
    }
}

impl RecurrentOps for CubeBackend {
    fn recurrent_spikes(z: CubeTensor, r: CubeTensor, state: CubeTensor, c: [f32; 16]) -> CubeTensor {
        Self::recurrent_forward(z, r, state, &CubaConstants::unpack(c), false).0
    }
}

impl SigmaDeltaOps for CubeBackend {
    fn sigma_delta_dynamics(z: CubeTensor, c: [f32; 4]) -> CubeTensor {
        let z = into_contiguous(z);
        let (rows, steps) = rows_and_steps(&z);
        let out = empty_shaped(&z, stacked_shape(z.meta.shape(), 3));
        if rows == 0 || z.meta.num_elements() == 0 {
            return out;
        }
        let client = z.client.clone();
        let (cube_count, cube_dim) = per_row(&client, rows);
        // SAFETY: z holds rows·steps float32 values and out three times as many; each thread
        // touches only its own row of each plane.
        unsafe {
            sigma_delta_kernel::launch_unchecked(
                &client,
                cube_count,
                cube_dim,
                z.into_buffer_arg(),
                out.clone().into_buffer_arg(),
                rows,
                steps,
                c[0] as u32,
                c[1],
                u32::from(c[2] != 0.0),
            );
        }
        out
    }
}

impl RfOps for CubeBackend {
    fn rf_dynamics(z: CubeTensor, c: [f32; 8]) -> CubeTensor {
        let z = into_contiguous(z);
        let dims = z.meta.shape().to_vec();
        let (batch, n, steps) = (dims[0], dims[1] / 2, dims[2]);
        let out = empty_shaped(&z, vec![5 * batch, n, steps]);
        let rows = batch * n;
        if rows == 0 || steps == 0 {
            return out;
        }
        let c = RfConstants::unpack(c);
        let client = z.client.clone();
        let (cube_count, cube_dim) = per_row(&client, rows);
        // SAFETY: z holds batch·2n·steps float32 values and out five planes of batch·n·steps;
        // each thread reads its neuron's two rows and writes its own row of each plane.
        unsafe {
            rf_kernel::launch_unchecked(
                &client,
                cube_count,
                cube_dim,
                z.into_buffer_arg(),
                out.clone().into_buffer_arg(),
                rows,
                n,
                steps,
                c.cos as u32,
                c.sin as u32,
                c.theta,
                c.reset_at as i32,
                c.tau,
                c.scale,
                u32::from(c.izhikevich),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::ops::{self, Adaptation, CubaConstants};
    use burn::tensor::{Device, Tensor, TensorData};

    /// On the GPU burn finds (lavapipe in CI) the CubeCL kernels give the host kernels' spikes
    /// exactly and the same gradients to float rounding: CUBA, graded CUBA and ALIF, from
    /// currents that make every neuron spike, adapt and reset, over several copies; the
    /// staged forward's trace (outputs, voltage minus threshold, voltage) exactly.
    #[test]
    fn gpu_kernels_equal_the_host_kernels() {
        let gpu = crate::device::training_device("wgpu").expect("a GPU adapter (lavapipe in CI)");
        assert!(ops::has_dynamics_kernels(&gpu), "the GPU device runs the CubeCL kernels");
        let cpu = crate::device::training_device("cpu").expect("the CPU device");
        let (batch, n, steps) = (3, 37, 50);
        let len = batch * n * steps;
        let currents: Vec<f32> = (0..len).map(|i| ((i * 7919) % 113) as f32 / 80.0 - 0.6).collect();
        let weights: Vec<f32> = (0..len).map(|i| ((i * 104_729) % 17) as f32 / 8.0 - 1.0).collect();
        let cuba = ops::SAMPLE_CUBA;
        let graded = CubaConstants { graded: true, ..cuba };
        let alif = CubaConstants {
            reset_at: f32::INFINITY,
            adaptation: Some(Adaptation { factors: [4096 - 300, 4096 - 700], theta0: 1.25 as i64 * 4096, step: 2048 }),
            ..cuba
        };
        for (label, c) in [("cuba", cuba), ("graded", graded), ("alif", alif)] {
            let run = |device: &Device| {
                let z =
                    Tensor::<3>::from_data(TensorData::new(currents.clone(), [batch, n, steps]), device).require_grad();
                let w = Tensor::<3>::from_data(TensorData::new(weights.clone(), [batch, n, steps]), device);
                let s = ops::spikes(z.clone(), &c).expect("spikes");
                let grads = (s.clone() * w).sum().backward();
                let g = z.grad(&grads).expect("a gradient");
                (ops::host(s).expect("spikes"), ops::host(g).expect("gradient"))
            };
            let (want_s, want_g) = run(&cpu);
            let (got_s, got_g) = run(&gpu);
            assert_eq!(got_s, want_s, "{label}: spikes");
            // Without a gradient to track, the kernel runs without the slope.
            let z = Tensor::<3>::from_data(TensorData::new(currents.clone(), [batch, n, steps]), &gpu);
            assert_eq!(ops::host(ops::spikes(z, &c).expect("spikes")).expect("spikes"), want_s, "{label}: untracked");
            let spiking = want_s.iter().filter(|&&s| s != 0.0).count();
            assert!(spiking > len / 20 && spiking < len * 4 / 5, "{label}: {spiking} of {len} outputs spike");
            for (k, (x, y)) in want_g.iter().zip(&got_g).enumerate() {
                assert!((x - y).abs() <= 1e-5 * x.abs().max(1.0), "{label}: gradient {k}: host {x}, GPU {y}");
            }
            assert!(want_g.iter().any(|&x| x.abs() > 1e-3), "{label}: gradients flow");
            // The staged forward's trace: outputs, voltage minus threshold, voltage, exactly.
            let trace = |device: &Device| {
                let z = Tensor::<3>::from_data(TensorData::new(currents.clone(), [batch, n, steps]), device);
                ops::dynamics_trace(z, &c).expect("trace").map(|t| ops::host(t).expect("trace"))
            };
            let (want, got) = (trace(&cpu), trace(&gpu));
            assert_eq!(want[0], want_s, "{label}: the trace's outputs are the spikes");
            for (plane, (w, g)) in want.iter().zip(&got).enumerate() {
                assert_eq!(g, w, "{label}: trace plane {plane}");
            }
        }
    }

    /// The recurrent kernels give the host kernels' spikes exactly and the same input and
    /// recurrent-weight gradients to float rounding, for CUBA and ALIF, over several copies of
    /// a population larger than a workgroup (each unit steps two neurons); two calls carry
    /// the neuron states from one to the next exactly.
    #[test]
    fn gpu_recurrent_dynamics_equal_the_host_kernels() {
        use crate::recurrent::tests::{assert_close, largest, run_on, sample_constants, sample_inputs};
        let gpu = crate::device::training_device("wgpu").expect("a GPU adapter (lavapipe in CI)");
        let cpu = crate::device::training_device("cpu").expect("the CPU device");
        let dims = [2, 300, 30];
        let inputs = sample_inputs(dims[0], dims[1], dims[2]);
        for (label, c) in sample_constants() {
            let (want_s, want_gz, want_gr) = run_on(&cpu, &c, &inputs, dims, true);
            let (got_s, got_gz, got_gr) = run_on(&gpu, &c, &inputs, dims, true);
            assert_eq!(got_s, want_s, "{label}: spikes");
            let spiking = want_s.iter().filter(|&&s| s != 0.0).count();
            assert!(spiking > want_s.len() / 20 && spiking < want_s.len() * 4 / 5, "{label}: {spiking} spikes");
            assert_close(&format!("{label}: input gradient"), &want_gz, &got_gz, 1e-5, 1.0);
            // Each entry sums batch·(steps - 1) products of an input gradient and a spike.
            assert_close(&format!("{label}: weight gradient"), &want_gr, &got_gr, 1e-5, largest(&want_gz));
        }
        // Two calls, the second from the states the first left: as the host's.
        let host_runs = crate::recurrent::tests::two_calls(&cpu, true);
        crate::recurrent::tests::two_calls(&gpu, false);
        let gpu_runs = crate::recurrent::tests::two_calls(&gpu, true);
        assert!(gpu_runs == host_runs, "two calls on the GPU differ from the host's");
    }

    /// The sigma-delta kernel gives the host kernel's outputs exactly and the same gradients
    /// (inputs and threshold) to float rounding: sigma-ReLU-delta, with cum_error, the delta
    /// and sigma units alone, over several copies. Inputs are multiples of 1/64 below 4 in
    /// magnitude, so that every partial sum is exact in float32 as in float64.
    #[test]
    fn gpu_sigma_delta_equals_the_host_kernel() {
        use super::super::sigma_delta::SigmaDeltaNeuron;
        let gpu = crate::device::training_device("wgpu").expect("a GPU adapter (lavapipe in CI)");
        let cpu = crate::device::training_device("cpu").expect("the CPU device");
        let (batch, n, steps) = (3, 29, 40);
        let len = batch * n * steps;
        let x: Vec<f32> = (0..len).map(|i| ((i * 7919) % 401) as f32 / 64.0 - 3.0).collect();
        let weights: Vec<f32> = (0..len).map(|i| ((i * 104_729) % 17) as f32 / 8.0 - 1.0).collect();
        let neuron = SigmaDeltaNeuron::new(0.75).expect("a threshold");
        for (label, cum) in [("plain", false), ("cum_error", true)] {
            let neuron = neuron.clone().cum_error(cum);
            let run = |device: &Device, stage: usize| {
                let z = Tensor::<3>::from_data(TensorData::new(x.clone(), [batch, n, steps]), device).require_grad();
                let theta = Tensor::<1>::from_data(TensorData::new(vec![0.75f32], [1]), device).require_grad();
                let w = Tensor::<3>::from_data(TensorData::new(weights.clone(), [batch, n, steps]), device);
                let y = match stage {
                    0 => neuron.forward_with_threshold(z.clone(), theta.clone()),
                    1 => neuron.encode(z.clone()),
                    _ => neuron.accumulate(z.clone()),
                }
                .expect("messages");
                let grads = (y.clone() * w).sum().backward();
                let gz = ops::host(z.grad(&grads).expect("an input gradient")).expect("gradient");
                let gt: f32 = theta.grad(&grads).map(|g| g.into_scalar::<f32>()).unwrap_or(0.0);
                (ops::host(y).expect("messages"), gz, gt)
            };
            for stage in 0..3 {
                let (want, want_gz, want_gt) = run(&cpu, stage);
                let (got, got_gz, got_gt) = run(&gpu, stage);
                assert_eq!(got, want, "{label}, stage {stage}: outputs");
                let sent = want.iter().filter(|&&m| m != 0.0).count();
                assert!(sent > len / 20 && (stage != 0 || sent < len * 4 / 5), "{label}, stage {stage}: {sent} sent");
                for (k, (a, b)) in want_gz.iter().zip(&got_gz).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-5 * a.abs().max(1.0),
                        "{label}, stage {stage}: gradient {k}: {a} vs {b}"
                    );
                }
                assert!(
                    (want_gt - got_gt).abs() <= 1e-4 * want_gt.abs().max(1.0),
                    "{label}: θ gradient {want_gt} vs {got_gt}"
                );
                if stage == 0 {
                    assert!(want_gt.abs() > 1e-3, "{label}: the threshold gradient flows");
                }
            }
        }
    }

    /// The RF kernel gives the host kernel's states and spikes exactly and the same input
    /// gradients to float rounding, for phase RF and RF-IZ, over several copies.
    #[test]
    fn gpu_resonators_equal_the_host_kernel() {
        use super::super::rf::RfNeuron;
        let gpu = crate::device::training_device("wgpu").expect("a GPU adapter (lavapipe in CI)");
        let cpu = crate::device::training_device("cpu").expect("the CPU device");
        let (batch, n, steps) = (3, 23, 60);
        let len = batch * 2 * n * steps;
        let x: Vec<f32> = (0..len).map(|i| ((i * 7919) % 97) as f32 / 64.0 - 0.55).collect();
        let weights: Vec<f32> = (0..batch * n * steps).map(|i| ((i * 104_729) % 17) as f32 / 8.0 - 1.0).collect();
        let phase = RfNeuron::new(0.5, 12.0, 0.1).expect("RF");
        let iz = RfNeuron::izhikevich(0.75, 9.0, 0.05).expect("RF-IZ");
        for (label, neuron) in [("rf", phase), ("rf_iz", iz)] {
            let run = |device: &Device| {
                let z =
                    Tensor::<3>::from_data(TensorData::new(x.clone(), [batch, 2 * n, steps]), device).require_grad();
                let w = Tensor::<3>::from_data(TensorData::new(weights.clone(), [batch, n, steps]), device);
                let s = neuron.forward_train(z.clone()).expect("spikes");
                let grads = (s.clone() * w).sum().backward();
                let g = ops::host(z.grad(&grads).expect("a gradient")).expect("gradient");
                let (re, im) = neuron.states(z.detach()).expect("states");
                (ops::host(s).expect("spikes"), g, ops::host(re).expect("re"), ops::host(im).expect("im"))
            };
            let (want_s, want_g, want_re, want_im) = run(&cpu);
            let (got_s, got_g, got_re, got_im) = run(&gpu);
            assert_eq!(got_s, want_s, "{label}: spikes");
            assert_eq!((got_re, got_im), (want_re, want_im), "{label}: states");
            let spiking = want_s.iter().filter(|&&s| s != 0.0).count();
            assert!(spiking > want_s.len() / 50, "{label}: {spiking} spikes");
            for (k, (a, b)) in want_g.iter().zip(&got_g).enumerate() {
                assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "{label}: gradient {k}: host {a}, GPU {b}");
            }
            assert!(want_g.iter().any(|&g| g.abs() > 1e-3), "{label}: gradients flow");
        }
    }
}
