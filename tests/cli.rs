//! The `basalt` command: default job, `info` and `run` on lava-dl's pilotnet fixture, and
//! clear errors on bad arguments.

use std::path::PathBuf;
use std::process::Command;

use basalt::persist::{npz, NamedArray};

fn basalt(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_basalt")).args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fixture(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/lava-dl").join(rel).display().to_string()
}

#[test]
fn default_job_prints_the_walkthrough_in_both_precisions() {
    let (code, out, _) = basalt(&["--steps", "30"]);
    assert_eq!(code, 0);
    assert!(out.contains("float precision (floating_pt)") && out.contains("fixed precision (fixed_pt)"), "{out}");
    assert!(out.contains("lif1 first spike steps (1-based): [[23], [18], [14, 28]]"), "{out}");
}

#[test]
fn info_lists_the_layers() {
    let (code, out, err) = basalt(&["info", &fixture("pilotnet_sdnn/network.net")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("9 blocks"), "{out}");
    assert!(out.contains("[100, 33, 3]") && out.contains("SDNN-Σ"), "{out}");
}

#[test]
fn run_writes_the_output_lava_dl_expects() {
    let dir = std::env::temp_dir().join(format!("basalt-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = npz::read_npy(std::path::Path::new(&fixture("pilotnet_sdnn/input.npy"))).unwrap();
    let arr = NamedArray { name: "x".into(), ..input };
    // Stored as a one-array npz would not be an npy: write the npy with the test helper.
    let npy = dir.join("in.npz");
    npz::write(&npy, &[arr]).unwrap();
    let (code, _, err) = basalt(&[
        "run",
        &fixture("pilotnet_sdnn/network.net"),
        "--input",
        &npy.display().to_string(),
        "--steps",
        "9",
        "--out",
        "x.npz",
    ]);
    assert_eq!(code, 2, "an npz is not accepted as --input: {err}");
    assert!(err.contains("not a readable npy file"), "{err}");
    let (code, out, err) = basalt(&[
        "run",
        &fixture("pilotnet_sdnn/network.net"),
        "--input",
        &fixture("pilotnet_sdnn/input.npy"),
        "--steps",
        "9",
        "--out",
        &dir.join("out.npz").display().to_string(),
        "--probe",
        "layer9.neuron.sigma",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ran 9 steps"), "{out}");
    let got = npz::read(&dir.join("out.npz")).unwrap();
    let out_arr = got.iter().find(|a| a.name == "out").unwrap();
    let want = npz::read_npy(std::path::Path::new(&fixture("pilotnet_sdnn/output.npy"))).unwrap();
    assert_eq!(out_arr.shape, vec![1, 9]);
    assert_eq!(out_arr.data, want.data);
    let probe = got.iter().find(|a| a.name == "layer9.neuron.sigma").unwrap();
    assert_eq!(probe.shape, vec![9, 1]);
    assert_eq!(probe.data, want.data, "the Sigma output neuron's state is what it sends");
    // Sparse fully connected layers give the same output.
    let sparse_out = dir.join("sparse.npz").display().to_string();
    let pilotnet = fixture("pilotnet_sdnn/network.net");
    let input = fixture("pilotnet_sdnn/input.npy");
    let args = ["run", &pilotnet, "--input", &input, "--steps", "9", "--sparse-fc-layer", "--out", &sparse_out];
    let (code, _, err) = basalt(&args);
    assert_eq!(code, 0, "{err}");
    let got = npz::read(std::path::Path::new(&sparse_out)).unwrap();
    assert_eq!(got.iter().find(|a| a.name == "out").unwrap().data, want.data);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_arguments_are_clear_errors() {
    let (code, _, err) = basalt(&["--steps", "zero"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a positive integer"), "{err}");
    let (code, _, err) = basalt(&["info", "/nonexistent.net"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent.net"), "{err}");
    let (code, _, err) = basalt(&["run", &fixture("pilotnet_sdnn/network.net"), "--steps", "3"]);
    assert_eq!(code, 2);
    assert!(err.contains("missing --input"), "{err}");
    let (code, _, err) = basalt(&[
        "run",
        &fixture("pilotnet_sdnn/network.net"),
        "--input",
        &fixture("tinynet/input_bias.npy"),
        "--steps",
        "3",
        "--out",
        "/tmp/x.npz",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("expected [100, 33, 3] plus a time axis"), "{err}");
    let (code, _, err) = basalt(&["run", "x.net", "--backend", "gpu"]);
    assert_eq!(code, 2);
    assert!(err.contains("backend `gpu` is not available") || err.contains("missing --input"), "{err}");
}

#[test]
fn convert_rewrites_a_netx_file_that_loads_the_same() {
    let dir = std::env::temp_dir().join(format!("basalt-cli-convert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("copy.net");
    let (code, stdout, err) = basalt(&["convert", &fixture("tinynet/tiny.net"), &out.display().to_string()]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("wrote 3 layers"), "{stdout}");
    assert_eq!(
        basalt::netx::read_layers(&out).unwrap(),
        basalt::netx::read_layers(fixture("tinynet/tiny.net")).unwrap()
    );
    // tinynet's conv layer has no NIR export yet: the error names it.
    let (code, _, err) = basalt(&["convert", &fixture("tinynet/tiny.net"), "x.nir"]);
    assert_eq!(code, 2);
    assert!(err.contains("`layer1` (conv)") && err.contains("NIR export"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--batch 3` runs three independent copies of lava-dl's tiny_cuba_slayer network on a
/// (3, 20, T) input: the copies fed slayer's `x` reproduce Lava's output, the silent one
/// stays silent. Without a batch axis, every copy gets the same input.
#[test]
fn batch_runs_independent_copies() {
    batch_on("cpu");
}

/// The same on the GPU, where the copies share one set of weights in one plan.
#[cfg(feature = "gpu")]
#[test]
fn batch_runs_independent_copies_on_the_gpu() {
    batch_on("gpu");
}

fn batch_on(backend: &str) {
    let dir = std::env::temp_dir().join(format!("basalt-cli-batch-{backend}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let io = npz::read(std::path::Path::new(&fixture("tiny_cuba_slayer/io.npz"))).unwrap();
    let get = |k: &str| io.iter().find(|a| a.name == k).unwrap().clone();
    let (x, want) = (get("x"), get("out_lava")); // (20, 50), (2, 55)
    let mut data = x.data.clone();
    data.extend(vec![0.0; x.data.len()]);
    data.extend(x.data.iter().copied());
    let batched = NamedArray { name: "x".into(), shape: vec![3, 20, 50], dtype: basalt::prelude::DType::F64, data };
    let input = dir.join("batch.npy");
    npz::write_npy(&input, &batched).unwrap();
    let net = fixture("tiny_cuba_slayer/network.net");
    let out = dir.join("out.npz").display().to_string();
    let probe = "layer1.neuron.v";
    let args = ["run", &net, "--input", &input.display().to_string(), "--steps", "50", "--batch", "3"];
    let (code, stdout, err) = basalt(&[&args[..], &["--out", &out, "--probe", probe, "--backend", backend]].concat());
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("batch 3"), "{stdout}");
    let got = npz::read(std::path::Path::new(&out)).unwrap();
    let o = got.iter().find(|a| a.name == "out").unwrap();
    assert_eq!(o.shape, vec![3, 2, 50]);
    for k in 0..3 {
        for i in 0..2 {
            for t in 0..50 {
                let w = if k == 1 { 0.0 } else { want.data[i * 55 + t] };
                assert_eq!(o.data[(k * 2 + i) * 50 + t], w, "copy {k}, neuron {i}, step {t}");
            }
        }
    }
    let v = got.iter().find(|a| a.name == probe).unwrap();
    assert_eq!(v.shape, vec![3, 50, 2]);
    let out_v = get("out_v_lava");
    assert_eq!(v.data[2 * 50 * 2 + 49 * 2 + 1], out_v.data[55 + 49], "copy 2's v is Lava's");
    // One (20, 50) input broadcast to two copies: both equal Lava's output.
    let x_path = dir.join("x.npy");
    npz::write_npy(&x_path, &x).unwrap();
    let args = ["run", &net, "--input", &x_path.display().to_string(), "--steps", "50", "--batch", "2", "--out", &out];
    let (code, _, err) = basalt(&[&args[..], &["--backend", backend]].concat());
    assert_eq!(code, 0, "{err}");
    let o = npz::read(std::path::Path::new(&out)).unwrap().into_iter().find(|a| a.name == "out").unwrap();
    assert_eq!(o.shape, vec![2, 2, 50]);
    assert_eq!(o.data[..100], o.data[100..]);
    assert!(o.data.iter().any(|&s| s != 0.0));
    let (code, _, err) = basalt(&["run", &net, "--input", "x.npy", "--steps", "5", "--batch", "0", "--out", &out]);
    assert_eq!(code, 2);
    assert!(err.contains("--batch: `0` is not a positive integer"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn nir_convert_and_run() {
    let dir = std::env::temp_dir().join(format!("basalt-cli-nir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |f: &str| dir.join(f).display().to_string();
    // netx -> NIR -> netx gives back lava-dl's layers.
    let (code, out, err) =
        basalt(&["convert", &fixture("tiny_cuba_slayer/network.net"), &p("tiny.nir"), "--dt", "0.001"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("6 nodes and 5 edges"), "{out}");
    let (code, _, err) = basalt(&["convert", &p("tiny.nir"), &p("tiny.net"), "--dt", "0.001"]);
    assert_eq!(code, 0, "{err}");
    let a = basalt::netx::read_layers(fixture("tiny_cuba_slayer/network.net")).unwrap();
    assert_eq!(basalt::netx::read_layers(p("tiny.net")).unwrap(), a);

    // `run` on the NIR file reproduces the reference of tools/oracle/nir_cases.py.
    let case = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("crates/nir/tests/data");
    let io = npz::read(&case.join("cuba.npz")).unwrap();
    let get = |k: &str| io.iter().find(|x| x.name == k).unwrap().clone();
    let x = get("input_input"); // (T, 6)
    let (t, n) = (x.shape[0], x.shape[1]);
    let time_last: Vec<f64> = (0..n * t).map(|k| x.data[(k % t) * n + k / t]).collect();
    let input = NamedArray { name: "x".into(), shape: vec![n, t], dtype: basalt::model::DType::F64, data: time_last };
    npz::write_npy(&dir.join("x.npy"), &input).unwrap();
    let model = case.join("cuba.nir").display().to_string();
    let args = ["run", &model, "--input", &p("x.npy"), "--steps", "120", "--out", &p("y.npz"), "--dt", "0.001"];
    let (code, out, err) = basalt(&args);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("simulated"), "{out}");
    let y = npz::read(&dir.join("y.npz")).unwrap();
    let spikes = y.iter().find(|a| a.name == "spikes").unwrap();
    let want = get("output_spikes"); // (T, 3)
    assert_eq!(spikes.shape, vec![3, 120]);
    for i in 0..3 {
        for s in 0..120 {
            assert_eq!(spikes.data[i * 120 + s], want.data[s * 3 + i], "neuron {i} step {s}");
        }
    }
    // A saved Basalt network exports to NIR: a float LIF (du 0.25, dv 0.5) becomes a
    // CubaLIF with tau_syn = dt/du and tau_mem = dt/dv.
    let mut net = basalt::Network::new();
    let src = net
        .add_named("x", basalt::process::io::source::RingBuffer::new(ndarray::Array2::<f64>::zeros((2, 4)).into_dyn()))
        .unwrap();
    let dense = net.add_named("w", basalt::process::dense::Dense::new(ndarray::Array2::eye(2))).unwrap();
    let lif = net.add_named("lif", basalt::process::lif::Lif::new(&[2]).du(0.25).dv(0.5).vth(1.0)).unwrap();
    net.connect(src.s_out(), &dense.s_in()).unwrap();
    net.connect(dense.a_out(), &lif.a_in()).unwrap();
    basalt::persist::save(&net, dir.join("small"), None).unwrap();
    let (code, out, err) = basalt(&["convert", &p("small.basalt"), &p("small.nir"), "--dt", "0.001"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("3 nodes and 2 edges"), "{out}");
    let g = basalt::nir::read(dir.join("small.nir")).unwrap();
    let basalt::nir::Node::CubaLIF { tau_syn, tau_mem, .. } = &g.nodes["lif"] else { panic!("{:?}", g.nodes) };
    assert_eq!((tau_syn.data[0], tau_mem.data[0]), (0.004, 0.002));
    // Errors name the problem.
    let (code, _, err) = basalt(&["convert", &p("small.basalt"), &p("small.net")]);
    assert_eq!(code, 2);
    assert!(err.contains("converts to NIR only"), "{err}");
    let (code, _, err) = basalt(&["convert", &model, &p("cuba.net")]);
    assert_eq!(code, 2);
    assert!(err.contains("`fc1`") && err.contains("bias"), "{err}");
    let (code, _, err) = basalt(&["convert", &model, &p("x.txt")]);
    assert_eq!(code, 2);
    assert!(err.contains("must end in .net"), "{err}");
    let (code, _, err) = basalt(&["run", &model, "--input", &p("x.npy"), "--steps", "500", "--out", &p("y.npz")]);
    assert_eq!(code, 2);
    assert!(err.contains("fewer than --steps"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
