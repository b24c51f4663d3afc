//! Benchmark networks, defined identically here and in the peer scripts under
//! `benches/peers/` so that Basalt and Lava are timed (and their traces compared) on the
//! same workload.

use crate::prelude::*;
use crate::walkthrough::Precision;

/// Handles of the LIF(N) -> Dense(N x N) -> LIF(N) network.
pub struct LifDenseLif {
    /// The network.
    pub net: Network,
    /// Biased input population.
    pub lif1: Handle<Lif>,
    /// All-to-all connection.
    pub dense: Handle<Dense>,
    /// Output population.
    pub lif2: Handle<Lif>,
}

impl LifDenseLif {
    /// A network `lif1 -> dense -> lif2` (processes named so) from the three processes.
    pub fn chain(lif1: Lif, dense: Dense, lif2: Lif) -> Result<Self> {
        let mut net = Network::new();
        let lif1 = net.add_named("lif1", lif1)?;
        let dense = net.add_named("dense", dense)?;
        let lif2 = net.add_named("lif2", lif2)?;
        net.connect(lif1.s_out(), &dense.s_in())?;
        net.connect(dense.a_out(), &lif2.a_in())?;
        Ok(LifDenseLif { net, lif1, dense, lif2 })
    }
}

/// Weight exponent of the benchmark: `-(floor(log2 N) - 2)`.
pub fn weight_exp(n: usize) -> i32 {
    -((n.max(1).ilog2() as i32) - 2)
}

/// The benchmark network of `benches/lif_dense_lif.rs` (no RNG; see
/// `benches/peers/lava_lif_dense_lif.py` for the same definition in Lava):
/// `Wint[i,j] = (31 i + 17 j) mod 101`, `b[i] = 1 + ((37 i) mod 101) / 202`;
/// float: LIF(vth 10, du=dv=0.1, bias b) -> Dense(Wint·2^wexp/100) -> LIF(vth 10, du=dv=0.1);
/// fixed: LIF(vth 1000, du=dv=409, bias_mant round(800 b), bias_exp 3) -> Dense(Wint,
/// weight_exp wexp) -> LIF(vth 1000, du=dv=409).
pub fn lif_dense_lif(n: usize, precision: Precision) -> Result<LifDenseLif> {
    let wexp = weight_exp(n);
    let wint = ndarray::Array2::from_shape_fn((n, n), |(i, j)| ((31 * i + 17 * j) % 101) as f64);
    let b: Vec<f64> = (0..n).map(|i| 1.0 + ((37 * i) % 101) as f64 / 202.0).collect();
    let (l1, d, l2) = match precision {
        Precision::Float => (
            Lif::new(&[n]).vth(10.0).du(0.1).dv(0.1).bias_mant(b),
            Dense::new(wint.mapv(|w| w * 2f64.powi(wexp) / 100.0)),
            Lif::new(&[n]).vth(10.0).du(0.1).dv(0.1),
        ),
        Precision::Fixed => (
            Lif::new(&[n])
                .vth(1000.0)
                .du(409.0)
                .dv(409.0)
                .bias_mant(b.iter().map(|x| (800.0 * x).round_ties_even()).collect::<Vec<_>>())
                .bias_exp(3.0),
            Dense::new(wint).weight_exp(wexp),
            Lif::new(&[n]).vth(1000.0).du(409.0).dv(409.0),
        ),
    };
    let mut net = Network::new();
    let lif1 = net.add_named("lif1", l1)?;
    let dense = net.add_named("dense", d)?;
    let lif2 = net.add_named("lif2", l2)?;
    net.connect(lif1.s_out(), &dense.s_in())?;
    net.connect(dense.a_out(), &lif2.a_in())?;
    Ok(LifDenseLif { net, lif1, dense, lif2 })
}
