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
//! per weight read.

use std::collections::HashMap;

use basalt_core::executable::{Executable, LeafProcess, Source};
use basalt_core::process::dense::{quantize_weights, DenseParams, SignMode};
use basalt_core::process::lif::LifKind;
use basalt_core::process::monitor::probes_of;
use basalt_core::process::sparse::SynapseParams;
use basalt_core::{ProcId, VarRef};
use ndarray::{ArrayD, IxDyn};
use thiserror::Error;
use wgpu::util::DeviceExt;

mod atrlif;
mod dataloader;
mod device;
mod learning;
pub mod pipeline_cache;
mod rf;
mod spiker;

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
/// sdn) are templates: [`shaders::for_precision`] prepends the fixed-point or float prelude.
pub mod shaders {
    /// LIF-family kernel, one thread per neuron (template, completed by [`lif`]).
    pub const LIF: &str = include_str!("../../../shaders/lif.wgsl");
    /// The fixed-point LIF-family neuron step that LIF kernels call.
    pub const LIF_NEURON: &str = include_str!("../../../shaders/lif_neuron.wgsl");
    /// The float LIF-family neuron step that LIF kernels call.
    pub const LIF_NEURON_FLOAT: &str = include_str!("../../../shaders/lif_neuron_float.wgsl");
    /// A Dense fused with the LIF population it alone feeds (completed by [`dense_lif`]).
    pub const DENSE_LIF: &str = include_str!("../../../shaders/dense_lif.wgsl");
    /// Adaptive LIF (fixed and float entries).
    pub const ALIF: &str = include_str!("../../../shaders/alif.wgsl");
    /// Dense (template).
    pub const DENSE: &str = include_str!("../../../shaders/dense.wgsl");
    /// Convolution (template).
    pub const CONV: &str = include_str!("../../../shaders/conv.wgsl");
    /// Sigma-delta neurons (template).
    pub const SDN: &str = include_str!("../../../shaders/sdn.wgsl");
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
    pub const TEMPLATES: [(&str, &str); 10] = [
        ("spiker.wgsl", SPIKER),
        ("atrlif.wgsl", ATRLIF),
        ("rf.wgsl", RF),
        ("learning.wgsl", LEARNING),
        ("learning_lif.wgsl", LEARNING_LIF),
        ("dense.wgsl", DENSE),
        ("sparse.wgsl", SPARSE),
        ("conv.wgsl", CONV),
        ("sdn.wgsl", SDN),
        ("gather.wgsl", GATHER),
    ];
    /// Complete shaders, by file name.
    pub const COMPLETE: [(&str, &str); 5] = [
        ("dataloader.wgsl", DATALOADER),
        ("alif.wgsl", ALIF),
        ("io.wgsl", IO),
        ("reset.wgsl", RESET),
        ("read.wgsl", READ),
    ];

    /// A template completed for one precision.
    pub fn for_precision(template: &str, fixed: bool) -> String {
        format!("{}\n{template}", if fixed { PRECISION_FIXED } else { PRECISION_FLOAT })
    }

    /// The LIF-family kernel for one precision: prelude, neuron step, per-neuron entry `lif`.
    pub fn lif(fixed: bool) -> String {
        for_precision(&format!("{}\n{LIF}", lif_neuron(fixed)), fixed)
    }

    /// The fused Dense + LIF kernel for one precision, with `group` copies per thread (as
    /// dense.wgsl's `GROUP`): prelude, Dense, neuron step, entry `dense_events_lif`.
    pub fn dense_lif(fixed: bool, group: usize) -> String {
        let dense = dense_grouped(group);
        for_precision(&format!("{dense}\n{}\n{DENSE_LIF}", lif_neuron(fixed)), fixed)
    }

    /// dense.wgsl with `group` copies per thread of the event-driven path (1 to 8).
    pub fn dense_grouped(group: usize) -> String {
        DENSE.replace("const GROUP: u32 = 8u;", &format!("const GROUP: u32 = {group}u;"))
    }

