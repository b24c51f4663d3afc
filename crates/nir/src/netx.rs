//! Conversion between netx networks (lava-dl's `.net`, dense CUBA layers) and NIR graphs.
//!
//! A netx CUBA layer (`iDecay`, `vDecay` in units of 1/4096, threshold `vThMant`, weights
//! and bias in the threshold's units) runs `u = u(1 - iDecay/4096) + W s`,
//! `v = v(1 - vDecay/4096) + u + bias`. With a time step `dt` it is the NIR
//! `Linear`/`Affine` -> `CubaLIF` pair with `tau_syn = 4096 dt / iDecay`,
//! `tau_mem = 4096 dt / vDecay`, `w_in = tau_syn / dt`, `r = tau_mem / dt` (so that the
//! current and voltage gains are 1), `v_threshold = vThMant` and `v_leak = bias / (vDecay /
//! 4096)`. The inverse mapping uses the float simulation's discretisation (`sim::lif_map`),
//! rounds the decays to whole units of 1/4096 and divides the threshold and the leak by the
//! voltage gain (weights stay as they are); netx -> NIR -> netx gives back the same layers.

use std::collections::BTreeMap;

use basalt_netx::{LayerConfig, LayerKind, NeuronConfig, NeuronKind};

use crate::error::{check_dt, node_err, NirError};
use crate::flat::flatten;
use crate::ir::{tensor, Graph, Node, Tensor};
use crate::sim::lif_map;

fn layer_err(c: &LayerConfig, reason: impl Into<String>) -> NirError {
    NirError::Node { node: format!("layer{}", c.index), kind: c.type_name.clone(), reason: reason.into() }
}

fn filled(n: usize, x: f64) -> Tensor {
    tensor(&[n], vec![x; n])
}

/// The CubaLIF node of a netx CUBA neuron of `n` neurons with per-neuron `bias`.
fn cuba_node(c: &LayerConfig, neuron: &NeuronConfig, n: usize, bias: &[f64], dt: f64) -> Result<Node, NirError> {
    let NeuronKind::Cuba { i_decay, v_decay, vth_mant } = neuron.kind else {
        return Err(layer_err(c, "only CUBA neurons have a NIR counterpart (CubaLIF)"));
    };
    if neuron.message_bits.is_some_and(|b| b > 0) {
        return Err(layer_err(c, "graded spikes (messageBits) have no NIR counterpart"));
    }
    if i_decay <= 0.0 || v_decay <= 0.0 {
        return Err(layer_err(
            c,
            "iDecay and vDecay must be > 0: a current or voltage that never decays has an infinite NIR time constant",
        ));
    }
    let (tau_syn, tau_mem) = (4096.0 * dt / i_decay, 4096.0 * dt / v_decay);
    Ok(Node::CubaLIF {
        tau_syn: filled(n, tau_syn),
        tau_mem: filled(n, tau_mem),
        r: filled(n, tau_mem / dt),
        v_leak: tensor(&[n], bias.iter().map(|b| b * 4096.0 / v_decay).collect()),
        v_threshold: filled(n, vth_mant),
        v_reset: filled(n, 0.0),
        w_in: filled(n, tau_syn / dt),
    })
}

