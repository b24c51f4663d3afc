//! Sparse and delayed synapses (Lava `lava.proc.sparse`, `DelayDense` in `lava.proc.dense`,
//! SPEC §2.3, §2.4): `Sparse` (CSR weights), `DelayDense` and `DelaySparse` (a delay per
//! synapse: a spike at step t through a synapse of delay d arrives at step t + 1 + d).
//! Float and fixed point, with Dense's weight quantisation and `weight_exp` shift.
//!
//! Sparse weights are Vars of shape (nnz,) holding the stored values in CSR order; the
//! pattern (indptr, indices) is fixed at construction, so `set` keeps it by design.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ModelError, Result};
use crate::executable::LeafProcess;
use crate::fixed::to_int;
use crate::graph::{Handle, InPort, OutPort, Process, ProcessBuilder, VarRef};
use crate::model::{check_len, unknown_var, CpuModel, DType, SpikeIo};
use crate::process::dense::{
    check_dense_params, fixed_arith_from, DenseArith, DenseParams, FloatArith, FromSpike, SignMode,
};
use crate::registry::{ModelEntry, OutputTiming, Registry};

/// Largest delay the fixed-point models accept (6 bits on Loihi 2).
pub const MAX_FIXED_DELAY: usize = 63;

/// A CSR sparsity pattern of a (num_out, num_in) matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsrPattern {
    /// (num_out, num_in).
    pub shape: [usize; 2],
    /// Row pointers (num_out + 1 entries).
    pub indptr: Vec<usize>,
    /// Column of each stored entry.
    pub indices: Vec<usize>,
}

impl CsrPattern {
    /// Checks the structure: indptr monotone from 0 to nnz, column indices in range.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let [rows, cols] = self.shape;
        if self.indptr.len() != rows + 1 {
            return Err(format!("indptr has {} entries, expected num_out + 1 = {}", self.indptr.len(), rows + 1));
        }
        if self.indptr[0] != 0 || self.indptr.windows(2).any(|w| w[0] > w[1]) || self.indptr[rows] != self.indices.len()
        {
            return Err(format!("indptr must rise from 0 to nnz = {}", self.indices.len()));
        }
        if let Some(&j) = self.indices.iter().find(|&&j| j >= cols) {
            return Err(format!("column index {j} is out of range for {cols} inputs"));
        }
        Ok(())
    }

    /// All entries of a dense (rows, cols) matrix, row by row.
    fn full(rows: usize, cols: usize) -> Self {
        CsrPattern {
            shape: [rows, cols],
            indptr: (0..=rows).map(|i| i * cols).collect(),
            indices: (0..rows).flat_map(|_| 0..cols).collect(),
        }
    }

    /// The pattern and values of the non-zero entries of a dense matrix.
    pub fn from_dense(m: &Array2<f64>) -> (Self, Vec<f64>) {
        let (rows, cols) = m.dim();
        let (mut indptr, mut indices, mut values) = (vec![0], Vec::new(), Vec::new());
        for i in 0..rows {
            for j in 0..cols {
                if m[[i, j]] != 0.0 {
                    indices.push(j);
                    values.push(m[[i, j]]);
                }
            }
            indptr.push(indices.len());
        }
        (CsrPattern { shape: [rows, cols], indptr, indices }, values)
    }
}

/// Parameters of the sparse/delay synapse models.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SynapseParams {
    /// Stored pattern (for DelayDense: every entry).
    pub pattern: CsrPattern,
    /// Fixed-point weight handling (as Dense).
    pub dense: DenseParams,
    /// Maximum delay (None: no delays).
    pub max_delay: Option<usize>,
}

/// Sparse synapses with CSR weights (Lava `Sparse`): `a_out = W · s_in`, sent next step.
#[derive(Clone, Debug)]
pub struct Sparse {
    pattern: CsrPattern,
    values: Vec<f64>,
    delays: Option<Vec<f64>>,
    max_delay: usize,
    num_message_bits: u32,
    dense: DenseParams,
}

