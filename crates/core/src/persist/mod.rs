//! Saving and loading networks and compiled executables (Lava's
//! `lava.utils.serialization.save/load`, without pickle): a versioned, checksummed binary
//! file that loading parses as data, never as code. Checked with CRC-32 against
//! accidental corruption, or signed with HMAC-SHA256 for authenticity.
//! The layout is documented in `docs/FILE_FORMATS.md`.

pub mod atomic;
pub mod hdf5;
pub mod npz;
pub mod states;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::executable::Executable;
use crate::graph::{Network, NetworkData};
use crate::registry::Registry;
use crate::var_values::VarValues;

/// First 8 bytes of every network file.
pub const MAGIC: [u8; 8] = *b"BASALTNW";
/// The format version this build writes (and the newest it reads). Version 1 (read
/// still) sealed unsigned files with SHA-256; version 2 uses CRC-32, which checks a
/// 128 MB file in milliseconds instead of ~80 ms; version 3 moves every compiled Var's
/// values out of the serialised description into an aligned section of raw
/// little-endian `f64`s, which loading maps into memory instead of copying. Signed
/// files use HMAC-SHA256 in all versions.
pub const FORMAT_VERSION: u32 = 3;
/// Extension appended when the given file name has none (Lava appends `.pickle`).
pub const DEFAULT_EXTENSION: &str = "basalt";
/// Header: magic, version (u32 LE), flags (u32 LE), payload length (u64 LE).
pub const HEADER_LEN: usize = 24;
/// Trailer: CRC-32 of header and payload (4 bytes LE, then 28 zero bytes; SHA-256 in
/// version 1), or their HMAC-SHA256 when signed.
pub const TRAILER_LEN: usize = 32;
/// Alignment (in file bytes) of the value section and of each Var's values in it
/// (version 3): a cache line, so mapped values are aligned for any SIMD load.
pub const VALUE_ALIGN: usize = 64;
/// Flag bit: the trailer is an HMAC-SHA256 under a secret key.
const FLAG_SIGNED: u32 = 1;

/// A named numeric array as state files hold it: values as f64 (exact for every type
/// used) with the element type they are stored in.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedArray {
    /// Dataset / array name (`process.var` in state files).
    pub name: String,
    /// Shape (C order).
    pub shape: Vec<usize>,
    /// Stored element type.
    pub dtype: crate::model::DType,
    /// Values in C order.
    pub data: Vec<f64>,
}

/// What a file holds (Lava's `SerializationObject`).
#[derive(Serialize, Deserialize)]
struct SavedObject {
    network: NetworkData,
    executable: Option<Executable>,
    /// Network Vars (process id, Var name) whose initial value is stored once, in the
    /// executable (the file holds large weight matrices once, not twice).
    shared: Vec<(u32, String)>,
}

/// Where one compiled Var's values lie in the value section (version 3).
#[derive(Serialize, Deserialize)]
struct ValueRange {
    /// Byte offset from the start of the value section (a multiple of [`VALUE_ALIGN`]).
    offset: u64,
    /// Number of `f64` values.
    len: u64,
}

/// A version-3 description: the saved object, with the executable's Var values left
/// empty, and where each of them lies (one range per Var, processes and Vars in order).
#[derive(Serialize, Deserialize)]
struct Description {
    object: SavedObject,
    values: Vec<ValueRange>,
}

/// A file's bytes: read into memory, or memory-mapped, in which case loaded Var values
/// are views into the map instead of copies.
#[derive(Clone, Copy)]
enum FileBytes<'a> {
    Read(&'a [u8]),
    Mapped(&'a Arc<memmap2::Mmap>),
}

impl FileBytes<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            FileBytes::Read(b) => b,
            FileBytes::Mapped(m) => m,
        }
    }

    /// `len` values at byte `offset`: a view when mapped and aligned, else a copy.
    fn values(&self, offset: usize, len: usize) -> Option<VarValues> {
        if let FileBytes::Mapped(m) = self {
            if let Some(v) = VarValues::mapped(m, offset, len) {
                return Some(v);
            }
        }
        let end = len.checked_mul(8)?.checked_add(offset)?;
        VarValues::from_le_bytes(self.bytes().get(offset..end)?)
    }
}

