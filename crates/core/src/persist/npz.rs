//! NumPy `.npz` archives of named numeric arrays (what `numpy.savez` writes and
//! `numpy.load` reads), through the `npyz` crate.

use std::io::Cursor;
use std::path::Path;

use npyz::WriterBuilder;

use crate::error::{Error, Result};
use crate::model::DType;
use crate::persist::NamedArray;

fn err(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Format { path: path.display().to_string(), reason: reason.to_string() }
}

fn write_one<T: npyz::Serialize + npyz::AutoSerialize>(
    npz: &mut npyz::npz::NpzWriter<Cursor<Vec<u8>>>,
    a: &NamedArray,
    values: Vec<T>,
) -> std::io::Result<()> {
    let shape: Vec<u64> = a.shape.iter().map(|&d| d as u64).collect();
    let mut w = npz.array::<T>(&a.name, Default::default())?.default_dtype().shape(&shape).begin_nd()?;
    w.extend(values)?;
    w.finish()
}

/// Encodes arrays as an `.npz` archive, each in its own dtype.
pub fn encode(arrays: &[NamedArray]) -> Result<Vec<u8>> {
    let mut npz = npyz::npz::NpzWriter::new(Cursor::new(Vec::new()));
    let io = |e: std::io::Error| Error::InvalidGraph(format!("cannot encode npz: {e}"));
    for a in arrays {
        match a.dtype {
            DType::F64 => write_one(&mut npz, a, a.data.clone()),
            DType::F32 => write_one(&mut npz, a, a.data.iter().map(|&x| x as f32).collect()),
            DType::I64 => write_one(&mut npz, a, a.data.iter().map(|&x| x as i64).collect()),
            DType::I32 => write_one(&mut npz, a, a.data.iter().map(|&x| x as i32).collect()),
            DType::I16 => write_one(&mut npz, a, a.data.iter().map(|&x| x as i16).collect()),
            DType::U16 => write_one(&mut npz, a, a.data.iter().map(|&x| x as u16).collect()),
        }
        .map_err(io)?;
    }
    let cursor = npz.zip_writer().finish().map_err(|e| Error::InvalidGraph(format!("cannot encode npz: {e}")))?;
    Ok(cursor.into_inner())
}

/// Writes arrays to an `.npz` file atomically.
pub fn write(path: &Path, arrays: &[NamedArray]) -> Result<()> {
    crate::persist::atomic::write(path, &encode(arrays)?)
}

/// Writes one array as a NumPy `.npy` file (format 1.0, C order, its own dtype)
/// atomically: what `basalt run --input` reads.
pub fn write_npy(path: &Path, a: &NamedArray) -> Result<()> {
    let n: usize = a.shape.iter().product();
    if n != a.data.len() {
        return Err(err(path, format!("shape {:?} does not hold {} values", a.shape, a.data.len())));
    }
    let descr = match a.dtype {
        DType::F64 => "<f8",
        DType::F32 => "<f4",
        DType::I64 => "<i8",
        DType::I32 => "<i4",
        DType::I16 => "<i2",
        DType::U16 => "<u2",
    };
    let dims: String = a.shape.iter().map(|d| format!("{d}, ")).collect();
    let dims = if a.shape.len() == 1 { dims } else { dims.trim_end_matches(", ").to_string() };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}");
    // Magic (6) + version (2) + length (2) + header + newline, padded to 64 bytes.
    let total = (10 + header.len() + 1).div_ceil(64) * 64;
    header.push_str(&" ".repeat(total - 10 - header.len() - 1));
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for &x in &a.data {
        match a.dtype {
            DType::F64 => bytes.extend_from_slice(&x.to_le_bytes()),
            DType::F32 => bytes.extend_from_slice(&(x as f32).to_le_bytes()),
            DType::I64 => bytes.extend_from_slice(&(x as i64).to_le_bytes()),
            DType::I32 => bytes.extend_from_slice(&(x as i32).to_le_bytes()),
            DType::I16 => bytes.extend_from_slice(&(x as i16).to_le_bytes()),
            DType::U16 => bytes.extend_from_slice(&(x as u16).to_le_bytes()),
        }
    }
    crate::persist::atomic::write(path, &bytes)
}

/// Reads every array of an `.npz` file (little-endian float64, int64, int32, int16 and
/// uint16 arrays).
pub fn read(path: &Path) -> Result<Vec<NamedArray>> {
    // The zip and npy parsers return errors for malformed files; the unwind guard turns any
    // panic they might still hit on a crafted file into an error as well.
    std::panic::catch_unwind(|| parse(path))
        .unwrap_or_else(|_| Err(err(path, "the npz reader failed on this file (corrupt or unsupported)")))
}