impl Sparse {
    /// From a CSR matrix: `shape` (num_out, num_in), row pointers, column indices, values.
    pub fn from_csr(shape: [usize; 2], indptr: Vec<usize>, indices: Vec<usize>, values: Vec<f64>) -> Self {
        Sparse {
            pattern: CsrPattern { shape, indptr, indices },
            values,
            delays: None,
            max_delay: 0,
            num_message_bits: 0,
            dense: DenseParams { weight_exp: 0, num_weight_bits: 8, sign_mode: None },
        }
    }
    /// From the non-zero entries of a dense matrix.
    pub fn from_dense(weights: &Array2<f64>) -> Self {
        let (p, v) = CsrPattern::from_dense(weights);
        Sparse::from_csr(p.shape, p.indptr, p.indices, v)
    }
    /// Graded-spike bits (0 = binary).
    pub fn num_message_bits(mut self, bits: u32) -> Self {
        self.num_message_bits = bits;
        self
    }
    /// Fixed point: exponent applied to the accumulated input.
    pub fn weight_exp(mut self, e: i32) -> Self {
        self.dense.weight_exp = e;
        self
    }
    /// Fixed point: significant bits per weight (1..=8).
    pub fn num_weight_bits(mut self, bits: u32) -> Self {
        self.dense.num_weight_bits = bits;
        self
    }
    /// Fixed point: sign mode (default: determined from the weights).
    pub fn sign_mode(mut self, mode: SignMode) -> Self {
        self.dense.sign_mode = Some(mode);
        self
    }
    /// Adds per-synapse delays (one per stored entry, CSR order), making this a
    /// `DelaySparse`; `max_delay` 0 means the largest delay.
    pub fn with_delays(self, delays: Vec<f64>, max_delay: usize) -> DelaySparse {
        DelaySparse(Sparse { delays: Some(delays), max_delay, ..self })
    }

    /// Validates and declares ports, Vars and parameters (shared by the three processes).
    fn declare(self, b: &mut ProcessBuilder<'_>, dense_vars: bool) -> Result<()> {
        let invalid = |param: &str, reason: String| Error::InvalidParameter {
            process: b.name().into(),
            param: param.into(),
            reason,
        };
        self.pattern.validate().map_err(|r| invalid("weights", format!("invalid CSR matrix: {r}")))?;
        let nnz = self.pattern.indices.len();
        if self.values.len() != nnz {
            return Err(invalid("weights", format!("{} values for {nnz} stored entries", self.values.len())));
        }
        check_dense_params(b.name(), self.dense.weight_exp, self.dense.num_weight_bits, self.num_message_bits)?;
        let max_delay = match &self.delays {
            None => None,
            Some(d) => {
                if d.len() != nnz {
                    return Err(invalid("delays", format!("{} delays for {nnz} synapses", d.len())));
                }
                if let Some(bad) = d.iter().find(|&&x| x < 0.0 || x.fract() != 0.0) {
                    return Err(invalid("delays", format!("delays must be non-negative integers, got {bad}")));
                }
                let largest = d.iter().fold(0.0f64, |m, &x| m.max(x)) as usize;
                let max = if self.max_delay == 0 { largest } else { self.max_delay };
                if largest > max {
                    return Err(invalid("delays", format!("a delay of {largest} exceeds max_delay {max}")));
                }
                Some(max)
            }
        };
        let [rows, cols] = self.pattern.shape;
        b.in_port("s_in", &[cols])?;
        b.out_port("a_out", &[rows])?;
        if dense_vars {
            let mut w = vec![0.0; rows * cols];
            let mut dl = vec![0.0; rows * cols];
            for i in 0..rows {
                for e in self.pattern.indptr[i]..self.pattern.indptr[i + 1] {
                    w[i * cols + self.pattern.indices[e]] = self.values[e];
                    if let Some(d) = &self.delays {
                        dl[i * cols + self.pattern.indices[e]] = d[e];
                    }
                }
            }
            let shaped = |v: Vec<f64>| {
                ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[rows, cols]), v).expect("rows x cols values")
            };
            b.var("weights", &[rows, cols], shaped(w))?;
            b.var("delays", &[rows, cols], shaped(dl))?;
        } else {
            b.var("weights", &[nnz], self.values)?;
            if let Some(d) = self.delays {
                b.var("delays", &[nnz], d)?;
            }
        }
        match max_delay {
            Some(m) => b.var("a_buff", &[rows, m + 1], 0.0)?,
            None => b.var("a_buff", &[rows], 0.0)?,
        };
        b.var("num_message_bits", &[1], f64::from(self.num_message_bits))?;
        b.params(&SynapseParams { pattern: self.pattern, dense: self.dense, max_delay })
    }
}

