// Neurons, one thread per neuron of every copy: each steps with its own input. Completed with
// a precision prelude and one neuron step (lif_neuron*.wgsl, alif_neuron*.wgsl,
// sdn_neuron.wgsl), which provides `neuron_count()` (neurons over the batch) and
// `neuron_step(i, a)` on bindings 8 and up; `synapse_neuron.wgsl` calls the same step fused
// with the synapse that feeds it.

@group(0) @binding(1) var<storage, read> a_in: array<Scalar>;

@compute @workgroup_size(64)
fn neuron(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= neuron_count()) { return; }
    neuron_step(i, a_in[i]);
}
