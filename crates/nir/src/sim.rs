//! NIR graphs discretised with a time step `dt` into Basalt Processes (float models).
//!
//! Every ODE is integrated with one forward-Euler step per `dt`, updating the synaptic
//! current before the voltage (as Lava, SLAYER and snnTorch do):
//!
//! * `CubaLIF`: `I += dt/tau_syn (w_in S - I)`, then `v += dt/tau_mem (v_leak - v + R I)`,
//!   spike where `v > v_threshold`, then `v = 0`.
//! * `LIF`: `v += dt/tau (v_leak - v + R S)`; `IF`: `v += dt R S`; `I`/`LI`/`CubaLI` are
//!   the same without a threshold; `Threshold`: spike where `S > threshold`.
//!
//! Each becomes a Lava LIF (`u = u(1-du) + a_in`, `v = v(1-dv) + u + bias`) with
//! `du = dt/tau_syn` (1 without a current), `dv = dt/tau_mem` (0 for IF and I). The LIF
//! works in units scaled so that its input needs no gain: `u` holds `I / (w_in dt/tau_syn)`
//! and `v` holds `v / g` with `g = (w_in dt/tau_syn)(R dt/tau_mem)`, so the threshold is
//! `v_threshold / g` and the bias `v_leak / (R w_in dt/tau_syn)`. Voltage read-outs are
//! multiplied back by `g`.
//!
//! `Affine`/`Linear` become `Dense` (an `Affine` bias is added to the neurons it feeds),
//! `Scale` a diagonal `Dense`, `Delay` a diagonal `DelayDense`, `Conv2d` a `Conv` (its bias
//! also goes to the neurons), `Conv1d` a `Conv` over (L, 1, C), `SumPool2d`/`AvgPool2d` a
//! per-channel `Conv` of ones (of 1/window), and `Flatten` a transform on the connection
//! (back to NIR's axis order, then flattened in C order). As in Lava, a synapse
//! delivers its output one step after its input: a spike entering a `Dense` at step t reaches
//! the next neurons at step t + 1, and a `Delay` of d steps at t + 1 + d.

use std::collections::BTreeMap;

use basalt_core::process::conv::{kernel_from_torch, Conv};
use basalt_core::process::dense::Dense;
use basalt_core::process::io::{sink, source};
use basalt_core::process::lif::Lif;
use basalt_core::process::sparse::DelayDense;
use basalt_core::{
    Executable, InPort, Network, OutPort, PortExpr, PortTransforms, ProcId, RunConfig, Runtime, Simulator, VarRef,
};
use ndarray::{Array2, ArrayD, IxDyn};

use crate::error::{check_dt, node_err, uniform, NirError};
use crate::flat::{conv_window, flatten, FlatGraph};
use crate::ir::{per_neuron, Graph, Node, Tensor};

/// How a NIR graph is discretised.
#[derive(Clone, Debug)]
pub struct Options {
    /// Time step in seconds (NIR's time constants are in seconds). Default 1e-4, the step
    /// snnTorch's exporter and NIR's Lava bridge assume.
    pub dt: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options { dt: 1e-4 }
    }
}

/// What a graph output reads.
#[derive(Clone, Debug, PartialEq)]
pub enum Readout {
    /// Values sent on a port: a neuron's spikes or a synapse's output.
    Port(OutPort),
    /// A non-spiking neuron's voltage: the Var `v` of the process, times `scale`.
    Voltage {
        /// The voltage Var.
        var: VarRef,
        /// Factor from the Var's units to NIR's voltage.
        scale: f64,
    },
}

/// Where a NIR Input's values go.
#[derive(Clone, Debug, PartialEq)]
pub struct NirInput {
    /// The NIR shape of one step's values.
    pub shape: Vec<usize>,
    /// Every port that takes them, with the NIR shape it sees them in; a port takes them
    /// in Basalt's order of that shape (axes reversed), so a (C, H, W) input goes to a
    /// convolution as (W, H, C), and a flattened one as it is.
    pub ports: Vec<(InPort, Vec<usize>)>,
}

