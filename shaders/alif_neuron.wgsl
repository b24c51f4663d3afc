// Fixed-point adaptive LIF with 12-bit decays (Basalt `Alif`, lava-dl's ALIF; crates/core
// process/alif.rs) as a neuron step (`neuron.wgsl`, `synapse_neuron.wgsl`): i32 state as the
// CPU model (u wrapped and v saturated to 24 bits, rtz decays with `decay12`, inputs and
// thresholds << 6; exact while θ - θ0 fits in i32), no voltage reset; spike when v >= θ + r,
// then r += 2θ and θ += step. Bindings 8 to 16.

struct AlifParams {
    // Neurons over the batch.
    n: u32,
    // 4096 - d for du, dv, dθ, dr.
    fu: u32,
    fv: u32,
    fth: u32,
    fr: u32,
    // θ0 = vth << 6 and the step << 6.
    th0: i32,
    step: i32,
    _pad: u32,
}

@group(0) @binding(8) var<uniform> ap: AlifParams;
@group(0) @binding(9) var<storage, read_write> s_out: array<i32>;
@group(0) @binding(10) var<storage, read_write> u: array<i32>;
@group(0) @binding(11) var<storage, read_write> v: array<i32>;
@group(0) @binding(12) var<storage, read_write> theta: array<i32>;
@group(0) @binding(13) var<storage, read_write> refr: array<i32>;
@group(0) @binding(14) var<storage, read_write> spiked: array<i32>;
@group(0) @binding(15) var<storage, read> bias_mant: array<i32>;
@group(0) @binding(16) var<storage, read> bias_exp: array<i32>;

const MAX_UV: i32 = 8388608; // 2^23

fn neuron_count() -> u32 { return ap.n; }

// rtz(x * f, 12) for any i32 x and 0 <= f <= 4096, in 32-bit arithmetic (fixed.rs decay12).
fn decay12(x: i32, f: u32) -> i32 {
    let m = u32(abs(x));
    let q = i32((m >> 12u) * f + (((m & 4095u) * f) >> 12u));
    return select(q, -q, x < 0);
}

fn neuron_step(i: u32, a: i32) {
    let e = bias_exp[i];
    let bias = select(bias_mant[i] >> u32(-e), bias_mant[i] << u32(e), e >= 0);
    var cur = decay12(u[i], ap.fu) + (a << 6u);
    if (cur > MAX_UV) {
        cur = cur - 2 * MAX_UV;
    } else if (cur <= -MAX_UV) {
        cur = cur + 2 * MAX_UV;
    }
    let volt = clamp(decay12(v[i], ap.fv) + cur + bias, -MAX_UV + 1, MAX_UV - 1);
    var rr = decay12(refr[i], ap.fr);
    var th = decay12(theta[i] - ap.th0, ap.fth) + ap.th0;
    // volt >= th + rr without i32 overflow of the sum (the CPU compares in i64).
    let sum = th + rr;
    let over = th > 0 && rr > 0 && sum < 0;
    let under = th < 0 && rr < 0 && sum >= 0;
    let spike = !over && (under || volt >= sum);
    if (spike) {
        rr = rr + 2 * th;
        th = th + ap.step;
    }
    u[i] = cur;
    v[i] = volt;
    theta[i] = th;
    refr[i] = rr;
    spiked[i] = select(0, 1, spike);
    s_out[i] = select(0, 1, spike);
}
