//! The error type of `basalt-netx`.

use thiserror::Error;

/// What can go wrong loading a netx network.
#[derive(Debug, Error)]
pub enum NetxError {
    /// A layer is malformed or unsupported; names the layer and the field.
    #[error("{path}: layer {layer} ({kind}): {reason}")]
    Layer {
        /// The file.
        path: String,
        /// Layer index.
        layer: usize,
        /// Layer type.
        kind: String,
        /// What is wrong (names the field).
        reason: String,
    },
    /// The file as a whole is not a netx network.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// An error building or running the Basalt network.
    #[error(transparent)]
    Core(#[from] basalt_core::Error),
}
