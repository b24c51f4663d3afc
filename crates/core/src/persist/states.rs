//! Model state files (BrainPy's `save_states`/`load_states`): every Var of a runtime (or
//! the initial values of a network) stored under its path `process_name.var_name`, in
//! HDF5 (`.h5`, `.hdf5`) or NumPy (`.npz`) chosen by the file extension. Runtime Vars are
//! stored in their model's dtype (float64 for float models, Lava's integer types for
//! fixed-point models).

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::graph::{Network, VarRef};
use crate::model::DType;
use crate::persist::{hdf5, npz, NamedArray};
use crate::runtime::Runtime;

/// How `load_states` behaves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadStatesOptions {
    /// Print each Var loaded (and arrays of the file that match no Var).
    pub verbose: bool,
    /// Warn (on stderr) about Vars the file does not contain.
    pub check_missing: bool,
}

/// What `load_states` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatesReport {
    /// Var paths set from the file.
    pub loaded: Vec<String>,
    /// Var paths the file does not contain (left unchanged).
    pub missing: Vec<String>,
    /// Arrays of the file that match no Var (ignored).
    pub unused: Vec<String>,
}

/// The state file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateFormat {
    /// HDF5, one root dataset per Var.
    Hdf5,
    /// NumPy `.npz`, one array per Var.
    Npz,
}

impl StateFormat {
    /// The format for a path's extension: `.h5`/`.hdf5` or `.npz`.
    pub fn of(path: &Path) -> Result<StateFormat> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("h5") | Some("hdf5") => Ok(StateFormat::Hdf5),
            Some("npz") => Ok(StateFormat::Npz),
            _ => Err(Error::InvalidParameter {
                process: "state file".into(),
                param: "path".into(),
                reason: format!("{}: the extension must be .h5, .hdf5 or .npz", path.display()),
            }),
        }
    }
}

/// Writes named arrays in the format the extension selects (atomically).
pub fn write_arrays(path: &Path, arrays: &[NamedArray]) -> Result<()> {
    match StateFormat::of(path)? {
        StateFormat::Hdf5 => hdf5::write(path, arrays),
        StateFormat::Npz => npz::write(path, arrays),
    }
}

/// Reads every named array of a state file.
pub fn read_arrays(path: &Path) -> Result<Vec<NamedArray>> {
    match StateFormat::of(path)? {
        StateFormat::Hdf5 => hdf5::read(path),
        StateFormat::Npz => npz::read(path),
    }
}

/// One Var as state files see it.
struct StateVar {
    /// `process.var`.
    path: String,
    var: VarRef,
    shape: Vec<usize>,
    /// The dtype the file must have (None: any numeric dtype).
    dtype: Option<DType>,
}

/// Matches file arrays to Vars: checks shapes (and dtypes when `check_dtype`), and returns
/// the values to set plus the report. Nothing is changed when anything does not fit.
fn plan(
    path: &Path,
    vars: &[StateVar],
    arrays: Vec<NamedArray>,
    opts: LoadStatesOptions,
) -> Result<(Vec<(VarRef, NamedArray)>, StatesReport)> {
    let mut by_name: BTreeMap<String, NamedArray> = arrays.into_iter().map(|a| (a.name.clone(), a)).collect();
    let mut report = StatesReport::default();
    let mut sets = Vec::new();
    for StateVar { path: name, var, shape, dtype } in vars {
        let Some(a) = by_name.remove(name) else {
            report.missing.push(name.clone());
            continue;
        };
        if &a.shape != shape {
            return Err(Error::StateMismatch {
                path: path.display().to_string(),
                reason: format!("Var {name} has shape {shape:?}, the file's array has shape {:?}", a.shape),
            });
        }
        if let Some(d) = dtype {
            if a.dtype != *d {
                return Err(Error::StateMismatch {
                    path: path.display().to_string(),
                    reason: format!(
                        "Var {name} is stored as {}, the file's array is {}",
                        d.numpy_name(),
                        a.dtype.numpy_name()
                    ),
                });
            }
        }
        if let Some(bad) = a.data.iter().find(|x| !x.is_finite()) {
            return Err(Error::StateMismatch {
                path: path.display().to_string(),
                reason: format!("Var {name}: value {bad} is not finite"),
            });
        }
        report.loaded.push(name.clone());
        sets.push((var.clone(), a));
    }
    report.unused = by_name.into_keys().collect();
    if opts.verbose {
        for n in &report.loaded {
            println!("load_states: loaded {n}");
        }
        for n in &report.unused {
            println!("load_states: {n} in {} matches no Var; ignored", path.display());
        }
    }
    if opts.check_missing {
        for n in &report.missing {
            eprintln!("warning: load_states: {} has no value for Var {n}; it keeps its current value", path.display());
        }
    }
    Ok((sets, report))
}

