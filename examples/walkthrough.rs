//! Lava's walkthrough in Rust: LIF(3) -> Dense(2x3) -> LIF(2), monitors on v, u and the
//! spikes of both populations, run for 100 steps in float and in bit-accurate fixed point,
//! printing what the Lava script prints and plotting both LIF voltages to PNG.
//!
//! `cargo run --release --example walkthrough` (plots go to `target/plots/`).

use basalt::display::numpy_str;
use basalt::walkthrough::{first_spikes, run, Precision};
use ndarray::{s, Axis};

fn main() -> basalt::Result<()> {
    let out_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/plots");
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| basalt::Error::Io { path: out_dir.display().to_string(), message: e.to_string() })?;
    for precision in [Precision::Float, Precision::Fixed] {
        let steps = 100;
        let r = run(precision, steps)?;
        let tag = precision.run_config().select_tag.unwrap_or_default();
        println!("mode={} select_tag={tag} run({steps}): {:.3} ms", precision.name(), r.run_time.as_secs_f64() * 1e3);
        let models: Vec<String> =
            r.runtime.executable().processes.iter().take(3).map(|p| format!("{}: {}", p.name, p.model)).collect();
        println!("models: {{{}}}", models.join(", "));
        println!("dense weights after model init: {}", numpy_str(&r.runtime.get(&r.walkthrough.dense.weights())?));
        for key in [("lif1", "v"), ("lif2", "v"), ("lif1", "u"), ("lif2", "u"), ("lif1", "s_out"), ("lif2", "s_out")] {
            println!("--- {}_{} first 20 steps (rows = t=1..20):", key.0, if key.1 == "s_out" { "s" } else { key.1 });
            println!("{}", numpy_str(&r.data[key.0][key.1].slice(s![..20, ..]).to_owned().into_dyn()));
        }
        let s1 = &r.data["lif1"]["s_out"];
        let s2 = &r.data["lif2"]["s_out"];
        println!("spike counts lif1: {} lif2: {}", numpy_str(&s1.sum_axis(Axis(0))), numpy_str(&s2.sum_axis(Axis(0))));
        println!("first spike steps lif1 (1-based): {:?}", first_spikes(s1, 5));
        println!("first spike steps lif2 (1-based): {:?}", first_spikes(s2, 5));
        for lif in ["lif1", "lif2"] {
            let path = out_dir.join(format!("walkthrough_{}_{lif}_v.png", precision.name()));
            r.walkthrough.monitor.plot(&r.runtime, lif, "v", &path)?;
            println!("plotted {lif}.v to {}", path.display());
        }
        println!();
    }
    Ok(())
}
