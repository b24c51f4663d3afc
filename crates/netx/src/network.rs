//! Building a Basalt network from netx layers (lava-dl's `netx.hdf5.Network` and its
//! blocks, SPEC §4.3).

use std::path::Path;

use basalt_core::process::alif::Alif;
use basalt_core::process::conv::{kernel_from_torch, Conv};
use basalt_core::process::dense::Dense;
use basalt_core::process::lif::Lif;
use basalt_core::process::rf::{Rf, RfIz};
use basalt_core::process::sdn::{Delta, Sigma, SigmaDelta};
use basalt_core::process::sparse::{CsrPattern, DelayDense, Sparse};
use basalt_core::{InPort, Network, OutPort, PortExpr, PortTransforms, ProcId};
use ndarray::{Array2, Array4, ArrayD, IxDyn};

use crate::config::{parse, LayerConfig, LayerKind, NeuronConfig, NeuronKind};
use crate::error::NetxError;
use crate::weights::optimize_weight_bits;

/// Loader options (lava-dl's `Network(...)` arguments).
#[derive(Clone, Debug)]
pub struct Options {
    /// Build only the first `num_layers` layers of the file.
    pub num_layers: Option<usize>,
    /// Skip the first layers (their shapes still define the next layer's input).
    pub skip_layers: usize,
    /// Message bits of the network's input (0 = binary spikes).
    pub input_message_bits: u32,
    /// Input shape (Lava WHC order) when the first built layer needs one.
    pub input_shape: Option<Vec<usize>>,
    /// Reset every neuron's u and v every `reset_interval` steps (CUBA layers).
    pub reset_interval: Option<u64>,
    /// Phase of the first layer's resets; each next layer is one step later.
    pub reset_offset: u64,
    /// Exponent of SDNN graded spikes.
    pub spike_exp: i32,
    /// Build fully connected layers with `Sparse` (CSR, zero weights dropped) instead of
    /// `Dense` synapses, as lava-dl's `sparse_fc_layer=True`.
    pub sparse_fc_layer: bool,
    /// Prefix of every process name (`{prefix}layer<i>.neuron`), to place several copies
    /// of a network in one Basalt network (see [`load_into`]).
    pub name_prefix: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            num_layers: None,
            skip_layers: 0,
            input_message_bits: 0,
            input_shape: None,
            reset_interval: None,
            reset_offset: 0,
            spike_exp: 6,
            sparse_fc_layer: false,
            name_prefix: String::new(),
        }
    }
}

/// One built layer: its neuron process and, for synaptic layers, its synapse process.
#[derive(Clone, Debug)]
pub struct Block {
    /// The layer description.
    pub config: LayerConfig,
    /// Neuron process (for an `average` layer, its summing Dense synapse).
    pub neuron: ProcId,
    /// Where the block's output leaves: the neuron's `s_out` (an `average` layer's
    /// synapse `a_out`).
    pub output: OutPort,
    /// Synapse process (None for an input layer); the real part of a complex layer.
    pub synapse: Option<ProcId>,
    /// The imaginary-part synapse of a complex layer (RF neurons), fed the same input.
    pub synapse_imag: Option<ProcId>,
    /// Neuron shape (WHC).
    pub shape: Vec<usize>,
    /// Message bits of the neuron's output (0 = binary).
    pub output_message_bits: u32,
}

/// A block whose output is its neuron's spikes, with its synapse and (complex layers) the
/// imaginary-part synapse.
fn spiking_block(
    c: &LayerConfig,
    neuron: ProcId,
    [synapse, synapse_imag]: [Option<ProcId>; 2],
    shape: Vec<usize>,
    output_message_bits: u32,
) -> Block {
    let output = OutPort { proc: neuron, name: "s_out".into() };
    Block { config: c.clone(), neuron, output, synapse, synapse_imag, shape, output_message_bits }
}

/// A loaded network: the Basalt network, its blocks, and the ports to drive and read it.
#[derive(Debug)]
pub struct NetxNetwork {
    /// The network (add sources, sinks and monitors, then compile with `fixed_pt`).
    pub net: Network,
    /// Built layers, input to output.
    pub blocks: Vec<Block>,
    /// Where the input goes: the input layer's neuron `a_in`, or the first synapse's `s_in`.
    pub input: InPort,
    /// The last layer's neuron output.
    pub output: OutPort,
}

