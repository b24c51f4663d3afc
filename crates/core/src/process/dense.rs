//! Dense all-to-all synapses (Lava `lava.proc.dense`, SPEC §2.3): the `Dense` process, its
//! float model and its Loihi bit-accurate fixed-point model. Both send the previous step's
//! accumulation first (the one-step synaptic delay) and accumulate event-driven: only the
//! weight columns of inputs that are non-zero are touched.

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ModelError, Result};
use crate::executable::LeafProcess;
use crate::fixed::{shift_by_exp, to_int};
use crate::graph::{Handle, InPort, OutPort, Process, ProcessBuilder, VarRef};
use crate::model::{check_len, unknown_var, CpuModel, DType, SpikeIo};
use crate::registry::{ModelEntry, OutputTiming, Registry};

const WEIGHTS: usize = 0;
const A_BUFF: usize = 1;
const NUM_MESSAGE_BITS: usize = 2;
const VAR_NAMES: [&str; 3] = ["weights", "a_buff", "num_message_bits"];

/// Below this many weights touched per step, accumulation stays on one thread.
const PARALLEL_MIN_WORK: usize = 1 << 18;

/// How the sign of the weights is interpreted by the fixed-point model (Lava `SignMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignMode {
    /// Signed weights, -256..=255 before truncation; one bit less precision.
    Mixed = 1,
    /// Non-negative weights, 0..=255.
    Excitatory = 2,
    /// Non-positive weights, -255..=0.
    Inhibitory = 3,
}

impl SignMode {
    /// Lava's `determine_sign_mode`: excitatory if min >= 0, inhibitory if max <= 0, else
    /// mixed.
    pub fn of(weights: &[f64]) -> SignMode {
        let min = weights.iter().copied().fold(f64::INFINITY, f64::min);
        let max = weights.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if min >= 0.0 {
            SignMode::Excitatory
        } else if max <= 0.0 {
            SignMode::Inhibitory
        } else {
            SignMode::Mixed
        }
    }
}

/// Parameters of the fixed-point model (Lava's `proc_params` of Dense).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DenseParams {
    /// Accumulated input is shifted left by this (right if negative).
    pub weight_exp: i32,
    /// Significant bits kept per weight (1..=8).
    pub num_weight_bits: u32,
    /// Sign interpretation; None = determined from the weights.
    pub sign_mode: Option<SignMode>,
}

/// Dense synapses with weights of shape (num_out, num_in): `a_out = W · s_in`, sent one step
/// later. `num_message_bits = 0` means binary spikes (columns of spiking inputs are summed),
/// > 0 graded spikes (values multiply the weights).
#[derive(Clone, Debug)]
pub struct Dense {
    weights: Array2<f64>,
    num_message_bits: u32,
    params: DenseParams,
}

impl Dense {
    /// Dense synapses with the given (num_out, num_in) weights.
    pub fn new(weights: Array2<f64>) -> Self {
        Dense {
            weights,
            num_message_bits: 0,
            params: DenseParams { weight_exp: 0, num_weight_bits: 8, sign_mode: None },
        }
    }
    /// Bits of graded spike payloads (0 = binary).
    pub fn num_message_bits(mut self, bits: u32) -> Self {
        self.num_message_bits = bits;
        self
    }
    /// Fixed point: exponent applied to the accumulated input.
    pub fn weight_exp(mut self, e: i32) -> Self {
        self.params.weight_exp = e;
        self
    }
    /// Fixed point: significant bits per weight (1..=8).
    pub fn num_weight_bits(mut self, bits: u32) -> Self {
        self.params.num_weight_bits = bits;
        self
    }
    /// Fixed point: sign mode (default: determined from the weights).
    pub fn sign_mode(mut self, mode: SignMode) -> Self {
        self.params.sign_mode = Some(mode);
        self
    }
}

impl Process for Dense {
    const TYPE_NAME: &'static str = "Dense";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        let (num_out, num_in) = self.weights.dim();
        check_dense_params("Dense", self.params.weight_exp, self.params.num_weight_bits, self.num_message_bits)?;
        b.in_port("s_in", &[num_in])?;
        b.out_port("a_out", &[num_out])?;
        b.var("weights", &[num_out, num_in], self.weights.into_dyn())?;
        b.var("a_buff", &[num_out], 0.0)?;
        b.var("num_message_bits", &[1], f64::from(self.num_message_bits))?;
        b.params(&self.params)
    }
}

