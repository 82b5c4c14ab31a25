//! Host code of shaders/matmul.wgsl: its uniform block and its launches.

use crate::gpu::params::uniform_block;

uniform_block! {
    /// shaders/matmul.wgsl `struct Params`.
    pub(crate) struct MatmulParams {
        pub m: u32,
        pub n: u32,
        pub k: u32,
        pub trans_a: u32,
        pub trans_b: u32,
        pub a_batch_stride: u32,
        pub b_batch_stride: u32,
        pub batch0: u32,
    }
}