/// Loads a netx `.net` file as a network of Basalt processes.
pub fn load(path: impl AsRef<Path>, opts: &Options) -> Result<NetxNetwork, NetxError> {
    let mut net = Network::new();
    let NetxPart { blocks, input, output } = load_into(&mut net, path, opts)?;
    Ok(NetxNetwork { net, blocks, input, output })
}

/// A netx network added to an existing Basalt network: its blocks and ports.
#[derive(Clone, Debug)]
pub struct NetxPart {
    /// Built layers, input to output.
    pub blocks: Vec<Block>,
    /// Where the input goes (as [`NetxNetwork::input`]).
    pub input: InPort,
    /// The last layer's output.
    pub output: OutPort,
}

/// Adds a netx network's processes to `net` (names prefixed with `opts.name_prefix`, which
/// must differ between copies): a batch of independent copies is several calls.
pub fn load_into(net: &mut Network, path: impl AsRef<Path>, opts: &Options) -> Result<NetxPart, NetxError> {
    let path = path.as_ref();
    let label = path.display().to_string();
    let tree = basalt_core::persist::hdf5::read_tree(path)?;
    let layers = parse(&label, &tree)?;
    build(net, &label, layers, opts)
}

fn layer_err(path: &str, c: &LayerConfig, reason: String) -> NetxError {
    NetxError::Layer { path: path.into(), layer: c.index, kind: c.type_name.clone(), reason }
}

/// The process a layer's neuron becomes, with its output message bits.
enum NeuronProc {
    Lif(Lif),
    LifReset(basalt_core::process::lif::LifReset),
    Delta(Delta),
    SigmaDelta(SigmaDelta),
    Sigma(Sigma),
    Rf(Rf),
    RfIz(RfIz),
    Alif(Alif),
}

/// Where a neuron process goes: its shape, bias and the loader settings that shape it.
struct Site<'a> {
    shape: &'a [usize],
    bias: Option<ArrayD<f64>>,
    input: bool,
    reset: Option<(u64, u64)>,
    spike_exp: i32,
}

/// lava-dl's `get_neuron_params`: CUBA -> LIF (`du = iDecay - 1`, `dv = vDecay`,
/// `bias_exp = 6`, bias as `bias_mant`), SDNN -> Delta (input) / Sigma (`sigma_output`) /
/// SigmaDelta (bias scaled by the process); beyond
/// lava-dl, ALIF -> `Alif` and RF -> Rf / RfIz.
fn neuron_process(
    path: &str,
    c: &LayerConfig,
    n: &NeuronConfig,
    site: Site<'_>,
) -> Result<(NeuronProc, u32), NetxError> {
    let Site { shape, bias, input, reset, spike_exp } = site;
    match &n.kind {
        NeuronKind::Cuba { i_decay, v_decay, vth_mant } => {
            let mut lif = Lif::new(shape).vth(*vth_mant).du(i_decay - 1.0).dv(*v_decay).bias_exp(6.0);
            if let Some(b) = bias {
                lif = lif.bias_mant(b);
            }
            let bits = n.message_bits.unwrap_or(0);
            Ok(match reset {
                Some((interval, offset)) => (NeuronProc::LifReset(lif.with_reset(interval, offset)), bits),
                None => (NeuronProc::Lif(lif), bits),
            })
        }
        NeuronKind::Alif { i_decay, v_decay, th_decay, ref_decay, vth_mant, vth_step } => {
            // slayer's ALIF dynamics with its 12-bit decays; inputs and thresholds are
            // scaled by 64 as for CUBA, the bias by 2^6 (`bias_exp = 6`).
            if reset.is_some() {
                return Err(layer_err(path, c, "reset_interval is not supported for ALIF neurons".into()));
            }
            let mut alif = Alif::new(shape)
                .du(*i_decay)
                .dv(*v_decay)
                .dtheta(*th_decay)
                .dr(*ref_decay)
                .vth(*vth_mant)
                .vth_step(*vth_step)
                .bias_exp(6.0);
            if let Some(b) = bias {
                alif = alif.bias_mant(b);
            }
            Ok((NeuronProc::Alif(alif), 0))
        }
        NeuronKind::Sdnn { vth_mant, sigma_output } => {
            let bits = n.message_bits.unwrap_or(16);
            Ok(if input {
                (NeuronProc::Delta(Delta::new(shape, *vth_mant).spike_exp(spike_exp).state_exp(6)), bits)
            } else if *sigma_output {
                (NeuronProc::Sigma(Sigma::new(shape)), bits)
            } else {
                let mut sd = SigmaDelta::new(shape, *vth_mant).spike_exp(spike_exp).state_exp(6);
                if let Some(b) = bias {
                    sd = sd.bias(b);
                }
                (NeuronProc::SigmaDelta(sd), bits)
            })
        }
        NeuronKind::Rf { type_name, sin_decay, cos_decay, vth_mant } => {
            // slayer's rf.neuron_params: decays of 4096 -> decay and frequency, then Lava's
            // RF(period, alpha, state_exp 6, decay_bits 12); RF sends binary spikes.
            let (sin, cos) = (sin_decay / 4096.0, cos_decay / 4096.0);
            let alpha = 1.0 - (sin * sin + cos * cos).sqrt();
            let period = 1.0 / (sin.atan2(cos) / 2.0 / std::f64::consts::PI);
            let rf = Rf::new(shape, period, alpha).vth(*vth_mant).state_exp(6).decay_bits(12);
            Ok((if type_name.contains("PHASE") { NeuronProc::Rf(rf) } else { NeuronProc::RfIz(rf.izhikevich()) }, 0))
        }
        NeuronKind::Other(t) => Err(layer_err(path, c, format!("neuron type `{t}` is not supported yet"))),
    }
}