/// What a NIR Output reads.
#[derive(Clone, Debug, PartialEq)]
pub struct NirOutput {
    /// The port or Var.
    pub readout: Readout,
    /// The NIR shape of one step's values (Basalt holds them with the axes reversed).
    pub shape: Vec<usize>,
}

/// A NIR graph built as a Basalt network.
#[derive(Debug)]
pub struct NirNetwork {
    /// The network (add sources and sinks, then compile with a float `RunConfig`).
    pub net: Network,
    /// Per NIR Input node: where its values go.
    pub inputs: BTreeMap<String, NirInput>,
    /// Per NIR Output node: what it reads.
    pub outputs: BTreeMap<String, NirOutput>,
}

/// The role a flattened node plays in the Basalt network.
enum Built {
    Input,
    Output,
    /// A synapse process: input `s_in`, output `a_out`.
    Synapse(ProcId),
    /// A neuron process: input `a_in`, output `s_out` (spiking) or `v` (read only).
    Neuron {
        id: ProcId,
        spiking: bool,
        scale: f64,
    },
    /// A Flatten: a transform on the connections through it.
    Flatten,
}

impl Built {
    /// The port this node sends on: a synapse's `a_out`, a spiking neuron's `s_out`.
    fn sends(&self) -> Option<OutPort> {
        match self {
            Built::Synapse(id) => Some(OutPort { proc: *id, name: "a_out".into() }),
            Built::Neuron { id, spiking: true, .. } => Some(OutPort { proc: *id, name: "s_out".into() }),
            _ => None,
        }
    }
}

/// A Lava LIF's parameters for one NIR neuron node (see the module docs); netx layers
/// are made from the same numbers.
pub(crate) struct LifMap {
    /// Current decay per step, `dt/tau_syn` (1: the current lasts one step).
    pub du: f64,
    /// Voltage decay per step, `dt/tau_mem`.
    pub dv: f64,
    /// Voltage scale g (NIR's v = g times the LIF's v).
    pub gain: f64,
    /// Threshold in NIR units (None: never spikes).
    pub v_threshold: Option<f64>,
    /// NIR's `dt/tau_mem * v_leak` per neuron (None: no leak term).
    pub leak_drive: Option<Vec<f64>>,
}

