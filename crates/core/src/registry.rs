//! Model registry and RunConfig: which ProcessModel implements which Process type on which
//! backend with which tags (Lava's `@implements/@requires/@tag`), and how a RunConfig
//! selects one (Lava's `select_tag` and `exception_proc_model_map`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::executable::LeafProcess;
use crate::graph::ProcId;
use crate::model::CpuModel;

/// Where a model runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Backend {
    /// The CPU reference backend of this crate.
    Cpu,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Cpu => write!(f, "cpu"),
        }
    }
}

/// When a model's OutPort messages are produced relative to its inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OutputTiming {
    /// Receives, computes, then sends in the same step (neurons, sources, sinks).
    SameStep,
    /// Sends what it computed in the previous step before receiving (Lava's connection
    /// processes: Dense, Sparse, Conv). This is the one-step synaptic delay (SPEC §1.2) and
    /// what lets recurrent graphs be scheduled.
    PreviousStep,
}

/// Builds a CPU model instance from a compiled process (its Vars, ports and parameters).
pub type CpuFactory = Arc<dyn Fn(&LeafProcess) -> Result<Box<dyn CpuModel>, String> + Send + Sync>;

/// One registered ProcessModel.
#[derive(Clone)]
pub struct ModelEntry {
    /// The [`crate::Process::TYPE_NAME`] it implements.
    pub process_type: String,
    /// Model name, unique per process type (e.g. `PyLifModelFloat`).
    pub name: String,
    /// Backend.
    pub backend: Backend,
    /// Tags such as `floating_pt`, `fixed_pt`, `bit_accurate_loihi`.
    pub tags: Vec<String>,
    /// Output timing (see [`OutputTiming`]).
    pub timing: OutputTiming,
    /// Constructor.
    pub factory: CpuFactory,
}

impl ModelEntry {
    /// A CPU model entry.
    pub fn cpu(
        process_type: &str,
        name: &str,
        tags: &[&str],
        timing: OutputTiming,
        factory: impl Fn(&LeafProcess) -> Result<Box<dyn CpuModel>, String> + Send + Sync + 'static,
    ) -> Self {
        ModelEntry {
            process_type: process_type.to_string(),
            name: name.to_string(),
            backend: Backend::Cpu,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            timing,
            factory: Arc::new(factory),
        }
    }
}

impl fmt::Debug for ModelEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelEntry")
            .field("process_type", &self.process_type)
            .field("name", &self.name)
            .field("backend", &self.backend)
            .field("tags", &self.tags)
            .field("timing", &self.timing)
            .finish()
    }
}

/// All known ProcessModels, in registration order (the order decides ties, as Lava's
/// class-definition order does).
#[derive(Clone, Debug, Default)]
pub struct Registry {
    entries: Vec<ModelEntry>,
}

impl Registry {
    /// A registry with no models.
    pub fn empty() -> Self {
        Registry::default()
    }

    /// A registry with every model of Basalt's process library.
    pub fn with_library() -> Self {
        let mut r = Registry::empty();
        crate::process::register_library(&mut r);
        r
    }

    /// Adds a model; a second model with the same name for the same type is an error.
    pub fn register(&mut self, entry: ModelEntry) -> Result<()> {
        if self.find(&entry.process_type, &entry.name).is_some() {
            return Err(Error::InvalidGraph(format!(
                "model `{}` is already registered for process type {}",
                entry.name, entry.process_type
            )));
        }
        self.entries.push(entry);
        Ok(())
    }

    /// Registers the process library's own models, whose names are unique by construction.
    pub(crate) fn register_library(&mut self, models: impl IntoIterator<Item = ModelEntry>) {
        for m in models {
            self.register(m).expect("library models have unique names");
        }
    }

