//! Saving and loading networks, executables and model state.

use std::path::PathBuf;
use std::sync::Arc;

use basalt_core::persist::{self, states::StateFormat, NamedArray};
use basalt_core::prelude::*;
use basalt_core::{Error, Executable};
use ndarray::{ArrayD, IxDyn};

/// A fresh temporary directory for one test.
fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("basalt-persist-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// A composite layer: Dense + LIF with aliases (hierarchical round trip).
struct Layer;
impl Process for Layer {
    const TYPE_NAME: &'static str = "test.Layer";
    fn build(self, b: &mut ProcessBuilder<'_>) -> basalt_core::Result<()> {
        let dense = b.child("dense", Dense::new(ndarray::arr2(&[[3.0, 1.0, 2.0], [1.0, 2.0, 3.0]])))?;
        let lif = b.child("lif", Lif::new(&[2]).du(0.25).dv(0.5).vth(4.0))?;
        b.connect(dense.a_out(), &lif.a_in())?;
        b.expose_in_port("s_in", &[dense.s_in()])?;
        b.expose_out_port("s_out", lif.s_out())?;
        b.alias_var("v", &lif.v())?;
        Ok(())
    }
}

/// Every library process type in one network: source -> Lif -> Dense -> Lif -> sink, a
/// composite layer, monitors of Vars and OutPorts. Fixed-point friendly integer values.
fn library_network() -> (Network, Handle<Monitor>) {
    let mut net = Network::new();
    let src = net
        .add_named(
            "src",
            source::RingBuffer::new(
                ArrayD::from_shape_vec(IxDyn(&[3, 4]), vec![1., 0., 1., 1., 0., 1., 1., 0., 1., 1., 0., 1.]).unwrap(),
            ),
        )
        .unwrap();
    let lif1 = net
        .add_named("lif1", Lif::new(&[3]).du(1000.0).dv(500.0).vth(2.0).bias_mant([30.0, 40.0, 50.0]).bias_exp(2.0))
        .unwrap();
    let dense = net.add_named("dense", Dense::new(ndarray::arr2(&[[40.0, -10.0, 20.0], [50.0, 90.0, -5.0]]))).unwrap();
    let lif2 = net.add_named("lif2", Lif::new(&[2]).du(2000.0).dv(300.0).vth(20.0)).unwrap();
    let sink = net.add_named("sink", sink::RingBuffer::new(&[2], 7)).unwrap();
    let layer = net.add_named("layer", Layer).unwrap();
    net.connect(src.s_out(), &lif1.a_in()).unwrap();
    net.connect(lif1.s_out(), &dense.s_in()).unwrap();
    net.connect(dense.a_out(), &lif2.a_in()).unwrap();
    net.connect(lif2.s_out(), &sink.a_in()).unwrap();
    net.connect(lif1.s_out(), &layer.in_port("s_in")).unwrap();
    let mon = net.add_named("mon", Monitor::new()).unwrap();
    for lif in [lif1, lif2] {
        mon.probe(&mut net, lif.v(), 30).unwrap();
        mon.probe(&mut net, lif.u(), 30).unwrap();
        mon.probe(&mut net, lif.s_out(), 30).unwrap();
    }
    mon.probe(&mut net, layer.var("v"), 30).unwrap();
    mon.probe(&mut net, layer.out_port("s_out"), 30).unwrap();
    (net, mon)
}

fn traces(rt: &mut Runtime, mon: &Handle<Monitor>) -> Vec<(String, String, Vec<f64>)> {
    rt.run(RunSteps::new(30)).unwrap();
    let data = mon.get_data(rt).unwrap();
    let mut out = Vec::new();
    for (p, vars) in data {
        for (v, a) in vars {
            out.push((p.clone(), v, a.iter().copied().collect()));
        }
    }
    out
}

#[test]
fn every_library_process_round_trips_with_identical_traces() {
    let dir = tmp_dir("roundtrip");
    for cfg in [RunConfig::floating_pt(), RunConfig::fixed_pt()] {
        let (net, mon) = library_network();
        let exe = net.compile(&cfg).unwrap();
        let mut direct = Runtime::new(exe.clone(), cfg.registry()).unwrap();
        let want = traces(&mut direct, &mon);
        assert!(want.iter().any(|(_, v, d)| v == "s_out" && d.iter().any(|&x| x != 0.0)), "the network spikes");

        let path = persist::save(&net, dir.join("lib"), Some(&exe)).unwrap();
        assert_eq!(path, dir.join("lib.basalt"));
        let (net2, exe2) = persist::load(&path).unwrap();
        let exe2 = exe2.expect("executable saved");
        assert_eq!(exe2, exe);
        // From the loaded executable, without recompiling.
        let mut reloaded = Runtime::new(exe2, cfg.registry()).unwrap();
        assert_eq!(traces(&mut reloaded, &mon), want);
        // From the loaded network, recompiled: same result, same hierarchy.
        let layer = net2.find("layer").unwrap();
        assert_eq!(net2.children(layer).unwrap().len(), 2);
        let mut recompiled = net2.runtime(&cfg).unwrap();
        assert_eq!(traces(&mut recompiled, &mon), want);
        assert_eq!(
            recompiled.get(&VarRef { proc: layer, name: "v".into() }).unwrap(),
            reloaded.get(&VarRef { proc: layer, name: "v".into() }).unwrap()
        );
    }
}

#[test]
fn serialization_tutorial_end_to_end() {
    let dir = tmp_dir("tutorial");
    let mut net = Network::new();
    let lif_in = net.add_named("lif_in", Lif::new(&[2]).bias_mant(100.0).vth(120.0)).unwrap();
    let dense = net.add_named("dense", Dense::new(ndarray::Array2::from_elem((3, 2), 10.0))).unwrap();
    let lif_out = net.add_named("lif_out", Lif::new(&[3]).bias_mant(0.0).vth(50000.0)).unwrap();
    net.connect(lif_in.s_out(), &dense.s_in()).unwrap();
    net.connect(dense.a_out(), &lif_out.a_in()).unwrap();
    let exe = net.compile(&RunConfig::floating_pt()).unwrap();
    let path = persist::save(&net, dir.join("network"), Some(&exe)).unwrap();

    let (net, exe) = persist::load(&path).unwrap();
    let (lif_in, lif_out) = (net.find("lif_in").unwrap(), net.find("lif_out").unwrap());
    let mut rt = Runtime::new(exe.unwrap(), &Registry::with_library()).unwrap();
    let (mut v, mut u) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        rt.run(RunSteps::new(1)).unwrap();
        v.push(rt.get(&VarRef { proc: lif_in, name: "v".into() }).unwrap()[[0]]);
        u.push(rt.get(&VarRef { proc: lif_out, name: "u".into() }).unwrap()[[0]]);
    }
    assert_eq!(v, vec![100.0, 0.0, 100.0, 0.0, 100.0]);
    assert_eq!(u, vec![0.0, 0.0, 20.0, 20.0, 40.0]);
}

