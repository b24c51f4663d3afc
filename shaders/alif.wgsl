// Adaptive LIF with 12-bit decays (Basalt `Alif`, lava-dl's ALIF; crates/core process/alif.rs):
// one thread per neuron, no voltage reset; spike when v >= θ + r, then r += 2θ and θ += step.
// `alif_fixed`: i32 state as the CPU model (u wrapped and v saturated to 24 bits, rtz decays
// with `decay12`, inputs and thresholds << 6; exact while θ - θ0 fits in i32).
// `alif_float`: the f32 buffers hold the same words as floats (bitcast), decays as fractions.

struct Params {
    n: u32,
    // Fixed: 4096 - d for du, dv, dθ, dr; float: the f32 bits of 1 - d.
    fu: u32,
    fv: u32,
    fth: u32,
    fr: u32,
    // Fixed: θ0 = vth << 6 and the step << 6 (i32 bits); float: f32 bits of vth and step.
    th0: u32,
    step: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a_in: array<u32>;
@group(0) @binding(2) var<storage, read_write> s_out: array<u32>;
@group(0) @binding(3) var<storage, read_write> u: array<u32>;
@group(0) @binding(4) var<storage, read_write> v: array<u32>;
@group(0) @binding(5) var<storage, read_write> theta: array<u32>;
@group(0) @binding(6) var<storage, read_write> r: array<u32>;
@group(0) @binding(7) var<storage, read_write> s: array<u32>;
@group(0) @binding(8) var<storage, read> bias_mant: array<u32>;
@group(0) @binding(9) var<storage, read> bias_exp: array<u32>;

const MAX_UV: i32 = 8388608; // 2^23

// rtz(x * f, 12) for any i32 x and 0 <= f <= 4096, in 32-bit arithmetic (fixed.rs decay12).
fn decay12(x: i32, f: u32) -> i32 {
    let m = u32(abs(x));
    let q = i32((m >> 12u) * f + (((m & 4095u) * f) >> 12u));
    return select(q, -q, x < 0);
}

@compute @workgroup_size(64)
fn alif_fixed(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.n) { return; }
    let e = bitcast<i32>(bias_exp[i]);
    let m = bitcast<i32>(bias_mant[i]);
    let bias = select(m >> u32(-e), m << u32(e), e >= 0);
    var cur = decay12(bitcast<i32>(u[i]), p.fu) + (bitcast<i32>(a_in[i]) << 6u);
    if (cur > MAX_UV) {
        cur = cur - 2 * MAX_UV;
    } else if (cur <= -MAX_UV) {
        cur = cur + 2 * MAX_UV;
    }
    let volt = clamp(decay12(bitcast<i32>(v[i]), p.fv) + cur + bias, -MAX_UV + 1, MAX_UV - 1);
    let th0 = bitcast<i32>(p.th0);
    var rr = decay12(bitcast<i32>(r[i]), p.fr);
    var th = decay12(bitcast<i32>(theta[i]) - th0, p.fth) + th0;
    // volt >= th + rr without i32 overflow of the sum (the CPU compares in i64).
    let sum = th + rr;
    let over = th > 0 && rr > 0 && sum < 0;
    let under = th < 0 && rr < 0 && sum >= 0;
    let spike = !over && (under || volt >= sum);
    if (spike) {
        rr = rr + 2 * th;
        th = th + bitcast<i32>(p.step);
    }
    u[i] = bitcast<u32>(cur);
    v[i] = bitcast<u32>(volt);
    theta[i] = bitcast<u32>(th);
    r[i] = bitcast<u32>(rr);
    s[i] = select(0u, 1u, spike);
    s_out[i] = select(0u, 1u, spike);
}

@compute @workgroup_size(64)
fn alif_float(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.n) { return; }
    let cur = bitcast<f32>(p.fu) * bitcast<f32>(u[i]) + bitcast<f32>(a_in[i]);
    let volt = bitcast<f32>(p.fv) * bitcast<f32>(v[i]) + cur + bitcast<f32>(bias_mant[i]);
    let th0 = bitcast<f32>(p.th0);
    var rr = bitcast<f32>(p.fr) * bitcast<f32>(r[i]);
    var th = bitcast<f32>(p.fth) * (bitcast<f32>(theta[i]) - th0) + th0;
    let spike = volt >= th + rr;
    if (spike) {
        rr = rr + 2.0 * th;
        th = th + bitcast<f32>(p.step);
    }
    u[i] = bitcast<u32>(cur);
    v[i] = bitcast<u32>(volt);
    theta[i] = bitcast<u32>(th);
    r[i] = bitcast<u32>(rr);
    s[i] = bitcast<u32>(select(0.0, 1.0, spike));
    s_out[i] = bitcast<u32>(select(0.0, 1.0, spike));
}
