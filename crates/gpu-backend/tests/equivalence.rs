//! One network, two backends: the GPU plan must reproduce the CPU reference bit for bit in
//! fixed point and within 1e-5 (relative, f32 vs f64) in float. Runs on whatever adapter
//! wgpu finds (Mesa's lavapipe in CI). With CI set, a missing adapter fails the tests;
//! otherwise they print why they are skipped.

use std::sync::Arc;

use basalt_core::prelude::*;
use basalt_gpu::{shaders, GpuDevice, GpuRuntime};
use ndarray::{Array2, ArrayD, Axis, IxDyn};

fn gpu() -> Option<Arc<GpuDevice>> {
    match GpuDevice::new() {
        Ok(d) => {
            eprintln!("GPU tests on {}", d.describe());
            Some(Arc::new(d))
        }
        Err(e) if std::env::var_os("CI").is_some() => panic!("CI must provide a GPU adapter: {e}"),
        Err(e) => {
            eprintln!("skipping GPU test: {e}");
            None
        }
    }
}

#[test]
fn every_shader_validates_with_naga() {
    let mut sources: Vec<(String, String)> =
        shaders::COMPLETE.iter().map(|(name, src)| (name.to_string(), src.to_string())).collect();
    for (name, template) in shaders::TEMPLATES {
        for fixed in [true, false] {
            sources.push((format!("{name} (fixed: {fixed})"), shaders::with_wide_int(template, fixed)));
        }
    }
    for fixed in [true, false] {
        let synapses = [
            ("dense.wgsl, group 1", shaders::dense_grouped(1)),
            ("dense.wgsl, group 8", shaders::dense_grouped(8)),
            ("sparse.wgsl", shaders::SPARSE.to_string()),
            ("conv.wgsl", shaders::CONV.to_string()),
        ];
        for (neuron, step) in shaders::neuron_steps(fixed) {
            sources.push((format!("{neuron} neuron (fixed: {fixed})"), shaders::neuron(step, fixed)));
            for (synapse, code) in &synapses {
                let name = format!("{synapse} fused with the {neuron} neuron (fixed: {fixed})");
                sources.push((name, shaders::synapse_neuron(code, step, fixed)));
            }
        }
    }
    for (name, src) in &sources {
        let module = naga::front::wgsl::parse_str(src).unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
        let mut v =
            naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty());
        v.validate(&module).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
}

/// LIF -> Dense -> LIF with sinks on both spike outputs; returns the network and the Vars to
/// compare (both populations' u and v, both sinks' data).
fn chain(
    lif1: Lif,
    w: Array2<f64>,
    graded_input: Option<ArrayD<f64>>,
    lif2: Lif,
    steps: usize,
) -> (Network, Vec<VarRef>) {
    let mut net = Network::new();
    let n2 = w.nrows();
    let n1 = w.ncols();
    let l1 = net.add_named("lif1", lif1).unwrap();
    let dense = match graded_input {
        None => {
            let d = net.add_named("dense", Dense::new(w)).unwrap();
            net.connect(l1.s_out(), &d.s_in()).unwrap();
            d
        }
        Some(x) => {
            let d = net.add_named("dense", Dense::new(w).num_message_bits(8)).unwrap();
            let src = net.add(source::RingBuffer::new(x)).unwrap();
            net.connect(src.s_out(), &d.s_in()).unwrap();
            d
        }
    };
    let l2 = net.add_named("lif2", lif2).unwrap();
    net.connect(dense.a_out(), &l2.a_in()).unwrap();
    let s1 = net.add(sink::RingBuffer::new(&[n1], steps)).unwrap();
    let s2 = net.add(sink::RingBuffer::new(&[n2], steps)).unwrap();
    net.connect(l1.s_out(), &s1.a_in()).unwrap();
    net.connect(l2.s_out(), &s2.a_in()).unwrap();
    let vars = vec![l1.u(), l1.v(), l2.u(), l2.v(), dense.a_buff(), s1.data(), s2.data()];
    (net, vars)
}

fn both(
    net: &Network,
    vars: &[VarRef],
    cfg: &RunConfig,
    steps: u64,
    gpu: Arc<GpuDevice>,
) -> Vec<(ArrayD<f64>, ArrayD<f64>)> {
    let exe = net.compile(cfg).unwrap();
    let mut g = GpuRuntime::new(&exe, gpu).unwrap();
    let mut c = Runtime::new(exe, cfg.registry()).unwrap();
    // Two runs each: time continues across runs on both backends.
    c.run(RunSteps::new(steps / 2)).unwrap();
    c.run(RunSteps::new(steps - steps / 2)).unwrap();
    g.run(steps / 2).unwrap();
    g.run(steps - steps / 2).unwrap();
    assert_eq!(g.time_step(), steps);
    vars.iter().map(|v| (c.get(v).unwrap(), g.get(v).unwrap())).collect()
}

fn walkthrough(fixed: bool) -> (Network, Vec<VarRef>) {
    if fixed {
        chain(
            Lif::new(&[3]).vth(1000.0).du(409.0).dv(409.0).bias_mant([880.0, 960.0, 1040.0]).bias_exp(3.0),
            basalt_core::matrix(&[[40.0, 10.0, 20.0], [50.0, 90.0, 5.0]]),
            None,
            Lif::new(&[2]).vth(1000.0).du(409.0).dv(409.0),
            100,
        )
    } else {
        chain(
            Lif::new(&[3]).vth(10.0).du(0.1).dv(0.1).bias_mant([1.1, 1.2, 1.3]),
            basalt_core::matrix(&[[0.4, 0.1, 0.2], [0.5, 0.9, 0.05]]),
            None,
            Lif::new(&[2]).vth(10.0).du(0.1).dv(0.1),
            100,
        )
    }
}

#[test]
fn walkthrough_fixed_point_is_bit_exact_on_the_gpu() {
    let Some(gpu) = gpu() else { return };
    let (net, vars) = walkthrough(true);
    for (i, (cpu, gpu)) in both(&net, &vars, &RunConfig::fixed_pt(), 100, gpu).into_iter().enumerate() {
        assert_eq!(cpu, gpu, "Var {} differs", vars[i].name);
    }
}

#[test]
fn walkthrough_float_agrees_within_1e_5() {
    let Some(gpu) = gpu() else { return };
    let (net, vars) = walkthrough(false);
    for (i, (cpu, gpu)) in both(&net, &vars, &RunConfig::floating_pt(), 100, gpu).into_iter().enumerate() {
        for (a, b) in cpu.iter().zip(gpu.iter()) {
            assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "{}: cpu {a}, gpu {b}", vars[i].name);
        }
    }
}

/// A small deterministic generator.
fn rand(seed: &mut u64) -> f64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    (*seed >> 11) as f64 / (1u64 << 53) as f64
}

#[test]
fn random_fixed_networks_are_bit_exact_binary_and_graded() {
    let Some(gpu) = gpu() else { return };
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let (n1, n2, steps) = (150, 90, 120);
    let bias: Vec<f64> = (0..n1).map(|_| (rand(&mut seed) * 2000.0).floor() - 200.0).collect();
    let exps: Vec<f64> = (0..n1).map(|_| (rand(&mut seed) * 6.0).floor() - 1.0).collect();
    let w = Array2::from_shape_fn((n2, n1), |_| (rand(&mut seed) * 500.0).floor() - 250.0);
    let lif1 = Lif::new(&[n1]).du(1500.0).dv(300.0).vth(300.0).bias_mant(bias).bias_exp(exps);
    let lif2 = Lif::new(&[n2]).du(0.0).dv(4095.0).vth(40.0);
    let (net, vars) = chain(lif1.clone(), w.clone(), None, lif2.clone(), steps);
    let results = both(&net, &vars, &RunConfig::fixed_pt(), steps as u64, gpu.clone());
    for (i, (cpu, g)) in results.iter().enumerate() {
        assert_eq!(cpu, g, "binary: Var {} differs", vars[i].name);
    }
    assert!(results[6].0.iter().any(|&s| s != 0.0), "lif2 spikes");
    // Graded input spikes into Dense.
    let x = ArrayD::from_shape_fn(IxDyn(&[n1, 7]), |_| {
        if rand(&mut seed) < 0.3 {
            (rand(&mut seed) * 200.0).floor() - 50.0
        } else {
            0.0
        }
    });
    let (net, vars) = chain(lif1, w, Some(x), lif2, steps);
    for (i, (cpu, g)) in both(&net, &vars, &RunConfig::fixed_pt(), steps as u64, gpu).into_iter().enumerate() {
        assert_eq!(cpu, g, "graded: Var {} differs", vars[i].name);
    }
}

#[test]
fn unsupported_processes_are_clear_errors() {
    let Some(gpu) = gpu() else { return };
    let mut net = Network::new();
    use basalt_core::process::io::dataloader::{Dataset, SpikeDataloader};
    let dataset =
        Dataset { data: vec![ArrayD::zeros(IxDyn(&[2, 4])); 2], ground_truth: vec![ArrayD::zeros(IxDyn(&[1])); 2] };
    net.add_named("spikes", SpikeDataloader::new(&dataset, 4, 0).unwrap()).unwrap();
    let mut exe = net.compile(&RunConfig::fixed_pt()).unwrap();
    // A model the GPU has no kernel for (a user's model of the process, say).
    exe.processes[0].model = "MyLoaderModel".into();
    let e = GpuRuntime::new(&exe, gpu.clone()).err().unwrap();
    assert!(e.to_string().contains("does not support") && e.to_string().contains("spikes"), "{e}");
    assert!(e.to_string().contains("MyLoaderModel"), "{e}");
    // A fixed-point trace decaying faster than the GPU's exact decay covers (factor < 2^-32).
    let rule = basalt_core::learning::LearningRule::stdp(1.0, 1.0, -2.0, 0.01, 10.0).unwrap();
    let mut net = Network::new();
    net.add_named("fast", LearningDense::new(Array2::zeros((2, 3)), rule)).unwrap();
    let exe = net.compile(&RunConfig::fixed_pt()).unwrap();
    let e = GpuRuntime::new(&exe, gpu.clone()).err().unwrap().to_string();
    assert!(e.contains("tau = 0.01") && e.contains("fast"), "{e}");
    // Learning in a batch (its weights are state) and an empty batch are refused.
    let rule = basalt_core::learning::LearningRule::stdp(1.0, 1.0, -2.0, 10.0, 10.0).unwrap();
    let mut net = Network::new();
    net.add_named("plastic", LearningDense::new(Array2::zeros((2, 3)), rule)).unwrap();
    let exe = net.compile(&RunConfig::fixed_pt()).unwrap();
    let e = GpuRuntime::with_batch(&exe, gpu.clone(), 2).err().unwrap().to_string();
    assert!(e.contains("learning in a batch") && e.contains("plastic"), "{e}");
    let e = GpuRuntime::with_batch(&exe, gpu.clone(), 0).err().unwrap().to_string();
    assert!(e.contains("at least one copy"), "{e}");
    // A batch beyond the device's buffer limit is refused before anything is allocated.
    let (net, _) = walkthrough(true);
    let exe = net.compile(&RunConfig::fixed_pt()).unwrap();
    let e = GpuRuntime::with_batch(&exe, gpu.clone(), 1 << 40).err().unwrap().to_string();
    assert!(e.contains("copies needs") && e.contains("limit"), "{e}");
}

