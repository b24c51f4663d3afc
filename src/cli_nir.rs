//! The NIR side of the `basalt` command: `basalt convert` between netx `.net` and NIR `.nir`
//! files, and `basalt run MODEL.nir` (float simulation with a time step).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use basalt_core::model::DType;
use basalt_core::persist::{npz, NamedArray};
use ndarray::Array2;

/// Usage of `basalt run MODEL.nir`.
pub const RUN_NIR_USAGE: &str =
    "usage: basalt run MODEL.nir --input X.npy --steps T --out OUT.npz [--dt SECONDS] [--backend cpu|gpu]

Simulates a NIR graph in float with time step dt (default 1e-4 s, snnTorch's and NIR's Lava
bridge's), on the CPU (f64) or, in builds with `--features gpu`, on the GPU (f32). X holds
the graph's one Input, flattened, shape (n, T') with time last (T' >= T). OUT.npz gets one
array per Output node, shape (size, T), named after the node.";

fn dt_arg(args: &[String]) -> Result<(Vec<String>, f64), String> {
    let mut rest = Vec::new();
    let mut dt = basalt_nir::Options::default().dt;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--dt" {
            let v = it.next().ok_or("--dt needs a value")?;
            dt = v
                .parse::<f64>()
                .ok()
                .filter(|d| *d > 0.0 && d.is_finite())
                .ok_or(format!("--dt: `{v}` is not a positive number of seconds"))?;
        } else {
            rest.push(a.clone());
        }
    }
    Ok((rest, dt))
}

fn is_nir(p: &str) -> bool {
    Path::new(p).extension().is_some_and(|e| e == "nir")
}

fn is_basalt(p: &str) -> bool {
    Path::new(p).extension().is_some_and(|e| e == basalt_core::persist::DEFAULT_EXTENSION)
}

fn is_netx(p: &str) -> bool {
    Path::new(p).extension().is_some_and(|e| e == "net")
}

/// `basalt convert IN OUT [--dt S]`: netx -> netx (rewritten as lava-dl writes it),
/// netx -> NIR, NIR -> netx (Loihi fixed-point parameters), NIR -> NIR, and a saved
/// Basalt network (`.basalt`) -> NIR.
pub fn convert(args: &[String]) -> Result<String, String> {
    let (rest, dt) = dt_arg(args)?;
    let [input, output] = &rest[..] else {
        return Err("usage: basalt convert IN.net|IN.nir|IN.basalt OUT.net|OUT.nir [--dt SECONDS]".into());
    };
    let e = |e: basalt_nir::NirError| e.to_string();
    for p in [input, output] {
        if !(is_nir(p) || is_netx(p) || (p == input && is_basalt(p))) {
            return Err(format!(
                "`{p}`: the file name must end in .net (netx) or .nir (NIR){}",
                if p == input { ", or .basalt (a saved network, exported to NIR)" } else { "" }
            ));
        }
    }
    let graph = if is_nir(input) {
        basalt_nir::read(input).map_err(e)?
    } else if is_basalt(input) && is_nir(output) {
        let (net, _) = basalt_core::persist::load(input).map_err(|e| e.to_string())?;
        basalt_nir::network_to_nir(&net, dt).map_err(e)?
    } else if is_basalt(input) {
        return Err(format!("`{input}`: a saved Basalt network converts to NIR only (OUT.nir)"));
    } else if is_nir(output) {
        basalt_nir::netx_to_nir(&basalt_netx::read_layers(input).map_err(|e| e.to_string())?, dt).map_err(e)?
    } else {
        return crate::cli_netx::convert(&rest);
    };
    if is_nir(output) {
        basalt_nir::write(output, &graph).map_err(e)?;
        Ok(format!(
            "wrote a NIR graph of {} nodes and {} edges to {output} (dt = {dt} s)",
            graph.nodes.len(),
            graph.edges.len()
        ))
    } else {
        let layers = basalt_nir::nir_to_netx(&graph, dt).map_err(e)?;
        basalt_netx::write(output, &layers).map_err(|e| e.to_string())?;
        Ok(format!("wrote {} netx layers to {output} (dt = {dt} s)", layers.len()))
    }
}

/// Whether `basalt run` arguments name a NIR model.
pub fn is_nir_run(args: &[String]) -> bool {
    args.first().is_some_and(|a| is_nir(a))
}

