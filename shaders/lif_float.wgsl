// Float LIF (Lava PyLifModelFloat) in f32: u = u(1-du) + a; v = v(1-dv) + u + bias;
// spike where v > vth; v reset to 0.

struct Params {
    n: u32,
    fu: f32,
    fv: f32,
    vth: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> s_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> u: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> bias_mant: array<f32>;

@compute @workgroup_size(64)
fn lif_float(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.n) { return; }
    let cur = u[i] * p.fu + a_in[i];
    let volt = v[i] * p.fv + cur + bias_mant[i];
    let spike = volt > p.vth;
    u[i] = cur;
    v[i] = select(volt, 0.0, spike);
    s_out[i] = select(0.0, 1.0, spike);
}
