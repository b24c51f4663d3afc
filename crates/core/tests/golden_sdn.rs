//! Sigma, Delta and SigmaDelta against Lava 0.10 (tools/oracle/golden_library.py):
//! 120 steps, every array Var and the output traced; fixed point bit-exact, float to 1e-9.

mod common;

use basalt_core::prelude::*;
use basalt_core::process::sdn::{ActivationMode, Delta, Sigma, SigmaDelta};
use common::{run_and_compare, Golden};

fn check<P: Process>(case: &str, make: impl Fn(&Golden, usize) -> P, fixed: bool, vars: &[&str]) {
    let g = Golden::load(case);
    let n = g.get("in").shape[0];
    run_and_compare(&g, make(&g, n), "a_in", vars, "s_out", fixed);
}

const SDN: [&str; 4] = ["sigma", "act", "residue", "error"];
const SDN_BIAS: [&str; 5] = ["sigma", "act", "residue", "error", "bias"];

#[test]
fn sigma_float() {
    check("sigma_float", |_, n| Sigma::new(&[n]), false, &["sigma"]);
}

#[test]
fn sigma_fixed() {
    check("sigma_fixed", |_, n| Sigma::new(&[n]), true, &["sigma"]);
}

fn delta(g: &Golden, n: usize) -> Delta {
    Delta::new(&[n], g.scalar("vth"))
        .cum_error(g.scalar("cum_error") != 0.0)
        .spike_exp(g.scalar("spike_exp") as i32)
        .state_exp(g.scalar("state_exp") as i32)
}

#[test]
fn delta_float() {
    check("delta_float", delta, false, &SDN);
}

#[test]
fn delta_fixed_with_spike_and_state_exponents() {
    check("delta_fixed_exps", delta, true, &SDN);
}

#[test]
fn delta_fixed_cumulative_error() {
    check("delta_fixed_cum_error", delta, true, &SDN);
}

fn sigma_delta(g: &Golden, n: usize) -> SigmaDelta {
    let mode = if g.scalar("act_mode") == 1.0 { ActivationMode::Relu } else { ActivationMode::Unit };
    let exp = |k: &str| g.arrays.get(&format!("p_{k}")).map(|a| a.data[0] as i32).unwrap_or(0);
    SigmaDelta::new(&[n], g.scalar("vth"))
        .bias(g.vec("bias"))
        .act_mode(mode)
        .cum_error(g.scalar("cum_error") != 0.0)
        .spike_exp(exp("spike_exp"))
        .state_exp(exp("state_exp"))
}

#[test]
fn sigma_delta_float_relu() {
    check("sigma_delta_float_relu", sigma_delta, false, &SDN_BIAS);
}

#[test]
fn sigma_delta_float_unit_cumulative_error() {
    check("sigma_delta_float_unit_cum_error", sigma_delta, false, &SDN_BIAS);
}

#[test]
fn sigma_delta_fixed_relu_with_exponents() {
    check("sigma_delta_fixed_relu_exps", sigma_delta, true, &SDN_BIAS);
}

#[test]
fn sigma_delta_fixed_unit_cumulative_error() {
    check("sigma_delta_fixed_unit_cum_error", sigma_delta, true, &SDN_BIAS);
}

#[test]
fn corrected_sigma_delta_sends_without_residue() {
    // SPEC §2.2 PySigmaDeltaModelFixedCorrected (not in Lava 0.10, hand-derived):
    // vth = 4 << 2 = 16, state_exp 2, unit activation, input 5 each step:
    // sigma = 5t; act = 5t; delta = act - act_prev; sent s = (delta if |delta| >= 16) >> 2;
    // act_prev += s << 2.
    // t=1: delta 5 < 16 -> 0.  t=2: 10 -> 0.  t=3: 15 -> 0.  t=4: 20 -> s = 5, prev = 20.
    // t=5: 25-20 = 5 -> 0. ... t=8: 40-20 = 20 -> s = 5, prev = 40.
    let mut net = Network::new();
    let src = net.add(source::RingBuffer::new(ndarray::arr2(&[[5.0]]).into_dyn())).unwrap();
    let sd = net.add_named("sd", SigmaDelta::new(&[1], 4.0).act_mode(ActivationMode::Unit).state_exp(2)).unwrap();
    net.connect(src.s_out(), &sd.a_in()).unwrap();
    let out = net.add(sink::RingBuffer::new(&[1], 8)).unwrap();
    net.connect(sd.s_out(), &out.a_in()).unwrap();
    let cfg = RunConfig::fixed_pt().with_exception("SigmaDelta", "PySigmaDeltaModelFixedCorrected");
    let mut rt = net.runtime(&cfg).unwrap();
    rt.run(RunSteps::new(8)).unwrap();
    let sent: Vec<f64> = rt.get(&out.data()).unwrap().iter().copied().collect();
    assert_eq!(sent, vec![0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 5.0]);
    assert_eq!(rt.get(&sd.act()).unwrap()[[0]], 40.0);
    assert_eq!(rt.get(&sd.residue()).unwrap()[[0]], 0.0);
    // The default fixed model keeps a residue instead: at t=4 it sends (20 >> 2) = 5 with the
    // same inputs, then the residue of 0, and fires again at t=8 on 20.
    let mut rt = net.runtime(&RunConfig::fixed_pt()).unwrap();
    rt.run(RunSteps::new(8)).unwrap();
    assert_eq!(rt.executable().processes[1].model, "PySigmaDeltaModelFixed");
}

#[test]
fn sigma_delta_parameter_errors() {
    let mut net = Network::new();
    let e = net.add(SigmaDelta::new(&[2], 1.0).spike_exp(20).state_exp(10)).unwrap_err();
    assert!(e.to_string().contains("sum <= 24"), "{e}");
    let e = net.add(SigmaDelta::new(&[2], 1.0).bias(vec![1.0, 2.0, 3.0])).unwrap_err();
    assert!(e.to_string().contains("bias"), "{e}");
}