/// A custom leaf process for registry checks.
struct Custom;
impl Process for Custom {
    const TYPE_NAME: &'static str = "test.Custom";
    fn build(self, b: &mut ProcessBuilder<'_>) -> basalt_core::Result<()> {
        b.var("x", &[1], 7.0)?;
        Ok(())
    }
}

struct CustomModel(f64);
impl CpuModel for CustomModel {
    fn run_spk(&mut self, _io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        self.0 += 1.0;
        Ok(())
    }
    fn read_var(&self, _v: usize, out: &mut [f64]) -> Result<(), ModelError> {
        out[0] = self.0;
        Ok(())
    }
    fn write_var(&mut self, _v: usize, d: &[f64]) -> Result<(), ModelError> {
        self.0 = d[0];
        Ok(())
    }
}

#[test]
fn custom_types_need_their_registration_to_load() {
    let dir = tmp_dir("custom");
    let mut reg = Registry::with_library();
    reg.register(ModelEntry::cpu("test.Custom", "CustomModel", &["floating_pt"], OutputTiming::SameStep, |p| {
        Ok(Box::new(CustomModel(p.var("x")?.data[0])) as Box<dyn CpuModel>)
    }))
    .unwrap();
    let reg = Arc::new(reg);
    let mut net = Network::new();
    let c = net.add_named("custom", Custom).unwrap();
    let cfg = RunConfig::floating_pt().with_registry(reg.clone());
    let exe = net.compile(&cfg).unwrap();
    let path = persist::save(&net, dir.join("custom.basalt"), Some(&exe)).unwrap();

    let e = persist::load(&path).unwrap_err();
    assert!(matches!(e, Error::UnknownProcessType { .. }), "{e}");
    assert!(e.to_string().contains("test.Custom") && e.to_string().contains("custom"), "{e}");

    let (_, exe) = persist::load_with(&path, &reg).unwrap();
    let mut rt = Runtime::new(exe.unwrap(), &reg).unwrap();
    rt.run(RunSteps::new(3)).unwrap();
    assert_eq!(rt.get(&c.var("x")).unwrap()[[0]], 10.0);
}

