//! Synapse processes against Lava 0.10 (tools/oracle/golden_library.py): Conv, Sparse,
//! DelayDense, DelaySparse; 120 steps; fixed point bit-exact, float to 1e-9.

mod common;

use basalt_core::prelude::*;
use basalt_core::process::conv::Conv;
use common::{run_and_compare, Golden};
use ndarray::Array4;

/// Runs a synapse fed from the golden input and compares its buffer Var and output.
fn check<P: Process>(g: &Golden, proc: P, fixed: bool, vars: &[&str]) {
    run_and_compare(g, proc, "s_in", vars, "a_out", fixed);
}

fn pair(g: &Golden, key: &str, default: usize) -> [usize; 2] {
    match g.arrays.get(&format!("p_{key}")) {
        Some(a) if a.data.len() == 2 => [a.data[0] as usize, a.data[1] as usize],
        Some(a) => [a.data[0] as usize; 2],
        None => [default; 2],
    }
}

fn conv(case: &str, fixed: bool) -> Golden {
    let g = Golden::load(case);
    let w = g.get("p_weight");
    let weight = Array4::from_shape_vec((w.shape[0], w.shape[1], w.shape[2], w.shape[3]), w.data.clone()).unwrap();
    let s = &g.get("in").shape;
    let groups = g.arrays.get("p_groups").map(|a| a.data[0] as usize).unwrap_or(1);
    let graded = g.get("in").data.iter().any(|&x| x != 0.0 && x != 1.0);
    let proc = Conv::new(weight, [s[0], s[1], s[2]])
        .padding(pair(&g, "padding", 0))
        .stride(pair(&g, "stride", 1))
        .dilation(pair(&g, "dilation", 1))
        .groups(groups)
        .num_message_bits(if graded { 8 } else { 0 });
    check(&g, proc, fixed, &["a_buf"]);
    g
}

#[test]
fn conv_float_padded() {
    conv("conv_float", false);
}

#[test]
fn conv_fixed_groups_asymmetric_stride_padding_dilation() {
    conv("conv_fixed_groups_asymmetric", true);
}

#[test]
fn conv_fixed_graded_spikes_wrap_to_24_bits() {
    let g = conv("conv_fixed_graded_wraps_24_bits", true);
    // The case really leaves 24 bits before wrapping: Lava's outputs use the whole range.
    let max = g.get("a_out").data.iter().fold(0f64, |m, x| m.max(x.abs()));
    assert!(max > f64::from(1 << 22), "outputs reach {max}");
}

#[test]
fn conv_geometry_errors() {
    let mut net = Network::new();
    let w = Array4::zeros((2, 5, 5, 1));
    let e = net.add(Conv::new(w.clone(), [3, 3, 1])).unwrap_err();
    assert!(e.to_string().contains("larger than the padded input"), "{e}");
    assert!(net.add(Conv::new(w.clone(), [3, 3, 1]).padding(1)).is_ok());
    let e = net.add(Conv::new(Array4::zeros((3, 1, 1, 1)), [3, 3, 2]).groups(2)).unwrap_err();
    assert!(e.to_string().contains("groups (2) must divide"), "{e}");
    let e = net.add(Conv::new(w, [9, 9, 1]).stride(0)).unwrap_err();
    assert!(e.to_string().contains("at least 1"), "{e}");
}

use basalt_core::process::sparse::{DelayDense, Sparse};

fn matrix_of(g: &Golden, key: &str) -> ndarray::Array2<f64> {
    let a = g.get(key);
    ndarray::Array2::from_shape_vec((a.shape[0], a.shape[1]), a.data.clone()).unwrap()
}

fn opt(g: &Golden, key: &str) -> Option<f64> {
    g.arrays.get(&format!("p_{key}")).map(|a| a.data[0])
}

