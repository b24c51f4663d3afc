//! The process graph: a [`Network`] owns Processes (Vars, ports, parameters) and the
//! connections between their ports. Processes hold no behaviour; ProcessModels, chosen at
//! compile time, do (see [`crate::registry`]).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::marker::PhantomData;

use ndarray::ArrayD;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::value::{numel, Init, Shape};

/// Identifies one process of a [`Network`]; stable for the network's lifetime and kept in
/// the compiled [`crate::Executable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProcId(pub u32);

/// A Process type: declares its Vars, ports and parameters (or, for a hierarchical process,
/// its children) when added to a network. Behaviour lives in the models registered for
/// [`Process::TYPE_NAME`].
pub trait Process: Sized + 'static {
    /// The type name used to select models and stored in executables (e.g. `"Lif"`).
    const TYPE_NAME: &'static str;
    /// Declares this process's Vars and ports (leaf) or children and aliases (composite).
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()>;
}

/// A typed handle to a process in a network. Accessors for ports and Vars are implemented
/// per process type (`Handle<Lif>::a_in()`), so a misspelled port name is a compile error.
/// User crates add accessors for their own processes through an extension trait.
pub struct Handle<P> {
    id: ProcId,
    _p: PhantomData<fn() -> P>,
}

impl<P> Clone for Handle<P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P> Copy for Handle<P> {}
impl<P> fmt::Debug for Handle<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({})", self.id.0)
    }
}

impl<P> Handle<P> {
    /// Wraps a process id (the network checks the id when the handle is used).
    pub fn from_id(id: ProcId) -> Self {
        Handle { id, _p: PhantomData }
    }
    /// The process id.
    pub fn id(&self) -> ProcId {
        self.id
    }
    /// The InPort called `name` (untyped access, for dynamic graphs).
    pub fn in_port(&self, name: &str) -> InPort {
        InPort { proc: self.id, name: name.to_string() }
    }
    /// The OutPort called `name`.
    pub fn out_port(&self, name: &str) -> OutPort {
        OutPort { proc: self.id, name: name.to_string() }
    }
    /// The RefPort called `name`.
    pub fn ref_port(&self, name: &str) -> RefPort {
        RefPort { proc: self.id, name: name.to_string() }
    }
    /// The Var called `name`.
    pub fn var(&self, name: &str) -> VarRef {
        VarRef { proc: self.id, name: name.to_string() }
    }
}

/// An input port of a process: receives the element-wise sum of every connected source.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InPort {
    /// Owning process.
    pub proc: ProcId,
    /// Port name.
    pub name: String,
}

/// An output port of a process: sends one message per time step.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OutPort {
    /// Owning process.
    pub proc: ProcId,
    /// Port name.
    pub name: String,
}

/// A reference port: lets a process read or write another process's Var in the
/// management phases (Lava's RefPort; the target side is an implicit or declared VarPort).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RefPort {
    /// Owning process.
    pub proc: ProcId,
    /// Port name.
    pub name: String,
}

/// A Var of a process, for probing, aliasing and `get`/`set`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VarRef {
    /// Owning process.
    pub proc: ProcId,
    /// Var name.
    pub name: String,
}

/// A message source: an OutPort, possibly reshaped, transposed or concatenated with others
/// (Lava's virtual ports). Transforms are properties of the connection, not of a process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PortExpr {
    /// An OutPort as it is.
    Port(OutPort),
    /// Same data in C order, new shape (same element count).
    Reshape(Box<PortExpr>, Shape),
    /// Axes permuted: output axis `i` is input axis `axes[i]`.
    Transpose(Box<PortExpr>, Vec<usize>),
    /// Sources concatenated along `axis` (all other axes equal).
    Concat(Vec<PortExpr>, usize),
}

impl From<OutPort> for PortExpr {
    fn from(p: OutPort) -> Self {
        PortExpr::Port(p)
    }
}
impl From<&OutPort> for PortExpr {
    fn from(p: &OutPort) -> Self {
        PortExpr::Port(p.clone())
    }
}
impl From<&PortExpr> for PortExpr {
    fn from(p: &PortExpr) -> Self {
        p.clone()
    }
}

