//! Helpers shared by the NIR tests: the committed reference cases of
//! `tools/oracle/nir_cases.py`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use basalt_core::persist::npz;
use ndarray::Array2;

/// A file of `tests/data`.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// Named signals, shape (steps, size) each.
pub type Signals = BTreeMap<String, Array2<f64>>;

/// The case's inputs, expected outputs and dt.
pub fn case(name: &str) -> (Signals, Signals, f64) {
    let arrays = npz::read(&data(&format!("{name}.npz"))).expect("reference file");
    let (mut inputs, mut outputs, mut dt) = (BTreeMap::new(), BTreeMap::new(), 0.0);
    for a in arrays {
        if a.name == "dt" {
            dt = a.data[0];
            continue;
        }
        let m = Array2::from_shape_vec((a.shape[0], a.shape[1]), a.data).expect("2-D array");
        if let Some(k) = a.name.strip_prefix("input_") {
            inputs.insert(k.to_string(), m);
        } else if let Some(k) = a.name.strip_prefix("output_") {
            outputs.insert(k.to_string(), m);
        }
    }
    (inputs, outputs, dt)
}

/// The largest difference between two signal sets, relative to max(1, |reference|);
/// panics when their names or shapes differ, or the reference is all zero.
pub fn worst_difference(label: &str, got: &Signals, expected: &Signals) -> f64 {
    assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>(), "{label}: outputs");
    let mut worst = 0.0f64;
    for (k, want) in expected {
        let have = &got[k];
        assert_eq!(have.dim(), want.dim(), "{label}.{k}: shape");
        assert!(want.iter().any(|&x| x != 0.0), "{label}.{k}: the reference is all zero");
        let w = have.iter().zip(want.iter()).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0.0, f64::max);
        worst = worst.max(w);
    }
    worst
}
