//! Errors of the slayer crate: every failure is a value naming what was wrong.

/// What went wrong building, running or exporting a slayer network.
#[derive(Debug, thiserror::Error)]
pub enum SlayerError {
    /// Reading or writing the netx file failed.
    #[error(transparent)]
    Netx(#[from] basalt_netx::NetxError),
    /// Converting from or to NIR failed (boxed: NIR errors are large).
    #[error(transparent)]
    Nir(Box<basalt_nir::NirError>),
    /// A tensor of the wrong shape.
    #[error("{what}: expected shape {expected}, got {got:?}")]
    Shape {
        /// Which tensor.
        what: String,
        /// The expected shape, in words.
        expected: String,
        /// The shape given.
        got: Vec<usize>,
    },
    /// A parameter outside its valid range or not finite.
    #[error("{what}: {reason}")]
    Parameter {
        /// Which parameter.
        what: String,
        /// Why it is refused.
        reason: String,
    },
    /// A layer or neuron this crate does not build yet.
    #[error("layer {layer} ({kind}): {reason}")]
    Unsupported {
        /// Layer index in the file.
        layer: usize,
        /// Its type.
        kind: String,
        /// What is missing.
        reason: String,
    },
    /// Reading a data file failed (unreadable, corrupt or not the expected layout).
    #[error(transparent)]
    File(#[from] basalt_core::Error),
    /// The training device asked for is unknown, not built in, or has no adapter.
    #[error("training device `{name}`: {reason}")]
    Device {
        /// The device asked for.
        name: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// Reading a tensor back from its device failed.
    #[error("reading a tensor from its device failed: {0}")]
    Read(String),
}

impl From<basalt_nir::NirError> for SlayerError {
    fn from(e: basalt_nir::NirError) -> Self {
        SlayerError::Nir(Box::new(e))
    }
}

/// The positions per channel of a tensor of `dims` (batch, channels·positions, time) over
/// `channels` channels; a clear error naming `what` when they do not divide.
pub(crate) fn positions_per_channel(dims: [usize; 3], channels: usize, what: &str) -> Result<usize> {
    let [batch, n, time] = dims;
    if channels == 0 || !n.is_multiple_of(channels) {
        return Err(SlayerError::Shape {
            what: what.into(),
            expected: format!("(batch, a multiple of {channels} channels, time)"),
            got: vec![batch, n, time],
        });
    }
    Ok(n / channels)
}

/// Result of the slayer crate.
pub type Result<T, E = SlayerError> = std::result::Result<T, E>;
