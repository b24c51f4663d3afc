//! Basalt networks exported as NIR graphs: the inverse of [`crate::sim`]'s discretisation,
//! so that simulating the exported graph with the same `dt` runs the same float dynamics.
//!
//! The network is compiled with the float models first (hierarchical processes flattened,
//! port transforms resolved). Then, per leaf process:
//!
//! * `Lif` (float parameters: `du`, `dv` in [0, 1]) becomes a `CubaLIF` with
//!   `tau_syn = dt/du`, `tau_mem = dt/dv`, `w_in = 1/du`, `r = 1/dv`, `v_leak = bias/dv`,
//!   `v_threshold = vth` (a `CubaLI` when `vth` is `f64::MAX`, the non-spiking neurons
//!   [`crate::build`] makes), or, with `dv = 0` and `du = 1` and no bias, an `IF` with
//!   `r = 1/dt`. In these units the NIR neuron's current and voltage are the LIF's `u`
//!   and `v`.
//! * `Dense` becomes a `Linear`, `Conv` a `Conv2d` (Basalt's (W, H, C) axes become NIR's
//!   (C, H, W); the kernel goes back to PyTorch's (Cout, Cin/groups, kH, kW) layout).
//! * `source.RingBuffer` becomes an `Input`, `sink.RingBuffer` an `Output`.
//!
//! Connections must be whole ports, reshapes that only add or drop axes of size 1, or the
//! NIR-order flatten that [`crate::build`] makes for a `Flatten` node (exported as one).
//! Anything else (initial states, delays, other process types, other transforms) is an
//! error naming the process.

use std::collections::BTreeMap;

use basalt_core::executable::{LeafProcess, Source};
use basalt_core::process::conv::kernel_to_torch;
use basalt_core::{Executable, Network, RunConfig};
use ndarray::{Array4, ArrayD, IxDyn};

use crate::error::{check_dt, NirError};
use crate::ir::{tensor, Graph, Node, Padding, Tensor};

/// A process that cannot be exported, and why.
fn refuse(p: &LeafProcess, why: impl std::fmt::Display) -> NirError {
    NirError::Export(format!("process `{}` ({}): {why}", p.name, p.type_name))
}

/// NIR's order of a Basalt shape: the axes reversed ((W, H, C) -> (C, H, W)).
fn nir_shape(basalt: &[usize]) -> Vec<usize> {
    basalt.iter().rev().copied().collect()
}

/// Values in Basalt's C order of `basalt_shape`, as a tensor in NIR's axis order.
fn nir_tensor(values: &[f64], basalt_shape: &[usize]) -> Result<Tensor, NirError> {
    let a = ArrayD::from_shape_vec(IxDyn(basalt_shape), values.to_vec())
        .map_err(|e| NirError::Export(format!("values do not fit the shape {basalt_shape:?}: {e}")))?;
    Ok(tensor(&nir_shape(basalt_shape), a.t().iter().copied().collect()))
}

fn var<'a>(p: &'a LeafProcess, name: &str) -> Result<&'a [f64], NirError> {
    p.var(name).map(|v| &v.data[..]).map_err(NirError::Export)
}

fn scalar(p: &LeafProcess, name: &str) -> Result<f64, NirError> {
    var(p, name)?.first().copied().ok_or_else(|| refuse(p, format!("`{name}` is empty")))
}

