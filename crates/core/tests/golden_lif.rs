//! The LIF family against Lava 0.10 (tools/oracle/golden_library.py): random parameters,
//! 120 steps, every array Var and the spikes traced; fixed point bit-exact, float to 1e-9.

mod common;

use basalt_core::prelude::*;
use basalt_core::process::lif::{LifRefractory, LifReset, TernaryLif};
use common::{compare, feed, monitor_all, Golden};

/// The common LIF parameters of a golden case.
fn base(g: &Golden, n: usize) -> Lif {
    let vth = g.arrays.get("p_vth").map(|a| a.data[0]).unwrap_or(10.0);
    Lif::new(&[n])
        .du(g.scalar("du"))
        .dv(g.scalar("dv"))
        .bias_mant(g.vec("bias_mant"))
        .bias_exp(g.vec("bias_exp"))
        .vth(vth)
}

fn check<P: Process>(case: &str, make: impl Fn(&Golden, usize) -> P, fixed: bool, extra: &[&str]) {
    let g = Golden::load(case);
    let n = g.get("in").shape[0];
    let steps = g.steps("v");
    let mut net = Network::new();
    let h = net.add_named("neuron", make(&g, n)).unwrap();
    feed(&mut net, &g, h.id(), "a_in");
    let mut vars = vec!["u", "v", "bias_exp", "bias_mant"];
    vars.extend_from_slice(extra);
    let mon = monitor_all(&mut net, h.id(), &vars, &["s_out"], steps);
    let cfg = if fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
    let mut rt = net.runtime(&cfg).unwrap();
    rt.run(RunSteps::new(steps as u64)).unwrap();
    vars.push("s_out");
    compare(&g, &rt, &mon, "neuron", &vars, if fixed { 0.0 } else { 1e-9 });
    let spikes = g.get("s_out").data.iter().filter(|&&s| s != 0.0).count();
    assert!(spikes > 0, "{case}: the reference spikes");
}

#[test]
fn lif_float() {
    check("lif_float", base, false, &[]);
}

#[test]
fn lif_fixed_with_negative_bias_exponents() {
    check("lif_fixed", base, true, &[]);
}

#[test]
fn lif_fixed_threshold_is_strict() {
    check("lif_fixed_threshold_edge", base, true, &[]);
}

fn reset(g: &Golden, n: usize) -> LifReset {
    base(g, n).with_reset(g.scalar("reset_interval") as u64, g.scalar("reset_offset") as u64)
}

#[test]
fn lif_reset_float() {
    check("lif_reset_float", reset, false, &[]);
}

#[test]
fn lif_reset_fixed_with_offset_beyond_interval() {
    check("lif_reset_fixed", reset, true, &[]);
}

fn ternary(g: &Golden, n: usize) -> TernaryLif {
    base(g, n).ternary(g.scalar("vth_hi"), g.scalar("vth_lo"))
}

#[test]
fn ternary_lif_float() {
    check("ternary_lif_float", ternary, false, &[]);
    let g = Golden::load("ternary_lif_float");
    assert!(g.get("s_out").data.contains(&-1.0), "negative spikes are exercised");
}

#[test]
fn ternary_lif_fixed() {
    check("ternary_lif_fixed", ternary, true, &[]);
    let g = Golden::load("ternary_lif_fixed");
    assert!(g.get("s_out").data.contains(&-1.0), "negative spikes are exercised");
}

fn refractory(g: &Golden, n: usize) -> LifRefractory {
    base(g, n).refractory(g.scalar("refractory_period") as u64)
}

#[test]
fn lif_refractory_float() {
    check("lif_refractory_float", refractory, false, &["refractory_period_end"]);
}

#[test]
fn lif_family_parameter_errors() {
    let mut net = Network::new();
    let e = net.add(Lif::new(&[2]).ternary(-1.0, 1.0)).unwrap_err();
    assert!(e.to_string().contains("vth_lo (1) must not exceed vth_hi (-1)"), "{e}");
    assert!(net.add(Lif::new(&[2]).with_reset(0, 0)).is_err());
    assert!(net.add(Lif::new(&[2]).refractory(0)).is_err());
    // Lava has no fixed-point LIFRefractory model.
    net.add(Lif::new(&[2]).refractory(2)).unwrap();
    let e = net.compile(&RunConfig::fixed_pt()).unwrap_err();
    assert!(matches!(e, Error::NoModel { .. }), "{e}");
}

