//! The CPU runtime: executes an [`Executable`] step by step with Lava's LoihiProtocol
//! (spike -> [pre-management -> learning] -> [post-management]) in one OS process, with no
//! per-step messaging or allocation. Blocking runs execute on the caller's thread;
//! non-blocking and continuous runs on a worker thread that `pause`, `wait` and `stop`
//! control.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use ndarray::{ArrayD, IxDyn};

use crate::error::{Error, ModelError, Result};
use crate::executable::{Executable, Source};
use crate::graph::VarRef;
use crate::model::{CpuModel, MgmtIo, PendingWrite, SpikeIo};
use crate::registry::{OutputTiming, Registry};
use crate::value::{numel, Init};

/// Run a fixed number of steps (Lava's `RunSteps`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunSteps {
    /// Steps to run.
    pub num_steps: u64,
    /// Whether `run` returns only when the steps are done.
    pub blocking: bool,
}

impl RunSteps {
    /// A blocking run of `num_steps`.
    pub fn new(num_steps: u64) -> Self {
        RunSteps { num_steps, blocking: true }
    }
    /// A non-blocking run of `num_steps` (finish with `wait()` or `pause()`).
    pub fn non_blocking(num_steps: u64) -> Self {
        RunSteps { num_steps, blocking: false }
    }
}

/// Run until paused or stopped (Lava's `RunContinuous`); always non-blocking.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunContinuous;

/// How long a run lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunCondition {
    /// A number of steps.
    Steps(RunSteps),
    /// Until paused or stopped.
    Continuous,
}

impl From<RunSteps> for RunCondition {
    fn from(r: RunSteps) -> Self {
        RunCondition::Steps(r)
    }
}
impl From<RunContinuous> for RunCondition {
    fn from(_: RunContinuous) -> Self {
        RunCondition::Continuous
    }
}

/// Model instances, message buffers and the time step of one executable.
pub(crate) struct Engine {
    exe: Arc<Executable>,
    models: Vec<Option<Box<dyn CpuModel>>>,
    in_bufs: Vec<Vec<f64>>,
    out_bufs: Vec<Vec<f64>>,
    ref_targets: Vec<Vec<Option<(usize, usize)>>>,
    /// RefPort writes of the current management phase, per process and RefPort.
    pending: Vec<Vec<PendingWrite>>,
    /// Per InPort: the OutPort whose buffer it borrows during its process's spike phase
    /// (a single whole-port source of another process, not shared with a sibling InPort).
    borrow_from: Vec<Option<usize>>,
    emitters: Vec<usize>,
    time_step: u64,
}