    /// The models registered for a process type.
    pub fn models_for<'a>(&'a self, process_type: &'a str) -> impl Iterator<Item = &'a ModelEntry> + 'a {
        self.entries.iter().filter(move |e| e.process_type == process_type)
    }

    /// The model `name` of `process_type`.
    pub fn find(&self, process_type: &str, name: &str) -> Option<&ModelEntry> {
        self.entries.iter().find(|e| e.process_type == process_type && e.name == name)
    }

    /// Builds the model recorded in a compiled process.
    pub fn instantiate(&self, p: &LeafProcess) -> Result<Box<dyn CpuModel>> {
        let entry = self.find(&p.type_name, &p.model).ok_or_else(|| Error::NoModel {
            process: p.name.clone(),
            process_type: p.type_name.clone(),
            backend: Backend::Cpu.to_string(),
            tag: Some(p.model.clone()),
            available: self.model_names(&p.type_name),
        })?;
        (entry.factory)(p).map_err(|reason| Error::InvalidParameter {
            process: p.name.clone(),
            param: format!("model {}", p.model),
            reason,
        })
    }

    fn model_names(&self, process_type: &str) -> String {
        self.models_for(process_type).map(|e| format!("{} {:?}", e.name, e.tags)).collect::<Vec<_>>().join(", ")
    }
}

/// How to choose a model for each process: backend, tag, exceptions (Lava's
/// `Loihi2SimCfg(select_tag=..., exception_proc_model_map=...)`).
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Backend to select models for.
    pub backend: Backend,
    /// Tag a model must carry (None: the first registered model).
    pub select_tag: Option<String>,
    /// Process type name -> model name, taking precedence over the tag.
    pub type_exceptions: BTreeMap<String, String>,
    /// Process id -> model name, taking precedence over everything.
    pub process_exceptions: BTreeMap<ProcId, String>,
    registry: Arc<Registry>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig::new(None)
    }
}

impl RunConfig {
    /// A CPU config selecting by `tag` over the library registry.
    pub fn new(tag: Option<&str>) -> Self {
        RunConfig {
            backend: Backend::Cpu,
            select_tag: tag.map(str::to_string),
            type_exceptions: BTreeMap::new(),
            process_exceptions: BTreeMap::new(),
            registry: Arc::new(Registry::with_library()),
        }
    }
    /// Float models (`floating_pt`).
    pub fn floating_pt() -> Self {
        RunConfig::new(Some("floating_pt"))
    }
    /// Loihi bit-accurate fixed-point models (`fixed_pt`).
    pub fn fixed_pt() -> Self {
        RunConfig::new(Some("fixed_pt"))
    }
    /// Uses `model` for every process of type `process_type`.
    pub fn with_exception(mut self, process_type: &str, model: &str) -> Self {
        self.type_exceptions.insert(process_type.to_string(), model.to_string());
        self
    }
    /// Uses `model` for one process.
    pub fn with_process_exception(mut self, process: ProcId, model: &str) -> Self {
        self.process_exceptions.insert(process, model.to_string());
        self
    }
    /// Selects from `registry` (the library plus user models).
    pub fn with_registry(mut self, registry: Arc<Registry>) -> Self {
        self.registry = registry;
        self
    }
    /// The registry models are selected from.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Chooses the model for one process, or explains why none fits.
    pub fn select(&self, id: ProcId, name: &str, process_type: &str) -> Result<&ModelEntry> {
        let no_model = |tag: Option<String>| Error::NoModel {
            process: name.to_string(),
            process_type: process_type.to_string(),
            backend: self.backend.to_string(),
            tag,
            available: self.registry.model_names(process_type),
        };
        let exception = self.process_exceptions.get(&id).or_else(|| self.type_exceptions.get(process_type));
        if let Some(model) = exception {
            return self
                .registry
                .find(process_type, model)
                .filter(|e| e.backend == self.backend)
                .ok_or_else(|| no_model(Some(format!("exception model {model}"))));
        }
        let candidates: Vec<&ModelEntry> = self
            .registry
            .entries
            .iter()
            .filter(|e| e.process_type == process_type && e.backend == self.backend)
            .collect();
        match &self.select_tag {
            None => candidates.first().copied().ok_or_else(|| no_model(None)),
            Some(tag) => {
                if let Some(e) = candidates.iter().find(|e| e.tags.iter().any(|t| t == tag)) {
                    return Ok(e);
                }
                match candidates.as_slice() {
                    [only] if only.tags.is_empty() => Ok(only),
                    _ => Err(no_model(Some(tag.clone()))),
                }
            }
        }
    }
}
