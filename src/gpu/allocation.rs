//! Creating GPU buffers so that a refused one is an error naming the op, never a lost
//! device or a silently broken result.
//!
//! Two guards. Before creating, the size is compared with the device's
//! `maxStorageBufferBindingSize` / `maxBufferSize` ([`BufferLimits`]): a buffer past them
//! would fail validation and every kernel using it would then fail with a message about
//! bind groups, not about the layer that asked. Around creating, WebGPU error scopes catch
//! what only the driver knows: running out of memory. Natively wgpu answers a popped
//! scope at once, so the op gets its error right away; in the browser the answer is a
//! promise, so the buffer is handed out, the answer is awaited in the background, and
//! the next sync point (a readback) reports it by name ([`AllocationErrors::settle`]).
//! A buffer whose creation failed is marked so the pool never hands it out again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::limits::fmt_bytes_u64;

/// Set once the browser reports that creating the buffer failed.
pub(crate) type FailedFlag = Arc<AtomicBool>;

/// The device limits a buffer must fit, in WebGPU's names (what readers look up).
#[derive(Clone, Copy, Debug)]
pub(crate) struct BufferLimits {
    pub(crate) max_buffer_size: u64,
    pub(crate) max_storage_buffer_binding_size: u64,
    pub(crate) max_uniform_buffer_binding_size: u64,
}

impl BufferLimits {
    pub(crate) fn of(limits: &wgpu::Limits) -> BufferLimits {
        BufferLimits {
            max_buffer_size: limits.max_buffer_size,
            max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
            max_uniform_buffer_binding_size: limits.max_uniform_buffer_binding_size,
        }
    }

    /// The tightest limit on a buffer bound as storage (every tensor is), or as a
    /// uniform block, or only copied into (staging): its WebGPU name and value.
    pub(crate) fn tightest(&self, binding: Option<Binding>) -> (&'static str, u64) {
        let buffer = ("maxBufferSize", self.max_buffer_size);
        let bound = match binding {
            Some(Binding::Storage) => ("maxStorageBufferBindingSize", self.max_storage_buffer_binding_size),
            Some(Binding::Uniform) => ("maxUniformBufferBindingSize", self.max_uniform_buffer_binding_size),
            None => return buffer,
        };
        if bound.1 <= buffer.1 {
            bound
        } else {
            buffer
        }
    }

    /// Refuses `bytes` (None: past u64) when they exceed the tightest limit; `what` names
    /// the op and the tensor ("conv2d output (64, 224, 224, 64) float32"). Returns the
    /// limit, which caps the pool's rounding up.
    pub(crate) fn check(&self, binding: Option<Binding>, bytes: Option<u64>, what: &dyn Fn() -> String) -> Result<u64> {
        let (name, limit) = self.tightest(binding);
        match bytes {
            Some(b) if b <= limit => Ok(limit),
            Some(b) => Err(Error::new(format!(
                "{}: {b} bytes ({}) exceed this GPU's {name} of {limit} bytes ({}); use a smaller batch size or input",
                what(),
                fmt_bytes_u64(b),
                fmt_bytes_u64(limit)
            ))),
            None => Err(Error::new(format!(
                "{}: the size overflows, far past this GPU's {name} of {limit} bytes ({})",
                what(),
                fmt_bytes_u64(limit)
            ))),
        }
    }
}

/// How a buffer is bound by kernels, which decides the limit it must fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Binding {
    Storage,
    Uniform,
}

/// Allocation failures the browser reported after the buffer was handed out.
#[derive(Default)]
pub(crate) struct AllocationErrors {
    /// The first failure's message; later ones are usually its consequences.
    first: Mutex<Option<String>>,
    /// One receiver per answer not yet in (the browser only).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pending: Mutex<Vec<futures_channel::oneshot::Receiver<()>>>,
}

impl AllocationErrors {
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    fn record(&self, message: String) {
        let mut first = self.first.lock().unwrap_or_else(|p| p.into_inner());
        if first.is_none() {
            *first = Some(message);
        }
    }

    /// Waits for every outstanding answer about buffers created so far.
    pub(crate) async fn settle(&self) {
        let pending = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        for answer in pending {
            // A dropped sender only means the device went away: the loss is reported elsewhere.
            let _ = answer.await;
        }
    }

