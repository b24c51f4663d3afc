//! The error type of `basalt-nir`.

use thiserror::Error;

/// What can go wrong reading, writing, simulating or converting a NIR graph.
#[derive(Debug, Error)]
pub enum NirError {
    /// A node is malformed or cannot be mapped; names the node (dotted path for nodes in
    /// sub-graphs) and what is wrong.
    #[error("NIR node `{node}` ({kind}): {reason}")]
    Node {
        /// Node name.
        node: String,
        /// Node type (`CubaLIF`, ...).
        kind: String,
        /// What is wrong (names the field).
        reason: String,
    },
    /// The graph as a whole is malformed (edges, inputs, outputs, shapes).
    #[error("NIR graph: {0}")]
    Graph(String),
    /// The file is not a NIR file.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A Basalt network or process that has no NIR form (names the process).
    #[error("cannot export to NIR: {0}")]
    Export(String),
    /// An error from the netx side of a conversion.
    #[error(transparent)]
    Netx(#[from] basalt_netx::NetxError),
    /// An error building or running the Basalt network.
    #[error(transparent)]
    Core(#[from] basalt_core::Error),
}

/// An error about one node, naming it and its type.
pub(crate) fn node_err(name: &str, node: &crate::ir::Node, reason: impl Into<String>) -> NirError {
    NirError::Node { node: name.to_string(), kind: node.kind().to_string(), reason: reason.into() }
}

/// The one value of a parameter that must be the same for every neuron (Lava's LIF and a
/// netx layer have one per population).
pub(crate) fn uniform(name: &str, node: &crate::ir::Node, field: &str, t: &crate::ir::Tensor) -> Result<f64, NirError> {
    let first = *t.data.first().ok_or_else(|| node_err(name, node, format!("`{field}` is empty")))?;
    if t.data.iter().any(|&x| x != first) {
        return Err(node_err(
            name,
            node,
            format!("`{field}` differs between neurons; Basalt takes one value per population"),
        ));
    }
    Ok(first)
}

/// Checks a time step.
pub(crate) fn check_dt(dt: f64) -> Result<(), NirError> {
    if dt > 0.0 && dt.is_finite() {
        Ok(())
    } else {
        Err(NirError::Graph(format!("dt must be a positive number of seconds, found {dt}")))
    }
}
