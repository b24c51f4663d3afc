//! The simulation part of Lava's serialization tutorial: LIF(2, bias 100, vth 120) ->
//! Dense(10·ones(3, 2)) -> LIF(3, bias 0, vth 50000) in float, run as five single-step runs,
//! reading the input voltage and the output current after each. Lava prints input v
//! `[100, 0, 100, 0, 100]` and output u `[0, 0, 20, 20, 40]` for the five steps.
//! (Saving and loading the compiled network is added by the persistence issue.)
//!
//! `cargo run --release --example serialization`

use basalt::display::numpy_str;
use basalt::prelude::*;

fn main() -> basalt::Result<()> {
    let mut net = Network::new();
    let lif_in = net.add_named("lif_in", Lif::new(&[2]).bias_mant(100.0).vth(120.0))?;
    let dense = net.add_named(
        "dense",
        Dense::new(ndarray::Array2::from_elem((3, 2), 10.0)),
    )?;
    let lif_out = net.add_named("lif_out", Lif::new(&[3]).bias_mant(0.0).vth(50000.0))?;
    net.connect(lif_in.s_out(), &dense.s_in())?;
    net.connect(dense.a_out(), &lif_out.a_in())?;

    let mut rt = net.runtime(&RunConfig::floating_pt())?;
    for t in 0..5 {
        rt.run(RunSteps::new(1))?;
        let v_in = rt.get(&lif_in.v())?;
        let u_out = rt.get(&lif_out.u())?;
        println!(
            "Time step {t}: input v {} output u {}",
            numpy_str(&v_in),
            numpy_str(&u_out)
        );
    }
    rt.stop()?;
    Ok(())
}
