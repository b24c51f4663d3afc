//! NIR HDF5 files (SPEC §5.2): a root `version` string and a `node` group holding the
//! top-level graph. Every node group has a `type` string and one dataset per field; a graph
//! has `nodes/<name>` sub-groups and an (n, 2) string dataset `edges`. Read and written
//! through Basalt's one HDF5 module.

use std::collections::BTreeMap;
use std::path::Path;

use basalt_core::persist::hdf5::{read_tree, write_tree, Array, Tree, Value};

use crate::error::NirError;
use crate::ir::{Graph, Node, Padding, Tensor};

/// The NIR release whose file layout Basalt reads and writes (written as `version`).
pub const NIR_VERSION: &str = "1.0.8";

/// Reads a NIR file. Unknown node types and malformed fields fail with an error naming the
/// node; reading never panics on a corrupt file.
pub fn read(path: impl AsRef<Path>) -> Result<Graph, NirError> {
    let path = path.as_ref();
    let label = path.display().to_string();
    let tree = read_tree(path)?;
    let file_err = |reason: &str| NirError::File { path: label.clone(), reason: reason.into() };
    if !tree.datasets.contains_key("version") {
        return Err(file_err("no `version` dataset: not a NIR file"));
    }
    let root = tree.groups.get("node").ok_or_else(|| file_err("no `node` group: not a NIR file"))?;
    match read_node("", root, 0)? {
        Node::Graph(g) => Ok(g),
        other => Err(file_err(&format!("the top-level node is a {}, not a NIRGraph", other.kind()))),
    }
}

/// The fields of one node group, with errors that name the node.
struct Fields<'a> {
    name: &'a str,
    kind: String,
    g: &'a Tree,
}

impl Fields<'_> {
    fn err(&self, reason: String) -> NirError {
        NirError::Node { node: self.name.to_string(), kind: self.kind.clone(), reason }
    }
    fn tensor(&self, key: &str) -> Result<Tensor, NirError> {
        match self.g.datasets.get(key) {
            Some(Value::Numbers(a)) | Some(Value::Float64(a)) => {
                if let Some(bad) = a.data.iter().find(|x| !x.is_finite()) {
                    return Err(self.err(format!("`{key}` holds the non-finite value {bad}")));
                }
                Ok(a.clone())
            }
            Some(_) => Err(self.err(format!("`{key}` is not numeric"))),
            None => Err(self.err(format!("missing field `{key}`"))),
        }
    }
    fn tensor_or(&self, key: &str, default: f64) -> Result<Tensor, NirError> {
        if self.g.datasets.contains_key(key) {
            self.tensor(key)
        } else {
            Ok(Tensor { shape: Vec::new(), data: vec![default] })
        }
    }
    /// Non-negative integers (a scalar or a vector).
    fn ints(&self, key: &str) -> Result<Vec<usize>, NirError> {
        let t = self.tensor(key)?;
        t.data
            .iter()
            .map(|&x| {
                if x.fract() == 0.0 && (0.0..1e9).contains(&x) {
                    Ok(x as usize)
                } else {
                    Err(self.err(format!("`{key}` must hold non-negative integers, found {x}")))
                }
            })
            .collect()
    }
    fn int(&self, key: &str) -> Result<usize, NirError> {
        match self.ints(key)?[..] {
            [x] => Ok(x),
            ref v => Err(self.err(format!("`{key}` must be one integer, found {} values", v.len()))),
        }
    }
    fn signed(&self, key: &str, default: i64) -> Result<i64, NirError> {
        if !self.g.datasets.contains_key(key) {
            return Ok(default);
        }
        let t = self.tensor(key)?;
        match t.data[..] {
            [x] if x.fract() == 0.0 && x.abs() < 1e9 => Ok(x as i64),
            _ => Err(self.err(format!("`{key}` must be one integer"))),
        }
    }
    /// An int or a pair of ints, as a pair (NIR broadcasts ints to pairs).
    fn pair(&self, key: &str) -> Result<[usize; 2], NirError> {
        match self.ints(key)?[..] {
            [x] => Ok([x, x]),
            [a, b] => Ok([a, b]),
            ref v => Err(self.err(format!("`{key}` must be one or two integers, found {}", v.len()))),
        }
    }
    fn text(&self, key: &str) -> Option<String> {
        match self.g.datasets.get(key) {
            Some(Value::Text(t)) | Some(Value::FixedText(t)) if t.len() == 1 => Some(t[0].clone()),
            _ => None,
        }
    }
    fn padding(&self, axes: usize) -> Result<Padding, NirError> {
        if let Some(s) = self.text("padding") {
            return match s.as_str() {
                "same" => Ok(Padding::Same),
                "valid" => Ok(Padding::Valid),
                other => Err(self.err(format!("`padding` must be integers, 'same' or 'valid', found '{other}'"))),
            };
        }
        let p = self.ints("padding")?;
        match p.len() {
            1 => Ok(Padding::Explicit(vec![p[0]; axes])),
            n if n == axes => Ok(Padding::Explicit(p)),
            n => Err(self.err(format!("`padding` has {n} values for {axes} spatial axes"))),
        }
    }
}