/// The LIF parameters of a neuron node of `n` neurons (None for other nodes); refuses
/// what Lava's LIF cannot hold.
pub(crate) fn lif_map(name: &str, node: &Node, n: usize, dt: f64) -> Result<Option<LifMap>, NirError> {
    let u = |field: &str, t: &Tensor| uniform(name, node, field, t);
    let no_reset = |t: &Tensor| -> Result<(), NirError> {
        if t.data.iter().any(|&x| x != 0.0) {
            return Err(node_err(name, node, "`v_reset` must be 0: Basalt's LIF resets the voltage to 0"));
        }
        Ok(())
    };
    let decay = |field: &str, tau: f64| -> Result<f64, NirError> {
        if tau <= 0.0 {
            return Err(node_err(name, node, format!("`{field}` must be positive, found {tau}")));
        }
        Ok(dt / tau)
    };
    let leak = |tau: f64, t: &Tensor| per_neuron(t, n).iter().map(|v| dt / tau * v).collect::<Vec<_>>();
    let m = match node {
        Node::Threshold { threshold } => {
            LifMap { du: 1.0, dv: 1.0, gain: 1.0, v_threshold: Some(u("threshold", threshold)?), leak_drive: None }
        }
        Node::I { r } => LifMap { du: 1.0, dv: 0.0, gain: dt * u("r", r)?, v_threshold: None, leak_drive: None },
        Node::IF { r, v_threshold, v_reset } => {
            no_reset(v_reset)?;
            LifMap {
                du: 1.0,
                dv: 0.0,
                gain: dt * u("r", r)?,
                v_threshold: Some(u("v_threshold", v_threshold)?),
                leak_drive: None,
            }
        }
        Node::LI { tau, r, v_leak } | Node::LIF { tau, r, v_leak, .. } => {
            let tau = u("tau", tau)?;
            let dv = decay("tau", tau)?;
            let v_threshold = match node {
                Node::LIF { v_threshold, v_reset, .. } => {
                    no_reset(v_reset)?;
                    Some(u("v_threshold", v_threshold)?)
                }
                _ => None,
            };
            LifMap { du: 1.0, dv, gain: dv * u("r", r)?, v_threshold, leak_drive: Some(leak(tau, v_leak)) }
        }
        Node::CubaLI { tau_syn, tau_mem, r, v_leak, w_in }
        | Node::CubaLIF { tau_syn, tau_mem, r, v_leak, w_in, .. } => {
            let (ts, tm) = (u("tau_syn", tau_syn)?, u("tau_mem", tau_mem)?);
            let (du, dv) = (decay("tau_syn", ts)?, decay("tau_mem", tm)?);
            let c = du * u("w_in", w_in)?;
            let v_threshold = match node {
                Node::CubaLIF { v_threshold, v_reset, .. } => {
                    no_reset(v_reset)?;
                    Some(u("v_threshold", v_threshold)?)
                }
                _ => None,
            };
            LifMap { du, dv, gain: c * dv * u("r", r)?, v_threshold, leak_drive: Some(leak(tm, v_leak)) }
        }
        _ => return Ok(None),
    };
    if m.gain == 0.0 || !m.gain.is_finite() {
        return Err(node_err(name, node, "`r` and `w_in` must be non-zero: the neuron would never move"));
    }
    if m.du > 1.0 || m.dv > 1.0 {
        return Err(node_err(
            name,
            node,
            format!(
                "dt = {dt} s is longer than a time constant (dt/tau = {}): Euler steps would diverge",
                m.du.max(m.dv)
            ),
        ));
    }
    Ok(Some(m))
}

/// Basalt's (Lava's) order of a NIR shape: the axes reversed ((C, H, W) -> (W, H, C)).
fn lava_shape(nir: &[usize]) -> Vec<usize> {
    nir.iter().rev().copied().collect()
}

/// Values in NIR's C order of `nir_shape`, rearranged into Basalt's reversed-axes order.
fn to_lava_order(values: Vec<f64>, nir_shape: &[usize]) -> Vec<f64> {
    if nir_shape.len() < 2 || values.len() != nir_shape.iter().product::<usize>() {
        return values;
    }
    ArrayD::from_shape_vec(IxDyn(nir_shape), values).map_or_else(|_| Vec::new(), |a| a.t().iter().copied().collect())
}

/// Values in Basalt's order of the NIR shape `nir_shape`, rearranged into NIR's C order.
fn to_nir_order(values: Vec<f64>, nir_shape: &[usize]) -> Vec<f64> {
    if nir_shape.len() < 2 || values.len() != nir_shape.iter().product::<usize>() {
        return values;
    }
    ArrayD::from_shape_vec(IxDyn(&lava_shape(nir_shape)), values)
        .map_or_else(|_| Vec::new(), |a| a.t().iter().copied().collect())
}

