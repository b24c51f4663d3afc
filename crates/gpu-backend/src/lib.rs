//! # basalt-gpu
//!
//! Runs a compiled Basalt [`Executable`] on any GPU wgpu supports (Vulkan, Metal, DX12, GL),
//! with WGSL compute kernels (`shaders/*.wgsl`, one per process family): one storage buffer
//! per Var and per OutPort, every step encoded on the GPU (a clock kernel, the synapses'
//! emit kernels, then each process in the CPU schedule's order) and many steps submitted at
//! once. Fixed-point models use i32 arithmetic and are bit-exact with the CPU reference;
//! float models run in f32 (the CPU uses f64) and agree within a stated tolerance.
//!
//! Supported process models in this version: `Lif`, `LifReset`, `TernaryLif`, `Alif` (float,
//! bit-accurate), `LifRefractory` (float), `Dense` and `DelayDense` (binary and graded
//! spikes), `Sigma`, `Delta`, `SigmaDelta` (and the corrected fixed-point one), `Conv`,
//! `ConvTranspose`, `io.Reset`, `source.RingBuffer`, `sink.RingBuffer`, `io.Read`, `Spiker`,
//! `Receiver`, `Atrlif`, `Rf`, `RfIz`, `LearningDense` and `LearningLif` (on-chip learning,
//! see the `learning` module), each in float and bit-accurate fixed point. InPorts may have
//! several sources, transformed or concatenated (gathered, then summed). Anything else is a
//! clear error naming the process.
//!
//! [`GpuRuntime::with_batch`] runs many copies of a network in one plan: the copies share
//! the weights and constants and keep their own state; [`GpuRuntime::get`] and
//! [`GpuRuntime::set`] address a Var of every copy at once. Plain `Dense` synapses are
//! event-driven: they read only the weight columns of non-zero inputs, for up to 8 copies
//! per weight read. A synapse (Dense, Sparse, DelaySparse, DelayDense, Conv, ConvTranspose)
//! that alone feeds a neuron population (LIF family, ALIF, sigma-delta family) runs fused
//! with it in one kernel (`fusion`).

use std::collections::HashMap;

use basalt_core::executable::{Executable, LeafProcess, Source};
use basalt_core::process::monitor::probes_of;
use basalt_core::{ProcId, VarRef};
use ndarray::{ArrayD, IxDyn};
use thiserror::Error;
use wgpu::util::DeviceExt;

mod atrlif;
mod dataloader;
mod device;
mod fusion;
mod learning;
mod neurons;
pub mod pipeline_cache;
mod rf;
mod spiker;
mod synapses;

pub use device::GpuDevice;
pub use pipeline_cache::PipelineCacheStatus;

/// Errors of the GPU backend.
#[derive(Debug, Error)]
pub enum GpuError {
    /// No GPU adapter (or no adapter matching `BASALT_ADAPTER`) was found.
    #[error(
        "no GPU adapter found{0} (install a Vulkan driver, e.g. Mesa's lavapipe: apt-get install mesa-vulkan-drivers)"
    )]
    NoAdapter(String),
    /// The device could not be created.
    #[error("cannot create the GPU device on {adapter}: {reason}")]
    Device {
        /// Adapter name.
        adapter: String,
        /// Cause.
        reason: String,
    },
    /// A process model or connection the GPU backend does not implement.
    #[error("the GPU backend does not support {0}")]
    Unsupported(String),
    /// The network does not fit the device's limits.
    #[error("{what} needs {needed} bytes, more than the device's limit of {limit}")]
    TooLarge {
        /// What is too large.
        what: String,
        /// Bytes needed.
        needed: u64,
        /// The limit.
        limit: u64,
    },
    /// A run that cannot proceed (it was refused before anything ran).
    #[error("{0}")]
    Run(String),
    /// A Var that does not exist in the executable.
    #[error("Var `{0}` not found")]
    UnknownVar(String),
    /// A value whose shape is not the Var's.
    #[error("Var `{var}` has shape {expected:?} on the GPU; the value has shape {got:?}")]
    Shape {
        /// The Var's name.
        var: String,
        /// The shape `get` returns for it.
        expected: Vec<usize>,
        /// The value's shape.
        got: Vec<usize>,
    },
    /// Reading results back failed.
    #[error("reading back from the GPU failed: {0}")]
    Readback(String),
    /// The pipeline cache could not be saved.
    #[error("pipeline cache: {0}")]
    PipelineCache(String),
    /// A parameter out of range for the model.
    #[error("process {process}: {reason}")]
    Parameter {
        /// Process name.
        process: String,
        /// What is wrong.
        reason: String,
    },
}

