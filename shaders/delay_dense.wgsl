// DelayDense synapses (SPEC §2.4): Dense with a delay per synapse, one thread per output
// row, written over `Scalar` (a precision prelude is prepended). a_buff is (rows, depth)
// row-major: column k is sent in k steps. `delay_dense_emit` sends column 0;
// `delay_dense` shifts every row one column left (the last column becomes zero), then adds,
// per delay k, this step's sum over the inputs whose synapse has delay k (fixed point:
// i32 sums, then the weight_exp shift, as Dense).

struct Params {
    rows: u32,
    cols: u32,
    graded: u32,
    wexp: i32,
    depth: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> s_in: array<Scalar>;
@group(0) @binding(2) var<storage, read_write> a_out: array<Scalar>;
@group(0) @binding(3) var<storage, read_write> a_buff: array<Scalar>;
@group(0) @binding(4) var<storage, read> w: array<Scalar>;
@group(0) @binding(5) var<storage, read> delays: array<u32>;

@compute @workgroup_size(64)
fn delay_dense_emit(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.rows) { return; }
    a_out[i] = a_buff[i * p.depth];
}

@compute @workgroup_size(64)
fn delay_dense(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.rows) { return; }
    let base = i * p.depth;
    for (var k: u32 = 0u; k + 1u < p.depth; k = k + 1u) {
        a_buff[base + k] = a_buff[base + k + 1u];
    }
    a_buff[base + p.depth - 1u] = ZERO;
    let row = i * p.cols;
    for (var k: u32 = 0u; k < p.depth; k = k + 1u) {
        var acc: Scalar = ZERO;
        for (var j: u32 = 0u; j < p.cols; j = j + 1u) {
            let s = s_in[j];
            if (s != ZERO && delays[row + j] == k) {
                acc = acc + select(w[row + j], w[row + j] * s, p.graded != 0u);
            }
        }
        a_buff[base + k] = a_buff[base + k] + dense_finish(acc, p.wexp);
    }
}
