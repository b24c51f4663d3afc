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
    let (l1, d, l2) = layer_processes(n, precision);
    LifDenseLif::chain(l1, d, l2)
}

/// The three processes of [`lif_dense_lif`]: the biased input population, the N x N Dense
/// and the unbiased population it feeds.
fn layer_processes(n: usize, precision: Precision) -> (Lif, Dense, Lif) {
    let wexp = weight_exp(n);
    let wint = ndarray::Array2::from_shape_fn((n, n), |(i, j)| ((31 * i + 17 * j) % 101) as f64);
    let b: Vec<f64> = (0..n).map(|i| 1.0 + ((37 * i) % 101) as f64 / 202.0).collect();
    match precision {
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
    }
}

/// Handles of the dense LIF stack: `lif0 -> dense1 -> lif1 -> ... -> dense<L> -> lif<L>`.
pub struct DenseLifStack {
    /// The network.
    pub net: Network,
    /// The populations, input (biased) first.
    pub lifs: Vec<Handle<Lif>>,
    /// The N x N Dense connections, `dense[k]` feeding `lifs[k + 1]`.
    pub dense: Vec<Handle<Dense>>,
}

/// The GPU issue's benchmark: `layers` Dense(N x N) -> LIF(N) layers after the input
/// population, with [`lif_dense_lif`]'s Dense and every population biased as its input
/// population (so that deep layers stay active; `benches/peers/torch_dense_lif.py` builds
/// the same network in PyTorch).
pub fn dense_lif_stack(n: usize, layers: usize, precision: Precision) -> Result<DenseLifStack> {
    let (input, dense, _) = layer_processes(n, precision);
    let lif = input.clone();
    let mut net = Network::new();
    let mut lifs = vec![net.add_named("lif0", input)?];
    let mut denses = Vec::new();
    for k in 1..=layers {
        let d = net.add_named(&format!("dense{k}"), dense.clone())?;
        let l = net.add_named(&format!("lif{k}"), lif.clone())?;
        net.connect(lifs[k - 1].s_out(), &d.s_in())?;
        net.connect(d.a_out(), &l.a_in())?;
        lifs.push(l);
        denses.push(d);
    }
    Ok(DenseLifStack { net, lifs, dense: denses })
}

/// The fewest bytes one time step of a dense LIF stack of `layers` layers of `n` neurons must
/// move for `batch` copies sharing the weights, in 4-byte words: every weight read once, and
/// per neuron and copy its input, u and v read and written, and its spike written (the input
/// population also reads its bias). Achieved bandwidth is this times steps/s.
pub fn dense_lif_step_bytes(n: usize, layers: usize, batch: usize) -> u64 {
    let (n, layers, batch) = (n as u64, layers as u64, batch as u64);
    let weights = layers * n * n;
    // Dense: read the input spikes, write the accumulation; LIF: read a_in, u, v,
    // write u, v, s_out.
    let per_copy = layers * n * 2 + (layers + 1) * n * 6 + n;
    4 * (weights + batch * per_copy)
}

