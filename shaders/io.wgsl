// Ring buffers (SPEC §2.6) and the step clock. Data are 32-bit words (i32 for fixed point,
// f32 bits for float: the kernels only move them). `clock[0]` is the current time step.

struct Params {
    n: u32,
    buffer: u32,
    // record: the first word of the probed Var in `port`.
    offset: u32,
    // record: the words one copy of a batch records per step (n = size x copies).
    size: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> clock: array<u32>;
@group(0) @binding(2) var<storage, read_write> port: array<u32>;
@group(0) @binding(3) var<storage, read_write> data: array<u32>;

@compute @workgroup_size(1)
fn tick() {
    clock[0] = clock[0] + 1u;
}

// Source: port[i] = data[i, (t - 1) mod buffer].
@compute @workgroup_size(64)
fn source(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.n) { return; }
    port[i] = data[i * p.buffer + (clock[0] - 1u) % p.buffer];
}

// Sink: data[i, (t - 1) mod buffer] = port[i].
@compute @workgroup_size(64)
fn sink(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.n) { return; }
    data[i * p.buffer + (clock[0] - 1u) % p.buffer] = port[i];
}

// Monitor probe: data[copy, t - 1, i] = port[copy * size + i] (`buffer` holds the probe's
// number of steps; the host refuses runs past it before submitting them, as the CPU Monitor
// fails).
@compute @workgroup_size(64)
fn record(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    let row = clock[0] - 1u;
    if (i >= p.n || row >= p.buffer) { return; }
    data[((i / p.size) * p.buffer + row) * p.size + i % p.size] = port[p.offset + i];
}