#[test]
fn signed_files_verify_their_key() {
    let dir = tmp_dir("signed");
    let (net, _) = library_network();
    let key = b"a secret key shared by the lab";
    let path = persist::save_signed(&net, dir.join("signed.basalt"), None, key).unwrap();
    let (net2, exe) = persist::load_signed(&path, key, &Registry::with_library()).unwrap();
    assert!(exe.is_none());
    assert_eq!(net2.len(), net.len());
    let e = persist::load_signed(&path, b"another key", &Registry::with_library()).unwrap_err();
    assert!(e.to_string().contains("signature mismatch"), "{e}");
    let e = persist::load(&path).unwrap_err();
    assert!(e.to_string().contains("signed"), "{e}");
    let unsigned = persist::save(&net, dir.join("plain.basalt"), None).unwrap();
    let e = persist::load_signed(&unsigned, key, &Registry::with_library()).unwrap_err();
    assert!(e.to_string().contains("not signed"), "{e}");
}

/// A small deterministic generator for the corruption tests.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn small_file(key: Option<&[u8]>) -> Vec<u8> {
    let mut net = Network::new();
    let a = net.add_named("a", Lif::new(&[2]).bias_mant(3.0)).unwrap();
    let d = net.add_named("d", Dense::new(ndarray::arr2(&[[1.0, 2.0], [3.0, 4.0]]))).unwrap();
    net.connect(a.s_out(), &d.s_in()).unwrap();
    let exe = net.compile(&RunConfig::floating_pt()).unwrap();
    persist::encode(&net, Some(&exe), key).unwrap()
}

#[test]
fn truncation_at_every_offset_is_a_clear_error() {
    for key in [None, Some(&b"k"[..])] {
        let bytes = small_file(key);
        assert!(persist::decode(&bytes, key, "mem").is_ok());
        for cut in 0..bytes.len() {
            let e = persist::decode(&bytes[..cut], key, "mem").unwrap_err();
            let msg = e.to_string();
            assert!(matches!(e, Error::Format { .. }), "cut at {cut}: {msg}");
            assert!(msg.contains("truncated") || msg.contains("magic"), "cut at {cut}: {msg}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(persist::decode(&longer, key, "mem").is_err());
    }
}

#[test]
fn random_bit_flips_are_detected() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for key in [None, Some(&b"k"[..])] {
        let bytes = small_file(key);
        for _ in 0..3000 {
            let mut b = bytes.clone();
            let flips = 1 + (rng.next() % 3) as usize;
            for _ in 0..flips {
                let i = (rng.next() % b.len() as u64) as usize;
                b[i] ^= 1 << (rng.next() % 8);
            }
            if b == bytes {
                continue;
            }
            let e = persist::decode(&b, key, "mem").unwrap_err();
            assert!(matches!(e, Error::Format { .. }), "{e}");
        }
    }
}

/// Recomputes the trailing CRC-32 (format versions 2 and 3) after editing an unsigned file.
fn reseal(mut b: Vec<u8>) -> Vec<u8> {
    let n = b.len() - persist::TRAILER_LEN;
    let crc = crc32fast::hash(&b[..n]);
    b[n..].fill(0);
    b[n..n + 4].copy_from_slice(&crc.to_le_bytes());
    b
}

/// Re-seals an unsigned file as format version 1 (SHA-256 trailer), as Basalt 0.1 wrote.
fn as_version_1(mut b: Vec<u8>) -> Vec<u8> {
    use sha2::Digest;
    b[8..12].copy_from_slice(&1u32.to_le_bytes());
    let n = b.len() - persist::TRAILER_LEN;
    let digest = sha2::Sha256::digest(&b[..n]);
    b[n..].copy_from_slice(&digest);
    b
}

#[test]
fn unsigned_files_carry_a_crc32_and_older_versions_still_load() {
    let bytes = small_file(None);
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 3);
    let n = bytes.len() - persist::TRAILER_LEN;
    // The trailer is the standard CRC-32 (IEEE) of everything before it, then zeros.
    assert_eq!(bytes[n..n + 4], crc32fast::hash(&bytes[..n]).to_le_bytes());
    assert!(bytes[n + 4..].iter().all(|&x| x == 0));
    // The same network as written by Basalt before the value section (format version 2,
    // committed), and as version 1 (SHA-256 trailer, same payload).
    let v2 = std::fs::read(data_path("persist/small_v2.basalt")).unwrap();
    assert_eq!(u32::from_le_bytes(v2[8..12].try_into().unwrap()), 2);
    let (net, exe) = persist::decode(&bytes, None, "v3").unwrap();
    for old in [v2.clone(), as_version_1(v2.clone())] {
        let (net_old, exe_old) = persist::decode(&old, None, "old").unwrap();
        assert_eq!(exe_old, exe);
        // Re-encoding an old file's load gives today's file byte for byte.
        assert_eq!(persist::encode(&net_old, exe_old.as_ref(), None).unwrap(), bytes);
    }
    assert_eq!(persist::encode(&net, exe.as_ref(), None).unwrap(), bytes);
    // A version-1 file with a CRC-32 trailer is corrupt, not silently accepted.
    let mut mixed = v2.clone();
    mixed[8..12].copy_from_slice(&1u32.to_le_bytes());
    let e = persist::decode(&mixed, None, "mixed").unwrap_err().to_string();
    assert!(e.contains("checksum mismatch"), "{e}");
}

