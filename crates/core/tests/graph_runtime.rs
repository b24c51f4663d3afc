//! Graph construction, compilation and runtime control: errors, port transforms,
//! hierarchical processes, custom processes and run/pause/stop semantics.

use std::sync::Arc;
use std::time::Duration;

use basalt_core::prelude::*;
use basalt_core::{Error, PortExpr, RunCondition};
use ndarray::{ArrayD, IxDyn};

fn arr(shape: &[usize], data: Vec<f64>) -> ArrayD<f64> {
    ArrayD::from_shape_vec(IxDyn(shape), data).unwrap()
}

#[test]
fn connect_shape_mismatch_names_both_ports() {
    let mut net = Network::new();
    let a = net.add_named("lif_a", Lif::new(&[3])).unwrap();
    let b = net.add_named("lif_b", Lif::new(&[2])).unwrap();
    let err = net.connect(a.s_out(), &b.a_in()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::ShapeMismatch { .. }));
    assert!(msg.contains("lif_a.s_out") && msg.contains("lif_b.a_in"), "{msg}");
    assert!(msg.contains("[3]") && msg.contains("[2]"), "{msg}");
}

#[test]
fn unknown_port_and_duplicate_names_are_errors() {
    let mut net = Network::new();
    let a = net.add_named("x", Lif::new(&[1])).unwrap();
    assert!(net.add_named("x", Lif::new(&[1])).is_err());
    let err = net.connect(a.out_port("spikes"), &a.a_in()).unwrap_err();
    assert!(err.to_string().contains("`spikes` not found on process x"), "{err}");
}

/// Source -> transform -> sink, returning what the sink recorded at step 1.
fn through(
    src_data: Vec<ArrayD<f64>>,
    sink_shape: &[usize],
    f: impl Fn(Vec<OutPort>) -> PortExpr,
) -> Result<ArrayD<f64>, Error> {
    let mut net = Network::new();
    let ports: Vec<OutPort> =
        src_data.into_iter().map(|d| net.add(source::RingBuffer::new(d)).unwrap().s_out()).collect();
    let sink = net.add(sink::RingBuffer::new(sink_shape, 1))?;
    net.connect(f(ports), &sink.a_in())?;
    let mut rt = net.runtime(&RunConfig::floating_pt())?;
    rt.run(RunSteps::new(1))?;
    let d = rt.get(&sink.data())?;
    Ok(d.into_shape_with_order(IxDyn(sink_shape)).unwrap())
}

#[test]
fn port_transforms_reshape_flatten_transpose_concat() {
    // Data of shape (2, 3) at one time step: [[0,1,2],[3,4,5]].
    let d = || arr(&[2, 3, 1], (0..6).map(f64::from).collect());
    let reshaped = through(vec![d()], &[3, 2], |p| p[0].clone().reshape(&[3, 2])).unwrap();
    assert_eq!(reshaped, arr(&[3, 2], vec![0., 1., 2., 3., 4., 5.]));
    let flat = through(vec![d()], &[6], |p| p[0].clone().flatten()).unwrap();
    assert_eq!(flat, arr(&[6], vec![0., 1., 2., 3., 4., 5.]));
    let t = through(vec![d()], &[3, 2], |p| p[0].clone().transpose(&[1, 0])).unwrap();
    assert_eq!(t, arr(&[3, 2], vec![0., 3., 1., 4., 2., 5.]));
    let e = || arr(&[2, 3, 1], (10..16).map(f64::from).collect());
    let c0 = through(vec![d(), e()], &[4, 3], |p| p[0].clone().concat_with([p[1].clone()], 0)).unwrap();
    assert_eq!(c0, arr(&[4, 3], vec![0., 1., 2., 3., 4., 5., 10., 11., 12., 13., 14., 15.]));
    let c1 = through(vec![d(), e()], &[2, 6], |p| p[0].clone().concat_with([p[1].clone()], 1)).unwrap();
    assert_eq!(c1, arr(&[2, 6], vec![0., 1., 2., 10., 11., 12., 3., 4., 5., 13., 14., 15.]));
    // Chained: transpose then flatten.
    let tf = through(vec![d()], &[6], |p| p[0].clone().transpose(&[1, 0]).flatten()).unwrap();
    assert_eq!(tf, arr(&[6], vec![0., 3., 1., 4., 2., 5.]));
}