fn align_up(x: usize) -> usize {
    x.div_ceil(VALUE_ALIGN) * VALUE_ALIGN
}

/// Replaces network Var values that equal the executable's initial values by empty
/// placeholders, listing them in `shared`.
fn share_values(net: &mut NetworkData, exe: &Executable) -> Vec<(u32, String)> {
    let mut shared = Vec::new();
    for p in &exe.processes {
        let Some(node) = net.nodes.get_mut(p.id.0 as usize) else {
            continue;
        };
        for v in &p.vars {
            if let Some(d) = node.vars.iter_mut().find(|d| d.name == v.name) {
                let same = d.value.shape() == v.shape.as_slice()
                    && d.value.iter().zip(v.data.iter()).all(|(a, b)| a.to_bits() == b.to_bits());
                if same {
                    d.value = ndarray::ArrayD::zeros(ndarray::IxDyn(&[0]));
                    shared.push((p.id.0, v.name.clone()));
                }
            }
        }
    }
    shared
}

/// Restores the values `share_values` replaced.
fn restore_shared(net: &mut NetworkData, exe: Option<&Executable>, shared: &[(u32, String)]) -> Result<(), String> {
    for (id, name) in shared {
        let v = exe
            .and_then(|e| e.processes.iter().find(|p| p.id.0 == *id))
            .and_then(|p| p.vars.iter().find(|v| &v.name == name))
            .ok_or_else(|| format!("shared Var {name} of process #{id} is missing from the executable"))?;
        let d = net
            .nodes
            .get_mut(*id as usize)
            .and_then(|n| n.vars.iter_mut().find(|d| &d.name == name))
            .ok_or_else(|| format!("shared Var {name} of process #{id} is missing from the network"))?;
        d.value = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&v.shape), v.data.to_vec())
            .map_err(|e| format!("shared Var {name}: {e}"))?;
    }
    Ok(())
}

/// `path`, with `.basalt` appended when it has no extension.
pub fn with_default_extension(path: impl AsRef<Path>) -> PathBuf {
    let p = path.as_ref();
    if p.extension().is_some() {
        p.to_path_buf()
    } else {
        let mut s = p.as_os_str().to_owned();
        s.push(".");
        s.push(DEFAULT_EXTENSION);
        PathBuf::from(s)
    }
}

/// CRC-32 (IEEE) of `bytes`, computed in 8 MiB chunks on all cores and combined.
fn crc32(bytes: &[u8]) -> u32 {
    use rayon::prelude::*;
    bytes
        .par_chunks(1 << 23)
        .map(|chunk| {
            let mut h = crc32fast::Hasher::new();
            h.update(chunk);
            h
        })
        .reduce(crc32fast::Hasher::new, |mut a, b| {
            a.combine(&b);
            a
        })
        .finalize()
}

/// The unsigned trailer of a format version: CRC-32 (v2) or SHA-256 (v1).
fn checksum(version: u32, header_and_payload: &[u8]) -> [u8; 32] {
    if version == 1 {
        Sha256::digest(header_and_payload).into()
    } else {
        let mut t = [0u8; 32];
        t[..4].copy_from_slice(&crc32(header_and_payload).to_le_bytes());
        t
    }
}

fn trailer(header_and_payload: &[u8], key: Option<&[u8]>) -> Result<[u8; 32]> {
    match key {
        None => Ok(checksum(FORMAT_VERSION, header_and_payload)),
        Some(k) => {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(k).map_err(|e| Error::InvalidParameter {
                process: "save".into(),
                param: "key".into(),
                reason: e.to_string(),
            })?;
            mac.update(header_and_payload);
            Ok(mac.finalize().into_bytes().into())
        }
    }
}

