// io.Read (Lava io.sink.Read): in post-management of the steps t with
// (t - 1) mod interval == offset, copies the read Var (n words from word `src_offset` of its
// buffer) into column (reading number mod buffer) of the (n, buffer) data.

struct Params {
    n: u32,
    interval: u32,
    offset: u32,
    buffer: u32,
    src_offset: u32,
    _a: u32,
    _b: u32,
    _c: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> clock: array<u32>;
@group(0) @binding(2) var<storage, read> src: array<u32>;
@group(0) @binding(3) var<storage, read_write> data: array<u32>;

@compute @workgroup_size(64)
fn read_var(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    let t = clock[0];
    if (i >= p.n || (t - 1u) % p.interval != p.offset) { return; }
    let reading = (t - 1u - p.offset) / p.interval;
    data[i * p.buffer + reading % p.buffer] = src[p.src_offset + i];
}