    /// The first reported failure, once (later sync points start afresh).
    pub(crate) fn take(&self) -> Option<String> {
        self.first.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

fn failure_message(what: &str, size: u64, error: &wgpu::Error) -> String {
    let kind = match error {
        wgpu::Error::OutOfMemory { .. } => "the GPU ran out of memory creating",
        _ => "the GPU refused",
    };
    format!("{what}: {kind} a buffer of {size} bytes ({}): {error}", fmt_bytes_u64(size))
}

/// `device.create_buffer` inside out-of-memory and validation error scopes. Returns the
/// buffer and, where the answer comes later (the browser), the flag that marks it failed.
pub(crate) fn create_buffer(
    device: &wgpu::Device,
    descriptor: &wgpu::BufferDescriptor<'_>,
    what: &dyn Fn() -> String,
    errors: &Arc<AllocationErrors>,
) -> Result<(wgpu::Buffer, Option<FailedFlag>)> {
    let memory = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let buffer = device.create_buffer(descriptor);
    // Scopes pop in reverse order; a popped scope takes effect at once, whenever its
    // answer is read.
    let invalid = validation.pop();
    let out_of_memory = memory.pop();
    let answer = async move {
        let invalid = invalid.await;
        out_of_memory.await.or(invalid)
    };
    settle_answer(buffer, descriptor.size, answer, what, errors)
}

#[cfg(not(target_arch = "wasm32"))]
fn settle_answer(
    buffer: wgpu::Buffer,
    size: u64,
    answer: impl std::future::Future<Output = Option<wgpu::Error>>,
    what: &dyn Fn() -> String,
    _errors: &Arc<AllocationErrors>,
) -> Result<(wgpu::Buffer, Option<FailedFlag>)> {
    // wgpu-core answers popped scopes synchronously: this returns at once.
    match pollster::block_on(answer) {
        None => Ok((buffer, None)),
        Some(error) => {
            buffer.destroy();
            Err(Error::new(failure_message(&what(), size, &error)))
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn settle_answer(
    buffer: wgpu::Buffer,
    size: u64,
    answer: impl std::future::Future<Output = Option<wgpu::Error>> + 'static,
    what: &dyn Fn() -> String,
    errors: &Arc<AllocationErrors>,
) -> Result<(wgpu::Buffer, Option<FailedFlag>)> {
    let flag = FailedFlag::default();
    let (done, answered) = futures_channel::oneshot::channel();
    errors.pending.lock().unwrap_or_else(|p| p.into_inner()).push(answered);
    let (what, errors_sink, failed) = (what(), errors.clone(), flag.clone());
    wasm_bindgen_futures::spawn_local(async move {
        if let Some(error) = answer.await {
            failed.store(true, Ordering::Relaxed);
            errors_sink.record(failure_message(&what, size, &error));
        }
        let _ = done.send(());
    });
    Ok((buffer, Some(flag)))
}

/// Whether a buffer is known to have failed creation (and must not be reused).
pub(crate) fn has_failed(flag: &Option<FailedFlag>) -> bool {
    flag.as_ref().is_some_and(|f| f.load(Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(buffer: u64, storage: u64) -> BufferLimits {
        BufferLimits { max_buffer_size: buffer, max_storage_buffer_binding_size: storage, max_uniform_buffer_binding_size: 65536 }
    }

    #[test]
    fn the_tightest_limit_is_named() {
        let what = || "conv2d output (64, 224, 224, 64) float32".to_string();
        let e = limits(256 << 20, 128 << 20).check(Some(Binding::Storage), Some(822_083_584), &what).unwrap_err();
        assert_eq!(
            e.message(),
            "conv2d output (64, 224, 224, 64) float32: 822083584 bytes (784.0 MiB) exceed this GPU's \
             maxStorageBufferBindingSize of 134217728 bytes (128.0 MiB); use a smaller batch size or input"
        );
        let e = limits(1 << 20, 128 << 20).check(Some(Binding::Storage), Some(2 << 20), &what).unwrap_err();
        assert!(e.message().contains("maxBufferSize of 1048576 bytes"), "{e}");
        let e = limits(1 << 30, 1 << 30).check(None, None, &what).unwrap_err();
        assert!(e.message().contains("the size overflows"), "{e}");
        assert_eq!(limits(1 << 30, 1 << 20).check(None, Some(2 << 20), &what).unwrap(), 1 << 30);
        assert_eq!(limits(1 << 30, 1 << 20).check(Some(Binding::Storage), Some(1 << 20), &what).unwrap(), 1 << 20);
    }

    /// The error-scope path on its own (the limit checks normally stop such a buffer
    /// first): wgpu's refusal becomes an error naming the op, not an uncaptured error.
    #[test]
    fn a_refused_creation_is_an_error_and_the_device_lives_on() {
        use crate::{Device, Tensor};
        let ctx = pollster::block_on(crate::gpu::GpuContext::with_buffer_limits(1 << 20, 1 << 20)).expect("GPU");
        let errors = Arc::new(AllocationErrors::default());
        let descriptor = wgpu::BufferDescriptor {
            label: None,
            size: 4 << 20,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        };
        let what = || "test output (1048576,) float32".to_string();
        let e = create_buffer(&ctx.inner.device, &descriptor, &what, &errors).unwrap_err();
        assert!(
            e.message().starts_with("test output (1048576,) float32: the GPU refused a buffer of 4194304 bytes (4.0 MiB): "),
            "{e}"
        );
        let device = Device::Gpu(ctx);
        let t = Tensor::from_f32(&device, vec![1.0, 2.0], &[2]).unwrap();
        assert_eq!(pollster::block_on(t.to_f32_vec()).unwrap(), vec![1.0, 2.0]);
        pollster::block_on(device.sync()).expect("the refusal reached the uncaptured-error handler");
    }
}
