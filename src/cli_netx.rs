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
                  [--backend cpu] [--batch B] [--sparse-fc-layer] --out OUT.npz
                  [--probe PROCESS.VAR ...]

Loads a lava-dl netx network and runs it for T steps.
  --input X.npy   array whose last axis is time and whose other axes are the input
                  layer's shape in Lava's order (WHC for images, (N,) for dense); it is
                  played in a loop into the network's input: the input layer's neuron a_in
                  (as lava-dl's tests do), or the first synapse when there is no input layer.
  --out OUT.npz   written with `out`: the output layer's spikes, shape (..., T), and one
                  array per --probe, shape (T, ...).
  --probe P.V     a Var to record, e.g. layer1.neuron.v (processes are named
                  layer<i>.neuron and layer<i>.synapse; see `basalt info`).
  --batch B       run B independent copies of the network (separate state) in one run;
                  --input may then have a leading batch axis of B (otherwise every copy
                  gets the same input), and `out` and the probes gain a leading axis B.
                  On the GPU the copies share one set of weights (one plan, batched
                  kernels); on the CPU the network is replicated B times.
  --precision     fixed (Loihi bit-accurate, default) or float.
  --sparse-fc-layer
                  build dense layers with Sparse synapses (lava-dl's sparse_fc_layer).
  --backend       cpu (default) or gpu (when built with `--features gpu`; the GPU backend
                  runs every netx layer kind: CUBA, ALIF, sigma-delta, Dense, Conv, ...).";

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
    batch: usize,
}

fn parse_run(args: &[String]) -> Result<RunArgs, String> {
    let mut it = args.iter();
    let net = it.next().filter(|a| !a.starts_with("--")).ok_or("missing NET.net")?;
    let (mut input, mut steps, mut fixed, mut out, mut probes, mut gpu) = (None, None, true, None, Vec::new(), false);
    let mut sparse_fc_layer = false;
    let mut batch = 1;
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
            "--backend" => gpu = parse_backend(&value()?)?,
            "--sparse-fc-layer" => sparse_fc_layer = true,
            "--batch" => {
                let v = value()?;
                batch = v
                    .parse::<usize>()
                    .ok()
                    .filter(|&b| b > 0)
                    .ok_or(format!("--batch: `{v}` is not a positive integer"))?;
            }
            "--out" => out = Some(PathBuf::from(value()?)),
            "--probe" => probes.push(value()?),
            other => return Err(format!("unknown argument `{other}`")),
        }
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
        batch,
    })
}

/// One array per batch copy as a named array: stacked along a new leading (batch) axis, or,
/// without a batch, the single copy's array as it is.
fn batch_array(name: String, parts: &[ArrayD<f64>], batched: bool) -> NamedArray {
    let mut shape = if batched { vec![parts.len()] } else { Vec::new() };
    shape.extend_from_slice(parts.first().map_or(&[][..], |p| p.shape()));
    NamedArray { name, shape, dtype: DType::F64, data: parts.iter().flat_map(|p| p.iter().copied()).collect() }
}