/// Port transforms shared by [`OutPort`] and [`PortExpr`].
pub trait PortTransforms: Into<PortExpr> {
    /// Reinterprets the data with a new shape of the same size (Lava `reshape`).
    fn reshape(self, shape: &[usize]) -> PortExpr {
        PortExpr::Reshape(Box::new(self.into()), shape.to_vec())
    }
    /// Reshapes to one dimension (Lava `flatten`); resolved against the source's size.
    fn flatten(self) -> PortExpr {
        PortExpr::Reshape(Box::new(self.into()), Vec::new())
    }
    /// Permutes axes (Lava `transpose(axes)`).
    fn transpose(self, axes: &[usize]) -> PortExpr {
        PortExpr::Transpose(Box::new(self.into()), axes.to_vec())
    }
    /// Concatenates with other sources along `axis` (Lava `concat_with`).
    fn concat_with<I, E>(self, others: I, axis: usize) -> PortExpr
    where
        I: IntoIterator<Item = E>,
        E: Into<PortExpr>,
    {
        let mut parts = vec![self.into()];
        parts.extend(others.into_iter().map(Into::into));
        PortExpr::Concat(parts, axis)
    }
}
impl PortTransforms for OutPort {}
impl PortTransforms for PortExpr {}

/// A declared Var of a leaf process.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct VarDecl {
    pub name: String,
    #[serde(with = "crate::f64_bytes::array")]
    pub value: ArrayD<f64>,
}

/// A declared port (in or out) with its shape.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PortDecl {
    pub name: String,
    pub shape: Shape,
}

/// A declared RefPort and the Var it is connected to.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct RefPortDecl {
    pub name: String,
    pub shape: Shape,
    pub target: Option<VarRef>,
}

/// Composite-process bindings: parent ports and Vars resolved to children at compile time.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Aliases {
    pub in_ports: BTreeMap<String, Vec<InPort>>,
    pub out_ports: BTreeMap<String, PortExpr>,
    pub vars: BTreeMap<String, VarRef>,
}

/// One process in the network.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Node {
    pub name: String,
    pub type_name: String,
    pub parent: Option<ProcId>,
    pub children: Vec<ProcId>,
    #[serde(with = "crate::json_text")]
    pub params: serde_json::Value,
    pub vars: Vec<VarDecl>,
    pub in_ports: Vec<PortDecl>,
    pub out_ports: Vec<PortDecl>,
    pub ref_ports: Vec<RefPortDecl>,
    /// Declared VarPorts: port name -> Var name (targets for RefPorts).
    pub var_ports: BTreeMap<String, String>,
    pub aliases: Aliases,
}

impl Node {
    pub fn is_composite(&self) -> bool {
        !self.children.is_empty()
    }
}

/// A connection from a source expression to an InPort.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Edge {
    pub src: PortExpr,
    pub dst: InPort,
}

/// A graph of processes and connections: what Lava builds implicitly by instantiating
/// processes and calling `connect`.
#[derive(Clone, Debug, Default)]
pub struct Network {
    pub(crate) nodes: Vec<Node>,
    pub(crate) edges: Vec<Edge>,
    names: HashMap<String, ProcId>,
}

impl Network {
    /// An empty network.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a process named `Process_<id>` (Lava's default naming).
    pub fn add<P: Process>(&mut self, process: P) -> Result<Handle<P>> {
        let name = format!("Process_{}", self.nodes.len());
        self.add_named(&name, process)
    }

    /// Adds a process with a unique name (used as the key of monitor data and state files).
    pub fn add_named<P: Process>(&mut self, name: &str, process: P) -> Result<Handle<P>> {
        self.add_node(name, None, process)
    }

    fn add_node<P: Process>(&mut self, name: &str, parent: Option<ProcId>, process: P) -> Result<Handle<P>> {
        if name.is_empty() {
            return Err(Error::InvalidGraph("process names must not be empty".into()));
        }
        if self.names.contains_key(name) {
            return Err(Error::InvalidGraph(format!("a process named `{name}` already exists")));
        }
        let id = ProcId(self.nodes.len() as u32);
        self.nodes.push(Node {
            name: name.to_string(),
            type_name: P::TYPE_NAME.to_string(),
            parent,
            children: Vec::new(),
            params: serde_json::Value::Null,
            vars: Vec::new(),
            in_ports: Vec::new(),
            out_ports: Vec::new(),
            ref_ports: Vec::new(),
            var_ports: BTreeMap::new(),
            aliases: Aliases::default(),
        });
        self.names.insert(name.to_string(), id);
        let mut b = ProcessBuilder { net: self, id };
        if let Err(e) = process.build(&mut b) {
            self.remove_last_nodes(id);
            return Err(e);
        }
        let node = &self.nodes[id.0 as usize];
        if node.is_composite() && (!node.vars.is_empty() || !node.ref_ports.is_empty()) {
            let msg = format!(
                "composite process `{name}` declares its own Vars or RefPorts; expose child Vars with alias_var"
            );
            self.remove_last_nodes(id);
            return Err(Error::InvalidGraph(msg));
        }
        Ok(Handle::from_id(id))
    }