impl Engine {
    fn new(exe: Arc<Executable>, models: Vec<Box<dyn CpuModel>>) -> Result<Self> {
        let (mut n_in, mut n_out) = (0, 0);
        for p in &exe.processes {
            if p.in_port_offset != n_in || p.out_port_offset != n_out {
                return Err(Error::InvalidGraph(format!(
                    "executable has inconsistent port offsets at process {}",
                    p.name
                )));
            }
            n_in += p.in_ports.len();
            n_out += p.out_ports.len();
        }
        let models: Vec<Option<Box<dyn CpuModel>>> = models.into_iter().map(Some).collect();
        let mut in_bufs = Vec::with_capacity(exe.num_in_ports());
        let mut out_bufs = Vec::with_capacity(exe.num_out_ports());
        for p in &exe.processes {
            in_bufs.extend(p.in_ports.iter().map(|s| vec![0.0; numel(&s.shape)]));
            out_bufs.extend(p.out_ports.iter().map(|s| vec![0.0; numel(&s.shape)]));
        }
        if in_bufs.len() != exe.in_port_sources.len() {
            return Err(Error::InvalidGraph(format!(
                "executable lists sources for {} InPorts but its processes declare {}",
                exe.in_port_sources.len(),
                in_bufs.len()
            )));
        }
        for (i, sources) in exe.in_port_sources.iter().enumerate() {
            for s in sources {
                let ok = match s {
                    Source::Identity(o) => out_bufs.get(*o).is_some_and(|b| b.len() == in_bufs[i].len()),
                    Source::Gather { port, idx } => {
                        port.len() == in_bufs[i].len()
                            && idx.len() == port.len()
                            && port
                                .iter()
                                .zip(idx)
                                .all(|(&p, &j)| out_bufs.get(p as usize).is_some_and(|b| (j as usize) < b.len()))
                    }
                };
                if !ok {
                    return Err(Error::InvalidGraph(format!("executable has an inconsistent source for InPort {i}")));
                }
            }
        }
        let n = exe.processes.len();
        let schedule_ok = exe.schedule.len() == n && {
            let mut seen = vec![false; n];
            exe.schedule.iter().all(|&p| p < n && !std::mem::replace(&mut seen[p], true))
        };
        if !schedule_ok {
            return Err(Error::InvalidGraph("executable schedule is not a permutation of its processes".into()));
        }
        let ref_targets: Vec<Vec<Option<(usize, usize)>>> =
            exe.processes.iter().map(|p| p.ref_ports.iter().map(|r| r.target).collect()).collect();
        for t in ref_targets.iter().flatten().flatten() {
            if exe.processes.get(t.0).and_then(|p| p.vars.get(t.1)).is_none() {
                return Err(Error::InvalidGraph("executable has a RefPort with an invalid target".into()));
            }
        }
        let emitters = (0..n).filter(|&i| exe.processes[i].timing == OutputTiming::PreviousStep).collect();
        let pending = ref_targets
            .iter()
            .map(|ports| {
                ports
                    .iter()
                    .map(|t| {
                        let size = t.map_or(0, |(p, v)| numel(&exe.processes[p].vars[v].shape));
                        PendingWrite { data: vec![0.0; size], set: false }
                    })
                    .collect()
            })
            .collect();
        let mut borrow_from = vec![None; in_bufs.len()];
        for p in &exe.processes {
            let ins = p.in_port_offset..p.in_port_offset + p.in_ports.len();
            let outs = p.out_port_offset..p.out_port_offset + p.out_ports.len();
            let single = |g: usize| match exe.in_port_sources[g].as_slice() {
                [Source::Identity(o)] => Some(*o),
                _ => None,
            };
            for g in ins.clone() {
                let Some(o) = single(g) else { continue };
                let shared = ins.clone().filter(|&h| h != g).any(|h| {
                    exe.in_port_sources[h].iter().any(|s| match s {
                        Source::Identity(x) => *x == o,
                        Source::Gather { port, .. } => port.contains(&(o as u32)),
                    })
                });
                if !outs.contains(&o) && !shared {
                    borrow_from[g] = Some(o);
                }
            }
        }
        Ok(Engine { exe, models, in_bufs, out_bufs, ref_targets, pending, borrow_from, emitters, time_step: 0 })
    }

    fn model_error(&self, p: usize, e: ModelError) -> Error {
        Error::Model { process: self.exe.processes[p].name.clone(), time_step: self.time_step, message: e.0 }
    }

