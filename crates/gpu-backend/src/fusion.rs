//! Which synapses run fused with the neuron population they feed (`shaders/synapse_neuron.wgsl`):
//! one kernel per step steps the population with the synapse's previous sums and computes the
//! new ones, in place of the synapse's emit, the population's kernel and the synapse's sums.
//! Fusion never changes a number; it is chosen only where that holds (see [`fusions`]).

use std::collections::HashMap;

use basalt_core::executable::{Executable, LeafProcess, Source};

use crate::neurons::{self, NeuronPlan};
use crate::synapses::{self, SynapsePlan};
use crate::{shaders, Builder, Launch};

/// The OutPorts (global indices) a source reads.
fn source_ports(source: &Source) -> Vec<usize> {
    match source {
        Source::Identity(o) => vec![*o],
        Source::Gather { port, .. } => port.iter().map(|&q| q as usize).collect(),
    }
}

/// The synapses to fuse with the neuron population they feed, by that population's index:
/// a synapse with a synapse interface whose output reaches a population with a neuron step
/// through that population's only InPort, untransformed, and nothing else (no other process,
/// no Monitor probe), and every process its input comes from runs before the population in
/// the schedule, so the fused kernel can run in the population's place. (A recurrent
/// synapse, whose input comes from the population itself, is never fused.) A pair is left
/// apart when the device binds fewer storage buffers per kernel than the two together.
pub(crate) fn fusions(exe: &Executable, max_storage_buffers: u32) -> HashMap<usize, usize> {
    let mut fused = HashMap::new();
    let out_ports: usize = exe.processes.iter().map(|p| p.out_ports.len()).sum();
    let mut owner = vec![usize::MAX; out_ports];
    for (pi, p) in exe.processes.iter().enumerate() {
        for k in 0..p.out_ports.len() {
            owner[p.out_port_offset + k] = pi;
        }
    }
    let mut position = vec![usize::MAX; exe.processes.len()];
    for (k, &pi) in exe.schedule.iter().enumerate() {
        position[pi] = k;
    }
    // Every (reader, whether it reads this port alone and untransformed) of each OutPort.
    let mut readers: Vec<Vec<(usize, bool)>> = vec![Vec::new(); out_ports];
    let sources_of = |p: &LeafProcess, k: usize| &exe.in_port_sources[p.in_port_offset + k];
    for (pi, p) in exe.processes.iter().enumerate() {
        for k in 0..p.in_ports.len() {
            let sources = sources_of(p, k);
            for source in sources {
                let alone = matches!(sources.as_slice(), [Source::Identity(_)]);
                for o in source_ports(source) {
                    if let Some(r) = readers.get_mut(o) {
                        r.push((pi, alone));
                    }
                }
            }
        }
    }
    for (s, p) in exe.processes.iter().enumerate() {
        let Some(synapse_buffers) = synapses::storage_buffers(&p.type_name) else { continue };
        if p.out_ports.len() != 1 || p.in_ports.len() != 1 {
            continue;
        }
        let Some(&[(n, true)]) = readers.get(p.out_port_offset).map(Vec::as_slice) else { continue };
        let neuron = &exe.processes[n];
        let Some(neuron_buffers) = neurons::storage_buffers(&neuron.type_name) else { continue };
        if neuron.in_ports.len() != 1 || synapse_buffers + neuron_buffers > max_storage_buffers {
            continue;
        }
        let inputs_first = sources_of(p, 0)
            .iter()
            .flat_map(source_ports)
            .all(|o| owner.get(o).is_some_and(|&q| position[q] < position[n]));
        if inputs_first {
            fused.insert(n, s);
        }
    }
    fused
}

/// The fused launch of a synapse and the population it feeds.
pub(crate) fn fused_launch(b: &mut Builder<'_>, synapse: &SynapsePlan, neuron: &NeuronPlan) -> Launch {
    let binds: Vec<(u32, &wgpu::Buffer)> =
        synapse.bindings.iter().chain(&neuron.bindings).map(|(k, buf)| (*k, buf)).collect();
    let src = shaders::synapse_neuron(&synapse.source, neuron.step, b.fixed);
    b.launch(&src, "synapse_neuron", &binds, synapse.threads)
}
