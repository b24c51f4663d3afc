// LIF neurons (SPEC §2.1): one thread per neuron.
// Fixed point (Lava PyLifModelBitAcc): i32 state, 24-bit wrap of u, saturation of v,
// strict threshold against vth << 6 (scaled once, at plan creation), bias rescaled every step.
// `lif_family_fixed` adds LIFReset (u and v zeroed at the start of steps with t mod interval
// == offset mod interval) and TernaryLIF (+1 above vth_hi, -1 below vth_lo).

struct Params {
    n: u32,
    // 4096 - (du + 1) and 4096 - dv.
    fu: u32,
    fv: u32,
    _pad: u32,
    // lif_family_fixed: 1 LIFReset (reset where t mod x == y), 2 TernaryLIF.
    kind: u32,
    x: u32,
    y: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a_in: array<i32>;
@group(0) @binding(2) var<storage, read_write> s_out: array<i32>;
@group(0) @binding(3) var<storage, read_write> u: array<i32>;
@group(0) @binding(4) var<storage, read_write> v: array<i32>;
@group(0) @binding(5) var<storage, read> bias_mant: array<i32>;
@group(0) @binding(6) var<storage, read> bias_exp: array<i32>;
// Effective thresholds: [0] = vth << 6 (vth_hi for the ternary LIF), [1] = vth_lo << 6.
@group(0) @binding(7) var<storage, read> vth: array<i32>;
// The step clock (lif_family_fixed only).
@group(0) @binding(8) var<storage, read> clock: array<u32>;

const MAX_UV: i32 = 8388608; // 2^23

// rtz(x * f, 12) for any i32 x and 0 <= f <= 4096, in 32-bit arithmetic (see fixed.rs decay12).
fn decay12(x: i32, f: u32) -> i32 {
    let m = u32(abs(x));
    // abs(i32::MIN) wraps to itself; as u32 that is 2^31, which the split handles.
    let r = i32((m >> 12u) * f + (((m & 4095u) * f) >> 12u));
    return select(r, -r, x < 0);
}

fn bias_of(i: u32) -> i32 {
    let e = bias_exp[i];
    return select(bias_mant[i] >> u32(-e), bias_mant[i] << u32(e), e >= 0);
}

// One neuron's step from state (u0, v0): the wrapped current, the saturated voltage, the
// spike (ternary: -1 below vth_lo too) and the reset, written back.
fn step_fixed(i: u32, u0: i32, v0: i32, ternary: bool) {
    var cur = decay12(u0, p.fu) + (a_in[i] << 6u);
    if (cur > MAX_UV) {
        cur = cur - 2 * MAX_UV;
    } else if (cur <= -MAX_UV) {
        cur = cur + 2 * MAX_UV;
    }
    let volt = clamp(decay12(v0, p.fv) + cur + bias_of(i), -MAX_UV + 1, MAX_UV - 1);
    var spike = select(0, 1, volt > vth[0]);
    if (ternary) {
        spike = spike - select(0, 1, volt < vth[1]);
    }
    u[i] = cur;
    v[i] = select(volt, 0, spike != 0);
    s_out[i] = spike;
}

@compute @workgroup_size(64)
fn lif_fixed(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.n) { return; }
    step_fixed(i, u[i], v[i], false);
}

@compute @workgroup_size(64)
fn lif_family_fixed(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.n) { return; }
    let reset = p.kind == 1u && clock[0] % p.x == p.y;
    step_fixed(i, select(u[i], 0, reset), select(v[i], 0, reset), p.kind == 2u);
}