/// A Conv1d, Conv2d or pooling node as a Basalt `Conv` over a (W, H, C) input (a Conv1d's
/// (C, L) input is (L, 1, C)).
fn conv_process(name: &str, node: &Node, input: &[usize]) -> Result<Conv, NirError> {
    let [c, h, w] = match (node, input) {
        (Node::Conv1d { .. }, &[c, l]) => [c, 1, l],
        (_, &[c, h, w]) => [c, h, w],
        _ => return Err(node_err(name, node, format!("does not fit its input of shape {input:?}"))),
    };
    let rev = |p: [usize; 2]| [p[1], p[0]];
    let conv = match node {
        Node::Conv1d { weight, groups, .. } | Node::Conv2d { weight, groups, .. } => {
            let Some(win) = conv_window(name, node)? else { return Err(node_err(name, node, "not a convolution")) };
            let (co, ci) = (weight.shape[0], weight.shape.get(1).copied().unwrap_or(0));
            let [kh, kw] = win.kernel;
            Conv::new(kernel_from_torch(&weight.data, [co, ci, kh, kw]), [w, h, c])
                .stride(rev(win.stride))
                .padding(rev(win.padding))
                .dilation(rev(win.dilation))
                .groups(*groups)
        }
        Node::SumPool2d { kernel_size, stride, padding } | Node::AvgPool2d { kernel_size, stride, padding } => {
            let [kh, kw] = *kernel_size;
            let value = if matches!(node, Node::AvgPool2d { .. }) { 1.0 / (kh * kw) as f64 } else { 1.0 };
            Conv::new(ndarray::Array4::from_elem((c, kw, kh, 1), value), [w, h, c])
                .stride(rev(*stride))
                .padding(rev(*padding))
                .groups(c)
        }
        _ => return Err(node_err(name, node, "not a convolution")),
    };
    Ok(conv)
}

/// Connects `src` to `dst`, reshaping when the two hold the same values in C order under
/// different shapes (a Conv1d's (L, 1, C) ports next to (L, C) populations).
fn connect_fit(net: &mut Network, src: impl Into<PortExpr>, dst: &InPort) -> Result<(), NirError> {
    let src = src.into();
    let (have, want) = (net.expr_shape(&src)?, net.in_port_shape(dst)?);
    if have != want && have.iter().product::<usize>() == want.iter().product::<usize>() {
        net.connect(src.reshape(&want), dst)?;
    } else {
        net.connect(src, dst)?;
    }
    Ok(())
}

