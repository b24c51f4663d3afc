//! NIR files written by the real `nir` package (one exported by snnTorch) load, and their
//! simulation matches the NumPy reference of `tools/oracle/nir_cases.py` to 1e-6.

mod common;

use common::{case, data, worst_difference};

use std::path::Path;

use basalt_nir::{read, simulate, write, Graph, NirError, Node, Options};
use ndarray::Array2;

fn check_case(name: &str, graph: &Graph) {
    let (inputs, expected, dt) = case(name);
    let got = simulate(graph, &Options { dt }, &inputs).unwrap_or_else(|e| panic!("{name}: {e}"));
    let worst = worst_difference(name, &got, &expected);
    assert!(worst <= 1e-6, "{name}: largest difference {worst}");
}
#[test]
fn files_written_by_nir_simulate_as_the_reference() {
    for name in ["cuba", "lif_family", "recurrent", "conv", "conv1d", "snntorch"] {
        let graph = read(data(&format!("{name}.nir"))).unwrap_or_else(|e| panic!("{name}: {e}"));
        check_case(name, &graph);
    }
}

#[test]
fn snntorch_export_reads_as_nir_describes_it() {
    let g = read(data("snntorch.nir")).expect("readable");
    let kinds: Vec<(&str, &str)> = g.nodes.iter().map(|(k, n)| (k.as_str(), n.kind())).collect();
    assert_eq!(
        kinds,
        [("0", "Affine"), ("1", "LIF"), ("2", "Affine"), ("3", "CubaLIF"), ("input", "Input"), ("output", "Output")]
    );
    let Node::LIF { tau, r, .. } = &g.nodes["1"] else { panic!("node 1 is a LIF") };
    // snnTorch: tau = dt / (1 - beta), r = tau / dt with beta 0.9, dt 1e-4 (float32 values).
    assert!((tau.data[0] - 1e-3).abs() < 1e-9 && (r.data[0] - 10.0).abs() < 1e-5, "{tau:?} {r:?}");
    assert_eq!(g.edges.len(), 5);
}

/// Every dataset's path with its shape (strings: their count).
fn layout(t: &basalt_core::persist::hdf5::Tree) -> Vec<(String, Vec<usize>)> {
    use basalt_core::persist::hdf5::Value;
    let mut out = Vec::new();
    for (k, v) in &t.datasets {
        let shape = match v {
            Value::Numbers(a) | Value::Float64(a) => a.shape.clone(),
            Value::Text(s) | Value::FixedText(s) => vec![s.len()],
            other => panic!("unexpected dataset {k}: {other:?}"),
        };
        out.push((k.clone(), shape));
    }
    for (k, g) in &t.groups {
        out.extend(layout(g).into_iter().map(|(p, s)| (format!("{k}/{p}"), s)));
    }
    out
}

#[test]
fn written_files_read_back_identically_and_simulate_the_same() {
    let dir = std::env::temp_dir().join(format!("basalt-nir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for name in ["cuba", "lif_family", "recurrent", "conv", "conv1d", "snntorch"] {
        let graph = read(data(&format!("{name}.nir"))).expect("readable");
        let path = dir.join(format!("{name}.nir"));
        write(&path, &graph).expect("writable");
        let back = read(&path).expect("our file reads back");
        // The same groups, dataset names and shapes as the file `nir.write` made.
        let ours = basalt_core::persist::hdf5::read_tree(&path).expect("tree");
        let theirs = basalt_core::persist::hdf5::read_tree(&data(&format!("{name}.nir"))).expect("tree");
        assert_eq!(layout(&ours), layout(&theirs), "{name}: layout");
        assert_eq!(back, graph, "{name}: round trip");
        check_case(name, &back);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_files_and_graphs_give_clear_errors() {
    let dir = std::env::temp_dir().join(format!("basalt-nir-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // Truncated and corrupted files: errors, never panics.
    let bytes = std::fs::read(data("cuba.nir")).expect("file");
    let path = dir.join("cut.nir");
    for cut in (0..bytes.len()).step_by(97) {
        std::fs::write(&path, &bytes[..cut]).expect("write");
        assert!(read(&path).is_err(), "truncated at {cut} read without error");
    }
    // A netx file is not a NIR file.
    let netx =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/lava-dl/tiny_cuba_slayer/network.net");
    let e = read(&netx).expect_err("netx is not NIR").to_string();
    assert!(e.contains("not a NIR file"), "{e}");

    let mut g = read(data("cuba.nir")).expect("readable");
    let (inputs, _, dt) = case("cuba");
    // Per-neuron thresholds that differ.
    let mut bad = g.clone();
    if let Some(Node::CubaLIF { v_threshold, .. }) = bad.nodes.get_mut("lif1") {
        v_threshold.data[1] = 0.9;
    }
    let e = simulate(&bad, &Options { dt }, &inputs).expect_err("non-uniform threshold").to_string();
    assert!(e.contains("`lif1`") && e.contains("v_threshold"), "{e}");
    // A non-zero reset.
    let mut bad = g.clone();
    if let Some(Node::CubaLIF { v_reset, .. }) = bad.nodes.get_mut("lif2") {
        v_reset.data = vec![0.1; 3];
    }
    let e = simulate(&bad, &Options { dt }, &inputs).expect_err("v_reset").to_string();
    assert!(e.contains("`lif2`") && e.contains("v_reset"), "{e}");
    // A weight of the wrong size.
    let mut bad = g.clone();
    bad.nodes.insert("fc2".into(), Node::Linear { weight: basalt_nir::ir::tensor(&[3, 4], vec![0.0; 12]) });
    let e = simulate(&bad, &Options { dt }, &inputs).expect_err("size").to_string();
    assert!(e.contains("size mismatch") && e.contains("fc2"), "{e}");
    // dt longer than a time constant.
    let e = simulate(&g, &Options { dt: 0.1 }, &inputs).expect_err("dt").to_string();
    assert!(e.contains("dt = 0.1"), "{e}");
    // Wrong input shape.
    let mut short = inputs.clone();
    short.insert("input".into(), Array2::zeros((10, 5)));
    let e = simulate(&g, &Options { dt }, &short).expect_err("shape").to_string();
    assert!(e.contains("expected (10, 6)"), "{e}");
    // An edge to a node that does not exist.
    g.edges.push(("lif2".into(), "nowhere".into()));
    let e = simulate(&g, &Options { dt }, &inputs).expect_err("edge").to_string();
    assert!(e.contains("nowhere"), "{e}");
    assert!(matches!(simulate(&g, &Options { dt }, &inputs), Err(NirError::Graph(_))));
    std::fs::remove_dir_all(&dir).ok();
}
