//! Helpers shared by the integration tests: reading reference arrays and building the
//! Lava walkthrough network.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use basalt_core::prelude::*;
use ndarray::ArrayD;

/// Path of a file in `tests/data`.
pub fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Every float64 array of an `.npz` file, by name.
pub fn read_npz(name: &str) -> BTreeMap<String, ArrayD<f64>> {
    let mut npz = npyz::npz::NpzArchive::open(data_path(name)).expect("open npz");
    let names: Vec<String> = npz.array_names().map(str::to_string).collect();
    let mut out = BTreeMap::new();
    for n in names {
        let arr = npz.by_name(&n).expect("read").expect("present");
        let shape: Vec<usize> = arr.shape().iter().map(|&d| d as usize).collect();
        let data: Vec<f64> = arr.into_vec().expect("float64 array");
        out.insert(n, ArrayD::from_shape_vec(shape, data).expect("shape"));
    }
    out
}

/// The Lava walkthrough network of `fixtures/README.md` with monitors on v, u and s_out
/// of both LIF populations. Returns the network and the monitor.
pub fn walkthrough(fixed: bool, steps: usize) -> (Network, Handle<Monitor>) {
    let mut net = Network::new();
    let (lif1, dense, lif2) = if fixed {
        (
            Lif::new(&[3])
                .vth(1000.0)
                .du(409.0)
                .dv(409.0)
                .bias_mant([880.0, 960.0, 1040.0])
                .bias_exp(3.0),
            Dense::new(matrix(&[[40.0, 10.0, 20.0], [50.0, 90.0, 5.0]])),
            Lif::new(&[2]).vth(1000.0).du(409.0).dv(409.0),
        )
    } else {
        (
            Lif::new(&[3])
                .vth(10.0)
                .du(0.1)
                .dv(0.1)
                .bias_mant([1.1, 1.2, 1.3]),
            Dense::new(matrix(&[[0.4, 0.1, 0.2], [0.5, 0.9, 0.05]])),
            Lif::new(&[2]).vth(10.0).du(0.1).dv(0.1),
        )
    };
    let lif1 = net.add_named("lif1", lif1).unwrap();
    let dense = net.add_named("dense", dense).unwrap();
    let lif2 = net.add_named("lif2", lif2).unwrap();
    net.connect(lif1.s_out(), &dense.s_in()).unwrap();
    net.connect(dense.a_out(), &lif2.a_in()).unwrap();
    let mon = net.add_named("monitor", Monitor::new()).unwrap();
    for lif in [lif1, lif2] {
        mon.probe(&mut net, lif.v(), steps).unwrap();
        mon.probe(&mut net, lif.u(), steps).unwrap();
        mon.probe(&mut net, lif.s_out(), steps).unwrap();
    }
    (net, mon)
}