/// Checks the fixed-point weight parameters and the message bits shared by the Dense
/// family.
pub(crate) fn check_dense_params(
    process: &str,
    weight_exp: i32,
    num_weight_bits: u32,
    num_message_bits: u32,
) -> Result<()> {
    let invalid = |param: &str, reason: String| {
        Err(Error::InvalidParameter { process: process.into(), param: param.into(), reason })
    };
    if !(1..=8).contains(&num_weight_bits) {
        return invalid("num_weight_bits", format!("must be 1..=8, got {num_weight_bits}"));
    }
    if weight_exp.abs() > 24 {
        return invalid("weight_exp", format!("must be within -24..=24, got {weight_exp}"));
    }
    if num_message_bits > 32 {
        return invalid("num_message_bits", format!("must be 0..=32, got {num_message_bits}"));
    }
    Ok(())
}

impl Handle<Dense> {
    /// Input spikes.
    pub fn s_in(&self) -> InPort {
        self.in_port("s_in")
    }
    /// Output activation.
    pub fn a_out(&self) -> OutPort {
        self.out_port("a_out")
    }
    /// Weights (num_out, num_in).
    pub fn weights(&self) -> VarRef {
        self.var("weights")
    }
    /// The accumulation to be sent next step.
    pub fn a_buff(&self) -> VarRef {
        self.var("a_buff")
    }
    /// Graded-spike bits.
    pub fn num_message_bits(&self) -> VarRef {
        self.var("num_message_bits")
    }
}

pub(crate) fn register(r: &mut Registry) {
    let models = [
        ModelEntry::cpu("Dense", "PyDenseModelFloat", &["floating_pt"], OutputTiming::PreviousStep, |p| {
            Ok(Box::new(DenseModel::new(p, FloatArith)?) as Box<dyn CpuModel>)
        }),
        ModelEntry::cpu(
            "Dense",
            "PyDenseModelBitAcc",
            &["bit_accurate_loihi", "fixed_pt"],
            OutputTiming::PreviousStep,
            |p| Ok(Box::new(DenseModel::new(p, fixed_arith(p)?)?) as Box<dyn CpuModel>),
        ),
    ];
    r.register_library(models);
}

/// The weights of a compiled Dense process as (num_out, num_in, row-major data).
fn dense_vars(p: &LeafProcess) -> Result<(usize, usize, &[f64], u32), String> {
    if p.vars.len() != VAR_NAMES.len() || p.vars.iter().zip(VAR_NAMES).any(|(v, n)| v.name != n) {
        return Err(format!("process {} does not have the Dense Vars {VAR_NAMES:?}", p.name));
    }
    let w = &p.vars[WEIGHTS];
    let [num_out, num_in] = w.shape[..] else {
        return Err(format!("Dense weights must be 2-D, got shape {:?}", w.shape));
    };
    if w.data.len() != num_out * num_in || p.vars[A_BUFF].data.len() != num_out {
        return Err("Dense Vars have inconsistent sizes".into());
    }
    let bits = to_int("num_message_bits", p.vars[NUM_MESSAGE_BITS].data[0], 0, 32)? as u32;
    Ok((num_out, num_in, &w.data, bits))
}

/// Transposes row-major (rows, cols) data to column-major, so that the weights of one
/// input are contiguous.
pub(crate) fn to_columns<T: Copy>(rows: usize, cols: usize, data: &[T]) -> Vec<T> {
    (0..cols).flat_map(|j| (0..rows).map(move |i| data[i * cols + j])).collect()
}

/// Writes column-major (rows, cols) weights into `out` in row-major order as f64.
pub(crate) fn columns_to_rows<T: Copy + Into<Weight>>(rows: usize, cols: usize, src: &[T], out: &mut [f64]) {
    for i in 0..rows {
        for j in 0..cols {
            out[i * cols + j] = src[j * rows + i].into().0;
        }
    }
}

