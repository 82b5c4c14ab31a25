//! The matmul kernels (tiled, and one workgroup per output for few outputs) vs the CPU
//! reference on odd and batched shapes.

mod common;
use common::*;

use convbook::ops::matmul::matmul_t;
use rand::Rng;

#[test]
fn odd_sizes_match_reference() {
    let mut r = rng(7);
    // Up to 16 columns and 1024 outputs over a reduction of 128 or more take the
    // per-output kernel: a Dense layer at batch 1 (1 x 512 @ 512 x 1) and at batch 16 into
    // 10 classes, and products on each side of each line.
    let sizes = [
        (1, 1, 1),
        (1, 7, 3),
        (17, 33, 65),
        (70, 130, 3),
        (64, 64, 64),
        (65, 63, 129),
        (3, 200, 1),
        (1, 512, 1),
        (16, 1152, 10),
        (64, 300, 16),
        (65, 300, 16),
        (8, 300, 17),
        (8, 128, 4),
        (8, 127, 4),
    ];
    for &(m, k, n) in &sizes {
        let a = random_vec(&mut r, m * k, -1.0, 1.0);
        let b = random_vec(&mut r, k * n, -1.0, 1.0);
        let (g, c) = on_both(&[(a, vec![m, k]), (b, vec![k, n])], |t| t[0].matmul(&t[1]));
        assert_close(&g, &c, 1e-4, 1e-5, &format!("{m}x{k} @ {k}x{n}"));
    }
}

#[test]
fn transposed_and_batched_operands() {
    let mut r = rng(8);
    for trial in 0..24 {
        let (m, k, n) = (r.random_range(1..80), r.random_range(1..80), r.random_range(1..80));
        let batch = r.random_range(1..4);
        let (ta, tb) = (trial % 2 == 1, trial / 2 % 2 == 1);
        let a_batched = trial % 3 != 0;
        let b_batched = trial % 3 != 1;
        let mut sa = if ta { vec![k, m] } else { vec![m, k] };
        let mut sb = if tb { vec![n, k] } else { vec![k, n] };
        if a_batched {
            sa.insert(0, batch);
        }
        if b_batched {
            sb.insert(0, batch);
        }
        let a = random_vec(&mut r, sa.iter().product(), -1.0, 1.0);
        let b = random_vec(&mut r, sb.iter().product(), -1.0, 1.0);
        let (g, c) = on_both(&[(a, sa.clone()), (b, sb.clone())], |t| matmul_t(&t[0], &t[1], ta, tb));
        assert_close(&g, &c, 1e-4, 1e-5, &format!("{sa:?}{} @ {sb:?}{}", if ta { "ᵀ" } else { "" }, if tb { "ᵀ" } else { "" }));
    }
}

#[test]
fn mismatched_shapes_name_both_operands() {
    let g = gpu();
    let a = convbook::Tensor::from_f32(&g, vec![0.0; 6], &[2, 3]).unwrap();
    let e = a.matmul(&a).unwrap_err();
    assert!(e.message().contains("(2, 3)") && e.message().contains("inner dimensions"), "{e}");
    let b = convbook::Tensor::from_f32(&g, vec![0.0; 24], &[2, 3, 4]).unwrap();
    let c = convbook::Tensor::from_f32(&g, vec![0.0; 36], &[3, 4, 3]).unwrap();
    assert!(b.matmul(&c).unwrap_err().message().contains("batch"));
}
