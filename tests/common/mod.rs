//! Helpers shared by the native test binaries.
#![allow(dead_code)]

pub mod keras;

use std::sync::OnceLock;

use convbook::{Device, Result, Tensor};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// The GPU every test in a binary shares (lavapipe on CI). Missing Vulkan is a failure,
/// not a skip: these tests exist to run the real shaders.
pub fn gpu() -> Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            pollster::block_on(Device::gpu())
                .expect("no GPU adapter: install mesa-vulkan-drivers (lavapipe) or run `cargo xtask test`")
        })
        .clone()
}

pub fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    pollster::block_on(f)
}

pub fn rng(seed: u64) -> SmallRng {
    SmallRng::seed_from_u64(seed)
}

pub fn random_vec(rng: &mut SmallRng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

pub fn random_shape(rng: &mut SmallRng, rank: usize, max_dim: usize) -> Vec<usize> {
    (0..rank).map(|_| rng.random_range(1..=max_dim)).collect()
}

/// |got - want| <= atol + rtol * |want|, elementwise, with a readable failure.
pub fn assert_close(got: &[f32], want: &[f32], rtol: f32, atol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length {} vs {}", got.len(), want.len());
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = (g - w).abs() <= atol + rtol * w.abs() || (g.is_nan() && w.is_nan()) || g == w;
        assert!(ok, "{what}: element {i}: GPU {g} vs CPU {w} (of {})", got.len());
    }
}

/// Build the same f32 inputs on CPU and GPU, run `op` on both (the CPU with its reference
/// kernels), return (gpu, cpu) values.
pub fn on_both(inputs: &[(Vec<f32>, Vec<usize>)], op: impl Fn(&[Tensor]) -> Result<Tensor>) -> (Vec<f32>, Vec<f32>) {
    let make = |device: &Device| -> Vec<Tensor> {
        inputs.iter().map(|(data, shape)| Tensor::from_f32(device, data.clone(), shape).unwrap()).collect()
    };
    let g = op(&make(&gpu())).expect("GPU op failed");
    // The GPU is held against the reference loops, not the fast CPU backend.
    let c = convbook::cpu::with_reference_kernels(|| op(&make(&Device::Cpu))).expect("CPU op failed");
    assert_eq!(g.shape(), c.shape(), "GPU and CPU output shapes differ");
    assert_eq!(g.dtype(), c.dtype(), "GPU and CPU output dtypes differ");
    (block(g.to_f32_vec()).unwrap(), block(c.to_f32_vec()).unwrap())
}