fn add_neuron(net: &mut Network, name: &str, p: NeuronProc) -> Result<ProcId, NetxError> {
    Ok(match p {
        NeuronProc::Lif(x) => net.add_named(name, x)?.id(),
        NeuronProc::LifReset(x) => net.add_named(name, x)?.id(),
        NeuronProc::Delta(x) => net.add_named(name, x)?.id(),
        NeuronProc::SigmaDelta(x) => net.add_named(name, x)?.id(),
        NeuronProc::Sigma(x) => net.add_named(name, x)?.id(),
        NeuronProc::Rf(x) => net.add_named(name, x)?.id(),
        NeuronProc::RfIz(x) => net.add_named(name, x)?.id(),
        NeuronProc::Alif(x) => net.add_named(name, x)?.id(),
    })
}

/// Broadcasts a bias to the neuron shape: scalar, per neuron, or per channel (last axis).
fn bias_array(
    path: &str,
    c: &LayerConfig,
    bias: &Option<Vec<f64>>,
    shape: &[usize],
) -> Result<Option<ArrayD<f64>>, NetxError> {
    let Some(b) = bias else { return Ok(None) };
    let n: usize = shape.iter().product();
    let values: Vec<f64> = if b.len() == 1 {
        vec![b[0]; n]
    } else if b.len() == n {
        b.clone()
    } else if shape.last() == Some(&b.len()) {
        (0..n).map(|i| b[i % b.len()]).collect()
    } else {
        return Err(layer_err(
            path,
            c,
            format!("`bias` of {} values cannot be broadcast to the neuron shape {shape:?}", b.len()),
        ));
    };
    Ok(Some(ArrayD::from_shape_vec(IxDyn(shape), values).map_err(|e| layer_err(path, c, e.to_string()))?))
}

