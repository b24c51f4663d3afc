//! The compiled form of a network: plain serde data, so it can be saved and reloaded
//! without recompiling (Lava's `Executable`). It holds only leaf processes, their chosen
//! models, initial Var values, resolved connections and the step schedule.

use serde::{Deserialize, Serialize};

use crate::graph::ProcId;
use crate::registry::{Backend, OutputTiming};
use crate::value::Shape;
use crate::var_values::VarValues;

/// Version of the [`Executable`] layout; bumped when fields change meaning.
pub const EXECUTABLE_VERSION: u32 = 1;

/// A compiled network, ready to be turned into a [`crate::Runtime`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Executable {
    /// Layout version ([`EXECUTABLE_VERSION`]).
    pub version: u32,
    /// Backend the models were selected for.
    pub backend: Backend,
    /// The RunConfig tag used for selection (`floating_pt`, `fixed_pt`, ...).
    pub tag: Option<String>,
    /// Leaf processes, in network order.
    pub processes: Vec<LeafProcess>,
    /// For each InPort (global index, see [`LeafProcess::in_port_offset`]), the sources
    /// whose messages are summed into it.
    pub in_port_sources: Vec<Vec<Source>>,
    /// Order in which processes run their spike phase (indices into `processes`).
    pub schedule: Vec<usize>,
    /// Vars of composite processes resolved to leaf Vars.
    pub var_aliases: Vec<VarAlias>,
}

/// One leaf process with its selected model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeafProcess {
    /// Id in the source network.
    pub id: ProcId,
    /// Unique name.
    pub name: String,
    /// Process type name.
    pub type_name: String,
    /// Name of the selected model.
    pub model: String,
    /// Whether the model's outputs at step t depend on its inputs at step t.
    pub timing: OutputTiming,
    /// Process parameters (read by the model), stored as JSON text in binary files.
    #[serde(with = "crate::json_text")]
    pub params: serde_json::Value,
    /// Vars with initial values.
    pub vars: Vec<VarData>,
    /// InPorts.
    pub in_ports: Vec<PortSpec>,
    /// OutPorts.
    pub out_ports: Vec<PortSpec>,
    /// RefPorts and their resolved targets.
    pub ref_ports: Vec<RefPortSpec>,
    /// Global index of this process's first InPort.
    pub in_port_offset: usize,
    /// Global index of this process's first OutPort.
    pub out_port_offset: usize,
}

/// A Var's name, shape and value (C order).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VarData {
    /// Var name.
    pub name: String,
    /// Shape.
    pub shape: Shape,
    /// Values in C order: owned after compiling, a view into the file after loading.
    pub data: VarValues,
}

/// A port's name and shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortSpec {
    /// Port name.
    pub name: String,
    /// Shape.
    pub shape: Shape,
}

/// A RefPort and the leaf Var it reads/writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefPortSpec {
    /// Port name.
    pub name: String,
    /// Shape.
    pub shape: Shape,
    /// Target (process index, Var index), or None when unconnected.
    pub target: Option<(usize, usize)>,
}

/// One source of an InPort.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Source {
    /// The whole OutPort (global index), element for element.
    Identity(usize),
    /// Element `i` of the InPort receives element `idx[i]` of OutPort `port[i]`
    /// (reshape/transpose/concat compiled to a gather).
    Gather {
        /// OutPort global index per destination element.
        port: Vec<u32>,
        /// Element index within that OutPort per destination element.
        idx: Vec<u32>,
    },
}

/// A Var of a composite process, resolved to a leaf Var.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VarAlias {
    /// Composite process id.
    pub proc: ProcId,
    /// Var name on the composite.
    pub name: String,
    /// Leaf process index.
    pub leaf: usize,
    /// Var index within it.
    pub var: usize,
}

impl LeafProcess {
    /// Index of the Var called `name`.
    pub fn var_index(&self, name: &str) -> Option<usize> {
        self.vars.iter().position(|v| v.name == name)
    }

    /// The Var called `name`, or a message naming the process.
    pub fn var(&self, name: &str) -> Result<&VarData, String> {
        self.vars
            .iter()
            .find(|v| v.name == name)
            .ok_or_else(|| format!("process {} ({}) has no Var `{name}`", self.name, self.type_name))
    }

    /// Deserialises the process parameters.
    pub fn params<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_value(self.params.clone())
            .map_err(|e| format!("bad parameters for process {} ({}): {e}", self.name, self.type_name))
    }

    /// Shape of the InPort called `name`.
    pub fn in_port_shape(&self, name: &str) -> Result<&Shape, String> {
        self.in_ports
            .iter()
            .find(|p| p.name == name)
            .map(|p| &p.shape)
            .ok_or_else(|| format!("process {} has no InPort `{name}`", self.name))
    }
}

impl Executable {
    /// Index of the leaf process with id `id`.
    pub fn leaf_index(&self, id: ProcId) -> Option<usize> {
        self.processes.iter().position(|p| p.id == id)
    }

    /// Resolves a Var by owning process and name (following composite aliases) to
    /// (process index, Var index).
    pub fn resolve_var(&self, proc: ProcId, name: &str) -> Option<(usize, usize)> {
        if let Some(p) = self.leaf_index(proc) {
            return self.processes[p].var_index(name).map(|v| (p, v));
        }
        self.var_aliases.iter().find(|a| a.proc == proc && a.name == name).map(|a| (a.leaf, a.var))
    }

    /// Drops every Var's initial values (empty afterwards): for a runtime that has copied
    /// them into its own state and keeps the executable only for its structure, so that a
    /// large network is held in memory once, not twice.
    pub fn release_values(&mut self) {
        for v in self.processes.iter_mut().flat_map(|p| p.vars.iter_mut()) {
            v.data = VarValues::default();
        }
    }

    /// Total number of InPorts.
    pub fn num_in_ports(&self) -> usize {
        self.in_port_sources.len()
    }

    /// Total number of OutPorts.
    pub fn num_out_ports(&self) -> usize {
        self.processes.iter().map(|p| p.out_ports.len()).sum()
    }
}