/// Builds a NIR graph as a network of float Basalt processes, named after the NIR nodes.
/// Multi-dimensional populations take Basalt's (Lava's) reversed axis order: a NIR
/// (C, H, W) feature map is a (W, H, C) process.
pub fn build(graph: &Graph, opts: &Options) -> Result<NirNetwork, NirError> {
    check_dt(opts.dt)?;
    let flat = flatten(graph)?;
    let mut net = Network::new();
    let mut built: BTreeMap<&str, Built> = BTreeMap::new();
    for (name, node) in &flat.nodes {
        let (n_in, n_out) = flat.sizes(name);
        let (in_shape, out_shape) = &flat.shapes[name.as_str()];
        let b = match node {
            Node::Input { .. } => Built::Input,
            Node::Output { .. } => Built::Output,
            Node::Flatten { .. } => {
                if out_shape.iter().filter(|&&d| d > 1).count() > 1 {
                    return Err(node_err(
                        name,
                        node,
                        format!("flattens to {out_shape:?}; Basalt supports flattening to one axis"),
                    ));
                }
                Built::Flatten
            }
            Node::Affine { weight, .. } | Node::Linear { weight } => {
                let w = Array2::from_shape_vec((n_out, n_in), weight.data.clone())
                    .map_err(|e| node_err(name, node, e.to_string()))?;
                Built::Synapse(net.add_named(name, Dense::new(w))?.id())
            }
            Node::Scale { scale } => {
                let s = to_lava_order(per_neuron(scale, n_out), out_shape);
                let dense = Dense::new(Array2::from_diag(&ndarray::arr1(&s)));
                Built::Synapse(net.add_named(name, dense)?.id())
            }
            Node::Delay { delay } => {
                let mut d = Array2::zeros((n_out, n_out));
                for (i, &x) in to_lava_order(per_neuron(delay, n_out), out_shape).iter().enumerate() {
                    let steps = x / opts.dt;
                    if steps < 0.0 || (steps - steps.round()).abs() > 1e-6 * steps.max(1.0) {
                        let msg = format!("delay {x} s is not a whole number of steps of dt = {} s", opts.dt);
                        return Err(node_err(name, node, msg));
                    }
                    d[[i, i]] = steps.round();
                }
                Built::Synapse(net.add_named(name, DelayDense::new(Array2::eye(n_out), d, 0)?)?.id())
            }
            Node::Conv1d { .. } | Node::Conv2d { .. } | Node::SumPool2d { .. } | Node::AvgPool2d { .. } => {
                Built::Synapse(net.add_named(name, conv_process(name, node, in_shape)?)?.id())
            }
            _ => {
                let Some(m) = lif_map(name, node, n_out, opts.dt)? else {
                    return Err(node_err(name, node, "this node type is not simulated by Basalt yet"));
                };
                let lif = neuron_lif(&flat, name, node, &m, out_shape)?;
                let id = net.add_named(name, lif)?.id();
                Built::Neuron { id, spiking: m.v_threshold.is_some(), scale: m.gain }
            }
        };
        built.insert(name, b);
    }
    let mut inputs: BTreeMap<String, NirInput> = BTreeMap::new();
    let mut outputs = BTreeMap::new();
    for (name, b) in &built {
        match b {
            Built::Input => {
                inputs.insert(name.to_string(), NirInput { ports: Vec::new(), shape: flat.shapes[*name].1.clone() });
            }
            Built::Output => {
                let srcs = flat.sources_of(name);
                let [src] = srcs[..] else {
                    let msg = format!("output `{name}` must have exactly one source, found {}", srcs.len());
                    return Err(NirError::Graph(msg));
                };
                let readout = match (&built[src], built[src].sends()) {
                    (_, Some(port)) => Readout::Port(port),
                    (Built::Neuron { id, scale, .. }, None) => {
                        Readout::Voltage { var: VarRef { proc: *id, name: "v".into() }, scale: *scale }
                    }
                    _ => return Err(NirError::Graph(format!("output `{name}` is fed straight from `{src}`"))),
                };
                outputs.insert(name.to_string(), NirOutput { readout, shape: flat.shapes[src].1.clone() });
            }
            _ => {}
        }
    }
    for (a, b) in &flat.edges {
        if let Some(node @ (Node::Affine { bias, .. } | Node::Conv1d { bias, .. } | Node::Conv2d { bias, .. })) =
            flat.nodes.get(a)
        {
            let into_neuron = matches!(built.get(b.as_str()), Some(Built::Neuron { .. }));
            if !into_neuron && bias.data.iter().any(|&x| x != 0.0) {
                let msg = format!("its bias feeds `{b}`, which is not a neuron; Basalt adds biases to neurons only");
                return Err(node_err(a, node, msg));
            }
        }
        let target = match &built[b.as_str()] {
            Built::Synapse(id) => InPort { proc: *id, name: "s_in".into() },
            Built::Neuron { id, .. } => InPort { proc: *id, name: "a_in".into() },
            Built::Output | Built::Flatten => continue,
            Built::Input => return Err(NirError::Graph(format!("edge ({a}, {b}) leads into an Input node"))),
        };
        // A Flatten between two nodes is a transform on the connection.
        let (sources, flattened): (Vec<&str>, bool) = match &built[a.as_str()] {
            Built::Flatten => (flat.sources_of(a), true),
            _ => (vec![a.as_str()], false),
        };
        for src in sources {
            let port = match (&built[src], built[src].sends()) {
                (Built::Input, _) => {
                    let shape = if flattened { vec![flat.sizes(src).1] } else { flat.shapes[b.as_str()].0.clone() };
                    if let Some(i) = inputs.get_mut(src) {
                        i.ports.push((target.clone(), shape));
                    }
                    continue;
                }
                (_, Some(port)) => port,
                (Built::Neuron { .. }, None) => {
                    return Err(NirError::Graph(format!(
                        "edge ({src}, {b}): `{src}` has no spikes to send (its voltage can only be read by an Output)"
                    )))
                }
                _ => return Err(NirError::Graph(format!("edge ({src}, {b}): `{src}` cannot feed another node"))),
            };
            if flattened {
                // Back to NIR's axis order, then C-order flattening as PyTorch does.
                let dims = flat.shapes[src].1.len();
                let axes: Vec<usize> = (0..dims).rev().collect();
                connect_fit(&mut net, port.transpose(&axes).flatten(), &target)?;
            } else {
                connect_fit(&mut net, port, &target)?;
            }
        }
    }
    if inputs.is_empty() || outputs.is_empty() {
        return Err(NirError::Graph("the graph needs at least one Input and one Output node".into()));
    }
    Ok(NirNetwork { net, inputs, outputs })
}