    /// Undoes a failed `add`: removes the node `first` and every node and edge added after it,
    /// so that a failed build loses nothing that was there before.
    fn remove_last_nodes(&mut self, first: ProcId) {
        for n in self.nodes.drain(first.0 as usize..) {
            self.names.remove(&n.name);
        }
        let alive = |p: ProcId| p.0 < first.0;
        self.edges.retain(|e| alive(e.dst.proc) && expr_procs(&e.src).into_iter().all(alive));
        if let Some(parent) = self.nodes.iter_mut().find(|n| n.children.contains(&first)) {
            parent.children.retain(|c| alive(*c));
        }
    }

    /// Number of processes (leaf and composite).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the network has no process.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub(crate) fn node(&self, id: ProcId) -> Result<&Node> {
        self.nodes.get(id.0 as usize).ok_or_else(|| Error::NotFound {
            kind: "process",
            name: format!("#{}", id.0),
            context: String::new(),
        })
    }

    pub(crate) fn node_mut(&mut self, id: ProcId) -> Result<&mut Node> {
        self.nodes.get_mut(id.0 as usize).ok_or_else(|| Error::NotFound {
            kind: "process",
            name: format!("#{}", id.0),
            context: String::new(),
        })
    }

    /// The name of a process.
    pub fn process_name(&self, id: ProcId) -> Result<&str> {
        Ok(&self.node(id)?.name)
    }

    /// The type name of a process.
    pub fn process_type(&self, id: ProcId) -> Result<&str> {
        Ok(&self.node(id)?.type_name)
    }

    /// The id of the process called `name`.
    pub fn find(&self, name: &str) -> Result<ProcId> {
        self.names.get(name).copied().ok_or_else(|| Error::NotFound {
            kind: "process",
            name: name.to_string(),
            context: String::new(),
        })
    }

    /// The children of a hierarchical process (empty for a leaf).
    pub fn children(&self, id: ProcId) -> Result<&[ProcId]> {
        Ok(&self.node(id)?.children)
    }

    /// `process.port` for messages.
    pub(crate) fn port_label(&self, proc: ProcId, port: &str) -> String {
        match self.node(proc) {
            Ok(n) => format!("{}.{}", n.name, port),
            Err(_) => format!("#{}.{}", proc.0, port),
        }
    }

    /// Shape of an InPort (following composite bindings).
    pub fn in_port_shape(&self, port: &InPort) -> Result<Shape> {
        let node = self.node(port.proc)?;
        if let Some(p) = node.in_ports.iter().find(|p| p.name == port.name) {
            return Ok(p.shape.clone());
        }
        match node.aliases.in_ports.get(&port.name).and_then(|v| v.first()) {
            Some(child) => self.in_port_shape(child),
            None => Err(self.port_not_found("InPort", port.proc, &port.name)),
        }
    }

    /// Shape of an OutPort (following composite bindings).
    pub fn out_port_shape(&self, port: &OutPort) -> Result<Shape> {
        let node = self.node(port.proc)?;
        if let Some(p) = node.out_ports.iter().find(|p| p.name == port.name) {
            return Ok(p.shape.clone());
        }
        match node.aliases.out_ports.get(&port.name) {
            Some(expr) => self.expr_shape(expr),
            None => Err(self.port_not_found("OutPort", port.proc, &port.name)),
        }
    }

    /// Shape of a Var (following aliases).
    pub fn var_shape(&self, var: &VarRef) -> Result<Shape> {
        let (leaf, idx) = self.resolve_var(var)?;
        Ok(self.nodes[leaf.0 as usize].vars[idx].value.shape().to_vec())
    }

    fn port_not_found(&self, kind: &'static str, proc: ProcId, name: &str) -> Error {
        Error::NotFound {
            kind,
            name: name.to_string(),
            context: format!(" on process {}", self.process_name(proc).unwrap_or("?")),
        }
    }

    /// Resolves a Var (through composite aliases) to its leaf process and index.
    pub(crate) fn resolve_var(&self, var: &VarRef) -> Result<(ProcId, usize)> {
        let mut cur = var.clone();
        for _ in 0..=self.nodes.len() {
            let node = self.node(cur.proc)?;
            if let Some(i) = node.vars.iter().position(|v| v.name == cur.name) {
                return Ok((cur.proc, i));
            }
            match node.aliases.vars.get(&cur.name) {
                Some(next) => cur = next.clone(),
                None => {
                    return Err(Error::NotFound {
                        kind: "Var",
                        name: var.name.clone(),
                        context: format!(" on process {}", node.name),
                    })
                }
            }
        }
        Err(Error::InvalidGraph(format!("Var alias cycle at {}", var.name)))
    }

    /// Shape of a source expression, validating its transforms.
    pub fn expr_shape(&self, expr: &PortExpr) -> Result<Shape> {
        match expr {
            PortExpr::Port(p) => self.out_port_shape(p),
            PortExpr::Reshape(inner, shape) => {
                let s = self.expr_shape(inner)?;
                if shape.is_empty() {
                    return Ok(vec![numel(&s)]);
                }
                if numel(shape) != numel(&s) {
                    return Err(Error::InvalidTransform {
                        port: self.expr_label(inner),
                        reason: format!("cannot reshape {s:?} ({} elements) to {shape:?}", numel(&s)),
                    });
                }
                Ok(shape.clone())
            }
            PortExpr::Transpose(inner, axes) => {
                let s = self.expr_shape(inner)?;
                let mut seen = vec![false; s.len()];
                let valid = axes.len() == s.len()
                    && axes.iter().all(|&a| a < s.len() && !std::mem::replace(&mut seen[a], true));
                if !valid {
                    return Err(Error::InvalidTransform {
                        port: self.expr_label(inner),
                        reason: format!("axes {axes:?} are not a permutation of the {} axes of {s:?}", s.len()),
                    });
                }
                Ok(axes.iter().map(|&a| s[a]).collect())
            }
            PortExpr::Concat(parts, axis) => {
                let shapes = parts.iter().map(|p| self.expr_shape(p)).collect::<Result<Vec<_>>>()?;
                let first = shapes.first().ok_or_else(|| Error::InvalidTransform {
                    port: "concat".into(),
                    reason: "nothing to concatenate".into(),
                })?;
                if *axis >= first.len() {
                    return Err(Error::InvalidTransform {
                        port: self.expr_label(expr),
                        reason: format!("axis {axis} out of range for shape {first:?}"),
                    });
                }
                let mut out = first.clone();
                for s in &shapes[1..] {
                    let compatible = s.len() == first.len()
                        && s.iter().zip(first).enumerate().all(|(i, (a, b))| i == *axis || a == b);
                    if !compatible {
                        return Err(Error::InvalidTransform {
                            port: self.expr_label(expr),
                            reason: format!("cannot concatenate {first:?} with {s:?} along axis {axis}"),
                        });
                    }
                    out[*axis] += s[*axis];
                }
                Ok(out)
            }
        }
    }

    /// Human-readable label of an expression, e.g. `lif1.s_out.reshape([3,1])`.
    pub fn expr_label(&self, expr: &PortExpr) -> String {
        match expr {
            PortExpr::Port(p) => self.port_label(p.proc, &p.name),
            PortExpr::Reshape(i, s) if s.is_empty() => format!("{}.flatten()", self.expr_label(i)),
            PortExpr::Reshape(i, s) => format!("{}.reshape({s:?})", self.expr_label(i)),
            PortExpr::Transpose(i, a) => format!("{}.transpose({a:?})", self.expr_label(i)),
            PortExpr::Concat(parts, axis) => {
                let labels: Vec<String> = parts.iter().map(|p| self.expr_label(p)).collect();
                format!("concat([{}], axis={axis})", labels.join(", "))
            }
        }
    }

    /// Connects a source (an OutPort or a transformed one) to an InPort. Shapes must match
    /// exactly; an InPort may have several sources, whose messages are summed.
    pub fn connect(&mut self, src: impl Into<PortExpr>, dst: &InPort) -> Result<()> {
        let src = src.into();
        let src_shape = self.expr_shape(&src)?;
        let dst_shape = self.in_port_shape(dst)?;
        if src_shape != dst_shape {
            return Err(Error::ShapeMismatch {
                src: self.expr_label(&src),
                src_shape,
                dst: self.port_label(dst.proc, &dst.name),
                dst_shape,
            });
        }
        self.edges.push(Edge { src, dst: dst.clone() });
        Ok(())
    }

    /// Connects a RefPort to a Var of another process (Lava `ref_port.connect_var(var)`);
    /// shapes must match.
    pub fn connect_var(&mut self, port: &RefPort, var: &VarRef) -> Result<()> {
        let var_shape = self.var_shape(var)?;
        let label = self.port_label(port.proc, &port.name);
        let (leaf, _) = self.resolve_var(var)?;
        if leaf == port.proc {
            return Err(Error::InvalidGraph(format!("{label} cannot reference a Var of its own process")));
        }
        let var_label = self.port_label(var.proc, &var.name);
        let node = self.node_mut(port.proc)?;
        let decl = node.ref_ports.iter_mut().find(|r| r.name == port.name).ok_or_else(|| Error::NotFound {
            kind: "RefPort",
            name: port.name.clone(),
            context: format!(" on process {}", node.name),
        })?;
        if decl.shape != var_shape {
            return Err(Error::ShapeMismatch {
                src: label,
                src_shape: decl.shape.clone(),
                dst: var_label,
                dst_shape: var_shape,
            });
        }
        decl.target = Some(var.clone());
        Ok(())
    }

    /// Connects a RefPort to a VarPort declared by the target process.
    pub fn connect_var_port(&mut self, port: &RefPort, target: ProcId, var_port: &str) -> Result<()> {
        let node = self.node(target)?;
        let var_name = node.var_ports.get(var_port).cloned().ok_or_else(|| Error::NotFound {
            kind: "VarPort",
            name: var_port.to_string(),
            context: format!(" on process {}", node.name),
        })?;
        self.connect_var(port, &VarRef { proc: target, name: var_name })
    }

    /// The initial value of a Var (Lava's `var.get()` before a runtime exists).
    pub fn get(&self, var: &VarRef) -> Result<ArrayD<f64>> {
        let (leaf, i) = self.resolve_var(var)?;
        Ok(self.nodes[leaf.0 as usize].vars[i].value.clone())
    }

    /// Changes the initial value of a Var before compiling (broadcast to its shape).
    pub fn set_init(&mut self, var: &VarRef, value: impl Into<Init>) -> Result<()> {
        let (leaf, i) = self.resolve_var(var)?;
        let label = self.port_label(var.proc, &var.name);
        let decl = &mut self.nodes[leaf.0 as usize].vars[i];
        let value = value
            .into()
            .broadcast(decl.value.shape())
            .map_err(|reason| Error::BadValue { var: label.clone(), reason })?;
        if let Some(bad) = value.iter().find(|x| !x.is_finite()) {
            return Err(Error::BadValue { var: label, reason: format!("value {bad} is not finite") });
        }
        decl.value = value;
        Ok(())
    }
}