fn to_array(a: &NamedArray) -> ndarray::ArrayD<f64> {
    ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&a.shape), a.data.clone()).expect("shape checked against the Var")
}

impl Runtime {
    /// Every Var of every process as (path, Var, shape, dtype), in process order.
    fn state_vars(&self) -> Result<Vec<StateVar>> {
        let mut out = Vec::new();
        for p in &self.executable().processes {
            for v in &p.vars {
                let var = VarRef { proc: p.id, name: v.name.clone() };
                let dtype = Some(self.var_dtype(&var)?);
                let path = format!("{}.{}", p.name, v.name);
                out.push(StateVar { path, var, shape: v.shape.clone(), dtype });
            }
        }
        Ok(out)
    }

    /// Saves every Var (current values, in the model's dtype) to `path` (`.h5`, `.hdf5` or
    /// `.npz`), atomically. Only between runs.
    pub fn save_states(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut arrays = Vec::new();
        for StateVar { path: name, var, shape, dtype } in self.state_vars()? {
            let value = self.get(&var)?;
            arrays.push(NamedArray {
                name,
                shape,
                dtype: dtype.unwrap_or(DType::F64),
                data: value.iter().copied().collect(),
            });
        }
        write_arrays(path.as_ref(), &arrays)
    }

    /// Loads Vars from a state file. Shapes and dtypes must match the runtime's Vars
    /// exactly (an error names the first Var that does not fit, and then nothing is
    /// changed); Vars absent from the file keep their values.
    pub fn load_states(&mut self, path: impl AsRef<Path>, opts: LoadStatesOptions) -> Result<StatesReport> {
        let path = path.as_ref();
        let vars = self.state_vars()?;
        let (sets, report) = plan(path, &vars, read_arrays(path)?, opts)?;
        for (var, a) in sets {
            self.set(&var, to_array(&a))?;
        }
        Ok(report)
    }
}

impl Network {
    fn state_vars(&self) -> Vec<StateVar> {
        let mut out = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            for v in &node.vars {
                let var = VarRef { proc: crate::graph::ProcId(i as u32), name: v.name.clone() };
                let path = format!("{}.{}", node.name, v.name);
                out.push(StateVar { path, var, shape: v.value.shape().to_vec(), dtype: None });
            }
        }
        out
    }

    /// Saves the initial value of every Var (float64) to `path` (`.h5`, `.hdf5`, `.npz`).
    pub fn save_states(&self, path: impl AsRef<Path>) -> Result<()> {
        let arrays: Vec<NamedArray> = self
            .nodes
            .iter()
            .flat_map(|n| {
                n.vars.iter().map(move |v| NamedArray {
                    name: format!("{}.{}", n.name, v.name),
                    shape: v.value.shape().to_vec(),
                    dtype: DType::F64,
                    data: v.value.iter().copied().collect(),
                })
            })
            .collect();
        write_arrays(path.as_ref(), &arrays)
    }

    /// Sets initial Var values from a state file (any numeric dtype; shapes must match).
    pub fn load_states(&mut self, path: impl AsRef<Path>, opts: LoadStatesOptions) -> Result<StatesReport> {
        let path = path.as_ref();
        let vars = self.state_vars();
        let (sets, report) = plan(path, &vars, read_arrays(path)?, opts)?;
        for (var, a) in sets {
            self.set_init(&var, to_array(&a))?;
        }
        Ok(report)
    }
}
