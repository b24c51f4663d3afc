// io.Reset (SPEC §2.6): writes a value into a Var at steps with (t - 1) mod interval == offset
// (the post-management phase, after the step's spike phase).

struct Params {
    n: u32,
    interval: u32,
    offset: u32,
    value: u32,
    // The target Var's first word in its buffer.
    first: u32,
    _a: u32,
    _b: u32,
    _c: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> clock: array<u32>;
@group(0) @binding(2) var<storage, read_write> target_var: array<u32>;

@compute @workgroup_size(64)
fn reset(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.n) { return; }
    if ((clock[0] - 1u) % p.interval == p.offset) {
        target_var[p.first + i] = p.value;
    }
}
