// LIF-family neurons, one thread per neuron (of every copy): each steps with its own input.
// Completed with a precision prelude and the neuron of that precision (lif_neuron*.wgsl).

@group(0) @binding(1) var<storage, read> a_in: array<Scalar>;

@compute @workgroup_size(64)
fn lif(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= lp.n) { return; }
    lif_step(i, a_in[i]);
}
