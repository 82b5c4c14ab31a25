//! GPU → CPU copies. Async because the browser delivers map callbacks from its event
//! loop; natively we poll the device until the map completes.

use super::context::GpuContext;
use super::pool::{GpuBuffer, Usage};
use crate::error::{Error, Result};

static READ_BACK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Bytes copied from any GPU to the host so far, in this process: a test can tell that
/// a loop read back only its scalars, not its data.
pub fn readback_bytes() -> u64 {
    READ_BACK.load(std::sync::atomic::Ordering::Relaxed)
}

impl GpuContext {
    /// The first `len` bytes of `buf`, after all recorded work has run.
    pub(crate) async fn read_bytes(&self, buf: &GpuBuffer, len: u64) -> Result<Vec<u8>> {
        let padded = len.div_ceil(4) * 4;
        READ_BACK.fetch_add(len, std::sync::atomic::Ordering::Relaxed);
        if padded == 0 {
            return Ok(Vec::new());
        }
        let staging = self.alloc_usage(Usage::Staging, padded, &|| format!("reading back a tensor of {len} bytes"))?;
        self.record(|enc, _| enc.copy_buffer_to_buffer(buf.raw(), 0, staging.raw(), 0, padded));
        self.flush();

        let (tx, rx) = futures_channel::oneshot::channel();
        staging.raw().slice(..padded).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        #[cfg(not(target_arch = "wasm32"))]
        self.inner
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::new(format!("GPU device poll failed: {e}")))?;
        let mapped = rx.await.map_err(|_| Error::new("GPU readback was cancelled"));
        // A lost device fails every map: say that, not "readback failed".
        self.check_not_lost()?;
        mapped?.map_err(|e| Error::new(format!("GPU readback failed: {e}")))?;
        // Unmap before looking at errors: a still-mapped buffer back in the pool would
        // poison every later submission.
        let bytes = staging
            .raw()
            .slice(..padded)
            .get_mapped_range()
            .map(|view| view[..len as usize].to_vec())
            .map_err(|e| Error::new(format!("GPU readback failed: {e}")));
        staging.raw().unmap();
        self.take_device_error().await?;
        let bytes = bytes?;
        Ok(bytes)
    }

    /// Wait for all submitted work (and report any validation error it raised).
    pub async fn sync(&self) -> Result<()> {
        let probe = self.alloc_usage(Usage::Storage, 4, &|| "sync".to_string())?;
        self.read_bytes(&probe, 4).await.map(|_| ())
    }
}