/// WGSL sources, included at compile time. Families written over `Scalar` (dense, conv, gather,
/// and the neuron steps) are templates: [`shaders::for_precision`] prepends the fixed-point or float prelude.
pub mod shaders {
    /// Neurons, one thread per neuron (template, completed by [`neuron`] with a neuron step).
    pub const NEURON: &str = include_str!("../../../shaders/neuron.wgsl");
    /// A synapse fused with the neuron population it alone feeds (template, completed by
    /// [`synapse_neuron`]).
    pub const SYNAPSE_NEURON: &str = include_str!("../../../shaders/synapse_neuron.wgsl");
    /// The fixed-point LIF-family neuron step.
    pub const LIF_NEURON: &str = include_str!("../../../shaders/lif_neuron.wgsl");
    /// The float LIF-family neuron step.
    pub const LIF_NEURON_FLOAT: &str = include_str!("../../../shaders/lif_neuron_float.wgsl");
    /// The fixed-point adaptive LIF neuron step.
    pub const ALIF_NEURON: &str = include_str!("../../../shaders/alif_neuron.wgsl");
    /// The float adaptive LIF neuron step.
    pub const ALIF_NEURON_FLOAT: &str = include_str!("../../../shaders/alif_neuron_float.wgsl");
    /// The sigma-delta neuron step (Sigma, Delta, SigmaDelta; over `Scalar`, both precisions).
    pub const SDN_NEURON: &str = include_str!("../../../shaders/sdn_neuron.wgsl");
    /// Dense (template).
    pub const DENSE: &str = include_str!("../../../shaders/dense.wgsl");
    /// Convolution (template).
    pub const CONV: &str = include_str!("../../../shaders/conv.wgsl");
    /// Ring buffers and the clock.
    pub const IO: &str = include_str!("../../../shaders/io.wgsl");
    /// Port transforms and multi-source InPorts (template).
    pub const GATHER: &str = include_str!("../../../shaders/gather.wgsl");
    /// io.Reset.
    pub const RESET: &str = include_str!("../../../shaders/reset.wgsl");
    /// Sparse, DelaySparse and DelayDense: CSR synapses by output row (template).
    pub const SPARSE: &str = include_str!("../../../shaders/sparse.wgsl");
    /// On-chip learning of LearningDense (template).
    pub const LEARNING: &str = include_str!("../../../shaders/learning.wgsl");
    /// The trace and sends of LearningLif (template).
    pub const LEARNING_LIF: &str = include_str!("../../../shaders/learning_lif.wgsl");
    /// ATRLIF neurons (template, with the wide-integer helpers).
    pub const ATRLIF: &str = include_str!("../../../shaders/atrlif.wgsl");
    /// RF and RF-IZ neurons (template, with the wide-integer helpers).
    pub const RF: &str = include_str!("../../../shaders/rf.wgsl");
    /// Spiker and Receiver (template).
    pub const SPIKER: &str = include_str!("../../../shaders/spiker.wgsl");
    /// io.Read.
    pub const READ: &str = include_str!("../../../shaders/read.wgsl");
    /// SpikeDataloader and StateDataloader.
    pub const DATALOADER: &str = include_str!("../../../shaders/dataloader.wgsl");
    /// 64- and 96-bit integer helpers, prepended to the kernels that need them.
    pub const WIDE_INT: &str = include_str!("../../../shaders/wide_int.wgsl");
    /// Prelude of the templates in fixed point (i32).
    pub const PRECISION_FIXED: &str = include_str!("../../../shaders/precision_fixed.wgsl");
    /// Prelude of the templates in float (f32).
    pub const PRECISION_FLOAT: &str = include_str!("../../../shaders/precision_float.wgsl");
    /// Templates, by file name.
    pub const TEMPLATES: [(&str, &str); 9] = [
        ("spiker.wgsl", SPIKER),
        ("atrlif.wgsl", ATRLIF),
        ("rf.wgsl", RF),
        ("learning.wgsl", LEARNING),
        ("learning_lif.wgsl", LEARNING_LIF),
        ("dense.wgsl", DENSE),
        ("sparse.wgsl", SPARSE),
        ("conv.wgsl", CONV),
        ("gather.wgsl", GATHER),
    ];
    /// Complete shaders, by file name.
    pub const COMPLETE: [(&str, &str); 4] =
        [("dataloader.wgsl", DATALOADER), ("io.wgsl", IO), ("reset.wgsl", RESET), ("read.wgsl", READ)];

    /// A template completed for one precision.
    pub fn for_precision(template: &str, fixed: bool) -> String {
        format!("{}\n{template}", if fixed { PRECISION_FIXED } else { PRECISION_FLOAT })
    }

    /// The neuron steps of one precision, by name: LIF family, adaptive LIF, sigma-delta.
    pub fn neuron_steps(fixed: bool) -> [(&'static str, &'static str); 3] {
        if fixed {
            [("lif", LIF_NEURON), ("alif", ALIF_NEURON), ("sdn", SDN_NEURON)]
        } else {
            [("lif", LIF_NEURON_FLOAT), ("alif", ALIF_NEURON_FLOAT), ("sdn", SDN_NEURON)]
        }
    }

    /// The per-neuron kernel (entry `neuron`) of a neuron `step` of one precision.
    pub fn neuron(step: &str, fixed: bool) -> String {
        for_precision(&format!("{step}\n{NEURON}"), fixed)
    }

    /// The fused kernel (entry `synapse_neuron`) of a `synapse` (dense.wgsl as
    /// [`dense_grouped`] makes it, sparse.wgsl or conv.wgsl) and a neuron `step`.
    pub fn synapse_neuron(synapse: &str, step: &str, fixed: bool) -> String {
        for_precision(&format!("{synapse}\n{step}\n{SYNAPSE_NEURON}"), fixed)
    }

    /// dense.wgsl with `group` copies per thread of the event-driven path (1 to 8).
    pub fn dense_grouped(group: usize) -> String {
        DENSE.replace("const GROUP: u32 = 8u;", &format!("const GROUP: u32 = {group}u;"))
    }

    /// A template that uses the wide-integer helpers, completed for one precision.
    pub fn with_wide_int(template: &str, fixed: bool) -> String {
        for_precision(&format!("{WIDE_INT}\n{template}"), fixed)
    }
}

/// How a Var is held for `get`.
#[derive(Clone)]
enum VarHome {
    /// Words of a GPU buffer.
    Buffer(Slot),
    /// A constant kept on the host.
    Host(Vec<f64>),
}

/// `len` 32-bit words from word `offset` of a GPU buffer: i32 in fixed point or when `int`
/// (spike times and flags of the learning models), f32 otherwise. In a batch, `len` is one
/// copy's words and the copies follow each other (`offset` is then 0).
#[derive(Clone)]
struct Slot {
    buf: wgpu::Buffer,
    offset: usize,
    len: usize,
    int: bool,
}

impl VarHome {
    /// A whole buffer of `len` words in the plan's precision.
    fn buffer(buf: wgpu::Buffer, len: usize) -> VarHome {
        VarHome::Buffer(Slot { buf, offset: 0, len, int: false })
    }
}

/// Every Var the plan can read back, by (process, name), with its shape.
type VarMap = HashMap<(ProcId, String), (VarHome, Vec<usize>)>;

/// One kernel launch of a step.
struct Launch {
    pipeline: usize,
    bind_group: wgpu::BindGroup,
    /// Workgroups in x and y (see [`GpuDevice::workgroups`]).
    groups: (u32, u32),
}