/// Converts netx layers (an optional `input` layer, then `dense` CUBA layers) to a NIR
/// graph with nodes `input`, `layer<i>_synapse`, `layer<i>_neuron` and `output`.
pub fn netx_to_nir(layers: &[LayerConfig], dt: f64) -> Result<Graph, NirError> {
    check_dt(dt)?;
    let mut nodes = BTreeMap::new();
    let mut edges = Vec::new();
    let mut prev: Option<(String, usize)> = None;
    for c in layers {
        let name = format!("layer{}", c.index);
        match &c.kind {
            LayerKind::Input => {
                if prev.is_some() {
                    return Err(layer_err(c, "an input layer after the first layer"));
                }
                let n: usize = c.shape.iter().product();
                nodes.insert("input".to_string(), Node::Input { shape: vec![n] });
                let last = match &c.neuron {
                    Some(neuron) => {
                        nodes.insert(format!("{name}_neuron"), cuba_node(c, neuron, n, &vec![0.0; n], dt)?);
                        edges.push(("input".to_string(), format!("{name}_neuron")));
                        format!("{name}_neuron")
                    }
                    None => "input".to_string(),
                };
                prev = Some((last, n));
            }
            LayerKind::Dense { weight, weight_rec: None, weight_imag: None, bias, delay: None } => {
                let (n_out, n_in) = weight.dim();
                let from = match &prev {
                    Some((p, n)) if *n == n_in => p.clone(),
                    Some((_, n)) => {
                        return Err(layer_err(c, format!("takes {n_in} inputs but the previous layer has {n}")))
                    }
                    None => {
                        nodes.insert("input".to_string(), Node::Input { shape: vec![n_in] });
                        "input".to_string()
                    }
                };
                let neuron = c.neuron.as_ref().ok_or_else(|| layer_err(c, "a dense layer without a neuron"))?;
                let bias = match bias {
                    Some(b) if b.len() == n_out => b.clone(),
                    Some(b) if b.len() == 1 => vec![b[0]; n_out],
                    Some(b) => return Err(layer_err(c, format!("`bias` has {} values for {n_out} neurons", b.len()))),
                    None => vec![0.0; n_out],
                };
                let w = tensor(&[n_out, n_in], weight.iter().copied().collect());
                nodes.insert(format!("{name}_synapse"), Node::Linear { weight: w });
                nodes.insert(format!("{name}_neuron"), cuba_node(c, neuron, n_out, &bias, dt)?);
                edges.push((from, format!("{name}_synapse")));
                edges.push((format!("{name}_synapse"), format!("{name}_neuron")));
                prev = Some((format!("{name}_neuron"), n_out));
            }
            LayerKind::Dense { .. } => {
                return Err(layer_err(
                    c,
                    "dense layers with delays, recurrence or complex weights have no NIR export yet",
                ))
            }
            _ => return Err(layer_err(c, "only input and dense layers have a NIR export yet")),
        }
    }
    let (last, n) = prev.ok_or_else(|| NirError::Graph("the netx network has no layers".into()))?;
    nodes.insert("output".to_string(), Node::Output { shape: vec![n] });
    edges.push((last, "output".to_string()));
    Ok(Graph { nodes, edges })
}

/// A value within 1e-9 (relative) of an integer becomes that integer: it undoes the float
/// rounding of a netx -> NIR -> netx round trip, where thresholds and biases are integers.
fn snap(x: f64) -> f64 {
    let r = x.round();
    if (x - r).abs() <= 1e-9 * r.abs().max(1.0) {
        r
    } else {
        x
    }
}

/// A decay per step (`dt / tau`) in netx's units of 1/4096, rounded.
fn decay_units(name: &str, node: &Node, field: &str, fraction: f64, dt: f64) -> Result<f64, NirError> {
    let d = (4096.0 * fraction).round();
    if !(1.0..=4096.0).contains(&d) {
        let tau = dt / fraction;
        return Err(node_err(
            name,
            node,
            format!("`{field}` = {tau} s gives a decay of {d}/4096 with dt = {dt} s; netx needs 1..=4096"),
        ));
    }
    Ok(d)
}

/// A synapse waiting for its neuron: node name, weights (out, in), out, in, bias.
type PendingSynapse = (String, Vec<f64>, usize, usize, Vec<f64>);