    fn lif_neuron(fixed: bool) -> &'static str {
        if fixed {
            LIF_NEURON
        } else {
            LIF_NEURON_FLOAT
        }
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
    /// (Dense, LIF population) names of the synapses fused with the population they feed.
    fused: Vec<(String, String)>,
    _keep: Vec<wgpu::Buffer>,
}

/// Copies whose Dense sums one thread computes together (`GROUP` in dense.wgsl, at most 8):
/// each weight it reads serves them all.
fn dense_group(batch: usize) -> usize {
    batch.clamp(1, 8)
}

/// A Dense-like process's weights as the GPU holds them, with the weight exponent: fixed
/// point quantises them as the CPU model does (sign mode, weight bits). (A sparse matrix's
/// implicit zeros, which Lava counts when it decides the sign mode, never change it.)
fn dense_weights(w: &[f64], params: &DenseParams, fixed: bool) -> (Vec<f64>, i32) {
    if fixed {
        let mode = params.sign_mode.unwrap_or_else(|| SignMode::of(w));
        let q = quantize_weights(w, mode, params.num_weight_bits).into_iter().map(f64::from).collect();
        (q, params.weight_exp)
    } else {
        (w.to_vec(), 0)
    }
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

    fn uniform16(&mut self, words: [u32; 16]) -> wgpu::Buffer {
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

/// A LIF-family population's kernel bindings apart from its input: the neuron step's
/// bindings 8 to 14 (lif_neuron*.wgsl), for its own launch or one fused with its Dense.
struct LifPlan {
    bindings: Vec<(u32, wgpu::Buffer)>,
    /// Neurons over the batch: the per-neuron launch's threads.
    threads: u32,
}

impl LifPlan {
    /// The population's own launch, one thread per neuron, reading `a_in`.
    fn launch(&self, b: &mut Builder<'_>, a_in: &wgpu::Buffer) -> Launch {
        let mut binds: Vec<(u32, &wgpu::Buffer)> = self.bindings.iter().map(|(k, buf)| (*k, buf)).collect();
        binds.push((1, a_in));
        b.launch(&shaders::lif(b.fixed), "lif", &binds, self.threads)
    }
}

/// An event-driven Dense's sums: the bindings of dense.wgsl's `sum_events` and the source
/// (its copies per thread set), for its own launch or one fused with the LIF it feeds.
struct DensePlan {
    bindings: Vec<(u32, wgpu::Buffer)>,
    group: usize,
    /// One thread per row and group of copies.
    threads: u32,
}

/// The buffers and parameters of a LIF-family population `p` of `kind` writing `s_out`;
/// registers its Vars.
fn plan_lif(
    b: &mut Builder<'_>,
    p: &LeafProcess,
    kind: LifKind,
    s_out: &wgpu::Buffer,
    clock: &wgpu::Buffer,
    vars: &mut VarMap,
) -> Result<LifPlan, GpuError> {
    let n = p.in_ports[0].shape.iter().product::<usize>();
    let all = b.all(n);
    let u = b.per_copy("u", &b.words(var(p, "u")?))?;
    let v = b.per_copy("v", &b.words(var(p, "v")?))?;
    let bias = b.per_copy("bias_mant", &b.words(var(p, "bias_mant")?))?;
    let (du, dv) = (var(p, "du")?[0], var(p, "dv")?[0]);
    // Thresholds: vth, or (vth_hi, vth_lo) for the ternary LIF.
    let (th_hi, th_lo) = match kind {
        LifKind::Ternary => (var(p, "vth_hi")?[0], var(p, "vth_lo")?[0]),
        _ => (var(p, "vth")?[0], 0.0),
    };
    // Family word: kind (0 plain, 1 reset, 2 ternary, 3 refractory) and its
    // step numbers (reset interval and offset mod interval, refractory period).
    let (code, x, y) = match kind {
        LifKind::Plain => (0u32, 0u32, 0u32),
        LifKind::Reset { interval, offset } => (1, interval as u32, (offset % interval) as u32),
        LifKind::Ternary => (2, 0, 0),
        LifKind::Refractory { period } => (3, period as u32, 0),
    };
    let mut refractory_end = None;
    let mut bindings = vec![(9, s_out.clone()), (10, u.clone()), (11, v.clone()), (12, bias.clone())];
    let params = if b.fixed {
        let check = |x: f64, lo: f64, hi: f64, what: &str| int_in(p, what, x, lo, hi).map(|t| t as i64);
        let fu = (4096 - (check(du, -1.0, 4095.0, "du")? + 1)) as u32;
        let fv = (4096 - check(dv, 0.0, 4095.0, "dv")?) as u32;
        let scaled = |t: f64, what: &str| -> Result<u32, GpuError> {
            Ok(((check(t, i32::MIN as f64, i32::MAX as f64, what)? as i32).wrapping_shl(6)) as u32)
        };
        let exp = b.per_copy("bias_exp", &words_i32(var(p, "bias_exp")?))?;
        bindings.extend([(13, exp), (14, clock.clone())]);
        b.uniform8([all, fu, fv, scaled(th_hi, "vth")?, code, x, y, scaled(th_lo, "vth_lo")?])
    } else {
        let f = |x: f64| (x as f32).to_bits();
        let ends = match p.var("refractory_period_end") {
            Ok(e) if code == 3 => {
                let ends = b.per_copy("refractory_period_end", &b.words(&e.data))?;
                refractory_end = Some(ends.clone());
                ends
            }
            // The kernel binds it whatever the kind; only LIFRefractory touches it.
            _ => b.storage("unused", &[0])?,
        };
        bindings.extend([(13, clock.clone()), (14, ends)]);
        b.uniform8([all, f(1.0 - du), f(1.0 - dv), f(th_hi), code, x, y, f(th_lo)])
    };
    bindings.push((8, params));

    vars.insert((p.id, "u".into()), (VarHome::buffer(u, n), shape_of(p, "u")));
    vars.insert((p.id, "v".into()), (VarHome::buffer(v, n), shape_of(p, "v")));
    vars.insert((p.id, "bias_mant".into()), (VarHome::buffer(bias, n), shape_of(p, "bias_mant")));
    if let Some(ends) = refractory_end {
        let shape = shape_of(p, "refractory_period_end");
        vars.insert((p.id, "refractory_period_end".into()), (VarHome::buffer(ends, n), shape));
    }
    let thresholds: &[&str] = if code == 2 { &["vth_hi", "vth_lo"] } else { &["vth"] };
    for name in ["du", "dv", "bias_exp"].iter().chain(thresholds) {
        host_var(vars, p, name)?;
    }
    Ok(LifPlan { bindings, threads: all })
}

/// The OutPorts (global indices) a source reads.
fn source_ports(source: &Source) -> Vec<usize> {
    match source {
        Source::Identity(o) => vec![*o],
        Source::Gather { port, .. } => port.iter().map(|&q| q as usize).collect(),
    }
}

/// Storage buffers the fused Dense + LIF kernel binds (five of the Dense, six of the neuron).
const DENSE_LIF_STORAGE_BUFFERS: u32 = 11;

/// The Dense processes to fuse with the LIF-family population they feed, by that
/// population's index: the Dense's output reaches that population's only InPort untransformed
/// and nothing else (no other process, no Monitor probe), and every process its input comes
/// from runs before the population in the schedule, so the fused kernel can run in the
/// population's place. (A recurrent Dense, whose input comes from the population itself, is
/// never fused.) None when the device binds fewer storage buffers per kernel than it needs.
fn dense_lif_fusions(exe: &Executable, max_storage_buffers: u32) -> HashMap<usize, usize> {
    let mut fused = HashMap::new();
    if max_storage_buffers < DENSE_LIF_STORAGE_BUFFERS {
        return fused;
    }
    let out_ports: usize = exe.processes.iter().map(|p| p.out_ports.len()).sum();
    let mut owner = vec![usize::MAX; out_ports];
    for (pi, p) in exe.processes.iter().enumerate() {
        for k in 0..p.out_ports.len() {
            owner[p.out_port_offset + k] = pi;
        }
    }
    let mut position = vec![usize::MAX; exe.processes.len()];
    for (k, &pi) in exe.schedule.iter().enumerate() {
        position[pi] = k;
    }
    // Every (reader, whether it reads this port alone and untransformed) of each OutPort.
    let mut readers: Vec<Vec<(usize, bool)>> = vec![Vec::new(); out_ports];
    let sources_of = |p: &LeafProcess, k: usize| &exe.in_port_sources[p.in_port_offset + k];
    for (pi, p) in exe.processes.iter().enumerate() {
        for k in 0..p.in_ports.len() {
            let sources = sources_of(p, k);
            for source in sources {
                let alone = matches!(sources.as_slice(), [Source::Identity(_)]);
                for o in source_ports(source) {
                    if let Some(r) = readers.get_mut(o) {
                        r.push((pi, alone));
                    }
                }
            }
        }
    }
    let lif_family = ["Lif", "LifReset", "TernaryLif", "LifRefractory"];
    for (d, p) in exe.processes.iter().enumerate().filter(|(_, p)| p.type_name == "Dense") {
        let Some(&[(l, true)]) = readers.get(p.out_port_offset).map(Vec::as_slice) else { continue };
        if !lif_family.contains(&exe.processes[l].type_name.as_str()) {
            continue;
        }
        let inputs_first = sources_of(p, 0)
            .iter()
            .flat_map(source_ports)
            .all(|o| owner.get(o).is_some_and(|&q| position[q] < position[l]));
        if inputs_first {
            fused.insert(l, d);
        }
    }
    fused
}

/// How [`GpuRuntime::with_options`] builds a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanOptions {
    /// Copies of the network run at once (see [`GpuRuntime::with_batch`]); at least 1.
    pub batch: usize,
    /// Fuse each Dense with the LIF-family population it alone feeds (see
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
        // Dense synapses fused with the LIF population they alone feed (by that population),
        // planned apart and launched together in the population's place.
        let fusions =
            if fuse { dense_lif_fusions(exe, gpu.limits.max_storage_buffers_per_shader_stage) } else { HashMap::new() };
        let fused_denses_wanted: std::collections::HashSet<usize> = fusions.values().copied().collect();
        let mut fused_lifs: HashMap<usize, LifPlan> = HashMap::new();
        let mut fused_denses: HashMap<usize, DensePlan> = HashMap::new();
        for (pi, p) in exe.processes.iter().enumerate() {
            match p.type_name.as_str() {
                "Lif" | "LifReset" | "TernaryLif" | "LifRefractory" => {
                    let kind: LifKind = params(p)?;
                    let lif = plan_lif(&mut b, p, kind, &outs[p.out_port_offset], &clock, &mut vars)?;
                    if fusions.contains_key(&pi) {
                        fused_lifs.insert(pi, lif);
                    } else {
                        let launch = lif.launch(&mut b, &ins[p.in_port_offset]);
                        runs.entry(pi).or_default().push(launch);
                    }
                }
                "Alif" => {
                    let n = p.in_ports[0].shape.iter().product::<usize>();
                    let scalar = |name: &str| var(p, name).map(|d| d[0]);
                    let [du, dv, dth, dr, vth, step] =
                        ["du", "dv", "dtheta", "dr", "vth", "vth_step"].map(|k| scalar(k).unwrap_or(f64::NAN));
                    let bad = |what: &str, x: f64| GpuError::Parameter {
                        process: p.name.clone(),
                        reason: format!("{what} {x} is out of range"),
                    };
                    let mut theta = var(p, "theta")?.to_vec();
                    let params = if fixed {
                        let mut f = [0u32; 4];
                        for (k, (name, d)) in
                            [("du", du), ("dv", dv), ("dtheta", dth), ("dr", dr)].into_iter().enumerate()
                        {
                            if !(0.0..=4096.0).contains(&d.trunc()) {
                                return Err(bad(name, d));
                            }
                            f[k] = 4096 - d.trunc() as u32;
                        }
                        let shifted = |name: &str, x: f64| {
                            if x.is_finite() && x.trunc() >= f64::from(i32::MIN) && x.trunc() <= f64::from(i32::MAX) {
                                Ok((x.trunc() as i32).wrapping_shl(6) as u32)
                            } else {
                                Err(bad(name, x))
                            }
                        };
                        // The initial threshold is a mantissa like vth (state units from here).
                        for t in &mut theta {
                            *t = f64::from(shifted("theta", *t)? as i32);
                        }
                        [b.all(n), f[0], f[1], f[2], f[3], shifted("vth", vth)?, shifted("vth_step", step)?, 0]
                    } else {
                        let f = |x: f64| (x as f32).to_bits();
                        [b.all(n), f(1.0 - du), f(1.0 - dv), f(1.0 - dth), f(1.0 - dr), f(vth), f(step), 0]
                    };
                    let mut words = [0u32; 16];
                    words[..8].copy_from_slice(&params);
                    let params = b.uniform16(words);
                    let mut state = Vec::new();
                    for name in ["u", "v", "theta", "r", "s"] {
                        let data = if name == "theta" { theta.clone() } else { var(p, name)?.to_vec() };
                        state.push((name, b.per_copy(name, &b.words(&data))?));
                    }
                    let mant = b.per_copy("bias_mant", &b.words(var(p, "bias_mant")?))?;
                    let exp = b.per_copy("bias_exp", &words_i32(var(p, "bias_exp")?))?;
                    let (a_in, s_out) = (&ins[p.in_port_offset], &outs[p.out_port_offset]);
                    let mut bind = vec![(0, &params), (1, a_in), (2, s_out)];
                    for (k, (_, buf)) in state.iter().enumerate() {
                        bind.push((3 + k as u32, buf));
                    }
                    bind.push((8, &mant));
                    if fixed {
                        // The float model has no bias exponent.
                        bind.push((9, &exp));
                    }
                    let entry = if fixed { "alif_fixed" } else { "alif_float" };
                    runs.entry(pi).or_default().push(b.launch(shaders::ALIF, entry, &bind, b.all(n)));
                    for (name, buf) in state {
                        vars.insert((p.id, name.into()), (VarHome::buffer(buf, n), shape_of(p, name)));
                    }
                    vars.insert((p.id, "bias_mant".into()), (VarHome::buffer(mant, n), shape_of(p, "bias_mant")));
                    for name in ["bias_exp", "du", "dv", "dtheta", "dr", "vth", "vth_step"] {
                        host_var(&mut vars, p, name)?;
                    }
                }
                "Dense" => {
                    let wv = p.var("weights").map_err(GpuError::UnknownVar)?;
                    let (rows, cols) = (wv.shape[0], wv.shape[1]);
                    let graded = var(p, "num_message_bits")?[0] > 0.0;
                    let params_d: DenseParams = params(p)?;
                    let (weights, wexp) = dense_weights(&wv.data, &params_d, fixed);
                    // Column-major for the event-driven path: column j is words j*rows...
                    let by_column: Vec<f64> = (0..rows * cols).map(|k| weights[(k % rows) * cols + k / rows]).collect();
                    let w = b.storage(&format!("{}.weights", p.name), &b.words(&by_column))?;
                    let a_buff = b.per_copy("a_buff", &b.words(var(p, "a_buff")?))?;
                    // The event-driven path serves groups of copies.
                    let group = dense_group(b.batch);
                    let groups = b.batch.div_ceil(group);
                    let events = b.storage("events", &vec![0; cols * groups])?;
                    let event_count = b.storage("event count", &vec![0; groups])?;
                    let batch = b.batch as u32;
                    let params = b.uniform8([rows as u32, cols as u32, u32::from(graded), wexp as u32, batch, 0, 0, 0]);
                    let src = shaders::for_precision(&shaders::dense_grouped(group), fixed);
                    let s_in = &ins[p.in_port_offset];
                    let list = [(0, &params), (1, s_in), (5, &events), (6, &event_count)];
                    // One workgroup (64 threads) per group; one thread per row and group.
                    let list = b.launch(&src, "dense_events_list", &list, (64 * groups) as u32);
                    runs.entry(pi).or_default().push(list);
                    let sums = DensePlan {
                        bindings: vec![
                            (0, params.clone()),
                            (1, s_in.clone()),
                            (3, a_buff.clone()),
                            (4, w),
                            (5, events),
                            (6, event_count),
                        ],
                        group,
                        threads: (rows * groups) as u32,
                    };
                    if fused_denses_wanted.contains(&pi) {
                        fused_denses.insert(pi, sums);
                    } else {
                        let a_out = &outs[p.out_port_offset];
                        emits.push(b.launch(
                            &src,
                            "dense_emit",
                            &[(0, &params), (2, a_out), (3, &a_buff)],
                            b.all(rows),
                        ));
                        let binds: Vec<(u32, &wgpu::Buffer)> = sums.bindings.iter().map(|(k, buf)| (*k, buf)).collect();
                        let launch = b.launch(&src, "dense_events", &binds, sums.threads);
                        runs.entry(pi).or_default().push(launch);
                    }
                    vars.insert((p.id, "a_buff".into()), (VarHome::buffer(a_buff, rows), vec![rows]));
                    vars.insert((p.id, "weights".into()), (VarHome::Host(weights), vec![rows, cols]));
                    host_var(&mut vars, p, "num_message_bits")?;
                }
                "Sparse" | "DelaySparse" | "DelayDense" => {
                    // CSR weights (and delays) in Var order, rows as the pattern stores them
                    // (a DelayDense stores every entry: its row-major Vars are in CSR order).
                    let sp: SynapseParams = params(p)?;
                    let pat = &sp.pattern;
                    pat.validate().map_err(|reason| GpuError::Parameter { process: p.name.clone(), reason })?;
                    let rows = pat.shape[0];
                    let nnz = pat.indices.len();
                    let wv = var(p, "weights")?;
                    let (weights, wexp) = dense_weights(wv, &sp.dense, fixed);
                    let depth = sp.max_delay.map_or(1, |m| m + 1);
                    let delays: Vec<u32> = match p.var("delays") {
                        Ok(d) => d.data.iter().map(|&x| x as u32).collect(),
                        Err(_) => vec![0; nnz],
                    };
                    if weights.len() != nnz || delays.len() != nnz || delays.iter().any(|&d| d as usize >= depth) {
                        return Err(GpuError::Parameter {
                            process: p.name.clone(),
                            reason: "weights or delays do not match the sparsity pattern".into(),
                        });
                    }
                    let graded = var(p, "num_message_bits")?[0] > 0.0;
                    let w = b.storage(&format!("{}.weights", p.name), &b.words(&weights))?;
                    let row_ptr: Vec<u32> = pat.indptr.iter().map(|&x| x as u32).collect();
                    let col_idx: Vec<u32> = pat.indices.iter().map(|&x| x as u32).collect();
                    let row_ptr = b.storage("row_ptr", &row_ptr)?;
                    // Storage bindings need at least one element.
                    let col_idx = b.storage("cols", if col_idx.is_empty() { &[0] } else { &col_idx })?;
                    let dl = b.storage("delays", if delays.is_empty() { &[0] } else { &delays })?;
                    let a_buff = b.per_copy("a_buff", &b.words(var(p, "a_buff")?))?;
                    let cols = pat.shape[1] as u32;
                    let batch = b.batch as u32;
                    let params =
                        b.uniform8([rows as u32, u32::from(graded), wexp as u32, depth as u32, cols, batch, 0, 0]);
                    let src = shaders::for_precision(shaders::SPARSE, fixed);
                    let (s_in, a_out) = (&ins[p.in_port_offset], &outs[p.out_port_offset]);
                    let all = b.all(rows);
                    emits.push(b.launch(&src, "sparse_emit", &[(0, &params), (2, a_out), (3, &a_buff)], all));
                    let binds =
                        [(0, &params), (1, s_in), (3, &a_buff), (4, &w), (5, &row_ptr), (6, &col_idx), (7, &dl)];
                    runs.entry(pi).or_default().push(b.launch(&src, "sparse", &binds, all));
                    let buff_shape = p.var("a_buff").map_err(GpuError::UnknownVar)?.shape.clone();
                    vars.insert((p.id, "a_buff".into()), (VarHome::buffer(a_buff, rows * depth), buff_shape));
                    let w_shape = p.var("weights").map_err(GpuError::UnknownVar)?.shape.clone();
                    vars.insert((p.id, "weights".into()), (VarHome::Host(weights), w_shape));
                    for v in p.vars.iter().filter(|v| v.name == "delays" || v.name == "num_message_bits") {
                        host_var(&mut vars, p, &v.name)?;
                    }
                }
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
                "Sigma" | "Delta" | "SigmaDelta" => {
                    let n = p.in_ports[0].shape.iter().product::<usize>();
                    let zeros = vec![0.0; n];
                    let get = |name: &str| p.var(name).map(|v| v.data.to_vec()).unwrap_or_else(|_| zeros.clone());
                    let scalar = |name: &str| p.var(name).map(|v| v.data[0]).unwrap_or(0.0);
                    let kind = match (p.type_name.as_str(), p.model.as_str()) {
                        ("Sigma", _) => 0u32,
                        ("Delta", _) => 1,
                        (_, "PySigmaDeltaModelFixedCorrected") => 3,
                        _ => 2,
                    };
                    // SdnKind is stored as JSON: "Sigma", "Delta" or {"SigmaDelta": "Unit"|"Relu"}.
                    let act_mode = u32::from(!p.params.to_string().contains("Unit"));
                    let mut bufs = Vec::new();
                    for name in ["sigma", "act", "residue", "error", "bias"] {
                        bufs.push(b.per_copy(name, &b.words(&get(name)))?);
                    }
                    let (spike_exp, state_exp) = (scalar("spike_exp") as u32, scalar("state_exp") as u32);
                    let vth = scalar("vth");
                    // Fixed point: vth in state units, Delta's shift and the state exponent;
                    // float: vth as f32 bits, no shifts.
                    let (vth_word, shift, state_shift) = if fixed {
                        (vth as i32 as u32, if kind == 1 { spike_exp + state_exp } else { 0 }, state_exp)
                    } else {
                        ((vth as f32).to_bits(), 0, 0)
                    };
                    let cum_error = u32::from(scalar("cum_error") != 0.0);
                    let params = b.uniform8([b.all(n), kind, act_mode, cum_error, vth_word, shift, state_shift, 0]);
                    let (a_in, s_out) = (&ins[p.in_port_offset], &outs[p.out_port_offset]);
                    // Every binding is statically used by the kernel (the kinds share it).
                    let bindings: Vec<(u32, &wgpu::Buffer)> = vec![
                        (0, &params),
                        (1, a_in),
                        (2, s_out),
                        (3, &bufs[0]),
                        (4, &bufs[1]),
                        (5, &bufs[2]),
                        (6, &bufs[3]),
                        (7, &bufs[4]),
                    ];
                    runs.entry(pi).or_default().push(b.launch(
                        &shaders::for_precision(shaders::SDN, fixed),
                        "sdn",
                        &bindings,
                        b.all(n),
                    ));
                    for (name, buf) in ["sigma", "act", "residue", "error", "bias"].iter().zip(bufs) {
                        if p.var(name).is_ok() {
                            vars.insert((p.id, name.to_string()), (VarHome::buffer(buf, n), shape_of(p, name)));
                        }
                    }
                    for v in &p.vars {
                        if !vars.contains_key(&(p.id, v.name.clone())) {
                            host_var(&mut vars, p, &v.name)?;
                        }
                    }
                }
                "Conv" | "ConvTranspose" => {
                    let geo: basalt_core::process::conv::ConvGeometry = params(p)?;
                    let wv = p.var("weight").map_err(GpuError::UnknownVar)?;
                    let graded = var(p, "num_message_bits")?[0] > 0.0;
                    // A ConvTranspose stores its forward convolution's geometry: its output
                    // is that convolution's input.
                    let transposed = p.type_name == "ConvTranspose";
                    let out_shape = if transposed { geo.input_shape } else { geo.output_shape };
                    let n_out: usize = out_shape.iter().product();
                    let w = b.storage("conv weight", &b.words(&wv.data))?;
                    let a_buf = b.per_copy("a_buf", &b.words(var(p, "a_buf")?))?;
                    let [ix, iy, ic] = geo.input_shape;
                    let [ox, oy, oc] = geo.output_shape;
                    let params = b.uniform_words(&[
                        ix as u32,
                        iy as u32,
                        ic as u32,
                        geo.groups as u32,
                        ox as u32,
                        oy as u32,
                        oc as u32,
                        u32::from(graded),
                        geo.kernel[0] as u32,
                        geo.kernel[1] as u32,
                        geo.stride[0] as u32,
                        geo.stride[1] as u32,
                        geo.padding[0] as u32,
                        geo.padding[1] as u32,
                        geo.dilation[0] as u32,
                        geo.dilation[1] as u32,
                        b.batch as u32,
                        0,
                        0,
                        0,
                    ]);
                    let src = shaders::for_precision(shaders::CONV, fixed);
                    let (s_in, a_out) = (&ins[p.in_port_offset], &outs[p.out_port_offset]);
                    let (emit, run) =
                        if transposed { ("conv_transpose_emit", "conv_transpose") } else { ("conv_emit", "conv") };
                    let all = b.all(n_out);
                    emits.push(b.launch(&src, emit, &[(0, &params), (2, a_out), (3, &a_buf)], all));
                    runs.entry(pi).or_default().push(b.launch(
                        &src,
                        run,
                        &[(0, &params), (1, s_in), (3, &a_buf), (4, &w)],
                        all,
                    ));
                    vars.insert((p.id, "a_buf".into()), (VarHome::buffer(a_buf, n_out), out_shape.to_vec()));
                    for v in &p.vars {
                        if v.name != "a_buf" {
                            host_var(&mut vars, p, &v.name)?;
                        }
                    }
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
        for (&l, &d) in &fusions {
            let (Some(lif), Some(dense)) = (fused_lifs.remove(&l), fused_denses.remove(&d)) else {
                return Err(GpuError::Run(format!(
                    "fusing {} into {} planned only one",
                    exe.processes[d].name, exe.processes[l].name
                )));
            };
            let binds: Vec<(u32, &wgpu::Buffer)> =
                dense.bindings.iter().chain(&lif.bindings).map(|(k, buf)| (*k, buf)).collect();
            let src = shaders::dense_lif(fixed, dense.group);
            let launch = b.launch(&src, "dense_events_lif", &binds, dense.threads);
            runs.entry(l).or_default().push(launch);
            fused.push((exe.processes[d].name.clone(), exe.processes[l].name.clone()));
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
            if fused_denses_wanted.contains(&pi) {
                continue; // runs in its population's place
            }
            // A fused Dense's input gathers and event list, then the fused kernel.
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

    /// The Dense synapses the plan fused with the LIF-family population each alone feeds, as
    /// (Dense, population) process names: one kernel steps the neurons and sums the synapse
    /// (see `shaders/dense_lif.wgsl`). Any other synapse and neuron run as kernels of their own.
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