/// Sparse synapses with a delay per synapse (Lava `DelaySparse`); build with
/// [`Sparse::with_delays`].
#[derive(Clone, Debug)]
pub struct DelaySparse(Sparse);

/// Dense synapses with a delay per synapse (Lava `DelayDense`).
#[derive(Clone, Debug)]
pub struct DelayDense(Sparse);

impl DelayDense {
    /// Weights and delays of shape (num_out, num_in); `max_delay` 0 means the largest delay.
    pub fn new(weights: Array2<f64>, delays: Array2<f64>, max_delay: usize) -> Result<Self> {
        if weights.dim() != delays.dim() {
            return Err(Error::InvalidParameter {
                process: "DelayDense".into(),
                param: "delays".into(),
                reason: format!("delays have shape {:?}, weights {:?}", delays.dim(), weights.dim()),
            });
        }
        let (rows, cols) = weights.dim();
        let p = CsrPattern::full(rows, cols);
        let s = Sparse::from_csr(p.shape, p.indptr, p.indices, weights.iter().copied().collect());
        Ok(DelayDense(Sparse { delays: Some(delays.iter().copied().collect()), max_delay, ..s }))
    }
    /// Graded-spike bits (0 = binary).
    pub fn num_message_bits(self, bits: u32) -> Self {
        DelayDense(self.0.num_message_bits(bits))
    }
    /// Fixed point: exponent applied to the accumulated input.
    pub fn weight_exp(self, e: i32) -> Self {
        DelayDense(self.0.weight_exp(e))
    }
    /// Fixed point: significant bits per weight (1..=8).
    pub fn num_weight_bits(self, bits: u32) -> Self {
        DelayDense(self.0.num_weight_bits(bits))
    }
}

impl Process for Sparse {
    const TYPE_NAME: &'static str = "Sparse";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        self.declare(b, false)
    }
}

impl Process for DelaySparse {
    const TYPE_NAME: &'static str = "DelaySparse";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        self.0.declare(b, false)
    }
}

impl Process for DelayDense {
    const TYPE_NAME: &'static str = "DelayDense";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        self.0.declare(b, true)
    }
}

macro_rules! synapse_accessors {
    ($($t:ty),*) => {$(
        impl Handle<$t> {
            /// Input spikes.
            pub fn s_in(&self) -> InPort {
                self.in_port("s_in")
            }
            /// Output activation.
            pub fn a_out(&self) -> OutPort {
                self.out_port("a_out")
            }
            /// Weights.
            pub fn weights(&self) -> VarRef {
                self.var("weights")
            }
            /// Accumulation buffer (with delays: column k is sent in k steps).
            pub fn a_buff(&self) -> VarRef {
                self.var("a_buff")
            }
        }
    )*};
}
synapse_accessors!(Sparse, DelaySparse, DelayDense);

impl Handle<DelaySparse> {
    /// Delays.
    pub fn delays(&self) -> VarRef {
        self.var("delays")
    }
}
impl Handle<DelayDense> {
    /// Delays.
    pub fn delays(&self) -> VarRef {
        self.var("delays")
    }
}

