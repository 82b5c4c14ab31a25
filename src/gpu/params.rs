//! Typed uniform blocks. Each WGSL `struct Params` has one `#[repr(C)]` Rust twin,
//! declared with [`uniform_block!`] beside its stem's host code and written as bytes.
//! The macro also records every field's name, offset and type, so a test can hold the
//! Rust struct against the WGSL one (naga reflection) and fail on a reordered, renamed
//! or missing field.

use crate::ops::geometry::Window2d;
use crate::shape::MAX_RANK;

/// A shape-sized list as WGSL's `array<vec4<u32>, 2>` (MAX_RANK slots, zero-filled).
pub type Dims = [u32; MAX_RANK];
/// Signed twin of [`Dims`]: `array<vec4<i32>, 2>`.
pub type IDims = [i32; MAX_RANK];

/// One field of a uniform block as the shader sees it: name, byte offset, WGSL type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub offset: usize,
    pub wgsl_type: &'static str,
}

/// Something that occupies bytes of a uniform block. Scalars and arrays add one field;
/// a nested block (the shared conv-family geometry) adds its own fields in place, so
/// the WGSL side declares them flat.
pub trait Member {
    fn fields(name: &'static str, offset: usize, out: &mut Vec<Field>);
}

macro_rules! scalar_member {
    ($($ty:ty => $wgsl:literal),* $(,)?) => {
        $(impl Member for $ty {
            fn fields(name: &'static str, offset: usize, out: &mut Vec<Field>) {
                out.push(Field { name, offset, wgsl_type: $wgsl });
            }
        })*
    };
}
scalar_member!(u32 => "u32", i32 => "i32", f32 => "f32", Dims => "array<vec4<u32>, 2>", IDims => "array<vec4<i32>, 2>");

/// A complete uniform block: plain bytes the shader reads as its `struct Params`.
pub trait UniformBlock: bytemuck::Pod + Member {
    /// Every field in declaration order, nested blocks flattened.
    fn layout() -> Vec<Field> {
        let mut out = Vec::new();
        Self::fields("", 0, &mut out);
        out
    }
}

/// Declare a `#[repr(C)]` uniform block and record its layout. Fields are `u32`, `i32`,
/// `f32`, [`Dims`], [`IDims`] or another block (flattened); name padding fields as
/// the shader does, so the byte sizes agree too.
macro_rules! uniform_block {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
        $vis struct $name { $($(#[$fmeta])* $fvis $field: $ty),* }

        impl $crate::gpu::params::Member for $name {
            fn fields(_name: &'static str, offset: usize, out: &mut Vec<$crate::gpu::params::Field>) {
                $(<$ty as $crate::gpu::params::Member>::fields(
                    stringify!($field),
                    offset + std::mem::offset_of!($name, $field),
                    out,
                );)*
            }
        }

        impl $crate::gpu::params::UniformBlock for $name {}
    };
}
pub(crate) use uniform_block;

/// `values` zero-filled to MAX_RANK slots.
pub fn dims(values: &[usize]) -> Dims {
    let mut d = [0; MAX_RANK];
    for (slot, &v) in d.iter_mut().zip(values) {
        *slot = v as u32;
    }
    d
}

/// Signed `dims` (e.g. padding offsets).
pub fn idims(values: &[i64]) -> IDims {
    let mut d = [0; MAX_RANK];
    for (slot, &v) in d.iter_mut().zip(values) {
        *slot = v as i32;
    }
    d
}

uniform_block! {
    /// The geometry words conv2d, conv_transpose2d, depthwise_conv2d and pool2d share:
    /// each of their `struct Params` starts with these fields, in this order.
    pub struct WindowWords {
        pub batch: u32,
        pub in_h: u32,
        pub in_w: u32,
        pub in_c: u32,
        pub out_h: u32,
        pub out_w: u32,
        pub k_h: u32,
        pub k_w: u32,
        pub stride_h: u32,
        pub stride_w: u32,
        pub dil_h: u32,
        pub dil_w: u32,
        pub pad_top: u32,
        pub pad_left: u32,
    }
}

impl WindowWords {
    /// The one `Window2d → params` builder of the conv family.
    pub fn new(batch: usize, win: &Window2d, in_c: usize) -> Self {
        let w = |v: usize| v as u32;
        WindowWords {
            batch: w(batch),
            in_h: w(win.h.input),
            in_w: w(win.w.input),
            in_c: w(in_c),
            out_h: w(win.h.output),
            out_w: w(win.w.output),
            k_h: w(win.h.kernel),
            k_w: w(win.w.kernel),
            stride_h: w(win.h.stride),
            stride_w: w(win.w.stride),
            dil_h: w(win.h.dilation),
            dil_w: w(win.w.dilation),
            pad_top: w(win.h.pad_before),
            pad_left: w(win.w.pad_before),
        }
    }
}
