//! Compilation: validate the graph, flatten hierarchical processes, select a model per leaf
//! process, resolve port transforms into gathers and order the spike phase. The result is
//! an [`Executable`] (plain data).

use std::collections::{BTreeSet, HashMap};

use crate::error::{Error, Result};
use crate::executable::{
    Executable, LeafProcess, PortSpec, RefPortSpec, Source, VarAlias, VarData, EXECUTABLE_VERSION,
};
use crate::graph::{InPort, Network, PortExpr, ProcId};
use crate::registry::{OutputTiming, RunConfig};
use crate::value::{numel, Shape};

/// A source expression resolved to leaf OutPorts: shape plus, per element, the global
/// OutPort index and the element within it.
struct Gathered {
    shape: Shape,
    port: Vec<u32>,
    idx: Vec<u32>,
}

struct Compiler<'a> {
    net: &'a Network,
    leaves: Vec<ProcId>,
    leaf_of: HashMap<ProcId, usize>,
    in_offset: Vec<usize>,
    out_offset: Vec<usize>,
    /// Owning leaf of each global OutPort.
    out_owner: Vec<usize>,
}

impl Network {
    /// Compiles the whole network for `cfg` into an [`Executable`].
    pub fn compile(&self, cfg: &RunConfig) -> Result<Executable> {
        let leaves: Vec<ProcId> =
            self.nodes.iter().enumerate().filter(|(_, n)| !n.is_composite()).map(|(i, _)| ProcId(i as u32)).collect();
        if leaves.is_empty() {
            return Err(Error::InvalidGraph("the network has no processes to run".into()));
        }
        let leaf_of: HashMap<ProcId, usize> = leaves.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let (mut in_offset, mut out_offset) = (Vec::new(), Vec::new());
        let (mut n_in, mut out_owner) = (0usize, Vec::new());
        for (li, id) in leaves.iter().enumerate() {
            let n = &self.nodes[id.0 as usize];
            in_offset.push(n_in);
            out_offset.push(out_owner.len());
            n_in += n.in_ports.len();
            out_owner.extend(std::iter::repeat_n(li, n.out_ports.len()));
        }
        let c = Compiler { net: self, leaves: leaves.clone(), leaf_of, in_offset, out_offset, out_owner };

        let mut in_port_sources: Vec<Vec<Source>> = vec![Vec::new(); n_in];
        let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); leaves.len()];
        let mut timings = Vec::with_capacity(leaves.len());
        let mut processes = Vec::with_capacity(leaves.len());
        for (li, id) in leaves.iter().enumerate() {
            let node = &self.nodes[id.0 as usize];
            let entry = cfg.select(*id, &node.name, &node.type_name)?;
            timings.push(entry.timing);
            let mut ref_ports = Vec::new();
            for r in &node.ref_ports {
                let target = match &r.target {
                    Some(v) => {
                        let (leaf, var) = self.resolve_var(v)?;
                        Some((c.leaf_of[&leaf], var))
                    }
                    None => None,
                };
                ref_ports.push(RefPortSpec { name: r.name.clone(), shape: r.shape.clone(), target });
            }
            processes.push(LeafProcess {
                id: *id,
                name: node.name.clone(),
                type_name: node.type_name.clone(),
                model: entry.name.clone(),
                timing: entry.timing,
                params: node.params.clone(),
                vars: node
                    .vars
                    .iter()
                    .map(|v| VarData {
                        name: v.name.clone(),
                        shape: v.value.shape().to_vec(),
                        data: v.value.iter().copied().collect(),
                    })
                    .collect(),
                in_ports: node
                    .in_ports
                    .iter()
                    .map(|p| PortSpec { name: p.name.clone(), shape: p.shape.clone() })
                    .collect(),
                out_ports: node
                    .out_ports
                    .iter()
                    .map(|p| PortSpec { name: p.name.clone(), shape: p.shape.clone() })
                    .collect(),
                ref_ports,
                in_port_offset: c.in_offset[li],
                out_port_offset: c.out_offset[li],
            });
        }

        for edge in &self.edges {
            let g = c.gather(&edge.src, 0)?;
            let source = c.to_source(&g);
            let src_leaves: BTreeSet<usize> = g.port.iter().map(|&p| c.leaf_of_out_port(p as usize)).collect();
            for (dst_leaf, dst_port) in c.resolve_in(&edge.dst, 0)? {
                in_port_sources[c.in_offset[dst_leaf] + dst_port].push(source.clone());
                for &s in &src_leaves {
                    if timings[s] == OutputTiming::SameStep {
                        deps[dst_leaf].insert(s);
                    }
                }
            }
        }

        let schedule = schedule(&deps).map_err(|cycle| {
            let names: Vec<&str> = cycle.iter().map(|&i| processes[i].name.as_str()).collect();
            Error::ZeroDelayCycle(names.join(" -> "))
        })?;

        let mut var_aliases = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            for (name, target) in &node.aliases.vars {
                let (leaf, var) = self.resolve_var(target)?;
                var_aliases.push(VarAlias { proc: ProcId(i as u32), name: name.clone(), leaf: c.leaf_of[&leaf], var });
            }
        }

        Ok(Executable {
            version: EXECUTABLE_VERSION,
            backend: cfg.backend,
            tag: cfg.select_tag.clone(),
            processes,
            in_port_sources,
            schedule,
            var_aliases,
        })
    }
}