fn parse(path: &Path) -> Result<Vec<NamedArray>> {
    let mut npz = npyz::npz::NpzArchive::open(path).map_err(|e| err(path, format!("not a readable npz file: {e}")))?;
    let names: Vec<String> = npz.array_names().map(str::to_string).collect();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let file = npz
            .by_name(&name)
            .map_err(|e| err(path, format!("array {name}: {e}")))?
            .ok_or_else(|| err(path, format!("array {name} vanished")))?;
        let shape: Vec<usize> = file.shape().iter().map(|&d| d as usize).collect();
        let fortran = file.order() == npyz::Order::Fortran;
        let type_str = match file.dtype() {
            npyz::DType::Plain(ts) => ts.to_string(),
            other => return Err(err(path, format!("array {name} has a structured dtype {other:?}"))),
        };
        let read_err = |e: std::io::Error| err(path, format!("array {name}: {e}"));
        let (dtype, data): (DType, Vec<f64>) = match type_str.as_str() {
            "<f8" => (DType::F64, file.into_vec::<f64>().map_err(read_err)?),
            "<f4" => (DType::F32, file.into_vec::<f32>().map_err(read_err)?.into_iter().map(f64::from).collect()),
            "<i8" => (DType::I64, file.into_vec::<i64>().map_err(read_err)?.into_iter().map(|x| x as f64).collect()),
            "<i4" => (DType::I32, file.into_vec::<i32>().map_err(read_err)?.into_iter().map(f64::from).collect()),
            "<i2" => (DType::I16, file.into_vec::<i16>().map_err(read_err)?.into_iter().map(f64::from).collect()),
            "<u2" => (DType::U16, file.into_vec::<u16>().map_err(read_err)?.into_iter().map(f64::from).collect()),
            other => {
                return Err(err(path, format!("array {name} has dtype {other}, which Basalt state files do not use")))
            }
        };
        if data.len() != shape.iter().product::<usize>() {
            return Err(err(path, format!("array {name}: {} values for shape {shape:?}", data.len())));
        }
        let data = if fortran { fortran_to_c(&data, &shape) } else { data };
        out.push(NamedArray { name, shape, dtype, data });
    }
    Ok(out)
}

/// Reads one `.npy` file (float64/32, int64/32/16, uint16, little-endian) as a named array
/// called after the file stem.
pub fn read_npy(path: &Path) -> Result<NamedArray> {
    let file = std::fs::File::open(path)
        .map_err(|e| Error::Io { path: path.display().to_string(), message: e.to_string() })?;
    let npy = npyz::NpyFile::new(std::io::BufReader::new(file))
        .map_err(|e| err(path, format!("not a readable npy file: {e}")))?;
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let fortran = npy.order() == npyz::Order::Fortran;
    let type_str = match npy.dtype() {
        npyz::DType::Plain(ts) => ts.to_string(),
        other => return Err(err(path, format!("structured dtype {other:?}"))),
    };
    let read_err = |e: std::io::Error| err(path, e);
    let (dtype, data): (DType, Vec<f64>) = match type_str.as_str() {
        "<f8" => (DType::F64, npy.into_vec::<f64>().map_err(read_err)?),
        "<f4" => (DType::F32, npy.into_vec::<f32>().map_err(read_err)?.into_iter().map(f64::from).collect()),
        "<i8" => (DType::I64, npy.into_vec::<i64>().map_err(read_err)?.into_iter().map(|x| x as f64).collect()),
        "<i4" => (DType::I32, npy.into_vec::<i32>().map_err(read_err)?.into_iter().map(f64::from).collect()),
        "<i2" => (DType::I16, npy.into_vec::<i16>().map_err(read_err)?.into_iter().map(f64::from).collect()),
        "<u2" => (DType::U16, npy.into_vec::<u16>().map_err(read_err)?.into_iter().map(f64::from).collect()),
        other => return Err(err(path, format!("dtype {other} is not supported"))),
    };
    if data.len() != shape.iter().product::<usize>() {
        return Err(err(path, format!("{} values for shape {shape:?}", data.len())));
    }
    let data = if fortran { fortran_to_c(&data, &shape) } else { data };
    Ok(NamedArray { name, shape, dtype, data })
}

/// Reorders values stored in Fortran order (first index fastest, as NumPy writes a
/// transposed array) into C order.
fn fortran_to_c(data: &[f64], shape: &[usize]) -> Vec<f64> {
    let n = data.len();
    let mut out = vec![0.0; n];
    let mut idx = vec![0usize; shape.len()];
    for (c_pos, o) in out.iter_mut().enumerate() {
        // Decompose the C position into a multi-index, then compose the F position.
        let mut rem = c_pos;
        for d in (0..shape.len()).rev() {
            idx[d] = rem % shape[d];
            rem /= shape[d];
        }
        let mut f_pos = 0;
        for d in (0..shape.len()).rev() {
            f_pos = f_pos * shape[d] + idx[d];
        }
        *o = data[f_pos];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::fortran_to_c;

    #[test]
    fn fortran_order_is_transposed_to_c_order() {
        // [[1, 2, 3], [4, 5, 6]] stored in Fortran order is 1, 4, 2, 5, 3, 6.
        assert_eq!(fortran_to_c(&[1.0, 4.0, 2.0, 5.0, 3.0, 6.0], &[2, 3]), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }
}
