//! Basalt's one HDF5 module: flat files of named numeric arrays, read and written with the
//! pure-Rust `hdf5-pure` crate (no system HDF5 library needed). Files it writes are read by
//! h5py; it reads files h5py writes.

use std::path::Path;

use hdf5_pure::{DType as H5Type, File, FileBuilder};

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
    let bytes =
        std::fs::read(path).map_err(|e| Error::Io { path: path.display().to_string(), message: e.to_string() })?;
    // The parser returns errors for malformed files; the unwind guard turns any panic it
    // might still hit on a crafted file into an error as well.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(path, bytes)))
        .unwrap_or_else(|_| Err(err(path, "the HDF5 reader failed on this file (corrupt or unsupported)")))
}

fn parse(path: &Path, bytes: Vec<u8>) -> Result<Vec<NamedArray>> {
    let file = File::from_bytes(bytes).map_err(|e| err(path, format!("not a readable HDF5 file: {e}")))?;
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
