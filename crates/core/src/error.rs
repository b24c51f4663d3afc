//! The one error type of `basalt-core`: every public operation returns [`Result`].

use thiserror::Error;

/// Shorthand for `std::result::Result<T, basalt_core::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while building, compiling or running a network.
///
/// Messages name the process, port or Var involved so that a user can find the mistake
/// without a debugger.
#[derive(Debug, Error)]
pub enum Error {
    /// Two ports (or a port and a Var) were connected with different shapes.
    #[error("shape mismatch connecting {src} {src_shape:?} -> {dst} {dst_shape:?}")]
    ShapeMismatch {
        /// The source port or expression.
        src: String,
        /// Shape of the source.
        src_shape: Vec<usize>,
        /// The destination port or Var.
        dst: String,
        /// Shape of the destination.
        dst_shape: Vec<usize>,
    },
    /// A port transform (reshape, transpose, concat) was given arguments that do not fit.
    #[error("invalid port transform on {port}: {reason}")]
    InvalidTransform {
        /// The port the transform was applied to.
        port: String,
        /// What is wrong.
        reason: String,
    },
    /// A process, port or Var name that does not exist in the network.
    #[error("{kind} `{name}` not found{context}")]
    NotFound {
        /// "process", "port", "Var", ...
        kind: &'static str,
        /// The name that was looked up.
        name: String,
        /// Extra context (", on process lif1").
        context: String,
    },
    /// A learning rule string or parameter that cannot be used.
    #[error("{0}")]
    LearningRule(#[from] crate::learning::RuleError),

    /// A parameter or initial value is out of range or malformed.
    #[error("invalid parameter `{param}` of {process}: {reason}")]
    InvalidParameter {
        /// The process (name or type).
        process: String,
        /// The parameter or Var name.
        param: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No registered ProcessModel fits a process under the chosen RunConfig.
    #[error("no process model for {process} (type {process_type}) with backend {backend} and tag {tag:?}; registered models: [{available}]")]
    NoModel {
        /// Process name.
        process: String,
        /// Process type name.
        process_type: String,
        /// Requested backend.
        backend: String,
        /// Requested tag (None = any).
        tag: Option<String>,
        /// Comma-separated models registered for that type.
        available: String,
    },
    /// The graph has a cycle of processes that all send in the same step they receive,
    /// which would deadlock Lava and cannot be scheduled.
    #[error("zero-delay cycle between processes: {0} (insert a synapse process such as Dense)")]
    ZeroDelayCycle(String),
    /// The graph itself is malformed (e.g. a composite port that was never bound).
    #[error("invalid graph: {0}")]
    InvalidGraph(String),
    /// A Var was read or written while the runtime was executing steps.
    #[error("cannot {op} Var `{var}` while the runtime is running; call pause() or wait() first")]
    Running {
        /// "get" or "set".
        op: &'static str,
        /// The Var.
        var: String,
    },
    /// A second run was requested while one is in progress.
    #[error("the runtime is already running; call wait(), pause() or stop() first")]
    AlreadyRunning,
    /// The runtime was stopped; it cannot run again.
    #[error("the runtime has been stopped and cannot run again; compile and create a new one")]
    Stopped,
    /// A process model failed during a step; the run ended at that step.
    #[error("process {process} failed at time step {time_step}: {message}")]
    Model {
        /// Process name.
        process: String,
        /// Time step at which it failed.
        time_step: u64,
        /// The model's message.
        message: String,
    },
    /// A value given to `Var::set` does not fit the Var.
    #[error("cannot set Var `{var}`: {reason}")]
    BadValue {
        /// The Var.
        var: String,
        /// What is wrong.
        reason: String,
    },
    /// Writing an output file (plot, data) failed.
    #[error("I/O error on {path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        message: String,
    },
    /// A file is not in the expected format, is truncated, corrupt, or fails its checksum
    /// or signature check.
    #[error("cannot load {path}: {reason}")]
    Format {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A loaded network uses a process type (or model) that the registry does not know.
    #[error("process {process} has type {type_name}, which has no registered model{detail}; register its model before loading")]
    UnknownProcessType {
        /// The process.
        process: String,
        /// Its type name.
        type_name: String,
        /// Extra detail (the missing model name).
        detail: String,
    },
    /// A state file does not fit the network (shape or dtype of a Var).
    #[error("state file {path}: {reason}")]
    StateMismatch {
        /// The file.
        path: String,
        /// The Var and what differs.
        reason: String,
    },
    /// Another backend (the GPU's) failed to build, run or read back.
    #[error("{backend} backend: {message}")]
    Backend {
        /// The backend ("gpu").
        backend: String,
        /// Its message.
        message: String,
    },
    /// The worker thread of a non-blocking run panicked (a bug in a model).
    #[error("the runtime worker thread panicked: {0}")]
    WorkerPanicked(String),
}

/// The error a [`crate::model::CpuModel`] returns; the runtime wraps it into
/// [`Error::Model`] with the process name and time step.
#[derive(Debug, Clone, Error, PartialEq)]
#[error("{0}")]
pub struct ModelError(pub String);

impl ModelError {
    /// A model error with a message.
    pub fn new(msg: impl Into<String>) -> Self {
        ModelError(msg.into())
    }
}
