// Template (needs a precision prelude). InPorts fed through port transforms or by several
// sources. `gather`: dst[i] = src[idx[i]], words moved as they are (i32 or f32 bits), for
// a reshape/transpose/concat of one OutPort or the first of several sources.
// `accumulate`: dst[i] += src[idx[i]] for each further source (i32 wrapping in fixed point,
// f32 in float), as Lava's InPort sums its inputs.

struct Params {
    n: u32,
    _a: u32,
    _b: u32,
    _c: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@group(0) @binding(3) var<storage, read> idx: array<u32>;

@compute @workgroup_size(64)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.n) { return; }
    dst[i] = src[idx[i]];
}

@compute @workgroup_size(64)
fn accumulate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.n) { return; }
    dst[i] = bitcast<u32>(bitcast<Scalar>(dst[i]) + bitcast<Scalar>(src[idx[i]]));
}

// A concatenation of several OutPorts is one `scatter` (or, for a further source,
// `scatter_accumulate`) per OutPort: dst[pos[i]] = src[idx[i]] over the destination
// elements that OutPort feeds; together they cover every element once.
@group(0) @binding(4) var<storage, read> pos: array<u32>;

@compute @workgroup_size(64)
fn scatter(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.n) { return; }
    dst[pos[i]] = src[idx[i]];
}

@compute @workgroup_size(64)
fn scatter_accumulate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.n) { return; }
    dst[pos[i]] = bitcast<u32>(bitcast<Scalar>(dst[pos[i]]) + bitcast<Scalar>(src[idx[i]]));
}
