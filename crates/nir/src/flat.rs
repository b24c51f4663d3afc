//! A NIR graph prepared for simulation: nested graphs inlined (their nodes named
//! `graph.node`), Identity nodes and inner Input/Output nodes bypassed, and every node's
//! input and output size inferred.

use std::collections::BTreeMap;

use crate::error::NirError;
use crate::ir::{Graph, Node};

/// An inlined graph: only computing nodes and the top-level Input/Output nodes remain.
#[derive(Clone, Debug)]
pub(crate) struct FlatGraph {
    /// Nodes by (dotted) name.
    pub nodes: BTreeMap<String, Node>,
    /// Edges (source, target).
    pub edges: Vec<(String, String)>,
    /// Per node: (input size, output size) in elements.
    pub sizes: BTreeMap<String, (usize, usize)>,
}

impl FlatGraph {
    /// Nodes that feed `name`.
    pub fn sources_of(&self, name: &str) -> Vec<&str> {
        self.edges.iter().filter(|(_, b)| b == name).map(|(a, _)| a.as_str()).collect()
    }
}

/// Inlines nested graphs, removes pass-through nodes and infers sizes.
pub(crate) fn flatten(graph: &Graph) -> Result<FlatGraph, NirError> {
    let mut nodes = BTreeMap::new();
    let mut edges = Vec::new();
    inline(graph, "", true, &mut nodes, &mut edges)?;
    bypass_pass_through(&mut nodes, &mut edges);
    if let Some((a, b)) = edges.iter().find(|(a, b)| !nodes.contains_key(a) || !nodes.contains_key(b)) {
        let missing = if nodes.contains_key(a) { b } else { a };
        return Err(NirError::Graph(format!("edge ({a}, {b}) names the unknown node `{missing}`")));
    }
    let sizes = infer_sizes(&nodes, &edges)?;
    Ok(FlatGraph { nodes, edges, sizes })
}

fn inline(
    g: &Graph,
    prefix: &str,
    top: bool,
    nodes: &mut BTreeMap<String, Node>,
    edges: &mut Vec<(String, String)>,
) -> Result<(), NirError> {
    let full = |n: &str| format!("{prefix}{n}");
    // Where an edge to / from a node of this graph really starts or ends: a nested graph is
    // entered at its single Input node and left at its single Output node.
    let endpoint = |name: &str, entering: bool| -> Result<String, NirError> {
        // A node's own name may contain dots; otherwise `sub.node` addresses a nested node.
        let (head, rest) = match name.split_once('.') {
            Some((h, r)) if !g.nodes.contains_key(name) => (h, Some(r)),
            _ => (name, None),
        };
        match (g.nodes.get(head), rest) {
            (Some(Node::Graph(sub)), None) => {
                let want = if entering { "Input" } else { "Output" };
                let ends: Vec<&String> = sub.nodes.iter().filter(|(_, n)| n.kind() == want).map(|(k, _)| k).collect();
                match ends[..] {
                    [one] => Ok(format!("{prefix}{head}.{one}")),
                    _ => Err(NirError::Graph(format!(
                        "an edge connects to the sub-graph `{}`, which has {} {want} nodes; name one (`{}.<node>`)",
                        full(head),
                        ends.len(),
                        full(head)
                    ))),
                }
            }
            (Some(_), _) => Ok(full(name)),
            (None, _) => Err(NirError::Graph(format!("an edge names the unknown node `{}`", full(name)))),
        }
    };
    for (a, b) in &g.edges {
        edges.push((endpoint(a, false)?, endpoint(b, true)?));
    }
    for (name, node) in &g.nodes {
        match node {
            Node::Graph(sub) => inline(sub, &format!("{prefix}{name}."), false, nodes, edges)?,
            // Inside a nested graph, Input and Output nodes only pass values through.
            Node::Input { .. } | Node::Output { .. } if !top => {
                nodes.insert(full(name), Node::Identity);
            }
            _ => {
                nodes.insert(full(name), node.clone());
            }
        }
    }
    Ok(())
}

/// Replaces every path a -> identity -> b by a -> b and drops the identity nodes.
fn bypass_pass_through(nodes: &mut BTreeMap<String, Node>, edges: &mut Vec<(String, String)>) {
    let ids: Vec<String> = nodes.iter().filter(|(_, n)| matches!(n, Node::Identity)).map(|(k, _)| k.clone()).collect();
    for id in ids {
        let ins: Vec<String> = edges.iter().filter(|(_, b)| *b == id).map(|(a, _)| a.clone()).collect();
        let outs: Vec<String> = edges.iter().filter(|(a, _)| *a == id).map(|(_, b)| b.clone()).collect();
        edges.retain(|(a, b)| *a != id && *b != id);
        for a in &ins {
            for b in &outs {
                edges.push((a.clone(), b.clone()));
            }
        }
        nodes.remove(&id);
    }
}

fn node_err(name: &str, node: &Node, reason: String) -> NirError {
    NirError::Node { node: name.to_string(), kind: node.kind().to_string(), reason }
}

/// The element count a parameter implies: a scalar or one-element array broadcasts and
/// implies nothing.
fn param_size(t: &crate::ir::Tensor) -> Option<usize> {
    (t.data.len() > 1).then_some(t.data.len())
}