/// `set` writes only the Var it names, in either batch layout, and refuses what it cannot
/// write with a clear error (nothing changes then).
#[test]
fn set_writes_a_var_and_refuses_bad_values() {
    let Some(gpu) = gpu() else { return };
    let (net, vars) = walkthrough(true);
    let exe = net.compile(&RunConfig::fixed_pt()).unwrap();
    let mut g = GpuRuntime::with_batch(&exe, gpu, 2).unwrap();
    let v1 = &vars[1];
    // One copy's shape goes to every copy; the batched shape sets each copy.
    g.set(v1, &ArrayD::from_elem(IxDyn(&[3]), 7.9)).unwrap();
    assert_eq!(g.get(v1).unwrap().iter().copied().collect::<Vec<_>>(), vec![7.0; 6]);
    let each = ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1.0, 2.0, 3.0, -4.0, -5.0, -6.0]).unwrap();
    g.set(v1, &each).unwrap();
    assert_eq!(g.get(v1).unwrap(), each);
    assert_eq!(g.get(&vars[0]).unwrap(), ArrayD::<f64>::zeros(IxDyn(&[2, 3])), "u is untouched");
    let errors = [
        g.set(v1, &ArrayD::zeros(IxDyn(&[3, 2]))).unwrap_err().to_string(),
        g.set(v1, &ArrayD::from_elem(IxDyn(&[3]), f64::NAN)).unwrap_err().to_string(),
        g.set(v1, &ArrayD::from_elem(IxDyn(&[3]), 3e9)).unwrap_err().to_string(),
        g.set(&VarRef { proc: v1.proc, name: "du".into() }, &ArrayD::zeros(IxDyn(&[1]))).unwrap_err().to_string(),
        g.set(&VarRef { proc: v1.proc, name: "nope".into() }, &ArrayD::zeros(IxDyn(&[1]))).unwrap_err().to_string(),
    ];
    assert!(errors[0].contains("shape [2, 3]") && errors[0].contains("[3, 2]"), "{}", errors[0]);
    assert!(errors[1].contains("NaN") && errors[2].contains("3000000000"), "{errors:?}");
    assert!(errors[3].contains("constant") && errors[4].contains("nope"), "{errors:?}");
    assert_eq!(g.get(v1).unwrap(), each, "refused writes change nothing");
}

/// Two ring buffers (one through a reshape), a concatenation of two more, and a recurrent
/// Dense from the neurons' own spikes (netx's `dense_rec` wiring), all summed into one `a_in`.
fn several_sources(fixed: bool) -> (Network, Vec<VarRef>) {
    let steps = 24;
    let scale = if fixed { 60.0 } else { 1.5 };
    let data = |seed: usize, shape: &[usize]| {
        ArrayD::from_shape_fn(IxDyn(shape), |ix| ((ix[0] * 7 + ix[shape.len() - 1] * 3 + seed) % 5) as f64 * scale)
    };
    let mut net = Network::new();
    let a = net.add(source::RingBuffer::new(data(1, &[2, steps]))).unwrap();
    let b = net.add(source::RingBuffer::new(data(2, &[1, 2, steps]))).unwrap();
    let lif =
        if fixed { Lif::new(&[2]).vth(700.0).du(2048.0).dv(2048.0) } else { Lif::new(&[2]).vth(10.0).du(0.1).dv(0.1) };
    let l = net.add_named("target", lif).unwrap();
    let w = if fixed { [[0.0, -90.0], [-60.0, 0.0]] } else { [[0.0, -4.0], [-3.0, 0.0]] };
    let rec = net.add(Dense::new(basalt_core::matrix(&w))).unwrap();
    net.connect(a.s_out(), &l.a_in()).unwrap();
    net.connect(b.s_out().reshape(&[2]), &l.a_in()).unwrap();
    // A concatenation of two more OutPorts as a further source (scatter-accumulate).
    let c = net.add(source::RingBuffer::new(data(3, &[1, steps]))).unwrap();
    let d = net.add(source::RingBuffer::new(data(4, &[1, steps]))).unwrap();
    net.connect(basalt_core::PortExpr::Concat(vec![c.s_out().into(), d.s_out().into()], 0), &l.a_in()).unwrap();
    net.connect(l.s_out(), &rec.s_in()).unwrap();
    net.connect(rec.a_out(), &l.a_in()).unwrap();
    let sink = net.add(sink::RingBuffer::new(&[2], steps)).unwrap();
    net.connect(l.s_out(), &sink.a_in()).unwrap();
    (net, vec![l.u(), l.v(), sink.data()])
}

#[test]
fn inports_with_several_sources_sum_them_as_the_cpu_does() {
    let Some(gpu) = gpu() else { return };
    let (net, vars) = several_sources(true);
    let results = both(&net, &vars, &RunConfig::fixed_pt(), 24, gpu.clone());
    for (i, (cpu, g)) in results.iter().enumerate() {
        assert_eq!(cpu, g, "fixed: Var {} differs", vars[i].name);
    }
    let spikes = &results[2].0;
    assert!(spikes.sum() > 3.0 && spikes.sum() < 45.0, "spikes {spikes}");
    let (net, vars) = several_sources(false);
    for (i, (cpu, g)) in both(&net, &vars, &RunConfig::floating_pt(), 24, gpu).into_iter().enumerate() {
        for (x, y) in cpu.iter().zip(g.iter()) {
            assert!((x - y).abs() <= 1e-5 * x.abs().max(1.0), "float: Var {} {x} vs {y}", vars[i].name);
        }
    }
}

/// LIF -> DelayDense (delays 0..=5) -> LIF, binary spikes; returns the Vars to compare.
fn delayed_chain(fixed: bool, seed: &mut u64) -> (Network, Vec<VarRef>) {
    use basalt_core::process::sparse::DelayDense;
    let (n1, n2, steps) = (40, 30, 60);
    let (w_scale, lif1, lif2) = if fixed {
        let bias: Vec<f64> = (0..n1).map(|_| (rand(seed) * 1500.0).floor()).collect();
        (
            400.0,
            Lif::new(&[n1]).du(1500.0).dv(300.0).vth(300.0).bias_mant(bias).bias_exp(2.0),
            Lif::new(&[n2]).du(800.0).dv(600.0).vth(200.0),
        )
    } else {
        let bias: Vec<f64> = (0..n1).map(|_| rand(seed) * 1.5).collect();
        (2.0, Lif::new(&[n1]).du(0.3).dv(0.1).vth(5.0).bias_mant(bias), Lif::new(&[n2]).du(0.2).dv(0.15).vth(1.0))
    };
    let w = Array2::from_shape_fn((n2, n1), |_| {
        let x = (rand(seed) - 0.4) * w_scale;
        if fixed {
            x.floor()
        } else {
            x
        }
    });
    let d = Array2::from_shape_fn((n2, n1), |_| (rand(seed) * 6.0).floor());
    let mut net = Network::new();
    let l1 = net.add_named("lif1", lif1).unwrap();
    let syn = net.add_named("delayed", DelayDense::new(w, d, 0).unwrap()).unwrap();
    let l2 = net.add_named("lif2", lif2).unwrap();
    net.connect(l1.s_out(), &syn.s_in()).unwrap();
    net.connect(syn.a_out(), &l2.a_in()).unwrap();
    let sink = net.add(sink::RingBuffer::new(&[n2], steps)).unwrap();
    net.connect(l2.s_out(), &sink.a_in()).unwrap();
    (net, vec![l2.u(), l2.v(), syn.a_buff(), sink.data()])
}

#[test]
fn delay_dense_is_bit_exact_in_fixed_point_and_close_in_float() {
    let Some(gpu) = gpu() else { return };
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let (net, vars) = delayed_chain(true, &mut seed);
    let results = both(&net, &vars, &RunConfig::fixed_pt(), 60, gpu.clone());
    for (i, (cpu, g)) in results.iter().enumerate() {
        assert_eq!(cpu, g, "fixed: Var {} differs", vars[i].name);
    }
    let spikes = results[3].0.sum();
    assert!(spikes > 10.0, "the delayed layer spikes ({spikes})");
    let (net, vars) = delayed_chain(false, &mut seed);
    let results = both(&net, &vars, &RunConfig::floating_pt(), 60, gpu);
    for (i, (cpu, g)) in results.iter().enumerate() {
        for (x, y) in cpu.iter().zip(g.iter()) {
            assert!((x - y).abs() <= 1e-5 * x.abs().max(1.0), "float: Var {} {x} vs {y}", vars[i].name);
        }
    }
    assert!(results[3].0.sum() > 10.0, "the float delayed layer spikes");
}

/// A spike source -> Dense -> a LIF-family population (built by `make`) -> sink.
fn family_network<P: basalt_core::Process>(
    fixed: bool,
    make: impl FnOnce(Lif) -> P,
    seed: &mut u64,
) -> (Network, Vec<VarRef>, basalt_core::Handle<P>) {
    let (n_in, n, steps) = (12, 20, 60);
    let x = ArrayD::from_shape_fn(IxDyn(&[n_in, steps]), |_| f64::from(u8::from(rand(seed) < 0.35)));
    let w = Array2::from_shape_fn((n, n_in), |_| {
        let r = rand(seed) - 0.3;
        if fixed {
            (r * 300.0).floor()
        } else {
            r * 1.2
        }
    });
    let base = if fixed {
        let bias: Vec<f64> = (0..n).map(|_| (rand(seed) * 600.0).floor() - 200.0).collect();
        Lif::new(&[n]).du(900.0).dv(500.0).vth(400.0).bias_mant(bias).bias_exp(1.0)
    } else {
        let bias: Vec<f64> = (0..n).map(|_| rand(seed) * 0.1 - 0.03).collect();
        Lif::new(&[n]).du(0.25).dv(0.15).vth(0.8).bias_mant(bias)
    };
    let mut net = Network::new();
    let src = net.add(source::RingBuffer::new(x)).unwrap();
    let dense = net.add_named("dense", Dense::new(w)).unwrap();
    let lif = net.add_named("family", make(base)).unwrap();
    let sink = net.add(sink::RingBuffer::new(&[n], steps)).unwrap();
    net.connect(src.s_out(), &dense.s_in()).unwrap();
    net.connect(dense.a_out(), &lif.in_port("a_in")).unwrap();
    net.connect(lif.out_port("s_out"), &sink.a_in()).unwrap();
    let vars = vec![lif.var("u"), lif.var("v"), sink.data()];
    (net, vars, lif)
}

