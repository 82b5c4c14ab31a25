//! Elementwise kernels on the GPU vs the CPU reference, on randomized shapes.

mod common;
use common::*;

use convbook::ops::elementwise::{binary, fill, relu_grad, unary, BinaryOp, UnaryOp};
use convbook::{DType, Device, Tensor};

const UNARY: &[UnaryOp] = &[
    UnaryOp::Neg,
    UnaryOp::Abs,
    UnaryOp::Relu,
    UnaryOp::Sigmoid,
    UnaryOp::Tanh,
    UnaryOp::Exp,
    UnaryOp::Square,
    UnaryOp::Step,
    UnaryOp::Sign,
    UnaryOp::Softplus,
    UnaryOp::Clamp(-0.5, 0.75),
    UnaryOp::Affine(2.5, -1.0),
    UnaryOp::Pow(3.0),
    UnaryOp::Pow(2.0),
];

/// Ops defined only for positive inputs.
const UNARY_POSITIVE: &[UnaryOp] =
    &[UnaryOp::Log, UnaryOp::Sqrt, UnaryOp::Reciprocal, UnaryOp::Pow(0.5), UnaryOp::Pow(-1.5)];

#[test]
fn unary_ops_match_reference() {
    let mut r = rng(1);
    for (i, &op) in UNARY.iter().chain(UNARY_POSITIVE).enumerate() {
        let shape = random_shape(&mut r, 1 + i % 4, 9);
        let n: usize = shape.iter().product();
        let (lo, hi) = if UNARY_POSITIVE.contains(&op) { (0.05, 6.0) } else { (-6.0, 6.0) };
        let x = random_vec(&mut r, n, lo, hi);
        let (g, c) = on_both(&[(x, shape.clone())], |t| unary(&t[0], op));
        assert_close(&g, &c, 2e-5, 1e-6, &format!("{op:?} on {shape:?}"));
    }
}

/// The one-pass GPU ReLU gradient against the CPU's step mask times dy, zeros included
/// (no gradient at 0, as TensorFlow).
#[test]
fn relu_grad_matches_reference() {
    let mut r = rng(5);
    for i in 0..8 {
        let shape = random_shape(&mut r, 1 + i % 4, 9);
        let n: usize = shape.iter().product();
        let x: Vec<f32> = random_vec(&mut r, n, -3.0, 3.0).into_iter().map(|v| if v.abs() < 0.5 { 0.0 } else { v }).collect();
        let dy = random_vec(&mut r, n, -1.0, 1.0);
        let (g, c) = on_both(&[(x.clone(), shape.clone()), (dy.clone(), shape.clone())], |t| relu_grad(&t[0], &t[1]));
        let want: Vec<f32> = x.iter().zip(&dy).map(|(&x, &g)| if x > 0.0 { g } else { 0.0 }).collect();
        assert_close(&c, &want, 0.0, 0.0, &format!("CPU relu gradient on {shape:?}"));
        assert_close(&g, &want, 0.0, 0.0, &format!("GPU relu gradient on {shape:?}"));
    }
    let x = Tensor::from_f32(&gpu(), vec![1.0; 6], &[2, 3]).unwrap();
    let e = relu_grad(&x, &Tensor::from_f32(&gpu(), vec![1.0; 6], &[3, 2]).unwrap()).err().unwrap();
    assert!(e.message().contains("(3, 2)") && e.message().contains("(2, 3)"), "{e}");
}

#[test]
fn unary_extremes_stay_finite() {
    let x = vec![-1e4, -100.0, -20.0, 0.0, 20.0, 100.0, 1e4];
    for op in [UnaryOp::Sigmoid, UnaryOp::Tanh, UnaryOp::Softplus] {
        let (g, c) = on_both(&[(x.clone(), vec![7])], |t| unary(&t[0], op));
        assert!(g.iter().all(|v| v.is_finite()), "{op:?}: {g:?}");
        assert_close(&g, &c, 1e-5, 1e-6, &format!("{op:?} extremes"));
    }
}

