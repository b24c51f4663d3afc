// Fixed-point LIF-family neurons (SPEC §2.1, Lava PyLifModelBitAcc), as a function a kernel
// calls per neuron with its input: `neuron.wgsl` (one thread per neuron) and
// `synapse_neuron.wgsl` (fused with the synapse that feeds them) share it. i32 state, 24-bit
// wrap of u, saturation of v, strict threshold against vth << 6 (scaled once, at plan
// creation), bias rescaled every step. Kind 1 adds LIFReset (u and v zeroed at the start of steps with t mod interval ==
// offset mod interval), kind 2 TernaryLIF (+1 above vth_hi, -1 below vth_lo).
// Bindings 8 to 14, clear of the kernels that include it.

struct LifParams {
    // Neurons over the whole batch (the per-neuron kernel's bound).
    n: u32,
    // 4096 - (du + 1) and 4096 - dv.
    fu: u32,
    fv: u32,
    // vth << 6 (vth_hi for the ternary LIF).
    vth: i32,
    // 0 LIF, 1 LIFReset (reset where t mod x == y), 2 TernaryLIF.
    kind: u32,
    x: u32,
    y: u32,
    // vth_lo << 6 (TernaryLIF).
    vth_lo: i32,
}

@group(0) @binding(8) var<uniform> lp: LifParams;

fn neuron_count() -> u32 { return lp.n; }
@group(0) @binding(9) var<storage, read_write> s_out: array<i32>;
@group(0) @binding(10) var<storage, read_write> u: array<i32>;
@group(0) @binding(11) var<storage, read_write> v: array<i32>;
@group(0) @binding(12) var<storage, read> bias_mant: array<i32>;
@group(0) @binding(13) var<storage, read> bias_exp: array<i32>;
// The step clock (LIFReset).
@group(0) @binding(14) var<storage, read> clock: array<u32>;

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

// Neuron i's step with input a: the wrapped current, the saturated voltage, the spike and
// the reset, written back.
fn neuron_step(i: u32, a: i32) {
    let reset = lp.kind == 1u && clock[0] % lp.x == lp.y;
    var cur = decay12(select(u[i], 0, reset), lp.fu) + (a << 6u);
    if (cur > MAX_UV) {
        cur = cur - 2 * MAX_UV;
    } else if (cur <= -MAX_UV) {
        cur = cur + 2 * MAX_UV;
    }
    let volt = clamp(decay12(select(v[i], 0, reset), lp.fv) + cur + bias_of(i), -MAX_UV + 1, MAX_UV - 1);
    var spike = select(0, 1, volt > lp.vth);
    if (lp.kind == 2u) {
        spike = spike - select(0, 1, volt < lp.vth_lo);
    }
    u[i] = cur;
    v[i] = select(volt, 0, spike != 0);
    s_out[i] = spike;
}