#[test]
fn bad_transforms_are_errors() {
    let d = || arr(&[2, 3, 1], vec![0.0; 6]);
    let e = through(vec![d()], &[4], |p| p[0].clone().reshape(&[4])).unwrap_err();
    assert!(matches!(e, Error::InvalidTransform { .. }), "{e}");
    let e = through(vec![d()], &[3, 2], |p| p[0].clone().transpose(&[0, 0])).unwrap_err();
    assert!(e.to_string().contains("not a permutation"), "{e}");
    let e = through(vec![d(), arr(&[3, 3, 1], vec![0.0; 9])], &[5, 3], |p| p[0].clone().concat_with([p[1].clone()], 1))
        .unwrap_err();
    assert!(e.to_string().contains("cannot concatenate"), "{e}");
}

#[test]
fn in_port_sums_sources_and_unconnected_reads_zero() {
    let mut net = Network::new();
    let a = net.add(source::RingBuffer::new(arr(&[2, 1], vec![1.5, 2.0]))).unwrap();
    let b = net.add(source::RingBuffer::new(arr(&[2, 1], vec![10.0, 20.0]))).unwrap();
    let sum = net.add(sink::RingBuffer::new(&[2], 1)).unwrap();
    let lonely = net.add(sink::RingBuffer::new(&[2], 1)).unwrap();
    net.connect(a.s_out(), &sum.a_in()).unwrap();
    net.connect(b.s_out(), &sum.a_in()).unwrap();
    let mut rt = net.runtime(&RunConfig::floating_pt()).unwrap();
    rt.run(RunSteps::new(1)).unwrap();
    assert_eq!(rt.get(&sum.data()).unwrap(), arr(&[2, 1], vec![11.5, 22.0]));
    assert_eq!(rt.get(&lonely.data()).unwrap(), arr(&[2, 1], vec![0.0, 0.0]));
}

/// LIF(1) with bias 3 (vth 10): v = 3, 6, 9, 0 (spike at 4, 12 > 10), ... in float.
fn biased_lif() -> (Network, Handle<Lif>) {
    let mut net = Network::new();
    let lif = net.add_named("lif", Lif::new(&[1]).bias_mant(3.0)).unwrap();
    (net, lif)
}

#[test]
fn time_step_continues_across_runs_and_pause_resume() {
    let (net, lif) = biased_lif();
    let mut rt = net.runtime(&RunConfig::floating_pt()).unwrap();
    rt.run(RunSteps::new(2)).unwrap();
    assert_eq!(rt.time_step(), 2);
    assert_eq!(rt.get(&lif.v()).unwrap()[[0]], 6.0);
    rt.run(RunSteps::new(1)).unwrap();
    assert_eq!(rt.time_step(), 3);
    assert_eq!(rt.get(&lif.v()).unwrap()[[0]], 9.0);
    // Continuous run, paused from this thread, then resumed with a fixed run.
    rt.run(RunContinuous).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    rt.pause().unwrap();
    let t = rt.time_step();
    assert!(t > 3, "continuous run advanced time ({t})");
    rt.run(RunSteps::new(5)).unwrap();
    assert_eq!(rt.time_step(), t + 5);
    // v cycles with period 4 (3, 6, 9, 0): its value is determined by the time step.
    let expected = [0.0, 3.0, 6.0, 9.0][(rt.time_step() % 4) as usize];
    assert_eq!(rt.get(&lif.v()).unwrap()[[0]], expected);
}

