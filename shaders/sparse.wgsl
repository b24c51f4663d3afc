// Sparse, DelaySparse and DelayDense synapses (SPEC §2.4): CSR weights by output row (a
// DelayDense is a pattern holding every entry), one thread per row, written over `Scalar` (a
// precision prelude is prepended). a_buff is (rows, depth) row-major, depth 1 without delays:
// column k is sent in k steps. `sparse_emit` sends column 0; `sparse` shifts every row one
// column left (the last column becomes zero; with depth 1 the row is simply replaced), then
// adds, per delay k, this step's sum over the row's stored entries whose delay is k and whose
// input is non-zero (fixed point: i32 sums, then the weight_exp shift, as Dense).
// A batch of copies shares the pattern: thread t serves row t mod rows of copy t / rows
// (input s_in[copy * cols ..]; a_buff rows are per copy, so row t's slots start at t * depth).
// `synapse_neuron.wgsl` fuses it with the neuron population it alone feeds (the synapse
// interface at the end).

struct Params {
    rows: u32,
    graded: u32,
    wexp: i32,
    depth: u32,
    cols: u32,
    batch: u32,
    _a: u32,
    _b: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> s_in: array<Scalar>;
@group(0) @binding(2) var<storage, read_write> a_out: array<Scalar>;
@group(0) @binding(3) var<storage, read_write> a_buff: array<Scalar>;
@group(0) @binding(4) var<storage, read> w: array<Scalar>;
@group(0) @binding(5) var<storage, read> row_ptr: array<u32>;
@group(0) @binding(6) var<storage, read> cols: array<u32>;
@group(0) @binding(7) var<storage, read> delays: array<u32>;

@compute @workgroup_size(64)
fn sparse_emit(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.rows * p.batch) { return; }
    a_out[i] = a_buff[i * p.depth];
}

@compute @workgroup_size(64)
fn sparse(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.rows * p.batch) { return; }
    sparse_row(i);
}

// Row i mod rows of copy i / rows: the shift of its delay line, then this step's sums.
fn sparse_row(i: u32) {
    let base = i * p.depth;
    let row = i % p.rows;
    let input = (i / p.rows) * p.cols;
    for (var k: u32 = 0u; k + 1u < p.depth; k = k + 1u) {
        a_buff[base + k] = a_buff[base + k + 1u];
    }
    a_buff[base + p.depth - 1u] = ZERO;
    for (var k: u32 = 0u; k < p.depth; k = k + 1u) {
        var acc: Scalar = ZERO;
        for (var e: u32 = row_ptr[row]; e < row_ptr[row + 1u]; e = e + 1u) {
            let s = s_in[input + cols[e]];
            if (s != ZERO && delays[e] == k) {
                acc = acc + select(w[e], w[e] * s, p.graded != 0u);
            }
        }
        a_buff[base + k] = a_buff[base + k] + dense_finish(acc, p.wexp);
    }
}

// The synapse interface of `synapse_neuron.wgsl`: one copy per thread; the output port
// receives column 0 of the delay line.
const SYN_GROUP: u32 = 1u;
fn synapse_rows() -> u32 { return p.rows; }
fn synapse_batch() -> u32 { return p.batch; }
fn synapse_delivered(k: u32) -> Scalar { return a_buff[k * p.depth]; }
fn synapse_sum(row: u32, copy: u32) { sparse_row(copy * p.rows + row); }