pub(crate) fn register(r: &mut Registry) {
    let t = OutputTiming::PreviousStep;
    let float = |p: &LeafProcess| Ok(Box::new(SynapseModel::new(p, FloatArith)?) as Box<dyn CpuModel>);
    let fixed = |p: &LeafProcess| {
        let params: SynapseParams = p.params()?;
        Ok(Box::new(SynapseModel::new(p, fixed_arith_from(&params.dense)?)?) as Box<dyn CpuModel>)
    };
    let acc: &[&str] = &["bit_accurate_loihi", "fixed_pt"];
    let models = [
        ModelEntry::cpu("Sparse", "PySparseModelFloat", &["floating_pt"], t, float),
        ModelEntry::cpu("Sparse", "PySparseModelBitAcc", acc, t, fixed),
        ModelEntry::cpu("DelayDense", "PyDelayDenseModelFloat", &["floating_pt"], t, float),
        ModelEntry::cpu("DelayDense", "PyDelayDenseModelBitAcc", acc, t, fixed),
        ModelEntry::cpu("DelaySparse", "PyDelaySparseModelFloat", &["floating_pt"], t, float),
        ModelEntry::cpu("DelaySparse", "PyDelaySparseModelBitAcc", acc, t, fixed),
    ];
    r.register_library(models);
}

/// Sparse / delayed synapses for either arithmetic. Synapses are stored by input column
/// (event-driven accumulation); `perm` maps that order back to the Var order.
struct SynapseModel<R: DenseArith> {
    arith: R,
    num_out: usize,
    /// Entries of column j: `col_ptr[j]..col_ptr[j+1]`.
    col_ptr: Vec<usize>,
    rows: Vec<u32>,
    weights: Vec<R::W>,
    delays: Vec<u32>,
    /// Var index of each stored entry (CSR order, or row-major for DelayDense).
    perm: Vec<usize>,
    /// Original weights (f64, Var order) for `get`.
    weight_values: Vec<f64>,
    delay_values: Vec<f64>,
    /// Depth of the delay line (1 without delays).
    depth: usize,
    /// (num_out, depth) row-major: column k is sent in k steps.
    a_buff: Vec<R::A>,
    /// Per-step accumulation, same layout.
    acc: Vec<R::A>,
    num_message_bits: u32,
    has_delays: bool,
    dense_vars: bool,
}

