// Float Dense (see dense.wgsl) in f32.

struct Params {
    rows: u32,
    cols: u32,
    graded: u32,
    wexp: i32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> s_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> a_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> a_buff: array<f32>;
@group(0) @binding(4) var<storage, read> w: array<f32>;

@compute @workgroup_size(64)
fn dense_emit(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.rows) { return; }
    a_out[i] = a_buff[i];
}

@compute @workgroup_size(64)
fn dense_float(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.rows) { return; }
    var acc: f32 = 0.0;
    let row = i * p.cols;
    for (var j: u32 = 0u; j < p.cols; j = j + 1u) {
        let s = s_in[j];
        if (s != 0.0) {
            acc = acc + select(w[row + j], w[row + j] * s, p.graded != 0u);
        }
    }
    a_buff[i] = acc;
}
