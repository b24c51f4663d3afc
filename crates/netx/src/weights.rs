//! lava-dl's `optimize_weight_bits` (netx/utils.py, SPEC §4.3): the exported 8-bit weights
//! are shifted to use the full synapse range, with a negative `weight_exp` that Dense's
//! accumulation shift undoes exactly.

/// Optimised weights, their significant bits and the weight exponent.
#[derive(Clone, Debug, PartialEq)]
pub struct Optimized {
    /// Weights shifted left by `-weight_exp` bits.
    pub weights: Vec<f64>,
    /// Significant weight bits for Dense's truncation.
    pub num_weight_bits: u32,
    /// Exponent Dense applies to the accumulated input.
    pub weight_exp: i32,
}

/// Optimises an integer weight matrix (values in [-256, 254], clipped there if mixed-sign
/// weights exceed it) as lava-dl does. An all-zero matrix is returned unchanged with 8 bits.
pub fn optimize_weight_bits(weights: &[f64]) -> Optimized {
    let mut w: Vec<f64> = weights.to_vec();
    let max = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = w.iter().copied().fold(f64::INFINITY, f64::min);
    if (max > 254.0 && min < 0.0) || (min < -256.0 && max > 0.0) {
        w.iter_mut().for_each(|x| *x = x.clamp(-256.0, 254.0));
    }
    let max = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = w.iter().copied().fold(f64::INFINITY, f64::min);
    if w.is_empty() || (max == 0.0 && min == 0.0) {
        return Optimized { weights: w, num_weight_bits: 8, weight_exp: 0 };
    }
    let (scale, signed) = if max < 0.0 {
        (-256.0 / min, 0)
    } else if min >= 0.0 {
        (255.0 / max, 0)
    } else {
        ((127.0 / max).min(-128.0 / min), 1)
    };
    let scale_bits = scale.log2().floor() as i32 + signed;
    let mut n = 8i32;
    while n > 0 {
        let step = f64::from(1u32 << n);
        if w.iter().all(|&x| (x / step).fract() == 0.0) {
            break;
        }
        n -= 1;
    }
    n -= signed;
    let shifted = w.iter().map(|&x| ((x.trunc() as i32).wrapping_shl(scale_bits.max(0) as u32)) as f64).collect();
    Optimized { weights: shifted, num_weight_bits: (8 - scale_bits - n).clamp(1, 8) as u32, weight_exp: -scale_bits }
}
