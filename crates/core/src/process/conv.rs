//! 2-D convolution synapses (Lava `lava.proc.conv`, SPEC §2.5): input (X, Y, C_in) in WHC
//! order, weight (C_out, kx, ky, C_in / groups), output (X_out, Y_out, C_out); a true
//! convolution (the kernel is flipped, as `scipy.signal.convolve2d`), zero padding,
//! stride, dilation and groups. Float and fixed point (the result wrapped to signed 24
//! bits); `weight_exp` is stored but, as in Lava's CPU models, not applied. Event-driven:
//! only non-zero inputs are scattered into the output.
//!
//! [`ConvTranspose`] (no Lava counterpart; slayer's `ConvT`/`Unpool` synapses) is the
//! adjoint of a `Conv` with the same weight and geometry: it maps the convolution's output
//! shape back to its input shape, scattering each input through the kernel taps that read it.

use ndarray::Array4;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ModelError, Result};
use crate::executable::LeafProcess;
use crate::fixed::{to_int, to_ints, I32};
use crate::graph::{Handle, InPort, OutPort, Process, ProcessBuilder, VarRef};
use crate::model::{check_len, unknown_var, CpuModel, DType, SpikeIo};
use crate::registry::{ModelEntry, OutputTiming, Registry};

const VAR_NAMES: [&str; 10] = [
    "weight",
    "weight_exp",
    "num_weight_bits",
    "kernel_size",
    "padding",
    "stride",
    "dilation",
    "groups",
    "a_buf",
    "num_message_bits",
];
const WEIGHT: usize = 0;
const A_BUF: usize = 8;
const NUM_MESSAGE_BITS: usize = 9;

/// A pair of (X, Y) sizes; a single number means the same for both, as in Lava.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pair(pub [usize; 2]);

impl From<usize> for Pair {
    fn from(x: usize) -> Self {
        Pair([x, x])
    }
}
impl From<[usize; 2]> for Pair {
    fn from(p: [usize; 2]) -> Self {
        Pair(p)
    }
}

/// Geometry of a convolution, as stored in the process parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvGeometry {
    /// Input (X, Y, C_in).
    pub input_shape: [usize; 3],
    /// Output (X_out, Y_out, C_out).
    pub output_shape: [usize; 3],
    /// Kernel (kx, ky).
    pub kernel: [usize; 2],
    /// Zero padding on both sides of X and Y.
    pub padding: [usize; 2],
    /// Stride.
    pub stride: [usize; 2],
    /// Dilation.
    pub dilation: [usize; 2],
    /// Groups (C_in and C_out divisible by it).
    pub groups: usize,
}

impl ConvGeometry {
    /// Checks the arguments and computes the output shape
    /// `floor((X + 2p - d(k-1) - 1)/s + 1)` per axis.
    pub fn new(
        input_shape: [usize; 3],
        weight_shape: [usize; 4],
        padding: Pair,
        stride: Pair,
        dilation: Pair,
        groups: usize,
    ) -> std::result::Result<Self, String> {
        let [c_out, kx, ky, c_per_group] = weight_shape;
        if groups == 0 || !input_shape[2].is_multiple_of(groups) || !c_out.is_multiple_of(groups) {
            return Err(format!(
                "groups ({groups}) must divide the input channels ({}) and the output channels ({c_out})",
                input_shape[2]
            ));
        }
        if c_per_group * groups != input_shape[2] {
            return Err(format!(
                "weight has {c_per_group} input channels per group, but the input has {} channels in {groups} groups",
                input_shape[2]
            ));
        }
        if stride.0.contains(&0) || dilation.0.contains(&0) || kx == 0 || ky == 0 {
            return Err("stride, dilation and kernel size must be at least 1".into());
        }
        let mut out = [0usize; 3];
        for a in 0..2 {
            let k = [kx, ky][a];
            let span = dilation.0[a] * (k - 1) + 1;
            let padded = input_shape[a] + 2 * padding.0[a];
            if span > padded {
                return Err(format!(
                    "the dilated kernel ({span}) is larger than the padded input ({padded}) along axis {}",
                    ["X", "Y"][a]
                ));
            }
            out[a] = (padded - span) / stride.0[a] + 1;
        }
        out[2] = c_out;
        Ok(ConvGeometry {
            input_shape,
            output_shape: out,
            kernel: [kx, ky],
            padding: padding.0,
            stride: stride.0,
            dilation: dilation.0,
            groups,
        })
    }
}

