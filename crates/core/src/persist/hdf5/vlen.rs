//! Variable-length sequences of numbers (HDF5's VL datatype, e.g. SHD's per-sample spike
//! times): each element of a dataset's raw data is `length (u32) + global heap collection
//! address (offset size) + object index (u32)`, and the numbers live in that object of a
//! global heap collection ("GCOL"). hdf5-pure 0.47 decodes these only inside the crate, so
//! this reads the collections from the file image itself, bounds-checked throughout.

use std::collections::HashMap;

use hdf5_pure::{Datatype, DatatypeByteOrder, File};

/// An unsigned little-endian integer of `width` bytes at `at`.
fn uint(bytes: &[u8], at: usize, width: usize) -> Result<u64, String> {
    let b = bytes
        .get(at..at.checked_add(width).ok_or("address overflow")?)
        .ok_or_else(|| format!("offset {at} is past the end of the file"))?;
    Ok(b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
}

/// The objects of the global heap collection at `at`: index -> (data offset, size).
fn collection(bytes: &[u8], at: usize, length_size: usize) -> Result<HashMap<u64, (usize, usize)>, String> {
    if bytes.get(at..at + 4) != Some(b"GCOL") {
        return Err(format!("no global heap collection at offset {at}"));
    }
    let size = usize::try_from(uint(bytes, at + 8, length_size)?).map_err(|e| e.to_string())?;
    let end = at
        .checked_add(size)
        .filter(|&e| e <= bytes.len())
        .ok_or("a global heap collection runs past the end of the file")?;
    let mut objects = HashMap::new();
    let mut pos = at + 8 + length_size;
    while pos + 8 + length_size <= end {
        let index = uint(bytes, pos, 2)?;
        if index == 0 {
            break; // the free-space object ends the collection
        }
        let size = usize::try_from(uint(bytes, pos + 8, length_size)?).map_err(|e| e.to_string())?;
        let start = pos + 8 + length_size;
        if start.checked_add(size).is_none_or(|e| e > end) {
            return Err(format!("global heap object {index} runs past its collection"));
        }
        objects.insert(index, (start, size));
        pos = start + size.div_ceil(8) * 8;
    }
    Ok(objects)
}

/// Decodes one number from its bytes.
type Decode = Box<dyn Fn(&[u8]) -> f64>;

/// The byte size of the sequences' base type and a decoder of one number of it.
fn decoder(base: &Datatype) -> Result<(usize, Decode), String> {
    let (size, order, kind) = match base {
        Datatype::FloatingPoint { size, byte_order, .. } => (*size as usize, byte_order, None),
        Datatype::FixedPoint { size, byte_order, layout } => (*size as usize, byte_order, Some(layout.signed)),
        other => return Err(format!("sequences of {other:?} are not numbers")),
    };
    let big = match order {
        DatatypeByteOrder::LittleEndian => false,
        DatatypeByteOrder::BigEndian => true,
        DatatypeByteOrder::Vax => return Err("VAX byte order is not supported".into()),
    };
    let bits = move |b: &[u8]| -> u64 {
        let fold = |v: u64, x: &u8| (v << 8) | u64::from(*x);
        if big {
            b.iter().fold(0, fold)
        } else {
            b.iter().rev().fold(0, fold)
        }
    };
    let decode: Decode = match (kind, size) {
        (None, 2) => Box::new(move |b| f16_to_f64(bits(b) as u16)),
        (None, 4) => Box::new(move |b| f64::from(f32::from_bits(bits(b) as u32))),
        (None, 8) => Box::new(move |b| f64::from_bits(bits(b))),
        (Some(false), 1 | 2 | 4 | 8) => Box::new(move |b| bits(b) as f64),
        (Some(true), 1 | 2 | 4 | 8) => {
            let shift = 64 - 8 * size as u32;
            Box::new(move |b| (((bits(b) << shift) as i64) >> shift) as f64)
        }
        _ => return Err(format!("numbers of {size} bytes are not supported")),
    };
    Ok((size, decode))
}

/// IEEE half precision to f64.
fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((h >> 10) & 0x1f);
    let fraction = f64::from(h & 0x3ff);
    match exponent {
        0 => sign * fraction * 2f64.powi(-24),
        31 if fraction == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1.0 + fraction / 1024.0) * 2f64.powi(e - 15),
    }
}

/// The sequences of a VL dataset whose raw element data is `raw`, numbers of type `base`.
pub(super) fn sequences(file: &File, raw: &[u8], base: &Datatype) -> Result<Vec<Vec<f64>>, String> {
    let sb = file.superblock();
    let (offset_size, length_size) = (usize::from(sb.offset_size), usize::from(sb.length_size));
    let base_address = sb.base_address.get();
    let bytes = file.as_bytes();
    let (size, decode) = decoder(base)?;
    let element = 4 + offset_size + 4;
    if !raw.len().is_multiple_of(element) {
        return Err(format!("{} bytes of variable-length references is not a whole number of {element}", raw.len()));
    }
    let mut heaps: HashMap<u64, HashMap<u64, (usize, usize)>> = HashMap::new();
    let mut out = Vec::with_capacity(raw.len() / element);
    for e in raw.chunks_exact(element) {
        let length = uint(e, 0, 4)? as usize;
        if length == 0 {
            out.push(Vec::new());
            continue;
        }
        let address = uint(e, 4, offset_size)?;
        let index = uint(e, 4 + offset_size, 4)?;
        let at = address.checked_add(base_address).and_then(|a| usize::try_from(a).ok()).ok_or("address overflow")?;
        let heap = match heaps.entry(address) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => v.insert(collection(bytes, at, length_size)?),
        };
        let &(start, stored) = heap.get(&index).ok_or_else(|| format!("global heap object {index} is missing"))?;
        if length.checked_mul(size).is_none_or(|n| n > stored) {
            return Err(format!("a sequence of {length} numbers does not fit its {stored}-byte heap object"));
        }
        out.push(bytes[start..start + length * size].chunks_exact(size).map(&decode).collect());
    }
    Ok(out)
}
