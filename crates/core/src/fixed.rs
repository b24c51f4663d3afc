//! Loihi fixed-point helpers shared by the bit-accurate models (SPEC §2.1, §2.3).

/// Shift toward zero: `sign(x) * (|x| >> k)` (Lava's decay rounding).
#[inline(always)]
pub fn rtz(x: i64, k: u32) -> i64 {
    if x >= 0 {
        x >> k
    } else {
        -((-x) >> k)
    }
}

/// Shift left for `e > 0`, arithmetic (floor) right shift for `e <= 0`, as Lava applies
/// `bias_exp` and `weight_exp`.
#[inline(always)]
pub fn shift_by_exp(x: i64, e: i32) -> i64 {
    if e >= 0 {
        x.wrapping_shl(e as u32)
    } else {
        x >> (-e).min(63)
    }
}

/// Converts float Var values to integers the way NumPy's `astype` does for in-range
/// values (truncation toward zero), rejecting values outside `[lo, hi]` with a message
/// naming the Var (Lava would silently wrap them).
pub fn to_ints(name: &str, values: &[f64], lo: i64, hi: i64) -> Result<Vec<i64>, String> {
    values
        .iter()
        .map(|&x| {
            let t = x.trunc();
            if !t.is_finite() || t < lo as f64 || t > hi as f64 {
                Err(format!("`{name}` value {x} is outside the fixed-point range [{lo}, {hi}]"))
            } else {
                Ok(t as i64)
            }
        })
        .collect()
}

/// Like [`to_ints`] for a single value.
pub fn to_int(name: &str, value: f64, lo: i64, hi: i64) -> Result<i64, String> {
    to_ints(name, &[value], lo, hi).map(|v| v[0])
}

/// Range of `i16`.
pub const I16: (i64, i64) = (i16::MIN as i64, i16::MAX as i64);
/// Range of `i32`.
pub const I32: (i64, i64) = (i32::MIN as i64, i32::MAX as i64);