    /// Runs one LoihiProtocol time step.
    fn step(&mut self) -> Result<()> {
        self.time_step += 1;
        let t = self.time_step;
        let Engine { exe, models, in_bufs, out_bufs, ref_targets, pending, emitters, borrow_from, .. } = self;
        let missing = |p: usize| Error::Model {
            process: exe.processes[p].name.clone(),
            time_step: t,
            message: "model instance missing".into(),
        };
        for &p in emitters.iter() {
            let proc = &exe.processes[p];
            let model = models[p].as_mut().ok_or_else(|| missing(p))?;
            let ins = &in_bufs[proc.in_port_offset..proc.in_port_offset + proc.in_ports.len()];
            let outs = &mut out_bufs[proc.out_port_offset..proc.out_port_offset + proc.out_ports.len()];
            let mut io = SpikeIo { time_step: t, inputs: ins, outputs: outs };
            if let Err(e) = model.emit(&mut io) {
                return Err(Error::Model { process: proc.name.clone(), time_step: t, message: e.0 });
            }
        }
        for &p in exe.schedule.iter() {
            let proc = &exe.processes[p];
            let in_range = proc.in_port_offset..proc.in_port_offset + proc.in_ports.len();
            // InPorts fed by exactly one whole OutPort borrow its buffer (an O(1) swap,
            // undone after the step) instead of copying it.
            for g in in_range.clone() {
                match borrow_from[g] {
                    Some(o) => std::mem::swap(&mut in_bufs[g], &mut out_bufs[o]),
                    None => gather_into(&mut in_bufs[g], &exe.in_port_sources[g], out_bufs),
                }
            }
            let model = models[p].as_mut().ok_or_else(|| missing(p))?;
            let outs = &mut out_bufs[proc.out_port_offset..proc.out_port_offset + proc.out_ports.len()];
            let mut io = SpikeIo { time_step: t, inputs: &in_bufs[in_range.clone()], outputs: outs };
            let result = model.run_spk(&mut io);
            for g in in_range {
                if let Some(o) = borrow_from[g] {
                    std::mem::swap(&mut in_bufs[g], &mut out_bufs[o]);
                }
            }
            if let Err(e) = result {
                return Err(Error::Model { process: proc.name.clone(), time_step: t, message: e.0 });
            }
        }
        // Phase selection as in LoihiPyRuntimeService: PRE_MGMT is requested only by models
        // whose lrn_guard and pre_guard both hold; LRN always follows PRE_MGMT.
        let (mut pre, mut lrn, mut post) = (false, false, false);
        for m in models.iter().flatten() {
            let l = m.lrn_guard(t);
            pre |= l && m.pre_guard(t);
            lrn |= l;
            post |= m.post_guard(t);
        }
        if pre {
            run_mgmt(models, ref_targets, pending, exe, t, Phase::PreMgmt)?;
        }
        if pre || lrn {
            run_mgmt(models, ref_targets, pending, exe, t, Phase::Learning)?;
        }
        if post {
            run_mgmt(models, ref_targets, pending, exe, t, Phase::PostMgmt)?;
        }
        Ok(())
    }

    fn locate(&self, var: &VarRef) -> Result<(usize, usize)> {
        self.exe.resolve_var(var.proc, &var.name).ok_or_else(|| Error::NotFound {
            kind: "Var",
            name: var.name.clone(),
            context: format!(" on process #{} in this executable", var.proc.0),
        })
    }

    fn get(&self, var: &VarRef) -> Result<ArrayD<f64>> {
        let (p, v) = self.locate(var)?;
        let spec = &self.exe.processes[p].vars[v];
        let mut data = vec![0.0; numel(&spec.shape)];
        let model = self.models[p].as_ref().ok_or_else(|| self.model_error(p, ModelError::new("model missing")))?;
        model.read_var(v, &mut data).map_err(|e| self.model_error(p, e))?;
        ArrayD::from_shape_vec(IxDyn(&spec.shape), data)
            .map_err(|e| self.model_error(p, ModelError::new(e.to_string())))
    }

    fn set(&mut self, var: &VarRef, value: Init) -> Result<()> {
        let (p, v) = self.locate(var)?;
        let spec = &self.exe.processes[p].vars[v];
        let label = format!("{}.{}", self.exe.processes[p].name, spec.name);
        let arr = value.broadcast(&spec.shape).map_err(|reason| Error::BadValue { var: label.clone(), reason })?;
        if let Some(bad) = arr.iter().find(|x| !x.is_finite()) {
            return Err(Error::BadValue { var: label, reason: format!("value {bad} is not finite") });
        }
        let data: Vec<f64> = arr.iter().copied().collect();
        let model = self.models[p]
            .as_mut()
            .ok_or_else(|| Error::BadValue { var: label.clone(), reason: "model missing".into() })?;
        model.write_var(v, &data).map_err(|e| Error::BadValue { var: label, reason: e.0 })
    }
}

