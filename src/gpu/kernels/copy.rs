//! Host code of shaders/copy.wgsl: its uniform block and its launches.

use crate::gpu::params::{uniform_block, Dims, IDims};

uniform_block! {
    /// shaders/copy.wgsl `struct Params`.
    pub(crate) struct CopyParams {
        pub n: u32,
        pub rank: u32,
        pub base: u32,
        pub pad_value: u32,
        pub out_dims: Dims,
        pub src_dims: Dims,
        pub src_strides: Dims,
        pub pad_lo: IDims,
        pub dst_strides: Dims,
    }
}
