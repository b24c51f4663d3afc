//! Lava's serialization tutorial: build LIF(2, bias 100, vth 120) -> Dense(10·ones(3, 2)) ->
//! LIF(3, bias 0, vth 50000), compile it, save network and executable to a file, load them
//! back, create a runtime from the loaded executable without recompiling, and run five
//! single-step runs reading the input voltage and the output current after each. Lava prints
//! input v `[100, 0, 100, 0, 100]` and output u `[0, 0, 20, 20, 40]`. Finally the runtime's
//! state is saved to HDF5 and NumPy files.
//!
//! `cargo run --release --example serialization` (files go to `target/serialization/`)

use basalt::display::numpy_str;
use basalt::persist;
use basalt::prelude::*;

fn main() -> basalt::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/serialization");
    std::fs::create_dir_all(&dir)
        .map_err(|e| basalt::Error::Io { path: dir.display().to_string(), message: e.to_string() })?;

    // Build, compile and save (Lava: `save(processes, filename, executable)`).
    {
        let mut net = Network::new();
        let lif_in = net.add_named("lif_in", Lif::new(&[2]).bias_mant(100.0).vth(120.0))?;
        let dense = net.add_named("dense", Dense::new(ndarray::Array2::from_elem((3, 2), 10.0)))?;
        let lif_out = net.add_named("lif_out", Lif::new(&[3]).bias_mant(0.0).vth(50000.0))?;
        net.connect(lif_in.s_out(), &dense.s_in())?;
        net.connect(dense.a_out(), &lif_out.a_in())?;
        let executable = net.compile(&RunConfig::floating_pt())?;
        let path = persist::save(&net, dir.join("network"), Some(&executable))?;
        println!("saved network and executable to {}", path.display());
    }

    // Load and run without recompiling (Lava: `load(filename)`, `create_runtime(executable)`).
    let (net, executable) = persist::load(dir.join("network.basalt"))?;
    let executable = executable.ok_or_else(|| basalt::Error::InvalidGraph("the file holds no executable".into()))?;
    let lif_in = Handle::<Lif>::from_id(net.find("lif_in")?);
    let lif_out = Handle::<Lif>::from_id(net.find("lif_out")?);
    let mut rt = Runtime::new(executable, &Registry::with_library())?;
    for t in 0..5 {
        rt.run(RunSteps::new(1))?;
        let v_in = rt.get(&lif_in.v())?;
        let u_out = rt.get(&lif_out.u())?;
        println!("Time step {t}: input v {} output u {}", numpy_str(&v_in), numpy_str(&u_out));
    }
    rt.save_states(dir.join("state.h5"))?;
    rt.save_states(dir.join("state.npz"))?;
    println!("saved the runtime's Vars to state.h5 and state.npz in {}", dir.display());
    rt.stop()?;
    Ok(())
}