/// Runs up to `limit` steps (forever if None) until `pause` is set or a model fails,
/// publishing the time step after each. The loop runs inside rayon's pool so that the
/// data-parallel kernels push work onto a local deque instead of the pool's global
/// injector, which would allocate: the step loop allocates nothing.
fn run_steps(engine: &mut Engine, limit: Option<u64>, ts: &AtomicU64, pause: &AtomicBool) -> Result<()> {
    rayon::scope(|_| {
        let mut done = 0u64;
        while limit.is_none_or(|n| done < n) && !pause.load(Ordering::Acquire) {
            let r = engine.step();
            ts.store(engine.time_step, Ordering::Release);
            r?;
            done += 1;
        }
        Ok(())
    })
}

/// Sums the sources of one InPort into its buffer.
#[inline]
fn gather_into(dst: &mut [f64], sources: &[Source], out_bufs: &[Vec<f64>]) {
    match sources {
        [] => {}
        [Source::Identity(o)] => dst.copy_from_slice(&out_bufs[*o]),
        _ => {
            dst.fill(0.0);
            for s in sources {
                match s {
                    Source::Identity(o) => {
                        for (d, x) in dst.iter_mut().zip(&out_bufs[*o]) {
                            *d += x;
                        }
                    }
                    Source::Gather { port, idx } => {
                        for ((d, &p), &i) in dst.iter_mut().zip(port).zip(idx) {
                            *d += out_bufs[p as usize][i as usize];
                        }
                    }
                }
            }
        }
    }
}

/// The management phases of the LoihiProtocol.
#[derive(Clone, Copy)]
enum Phase {
    PreMgmt,
    Learning,
    PostMgmt,
}

impl Phase {
    fn guard(self, m: &dyn CpuModel, t: u64) -> bool {
        match self {
            Phase::PreMgmt => m.pre_guard(t),
            Phase::Learning => m.lrn_guard(t),
            Phase::PostMgmt => m.post_guard(t),
        }
    }

    fn run(self, m: &mut dyn CpuModel, io: &mut MgmtIo<'_>) -> std::result::Result<(), ModelError> {
        match self {
            Phase::PreMgmt => m.run_pre_mgmt(io),
            Phase::Learning => m.run_lrn(io),
            Phase::PostMgmt => m.run_post_mgmt(io),
        }
    }
}

/// Runs one management phase on every model whose guard holds, in schedule order, then
/// applies the RefPort writes they made (see [`MgmtIo`]). The running model is taken out
/// of `models` so that its RefPorts can read the others.
fn run_mgmt(
    models: &mut [Option<Box<dyn CpuModel>>],
    ref_targets: &[Vec<Option<(usize, usize)>>],
    pending: &mut [Vec<PendingWrite>],
    exe: &Executable,
    t: u64,
    phase: Phase,
) -> Result<()> {
    let fail =
        |p: usize, e: ModelError| Error::Model { process: exe.processes[p].name.clone(), time_step: t, message: e.0 };
    for &p in &exe.schedule {
        let Some(mut model) = models[p].take() else {
            continue;
        };
        let result = if phase.guard(model.as_ref(), t) {
            let mut io = MgmtIo { time_step: t, targets: &ref_targets[p], models, pending: &mut pending[p] };
            phase.run(model.as_mut(), &mut io)
        } else {
            Ok(())
        };
        models[p] = Some(model);
        result.map_err(|e| fail(p, e))?;
    }
    for &p in &exe.schedule {
        for (k, w) in pending[p].iter_mut().enumerate() {
            if !std::mem::take(&mut w.set) {
                continue;
            }
            let Some((tp, tv)) = ref_targets[p][k] else {
                continue;
            };
            match models[tp].as_mut() {
                Some(m) => m.write_var(tv, &w.data).map_err(|e| fail(p, e))?,
                None => return Err(fail(p, ModelError::new("RefPort target is not available"))),
            }
        }
    }
    Ok(())
}