/// Builds one layer's block into `net`: its synapse (fed from nothing yet) and neuron,
/// connected. `input_shape` is the previous block's output shape (WHC) and `input_bits`
/// its message bits.
#[allow(clippy::too_many_arguments)]
pub fn build_block(
    net: &mut Network,
    path: &str,
    c: &LayerConfig,
    input_shape: Option<&[usize]>,
    input_bits: u32,
    reset: Option<(u64, u64)>,
    opts: &Options,
) -> Result<Block, NetxError> {
    let spike_exp = opts.spike_exp;
    let name = format!("{}layer{}", opts.name_prefix, c.index);
    let default_neuron = NeuronConfig {
        kind: NeuronKind::Cuba { i_decay: 0.0, v_decay: 4096.0, vth_mant: f64::from(1u32 << 17) },
        message_bits: None,
    };
    match &c.kind {
        LayerKind::Input => {
            let neuron = c.neuron.as_ref().ok_or_else(|| layer_err(path, c, "missing group `neuron`".into()))?;
            let shape = c.lava_shape();
            let (p, bits) =
                neuron_process(path, c, neuron, Site { shape: &shape, bias: None, input: true, reset, spike_exp })?;
            let id = add_neuron(net, &format!("{name}.neuron"), p)?;
            Ok(spiking_block(c, id, [None, None], shape, bits))
        }
        LayerKind::Dense { weight, weight_imag: Some(imag), weight_rec, delay, .. } => {
            // Complex (RF) layer: real and imaginary weights, each quantised on its own, into
            // the neurons' a_real_in / a_imag_in; lava-dl applies no bias here.
            let neuron = c.neuron.as_ref().ok_or_else(|| layer_err(path, c, "missing group `neuron`".into()))?;
            if !matches!(neuron.kind, NeuronKind::Rf { .. }) {
                return Err(layer_err(path, c, "complex weights need an RF neuron".into()));
            }
            if weight_rec.is_some() || delay.is_some() {
                return Err(layer_err(path, c, "complex layers with recurrence or delays are not supported".into()));
            }
            let (n_out, n_in) = weight.dim();
            check_fc_input(path, c, input_shape, n_in)?;
            let shape = vec![n_out];
            let (p, bits) =
                neuron_process(path, c, neuron, Site { shape: &shape, bias: None, input: false, reset, spike_exp })?;
            let id = add_neuron(net, &format!("{name}.neuron"), p)?;
            let mut synapses = Vec::new();
            for (part, w, port) in [("real", weight, "a_real_in"), ("imag", imag, "a_imag_in")] {
                let opt = optimize_weight_bits(&w.iter().copied().collect::<Vec<_>>());
                let fc = FcSynapse::new(&opt, input_bits, opts.sparse_fc_layer);
                let w = Array2::from_shape_vec((n_out, n_in), opt.weights)
                    .map_err(|e| layer_err(path, c, e.to_string()))?;
                let syn = fc.add(net, &format!("{name}.synapse_{part}"), w, None)?;
                net.connect(OutPort { proc: syn, name: "a_out".into() }, &InPort { proc: id, name: port.into() })?;
                synapses.push(syn);
            }
            Ok(spiking_block(c, id, [Some(synapses[0]), Some(synapses[1])], shape, bits))
        }
        LayerKind::Dense { weight, weight_rec, bias, delay, .. } => {
            let neuron = c.neuron.as_ref().unwrap_or(&default_neuron);
            let (n_out, n_in) = weight.dim();
            // dense_rec: W and W_rec are quantised together (lava-dl stacks them side by side),
            // so both synapses share one weight exponent.
            let stacked = match weight_rec {
                None => weight.clone(),
                Some(r) => ndarray::concatenate(ndarray::Axis(1), &[weight.view(), r.view()])
                    .map_err(|e| layer_err(path, c, e.to_string()))?,
            };
            let opt = optimize_weight_bits(&stacked.iter().copied().collect::<Vec<_>>());
            let fc = FcSynapse::new(&opt, input_bits, opts.sparse_fc_layer);
            let stacked =
                Array2::from_shape_vec(stacked.dim(), opt.weights).map_err(|e| layer_err(path, c, e.to_string()))?;
            let w = stacked.slice(ndarray::s![.., ..n_in]).to_owned();
            let recurrent = weight_rec.as_ref().map(|_| stacked.slice(ndarray::s![.., n_in..]).to_owned());
            if recurrent.is_some() && delay.is_some() {
                return Err(layer_err(
                    path,
                    c,
                    "`dense_rec` with `delay` is not supported (lava-dl's loader drops the weight exponent there)"
                        .into(),
                ));
            }
            let delays = match delay {
                None => None,
                Some(d) => {
                    let d: Vec<f64> = d.iter().map(|x| x.trunc().clamp(0.0, 62.0)).collect();
                    let delays = if d.len() == n_out * n_in {
                        Array2::from_shape_vec((n_out, n_in), d)
                    } else if d.len() == n_out {
                        Ok(Array2::from_shape_fn((n_out, n_in), |(i, _)| d[i]))
                    } else if d.len() == n_in {
                        Ok(Array2::from_shape_fn((n_out, n_in), |(_, j)| d[j]))
                    } else {
                        return Err(layer_err(
                            path,
                            c,
                            format!("`delay` of {} values does not fit weights ({n_out}, {n_in})", d.len()),
                        ));
                    }
                    .map_err(|e| layer_err(path, c, e.to_string()))?;
                    Some(delays)
                }
            };
            let synapse = fc.add(net, &format!("{name}.synapse"), w, delays)?;
            let shape = vec![n_out];
            let b = bias_array(path, c, bias, &shape)?;
            let (p, bits) =
                neuron_process(path, c, neuron, Site { shape: &shape, bias: b, input: false, reset, spike_exp })?;
            let id = add_neuron(net, &format!("{name}.neuron"), p)?;
            net.connect(OutPort { proc: synapse, name: "a_out".into() }, &InPort { proc: id, name: "a_in".into() })?;
            if let Some(r) = recurrent {
                // The neurons' spikes back to their own a_in (carrying the block's input
                // message bits, as lava-dl builds it).
                let rec = fc.add(net, &format!("{name}.synapse_rec"), r, None)?;
                net.connect(OutPort { proc: id, name: "s_out".into() }, &InPort { proc: rec, name: "s_in".into() })?;
                net.connect(OutPort { proc: rec, name: "a_out".into() }, &InPort { proc: id, name: "a_in".into() })?;
            }
            check_fc_input(path, c, input_shape, n_in)?;
            Ok(spiking_block(c, id, [Some(synapse), None], shape, bits))
        }
        LayerKind::Conv { weight, weight_shape, transposed, bias, stride, padding, dilation, groups } => {
            let (neuron, [x, y, ch]) = image_layer(path, c, input_shape)?;
            // File order (Cout, Cin, kH, kW): flip the kernel spatially (Lava convolves),
            // then transpose to Lava's (Cout, kW, kH, Cin); (H, W) parameters become (X, Y).
            // A convT weight (Cin, Cout, kH, kW) becomes ConvTranspose's (Cin, kW, kH, Cout)
            // alike: torch's transposed convolution is the adjoint of its convolution.
            let w = kernel_from_torch(weight, *weight_shape);
            let rev = |p: [usize; 2]| [p[1], p[0]];
            let conv = Conv::new(w, [x, y, ch])
                .stride(rev(*stride))
                .padding(rev(*padding))
                .dilation(rev(*dilation))
                .groups(*groups)
                .num_message_bits(input_bits);
            let site = ConvSite { name: &name, neuron, bias: bias.as_ref(), reset, spike_exp };
            if *transposed {
                conv_block(net, path, c, conv.transposed(), site)
            } else {
                conv_block(net, path, c, conv, site)
            }
        }
        LayerKind::Pool { weight, kernel, stride, padding, dilation, transposed } => {
            let (neuron, [x, y, ch]) = image_layer(path, c, input_shape)?;
            let [kh, kw] = *kernel;
            // slayer zero-pads an input whose height or width the kernel does not divide, by
            // the remainder, and then pools over channel boundaries; only exact tilings are
            // the per-channel sum pooling built here (unpooling has no such case).
            if !transposed && (y % kh != 0 || x % kw != 0) {
                return Err(layer_err(
                    path,
                    c,
                    format!("kernel {kernel:?} does not divide the input (H, W) = ({y}, {x}); slayer's remainder padding is not supported"),
                ));
            }
            // One shared kernel per channel: a grouped (transposed) convolution with
            // groups = channels.
            let w = Array4::from_shape_fn((ch, kw, kh, 1), |(_, i, j, _)| weight[(kh - 1 - j) * kw + (kw - 1 - i)]);
            let conv = Conv::new(w, [x, y, ch])
                .stride([stride[1], stride[0]])
                .padding([padding[1], padding[0]])
                .dilation([dilation[1], dilation[0]])
                .groups(ch)
                .num_message_bits(input_bits);
            let site = ConvSite { name: &name, neuron, bias: None, reset, spike_exp };
            if *transposed {
                conv_block(net, path, c, conv.transposed(), site)
            } else {
                conv_block(net, path, c, conv, site)
            }
        }
        LayerKind::Average { groups } => {
            // slayer averages equal groups of the input flattened in C-order (C, H, W): a
            // Dense of ones per group, whose per-step sums (group size x mean; fixed point
            // has no fractions) are the block's output, one step later (the synapse delay).
            let in_shape = input_shape.ok_or_else(|| layer_err(path, c, "needs an input shape".into()))?;
            let n_in: usize = in_shape.iter().product();
            if *groups == 0 || !n_in.is_multiple_of(*groups) {
                return Err(layer_err(path, c, format!("{groups} groups do not divide the {n_in} inputs")));
            }
            let per_group = n_in / groups;
            // Column k is WHC index k; its CHW index picks the group.
            let rank = in_shape.len();
            let chw = |k: usize| -> usize {
                let mut coords = vec![0; rank];
                let mut rest = k;
                for a in (0..rank).rev() {
                    coords[a] = rest % in_shape[a];
                    rest /= in_shape[a];
                }
                (0..rank).rev().fold(0, |acc, a| acc * in_shape[a] + coords[a])
            };
            let w = Array2::from_shape_fn((*groups, n_in), |(g, k)| f64::from(u8::from(chw(k) / per_group == g)));
            let dense = Dense::new(w).num_message_bits(input_bits);
            let id = net.add_named(&format!("{name}.synapse"), dense)?.id();
            Ok(Block {
                config: c.clone(),
                neuron: id,
                output: OutPort { proc: id, name: "a_out".into() },
                synapse: Some(id),
                synapse_imag: None,
                shape: vec![*groups],
                output_message_bits: 24,
            })
        }
        LayerKind::Flatten | LayerKind::Concat { .. } => {
            Err(layer_err(path, c, format!("{} connects layers and has no block of its own", c.type_name)))
        }
        LayerKind::Unsupported(t) => Err(layer_err(path, c, format!("layer type `{t}` is not supported yet"))),
    }
}