/// Encodes a network (and optionally its executable) into the file format (version
/// [`FORMAT_VERSION`]); signed with HMAC-SHA256 under `key` when given.
pub fn encode(net: &Network, exe: Option<&Executable>, key: Option<&[u8]>) -> Result<Vec<u8>> {
    let mut network = net.to_data();
    let shared = exe.map(|e| share_values(&mut network, e)).unwrap_or_default();
    // Cloning shares the values; they are taken out of the description and laid out in
    // the value section instead.
    let mut executable = exe.cloned();
    let mut taken = Vec::new();
    let mut values = Vec::new();
    let mut section_len = 0usize;
    for v in executable.iter_mut().flat_map(|e| e.processes.iter_mut()).flat_map(|p| p.vars.iter_mut()) {
        let data = std::mem::take(&mut v.data);
        let offset = align_up(section_len);
        values.push(ValueRange { offset: offset as u64, len: data.len() as u64 });
        section_len = offset + data.len() * 8;
        taken.push(data);
    }
    let description = Description { object: SavedObject { network, executable, shared }, values };
    let meta = postcard::to_stdvec(&description)
        .map_err(|e| Error::InvalidGraph(format!("cannot serialise the network: {e}")))?;
    let section_start = align_up(HEADER_LEN + 8 + meta.len());
    let payload_len = section_start - HEADER_LEN + section_len;
    let mut out = Vec::with_capacity(HEADER_LEN + payload_len + TRAILER_LEN);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(if key.is_some() { FLAG_SIGNED } else { 0 }).to_le_bytes());
    out.extend_from_slice(&(payload_len as u64).to_le_bytes());
    out.extend_from_slice(&(meta.len() as u64).to_le_bytes());
    out.extend_from_slice(&meta);
    for (data, range) in taken.iter().zip(&description.values) {
        out.resize(section_start + range.offset as usize, 0);
        crate::f64_bytes::extend_le(&mut out, data);
    }
    out.resize(HEADER_LEN + payload_len, 0);
    let t = trailer(&out, key)?;
    out.extend_from_slice(&t);
    Ok(out)
}

/// Checks magic, version, flags, length and checksum or signature of a file's bytes;
/// returns header and payload (without the trailer) and the format version.
fn check_envelope<'a>(bytes: &'a [u8], key: Option<&[u8]>, label: &str) -> Result<(&'a [u8], u32)> {
    let bad = |reason: String| Error::Format { path: label.to_string(), reason };
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        return Err(bad("not a Basalt network file (wrong magic bytes)".into()));
    }
    if bytes.len() < HEADER_LEN {
        return Err(bad(format!("truncated: {} bytes, shorter than the {HEADER_LEN}-byte header", bytes.len())));
    }
    let u32_at = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let version = u32_at(8);
    if version == 0 || version > FORMAT_VERSION {
        return Err(bad(format!(
            "format version {version} is not supported (this build reads versions 1..={FORMAT_VERSION}); {}",
            if version > FORMAT_VERSION { "it was written by a newer Basalt" } else { "the header is corrupt" }
        )));
    }
    let flags = u32_at(12);
    if flags & !FLAG_SIGNED != 0 {
        return Err(bad(format!("unknown header flags {flags:#x}: the header is corrupt")));
    }
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&bytes[16..24]);
    let payload_len = u64::from_le_bytes(len_bytes);
    let expected = (HEADER_LEN as u64).checked_add(payload_len).and_then(|x| x.checked_add(TRAILER_LEN as u64));
    if expected != Some(bytes.len() as u64) {
        return Err(bad(format!(
            "truncated or corrupt: the header announces {payload_len} payload bytes, but the file has {} bytes after the header",
            bytes.len() - HEADER_LEN
        )));
    }
    let body = &bytes[..bytes.len() - TRAILER_LEN];
    let stored = &bytes[bytes.len() - TRAILER_LEN..];
    let signed = flags & FLAG_SIGNED != 0;
    match (signed, key) {
        (true, None) => return Err(bad("the file is signed; load it with load_signed and its key".into())),
        (false, Some(_)) => return Err(bad("the file is not signed, so its authenticity cannot be verified".into())),
        (true, Some(k)) => {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(k).map_err(|e| bad(format!("bad key: {e}")))?;
            mac.update(body);
            mac.verify_slice(stored)
                .map_err(|_| bad("signature mismatch: wrong key, or the file was modified".into()))?;
        }
        (false, None) => {
            if checksum(version, body)[..] != stored[..] {
                return Err(bad("checksum mismatch: the file is corrupt".into()));
            }
        }
    }
    Ok((body, version))
}