/// `basalt run ...`: returns a summary line.
pub fn run(args: &[String]) -> Result<String, String> {
    let a = parse_run(args)?;
    let e = |e: basalt_core::Error| e.to_string();
    let mut net = Network::new();
    let mut parts = Vec::new();
    // The GPU runs the batch as one plan whose copies share the weights; the CPU replicates
    // the network (copies share nothing but the file: names b<k>.layer<i>...).
    let replicas = if a.gpu { 1 } else { a.batch };
    for k in 0..replicas {
        let name_prefix = if replicas > 1 { format!("b{k}.") } else { String::new() };
        let opts = Options { sparse_fc_layer: a.sparse_fc_layer, name_prefix, ..Options::default() };
        parts.push(basalt_netx::load_into(&mut net, &a.net, &opts).map_err(|e| e.to_string())?);
    }
    let x = npz::read_npy(&a.input).map_err(|e| e.to_string())?;
    let in_shape = net.in_port_shape(&parts[0].input).map_err(e)?;
    let per_copy: Vec<usize> = in_shape.iter().copied().chain(x.shape.last().copied()).collect();
    let batched = a.batch > 1 && x.shape.len() == per_copy.len() + 1 && x.shape[0] == a.batch;
    if x.shape.len() != in_shape.len() + 1 + usize::from(batched) || x.shape[usize::from(batched)..] != per_copy[..] {
        return Err(format!(
            "--input has shape {:?}; expected {in_shape:?} plus a time axis{}",
            x.shape,
            if a.batch > 1 { format!(", optionally after a batch axis of {}", a.batch) } else { String::new() }
        ));
    }
    let copy_len: usize = per_copy.iter().product();
    let out_shape = net.out_port_shape(&parts[0].output).map_err(e)?;
    let mon = if a.probes.is_empty() { None } else { Some(net.add(Monitor::new()).map_err(e)?) };
    let mut sinks = Vec::new();
    let mut sources = Vec::new();
    let mut probes = Vec::new();
    for (k, part) in parts.iter().enumerate() {
        let start = if batched { k * copy_len } else { 0 };
        let data = ArrayD::from_shape_vec(IxDyn(&per_copy), x.data[start..start + copy_len].to_vec())
            .map_err(|e| e.to_string())?;
        let src = net.add(source::RingBuffer::new(data)).map_err(e)?;
        net.connect(src.s_out(), &part.input).map_err(e)?;
        sources.push(src.data());
        let sink = net.add(sink::RingBuffer::new(&out_shape, a.steps as usize)).map_err(e)?;
        net.connect(part.output.clone(), &sink.a_in()).map_err(e)?;
        sinks.push(sink.data());
        let Some(mon) = &mon else { continue };
        for p in &a.probes {
            let (proc, var) = p.rsplit_once('.').ok_or(format!("--probe `{p}` is not PROCESS.VAR"))?;
            let proc = if replicas > 1 { format!("b{k}.{proc}") } else { proc.to_string() };
            let id = net.find(&proc).map_err(e)?;
            mon.probe(&mut net, VarRef { proc: id, name: var.into() }, a.steps as usize).map_err(e)?;
            probes.push((proc, var.to_string(), p.clone()));
        }
    }
    let cfg = if a.fixed { RunConfig::fixed_pt() } else { RunConfig::floating_pt() };
    let mut sim: Box<dyn Simulator> = if a.gpu {
        // Every copy's input: the batch axis of --input, or the same input for all.
        let input = ArrayD::from_shape_vec(IxDyn(&x.shape), x.data.clone()).map_err(|e| e.to_string())?;
        start_gpu(&net, &cfg, a.batch, &sources[0], &input)?
    } else {
        Box::new(net.runtime(&cfg).map_err(e)?)
    };
    let device = sim.device();
    let t0 = Instant::now();
    // Run in chunks, reporting progress on long runs.
    let chunk = (a.steps / 20).max(1);
    let mut done = 0;
    while done < a.steps {
        let n = chunk.min(a.steps - done);
        sim.advance(n).map_err(e)?;
        done += n;
        if a.steps >= 1000 {
            eprint!("\rstep {done}/{} ({:.0}%)", a.steps, 100.0 * done as f64 / a.steps as f64);
        }
    }
    if a.steps >= 1000 {
        eprintln!();
    }
    let secs = t0.elapsed().as_secs_f64();
    // One array per copy: a replica's, or a slice of the GPU's batch axis.
    let gpu_batch = a.gpu && a.batch > 1;
    let split = |a: ArrayD<f64>| -> Vec<ArrayD<f64>> {
        if gpu_batch {
            a.outer_iter().map(|c| c.to_owned()).collect()
        } else {
            vec![a]
        }
    };
    let outs: Vec<ArrayD<f64>> =
        sinks.iter().map(|s| sim.read(s).map(split)).collect::<Result<Vec<_>>>().map_err(e)?.concat();
    let mut recorded: Vec<(String, Vec<ArrayD<f64>>)> = Vec::new();
    if let Some(mon) = &mon {
        for (proc, var, key) in &probes {
            let d = split(mon.data(sim.as_ref(), proc, var).map_err(e)?);
            match recorded.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => v.extend(d),
                None => recorded.push((key.clone(), d)),
            }
        }
    }
    let spikes = outs.iter().flat_map(|o| o.iter()).filter(|&&s| s != 0.0).count();
    let batched = a.batch > 1;
    let mut arrays = vec![batch_array("out".into(), &outs, batched)];
    arrays.extend(recorded.into_iter().map(|(key, parts)| batch_array(key, &parts, batched)));
    npz::write(&a.out, &arrays).map_err(|e| e.to_string())?;
    Ok(format!(
        "ran {} steps x batch {} of {} on {device} in {secs:.3} s ({:.0} steps/s, {:.0} sample-steps/s); {spikes} output spikes; wrote {}",
        a.steps,
        a.batch,
        a.net.display(),
        a.steps as f64 / secs,
        (a.steps * a.batch as u64) as f64 / secs,
        a.out.display()
    ))
}

/// `--backend cpu|gpu` of `basalt run`: whether to run on the GPU (only in builds with the
/// `gpu` feature).
pub(crate) fn parse_backend(value: &str) -> Result<bool, String> {
    match value {
        "cpu" => Ok(false),
        "gpu" if cfg!(feature = "gpu") => Ok(true),
        other => Err(format!(
            "backend `{other}` is not available in this build (cpu{})",
            if cfg!(feature = "gpu") { ", gpu" } else { "; build with --features gpu for gpu" }
        )),
    }
}

/// The GPU runtime of `batch` copies of a network sharing its weights (only in builds with
/// the `gpu` feature), with `input` (one copy's data, or every copy's after a batch axis)
/// written into the source RingBuffer's `data`.
#[cfg(feature = "gpu")]
fn start_gpu(
    net: &Network,
    cfg: &RunConfig,
    batch: usize,
    source: &VarRef,
    input: &ArrayD<f64>,
) -> Result<Box<dyn Simulator>, String> {
    let exe = net.compile(cfg).map_err(|e| e.to_string())?;
    let device = std::sync::Arc::new(basalt_gpu::GpuDevice::new().map_err(|e| e.to_string())?);
    let mut rt = basalt_gpu::GpuRuntime::with_batch(&exe, device, batch).map_err(|e| e.to_string())?;
    rt.set(source, input).map_err(|e| e.to_string())?;
    Ok(Box::new(rt))
}

#[cfg(not(feature = "gpu"))]
fn start_gpu(
    _net: &Network,
    _cfg: &RunConfig,
    _batch: usize,
    _source: &VarRef,
    _input: &ArrayD<f64>,
) -> Result<Box<dyn Simulator>, String> {
    Err("this build has no GPU backend (build with --features gpu)".into())
}

/// `basalt convert IN.net OUT.net`: reads a netx network and writes it again in the layout
/// lava-dl writes (`basalt convert` with a `.nir` side goes through [`crate::cli_nir::convert`]).
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
