//! Basalt's one HDF5 module: flat files of named numeric arrays, read and written with the
//! pure-Rust `hdf5-pure` crate (no system HDF5 library needed). Files it writes are read by
//! h5py; it reads files h5py writes.

use std::path::Path;

use hdf5_pure::{DType as H5Type, File, FileBuilder};

mod vlen;

use crate::error::{Error, Result};
use crate::model::DType;
use crate::persist::NamedArray;

fn err(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Format { path: path.display().to_string(), reason: reason.to_string() }
}

/// Encodes arrays as an HDF5 file image, one dataset per array at the root, each in its
/// own type.
pub fn encode(arrays: &[NamedArray]) -> Result<Vec<u8>> {
    let mut b = FileBuilder::new();
    for a in arrays {
        let shape: Vec<u64> = a.shape.iter().map(|&d| d as u64).collect();
        let ds = b.create_dataset(&a.name);
        match a.dtype {
            DType::F64 => ds.with_f64_data(&a.data),
            DType::F32 => ds.with_f32_data(&a.data.iter().map(|&x| x as f32).collect::<Vec<_>>()),
            DType::I64 => ds.with_i64_data(&a.data.iter().map(|&x| x as i64).collect::<Vec<_>>()),
            DType::I32 => ds.with_i32_data(&a.data.iter().map(|&x| x as i32).collect::<Vec<_>>()),
            DType::I16 => ds.with_i16_data(&a.data.iter().map(|&x| x as i16).collect::<Vec<_>>()),
            DType::U16 => ds.with_u16_data(&a.data.iter().map(|&x| x as u16).collect::<Vec<_>>()),
        }
        .with_shape(&shape);
    }
    b.finish().map_err(|e| Error::InvalidGraph(format!("cannot encode HDF5: {e}")))
}

/// Writes arrays to an HDF5 file atomically.
pub fn write(path: &Path, arrays: &[NamedArray]) -> Result<()> {
    crate::persist::atomic::write(path, &encode(arrays)?)
}

/// Reads every dataset at the root of an HDF5 file. Integer and float datasets of the
/// types Basalt stores are supported; others are reported by name.
pub fn read(path: &Path) -> Result<Vec<NamedArray>> {
    with_file(path, |file| parse(path, file))
}

/// Opens the file at `path` in memory and runs `f` on it. The parser returns errors for
/// malformed files; the unwind guard turns any panic it might still hit on a crafted file
/// into an error as well.
fn with_file<T>(path: &Path, f: impl FnOnce(&File) -> Result<T>) -> Result<T> {
    let bytes =
        std::fs::read(path).map_err(|e| Error::Io { path: path.display().to_string(), message: e.to_string() })?;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let file = File::from_bytes(bytes).map_err(|e| err(path, format!("not a readable HDF5 file: {e}")))?;
        f(&file)
    }))
    .unwrap_or_else(|_| Err(err(path, "the HDF5 reader failed on this file (corrupt or unsupported)")))
}

fn parse(path: &Path, file: &File) -> Result<Vec<NamedArray>> {
    let names = file.root().datasets().map_err(|e| err(path, e))?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let ds = file.dataset(&name).map_err(|e| err(path, format!("dataset {name}: {e}")))?;
        let shape: Vec<usize> =
            ds.shape().map_err(|e| err(path, format!("dataset {name}: {e}")))?.iter().map(|&d| d as usize).collect();
        let h5type = ds.dtype().map_err(|e| err(path, format!("dataset {name}: {e}")))?;
        let read_err = |e: hdf5_pure::Error| err(path, format!("dataset {name}: {e}"));
        let (dtype, data): (DType, Vec<f64>) = match h5type {
            H5Type::F64 => (DType::F64, ds.read_f64().map_err(read_err)?),
            H5Type::F32 => (DType::F32, ds.read_f32().map_err(read_err)?.into_iter().map(f64::from).collect()),
            H5Type::I64 => (DType::I64, ds.read_i64().map_err(read_err)?.into_iter().map(|x| x as f64).collect()),
            H5Type::I32 => (DType::I32, ds.read_i32().map_err(read_err)?.into_iter().map(f64::from).collect()),
            H5Type::I16 => (DType::I16, ds.read_i16().map_err(read_err)?.into_iter().map(f64::from).collect()),
            H5Type::U16 => (DType::U16, ds.read_u16().map_err(read_err)?.into_iter().map(f64::from).collect()),
            other => {
                return Err(err(path, format!("dataset {name} has type {other}, which Basalt state files do not use")))
            }
        };
        if data.len() != shape.iter().product::<usize>() {
            return Err(err(path, format!("dataset {name}: {} values for shape {shape:?}", data.len())));
        }
        out.push(NamedArray { name, shape, dtype, data });
    }
    Ok(out)
}