fn read_node(name: &str, g: &Tree, depth: usize) -> Result<Node, NirError> {
    let kind = match g.datasets.get("type") {
        Some(Value::Text(t)) | Some(Value::FixedText(t)) if t.len() == 1 => t[0].clone(),
        _ => {
            return Err(NirError::Node {
                node: name.to_string(),
                kind: "?".into(),
                reason: "missing or malformed `type` string".into(),
            })
        }
    };
    let f = Fields { name, kind: kind.clone(), g };
    Ok(match kind.as_str() {
        "Input" => Node::Input { shape: f.ints("shape")? },
        "Output" => Node::Output { shape: f.ints("shape")? },
        "Affine" => Node::Affine { weight: f.tensor("weight")?, bias: f.tensor("bias")? },
        "Linear" => Node::Linear { weight: f.tensor("weight")? },
        "Scale" => Node::Scale { scale: f.tensor("scale")? },
        "Conv1d" => Node::Conv1d {
            input_shape: if g.datasets.contains_key("input_shape") { Some(f.int("input_shape")?) } else { None },
            weight: f.tensor("weight")?,
            stride: f.int("stride")?,
            padding: f.padding(1)?,
            dilation: f.int("dilation")?,
            groups: f.int("groups")?,
            bias: f.tensor("bias")?,
        },
        "Conv2d" => Node::Conv2d {
            input_shape: if g.datasets.contains_key("input_shape") { Some(f.pair("input_shape")?) } else { None },
            weight: f.tensor("weight")?,
            stride: f.pair("stride")?,
            padding: f.padding(2)?,
            dilation: f.pair("dilation")?,
            groups: f.int("groups")?,
            bias: f.tensor("bias")?,
        },
        "SumPool2d" | "AvgPool2d" => {
            let (kernel_size, stride, padding) = (f.pair("kernel_size")?, f.pair("stride")?, f.pair("padding")?);
            if kind == "SumPool2d" {
                Node::SumPool2d { kernel_size, stride, padding }
            } else {
                Node::AvgPool2d { kernel_size, stride, padding }
            }
        }
        "Flatten" => Node::Flatten {
            input_type: if g.datasets.contains_key("input_type") { Some(f.ints("input_type")?) } else { None },
            start_dim: f.signed("start_dim", 1)?,
            end_dim: f.signed("end_dim", -1)?,
        },
        "Delay" => Node::Delay { delay: f.tensor("delay")? },
        "Threshold" => Node::Threshold { threshold: f.tensor("threshold")? },
        "I" => Node::I { r: f.tensor("r")? },
        "IF" => {
            Node::IF { r: f.tensor("r")?, v_threshold: f.tensor("v_threshold")?, v_reset: f.tensor_or("v_reset", 0.0)? }
        }
        "LI" => Node::LI { tau: f.tensor("tau")?, r: f.tensor("r")?, v_leak: f.tensor("v_leak")? },
        "LIF" => Node::LIF {
            tau: f.tensor("tau")?,
            r: f.tensor("r")?,
            v_leak: f.tensor("v_leak")?,
            v_threshold: f.tensor("v_threshold")?,
            v_reset: f.tensor_or("v_reset", 0.0)?,
        },
        "CubaLI" => Node::CubaLI {
            tau_syn: f.tensor("tau_syn")?,
            tau_mem: f.tensor("tau_mem")?,
            r: f.tensor("r")?,
            v_leak: f.tensor("v_leak")?,
            w_in: f.tensor_or("w_in", 1.0)?,
        },
        "CubaLIF" => Node::CubaLIF {
            tau_syn: f.tensor("tau_syn")?,
            tau_mem: f.tensor("tau_mem")?,
            r: f.tensor("r")?,
            v_leak: f.tensor("v_leak")?,
            v_threshold: f.tensor("v_threshold")?,
            v_reset: f.tensor_or("v_reset", 0.0)?,
            w_in: f.tensor_or("w_in", 1.0)?,
        },
        "Identity" => Node::Identity,
        "NIRGraph" => Node::Graph(read_graph(&f, depth)?),
        other => return Err(f.err(format!("unknown NIR node type `{other}`"))),
    })
}

