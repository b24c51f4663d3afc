//! Hand-derived fixed-point cases (SPEC §2.1, §2.3) and the serialization tutorial's numbers.
//! The LIF cases were also run through Lava 0.10 (`tools/oracle/fixed_point_cases.py`),
//! which printed exactly the values asserted here.

use basalt_core::prelude::*;
use basalt_core::process::dense::quantize_weights;
use ndarray::{ArrayD, IxDyn};

/// Feeds `a_in` (one value per step) from a fixed source into one fixed LIF and returns
/// (u, v, s) per step.
fn lif_trace(lif: Lif, a_in: &[f64]) -> Vec<(f64, f64, f64)> {
    let steps = a_in.len();
    let mut net = Network::new();
    let src =
        net.add(source::RingBuffer::new(ArrayD::from_shape_vec(IxDyn(&[1, steps]), a_in.to_vec()).unwrap())).unwrap();
    let lif = net.add_named("lif", lif).unwrap();
    net.connect(src.s_out(), &lif.a_in()).unwrap();
    let mon = net.add(Monitor::new()).unwrap();
    mon.probe(&mut net, lif.u(), steps).unwrap();
    mon.probe(&mut net, lif.v(), steps).unwrap();
    mon.probe(&mut net, lif.s_out(), steps).unwrap();
    let mut rt = net.runtime(&RunConfig::fixed_pt()).unwrap();
    rt.run(RunSteps::new(steps as u64)).unwrap();
    let d = mon.get_data(&rt).unwrap();
    let (u, v, s) = (&d["lif"]["u"], &d["lif"]["v"], &d["lif"]["s_out"]);
    (0..steps).map(|t| (u[[t, 0]], v[[t, 0]], s[[t, 0]])).collect()
}

#[test]
fn current_wraps_around_24_bits() {
    // du = 4095: the decay factor 4096 - (du + 1) is 0, so u = a_in << 6.
    // 131073 << 6 = 2^23 + 64 > 2^23 -> u = 2^23 + 64 - 2^24 = -8388544.
    // -131072 << 6 = -2^23 <= -2^23 -> u = -2^23 + 2^24 = 8388608.
    let lif = Lif::new(&[1]).du(4095.0).dv(4095.0).vth(131071.0);
    let t = lif_trace(lif, &[131073.0, -131072.0]);
    assert_eq!(t[0].0, -8388544.0);
    // v = rtz(v·1, 12) + u: -8388544 is inside the saturation limits.
    assert_eq!(t[0].1, -8388544.0);
    assert_eq!(t[1].0, 8388608.0);
    // v = rtz(-8388544 · 1, 12) + 8388608 = -2047 + 8388608 = 8386561 (vth << 6 = 8388544).
    assert_eq!(t[1].1, 8386561.0);
    assert_eq!(t[1].2, 0.0);
}

#[test]
fn voltage_saturates_at_plus_minus_2_pow_23_minus_1() {
    // dv = 0: no voltage decay; bias = 4095 << 7 = 524160 per step; vth << 6 = 2^23 is
    // never exceeded because v saturates at 2^23 - 1.
    let lif = Lif::new(&[1]).dv(0.0).bias_mant(4095.0).bias_exp(7.0).vth(131072.0);
    let t = lif_trace(lif, &[0.0; 19]);
    assert_eq!(t[15].1, 16.0 * 524160.0);
    assert_eq!(t[16].1, 8388607.0);
    assert_eq!(t[18].1, 8388607.0);
    assert!(t.iter().all(|x| x.2 == 0.0));
    // Negative side: bias -4096 << 7 = -524288; 16 steps reach -2^23, saturated to -(2^23 - 1).
    let lif = Lif::new(&[1]).dv(0.0).bias_mant(-4096.0).bias_exp(7.0);
    let t = lif_trace(lif, &[0.0; 17]);
    assert_eq!(t[14].1, -15.0 * 524288.0);
    assert_eq!(t[15].1, -8388607.0);
    assert_eq!(t[16].1, -8388607.0);
}

