// Dense synapses (SPEC §2.3): one thread per output row, written over `Scalar` (a precision
// prelude is prepended). `dense_emit` copies the previous step's accumulation to the output
// (the one-step synaptic delay); `dense` computes the new one: binary spikes add the column
// of every non-zero input, graded spikes multiply. Fixed point: quantised i32 weights, i32
// accumulation (exact while |sum| < 2^31), then the weight_exp shift.
// Two paths compute the accumulation. `dense` reads row-major weights w[row * cols + j]
// (LearningDense's layout). The event-driven path of plain Dense reads column-major weights
// w[j * rows + row] (a workgroup's adjacent rows read adjacent words) and only the columns of
// inputs that are non-zero: `dense_events_list` lists them per copy in ascending order (one
// workgroup per copy, a prefix sum per 64 inputs), then `dense_events` sums over the list.
// The sums run in the same order as `dense`, so both paths give the same bits.
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
// The event-driven path: each copy's non-zero inputs (cols slots per copy) and their count.
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

var<workgroup> scan: array<u32, 64>;

@compute @workgroup_size(64)
fn dense_events_list(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) wg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let copy = wid.x + wid.y * wg.x;
    if (copy >= p.batch) { return; }
    let base = copy * p.cols;
    var total: u32 = 0u;
    for (var start: u32 = 0u; start < p.cols; start = start + 64u) {
        let j = start + lane;
        var nonzero = false;
        if (j < p.cols) { nonzero = s_in[base + j] != ZERO; }
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
    if (lane == 0u) { event_count[copy] = total; }
}

@compute @workgroup_size(64)
fn dense_events(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.rows * p.batch) { return; }
    let row = i % p.rows;
    let copy = i / p.rows;
    let input = copy * p.cols;
    var acc: Scalar = ZERO;
    for (var k: u32 = 0u; k < event_count[copy]; k = k + 1u) {
        let j = events[input + k];
        let wj = w[j * p.rows + row];
        acc = acc + select(wj, wj * s_in[input + j], p.graded != 0u);
    }
    a_buff[i] = dense_finish(acc, p.wexp);
}