/// The spatial output of a transposed convolution (the forward convolution's input) for an
/// `input` of (X, Y) with `kernel` (kx, ky): `(n-1)·s + d(k-1) + 1 - 2p` per axis; `None`
/// when an axis is empty or the padding leaves no output.
pub fn transposed_output_size(
    input: [usize; 2],
    kernel: [usize; 2],
    padding: Pair,
    stride: Pair,
    dilation: Pair,
) -> Option<[usize; 2]> {
    let mut out = [0usize; 2];
    for a in 0..2 {
        let full = (input[a].max(1) - 1) * stride.0[a] + dilation.0[a] * (kernel[a].max(1) - 1) + 1;
        out[a] = full.checked_sub(2 * padding.0[a]).filter(|&n| n > 0 && input[a] > 0)?;
    }
    Some(out)
}

/// Convolution synapses; see the module docs.
#[derive(Clone, Debug)]
pub struct Conv {
    weight: Array4<f64>,
    input_shape: [usize; 3],
    padding: Pair,
    stride: Pair,
    dilation: Pair,
    groups: usize,
    weight_exp: i32,
    num_weight_bits: u32,
    num_message_bits: u32,
}

impl Conv {
    /// A convolution of `weight` (C_out, kx, ky, C_in/groups) over inputs of `input_shape`
    /// (X, Y, C_in); stride 1, no padding, no dilation, one group.
    pub fn new(weight: Array4<f64>, input_shape: [usize; 3]) -> Self {
        Conv {
            weight,
            input_shape,
            padding: Pair([0, 0]),
            stride: Pair([1, 1]),
            dilation: Pair([1, 1]),
            groups: 1,
            weight_exp: 0,
            num_weight_bits: 8,
            num_message_bits: 0,
        }
    }
    /// Zero padding (per side).
    pub fn padding(mut self, p: impl Into<Pair>) -> Self {
        self.padding = p.into();
        self
    }
    /// Stride.
    pub fn stride(mut self, s: impl Into<Pair>) -> Self {
        self.stride = s.into();
        self
    }
    /// Kernel dilation.
    pub fn dilation(mut self, d: impl Into<Pair>) -> Self {
        self.dilation = d.into();
        self
    }
    /// Channel groups.
    pub fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
    }
    /// Weight exponent (stored; Lava's CPU models do not apply it).
    pub fn weight_exp(mut self, e: i32) -> Self {
        self.weight_exp = e;
        self
    }
    /// Weight bits (stored).
    pub fn num_weight_bits(mut self, b: u32) -> Self {
        self.num_weight_bits = b;
        self
    }
    /// Graded-spike bits (0 = binary spikes).
    pub fn num_message_bits(mut self, b: u32) -> Self {
        self.num_message_bits = b;
        self
    }
    /// This convolution's transpose (adjoint): `weight` is then read as (C_in, kx, ky,
    /// C_out/groups), the input shape given to [`Conv::new`] is the transposed input's
    /// (X, Y, C_in), and the output is ((X-1)·s - 2p + d(k-1) + 1, .., C_out) per axis.
    pub fn transposed(self) -> ConvTranspose {
        ConvTranspose(self)
    }

    /// The checked geometry of the forward convolution whose input is `input_shape`.
    fn geometry(&self, b: &ProcessBuilder<'_>, input_shape: [usize; 3]) -> Result<ConvGeometry> {
        let (c_out, kx, ky, cg) = self.weight.dim();
        ConvGeometry::new(input_shape, [c_out, kx, ky, cg], self.padding, self.stride, self.dilation, self.groups)
            .map_err(|reason| Error::InvalidParameter { process: b.name().into(), param: "geometry".into(), reason })
    }

    /// Declares the Vars of a convolution-like process (the same for Conv and ConvTranspose).
    fn declare_vars(self, b: &mut ProcessBuilder<'_>, geo: &ConvGeometry, a_buf_shape: &[usize]) -> Result<()> {
        let (c_out, kx, ky, cg) = self.weight.dim();
        let pair = |p: [usize; 2]| vec![p[0] as f64, p[1] as f64];
        b.var("weight", &[c_out, kx, ky, cg], self.weight.into_dyn())?;
        b.var("weight_exp", &[1], f64::from(self.weight_exp))?;
        b.var("num_weight_bits", &[1], f64::from(self.num_weight_bits))?;
        b.var("kernel_size", &[2], pair(geo.kernel))?;
        b.var("padding", &[2], pair(geo.padding))?;
        b.var("stride", &[2], pair(geo.stride))?;
        b.var("dilation", &[2], pair(geo.dilation))?;
        b.var("groups", &[1], geo.groups as f64)?;
        b.var("a_buf", a_buf_shape, 0.0)?;
        b.var("num_message_bits", &[1], f64::from(self.num_message_bits))?;
        b.params(geo)
    }
}