#[test]
fn negative_bias_exp_floors_and_decay_rounds_toward_zero() {
    // bias = -7 >> 1 = -4 (floor). dv = 1000: factor 3096.
    // v1 = -4; v2 = rtz(-4·3096 = -12384, 12) - 4 = -3 - 4 = -7 (a floor would give -8);
    // v3 = rtz(-7·3096 = -21672, 12) - 4 = -5 - 4 = -9.
    let lif = Lif::new(&[1]).dv(1000.0).bias_mant(-7.0).bias_exp(-1.0);
    let v: Vec<f64> = lif_trace(lif, &[0.0; 3]).iter().map(|x| x.1).collect();
    assert_eq!(v, vec![-4.0, -7.0, -9.0]);
    // Positive mantissa: 7 >> 1 = 3.
    let lif = Lif::new(&[1]).dv(0.0).bias_mant(7.0).bias_exp(-1.0);
    let v: Vec<f64> = lif_trace(lif, &[0.0; 3]).iter().map(|x| x.1).collect();
    assert_eq!(v, vec![3.0, 6.0, 9.0]);
}

#[test]
fn current_decay_uses_du_plus_one() {
    // du = 0 still decays u by 4095/4096: u1 = 1 << 6 = 64... with input only at step 1:
    // u2 = rtz(64 · 4095, 12) = 63. dv = 4095 keeps v = u (factor 1 then rtz to 0 for v<4096).
    let lif = Lif::new(&[1]).du(0.0).dv(4095.0).vth(1000.0);
    let u: Vec<f64> = lif_trace(lif, &[1.0, 0.0, 0.0]).iter().map(|x| x.0).collect();
    assert_eq!(u, vec![64.0, 63.0, 62.0]);
}

#[test]
fn mixed_sign_weights_are_clipped_and_truncated() {
    // Mixed, 6 bits: clip to [-256, 255], then drop 8 - 6 + 1 = 3 LSBs with a floor shift.
    let w = [-300.0, -255.0, -3.0, 3.0, 254.0, 300.0];
    assert_eq!(quantize_weights(&w, SignMode::Mixed, 6), vec![-256, -256, -8, 0, 248, 248]);
    // Inhibitory, 8 bits: magnitudes clipped to 255, nothing dropped.
    assert_eq!(quantize_weights(&[-3.0, -300.0], SignMode::Inhibitory, 8), vec![-3, -255]);
    // Inhibitory, 7 bits: magnitudes truncated (3 -> 2), not floored (-3 -> -4).
    assert_eq!(quantize_weights(&[-3.0, -300.0], SignMode::Inhibitory, 7), vec![-2, -254]);
    // Excitatory: negative values clip to 0.
    assert_eq!(quantize_weights(&[-5.0, 7.9], SignMode::Excitatory, 8), vec![0, 7]);
}

