// Dense synapses (SPEC §2.3): one thread per output row, written over `Scalar` (a precision
// prelude is prepended). `dense_emit` copies the previous step's accumulation to the output
// (the one-step synaptic delay); `dense` computes the new one: binary spikes add the column
// of every non-zero input, graded spikes multiply. Fixed point: quantised i32 weights, i32
// accumulation (exact while |sum| < 2^31), then the weight_exp shift.
// Two paths compute the accumulation. `dense` reads row-major weights w[row * cols + j]
// (LearningDense's layout). The event-driven path of plain Dense reads column-major weights
// w[j * rows + row] (a workgroup's adjacent rows read adjacent words) and only the columns
// where some input is non-zero, for a group of GROUP copies at once (each weight read serves
// the group): `dense_events_list` lists those columns per group in ascending order (one
// workgroup per group, a prefix sum per 64 inputs), then `dense_events` (one thread per row
// and group) sums over the list. Every copy's sum runs over its non-zero inputs in ascending
// order, as in `dense`, so both paths give the same bits. `synapse_neuron.wgsl` fuses the
// event-driven sums with the neuron population a Dense alone feeds (the synapse interface
// at the end).

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
// The event-driven path: each group's columns with a non-zero input (cols slots per group)
// and their count.
@group(0) @binding(5) var<storage, read_write> events: array<u32>;
@group(0) @binding(6) var<storage, read_write> event_count: array<u32>;

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

// Copies per group: the host writes min(batch, 8) here (a batch of one keeps one accumulator).
const GROUP: u32 = 8u;

var<workgroup> scan: array<u32, 64>;

@compute @workgroup_size(64)
fn dense_events_list(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) wg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let group = wid.x + wid.y * wg.x;
    if (group * GROUP >= p.batch) { return; }
    let copies = min(GROUP, p.batch - group * GROUP);
    let first = group * GROUP * p.cols;
    let base = group * p.cols;
    var total: u32 = 0u;
    for (var start: u32 = 0u; start < p.cols; start = start + 64u) {
        let j = start + lane;
        var nonzero = false;
        if (j < p.cols) {
            for (var c: u32 = 0u; c < copies; c = c + 1u) {
                nonzero = nonzero || s_in[first + c * p.cols + j] != ZERO;
            }
        }
        scan[lane] = select(0u, 1u, nonzero);
        workgroupBarrier();
        // Inclusive prefix sum over the 64 lanes (Hillis-Steele).
        for (var off: u32 = 1u; off < 64u; off = off * 2u) {
            let below = select(0u, scan[select(0u, lane - off, lane >= off)], lane >= off);
            workgroupBarrier();
            scan[lane] = scan[lane] + below;
            workgroupBarrier();
        }
        if (nonzero) { events[base + total + scan[lane] - 1u] = j; }
        total = total + scan[63];
        workgroupBarrier();
    }
    if (lane == 0u) { event_count[group] = total; }
}

// The event-driven sums of one row for one group of copies, written to a_buff.
fn sum_events(row: u32, group: u32) {
    let copies = min(GROUP, p.batch - group * GROUP);
    let first = group * GROUP * p.cols;
    var acc: array<Scalar, GROUP>;
    for (var c: u32 = 0u; c < GROUP; c = c + 1u) { acc[c] = ZERO; }
    for (var k: u32 = 0u; k < event_count[group]; k = k + 1u) {
        let j = events[group * p.cols + k];
        let wj = w[j * p.rows + row];
        // Constant trip counts (GROUP) let the compiler unroll and keep acc in registers.
        for (var c: u32 = 0u; c < GROUP; c = c + 1u) {
            if (c < copies) {
                let s = s_in[first + c * p.cols + j];
                if (s != ZERO) {
                    acc[c] = acc[c] + select(wj, wj * s, p.graded != 0u);
                }
            }
        }
    }
    for (var c: u32 = 0u; c < GROUP; c = c + 1u) {
        if (c < copies) {
            a_buff[(group * GROUP + c) * p.rows + row] = dense_finish(acc[c], p.wexp);
        }
    }
}

@compute @workgroup_size(64)
fn dense_events(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    let groups = (p.batch + GROUP - 1u) / GROUP;
    if (i >= p.rows * groups) { return; }
    sum_events(i % p.rows, i / p.rows);
}

// The synapse interface of `synapse_neuron.wgsl`: the event-driven path.
const SYN_GROUP: u32 = GROUP;
fn synapse_rows() -> u32 { return p.rows; }
fn synapse_batch() -> u32 { return p.batch; }
fn synapse_delivered(k: u32) -> Scalar { return a_buff[k]; }
fn synapse_sum(row: u32, group: u32) { sum_events(row, group); }