/// Executes a compiled network: run conditions, pause/stop/wait, Var get/set between runs.
pub struct Runtime {
    exe: Arc<Executable>,
    engine: Arc<Mutex<Engine>>,
    worker: Option<JoinHandle<Result<()>>>,
    pause_requested: Arc<AtomicBool>,
    running: Arc<AtomicBool>,
    time_step: Arc<AtomicU64>,
    stopped: bool,
}

impl Runtime {
    /// Instantiates every model of `exe` from `registry` (no recompilation needed).
    pub fn new(exe: Executable, registry: &Registry) -> Result<Self> {
        let mut exe = exe;
        if exe.version != crate::executable::EXECUTABLE_VERSION {
            return Err(Error::InvalidGraph(format!(
                "executable layout version {} is not supported (this build runs version {})",
                exe.version,
                crate::executable::EXECUTABLE_VERSION
            )));
        }
        let mut models = Vec::with_capacity(exe.processes.len());
        for p in &exe.processes {
            models.push(registry.instantiate(p)?);
        }
        // The models now own the state.
        exe.release_values();
        let exe = Arc::new(exe);
        let engine = Engine::new(exe.clone(), models)?;
        // Start every thread of the pool the step loop runs in now, so that thread start-up
        // (which allocates) never happens during a run.
        rayon::broadcast(|_| ());
        Ok(Runtime {
            exe,
            engine: Arc::new(Mutex::new(engine)),
            worker: None,
            pause_requested: Arc::new(AtomicBool::new(false)),
            running: Arc::new(AtomicBool::new(false)),
            time_step: Arc::new(AtomicU64::new(0)),
            stopped: false,
        })
    }

    /// The structure of the executable this runtime runs (processes, ports, schedule).
    /// Initial Var values are released once the models hold the state: read current
    /// values with [`Runtime::get`].
    pub fn executable(&self) -> &Executable {
        &self.exe
    }

    /// The last completed time step (0 before the first run; continues across runs).
    pub fn time_step(&self) -> u64 {
        self.time_step.load(Ordering::Acquire)
    }