/// How a fully connected layer's synapses are built: quantisation from
/// `optimize_weight_bits`, the block's input message bits, and Dense or Sparse.
struct FcSynapse {
    weight_exp: i32,
    num_weight_bits: u32,
    input_bits: u32,
    sparse: bool,
}

impl FcSynapse {
    /// The quantisation `optimize_weight_bits` chose, for inputs of `input_bits`.
    fn new(opt: &crate::weights::Optimized, input_bits: u32, sparse: bool) -> Self {
        FcSynapse { weight_exp: opt.weight_exp, num_weight_bits: opt.num_weight_bits, input_bits, sparse }
    }

    /// Adds one synapse process: Dense / DelayDense, or with `sparse` Sparse / DelaySparse
    /// over the non-zero weights (lava-dl zeroes the delays of zero weights likewise).
    fn add(
        &self,
        net: &mut Network,
        name: &str,
        w: Array2<f64>,
        delays: Option<Array2<f64>>,
    ) -> Result<ProcId, NetxError> {
        let (e, bits, msg) = (self.weight_exp, self.num_weight_bits, self.input_bits);
        Ok(match (delays, self.sparse) {
            (None, false) => {
                net.add_named(name, Dense::new(w).weight_exp(e).num_weight_bits(bits).num_message_bits(msg))?.id()
            }
            (Some(d), false) => {
                let dd = DelayDense::new(w, d, 62)?.weight_exp(e).num_weight_bits(bits).num_message_bits(msg);
                net.add_named(name, dd)?.id()
            }
            (delays, true) => {
                let (pattern, values) = CsrPattern::from_dense(&w);
                let sparse = Sparse::from_csr(pattern.shape, pattern.indptr.clone(), pattern.indices.clone(), values)
                    .weight_exp(e)
                    .num_weight_bits(bits)
                    .num_message_bits(msg);
                match delays {
                    None => net.add_named(name, sparse)?.id(),
                    Some(d) => {
                        // One delay per stored entry, in CSR order.
                        let per_entry: Vec<f64> = (0..pattern.shape[0])
                            .flat_map(|r| {
                                pattern.indices[pattern.indptr[r]..pattern.indptr[r + 1]]
                                    .iter()
                                    .map(move |&col| (r, col))
                            })
                            .map(|(r, col)| d[[r, col]])
                            .collect();
                        net.add_named(name, sparse.with_delays(per_entry, 62))?.id()
                    }
                }
            }
        })
    }
}

