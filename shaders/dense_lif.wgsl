// A Dense fused with the one LIF-family population it feeds (nothing else reads its output):
// the event-driven Dense's threads (one per row and group of copies) first step each copy's
// neuron of that row with the accumulation of the previous step (the one-step synaptic
// delay, which `dense_emit` otherwise copies to the output port), then sum the row's new
// accumulation. One launch instead of three (emit, LIF, sums), and the accumulation is read
// by the thread that writes it. Completed from a precision prelude, dense.wgsl and the neuron
// of that precision (lif_neuron*.wgsl).

@compute @workgroup_size(64)
fn dense_events_lif(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    let groups = (p.batch + GROUP - 1u) / GROUP;
    if (i >= p.rows * groups) { return; }
    let row = i % p.rows;
    let group = i / p.rows;
    let copies = min(GROUP, p.batch - group * GROUP);
    for (var c: u32 = 0u; c < copies; c = c + 1u) {
        let k = (group * GROUP + c) * p.rows + row;
        lif_step(k, a_buff[k]);
    }
    sum_events(row, group);
}