/// A compiled network on the GPU.
pub struct GpuRuntime {
    gpu: std::sync::Arc<GpuDevice>,
    /// The executable the plan was built from, without its Var values (for `executable()`).
    exe: Executable,
    fixed: bool,
    /// Copies of the network in the plan (shared weights and constants, own state).
    batch: usize,
    pipelines: Vec<wgpu::ComputePipeline>,
    step: Vec<Launch>,
    vars: VarMap,
    /// Monitor probes: steps each buffer holds, and `process.target` for the error.
    probe_limits: Vec<(u64, String)>,
    time_step: u64,
    /// Fixed-point learning: random numbers uploaded before each submission.
    feeds: Vec<learning::RandomFeed>,
    /// (synapse, population) names of the synapses fused with the population they feed.
    fused: Vec<(String, String)>,
    _keep: Vec<wgpu::Buffer>,
}

fn words_f32(v: &[f64]) -> Vec<u32> {
    v.iter().map(|&x| (x as f32).to_bits()).collect()
}

fn words_i32(v: &[f64]) -> Vec<u32> {
    v.iter().map(|&x| (x as i32) as u32).collect()
}

struct Builder<'a> {
    gpu: &'a GpuDevice,
    fixed: bool,
    /// Copies of the network: per-copy buffers repeat their words this many times.
    batch: usize,
    pipelines: Vec<wgpu::ComputePipeline>,
    pipeline_by_source: HashMap<String, usize>,
    keep: Vec<wgpu::Buffer>,
}

impl Builder<'_> {
    fn storage(&mut self, label: &str, words: &[u32]) -> Result<wgpu::Buffer, GpuError> {
        let bytes = (words.len().max(1) * 4) as u64;
        if bytes > self.gpu.limits.max_storage_buffer_binding_size {
            return Err(GpuError::TooLarge {
                what: label.into(),
                needed: bytes,
                limit: self.gpu.limits.max_storage_buffer_binding_size,
            });
        }
        let data: Vec<u32> = if words.is_empty() { vec![0] } else { words.to_vec() };
        Ok(self.gpu.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(&data),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        }))
    }

    /// A buffer of state each batch copy holds for itself: `words` (one copy's initial
    /// values) repeated for every copy.
    fn per_copy(&mut self, label: &str, words: &[u32]) -> Result<wgpu::Buffer, GpuError> {
        // Refuse an oversized batch before the host allocates it.
        let needed = (words.len().max(1) as u64).saturating_mul(self.batch as u64).saturating_mul(4);
        let limit = self.gpu.limits.max_storage_buffer_binding_size;
        if needed > limit {
            return Err(GpuError::TooLarge { what: format!("{label} of {} copies", self.batch), needed, limit });
        }
        self.storage(label, &words.repeat(self.batch))
    }

    /// `n` (one copy's element count) times the batch, as the kernels' u32 counts.
    fn all(&self, n: usize) -> u32 {
        (n * self.batch) as u32
    }

    fn uniform8(&mut self, words: [u32; 8]) -> wgpu::Buffer {
        self.uniform_words(&words)
    }

    fn uniform(&mut self, words: [u32; 4]) -> wgpu::Buffer {
        self.uniform_words(&words)
    }

    fn uniform_words(&mut self, words: &[u32]) -> wgpu::Buffer {
        let b = self.gpu.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("params"),
            contents: bytemuck::cast_slice(words),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        self.keep.push(b.clone());
        b
    }

    fn pipeline(&mut self, source: &str, entry: &'static str) -> usize {
        let key = format!("{entry}\0{source}");
        if let Some(&i) = self.pipeline_by_source.get(&key) {
            return i;
        }
        let p = self.gpu.pipeline(source, entry);
        self.pipelines.push(p);
        self.pipeline_by_source.insert(key, self.pipelines.len() - 1);
        self.pipelines.len() - 1
    }

    /// A launch of `entry` with `(binding, buffer)` pairs over `threads` threads.
    fn launch(&mut self, source: &str, entry: &'static str, bindings: &[(u32, &wgpu::Buffer)], threads: u32) -> Launch {
        let pipeline = self.pipeline(source, entry);
        let layout = self.pipelines[pipeline].get_bind_group_layout(0);
        let entries: Vec<wgpu::BindGroupEntry<'_>> = bindings
            .iter()
            .map(|(b, buf)| wgpu::BindGroupEntry { binding: *b, resource: buf.as_entire_binding() })
            .collect();
        let bind_group = self.gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(entry),
            layout: &layout,
            entries: &entries,
        });
        Launch { pipeline, bind_group, groups: self.gpu.workgroups(threads) }
    }

    fn words(&self, v: &[f64]) -> Vec<u32> {
        if self.fixed {
            words_i32(v)
        } else {
            words_f32(v)
        }
    }
}

fn unsupported(p: &LeafProcess, what: &str) -> GpuError {
    GpuError::Unsupported(format!("{what} (process {} of type {}, model {})", p.name, p.type_name, p.model))
}

/// A process's parameters, or an error naming the process.
fn params<T: serde::de::DeserializeOwned>(p: &LeafProcess) -> Result<T, GpuError> {
    p.params().map_err(|reason| GpuError::Parameter { process: p.name.clone(), reason })
}

fn var<'a>(p: &'a LeafProcess, name: &str) -> Result<&'a [f64], GpuError> {
    p.var(name).map(|v| &v.data[..]).map_err(GpuError::UnknownVar)
}

/// `x` truncated to an integer in `lo..=hi` (fixed point), or an error naming `what`.
fn int_in(p: &LeafProcess, what: &str, x: f64, lo: f64, hi: f64) -> Result<f64, GpuError> {
    let t = x.trunc();
    if t >= lo && t <= hi {
        Ok(t)
    } else {
        Err(GpuError::Parameter { process: p.name.clone(), reason: format!("{what} {x} is outside {lo}..={hi}") })
    }
}

/// Values of Var `name` as integers in `lo..=hi` (fixed point), or an error naming it.
fn ints(p: &LeafProcess, name: &str, lo: f64, hi: f64) -> Result<Vec<f64>, GpuError> {
    var(p, name)?.iter().map(|&x| int_in(p, name, x, lo, hi)).collect()
}

/// Values of Var `name` as int32 integers, as Lava's fixed-point arrays hold them.
fn i32s(p: &LeafProcess, name: &str) -> Result<Vec<f64>, GpuError> {
    ints(p, name, f64::from(i32::MIN), f64::from(i32::MAX))
}

