// Dense synapses (SPEC §2.3): one thread per output row, written over `Scalar` (a precision
// prelude is prepended). `dense_emit` copies the previous step's accumulation to the output
// (the one-step synaptic delay); `dense` computes the new one: binary spikes add the column
// of every non-zero input, graded spikes multiply. Fixed point: quantised i32 weights, i32
// accumulation (exact while |sum| < 2^31), then the weight_exp shift.
// A batch of copies shares the weights: thread t serves row t mod rows of copy t / rows,
// whose input is s_in[copy * cols ..] and whose rows are a_buff[copy * rows ..].
// Every kernel's flat thread index is gid.x + gid.y * wg.x * 64: the host spreads launches
// wider than a dispatch dimension over y.

struct Params {
    rows: u32,
    cols: u32,
    graded: u32,
    wexp: i32,
    batch: u32,
    _a: u32,
    _b: u32,
    _c: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> s_in: array<Scalar>;
@group(0) @binding(2) var<storage, read_write> a_out: array<Scalar>;
@group(0) @binding(3) var<storage, read_write> a_buff: array<Scalar>;
@group(0) @binding(4) var<storage, read> w: array<Scalar>;

@compute @workgroup_size(64)
fn dense_emit(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.rows * p.batch) { return; }
    a_out[i] = a_buff[i];
}

@compute @workgroup_size(64)
fn dense(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.rows * p.batch) { return; }
    var acc: Scalar = ZERO;
    let row = (i % p.rows) * p.cols;
    let input = (i / p.rows) * p.cols;
    for (var j: u32 = 0u; j < p.cols; j = j + 1u) {
        let s = s_in[input + j];
        if (s != ZERO) {
            acc = acc + select(w[row + j], w[row + j] * s, p.graded != 0u);
        }
    }
    a_buff[i] = dense_finish(acc, p.wexp);
}
