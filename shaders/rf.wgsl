// Resonate-and-fire neurons (SPEC §2.1, Lava PyRFModel* / PyRF_IZModel*; crates/core
// process/rf.rs): one thread per neuron, over `Scalar` with `FIXED` branches (a precision
// prelude and wide_int.wgsl are prepended). The state (real, imag) rotates by
// (cos_decay, sin_decay) and adds the input; RF spikes when real >= vth as imag crosses to
// >= 0, RF-IZ when imag >= vth (then real = 0, imag = vth - 1, or vth - 1e-5 in float).
// Fixed point: uint16 decays times the state are 48-bit products, shifted right by
// decay_bits toward zero and summed in 64 bits before the 24-bit saturation.

struct Params {
    n: u32,
    // 0 RF, 1 RF-IZ.
    kind: u32,
    // Fixed: the uint16 decays; float: their f32 bits.
    sin_decay: u32,
    cos_decay: u32,
    state_exp: u32,
    decay_bits: u32,
    // i32 or f32 bits.
    vth: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> re_in: array<Scalar>;
@group(0) @binding(2) var<storage, read> im_in: array<Scalar>;
@group(0) @binding(3) var<storage, read_write> s_out: array<Scalar>;
@group(0) @binding(4) var<storage, read_write> real: array<Scalar>;
@group(0) @binding(5) var<storage, read_write> imag: array<Scalar>;

const LIMIT: i32 = 8388607; // 2^23 - 1

@compute @workgroup_size(64)
fn rf(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let k = gid.x + gid.y * wg.x * 64u;
    if (k >= p.n) { return; }
    let re = real[k];
    let im = imag[k];
    var new_re: Scalar;
    var new_im: Scalar;
    var vth: Scalar;
    if (FIXED) {
        let sd = p.sin_decay;
        let cd = p.cos_decay;
        let bits = p.decay_bits;
        let ar = i64_from(i32(re_in[k]) << p.state_exp);
        let ai = i64_from(i32(im_in[k]) << p.state_exp);
        let nr = i64_add(i64_sub(mul_rtz(i32(re), cd, bits), mul_rtz(i32(im), sd, bits)), ar);
        let ni = i64_add(i64_add(mul_rtz(i32(re), sd, bits), mul_rtz(i32(im), cd, bits)), ai);
        new_re = Scalar(i64_clamp(nr, -LIMIT, LIMIT));
        new_im = Scalar(i64_clamp(ni, -LIMIT, LIMIT));
        vth = Scalar(bitcast<i32>(p.vth));
    } else {
        let sd = Scalar(bitcast<f32>(p.sin_decay));
        let cd = Scalar(bitcast<f32>(p.cos_decay));
        new_re = cd * re - sd * im + re_in[k];
        new_im = sd * re + cd * im + im_in[k];
        vth = Scalar(bitcast<f32>(p.vth));
    }
    var spike: bool;
    if (p.kind == 0u) {
        spike = new_re >= vth && new_im >= ZERO && im < ZERO;
        real[k] = new_re;
        imag[k] = new_im;
    } else {
        spike = new_im >= vth;
        let reset = select(vth - Scalar(f32(1e-5)), vth - Scalar(1), FIXED);
        real[k] = select(new_re, ZERO, spike);
        imag[k] = select(new_im, reset, spike);
    }
    s_out[k] = select(ZERO, Scalar(1), spike);
}