impl Compiler<'_> {
    fn leaf_of_out_port(&self, global: usize) -> usize {
        self.out_owner[global]
    }

    /// Leaf InPorts (process index, port index) that a (possibly composite) InPort feeds.
    fn resolve_in(&self, port: &InPort, depth: usize) -> Result<Vec<(usize, usize)>> {
        if depth > self.net.nodes.len() {
            return Err(Error::InvalidGraph(format!("InPort alias cycle at {}", port.name)));
        }
        let node = self.net.node(port.proc)?;
        if let Some(&leaf) = self.leaf_of.get(&port.proc) {
            let i = node.in_ports.iter().position(|p| p.name == port.name).ok_or_else(|| Error::NotFound {
                kind: "InPort",
                name: port.name.clone(),
                context: format!(" on process {}", node.name),
            })?;
            return Ok(vec![(leaf, i)]);
        }
        let targets = node.aliases.in_ports.get(&port.name).ok_or_else(|| Error::NotFound {
            kind: "InPort",
            name: port.name.clone(),
            context: format!(" on composite process {}", node.name),
        })?;
        let mut out = Vec::new();
        for t in targets {
            out.extend(self.resolve_in(t, depth + 1)?);
        }
        Ok(out)
    }

    /// Resolves a source expression to per-element leaf OutPort references.
    fn gather(&self, expr: &PortExpr, depth: usize) -> Result<Gathered> {
        if depth > self.net.nodes.len() + 64 {
            return Err(Error::InvalidGraph("OutPort alias cycle".into()));
        }
        let shape = self.net.expr_shape(expr)?;
        match expr {
            PortExpr::Port(p) => {
                let node = self.net.node(p.proc)?;
                if let Some(&leaf) = self.leaf_of.get(&p.proc) {
                    let i = node.out_ports.iter().position(|q| q.name == p.name).ok_or_else(|| Error::NotFound {
                        kind: "OutPort",
                        name: p.name.clone(),
                        context: format!(" on process {}", node.name),
                    })?;
                    let g = (self.out_offset[leaf] + i) as u32;
                    let n = numel(&shape);
                    return Ok(Gathered { shape, port: vec![g; n], idx: (0..n as u32).collect() });
                }
                let inner = node.aliases.out_ports.get(&p.name).ok_or_else(|| Error::NotFound {
                    kind: "OutPort",
                    name: p.name.clone(),
                    context: format!(" on composite process {}", node.name),
                })?;
                self.gather(inner, depth + 1)
            }
            PortExpr::Reshape(inner, _) => {
                let g = self.gather(inner, depth + 1)?;
                Ok(Gathered { shape, port: g.port, idx: g.idx })
            }
            PortExpr::Transpose(inner, axes) => {
                let g = self.gather(inner, depth + 1)?;
                let in_strides = c_strides(&g.shape);
                let n = numel(&shape);
                let (mut port, mut idx) = (Vec::with_capacity(n), Vec::with_capacity(n));
                for_each_index(&shape, |j| {
                    let src: usize = j.iter().zip(axes).map(|(&jk, &a)| jk * in_strides[a]).sum();
                    port.push(g.port[src]);
                    idx.push(g.idx[src]);
                });
                Ok(Gathered { shape, port, idx })
            }
            PortExpr::Concat(parts, axis) => {
                let gs = parts.iter().map(|p| self.gather(p, depth + 1)).collect::<Result<Vec<_>>>()?;
                let n = numel(&shape);
                let (mut port, mut idx) = (Vec::with_capacity(n), Vec::with_capacity(n));
                let strides: Vec<Vec<usize>> = gs.iter().map(|g| c_strides(&g.shape)).collect();
                for_each_index(&shape, |j| {
                    let mut k = j[*axis];
                    let mut part = 0;
                    while k >= gs[part].shape[*axis] {
                        k -= gs[part].shape[*axis];
                        part += 1;
                    }
                    let src: usize =
                        j.iter().enumerate().map(|(d, &jd)| if d == *axis { k } else { jd } * strides[part][d]).sum();
                    port.push(gs[part].port[src]);
                    idx.push(gs[part].idx[src]);
                });
                Ok(Gathered { shape, port, idx })
            }
        }
    }

    fn to_source(&self, g: &Gathered) -> Source {
        let first = g.port.first().copied();
        let identity = first.is_some_and(|p0| {
            let leaf = self.leaf_of_out_port(p0 as usize);
            let node = &self.net.nodes[self.leaves[leaf].0 as usize];
            let size = numel(&node.out_ports[p0 as usize - self.out_offset[leaf]].shape);
            size == g.port.len()
                && g.port.iter().all(|&p| p == p0)
                && g.idx.iter().enumerate().all(|(i, &x)| x as usize == i)
        });
        match (identity, first) {
            (true, Some(p0)) => Source::Identity(p0 as usize),
            _ => Source::Gather { port: g.port.clone(), idx: g.idx.clone() },
        }
    }
}