/// A PilotNet-like sigma-delta network (lava-dl's SDNN deployments): a graded input of
/// (32, 32, 3) changes repeating every 16 steps -> Conv(24, 3x3, stride 2) -> SigmaDelta ->
/// Conv(36, 3x3, stride 2) -> SigmaDelta -> (flattened) Dense(100) -> SigmaDelta -> sink. Weights and
/// inputs follow fixed integer formulas (no RNG): integers in fixed point, scaled to fractions
/// in float. Every synapse alone feeds its SigmaDelta, so a GPU plan fuses all three pairs;
/// `benches/gpu.rs` times it fused and unfused.
pub fn sdnn_conv_stack(precision: Precision) -> Result<SdnnConvStack> {
    use basalt_core::process::conv::Conv;
    use basalt_core::process::sdn::SigmaDelta;
    let fixed = precision == Precision::Fixed;
    let scale = |x: f64, fraction: f64| if fixed { x } else { x / fraction };
    // Even integers in -16..=16 from the element index (even: a fixed-point Dense's 8-bit
    // mixed-sign weights drop the lowest bit, which would bias odd weights downwards).
    let weight = |k: usize| scale(2.0 * (((k * 7919) % 17) as f64 - 8.0), 32.0);
    let steps = 16;
    // Changes that cancel over the 16-step period (steps t and t + 8 opposite), as a
    // delta-encoded input would: the sigma units stay bounded however long the run.
    let input = ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&[32, 32, 3, steps]), |i| {
        let magnitude = ((i[0] * 31 + i[1] * 17 + i[2] * 7 + (i[3] % 8) * 5) % 64) as f64;
        scale(if i[3] < 8 { magnitude } else { -magnitude }, 64.0)
    });
    let vth = scale(8.0, 16.0);
    let mut net = Network::new();
    let src = net.add_named("input", source::RingBuffer::new(input))?;
    let conv1 = Conv::new(
        ndarray::Array4::from_shape_fn((24, 3, 3, 3), |(a, b, c, d)| weight(a * 27 + b * 9 + c * 3 + d)),
        [32, 32, 3],
    )
    .stride([2, 2])
    .num_message_bits(16);
    let conv1 = net.add_named("conv1", conv1)?;
    let sd1 = net.add_named("sd1", SigmaDelta::new(&[15, 15, 24], vth))?;
    let conv2 = Conv::new(
        ndarray::Array4::from_shape_fn((36, 3, 3, 24), |(a, b, c, d)| weight(a * 216 + b * 72 + c * 24 + d + 5)),
        [15, 15, 24],
    )
    .stride([2, 2])
    .num_message_bits(16);
    let conv2 = net.add_named("conv2", conv2)?;
    let sd2 = net.add_named("sd2", SigmaDelta::new(&[7, 7, 36], vth))?;
    let dense = Dense::new(ndarray::Array2::from_shape_fn((100, 7 * 7 * 36), |(r, c)| weight(r * 1764 + c + 11)))
        .num_message_bits(16);
    let dense = net.add_named("dense", dense)?;
    let sd3 = net.add_named("sd3", SigmaDelta::new(&[100], vth))?;
    let sink = net.add_named("output", sink::RingBuffer::new(&[100], steps))?;
    net.connect(src.s_out(), &conv1.s_in())?;
    net.connect(conv1.a_out(), &sd1.a_in())?;
    net.connect(sd1.s_out(), &conv2.s_in())?;
    net.connect(conv2.a_out(), &sd2.a_in())?;
    net.connect(sd2.s_out().flatten(), &dense.s_in())?;
    net.connect(dense.a_out(), &sd3.a_in())?;
    net.connect(sd3.s_out(), &sink.a_in())?;
    Ok(SdnnConvStack { net, output: sink.data() })
}

/// The network of [`sdnn_conv_stack`] and its output.
pub struct SdnnConvStack {
    /// The network.
    pub net: Network,
    /// The sink's record of the last SigmaDelta's messages (100 x 16, the last 16 steps).
    pub output: VarRef,
}

/// Parameters of the CUBA benchmark (Brette et al. 2007, benchmark 2; Brian2's `CUBA`
/// example), in mV and ms.
pub mod cuba {
    /// Number of neurons (3200 excitatory, then 800 inhibitory).
    pub const N: usize = 4000;
    /// Excitatory neurons.
    pub const N_EXC: usize = 3200;
    /// Connection probability.
    pub const P_CONNECT: f64 = 0.02;
    /// Time step (ms).
    pub const DT: f64 = 0.1;
    /// Membrane time constant (ms).
    pub const TAU_M: f64 = 20.0;
    /// Synaptic time constant (ms), shared by excitatory and inhibitory synapses (one
    /// current per LIF neuron; Brian2's example uses 5 ms and 10 ms).
    pub const TAU_S: f64 = 5.0;
    /// Threshold, reset and resting potential (mV).
    pub const V_T: f64 = -50.0;
    /// Reset potential (mV).
    pub const V_R: f64 = -60.0;
    /// Resting potential (mV).
    pub const E_L: f64 = -49.0;
    /// Excitatory and inhibitory weights (mV).
    pub const W_E: f64 = 60.0 * 0.27 / 10.0;
    /// Inhibitory weight (mV).
    pub const W_I: f64 = -20.0 * 4.5 / 10.0;
    /// Refractory period (ms).
    pub const T_REF: f64 = 5.0;
}