/// Checks that a fully connected layer's `n_in` inputs match the previous layer's size.
fn check_fc_input(path: &str, c: &LayerConfig, input_shape: Option<&[usize]>, n_in: usize) -> Result<(), NetxError> {
    match input_shape {
        Some(s) if s.iter().product::<usize>() != n_in => Err(layer_err(
            path,
            c,
            format!("`weight` has {n_in} inputs, the previous layer {s:?} has {}", s.iter().product::<usize>()),
        )),
        _ => Ok(()),
    }
}

/// The neuron and the (X, Y, C) input shape a convolution-like layer needs.
fn image_layer<'a>(
    path: &str,
    c: &'a LayerConfig,
    input_shape: Option<&[usize]>,
) -> Result<(&'a NeuronConfig, [usize; 3]), NetxError> {
    let neuron = c.neuron.as_ref().ok_or_else(|| layer_err(path, c, "missing group `neuron`".into()))?;
    let in_shape = input_shape.ok_or_else(|| {
        layer_err(path, c, "needs an input shape: build it after a layer or set Options::input_shape".into())
    })?;
    let xyc = <[usize; 3]>::try_from(in_shape)
        .map_err(|_| layer_err(path, c, format!("input shape {in_shape:?} is not (X, Y, C)")))?;
    Ok((neuron, xyc))
}