/// Row-major strides of a shape.
fn c_strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1];
    }
    s
}

/// Calls `f` with every multi-index of `shape` in C order.
fn for_each_index(shape: &[usize], mut f: impl FnMut(&[usize])) {
    let n = numel(shape);
    let mut j = vec![0usize; shape.len()];
    for _ in 0..n {
        f(&j);
        for d in (0..shape.len()).rev() {
            j[d] += 1;
            if j[d] < shape[d] {
                break;
            }
            j[d] = 0;
        }
    }
}

/// Topological order of processes (stable: lowest index first among ready ones), or the
/// processes on a cycle.
fn schedule(deps: &[BTreeSet<usize>]) -> std::result::Result<Vec<usize>, Vec<usize>> {
    let n = deps.len();
    let mut indegree: Vec<usize> = deps.iter().map(|d| d.len()).collect();
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (dst, ds) in deps.iter().enumerate() {
        for &src in ds {
            users[src].push(dst);
        }
    }
    let mut ready: BTreeSet<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &u in &users[i] {
            indegree[u] -= 1;
            if indegree[u] == 0 {
                ready.insert(u);
            }
        }
    }
    if order.len() == n {
        Ok(order)
    } else {
        Err((0..n).filter(|&i| indegree[i] > 0).collect())
    }
}
