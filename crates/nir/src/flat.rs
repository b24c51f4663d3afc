//! A NIR graph prepared for simulation: nested graphs inlined (their nodes named
//! `graph.node`), Identity nodes and inner Input/Output nodes bypassed, and every node's
//! input and output shape inferred.

use std::collections::BTreeMap;

use crate::error::{node_err, NirError};
use crate::ir::{Graph, Node, Padding};

/// An inlined graph: only computing nodes and the top-level Input/Output nodes remain.
#[derive(Clone, Debug)]
pub(crate) struct FlatGraph {
    /// Nodes by (dotted) name.
    pub nodes: BTreeMap<String, Node>,
    /// Edges (source, target).
    pub edges: Vec<(String, String)>,
    /// Per node: (input shape, output shape), NIR order (e.g. (C, H, W)).
    pub shapes: BTreeMap<String, InOut>,
}

/// A node's (input shape, output shape).
pub(crate) type InOut = (Vec<usize>, Vec<usize>);

impl FlatGraph {
    /// A node's (input, output) element counts.
    pub fn sizes(&self, name: &str) -> (usize, usize) {
        self.shapes.get(name).map_or((0, 0), |(i, o)| (i.iter().product(), o.iter().product()))
    }
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
    let shapes = infer_shapes(&nodes, &edges)?;
    Ok(FlatGraph { nodes, edges, shapes })
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

/// Output (H, W) of a window of `k` with stride, padding, dilation over (H, W).
fn window_out(hw: [usize; 2], k: [usize; 2], s: [usize; 2], p: [usize; 2], d: [usize; 2]) -> Option<[usize; 2]> {
    let one = |i: usize| -> Option<usize> {
        let span = d[i] * (k[i].checked_sub(1)?) + 1;
        let padded = hw[i] + 2 * p[i];
        (s[i] > 0 && padded >= span).then(|| (padded - span) / s[i] + 1)
    };
    Some([one(0)?, one(1)?])
}

/// A convolution's window as 2-D (H, W) numbers: (kernel, stride, dilation, padding); a
/// Conv1d is a Conv2d over a (C, 1, L) input with a (1, K) kernel.
pub(crate) struct Window {
    /// Kernel (kH, kW).
    pub kernel: [usize; 2],
    /// Stride (H, W).
    pub stride: [usize; 2],
    /// Dilation (H, W).
    pub dilation: [usize; 2],
    /// Explicit padding (H, W) (PyTorch's 'same' is symmetric only for odd spans).
    pub padding: [usize; 2],
}

/// The window of a Conv1d or Conv2d node (None for other nodes).
pub(crate) fn conv_window(name: &str, node: &Node) -> Result<Option<Window>, NirError> {
    let (kernel, stride, dilation, padding) = match node {
        Node::Conv2d { weight, padding, dilation, stride, .. } => {
            let k = |i: usize| weight.shape.get(2 + i).copied().unwrap_or(1).max(1);
            ([k(0), k(1)], *stride, *dilation, padding)
        }
        Node::Conv1d { weight, padding, dilation, stride, .. } => {
            ([1, weight.shape.get(2).copied().unwrap_or(1).max(1)], [1, *stride], [1, *dilation], padding)
        }
        _ => return Ok(None),
    };
    let dims = if matches!(node, Node::Conv1d { .. }) { 1 } else { 2 };
    let padding = match padding {
        Padding::Explicit(p) if p.len() == dims => [if dims == 2 { p[0] } else { 0 }, p[dims - 1]],
        Padding::Explicit(p) => return Err(node_err(name, node, format!("`padding` has {} values", p.len()))),
        Padding::Valid => [0, 0],
        Padding::Same => {
            let mut out = [0, 0];
            for i in 0..2 {
                let span = dilation[i] * (kernel[i] - 1);
                if span % 2 != 0 || stride[i] != 1 {
                    return Err(node_err(name, node, "'same' padding needs stride 1 and an odd kernel span"));
                }
                out[i] = span / 2;
            }
            out
        }
    };
    Ok(Some(Window { kernel, stride, dilation, padding }))
}

/// The element count a parameter implies: a scalar or one-element array broadcasts and
/// implies nothing.
fn param_size(t: &crate::ir::Tensor) -> Option<usize> {
    (t.data.len() > 1).then_some(t.data.len())
}

/// Whether a node passes its input shape through (neurons, Scale, Delay, Threshold).
fn elementwise(n: &Node) -> bool {
    !matches!(
        n,
        Node::Affine { .. }
            | Node::Linear { .. }
            | Node::Input { .. }
            | Node::Output { .. }
            | Node::Conv1d { .. }
            | Node::Conv2d { .. }
            | Node::SumPool2d { .. }
            | Node::AvgPool2d { .. }
            | Node::Flatten { .. }
    )
}

type Known = (Option<Vec<usize>>, Option<Vec<usize>>);

/// Shapes a node fixes by itself: (input, output).
fn own_shapes(name: &str, node: &Node) -> Result<Known, NirError> {
    let matrix = |w: &crate::ir::Tensor| -> Result<Known, NirError> {
        match w.shape[..] {
            [o, i] => Ok((Some(vec![i]), Some(vec![o]))),
            _ => Err(node_err(name, node, format!("`weight` must be 2-D (out, in), found shape {:?}", w.shape))),
        }
    };
    let params = |ps: &[&crate::ir::Tensor]| -> Result<Known, NirError> {
        let mut size = None;
        for p in ps {
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
        // A per-element parameter's own shape (e.g. (C, H, W) after a convolution).
        let shape = ps.iter().find(|p| param_size(p).is_some()).map(|p| p.shape.clone());
        Ok((shape.clone(), shape))
    };
    match node {
        Node::Input { shape } => Ok((None, Some(shape.clone()))),
        Node::Output { shape } => Ok((Some(shape.clone()), None)),
        Node::Affine { weight, bias } => {
            let s = matrix(weight)?;
            if bias.data.len() != weight.shape[0] {
                return Err(node_err(
                    name,
                    node,
                    format!("`bias` has {} values for {} outputs", bias.data.len(), weight.shape[0]),
                ));
            }
            Ok(s)
        }
        Node::Linear { weight } => matrix(weight),
        Node::Conv2d { input_shape, weight, groups, bias, .. } => {
            let [co, ci, _, _] = weight.shape[..] else {
                return Err(node_err(
                    name,
                    node,
                    format!("`weight` must be 4-D (Cout, Cin/groups, kH, kW), found {:?}", weight.shape),
                ));
            };
            if bias.data.len() != co && bias.data.len() > 1 {
                return Err(node_err(name, node, format!("`bias` has {} values for {co} channels", bias.data.len())));
            }
            Ok((input_shape.map(|[h, w]| vec![ci * groups, h, w]), None))
        }
        Node::Conv1d { input_shape, weight, groups, bias, .. } => {
            let [co, ci, _] = weight.shape[..] else {
                return Err(node_err(
                    name,
                    node,
                    format!("`weight` must be 3-D (Cout, Cin/groups, K), found {:?}", weight.shape),
                ));
            };
            if bias.data.len() != co && bias.data.len() > 1 {
                return Err(node_err(name, node, format!("`bias` has {} values for {co} channels", bias.data.len())));
            }
            Ok((input_shape.map(|l| vec![ci * groups, l]), None))
        }
        Node::SumPool2d { .. } | Node::AvgPool2d { .. } => Ok((None, None)),
        Node::Flatten { input_type, .. } => Ok((input_type.clone(), None)),
        Node::Scale { scale } => params(&[scale]),
        Node::Delay { delay } => params(&[delay]),
        Node::Threshold { threshold } => params(&[threshold]),
        Node::I { r } => params(&[r]),
        Node::IF { r, v_threshold, v_reset } => params(&[r, v_threshold, v_reset]),
        Node::LI { tau, r, v_leak } => params(&[tau, r, v_leak]),
        Node::LIF { tau, r, v_leak, v_threshold, v_reset } => params(&[tau, r, v_leak, v_threshold, v_reset]),
        Node::CubaLI { tau_syn, tau_mem, r, v_leak, w_in } => params(&[tau_syn, tau_mem, r, v_leak, w_in]),
        Node::CubaLIF { tau_syn, tau_mem, r, v_leak, v_threshold, v_reset, w_in } => {
            params(&[tau_syn, tau_mem, r, v_leak, v_threshold, v_reset, w_in])
        }
        other => Err(node_err(name, other, "this node type is not simulated by Basalt yet")),
    }
}

/// The output shape of a shape-changing node from its input shape.
fn derive_output(name: &str, node: &Node, input: &[usize]) -> Result<Option<Vec<usize>>, NirError> {
    let image = || -> Result<[usize; 3], NirError> {
        match input[..] {
            [c, h, w] => Ok([c, h, w]),
            _ => Err(node_err(name, node, format!("needs a (C, H, W) input, gets shape {input:?}"))),
        }
    };
    let bad_window = || node_err(name, node, format!("the window does not fit the input {input:?}"));
    match node {
        Node::Conv1d { weight, groups, .. } | Node::Conv2d { weight, groups, .. } => {
            let one_d = matches!(node, Node::Conv1d { .. });
            let [c, h, w] = match input[..] {
                [c, l] if one_d => [c, 1, l],
                _ if one_d => return Err(node_err(name, node, format!("needs a (C, L) input, gets shape {input:?}"))),
                _ => image()?,
            };
            let (co, ci) = (weight.shape[0], weight.shape[1]);
            if ci * groups != c || *groups == 0 || co % groups != 0 {
                return Err(node_err(
                    name,
                    node,
                    format!("weight {:?} with {groups} groups does not fit {c} input channels", weight.shape),
                ));
            }
            let Some(win) = conv_window(name, node)? else { return Ok(None) };
            let [ho, wo] =
                window_out([h, w], win.kernel, win.stride, win.padding, win.dilation).ok_or_else(bad_window)?;
            Ok(Some(if one_d { vec![co, wo] } else { vec![co, ho, wo] }))
        }
        Node::SumPool2d { kernel_size, stride, padding } | Node::AvgPool2d { kernel_size, stride, padding } => {
            let [c, h, w] = image()?;
            let [ho, wo] = window_out([h, w], *kernel_size, *stride, *padding, [1, 1]).ok_or_else(bad_window)?;
            Ok(Some(vec![c, ho, wo]))
        }
        Node::Flatten { start_dim, end_dim, .. } => {
            let d = input.len() as i64;
            let at = |x: i64| if x < 0 { x + d } else { x };
            let (s, e) = (at(*start_dim), at(*end_dim));
            if !(0 <= s && s <= e && e < d) {
                return Err(node_err(
                    name,
                    node,
                    format!("start_dim {start_dim} / end_dim {end_dim} do not fit the input {input:?}"),
                ));
            }
            let (s, e) = (s as usize, e as usize);
            let mut out = input[..s].to_vec();
            out.push(input[s..=e].iter().product());
            out.extend_from_slice(&input[e + 1..]);
            Ok(Some(out))
        }
        _ => Ok(None),
    }
}

/// Propagates shapes along edges (an edge's source output is its target's input;
/// elementwise nodes keep their shape; convolutions, pools and flattens compute theirs)
/// until nothing changes. Shapes with the same number of elements match ((4,) and (1, 4)).
fn infer_shapes(
    nodes: &BTreeMap<String, Node>,
    edges: &[(String, String)],
) -> Result<BTreeMap<String, InOut>, NirError> {
    let mut known: BTreeMap<&str, Known> = BTreeMap::new();
    for (name, node) in nodes {
        known.insert(name, own_shapes(name, node)?);
    }
    let numel = |s: &Vec<usize>| s.iter().product::<usize>();
    loop {
        let mut changed = false;
        for (name, node) in nodes {
            let Some(k) = known.get_mut(name.as_str()) else { continue };
            if elementwise(node) && k.0.is_some() != k.1.is_some() {
                let s = k.0.clone().or(k.1.clone());
                *k = (s.clone(), s);
                changed = true;
            }
            if let (Some(i), None) = (&k.0, &k.1) {
                if let Some(o) = derive_output(name, node, i)? {
                    k.1 = Some(o);
                    changed = true;
                }
            }
        }
        for (a, b) in edges {
            let (Some(ka), Some(kb)) = (known.get(a.as_str()), known.get(b.as_str())) else { continue };
            match (ka.1.clone(), kb.0.clone()) {
                (Some(x), Some(y)) if numel(&x) != numel(&y) => {
                    return Err(NirError::Graph(format!(
                        "size mismatch on edge ({a}, {b}): `{a}` gives {} values {x:?}, `{b}` takes {} {y:?}",
                        numel(&x),
                        numel(&y)
                    )))
                }
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
        let k = known[name.as_str()].clone();
        let shapes = match (node, k) {
            (Node::Input { .. }, (_, Some(o))) => (o.clone(), o),
            (Node::Output { .. }, (Some(i), _)) => (i.clone(), i),
            (_, (Some(i), Some(o))) => (i, o),
            _ => {
                return Err(node_err(
                    name,
                    node,
                    "its shape cannot be inferred: connect it or give per-neuron parameters",
                ))
            }
        };
        out.insert(name.clone(), shapes);
    }
    Ok(out)
}
