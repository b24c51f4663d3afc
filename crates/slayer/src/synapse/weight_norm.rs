//! slayer's weight normalization (`weight_norm=True`: torch's `weight_norm(name='weight')`,
//! dim 0): the weights are `g·v/||v||` with `||v||` the norm of each output's slice (each
//! input channel's for a transposed convolution, torch's dim 0), `v` and `g` the trainable
//! parameters. slayer's 8-bit hook quantizes the result; an export writes it.

use burn::module::Param;
use burn::tensor::Tensor;

/// The L2 norm of each slice along dim 0 of `v`: (dim 0).
pub(crate) fn slice_norms<const D: usize>(v: Tensor<D>) -> Tensor<1> {
    let rows = v.dims()[0];
    v.reshape([rows as i32, -1]).powi_scalar(2).sum_dim(1).sqrt().reshape([rows])
}

/// `g·v/||v||` per slice along dim 0.
pub(crate) fn normalized<const D: usize>(v: Tensor<D>, g: Tensor<1>) -> Tensor<D> {
    let dims = v.dims();
    let rows = dims[0];
    let scale = (g / slice_norms(v.clone())).reshape([rows, 1]);
    (v.reshape([rows as i32, -1]) * scale).reshape(dims)
}

/// The gains torch's `weight_norm` starts with (`||v||`, so that the weights are unchanged),
/// as a new trainable parameter.
pub(crate) fn initial_gain<const D: usize>(v: Tensor<D>) -> Param<Tensor<1>> {
    Param::from_tensor(slice_norms(v).detach())
}

/// The weights a synapse applies before quantization: `weight`, or `g·v/||v||` with a gain.
pub(crate) fn effective<const D: usize>(weight: &Param<Tensor<D>>, gain: Option<&Param<Tensor<1>>>) -> Tensor<D> {
    match gain {
        Some(g) => normalized(weight.val(), g.val()),
        None => weight.val(),
    }
}