#[test]
fn get_and_set_while_running_are_errors() {
    let (net, lif) = biased_lif();
    let mut rt = net.runtime(&RunConfig::floating_pt()).unwrap();
    rt.run(RunContinuous).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    let e = rt.get(&lif.v()).unwrap_err();
    assert!(matches!(e, Error::Running { op: "get", .. }), "{e}");
    assert!(e.to_string().contains("lif.v"), "{e}");
    let e = rt.set(&lif.v(), 1.0).unwrap_err();
    assert!(matches!(e, Error::Running { op: "set", .. }), "{e}");
    assert!(matches!(rt.run(RunSteps::new(1)), Err(Error::AlreadyRunning)));
    rt.pause().unwrap();
    rt.set(&lif.v(), 1.0).unwrap();
    assert_eq!(rt.get(&lif.v()).unwrap()[[0]], 1.0);
}

#[test]
fn non_blocking_steps_and_wait() {
    let (net, lif) = biased_lif();
    let mut rt = net.runtime(&RunConfig::floating_pt()).unwrap();
    rt.run(RunSteps::non_blocking(7)).unwrap();
    rt.wait().unwrap();
    assert_eq!(rt.time_step(), 7);
    assert_eq!(rt.get(&lif.v()).unwrap()[[0]], 9.0);
}

#[test]
fn stop_then_run_is_an_error() {
    let (net, lif) = biased_lif();
    let mut rt = net.runtime(&RunConfig::floating_pt()).unwrap();
    rt.run(RunSteps::new(1)).unwrap();
    rt.stop().unwrap();
    assert!(matches!(rt.run(RunSteps::new(1)), Err(Error::Stopped)));
    assert!(matches!(rt.get(&lif.v()), Err(Error::Stopped)));
}

#[test]
fn set_rejects_bad_values() {
    let (net, lif) = biased_lif();
    let mut rt = net.runtime(&RunConfig::fixed_pt()).unwrap();
    let e = rt.set(&lif.v(), vec![1.0, 2.0]).unwrap_err();
    assert!(e.to_string().contains("cannot be broadcast"), "{e}");
    let e = rt.set(&lif.du(), 5000.0).unwrap_err();
    assert!(e.to_string().contains("outside the fixed-point range [-1, 4095]"), "{e}");
    assert!(rt.set(&lif.v(), f64::NAN).is_err());
}

#[test]
fn monitor_overflow_fails_the_run_with_a_clear_error() {
    let (mut net, lif) = biased_lif();
    let mon = net.add(Monitor::new()).unwrap();
    mon.probe(&mut net, lif.v(), 3).unwrap();
    let mut rt = net.runtime(&RunConfig::floating_pt()).unwrap();
    let e = rt.run(RunSteps::new(5)).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Model { time_step: 4, .. }), "{msg}");
    assert!(msg.contains("holds 3 steps"), "{msg}");
    // The same failure in a continuous run surfaces from pause()/wait(), not as a hang.
    let mut rt = net.runtime(&RunConfig::floating_pt()).unwrap();
    rt.run(RunContinuous).unwrap();
    let e = rt.wait().unwrap_err();
    assert!(matches!(e, Error::Model { time_step: 4, .. }), "{e}");
}

#[test]
fn zero_delay_cycle_is_rejected_and_recurrence_through_dense_runs() {
    let mut net = Network::new();
    let a = net.add_named("a", Lif::new(&[2])).unwrap();
    let b = net.add_named("b", Lif::new(&[2])).unwrap();
    net.connect(a.s_out(), &b.a_in()).unwrap();
    net.connect(b.s_out(), &a.a_in()).unwrap();
    let e = net.compile(&RunConfig::floating_pt()).unwrap_err();
    assert!(matches!(e, Error::ZeroDelayCycle(_)), "{e}");

    // LIF -> Dense -> same LIF: spike at t reaches a_in at t+1.
    let mut net = Network::new();
    let lif = net.add_named("lif", Lif::new(&[1]).bias_mant(6.0)).unwrap();
    let rec = net.add_named("rec", Dense::new(ndarray::arr2(&[[100.0]]))).unwrap();
    net.connect(lif.s_out(), &rec.s_in()).unwrap();
    net.connect(rec.a_out(), &lif.a_in()).unwrap();
    let mon = net.add(Monitor::new()).unwrap();
    mon.probe(&mut net, lif.u(), 4).unwrap();
    let mut rt = net.runtime(&RunConfig::floating_pt()).unwrap();
    rt.run(RunSteps::new(4)).unwrap();
    // v: 6, 12 -> spike at step 2; u receives 100 at step 3 and, spiking again at 3, 100 more at step 4 (du = 0).
    let u = mon.data(&rt, "lif", "u").unwrap();
    assert_eq!(u.iter().copied().collect::<Vec<_>>(), vec![0.0, 0.0, 100.0, 200.0]);
}

