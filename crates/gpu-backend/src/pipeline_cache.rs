//! The on-disk pipeline cache: what the driver compiled from our kernels, saved between
//! processes, so that building a plan in a new process skips the driver's compilation of every
//! kernel it compiled before (wgpu's `PipelineCache`; Vulkan only). The file is ours around
//! the driver's bytes: a magic, the payload length and its CRC-32, so that a truncated or
//! corrupted file is recognised and set aside (the device then starts an empty cache and
//! overwrites it) instead of reaching the driver.

use std::path::{Path, PathBuf};

/// First bytes of a cache file (format version 1).
const MAGIC: &[u8; 8] = b"BSLTPC01";
/// Magic, payload length (u64 LE), CRC-32 of the payload (u32 LE).
const HEADER: usize = 8 + 8 + 4;

/// The directory a device keeps its pipeline cache in unless told otherwise:
/// `BASALT_PIPELINE_CACHE` (`off` or empty: none), else `$XDG_CACHE_HOME/basalt`, else
/// `$HOME/.cache/basalt`, else none.
pub fn default_dir() -> Option<PathBuf> {
    match std::env::var_os("BASALT_PIPELINE_CACHE") {
        Some(dir) if dir.is_empty() || dir == "off" => None,
        Some(dir) => Some(PathBuf::from(dir)),
        None => std::env::var_os("XDG_CACHE_HOME")
            .filter(|d| !d.is_empty())
            .map(|d| PathBuf::from(d).join("basalt"))
            .or_else(|| {
                std::env::var_os("HOME").filter(|d| !d.is_empty()).map(|h| PathBuf::from(h).join(".cache/basalt"))
            }),
    }
}

/// What became of a device's pipeline cache: its file, what was loaded from it, and why
/// nothing was where nothing was.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PipelineCacheStatus {
    /// The cache file (None: no cache, see `note`).
    pub file: Option<PathBuf>,
    /// Driver bytes loaded from the file when the device opened (0: it started empty).
    pub loaded_bytes: usize,
    /// Bytes the last save wrote.
    pub saved_bytes: usize,
    /// Why the cache is off, started empty, or could not be saved; empty when all went well.
    pub note: String,
}

/// The driver bytes in a cache file, or why they cannot be used.
pub fn decode(file: &[u8]) -> Result<&[u8], String> {
    if file.len() < HEADER || &file[..8] != MAGIC {
        return Err("not a basalt pipeline cache file".into());
    }
    let len = u64::from_le_bytes(file[8..16].try_into().unwrap_or_default());
    let crc = u32::from_le_bytes(file[16..20].try_into().unwrap_or_default());
    let payload = &file[HEADER..];
    if payload.len() as u64 != len {
        return Err(format!("truncated or padded: {} payload bytes, the header says {len}", payload.len()));
    }
    if crc32fast::hash(payload) != crc {
        return Err("its checksum does not match (corrupted)".into());
    }
    Ok(payload)
}

/// A cache file holding `payload`.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let mut file = Vec::with_capacity(HEADER + payload.len());
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    file.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    file.extend_from_slice(payload);
    file
}

/// Writes `bytes` to `path` through a temporary file renamed into place, so that a reader
/// (another process) never sees half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_round_trip_and_damage_is_recognised() {
        let payload: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        let file = encode(&payload);
        assert_eq!(file.len(), HEADER + 1000);
        assert_eq!(decode(&file), Ok(payload.as_slice()));
        assert!(decode(&file[..file.len() - 1]).unwrap_err().contains("truncated"));
        assert!(decode(&file[..10]).unwrap_err().contains("not a basalt"));
        let mut flipped = file.clone();
        flipped[HEADER + 500] ^= 1;
        assert!(decode(&flipped).unwrap_err().contains("checksum"));
        let mut other = file;
        other[0] = b'X';
        assert!(decode(&other).unwrap_err().contains("not a basalt"));
        assert_eq!(decode(&encode(&[])), Ok(&[][..]));
    }
}