/// The serialisable content of a [`Network`] (what `save` writes).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct NetworkData {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

impl Network {
    pub(crate) fn to_data(&self) -> NetworkData {
        NetworkData { nodes: self.nodes.clone(), edges: self.edges.clone() }
    }

    /// Rebuilds a network from loaded data, checking every cross-reference so that a
    /// crafted file cannot produce a network that panics later.
    pub(crate) fn from_data(data: NetworkData) -> std::result::Result<Network, String> {
        let n = data.nodes.len();
        let ok = |id: ProcId| (id.0 as usize) < n;
        let mut names = HashMap::new();
        for (i, node) in data.nodes.iter().enumerate() {
            if node.name.is_empty() || names.insert(node.name.clone(), ProcId(i as u32)).is_some() {
                return Err(format!("process name `{}` is empty or used twice", node.name));
            }
            if node.parent.is_some_and(|p| !ok(p) || !data.nodes[p.0 as usize].children.contains(&ProcId(i as u32))) {
                return Err(format!("process {} has an invalid parent", node.name));
            }
            for c in &node.children {
                if !ok(*c) || data.nodes[c.0 as usize].parent != Some(ProcId(i as u32)) {
                    return Err(format!("process {} has an invalid child", node.name));
                }
            }
            let refs_ok = node.ref_ports.iter().all(|r| r.target.as_ref().is_none_or(|v| ok(v.proc)))
                && node.aliases.in_ports.values().flatten().all(|p| ok(p.proc))
                && node.aliases.out_ports.values().all(|e| expr_procs(e).into_iter().all(ok))
                && node.aliases.vars.values().all(|v| ok(v.proc));
            if !refs_ok {
                return Err(format!("process {} refers to a process that does not exist", node.name));
            }
        }
        if data.edges.iter().any(|e| !ok(e.dst.proc) || !expr_procs(&e.src).into_iter().all(ok)) {
            return Err("a connection refers to a process that does not exist".into());
        }
        Ok(Network { nodes: data.nodes, edges: data.edges, names })
    }
}

