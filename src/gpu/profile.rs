//! Per-kernel timing for the bench: while on, every launch waits for the work before it,
//! then submits alone and waits for itself, so its wall time is the kernel's time on
//! the device plus one submit's overhead. Too slow for anything but measuring.

use std::collections::HashMap;
use std::time::Instant;

use super::context::GpuContext;
use super::shaders::Stem;
use crate::error::Result;

/// Launches and seconds of one `stem::entry` since profiling began.
#[derive(Clone, Debug)]
pub struct KernelTime {
    /// "stem::entry", e.g. "depthwise_conv2d::grad_kernel".
    pub kernel: String,
    /// Dispatches of it.
    pub launches: usize,
    /// Their summed wall time, each synced on its own.
    pub secs: f64,
}

#[derive(Default)]
pub(crate) struct Profile {
    times: HashMap<(Stem, &'static str), (usize, f64)>,
}

impl GpuContext {
    /// Start timing every launch (each then submits and waits on its own). Native only:
    /// the browser can neither block on the device nor read a monotonic clock here.
    pub fn start_kernel_profile(&self) -> Result<()> {
        if cfg!(target_arch = "wasm32") {
            return Err(crate::error::Error::new("kernel profiles need a native GPU: the browser cannot wait on the device"));
        }
        self.flush();
        *self.inner.profile.lock().unwrap_or_else(|p| p.into_inner()) = Some(Profile::default());
        Ok(())
    }

    /// Stop timing; the kernels timed since the start, slowest first.
    pub fn take_kernel_profile(&self) -> Vec<KernelTime> {
        let taken = self.inner.profile.lock().unwrap_or_else(|p| p.into_inner()).take();
        let mut out: Vec<KernelTime> = taken
            .map(|p| p.times)
            .unwrap_or_default()
            .into_iter()
            .map(|((stem, entry), (launches, secs))| KernelTime { kernel: format!("{}::{entry}", stem.name()), launches, secs })
            .collect();
        out.sort_by(|a, b| b.secs.total_cmp(&a.secs));
        out
    }

    pub(crate) fn profiling(&self) -> bool {
        self.inner.profile.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// Submit what is recorded and wait for the device to drain.
    fn drain(&self) -> Result<()> {
        self.flush();
        #[cfg(not(target_arch = "wasm32"))]
        self.inner
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| crate::error::Error::new(format!("GPU device poll failed: {e}")))?;
        Ok(())
    }

    /// Run `record` (one launch) timed on its own, if profiling is on.
    pub(crate) fn profiled(&self, stem: Stem, entry: &'static str, record: impl FnOnce() -> Result<()>) -> Result<()> {
        if !self.profiling() {
            return record();
        }
        self.drain()?;
        let started = Instant::now();
        record()?;
        self.drain()?;
        let secs = started.elapsed().as_secs_f64();
        if let Some(p) = self.inner.profile.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            let slot = p.times.entry((stem, entry)).or_default();
            slot.0 += 1;
            slot.1 += secs;
        }
        Ok(())
    }
}
