// Float adaptive LIF (Basalt `Alif`; crates/core process/alif.rs) as a neuron step
// (`neuron.wgsl`, `synapse_neuron.wgsl`) in f32: u = u(1-du) + a; v = v(1-dv) + u + bias;
// r = r(1-dr); θ = (θ - θ0)(1-dθ) + θ0; spike when v >= θ + r, then r += 2θ and θ += step;
// no voltage reset. Bindings 8 to 15.

struct AlifParams {
    // Neurons over the batch.
    n: u32,
    // 1 - d for du, dv, dθ, dr.
    fu: f32,
    fv: f32,
    fth: f32,
    fr: f32,
    // θ0 = vth and the step.
    th0: f32,
    step: f32,
    _pad: u32,
}

@group(0) @binding(8) var<uniform> ap: AlifParams;
@group(0) @binding(9) var<storage, read_write> s_out: array<f32>;
@group(0) @binding(10) var<storage, read_write> u: array<f32>;
@group(0) @binding(11) var<storage, read_write> v: array<f32>;
@group(0) @binding(12) var<storage, read_write> theta: array<f32>;
@group(0) @binding(13) var<storage, read_write> refr: array<f32>;
@group(0) @binding(14) var<storage, read_write> spiked: array<f32>;
@group(0) @binding(15) var<storage, read> bias_mant: array<f32>;

fn neuron_count() -> u32 { return ap.n; }

fn neuron_step(i: u32, a: f32) {
    let cur = ap.fu * u[i] + a;
    let volt = ap.fv * v[i] + cur + bias_mant[i];
    var rr = ap.fr * refr[i];
    var th = ap.fth * (theta[i] - ap.th0) + ap.th0;
    let spike = volt >= th + rr;
    if (spike) {
        rr = rr + 2.0 * th;
        th = th + ap.step;
    }
    u[i] = cur;
    v[i] = volt;
    theta[i] = th;
    refr[i] = rr;
    spiked[i] = select(0.0, 1.0, spike);
    s_out[i] = select(0.0, 1.0, spike);
}
