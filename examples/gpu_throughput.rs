//! GPU throughput of the GPU issue's workloads: LIF -> Dense -> LIF and a 4-layer dense LIF
//! stack (`basalt::workloads::dense_lif_stack`), N neurons per layer, batches of copies that
//! share the weights, float and fixed point. Prints steps/s, synaptic updates/s, the bytes/s
//! the step must at least move (`workloads::dense_lif_step_bytes`) and that as a share of
//! the device's measured copy bandwidth (the memory-bandwidth bound). `--cpu` adds the CPU
//! runtime's steps/s for batch 1 and the GPU/CPU ratio (on lavapipe only a smoke figure).
//!
//! ```text
//! cargo run --release --features gpu --example gpu_throughput -- \
//!     [--sizes 1024,4096,16384] [--batches 1,32,256] [--layers 1,4] [--steps 1000] \
//!     [--precisions fixed,float] [--cpu] [--csv]
//! ```
//! `--csv` prints comma-separated rows instead of the table (for
//! `benches/peers/gpu_compare.py`, which runs this and the PyTorch peer on the same GPU).

use std::sync::Arc;
use std::time::Instant;

use basalt::prelude::*;
use basalt::walkthrough::Precision;
use basalt::workloads::{dense_lif_stack, dense_lif_step_bytes};
use basalt_gpu::{GpuDevice, GpuRuntime};

/// Command-line settings.
struct Settings {
    sizes: Vec<usize>,
    batches: Vec<usize>,
    layers: Vec<usize>,
    steps: u64,
    precisions: Vec<Precision>,
    cpu: bool,
    csv: bool,
}

fn list<T: std::str::FromStr>(flag: &str, v: &str) -> Result<Vec<T>, String> {
    v.split(',').map(|x| x.trim().parse().map_err(|_| format!("{flag}: `{x}` is not a number"))).collect()
}

fn settings() -> Result<Settings, String> {
    let mut s = Settings {
        sizes: vec![1024, 4096],
        batches: vec![1, 32],
        layers: vec![1, 4],
        steps: 1000,
        precisions: vec![Precision::Fixed, Precision::Float],
        cpu: false,
        csv: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--cpu" || flag == "--csv" {
            s.cpu |= flag == "--cpu";
            s.csv |= flag == "--csv";
            continue;
        }
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--sizes" => s.sizes = list(flag, value)?,
            "--batches" => s.batches = list(flag, value)?,
            "--layers" => s.layers = list(flag, value)?,
            "--steps" => s.steps = list::<u64>(flag, value)?.first().copied().unwrap_or(1000),
            "--precisions" => {
                s.precisions = value
                    .split(',')
                    .map(|p| match p {
                        "fixed" => Ok(Precision::Fixed),
                        "float" => Ok(Precision::Float),
                        other => Err(format!("--precisions: `{other}` is not fixed or float")),
                    })
                    .collect::<Result<_, _>>()?
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(s)
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let s = settings()?;
    let gpu = Arc::new(GpuDevice::new()?);
    let bound = gpu.copy_bandwidth(1 << 28, 20)?;
    if s.csv {
        println!("# device,{},copy_bandwidth_bytes_per_s,{bound:.0}", gpu.describe().replace(',', ";"));
        println!("layers,precision,n,batch,steps,steps_per_s,synaptic_updates_per_s,bytes_per_s,share_of_bound,cpu_steps_per_s");
    } else {
        println!("device: {}", gpu.describe());
        println!("copy bandwidth (256 MiB buffer to buffer, read + write): {:.1} GB/s", bound / 1e9);
        println!(
            "{:<8} {:<6} {:>6} {:>6} {:>6} {:>10} {:>14} {:>10} {:>8} {:>10}",
            "layers", "prec", "N", "batch", "steps", "steps/s", "syn upd/s", "GB/s", "of bound", "gpu/cpu"
        );
    }
    for &layers in &s.layers {
        for &precision in &s.precisions {
            for &n in &s.sizes {
                let stack = dense_lif_stack(n, layers, precision)?;
                let exe = stack.net.compile(&precision.run_config())?;
                let cpu_rate = if s.cpu {
                    let mut rt = Runtime::new(exe.clone(), precision.run_config().registry())?;
                    rt.run(RunSteps::new(1))?;
                    let steps = (s.steps / 10).max(1);
                    let t0 = Instant::now();
                    rt.run(RunSteps::new(steps))?;
                    Some(steps as f64 / t0.elapsed().as_secs_f64())
                } else {
                    None
                };
                for &batch in &s.batches {
                    let mut rt = match GpuRuntime::with_batch(&exe, gpu.clone(), batch) {
                        Ok(rt) => rt,
                        Err(e) => {
                            let lead = if s.csv { "# " } else { "" };
                            println!("{lead}{layers:<8} {:<6} {n:>6} {batch:>6}  skipped: {e}", precision.name());
                            continue;
                        }
                    };
                    rt.run(1)?; // first submission: pipelines, page faults
                    let t0 = Instant::now();
                    rt.run(s.steps)?;
                    let rate = s.steps as f64 / t0.elapsed().as_secs_f64();
                    let bytes = dense_lif_step_bytes(n, layers, batch) as f64 * rate;
                    let updates = (layers * n * n * batch) as f64 * rate;
                    let ratio = match cpu_rate {
                        Some(c) if batch == 1 => format!("{:.2}", rate / c),
                        _ => "-".into(),
                    };
                    if s.csv {
                        let cpu = cpu_rate.map_or(String::new(), |c| format!("{c:.1}"));
                        println!(
                            "{layers},{},{n},{batch},{},{rate:.2},{updates:.0},{bytes:.0},{:.4},{cpu}",
                            precision.name(),
                            s.steps,
                            bytes / bound
                        );
                        continue;
                    }
                    println!(
                        "{layers:<8} {:<6} {n:>6} {batch:>6} {:>6} {rate:>10.1} {updates:>14.3e} {:>10.2} {:>7.1}% {ratio:>10}",
                        precision.name(),
                        s.steps,
                        bytes / 1e9,
                        100.0 * bytes / bound
                    );
                }
            }
        }
    }
    Ok(())
}