/// Transposed convolution synapses (see [`Conv::transposed`]); Vars as `Conv`'s.
#[derive(Clone, Debug)]
pub struct ConvTranspose(Conv);

impl Process for ConvTranspose {
    const TYPE_NAME: &'static str = "ConvTranspose";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        let conv = &self.0;
        let (c_in, kx, ky, c_out_per_group) = conv.weight.dim();
        let [x, y, c] = conv.input_shape;
        if c != c_in {
            return Err(Error::InvalidParameter {
                process: b.name().into(),
                param: "weight".into(),
                reason: format!(
                    "weight has {c_in} input channels, the input (X, Y, C) = {:?} has {c}",
                    conv.input_shape
                ),
            });
        }
        let [ox, oy] =
            transposed_output_size([x, y], [kx, ky], conv.padding, conv.stride, conv.dilation).ok_or_else(|| {
                Error::InvalidParameter {
                    process: b.name().into(),
                    param: "padding".into(),
                    reason: format!("padding {:?} leaves no output of the transposed convolution", conv.padding.0),
                }
            })?;
        let out = [ox, oy, c_out_per_group * conv.groups];
        let geo = conv.geometry(b, out)?;
        if geo.output_shape != conv.input_shape {
            return Err(Error::InvalidParameter {
                process: b.name().into(),
                param: "geometry".into(),
                reason: format!("input {:?} is not a convolution output of {out:?}", conv.input_shape),
            });
        }
        b.in_port("s_in", &geo.output_shape)?;
        b.out_port("a_out", &geo.input_shape)?;
        self.0.declare_vars(b, &geo, &geo.input_shape)
    }
}

impl Handle<ConvTranspose> {
    /// Input (X, Y, C_in).
    pub fn s_in(&self) -> InPort {
        self.in_port("s_in")
    }
    /// Output (X_out, Y_out, C_out).
    pub fn a_out(&self) -> OutPort {
        self.out_port("a_out")
    }
    /// Weights (C_in, kx, ky, C_out/groups).
    pub fn weight(&self) -> VarRef {
        self.var("weight")
    }
}

impl Process for Conv {
    const TYPE_NAME: &'static str = "Conv";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        let geo = self.geometry(b, self.input_shape)?;
        b.in_port("s_in", &self.input_shape)?;
        b.out_port("a_out", &geo.output_shape)?;
        self.declare_vars(b, &geo, &geo.output_shape)
    }
}

impl Handle<Conv> {
    /// Input (X, Y, C_in).
    pub fn s_in(&self) -> InPort {
        self.in_port("s_in")
    }
    /// Output (X_out, Y_out, C_out).
    pub fn a_out(&self) -> OutPort {
        self.out_port("a_out")
    }
    /// Weights (C_out, kx, ky, C_in/groups).
    pub fn weight(&self) -> VarRef {
        self.var("weight")
    }
    /// The result to be sent next step.
    pub fn a_buf(&self) -> VarRef {
        self.var("a_buf")
    }
}