/// A numeric dataset of any integer or float type, as f64 values with its shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// Shape (empty for a scalar dataset).
    pub shape: Vec<usize>,
    /// Values in C order.
    pub data: Vec<f64>,
}

/// A dataset's content: numbers or strings.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Numeric data.
    Numbers(Array),
    /// Strings; written as variable-length UTF-8 strings (a scalar dataset for one string).
    Text(Vec<String>),
    /// Strings written as fixed-length ASCII (`S<n>`, shape `[len]`), as lava-dl writes a
    /// layer's `type`.
    FixedText(Vec<String>),
    /// Numbers always written as float64 (`Numbers` writes all-integer data as int64); the
    /// reader returns `Numbers`.
    Float64(Array),
    /// Variable-length UTF-8 strings with an explicit shape, e.g. NIR's (n, 2) edge list; the
    /// reader returns `Text` (flattened in C order).
    TextArray {
        /// Shape; its product is the number of strings.
        shape: Vec<usize>,
        /// Strings in C order.
        strings: Vec<String>,
    },
    /// Variable-length sequences of numbers, one per element in C order (e.g. the spike
    /// times of each SHD sample); read only.
    Sequences(Vec<Vec<f64>>),
    /// A type Basalt does not read (e.g. an enum-encoded bool), by its type name.
    Unsupported(String),
}

/// A group of an HDF5 file: its datasets and sub-groups by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tree {
    /// Datasets.
    pub datasets: std::collections::BTreeMap<String, Value>,
    /// Sub-groups.
    pub groups: std::collections::BTreeMap<String, Tree>,
}

/// Reads the whole file as a tree of groups and datasets (numeric datasets of every integer
/// and float type, string datasets), e.g. a netx network description.
pub fn read_tree(path: &Path) -> Result<Tree> {
    with_file(path, |file| read_group(path, file, &file.root(), "", 0))
}

fn read_group(path: &Path, file: &File, g: &hdf5_pure::Group, at: &str, depth: usize) -> Result<Tree> {
    if depth > 32 {
        return Err(err(path, format!("groups nested too deeply at {at}")));
    }
    let mut tree = Tree::default();
    for name in g.datasets().map_err(|e| err(path, format!("{at}: {e}")))? {
        let full = format!("{at}/{name}");
        let ds = g.dataset(&name).map_err(|e| err(path, format!("{full}: {e}")))?;
        tree.datasets.insert(name, read_value(path, file, &ds, &full)?);
    }
    for name in g.groups().map_err(|e| err(path, format!("{at}: {e}")))? {
        let sub = g.group(&name).map_err(|e| err(path, format!("{at}/{name}: {e}")))?;
        let t = read_group(path, file, &sub, &format!("{at}/{name}"), depth + 1)?;
        tree.groups.insert(name, t);
    }
    Ok(tree)
}

/// Reads the datasets at `paths` in the file (e.g. `spikes/times`), in that order, opening
/// the file once and reading none of its other datasets.
pub fn read_datasets(path: &Path, paths: &[&str]) -> Result<Vec<Value>> {
    with_file(path, |file| {
        paths
            .iter()
            .map(|at| {
                let ds = file.dataset(at).map_err(|e| err(path, format!("dataset {at}: {e}")))?;
                read_value(path, file, &ds, at)
            })
            .collect()
    })
}

