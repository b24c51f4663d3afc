// Float LIF (Lava PyLifModelFloat) in f32: u = u(1-du) + a; v = v(1-dv) + u + bias;
// spike where v > vth; v reset to 0. `lif_family_float` adds LIFReset (u and v zeroed at the
// start of steps with t mod interval == offset mod interval), TernaryLIF (+1 above vth,
// -1 below vth_lo) and LIFRefractory (v held until the step after refractory_period_end,
// which a spike at t sets to t + period), with the CPU model's operation order.

struct Params {
    n: u32,
    fu: f32,
    fv: f32,
    vth: f32,
    // lif_family_float: 1 LIFReset (x: interval, y: offset mod interval), 2 TernaryLIF,
    // 3 LIFRefractory (x: period).
    kind: u32,
    x: u32,
    y: u32,
    vth_lo: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> s_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> u: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> bias_mant: array<f32>;
@group(0) @binding(6) var<storage, read> clock: array<u32>;
@group(0) @binding(7) var<storage, read_write> refractory_end: array<f32>;

// The spike for a voltage (ternary: -1 below vth_lo too), then u, v (reset) and the output
// written back; returns the spike.
fn fire(i: u32, cur: f32, volt: f32, ternary: bool) -> f32 {
    var spike = select(0.0, 1.0, volt > p.vth);
    if (ternary) {
        spike = spike - select(0.0, 1.0, volt < p.vth_lo);
    }
    u[i] = cur;
    v[i] = select(volt, 0.0, spike != 0.0);
    s_out[i] = spike;
    return spike;
}

@compute @workgroup_size(64)
fn lif_float(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.n) { return; }
    let cur = u[i] * p.fu + a_in[i];
    fire(i, cur, v[i] * p.fv + cur + bias_mant[i], false);
}

@compute @workgroup_size(64)
fn lif_family_float(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.n) { return; }
    let t = clock[0];
    let reset = p.kind == 1u && t % p.x == p.y;
    let u0 = select(u[i], 0.0, reset);
    let v0 = select(v[i], 0.0, reset);
    let cur = u0 * p.fu + a_in[i];
    var volt = v0 * p.fv + cur + bias_mant[i];
    if (p.kind == 3u) {
        // The CPU model's order inside the refractory rule: v (1 - dv) + (u + bias).
        let outside = refractory_end[i] < f32(t);
        volt = select(v0, v0 * p.fv + (cur + bias_mant[i]), outside);
    }
    let spike = fire(i, cur, volt, p.kind == 2u);
    if (p.kind == 3u && spike != 0.0) {
        refractory_end[i] = f32(t + p.x);
    }
}
