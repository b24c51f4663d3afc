//! The GPU issue's benchmark on whatever adapter wgpu finds: the dense LIF stack
//! (`basalt::workloads::dense_lif_stack`: 1 layer = LIF -> Dense -> LIF, and 4 layers), N
//! neurons per layer, batches of copies sharing the weights, float and fixed point, T = 1000
//! steps per iteration, each plan fused (the default) and unfused. Throughput is in elements/s = simulated steps per second. Sizes and
//! batches: `BASALT_BENCH_SIZES` (default 1024) and `BASALT_BENCH_BATCHES` (default 1, as
//! lavapipe is slow; on a GPU use 1,32,256). `examples/gpu_throughput.rs` prints the derived
//! figures (synaptic updates/s, bytes/s against the measured copy bandwidth) and
//! `benches/peers/gpu_compare.py` sets them beside PyTorch on the same GPU.
//!
//! `cargo bench --features gpu --bench gpu`

use std::sync::Arc;

use basalt::walkthrough::Precision;
use basalt::workloads::{dense_lif_stack, sdnn_conv_stack};
use basalt_gpu::{GpuDevice, GpuRuntime, PlanOptions};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const STEPS: u64 = 1000;

fn list(var: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(var)
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

fn bench(c: &mut Criterion) {
    let gpu = Arc::new(GpuDevice::new().expect("a GPU adapter (install mesa-vulkan-drivers for lavapipe)"));
    eprintln!("GPU benchmark on {}", gpu.describe());
    let mut group = c.benchmark_group("gpu_dense_lif_1000_steps");
    group.throughput(Throughput::Elements(STEPS));
    group.sample_size(10);
    for layers in [1, 4] {
        for precision in [Precision::Fixed, Precision::Float] {
            for n in list("BASALT_BENCH_SIZES", &[1024]) {
                let stack = dense_lif_stack(n, layers, precision).expect("network builds");
                let exe = stack.net.compile(&precision.run_config()).expect("compiles");
                for batch in list("BASALT_BENCH_BATCHES", &[1]) {
                    // The plan as built by default (each Dense fused with the LIF it feeds),
                    // and unfused: the peer the fusion is measured against.
                    for fuse in [true, false] {
                        let options = PlanOptions { batch, fuse };
                        let mut rt = GpuRuntime::with_options(&exe, gpu.clone(), options).expect("plan builds");
                        rt.run(1).expect("runs");
                        let plan = if fuse { "fused" } else { "unfused" };
                        let id = BenchmarkId::new(
                            format!("{layers}_layers_{}_{plan}", precision.name()),
                            format!("n{n}_b{batch}"),
                        );
                        group.bench_function(id, |b| b.iter(|| rt.run(STEPS).expect("runs")));
                    }
                }
            }
        }
    }
    group.finish();
}

/// The PilotNet-like sigma-delta network (`basalt::workloads::sdnn_conv_stack`: two Convs
/// and a Dense, each feeding a SigmaDelta population), fused (three pairs) and unfused, in
/// both precisions, batch 1, T = 1000.
fn sdnn_conv(c: &mut Criterion) {
    let gpu = Arc::new(GpuDevice::new().expect("a GPU adapter (install mesa-vulkan-drivers for lavapipe)"));
    let mut group = c.benchmark_group("gpu_sdnn_conv_1000_steps");
    group.throughput(Throughput::Elements(STEPS));
    group.sample_size(10);
    for precision in [Precision::Fixed, Precision::Float] {
        let stack = sdnn_conv_stack(precision).expect("network builds");
        let exe = stack.net.compile(&precision.run_config()).expect("compiles");
        for fuse in [true, false] {
            let mut rt = GpuRuntime::with_options(&exe, gpu.clone(), PlanOptions { batch: 1, fuse }).expect("plan");
            assert_eq!(rt.fused_synapses().len(), if fuse { 3 } else { 0 }, "every pair fuses");
            // The last layer sends messages (the benchmark does not time an idle network).
            rt.run(16).expect("runs");
            let sent = rt.get(&stack.output).expect("output").iter().filter(|&&x| x != 0.0).count();
            assert!(sent > 100, "{sent} messages in 16 steps");
            eprintln!("sdnn {} (fused: {fuse}): {sent} of 1600 outputs non-zero", precision.name());
            let plan = if fuse { "fused" } else { "unfused" };
            let id = BenchmarkId::new(format!("{}_{plan}", precision.name()), "b1");
            group.bench_function(id, |b| b.iter(|| rt.run(STEPS).expect("runs")));
        }
    }
    group.finish();
}

/// Building a plan in a new process: a fresh device (as a new process opens) builds the
/// 4-layer fixed-point stack's plan with its pipeline cache cold (an empty directory: every
/// kernel compiled by the driver) and warm (the file the cold build saved).
fn plan_build(c: &mut Criterion) {
    let stack = dense_lif_stack(256, 4, Precision::Fixed).expect("network builds");
    let exe = stack.net.compile(&Precision::Fixed.run_config()).expect("compiles");
    let dir = std::env::temp_dir().join(format!("basalt-bench-pipeline-cache-{}", std::process::id()));
    let build = |fresh: bool| {
        if fresh {
            let _ = std::fs::remove_dir_all(&dir);
        }
        let gpu = Arc::new(GpuDevice::with_pipeline_cache(Some(dir.clone())).expect("a GPU adapter"));
        GpuRuntime::new(&exe, gpu).expect("plan builds")
    };
    let mut group = c.benchmark_group("gpu_plan_build_fresh_device");
    group.sample_size(10);
    group.bench_function("pipeline_cache_cold", |b| b.iter(|| build(true)));
    build(true);
    group.bench_function("pipeline_cache_warm", |b| b.iter(|| build(false)));
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench, sdnn_conv, plan_build);
criterion_main!(benches);
