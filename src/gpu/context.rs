//! Adapter/device acquisition and the shared state every launch goes through.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::allocation::BufferLimits;
use super::pipelines::PipelineCache;
use super::pool::{GpuBuffer, Pool, PoolStats, Usage};
use super::launch::LaunchCache;
use super::profile::Profile;
use crate::error::{Error, Result};
use crate::shape::fmt_shape;
use crate::tensor::DType;

/// What the page's backend badge and `summary` print about the adapter.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AdapterSummary {
    /// Adapter name as the driver reports it.
    pub name: String,
    /// Graphics API underneath (wgpu's name: Vulkan, Metal, Dx12, Gl or BrowserWebGpu).
    pub backend: String,
    /// wgpu's device type: DiscreteGpu, IntegratedGpu, VirtualGpu, Cpu or Other.
    pub device_type: String,
    /// Driver name and version, where the adapter reports them.
    pub driver: String,
    pub(crate) max_storage_buffer_binding_size: u64,
    pub(crate) max_compute_workgroup_size_x: u32,
}

/// Cheap to clone; all clones drive the same device.
#[derive(Clone)]
pub struct GpuContext {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) summary: AdapterSummary,
    pub(crate) limits: wgpu::Limits,
    pub(crate) pool: Arc<Pool>,
    pub(crate) pipelines: PipelineCache,
    pub(crate) recorder: Mutex<Recorder>,
    /// Validation errors reported asynchronously by wgpu; surfaced at the next sync point.
    pub(crate) device_error: Arc<Mutex<Option<String>>>,
    pub(crate) lost: Arc<DeviceLost>,
    /// Per-kernel times while the bench profiles (see `profile`).
    pub(crate) profile: Mutex<Option<Profile>>,
    /// Uniform buffers and bind groups reused across launches (see `launch`).
    pub(crate) launch_cache: Mutex<LaunchCache>,
    /// While a warm-up pass runs on one sample: the batch its shape-dependent kernel
    /// choices plan for (0 otherwise). See [`GpuContext::planned_rows`].
    pub(crate) planning_batch: AtomicUsize,
}

/// Why the device was lost (driver reset, a backgrounded mobile tab, `destroy()`), and
/// who to tell: the page's badge has to change even while no cell runs.
#[derive(Default)]
pub(crate) struct DeviceLost {
    reason: Mutex<Option<String>>,
    listeners: Mutex<Vec<Box<dyn Fn(&str) + Send>>>,
}

impl DeviceLost {
    fn report(&self, reason: wgpu::DeviceLostReason, message: String) {
        let why = match reason {
            wgpu::DeviceLostReason::Destroyed => "the device was destroyed",
            _ => "the driver or the browser reset it",
        };
        let text = if message.is_empty() { why.to_string() } else { format!("{why}: {message}") };
        *self.reason.lock().unwrap_or_else(|p| p.into_inner()) = Some(text.clone());
        for listener in self.listeners.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            listener(&text);
        }
    }
}

#[derive(Default)]
pub(crate) struct Recorder {
    pub(crate) encoder: Option<wgpu::CommandEncoder>,
    pub(crate) passes: usize,
}

/// Recorded passes per command buffer before an automatic submit: big enough that a
/// training step is one submission, small enough that in-flight uniforms stay bounded.
const MAX_PASSES_PER_SUBMIT: usize = 512;

impl GpuContext {
    /// Finds an adapter (any backend wgpu was built with: Vulkan/Metal/DX12 natively,
    /// WebGPU in the browser) and opens a device with the adapter's own buffer limits.
    pub async fn new() -> Result<GpuContext> {
        GpuContext::open(None).await
    }

    /// The same device with smaller buffer limits than the adapter's (each capped at the
    /// adapter's own): how a model fares on a smaller GPU, and the tests of the limit checks.
    pub async fn with_buffer_limits(max_storage_buffer_binding_size: u64, max_buffer_size: u64) -> Result<GpuContext> {
        GpuContext::open(Some((max_storage_buffer_binding_size, max_buffer_size))).await
    }