/// The Lava LIF of a neuron node, with the biases of the `Affine` and `Conv2d` nodes that
/// feed it; `shape` is NIR's.
fn neuron_lif(flat: &FlatGraph, name: &str, node: &Node, m: &LifMap, shape: &[usize]) -> Result<Lif, NirError> {
    let n: usize = shape.iter().product();
    // Biases add to the neuron's input S every step (a Conv2d's per output channel).
    let mut bias_in = vec![0.0; n];
    for src in flat.sources_of(name) {
        match flat.nodes.get(src) {
            Some(Node::Affine { bias, .. }) => bias_in.iter_mut().zip(&bias.data).for_each(|(acc, b)| *acc += b),
            Some(Node::Conv1d { bias, .. } | Node::Conv2d { bias, .. }) if !bias.data.is_empty() => {
                let per_channel = n / shape.first().copied().unwrap_or(1).max(1);
                for (i, acc) in bias_in.iter_mut().enumerate() {
                    *acc += bias.data[(i / per_channel.max(1)) % bias.data.len()];
                }
            }
            _ => {}
        }
    }
    // In the LIF's units the input S enters u unscaled. A constant input b into a decaying
    // current (du < 1) is the same as starting u at -b/du and adding b/du to v each step.
    let has_bias = bias_in.iter().any(|&b| b != 0.0);
    let (u0, v_bias): (Vec<f64>, Vec<f64>) = if m.du >= 1.0 || !has_bias {
        (vec![0.0; n], bias_in)
    } else if m.du > 0.0 {
        (bias_in.iter().map(|b| -b / m.du).collect(), bias_in.iter().map(|b| b / m.du).collect())
    } else {
        return Err(node_err(name, node, "a bias into a current that never decays (tau_syn infinite)"));
    };
    let leak: Vec<f64> = match &m.leak_drive {
        Some(l) => l.iter().map(|x| x / m.gain).collect(),
        None => vec![0.0; n],
    };
    let bias: Vec<f64> = v_bias.iter().zip(&leak).map(|(a, b)| a + b).collect();
    let vth = m.v_threshold.map_or(f64::MAX, |t| t / m.gain);
    let lava = lava_shape(shape);
    let arr = |v: Vec<f64>| {
        ArrayD::from_shape_vec(IxDyn(&lava), to_lava_order(v, shape)).map_err(|e| node_err(name, node, e.to_string()))
    };
    Ok(Lif::new(&lava).du(m.du).dv(m.dv).vth(vth).u(arr(u0)?).bias_mant(arr(bias)?))
}

/// Simulates a graph for `steps` steps on the CPU: `inputs` maps each Input node to its
/// values, shape (steps, size) with each step's values flattened in NIR's C order; returns
/// each Output node's values alike, shape (steps, size).
pub fn simulate(
    graph: &Graph,
    opts: &Options,
    inputs: &BTreeMap<String, Array2<f64>>,
) -> Result<BTreeMap<String, Array2<f64>>, NirError> {
    let cfg = RunConfig::floating_pt();
    simulate_on(graph, opts, inputs, |exe| Runtime::new(exe, cfg.registry()))
}

