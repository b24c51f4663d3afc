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
//! `Scale` a diagonal `Dense`, `Delay` a diagonal `DelayDense`. As in Lava, a synapse
//! delivers its output one step after its input: a spike entering a `Dense` at step t reaches
//! the next neurons at step t + 1, and a `Delay` of d steps at t + 1 + d.

use std::collections::BTreeMap;

use basalt_core::process::dense::Dense;
use basalt_core::process::io::{sink, source};
use basalt_core::process::lif::Lif;
use basalt_core::process::monitor::Monitor;
use basalt_core::process::sparse::DelayDense;
use basalt_core::{InPort, Network, OutPort, ProcId, RunConfig, RunSteps, VarRef};
use ndarray::{Array2, ArrayD, IxDyn};

use crate::error::NirError;
use crate::flat::{flatten, FlatGraph};
use crate::ir::{Graph, Node, Tensor};

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

/// A NIR graph built as a Basalt network.
#[derive(Debug)]
pub struct NirNetwork {
    /// The network (add sources and sinks, then compile with a float `RunConfig`).
    pub net: Network,
    /// Per NIR Input node: the ports its values go to (all of them get the same values)
    /// and its size (inputs are flattened to one dimension).
    pub inputs: BTreeMap<String, (Vec<InPort>, usize)>,
    /// Per NIR Output node: what it reads and its size.
    pub outputs: BTreeMap<String, (Readout, usize)>,
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
}

/// A Lava LIF's parameters for one NIR neuron node (see the module docs).
struct LifMap {
    du: f64,
    dv: f64,
    /// Voltage scale g.
    gain: f64,
    /// Threshold in NIR units (None: never spikes).
    v_threshold: Option<f64>,
    /// NIR's `dt/tau_mem * v_leak` per neuron (None: no leak term).
    leak_drive: Option<Vec<f64>>,
}

fn node_err(name: &str, node: &Node, reason: impl Into<String>) -> NirError {
    NirError::Node { node: name.to_string(), kind: node.kind().to_string(), reason: reason.into() }
}

/// One value for a whole population: Lava's LIF has one du, dv and vth per process.
fn uniform(name: &str, node: &Node, field: &str, t: &Tensor) -> Result<f64, NirError> {
    let first = *t.data.first().ok_or_else(|| node_err(name, node, format!("`{field}` is empty")))?;
    if t.data.iter().any(|&x| x != first) {
        return Err(node_err(
            name,
            node,
            format!("`{field}` differs between neurons; Basalt's LIF takes one value per population"),
        ));
    }
    Ok(first)
}

fn per_neuron(t: &Tensor, n: usize) -> Vec<f64> {
    if t.data.len() == 1 {
        vec![t.data[0]; n]
    } else {
        t.data.clone()
    }
}