/// LIFReset and TernaryLIF bit-exact in fixed point; LIFReset, TernaryLIF and LIFRefractory
/// within 1e-5 in float (every Var, the refractory period ends included).
#[test]
fn lif_family_runs_on_the_gpu_as_on_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let mut seed = 0x5DEE_CE66_D1CE_4E5Bu64;
    let check_fixed = |(net, vars): (Network, Vec<VarRef>), label: &str| {
        let results = both(&net, &vars, &RunConfig::fixed_pt(), 60, gpu.clone());
        for (i, (cpu, g)) in results.iter().enumerate() {
            assert_eq!(cpu, g, "{label}: Var {} differs", vars[i].name);
        }
        let spikes = results[2].0.iter().filter(|&&s| s != 0.0).count();
        assert!(spikes > 20, "{label}: {spikes} spikes");
        results[2].0.clone()
    };
    let (net, vars, _) = family_network(true, |l| l.with_reset(7, 3), &mut seed);
    check_fixed((net, vars), "fixed LIFReset");
    let (net, vars, _) = family_network(true, |l| l.ternary(400.0, -20.0), &mut seed);
    let spikes = check_fixed((net, vars), "fixed TernaryLIF");
    assert!(spikes.iter().any(|&s| s < 0.0), "negative ternary spikes");
    let check_float = |(net, vars): (Network, Vec<VarRef>), label: &str| {
        let results = both(&net, &vars, &RunConfig::floating_pt(), 60, gpu.clone());
        for (i, (cpu, g)) in results.iter().enumerate() {
            for (x, y) in cpu.iter().zip(g.iter()) {
                assert!((x - y).abs() <= 1e-5 * x.abs().max(1.0), "{label}: Var {} {x} vs {y}", vars[i].name);
            }
        }
        let spikes = results[2].0.iter().filter(|&&s| s != 0.0).count();
        assert!(spikes > 20, "{label}: {spikes} spikes");
    };
    let (net, vars, _) = family_network(false, |l| l.with_reset(5, 12), &mut seed);
    check_float((net, vars), "float LIFReset");
    let (net, vars, _) = family_network(false, |l| l.ternary(0.8, -0.4), &mut seed);
    check_float((net, vars), "float TernaryLIF");
    let (net, mut vars, lif) = family_network(false, |l| l.refractory(4), &mut seed);
    vars.push(lif.refractory_period_end());
    check_float((net, vars), "float LIFRefractory");
}