/// What a convolution-like block (conv, convT, pool, unpool) is made of besides its layer
/// config and synapse.
struct ConvSite<'a> {
    /// Name stem of the block's processes.
    name: &'a str,
    neuron: &'a NeuronConfig,
    bias: Option<&'a Vec<f64>>,
    reset: Option<(u64, u64)>,
    spike_exp: i32,
}

/// Adds a convolution synapse and its neuron, checking the output against the file's `shape`.
fn conv_block<P: basalt_core::Process>(
    net: &mut Network,
    path: &str,
    c: &LayerConfig,
    conv: P,
    site: ConvSite<'_>,
) -> Result<Block, NetxError> {
    let ConvSite { name, neuron, bias, reset, spike_exp } = site;
    let synapse = net.add_named(&format!("{name}.synapse"), conv)?.id();
    let out_shape = net.out_port_shape(&OutPort { proc: synapse, name: "a_out".into() })?;
    if !c.shape.is_empty() && out_shape != c.lava_shape() {
        return Err(layer_err(
            path,
            c,
            format!("`shape` {:?} disagrees with the {}'s output {out_shape:?}", c.lava_shape(), c.type_name),
        ));
    }
    let b = bias_array(path, c, &bias.cloned(), &out_shape)?;
    let (p, bits) =
        neuron_process(path, c, neuron, Site { shape: &out_shape, bias: b, input: false, reset, spike_exp })?;
    let id = add_neuron(net, &format!("{name}.neuron"), p)?;
    net.connect(OutPort { proc: synapse, name: "a_out".into() }, &InPort { proc: id, name: "a_in".into() })?;
    Ok(spiking_block(c, id, [Some(synapse), None], out_shape, bits))
}

/// A layer output the next layer can read: a port expression, its shape (WHC) and bits.
#[derive(Clone)]
struct Feed {
    expr: PortExpr,
    shape: Vec<usize>,
    bits: u32,
}

/// Concatenates the previous output with earlier blocks' outputs along the channel (last)
/// axis, for a `concat` layer.
fn concat_feed(
    path: &str,
    c: &LayerConfig,
    prev: Option<Feed>,
    ids: &[usize],
    built: &std::collections::BTreeMap<usize, Feed>,
) -> Result<Feed, NetxError> {
    let mut parts = vec![prev.ok_or_else(|| layer_err(path, c, "concat needs a previous layer".into()))?];
    for &id in ids {
        let f = built.get(&id).ok_or_else(|| {
            layer_err(path, c, format!("`layers` names {id}, which is not an earlier built layer with an output"))
        })?;
        parts.push(f.clone());
    }
    let first = &parts[0];
    let rank = first.shape.len();
    let axis = rank - 1;
    let mut shape = first.shape.clone();
    shape[axis] = 0;
    for p in &parts {
        if p.shape.len() != rank || p.shape[..axis] != first.shape[..axis] {
            return Err(layer_err(
                path,
                c,
                format!("cannot concatenate shapes {:?} and {:?} along channels", first.shape, p.shape),
            ));
        }
        if p.bits != first.bits {
            return Err(layer_err(path, c, format!("inputs send {} and {} message bits", first.bits, p.bits)));
        }
        shape[axis] += p.shape[axis];
    }
    if !c.shape.is_empty() && c.lava_shape() != shape {
        return Err(layer_err(
            path,
            c,
            format!("`shape` {:?} disagrees with the concatenation {shape:?}", c.lava_shape()),
        ));
    }
    let expr = PortExpr::Concat(parts.iter().map(|p| p.expr.clone()).collect(), axis);
    Ok(Feed { expr, shape, bits: first.bits })
}