    async fn open(smaller: Option<(u64, u64)>) -> Result<GpuContext> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::new(format!("no GPU adapter available: {e}")))?;
        let info = adapter.get_info();
        let supported = adapter.limits();
        let mut limits = wgpu::Limits::default();
        limits.max_storage_buffer_binding_size = supported.max_storage_buffer_binding_size;
        limits.max_buffer_size = supported.max_buffer_size;
        if let Some((binding, buffer)) = smaller {
            limits.max_storage_buffer_binding_size = binding.min(supported.max_storage_buffer_binding_size);
            limits.max_buffer_size = buffer.min(supported.max_buffer_size);
        }
        limits.max_storage_buffers_per_shader_stage =
            supported.max_storage_buffers_per_shader_stage.min(10).max(limits.max_storage_buffers_per_shader_stage);
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("convbook"),
                required_features: wgpu::Features::empty(),
                required_limits: limits.clone(),
                experimental_features: Default::default(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: Default::default(),
            })
            .await
            .map_err(|e| Error::new(format!("could not open GPU device on {}: {e}", info.name)))?;

        // wgpu's default handler panics on validation errors; a panic in wasm kills
        // the notebook, so keep the first message and report it as an Err instead.
        let device_error = Arc::new(Mutex::new(None::<String>));
        let sink = device_error.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            let mut slot = sink.lock().unwrap_or_else(|p| p.into_inner());
            if slot.is_none() {
                *slot = Some(e.to_string());
            }
        }));

        let lost = Arc::new(DeviceLost::default());
        let lost_sink = lost.clone();
        device.set_device_lost_callback(move |reason, message| lost_sink.report(reason, message));

        let summary = AdapterSummary {
            name: info.name.clone(),
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            driver: format!("{} {}", info.driver, info.driver_info).trim().to_string(),
            max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size as u64,
            max_compute_workgroup_size_x: limits.max_compute_workgroup_size_x,
        };
        Ok(GpuContext {
            inner: Arc::new(Inner {
                device,
                queue,
                summary,
                limits,
                pool: Pool::new(),
                pipelines: PipelineCache::default(),
                recorder: Mutex::new(Recorder::default()),
                device_error,
                lost,
                profile: Mutex::new(None),
                launch_cache: Mutex::default(),
                planning_batch: AtomicUsize::new(0),
            }),
        })
    }

    /// The rows (batch × output pixels) a GEMM of `rows` rows at `batch` picks its tile
    /// and path by. A warm-up pass runs one sample, but the first real call usually has a
    /// batch (Keras's default is 32); planning the warm-up's choices for that batch makes
    /// it compile the pipelines that call will use, rather than small-batch variants that
    /// cost a second each to compile on a software adapter and delay the first result.
    pub(crate) fn planned_rows(&self, rows: usize, batch: usize) -> usize {
        match self.inner.planning_batch.load(Ordering::Relaxed) {
            0 => rows,
            planned => rows / batch.max(1) * planned.max(batch),
        }
    }

    /// Plans shape-dependent choices for `batch` until the guard is dropped.
    pub(crate) fn plan_for_batch(&self, batch: usize) -> PlanningBatch<'_> {
        self.inner.planning_batch.store(batch, Ordering::Relaxed);
        PlanningBatch(self)
    }

    /// What the adapter reported about itself.
    pub fn summary(&self) -> &AdapterSummary {
        &self.inner.summary
    }

    pub(crate) fn same_device(&self, other: &GpuContext) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Counters of the buffer pool (leak tests and the memory readout use them).
    pub fn pool_stats(&self) -> PoolStats {
        self.inner.pool.stats()
    }

    /// Number of distinct compute pipelines compiled so far.
    pub fn pipeline_count(&self) -> usize {
        self.inner.pipelines.len()
    }

    /// Milliseconds each pipeline took to compile, by label ("conv2d:forward").
    pub fn pipeline_compile_ms(&self) -> std::collections::BTreeMap<String, f64> {
        self.inner.pipelines.compile_ms()
    }

    /// Destroy idle pooled buffers.
    pub fn trim_pool(&self) {
        self.flush();
        // Cached bind groups hold pooled buffers; the ones destroyed here must go too.
        self.inner.launch_cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.inner.pool.trim();
    }

    /// A storage buffer for a tensor of `shape` and `dtype`; `what` names the op and the
    /// role ("conv2d output"), and the error for a size past the device's limits names
    /// them with the shape, the size and the limit.
    pub(crate) fn alloc_tensor(&self, what: &str, shape: &[usize], dtype: DType) -> Result<GpuBuffer> {
        let bytes = crate::limits::checked_bytes(shape, dtype.size()).and_then(|b| u64::try_from(b).ok());
        let describe = || format!("{what} {} {}", fmt_shape(shape), dtype.name());
        self.acquire(Usage::Storage, bytes, &describe)
    }

    /// A storage buffer of at least `bytes`, checked against the device's limits.
    pub(crate) fn alloc(&self, bytes: u64, what: &str) -> Result<GpuBuffer> {
        self.acquire(Usage::Storage, Some(bytes), &|| what.to_string())
    }

    pub(crate) fn alloc_usage(&self, usage: Usage, bytes: u64, what: &dyn Fn() -> String) -> Result<GpuBuffer> {
        self.acquire(usage, Some(bytes), what)
    }

    /// Every buffer comes from here: checked against the limits first, then created (or
    /// reused) inside error scopes, so neither a size past a limit nor running out of GPU
    /// memory loses the device.
    fn acquire(&self, usage: Usage, bytes: Option<u64>, what: &dyn Fn() -> String) -> Result<GpuBuffer> {
        self.check_not_lost()?;
        let cap = BufferLimits::of(&self.inner.limits).check(usage.binding(), bytes, what)?;
        self.inner.pool.acquire(&self.inner.device, usage, bytes.unwrap_or(0), cap, what)
    }

    /// Upload bytes into a fresh storage buffer (length padded to 4 bytes).
    pub(crate) fn upload(&self, bytes: &[u8], what: &str) -> Result<GpuBuffer> {
        let buf = self.alloc(bytes.len() as u64, what)?;
        let whole = bytes.len() / 4 * 4;
        if whole > 0 {
            self.inner.queue.write_buffer(buf.raw(), 0, &bytes[..whole]);
        }
        if whole < bytes.len() {
            let mut tail = [0u8; 4];
            tail[..bytes.len() - whole].copy_from_slice(&bytes[whole..]);
            self.inner.queue.write_buffer(buf.raw(), whole as u64, &tail);
        }
        Ok(buf)
    }

    /// Run `f` with the open command encoder, opening one if needed.
    pub(crate) fn record<R>(&self, f: impl FnOnce(&mut wgpu::CommandEncoder, &mut Recorder) -> R) -> R {
        let mut rec = self.inner.recorder.lock().unwrap_or_else(|p| p.into_inner());
        let mut encoder = match rec.encoder.take() {
            Some(enc) => enc,
            None => {
                self.inner.pool.set_recording(true);
                self.inner.device.create_command_encoder(&Default::default())
            }
        };
        let out = f(&mut encoder, &mut rec);
        rec.encoder = Some(encoder);
        rec.passes += 1;
        let full = rec.passes >= MAX_PASSES_PER_SUBMIT;
        drop(rec);
        if full {
            self.flush();
        }
        out
    }

    /// Submit everything recorded so far.
    pub(crate) fn flush(&self) {
        let mut rec = self.inner.recorder.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(enc) = rec.encoder.take() {
            self.inner.queue.submit(Some(enc.finish()));
            rec.passes = 0;
            self.inner.pool.set_recording(false);
        }
    }

    /// Why the device was lost, or None while it works.
    pub fn lost_reason(&self) -> Option<String> {
        self.inner.lost.reason.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Calls `listener(reason)` once the device is lost.
    pub fn on_lost(&self, listener: impl Fn(&str) + Send + 'static) {
        self.inner.lost.listeners.lock().unwrap_or_else(|p| p.into_inner()).push(Box::new(listener));
    }

    /// An error saying the device is gone, once it is: every later GPU call fails with it.
    pub(crate) fn check_not_lost(&self) -> Result<()> {
        match self.lost_reason() {
            Some(reason) => Err(Error::new(format!("the GPU device was lost ({reason}); the kernel restarts on a new one"))),
            None => Ok(()),
        }
    }

    /// Destroys the device as a driver reset would (tests of the recovery path).
    pub fn destroy_device(&self) {
        self.inner.device.destroy();
    }

    /// Turn a validation error wgpu reported since the last check into an Err. A buffer
    /// the browser refused to create comes first: the errors after it are its consequences.
    pub(crate) async fn take_device_error(&self) -> Result<()> {
        self.check_not_lost()?;
        let allocations = self.inner.pool.errors();
        allocations.settle().await;
        let mut slot = self.inner.device_error.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(refused) = allocations.take() {
            slot.take();
            return Err(Error::new(refused));
        }
        match slot.take() {
            Some(msg) => Err(Error::new(format!("GPU error: {msg}"))),
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuContext({} via {})", self.inner.summary.name, self.inner.summary.backend)
    }
}

/// Ends [`GpuContext::plan_for_batch`] when dropped, errors included.
pub(crate) struct PlanningBatch<'a>(&'a GpuContext);

impl Drop for PlanningBatch<'_> {
    fn drop(&mut self) {
        self.0.inner.planning_batch.store(0, Ordering::Relaxed);
    }
}