/// Checks a file's envelope and parses its body: the postcard payload of versions 1 and
/// 2, or the description and value section of version 3.
fn decode_payload(file: FileBytes<'_>, key: Option<&[u8]>, label: &str) -> Result<SavedObject> {
    let bad = |reason: String| Error::Format { path: label.to_string(), reason };
    let (body, version) = check_envelope(file.bytes(), key, label)?;
    let body_len = body.len();
    if version < 3 {
        return postcard::from_bytes(&body[HEADER_LEN..]).map_err(|e| bad(format!("corrupt payload: {e}")));
    }
    let payload = &body[HEADER_LEN..];
    let meta_len = payload
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n <= payload.len() - 8)
        .ok_or_else(|| bad("corrupt payload: the description length exceeds the file".into()))?;
    let description: Description =
        postcard::from_bytes(&payload[8..8 + meta_len]).map_err(|e| bad(format!("corrupt payload: {e}")))?;
    let section_start = align_up(HEADER_LEN + 8 + meta_len);
    let mut object = description.object;
    let vars = object.executable.iter_mut().flat_map(|e| e.processes.iter_mut()).flat_map(|p| {
        let name = &p.name;
        p.vars.iter_mut().map(move |v| (name, v))
    });
    let mut ranges = description.values.iter();
    for (process, var) in vars {
        let range = ranges.next().ok_or_else(|| bad("corrupt payload: fewer value ranges than Vars".into()))?;
        let expected = crate::value::numel(&var.shape);
        let located = usize::try_from(range.offset)
            .ok()
            .filter(|o| o.is_multiple_of(VALUE_ALIGN))
            .and_then(|o| o.checked_add(section_start))
            .zip(usize::try_from(range.len).ok().filter(|&n| n == expected))
            .filter(|&(o, n)| n.checked_mul(8).and_then(|b| b.checked_add(o)).is_some_and(|end| end <= body_len));
        let (offset, len) = located.ok_or_else(|| {
            bad(format!(
                "corrupt payload: the values of Var {} of process {process} ({} at byte {} of the value section) do not fit its shape {:?} or the file",
                var.name, range.len, range.offset, var.shape
            ))
        })?;
        var.data = file.values(offset, len).ok_or_else(|| bad("corrupt payload: unreadable values".into()))?;
    }
    if ranges.next().is_some() {
        return Err(bad("corrupt payload: more value ranges than Vars".into()));
    }
    Ok(object)
}

/// Decodes bytes written by [`encode`]. `key` must be given exactly when the file is
/// signed. `label` names the source in error messages. Never panics on any input.
pub fn decode(bytes: &[u8], key: Option<&[u8]>, label: &str) -> Result<(Network, Option<Executable>)> {
    decode_file(FileBytes::Read(bytes), key, label)
}

fn decode_file(file: FileBytes<'_>, key: Option<&[u8]>, label: &str) -> Result<(Network, Option<Executable>)> {
    let bad = |reason: String| Error::Format { path: label.to_string(), reason };
    let mut obj = decode_payload(file, key, label)?;
    restore_shared(&mut obj.network, obj.executable.as_ref(), &obj.shared)
        .map_err(|r| bad(format!("inconsistent file: {r}")))?;
    let net = Network::from_data(obj.network).map_err(|r| bad(format!("inconsistent network: {r}")))?;
    Ok((net, obj.executable))
}

/// Decodes only the executable of a file (the network is not rebuilt).
pub fn decode_executable(bytes: &[u8], key: Option<&[u8]>, label: &str) -> Result<Executable> {
    decode_executable_file(FileBytes::Read(bytes), key, label)
}

fn decode_executable_file(file: FileBytes<'_>, key: Option<&[u8]>, label: &str) -> Result<Executable> {
    decode_payload(file, key, label)?
        .executable
        .ok_or_else(|| Error::Format { path: label.to_string(), reason: "the file holds no executable".into() })
}