#[test]
fn loaded_values_view_the_file_and_are_laid_out_aligned() {
    let dir = tmp_dir("mapped");
    let mut net = Network::new();
    let w = ndarray::Array2::from_shape_fn((30, 20), |(i, j)| (i * 20 + j) as f64 * 0.25 - 7.0);
    let a = net.add_named("a", Lif::new(&[20]).bias_mant(0.5)).unwrap();
    let d = net.add_named("d", Dense::new(w.clone())).unwrap();
    net.connect(a.s_out(), &d.s_in()).unwrap();
    let exe = net.compile(&RunConfig::floating_pt()).unwrap();
    let path = persist::save(&net, dir.join("net"), Some(&exe)).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let loaded = persist::load_executable(&path, &Registry::with_library()).unwrap();
    assert_eq!(loaded, exe);
    let weights = &loaded.processes[1].vars[0];
    assert_eq!(weights.name, "weights");
    assert!(weights.data.is_mapped(), "loaded values are views into the file");
    // Every Var's values sit at a 64-byte aligned file offset as raw little-endian f64s.
    let raw: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
    let at = bytes.windows(raw.len()).position(|win| win == &raw[..]).expect("weights stored raw");
    assert_eq!(at % persist::VALUE_ALIGN, 0, "offset {at}");
    // Values decoded from memory (no map) are equal copies.
    let copied = persist::decode_executable(&bytes, None, "mem").unwrap();
    assert!(!copied.processes[1].vars[0].data.is_mapped());
    assert_eq!(copied, exe);
    // Saving over the loaded file replaces it (rename) and leaves the loaded views intact.
    persist::save(&Network::new(), &path, None).unwrap();
    assert_eq!(loaded, exe);
}

#[test]
fn a_cut_value_section_is_refused_naming_the_var() {
    let bytes = small_file(None);
    let body = bytes.len() - persist::TRAILER_LEN;
    // Drop the last 8 bytes of values, fix the announced length and re-seal: the checksum
    // holds, but the last Var's values no longer fit.
    let mut cut = bytes[..body - 8].to_vec();
    let payload = (cut.len() - persist::HEADER_LEN) as u64;
    cut[16..24].copy_from_slice(&payload.to_le_bytes());
    cut.extend_from_slice(&[0u8; 32]);
    let e = persist::decode(&reseal(cut), None, "cut").unwrap_err().to_string();
    assert!(e.contains("corrupt payload") && e.contains("of process"), "{e}");
}

#[test]
fn wrong_magic_and_future_versions_are_named() {
    let bytes = small_file(None);
    let mut m = bytes.clone();
    m[0] = b'X';
    assert!(persist::decode(&m, None, "f").unwrap_err().to_string().contains("wrong magic"));
    let mut v = bytes.clone();
    v[8..12].copy_from_slice(&4u32.to_le_bytes());
    let e = persist::decode(&reseal(v), None, "f").unwrap_err().to_string();
    assert!(e.contains("format version 4") && e.contains("newer Basalt"), "{e}");
    let e = persist::decode(b"PK\x03\x04 a zip file, not ours", None, "f").unwrap_err().to_string();
    assert!(e.contains("not a Basalt network file"), "{e}");
}

#[test]
fn a_crafted_payload_with_a_valid_checksum_is_still_rejected_cleanly() {
    // Random payloads sealed with a correct checksum: decoding fails with an error, never
    // a panic or a huge allocation.
    let mut rng = XorShift(42);
    let mut header = small_file(None)[..persist::HEADER_LEN].to_vec();
    for (version, len) in [2u32, 3].into_iter().flat_map(|v| [0usize, 1, 7, 9, 64, 300].map(|l| (v, l))) {
        header[8..12].copy_from_slice(&version.to_le_bytes());
        for _ in 0..50 {
            let mut payload: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            if version == 3 && len >= 8 && rng.next().is_multiple_of(2) {
                // A plausible description length, so the description parser sees the rest.
                payload[..8].copy_from_slice(&((len - 8) as u64 / 2).to_le_bytes());
            }
            let mut b = header.clone();
            b[16..24].copy_from_slice(&(len as u64).to_le_bytes());
            b.extend_from_slice(&payload);
            b.extend_from_slice(&[0u8; 32]);
            assert!(persist::decode(&reseal(b), None, "crafted").is_err());
        }
    }
}