/// A dataset's content, `full` naming it in errors.
fn read_value(path: &Path, file: &File, ds: &hdf5_pure::Dataset, full: &str) -> Result<Value> {
    let fail = |e: hdf5_pure::Error| err(path, format!("{full}: {e}"));
    if let hdf5_pure::Datatype::VariableLength { is_string: false, base_type, .. } = ds.datatype().map_err(fail)? {
        let raw = ds.read_raw().map_err(fail)?;
        return vlen::sequences(file, &raw, &base_type)
            .map(Value::Sequences)
            .map_err(|e| err(path, format!("{full}: {e}")));
    }
    let shape: Vec<usize> = ds.shape().map_err(fail)?.iter().map(|&d| d as usize).collect();
    let num = |data: Vec<f64>| Value::Numbers(Array { shape: shape.clone(), data });
    Ok(match ds.dtype().map_err(fail)? {
        H5Type::F64 => num(ds.read_f64().map_err(fail)?),
        H5Type::F32 => num(ds.read_f32().map_err(fail)?.into_iter().map(f64::from).collect()),
        H5Type::I64 => num(ds.read_i64().map_err(fail)?.into_iter().map(|x| x as f64).collect()),
        H5Type::I32 => num(ds.read_i32().map_err(fail)?.into_iter().map(f64::from).collect()),
        H5Type::I16 => num(ds.read_i16().map_err(fail)?.into_iter().map(f64::from).collect()),
        H5Type::I8 => num(ds.read_i8().map_err(fail)?.into_iter().map(f64::from).collect()),
        H5Type::U64 => num(ds.read_u64().map_err(fail)?.into_iter().map(|x| x as f64).collect()),
        H5Type::U32 => num(ds.read_u32().map_err(fail)?.into_iter().map(f64::from).collect()),
        H5Type::U16 => num(ds.read_u16().map_err(fail)?.into_iter().map(f64::from).collect()),
        H5Type::U8 => num(ds.read_u8().map_err(fail)?.into_iter().map(f64::from).collect()),
        H5Type::String => Value::FixedText(ds.read_string().map_err(fail)?),
        H5Type::VariableLengthString => Value::Text(ds.read_string().map_err(fail)?),
        other => Value::Unsupported(other.to_string()),
    })
}

/// Writes a tree of groups and datasets as an HDF5 file, atomically. Numeric datasets whose
/// values are all integers are stored as int64, others as float64.
pub fn write_tree(path: &Path, tree: &Tree) -> Result<()> {
    let mut b = FileBuilder::new();
    for (name, v) in &tree.datasets {
        write_value(b.create_dataset(name), name, v)?;
    }
    for (name, t) in &tree.groups {
        let g = build_group(b.create_group(name), t)?;
        b.add_group(g);
    }
    let bytes = b.finish().map_err(|e| Error::InvalidGraph(format!("cannot encode HDF5: {e}")))?;
    crate::persist::atomic::write(path, &bytes)
}

fn build_group(mut g: hdf5_pure::GroupBuilder, tree: &Tree) -> Result<hdf5_pure::FinishedGroup> {
    for (name, v) in &tree.datasets {
        write_value(g.create_dataset(name), name, v)?;
    }
    for (name, t) in &tree.groups {
        let sub = build_group(g.create_group(name), t)?;
        g.add_group(sub);
    }
    Ok(g.finish())
}

fn write_value(ds: &mut hdf5_pure::DatasetBuilder, name: &str, v: &Value) -> Result<()> {
    let bad = |e: String| Error::InvalidGraph(format!("cannot write dataset {name}: {e}"));
    match v {
        Value::Numbers(a) => {
            let shape: Vec<u64> = a.shape.iter().map(|&d| d as u64).collect();
            if a.data.iter().all(|x| x.fract() == 0.0 && x.abs() < 9.0e15) {
                ds.with_i64_data(&a.data.iter().map(|&x| x as i64).collect::<Vec<_>>()).with_shape(&shape);
            } else {
                ds.with_f64_data(&a.data).with_shape(&shape);
            }
        }
        Value::Float64(a) => {
            let shape: Vec<u64> = a.shape.iter().map(|&d| d as u64).collect();
            ds.with_f64_data(&a.data).with_shape(&shape);
        }
        Value::Text(t) => {
            let refs: Vec<&str> = t.iter().map(String::as_str).collect();
            ds.with_vlen_strings(&refs);
            if t.len() == 1 {
                ds.with_shape(&[]);
            }
        }
        Value::TextArray { shape, strings } => {
            if shape.iter().product::<usize>() != strings.len() {
                return Err(bad(format!("{} strings for shape {shape:?}", strings.len())));
            }
            let refs: Vec<&str> = strings.iter().map(String::as_str).collect();
            let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
            ds.with_vlen_strings(&refs).with_shape(&dims);
        }
        Value::FixedText(t) => {
            let refs: Vec<&str> = t.iter().map(String::as_str).collect();
            let width = t.iter().map(|s| s.len()).max().unwrap_or(1).max(1) as u32;
            ds.with_ascii_strings_sized(&refs, width).map_err(|e| bad(e.to_string()))?;
        }
        Value::Unsupported(t) => return Err(bad(format!("type {t} cannot be written"))),
        Value::Sequences(_) => return Err(bad("variable-length sequences cannot be written".into())),
    }
    Ok(())
}