pub(crate) fn register(r: &mut Registry) {
    let t = OutputTiming::PreviousStep;
    let models = [
        ModelEntry::cpu("Conv", "PyConvModelFloat", &["floating_pt"], t, |p| {
            Ok(Box::new(ConvModel::new(p, false, false)?) as Box<dyn CpuModel>)
        }),
        ModelEntry::cpu("Conv", "PyConvModelFixed", &["fixed_pt"], t, |p| {
            Ok(Box::new(ConvModel::new(p, true, false)?) as Box<dyn CpuModel>)
        }),
        ModelEntry::cpu("ConvTranspose", "PyConvTransposeModelFloat", &["floating_pt"], t, |p| {
            Ok(Box::new(ConvModel::new(p, false, true)?) as Box<dyn CpuModel>)
        }),
        ModelEntry::cpu("ConvTranspose", "PyConvTransposeModelFixed", &["fixed_pt"], t, |p| {
            Ok(Box::new(ConvModel::new(p, true, true)?) as Box<dyn CpuModel>)
        }),
    ];
    r.register_library(models);
}

/// A PyTorch convolution kernel (`shape` = (Cout, Cin/groups, kH, kW), C order; PyTorch
/// correlates) as the weight of Lava's `Conv` (Cout, kW, kH, Cin/groups), which convolves:
/// flipped spatially and with the spatial axes in Lava's (X, Y) order. The same holds for a
/// transposed kernel (Cin, Cout/groups, kH, kW) and `ConvTranspose`.
pub fn kernel_from_torch(weight: &[f64], shape: [usize; 4]) -> Array4<f64> {
    let [co, ci, kh, kw] = shape;
    Array4::from_shape_fn((co, kw, kh, ci), |(o, i, j, c)| {
        weight[((o * ci + c) * kh + (kh - 1 - j)) * kw + (kw - 1 - i)]
    })
}

/// The inverse of [`kernel_from_torch`]: a Lava `Conv` weight (Cout, kW, kH, Cin/groups)
/// as a PyTorch kernel, C order, with its shape (Cout, Cin/groups, kH, kW).
pub fn kernel_to_torch(kernel: &Array4<f64>) -> (Vec<f64>, [usize; 4]) {
    let (co, kw, kh, ci) = kernel.dim();
    let mut out = vec![0.0; co * ci * kh * kw];
    for ((o, i, j, c), &x) in kernel.indexed_iter() {
        out[((o * ci + c) * kh + (kh - 1 - j)) * kw + (kw - 1 - i)] = x;
    }
    (out, [co, ci, kh, kw])
}

/// Wraps to signed 24 bits as Lava's `signed_clamp(x, 24)`: `(x + 2^23) mod 2^24 - 2^23`.
pub fn wrap24(x: i64) -> i64 {
    (x + (1 << 23)).rem_euclid(1 << 24) - (1 << 23)
}

/// Float and fixed Conv models (Lava `PyConvModelFloat`, `PyConvModelFixed`), and the
/// same for ConvTranspose (`transposed`: input and output swap roles).
struct ConvModel {
    fixed: bool,
    transposed: bool,
    geo: ConvGeometry,
    /// Weights (C_out, kx, ky, C_in/groups), C order; integers for the fixed model.
    weight: Vec<f64>,
    fixed_weight: Vec<i64>,
    /// The other Vars, kept for `get` (weight_exp .. groups), by index.
    stored: Vec<Vec<f64>>,
    a_buf: Vec<f64>,
    acc_f: Vec<f64>,
    acc_i: Vec<i64>,
    num_message_bits: u32,
}

/// Along `axis`: the output position whose (flipped) kernel tap `tap` reads padded input
/// position `pos`, i.e. the `o < n_out` with `o * stride + dilation * tap = pos + padding`,
/// if there is one.
fn tap_output(g: &ConvGeometry, axis: usize, pos: usize, tap: usize, n_out: usize) -> Option<usize> {
    let num = (pos + g.padding[axis]).checked_sub(g.dilation[axis] * tap)?;
    let o = num / g.stride[axis];
    (num.is_multiple_of(g.stride[axis]) && o < n_out).then_some(o)
}