fn lif_map(name: &str, node: &Node, n: usize, dt: f64) -> Result<Option<LifMap>, NirError> {
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

/// Builds a NIR graph as a network of float Basalt processes, named after the NIR nodes.
pub fn build(graph: &Graph, opts: &Options) -> Result<NirNetwork, NirError> {
    if !(opts.dt > 0.0 && opts.dt.is_finite()) {
        return Err(NirError::Graph(format!("dt must be a positive number of seconds, found {}", opts.dt)));
    }
    let flat = flatten(graph)?;
    let mut net = Network::new();
    let mut built: BTreeMap<&str, Built> = BTreeMap::new();
    for (name, node) in &flat.nodes {
        let (n_in, n_out) = flat.sizes[name.as_str()];
        let b = match node {
            Node::Input { .. } => Built::Input,
            Node::Output { .. } => Built::Output,
            Node::Affine { weight, .. } | Node::Linear { weight } => {
                let w = Array2::from_shape_vec((n_out, n_in), weight.data.clone())
                    .map_err(|e| node_err(name, node, e.to_string()))?;
                Built::Synapse(net.add_named(name, Dense::new(w))?.id())
            }
            Node::Scale { scale } => {
                let s = per_neuron(scale, n_out);
                Built::Synapse(net.add_named(name, Dense::new(Array2::from_diag(&ndarray::arr1(&s))))?.id())
            }
            Node::Delay { delay } => {
                let mut d = Array2::zeros((n_out, n_out));
                for (i, &x) in per_neuron(delay, n_out).iter().enumerate() {
                    let steps = x / opts.dt;
                    if steps < 0.0 || (steps - steps.round()).abs() > 1e-6 * steps.max(1.0) {
                        return Err(node_err(
                            name,
                            node,
                            format!("delay {x} s is not a whole number of steps of dt = {} s", opts.dt),
                        ));
                    }
                    d[[i, i]] = steps.round();
                }
                Built::Synapse(net.add_named(name, DelayDense::new(Array2::eye(n_out), d, 0)?)?.id())
            }
            _ => {
                let Some(m) = lif_map(name, node, n_out, opts.dt)? else {
                    return Err(node_err(name, node, "this node type is not simulated by Basalt yet"));
                };
                let lif = neuron_lif(&flat, name, node, &m, n_out)?;
                let id = net.add_named(name, lif)?.id();
                Built::Neuron { id, spiking: m.v_threshold.is_some(), scale: m.gain }
            }
        };
        built.insert(name, b);
    }
    let mut inputs: BTreeMap<String, (Vec<InPort>, usize)> = BTreeMap::new();
    let mut outputs = BTreeMap::new();
    for (name, b) in &built {
        match b {
            Built::Input => {
                inputs.insert(name.to_string(), (Vec::new(), flat.sizes[*name].1));
            }
            Built::Output => {
                let srcs = flat.sources_of(name);
                let [src] = srcs[..] else {
                    return Err(NirError::Graph(format!(
                        "output `{name}` must have exactly one source, found {}",
                        srcs.len()
                    )));
                };
                let readout = match &built[src] {
                    Built::Synapse(id) => Readout::Port(OutPort { proc: *id, name: "a_out".into() }),
                    Built::Neuron { id, spiking: true, .. } => {
                        Readout::Port(OutPort { proc: *id, name: "s_out".into() })
                    }
                    Built::Neuron { id, spiking: false, scale } => {
                        Readout::Voltage { var: VarRef { proc: *id, name: "v".into() }, scale: *scale }
                    }
                    Built::Input | Built::Output => {
                        return Err(NirError::Graph(format!("output `{name}` is fed straight from `{src}`")))
                    }
                };
                outputs.insert(name.to_string(), (readout, flat.sizes[*name].0));
            }
            _ => {}
        }
    }
    for (a, b) in &flat.edges {
        if let Some(node @ Node::Affine { bias, .. }) = flat.nodes.get(a) {
            let into_neuron = matches!(built.get(b.as_str()), Some(Built::Neuron { .. }));
            if !into_neuron && bias.data.iter().any(|&x| x != 0.0) {
                return Err(node_err(
                    a,
                    node,
                    format!("its bias feeds `{b}`, which is not a neuron; Basalt adds Affine biases to neurons only"),
                ));
            }
        }
        let target = match &built[b.as_str()] {
            Built::Synapse(id) => InPort { proc: *id, name: "s_in".into() },
            Built::Neuron { id, .. } => InPort { proc: *id, name: "a_in".into() },
            Built::Output => continue,
            Built::Input => return Err(NirError::Graph(format!("edge ({a}, {b}) leads into an Input node"))),
        };
        match &built[a.as_str()] {
            Built::Input => {
                if let Some((ports, _)) = inputs.get_mut(a.as_str()) {
                    ports.push(target);
                }
            }
            Built::Synapse(id) => net.connect(OutPort { proc: *id, name: "a_out".into() }, &target)?,
            Built::Neuron { id, spiking: true, .. } => {
                net.connect(OutPort { proc: *id, name: "s_out".into() }, &target)?
            }
            Built::Neuron { spiking: false, .. } => {
                return Err(NirError::Graph(format!(
                    "edge ({a}, {b}): `{a}` has no spikes to send (its voltage can only be read by an Output)"
                )))
            }
            Built::Output => return Err(NirError::Graph(format!("edge ({a}, {b}) leaves an Output node"))),
        }
    }
    if inputs.is_empty() || outputs.is_empty() {
        return Err(NirError::Graph("the graph needs at least one Input and one Output node".into()));
    }
    Ok(NirNetwork { net, inputs, outputs })
}

/// The Lava LIF of a neuron node, with the biases of the `Affine` nodes that feed it.
fn neuron_lif(flat: &FlatGraph, name: &str, node: &Node, m: &LifMap, n: usize) -> Result<Lif, NirError> {
    // Affine biases add to the neuron's input S every step.
    let mut bias_in = vec![0.0; n];
    for src in flat.sources_of(name) {
        if let Some(Node::Affine { bias, .. }) = flat.nodes.get(src) {
            for (acc, b) in bias_in.iter_mut().zip(&bias.data) {
                *acc += b;
            }
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
        return Err(node_err(name, node, "an Affine bias into a current that never decays (tau_syn infinite)"));
    };
    let leak: Vec<f64> = match &m.leak_drive {
        Some(l) => l.iter().map(|x| x / m.gain).collect(),
        None => vec![0.0; n],
    };
    let bias: Vec<f64> = v_bias.iter().zip(&leak).map(|(a, b)| a + b).collect();
    let vth = m.v_threshold.map_or(f64::MAX, |t| t / m.gain);
    let arr = |v: Vec<f64>| ArrayD::from_shape_vec(IxDyn(&[n]), v).map_err(|e| node_err(name, node, e.to_string()));
    Ok(Lif::new(&[n]).du(m.du).dv(m.dv).vth(vth).u(arr(u0)?).bias_mant(arr(bias)?))
}

/// Simulates a graph for `steps` steps: `inputs` maps each Input node to its values, shape
/// (steps, size); returns each Output node's values, shape (steps, size).
pub fn simulate(
    graph: &Graph,
    opts: &Options,
    inputs: &BTreeMap<String, Array2<f64>>,
) -> Result<BTreeMap<String, Array2<f64>>, NirError> {
    let NirNetwork { mut net, inputs: ports, outputs } = build(graph, opts)?;
    let steps = inputs.values().next().map_or(0, |x| x.nrows());
    if steps == 0 {
        return Err(NirError::Graph("no input steps given".into()));
    }
    for (name, (targets, size)) in &ports {
        let x = inputs.get(name).ok_or_else(|| NirError::Graph(format!("no values given for input `{name}`")))?;
        if x.dim() != (steps, *size) {
            return Err(NirError::Graph(format!(
                "input `{name}` has shape {:?}; expected ({steps}, {size})",
                x.shape()
            )));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(NirError::Graph(format!("input `{name}` holds non-finite values")));
        }
        let src = net.add(source::RingBuffer::new(x.t().to_owned().into_dyn()))?;
        for t in targets {
            net.connect(src.s_out(), t)?;
        }
    }
    let mut sinks = BTreeMap::new();
    let mut monitor = None;
    for (name, (readout, size)) in &outputs {
        match readout {
            Readout::Port(p) => {
                let sink = net.add(sink::RingBuffer::new(&[*size], steps))?;
                net.connect(p.clone(), &sink.a_in())?;
                sinks.insert(name.clone(), sink.data());
            }
            Readout::Voltage { var, .. } => {
                let mon = match &monitor {
                    Some(m) => m,
                    None => monitor.insert(net.add(Monitor::new())?),
                };
                mon.probe(&mut net, var.clone(), steps)?;
            }
        }
    }
    let mut rt = net.runtime(&RunConfig::floating_pt())?;
    rt.run(RunSteps::new(steps as u64))?;
    let mut out = BTreeMap::new();
    for (name, (readout, size)) in &outputs {
        let values: Vec<f64> = match readout {
            // Sinks hold (size, steps).
            Readout::Port(_) => {
                let d = rt.get(&sinks[name])?;
                let d = d.into_shape_with_order((*size, steps)).map_err(|e| NirError::Graph(e.to_string()))?;
                d.t().iter().copied().collect()
            }
            Readout::Voltage { var, scale } => {
                let Some(mon) = &monitor else { continue };
                let d = mon.data(&rt, net.process_name(var.proc)?, "v")?;
                d.iter().map(|v| v * scale).collect()
            }
        };
        let a = Array2::from_shape_vec((steps, *size), values).map_err(|e| NirError::Graph(e.to_string()))?;
        out.insert(name.clone(), a);
    }
    Ok(out)
}
