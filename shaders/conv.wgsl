// Convolution synapses (SPEC §2.5), one thread per output element, gathering over the
// kernel (a true convolution: tap (i, j) reads input x·s + d·(k-1-i) - p). Written over
// `Scalar` (precision_fixed.wgsl or precision_float.wgsl is prepended): fixed point sums in
// wrapping i32, which keeps the sum exact modulo 2^24, then wraps to signed 24 bits like
// Lava. `conv_emit` sends the previous step's result (the one-step synaptic delay).
// `synapse_neuron.wgsl` fuses either direction with the neuron population it alone feeds
// (the synapse interface at the end).

struct Params {
    in_x: u32, in_y: u32, in_c: u32, groups: u32,
    out_x: u32, out_y: u32, out_c: u32, graded: u32,
    kx: u32, ky: u32, stride_x: u32, stride_y: u32,
    pad_x: u32, pad_y: u32, dil_x: u32, dil_y: u32,
    // Copies in the batch (they share the weights; thread t serves element t mod size of
    // copy t / size, reading that copy's input); 1 for a ConvTranspose (the fused kernel's
    // choice of sum).
    batch: u32, transposed: u32, _b: u32, _c: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> s_in: array<Scalar>;
@group(0) @binding(2) var<storage, read_write> a_out: array<Scalar>;
@group(0) @binding(3) var<storage, read_write> a_buf: array<Scalar>;
@group(0) @binding(4) var<storage, read> w: array<Scalar>;

@compute @workgroup_size(64)
fn conv_emit(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let o = gid.x + gid.y * wg.x * 64u;
    if (o >= p.out_x * p.out_y * p.out_c * p.batch) { return; }
    a_out[o] = a_buf[o];
}

@compute @workgroup_size(64)
fn conv(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let t = gid.x + gid.y * wg.x * 64u;
    if (t >= p.out_x * p.out_y * p.out_c * p.batch) { return; }
    conv_at(t);
}

// Output element t mod size of copy t / size.
fn conv_at(t: u32) {
    let size = p.out_x * p.out_y * p.out_c;
    let o = t % size;
    let input = (t / size) * (p.in_x * p.in_y * p.in_c);
    let k = o % p.out_c;
    let oy = (o / p.out_c) % p.out_y;
    let ox = o / (p.out_c * p.out_y);
    let cg = p.in_c / p.groups;
    let kg = p.out_c / p.groups;
    let group = k / kg;
    var acc: Scalar = ZERO;
    for (var i: u32 = 0u; i < p.kx; i = i + 1u) {
        let px = i32(ox * p.stride_x + p.dil_x * (p.kx - 1u - i)) - i32(p.pad_x);
        if (px < 0 || px >= i32(p.in_x)) { continue; }
        for (var j: u32 = 0u; j < p.ky; j = j + 1u) {
            let py = i32(oy * p.stride_y + p.dil_y * (p.ky - 1u - j)) - i32(p.pad_y);
            if (py < 0 || py >= i32(p.in_y)) { continue; }
            for (var c: u32 = 0u; c < cg; c = c + 1u) {
                let s = s_in[input + (u32(px) * p.in_y + u32(py)) * p.in_c + group * cg + c];
                if (s == ZERO) { continue; }
                let wv = w[((k * p.kx + i) * p.ky + j) * cg + c];
                acc = acc + select(wv, wv * s, p.graded != 0u);
            }
        }
    }
    a_buf[t] = conv_finish(acc);
}

// Transposed convolution (ConvTranspose: the adjoint of `conv` with the same geometry, whose
// `in_*` is then this kernel's output and `out_*` its input), one thread per output element
// (forward input position px, py, channel c), gathering the forward outputs whose taps read it.
@compute @workgroup_size(64)
fn conv_transpose_emit(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let o = gid.x + gid.y * wg.x * 64u;
    if (o >= p.in_x * p.in_y * p.in_c * p.batch) { return; }
    a_out[o] = a_buf[o];
}

@compute @workgroup_size(64)
fn conv_transpose(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let t = gid.x + gid.y * wg.x * 64u;
    if (t >= p.in_x * p.in_y * p.in_c * p.batch) { return; }
    conv_transpose_at(t);
}

// Output element t mod size of copy t / size.
fn conv_transpose_at(t: u32) {
    let size = p.in_x * p.in_y * p.in_c;
    let o = t % size;
    let input = (t / size) * (p.out_x * p.out_y * p.out_c);
    let c = o % p.in_c;
    let py = (o / p.in_c) % p.in_y;
    let px = o / (p.in_c * p.in_y);
    let cg = p.in_c / p.groups;
    let kg = p.out_c / p.groups;
    let group = c / cg;
    let cl = c % cg;
    var acc: Scalar = ZERO;
    for (var i: u32 = 0u; i < p.kx; i = i + 1u) {
        // px = ox·s + d·(kx-1-i) - pad, solved for ox.
        let nx = i32(px + p.pad_x) - i32(p.dil_x * (p.kx - 1u - i));
        if (nx < 0 || u32(nx) % p.stride_x != 0u) { continue; }
        let ox = u32(nx) / p.stride_x;
        if (ox >= p.out_x) { continue; }
        for (var j: u32 = 0u; j < p.ky; j = j + 1u) {
            let ny = i32(py + p.pad_y) - i32(p.dil_y * (p.ky - 1u - j));
            if (ny < 0 || u32(ny) % p.stride_y != 0u) { continue; }
            let oy = u32(ny) / p.stride_y;
            if (oy >= p.out_y) { continue; }
            for (var kl: u32 = 0u; kl < kg; kl = kl + 1u) {
                let k = group * kg + kl;
                let s = s_in[input + (ox * p.out_y + oy) * p.out_c + k];
                if (s == ZERO) { continue; }
                let wv = w[((k * p.kx + i) * p.ky + j) * cg + cl];
                acc = acc + select(wv, wv * s, p.graded != 0u);
            }
        }
    }
    a_buf[t] = conv_finish(acc);
}

// The synapse interface of `synapse_neuron.wgsl`: one copy per thread, in the direction the
// uniform says.
const SYN_GROUP: u32 = 1u;
fn synapse_rows() -> u32 {
    return select(p.out_x * p.out_y * p.out_c, p.in_x * p.in_y * p.in_c, p.transposed != 0u);
}
fn synapse_batch() -> u32 { return p.batch; }
fn synapse_delivered(k: u32) -> Scalar { return a_buf[k]; }
fn synapse_sum(row: u32, copy: u32) {
    let t = copy * synapse_rows() + row;
    if (p.transposed != 0u) {
        conv_transpose_at(t);
    } else {
        conv_at(t);
    }
}
