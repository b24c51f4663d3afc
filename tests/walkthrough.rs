//! The Lava walkthrough network against Lava 0.10's own recorded traces
//! (`../shared/fixtures/lava/walkthrough_*.npz`, copied to `tests/data`).

mod common;

use basalt::walkthrough::{run, Precision};
use common::read_npz;

fn run_and_compare(precision: Precision, tolerance: f64) {
    let r = run(precision, 100).unwrap();
    let expected = read_npz(&format!("walkthrough_{}.npz", precision.name()));
    let mut compared = 0;
    for proc in ["lif1", "lif2"] {
        for (var, key) in [("v", "v"), ("u", "u"), ("s_out", "s")] {
            let want = &expected[&format!("{proc}_{key}")];
            let got = &r.data[proc][var];
            assert_eq!(got.shape(), want.shape(), "{proc}.{var} shape");
            for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
                assert!(
                    (g - w).abs() <= tolerance,
                    "{proc}.{var} differs at step {}: got {g}, Lava {w}",
                    i / got.shape()[1] + 1
                );
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 6);
    // The traces are not trivial: lif1 spikes (16 times in Lava) and drives lif2's voltage.
    assert_eq!(r.data["lif1"]["s_out"].sum(), 16.0);
    assert!(r.data["lif2"]["v"].iter().any(|&v| v != 0.0));
}

#[test]
fn fixed_point_walkthrough_matches_lava_exactly() {
    run_and_compare(Precision::Fixed, 0.0);
}

#[test]
fn float_walkthrough_matches_lava_to_1e_9() {
    run_and_compare(Precision::Float, 1e-9);
}
