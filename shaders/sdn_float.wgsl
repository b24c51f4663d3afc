// Sigma-delta neurons in f32 (see sdn.wgsl); no exponent shifts in float.

struct Params {
    n: u32,
    kind: u32,
    act_mode: u32,
    cum_error: u32,
    vth: f32,
    _a: u32,
    _b: u32,
    _c: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> s_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> sigma: array<f32>;
@group(0) @binding(4) var<storage, read_write> act: array<f32>;
@group(0) @binding(5) var<storage, read_write> residue: array<f32>;
@group(0) @binding(6) var<storage, read_write> err: array<f32>;
@group(0) @binding(7) var<storage, read> bias: array<f32>;

@compute @workgroup_size(64)
fn sdn_float(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.n) { return; }
    if (p.kind == 0u) {
        sigma[i] = a_in[i] + sigma[i];
        s_out[i] = sigma[i];
        return;
    }
    var x: f32;
    if (p.kind == 1u) {
        x = a_in[i];
    } else {
        sigma[i] = a_in[i] + sigma[i];
        let y = sigma[i] + bias[i];
        x = select(y, max(y, 0.0), p.act_mode == 1u);
    }
    let delta = x - act[i] + residue[i];
    var fire: bool;
    if (p.cum_error != 0u) {
        err[i] = err[i] + delta;
        fire = abs(err[i]) >= p.vth;
    } else {
        fire = abs(delta) >= p.vth;
    }
    let s = select(0.0, delta, fire);
    if (p.cum_error != 0u && abs(s) > 0.0) {
        err[i] = 0.0;
    }
    residue[i] = delta - s;
    act[i] = x;
    s_out[i] = s;
}