    /// Whether steps are being executed right now.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    fn lock(&self) -> Result<MutexGuard<'_, Engine>> {
        self.engine.lock().map_err(|_| Error::WorkerPanicked("engine lock poisoned".into()))
    }

    /// Starts a run. Blocking `RunSteps` returns when the steps are done (or a model
    /// fails); non-blocking runs return at once.
    pub fn run(&mut self, condition: impl Into<RunCondition>) -> Result<()> {
        if self.stopped {
            return Err(Error::Stopped);
        }
        if let Some(w) = &self.worker {
            if !w.is_finished() {
                return Err(Error::AlreadyRunning);
            }
            self.join_worker()?;
        }
        match condition.into() {
            RunCondition::Steps(RunSteps { num_steps, blocking: true }) => {
                self.running.store(true, Ordering::Release);
                let result = {
                    let mut engine = self.lock()?;
                    let ts = &self.time_step;
                    run_steps(&mut engine, Some(num_steps), ts, &AtomicBool::new(false))
                };
                self.running.store(false, Ordering::Release);
                result
            }
            RunCondition::Steps(RunSteps { num_steps, blocking: false }) => self.spawn(Some(num_steps)),
            RunCondition::Continuous => self.spawn(None),
        }
    }

    fn spawn(&mut self, limit: Option<u64>) -> Result<()> {
        self.pause_requested.store(false, Ordering::Release);
        self.running.store(true, Ordering::Release);
        let (engine, pause, running, ts) =
            (self.engine.clone(), self.pause_requested.clone(), self.running.clone(), self.time_step.clone());
        let handle = std::thread::Builder::new()
            .name("basalt-runtime".into())
            .spawn(move || {
                let result = match engine.lock() {
                    Ok(mut engine) => run_steps(&mut engine, limit, &ts, &pause),
                    Err(_) => Err(Error::WorkerPanicked("engine lock poisoned".into())),
                };
                running.store(false, Ordering::Release);
                result
            })
            .map_err(|e| Error::WorkerPanicked(format!("cannot start worker thread: {e}")))?;
        self.worker = Some(handle);
        Ok(())
    }

    fn join_worker(&mut self) -> Result<()> {
        match self.worker.take() {
            None => Ok(()),
            Some(h) => {
                let r = h.join().map_err(|p| {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "unknown panic".into());
                    Error::WorkerPanicked(msg)
                });
                self.running.store(false, Ordering::Release);
                r?
            }
        }
    }

    /// Blocks until a non-blocking run finishes; returns the first model error, if any.
    /// (A `RunContinuous` run finishes only when paused from another thread or on error.)
    pub fn wait(&mut self) -> Result<()> {
        self.join_worker()
    }

    /// Asks a non-blocking run to stop after the current step and waits for it; the
    /// runtime can run again afterwards, continuing the time step.
    pub fn pause(&mut self) -> Result<()> {
        self.pause_requested.store(true, Ordering::Release);
        let r = self.join_worker();
        self.pause_requested.store(false, Ordering::Release);
        r
    }

    /// Pauses any run and ends the runtime; later `run`, `get` and `set` fail.
    pub fn stop(&mut self) -> Result<()> {
        let r = self.pause();
        self.stopped = true;
        r
    }

    /// Whether `stop()` was called.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    fn check_idle(&self, op: &'static str, var: &VarRef) -> Result<()> {
        if self.stopped {
            return Err(Error::Stopped);
        }
        if self.is_running() {
            return Err(Error::Running { op, var: self.var_label(var) });
        }
        Ok(())
    }

    fn var_label(&self, var: &VarRef) -> String {
        match self.exe.resolve_var(var.proc, &var.name) {
            Some((p, _)) if self.exe.processes[p].id == var.proc => {
                format!("{}.{}", self.exe.processes[p].name, var.name)
            }
            _ => format!("#{}.{}", var.proc.0, var.name),
        }
    }

    /// Reads a Var (C order, as float64 like Lava's `var.get()`); only between runs.
    pub fn get(&self, var: &VarRef) -> Result<ArrayD<f64>> {
        self.check_idle("get", var)?;
        self.lock()?.get(var)
    }

    /// The element type a Var is stored in by its model (what state files record).
    pub fn var_dtype(&self, var: &VarRef) -> Result<crate::model::DType> {
        let engine = self.lock()?;
        let (p, v) = engine.locate(var)?;
        match engine.models[p].as_ref() {
            Some(m) => Ok(m.var_dtype(v)),
            None => Err(Error::InvalidGraph("model instance missing".into())),
        }
    }

    /// Writes a Var (a scalar or an array broadcast to its shape); only between runs.
    /// Values are converted to the model's type (fixed-point models reject values out of
    /// their range).
    pub fn set(&mut self, var: &VarRef, value: impl Into<Init>) -> Result<()> {
        self.check_idle("set", var)?;
        self.lock()?.set(var, value.into())
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.pause_requested.store(true, Ordering::Release);
        if let Some(h) = self.worker.take() {
            let _ = h.join();
        }
    }
}

impl Network {
    /// Compiles with `cfg` and creates a runtime (Lava's implicit compile on first `run`).
    pub fn runtime(&self, cfg: &RunConfig) -> Result<Runtime> {
        let exe = self.compile(cfg)?;
        Runtime::new(exe, cfg.registry())
    }
}

use crate::graph::Network;
use crate::registry::RunConfig;
