//! Weight initializers with Keras's names and fan computations. Values are drawn on
//! the CPU from a seeded generator and uploaded when a model moves to a device.

use std::cell::RefCell;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::error::Result;
use crate::tensor::Tensor;
use crate::bail;

/// A Keras weight initializer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Initializer {
    /// `glorot_uniform`: the default of kernels.
    GlorotUniform,
    /// `he_normal`: truncated normal scaled by fan-in.
    HeNormal,
    /// `zeros`: the default of biases.
    Zeros,
    /// `ones`.
    Ones,
}

impl Initializer {
    /// Keras's name ("glorot_uniform", "he_normal", "zeros", "ones").
    pub fn parse(name: &str) -> Result<Initializer> {
        Ok(match name {
            "glorot_uniform" => Initializer::GlorotUniform,
            "he_normal" => Initializer::HeNormal,
            "zeros" => Initializer::Zeros,
            "ones" => Initializer::Ones,
            other => bail!("unknown initializer '{other}': use glorot_uniform, he_normal, zeros or ones"),
        })
    }
}

thread_local! {
    static RNG: RefCell<SmallRng> = RefCell::new(SmallRng::seed_from_u64(1337));
}

/// Keras `keras.utils.set_random_seed`: makes initial weights (and dropout masks)
/// reproducible.
pub fn set_random_seed(seed: u64) {
    RNG.with(|r| *r.borrow_mut() = SmallRng::seed_from_u64(seed));
}

/// A fresh generator seeded from the global stream (for dropout and augmentation).
pub(crate) fn fork_rng() -> SmallRng {
    RNG.with(|r| SmallRng::seed_from_u64(r.borrow_mut().random()))
}

/// Keras `compute_fans`: the receptive field multiplies both fans for conv kernels.
fn fans(shape: &[usize]) -> (f64, f64) {
    match shape.len() {
        0 => (1.0, 1.0),
        1 => (shape[0] as f64, shape[0] as f64),
        2 => (shape[0] as f64, shape[1] as f64),
        n => {
            let receptive: usize = shape[..n - 2].iter().product();
            ((receptive * shape[n - 2]) as f64, (receptive * shape[n - 1]) as f64)
        }
    }
}

/// A fresh tensor of `shape` drawn from `init` with the seeded stream.
pub fn initialize(init: Initializer, shape: &[usize]) -> Result<Tensor> {
    Ok(initial_value(init, shape))
}

/// A new weight of `shape` drawn from the seeded stream (the caller has checked its size).
pub(crate) fn initial_value(init: Initializer, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let data: Vec<f32> = match init {
        Initializer::Zeros => vec![0.0; n],
        Initializer::Ones => vec![1.0; n],
        Initializer::GlorotUniform => {
            let (fan_in, fan_out) = fans(shape);
            let limit = (6.0 / (fan_in + fan_out)).sqrt() as f32;
            RNG.with(|r| {
                let mut r = r.borrow_mut();
                (0..n).map(|_| r.random_range(-limit..limit)).collect()
            })
        }
        Initializer::HeNormal => {
            // Truncated normal (|z| <= 2), stddev sqrt(2 / fan_in) / .87962566 as Keras.
            let std = ((2.0 / fans(shape).0).sqrt() / 0.879_625_661_034_239_8) as f32;
            RNG.with(|r| {
                let mut r = r.borrow_mut();
                (0..n)
                    .map(|_| loop {
                        let (u1, u2): (f32, f32) = (r.random_range(f32::EPSILON..1.0), r.random());
                        let z = (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos();
                        if z.abs() <= 2.0 {
                            break z * std;
                        }
                    })
                    .collect()
            })
        }
    };
    Tensor::from_cpu(shape, crate::tensor::CpuData::F32(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glorot_limits_follow_keras_fans() {
        assert_eq!(fans(&[3, 3, 32, 64]), (288.0, 576.0));
        assert_eq!(fans(&[128, 10]), (128.0, 10.0));
        set_random_seed(0);
        let t = initialize(Initializer::GlorotUniform, &[3, 3, 32, 64]).unwrap();
        let v = pollster::block_on(t.to_f32_vec()).unwrap();
        let limit = (6.0f32 / (288.0 + 576.0)).sqrt();
        assert!(v.iter().all(|x| x.abs() <= limit));
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        assert!(mean.abs() < 0.01 && v.iter().any(|x| x.abs() > limit * 0.9));
    }
}
