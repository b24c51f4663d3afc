// Float prelude of the precision templates (conv, dense, sdn): values are f32; exponent
// shifts and wrap-around belong to fixed point only.
alias Scalar = f32;
const ZERO: f32 = 0.0;
fn shl_s(x: f32, n: u32) -> f32 { return x; }
fn shr_s(x: f32, n: u32) -> f32 { return x; }
fn conv_finish(x: f32) -> f32 { return x; }
fn dense_finish(x: f32, e: i32) -> f32 { return x; }
const FIXED: bool = false;