impl<R: DenseArith> SynapseModel<R> {
    fn new(p: &LeafProcess, arith: R) -> std::result::Result<Self, String> {
        let params: SynapseParams = p.params()?;
        params.pattern.validate()?;
        let [num_out, num_in] = params.pattern.shape;
        let dense_vars = p.type_name == "DelayDense";
        let has_delays = params.max_delay.is_some();
        let names: Vec<&str> = p.vars.iter().map(|v| v.name.as_str()).collect();
        let expected: &[&str] = if has_delays {
            &["weights", "delays", "a_buff", "num_message_bits"]
        } else {
            &["weights", "a_buff", "num_message_bits"]
        };
        if names != expected {
            return Err(format!("process {} has Vars {names:?}, expected {expected:?}", p.name));
        }
        let depth = params.max_delay.map_or(1, |m| m + 1);
        if R::DTYPE != DType::F64 && depth > MAX_FIXED_DELAY + 1 {
            return Err(format!("delays are limited to {MAX_FIXED_DELAY} in fixed point, max_delay is {}", depth - 1));
        }
        // Entries in CSR order with their Var indices.
        let pat = &params.pattern;
        let mut entries: Vec<(usize, usize, usize)> = Vec::with_capacity(pat.indices.len());
        for i in 0..num_out {
            for e in pat.indptr[i]..pat.indptr[i + 1] {
                let j = pat.indices[e];
                let var_index = if dense_vars { i * num_in + j } else { e };
                entries.push((j, i, var_index));
            }
        }
        let wvar = &p.vars[0].data;
        let dvar: &[f64] = if has_delays { &p.vars[1].data } else { &[] };
        let n_var = if dense_vars { num_out * num_in } else { pat.indices.len() };
        if wvar.len() != n_var || (has_delays && dvar.len() != n_var) {
            return Err("synapse Vars do not match the pattern".into());
        }
        entries.sort_by_key(|&(j, i, _)| (j, i));
        let mut col_ptr = vec![0usize; num_in + 1];
        for &(j, _, _) in &entries {
            col_ptr[j + 1] += 1;
        }
        for j in 0..num_in {
            col_ptr[j + 1] += col_ptr[j];
        }
        let perm: Vec<usize> = entries.iter().map(|e| e.2).collect();
        let mut delays = Vec::with_capacity(perm.len());
        for &k in &perm {
            let d = if has_delays { to_int("delays", dvar[k], 0, (depth - 1) as i64)? as u32 } else { 0 };
            delays.push(d);
        }
        let buff_var = &p.vars[if has_delays { 2 } else { 1 }].data;
        if buff_var.len() != num_out * depth {
            return Err("a_buff does not match the delay depth".into());
        }
        let mut m = SynapseModel {
            arith,
            num_out,
            col_ptr,
            rows: entries.iter().map(|e| e.1 as u32).collect(),
            weights: Vec::new(),
            delays,
            perm,
            weight_values: wvar.to_vec(),
            delay_values: dvar.to_vec(),
            depth,
            a_buff: buff_var.iter().map(|&x| R::from_f64(x)).collect(),
            acc: if has_delays { vec![R::A::default(); num_out * depth] } else { Vec::new() },
            num_message_bits: to_int("num_message_bits", p.vars.last().map_or(0.0, |v| v.data[0]), 0, 32)? as u32,
            has_delays,
            dense_vars,
        };
        m.set_weights(wvar.to_vec(), n_var < num_out * num_in);
        Ok(m)
    }

    /// Converts (quantises) the weights. The sign mode is decided over the whole matrix,
    /// implicit zeros included, as Lava's `determine_sign_mode` does on a csr_matrix.
    fn set_weights(&mut self, values: Vec<f64>, has_implicit_zeros: bool) {
        let mut for_sign = values.clone();
        if has_implicit_zeros {
            for_sign.push(0.0);
        }
        let q_all = self.arith.weights_for(&values, &for_sign);
        self.weights = self.perm.iter().map(|&k| q_all[k]).collect();
        self.weight_values = values;
    }
}

impl<R: DenseArith> CpuModel for SynapseModel<R> {
    fn var_dtype(&self, var: usize) -> DType {
        let last = if self.has_delays { 3 } else { 2 };
        if var == last || (self.has_delays && var == 1) {
            DType::I64
        } else {
            R::DTYPE
        }
    }