/// Loads only the compiled executable of a file written by [`save`]: what a deployment
/// needs to create a runtime, faster than [`load`] because the network is not rebuilt.
/// Its models are checked against `registry`.
pub fn load_executable(path: impl AsRef<Path>, registry: &Registry) -> Result<Executable> {
    let path = path.as_ref();
    let exe = with_file(path, |f| decode_executable_file(f, None, &path.display().to_string()))?;
    check_known(&Network::new(), Some(&exe), registry)?;
    Ok(exe)
}

/// Checks that every process of a loaded network and executable has models in `registry`.
fn check_known(net: &Network, exe: Option<&Executable>, registry: &Registry) -> Result<()> {
    for node in net.nodes.iter().filter(|n| !n.is_composite()) {
        if registry.models_for(&node.type_name).next().is_none() {
            return Err(Error::UnknownProcessType {
                process: node.name.clone(),
                type_name: node.type_name.clone(),
                detail: String::new(),
            });
        }
    }
    for p in exe.map(|e| e.processes.as_slice()).unwrap_or(&[]) {
        if registry.find(&p.type_name, &p.model).is_none() {
            return Err(Error::UnknownProcessType {
                process: p.name.clone(),
                type_name: p.type_name.clone(),
                detail: format!(" named {}", p.model),
            });
        }
    }
    Ok(())
}

/// Runs `decode` on the bytes of the file at `path`: memory-mapped (so that loaded
/// values are views into the file, not copies), or read when the file cannot be mapped.
///
/// Files are replaced by [`save`] with a rename, never rewritten in place, so a mapped
/// file keeps its contents; a file truncated in place by another program while loaded
/// values still view it makes the process fault, as with any memory-mapped data.
fn with_file<T>(path: &Path, decode: impl FnOnce(FileBytes<'_>) -> Result<T>) -> Result<T> {
    let io = |e: std::io::Error| Error::Io { path: path.display().to_string(), message: e.to_string() };
    let file = std::fs::File::open(path).map_err(io)?;
    // SAFETY: the map is only read, through bounds- and alignment-checked views (see
    // `VarValues::mapped`); the caveat about files truncated by others is documented above.
    match unsafe { memmap2::MmapOptions::new().populate().map(&file) } {
        Ok(map) => decode(FileBytes::Mapped(&Arc::new(map))),
        Err(_) => decode(FileBytes::Read(&std::fs::read(path).map_err(io)?)),
    }
}

/// Saves a network and, optionally, its compiled executable (Lava's `save`). A path
/// without extension gets `.basalt`. The write is atomic. Returns the path written.
pub fn save(net: &Network, path: impl AsRef<Path>, exe: Option<&Executable>) -> Result<PathBuf> {
    let path = with_default_extension(path);
    atomic::write(&path, &encode(net, exe, None)?)?;
    Ok(path)
}

/// Like [`save`], signed with HMAC-SHA256 under `key`.
pub fn save_signed(net: &Network, path: impl AsRef<Path>, exe: Option<&Executable>, key: &[u8]) -> Result<PathBuf> {
    let path = with_default_extension(path);
    atomic::write(&path, &encode(net, exe, Some(key))?)?;
    Ok(path)
}

/// Loads a file written by [`save`] (Lava's `load`), checking that every process type is
/// one of the library's. Use [`load_with`] for networks with custom processes.
pub fn load(path: impl AsRef<Path>) -> Result<(Network, Option<Executable>)> {
    load_with(path, &Registry::with_library())
}

/// Loads a file written by [`save`], checking process types and models against `registry`.
pub fn load_with(path: impl AsRef<Path>, registry: &Registry) -> Result<(Network, Option<Executable>)> {
    let path = path.as_ref();
    let (net, exe) = with_file(path, |f| decode_file(f, None, &path.display().to_string()))?;
    check_known(&net, exe.as_ref(), registry)?;
    Ok((net, exe))
}

/// Loads a file written by [`save_signed`], verifying its signature with `key`.
pub fn load_signed(path: impl AsRef<Path>, key: &[u8], registry: &Registry) -> Result<(Network, Option<Executable>)> {
    let path = path.as_ref();
    let (net, exe) = with_file(path, |f| decode_file(f, Some(key), &path.display().to_string()))?;
    check_known(&net, exe.as_ref(), registry)?;
    Ok((net, exe))
}
