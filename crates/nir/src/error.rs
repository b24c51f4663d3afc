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
    /// An error from the netx side of a conversion.
    #[error(transparent)]
    Netx(#[from] basalt_netx::NetxError),
    /// An error building or running the Basalt network.
    #[error(transparent)]
    Core(#[from] basalt_core::Error),
}
