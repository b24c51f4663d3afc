//! Helpers shared by the facade's integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;

use ndarray::ArrayD;

/// Every float64 array of `tests/data/<name>` (an `.npz` written by NumPy), by name.
pub fn read_npz(name: &str) -> BTreeMap<String, ArrayD<f64>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    let mut npz = npyz::npz::NpzArchive::open(&path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let names: Vec<String> = npz.array_names().map(str::to_string).collect();
    names
        .into_iter()
        .map(|n| {
            let arr = npz.by_name(&n).unwrap().unwrap();
            let shape: Vec<usize> = arr.shape().iter().map(|&d| d as usize).collect();
            let data: Vec<f64> = arr.into_vec().expect("float64 array");
            (n, ArrayD::from_shape_vec(shape, data).unwrap())
        })
        .collect()
}