/// A weight value converted to f64 for `Var::get`.
pub struct Weight(f64);

impl Weight {
    /// The value.
    pub fn value(&self) -> f64 {
        self.0
    }
}
impl From<f64> for Weight {
    fn from(x: f64) -> Self {
        Weight(x)
    }
}
impl From<i32> for Weight {
    fn from(x: i32) -> Self {
        Weight(f64::from(x))
    }
}

/// Adds `scale · column j` for every non-zero input `j` (scale 1 for binary spikes),
/// splitting the output rows over threads when the work is large.
pub(crate) fn accumulate<W, T>(acc: &mut [T], cols: &[W], s_in: &[f64], graded: bool, active: &mut Vec<(usize, T)>)
where
    W: Copy + Send + Sync + Into<T>,
    T: Copy + Send + Sync + std::ops::AddAssign + std::ops::Add<Output = T> + std::ops::Mul<Output = T> + FromSpike,
{
    let rows = acc.len();
    active.clear();
    active.extend(
        s_in.iter()
            .enumerate()
            .filter(|(_, &s)| s != 0.0)
            .map(|(j, &s)| (j, if graded { T::from_spike(s) } else { T::one() })),
    );
    let active: &[(usize, T)] = active;
    let add_rows = |chunk: &mut [T], r0: usize| add_columns(chunk, r0, rows, cols, active, graded);
    if active.len() * rows >= PARALLEL_MIN_WORK && rayon::current_num_threads() > 1 {
        let chunk = rows.div_ceil(rayon::current_num_threads()).max(64);
        acc.par_chunks_mut(chunk).enumerate().for_each(|(c, part)| {
            crate::simd::dispatch(
                #[inline(always)]
                || add_rows(part, c * chunk),
            )
        });
    } else {
        crate::simd::dispatch(
            #[inline(always)]
            || add_rows(acc, 0),
        );
    }
}

/// Adds the active columns to rows `r0..r0 + chunk.len()` of the accumulator.
#[inline(always)]
fn add_columns<W, T>(chunk: &mut [T], r0: usize, rows: usize, cols: &[W], active: &[(usize, T)], graded: bool)
where
    W: Copy + Into<T>,
    T: Copy + std::ops::AddAssign + std::ops::Add<Output = T> + std::ops::Mul<Output = T>,
{
    let n = chunk.len();
    let col = |j: usize| &cols[j * rows + r0..j * rows + r0 + n];
    if graded {
        for &(j, s) in active {
            for (a, &w) in chunk.iter_mut().zip(col(j)) {
                *a += w.into() * s;
            }
        }
        return;
    }
    // Binary spikes: four columns per pass, so the accumulator is loaded and stored a
    // quarter as often.
    let mut groups = active.chunks_exact(4);
    for g in &mut groups {
        let (c0, c1, c2, c3) = (col(g[0].0), col(g[1].0), col(g[2].0), col(g[3].0));
        for i in 0..n {
            chunk[i] += (c0[i].into() + c1[i].into()) + (c2[i].into() + c3[i].into());
        }
    }
    for &(j, _) in groups.remainder() {
        for (a, &w) in chunk.iter_mut().zip(col(j)) {
            *a += w.into();
        }
    }
}

/// Conversion of a message value to an accumulator element.
pub trait FromSpike {
    /// The payload of a graded spike.
    fn from_spike(s: f64) -> Self;
    /// A binary spike.
    fn one() -> Self;
}
impl FromSpike for f64 {
    fn from_spike(s: f64) -> Self {
        s
    }
    fn one() -> Self {
        1.0
    }
}
impl FromSpike for i64 {
    fn from_spike(s: f64) -> Self {
        s as i64
    }
    fn one() -> Self {
        1
    }
}