    fn emit(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        let d = self.depth;
        let out = io.send(0);
        if d == 1 {
            for (o, &a) in out.iter_mut().zip(&self.a_buff) {
                *o = R::message(a);
            }
        } else {
            for (i, o) in out.iter_mut().enumerate() {
                *o = R::message(self.a_buff[i * d]);
            }
        }
        Ok(())
    }

    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        let s_in = io.recv(0);
        let graded = self.num_message_bits > 0;
        let d = self.depth;
        // Without delays the accumulation goes straight into the buffer to be sent.
        let acc = if self.has_delays { &mut self.acc } else { &mut self.a_buff };
        acc.fill(R::A::default());
        // Inputs are scanned eight at a time: most are zero in a spiking network.
        for (c, chunk) in s_in.chunks(8).enumerate() {
            // OR of the magnitudes' bits: zero exactly when all eight are ±0 (vectorises,
            // unlike a short-circuiting test).
            if chunk.iter().fold(0u64, |m, &x| m | (x.to_bits() << 1)) == 0 {
                continue;
            }
            for (k, &s) in chunk.iter().enumerate() {
                if s == 0.0 {
                    continue;
                }
                let j = c * 8 + k;
                let range = self.col_ptr[j]..self.col_ptr[j + 1];
                if d == 1 && !graded {
                    for (&r, &w) in self.rows[range.clone()].iter().zip(&self.weights[range]) {
                        acc[r as usize] += w.into();
                    }
                    continue;
                }
                let s = if graded { R::A::from_spike(s) } else { R::A::one() };
                for e in range {
                    let slot = self.rows[e] as usize * d + self.delays[e] as usize;
                    acc[slot] += Into::<R::A>::into(self.weights[e]) * s;
                }
            }
        }
        self.arith.finish(acc);
        if self.has_delays {
            // Lava: zero column 0, roll left by one, add this step's contributions.
            for row in self.a_buff.chunks_exact_mut(d) {
                row[0] = R::A::default();
                row.rotate_left(1);
            }
            for (b, &a) in self.a_buff.iter_mut().zip(&self.acc) {
                *b += a;
            }
        }
        Ok(())
    }

    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        let buff = if self.has_delays { 2 } else { 1 };
        match var {
            0 => {
                check_len("weights", self.weight_values.len(), out.len())?;
                // Current (quantised) weights in Var order.
                for (e, &k) in self.perm.iter().enumerate() {
                    out[k] = Into::<crate::process::dense::Weight>::into(self.weights[e]).value();
                }
                if self.dense_vars {
                    let stored: std::collections::HashSet<usize> = self.perm.iter().copied().collect();
                    for (k, o) in out.iter_mut().enumerate() {
                        if !stored.contains(&k) {
                            *o = 0.0;
                        }
                    }
                }
            }
            1 if self.has_delays => {
                check_len("delays", self.delay_values.len(), out.len())?;
                out.copy_from_slice(&self.delay_values);
            }
            v if v == buff => {
                check_len("a_buff", self.a_buff.len(), out.len())?;
                for (o, &a) in out.iter_mut().zip(&self.a_buff) {
                    *o = R::to_f64(a);
                }
            }
            v if v == buff + 1 => {
                check_len("num_message_bits", 1, out.len())?;
                out[0] = f64::from(self.num_message_bits);
            }
            _ => return Err(unknown_var(var)),
        }
        Ok(())
    }

    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        let buff = if self.has_delays { 2 } else { 1 };
        match var {
            0 => {
                check_len("weights", self.weight_values.len(), data.len())?;
                if self.dense_vars {
                    let stored: std::collections::HashSet<usize> = self.perm.iter().copied().collect();
                    if let Some(k) = (0..data.len()).find(|k| !stored.contains(k) && data[*k] != 0.0) {
                        return Err(ModelError::new(format!("weight {k} is outside the sparsity pattern")));
                    }
                }
                let implicit = self.perm.len() < self.num_out * (self.col_ptr.len() - 1);
                self.set_weights(data.to_vec(), implicit);
            }
            1 if self.has_delays => {
                check_len("delays", self.delay_values.len(), data.len())?;
                let mut delays = Vec::with_capacity(self.perm.len());
                for &k in &self.perm {
                    delays.push(to_int("delays", data[k], 0, (self.depth - 1) as i64).map_err(ModelError)? as u32);
                }
                self.delays = delays;
                self.delay_values = data.to_vec();
            }
            v if v == buff => {
                check_len("a_buff", self.a_buff.len(), data.len())?;
                for (a, &x) in self.a_buff.iter_mut().zip(data) {
                    *a = R::from_f64(x);
                }
            }
            v if v == buff + 1 => {
                check_len("num_message_bits", 1, data.len())?;
                self.num_message_bits = to_int("num_message_bits", data[0], 0, 32).map_err(ModelError)? as u32;
            }
            _ => return Err(unknown_var(var)),
        }
        Ok(())
    }
}