/// Every process an expression reads from.
pub(crate) fn expr_procs(expr: &PortExpr) -> Vec<ProcId> {
    match expr {
        PortExpr::Port(p) => vec![p.proc],
        PortExpr::Reshape(i, _) | PortExpr::Transpose(i, _) => expr_procs(i),
        PortExpr::Concat(parts, _) => parts.iter().flat_map(expr_procs).collect(),
    }
}

/// Declares a process's contents while it is added to a [`Network`]: Vars, ports and
/// parameters for a leaf process; children, connections and aliases for a composite one.
pub struct ProcessBuilder<'a> {
    net: &'a mut Network,
    id: ProcId,
}

impl ProcessBuilder<'_> {
    /// The id of the process being built.
    pub fn id(&self) -> ProcId {
        self.id
    }

    /// The name of the process being built.
    pub fn name(&self) -> &str {
        &self.net.nodes[self.id.0 as usize].name
    }

    fn node(&mut self) -> &mut Node {
        &mut self.net.nodes[self.id.0 as usize]
    }

    fn check_new_name(&self, kind: &str, name: &str) -> Result<()> {
        let n = &self.net.nodes[self.id.0 as usize];
        let taken = n.vars.iter().any(|v| v.name == name)
            || n.in_ports.iter().any(|p| p.name == name)
            || n.out_ports.iter().any(|p| p.name == name)
            || n.ref_ports.iter().any(|p| p.name == name)
            || n.var_ports.contains_key(name)
            || n.aliases.vars.contains_key(name)
            || n.aliases.in_ports.contains_key(name)
            || n.aliases.out_ports.contains_key(name);
        if taken {
            return Err(Error::InvalidGraph(format!("{kind} name `{name}` used twice on process {}", n.name)));
        }
        Ok(())
    }

    /// Declares a Var with a shape and an initial value broadcast to it. Non-finite
    /// initial values are rejected.
    pub fn var(&mut self, name: &str, shape: &[usize], init: impl Into<Init>) -> Result<VarRef> {
        self.check_new_name("Var", name)?;
        let process = self.name().to_string();
        let value = init.into().broadcast(shape).map_err(|reason| Error::InvalidParameter {
            process: process.clone(),
            param: name.to_string(),
            reason,
        })?;
        if let Some(bad) = value.iter().find(|x| !x.is_finite()) {
            return Err(Error::InvalidParameter {
                process,
                param: name.to_string(),
                reason: format!("value {bad} is not finite"),
            });
        }
        self.node().vars.push(VarDecl { name: name.to_string(), value });
        Ok(VarRef { proc: self.id, name: name.to_string() })
    }

    /// Declares an InPort.
    pub fn in_port(&mut self, name: &str, shape: &[usize]) -> Result<InPort> {
        self.check_new_name("port", name)?;
        self.node().in_ports.push(PortDecl { name: name.to_string(), shape: shape.to_vec() });
        Ok(InPort { proc: self.id, name: name.to_string() })
    }

    /// Declares an OutPort.
    pub fn out_port(&mut self, name: &str, shape: &[usize]) -> Result<OutPort> {
        self.check_new_name("port", name)?;
        self.node().out_ports.push(PortDecl { name: name.to_string(), shape: shape.to_vec() });
        Ok(OutPort { proc: self.id, name: name.to_string() })
    }

    /// Declares a RefPort (connect it with [`Network::connect_var`]).
    pub fn ref_port(&mut self, name: &str, shape: &[usize]) -> Result<RefPort> {
        self.check_new_name("port", name)?;
        self.node().ref_ports.push(RefPortDecl { name: name.to_string(), shape: shape.to_vec(), target: None });
        Ok(RefPort { proc: self.id, name: name.to_string() })
    }

    /// Declares a VarPort exposing one of this process's Vars to RefPorts.
    pub fn var_port(&mut self, name: &str, var: &str) -> Result<()> {
        self.check_new_name("port", name)?;
        if !self.net.nodes[self.id.0 as usize].vars.iter().any(|v| v.name == var) {
            return Err(self.net.port_not_found("Var", self.id, var));
        }
        self.node().var_ports.insert(name.to_string(), var.to_string());
        Ok(())
    }

    /// Stores the process parameters that its models read (serialisable, kept in the
    /// executable).
    pub fn params<T: Serialize>(&mut self, params: &T) -> Result<()> {
        let value = serde_json::to_value(params).map_err(|e| Error::InvalidParameter {
            process: self.name().to_string(),
            param: "params".into(),
            reason: e.to_string(),
        })?;
        self.node().params = value;
        Ok(())
    }

    /// Adds a child process (making this one hierarchical), named `<parent>.<name>`.
    pub fn child<P: Process>(&mut self, name: &str, process: P) -> Result<Handle<P>> {
        let full = format!("{}.{}", self.name(), name);
        let h = self.net.add_node(&full, Some(self.id), process)?;
        self.node().children.push(h.id());
        Ok(h)
    }

    /// Connects two ports inside this process (between children).
    pub fn connect(&mut self, src: impl Into<PortExpr>, dst: &InPort) -> Result<()> {
        self.net.connect(src, dst)
    }

    /// Exposes child InPorts as this process's InPort `name`: messages sent to it reach
    /// every listed child port. All must have the same shape.
    pub fn expose_in_port(&mut self, name: &str, targets: &[InPort]) -> Result<InPort> {
        self.check_new_name("port", name)?;
        let first =
            targets.first().ok_or_else(|| Error::InvalidGraph(format!("in-port alias `{name}` has no target")))?;
        let shape = self.net.in_port_shape(first)?;
        for t in &targets[1..] {
            let s = self.net.in_port_shape(t)?;
            if s != shape {
                return Err(Error::ShapeMismatch {
                    src: self.net.port_label(self.id, name),
                    src_shape: shape,
                    dst: self.net.port_label(t.proc, &t.name),
                    dst_shape: s,
                });
            }
        }
        self.node().aliases.in_ports.insert(name.to_string(), targets.to_vec());
        Ok(InPort { proc: self.id, name: name.to_string() })
    }

    /// Exposes a child OutPort (or transformed source) as this process's OutPort `name`.
    pub fn expose_out_port(&mut self, name: &str, src: impl Into<PortExpr>) -> Result<OutPort> {
        self.check_new_name("port", name)?;
        let src = src.into();
        self.net.expr_shape(&src)?;
        self.node().aliases.out_ports.insert(name.to_string(), src);
        Ok(OutPort { proc: self.id, name: name.to_string() })
    }

    /// Exposes a child's Var as this process's Var `name` (Lava `var.alias`): get/set on
    /// the parent Var reach the child's.
    pub fn alias_var(&mut self, name: &str, target: &VarRef) -> Result<VarRef> {
        self.check_new_name("Var", name)?;
        self.net.resolve_var(target)?;
        let is_descendant = {
            let mut p = self.net.node(target.proc)?.parent;
            let mut found = false;
            while let Some(id) = p {
                if id == self.id {
                    found = true;
                    break;
                }
                p = self.net.node(id)?.parent;
            }
            found
        };
        if !is_descendant {
            return Err(Error::InvalidGraph(format!(
                "Var alias `{name}` of {} must refer to a Var of one of its sub-processes",
                self.name()
            )));
        }
        self.node().aliases.vars.insert(name.to_string(), target.clone());
        Ok(VarRef { proc: self.id, name: name.to_string() })
    }

    /// The network being built (e.g. to read a child's Var shape).
    pub fn network(&self) -> &Network {
        self.net
    }
}
