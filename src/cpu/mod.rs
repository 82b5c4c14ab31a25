//! The fast CPU backend: what `Device::Cpu` runs for f32 tensors, for readers without
//! WebGPU. One cache-blocked GEMM (`gemm`) carries the heavy ops: matmul, and every
//! convolution through im2col (`conv`); depthwise convolutions, which reduce over
//! no channels, have their own vectorized loops (`depthwise`). The plain loops in `reference/` stay the
//! obviously-correct twins: f64 tensors (finite-difference gradient checks) always run
//! them, and [`ReferenceKernels`] / [`with_reference_kernels`] make f32 ops run them too, so tests can hold
//! the GPU and this backend against the same oracle.

pub(crate) mod conv;
pub(crate) mod depthwise;
pub(crate) mod elementwise;
pub(crate) mod gemm;
pub(crate) mod matmul;
pub(crate) mod pool2d;
pub(crate) mod reduce;

use std::cell::Cell;

thread_local! {
    static REFERENCE_ONLY: Cell<bool> = const { Cell::new(false) };
}

/// While alive, f32 ops on `Device::Cpu` run the CPU reference kernels in place of the
/// fast ones, on this thread (the guard cannot leave it); dropping it restores the
/// previous setting. CPU ops are synchronous, so every op started meanwhile is covered.
pub struct ReferenceKernels {
    previous: bool,
    _this_thread: std::marker::PhantomData<*const ()>,
}

impl ReferenceKernels {
    /// Switch this thread to the reference kernels until the guard drops.
    pub fn on() -> ReferenceKernels {
        ReferenceKernels { previous: REFERENCE_ONLY.with(|r| r.replace(true)), _this_thread: std::marker::PhantomData }
    }
}

impl Drop for ReferenceKernels {
    fn drop(&mut self) {
        REFERENCE_ONLY.with(|r| r.set(self.previous));
    }
}

/// Run `f` with the CPU reference kernels in place of the fast ones (see [`ReferenceKernels`]).
pub fn with_reference_kernels<R>(f: impl FnOnce() -> R) -> R {
    let _reference = ReferenceKernels::on();
    f()
}

/// Switches this thread's f32 CPU ops to the reference kernels (true) or back, with no
/// guard: the browser tests' hook flips it between cells to compare the two in wasm,
/// where the fast GEMM runs its SIMD128 micro-kernel that native tests never reach.
#[cfg(feature = "test-hooks")]
pub(crate) fn set_reference_kernels(on: bool) {
    REFERENCE_ONLY.with(|r| r.set(on));
}

/// Whether f32 ops on `Device::Cpu` take the fast kernels here and now.
pub(crate) fn fast_kernels() -> bool {
    !REFERENCE_ONLY.with(|r| r.get())
}
