//! slayer's 8-bit quantization hook (`neuron.quantize_8bit`, SPEC §3.7): values rounded to
//! a grid of `2/w_scale` and clamped to `[-256/w_scale, 254/w_scale]`, the range of the
//! even integers a netx export stores (`w·64`). Synapse weights and the sigma-delta Input
//! block's inputs pass through it.

use burn::tensor::Tensor;

/// slayer's weight scale: exported integers are values times 64.
pub(crate) const W_SCALE: f32 = 64.0;

/// [`quantize_8bit`] of one value on the host (a pool's fixed kernel value; what a netx
/// input layer receives, times 64).
pub fn quantize_8bit_value(x: f32) -> f32 {
    ((x * W_SCALE / 2.0).round_ties_even() * 2.0 / W_SCALE).clamp(-256.0 / W_SCALE, 254.0 / W_SCALE)
}

/// `quantize_8bit(x)`: `clamp(round_half_even(x·32)/32, -4, 254/64)`. In backward, as
/// slayer's (a straight-through rounding, then torch's clamp), the gradient passes
/// unchanged where the rounded value lies inside the range and is 0 outside it.
pub fn quantize_8bit<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let step = 2.0 / W_SCALE;
    let (lo, hi) = (-256.0 / W_SCALE, 254.0 / W_SCALE);
    let rounded = (x.clone().detach() / step).round() * step;
    let inside = rounded.clone().greater_equal_elem(lo).bool_and(rounded.clone().lower_equal_elem(hi)).float();
    let q = rounded.clamp(lo, hi);
    if !x.is_tracked() {
        return q;
    }
    // Exactly q in value (p - p = 0); the masked identity in gradient.
    let p = x * inside;
    q + (p.clone() - p.detach())
}
