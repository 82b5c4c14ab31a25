//! Host code of shaders/image_transform.wgsl: its uniform block and its launches.

use crate::gpu::params::uniform_block;

uniform_block! {
    /// shaders/image_transform.wgsl `struct Params`.
    pub(crate) struct ImageTransformParams {
        pub batch: u32,
        pub height: u32,
        pub width: u32,
        pub channels: u32,
        pub fill_mode: u32,
        pub interpolation: u32,
        pub fill_value: f32,
        pub _pad: u32,
    }
}