/// Where a RefPort's target Var `tv` of `tproc` lives for reading on the GPU: its slot, or
/// (a Var the GPU holds as a host constant) a new buffer of its constant value.
fn var_source(b: &mut Builder<'_>, vars: &VarMap, tproc: &LeafProcess, tv: usize) -> Result<Slot, GpuError> {
    let var = tproc.vars.get(tv).ok_or_else(|| GpuError::UnknownVar(format!("{}[{tv}]", tproc.name)))?;
    let constant = |b: &mut Builder<'_>, values: &[f64]| -> Result<Slot, GpuError> {
        Ok(Slot { buf: b.per_copy("probed constant", &b.words(values))?, offset: 0, len: values.len(), int: false })
    };
    match vars.get(&(tproc.id, var.name.clone())) {
        Some((VarHome::Buffer(slot), _)) => Ok(slot.clone()),
        // The value the model uses (e.g. fixed-point weights after quantisation).
        Some((VarHome::Host(values), _)) => constant(b, values),
        None => constant(b, &var.data),
    }
}

/// The slot of the Var that process `p` (a Reset or a StateDataloader) writes through its
/// first RefPort, or an error naming it when the Var is a constant of the plan.
fn written_slot(exe: &Executable, vars: &VarMap, p: &LeafProcess) -> Result<Slot, GpuError> {
    let (tp, tv) =
        p.ref_ports.first().and_then(|r| r.target).ok_or_else(|| unsupported(p, "an unconnected RefPort"))?;
    let tproc = &exe.processes[tp];
    let tname = &tproc.vars[tv].name;
    match vars.get(&(tproc.id, tname.clone())) {
        Some((VarHome::Buffer(slot), _)) => Ok(slot.clone()),
        _ => Err(unsupported(p, &format!("a write to {}.{tname}, which the GPU holds as a constant", tproc.name))),
    }
}

/// Registers a Var the GPU keeps as a host constant.
fn host_var(vars: &mut VarMap, p: &LeafProcess, name: &str) -> Result<(), GpuError> {
    let v = p.var(name).map_err(GpuError::UnknownVar)?;
    vars.insert((p.id, name.to_string()), (VarHome::Host(v.data.to_vec()), v.shape.clone()));
    Ok(())
}

/// A Var's shape (empty when the process has no such Var).
fn shape_of(p: &LeafProcess, name: &str) -> Vec<usize> {
    p.var(name).map(|v| v.shape.clone()).unwrap_or_default()
}

/// How [`GpuRuntime::with_options`] builds a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanOptions {
    /// Copies of the network run at once (see [`GpuRuntime::with_batch`]); at least 1.
    pub batch: usize,
    /// Fuse each synapse with the neuron population it alone feeds (see
    /// [`GpuRuntime::fused_synapses`]); off, every process runs its own kernels (the same
    /// numbers, more launches: the baseline the fusion is measured against).
    pub fuse: bool,
}

impl Default for PlanOptions {
    /// One copy, fused.
    fn default() -> PlanOptions {
        PlanOptions { batch: 1, fuse: true }
    }
}

impl GpuRuntime {
    /// Builds the GPU plan of an executable compiled for the CPU (the same `Executable`).
    pub fn new(exe: &Executable, gpu: std::sync::Arc<GpuDevice>) -> Result<GpuRuntime, GpuError> {
        GpuRuntime::with_batch(exe, gpu, 1)
    }

    /// Builds a plan that runs `batch` independent copies of the network at once: the copies
    /// share the weights and every other constant (one buffer each), each has its own state,
    /// ports, ring-buffer data and Monitor records, all starting from the executable's values.
    /// `get` and `set` then address Vars with a leading batch axis (see [`GpuRuntime::get`]),
    /// e.g. `set` a source RingBuffer's `data` to give each copy its own input. On-chip
    /// learning (whose weights are state) is refused in a batch above 1.
    pub fn with_batch(exe: &Executable, gpu: std::sync::Arc<GpuDevice>, batch: usize) -> Result<GpuRuntime, GpuError> {
        GpuRuntime::with_options(exe, gpu, PlanOptions { batch, ..PlanOptions::default() })
    }

