//! The values of a compiled Var: shared, immutable `f64`s that are either owned (after
//! compiling) or a view into a memory-mapped network file (after loading), so that
//! loading a saved executable does not copy its weight matrices and cloning an
//! [`crate::Executable`] does not copy them either.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// Immutable `f64` values in C order: cheap to clone (shared), read as a slice.
#[derive(Clone)]
pub struct VarValues(Repr);

#[derive(Clone)]
enum Repr {
    Owned(Arc<Vec<f64>>),
    Mapped(MappedSlice),
}

/// `len` little-endian `f64`s at byte `offset` of a mapped file, checked in bounds and
/// 8-byte aligned when made.
#[derive(Clone)]
struct MappedSlice {
    map: Arc<memmap2::Mmap>,
    offset: usize,
    len: usize,
}

impl VarValues {
    /// A view of `len` values at byte `offset` of `map`, without copying them, or `None`
    /// when they are out of bounds or misaligned (or the host is big-endian, where the
    /// caller copies instead).
    pub(crate) fn mapped(map: &Arc<memmap2::Mmap>, offset: usize, len: usize) -> Option<Self> {
        let end = len.checked_mul(8).and_then(|b| b.checked_add(offset))?;
        let aligned = (map.as_ptr() as usize).checked_add(offset)?.is_multiple_of(std::mem::align_of::<f64>());
        (cfg!(target_endian = "little") && end <= map.len() && aligned)
            .then(|| VarValues(Repr::Mapped(MappedSlice { map: Arc::clone(map), offset, len })))
    }

    /// Values decoded from little-endian bytes (a copy); `None` when `bytes` is not a
    /// whole number of values.
    pub fn from_le_bytes(bytes: &[u8]) -> Option<Self> {
        crate::f64_bytes::read_le(bytes).map(VarValues::from)
    }

    /// The values as an owned vector (a copy).
    pub fn to_vec(&self) -> Vec<f64> {
        self.deref().to_vec()
    }

    /// Whether the values are a view into a memory-mapped file.
    pub fn is_mapped(&self) -> bool {
        matches!(self.0, Repr::Mapped(_))
    }
}

impl Deref for VarValues {
    type Target = [f64];

    fn deref(&self) -> &[f64] {
        match &self.0 {
            Repr::Owned(v) => v,
            Repr::Mapped(m) => {
                let bytes = &m.map[m.offset..m.offset + m.len * 8];
                // SAFETY: `mapped` checked that the range lies inside the map and starts
                // 8-byte aligned, and that the host is little-endian like the file; every
                // bit pattern is a valid f64, and the map lives as long as `m` holds it.
                unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<f64>(), m.len) }
            }
        }
    }
}

impl Default for VarValues {
    fn default() -> Self {
        VarValues(Repr::Owned(Arc::new(Vec::new())))
    }
}

impl From<Vec<f64>> for VarValues {
    fn from(v: Vec<f64>) -> Self {
        VarValues(Repr::Owned(Arc::new(v)))
    }
}

impl FromIterator<f64> for VarValues {
    fn from_iter<I: IntoIterator<Item = f64>>(iter: I) -> Self {
        VarValues::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl PartialEq for VarValues {
    fn eq(&self, other: &Self) -> bool {
        self.deref() == other.deref()
    }
}

impl fmt::Debug for VarValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl serde::Serialize for VarValues {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::f64_bytes::vec::serialize(self, s)
    }
}

impl<'de> serde::Deserialize<'de> for VarValues {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::f64_bytes::vec::deserialize(d).map(VarValues::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_values_read_the_file_bytes_and_refuse_bad_ranges() {
        let dir = std::env::temp_dir().join(format!("basalt-var-values-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("values.bin");
        let mut bytes = vec![0u8; 8];
        for x in [1.5f64, -2.0, 1e300] {
            bytes.extend_from_slice(&x.to_le_bytes());
        }
        std::fs::write(&path, &bytes).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: the test owns the file and does not change it while mapped.
        let map = Arc::new(unsafe { memmap2::Mmap::map(&file) }.unwrap());
        let v = VarValues::mapped(&map, 8, 3).expect("in bounds and aligned");
        assert!(v.is_mapped());
        assert_eq!(&v[..], &[1.5, -2.0, 1e300]);
        assert_eq!(v, VarValues::from(vec![1.5, -2.0, 1e300]));
        assert!(VarValues::mapped(&map, 8, 4).is_none(), "past the end");
        assert!(VarValues::mapped(&map, 4, 1).is_none(), "misaligned");
        assert!(VarValues::mapped(&map, 8, usize::MAX).is_none(), "overflowing length");
        assert_eq!(VarValues::from_le_bytes(&bytes[8..]).unwrap(), v);
        assert!(VarValues::from_le_bytes(&bytes[..7]).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