#[test]
fn no_model_for_tag_is_a_clear_error() {
    let (net, _) = biased_lif();
    let e = net.compile(&RunConfig::new(Some("analog"))).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::NoModel { .. }), "{msg}");
    assert!(msg.contains("lif") && msg.contains("analog") && msg.contains("PyLifModelFloat"), "{msg}");
    let e = net.compile(&RunConfig::floating_pt().with_exception("Lif", "NoSuchModel")).unwrap_err();
    assert!(e.to_string().contains("NoSuchModel"), "{e}");
}

#[test]
fn exception_map_selects_a_model_per_type_and_per_process() {
    let mut net = Network::new();
    let a = net.add_named("a", Lif::new(&[1]).bias_mant(1.5).vth(100.0)).unwrap();
    let b = net.add_named("b", Lif::new(&[1]).bias_mant(1.5).vth(100.0)).unwrap();
    // Float for everything, but the bit-accurate model for `b`: it truncates 1.5 to 1.
    let cfg = RunConfig::floating_pt().with_process_exception(b.id(), "PyLifModelBitAcc");
    let exe = net.compile(&cfg).unwrap();
    assert_eq!(exe.processes[0].model, "PyLifModelFloat");
    assert_eq!(exe.processes[1].model, "PyLifModelBitAcc");
    let mut rt = net.runtime(&cfg).unwrap();
    rt.run(RunSteps::new(2)).unwrap();
    assert_eq!(rt.get(&a.v()).unwrap()[[0]], 3.0);
    assert_eq!(rt.get(&b.v()).unwrap()[[0]], 2.0);
    let exe = net.compile(&RunConfig::floating_pt().with_exception("Lif", "PyLifModelBitAcc")).unwrap();
    assert!(exe.processes.iter().all(|p| p.model == "PyLifModelBitAcc"));
}

/// A composite process: Dense + LIF exposed as one layer with s_in, s_out and aliases.
struct Layer {
    weights: ndarray::Array2<f64>,
    vth: f64,
}

impl Process for Layer {
    const TYPE_NAME: &'static str = "test.Layer";
    fn build(self, b: &mut ProcessBuilder<'_>) -> basalt_core::Result<()> {
        let n = self.weights.nrows();
        let dense = b.child("dense", Dense::new(self.weights))?;
        let lif = b.child("lif", Lif::new(&[n]).vth(self.vth))?;
        b.connect(dense.a_out(), &lif.a_in())?;
        b.expose_in_port("s_in", &[dense.s_in()])?;
        b.expose_out_port("s_out", lif.s_out())?;
        b.alias_var("v", &lif.v())?;
        b.alias_var("weights", &dense.weights())?;
        Ok(())
    }
}

