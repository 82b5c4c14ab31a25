//! Host code of shaders/loss.wgsl: its uniform block and its launches.

use crate::gpu::params::uniform_block;

uniform_block! {
    /// shaders/loss.wgsl `struct Params`.
    pub(crate) struct LossParams {
        pub rows: u32,
        pub classes: u32,
        pub kind: u32,
        pub from_logits: u32,
        pub target_kind: u32,
        pub has_dy: u32,
        pub partials: u32,
        pub nan_bits: u32,
        pub eps: f32,
        pub one_minus_eps: f32,
        pub inv_count: f32,
        pub _pad: u32,
    }
}
