//! NIR interchange: a network trained in snnTorch and exported with `export_to_nir` runs in
//! Basalt, and a lava-dl netx network goes to NIR and back.
//!
//! `cargo run --example nir_interchange`
//!
//! 1. Reads `crates/nir/tests/data/snntorch.nir` (snnTorch's Linear -> Leaky -> Linear ->
//!    Synaptic, exported by `tools/oracle/nir_cases.py`), prints its nodes, and simulates it
//!    with dt = 0.1 ms (snnTorch's export step) on the input the reference was computed
//!    for, comparing with that NumPy reference.
//! 2. Converts lava-dl's tiny CUBA network (netx) to NIR with dt = 1 ms and back, and shows
//!    that the layers are unchanged.
//! 3. Exports a Basalt network (a spike source -> Dense -> float LIF -> Dense -> LIF) to
//!    `target/basalt_export.nir` with dt = 1 ms, simulates the NIR graph and compares its
//!    spikes with Basalt's run of the original network.

use std::collections::BTreeMap;
use std::path::Path;

use basalt::nir::{netx_to_nir, nir_to_netx, read, simulate, Node, Options};
use basalt::persist::npz;
use ndarray::Array2;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = root.join("crates/nir/tests/data");

    let graph = read(data.join("snntorch.nir"))?;
    println!("snntorch.nir: {} nodes, {} edges", graph.nodes.len(), graph.edges.len());
    for (name, node) in &graph.nodes {
        let detail = match node {
            Node::Affine { weight, .. } => format!("weight {:?}", weight.shape),
            Node::LIF { tau, r, .. } => format!("tau {:.3e} s, r {:.3}", tau.data[0], r.data[0]),
            Node::CubaLIF { tau_syn, tau_mem, .. } => {
                format!("tau_syn {:.3e} s, tau_mem {:.3e} s", tau_syn.data[0], tau_mem.data[0])
            }
            Node::Input { shape } | Node::Output { shape } => format!("shape {shape:?}"),
            _ => String::new(),
        };
        println!("  {name:>6}: {:<8} {detail}", node.kind());
    }
    let reference = npz::read(&data.join("snntorch.npz"))?;
    let get = |k: &str| reference.iter().find(|a| a.name == k).cloned().ok_or(format!("{k} missing"));
    let x = get("input_input")?;
    let x = Array2::from_shape_vec((x.shape[0], x.shape[1]), x.data)?;
    let out = simulate(&graph, &Options { dt: 1e-4 }, &BTreeMap::from([("input".to_string(), x)]))?;
    let spikes = &out["output"];
    let want = get("output_output")?;
    let same = spikes.iter().zip(&want.data).filter(|(a, b)| a == b).count();
    println!(
        "simulated {} steps: {} output spikes per neuron {:?}; {same}/{} values equal to the NumPy reference",
        spikes.nrows(),
        spikes.sum(),
        spikes.sum_axis(ndarray::Axis(0)).to_vec(),
        want.data.len()
    );

    let netx = root.join("../shared/fixtures/lava-dl/tiny_cuba_slayer/network.net");
    let layers = basalt::netx::read_layers(&netx)?;
    let nir = netx_to_nir(&layers, 1e-3)?;
    if let Some(Node::CubaLIF { tau_syn, tau_mem, v_threshold, .. }) = nir.nodes.get("layer0_neuron") {
        println!(
            "tiny_cuba_slayer as NIR (dt = 1 ms): layer0 tau_syn {:.4} ms, tau_mem {:.4} ms, v_threshold {}",
            tau_syn.data[0] * 1e3,
            tau_mem.data[0] * 1e3,
            v_threshold.data[0]
        );
    }
    let back = nir_to_netx(&nir, 1e-3)?;
    println!("netx -> NIR -> netx: {} layers, unchanged: {}", back.len(), back == layers);

    use basalt::process::{dense::Dense, io::sink, io::source, lif::Lif};
    let steps = 100;
    let x = ndarray::Array2::from_shape_fn((3, steps), |(i, t)| f64::from(u8::from((t * (i + 2)) % 7 == 0)));
    let mut net = basalt::Network::new();
    let src = net.add_named("input", source::RingBuffer::new(x.clone().into_dyn()))?;
    let fc1 = net.add_named("fc1", Dense::new(basalt::matrix(&[[1.2, 0.3, 0.0], [0.1, 0.9, 0.8]])))?;
    let lif1 = net.add_named("lif1", Lif::new(&[2]).du(0.3).dv(0.1).vth(0.5).bias_mant([0.02, 0.0]))?;
    let fc2 = net.add_named("fc2", Dense::new(basalt::matrix(&[[1.5, -0.4]])))?;
    let lif2 = net.add_named("lif2", Lif::new(&[1]).du(1.0).dv(0.2).vth(0.3))?;
    let out = net.add_named("output", sink::RingBuffer::new(&[1], steps))?;
    net.connect(src.s_out(), &fc1.s_in())?;
    net.connect(fc1.a_out(), &lif1.a_in())?;
    net.connect(lif1.s_out(), &fc2.s_in())?;
    net.connect(fc2.a_out(), &lif2.a_in())?;
    net.connect(lif2.s_out(), &out.a_in())?;
    let exported = basalt::nir::network_to_nir(&net, 1e-3)?;
    let path = root.join("target/basalt_export.nir");
    basalt::nir::write(&path, &exported)?;
    let kinds: Vec<String> = exported.nodes.iter().map(|(k, n)| format!("{k}: {}", n.kind())).collect();
    println!("exported a Basalt network to {}: {}", path.display(), kinds.join(", "));
    let mut rt = net.runtime(&basalt::RunConfig::floating_pt())?;
    rt.run(basalt::RunSteps::new(steps as u64))?;
    let basalt_spikes = rt.get(&out.data())?;
    let nir_out =
        simulate(&read(&path)?, &Options { dt: 1e-3 }, &BTreeMap::from([("input".to_string(), x.t().to_owned())]))?;
    let nir_spikes = &nir_out["output"];
    println!(
        "Basalt run: {} spikes; the exported NIR graph simulated: {} spikes; identical: {}",
        basalt_spikes.sum(),
        nir_spikes.sum(),
        basalt_spikes.iter().zip(nir_spikes.t().iter()).all(|(a, b)| a == b)
    );
    Ok(())
}
