//! Loading a saved executable vs compiling it from the graph, for the N = 4000
//! LIF -> Dense -> LIF network (float), and the file size against the raw weight bytes.
//! The persistence issue's benchmark.

use basalt::persist;
use basalt::prelude::*;
use basalt::walkthrough::Precision;
use basalt::workloads::lif_dense_lif;
use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("BASALT_BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(4000);
    let w = lif_dense_lif(n, Precision::Float).expect("builds");
    let cfg = RunConfig::floating_pt();
    let exe = w.net.compile(&cfg).expect("compiles");
    let dir = std::env::temp_dir().join(format!("basalt-bench-persist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = persist::save(&w.net, dir.join("net"), Some(&exe)).expect("saves");
    let size = std::fs::metadata(&path).expect("file").len() as f64;
    let raw = (n * n * 8) as f64;
    eprintln!("file {:.1} MB for {:.1} MB of raw weights: {:.4}x", size / 1e6, raw / 1e6, size / raw);

    let mut g = c.benchmark_group(format!("persistence_n{n}"));
    g.sample_size(10);
    g.bench_function("compile", |b| b.iter(|| w.net.compile(&cfg).expect("compiles")));
    let registry = Registry::with_library();
    g.bench_function("load_executable", |b| b.iter(|| persist::load_executable(&path, &registry).expect("loads")));
    g.bench_function("load_network_and_executable", |b| b.iter(|| persist::load(&path).expect("loads")));
    // What a deployment does end to end: an executable, then a runtime from it (the
    // runtime copies the values into its models' state either way).
    g.bench_function("compile_then_runtime", |b| {
        b.iter(|| Runtime::new(w.net.compile(&cfg).expect("compiles"), &registry).expect("runtime"))
    });
    g.bench_function("load_executable_then_runtime", |b| {
        b.iter(|| Runtime::new(persist::load_executable(&path, &registry).expect("loads"), &registry).expect("runtime"))
    });
    g.bench_function("save", |b| b.iter(|| persist::save(&w.net, &path, Some(&exe)).expect("saves")));
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