fn read_graph(f: &Fields<'_>, depth: usize) -> Result<Graph, NirError> {
    if depth > 16 {
        return Err(f.err("graphs nested more than 16 deep".into()));
    }
    let mut nodes = BTreeMap::new();
    if let Some(group) = f.g.groups.get("nodes") {
        for (child, t) in &group.groups {
            let full = if f.name.is_empty() { child.clone() } else { format!("{}.{child}", f.name) };
            nodes.insert(child.clone(), read_node(&full, t, depth + 1)?);
        }
    }
    let edges = match f.g.datasets.get("edges") {
        None => Vec::new(),
        // An empty edge list is written by nir as an empty float array.
        Some(Value::Numbers(a)) if a.data.is_empty() => Vec::new(),
        Some(Value::Text(t)) | Some(Value::FixedText(t)) if t.len() % 2 == 0 => {
            t.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect()
        }
        Some(_) => return Err(f.err("`edges` must be an (n, 2) array of node names".into())),
    };
    for (a, b) in &edges {
        for end in [a, b] {
            let head = end.split('.').next().unwrap_or(end);
            if !nodes.contains_key(end.as_str()) && !nodes.contains_key(head) {
                return Err(f.err(format!("edge ({a}, {b}) names the unknown node `{end}`")));
            }
        }
    }
    Ok(Graph { nodes, edges })
}

/// Writes a graph as a NIR file (atomically), in the layout `nir.write` produces, so that
/// `nir.read` loads it.
pub fn write(path: impl AsRef<Path>, graph: &Graph) -> Result<(), NirError> {
    let mut root = Tree::default();
    root.datasets.insert("version".into(), Value::Text(vec![NIR_VERSION.into()]));
    root.groups.insert("node".into(), node_tree(&Node::Graph(graph.clone())));
    write_tree(path.as_ref(), &root)?;
    Ok(())
}

fn floats(t: &Tensor) -> Value {
    Value::Float64(t.clone())
}

fn ints(v: &[usize]) -> Value {
    Value::Numbers(Array { shape: vec![v.len()], data: v.iter().map(|&x| x as f64).collect() })
}

fn int(x: i64) -> Value {
    Value::Numbers(Array { shape: Vec::new(), data: vec![x as f64] })
}

fn padding_value(p: &Padding) -> Value {
    match p {
        Padding::Explicit(v) => ints(v),
        Padding::Same => Value::Text(vec!["same".into()]),
        Padding::Valid => Value::Text(vec!["valid".into()]),
    }
}

