//! NIR graphs simulated on the GPU backend (Mesa's lavapipe in CI) match the NumPy
//! reference of `tools/oracle/nir_cases.py` as closely as float32 allows. With CI set, a
//! missing adapter fails the test; elsewhere it is skipped with a message.

mod common;

use std::sync::Arc;

use basalt_gpu::{GpuDevice, GpuRuntime};
use basalt_nir::{read, simulate_on, Options};
use common::{case, data, worst_difference};

#[test]
fn nir_graphs_run_on_the_gpu_like_the_reference() {
    let gpu = match GpuDevice::new() {
        Ok(d) => Arc::new(d),
        Err(e) if std::env::var_os("CI").is_some() => panic!("CI must provide a GPU adapter: {e}"),
        Err(e) => return eprintln!("skipping the GPU test: {e}"),
    };
    // Float32 on the GPU against the float64 reference: voltages agree to ~1e-6 relative,
    // and no spike moves (a spike difference would be an error of 1).
    for name in ["cuba", "lif_family", "recurrent", "conv", "conv1d", "snntorch"] {
        let graph = read(data(&format!("{name}.nir"))).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (inputs, expected, dt) = case(name);
        let got = simulate_on(&graph, &Options { dt }, &inputs, |exe| Ok(GpuRuntime::new(&exe, gpu.clone())?))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let worst = worst_difference(name, &got, &expected);
        eprintln!("{name}: largest difference {worst:.2e} on the GPU");
        assert!(worst <= 1e-4, "{name}: largest difference {worst} on the GPU");
    }
}