/// Lava's `clip_weights(W, sign_mode, 8)` then `truncate_weights(W, sign_mode, bits)`:
/// weights cast to integers (toward zero), clipped to the sign mode's 8-bit range, then the
/// `8 - bits + mixed` least significant bits dropped (arithmetic shift; on magnitudes for
/// inhibitory weights).
pub fn quantize_weights(w: &[f64], mode: SignMode, num_weight_bits: u32) -> Vec<i32> {
    let mixed = i64::from(mode == SignMode::Mixed);
    let inhibitory = mode == SignMode::Inhibitory;
    let (lo, hi) = (-256 * mixed, 255);
    w.iter()
        .map(|&x| {
            let x = x.trunc().clamp(i32::MIN as f64, i32::MAX as f64) as i64;
            let x = if inhibitory { -x } else { x };
            let x = x.clamp(lo, hi);
            truncate_weight(if inhibitory { -x } else { x }, mode, num_weight_bits) as i32
        })
        .collect()
}

/// Lava's `truncate_weights` for one integer weight: the `8 - bits + mixed` least
/// significant bits dropped (arithmetic shift; on the magnitude for inhibitory weights).
pub fn truncate_weight(w: i64, mode: SignMode, num_weight_bits: u32) -> i64 {
    let k = 8 - i64::from(num_weight_bits) + i64::from(mode == SignMode::Mixed);
    if mode == SignMode::Inhibitory {
        -(((-w) >> k) << k)
    } else {
        (w >> k) << k
    }
}

/// The arithmetic that distinguishes the float and the fixed-point Dense models.
pub trait DenseArith: Send + 'static {
    /// Stored weight type.
    type W: Copy + Send + Sync + Into<Self::A> + Into<Weight>;
    /// Accumulator type.
    type A: Copy
        + Send
        + Sync
        + Default
        + std::ops::AddAssign
        + std::ops::Add<Output = Self::A>
        + std::ops::Mul<Output = Self::A>
        + FromSpike;
    /// Converts (and for fixed point quantises) a row-major weight matrix.
    fn weights(&self, w: &[f64]) -> Vec<Self::W> {
        self.weights_for(w, w)
    }
    /// Converts weights whose sign mode (fixed point) is decided over `for_sign` (the whole
    /// matrix, where `w` holds only the stored entries of a sparse one).
    fn weights_for(&self, w: &[f64], for_sign: &[f64]) -> Vec<Self::W>;
    /// Post-processes the accumulation (fixed point: the `weight_exp` shift).
    fn finish(&self, acc: &mut [Self::A]);
    /// The message sent for an accumulator value.
    fn message(a: Self::A) -> f64;
    /// Reads an accumulator value as f64 (for `Var::get`).
    fn to_f64(a: Self::A) -> f64;
    /// Writes an accumulator value from f64 (for `Var::set`).
    fn from_f64(x: f64) -> Self::A;
    /// Stored types of weights and a_buff (Lava's dtypes).
    const DTYPE: DType;
}

/// Float arithmetic (Lava `PyDenseModelFloat`): f64 weights and sums.
pub struct FloatArith;

impl DenseArith for FloatArith {
    type W = f64;
    type A = f64;
    fn weights_for(&self, w: &[f64], _for_sign: &[f64]) -> Vec<f64> {
        w.to_vec()
    }
    fn finish(&self, _acc: &mut [f64]) {}
    fn message(a: f64) -> f64 {
        a
    }
    fn to_f64(a: f64) -> f64 {
        a
    }
    fn from_f64(x: f64) -> f64 {
        x
    }
    const DTYPE: DType = DType::F64;
}

/// Loihi bit-accurate arithmetic (Lava `PyDenseModelBitAcc`): weights quantised as
/// [`quantize_weights`], 64-bit integer sums shifted by `weight_exp`, messages sent as
/// 32-bit integers.
pub struct FixedArith {
    weight_exp: i32,
    num_weight_bits: u32,
    sign_mode: Option<SignMode>,
}

impl DenseArith for FixedArith {
    type W = i32;
    type A = i64;
    fn weights_for(&self, w: &[f64], for_sign: &[f64]) -> Vec<i32> {
        quantize_weights(w, self.sign_mode.unwrap_or_else(|| SignMode::of(for_sign)), self.num_weight_bits)
    }
    fn finish(&self, acc: &mut [i64]) {
        if self.weight_exp != 0 {
            for a in acc.iter_mut() {
                *a = shift_by_exp(*a, self.weight_exp);
            }
        }
    }
    fn message(a: i64) -> f64 {
        f64::from(a as i32)
    }
    fn to_f64(a: i64) -> f64 {
        a as f64
    }
    fn from_f64(x: f64) -> i64 {
        x.trunc() as i64
    }
    const DTYPE: DType = DType::I32;
}