fn node_tree(node: &Node) -> Tree {
    let mut d: BTreeMap<String, Value> = BTreeMap::new();
    let mut groups = BTreeMap::new();
    d.insert("type".into(), Value::Text(vec![node.kind().into()]));
    let mut put = |k: &str, v: Value| {
        d.insert(k.into(), v);
    };
    match node {
        Node::Input { shape } | Node::Output { shape } => put("shape", ints(shape)),
        Node::Affine { weight, bias } => {
            put("weight", floats(weight));
            put("bias", floats(bias));
        }
        Node::Linear { weight } => put("weight", floats(weight)),
        Node::Scale { scale } => put("scale", floats(scale)),
        Node::Conv1d { input_shape, weight, stride, padding, dilation, groups: g, bias } => {
            if let Some(n) = input_shape {
                put("input_shape", int(*n as i64));
            }
            put("weight", floats(weight));
            put("stride", int(*stride as i64));
            // nir keeps a Conv1d's explicit padding a scalar.
            match padding {
                Padding::Explicit(p) if p.len() == 1 => put("padding", int(p[0] as i64)),
                _ => put("padding", padding_value(padding)),
            }
            put("dilation", int(*dilation as i64));
            put("groups", int(*g as i64));
            put("bias", floats(bias));
        }
        Node::Conv2d { input_shape, weight, stride, padding, dilation, groups: g, bias } => {
            if let Some(s) = input_shape {
                put("input_shape", ints(s));
            }
            put("weight", floats(weight));
            put("stride", ints(stride));
            put("padding", padding_value(padding));
            put("dilation", ints(dilation));
            put("groups", int(*g as i64));
            put("bias", floats(bias));
        }
        Node::SumPool2d { kernel_size, stride, padding } | Node::AvgPool2d { kernel_size, stride, padding } => {
            put("kernel_size", ints(kernel_size));
            put("stride", ints(stride));
            put("padding", ints(padding));
        }
        Node::Flatten { input_type, start_dim, end_dim } => {
            if let Some(s) = input_type {
                put("input_type", ints(s));
            }
            put("start_dim", int(*start_dim));
            put("end_dim", int(*end_dim));
        }
        Node::Delay { delay } => put("delay", floats(delay)),
        Node::Threshold { threshold } => put("threshold", floats(threshold)),
        Node::I { r } => put("r", floats(r)),
        Node::IF { r, v_threshold, v_reset } => {
            put("r", floats(r));
            put("v_threshold", floats(v_threshold));
            put("v_reset", floats(v_reset));
        }
        Node::LI { tau, r, v_leak } => {
            put("tau", floats(tau));
            put("r", floats(r));
            put("v_leak", floats(v_leak));
        }
        Node::LIF { tau, r, v_leak, v_threshold, v_reset } => {
            put("tau", floats(tau));
            put("r", floats(r));
            put("v_leak", floats(v_leak));
            put("v_threshold", floats(v_threshold));
            put("v_reset", floats(v_reset));
        }
        Node::CubaLI { tau_syn, tau_mem, r, v_leak, w_in } => {
            put("tau_syn", floats(tau_syn));
            put("tau_mem", floats(tau_mem));
            put("r", floats(r));
            put("v_leak", floats(v_leak));
            put("w_in", floats(w_in));
        }
        Node::CubaLIF { tau_syn, tau_mem, r, v_leak, v_threshold, v_reset, w_in } => {
            put("tau_syn", floats(tau_syn));
            put("tau_mem", floats(tau_mem));
            put("r", floats(r));
            put("v_leak", floats(v_leak));
            put("v_threshold", floats(v_threshold));
            put("v_reset", floats(v_reset));
            put("w_in", floats(w_in));
        }
        Node::Identity => {}
        Node::Graph(g) => {
            let nodes = g.nodes.iter().map(|(k, n)| (k.clone(), node_tree(n))).collect();
            groups.insert("nodes".to_string(), Tree { datasets: BTreeMap::new(), groups: nodes });
            let edges = if g.edges.is_empty() {
                Value::Float64(Array { shape: vec![0], data: Vec::new() })
            } else {
                Value::TextArray {
                    shape: vec![g.edges.len(), 2],
                    strings: g.edges.iter().flat_map(|(a, b)| [a.clone(), b.clone()]).collect(),
                }
            };
            put("edges", edges);
        }
    }
    Tree { datasets: d, groups }
}