    /// Builds a plan as `options` say (see [`PlanOptions`]).
    pub fn with_options(
        exe: &Executable,
        gpu: std::sync::Arc<GpuDevice>,
        options: PlanOptions,
    ) -> Result<GpuRuntime, GpuError> {
        let PlanOptions { batch, fuse } = options;
        let compiled_before = gpu.compiled_pipelines();
        if batch == 0 {
            return Err(GpuError::Run("a batch needs at least one copy".into()));
        }
        if batch > 1 {
            if let Some(p) = exe.processes.iter().find(|p| p.type_name.starts_with("Learning")) {
                return Err(unsupported(p, "on-chip learning in a batch (its weights are state; run one copy)"));
            }
        }
        let fixed_models = [
            "PyLifModelBitAcc",
            "PyLifResetModelBitAcc",
            "PyTernLifModelFixed",
            "PyAlifModelFixed",
            "PyDenseModelBitAcc",
            "PyDelayDenseModelBitAcc",
            "PySparseModelBitAcc",
            "PyDelaySparseModelBitAcc",
            "PySendModelFixed",
            "PyReceiveModelFixed",
            "PySigmaModelFixed",
            "PyDeltaModelFixed",
            "PySigmaDeltaModelFixed",
            "PySigmaDeltaModelFixedCorrected",
            "PyConvModelFixed",
            "PyConvTransposeModelFixed",
            "PyResetFixed",
            "PyLearningDenseModelBitApproximate",
            "PyLearningLIFModelFixed",
            "PyATRLIFModelFixed",
            "PyRFModelFixed",
            "PyRF_IZModelFixed",
            "PyReadFixed",
            "PySpikeModelFixed",
            "PyStateModelFixed",
        ];
        let float_models = [
            "PyLifModelFloat",
            "PyLifResetModelFloat",
            "PyTernLifModelFloat",
            "PyLifRefractoryModelFloat",
            "PyAlifModelFloat",
            "PyDenseModelFloat",
            "PyDelayDenseModelFloat",
            "PySparseModelFloat",
            "PyDelaySparseModelFloat",
            "PySendModelFloat",
            "PyReceiveModelFloat",
            "PySigmaModelFloat",
            "PyDeltaModelFloat",
            "PySigmaDeltaModelFloat",
            "PyConvModelFloat",
            "PyConvTransposeModelFloat",
            "PyResetFloat",
            "PyLearningDenseModelFloat",
            "PyLearningLifModelFloat",
            "PyATRLIFModelFloat",
            "PyRFModelFloat",
            "PyRF_IZModelFloat",
            "PyReadFloat",
            "PySpikeModelFloat",
            "PyStateModelFloat",
        ];
        // Models that record whatever precision the rest of the network runs in.
        let either_models = ["PyMonitorModel", "SpikerModel", "ReceiverModel"];
        let mut fixed = None;
        for p in exe.processes.iter().filter(|p| !either_models.contains(&p.model.as_str())) {
            let f = if fixed_models.contains(&p.model.as_str()) {
                true
            } else if float_models.contains(&p.model.as_str()) {
                false
            } else {
                return Err(unsupported(p, "this process model"));
            };
            if *fixed.get_or_insert(f) != f {
                return Err(unsupported(p, "mixing float and fixed-point models"));
            }
        }
        let fixed = fixed.unwrap_or(true);
        let mut b = Builder {
            gpu: &gpu,
            fixed,
            batch,
            pipelines: Vec::new(),
            pipeline_by_source: HashMap::new(),
            keep: Vec::new(),
        };
        let clock = b.storage("clock", &[0])?;
        // One buffer per OutPort.
        let mut outs: Vec<wgpu::Buffer> = Vec::new();
        let mut out_sizes: Vec<usize> = Vec::new();
        for p in &exe.processes {
            for port in &p.out_ports {
                let n: usize = port.shape.iter().product();
                outs.push(b.per_copy(&format!("{}.{}", p.name, port.name), &vec![0; n])?);
                out_sizes.push(n);
            }
        }
        // Each InPort reads its single untransformed source's buffer, a zero buffer, or its
        // own buffer, filled right before its process runs: the first source gathered
        // (through its port transform), each further source added.
        let mut ins: Vec<wgpu::Buffer> = Vec::new();
        let mut gathers: HashMap<usize, Vec<Launch>> = HashMap::new();
        for (pi, p) in exe.processes.iter().enumerate() {
            for (k, port) in p.in_ports.iter().enumerate() {
                let n: usize = port.shape.iter().product();
                match exe.in_port_sources[p.in_port_offset + k].as_slice() {
                    [] => ins.push(b.per_copy("unconnected", &vec![0; n])?),
                    [Source::Identity(o)] => ins.push(outs[*o].clone()),
                    sources => {
                        let dst = b.per_copy("gathered", &vec![0; n])?;
                        for (j, source) in sources.iter().enumerate() {
                            // One launch per OutPort the source reads: a plain gather when it
                            // reads one, a scatter per OutPort for a concatenation.
                            let parts: Vec<(usize, Vec<u32>, Option<Vec<u32>>)> = match source {
                                Source::Identity(o) => vec![(*o, (0..n as u32).collect(), None)],
                                Source::Gather { port: ports, idx }
                                    if !ports.is_empty() && ports.iter().all(|&q| q == ports[0]) =>
                                {
                                    vec![(ports[0] as usize, idx.clone(), None)]
                                }
                                Source::Gather { port: ports, idx } => {
                                    let mut by_port: std::collections::BTreeMap<u32, (Vec<u32>, Vec<u32>)> =
                                        Default::default();
                                    for (d, (&q, &i)) in ports.iter().zip(idx).enumerate() {
                                        let e = by_port.entry(q).or_default();
                                        e.0.push(i);
                                        e.1.push(d as u32);
                                    }
                                    by_port.into_iter().map(|(q, (i, d))| (q as usize, i, Some(d))).collect()
                                }
                            };
                            let code = shaders::for_precision(shaders::GATHER, fixed);
                            for (out, idx, pos) in parts {
                                // Copy c reads its own source and writes its own destination.
                                let per_copy = |v: &[u32], stride: usize| -> Vec<u32> {
                                    (0..batch).flat_map(|c| v.iter().map(move |&x| x + (c * stride) as u32)).collect()
                                };
                                let count = b.all(idx.len());
                                let idx_buf = b.storage("gather index", &per_copy(&idx, out_sizes[out]))?;
                                let params = b.uniform([count, 0, 0, 0]);
                                let src = outs[out].clone();
                                let mut bind = vec![(0, &params), (1, &src), (2, &dst), (3, &idx_buf)];
                                let pos_buf = match &pos {
                                    Some(d) => Some(b.storage("scatter position", &per_copy(d, n))?),
                                    None => None,
                                };
                                let entry = match (&pos_buf, j) {
                                    (None, 0) => "gather",
                                    (None, _) => "accumulate",
                                    (Some(pb), _) => {
                                        bind.push((4, pb));
                                        if j == 0 {
                                            "scatter"
                                        } else {
                                            "scatter_accumulate"
                                        }
                                    }
                                };
                                let l = b.launch(&code, entry, &bind, count);
                                b.keep.push(idx_buf);
                                b.keep.extend(pos_buf);
                                gathers.entry(pi).or_default().push(l);
                            }
                        }
                        ins.push(dst);
                    }
                }
            }
        }
        let tick = b.launch(shaders::IO, "tick", &[(1, &clock)], 1);
        let mut step = vec![tick];
        let mut emits = Vec::new();
        let mut runs: HashMap<usize, Vec<Launch>> = HashMap::new();
        let mut resets: Vec<usize> = Vec::new();
        let mut monitors: Vec<usize> = Vec::new();
        let mut reads: Vec<usize> = Vec::new();
        // Dataloaders: post-management loads, and the state loaders (planned with the Resets,
        // once their target Vars exist).
        let mut loads: Vec<Launch> = Vec::new();
        let mut state_loaders: Vec<usize> = Vec::new();
        // Learning phases (after every spike phase) and their random-number feeds.
        let mut learn_launches = Vec::new();
        let mut feeds = Vec::new();
        let mut vars: VarMap = HashMap::new();
        // Synapses fused with the neuron population they alone feed (by that population),
        // planned apart and launched together in the population's place.
        let fusions =
            if fuse { fusion::fusions(exe, gpu.limits.max_storage_buffers_per_shader_stage) } else { HashMap::new() };
        let fused_synapses_wanted: std::collections::HashSet<usize> = fusions.values().copied().collect();
        let mut fused_neurons: HashMap<usize, neurons::NeuronPlan> = HashMap::new();
        let mut fused_synapses: HashMap<usize, synapses::SynapsePlan> = HashMap::new();
        for (pi, p) in exe.processes.iter().enumerate() {
            let ty = p.type_name.as_str();
            if neurons::storage_buffers(ty).is_some() {
                let neuron = neurons::plan_neuron(&mut b, p, &outs[p.out_port_offset], &clock, &mut vars)?;
                if fusions.contains_key(&pi) {
                    fused_neurons.insert(pi, neuron);
                } else {
                    let launch = neuron.launch(&mut b, &ins[p.in_port_offset]);
                    runs.entry(pi).or_default().push(launch);
                }
                continue;
            }
            if synapses::storage_buffers(ty).is_some() {
                let (s_in, a_out) = (&ins[p.in_port_offset], &outs[p.out_port_offset]);
                let mut synapse = synapses::plan_synapse(&mut b, p, s_in, a_out, &mut vars)?;
                let before = std::mem::take(&mut synapse.before);
                runs.entry(pi).or_default().extend(before);
                if fused_synapses_wanted.contains(&pi) {
                    fused_synapses.insert(pi, synapse);
                } else {
                    let sums = synapse.launch(&mut b);
                    runs.entry(pi).or_default().push(sums);
                    emits.push(synapse.emit(&mut b));
                }
                continue;
            }
            match ty {
                "source.RingBuffer" | "sink.RingBuffer" => {
                    let d = p.var("data").map_err(GpuError::UnknownVar)?;
                    let buffer = *d.shape.last().unwrap_or(&1);
                    let n = d.data.len() / buffer.max(1);
                    let data = b.per_copy("data", &b.words(&d.data))?;
                    let params = b.uniform([b.all(n), buffer as u32, 0, 0]);
                    let (port, entry) = if p.type_name == "source.RingBuffer" {
                        (&outs[p.out_port_offset], "source")
                    } else {
                        (&ins[p.in_port_offset], "sink")
                    };
                    runs.entry(pi).or_default().push(b.launch(
                        shaders::IO,
                        entry,
                        &[(0, &params), (1, &clock), (2, port), (3, &data)],
                        b.all(n),
                    ));
                    vars.insert((p.id, "data".into()), (VarHome::buffer(data, d.data.len()), d.shape.clone()));
                }
                "LearningDense" => {
                    let plan = learning::plan_learning_dense(&mut b, p, &ins, &outs, &clock, &mut vars)?;
                    emits.extend(plan.emits);
                    runs.entry(pi).or_default().extend(plan.spike);
                    learn_launches.extend(plan.learn);
                    feeds.extend(plan.feed);
                }
                "LearningLif" => {
                    let launches = learning::plan_learning_lif(&mut b, p, &ins, &outs, &clock, &mut vars)?;
                    runs.entry(pi).or_default().extend(launches);
                }
                "Atrlif" => {
                    let (a_in, s_out) = (&ins[p.in_port_offset], &outs[p.out_port_offset]);
                    runs.entry(pi).or_default().push(atrlif::plan_atrlif(&mut b, p, a_in, s_out, &mut vars)?);
                }
                "Rf" | "RfIz" => {
                    let launch = rf::plan_rf(&mut b, p, &ins, &outs[p.out_port_offset], &mut vars)?;
                    runs.entry(pi).or_default().push(launch);
                }
                "Spiker" | "Receiver" => {
                    let launch = spiker::plan_spiker_or_receiver(&mut b, p, &ins, &outs, &mut vars)?;
                    runs.entry(pi).or_default().push(launch);
                }
                "io.SpikeDataloader" => {
                    let (spike, load) = dataloader::plan_spike_loader(&mut b, p, &outs, &clock, &mut vars)?;
                    runs.entry(pi).or_default().extend(spike);
                    loads.push(load);
                }
                "io.StateDataloader" => state_loaders.push(pi),
                "io.Read" => reads.push(pi),
                "io.Reset" => resets.push(pi),
                "Monitor" => monitors.push(pi),
                _ => return Err(unsupported(p, "this process type")),
            }
        }
        let mut fused = Vec::new();
        for (&n, &syn) in &fusions {
            let (Some(neuron), Some(synapse)) = (fused_neurons.remove(&n), fused_synapses.remove(&syn)) else {
                return Err(GpuError::Run(format!(
                    "fusing {} into {} planned only one",
                    exe.processes[syn].name, exe.processes[n].name
                )));
            };
            runs.entry(n).or_default().push(fusion::fused_launch(&mut b, &synapse, &neuron));
            fused.push((exe.processes[syn].name.clone(), exe.processes[n].name.clone()));
        }
        fused.sort();
        // Monitors: OutPort probes record in the Monitor's spike phase, Var probes in
        // post-management before any Reset's write lands (as on the CPU, where RefPort
        // writes apply after the phase).
        let mut post_launches = Vec::new();
        let mut probe_limits = Vec::new();
        for pi in monitors {
            let p = &exe.processes[pi];
            let probes = probes_of(p).map_err(|reason| GpuError::Parameter { process: p.name.clone(), reason })?;
            let (mut in_k, mut ref_k) = (0, 0);
            for (k, info) in probes.iter().enumerate() {
                let size: usize = info.shape.iter().product();
                let name = format!("data_{k}");
                let shape = p.var(&name).map_err(GpuError::UnknownVar)?.shape.clone();
                let data = b.per_copy(&name, &vec![0; info.num_steps * size])?;
                // Records `size` words (per copy) from word `offset` of a port or Var buffer.
                let bind_record = |b: &mut Builder<'_>, port: &wgpu::Buffer, offset: usize| {
                    let all = b.all(size);
                    let params = b.uniform([all, info.num_steps as u32, offset as u32, size as u32]);
                    b.launch(shaders::IO, "record", &[(0, &params), (1, &clock), (2, port), (3, &data)], all)
                };
                let mut int = false;
                if info.is_var {
                    let target = p.ref_ports.get(ref_k).and_then(|r| r.target);
                    ref_k += 1;
                    let (tp, tv) = target.ok_or_else(|| unsupported(p, "an unconnected Var probe"))?;
                    let source = var_source(&mut b, &vars, &exe.processes[tp], tv)?;
                    int = source.int;
                    post_launches.push(bind_record(&mut b, &source.buf, source.offset));
                } else {
                    let port = ins[p.in_port_offset + in_k].clone();
                    in_k += 1;
                    let l = bind_record(&mut b, &port, 0);
                    runs.entry(pi).or_default().push(l);
                }
                probe_limits.push((info.num_steps as u64, format!("{}.{}", info.process, info.target)));
                let slot = Slot { buf: data, offset: 0, len: info.num_steps * size, int };
                vars.insert((p.id, name), (VarHome::Buffer(slot), shape));
            }
        }
        // io.Read copies its Var in post-management, before any Reset's write (as Var probes).
        for pi in reads {
            let p = &exe.processes[pi];
            let (tp, tv) =
                p.ref_ports.first().and_then(|r| r.target).ok_or_else(|| unsupported(p, "an unconnected Read"))?;
            let source = var_source(&mut b, &vars, &exe.processes[tp], tv)?;
            let d = p.var("data").map_err(GpuError::UnknownVar)?;
            let buffer = *d.shape.last().unwrap_or(&1);
            let n = d.data.len() / buffer.max(1);
            let sched: basalt_core::process::io::mgmt::Schedule = params(p)?;
            let words = if fixed || source.int { words_i32(&d.data) } else { words_f32(&d.data) };
            let data = b.per_copy("read data", &words)?;
            let u = b.uniform8([
                b.all(n),
                sched.interval as u32,
                sched.offset as u32,
                buffer as u32,
                source.offset as u32,
                0,
                0,
                0,
            ]);
            post_launches.push(b.launch(
                shaders::READ,
                "read_var",
                &[(0, &u), (1, &clock), (2, &source.buf), (3, &data)],
                b.all(n),
            ));
            let slot = Slot { buf: data, offset: 0, len: d.data.len(), int: source.int };
            vars.insert((p.id, "data".into()), (VarHome::Buffer(slot), d.shape.clone()));
        }
        // io.Reset writes its Var after every process's spike phase (post-management), as
        // do the state dataloaders.
        let mut reset_launches = Vec::new();
        for pi in resets {
            let p = &exe.processes[pi];
            let slot = written_slot(exe, &vars, p)?;
            let params: serde_json::Value = p.params.clone();
            let value = params.get("reset_value").and_then(|v| v.as_f64()).unwrap_or(0.0);
            let sched = params.get("schedule").cloned().unwrap_or_default();
            let interval = sched.get("interval").and_then(|v| v.as_u64()).unwrap_or(1).max(1);
            let offset = sched.get("offset").and_then(|v| v.as_u64()).unwrap_or(0);
            let word = if fixed || slot.int { (value as i32) as u32 } else { (value as f32).to_bits() };
            let all = b.all(slot.len);
            let u = b.uniform8([all, interval as u32, offset as u32, word, slot.offset as u32, 0, 0, 0]);
            reset_launches.push(b.launch(shaders::RESET, "reset", &[(0, &u), (1, &clock), (2, &slot.buf)], all));
        }
        for pi in state_loaders {
            let p = &exe.processes[pi];
            let slot = written_slot(exe, &vars, p)?;
            let (spike, write) = dataloader::plan_state_loader(&mut b, p, &outs, &clock, &slot, &mut vars)?;
            runs.entry(pi).or_default().push(spike);
            reset_launches.push(write);
        }
        reset_launches.extend(loads);
        step.extend(emits);
        for &pi in &exe.schedule {
            if fused_synapses_wanted.contains(&pi) {
                continue; // runs in its population's place
            }
            // A fused synapse's input gathers (and a Dense's event list), then the fused kernel.
            for q in fusions.get(&pi).into_iter().chain([&pi]) {
                step.extend(gathers.remove(q).unwrap_or_default());
                step.extend(runs.remove(q).unwrap_or_default());
            }
        }
        step.extend(learn_launches);
        step.extend(post_launches);
        step.extend(reset_launches);
        for alias in &exe.var_aliases {
            let leaf = &exe.processes[alias.leaf];
            let name = &leaf.vars[alias.var].name;
            if let Some(entry) = vars.get(&(leaf.id, name.clone())) {
                let entry = entry.clone();
                vars.insert((alias.proc, alias.name.clone()), entry);
            }
        }
        let Builder { pipelines, keep: mut kept, .. } = b;
        kept.push(clock);
        kept.extend(outs);
        kept.extend(ins);
        if gpu.compiled_pipelines() > compiled_before {
            // New kernels: keep what the driver made of them for the next process. A failed
            // save changes nothing here (the plan is complete); `pipeline_cache()` says why.
            let _ = gpu.save_pipeline_cache();
        }
        // The buffers now hold the state; keep the executable's structure only.
        let mut exe = exe.clone();
        exe.release_values();
        Ok(GpuRuntime {
            gpu: gpu.clone(),
            exe,
            fixed,
            batch,
            pipelines,
            step,
            vars,
            probe_limits,
            feeds,
            fused,
            time_step: 0,
            _keep: kept,
        })
    }

    /// Runs `steps` time steps, encoding up to 256 steps per queue submission.
    pub fn run(&mut self, steps: u64) -> Result<(), GpuError> {
        let end = self.time_step + steps;
        if let Some((limit, probe)) = self.probe_limits.iter().find(|(limit, _)| end > *limit) {
            return Err(GpuError::Run(format!(
                "Monitor buffer for {probe} holds {limit} steps; running to time step {end} would pass its end (nothing was run)"
            )));
        }
        let mut left = steps;
        while left > 0 {
            let chunk = left.min(learning::RANDOM_SLOTS as u64);
            for feed in &mut self.feeds {
                feed.upload(&self.gpu.queue, self.time_step + steps - left + 1, chunk);
            }
            let mut enc =
                self.gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("steps") });
            {
                let mut pass = enc
                    .begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("steps"), timestamp_writes: None });
                for _ in 0..chunk {
                    for l in &self.step {
                        pass.set_pipeline(&self.pipelines[l.pipeline]);
                        pass.set_bind_group(0, &l.bind_group, &[]);
                        pass.dispatch_workgroups(l.groups.0, l.groups.1, 1);
                    }
                }
            }
            self.gpu.queue.submit([enc.finish()]);
            left -= chunk;
        }
        self.gpu.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| GpuError::Readback(e.to_string()))?;
        self.time_step += steps;
        Ok(())
    }

    /// The synapses the plan fused with the neuron population each alone feeds, as (synapse,
    /// population) process names, sorted: one kernel steps the neurons and computes the
    /// synapse's sums (see `shaders/synapse_neuron.wgsl`). Synapses: Dense, Sparse,
    /// DelaySparse, DelayDense, Conv, ConvTranspose; populations: LIF family, ALIF, Sigma,
    /// Delta, SigmaDelta. Any other process runs as kernels of its own.
    pub fn fused_synapses(&self) -> &[(String, String)] {
        &self.fused
    }

    /// Kernel launches one time step encodes (fused kernels count once).
    pub fn launches_per_step(&self) -> usize {
        self.step.len()
    }

    /// The last completed time step.
    pub fn time_step(&self) -> u64 {
        self.time_step
    }

    /// Whether the plan runs fixed-point models.
    pub fn is_fixed(&self) -> bool {
        self.fixed
    }

    /// Copies of the network the plan runs (1 unless built by [`GpuRuntime::with_batch`]).
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Where a Var lives and its shape for one copy.
    fn home(&self, var: &VarRef) -> Result<&(VarHome, Vec<usize>), GpuError> {
        self.vars.get(&(var.proc, var.name.clone())).ok_or_else(|| GpuError::UnknownVar(var.name.clone()))
    }

    /// The shape `get` returns for a Var of one copy's `shape` held in a buffer: with a
    /// leading batch axis when the plan runs more than one copy.
    fn batched_shape(&self, shape: &[usize]) -> Vec<usize> {
        if self.batch > 1 {
            std::iter::once(self.batch).chain(shape.iter().copied()).collect()
        } else {
            shape.to_vec()
        }
    }

    /// Reads a Var back (only that Var's words are copied). In a batch, Vars each copy holds
    /// (state, ring-buffer data, Monitor records) come with a leading batch axis; constants
    /// the copies share (weights, decays, thresholds) come as they are.
    pub fn get(&self, var: &VarRef) -> Result<ArrayD<f64>, GpuError> {
        let (home, shape) = self.home(var)?;
        let (data, shape) = match home {
            VarHome::Host(v) => (v.clone(), shape.clone()),
            VarHome::Buffer(Slot { buf, offset, len, int }) => {
                let len = len * self.batch;
                let bytes = (len * 4) as u64;
                let staging = self.gpu.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("readback"),
                    size: bytes.max(4),
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                let mut enc =
                    self.gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("readback") });
                enc.copy_buffer_to_buffer(buf, (*offset * 4) as u64, &staging, 0, bytes);
                self.gpu.queue.submit([enc.finish()]);
                let slice = staging.slice(..);
                let (tx, rx) = std::sync::mpsc::channel();
                slice.map_async(wgpu::MapMode::Read, move |r| {
                    let _ = tx.send(r);
                });
                self.gpu
                    .device
                    .poll(wgpu::PollType::wait_indefinitely())
                    .map_err(|e| GpuError::Readback(e.to_string()))?;
                rx.recv()
                    .map_err(|e| GpuError::Readback(e.to_string()))?
                    .map_err(|e| GpuError::Readback(e.to_string()))?;
                let view = slice.get_mapped_range().map_err(|e| GpuError::Readback(e.to_string()))?;
                let words: &[u32] = bytemuck::cast_slice(&view);
                let as_int = self.fixed || *int;
                let out: Vec<f64> = words[..len]
                    .iter()
                    .map(|&w| if as_int { f64::from(w as i32) } else { f64::from(f32::from_bits(w)) })
                    .collect();
                drop(view);
                staging.unmap();
                (out, self.batched_shape(shape))
            }
        };
        ArrayD::from_shape_vec(IxDyn(&shape), data).map_err(|e| GpuError::Readback(e.to_string()))
    }

    /// Writes a Var (only that Var's words are copied; the write lands before the next step).
    /// `value` has the shape `get` returns, or, in a batch, one copy's shape (written to every
    /// copy). Fixed-point networks and integer Vars take values truncated toward zero and
    /// refuse values that are not finite or outside int32. Constants the plan shares (weights,
    /// decays, thresholds) are refused: set them in the network before building the plan.
    pub fn set(&mut self, var: &VarRef, value: &ArrayD<f64>) -> Result<(), GpuError> {
        let (home, shape) = self.home(var)?;
        let VarHome::Buffer(slot) = home else {
            return Err(GpuError::Run(format!(
                "Var `{}` is a constant of the GPU plan (shared by every copy); set it in the network before building the runtime",
                var.name
            )));
        };
        let full = self.batched_shape(shape);
        let copies = if value.shape() == full.as_slice() {
            1
        } else if value.shape() == shape.as_slice() {
            self.batch
        } else {
            return Err(GpuError::Shape { var: var.name.clone(), expected: full, got: value.shape().to_vec() });
        };
        let as_int = self.fixed || slot.int;
        let mut words = Vec::with_capacity(value.len());
        for &x in value.iter() {
            words.push(if as_int {
                let t = x.trunc();
                if !(t >= f64::from(i32::MIN) && t <= f64::from(i32::MAX)) {
                    return Err(GpuError::Run(format!(
                        "Var `{}` holds int32 values on the GPU; {x} is outside that range",
                        var.name
                    )));
                }
                (t as i32) as u32
            } else {
                (x as f32).to_bits()
            });
        }
        let words = words.repeat(copies);
        self.gpu.queue.write_buffer(&slot.buf, (slot.offset * 4) as u64, bytemuck::cast_slice(&words));
        Ok(())
    }
}

impl From<GpuError> for basalt_core::Error {
    fn from(e: GpuError) -> Self {
        basalt_core::Error::Backend { backend: "gpu".into(), message: e.to_string() }
    }
}

impl basalt_core::Simulator for GpuRuntime {
    fn advance(&mut self, steps: u64) -> basalt_core::Result<()> {
        Ok(self.run(steps)?)
    }

    fn read(&self, var: &VarRef) -> basalt_core::Result<ArrayD<f64>> {
        Ok(self.get(var)?)
    }

    fn device(&self) -> String {
        self.gpu.describe()
    }

    fn executable(&self) -> &Executable {
        &self.exe
    }
}