/// Along `axis`: the input position that kernel tap `tap` of output position `out` reads,
/// `out * stride + dilation * tap - padding`, if it lies inside the `n_in` inputs (the
/// inverse of [`tap_output`]).
fn tap_input(g: &ConvGeometry, axis: usize, out: usize, tap: usize, n_in: usize) -> Option<usize> {
    (out * g.stride[axis] + g.dilation[axis] * tap).checked_sub(g.padding[axis]).filter(|&i| i < n_in)
}

impl ConvModel {
    fn new(p: &LeafProcess, fixed: bool, transposed: bool) -> std::result::Result<Self, String> {
        if p.vars.len() != VAR_NAMES.len() || p.vars.iter().zip(VAR_NAMES).any(|(v, n)| v.name != n) {
            return Err(format!("process {} does not have the Conv Vars {VAR_NAMES:?}", p.name));
        }
        let geo: ConvGeometry = p.params()?;
        let [kx, ky] = geo.kernel;
        let c_out = geo.output_shape[2];
        let cg = geo.input_shape[2] / geo.groups.max(1);
        let w = &p.vars[WEIGHT];
        let (in_shape, out_shape) =
            if transposed { (geo.output_shape, geo.input_shape) } else { (geo.input_shape, geo.output_shape) };
        if w.shape != [c_out, kx, ky, cg] || p.vars[A_BUF].data.len() != out_shape.iter().product::<usize>() {
            return Err("Conv Vars do not match its geometry".into());
        }
        if p.in_port_shape("s_in")? != &in_shape.to_vec() {
            return Err("Conv input port does not match its geometry".into());
        }
        let fixed_weight = if fixed { to_ints("weight", &w.data, I32.0, I32.1)? } else { Vec::new() };
        let n_out: usize = out_shape.iter().product();
        Ok(ConvModel {
            fixed,
            transposed,
            geo,
            weight: w.data.to_vec(),
            fixed_weight,
            stored: p.vars.iter().map(|v| v.data.to_vec()).collect(),
            a_buf: p.vars[A_BUF].data.to_vec(),
            acc_f: vec![0.0; n_out],
            acc_i: vec![0; n_out],
            num_message_bits: to_int("num_message_bits", p.vars[NUM_MESSAGE_BITS].data[0], 0, 32)? as u32,
        })
    }

    /// Adds weight `w` times input `s` to output `out` (integers in fixed point).
    #[inline(always)]
    fn accumulate(&mut self, out: usize, w: usize, s: f64) {
        if self.fixed {
            self.acc_i[out] += self.fixed_weight[w] * s.trunc() as i64;
        } else {
            self.acc_f[out] += self.weight[w] * s;
        }
    }

    /// Clears the accumulators; returns the non-zero inputs of a port of `shape` (X, Y, C)
    /// as (x, y, c, value), the value 1 for binary spikes.
    fn begin<'a>(
        &mut self,
        s_in: &'a [f64],
        [_, y_len, c_len]: [usize; 3],
    ) -> impl Iterator<Item = (usize, usize, usize, f64)> + 'a {
        self.acc_f.fill(0.0);
        self.acc_i.fill(0);
        let graded = self.num_message_bits > 0;
        s_in.iter()
            .enumerate()
            .filter(|(_, &s)| s != 0.0)
            .map(move |(k, &s)| (k / (y_len * c_len), (k / c_len) % y_len, k % c_len, if graded { s } else { 1.0 }))
    }

    /// Scatters every non-zero input through the kernel into the accumulator.
    fn convolve(&mut self, s_in: &[f64]) {
        let g = self.geo;
        let [_, _, ci] = g.input_shape;
        let [xo, yo, co] = g.output_shape;
        let [kx, ky] = g.kernel;
        let (cg, kg) = (ci / g.groups, co / g.groups);
        for (x, y, c, s) in self.begin(s_in, g.input_shape) {
            let (group, cl) = (c / cg, c % cg);
            // Output (ox, oy) reads padded input ox*s + d*(k-1-i) at kernel tap i
            // (the kernel is flipped): solve for ox.
            for i in 0..kx {
                let Some(ox) = tap_output(&g, 0, x, kx - 1 - i, xo) else { continue };
                for j in 0..ky {
                    let Some(oy) = tap_output(&g, 1, y, ky - 1 - j, yo) else { continue };
                    let out0 = (ox * yo + oy) * co + group * kg;
                    for k in 0..kg {
                        self.accumulate(out0 + k, (((group * kg + k) * kx + i) * ky + j) * cg + cl, s);
                    }
                }
            }
        }
    }

    /// The adjoint of [`ConvModel::convolve`]: every non-zero input at a convolution output
    /// position (ox, oy, co) is scattered to the input positions the kernel taps read there.
    fn convolve_transposed(&mut self, s_in: &[f64]) {
        let g = self.geo;
        let [xo, yo, ci] = g.input_shape;
        let [_, _, co] = g.output_shape;
        let [kx, ky] = g.kernel;
        let (cg, kg) = (ci / g.groups, co / g.groups);
        for (x, y, c, s) in self.begin(s_in, g.output_shape) {
            let group = c / kg;
            // The input position read at tap i (the kernel is flipped).
            for i in 0..kx {
                let Some(ox) = tap_input(&g, 0, x, kx - 1 - i, xo) else { continue };
                for j in 0..ky {
                    let Some(oy) = tap_input(&g, 1, y, ky - 1 - j, yo) else { continue };
                    let out0 = (ox * yo + oy) * ci + group * cg;
                    let w0 = ((c * kx + i) * ky + j) * cg;
                    for k in 0..cg {
                        self.accumulate(out0 + k, w0 + k, s);
                    }
                }
            }
        }
    }
}

