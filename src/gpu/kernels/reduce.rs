//! Host code of shaders/reduce.wgsl: its uniform block and its launches.

use crate::gpu::params::uniform_block;

uniform_block! {
    /// shaders/reduce.wgsl `struct Params`.
    pub(crate) struct ReduceParams {
        pub outer: u32,
        pub len: u32,
        pub inner: u32,
        pub op: u32,
    }
}