#[test]
fn executables_of_another_layout_version_are_refused() {
    let (net, _) = library_network();
    let mut exe: Executable = net.compile(&RunConfig::floating_pt()).unwrap();
    exe.version += 1;
    let e = Runtime::new(exe, &Registry::with_library()).err().unwrap();
    assert!(e.to_string().contains("layout version"), "{e}");
}

#[test]
fn writes_are_atomic_and_leave_no_temporary_files() {
    let dir = tmp_dir("atomic");
    let (net, _) = library_network();
    let path = persist::save(&net, dir.join("net.basalt"), None).unwrap();
    let good = std::fs::read(&path).unwrap();
    // Saving into a missing directory fails without touching anything.
    assert!(persist::save(&net, dir.join("missing/net.basalt"), None).is_err());
    // Saving over a directory fails and leaves it (and no partial file) behind.
    std::fs::create_dir_all(dir.join("occupied.basalt")).unwrap();
    assert!(persist::save(&net, dir.join("occupied.basalt"), None).is_err());
    // Overwriting the good file replaces it whole.
    let (mut net2, _) = persist::load(&path).unwrap();
    net2.set_init(&VarRef { proc: net2.find("lif1").unwrap(), name: "v".into() }, 5.0).unwrap();
    persist::save(&net2, &path, None).unwrap();
    assert_ne!(std::fs::read(&path).unwrap(), good);
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, vec!["net.basalt", "occupied.basalt"]);
}

fn walkthrough_fixed() -> (Network, Handle<Lif>, Handle<Dense>) {
    let mut net = Network::new();
    let lif1 = net
        .add_named(
            "lif1",
            Lif::new(&[3]).vth(1000.0).du(409.0).dv(409.0).bias_mant([880.0, 960.0, 1040.0]).bias_exp(3.0),
        )
        .unwrap();
    let dense = net.add_named("dense", Dense::new(ndarray::arr2(&[[40.0, 10.0, 20.0], [50.0, 90.0, 5.0]]))).unwrap();
    let lif2 = net.add_named("lif2", Lif::new(&[2]).vth(1000.0).du(409.0).dv(409.0)).unwrap();
    net.connect(lif1.s_out(), &dense.s_in()).unwrap();
    net.connect(dense.a_out(), &lif2.a_in()).unwrap();
    (net, lif1, dense)
}

#[test]
fn runtime_states_round_trip_through_hdf5_and_npz_with_model_dtypes() {
    let dir = tmp_dir("states");
    for ext in ["h5", "npz"] {
        let (net, lif1, dense) = walkthrough_fixed();
        let mut rt = net.runtime(&RunConfig::fixed_pt()).unwrap();
        rt.run(RunSteps::new(37)).unwrap();
        let path = dir.join(format!("state.{ext}"));
        rt.save_states(&path).unwrap();

        // The file holds every Var under process.var in Lava's dtypes.
        let arrays = persist::states::read_arrays(&path).unwrap();
        let find = |n: &str| arrays.iter().find(|a| a.name == n).unwrap_or_else(|| panic!("{n} in {ext}"));
        assert_eq!(arrays.len(), 7 + 3 + 7);
        assert_eq!((find("lif1.v").dtype, find("lif1.v").shape.clone()), (DType::I32, vec![3]));
        assert_eq!(find("lif1.du").dtype, DType::U16);
        assert_eq!(find("lif1.bias_mant").dtype, DType::I16);
        assert_eq!((find("dense.weights").dtype, find("dense.weights").shape.clone()), (DType::I32, vec![2, 3]));
        assert_eq!(find("dense.num_message_bits").dtype, DType::I64);

        // A fresh runtime loaded from the file continues exactly like the original.
        let (net2, _, _) = walkthrough_fixed();
        let mut rt2 = net2.runtime(&RunConfig::fixed_pt()).unwrap();
        let report = rt2.load_states(&path, LoadStatesOptions { verbose: false, check_missing: true }).unwrap();
        assert_eq!(report.loaded.len(), 17);
        assert!(report.missing.is_empty() && report.unused.is_empty());
        rt.run(RunSteps::new(20)).unwrap();
        rt2.run(RunSteps::new(20)).unwrap();
        for var in [lif1.v(), lif1.u(), dense.a_buff()] {
            assert_eq!(rt.get(&var).unwrap(), rt2.get(&var).unwrap(), "{} after reload ({ext})", var.name);
        }
    }
}