fn build(net: &mut Network, path: &str, layers: Vec<LayerConfig>, opts: &Options) -> Result<NetxPart, NetxError> {
    let mut skipped = Network::new();
    let mut blocks: Vec<Block> = Vec::new();
    // What the next layer reads; before the first built layer only its shape and bits.
    let mut input_shape = opts.input_shape.clone();
    let mut input_bits = opts.input_message_bits;
    let mut feed: Option<Feed> = None;
    let mut built = std::collections::BTreeMap::new();
    let mut flatten_next = false;
    let mut reset_offset = opts.reset_offset + 1;
    let count = opts.num_layers.map_or(layers.len(), |n| n.min(layers.len()));
    for (i, c) in layers.into_iter().take(count).enumerate() {
        match &c.kind {
            LayerKind::Flatten => {
                flatten_next = true;
                continue;
            }
            LayerKind::Concat { layers: ids } => {
                let f = concat_feed(path, &c, feed.take(), ids, &built)?;
                input_shape = Some(f.shape.clone());
                feed = Some(f);
                continue;
            }
            _ => {}
        }
        let reset = opts.reset_interval.map(|iv| (iv, reset_offset));
        let prev_shape = feed.as_ref().map(|f| f.shape.clone()).or(input_shape.clone());
        let target = if i < opts.skip_layers { &mut skipped } else { &mut *net };
        let block = build_block(target, path, &c, prev_shape.as_deref(), input_bits, reset, opts)?;
        if i < opts.skip_layers {
            // Skipped layers only define the next layer's input shape and message bits.
            input_shape = Some(block.shape.clone());
            input_bits = block.output_message_bits;
            continue;
        }
        reset_offset += 1;
        input_bits = block.output_message_bits;
        if let (Some(prev), Some(syn)) = (feed.take(), block.synapse) {
            let mut src = prev.expr;
            if let LayerKind::Average { .. } = block.config.kind {
                // The averaging weights index the input in its own (WHC) C order, and
                // group it in CHW order whether or not a flatten came first.
                src = src.flatten();
            } else if flatten_next {
                // WHC -> CHW -> C-order flatten, matching PyTorch/slayer.
                let axes: Vec<usize> = (0..prev.shape.len()).rev().collect();
                src = src.transpose(&axes).flatten();
            }
            if let Some(imag) = block.synapse_imag {
                net.connect(src.clone(), &InPort { proc: imag, name: "s_in".into() })?;
            }
            net.connect(src, &InPort { proc: syn, name: "s_in".into() })?;
        }
        flatten_next = false;
        let out =
            Feed { expr: block.output.clone().into(), shape: block.shape.clone(), bits: block.output_message_bits };
        built.insert(c.index, out.clone());
        feed = Some(out);
        blocks.push(block);
    }
    let first =
        blocks.first().ok_or_else(|| NetxError::File { path: path.into(), reason: "no layer to build".into() })?;
    if first.synapse_imag.is_some() {
        return Err(NetxError::File {
            path: path.into(),
            reason: "a network whose first layer is complex (two synapses) has no single input port; start it with an input layer".into(),
        });
    }
    let input = match first.synapse {
        Some(s) => InPort { proc: s, name: "s_in".into() },
        None => InPort { proc: first.neuron, name: "a_in".into() },
    };
    let output = match feed {
        Some(Feed { expr: PortExpr::Port(p), .. }) => p,
        _ => {
            return Err(NetxError::File {
                path: path.into(),
                reason: "the network ends in a concat layer; its last layer must have an output".into(),
            })
        }
    };
    Ok(NetxPart { blocks, input, output })
}
