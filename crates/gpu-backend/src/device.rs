//! The GPU a plan runs on: adapter selection, the device and queue, and the compiled
//! pipelines every plan on the device shares (in memory, and on disk across processes
//! through the pipeline cache).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::pipeline_cache::{self, PipelineCacheStatus};
use crate::GpuError;

/// A GPU: adapter, device and queue, with the compute pipelines compiled on it so far.
pub struct GpuDevice {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    pub(crate) limits: wgpu::Limits,
    /// Compiled pipelines by entry point and WGSL source: every plan built on this device
    /// reuses them, so building a network's plan a second time compiles nothing.
    pipelines: Mutex<HashMap<String, wgpu::ComputePipeline>>,
    /// The driver's pipeline cache, loaded from and saved to `cache_status.file`.
    cache: Option<wgpu::PipelineCache>,
    cache_status: Mutex<PipelineCacheStatus>,
}

impl GpuDevice {
    /// Opens a GPU: the backends in `WGPU_BACKEND` (default: all), the adapter whose name
    /// contains `BASALT_ADAPTER` if set, else the high-performance one, with the pipeline
    /// cache in [`pipeline_cache::default_dir`] (`BASALT_PIPELINE_CACHE`, else the user's
    /// cache directory).
    pub fn new() -> Result<GpuDevice, GpuError> {
        GpuDevice::with_pipeline_cache(pipeline_cache::default_dir())
    }