#[test]
fn composite_process_flattens_and_aliases_reach_children() {
    let mut net = Network::new();
    let src = net.add(source::RingBuffer::new(arr(&[2, 1], vec![1.0, 1.0]))).unwrap();
    let layer = net.add_named("layer", Layer { weights: ndarray::arr2(&[[2.0, 3.0]]), vth: 100.0 }).unwrap();
    let out = net.add(sink::RingBuffer::new(&[1], 1)).unwrap();
    net.connect(src.s_out(), &layer.in_port("s_in")).unwrap();
    net.connect(layer.out_port("s_out"), &out.a_in()).unwrap();
    assert_eq!(net.children(layer.id()).unwrap().len(), 2);
    assert_eq!(net.get(&layer.var("weights")).unwrap(), arr(&[1, 2], vec![2.0, 3.0]));

    let exe = net.compile(&RunConfig::floating_pt()).unwrap();
    let names: Vec<&str> = exe.processes.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Process_0", "layer.dense", "layer.lif", "Process_4"]);

    let mut rt = net.runtime(&RunConfig::floating_pt()).unwrap();
    rt.run(RunSteps::new(3)).unwrap();
    // a_in = 5 from step 2 on; du = dv = 0: u = 0, 5, 10; v = 0, 5, 15.
    assert_eq!(rt.get(&layer.var("v")).unwrap()[[0]], 15.0);
    rt.set(&layer.var("v"), 99.0).unwrap();
    let lif_child = net.children(layer.id()).unwrap()[1];
    assert_eq!(rt.get(&VarRef { proc: lif_child, name: "v".into() }).unwrap()[[0]], 99.0);
    rt.run(RunSteps::new(1)).unwrap();
    // v = 99 + u(15) = 114 > 100: spike, reset, and the spike leaves through the alias.
    assert_eq!(rt.get(&layer.var("v")).unwrap()[[0]], 0.0);
    assert_eq!(rt.get(&out.data()).unwrap()[[0, 0]], 1.0);
}

#[test]
fn composite_var_alias_must_point_into_the_composite() {
    struct Bad(VarRef);
    impl Process for Bad {
        const TYPE_NAME: &'static str = "test.Bad";
        fn build(self, b: &mut ProcessBuilder<'_>) -> basalt_core::Result<()> {
            b.child("inner", Lif::new(&[1]))?;
            b.alias_var("v", &self.0)?;
            Ok(())
        }
    }
    let mut net = Network::new();
    let outside = net.add(Lif::new(&[1])).unwrap();
    let n = net.len();
    let e = net.add(Bad(outside.v())).unwrap_err();
    assert!(e.to_string().contains("must refer to a Var of one of its sub-processes"), "{e}");
    assert_eq!(net.len(), n, "a failed add leaves the network as it was");
}

/// A user-defined process: counts its steps into a Var and sends the count.
struct Counter;

impl Process for Counter {
    const TYPE_NAME: &'static str = "test.Counter";
    fn build(self, b: &mut ProcessBuilder<'_>) -> basalt_core::Result<()> {
        b.out_port("count_out", &[1])?;
        b.var("count", &[1], 0.0)?;
        Ok(())
    }
}

struct CounterModel {
    count: f64,
}

impl CpuModel for CounterModel {
    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        self.count += 1.0;
        if self.count > 1000.0 {
            return Err(ModelError::new("counter overflow"));
        }
        io.send(0)[0] = self.count;
        Ok(())
    }
    fn read_var(&self, _var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        out[0] = self.count;
        Ok(())
    }
    fn write_var(&mut self, _var: usize, data: &[f64]) -> Result<(), ModelError> {
        self.count = data[0];
        Ok(())
    }
}

#[test]
fn custom_process_with_custom_model() {
    let mut reg = Registry::with_library();
    reg.register(ModelEntry::cpu("test.Counter", "CounterModel", &["floating_pt"], OutputTiming::SameStep, |p| {
        Ok(Box::new(CounterModel { count: p.var("count")?.data[0] }) as Box<dyn CpuModel>)
    }))
    .unwrap();
    let mut net = Network::new();
    let c = net.add_named("counter", Counter).unwrap();
    let sink = net.add(sink::RingBuffer::new(&[1], 3)).unwrap();
    net.connect(c.out_port("count_out"), &sink.a_in()).unwrap();

    // Without the registration there is no model.
    assert!(matches!(net.compile(&RunConfig::floating_pt()), Err(Error::NoModel { .. })));

    let cfg = RunConfig::floating_pt().with_registry(Arc::new(reg));
    let mut rt = net.runtime(&cfg).unwrap();
    rt.run(RunSteps::new(4)).unwrap();
    assert_eq!(rt.get(&c.var("count")).unwrap()[[0]], 4.0);
    // Ring of 3: step 4 overwrote column 0.
    assert_eq!(rt.get(&sink.data()).unwrap(), arr(&[1, 3], vec![4.0, 2.0, 3.0]));
    // A model error surfaces from run with the process name and step.
    rt.set(&c.var("count"), 1000.0).unwrap();
    let e = rt.run(RunSteps::new(1)).unwrap_err();
    assert_eq!(e.to_string(), "process counter failed at time step 5: counter overflow");
}

