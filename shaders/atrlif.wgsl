// ATRLIF neurons (SPEC §2.1, Lava PyATRLIFModelFloat / PyATRLIFModelFixed; crates/core
// process/atrlif.rs): one thread per neuron, over `Scalar` with `FIXED` branches (a precision
// prelude and wide_int.wgsl are prepended). A neuron spikes when v - r >= θ, then r += 2θ and
// θ += θ_step. Fixed point follows Lava's types: the decay factors are uint16 results
// (4096 - 4096 d, wrapped), so v, θ and r decay by products up to 2^47, taken in 64 bits
// (`mul_rtz`) and truncated to int32 as Lava's arrays are; the current's product wraps in
// int32; the spike test compares in 64 bits.

struct Params {
    n: u32,
    // Fixed: the uint16 factors of i, v, θ, r; float: the f32 bits of 1 - δ.
    fi: u32,
    fv: u32,
    fth: u32,
    fr: u32,
    // Fixed: θ0 and θ_step times 64 (uint16 arithmetic, i32 bits); float: their f32 bits.
    th0: u32,
    step: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a_in: array<Scalar>;
@group(0) @binding(2) var<storage, read_write> s_out: array<Scalar>;
@group(0) @binding(3) var<storage, read_write> cur: array<Scalar>;
@group(0) @binding(4) var<storage, read_write> v: array<Scalar>;
@group(0) @binding(5) var<storage, read_write> theta: array<Scalar>;
@group(0) @binding(6) var<storage, read_write> r: array<Scalar>;
@group(0) @binding(7) var<storage, read_write> s: array<Scalar>;
@group(0) @binding(8) var<storage, read> bias_mant: array<Scalar>;
@group(0) @binding(9) var<storage, read> bias_exp: array<i32>;

const MAX_IV: i32 = 8388608; // 2^23

@compute @workgroup_size(64)
fn atrlif(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let k = gid.x + gid.y * wg.x * 64u;
    if (k >= p.n) { return; }
    var spike = false;
    if (FIXED) {
        let th0 = bitcast<i32>(p.th0);
        let bias = shift_exp(i32(bias_mant[k]), bias_exp[k]);
        var upd = rtz32(i32(cur[k]) * i32(p.fi), 12u) + (i32(a_in[k]) << 6u);
        if (upd > MAX_IV) {
            upd = upd - 2 * MAX_IV;
        } else if (upd <= -MAX_IV) {
            upd = upd + 2 * MAX_IV;
        }
        let v_dec = bitcast<i32>(mul_rtz(i32(v[k]), p.fv, 12u).x);
        let volt = clamp(v_dec + upd + bias, -MAX_IV + 1, MAX_IV - 1);
        var th = bitcast<i32>(mul_rtz(i32(theta[k]) - th0, p.fth, 12u).x) + th0;
        var rr = bitcast<i32>(mul_rtz(i32(r[k]), p.fr, 12u).x);
        spike = !i64_less(i64_sub(i64_from(volt), i64_from(rr)), i64_from(th));
        if (spike) {
            rr = rr + th + th;
            th = th + bitcast<i32>(p.step);
        }
        cur[k] = Scalar(upd);
        v[k] = Scalar(volt);
        theta[k] = Scalar(th);
        r[k] = Scalar(rr);
    } else {
        let f = vec4<f32>(bitcast<f32>(p.fi), bitcast<f32>(p.fv), bitcast<f32>(p.fth), bitcast<f32>(p.fr));
        let th0 = bitcast<f32>(p.th0);
        let i_new = f.x * f32(cur[k]) + f32(a_in[k]);
        let v_new = f.y * f32(v[k]) + i_new + f32(bias_mant[k]);
        var th = f.z * (f32(theta[k]) - th0) + th0;
        var rr = f32(r[k]) * f.w;
        spike = (v_new - rr) >= th;
        if (spike) {
            rr = rr + 2.0 * th;
            th = th + bitcast<f32>(p.step);
        }
        cur[k] = Scalar(i_new);
        v[k] = Scalar(v_new);
        theta[k] = Scalar(th);
        r[k] = Scalar(rr);
    }
    let out = select(ZERO, Scalar(1), spike);
    s[k] = out;
    s_out[k] = out;
}