/// The NIR neuron node of a float `Lif`.
fn lif_node(p: &LeafProcess, dt: f64) -> Result<Node, NirError> {
    let (du, dv, vth) = (scalar(p, "du")?, scalar(p, "dv")?, scalar(p, "vth")?);
    if !(0.0..=1.0).contains(&du) || !(0.0..=1.0).contains(&dv) {
        return Err(refuse(
            p,
            format!("du = {du}, dv = {dv} are not float decays in [0, 1] (fixed-point parameters have no NIR form)"),
        ));
    }
    for state in ["u", "v"] {
        if var(p, state)?.iter().any(|&x| x != 0.0) {
            return Err(refuse(p, format!("its initial `{state}` is not zero; NIR neurons start at rest")));
        }
    }
    let shape = &p.var("bias_mant").map_err(NirError::Export)?.shape;
    let bias = nir_tensor(var(p, "bias_mant")?, shape)?;
    let full = |x: f64| tensor(&bias.shape, vec![x; bias.data.len()]);
    let spiking = vth < f64::MAX / 2.0;
    if dv == 0.0 {
        if du != 1.0 || bias.data.iter().any(|&b| b != 0.0) || !spiking {
            return Err(refuse(
                p,
                "dv = 0 (no voltage decay) has a NIR form only as an IF neuron: du = 1, no bias, a threshold",
            ));
        }
        return Ok(Node::IF { r: full(1.0 / dt), v_threshold: full(vth), v_reset: full(0.0) });
    }
    if du == 0.0 {
        return Err(refuse(p, "du = 0 (a current that never decays) has no NIR form"));
    }
    let (tau_syn, tau_mem, r, w_in) = (full(dt / du), full(dt / dv), full(1.0 / dv), full(1.0 / du));
    let v_leak = tensor(&bias.shape, bias.data.iter().map(|b| b / dv).collect());
    Ok(if spiking {
        Node::CubaLIF { tau_syn, tau_mem, r, v_leak, v_threshold: full(vth), v_reset: full(0.0), w_in }
    } else {
        Node::CubaLI { tau_syn, tau_mem, r, v_leak, w_in }
    })
}

/// The NIR `Conv2d` of a float `Conv`.
fn conv_node(p: &LeafProcess) -> Result<Node, NirError> {
    let w = p.var("weight").map_err(NirError::Export)?;
    let [co, kx, ky, cg] = w.shape[..] else {
        return Err(refuse(p, format!("`weight` has shape {:?}, expected 4 axes", w.shape)));
    };
    let lava = Array4::from_shape_vec((co, kx, ky, cg), w.data.to_vec()).map_err(|e| refuse(p, e))?;
    let (torch, torch_shape) = kernel_to_torch(&lava);
    let pair = |name: &str| -> Result<[usize; 2], NirError> {
        match var(p, name)? {
            [x, y] => Ok([*y as usize, *x as usize]),
            other => Err(refuse(p, format!("`{name}` has {} values", other.len()))),
        }
    };
    let input = p.in_ports.first().map(|s| s.shape.clone()).unwrap_or_default();
    let [w_in, h_in, _] = input[..] else {
        return Err(refuse(p, format!("its input {input:?} is not (W, H, C)")));
    };
    Ok(Node::Conv2d {
        input_shape: Some([h_in, w_in]),
        weight: tensor(&torch_shape, torch),
        stride: pair("stride")?,
        padding: Padding::Explicit(pair("padding")?.to_vec()),
        dilation: pair("dilation")?,
        groups: scalar(p, "groups")? as usize,
        bias: tensor(&[co], vec![0.0; co]),
    })
}

/// Whether a gather is [`crate::build`]'s flatten of an OutPort in NIR order (axes
/// reversed, then C order).
fn is_nir_flatten(idx: &[u32], shape: &[usize]) -> bool {
    let n: usize = shape.iter().product();
    if idx.len() != n || shape.len() < 2 {
        return false;
    }
    let order = ArrayD::from_shape_vec(IxDyn(shape), (0..n as u32).collect::<Vec<_>>());
    order.is_ok_and(|a| a.t().iter().zip(idx).all(|(x, y)| x == y))
}

/// Shapes equal up to axes of size 1.
fn same_up_to_ones(a: &[usize], b: &[usize]) -> bool {
    let strip = |s: &[usize]| s.iter().copied().filter(|&d| d != 1).collect::<Vec<_>>();
    strip(a) == strip(b)
}