use basalt_core::process::atrlif::Atrlif;

fn atrlif(g: &Golden, n: usize) -> Atrlif {
    let bias_exp = g.arrays.get("p_bias_exp").map(|a| a.data.clone()).unwrap_or(vec![0.0; n]);
    let th0 = g.scalar("theta_0");
    Atrlif::new(&[n])
        .delta_i(g.scalar("delta_i"))
        .delta_v(g.scalar("delta_v"))
        .delta_theta(g.scalar("delta_theta"))
        .delta_r(g.scalar("delta_r"))
        .theta_0(th0)
        .theta(th0)
        .theta_step(g.scalar("theta_step"))
        .bias_mant(g.vec("bias_mant"))
        .bias_exp(bias_exp)
}

fn check_atrlif(case: &str, fixed: bool) {
    let g = Golden::load(case);
    let n = g.get("in").shape[0];
    let steps = g.steps("v");
    let mut net = Network::new();
    let h = net.add_named("neuron", atrlif(&g, n)).unwrap();
    feed(&mut net, &g, h.id(), "a_in");
    let vars = ["i", "v", "theta", "r", "s", "bias_mant", "bias_exp"];
    let mon = monitor_all(&mut net, h.id(), &vars, &["s_out"], steps);
    let cfg = if fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
    let mut rt = net.runtime(&cfg).unwrap();
    rt.run(RunSteps::new(steps as u64)).unwrap();
    let mut all = vars.to_vec();
    all.push("s_out");
    compare(&g, &rt, &mon, "neuron", &all, if fixed { 0.0 } else { 1e-9 });
    assert!(g.get("s_out").data.iter().filter(|&&s| s != 0.0).count() > 3, "{case}: the reference spikes");
}

#[test]
fn atrlif_float() {
    check_atrlif("atrlif_float", false);
}

#[test]
fn atrlif_fixed() {
    check_atrlif("atrlif_fixed", true);
}

use basalt_core::process::rf::Rf;

fn check_rf(case: &str, iz: bool, fixed: bool) {
    let g = Golden::load(case);
    let n = g.get("in_real").shape[0];
    let steps = g.steps("real");
    let exp = |k: &str| g.arrays.get(&format!("p_{k}")).map(|a| a.data[0] as u32).unwrap_or(0);
    let rf = Rf::new(&[n], g.scalar("period"), g.scalar("alpha"))
        .vth(g.scalar("vth"))
        .state_exp(exp("state_exp"))
        .decay_bits(exp("decay_bits"));
    let mut net = Network::new();
    let id = if iz {
        net.add_named("neuron", rf.izhikevich()).unwrap().id()
    } else {
        net.add_named("neuron", rf).unwrap().id()
    };
    for (port, key) in [("a_real_in", "in_real"), ("a_imag_in", "in_imag")] {
        let src = net.add(source::RingBuffer::new(g.array(key))).unwrap();
        net.connect(src.s_out(), &Handle::<()>::from_id(id).in_port(port)).unwrap();
    }
    let mon = monitor_all(&mut net, id, &["real", "imag"], &["s_out"], steps);
    let cfg = if fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
    let mut rt = net.runtime(&cfg).unwrap();
    rt.run(RunSteps::new(steps as u64)).unwrap();
    compare(&g, &rt, &mon, "neuron", &["real", "imag", "s_out"], if fixed { 0.0 } else { 1e-9 });
    assert!(g.get("s_out").data.iter().any(|&s| s != 0.0), "{case}: the reference spikes");
}

#[test]
fn rf_float() {
    check_rf("rf_float", false, false);
}

#[test]
fn rf_fixed() {
    check_rf("rf_fixed", false, true);
}

#[test]
fn rf_iz_float() {
    check_rf("rf_iz_float", true, false);
}

#[test]
fn rf_iz_fixed() {
    check_rf("rf_iz_fixed", true, true);
}
