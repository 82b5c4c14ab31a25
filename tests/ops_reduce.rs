//! Reductions, argmax and softmax on the GPU vs the CPU reference.

mod common;
use common::*;

use convbook::ops::reduce::{argmax, reduce, softmax, ReduceOp};
use convbook::{Device, Tensor};
use rand::Rng;

#[test]
fn reductions_over_random_axes_match_reference() {
    let mut r = rng(3);
    let ops = [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min];
    for trial in 0..48 {
        let rank = 1 + trial % 4;
        let shape = random_shape(&mut r, rank, 11);
        let axes: Vec<isize> = (0..rank as isize).filter(|_| r.random_bool(0.5)).collect();
        let keepdims = r.random_bool(0.5);
        let op = ops[trial % 4];
        let x = random_vec(&mut r, shape.iter().product(), -4.0, 4.0);
        let (g, c) = on_both(&[(x, shape.clone())], |t| reduce(&t[0], &axes, keepdims, op));
        assert_close(&g, &c, 1e-5, 1e-5, &format!("{op:?} {shape:?} axes {axes:?}"));
    }
}

#[test]
fn long_reductions_use_the_tree_kernel_correctly() {
    let mut r = rng(4);
    for &(outer, len) in &[(1usize, 100_003usize), (3, 4097), (17, 300)] {
        let x = random_vec(&mut r, outer * len, -1.0, 1.0);
        for op in [ReduceOp::Sum, ReduceOp::Max, ReduceOp::Mean] {
            let (g, c) = on_both(&[(x.clone(), vec![outer, len])], |t| reduce(&t[0], &[1], false, op));
            // Tree order differs from the sequential reference: allow f32 summation error.
            assert_close(&g, &c, 1e-4, 1e-3, &format!("{op:?} over {len}"));
        }
    }
}

/// Long reductions over 16 or more columns run in chunks (sum, max, min; mean keeps the
/// tree): a conv's bias gradient, an axis in the middle, and chunks of uneven length.
#[test]
fn long_reductions_over_many_columns_match_reference() {
    let mut r = rng(5);
    let cases: [(&[usize], &[isize]); 4] =
        [(&[1, 88, 88, 32], &[0, 1, 2]), (&[2, 300, 20], &[1]), (&[4099, 16], &[0]), (&[257, 15], &[0])];
    for (shape, axes) in cases {
        let x = random_vec(&mut r, shape.iter().product(), -1.0, 1.0);
        for op in [ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min, ReduceOp::Mean] {
            let (g, c) = on_both(&[(x.clone(), shape.to_vec())], |t| reduce(&t[0], axes, false, op));
            assert_close(&g, &c, 1e-4, 1e-3, &format!("{op:?} of {shape:?} over {axes:?}"));
        }
    }
}

#[test]
fn max_of_all_negative_values() {
    let x = vec![-7.0, -3.0, -5.0, -1e30, -2.0, -9.0];
    let (g, _) = on_both(&[(x, vec![2, 3])], |t| reduce(&t[0], &[1], false, ReduceOp::Max));
    assert_eq!(g, vec![-3.0, -2.0]);
}

#[test]
fn argmax_matches_reference_and_takes_first_tie() {
    let mut r = rng(5);
    for trial in 0..20 {
        let rank = 1 + trial % 4;
        let shape = random_shape(&mut r, rank, 9);
        let axis = r.random_range(0..rank) as isize - if r.random_bool(0.5) { rank as isize } else { 0 };
        // Coarse values so ties happen.
        let x: Vec<f32> = (0..shape.iter().product()).map(|_| r.random_range(0..4) as f32).collect();
        let (g, c) = on_both(&[(x, shape.clone())], |t| argmax(&t[0], axis));
        assert_eq!(g, c, "argmax {shape:?} axis {axis}");
    }
}

#[test]
fn softmax_rows_sum_to_one_on_any_axis() {
    let mut r = rng(6);
    for trial in 0..16 {
        let rank = 1 + trial % 4;
        let shape = random_shape(&mut r, rank, 12);
        let axis = r.random_range(0..rank) as isize;
        let x = random_vec(&mut r, shape.iter().product(), -30.0, 30.0);
        for log in [false, true] {
            let (g, c) = on_both(&[(x.clone(), shape.clone())], |t| softmax(&t[0], axis, log));
            assert_close(&g, &c, 1e-5, 1e-6, &format!("softmax(log={log}) {shape:?} axis {axis}"));
        }
    }
    let wide = random_vec(&mut r, 3 * 1000, -5.0, 5.0);
    let t = Tensor::from_f32(&gpu(), wide, &[3, 1000]).unwrap();
    let sums = block(t.softmax(-1).unwrap().sum(&[-1], false).unwrap().to_f32_vec()).unwrap();
    assert_close(&sums, &[1.0, 1.0, 1.0], 1e-5, 1e-5, "softmax rows sum to one");
}

/// Rows up to 32 long run one invocation per row (`softmax_rows_short`), longer ones a
/// workgroup per row: lengths on both sides of that line, many rows, against the CPU.
#[test]
fn softmax_short_and_long_rows_match_reference() {
    let mut r = rng(16);
    for len in [1usize, 2, 3, 31, 32, 33, 64, 257] {
        let rows = r.random_range(1..=700);
        let shape = vec![rows, len];
        let x = random_vec(&mut r, rows * len, -30.0, 30.0);
        for log in [false, true] {
            let (g, c) = on_both(&[(x.clone(), shape.clone())], |t| softmax(&t[0], -1, log));
            assert_close(&g, &c, 1e-5, 1e-6, &format!("softmax(log={log}) {shape:?}"));
        }
    }
}

#[test]
fn empty_reductions_are_errors_not_panics() {
    let t = Tensor::from_f32(&Device::Cpu, vec![], &[2, 0]).unwrap();
    let e = t.max(&[1], false).unwrap_err();
    assert!(e.message().contains("empty axis"), "{e}");
    assert!(t.sum(&[5], false).unwrap_err().message().contains("axis 5"));
}
