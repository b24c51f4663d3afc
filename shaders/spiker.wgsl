// Periodic spike sources and payload receivers (SPEC §2.7, Lava proc.spiker / proc.receiver),
// one thread per neuron, over `Scalar` (a precision prelude is prepended). Their Vars are
// integers in both precisions (i32 buffers); the payload is sent as a Scalar.
// `spiker`: fires its payload when counter == rate, then counter = 1, else counter += 1.
// `receiver`: payload = the input truncated toward zero.

struct Params {
    n: u32,
    _a: u32,
    _b: u32,
    _c: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rate: array<i32>;
@group(0) @binding(2) var<storage, read_write> counter: array<i32>;
@group(0) @binding(3) var<storage, read> payload: array<Scalar>;
@group(0) @binding(4) var<storage, read_write> s_out: array<Scalar>;
@group(0) @binding(5) var<storage, read> a_in: array<Scalar>;
@group(0) @binding(6) var<storage, read_write> received: array<i32>;

@compute @workgroup_size(64)
fn spiker(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let k = gid.x + gid.y * wg.x * 64u;
    if (k >= p.n) { return; }
    let fire = counter[k] == rate[k];
    s_out[k] = select(ZERO, payload[k], fire);
    counter[k] = select(counter[k] + 1, 1, fire);
}

@compute @workgroup_size(64)
fn receiver(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let k = gid.x + gid.y * wg.x * 64u;
    if (k >= p.n) { return; }
    received[k] = i32(a_in[k]);
}
