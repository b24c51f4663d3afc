// Sigma-delta neurons (SPEC §2.2) as a neuron step (`neuron.wgsl`, `synapse_neuron.wgsl`),
// written over `Scalar` (a precision prelude is prepended; fixed point is Lava's wrapping
// int32): kind 0 = Sigma, 1 = Delta, 2 = SigmaDelta, 3 = the corrected fixed-point SigmaDelta
// (SPEC §2.2: no residue, the delta is taken against what was sent); act_mode 0 = unit,
// 1 = ReLU. In fixed point Delta shifts its input left by spike_exp + state_exp, and Delta
// and SigmaDelta shift their message right by state_exnp. Bindings 8 to 14.

struct SdnParams {
    n: u32,
    kind: u32,
    act_mode: u32,
    cum_error: u32,
    vth: Scalar,
    in_shift: u32,
    state_exp: u32,
    _pad: u32,
}

@group(0) @binding(8) var<uniform> np: SdnParams;
@group(0) @binding(9) var<storage, read_write> s_out: array<Scalar>;
@group(0) @binding(10) var<storage, read_write> sigma: array<Scalar>;
@group(0) @binding(11) var<storage, read_write> act: array<Scalar>;
@group(0) @binding(12) var<storage, read_write> residue: array<Scalar>;
@group(0) @binding(13) var<storage, read_write> err: array<Scalar>;
@group(0) @binding(14) var<storage, read> bias: array<Scalar>;

fn neuron_count() -> u32 { return np.n; }

fn neuron_step(i: u32, a: Scalar) {
    if (np.kind == 0u) {
        sigma[i] = a + sigma[i];
        s_out[i] = sigma[i];
        return;
    }
    var x: Scalar;
    if (np.kind == 1u) {
        x = shl_s(a, np.in_shift);
    } else {
        sigma[i] = a + sigma[i];
        let y = sigma[i] + bias[i];
        x = select(y, max(y, ZERO), np.act_mode == 1u);
    }
    if (np.kind == 3u) {
        let change = x - act[i];
        let s = shr_s(select(ZERO, change, abs(change) >= np.vth), np.state_exp);
        act[i] = act[i] + shl_s(s, np.state_exp);
        s_out[i] = s;
        return;
    }
    let delta = x - act[i] + residue[i];
    var fire: bool;
    if (np.cum_error != 0u) {
        err[i] = err[i] + delta;
        fire = abs(err[i]) >= np.vth;
    } else {
        fire = abs(delta) >= np.vth;
    }
    let s = select(ZERO, delta, fire);
    if (np.cum_error != 0u && abs(s) > ZERO) {
        err[i] = ZERO;
    }
    residue[i] = delta - s;
    act[i] = x;
    s_out[i] = shr_s(s, np.state_exp);
}
