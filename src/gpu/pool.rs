//! Buffer pool. Tensors drop their buffers back here instead of destroying them, so a
//! training loop allocates nothing after its first step.
//!
//! A buffer released while commands that use it are still being recorded must not be
//! handed out again before those commands are submitted: `queue.write_buffer` on the new
//! owner would land *before* the recorded reads. Such releases wait in `pending` until
//! the recorder submits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::allocation::{self, AllocationErrors, Binding, FailedFlag};
use crate::error::Result;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Usage {
    Storage,
    Staging,
}

impl Usage {
    fn wgpu(self) -> wgpu::BufferUsages {
        use wgpu::BufferUsages as U;
        match self {
            Usage::Storage => U::STORAGE | U::COPY_SRC | U::COPY_DST,
            Usage::Staging => U::MAP_READ | U::COPY_DST,
        }
    }

    /// How kernels bind it, which decides the device limit it must fit.
    pub(crate) fn binding(self) -> Option<Binding> {
        match self {
            Usage::Storage => Some(Binding::Storage),
            Usage::Staging => None,
        }
    }
}

/// A buffer at rest in the pool, with the mark of a creation the browser may still refuse.
struct Pooled {
    raw: wgpu::Buffer,
    failed: Option<FailedFlag>,
}

/// Counts that tests use to prove nothing leaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Buffers currently owned by tensors or in-flight launches.
    pub live: usize,
    /// Buffers ever created by the pool (grows only on a miss).
    pub created: usize,
    /// Buffers idle in the pool, ready for reuse.
    pub idle: usize,
    /// Bytes of all buffers the pool has created and not destroyed.
    pub bytes: u64,
}

#[derive(Default)]
struct PoolState {
    free: HashMap<(Usage, u64), Vec<Pooled>>,
    pending: Vec<(Usage, u64, Pooled)>,
    recording: bool,
    stats: PoolStats,
}

pub(crate) struct Pool {
    state: Mutex<PoolState>,
    errors: Arc<AllocationErrors>,
}

/// Sizes are rounded to a few classes per power of two: reuse stays likely while
/// the waste stays under 25 %.
fn size_class(bytes: u64) -> u64 {
    let bytes = bytes.max(256);
    let pow = bytes.next_power_of_two();
    if pow == bytes {
        return bytes;
    }
    let quarter = (pow / 8).max(4);
    bytes.div_ceil(quarter) * quarter
}

impl Pool {
    pub(crate) fn new() -> Arc<Pool> {
        Arc::new(Pool { state: Mutex::new(PoolState::default()), errors: Arc::default() })
    }

    /// Failures of buffer creation the browser reported late (see `allocation`).
    pub(crate) fn errors(&self) -> &AllocationErrors {
        &self.errors
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        // A poisoned lock only means another thread panicked mid-update; the maps are
        // still structurally sound, so keep going rather than propagate the panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A buffer of at least `bytes` (already checked against the device's limits, of which
    /// `cap` is the tightest: rounding up to a size class must not pass it).
    pub(crate) fn acquire(
        self: &Arc<Self>,
        device: &wgpu::Device,
        usage: Usage,
        bytes: u64,
        cap: u64,
        what: &dyn Fn() -> String,
    ) -> Result<GpuBuffer> {
        let size = size_class(bytes).min(cap / 4 * 4).max(bytes.div_ceil(4) * 4);
        let mut st = self.lock();
        loop {
            let Some(pooled) = st.free.get_mut(&(usage, size)).and_then(|v| v.pop()) else { break };
            st.stats.idle -= 1;
            if allocation::has_failed(&pooled.failed) {
                st.stats.created -= 1;
                st.stats.bytes -= size;
                continue;
            }
            st.stats.live += 1;
            return Ok(GpuBuffer { raw: Some(pooled.raw), failed: pooled.failed, usage, size, pool: self.clone() });
        }
        let descriptor = wgpu::BufferDescriptor { label: Some("convbook"), size, usage: usage.wgpu(), mapped_at_creation: false };
        let (raw, failed) = allocation::create_buffer(device, &descriptor, what, &self.errors)?;
        st.stats.created += 1;
        st.stats.bytes += size;
        st.stats.live += 1;
        Ok(GpuBuffer { raw: Some(raw), failed, usage, size, pool: self.clone() })
    }

    fn release(&self, usage: Usage, size: u64, pooled: Pooled) {
        let mut st = self.lock();
        st.stats.live -= 1;
        if allocation::has_failed(&pooled.failed) {
            // Never reuse a buffer the browser refused to create.
            st.stats.created -= 1;
            st.stats.bytes -= size;
            return;
        }
        st.stats.idle += 1;
        if st.recording {
            st.pending.push((usage, size, pooled));
        } else {
            st.free.entry((usage, size)).or_default().push(pooled);
        }
    }

    pub(crate) fn set_recording(&self, recording: bool) {
        let mut st = self.lock();
        st.recording = recording;
        if !recording {
            let pending = std::mem::take(&mut st.pending);
            for (usage, size, pooled) in pending {
                st.free.entry((usage, size)).or_default().push(pooled);
            }
        }
    }

    pub(crate) fn stats(&self) -> PoolStats {
        self.lock().stats
    }

    /// Destroy idle buffers (e.g. after a large model is thrown away).
    pub(crate) fn trim(&self) {
        let mut st = self.lock();
        let mut freed = 0u64;
        let mut count = 0usize;
        for ((_, size), bufs) in st.free.drain() {
            for b in bufs {
                b.raw.destroy();
                freed += size;
                count += 1;
            }
        }
        st.stats.bytes -= freed;
        st.stats.idle -= count;
        st.stats.created -= count;
    }
}

/// A pooled GPU buffer; dropping it returns it to the pool.
pub struct GpuBuffer {
    raw: Option<wgpu::Buffer>,
    failed: Option<FailedFlag>,
    usage: Usage,
    size: u64,
    pool: Arc<Pool>,
}

impl GpuBuffer {
    pub(crate) fn raw(&self) -> &wgpu::Buffer {
        // `raw` is only taken in Drop.
        self.raw.as_ref().expect("GpuBuffer used after drop")
    }

    /// Size in bytes (the pool may round requests up).
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl Drop for GpuBuffer {
    fn drop(&mut self) {
        if let Some(raw) = self.raw.take() {
            self.pool.release(self.usage, self.size, Pooled { raw, failed: self.failed.take() });
        }
    }
}

impl std::fmt::Debug for GpuBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuBuffer({:?}, {} bytes)", self.usage, self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::size_class;

    #[test]
    fn size_classes_bound_waste() {
        for bytes in [1u64, 255, 256, 257, 1000, 4096, 4097, 123_456, 10_000_000] {
            let c = size_class(bytes);
            assert!(c >= bytes && c % 4 == 0, "{bytes} -> {c}");
            assert!(c <= (bytes.max(256) * 5) / 4 + 4, "{bytes} -> {c} wastes too much");
        }
    }
}
