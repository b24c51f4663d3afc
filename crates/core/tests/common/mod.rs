//! Helpers for the golden tests: read Lava's traces (tools/oracle/golden_library.py) and
//! run one process the way the generator ran it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use basalt_core::persist::NamedArray;
use basalt_core::prelude::*;
use basalt_core::ProcId;
use ndarray::{ArrayD, IxDyn};

/// The arrays of `tests/data/golden/<case>.npz`.
pub struct Golden {
    pub name: String,
    pub arrays: BTreeMap<String, NamedArray>,
}

impl Golden {
    pub fn load(case: &str) -> Golden {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden").join(format!("{case}.npz"));
        let arrays = basalt_core::persist::npz::read(&path)
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .map(|a| (a.name.clone(), a))
            .collect();
        Golden { name: case.to_string(), arrays }
    }
    pub fn get(&self, key: &str) -> &NamedArray {
        self.arrays.get(key).unwrap_or_else(|| panic!("{}: no array {key}", self.name))
    }
    /// A scalar parameter `p_<key>`.
    pub fn scalar(&self, key: &str) -> f64 {
        self.get(&format!("p_{key}")).data[0]
    }
    /// An array parameter `p_<key>` (flattened).
    pub fn vec(&self, key: &str) -> Vec<f64> {
        self.get(&format!("p_{key}")).data.clone()
    }
    /// An array parameter as an ndarray of its shape.
    pub fn array(&self, key: &str) -> ArrayD<f64> {
        let a = self.get(key);
        ArrayD::from_shape_vec(IxDyn(&a.shape), a.data.clone()).unwrap()
    }
    /// The number of recorded steps.
    pub fn steps(&self, trace: &str) -> usize {
        self.get(trace).shape[0]
    }
}

/// Adds a monitor probing `vars` and `ports` of `proc` for `steps` steps.
pub fn monitor_all(net: &mut Network, proc: ProcId, vars: &[&str], ports: &[&str], steps: usize) -> Handle<Monitor> {
    let mon = net.add(Monitor::new()).unwrap();
    let h = Handle::<()>::from_id(proc);
    for v in vars {
        mon.probe(net, h.var(v), steps).unwrap();
    }
    for p in ports {
        mon.probe(net, h.out_port(p), steps).unwrap();
    }
    mon
}

/// Feeds the golden input `in` into `proc`'s InPort `port` from a source RingBuffer.
pub fn feed(net: &mut Network, g: &Golden, proc: ProcId, port: &str) {
    let src = net.add(source::RingBuffer::new(g.array("in"))).unwrap();
    net.connect(src.s_out(), &Handle::<()>::from_id(proc).in_port(port)).unwrap();
}

/// Compares every trace of `names` recorded by `mon` for `process` against the golden data:
/// exactly when `tol == 0`, else within `tol` (absolute, scaled by max(1, |value|)).
pub fn compare(g: &Golden, rt: &Runtime, mon: &Handle<Monitor>, process: &str, names: &[&str], tol: f64) {
    for name in names {
        let want = g.get(name);
        let got = mon.data(rt, process, name).unwrap();
        assert_eq!(got.shape(), want.shape.as_slice(), "{}: shape of {name}", g.name);
        let width = want.data.len() / want.shape[0].max(1);
        for (i, (a, b)) in got.iter().zip(&want.data).enumerate() {
            let ok = if tol == 0.0 { a == b } else { (a - b).abs() <= tol * b.abs().max(1.0) };
            assert!(
                ok,
                "{}: {name} differs at step {} element {}: basalt {a}, Lava {b}",
                g.name,
                i / width + 1,
                i % width
            );
        }
    }
}

/// Runs a one-InPort process fed from the golden input on `port`, probing `vars` and the
/// OutPort `out`, and compares everything with the golden traces (exact in fixed point,
/// 1e-9 in float). Returns the runtime for further checks.
pub fn run_and_compare<P: Process>(g: &Golden, proc: P, port: &str, vars: &[&str], out: &str, fixed: bool) -> Runtime {
    let steps = g.steps(out);
    let mut net = Network::new();
    let h = net.add_named("proc", proc).unwrap();
    feed(&mut net, g, h.id(), port);
    let mon = monitor_all(&mut net, h.id(), vars, &[out], steps);
    let cfg = if fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
    let mut rt = net.runtime(&cfg).unwrap();
    rt.run(RunSteps::new(steps as u64)).unwrap();
    let mut all = vars.to_vec();
    all.push(out);
    compare(g, &rt, &mon, "proc", &all, if fixed { 0.0 } else { 1e-9 });
    assert!(g.get(out).data.iter().any(|&s| s != 0.0), "{}: the reference output is not all zero", g.name);
    rt
}