/// Exports a network as a NIR graph for time step `dt` (see the module docs): node names
/// are the process names with `.` replaced by `_`.
pub fn network_to_nir(net: &Network, dt: f64) -> Result<Graph, NirError> {
    check_dt(dt)?;
    let exe = net.compile(&RunConfig::floating_pt())?;
    executable_to_nir(&exe, dt)
}

/// [`network_to_nir`] of an already compiled (float) executable.
pub fn executable_to_nir(exe: &Executable, dt: f64) -> Result<Graph, NirError> {
    check_dt(dt)?;
    let names: Vec<String> = exe.processes.iter().map(|p| p.name.replace('.', "_")).collect();
    let mut nodes = BTreeMap::new();
    for (p, name) in exe.processes.iter().zip(&names) {
        let port_shape = |ports: &[basalt_core::executable::PortSpec]| {
            nir_shape(&ports.first().map(|s| s.shape.clone()).unwrap_or_default())
        };
        let node = match p.type_name.as_str() {
            "Lif" => lif_node(p, dt)?,
            "Dense" => {
                let w = p.var("weights").map_err(NirError::Export)?;
                Node::Linear { weight: tensor(&w.shape, w.data.to_vec()) }
            }
            "Conv" => conv_node(p)?,
            "source.RingBuffer" => Node::Input { shape: port_shape(&p.out_ports) },
            "sink.RingBuffer" => Node::Output { shape: port_shape(&p.in_ports) },
            _ => return Err(refuse(p, "has no NIR counterpart that Basalt exports")),
        };
        if nodes.insert(name.clone(), node).is_some() {
            return Err(NirError::Export(format!("two processes are both named `{name}` in NIR")));
        }
    }
    // Owner process and shape of each global OutPort.
    let mut owner: Vec<(usize, Vec<usize>)> = Vec::new();
    for (i, p) in exe.processes.iter().enumerate() {
        owner.extend(p.out_ports.iter().map(|s| (i, s.shape.clone())));
    }
    let mut edges = Vec::new();
    for (i, p) in exe.processes.iter().enumerate() {
        for (k, port) in p.in_ports.iter().enumerate() {
            let unexpressible =
                || refuse(p, format!("its input `{}` is a reshape or transpose NIR cannot express", port.name));
            for source in &exe.in_port_sources[p.in_port_offset + k] {
                // The source process and, for a NIR-order flatten, the shape it flattens.
                let (src, flattened) = match source {
                    Source::Identity(o) if same_up_to_ones(&owner[*o].1, &port.shape) => (owner[*o].0, None),
                    Source::Identity(_) => return Err(unexpressible()),
                    Source::Gather { port: ports, idx }
                        if !ports.is_empty() && ports.iter().all(|&q| q == ports[0]) =>
                    {
                        let (src, shape) = &owner[ports[0] as usize];
                        let whole = idx.iter().enumerate().all(|(e, &x)| x as usize == e);
                        if whole && idx.len() == shape.iter().product::<usize>() && same_up_to_ones(shape, &port.shape)
                        {
                            (*src, None)
                        } else if port.shape.len() == 1 && is_nir_flatten(idx, shape) {
                            (*src, Some(shape))
                        } else {
                            return Err(unexpressible());
                        }
                    }
                    Source::Gather { .. } => {
                        return Err(refuse(p, format!("its input `{}` concatenates several ports", port.name)))
                    }
                };
                let from = names[src].clone();
                if let Some(shape) = flattened {
                    let flat = format!("{from}_flatten");
                    if !nodes.contains_key(&flat) {
                        let input_type = Some(nir_shape(shape));
                        nodes.insert(flat.clone(), Node::Flatten { input_type, start_dim: 0, end_dim: -1 });
                        edges.push((from, flat.clone()));
                    }
                    edges.push((flat, names[i].clone()));
                } else {
                    edges.push((from, names[i].clone()));
                }
            }
        }
    }
    Ok(Graph { nodes, edges })
}
