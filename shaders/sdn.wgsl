// Sigma-delta neurons (SPEC §2.2), written over `Scalar` (a precision prelude is
// prepended; fixed point is Lava's wrapping int32): kind 0 = Sigma, 1 = Delta,
// 2 = SigmaDelta, 3 = the corrected fixed-point SigmaDelta (SPEC §2.2: no residue, the delta
// is taken against what was sent); act_mode 0 = unit, 1 = ReLU. In fixed point Delta shifts its input left by
// spike_exp + state_exp, and Delta and SigmaDelta shift their message right by state_exp.

struct Params {
    n: u32,
    kind: u32,
    act_mode: u32,
    cum_error: u32,
    vth: Scalar,
    in_shift: u32,
    state_exp: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a_in: array<Scalar>;
@group(0) @binding(2) var<storage, read_write> s_out: array<Scalar>;
@group(0) @binding(3) var<storage, read_write> sigma: array<Scalar>;
@group(0) @binding(4) var<storage, read_write> act: array<Scalar>;
@group(0) @binding(5) var<storage, read_write> residue: array<Scalar>;
@group(0) @binding(6) var<storage, read_write> err: array<Scalar>;
@group(0) @binding(7) var<storage, read> bias: array<Scalar>;

@compute @workgroup_size(64)
fn sdn(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.n) { return; }
    if (p.kind == 0u) {
        sigma[i] = a_in[i] + sigma[i];
        s_out[i] = sigma[i];
        return;
    }
    var x: Scalar;
    if (p.kind == 1u) {
        x = shl_s(a_in[i], p.in_shift);
    } else {
        sigma[i] = a_in[i] + sigma[i];
        let y = sigma[i] + bias[i];
        x = select(y, max(y, ZERO), p.act_mode == 1u);
    }
    if (p.kind == 3u) {
        let change = x - act[i];
        let s = shr_s(select(ZERO, change, abs(change) >= p.vth), p.state_exp);
        act[i] = act[i] + shl_s(s, p.state_exp);
        s_out[i] = s;
        return;
    }
    let delta = x - act[i] + residue[i];
    var fire: bool;
    if (p.cum_error != 0u) {
        err[i] = err[i] + delta;
        fire = abs(err[i]) >= p.vth;
    } else {
        fire = abs(delta) >= p.vth;
    }
    let s = select(ZERO, delta, fire);
    if (p.cum_error != 0u && abs(s) > ZERO) {
        err[i] = ZERO;
    }
    residue[i] = delta - s;
    act[i] = x;
    s_out[i] = shr_s(s, p.state_exp);
}
