//! `basalt info` and `basalt run`: inspect and run lava-dl netx networks from the command
//! line.

use std::path::PathBuf;
use std::time::Instant;

use basalt_core::persist::{npz, NamedArray};
use basalt_core::prelude::*;
use basalt_netx::{load, LayerKind, NeuronKind, Options};
use ndarray::{ArrayD, IxDyn};

/// Help for `basalt run`.
pub const RUN_USAGE: &str = "usage: basalt run NET.net --input X.npy --steps T [--precision fixed|float]
                  [--backend cpu] [--sparse-fc-layer] --out OUT.npz [--probe PROCESS.VAR ...]

Loads a lava-dl netx network and runs it for T steps.
  --input X.npy   array whose last axis is time and whose other axes are the input
                  layer's shape in Lava's order (WHC for images, (N,) for dense); it is
                  played in a loop into the network's input: the input layer's neuron a_in
                  (as lava-dl's tests do), or the first synapse when there is no input layer.
  --out OUT.npz   written with `out`: the output layer's spikes, shape (..., T), and one
                  array per --probe, shape (T, ...).
  --probe P.V     a Var to record, e.g. layer1.neuron.v (processes are named
                  layer<i>.neuron and layer<i>.synapse; see `basalt info`).
  --precision     fixed (Loihi bit-accurate, default) or float.
  --sparse-fc-layer
                  build dense layers with Sparse synapses (lava-dl's sparse_fc_layer).
  --backend       cpu (default) or gpu (when built with `--features gpu`; the GPU backend
                  supports LIF, Dense, sigma-delta and Conv networks; probes need cpu).";

/// `basalt info NET.net`: one line per layer.
pub fn info(args: &[String]) -> Result<String, String> {
    let path = args.first().ok_or("usage: basalt info NET.net")?;
    let netx = load(path, &Options::default()).map_err(|e| e.to_string())?;
    let mut out = format!("{path}: {} blocks\n", netx.blocks.len());
    out += &format!(
        "{:<5} {:<9} {:<16} {:<10} {:>10} {:>5}  {}\n",
        "layer", "type", "shape (WHC)", "neuron", "synapses", "bits", "parameters"
    );
    for b in &netx.blocks {
        let c = &b.config;
        let synapses = match &c.kind {
            LayerKind::Dense { weight, weight_rec, weight_imag, .. } => {
                let nonzero = |w: &ndarray::Array2<f64>| w.iter().filter(|&&x| x != 0.0).count();
                let extra = weight_rec.as_ref().map_or(0, nonzero) + weight_imag.as_ref().map_or(0, nonzero);
                (nonzero(weight) + extra).to_string()
            }
            LayerKind::Conv { weight_shape, .. } => {
                let [co, ci, kh, kw] = *weight_shape;
                format!("{}", co * ci * kh * kw)
            }
            LayerKind::Pool { kernel, .. } => format!("{}", b.shape.last().unwrap_or(&1) * kernel[0] * kernel[1]),
            _ => "-".into(),
        };
        let (neuron, params) = match c.neuron.as_ref().map(|n| &n.kind) {
            Some(NeuronKind::Cuba { i_decay, v_decay, vth_mant }) => {
                ("CUBA", format!("iDecay {i_decay} vDecay {v_decay} vThMant {vth_mant}"))
            }
            Some(NeuronKind::Alif { i_decay, v_decay, th_decay, ref_decay, vth_mant, vth_step }) => (
                "ALIF",
                format!(
                    "iDecay {i_decay} vDecay {v_decay} thDecay {th_decay} refDecay {ref_decay} vThMant {vth_mant} \
                     vThStep {vth_step}"
                ),
            ),
            Some(NeuronKind::Sdnn { vth_mant, sigma_output }) => {
                (if *sigma_output { "SDNN-Σ" } else { "SDNN" }, format!("vThMant {vth_mant}"))
            }
            Some(NeuronKind::Rf { type_name, sin_decay, cos_decay, vth_mant }) => {
                (type_name.as_str(), format!("sinDecay {sin_decay} cosDecay {cos_decay} vThMant {vth_mant}"))
            }
            Some(NeuronKind::Other(t)) => (t.as_str(), String::new()),
            None if matches!(c.kind, LayerKind::Average { .. }) => ("-", "per-step group sums".into()),
            None => ("CUBA*", "default neuron".into()),
        };
        let shape = format!("{:?}", b.shape);
        out += &format!(
            "{:<5} {:<9} {:<16} {:<10} {:>10} {:>5}  {}\n",
            c.index, c.type_name, shape, neuron, synapses, b.output_message_bits, params
        );
    }
    // Layers without a block of their own: how they connect the blocks.
    for c in basalt_netx::read_layers(path).map_err(|e| e.to_string())? {
        match &c.kind {
            LayerKind::Flatten => {
                out += &format!("{:<5} flatten   (the next layer reads its input in CHW order)\n", c.index)
            }
            LayerKind::Concat { layers } => {
                out += &format!(
                    "{:<5} concat    {:?}: the previous layer's output joined with layers {layers:?}\n",
                    c.index,
                    c.lava_shape()
                )
            }
            _ => {}
        }
    }
    Ok(out)
}

struct RunArgs {
    gpu: bool,
    net: PathBuf,
    input: PathBuf,
    steps: u64,
    fixed: bool,
    out: PathBuf,
    probes: Vec<String>,
    sparse_fc_layer: bool,
}

fn parse_run(args: &[String]) -> Result<RunArgs, String> {
    let mut it = args.iter();
    let net = it.next().filter(|a| !a.starts_with("--")).ok_or("missing NET.net")?;
    let (mut input, mut steps, mut fixed, mut out, mut probes, mut gpu) = (None, None, true, None, Vec::new(), false);
    let mut sparse_fc_layer = false;
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--input" => input = Some(PathBuf::from(value()?)),
            "--steps" => {
                let v = value()?;
                steps = Some(
                    v.parse::<u64>()
                        .ok()
                        .filter(|&s| s > 0)
                        .ok_or(format!("--steps: `{v}` is not a positive integer"))?,
                );
            }
            "--precision" => {
                fixed = match value()?.as_str() {
                    "fixed" => true,
                    "float" => false,
                    other => return Err(format!("--precision must be fixed or float, got `{other}`")),
                }
            }
            "--backend" => {
                gpu = match value()?.as_str() {
                    "cpu" => false,
                    "gpu" if cfg!(feature = "gpu") => true,
                    other => {
                        return Err(format!(
                            "backend `{other}` is not available in this build (cpu{})",
                            if cfg!(feature = "gpu") { ", gpu" } else { "; build with --features gpu for gpu" }
                        ))
                    }
                }
            }
            "--sparse-fc-layer" => sparse_fc_layer = true,
            "--batch" => return Err("--batch is not supported yet".into()),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--probe" => probes.push(value()?),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if gpu && !probes.is_empty() {
        return Err("--probe needs the cpu backend (Monitor probes are not on the GPU yet)".into());
    }
    Ok(RunArgs {
        gpu,
        net: PathBuf::from(net),
        input: input.ok_or("missing --input X.npy")?,
        steps: steps.ok_or("missing --steps T")?,
        fixed,
        out: out.ok_or("missing --out OUT.npz")?,
        probes,
        sparse_fc_layer,
    })
}

/// `basalt run ...`: returns a summary line.
pub fn run(args: &[String]) -> Result<String, String> {
    let a = parse_run(args)?;
    let opts = Options { sparse_fc_layer: a.sparse_fc_layer, ..Options::default() };
    let mut netx = load(&a.net, &opts).map_err(|e| e.to_string())?;
    let x = npz::read_npy(&a.input).map_err(|e| e.to_string())?;
    let net = &mut netx.net;
    let in_shape = net.in_port_shape(&netx.input).map_err(|e| e.to_string())?;
    if x.shape.len() != in_shape.len() + 1 || x.shape[..in_shape.len()] != in_shape[..] {
        return Err(format!("--input has shape {:?}; expected {in_shape:?} plus a time axis", x.shape));
    }
    let data = ArrayD::from_shape_vec(IxDyn(&x.shape), x.data).map_err(|e| e.to_string())?;
    let src = net.add(source::RingBuffer::new(data)).map_err(|e| e.to_string())?;
    net.connect(src.s_out(), &netx.input).map_err(|e| e.to_string())?;
    let out_shape = net.out_port_shape(&netx.output).map_err(|e| e.to_string())?;
    let sink = net.add(sink::RingBuffer::new(&out_shape, a.steps as usize)).map_err(|e| e.to_string())?;
    net.connect(netx.output.clone(), &sink.a_in()).map_err(|e| e.to_string())?;
    let mon = if a.probes.is_empty() { None } else { Some(net.add(Monitor::new()).map_err(|e| e.to_string())?) };
    let mut probes = Vec::new();
    for (p, mon) in a.probes.iter().zip(std::iter::repeat(mon)) {
        let Some(mon) = mon else { break };
        let (proc, var) = p.rsplit_once('.').ok_or(format!("--probe `{p}` is not PROCESS.VAR"))?;
        let id = net.find(proc).map_err(|e| e.to_string())?;
        mon.probe(net, VarRef { proc: id, name: var.into() }, a.steps as usize).map_err(|e| e.to_string())?;
        probes.push((proc.to_string(), var.to_string(), p.clone()));
    }
    let cfg = if a.fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
    if a.gpu {
        return run_gpu(net, &cfg, &a, &sink.data());
    }
    let mut rt = net.runtime(&cfg).map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    // Run in chunks, reporting progress on long runs.
    let chunk = (a.steps / 20).max(1);
    let mut done = 0;
    while done < a.steps {
        let n = chunk.min(a.steps - done);
        rt.run(RunSteps::new(n)).map_err(|e| e.to_string())?;
        done += n;
        if a.steps >= 1000 {
            eprint!("\rstep {done}/{} ({:.0}%)", a.steps, 100.0 * done as f64 / a.steps as f64);
        }
    }
    if a.steps >= 1000 {
        eprintln!();
    }
    let secs = t0.elapsed().as_secs_f64();
    let out = rt.get(&sink.data()).map_err(|e| e.to_string())?;
    let mut arrays = vec![NamedArray {
        name: "out".into(),
        shape: out.shape().to_vec(),
        dtype: DType::F64,
        data: out.iter().copied().collect(),
    }];
    for (proc, var, key) in probes {
        let Some(mon) = mon else { break };
        let d = mon.data(&rt, &proc, &var).map_err(|e| e.to_string())?;
        arrays.push(NamedArray {
            name: key,
            shape: d.shape().to_vec(),
            dtype: DType::F64,
            data: d.iter().copied().collect(),
        });
    }
    npz::write(&a.out, &arrays).map_err(|e| e.to_string())?;
    Ok(format!(
        "ran {} steps of {} in {:.3} s ({:.0} steps/s); {} output spikes; wrote {}",
        a.steps,
        a.net.display(),
        secs,
        a.steps as f64 / secs,
        out.iter().filter(|&&s| s != 0.0).count(),
        a.out.display()
    ))
}

#[cfg(feature = "gpu")]
fn run_gpu(net: &Network, cfg: &RunConfig, a: &RunArgs, out_var: &VarRef) -> Result<String, String> {
    let exe = net.compile(cfg).map_err(|e| e.to_string())?;
    let device = std::sync::Arc::new(basalt_gpu::GpuDevice::new().map_err(|e| e.to_string())?);
    let name = device.describe();
    let mut rt = basalt_gpu::GpuRuntime::new(&exe, device).map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    rt.run(a.steps).map_err(|e| e.to_string())?;
    let secs = t0.elapsed().as_secs_f64();
    let out = rt.get(out_var).map_err(|e| e.to_string())?;
    let arrays = vec![NamedArray {
        name: "out".into(),
        shape: out.shape().to_vec(),
        dtype: DType::F64,
        data: out.iter().copied().collect(),
    }];
    npz::write(&a.out, &arrays).map_err(|e| e.to_string())?;
    Ok(format!(
        "ran {} steps on {name} in {secs:.3} s ({:.0} steps/s); wrote {}",
        a.steps,
        a.steps as f64 / secs,
        a.out.display()
    ))
}

#[cfg(not(feature = "gpu"))]
fn run_gpu(_net: &Network, _cfg: &RunConfig, _a: &RunArgs, _out: &VarRef) -> Result<String, String> {
    Err("this build has no GPU backend (build with --features gpu)".into())
}

/// `basalt convert IN.net OUT.net`: reads a netx network and writes it again in the layout
/// lava-dl writes (NIR conversion comes with the NIR issue).
pub fn convert(args: &[String]) -> Result<String, String> {
    let [input, output] = args else { return Err("usage: basalt convert IN.net OUT.net".into()) };
    for p in [input, output] {
        if !p.ends_with(".net") {
            return Err(format!("`{p}`: only netx (.net) files are supported so far"));
        }
    }
    let layers = basalt_netx::read_layers(input).map_err(|e| e.to_string())?;
    basalt_netx::write(output, &layers).map_err(|e| e.to_string())?;
    Ok(format!("wrote {} layers to {output}", layers.len()))
}