#[test]
fn fixed_dense_quantises_and_shifts_by_weight_exp() {
    // One output, six inputs all spiking every step; weights as above (mixed sign found
    // from the data), 6 weight bits: sum = -256 - 256 - 8 + 0 + 248 + 248 = -24;
    // weight_exp = -2 -> -24 >> 2 = -6 (floor), delivered one step later.
    let w = ndarray::arr2(&[[-300.0, -255.0, -3.0, 3.0, 254.0, 300.0]]);
    let mut net = Network::new();
    let src = net.add(source::RingBuffer::new(ArrayD::from_elem(IxDyn(&[6, 1]), 1.0))).unwrap();
    let dense = net.add(Dense::new(w).num_weight_bits(6).weight_exp(-2)).unwrap();
    let sink = net.add(sink::RingBuffer::new(&[1], 3)).unwrap();
    net.connect(src.s_out(), &dense.s_in()).unwrap();
    net.connect(dense.a_out(), &sink.a_in()).unwrap();
    let mut rt = net.runtime(&RunConfig::fixed_pt()).unwrap();
    rt.run(RunSteps::new(3)).unwrap();
    assert_eq!(rt.get(&sink.data()).unwrap().iter().copied().collect::<Vec<_>>(), vec![0.0, -6.0, -6.0]);
    assert_eq!(
        rt.get(&dense.weights()).unwrap().iter().copied().collect::<Vec<_>>(),
        vec![-256.0, -256.0, -8.0, 0.0, 248.0, 248.0]
    );
    // weight_exp = +1 doubles the (unshifted) sum.
    let mut net2 = Network::new();
    let src = net2.add(source::RingBuffer::new(ArrayD::from_elem(IxDyn(&[2, 1]), 1.0))).unwrap();
    let dense = net2.add(Dense::new(ndarray::arr2(&[[10.0, 20.0]])).weight_exp(1)).unwrap();
    let sink = net2.add(sink::RingBuffer::new(&[1], 2)).unwrap();
    net2.connect(src.s_out(), &dense.s_in()).unwrap();
    net2.connect(dense.a_out(), &sink.a_in()).unwrap();
    let mut rt = net2.runtime(&RunConfig::fixed_pt()).unwrap();
    rt.run(RunSteps::new(2)).unwrap();
    assert_eq!(rt.get(&sink.data()).unwrap()[[0, 1]], 60.0);
}

#[test]
fn graded_spikes_multiply_weights() {
    // num_message_bits > 0: payloads 2 and -3 multiply the weights: 2·4 + (-3)·5 = -7.
    for cfg in [RunConfig::floating_pt(), RunConfig::fixed_pt()] {
        let mut net = Network::new();
        let src = net.add(source::RingBuffer::new(ndarray::arr2(&[[2.0], [-3.0]]).into_dyn())).unwrap();
        let dense = net.add(Dense::new(ndarray::arr2(&[[4.0, 5.0]])).num_message_bits(8)).unwrap();
        let sink = net.add(sink::RingBuffer::new(&[1], 2)).unwrap();
        net.connect(src.s_out(), &dense.s_in()).unwrap();
        net.connect(dense.a_out(), &sink.a_in()).unwrap();
        let mut rt = net.runtime(&cfg).unwrap();
        rt.run(RunSteps::new(2)).unwrap();
        assert_eq!(rt.get(&sink.data()).unwrap()[[0, 1]], -7.0);
    }
}

#[test]
fn serialization_tutorial_numbers() {
    // Lava's serialization tutorial: LIF(2, bias 100, vth 120) -> Dense(10·ones(3, 2)) ->
    // LIF(3, bias 0, vth 50000), float, five single-step runs.
    let mut net = Network::new();
    let lif_in = net.add_named("lif_in", Lif::new(&[2]).bias_mant(100.0).vth(120.0)).unwrap();
    let dense = net.add_named("dense", Dense::new(ndarray::Array2::from_elem((3, 2), 10.0))).unwrap();
    let lif_out = net.add_named("lif_out", Lif::new(&[3]).bias_mant(0.0).vth(50000.0)).unwrap();
    net.connect(lif_in.s_out(), &dense.s_in()).unwrap();
    net.connect(dense.a_out(), &lif_out.a_in()).unwrap();
    let mut rt = net.runtime(&RunConfig::floating_pt()).unwrap();
    let (mut v_in, mut u_out) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        rt.run(RunSteps::new(1)).unwrap();
        let v = rt.get(&lif_in.v()).unwrap();
        let u = rt.get(&lif_out.u()).unwrap();
        assert!(v.iter().all(|&x| x == v[[0]]) && u.iter().all(|&x| x == u[[0]]));
        v_in.push(v[[0]]);
        u_out.push(u[[0]]);
    }
    assert_eq!(v_in, vec![100.0, 0.0, 100.0, 0.0, 100.0]);
    assert_eq!(u_out, vec![0.0, 0.0, 20.0, 20.0, 40.0]);
}