#[test]
fn states_refuse_shape_and_dtype_mismatches_and_report_missing_vars() {
    let dir = tmp_dir("mismatch");
    let (net, lif1, _) = walkthrough_fixed();
    let float_rt = net.runtime(&RunConfig::floating_pt()).unwrap();
    let path = dir.join("float.npz");
    float_rt.save_states(&path).unwrap();
    let mut fixed_rt = net.runtime(&RunConfig::fixed_pt()).unwrap();
    let before = fixed_rt.get(&lif1.v()).unwrap();
    let e = fixed_rt.load_states(&path, LoadStatesOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::StateMismatch { .. }), "{msg}");
    assert!(msg.contains("lif1.") && msg.contains("int") && msg.contains("float64"), "{msg}");
    assert_eq!(fixed_rt.get(&lif1.v()).unwrap(), before, "nothing changed");

    let arrays = vec![NamedArray { name: "lif1.v".into(), shape: vec![4], dtype: DType::I32, data: vec![0.0; 4] }];
    let bad_shape = dir.join("shape.h5");
    persist::states::write_arrays(&bad_shape, &arrays).unwrap();
    let e = fixed_rt.load_states(&bad_shape, LoadStatesOptions::default()).unwrap_err().to_string();
    assert!(e.contains("lif1.v") && e.contains("[3]") && e.contains("[4]"), "{e}");

    let partial = dir.join("partial.h5");
    let arrays = vec![
        NamedArray { name: "lif1.v".into(), shape: vec![3], dtype: DType::I32, data: vec![1.0, 2.0, 3.0] },
        NamedArray { name: "elsewhere.x".into(), shape: vec![1], dtype: DType::F64, data: vec![0.5] },
    ];
    persist::states::write_arrays(&partial, &arrays).unwrap();
    let report = fixed_rt.load_states(&partial, LoadStatesOptions { verbose: true, check_missing: true }).unwrap();
    assert_eq!(report.loaded, vec!["lif1.v"]);
    assert_eq!(report.unused, vec!["elsewhere.x"]);
    assert_eq!(report.missing.len(), 16);
    assert_eq!(fixed_rt.get(&lif1.v()).unwrap().iter().copied().collect::<Vec<_>>(), vec![1.0, 2.0, 3.0]);

    let e = fixed_rt.save_states(dir.join("state.mat")).unwrap_err().to_string();
    assert!(e.contains(".h5, .hdf5 or .npz"), "{e}");
    assert_eq!(StateFormat::of(std::path::Path::new("x.HDF5")).unwrap(), StateFormat::Hdf5);
}

#[test]
fn state_files_written_by_h5py_and_numpy_load() {
    for file in ["states/walkthrough_fixed_h5py.h5", "states/walkthrough_fixed_numpy.npz"] {
        let (net, lif1, dense) = walkthrough_fixed();
        let mut rt = net.runtime(&RunConfig::fixed_pt()).unwrap();
        let report = rt.load_states(data_path(file), LoadStatesOptions::default()).unwrap();
        let mut loaded = report.loaded.clone();
        loaded.sort();
        assert_eq!(
            loaded,
            vec!["dense.num_message_bits", "dense.weights", "lif1.bias_mant", "lif1.du", "lif1.u", "lif1.v", "lif2.v"],
            "{file}"
        );
        let vals = |v: &VarRef| rt.get(v).unwrap().iter().copied().collect::<Vec<_>>();
        assert_eq!(vals(&lif1.u()), vec![1.0, -2.0, 3.0]);
        assert_eq!(vals(&lif1.v()), vec![100.0, 200.0, -300.0]);
        assert_eq!(vals(&lif1.du()), vec![100.0]);
        assert_eq!(vals(&lif1.bias_mant()), vec![800.0, 900.0, 1000.0]);
        // Loaded weights are quantised like any weights (6 -> 6 excitatory 8-bit: kept).
        assert_eq!(vals(&dense.weights()), vec![40.0, 10.0, 20.0, 50.0, 90.0, 6.0]);
    }
}

#[test]
fn network_initial_values_save_and_load() {
    let dir = tmp_dir("netstates");
    let (mut net, lif1, _) = walkthrough_fixed();
    net.set_init(&lif1.v(), vec![1.0, 2.0, 3.0]).unwrap();
    let path = dir.join("init.hdf5");
    net.save_states(&path).unwrap();
    let (mut net2, lif1b, _) = walkthrough_fixed();
    let report = net2.load_states(&path, LoadStatesOptions::default()).unwrap();
    assert_eq!(report.loaded.len(), 17);
    assert_eq!(net2.get(&lif1b.v()).unwrap().iter().copied().collect::<Vec<_>>(), vec![1.0, 2.0, 3.0]);
    // Integer files load into network initial values too (values converted to float).
    let report =
        net2.load_states(data_path("states/walkthrough_fixed_numpy.npz"), LoadStatesOptions::default()).unwrap();
    assert_eq!(report.loaded.len(), 7);
    assert_eq!(net2.get(&lif1b.v()).unwrap().iter().copied().collect::<Vec<_>>(), vec![100.0, 200.0, -300.0]);
}

