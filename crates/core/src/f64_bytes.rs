//! Serde adapters that store `f64` arrays as little-endian byte blobs: with binary formats
//! (postcard) a large weight matrix is written and read as one copy instead of element by
//! element, and the file holds exactly 8 bytes per value.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Appends `v` to `out` as little-endian bytes.
pub(crate) fn extend_le(out: &mut Vec<u8>, v: &[f64]) {
    out.reserve(v.len() * 8);
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

/// Reads little-endian bytes as values; `None` when they are not a whole number of them.
pub(crate) fn read_le(b: &[u8]) -> Option<Vec<f64>> {
    b.len()
        .is_multiple_of(8)
        .then(|| b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
}

fn to_bytes(v: &[f64]) -> Vec<u8> {
    let mut out = Vec::new();
    extend_le(&mut out, v);
    out
}

fn from_bytes<E: serde::de::Error>(b: &[u8]) -> Result<Vec<f64>, E> {
    read_le(b).ok_or_else(|| E::custom(format!("{} bytes is not a whole number of f64 values", b.len())))
}

/// `Vec<f64>` as a byte blob.
pub mod vec {
    use super::*;

    /// Serialises the values as bytes.
    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        serde_bytes::Bytes::new(&to_bytes(v)).serialize(s)
    }

    /// Reads the values back (borrowing the input's bytes where the format allows).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let b: std::borrow::Cow<'de, [u8]> = serde_bytes::deserialize(d)?;
        from_bytes(&b)
    }
}

/// `ArrayD<f64>` as (shape, byte blob in C order).
pub mod array {
    use super::*;
    use ndarray::{ArrayD, IxDyn};

    /// Serialises shape and values.
    pub fn serialize<S: Serializer>(a: &ArrayD<f64>, s: S) -> Result<S::Ok, S::Error> {
        let values: Vec<f64> = a.iter().copied().collect();
        (a.shape(), serde_bytes::Bytes::new(&to_bytes(&values))).serialize(s)
    }

    /// Reads shape and values back, checking that they agree.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ArrayD<f64>, D::Error> {
        let (shape, bytes): (Vec<usize>, serde_bytes::ByteBuf) = Deserialize::deserialize(d)?;
        // (Network Vars are small or shared with the executable; an owned buffer is fine.)
        let values = from_bytes::<D::Error>(&bytes)?;
        let n = shape
            .iter()
            .try_fold(1usize, |acc, &x| acc.checked_mul(x))
            .ok_or_else(|| D::Error::custom("shape overflows"))?;
        if n != values.len() {
            return Err(D::Error::custom(format!("shape {shape:?} does not match {} values", values.len())));
        }
        ArrayD::from_shape_vec(IxDyn(&shape), values).map_err(D::Error::custom)
    }
}
