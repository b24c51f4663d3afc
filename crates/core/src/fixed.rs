//! Loihi fixed-point helpers shared by the bit-accurate models (SPEC §2.1, §2.3).

/// Shift toward zero: `sign(x) * (|x| >> k)` (Lava's decay rounding).
#[inline(always)]
pub fn rtz(x: i64, k: u32) -> i64 {
    // For negative x, adding 2^k - 1 before the floor shift truncates toward zero; written
    // without a branch so that loops over it vectorise.
    let bias = (x >> 63) & ((1i64 << k) - 1);
    (x + bias) >> k
}

/// `rtz(x * f, 12)` for any i32 `x` and `0 <= f <= 4096`, in 32-bit arithmetic only
/// (splitting |x| into 12-bit halves keeps every product below 2^32), which vectorises
/// where 64-bit multiplies do not. Equal to `rtz(x as i64 * f as i64, 12) as i32`.
#[inline(always)]
pub fn decay12(x: i32, f: u32) -> i32 {
    let m = x.unsigned_abs();
    let r = (m >> 12) * f + (((m & 0xfff) * f) >> 12);
    let r = r as i32;
    if x < 0 {
        r.wrapping_neg()
    } else {
        r
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
    values.iter().map(|&x| to_int(name, x, lo, hi)).collect()
}

/// Like [`to_ints`] for a single value.
pub fn to_int(name: &str, value: f64, lo: i64, hi: i64) -> Result<i64, String> {
    // Models call this per element in their step loops: no allocation, and no `trunc` (a
    // library call on baseline x86-64). `value > lo - 1` is `trunc(value) >= lo`, and the
    // cast truncates toward zero.
    let (lo_f, hi_f) = (lo as f64, hi as f64);
    if (value > lo_f - 1.0 || value == lo_f) && value < hi_f + 1.0 && value <= i64::MAX as f64 {
        Ok((value as i64).clamp(lo, hi))
    } else {
        Err(format!("`{name}` value {value} is outside the fixed-point range [{lo}, {hi}]"))
    }
}

/// Range of `i16`.
pub const I16: (i64, i64) = (i16::MIN as i64, i16::MAX as i64);
/// Range of `i32`.
pub const I32: (i64, i64) = (i32::MIN as i64, i32::MAX as i64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtz_truncates_toward_zero() {
        for x in [-8193i64, -8192, -4097, -4096, -4095, -1, 0, 1, 4095, 4096, 4097, 8193] {
            let want = x.signum() * (x.abs() >> 12);
            assert_eq!(rtz(x, 12), want, "x = {x}");
        }
    }

    #[test]
    fn decay12_equals_64_bit_rtz() {
        let xs = [i32::MIN, i32::MIN + 1, -(1 << 24) - 5, -8193, -4097, -4096, -1, 0, 1, 4095, 4097, 1 << 23, i32::MAX];
        for &x in &xs {
            for f in [0u32, 1, 409, 3686, 4095, 4096] {
                let want = rtz(i64::from(x) * i64::from(f), 12) as i32;
                assert_eq!(decay12(x, f), want, "x = {x}, f = {f}");
            }
        }
    }

    #[test]
    fn to_int_truncates_toward_zero_and_checks_the_range() {
        assert_eq!(to_int("x", 2.9, 0, 2), Ok(2));
        assert_eq!(to_int("x", -0.5, 0, 5), Ok(0));
        assert_eq!(to_int("x", -7.9, -8, 8), Ok(-7));
        assert_eq!(to_int("x", -8.0, -8, 8), Ok(-8));
        assert_eq!(to_int("x", i64::MIN as f64, i64::MIN, i64::MAX), Ok(i64::MIN));
        for bad in [3.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let e = to_int("w", bad, 0, 2).unwrap_err();
            assert!(e.contains("`w`") && e.contains("[0, 2]"), "{e}");
        }
        assert!(to_int("x", 9.3e18, i64::MIN, i64::MAX).is_err());
    }

    #[test]
    fn exp_shift_floors_negative_values() {
        assert_eq!(shift_by_exp(5, 2), 20);
        assert_eq!(shift_by_exp(-5, -1), -3);
        assert_eq!(shift_by_exp(5, -1), 2);
    }

    #[test]
    fn to_ints_truncates_and_rejects_out_of_range() {
        assert_eq!(to_ints("w", &[1.9, -1.9, 0.0], -10, 10).unwrap(), vec![1, -1, 0]);
        assert!(to_ints("w", &[11.0], -10, 10).unwrap_err().contains("`w` value 11"));
        assert!(to_ints("w", &[f64::NAN], -10, 10).is_err());
    }
}