/// The persistence round trip on the GPU: a network saved with its executable, loaded back
/// (values mapped from the file) and run on the GPU gives exactly the traces of the same
/// executable run on the GPU without saving, in fixed point and in float.
#[test]
fn saved_and_loaded_executables_run_identically_on_the_gpu() {
    let Some(gpu) = gpu() else { return };
    let dir = std::env::temp_dir().join(format!("basalt-gpu-persist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut seed = 0x1234_5678_9ABC_DEF1u64;
    let mut cases = vec![
        ("walkthrough fixed", walkthrough(true), RunConfig::fixed_pt()),
        ("walkthrough float", walkthrough(false), RunConfig::floating_pt()),
        ("delays fixed", delayed_chain(true, &mut seed), RunConfig::fixed_pt()),
        ("delays float", delayed_chain(false, &mut seed), RunConfig::floating_pt()),
    ];
    let (net, vars, _) = family_network(true, |l| l.ternary(400.0, -20.0), &mut seed);
    cases.push(("ternary fixed", (net, vars), RunConfig::fixed_pt()));
    for (label, (net, vars), cfg) in cases {
        let exe = net.compile(&cfg).unwrap();
        let path = basalt_core::persist::save(&net, dir.join(label.replace(' ', "_")), Some(&exe)).unwrap();
        let (_, loaded) = basalt_core::persist::load(&path).unwrap();
        let loaded = loaded.expect("saved with its executable");
        assert_eq!(loaded, exe, "{label}: the executable round-trips");
        let mut direct = GpuRuntime::new(&exe, gpu.clone()).unwrap();
        let mut reloaded = GpuRuntime::new(&loaded, gpu.clone()).unwrap();
        direct.run(60).unwrap();
        reloaded.run(60).unwrap();
        let mut spikes = 0.0;
        for v in &vars {
            let (a, b) = (direct.get(v).unwrap(), reloaded.get(v).unwrap());
            assert_eq!(a, b, "{label}: Var {} differs after save -> load", v.name);
            spikes += b.iter().map(|x| x.abs()).sum::<f64>();
        }
        assert!(spikes > 0.0, "{label}: the network is active");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Monitor probes on the GPU record what the CPU Monitor records: OutPort probes in the
/// spike phase, Var probes after it and before a Reset's write of the same step, constants
/// as constants; a run past a probe's buffer is refused before anything runs.
#[test]
fn monitors_record_on_the_gpu_as_on_the_cpu() {
    use basalt_core::process::io::reset::Reset;
    let Some(gpu) = gpu() else { return };
    for fixed in [true, false] {
        // vars: lif1 u, v; lif2 u, v; dense a_buff; the sinks.
        let (mut net, vars) = walkthrough(fixed);
        let lif1 = vars[0].proc;
        let lif2_v = vars[3].clone();
        Reset::attach(&mut net, &lif2_v, 0.0, 7, 3).unwrap();
        let mon = net.add_named("monitor", Monitor::new()).unwrap();
        mon.probe(&mut net, lif2_v, 80).unwrap();
        mon.probe(&mut net, OutPort { proc: lif1, name: "s_out".into() }, 80).unwrap();
        mon.probe(&mut net, vars[4].clone(), 80).unwrap();
        mon.probe(&mut net, VarRef { proc: lif1, name: "du".into() }, 80).unwrap();
        let cfg = if fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
        let exe = net.compile(&cfg).unwrap();
        let mut g = GpuRuntime::new(&exe, gpu.clone()).unwrap();
        let mut c = Runtime::new(exe, cfg.registry()).unwrap();
        c.run(RunSteps::new(50)).unwrap();
        c.run(RunSteps::new(30)).unwrap();
        g.run(50).unwrap();
        g.run(30).unwrap();
        let (cpu, gpu_data) = (mon.get_data(&c).unwrap(), mon.get_data(&g).unwrap());
        assert_eq!(cpu.keys().collect::<Vec<_>>(), gpu_data.keys().collect::<Vec<_>>());
        for (proc, vars) in &cpu {
            for (name, a) in vars {
                let b = &gpu_data[proc][name];
                assert_eq!(a.shape(), b.shape(), "{proc}.{name}");
                for (x, y) in a.iter().zip(b.iter()) {
                    let tol = if fixed { 0.0 } else { 1e-5 * x.abs().max(1.0) };
                    assert!((x - y).abs() <= tol, "fixed {fixed}: {proc}.{name}: cpu {x}, gpu {y}");
                }
            }
        }
        let v = &cpu["lif2"]["v"];
        assert!(v.iter().any(|&x| x != 0.0), "lif2 integrates");
        assert!(cpu["lif1"]["s_out"].sum() > 0.0, "lif1 spikes");
        // Running past the 80-step buffers is refused; nothing runs.
        let e = g.run(1).unwrap_err().to_string();
        assert!(e.contains("holds 80 steps"), "{e}");
        assert_eq!(g.time_step(), 80);
    }
}

/// The on-disk pipeline cache: a device compiles a plan's kernels and saves what the driver
/// made of them; a new device on the same directory loads that, and its plan gives the same
/// numbers; a damaged file (a flipped byte, a truncation, foreign bytes) is set aside with a
/// note saying why, the plan still runs the same, and the file is written whole again.
#[test]
fn pipeline_cache_is_saved_loaded_and_survives_damage() {
    if gpu().is_none() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("basalt-pipeline-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (net, vars) = walkthrough(true);
    let exe = net.compile(&RunConfig::fixed_pt()).unwrap();
    let open = || Arc::new(GpuDevice::with_pipeline_cache(Some(dir.clone())).unwrap());
    let run = |gpu: &Arc<GpuDevice>| {
        let mut g = GpuRuntime::new(&exe, gpu.clone()).unwrap();
        g.run(40).unwrap();
        vars.iter().map(|v| g.get(v).unwrap()).collect::<Vec<_>>()
    };
    let first = open();
    let status = first.pipeline_cache();
    let Some(file) = status.file.clone() else {
        // Only Vulkan keeps a pipeline cache; CI runs on lavapipe's Vulkan.
        assert!(std::env::var_os("CI").is_none(), "no pipeline cache in CI: {}", status.note);
        eprintln!("skipping: {}", status.note);
        return;
    };
    assert_eq!((status.loaded_bytes, status.note.as_str()), (0, ""));
    let want = run(&first);
    let saved = first.pipeline_cache().saved_bytes;
    assert!(saved > 20, "saved {saved} bytes");
    assert_eq!(std::fs::read(&file).unwrap().len(), saved);
    let payload = basalt_gpu::pipeline_cache::decode(&std::fs::read(&file).unwrap()).unwrap().len();

    let second = open();
    assert_eq!(second.pipeline_cache().loaded_bytes, payload);
    assert_eq!(run(&second), want);

    let intact = std::fs::read(&file).unwrap();
    let mut flipped = intact.clone();
    flipped[intact.len() / 2] ^= 0x40;
    let damaged: [(&[u8], &str); 3] = [
        (&flipped, "checksum"),
        (&intact[..intact.len() - 7], "truncated"),
        (b"not a cache at all", "not a basalt pipeline cache"),
    ];
    for (bytes, why) in damaged {
        std::fs::write(&file, bytes).unwrap();
        let gpu = open();
        let status = gpu.pipeline_cache();
        assert_eq!(status.loaded_bytes, 0, "{why}");
        assert!(status.note.contains("set aside") && status.note.contains(why), "{why}: {}", status.note);
        assert_eq!(run(&gpu), want, "{why}");
        assert!(basalt_gpu::pipeline_cache::decode(&std::fs::read(&file).unwrap()).is_ok(), "{why}: rewritten");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Dense feeding one LIF population alone runs fused with it (one kernel), and is left
/// unfused where that would change the result: its output also probed, the population
/// feeding the Dense itself (recurrent), or the population scheduled before the Dense's input.
/// Every case equals the CPU (bit-exact in fixed point, 1e-5 in float), batched too.
#[test]
fn dense_synapses_fuse_with_the_lif_they_alone_feed() {
    let Some(gpu) = gpu() else { return };
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let check = |net: &Network, vars: &[VarRef], fixed: bool, want: &[(&str, &str)], label: &str| {
        let cfg = if fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
        let exe = net.compile(&cfg).unwrap();
        let g = GpuRuntime::new(&exe, gpu.clone()).unwrap();
        let fused: Vec<(&str, &str)> = g.fused_synapses().iter().map(|(d, l)| (d.as_str(), l.as_str())).collect();
        assert_eq!(fused, want, "{label}");
        let results = both(net, vars, &cfg, 70, gpu.clone());
        for (i, (cpu, g)) in results.iter().enumerate() {
            for (x, y) in cpu.iter().zip(g.iter()) {
                let tol = if fixed { 0.0 } else { 1e-5 * x.abs().max(1.0) };
                assert!((x - y).abs() <= tol, "{label}: Var {} cpu {x}, gpu {y}", vars[i].name);
            }
        }
        let active: f64 = results.last().unwrap().0.iter().map(|s| s.abs()).sum();
        assert!(active > 0.0, "{label}: the last Var compared is not all zero");
        let mut b = GpuRuntime::with_batch(&exe, gpu.clone(), 3).unwrap();
        b.run(70).unwrap();
        assert_eq!(b.fused_synapses().len(), want.len(), "{label}: batched");
    };
    for fixed in [true, false] {
        // The walkthrough chain: lif1 -> dense -> lif2, sinks on both.
        // (lif2's v compared last: it integrates.)
        let (net, mut vars) = walkthrough(fixed);
        vars.push(vars[3].clone());
        check(&net, &vars, fixed, &[("dense", "lif2")], "chain");
        let cfg = if fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
        let g = GpuRuntime::new(&net.compile(&cfg).unwrap(), gpu.clone()).unwrap();
        // The clock's tick, lif1, the Dense's event list, the fused kernel, the two sinks
        // (unfused: the Dense's emit and sums and lif2 in place of the fused kernel, 8).
        assert_eq!(g.launches_per_step(), 6);
        let options = basalt_gpu::PlanOptions { batch: 1, fuse: false };
        let unfused = GpuRuntime::with_options(&net.compile(&cfg).unwrap(), gpu.clone(), options).unwrap();
        assert_eq!((unfused.launches_per_step(), unfused.fused_synapses().len()), (8, 0));

        // The Dense's output probed as well: not fused.
        let (mut net, mut vars) = walkthrough(fixed);
        vars.push(vars[3].clone());
        let dense = vars[4].proc;
        let mon = net.add_named("monitor", Monitor::new()).unwrap();
        mon.probe(&mut net, OutPort { proc: dense, name: "a_out".into() }, 70).unwrap();
        check(&net, &vars, fixed, &[], "probed a_out");

        // Recurrent: the population feeds its own Dense (a random input drives it).
        let n = 16;
        let x = ArrayD::from_shape_fn(IxDyn(&[n, 70]), |_| f64::from(u8::from(rand(&mut seed) < 0.3)));
        let scale = if fixed { 60.0 } else { 0.4 };
        // Integer weights in fixed point.
        let q = |x: f64| if fixed { x.floor() } else { x };
        let w = Array2::from_shape_fn((n, n), |_| q((rand(&mut seed) - 0.4) * scale));
        let lif = |n: usize| {
            if fixed {
                Lif::new(&[n]).du(800.0).dv(400.0).vth(30.0)
            } else {
                Lif::new(&[n]).du(0.2).dv(0.1).vth(1.5)
            }
        };
        let mut net = Network::new();
        let src = net.add(source::RingBuffer::new(x.clone())).unwrap();
        let input = net.add_named("input", Dense::new(Array2::eye(n) * scale)).unwrap();
        let l = net.add_named("lif", lif(n)).unwrap();
        let rec = net.add_named("recurrent", Dense::new(w.clone())).unwrap();
        let sink = net.add(sink::RingBuffer::new(&[n], 70)).unwrap();
        net.connect(src.s_out(), &input.s_in()).unwrap();
        net.connect(input.a_out(), &l.a_in()).unwrap();
        net.connect(rec.a_out(), &l.a_in()).unwrap();
        net.connect(l.s_out(), &rec.s_in()).unwrap();
        net.connect(l.s_out(), &sink.a_in()).unwrap();
        check(&net, &[l.u(), l.v(), rec.a_buff(), sink.data()], fixed, &[], "recurrent");

        // lif2 added before the Dense's input population: scheduled first, so not fused; added
        // after it (but before the Dense): fused.
        for lif2_first in [true, false] {
            let (n1, n2) = (24, 12);
            let w = Array2::from_shape_fn((n2, n1), |_| q((rand(&mut seed) - 0.2) * scale * 3.0));
            let mut net = Network::new();
            let src = net
                .add(source::RingBuffer::new(ArrayD::from_shape_fn(IxDyn(&[n1, 70]), |_| {
                    f64::from(u8::from(rand(&mut seed) < 0.4))
                })))
                .unwrap();
            let to1 = net.add_named("to1", Dense::new(Array2::eye(n1) * scale)).unwrap();
            let mut lif2 = None;
            if lif2_first {
                lif2 = Some(net.add_named("lif2", lif(n2)).unwrap());
            }
            let lif1 = net.add_named("lif1", lif(n1)).unwrap();
            let lif2 = lif2.unwrap_or_else(|| net.add_named("lif2", lif(n2)).unwrap());
            let dense = net.add_named("dense", Dense::new(w)).unwrap();
            let sink = net.add(sink::RingBuffer::new(&[n2], 70)).unwrap();
            net.connect(src.s_out(), &to1.s_in()).unwrap();
            net.connect(to1.a_out(), &lif1.a_in()).unwrap();
            net.connect(lif1.s_out(), &dense.s_in()).unwrap();
            net.connect(dense.a_out(), &lif2.a_in()).unwrap();
            net.connect(lif2.s_out(), &sink.a_in()).unwrap();
            let want: &[(&str, &str)] =
                if lif2_first { &[("to1", "lif1")] } else { &[("dense", "lif2"), ("to1", "lif1")] };
            check(&net, &[lif1.v(), lif2.u(), lif2.v(), sink.data()], fixed, want, "schedule order");
        }
    }
}

/// Source -> Sparse (or DelaySparse) -> LIF -> sink, random CSR pattern (~25 % stored,
/// unsorted columns in a row included), binary or graded input; returns the Vars to compare.
fn sparse_chain(fixed: bool, delays: bool, graded: bool, seed: &mut u64) -> (Network, Vec<VarRef>) {
    use basalt_core::process::sparse::Sparse;
    let (n_in, n_out, steps) = (37, 23, 50);
    let (mut indptr, mut indices, mut values, mut delay_values) = (vec![0], Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n_out {
        let mut row: Vec<usize> = (0..n_in).filter(|_| rand(seed) < 0.25).collect();
        row.reverse();
        for j in row {
            indices.push(j);
            let w = (rand(seed) - 0.2) * if fixed { 200.0 } else { 0.6 };
            values.push(if fixed { w.floor() } else { w });
            delay_values.push((rand(seed) * 4.0).floor());
        }
        indptr.push(indices.len());
    }
    let x = ArrayD::from_shape_fn(IxDyn(&[n_in, 9]), |_| {
        let r = rand(seed);
        match (r < 0.4, graded) {
            (false, _) => 0.0,
            (true, false) => 1.0,
            (true, true) => (rand(seed) * 60.0).floor() - 10.0,
        }
    });
    let sparse = Sparse::from_csr([n_out, n_in], indptr, indices, values).num_message_bits(if graded { 8 } else { 0 });
    let lif = if fixed {
        Lif::new(&[n_out]).du(700.0).dv(400.0).vth(60.0)
    } else {
        Lif::new(&[n_out]).du(0.3).dv(0.2).vth(0.4)
    };
    let mut net = Network::new();
    let src = net.add(source::RingBuffer::new(x)).unwrap();
    let l = net.add_named("lif", lif).unwrap();
    let sink = net.add(sink::RingBuffer::new(&[n_out], steps)).unwrap();
    let a_buff = if delays {
        let syn = net.add_named("syn", sparse.with_delays(delay_values, 0)).unwrap();
        net.connect(src.s_out(), &syn.s_in()).unwrap();
        net.connect(syn.a_out(), &l.a_in()).unwrap();
        syn.a_buff()
    } else {
        let syn = net.add_named("syn", sparse).unwrap();
        net.connect(src.s_out(), &syn.s_in()).unwrap();
        net.connect(syn.a_out(), &l.a_in()).unwrap();
        syn.a_buff()
    };
    net.connect(l.s_out(), &sink.a_in()).unwrap();
    let weights = VarRef { proc: a_buff.proc, name: "weights".into() };
    (net, vec![l.u(), l.v(), a_buff, weights, sink.data()])
}

/// Sparse and DelaySparse (binary and graded spikes): bit-exact in fixed point (quantised
/// weights included), within 1e-5 in float.
#[test]
fn sparse_synapses_run_on_the_gpu_as_on_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let mut seed = 0x0BAD_5EED_1234_5678u64;
    for (delays, graded) in [(false, false), (false, true), (true, false), (true, true)] {
        let label = format!("delays {delays}, graded {graded}");
        let (net, vars) = sparse_chain(true, delays, graded, &mut seed);
        let results = both(&net, &vars, &RunConfig::fixed_pt(), 50, gpu.clone());
        for (i, (cpu, g)) in results.iter().enumerate() {
            assert_eq!(cpu, g, "fixed, {label}: Var {} differs", vars[i].name);
        }
        assert!(results[4].0.sum() > 5.0, "fixed, {label}: the LIF spikes");
        let (net, vars) = sparse_chain(false, delays, graded, &mut seed);
        let results = both(&net, &vars, &RunConfig::floating_pt(), 50, gpu.clone());
        for (i, (cpu, g)) in results.iter().enumerate() {
            for (x, y) in cpu.iter().zip(g.iter()) {
                assert!((x - y).abs() <= 1e-5 * x.abs().max(1.0), "float, {label}: Var {} {x} vs {y}", vars[i].name);
            }
        }
        assert!(results[4].0.sum() > 5.0, "float, {label}: the LIF spikes");
    }
}

/// A plastic network: `pre` (a LIF, or a ring buffer of graded payloads) -> LearningDense ->
/// post neurons (a LearningLif with a reward through a Dense of ones for three-factor rules)
/// whose spikes come back on `s_in_bap`. Returns it with every learning Var to compare.
struct Plastic {
    rule: basalt_core::learning::LearningRule,
    fixed: bool,
    n_pre: usize,
    n_post: usize,
    graded: Option<basalt_core::learning::GradedSpikeCfg>,
    sign_mode: basalt_core::process::dense::SignMode,
    tags: bool,
}

fn plastic(s: &Plastic, steps: usize, seed: &mut u64) -> (Network, Vec<VarRef>) {
    use basalt_core::learning::RuleKind;
    let mut net = Network::new();
    let (n_pre, n_post) = (s.n_pre, s.n_post);
    let (unit, vth) = if s.fixed { (1000.0, 100.0) } else { (0.1, 1.0) };
    let bias = |n: usize, seed: &mut u64, lo: f64| -> Vec<f64> {
        (0..n).map(|_| ((lo + rand(seed)) * 2.0 * unit).floor_if(s.fixed)).collect()
    };
    // Leaky neurons: without leaks f32 rounding accumulates in the voltages over hundreds of
    // steps until a spike flips (the float tolerance is for the arithmetic, not for chaos).
    let (du, dv) = if s.fixed { (400.0, 400.0) } else { (0.1, 0.1) };
    let lif = |b: Vec<f64>| Lif::new(&[b.len()]).du(du).dv(dv).vth(vth).bias_mant(b);
    let wscale = if s.fixed { 60.0 } else { 0.6 };
    let sign = |x: f64| match s.sign_mode {
        basalt_core::process::dense::SignMode::Excitatory => x.abs(),
        basalt_core::process::dense::SignMode::Inhibitory => -x.abs(),
        basalt_core::process::dense::SignMode::Mixed => x,
    };
    let w = Array2::from_shape_fn((n_post, n_pre), |_| sign((rand(seed) - 0.3) * wscale).floor_if(s.fixed));
    let mut dense = LearningDense::new(w, s.rule.clone()).sign_mode(s.sign_mode);
    if s.tags {
        let t = |seed: &mut u64| Array2::from_shape_fn((n_post, n_pre), |_| ((rand(seed) - 0.4) * 8.0).floor());
        dense = dense.tag_1(t(seed)).tag_2(t(seed).mapv(f64::abs));
    }
    if let Some(cfg) = s.graded {
        dense = dense.num_message_bits(8).graded_spike_cfg(cfg);
    }
    let dense = net.add_named("plastic", dense).unwrap();
    let mut vars = Vec::new();
    match s.graded {
        Some(_) => {
            let x = ArrayD::from_shape_fn(IxDyn(&[n_pre, 11]), |_| {
                if rand(seed) < 0.4 {
                    (rand(seed) * if s.fixed { 300.0 } else { 3.0 }).floor_if(s.fixed)
                } else {
                    0.0
                }
            });
            let src = net.add(source::RingBuffer::new(x)).unwrap();
            net.connect(src.s_out(), &dense.s_in()).unwrap();
        }
        None => {
            let pre = net.add_named("pre", lif(bias(n_pre, seed, 0.3))).unwrap();
            net.connect(pre.s_out(), &dense.s_in()).unwrap();
            vars.push(pre.v());
        }
    }
    if s.rule.kind == RuleKind::ThreeFactor {
        let post = net.add_named("post", lif(bias(n_post, seed, 0.2)).learning(20.0, 10.0)).unwrap();
        net.connect(dense.a_out(), &post.a_in()).unwrap();
        let reward = ArrayD::from_shape_fn(IxDyn(&[n_post, steps]), |_| if rand(seed) < 0.2 { 1.0 } else { 0.0 });
        let src = net.add(source::RingBuffer::new(reward)).unwrap();
        // Rewards of both signs and beyond 8 bits (fixed point: weights up to 255 << 4).
        let gains = Array2::from_shape_fn((n_post, n_post), |(i, j)| {
            let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
            match (i == j, s.fixed) {
                (false, _) => 0.0,
                (true, true) => sign * (100.0 + 25.0 * i as f64),
                (true, false) => sign * (0.05 + 0.06 * i as f64),
            }
        });
        let conn = net.add(Dense::new(gains).weight_exp(if s.fixed { 4 } else { 0 })).unwrap();
        net.connect(src.s_out(), &conn.s_in()).unwrap();
        net.connect(conn.a_out(), &post.a_third_factor_in()).unwrap();
        net.connect(post.s_out_bap(), &dense.s_in_bap()).unwrap();
        for k in 1..=3 {
            net.connect(post.s_out_y(k), &dense.s_in_y(k)).unwrap();
            vars.push(post.y(k));
        }
        vars.push(post.v());
    } else {
        let post = net.add_named("post", lif(bias(n_post, seed, 0.1))).unwrap();
        net.connect(dense.a_out(), &post.a_in()).unwrap();
        net.connect(post.s_out(), &dense.s_in_bap()).unwrap();
        vars.push(post.v());
    }
    for v in ["weights", "tag_1", "tag_2", "x0", "tx", "x1", "x2", "y0", "ty", "y1", "y2", "y3", "a_buff"] {
        vars.push(dense.trace(v));
    }
    // A Monitor records parts of the learning buffers (the tags after weights and delays,
    // integer spike times in a float network) as the CPU's does.
    let mon = net.add_named("monitor", Monitor::new()).unwrap();
    for (k, v) in ["tag_1", "ty", "y2"].into_iter().enumerate() {
        mon.probe(&mut net, dense.trace(v), steps).unwrap();
        vars.push(mon.var(&format!("data_{k}")));
    }
    (net, vars)
}

trait FloorIf {
    fn floor_if(self, fixed: bool) -> f64;
}

impl FloorIf for f64 {
    fn floor_if(self, fixed: bool) -> f64 {
        if fixed {
            self.floor()
        } else {
            self
        }
    }
}

/// Runs `net` on both backends, comparing `vars` after each of the first `per_step` steps
/// (one step per run) and after one more run of `bulk` steps (several GPU submissions).
/// Returns each Var's (min, max) over the compared steps, to check what the case exercised.
fn compare_stepwise(
    net: &Network,
    vars: &[VarRef],
    fixed: bool,
    per_step: u64,
    bulk: u64,
    gpu: Arc<GpuDevice>,
    what: &str,
) -> std::collections::BTreeMap<String, (f64, f64)> {
    let cfg = if fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
    let exe = net.compile(&cfg).unwrap();
    let mut g = GpuRuntime::new(&exe, gpu).unwrap();
    let mut c = Runtime::new(exe, cfg.registry()).unwrap();
    let check = |c: &Runtime, g: &GpuRuntime| {
        for v in vars {
            let (a, b) = (c.get(v).unwrap(), g.get(v).unwrap());
            assert_eq!(a.shape(), b.shape(), "{what}: {}", v.name);
            for (k, (x, y)) in a.iter().zip(b.iter()).enumerate() {
                let ok = if fixed { x == y } else { (x - y).abs() <= 1e-4 * x.abs().max(1.0) };
                assert!(ok, "{what}: {}[{k}] at step {}: cpu {x}, gpu {y}", v.name, c.time_step());
            }
        }
    };
    let weights = vars.iter().find(|v| v.name == "weights").expect("weights are compared");
    let initial = c.get(weights).unwrap();
    let mut range = std::collections::BTreeMap::new();
    for _ in 0..per_step {
        c.run(RunSteps::new(1)).unwrap();
        g.run(1).unwrap();
        check(&c, &g);
        for v in vars {
            let r = range.entry(v.name.clone()).or_insert((0.0f64, 0.0f64));
            for &x in c.get(v).unwrap().iter() {
                *r = (r.0.min(x), r.1.max(x));
            }
        }
    }
    c.run(RunSteps::new(bulk)).unwrap();
    g.run(bulk).unwrap();
    check(&c, &g);
    assert_ne!(initial, c.get(weights).unwrap(), "{what}: the weights never changed");
    range
}

#[test]
fn learning_runs_on_the_gpu_as_on_the_cpu() {
    use basalt_core::learning::{GradedSpikeCfg, LearningRule, RewardStdp};
    use basalt_core::process::dense::SignMode;
    let Some(gpu) = gpu() else { return };
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let stdp = |t_epoch| LearningRule::stdp(1.0, 1.0, -2.0, 10.0, 10.0).unwrap().t_epoch(t_epoch).rng_seed(1);
    // Every factor kind, a decimated u2 dependency and all three synaptic variables.
    let tags = LearningRule::two_factor()
        .dw("x0 * (y2 - 3) * 2^-2 - y0 * x2 * 2^-1 + u2 * t * 2^-3 - y0 * x1 * y1 * 2^-5")
        .dd("y0 * x1 * 2^-1 - x0 * d * 2^-2 + x0 * (y1 - 4)")
        .dt("x0 * y3 * 5 * 2^-4 - u2 * t * 2^-2 + y0 * sgn(d - 1) * x2 * 2^-2")
        .x_trace(1, 12.25, 6.0)
        .x_trace(2, 9.5, 14.0)
        .y_trace(1, 15.0, 9.0)
        .y_trace(2, 6.75, 3.5)
        .y_trace(3, 18.0, 40.0)
        .t_epoch(3)
        .rng_seed(7);
    let reward = |fixed: bool| {
        let p = RewardStdp {
            learning_rate: 1.0,
            a_plus: if fixed { 3.0 } else { 1.5 },
            a_minus: -1.0,
            pre_trace_decay_tau: 8.0,
            post_trace_decay_tau: 12.0,
            pre_trace_kernel_magnitude: 16.0,
            post_trace_kernel_magnitude: 24.0,
            eligibility_trace_decay_tau: 3.2,
        };
        LearningRule::reward_modulated_stdp(&p).unwrap().t_epoch(2).rng_seed(11)
    };
    for fixed in [true, false] {
        let base = Plastic {
            rule: stdp(1),
            fixed,
            n_pre: 12,
            n_post: 7,
            graded: None,
            sign_mode: SignMode::Mixed,
            tags: false,
        };
        let mut cases = vec![
            ("stdp, t_epoch 1", base.clone_with(|_| {})),
            (
                "stdp, t_epoch 5, excitatory",
                base.clone_with(|c| {
                    c.rule = stdp(5);
                    c.sign_mode = SignMode::Excitatory;
                }),
            ),
            (
                "tags, delays and u2",
                base.clone_with(|c| {
                    c.rule = tags.clone();
                    c.tags = true;
                }),
            ),
            ("three-factor", base.clone_with(|c| c.rule = reward(fixed))),
        ];
        for cfg in [GradedSpikeCfg::Overwrite, GradedSpikeCfg::AddWithSaturation, GradedSpikeCfg::AddWithoutSaturation]
        {
            cases.push((
                "graded",
                base.clone_with(|c| {
                    c.graded = Some(cfg);
                    c.rule = stdp(3);
                }),
            ));
        }
        for (name, case) in cases {
            let (net, vars) = plastic(&case, 400, &mut seed);
            let what = format!("{name} (fixed: {fixed}, {:?})", case.graded);
            // Fixed point: 340 steps, the last 300 in one run (two submissions, so the random
            // numbers of a second upload). Float: 120 steps; over longer runs f32 rounding in
            // the learned weights grows until a spike flips, and the runs part ways.
            let (per_step, bulk) = if fixed { (40, 300) } else { (100, 20) };
            let range = compare_stepwise(&net, &vars, fixed, per_step, bulk, gpu.clone(), &what);
            // What each case must have exercised: spikes on both sides, pre traces, and
            // the case's own variables (tags and delays; a third factor of both signs
            // beyond 8 bits).
            let mut wanted = vec!["x1", "y1"];
            if case.rule.t_epoch > 1 {
                // (With one-step epochs the spike flags are cleared within the step.)
                wanted.push("y0");
            }
            if name.starts_with("tags") {
                wanted.extend(["x2", "y2", "y3", "tag_1", "tag_2"]);
            }
            for v in wanted {
                assert!(range[v] != (0.0, 0.0), "{what}: {v} stayed 0");
            }
            if name == "three-factor" {
                let (lo, hi) = range["y2"];
                assert!(lo < 0.0 && hi > if fixed { 255.0 } else { 0.1 }, "{what}: y2 within {lo}..{hi}");
            }
        }
        // io.Reset of Vars that are slots of a shared buffer: the post trace y1 (floats after
        // x1 and x2) and the integer spike-time word tx.
        let (mut net, vars) = plastic(&base, 100, &mut seed);
        let synapse = vars.iter().find(|v| v.name == "y1").unwrap().proc;
        for (name, value) in [("y1", 0.0), ("tx", 1.0)] {
            let var = VarRef { proc: synapse, name: name.into() };
            basalt_core::process::io::reset::Reset::attach(&mut net, &var, value, 6, 2).unwrap();
        }
        let range = compare_stepwise(&net, &vars, fixed, 60, 20, gpu.clone(), &format!("resets (fixed: {fixed})"));
        assert!(range["y1"] != (0.0, 0.0), "y1 grows between resets");
    }
}

impl Plastic {
    fn clone_with(&self, f: impl FnOnce(&mut Plastic)) -> Plastic {
        let mut c = Plastic { rule: self.rule.clone(), ..*self };
        f(&mut c);
        c
    }
}

/// Ring buffers of random spikes through Dense synapses into `inputs` InPorts of one
/// population of `n` built by `make`, with a sink on its spikes.
fn driven<P: basalt_core::Process>(
    fixed: bool,
    n: usize,
    inputs: &[&str],
    weight: f64,
    make: P,
    seed: &mut u64,
) -> (Network, basalt_core::Handle<P>, VarRef) {
    let (n_in, steps) = (10, 80);
    let mut net = Network::new();
    let neurons = net.add_named("neurons", make).unwrap();
    for port in inputs {
        let x = ArrayD::from_shape_fn(IxDyn(&[n_in, steps]), |_| f64::from(u8::from(rand(seed) < 0.3)));
        let w = Array2::from_shape_fn((n, n_in), |_| {
            let r = (rand(seed) - 0.35) * weight;
            if fixed {
                r.floor()
            } else {
                r
            }
        });
        let src = net.add(source::RingBuffer::new(x)).unwrap();
        let dense = net.add(Dense::new(w)).unwrap();
        net.connect(src.s_out(), &dense.s_in()).unwrap();
        net.connect(dense.a_out(), &neurons.in_port(port)).unwrap();
    }
    let sink = net.add(sink::RingBuffer::new(&[n], steps)).unwrap();
    net.connect(neurons.out_port("s_out"), &sink.a_in()).unwrap();
    (net, neurons, sink.data())
}

/// Compares `vars` after 80 steps (two runs) on both backends; returns the CPU's last Var.
fn agree(net: &Network, vars: &[VarRef], fixed: bool, gpu: Arc<GpuDevice>, label: &str) -> ArrayD<f64> {
    let cfg = if fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
    let results = both(net, vars, &cfg, 80, gpu);
    for (i, (cpu, g)) in results.iter().enumerate() {
        for (x, y) in cpu.iter().zip(g.iter()) {
            let ok = if fixed { x == y } else { (x - y).abs() <= 1e-4 * x.abs().max(1.0) };
            assert!(ok, "{label}: Var {}: cpu {x}, gpu {y}", vars[i].name);
        }
    }
    results.last().map(|r| r.0.clone()).unwrap_or_default()
}

#[test]
fn atrlif_and_resonators_run_on_the_gpu_as_on_the_cpu() {
    use basalt_core::process::atrlif::Atrlif;
    use basalt_core::process::rf::Rf;
    let Some(gpu) = gpu() else { return };
    let mut seed = 0xA076_1D64_78BD_642Fu64;
    let n = 24;
    let spikes = |s: &ArrayD<f64>| s.iter().filter(|&&x| x != 0.0).count();
    // ATRLIF: Lava-like integer deltas (factors 4095, 4096, 3276-ish), then deltas whose
    // uint16 factors wrap to 57344 and 0 (products past 2^32; the current's product wraps).
    let atrlif_cases = [
        (
            true,
            Atrlif::new(&[n]).delta_i(0.0).delta_v(0.0).delta_theta(0.0).delta_r(0.0).theta_0(300.0).theta_step(40.0),
            900.0,
        ),
        (
            true,
            Atrlif::new(&[n]).delta_i(2.0).delta_v(3.0).delta_theta(1.0).delta_r(3.0).theta_0(900.0).theta_step(5.0),
            700.0,
        ),
        (
            false,
            Atrlif::new(&[n]).delta_i(0.3).delta_v(0.2).delta_theta(0.1).delta_r(0.25).theta_0(1.0).theta_step(0.4),
            3.0,
        ),
    ];
    for (k, (fixed, neurons, weight)) in atrlif_cases.into_iter().enumerate() {
        let neurons = if fixed {
            neurons.bias_mant(vec![40.0; n]).bias_exp(vec![2.0; n])
        } else {
            neurons.bias_mant(vec![0.05; n])
        };
        let (net, h, sink) = driven(fixed, n, &["a_in"], weight, neurons, &mut seed);
        let vars = [h.i(), h.v(), h.theta(), h.r(), h.s(), sink];
        let s = agree(&net, &vars, fixed, gpu.clone(), &format!("ATRLIF case {k} (fixed: {fixed})"));
        assert!(spikes(&s) > 10, "ATRLIF case {k}: {} spikes", spikes(&s));
    }
    // RF and RF-IZ: a slow resonator, and period 3 whose negative cosine wraps to a uint16
    // decay near 2^16 in fixed point (64-bit sums before the saturation).
    for fixed in [true, false] {
        for (period, alpha) in [(10.0, 0.05), (3.0, 0.2)] {
            for iz in [false, true] {
                let rf = Rf::new(&[n], period, alpha);
                let rf = if fixed { rf.state_exp(6).decay_bits(12).vth(1.5) } else { rf.vth(0.6) };
                let weight = if fixed { 120.0 } else { 1.5 };
                let label = format!("RF period {period} (fixed: {fixed}, izhikevich: {iz})");
                let s = if iz {
                    let (net, h, sink) =
                        driven(fixed, n, &["a_real_in", "a_imag_in"], weight, rf.izhikevich(), &mut seed);
                    agree(&net, &[h.real(), h.imag(), sink], fixed, gpu.clone(), &label)
                } else {
                    let (net, h, sink) = driven(fixed, n, &["a_real_in", "a_imag_in"], weight, rf, &mut seed);
                    agree(&net, &[h.real(), h.imag(), sink], fixed, gpu.clone(), &label)
                };
                // (The wrapped decays drive the fixed-point state to saturation.)
                if period == 10.0 || !fixed {
                    assert!(spikes(&s) > 5, "{label}: {} spikes", spikes(&s));
                }
            }
        }
    }
}

#[test]
fn spikers_receivers_and_reads_run_on_the_gpu_as_on_the_cpu() {
    use basalt_core::process::io::mgmt::Read;
    use basalt_core::process::spiker::{Receiver, Spiker};
    let Some(gpu) = gpu() else { return };
    for fixed in [true, false] {
        let n = 9;
        let mut net = Network::new();
        let periods: Vec<f64> = (0..n).map(|k| (1 + k % 4) as f64).collect();
        let payloads: Vec<f64> = (0..n).map(|k| (k as f64 - 3.0) * if fixed { 7.0 } else { 1.0 }).collect();
        let spiker = net.add_named("spiker", Spiker::new(&[n], periods, payloads)).unwrap();
        let w = Array2::from_shape_fn((4, n), |(i, j)| ((i * n + j) % 5) as f64 - 2.0);
        let dense = net.add_named("dense", Dense::new(w).num_message_bits(16)).unwrap();
        let lif =
            if fixed { Lif::new(&[4]).vth(30.0).du(400.0).dv(300.0) } else { Lif::new(&[4]).vth(3.0).du(0.1).dv(0.2) };
        let lif = net.add_named("lif", lif).unwrap();
        let receiver = net.add_named("receiver", Receiver::new(&[4])).unwrap();
        net.connect(spiker.s_out(), &dense.s_in()).unwrap();
        net.connect(dense.a_out(), &lif.a_in()).unwrap();
        net.connect(dense.a_out(), &receiver.a_in()).unwrap();
        let read_v = Read::attach(&mut net, &lif.v(), 5, 3, 1).unwrap();
        let read_w = Read::attach(&mut net, &dense.weights(), 2, 4, 0).unwrap();
        let read_counter = Read::attach(&mut net, &spiker.counter(), 3, 1, 0).unwrap();
        let vars = [spiker.counter(), receiver.payload(), lif.v(), read_v.data(), read_w.data(), read_counter.data()];
        let cfg = if fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
        for (i, (cpu, g)) in both(&net, &vars, &cfg, 40, gpu.clone()).into_iter().enumerate() {
            for (x, y) in cpu.iter().zip(g.iter()) {
                let ok = if fixed { x == y } else { (x - y).abs() <= 1e-5 * x.abs().max(1.0) };
                assert!(ok, "fixed {fixed}: {}: cpu {cpu}, gpu {g}", vars[i].name);
            }
            assert!(cpu.iter().any(|&x| x != 0.0), "fixed {fixed}: {} stayed 0", vars[i].name);
        }
    }
}

/// Runs `batch` copies of `net` in one batched GPU plan (shared weights) and each copy alone
/// on the CPU, copy k starting with Var `vary` raised by k x `step`; every Var of `vars` must agree
/// copy by copy (fixed point: exactly; float: within 1e-5 relative). Returns the CPU values,
/// by copy and Var.
fn batch_agrees(
    net: &Network,
    vars: &[VarRef],
    (vary, step): (&VarRef, f64),
    fixed: bool,
    steps: u64,
    gpu: Arc<GpuDevice>,
    batch: usize,
) -> Vec<Vec<ArrayD<f64>>> {
    let cfg = if fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
    let exe = net.compile(&cfg).unwrap();
    let mut g = GpuRuntime::with_batch(&exe, gpu, batch).unwrap();
    assert_eq!(g.batch(), batch);
    let mut starts = Vec::new();
    let mut cpu = Vec::new();
    for k in 0..batch {
        let mut c = Runtime::new(exe.clone(), cfg.registry()).unwrap();
        let start = c.get(vary).unwrap() + k as f64 * step;
        c.set(vary, start.clone()).unwrap();
        starts.extend(start.iter().copied());
        c.run(RunSteps::new(steps / 2)).unwrap();
        c.run(RunSteps::new(steps - steps / 2)).unwrap();
        cpu.push(vars.iter().map(|v| c.get(v).unwrap()).collect::<Vec<_>>());
    }
    let shape: Vec<usize> = std::iter::once(batch).chain(g.get(vary).unwrap().shape()[1..].iter().copied()).collect();
    g.set(vary, &ArrayD::from_shape_vec(IxDyn(&shape), starts).unwrap()).unwrap();
    g.run(steps / 2).unwrap();
    g.run(steps - steps / 2).unwrap();
    for (i, v) in vars.iter().enumerate() {
        let got = g.get(v).unwrap();
        for (k, copy) in cpu.iter().enumerate() {
            let want = &copy[i];
            // Per-copy Vars have a leading batch axis; shared constants do not.
            let got_k = if got.shape() == want.shape() { got.clone() } else { got.index_axis(Axis(0), k).to_owned() };
            assert_eq!(got_k.shape(), want.shape(), "Var {}", v.name);
            for (x, y) in want.iter().zip(got_k.iter()) {
                let ok = if fixed { x == y } else { (x - y).abs() <= 1e-5 * x.abs().max(1.0) };
                assert!(ok, "fixed {fixed}, copy {k}, Var {}: cpu {x}, gpu {y}", v.name);
            }
        }
    }
    cpu
}

/// A batch of copies on the GPU equals each copy run alone on the CPU: LIF chains with binary
/// and graded Dense synapses (11 copies: groups of 8 in the event-driven Dense), several-source InPorts (gathers, scatters, a recurrent Dense),
/// Sparse and DelaySparse synapses, the LIF family, ATRLIF, and Monitor probes and Resets.
#[test]
fn batched_copies_run_as_each_copy_alone_on_the_cpu() {
    use basalt_core::process::atrlif::Atrlif;
    use basalt_core::process::io::reset::Reset;
    let Some(gpu) = gpu() else { return };
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let v_of = |vars: &[VarRef]| vars.iter().find(|v| v.name == "v").cloned().unwrap();
    let spiked = |cpu: &[Vec<ArrayD<f64>>], i: usize| -> Vec<usize> {
        cpu.iter().map(|c| c[i].iter().filter(|&&s| s != 0.0).count()).collect()
    };
    for fixed in [true, false] {
        let step = if fixed { 150.0 } else { 0.3 };
        // The walkthrough: the copies' first populations start at different voltages.
        let (net, vars) = walkthrough(fixed);
        // (Voltages are in units of 2^-6 in fixed point: vth 1000 is 64000.)
        let far = if fixed { 20000.0 } else { 3.0 };
        // 11 copies: a full group of 8 for the event-driven Dense and a partial one.
        let cpu = batch_agrees(&net, &vars, (&vars[1], far), fixed, 100, gpu.clone(), 11);
        let counts = spiked(&cpu, 5);
        assert!(counts.iter().all(|&c| c > 0), "every copy's lif1 spikes: {counts:?}");
        assert!(cpu[0][5] != cpu[2][5] && cpu[2][5] != cpu[10][5], "the copies' lif1 spike trains differ");
        let (net, vars) = several_sources(fixed);
        let cpu = batch_agrees(&net, &vars, (&vars[1], step), fixed, 24, gpu.clone(), 4);
        assert!(spiked(&cpu, 2).iter().all(|&c| c > 0), "several sources: every copy spikes");
        let (net, vars) = sparse_chain(fixed, true, true, &mut seed);
        let cpu = batch_agrees(&net, &vars, (&v_of(&vars), step), fixed, 50, gpu.clone(), 3);
        let sink = vars.len() - 1;
        assert!(spiked(&cpu, sink).iter().all(|&c| c > 0), "sparse: every copy spikes");
        let (net, vars, _) = family_network(fixed, |l| l.with_reset(9, 2), &mut seed);
        let cpu = batch_agrees(&net, &vars, (&vars[1], step), fixed, 60, gpu.clone(), 2);
        assert!(spiked(&cpu, 2).iter().all(|&c| c > 0), "LIFReset: every copy spikes");
        // Monitor probes (a Var, an OutPort, a constant) and a Reset in every copy.
        let (mut net, vars) = walkthrough(fixed);
        Reset::attach(&mut net, &vars[3], 0.0, 7, 3).unwrap();
        let mon = net.add_named("monitor", Monitor::new()).unwrap();
        mon.probe(&mut net, vars[3].clone(), 40).unwrap();
        mon.probe(&mut net, OutPort { proc: vars[0].proc, name: "s_out".into() }, 40).unwrap();
        mon.probe(&mut net, VarRef { proc: vars[0].proc, name: "du".into() }, 40).unwrap();
        let mut all = vars.clone();
        all.extend((0..3).map(|k| mon.var(&format!("data_{k}"))));
        batch_agrees(&net, &all, (&vars[1], far), fixed, 40, gpu.clone(), 3);
    }
    let atrlif =
        Atrlif::new(&[16]).delta_i(0.0).delta_v(0.0).delta_theta(0.0).delta_r(0.0).theta_0(300.0).theta_step(40.0);
    let (net, neurons, sink) = driven(true, 16, &["a_in"], 900.0, atrlif, &mut seed);
    let vars = [neurons.var("v"), neurons.var("theta"), sink];
    let cpu = batch_agrees(&net, &vars, (&neurons.var("v"), 90.0), true, 80, gpu, 3);
    assert!(spiked(&cpu, 2).iter().all(|&c| c > 0), "ATRLIF: every copy spikes");
}

/// Launches wider than a dispatch dimension (65535 workgroups of 64 threads) spread over a
/// second one: 70 copies of 66000 LIF neurons (4.62 million threads per launch) all agree
/// with the CPU, the last copies included; building the same plan again compiles nothing.
#[test]
fn launches_past_one_dispatch_dimension_cover_every_copy() {
    let Some(gpu) = gpu() else { return };
    let n = 66_000;
    let bias: Vec<f64> = (0..n).map(|i| (i % 13) as f64 * 40.0).collect();
    let mut net = Network::new();
    let lif =
        net.add_named("wide", Lif::new(&[n]).vth(100.0).du(300.0).dv(200.0).bias_mant(bias).bias_exp(2.0)).unwrap();
    let sink = net.add(sink::RingBuffer::new(&[n], 6)).unwrap();
    net.connect(lif.s_out(), &sink.a_in()).unwrap();
    let vars = [lif.u(), lif.v(), sink.data()];
    let cpu = batch_agrees(&net, &vars, (&lif.v(), 97.0), true, 6, gpu.clone(), 70);
    assert!(cpu[69][2].iter().any(|&s| s != 0.0), "the last copy spikes");
    let compiled = gpu.compiled_pipelines();
    assert!(compiled > 0);
    let exe = net.compile(&RunConfig::fixed_pt()).unwrap();
    GpuRuntime::new(&exe, gpu.clone()).unwrap();
    assert_eq!(gpu.compiled_pipelines(), compiled, "the second plan reuses the device's pipelines");
}

/// The corrected fixed-point SigmaDelta (SPEC §2.2, not in Lava 0.10) on the GPU: the
/// hand-derived sends of core's golden test, then a random ReLU network (graded Dense input,
/// a bias, state_exp 3) equal to the CPU's, in a batch of 3.
#[test]
fn corrected_sigma_delta_runs_on_the_gpu_as_on_the_cpu() {
    use basalt_core::process::sdn::{ActivationMode, SigmaDelta};
    let Some(gpu) = gpu() else { return };
    let cfg = RunConfig::fixed_pt().with_exception("SigmaDelta", "PySigmaDeltaModelFixedCorrected");
    let mut net = Network::new();
    let src = net.add(source::RingBuffer::new(ndarray::arr2(&[[5.0]]).into_dyn())).unwrap();
    let sd = net.add_named("sd", SigmaDelta::new(&[1], 4.0).act_mode(ActivationMode::Unit).state_exp(2)).unwrap();
    net.connect(src.s_out(), &sd.a_in()).unwrap();
    let out = net.add(sink::RingBuffer::new(&[1], 8)).unwrap();
    net.connect(sd.s_out(), &out.a_in()).unwrap();
    let exe = net.compile(&cfg).unwrap();
    assert_eq!(exe.processes[1].model, "PySigmaDeltaModelFixedCorrected");
    let mut g = GpuRuntime::new(&exe, gpu.clone()).unwrap();
    g.run(8).unwrap();
    let sent: Vec<f64> = g.get(&out.data()).unwrap().iter().copied().collect();
    assert_eq!(sent, vec![0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 5.0]);
    assert_eq!(g.get(&sd.act()).unwrap()[[0]], 40.0);
    // A random network, three copies starting from different sums.
    let mut seed = 0xD1B5_4A32_D192_ED03u64;
    let (n_in, n, steps) = (10, 16, 40);
    let x = ArrayD::from_shape_fn(IxDyn(&[n_in, steps]), |_| ((rand(&mut seed) - 0.4) * 120.0).floor());
    let w = Array2::from_shape_fn((n, n_in), |_| ((rand(&mut seed) - 0.5) * 160.0).floor());
    let bias: Vec<f64> = (0..n).map(|_| ((rand(&mut seed) - 0.5) * 200.0).floor()).collect();
    let mut net = Network::new();
    let src = net.add(source::RingBuffer::new(x)).unwrap();
    let dense = net.add(Dense::new(w).num_message_bits(16)).unwrap();
    let sd = net.add_named("sd", SigmaDelta::new(&[n], 64.0).bias(bias).state_exp(3)).unwrap();
    let out = net.add(sink::RingBuffer::new(&[n], steps)).unwrap();
    net.connect(src.s_out(), &dense.s_in()).unwrap();
    net.connect(dense.a_out(), &sd.a_in()).unwrap();
    net.connect(sd.s_out(), &out.a_in()).unwrap();
    let exe = net.compile(&cfg).unwrap();
    let mut g = GpuRuntime::with_batch(&exe, gpu, 3).unwrap();
    let sums = ArrayD::from_shape_fn(IxDyn(&[3, n]), |ix| (ix[0] as f64) * 300.0 - (ix[1] as f64) * 11.0);
    g.set(&sd.sigma(), &sums).unwrap();
    g.run(steps as u64).unwrap();
    let vars = [sd.sigma(), sd.act(), out.data()];
    let got: Vec<ArrayD<f64>> = vars.iter().map(|v| g.get(v).unwrap()).collect();
    for k in 0..3 {
        let mut c = Runtime::new(exe.clone(), cfg.registry()).unwrap();
        c.set(&sd.sigma(), sums.index_axis(Axis(0), k).to_owned()).unwrap();
        c.run(RunSteps::new(steps as u64)).unwrap();
        for (v, g) in vars.iter().zip(&got) {
            assert_eq!(c.get(v).unwrap(), g.index_axis(Axis(0), k), "copy {k}: {}", v.name);
        }
        let sends = c.get(&out.data()).unwrap().iter().filter(|&&s| s != 0.0).count();
        assert!(sends > 20, "copy {k} sends {sends} times");
    }
}

/// Spike and state dataloaders on the GPU equal the CPU's every step (samples cut and padded
/// to the interval, an offset, cycling past the end of the data set, ground truths); in a
/// batch of 2, copy c plays samples c, c + 2, ... as a CPU run over that sub-set does.
#[test]
fn dataloaders_run_on_the_gpu_as_on_the_cpu() {
    use basalt_core::process::io::dataloader::{Dataset, SpikeDataloader, StateDataloader};
    let Some(gpu) = gpu() else { return };
    let mut seed = 0x0123_4567_89AB_CDEFu64;
    for fixed in [true, false] {
        let unit = if fixed { 40.0 } else { 0.4 };
        let samples: Vec<ArrayD<f64>> = (0..4)
            .map(|_| ArrayD::from_shape_fn(IxDyn(&[3, 5]), |_| f64::from(u8::from(rand(&mut seed) < 0.5)) * unit))
            .collect();
        let biases: Vec<ArrayD<f64>> =
            (0..4).map(|k| ArrayD::from_shape_fn(IxDyn(&[2]), |ix| (k * 2 + ix[0]) as f64 * unit * 3.0)).collect();
        let labels = |k: usize| ArrayD::from_elem(IxDyn(&[1]), k as f64);
        let build = |picks: &[usize]| {
            let spikes = Dataset {
                data: picks.iter().map(|&k| samples[k].clone()).collect(),
                ground_truth: picks.iter().map(|&k| labels(k)).collect(),
            };
            let states = Dataset {
                data: picks.iter().map(|&k| biases[k].clone()).collect(),
                ground_truth: picks.iter().map(|&k| labels(10 + k)).collect(),
            };
            let mut net = Network::new();
            // Interval 4 cuts the 5-step samples; offset 2 delays the first load.
            let loader = net.add_named("loader", SpikeDataloader::new(&spikes, 4, 2).unwrap()).unwrap();
            let w = if fixed { [[90.0, 60.0, 30.0], [20.0, 70.0, 50.0]] } else { [[0.9, 0.6, 0.3], [0.2, 0.7, 0.5]] };
            let dense = net.add(Dense::new(basalt_core::matrix(&w))).unwrap();
            let lif = if fixed {
                Lif::new(&[2]).vth(200.0).du(800.0).dv(400.0)
            } else {
                Lif::new(&[2]).vth(2.0).du(0.2).dv(0.1)
            };
            let lif = net.add_named("lif", lif).unwrap();
            net.connect(loader.s_out(), &dense.s_in()).unwrap();
            net.connect(dense.a_out(), &lif.a_in()).unwrap();
            // Interval 7 (longer than the samples): zero-padding.
            let state = StateDataloader::attach(&mut net, &lif.bias_mant(), &states, 7, 0).unwrap();
            let steps = 30;
            let sinks: Vec<VarRef> = [loader.s_out(), loader.ground_truth(), lif.s_out(), state.ground_truth()]
                .into_iter()
                .map(|port| {
                    let shape = net.out_port_shape(&port).unwrap();
                    let sink = net.add(sink::RingBuffer::new(&shape, steps)).unwrap();
                    net.connect(port, &sink.a_in()).unwrap();
                    sink.data()
                })
                .collect();
            let mut vars = vec![lif.v(), lif.bias_mant(), VarRef { proc: loader.id(), name: "data".into() }];
            vars.extend(sinks);
            (net, vars)
        };
        let cfg = if fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
        // Fixed point: exactly; float: within 1e-5 relative.
        let agree = |x: f64, y: f64| if fixed { x == y } else { (x - y).abs() <= 1e-5 * x.abs().max(1.0) };
        let (net, vars) = build(&[0, 1, 2, 3]);
        let results = both(&net, &vars, &cfg, 30, gpu.clone());
        for (v, (c, g)) in vars.iter().zip(&results) {
            for (x, y) in c.iter().zip(g.iter()) {
                assert!(agree(*x, *y), "fixed {fixed}: {}: cpu {c}, gpu {g}", v.name);
            }
        }
        assert!(results[2].0.iter().any(|&s| s != 0.0) && results[5].0.iter().any(|&s| s != 0.0), "spikes");
        // A batch of two walks the data set two samples at a time.
        let exe = net.compile(&cfg).unwrap();
        let mut g = GpuRuntime::with_batch(&exe, gpu.clone(), 2).unwrap();
        g.run(30).unwrap();
        for (c, picks) in [[0, 2], [1, 3]].iter().enumerate() {
            let (alone, _) = build(picks);
            let mut rt = alone.runtime(&cfg).unwrap();
            rt.run(RunSteps::new(30)).unwrap();
            for v in &vars {
                let (want, got) = (rt.get(v).unwrap(), g.get(v).unwrap());
                let got = got.index_axis(Axis(0), c);
                assert_eq!(want.shape(), got.shape(), "{}", v.name);
                for (x, y) in want.iter().zip(got.iter()) {
                    assert!(agree(*x, *y), "copy {c}: {}: {want} vs {got}", v.name);
                }
            }
        }
    }
}

/// Source -> synapse "syn" (`synapse`: Dense, Sparse, DelaySparse, Conv or ConvTranspose) ->
/// population "neurons" (`make` builds it for the synapse's output shape) -> sink, random
/// weights; binary input spikes, or graded ones for `graded`. Returns the network and the Vars
/// to compare: the synapse's sums first, the population's `state`, the sink's data last.
fn synapse_into<P: basalt_core::Process>(
    fixed: bool,
    synapse: &str,
    graded: bool,
    make: impl FnOnce(&[usize]) -> P,
    state: &[&str],
    seed: &mut u64,
) -> (Network, Vec<VarRef>) {
    use basalt_core::process::conv::Conv;
    use basalt_core::process::sparse::Sparse;
    let steps = 60;
    let q = |x: f64| if fixed { x.floor() } else { x };
    let scale = if fixed { 200.0 } else { 0.6 };
    let weight = |seed: &mut u64| q((rand(seed) - 0.3) * scale);
    let bits = if graded { 16 } else { 0 };
    // (input shape, output shape)
    let (in_shape, out_shape): (Vec<usize>, Vec<usize>) = match synapse {
        "Conv" => (vec![5, 4, 2], vec![3, 2, 3]),
        "ConvTranspose" => (vec![3, 2, 2], vec![5, 4, 3]),
        _ => (vec![24], vec![12]),
    };
    let (n_in, n_out) = (in_shape.iter().product::<usize>(), out_shape.iter().product::<usize>());
    let mut net = Network::new();
    let ((s_in, a_out), sums) = match synapse {
        "Dense" => {
            let w = Array2::from_shape_fn((n_out, n_in), |_| weight(seed));
            let h = net.add_named("syn", Dense::new(w).num_message_bits(bits)).unwrap();
            ((h.in_port("s_in"), h.out_port("a_out")), h.var("a_buff"))
        }
        "Sparse" | "DelaySparse" => {
            let (mut indptr, mut indices, mut values, mut delays) = (vec![0], Vec::new(), Vec::new(), Vec::new());
            for _ in 0..n_out {
                let row: Vec<usize> = (0..n_in).filter(|_| rand(seed) < 0.4).collect();
                for j in row {
                    indices.push(j);
                    values.push(weight(seed));
                    delays.push((rand(seed) * 3.0).floor());
                }
                indptr.push(indices.len());
            }
            let sparse = Sparse::from_csr([n_out, n_in], indptr, indices, values).num_message_bits(bits);
            if synapse == "Sparse" {
                let h = net.add_named("syn", sparse).unwrap();
                ((h.in_port("s_in"), h.out_port("a_out")), h.var("a_buff"))
            } else {
                let h = net.add_named("syn", sparse.with_delays(delays, 0)).unwrap();
                ((h.in_port("s_in"), h.out_port("a_out")), h.var("a_buff"))
            }
        }
        "Conv" => {
            let w = ndarray::Array4::from_shape_fn((3, 3, 3, 2), |_| weight(seed));
            let h = net.add_named("syn", Conv::new(w, [5, 4, 2]).num_message_bits(bits)).unwrap();
            ((h.in_port("s_in"), h.out_port("a_out")), h.var("a_buf"))
        }
        _ => {
            // (C_in, kx, ky, C_out) over the transposed input (3, 2, 2): output (5, 4, 3).
            let w = ndarray::Array4::from_shape_fn((2, 3, 3, 3), |_| weight(seed));
            let h = net.add_named("syn", Conv::new(w, [3, 2, 2]).num_message_bits(bits).transposed()).unwrap();
            ((h.in_port("s_in"), h.out_port("a_out")), h.var("a_buf"))
        }
    };
    let mut data_shape = in_shape.clone();
    data_shape.push(9);
    let x = ArrayD::from_shape_fn(IxDyn(&data_shape), |_| match (rand(seed) < 0.4, graded) {
        (false, _) => 0.0,
        (true, false) => 1.0,
        // Float: values that keep a sigma unit's sum near 10, so that the delta's cancellation
        // (a difference of f32 sums, f64 on the CPU) stays within the tolerance.
        (true, true) => {
            if fixed {
                (rand(seed) * 60.0 - 10.0).floor()
            } else {
                rand(seed) * 6.0 - 1.0
            }
        }
    });
    let src = net.add(source::RingBuffer::new(x)).unwrap();
    let neurons = net.add_named("neurons", make(&out_shape)).unwrap();
    let sink = net.add(sink::RingBuffer::new(&out_shape, steps)).unwrap();
    net.connect(src.s_out(), &s_in).unwrap();
    net.connect(a_out, &neurons.in_port("a_in")).unwrap();
    net.connect(neurons.out_port("s_out"), &sink.a_in()).unwrap();
    let mut vars = vec![sums];
    vars.extend(state.iter().map(|name| neurons.var(name)));
    vars.push(sink.data());
    (net, vars)
}

/// Every synapse with a synapse interface (Dense, Sparse, DelaySparse, Conv, ConvTranspose)
/// fuses with every neuron step (LIF, LIFReset, TernaryLIF, LIFRefractory, ALIF, Sigma, Delta,
/// SigmaDelta) it alone feeds: the plan names the pair and has two launches fewer per step;
/// the fused run equals the CPU (bit-exact in fixed point, 1e-5 in float) and the unfused
/// run exactly, and a batch of 3 equals each copy run alone on the CPU.
#[test]
fn every_synapse_fuses_with_every_neuron_it_alone_feeds() {
    use basalt_core::process::alif::Alif;
    use basalt_core::process::sdn::{Delta, Sigma, SigmaDelta};
    let Some(gpu) = gpu() else { return };
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let check = |(net, vars): (Network, Vec<VarRef>), fixed: bool, label: &str| {
        let cfg = if fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
        let exe = net.compile(&cfg).unwrap();
        let fused = GpuRuntime::new(&exe, gpu.clone()).unwrap();
        assert_eq!(fused.fused_synapses(), [("syn".to_string(), "neurons".to_string())], "{label}");
        let options = basalt_gpu::PlanOptions { batch: 1, fuse: false };
        let mut unfused = GpuRuntime::with_options(&exe, gpu.clone(), options).unwrap();
        assert_eq!(unfused.launches_per_step(), fused.launches_per_step() + 2, "{label}");
        let results = both(&net, &vars, &cfg, 60, gpu.clone());
        unfused.run(60).unwrap();
        for (v, (cpu, g)) in vars.iter().zip(&results) {
            for (x, y) in cpu.iter().zip(g.iter()) {
                let tol = if fixed { 0.0 } else { 1e-5 * x.abs().max(1.0) };
                assert!((x - y).abs() <= tol, "{label}: Var {}: cpu {x}, gpu {y}", v.name);
            }
            assert_eq!(&unfused.get(v).unwrap(), g, "{label}: Var {} fused and unfused", v.name);
        }
        let spikes = results.last().unwrap().0.iter().filter(|&&s| s != 0.0).count();
        assert!(spikes > 10, "{label}: {spikes} spikes");
        // Copy k starts with the synapse's sums raised by k x 30 (fixed) or 0.3 (float).
        batch_agrees(&net, &vars, (&vars[0], if fixed { 30.0 } else { 0.3 }), fixed, 30, gpu.clone(), 3);
    };
    for fixed in [true, false] {
        let (du, dv, vth) = if fixed { (700.0, 400.0, 60.0) } else { (0.3, 0.2, 0.4) };
        let lif = move |shape: &[usize]| Lif::new(shape).du(du).dv(dv).vth(vth);
        let alif = move |shape: &[usize]| {
            let (dth, dr, step) = if fixed { (300.0, 500.0, 30.0) } else { (0.1, 0.2, 0.2) };
            Alif::new(shape).du(du).dv(dv).dtheta(dth).dr(dr).vth(vth).vth_step(step)
        };
        let sd_vth = if fixed { 64.0 } else { 0.5 };
        for synapse in ["Dense", "Sparse", "DelaySparse", "Conv", "ConvTranspose"] {
            let label = |neuron: &str| format!("{synapse} -> {neuron} (fixed: {fixed})");
            let uv = ["u", "v"];
            check(synapse_into(fixed, synapse, false, lif, &uv, &mut seed), fixed, &label("LIF"));
            let reset = move |s: &[usize]| lif(s).with_reset(7, 3);
            check(synapse_into(fixed, synapse, false, reset, &uv, &mut seed), fixed, &label("LIFReset"));
            let ternary = move |s: &[usize]| lif(s).ternary(vth, -vth / 2.0);
            check(synapse_into(fixed, synapse, false, ternary, &uv, &mut seed), fixed, &label("TernaryLIF"));
            if !fixed {
                let refractory = move |s: &[usize]| lif(s).refractory(3);
                let state = ["u", "v", "refractory_period_end"];
                check(synapse_into(fixed, synapse, false, refractory, &state, &mut seed), fixed, &label("LIFRefr."));
            }
            let state = ["u", "v", "theta", "r"];
            check(synapse_into(fixed, synapse, false, alif, &state, &mut seed), fixed, &label("ALIF"));
            let sigma = |s: &[usize]| Sigma::new(s);
            check(synapse_into(fixed, synapse, true, sigma, &["sigma"], &mut seed), fixed, &label("Sigma"));
            let delta = move |s: &[usize]| Delta::new(s, sd_vth);
            let state = ["act", "residue"];
            check(synapse_into(fixed, synapse, true, delta, &state, &mut seed), fixed, &label("Delta"));
            let sd = move |s: &[usize]| SigmaDelta::new(s, sd_vth);
            let state = ["sigma", "act", "residue"];
            check(synapse_into(fixed, synapse, true, sd, &state, &mut seed), fixed, &label("SigmaDelta"));
        }
    }
}