/// The Dense model for either arithmetic: weights column-major (column j, the weights of
/// input j, is `cols[j*num_out..(j+1)*num_out]`), the accumulator sent one step later.
pub struct DenseModel<R: DenseArith> {
    arith: R,
    num_in: usize,
    cols: Vec<R::W>,
    a_buff: Vec<R::A>,
    num_message_bits: u32,
    active: Vec<(usize, R::A)>,
}

impl<R: DenseArith> DenseModel<R> {
    fn new(p: &LeafProcess, arith: R) -> Result<Self, String> {
        let (num_out, num_in, w, bits) = dense_vars(p)?;
        Ok(DenseModel {
            cols: to_columns(num_out, num_in, &arith.weights(w)),
            arith,
            num_in,
            a_buff: p.vars[A_BUFF].data.iter().map(|&x| R::from_f64(x)).collect(),
            num_message_bits: bits,
            active: Vec::with_capacity(num_in),
        })
    }
}

impl<R: DenseArith> CpuModel for DenseModel<R> {
    fn var_dtype(&self, var: usize) -> DType {
        if var == NUM_MESSAGE_BITS {
            DType::I64
        } else {
            R::DTYPE
        }
    }

    fn emit(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        for (o, &a) in io.send(0).iter_mut().zip(&self.a_buff) {
            *o = R::message(a);
        }
        Ok(())
    }

    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        self.a_buff.fill(R::A::default());
        accumulate(&mut self.a_buff, &self.cols, io.recv(0), self.num_message_bits > 0, &mut self.active);
        self.arith.finish(&mut self.a_buff);
        Ok(())
    }

    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        match var {
            WEIGHTS => {
                check_len("weights", self.cols.len(), out.len())?;
                columns_to_rows(self.a_buff.len(), self.num_in, &self.cols, out);
            }
            A_BUFF => {
                check_len("a_buff", self.a_buff.len(), out.len())?;
                for (o, &a) in out.iter_mut().zip(&self.a_buff) {
                    *o = R::to_f64(a);
                }
            }
            NUM_MESSAGE_BITS => {
                check_len("num_message_bits", 1, out.len())?;
                out[0] = f64::from(self.num_message_bits);
            }
            _ => return Err(unknown_var(var)),
        }
        Ok(())
    }

    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        match var {
            WEIGHTS => {
                check_len("weights", self.cols.len(), data.len())?;
                // New weights are converted like the initial ones (fixed point: quantised;
                // Lava quantises once, at the first step, the matrix it holds then).
                self.cols = to_columns(self.a_buff.len(), self.num_in, &self.arith.weights(data));
            }
            A_BUFF => {
                check_len("a_buff", self.a_buff.len(), data.len())?;
                for (a, &x) in self.a_buff.iter_mut().zip(data) {
                    *a = R::from_f64(x);
                }
            }
            NUM_MESSAGE_BITS => {
                check_len("num_message_bits", 1, data.len())?;
                self.num_message_bits = to_int("num_message_bits", data[0], 0, 32).map_err(ModelError)? as u32;
            }
            _ => return Err(unknown_var(var)),
        }
        Ok(())
    }
}

/// Builds the fixed-point arithmetic from the process parameters.
fn fixed_arith(p: &LeafProcess) -> Result<FixedArith, String> {
    fixed_arith_from(&p.params()?)
}

/// Builds the fixed-point arithmetic from Dense-style parameters.
pub(crate) fn fixed_arith_from(params: &DenseParams) -> Result<FixedArith, String> {
    if !(1..=8).contains(&params.num_weight_bits) {
        return Err(format!("num_weight_bits must be 1..=8, got {}", params.num_weight_bits));
    }
    Ok(FixedArith {
        weight_exp: params.weight_exp,
        num_weight_bits: params.num_weight_bits,
        sign_mode: params.sign_mode,
    })
}