    /// Opens a GPU as [`GpuDevice::new`] does, keeping its pipeline cache in `dir` (None: no
    /// cache on disk). A cache file that cannot be read or is damaged is set aside (see
    /// [`GpuDevice::pipeline_cache`]); it never stops the device from opening.
    pub fn with_pipeline_cache(dir: Option<PathBuf>) -> Result<GpuDevice, GpuError> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = match std::env::var("BASALT_ADAPTER") {
            Ok(want) => {
                let all = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
                all.into_iter()
                    .find(|a| a.get_info().name.to_lowercase().contains(&want.to_lowercase()))
                    .ok_or_else(|| GpuError::NoAdapter(format!(" matching BASALT_ADAPTER={want}")))?
            }
            Err(_) => pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            }))
            .map_err(|e| GpuError::NoAdapter(format!(": {e}")))?,
        };
        let info = adapter.get_info();
        let limits = adapter.limits();
        let mut status = PipelineCacheStatus::default();
        let cache_file = match (dir, wgpu::util::pipeline_cache_key(&info)) {
            (None, _) => {
                status.note = "no cache directory (BASALT_PIPELINE_CACHE=off, or no home directory)".into();
                None
            }
            (Some(_), None) => {
                status.note = format!("the {:?} backend keeps no pipeline cache", info.backend);
                None
            }
            (Some(_), Some(_)) if !adapter.features().contains(wgpu::Features::PIPELINE_CACHE) => {
                status.note = "the adapter has no pipeline cache".into();
                None
            }
            (Some(dir), Some(key)) => Some(dir.join(key)),
        };
        let features = if cache_file.is_some() { wgpu::Features::PIPELINE_CACHE } else { wgpu::Features::empty() };
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("basalt"),
            required_features: features,
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| GpuError::Device { adapter: info.name.clone(), reason: e.to_string() })?;
        let cache = cache_file.map(|file| {
            let bytes = match std::fs::read(&file) {
                Ok(bytes) => Some(bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => {
                    status.note = format!("cannot read {}: {e}; starting an empty cache", file.display());
                    None
                }
            };
            let data = bytes.as_deref().and_then(|b| match pipeline_cache::decode(b) {
                Ok(data) => Some(data),
                Err(why) => {
                    status.note = format!("{} is set aside: {why}; starting an empty cache", file.display());
                    None
                }
            });
            status.loaded_bytes = data.map_or(0, <[u8]>::len);
            status.file = Some(file);
            // SAFETY: `data` is what `PipelineCache::get_data` returned for an adapter with
            // this cache key (the file is named by it), checked intact by its CRC-32; wgpu
            // checks its own header too and, with `fallback`, starts empty if it refuses it.
            unsafe {
                device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor {
                    label: Some("basalt"),
                    data,
                    fallback: true,
                })
            }
        });
        Ok(GpuDevice {
            device,
            queue,
            info,
            limits,
            pipelines: Mutex::default(),
            cache,
            cache_status: Mutex::new(status),
        })
    }

    /// The pipeline cache's file, what was loaded from it and saved to it, and any problem.
    pub fn pipeline_cache(&self) -> PipelineCacheStatus {
        self.cache_status.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Saves the pipeline cache (everything compiled on this device so far, and what was
    /// loaded) to its file; returns the bytes written, 0 without a cache. Plans save it
    /// themselves after compiling new kernels.
    pub fn save_pipeline_cache(&self) -> Result<usize, GpuError> {
        let mut status = self.cache_status.lock().unwrap_or_else(|e| e.into_inner());
        let (Some(cache), Some(file)) = (&self.cache, status.file.clone()) else { return Ok(0) };
        let Some(data) = cache.get_data() else { return Ok(0) };
        let bytes = pipeline_cache::encode(&data);
        pipeline_cache::write_atomically(&file, &bytes).map_err(|e| {
            status.note = format!("cannot save {}: {e}", file.display());
            GpuError::PipelineCache(status.note.clone())
        })?;
        status.saved_bytes = bytes.len();
        Ok(bytes.len())
    }

    /// The adapter's name, backend and driver.
    pub fn describe(&self) -> String {
        format!("{} ({:?}, {} {})", self.info.name, self.info.backend, self.info.driver, self.info.driver_info)
    }

    /// The compute pipeline of `entry` in `source`, compiled once per device.
    pub(crate) fn pipeline(&self, source: &str, entry: &'static str) -> wgpu::ComputePipeline {
        let key = format!("{entry}\0{source}");
        // A poisoned lock only means another thread panicked while inserting: the map is intact.
        let mut cache = self.pipelines.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = cache.get(&key) {
            return p.clone();
        }
        let module = self.device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(entry),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        let p = self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: None,
            module: &module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: self.cache.as_ref(),
        });
        cache.insert(key, p.clone());
        p
    }

    /// How many pipelines this device has compiled (each plan's kernels are compiled once).
    pub fn compiled_pipelines(&self) -> usize {
        self.pipelines.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Workgroups (x, y) of 64 threads covering `threads`: x up to the device's limit per
    /// dimension, the rest spread over y (the kernels index `gid.x + gid.y * wg.x * 64`).
    pub(crate) fn workgroups(&self, threads: u32) -> (u32, u32) {
        let groups = threads.div_ceil(64).max(1);
        let x = groups.min(self.limits.max_compute_workgroups_per_dimension.max(1));
        (x, groups.div_ceil(x))
    }

    /// Measured copy bandwidth in bytes/s: `repeats` buffer-to-buffer copies of `bytes`
    /// (clamped to the device's buffer limit), counting the bytes read and written, as the
    /// memory-bandwidth bound that benchmarks compare their achieved rate against.
    pub fn copy_bandwidth(&self, bytes: u64, repeats: u32) -> Result<f64, GpuError> {
        let size = bytes.min(self.limits.max_buffer_size).max(4) & !3;
        let buffer = |usage| {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("bandwidth"),
                size,
                usage,
                mapped_at_creation: false,
            })
        };
        let (src, dst) = (buffer(wgpu::BufferUsages::COPY_SRC), buffer(wgpu::BufferUsages::COPY_DST));
        let copy = |n: u32| -> Result<f64, GpuError> {
            let start = std::time::Instant::now();
            let mut enc = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("copy") });
            for _ in 0..n {
                enc.copy_buffer_to_buffer(&src, 0, &dst, 0, size);
            }
            self.queue.submit([enc.finish()]);
            self.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| GpuError::Readback(e.to_string()))?;
            Ok(start.elapsed().as_secs_f64())
        };
        copy(1)?; // warm-up: first touch of the pages
        let secs = copy(repeats.max(1))?;
        Ok(2.0 * size as f64 * f64::from(repeats.max(1)) / secs)
    }
}
