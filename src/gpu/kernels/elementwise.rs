//! Host code of shaders/elementwise.wgsl: its uniform block and its launches.

use crate::gpu::params::{uniform_block, Dims};

uniform_block! {
    /// shaders/elementwise.wgsl `struct Params`.
    pub(crate) struct ElementwiseParams {
        pub n: u32,
        pub op: u32,
        pub rank: u32,
        pub _pad0: u32,
        pub p0: f32,
        pub p1: f32,
        pub _pad1: u32,
        pub _pad2: u32,
        pub out_dims: Dims,
        pub a_strides: Dims,
        pub b_strides: Dims,
    }
}
