// The learning side of a LearningLif (docs/ARCHITECTURE.md, "Learning on the GPU"), around
// neuron.wgsl's LIF kernel, over `Scalar` with `FIXED` branches (a precision prelude is
// prepended):
//   lif_trace, before the LIF: y1 = y1 * exp(-1/tau) + impulse * s_prev, where s_prev is
//   last step's spike still in s_out; fixed point floors it, read from a table the host
//   computed in f64 for every reachable y1 (so the GPU needs no f64);
//   lif_send, after the LIF: y2 = the third-factor input, then s_out goes out on s_out_bap
//   and y1..y3 on s_out_y1..3.

struct Params {
    n: u32,
    // Fixed point: entries per spike value in `table`.
    table_len: u32,
    // Float: impulse and exp(-1/tau) (f32 bits).
    impulse: u32,
    factor: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> s_out: array<Scalar>;
@group(0) @binding(2) var<storage, read_write> y1: array<Scalar>;
// Fixed point: [s = 0 | s = 1] x table_len next values of y1.
@group(0) @binding(3) var<storage, read> table: array<i32>;
@group(0) @binding(4) var<storage, read> third: array<Scalar>;
@group(0) @binding(5) var<storage, read_write> y2: array<Scalar>;
@group(0) @binding(6) var<storage, read> y3: array<Scalar>;
@group(0) @binding(7) var<storage, read_write> s_out_bap: array<Scalar>;
@group(0) @binding(8) var<storage, read_write> s_out_y1: array<Scalar>;
@group(0) @binding(9) var<storage, read_write> s_out_y2: array<Scalar>;
@group(0) @binding(10) var<storage, read_write> s_out_y3: array<Scalar>;

@compute @workgroup_size(64)
fn lif_trace(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.n) { return; }
    let s = s_out[i];
    if (FIXED) {
        let row = select(0u, p.table_len, s != ZERO);
        y1[i] = Scalar(table[row + u32(clamp(i32(y1[i]), 0, i32(p.table_len) - 1))]);
    } else {
        y1[i] = y1[i] * Scalar(bitcast<f32>(p.factor)) + Scalar(bitcast<f32>(p.impulse)) * s;
    }
}

@compute @workgroup_size(64)
fn lif_send(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.n) { return; }
    y2[i] = third[i];
    s_out_bap[i] = s_out[i];
    s_out_y1[i] = y1[i];
    s_out_y2[i] = third[i];
    s_out_y3[i] = y3[i];
}