/// Converts a NIR chain `Input -> [neuron] -> (Linear|Affine -> neuron)* -> Output` (neuron:
/// CubaLIF, or LIF as a CUBA neuron with `iDecay` 4096) to
/// netx layers (for Loihi fixed point): decays rounded to 1/4096, the threshold and leak
/// divided by the voltage gain.
pub fn nir_to_netx(graph: &Graph, dt: f64) -> Result<Vec<LayerConfig>, NirError> {
    check_dt(dt)?;
    let flat = flatten(graph)?;
    let inputs: Vec<&String> =
        flat.nodes.iter().filter(|(_, n)| matches!(n, Node::Input { .. })).map(|(k, _)| k).collect();
    let [input] = inputs[..] else {
        return Err(NirError::Graph(format!("netx needs exactly one Input node, found {}", inputs.len())));
    };
    let next = |name: &str| -> Result<Option<&String>, NirError> {
        let outs: Vec<&String> = flat.edges.iter().filter(|(a, _)| a == name).map(|(_, b)| b).collect();
        match outs[..] {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            _ => Err(NirError::Graph(format!("`{name}` feeds {} nodes; netx layers form a chain", outs.len()))),
        }
    };
    let mut layers = Vec::new();
    let mut at = input.clone();
    let mut pending: Option<PendingSynapse> = None;
    while let Some(n) = next(&at)? {
        let node = &flat.nodes[n.as_str()];
        match node {
            Node::Output { .. } => break,
            Node::Linear { weight } | Node::Affine { weight, .. } => {
                if pending.is_some() {
                    return Err(node_err(n, node, "two synapses in a row; netx needs a neuron between them"));
                }
                let (n_in, n_out) = flat.sizes(n);
                let bias = match node {
                    Node::Affine { bias, .. } => bias.data.clone(),
                    _ => vec![0.0; n_out],
                };
                pending = Some((n.clone(), weight.data.clone(), n_out, n_in, bias));
            }
            Node::CubaLIF { .. } | Node::LIF { .. } => {
                // The same discretisation as the float simulation; a LIF is a CUBA neuron
                // whose current does not outlast the step (du = 1, iDecay 4096).
                let size = flat.sizes(n).1;
                let m = lif_map(n, node, size, dt)?.ok_or_else(|| node_err(n, node, "not a neuron"))?;
                let (i_decay, v_decay) =
                    (decay_units(n, node, "tau_syn", m.du, dt)?, decay_units(n, node, "tau_mem", m.dv, dt)?);
                let g = m.gain;
                let leak = m.leak_drive.unwrap_or_else(|| vec![0.0; size]);
                let vth = m.v_threshold.ok_or_else(|| node_err(n, node, "a netx neuron needs a threshold"))?;
                let neuron = NeuronConfig {
                    kind: NeuronKind::Cuba { i_decay, v_decay, vth_mant: snap(vth / g) },
                    message_bits: None,
                };
                let index = layers.len();
                let (weight, n_out, n_in, input_bias) = match pending.take() {
                    Some((syn, w, o, i, b)) => {
                        if b.iter().any(|&x| x != 0.0) && i_decay != 4096.0 {
                            return Err(NirError::Node {
                                node: syn,
                                kind: "Affine".into(),
                                reason: "a bias into a decaying current has no netx counterpart (netx adds biases to the voltage)".into(),
                            });
                        }
                        (w, o, i, b)
                    }
                    None if layers.is_empty() => {
                        // A neuron fed straight by the Input: netx's input layer.
                        layers.push(LayerConfig {
                            index,
                            type_name: "input".into(),
                            kind: LayerKind::Input,
                            shape: vec![size],
                            neuron: Some(neuron),
                        });
                        at = n.clone();
                        continue;
                    }
                    None => return Err(node_err(n, node, "two neurons in a row; netx needs a synapse between them")),
                };
                // v_leak drives v by dt/tau_mem v_leak per step, in the LIF's units / g.
                let bias: Vec<f64> = leak.iter().zip(&input_bias).map(|(l, b)| snap(l / g + b)).collect();
                let has_bias = bias.iter().any(|&b| b != 0.0);
                layers.push(LayerConfig {
                    index,
                    type_name: "dense".into(),
                    kind: LayerKind::Dense {
                        weight: ndarray::Array2::from_shape_vec((n_out, n_in), weight)
                            .map_err(|e| node_err(n, node, e.to_string()))?,
                        weight_rec: None,
                        weight_imag: None,
                        bias: has_bias.then_some(bias),
                        delay: None,
                    },
                    shape: vec![n_out],
                    neuron: Some(neuron),
                });
            }
            other => {
                return Err(node_err(
                    n,
                    other,
                    "has no netx counterpart (netx takes Linear/Affine -> CubaLIF/LIF chains)",
                ))
            }
        }
        at = n.clone();
    }
    if pending.is_some() || layers.is_empty() {
        return Err(NirError::Graph("the chain must end with a CubaLIF before the Output".into()));
    }
    Ok(layers)
}