/// Sizes a node fixes by itself: (input, output).
fn own_sizes(name: &str, node: &Node) -> Result<(Option<usize>, Option<usize>), NirError> {
    let matrix = |w: &crate::ir::Tensor| -> Result<(Option<usize>, Option<usize>), NirError> {
        match w.shape[..] {
            [o, i] => Ok((Some(i), Some(o))),
            _ => Err(node_err(name, node, format!("`weight` must be 2-D (out, in), found shape {:?}", w.shape))),
        }
    };
    let elementwise = |params: &[&crate::ir::Tensor]| -> Result<(Option<usize>, Option<usize>), NirError> {
        let mut size = None;
        for p in params {
            if let Some(n) = param_size(p) {
                if size.is_some_and(|s| s != n) {
                    return Err(node_err(
                        name,
                        node,
                        format!("parameters have different sizes ({} and {n})", size.unwrap_or(0)),
                    ));
                }
                size = Some(n);
            }
        }
        Ok((size, size))
    };
    match node {
        Node::Input { shape } => Ok((None, Some(shape.iter().product()))),
        Node::Output { shape } => Ok((Some(shape.iter().product()), None)),
        Node::Affine { weight, bias } => {
            let s = matrix(weight)?;
            if bias.data.len() != s.1.unwrap_or(0) {
                return Err(node_err(
                    name,
                    node,
                    format!("`bias` has {} values for {} outputs", bias.data.len(), weight.shape[0]),
                ));
            }
            Ok(s)
        }
        Node::Linear { weight } => matrix(weight),
        Node::Scale { scale } => elementwise(&[scale]),
        Node::Delay { delay } => elementwise(&[delay]),
        Node::Threshold { threshold } => elementwise(&[threshold]),
        Node::I { r } => elementwise(&[r]),
        Node::IF { r, v_threshold, v_reset } => elementwise(&[r, v_threshold, v_reset]),
        Node::LI { tau, r, v_leak } => elementwise(&[tau, r, v_leak]),
        Node::LIF { tau, r, v_leak, v_threshold, v_reset } => elementwise(&[tau, r, v_leak, v_threshold, v_reset]),
        Node::CubaLI { tau_syn, tau_mem, r, v_leak, w_in } => elementwise(&[tau_syn, tau_mem, r, v_leak, w_in]),
        Node::CubaLIF { tau_syn, tau_mem, r, v_leak, v_threshold, v_reset, w_in } => {
            elementwise(&[tau_syn, tau_mem, r, v_leak, v_threshold, v_reset, w_in])
        }
        other => Err(node_err(name, other, "this node type is not simulated by Basalt yet".into())),
    }
}

/// Propagates sizes along edges (an edge's source output size is its target's input size;
/// elementwise nodes have equal input and output sizes) until nothing changes.
fn infer_sizes(
    nodes: &BTreeMap<String, Node>,
    edges: &[(String, String)],
) -> Result<BTreeMap<String, (usize, usize)>, NirError> {
    let mut known: BTreeMap<&str, (Option<usize>, Option<usize>)> = BTreeMap::new();
    for (name, node) in nodes {
        known.insert(name, own_sizes(name, node)?);
    }
    let elementwise =
        |n: &Node| !matches!(n, Node::Affine { .. } | Node::Linear { .. } | Node::Input { .. } | Node::Output { .. });
    let mismatch = |a: &str, b: &str, x: usize, y: usize| {
        NirError::Graph(format!("size mismatch on edge ({a}, {b}): `{a}` gives {x} values, `{b}` takes {y}"))
    };
    loop {
        let mut changed = false;
        for (name, node) in nodes {
            let e = known[name.as_str()];
            if elementwise(node) && e.0 != e.1 {
                let s = e.0.or(e.1);
                known.insert(name, (s, s));
                changed = true;
            }
        }
        for (a, b) in edges {
            let (Some(ka), Some(kb)) = (known.get(a.as_str()), known.get(b.as_str())) else { continue };
            let (sa, sb) = (ka.1, kb.0);
            match (sa, sb) {
                (Some(x), Some(y)) if x != y => return Err(mismatch(a, b, x, y)),
                (Some(x), None) => {
                    if let Some(k) = known.get_mut(b.as_str()) {
                        k.0 = Some(x);
                        changed = true;
                    }
                }
                (None, Some(y)) => {
                    if let Some(k) = known.get_mut(a.as_str()) {
                        k.1 = Some(y);
                        changed = true;
                    }
                }
                _ => {}
            }
        }
        if !changed {
            break;
        }
    }
    let mut out = BTreeMap::new();
    for (name, node) in nodes {
        let (i, o) = known[name.as_str()];
        let size = match (node, i, o) {
            (Node::Input { .. }, _, Some(o)) => (o, o),
            (Node::Output { .. }, Some(i), _) => (i, i),
            (_, Some(i), Some(o)) => (i, o),
            _ => {
                return Err(node_err(
                    name,
                    node,
                    "its size cannot be inferred: connect it or give per-neuron parameters".into(),
                ))
            }
        };
        out.insert(name.clone(), size);
    }
    Ok(out)
}