#[test]
fn binary_ops_broadcast_like_numpy() {
    let mut r = rng(2);
    let ops = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Maximum,
        BinaryOp::Minimum,
        BinaryOp::Greater,
    ];
    for trial in 0..40 {
        let rank = 1 + trial % 5;
        let out = random_shape(&mut r, rank, 7);
        // Each operand drops leading axes and sets some axes to 1.
        let operand = |r: &mut rand::rngs::SmallRng| -> Vec<usize> {
            use rand::Rng;
            let keep = r.random_range(0..=rank);
            out[rank - keep..].iter().map(|&d| if r.random_bool(0.3) { 1 } else { d }).collect()
        };
        let (sa, sb) = (operand(&mut r), operand(&mut r));
        let op = ops[trial % ops.len()];
        let a = random_vec(&mut r, sa.iter().product(), -3.0, 3.0);
        let mut b = random_vec(&mut r, sb.iter().product(), -3.0, 3.0);
        if op == BinaryOp::Div {
            b.iter_mut().for_each(|v| *v = v.signum() * (v.abs() + 0.5));
        }
        let (g, c) = on_both(&[(a, sa.clone()), (b, sb.clone())], |t| binary(&t[0], &t[1], op));
        assert_close(&g, &c, 1e-5, 1e-6, &format!("{op:?} {sa:?} with {sb:?}"));
    }
}

#[test]
fn pow_and_equal_follow_reference() {
    let a = vec![-2.0, -1.5, 0.0, 0.5, 2.0, 3.0];
    let b = vec![3.0, 2.0, 2.0, -1.0, 0.5, 0.0];
    let (g, c) = on_both(&[(a.clone(), vec![6]), (b.clone(), vec![6])], |t| binary(&t[0], &t[1], BinaryOp::Pow));
    assert_close(&g, &c, 1e-5, 1e-6, "pow with negative bases and integral exponents");
    let (g, c) = on_both(&[(a.clone(), vec![6]), (a, vec![6])], |t| binary(&t[0], &t[1], BinaryOp::Equal));
    assert_eq!(g, c);
    assert!(g.iter().all(|&v| v == 1.0));
}

#[test]
fn large_tensors_fold_the_grid() {
    // More than 65535 workgroups of 256: the dispatch folds into y.
    let n = 256 * 70_000 + 3;
    let x: Vec<f32> = (0..n).map(|i| (i % 1000) as f32 - 500.0).collect();
    let t = Tensor::from_f32(&gpu(), x.clone(), &[n]).unwrap();
    let y = block(t.relu().unwrap().to_f32_vec()).unwrap();
    assert_eq!(y.len(), n);
    assert!(y.iter().zip(&x).all(|(&a, &b)| a == b.max(0.0)));
}

#[test]
fn fill_and_casts() {
    let g = gpu();
    let t = fill(&g, &[3, 5], 2.5).unwrap();
    assert_eq!(block(t.to_f32_vec()).unwrap(), vec![2.5; 15]);

    let bytes: Vec<u8> = (0..=254).step_by(7).collect();
    let n = bytes.len();
    for device in [g.clone(), Device::Cpu] {
        let u = Tensor::from_u8(&device, bytes.clone(), &[n]).unwrap();
        let f = convbook::ops::elementwise::cast_scaled(&u, DType::F32, 1.0 / 255.0, 0.0).unwrap();
        let want: Vec<f32> = bytes.iter().map(|&b| b as f32 / 255.0).collect();
        assert_close(&block(f.to_f32_vec()).unwrap(), &want, 1e-6, 1e-7, "uint8 → float32 rescale");

        let ints = Tensor::from_i32(&device, vec![-3, 0, 7, 100_000], &[4]).unwrap();
        let as_f = ints.cast(DType::F32).unwrap();
        assert_eq!(block(as_f.to_f32_vec()).unwrap(), vec![-3.0, 0.0, 7.0, 100_000.0]);
        let back = Tensor::from_f32(&device, vec![-2.7, 0.2, 3.9], &[3]).unwrap().cast(DType::I32).unwrap();
        assert_eq!(block(back.to_i32_vec()).unwrap(), vec![-2, 0, 3], "float → int truncates toward zero");
    }
}