fn sparse(g: &Golden) -> Sparse {
    let mut s = Sparse::from_dense(&matrix_of(g, "p_dense"));
    if let Some(e) = opt(g, "weight_exp") {
        s = s.weight_exp(e as i32);
    }
    if let Some(b) = opt(g, "num_weight_bits") {
        s = s.num_weight_bits(b as u32);
    }
    if let Some(b) = opt(g, "num_message_bits") {
        s = s.num_message_bits(b as u32);
    }
    s
}

#[test]
fn sparse_float() {
    let g = Golden::load("sparse_float");
    check(&g, sparse(&g), false, &["a_buff"]);
}

#[test]
fn sparse_fixed_mixed_weights_with_negative_weight_exp() {
    let g = Golden::load("sparse_fixed_mixed_weight_exp");
    check(&g, sparse(&g), true, &["a_buff"]);
}

#[test]
fn sparse_fixed_graded_spikes() {
    let g = Golden::load("sparse_fixed_graded");
    check(&g, sparse(&g), true, &["a_buff"]);
}

fn delay_dense(g: &Golden) -> DelayDense {
    let max = opt(g, "max_delay").unwrap_or(0.0) as usize;
    let mut d = DelayDense::new(matrix_of(g, "p_weights"), matrix_of(g, "p_delays"), max).unwrap();
    if let Some(e) = opt(g, "weight_exp") {
        d = d.weight_exp(e as i32);
    }
    d
}

#[test]
fn delay_dense_float() {
    let g = Golden::load("delay_dense_float");
    check(&g, delay_dense(&g), false, &["a_buff"]);
}

#[test]
fn delay_dense_fixed_with_zero_delays_and_max_delay() {
    let g = Golden::load("delay_dense_fixed");
    check(&g, delay_dense(&g), true, &["a_buff"]);
}

#[test]
fn delay_sparse_fixed() {
    let g = Golden::load("delay_sparse_fixed");
    let w = matrix_of(&g, "p_dense");
    let d = matrix_of(&g, "p_delays");
    let delays: Vec<f64> = w.indexed_iter().filter(|(_, &x)| x != 0.0).map(|((i, j), _)| d[[i, j]]).collect();
    check(&g, Sparse::from_dense(&w).with_delays(delays, 0), true, &["a_buff"]);
}

#[test]
fn sparse_and_delay_parameter_errors() {
    let mut net = Network::new();
    // Mismatched CSR structure.
    let e = net.add(Sparse::from_csr([2, 3], vec![0, 1], vec![0], vec![1.0])).unwrap_err();
    assert!(e.to_string().contains("indptr has 2 entries"), "{e}");
    let e = net.add(Sparse::from_csr([2, 3], vec![0, 1, 2], vec![0, 3], vec![1.0, 2.0])).unwrap_err();
    assert!(e.to_string().contains("column index 3 is out of range"), "{e}");
    let e = net.add(Sparse::from_csr([2, 3], vec![0, 1, 2], vec![0, 1], vec![1.0])).unwrap_err();
    assert!(e.to_string().contains("1 values for 2 stored entries"), "{e}");
    // Delays beyond max_delay, negative delays, shape mismatch.
    let w = ndarray::Array2::from_elem((2, 2), 1.0);
    let e = net.add(DelayDense::new(w.clone(), ndarray::Array2::from_elem((2, 2), 5.0), 3).unwrap()).unwrap_err();
    assert!(e.to_string().contains("exceeds max_delay 3"), "{e}");
    assert!(net.add(DelayDense::new(w.clone(), ndarray::Array2::from_elem((2, 2), -1.0), 0).unwrap()).is_err());
    assert!(DelayDense::new(w.clone(), ndarray::Array2::from_elem((3, 2), 0.0), 0).is_err());
    // Fixed point limits delays to 63 (Loihi's 6 bits); float does not.
    let mut net = Network::new();
    net.add(DelayDense::new(w, ndarray::Array2::from_elem((2, 2), 64.0), 0).unwrap()).unwrap();
    assert!(net.runtime(&RunConfig::floating_pt()).is_ok());
    let e = net.runtime(&RunConfig::fixed_pt()).err().unwrap();
    assert!(e.to_string().contains("limited to 63"), "{e}");
}
