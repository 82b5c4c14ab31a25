//! Host code of shaders/optim_update.wgsl: its uniform block and its launches.

use crate::gpu::params::uniform_block;

uniform_block! {
    /// shaders/optim_update.wgsl `struct Params`.
    pub(crate) struct OptimUpdateParams {
        pub n: u32,
        pub missing: u32,
        pub nesterov: u32,
        pub _pad: u32,
        pub lr: f32,
        pub momentum: f32,
        pub rho: f32,
        pub one_minus_rho: f32,
        pub epsilon: f32,
        pub one_minus_beta_1: f32,
        pub one_minus_beta_2: f32,
        pub alpha: f32,
    }
}
