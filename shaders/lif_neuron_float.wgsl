// Float LIF-family neurons (Lava PyLifModelFloat) in f32, as a function a kernel calls per
// neuron with its input (`neuron.wgsl`, one thread per neuron, and `synapse_neuron.wgsl`,
// fused with the synapse that feeds them): u = u(1-du) + a; v = v(1-dv) + u + bias; spike
// where v > vth; v reset to 0. Kind 1 adds LIFReset (u and v zeroed at the start of steps
// with t mod interval == offset mod interval), 2 TernaryLIF (+1 above vth, -1 below vth_lo),
// 3 LIFRefractory (v held until the step after refractory_period_end, which a spike at t
// sets to t + period), with the CPU model's operation order. Bindings 8 to 14, clear of the kernels that include it.

struct LifParams {
    // Neurons over the whole batch (the per-neuron kernel's bound).
    n: u32,
    fu: f32,
    fv: f32,
    vth: f32,
    // 0 LIF, 1 LIFReset (x: interval, y: offset mod interval), 2 TernaryLIF,
    // 3 LIFRefractory (x: period).
    kind: u32,
    x: u32,
    y: u32,
    vth_lo: f32,
}

@group(0) @binding(8) var<uniform> lp: LifParams;

fn neuron_count() -> u32 { return lp.n; }
@group(0) @binding(9) var<storage, read_write> s_out: array<f32>;
@group(0) @binding(10) var<storage, read_write> u: array<f32>;
@group(0) @binding(11) var<storage, read_write> v: array<f32>;
@group(0) @binding(12) var<storage, read> bias_mant: array<f32>;
@group(0) @binding(13) var<storage, read> clock: array<u32>;
@group(0) @binding(14) var<storage, read_write> refractory_end: array<f32>;

// Neuron i's step with input a: current, voltage, spike (ternary: -1 below vth_lo too) and
// reset written back.
fn neuron_step(i: u32, a: f32) {
    let t = clock[0];
    let reset = lp.kind == 1u && t % lp.x == lp.y;
    let u0 = select(u[i], 0.0, reset);
    let v0 = select(v[i], 0.0, reset);
    let cur = u0 * lp.fu + a;
    var volt = v0 * lp.fv + cur + bias_mant[i];
    if (lp.kind == 3u) {
        // The CPU model's order inside the refractory rule: v (1 - dv) + (u + bias).
        let outside = refractory_end[i] < f32(t);
        volt = select(v0, v0 * lp.fv + (cur + bias_mant[i]), outside);
    }
    var spike = select(0.0, 1.0, volt > lp.vth);
    if (lp.kind == 2u) {
        spike = spike - select(0.0, 1.0, volt < lp.vth_lo);
    }
    u[i] = cur;
    v[i] = select(volt, 0.0, spike != 0.0);
    s_out[i] = spike;
    if (lp.kind == 3u && spike != 0.0) {
        refractory_end[i] = f32(t + lp.x);
    }
}