#[test]
fn bad_process_parameters_are_errors() {
    let mut net = Network::new();
    let e = net.add(Dense::new(ndarray::arr2(&[[1.0, f64::NAN]]))).unwrap_err();
    assert!(e.to_string().contains("not finite"), "{e}");
    let e = net.add(Dense::new(ndarray::arr2(&[[1.0]])).num_weight_bits(9)).unwrap_err();
    assert!(e.to_string().contains("num_weight_bits"), "{e}");
    let e = net.add(Lif::new(&[2]).bias_mant(vec![1.0, 2.0, 3.0])).unwrap_err();
    assert!(e.to_string().contains("cannot be broadcast"), "{e}");
    let e = net.add(source::RingBuffer::new(arr(&[3], vec![0.0; 3]))).unwrap_err();
    assert!(e.to_string().contains("time"), "{e}");
    // A fixed-point model rejects values its Lava types cannot hold.
    let mut net = Network::new();
    net.add(Lif::new(&[1]).bias_mant(40000.0)).unwrap();
    let e = net.runtime(&RunConfig::fixed_pt()).err().unwrap();
    assert!(e.to_string().contains("bias_mant") && e.to_string().contains("40000"), "{e}");
}

#[test]
fn run_condition_conversions() {
    assert_eq!(RunCondition::from(RunSteps::new(3)), RunCondition::Steps(RunSteps { num_steps: 3, blocking: true }));
    assert_eq!(RunCondition::from(RunContinuous), RunCondition::Continuous);
}

#[test]
fn executable_is_plain_data_that_round_trips_through_serde() {
    let mut net = Network::new();
    let lif = net.add_named("lif", Lif::new(&[2]).bias_mant([3.0, 4.0])).unwrap();
    let mon = net.add_named("mon", Monitor::new()).unwrap();
    mon.probe(&mut net, lif.v(), 5).unwrap();
    let cfg = RunConfig::floating_pt();
    let exe = net.compile(&cfg).unwrap();
    let json = serde_json::to_string(&exe).unwrap();
    let back: basalt_core::Executable = serde_json::from_str(&json).unwrap();
    assert_eq!(back, exe);
    // A runtime made from the reloaded executable, without the network, runs the same.
    let mut rt = Runtime::new(back, cfg.registry()).unwrap();
    rt.run(RunSteps::new(5)).unwrap();
    let v = mon.data(&rt, "lif", "v").unwrap();
    assert_eq!(v.iter().copied().collect::<Vec<_>>(), vec![3.0, 4.0, 6.0, 8.0, 9.0, 0.0, 0.0, 4.0, 3.0, 8.0]);
}

#[test]
fn monitor_plot_writes_a_png() {
    let (mut net, lif) = biased_lif();
    let mon = net.add(Monitor::new()).unwrap();
    mon.probe(&mut net, lif.v(), 10).unwrap();
    let mut rt = net.runtime(&RunConfig::floating_pt()).unwrap();
    rt.run(RunSteps::new(10)).unwrap();
    let dir = std::env::temp_dir().join(format!("basalt-plot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("v.png");
    mon.plot(&rt, "lif", "v", &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: width and height, big-endian, at bytes 16..24.
    assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 800);
    assert_eq!(u32::from_be_bytes(bytes[20..24].try_into().unwrap()), 480);
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
    // Unknown probe: clear error.
    let e = mon.plot(&rt, "lif", "u", dir.join("u.png")).unwrap_err();
    assert!(e.to_string().contains("lif.u"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