/// `basalt run MODEL.nir ...`: returns a summary line.
pub fn run(args: &[String]) -> Result<String, String> {
    let (rest, dt) = dt_arg(args)?;
    let mut it = rest.iter();
    let model = it.next().ok_or("missing MODEL.nir")?;
    let (mut input, mut steps, mut out, mut gpu) = (None, None, None, false);
    while let Some(a) = it.next() {
        let v = it.next().ok_or(format!("{a} needs a value"))?;
        match a.as_str() {
            "--input" => input = Some(v.clone()),
            "--out" => out = Some(v.clone()),
            "--backend" => gpu = crate::cli_netx::parse_backend(v)?,
            "--steps" => {
                steps = Some(
                    v.parse::<usize>()
                        .ok()
                        .filter(|&s| s > 0)
                        .ok_or(format!("--steps: `{v}` is not a positive integer"))?,
                )
            }
            other => return Err(format!("unknown argument `{other}` (basalt run --help)")),
        }
    }
    let (input, steps, out) =
        (input.ok_or("missing --input X.npy")?, steps.ok_or("missing --steps T")?, out.ok_or("missing --out OUT.npz")?);
    let graph = basalt_nir::read(model).map_err(|e| e.to_string())?;
    let x = npz::read_npy(Path::new(&input)).map_err(|e| e.to_string())?;
    let [n, t] = x.shape[..] else {
        return Err(format!("--input has shape {:?}; expected (n, T) with time last", x.shape));
    };
    if t < steps {
        return Err(format!("--input has {t} steps, fewer than --steps {steps}"));
    }
    let names: Vec<String> = graph
        .nodes
        .iter()
        .filter(|(_, n)| matches!(n, basalt_nir::Node::Input { .. }))
        .map(|(k, _)| k.clone())
        .collect();
    let [name] = &names[..] else {
        return Err(format!("the graph has {} Input nodes; `basalt run` drives exactly one", names.len()));
    };
    let data = Array2::from_shape_vec((n, t), x.data).map_err(|e| e.to_string())?;
    let per_step = data.slice(ndarray::s![.., ..steps]).t().to_owned();
    let t0 = Instant::now();
    let inputs = BTreeMap::from([(name.clone(), per_step)]);
    let opts = basalt_nir::Options { dt };
    let (outs, device) = if gpu {
        simulate_gpu(&graph, &opts, &inputs)?
    } else {
        (basalt_nir::simulate(&graph, &opts, &inputs).map_err(|e| e.to_string())?, "cpu".to_string())
    };
    let secs = t0.elapsed().as_secs_f64();
    let arrays: Vec<NamedArray> = outs
        .iter()
        .map(|(k, v)| NamedArray {
            name: k.clone(),
            shape: vec![v.ncols(), v.nrows()],
            dtype: DType::F64,
            data: v.t().iter().copied().collect(),
        })
        .collect();
    npz::write(Path::new(&out), &arrays).map_err(|e| e.to_string())?;
    let summary: Vec<String> =
        outs.iter().map(|(k, v)| format!("{k}: {} values, sum {:.4}", v.len(), v.sum())).collect();
    Ok(format!(
        "simulated {model} for {steps} steps of dt = {dt} s on {device} in {secs:.3} s (build included); {}; wrote {out}",
        summary.join("; ")
    ))
}

/// The outputs of a NIR simulation, and the device it ran on.
type Simulated = (BTreeMap<String, Array2<f64>>, String);

/// Simulates on the GPU backend.
#[cfg(feature = "gpu")]
fn simulate_gpu(
    graph: &basalt_nir::Graph,
    opts: &basalt_nir::Options,
    inputs: &BTreeMap<String, Array2<f64>>,
) -> Result<Simulated, String> {
    let device = std::sync::Arc::new(basalt_gpu::GpuDevice::new().map_err(|e| e.to_string())?);
    let name = device.describe();
    let outs = basalt_nir::simulate_on(graph, opts, inputs, |exe| Ok(basalt_gpu::GpuRuntime::new(&exe, device)?))
        .map_err(|e| e.to_string())?;
    Ok((outs, name))
}

#[cfg(not(feature = "gpu"))]
fn simulate_gpu(
    _graph: &basalt_nir::Graph,
    _opts: &basalt_nir::Options,
    _inputs: &BTreeMap<String, Array2<f64>>,
) -> Result<Simulated, String> {
    Err("this build has no GPU backend (build with --features gpu)".into())
}
