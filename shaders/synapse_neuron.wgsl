// A synapse fused with the one neuron population it feeds (nothing else reads its output):
// each thread (one per output row and group of SYN_GROUP copies) first steps that row's
// neuron in each copy with what the synapse delivers this step (the accumulation of the
// previous step: the one-step synaptic delay, which the synapse's emit kernel otherwise
// copies to its output port), then computes the row's new accumulation. One launch instead
// of three (emit, neuron, synapse), and the accumulation is read by the thread that wrote
// it. Completed from a precision prelude, a synapse (dense.wgsl, sparse.wgsl or conv.wgsl:
// `SYN_GROUP`, `synapse_rows()`, `synapse_batch()`, `synapse_delivered(k)`,
// `synapse_sum(row, group)` on bindings 0 to 7) and a neuron step (bindings 8 and up).

@compute @workgroup_size(64)
fn synapse_neuron(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    let rows = synapse_rows();
    let batch = synapse_batch();
    let groups = (batch + SYN_GROUP - 1u) / SYN_GROUP;
    if (i >= rows * groups) { return; }
    let row = i % rows;
    let group = i / rows;
    let copies = min(SYN_GROUP, batch - group * SYN_GROUP);
    for (var c: u32 = 0u; c < copies; c = c + 1u) {
        let k = (group * SYN_GROUP + c) * rows + row;
        neuron_step(k, synapse_delivered(k));
    }
    synapse_sum(row, group);
}