/// A small deterministic generator (xorshift64*), so the benchmark network needs no RNG
/// crate and is the same on every machine.
pub struct XorShift(pub u64);

impl XorShift {
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The CUBA E/I network from library processes only: one `LifRefractory` population of
/// 4000 neurons (float, membrane in mV relative to the reset potential) and one `Sparse`
/// recurrent connection (p = 0.02; excitatory columns 0..3200, inhibitory 3200..4000).
/// Discretisation with dt = 0.1 ms: `dv = dt/τm`, `du = dt/τs`, bias `dt/τm·(E_L - V_R)`,
/// weights `dt/τm·w`, threshold `V_T - V_R`, refractory `T_REF/dt` steps; initial
/// voltages uniform in [0, V_T - V_R).
pub fn cuba_network(seed: u64) -> Result<(Network, Handle<basalt_core::process::lif::LifRefractory>)> {
    use basalt_core::process::sparse::Sparse;
    use cuba::*;
    let mut rng = XorShift(seed.max(1));
    let g = DT / TAU_M;
    let v0: Vec<f64> = (0..N).map(|_| rng.uniform() * (V_T - V_R)).collect();
    let lif = Lif::new(&[N])
        .du(DT / TAU_S)
        .dv(g)
        .bias_mant(g * (E_L - V_R))
        .vth(V_T - V_R)
        .v(v0)
        .refractory((T_REF / DT).round() as u64);
    let (mut indptr, mut indices, mut values) = (vec![0usize], Vec::new(), Vec::new());
    for _post in 0..N {
        for pre in 0..N {
            if rng.uniform() < P_CONNECT {
                indices.push(pre);
                values.push(g * if pre < N_EXC { W_E } else { W_I });
            }
        }
        indptr.push(indices.len());
    }
    let mut net = Network::new();
    let neurons = net.add_named("neurons", lif)?;
    let synapses = net.add_named("synapses", Sparse::from_csr([N, N], indptr, indices, values))?;
    net.connect(neurons.s_out(), &synapses.s_in())?;
    net.connect(synapses.a_out(), &neurons.a_in())?;
    Ok((net, neurons))
}

/// The on-chip learning benchmark: LIF(n) -> LearningDense(n x n) with pair STDP
/// (`STDPLoihi(1, 1, -1, 10, 10)`, t_epoch 1, seed 0) -> LIF(n), the post spikes fed back on
/// `s_in_bap`. Pre neuron i has bias `1000 + 20 i` (fixed) or `0.1 + 0.003 i` (float), post
/// neuron i `800 + 10 i` or `0.08 + 0.002 i`, thresholds 100 or 1; weight (i, j) is
/// `(7 i + 13 j) mod 41 - 20`, divided by 100 in float (benches/peers/lava_learning.py).
pub fn stdp_network(n: usize, fixed: bool) -> Result<Network> {
    let ramp = |a: f64, b: f64| -> Vec<f64> { (0..n).map(|i| a + b * i as f64).collect() };
    let (pre_bias, post_bias, vth, scale) = if fixed {
        (ramp(1000.0, 20.0), ramp(800.0, 10.0), 100.0, 1.0)
    } else {
        (ramp(0.1, 0.003), ramp(0.08, 0.002), 1.0, 0.01)
    };
    let w = ndarray::Array2::from_shape_fn((n, n), |(i, j)| ((7 * i + 13 * j) % 41) as f64 - 20.0) * scale;
    let rule = LearningRule::stdp(1.0, 1.0, -1.0, 10.0, 10.0)?;
    let mut net = Network::new();
    let pre = net.add_named("pre", Lif::new(&[n]).vth(vth).bias_mant(pre_bias))?;
    let plastic = net.add_named("plastic", LearningDense::new(w, rule))?;
    let post = net.add_named("post", Lif::new(&[n]).vth(vth).bias_mant(post_bias))?;
    net.connect(pre.s_out(), &plastic.s_in())?;
    net.connect(plastic.a_out(), &post.a_in())?;
    net.connect(post.s_out(), &plastic.s_in_bap())?;
    Ok(net)
}
