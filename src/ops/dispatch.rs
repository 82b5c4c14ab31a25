//! The one place an op chooses between devices. An op checks its arguments once, then
//! hands `on_device!` a CPU body and a GPU body:
//!
//! ```text
//! on_device!(device, x.dtype(), OP,
//!     cpu::<F> => { /* reference kernel on F::slice(x, OP)?, F = f32 or f64 */ },
//!     gpu(ctx) => { /* launch through gpu::kernels::<stem> */ })
//! ```
//!
//! The CPU body is compiled once per float type, with `F` naming it (the reference
//! kernels are generic over f32/f64, so f64 gradient checks run the same code); a
//! tensor of another dtype is an error naming the op. Ops whose CPU side is not a float
//! kernel (casts, fills, copies of any dtype) use the `cpu => ...` form.
//!
//! Ops with a fast CPU kernel (crate::cpu) name it first:
//!
//! ```text
//! on_device!(device, x.dtype(), OP,
//!     fast_f32 => { /* crate::cpu kernel on f32 data */ },
//!     cpu::<F> => { /* reference kernel */ },
//!     gpu(ctx) => { ... })
//! ```
//! f32 tensors take the fast body unless `cpu::with_reference_kernels` is in force; f64
//! tensors always take the reference (the gradient checks' oracle).

/// See the module documentation.
macro_rules! on_device {
    ($device:expr, $dtype:expr, $op:expr, cpu::<$F:ident> => $cpu:expr, gpu($ctx:ident) => $gpu:expr $(,)?) => {
        match $device {
            $crate::device::Device::Gpu($ctx) => $gpu,
            $crate::device::Device::Cpu => match $dtype {
                $crate::tensor::DType::F32 => {
                    #[allow(dead_code)]
                    type $F = f32;
                    #[allow(unused_imports)]
                    use $crate::ops::CpuFloat as _;
                    $cpu
                }
                $crate::tensor::DType::F64 => {
                    #[allow(dead_code)]
                    type $F = f64;
                    #[allow(unused_imports)]
                    use $crate::ops::CpuFloat as _;
                    $cpu
                }
                other => $crate::bail!("{}: expected a float tensor, got {}", $op, other.name()),
            },
        }
    };
    ($device:expr, $dtype:expr, $op:expr, fast_f32 => $fast:expr, cpu::<$F:ident> => $cpu:expr, gpu($ctx:ident) => $gpu:expr $(,)?) => {
        match ($device, $dtype) {
            ($crate::device::Device::Cpu, $crate::tensor::DType::F32) if $crate::cpu::fast_kernels() => $fast,
            (device, dtype) => $crate::ops::on_device!(device, dtype, $op, cpu::<$F> => $cpu, gpu($ctx) => $gpu),
        }
    };
    ($device:expr, cpu => $cpu:expr, gpu($ctx:ident) => $gpu:expr $(,)?) => {
        match $device {
            $crate::device::Device::Gpu($ctx) => $gpu,
            $crate::device::Device::Cpu => $cpu,
        }
    };
}
pub(crate) use on_device;