#[test]
fn corrupt_state_files_are_clear_errors() {
    let dir = tmp_dir("corruptstates");
    let (net, _, _) = walkthrough_fixed();
    let rt = net.runtime(&RunConfig::fixed_pt()).unwrap();
    for ext in ["h5", "npz"] {
        let path = dir.join(format!("s.{ext}"));
        rt.save_states(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let mut rng = XorShift(7);
        for i in 0..60 {
            let cut = (rng.next() % bytes.len() as u64) as usize;
            let p = dir.join(format!("cut{i}.{ext}"));
            std::fs::write(&p, &bytes[..cut]).unwrap();
            let (net2, _, _) = walkthrough_fixed();
            let mut rt2 = net2.runtime(&RunConfig::fixed_pt()).unwrap();
            // Either an error, or (for cuts that leave a readable file) a consistent load.
            if let Err(e) = rt2.load_states(&p, LoadStatesOptions::default()) {
                assert!(matches!(e, Error::Format { .. } | Error::StateMismatch { .. }), "{e}");
            }
        }
        for i in 0..200 {
            let mut b = bytes.clone();
            let at = (rng.next() % b.len() as u64) as usize;
            b[at] ^= 1 << (rng.next() % 8);
            let p = dir.join(format!("flip{i}.{ext}"));
            std::fs::write(&p, &b).unwrap();
            let (net2, _, _) = walkthrough_fixed();
            let mut rt2 = net2.runtime(&RunConfig::fixed_pt()).unwrap();
            // A flip inside the data may load a different (valid) value; anything else must
            // be a clean error. Never a panic.
            if let Err(e) = rt2.load_states(&p, LoadStatesOptions::default()) {
                assert!(
                    matches!(e, Error::Format { .. } | Error::StateMismatch { .. } | Error::BadValue { .. }),
                    "{e}"
                );
            }
        }
    }
}

/// Every other library process type in one network (float and, where Lava has one, fixed).
fn zoo(fixed: bool) -> (Network, Handle<Monitor>) {
    use basalt_core::process::alif::Alif;
    use basalt_core::process::atrlif::Atrlif;
    use basalt_core::process::conv::Conv;
    use basalt_core::process::io::{reset::Reset, sink::Read};
    use basalt_core::process::rf::Rf;
    use basalt_core::process::sdn::{Delta, Sigma, SigmaDelta};
    use basalt_core::process::sparse::{DelayDense, Sparse};
    use basalt_core::process::spiker::{Receiver, Spiker};
    let mut net = Network::new();
    let sp = net.add_named("spiker", Spiker::new(&[4], vec![2.0, 3.0, 5.0, 7.0], 1.0)).unwrap();
    let rc = net.add_named("receiver", Receiver::new(&[4])).unwrap();
    net.connect(sp.s_out(), &rc.a_in()).unwrap();
    let w = ndarray::arr2(&[[30.0, 0.0, 20.0, 10.0], [0.0, 40.0, 0.0, 25.0], [15.0, 15.0, 15.0, 0.0]]);
    let sparse = net.add_named("sparse", Sparse::from_dense(&w)).unwrap();
    let dd =
        net.add_named("delay_dense", DelayDense::new(w.clone(), w.mapv(|x| (x / 10.0).floor()), 0).unwrap()).unwrap();
    let ds = net
        .add_named("delay_sparse", Sparse::from_dense(&w).with_delays(vec![1.0, 0.0, 2.0, 3.0, 1.0, 0.0, 2.0, 1.0], 0))
        .unwrap();
    for s in [sparse.s_in(), dd.s_in(), ds.s_in()] {
        net.connect(sp.s_out(), &s).unwrap();
    }
    let reset = net.add_named("lif_reset", Lif::new(&[3]).du(100.0).dv(200.0).vth(5.0).with_reset(6, 1)).unwrap();
    let tern = net.add_named("ternary", Lif::new(&[3]).du(100.0).dv(200.0).ternary(4.0, -4.0)).unwrap();
    let at = net.add_named("atrlif", Atrlif::new(&[3]).bias_mant(20.0).delta_i(0.0).delta_v(0.0)).unwrap();
    net.connect(sparse.a_out(), &reset.a_in()).unwrap();
    net.connect(dd.a_out(), &tern.a_in()).unwrap();
    net.connect(ds.a_out(), &at.a_in()).unwrap();
    // Decays are 12-bit integers in fixed point and fractions in float.
    let d = |x: f64| if fixed { x * 4096.0 } else { x };
    let alif = Alif::new(&[3]).du(d(0.25)).dv(d(0.125)).dtheta(d(0.0625)).dr(d(0.125)).vth(2.0).vth_step(1.0);
    let alif = net.add_named("alif", alif).unwrap();
    net.connect(sparse.a_out(), &alif.a_in()).unwrap();
    let sd = net.add_named("sigma_delta", SigmaDelta::new(&[3], 2.0).bias(1.0)).unwrap();
    let delta = net.add_named("delta", Delta::new(&[3], 3.0)).unwrap();
    let sigma = net.add_named("sigma", Sigma::new(&[3])).unwrap();
    net.connect(sparse.a_out(), &sd.a_in()).unwrap();
    net.connect(sd.s_out(), &delta.a_in()).unwrap();
    net.connect(delta.s_out(), &sigma.a_in()).unwrap();
    let conv = net
        .add_named("conv", Conv::new(ndarray::Array4::from_elem((2, 2, 1, 1), 3.0), [2, 2, 1]).padding([1, 0]))
        .unwrap();
    net.connect(sp.s_out().reshape(&[2, 2, 1]), &conv.s_in()).unwrap();
    let w_t = ndarray::Array4::from_shape_vec((2, 2, 1, 1), vec![1.0, -2.0, 3.0, 1.0]).unwrap();
    let conv_t = net.add_named("conv_t", Conv::new(w_t, [3, 2, 2]).num_message_bits(16).transposed()).unwrap();
    net.connect(conv.a_out(), &conv_t.s_in()).unwrap();
    let rf = net.add_named("rf", Rf::new(&[3], 8.0, 0.05).vth(2.0).state_exp(6).decay_bits(12)).unwrap();
    net.connect(sparse.a_out(), &rf.a_real_in()).unwrap();
    Reset::attach(&mut net, &reset.v(), 0.0, 5, 2).unwrap();
    Read::attach(&mut net, &tern.v(), 4, 2, 0).unwrap();
    let mon = net.add_named("mon", Monitor::new()).unwrap();
    for v in [reset.v(), tern.v(), at.v(), alif.theta(), sd.sigma(), sigma.sigma(), rc.payload(), rf.real()] {
        mon.probe(&mut net, v, 40).unwrap();
    }
    for p in [conv.a_out(), conv_t.a_out(), dd.a_out(), ds.a_out(), tern.s_out(), at.s_out(), alif.s_out()] {
        mon.probe(&mut net, p, 40).unwrap();
    }
    if !fixed {
        let refr = net.add_named("refractory", Lif::new(&[3]).bias_mant(3.0).refractory(3)).unwrap();
        mon.probe(&mut net, refr.v(), 40).unwrap();
    }
    (net, mon)
}

#[test]
fn every_other_library_process_round_trips_with_identical_traces() {
    let dir = tmp_dir("zoo");
    for (fixed, cfg) in [(false, RunConfig::floating_pt()), (true, RunConfig::fixed_pt())] {
        let (net, mon) = zoo(fixed);
        let exe = net.compile(&cfg).unwrap();
        let mut direct = Runtime::new(exe.clone(), cfg.registry()).unwrap();
        let want = traces_n(&mut direct, &mon, 40);
        assert!(want.iter().filter(|(_, _, d)| d.iter().any(|&x| x != 0.0)).count() >= 10, "the zoo is active");
        let path = persist::save(&net, dir.join(if fixed { "zoo_fixed" } else { "zoo_float" }), Some(&exe)).unwrap();
        let (net2, exe2) = persist::load(&path).unwrap();
        let mut reloaded = Runtime::new(exe2.unwrap(), cfg.registry()).unwrap();
        assert_eq!(traces_n(&mut reloaded, &mon, 40), want, "fixed = {fixed}: reloaded executable");
        let mut recompiled = net2.runtime(&cfg).unwrap();
        assert_eq!(traces_n(&mut recompiled, &mon, 40), want, "fixed = {fixed}: recompiled network");
    }
}

fn traces_n(rt: &mut Runtime, mon: &Handle<Monitor>, steps: u64) -> Vec<(String, String, Vec<f64>)> {
    rt.run(RunSteps::new(steps)).unwrap();
    let mut out = Vec::new();
    for (p, vars) in mon.get_data(rt).unwrap() {
        for (v, a) in vars {
            out.push((p.clone(), v, a.iter().copied().collect()));
        }
    }
    out
}
