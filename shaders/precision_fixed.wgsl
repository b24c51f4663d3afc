// Fixed-point prelude of the precision templates (conv, dense, sdn): values are i32 with
// wrapping arithmetic, as Lava's int32 arrays.
alias Scalar = i32;
const ZERO: i32 = 0;
fn shl_s(x: i32, n: u32) -> i32 { return x << n; }
fn shr_s(x: i32, n: u32) -> i32 { return x >> n; }
// Signed 24-bit wrap (Conv): ((x + 2^23) mod 2^24) - 2^23, on the low 24 bits.
fn conv_finish(x: i32) -> i32 { return ((x + 8388608) & 16777215) - 8388608; }
// The weight exponent of Dense (left shift, or arithmetic right shift when negative).
fn dense_finish(x: i32, e: i32) -> i32 { return select(x >> u32(-e), x << u32(e), e >= 0); }
// Templates with precision-specific branches test this (learning).
const FIXED: bool = true;