impl CpuModel for ConvModel {
    fn var_dtype(&self, var: usize) -> DType {
        match var {
            WEIGHT | A_BUF if !self.fixed => DType::F64,
            WEIGHT | A_BUF => DType::I32,
            _ => DType::I64,
        }
    }

    fn emit(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        io.send(0).copy_from_slice(&self.a_buf);
        Ok(())
    }

    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        if self.transposed {
            self.convolve_transposed(io.recv(0));
        } else {
            self.convolve(io.recv(0));
        }
        if self.fixed {
            for (b, &a) in self.a_buf.iter_mut().zip(&self.acc_i) {
                *b = wrap24(a) as f64;
            }
        } else {
            self.a_buf.copy_from_slice(&self.acc_f);
        }
        Ok(())
    }

    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        let src: &[f64] = match var {
            WEIGHT => &self.weight,
            A_BUF => &self.a_buf,
            NUM_MESSAGE_BITS => {
                check_len("num_message_bits", 1, out.len())?;
                out[0] = f64::from(self.num_message_bits);
                return Ok(());
            }
            v if v < VAR_NAMES.len() => &self.stored[v],
            _ => return Err(unknown_var(var)),
        };
        check_len(VAR_NAMES[var], src.len(), out.len())?;
        out.copy_from_slice(src);
        Ok(())
    }

    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        match var {
            WEIGHT => {
                check_len("weight", self.weight.len(), data.len())?;
                if self.fixed {
                    self.fixed_weight = to_ints("weight", data, I32.0, I32.1).map_err(ModelError)?;
                    self.weight = self.fixed_weight.iter().map(|&w| w as f64).collect();
                } else {
                    self.weight.copy_from_slice(data);
                }
            }
            A_BUF => {
                check_len("a_buf", self.a_buf.len(), data.len())?;
                self.a_buf.copy_from_slice(data);
            }
            NUM_MESSAGE_BITS => {
                check_len("num_message_bits", 1, data.len())?;
                self.num_message_bits = to_int("num_message_bits", data[0], 0, 32).map_err(ModelError)? as u32;
            }
            _ => {
                return Err(ModelError::new(format!(
                    "Conv Var `{}` is fixed at construction",
                    VAR_NAMES.get(var).unwrap_or(&"?")
                )))
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use ndarray::{ArrayD, IxDyn};

    /// Deterministic small integers in -4..=4.
    fn ints(n: usize, seed: u64) -> Vec<f64> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((x >> 33) % 9) as f64 - 4.0
            })
            .collect()
    }

    /// Runs a synapse process for two steps on `input` (then zeros); returns its output,
    /// which arrives one step later.
    fn respond<P: Process>(p: P, input: &[f64], in_shape: &[usize], cfg: &RunConfig) -> ArrayD<f64> {
        let mut net = Network::new();
        let mut data = Vec::new();
        for &x in input {
            data.extend([x, 0.0]);
        }
        let shape: Vec<usize> = in_shape.iter().copied().chain([2]).collect();
        let src = net.add(source::RingBuffer::new(ArrayD::from_shape_vec(IxDyn(&shape), data).unwrap())).unwrap();
        let syn = net.add(p).unwrap().id();
        net.connect(src.s_out(), &InPort { proc: syn, name: "s_in".into() }).unwrap();
        let a_out = OutPort { proc: syn, name: "a_out".into() };
        let out_shape = net.out_port_shape(&a_out).unwrap();
        let sink = net.add(sink::RingBuffer::new(&out_shape, 2)).unwrap();
        net.connect(a_out, &sink.a_in()).unwrap();
        let mut rt = net.runtime(cfg).unwrap();
        rt.run(RunSteps::new(2)).unwrap();
        rt.get(&sink.data()).unwrap().index_axis(ndarray::Axis(out_shape.len()), 1).to_owned()
    }

    /// ConvTranspose is the adjoint of Conv: <conv(a), b> = <a, convT(b)> for any a, b, with
    /// asymmetric stride, padding and dilation and two groups; exactly, in both precisions.
    #[test]
    fn conv_transpose_is_the_adjoint_of_conv() {
        let w = Array4::from_shape_vec((6, 3, 2, 2), ints(6 * 3 * 2 * 2, 1)).unwrap();
        let conv = || Conv::new(w.clone(), [7, 6, 4]).stride([2, 1]).padding([1, 0]).dilation([1, 2]).groups(2);
        let a = ints(7 * 6 * 4, 2);
        let b = ints(4 * 4 * 6, 3);
        for cfg in [RunConfig::floating_pt(), RunConfig::fixed_pt()] {
            let ya = respond(conv().num_message_bits(8), &a, &[7, 6, 4], &cfg);
            assert_eq!(ya.shape(), &[4, 4, 6]);
            let tb = respond(
                Conv::new(w.clone(), [4, 4, 6])
                    .stride([2, 1])
                    .padding([1, 0])
                    .dilation([1, 2])
                    .groups(2)
                    .num_message_bits(8)
                    .transposed(),
                &b,
                &[4, 4, 6],
                &cfg,
            );
            assert_eq!(tb.shape(), &[7, 6, 4]);
            let lhs: f64 = ya.iter().zip(&b).map(|(x, y)| x * y).sum();
            let rhs: f64 = a.iter().zip(tb.iter()).map(|(x, y)| x * y).sum();
            assert!(lhs != 0.0);
            assert_eq!(lhs, rhs);
        }
    }

    /// Hand-derived: a 1x1-channel 2x1 kernel [1, 2] (X taps), stride 2, on a 2x1 input
    /// [3, 5]: the transposed output (X = 4) is the flipped kernel placed at 2·x:
    /// [3·2, 3·1, 5·2, 5·1].
    #[test]
    fn conv_transpose_places_the_flipped_kernel_at_strided_positions() {
        let w = Array4::from_shape_vec((1, 2, 1, 1), vec![1.0, 2.0]).unwrap();
        let t = Conv::new(w, [2, 1, 1]).stride([2, 1]).num_message_bits(8).transposed();
        let y = respond(t, &[3.0, 5.0], &[2, 1, 1], &RunConfig::fixed_pt());
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![6.0, 3.0, 10.0, 5.0]);
    }

    #[test]
    fn transposed_geometry_errors_name_the_problem() {
        let mut net = Network::new();
        let w = Array4::from_elem((2, 3, 3, 1), 1.0);
        let e = net.add(Conv::new(w.clone(), [4, 4, 3]).transposed()).err().unwrap();
        assert!(e.to_string().contains("2 input channels"), "{e}");
        let e = net.add(Conv::new(w, [1, 1, 2]).padding(2).transposed()).err().unwrap();
        assert!(e.to_string().contains("padding"), "{e}");
    }
}
