//! The Vars of the adaptive-threshold neuron models (`Atrlif`, `Alif`): seven per-neuron
//! Vars (bias_mant, bias_exp, current, voltage, threshold, refractory state, spikes) then
//! six scalar parameters, held as f64 (exact for the fixed models' integers) and, in fixed
//! point, checked against their integer ranges instead of being silently wrapped.

use crate::executable::LeafProcess;
use crate::fixed::{to_ints, I16, I32};
use crate::model::{check_len, unknown_var, DType};
use crate::value::numel;
use crate::ModelError;

/// Index of the first scalar parameter Var.
pub(crate) const FIRST_SCALAR: usize = 7;
/// Number of Vars.
const COUNT: usize = FIRST_SCALAR + 6;

/// One model's Vars; see the module docs.
pub(crate) struct AdaptiveVars {
    names: [&'static str; COUNT],
    fixed: bool,
    /// Fixed point: the integer range of each scalar parameter (index from 0).
    scalar_ranges: [(i64, i64); 6],
    /// The per-neuron Vars.
    pub state: Vec<Vec<f64>>,
    /// The scalar parameters.
    pub scalars: [f64; 6],
}

impl AdaptiveVars {
    /// Reads and checks a process's Vars (named `names`, in order).
    pub fn new(
        p: &LeafProcess,
        names: [&'static str; COUNT],
        model: &str,
        fixed: bool,
        scalar_ranges: [(i64, i64); 6],
    ) -> Result<Self, String> {
        if p.vars.len() != COUNT || p.vars.iter().zip(names).any(|(v, n)| v.name != n) {
            return Err(format!("process {} does not have the {model} Vars", p.name));
        }
        let n = numel(p.in_port_shape("a_in")?);
        let mut m =
            AdaptiveVars { names, fixed, scalar_ranges, state: vec![Vec::new(); FIRST_SCALAR], scalars: [0.0; 6] };
        for (k, v) in p.vars.iter().enumerate() {
            let expected = if k < FIRST_SCALAR { n } else { 1 };
            if v.data.len() != expected {
                return Err(format!("{model} Var `{}` has {} elements, expected {expected}", v.name, v.data.len()));
            }
            m.store(k, &v.data)?;
        }
        Ok(m)
    }

    /// Whether these are the fixed-point model's Vars.
    pub fn is_fixed(&self) -> bool {
        self.fixed
    }

    /// Stores Var `k` (fixed point: checked against its range).
    pub fn store(&mut self, k: usize, data: &[f64]) -> Result<(), String> {
        let values = if self.fixed {
            let (lo, hi) = self.range(k);
            to_ints(self.names[k], data, lo, hi)?.into_iter().map(|x| x as f64).collect()
        } else {
            data.to_vec()
        };
        if k < FIRST_SCALAR {
            self.state[k] = values;
        } else {
            self.scalars[k - FIRST_SCALAR] = values[0];
        }
        Ok(())
    }

    fn range(&self, k: usize) -> (i64, i64) {
        match k {
            0 => I16,
            1 => (-31, 31),
            2..=5 => I32,
            6 => (0, 1),
            _ => self.scalar_ranges[k - FIRST_SCALAR],
        }
    }

    /// The dtype Lava gives Var `var`: spikes int64; float f64; fixed int16 for the bias,
    /// uint16 for scalars whose range fits it, int32 otherwise.
    pub fn dtype(&self, var: usize) -> DType {
        let (lo, hi) = self.range(var.min(COUNT - 1));
        match (self.fixed, var) {
            (_, 6) => DType::I64,
            (false, _) => DType::F64,
            (true, 0 | 1) => DType::I16,
            (true, v) if v >= FIRST_SCALAR && lo >= 0 && hi <= i64::from(u16::MAX) => DType::U16,
            (true, _) => DType::I32,
        }
    }

    /// Copies Var `var` into `out`.
    pub fn read(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        let src: &[f64] = match var {
            v if v < FIRST_SCALAR => &self.state[v],
            v if v < COUNT => std::slice::from_ref(&self.scalars[v - FIRST_SCALAR]),
            _ => return Err(unknown_var(var)),
        };
        check_len(self.names[var], src.len(), out.len())?;
        out.copy_from_slice(src);
        Ok(())
    }

    /// Sets Var `var` from `data` (the Var's size; fixed point: checked).
    pub fn write(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        if var >= COUNT {
            return Err(unknown_var(var));
        }
        let expected = if var < FIRST_SCALAR { self.state[2].len() } else { 1 };
        check_len(self.names[var], expected, data.len())?;
        self.store(var, data).map_err(ModelError)
    }
}
