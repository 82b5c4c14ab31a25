//! How much tensor storage lives in host memory: the CPU backend's answer to the GPU
//! buffer pool's counters, so `engine.stats()`, the soak tests and the bench can see a
//! leak on the CPU path too. Counted per process (wasm has one thread and one engine).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

static LIVE: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static CREATED: AtomicUsize = AtomicUsize::new(0);

/// Host tensor storage alive right now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct HostMemoryStats {
    /// Host storages alive (reshapes and clones share one).
    pub live: usize,
    /// Bytes of element data they hold.
    pub bytes: u64,
    /// Host storages ever made (grows with every op on the CPU; a leak shows in `live`).
    pub created: usize,
}

/// The counters now.
pub fn host_memory_stats() -> HostMemoryStats {
    HostMemoryStats { live: LIVE.load(Ordering::Relaxed), bytes: BYTES.load(Ordering::Relaxed), created: CREATED.load(Ordering::Relaxed) }
}

/// Held by each host storage: counted when made, uncounted when dropped, so the
/// counts cannot drift from the storages that exist.
#[derive(Debug)]
pub(crate) struct HostCharge {
    bytes: u64,
}

impl HostCharge {
    pub(crate) fn new(bytes: usize) -> HostCharge {
        LIVE.fetch_add(1, Ordering::Relaxed);
        CREATED.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
        HostCharge { bytes: bytes as u64 }
    }
}

impl Drop for HostCharge {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
        BYTES.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Device, Tensor};

    // The counters are process-wide and other unit tests run beside this one, so it
    // checks only what those cannot undo: its own tensor is counted while it lives.
    #[test]
    fn a_host_tensor_is_counted_while_it_lives() {
        let before = host_memory_stats();
        let t = Tensor::from_f32(&Device::Cpu, vec![0.0; 1 << 20], &[1 << 20]).unwrap();
        let during = host_memory_stats();
        assert!(during.created > before.created);
        assert!(during.bytes >= 4 << 20, "{during:?}");
        let view = t.reshape(&[1024, 1024]).unwrap();
        drop(t);
        assert!(host_memory_stats().bytes >= 4 << 20, "a reshape keeps the storage alive");
        drop(view);
    }
}