/// [`simulate`] on any backend: `start` makes the backend's runtime from the float
/// executable (the GPU backend's `GpuRuntime`, for one). Voltage read-outs are read after
/// every step, so graphs that output voltages advance one step at a time.
pub fn simulate_on<S: Simulator>(
    graph: &Graph,
    opts: &Options,
    inputs: &BTreeMap<String, Array2<f64>>,
    start: impl FnOnce(Executable) -> basalt_core::Result<S>,
) -> Result<BTreeMap<String, Array2<f64>>, NirError> {
    let NirNetwork { mut net, inputs: ports, outputs } = build(graph, opts)?;
    let steps = inputs.values().next().map_or(0, |x| x.nrows());
    if steps == 0 {
        return Err(NirError::Graph("no input steps given".into()));
    }
    for (name, input) in &ports {
        let size: usize = input.shape.iter().product();
        let x = inputs.get(name).ok_or_else(|| NirError::Graph(format!("no values given for input `{name}`")))?;
        if x.dim() != (steps, size) {
            let msg = format!("input `{name}` has shape {:?}; expected ({steps}, {size})", x.shape());
            return Err(NirError::Graph(msg));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(NirError::Graph(format!("input `{name}` holds non-finite values")));
        }
        for (target, shape) in &input.ports {
            // Each step's values in the target's (Basalt) order, time last.
            let mut data = Vec::with_capacity(size * steps);
            for row in x.rows() {
                data.extend(to_lava_order(row.to_vec(), shape));
            }
            let mut dims = lava_shape(shape);
            dims.push(steps);
            let series = Array2::from_shape_fn((size, steps), |(j, t)| data[t * size + j])
                .into_shape_with_order(IxDyn(&dims))
                .map_err(|e| NirError::Graph(e.to_string()))?;
            let src = net.add(source::RingBuffer::new(series))?;
            connect_fit(&mut net, src.s_out(), target)?;
        }
    }
    let mut sinks = BTreeMap::new();
    for (name, out) in &outputs {
        if let Readout::Port(p) = &out.readout {
            let sink = net.add(sink::RingBuffer::new(&lava_shape(&out.shape), steps))?;
            connect_fit(&mut net, p.clone(), &sink.a_in())?;
            sinks.insert(name.clone(), sink.data());
        }
    }
    let mut sim = start(net.compile(&RunConfig::floating_pt())?)?;
    // Per voltage output, each step's values in Basalt's order.
    let mut voltages: BTreeMap<&str, Vec<Vec<f64>>> = BTreeMap::new();
    let volt_outputs: Vec<(&String, &VarRef, f64)> = outputs
        .iter()
        .filter_map(|(name, out)| match &out.readout {
            Readout::Voltage { var, scale } => Some((name, var, *scale)),
            Readout::Port(_) => None,
        })
        .collect();
    if volt_outputs.is_empty() {
        sim.advance(steps as u64)?;
    } else {
        for _ in 0..steps {
            sim.advance(1)?;
            for (name, var, scale) in &volt_outputs {
                let v = sim.read(var)?.iter().map(|x| x * scale).collect();
                voltages.entry(name.as_str()).or_default().push(v);
            }
        }
    }
    let mut result = BTreeMap::new();
    for (name, out) in &outputs {
        let size: usize = out.shape.iter().product();
        let per_step: Vec<Vec<f64>> = match &out.readout {
            Readout::Port(_) => {
                // A sink holds (shape..., steps).
                let d = sim.read(&sinks[name])?;
                let d = d.into_shape_with_order((size, steps)).map_err(|e| NirError::Graph(e.to_string()))?;
                d.columns().into_iter().map(|c| c.to_vec()).collect()
            }
            Readout::Voltage { .. } => voltages.remove(name.as_str()).unwrap_or_default(),
        };
        let values: Vec<f64> = per_step.into_iter().flat_map(|v| to_nir_order(v, &out.shape)).collect();
        let a = Array2::from_shape_vec((steps, size), values).map_err(|e| NirError::Graph(e.to_string()))?;
        result.insert(name.clone(), a);
    }
    Ok(result)
}
