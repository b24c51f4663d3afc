//! The GPU a plan runs on: adapter selection, the device and queue, and the compiled
//! pipelines every plan on the device shares.

use std::collections::HashMap;
use std::sync::Mutex;

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
}

impl GpuDevice {
    /// Opens a GPU: the backends in `WGPU_BACKEND` (default: all), the adapter whose name
    /// contains `BASALT_ADAPTER` if set, else the high-performance one.
    pub fn new() -> Result<GpuDevice, GpuError> {
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
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("basalt"),
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| GpuError::Device { adapter: info.name.clone(), reason: e.to_string() })?;
        Ok(GpuDevice { device, queue, info, limits, pipelines: Mutex::default() })
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
            cache: None,
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
