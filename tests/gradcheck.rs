//! Every recorded op's backward rule against central finite differences, in f64 on the
//! CPU device, through the same `ops` code the GPU path uses.

mod common;
use common::*;

use convbook::graph::{Tape, Var};
use convbook::ops::elementwise::{BinaryOp, UnaryOp};
use convbook::ops::reduce::ReduceOp;
use convbook::{Device, Result, Tensor};
use rand::rngs::SmallRng;
use rand::Rng;

fn f64_vec(r: &mut SmallRng, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|_| r.random_range(lo..hi)).collect()
}

fn t64(data: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_f64(&Device::Cpu, data.to_vec(), shape).unwrap()
}

fn data(t: &Tensor) -> Vec<f64> {
    block(t.to_data()).unwrap().to_f64()
}

/// Compare tape gradients of <f(inputs), p> (p a random projection) with central
/// differences, input by input, element by element.
fn gradcheck(what: &str, inputs: &[(Vec<f64>, Vec<usize>)], f: impl Fn(&[Var]) -> Result<Var>) {
    let mut r = rng(what.len() as u64 * 7919);
    let tape = Tape::new();
    let vars: Vec<Var> = inputs.iter().map(|(d, s)| tape.watch(&t64(d, s))).collect();
    let y = f(&vars).unwrap_or_else(|e| panic!("{what}: forward failed: {e}"));
    let p = t64(&f64_vec(&mut r, y.value().numel(), -1.0, 1.0), y.shape());
    let grads = tape.gradient(&y, &vars.iter().collect::<Vec<_>>(), Some(&p)).unwrap();
    let objective = |xs: &[(Vec<f64>, Vec<usize>)]| -> f64 {
        let consts: Vec<Var> = xs.iter().map(|(d, s)| Var::constant(&t64(d, s))).collect();
        let y = f(&consts).unwrap();
        data(y.value()).iter().zip(data(&p)).map(|(a, b)| a * b).sum()
    };
    let eps = 1e-6;
    for (i, (d, _)) in inputs.iter().enumerate() {
        let analytic = grads[i].as_ref().map(data).unwrap_or_else(|| vec![0.0; d.len()]);
        for j in 0..d.len() {
            let mut plus = inputs.to_vec();
            plus[i].0[j] += eps;
            let mut minus = inputs.to_vec();
            minus[i].0[j] -= eps;
            let numeric = (objective(&plus) - objective(&minus)) / (2.0 * eps);
            let err = (numeric - analytic[j]).abs() / (1.0 + numeric.abs().max(analytic[j].abs()));
            assert!(err < 1e-6, "{what}: input {i} element {j}: analytic {} vs numeric {numeric}", analytic[j]);
        }
    }
}

#[test]
fn unary_ops() {
    let mut r = rng(31);
    let ops = [
        (UnaryOp::Neg, -2.0, 2.0),
        (UnaryOp::Abs, 0.1, 2.0),
        (UnaryOp::Relu, -2.0, 2.0),
        (UnaryOp::Sigmoid, -4.0, 4.0),
        (UnaryOp::Tanh, -3.0, 3.0),
        (UnaryOp::Exp, -2.0, 2.0),
        (UnaryOp::Log, 0.2, 3.0),
        (UnaryOp::Sqrt, 0.2, 3.0),
        (UnaryOp::Square, -2.0, 2.0),
        (UnaryOp::Reciprocal, 0.3, 3.0),
        (UnaryOp::Softplus, -3.0, 3.0),
        (UnaryOp::Pow(2.5), 0.2, 2.0),
        (UnaryOp::Clamp(-0.5, 0.7), -2.0, 2.0),
        (UnaryOp::Affine(1.7, -0.3), -2.0, 2.0),
    ];
    for (op, lo, hi) in ops {
        let mut x = f64_vec(&mut r, 12, lo, hi);
        // Keep kinks (relu at 0, clamp bounds) away from the finite-difference stencil.
        x.iter_mut().for_each(|v| {
            for k in [0.0, -0.5, 0.7] {
                if (*v - k).abs() < 1e-3 {
                    *v += 0.01;
                }
            }
        });
        gradcheck(&format!("{op:?}"), &[(x, vec![3, 4])], |v| v[0].unary(op));
    }
}

#[test]
fn binary_ops_with_broadcasting() {
    let mut r = rng(32);
    let ops = [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div, BinaryOp::Pow, BinaryOp::Maximum, BinaryOp::Minimum];
    for op in ops {
        for (sa, sb) in [(vec![2, 3], vec![2, 3]), (vec![2, 3], vec![3]), (vec![4, 1, 3], vec![2, 1])] {
            let a = f64_vec(&mut r, sa.iter().product(), 0.5, 2.0);
            let b = f64_vec(&mut r, sb.iter().product(), 0.5, 2.0);
            gradcheck(&format!("{op:?} {sa:?} {sb:?}"), &[(a, sa.clone()), (b, sb.clone())], |v| v[0].binary(&v[1], op));
        }
    }
}

#[test]
fn reductions_and_softmax() {
    let mut r = rng(33);
    let x = f64_vec(&mut r, 2 * 3 * 4, -2.0, 2.0);
    let shape = vec![2, 3, 4];
    for op in [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min] {
        for axes in [vec![], vec![1], vec![0, 2], vec![-1]] {
            for keep in [false, true] {
                gradcheck(&format!("{op:?} {axes:?} {keep}"), &[(x.clone(), shape.clone())], |v| {
                    v[0].reduce(&axes, keep, op)
                });
            }
        }
    }
    for axis in [-1, 0, 1] {
        for log in [false, true] {
            gradcheck(&format!("softmax {axis} {log}"), &[(x.clone(), shape.clone())], |v| v[0].softmax(axis, log));
        }
    }
}

#[test]
fn matmul_with_transposes_and_batches() {
    let mut r = rng(34);
    for (sa, sb, ta, tb) in [
        (vec![3, 4], vec![4, 5], false, false),
        (vec![4, 3], vec![4, 5], true, false),
        (vec![3, 4], vec![5, 4], false, true),
        (vec![4, 3], vec![5, 4], true, true),
        (vec![2, 3, 4], vec![4, 2], false, false),
        (vec![3, 4], vec![2, 4, 2], false, false),
        (vec![2, 4, 3], vec![2, 2, 4], true, true),
    ] {
        let a = f64_vec(&mut r, sa.iter().product(), -1.0, 1.0);
        let b = f64_vec(&mut r, sb.iter().product(), -1.0, 1.0);
        gradcheck(&format!("matmul {sa:?}{ta} {sb:?}{tb}"), &[(a, sa.clone()), (b, sb.clone())], |v| {
            v[0].matmul_t(&v[1], ta, tb)
        });
    }
}

#[test]
fn data_movement() {
    let mut r = rng(35);
    let x = f64_vec(&mut r, 2 * 3 * 4, -1.0, 1.0);
    let s = vec![2, 3, 4];
    gradcheck("reshape", &[(x.clone(), s.clone())], |v| v[0].reshape(&[4, -1]));
    gradcheck("transpose", &[(x.clone(), s.clone())], |v| v[0].transpose(&[2, 0, 1]));
    gradcheck("slice", &[(x.clone(), s.clone())], |v| v[0].slice(&[1, 0, 1], &[1, 2, 3]));
    gradcheck("pad", &[(x.clone(), s.clone())], |v| v[0].pad(&[(1, 0), (0, 2), (1, 1)], 0.5));
    let y = f64_vec(&mut r, 2 * 2 * 4, -1.0, 1.0);
    gradcheck("concat", &[(x, s), (y, vec![2, 2, 4])], |v| Var::concat(&[&v[0], &v[1]], 1));
}

#[test]
fn shared_subexpressions_accumulate_and_no_grad_records_nothing() {
    // y = x*x + x: dy/dx = 2x + 1, reached along two paths.
    let tape = Tape::new();
    let x = tape.watch(&t64(&[1.0, -2.0, 3.0], &[3]));
    let y = x.mul(&x).unwrap().add(&x).unwrap();
    let g = tape.gradient(&y, &[&x], None).unwrap();
    assert_eq!(data(g[0].as_ref().unwrap()), vec![3.0, -3.0, 7.0]);

    let before = tape.len();
    let z = tape.no_grad(|| x.mul(&x).unwrap());
    assert_eq!(tape.len(), before);
    assert!(tape.gradient(&z, &[&x], None).unwrap()[0].is_none());

    let unrelated = tape.watch(&t64(&[1.0], &[1]));
    assert!(tape.gradient(&y, &[&unrelated], None).unwrap()[0].is_none());
}

#[test]
fn gradients_on_the_gpu_match_the_cpu() {
    // The same backward rules run on both devices.
    let mut r = rng(36);
    let (a, b) = (random_vec(&mut r, 6 * 5, -1.0, 1.0), random_vec(&mut r, 5 * 4, -1.0, 1.0));
    let run = |device: &Device| -> Vec<Vec<f32>> {
        let tape = Tape::new();
        let va = tape.watch(&Tensor::from_f32(device, a.clone(), &[6, 5]).unwrap());
        let vb = tape.watch(&Tensor::from_f32(device, b.clone(), &[5, 4]).unwrap());
        let y = va.matmul(&vb).unwrap().unary(UnaryOp::Tanh).unwrap().softmax(-1, true).unwrap().mean(&[], false).unwrap();
        tape.gradient(&y, &[&va, &vb], None)
            .unwrap()
            .into_iter()
            .map(|g| block(g.unwrap().to_f32_vec()).unwrap())
            .collect()
    };
    let (g, c) = (run(&gpu()), run(&Device::Cpu));
    for (x, y) in g.iter().zip(&c) {
        assert_close(x, y, 1e-4, 1e-6, "GPU vs CPU gradients");
    }
}

mod conv_family {
    use super::*;
    use convbook::ops::conv2d::conv2d_spec;
    use convbook::ops::conv_transpose2d::conv_transpose2d_spec;
    use convbook::ops::depthwise_conv2d::depthwise_conv2d_spec;
    use convbook::ops::pool2d::pool2d_spec;
    use convbook::ops::geometry::Padding;
    use convbook::ops::pool2d::PoolKind;

    fn input(r: &mut SmallRng, shape: &[usize]) -> (Vec<f64>, Vec<usize>) {
        (f64_vec(r, shape.iter().product(), -1.0, 1.0), shape.to_vec())
    }

    #[test]
    fn conv2d_through_the_tape() {
        let mut r = rng(51);
        for (xs, ks, strides, padding, dilation) in [
            ([2, 5, 6, 2], [3, 3, 2, 3], [1, 1], Padding::Valid, [1, 1]),
            ([1, 7, 5, 3], [3, 2, 3, 2], [2, 1], Padding::Same, [1, 1]),
            ([1, 8, 8, 1], [2, 3, 1, 2], [1, 2], Padding::Same, [2, 1]),
        ] {
            let (x, k, b) = (input(&mut r, &xs), input(&mut r, &ks), input(&mut r, &[ks[3]]));
            let probe = Tensor::from_f64(&Device::Cpu, x.0.clone(), &xs).unwrap();
            let kt = Tensor::from_f64(&Device::Cpu, k.0.clone(), &ks).unwrap();
            let spec = conv2d_spec(&probe, &kt, strides, padding, dilation).unwrap();
            gradcheck(&format!("conv2d {spec:?}"), &[x, k, b], |v| v[0].conv2d(&v[1], Some(&v[2]), &spec));
        }
    }

    #[test]
    fn conv_transpose2d_through_the_tape() {
        let mut r = rng(52);
        for (xs, ks, strides, padding, output_padding) in [
            ([1, 3, 4, 2], [3, 3, 2, 2], [2, 2], Padding::Same, None),
            ([2, 2, 3, 1], [2, 3, 3, 1], [2, 1], Padding::Valid, Some([1, 0])),
            ([1, 4, 4, 3], [3, 3, 2, 3], [1, 1], Padding::Same, None),
        ] {
            let (x, k, b) = (input(&mut r, &xs), input(&mut r, &ks), input(&mut r, &[ks[2]]));
            let probe = Tensor::from_f64(&Device::Cpu, x.0.clone(), &xs).unwrap();
            let kt = Tensor::from_f64(&Device::Cpu, k.0.clone(), &ks).unwrap();
            let spec = conv_transpose2d_spec(&probe, &kt, strides, padding, output_padding).unwrap();
            gradcheck(&format!("conv_transpose2d {spec:?}"), &[x, k, b], |v| {
                v[0].conv_transpose2d(&v[1], Some(&v[2]), &spec)
            });
        }
    }

    #[test]
    fn depthwise_and_pooling_through_the_tape() {
        let mut r = rng(53);
        let xs = [2, 6, 5, 3];
        let (x, k, b) = (input(&mut r, &xs), input(&mut r, &[3, 3, 3, 2]), input(&mut r, &[6]));
        let probe = Tensor::from_f64(&Device::Cpu, x.0.clone(), &xs).unwrap();
        let kt = Tensor::from_f64(&Device::Cpu, k.0.clone(), &[3, 3, 3, 2]).unwrap();
        let spec = depthwise_conv2d_spec(&probe, &kt, [2, 1], Padding::Same, [1, 1]).unwrap();
        gradcheck("depthwise_conv2d", &[x.clone(), k, b], |v| v[0].depthwise_conv2d(&v[1], Some(&v[2]), &spec));
        for kind in [PoolKind::Max, PoolKind::Average] {
            for padding in [Padding::Same, Padding::Valid] {
                let spec = pool2d_spec(&probe, kind, [2, 3], Some([2, 2]), padding).unwrap();
                gradcheck(&format!("{spec:?}"), &[x.clone()], |v| v[0].pool2d(&spec));
            }
        }
        // The GPU training path's pair: max pooling that keeps its argmax, and the
        // gradient routed by it.
        use convbook::ops::pool2d::{max_pool2d_argmax, max_pool2d_grad_from_argmax};
        for padding in [Padding::Same, Padding::Valid] {
            let spec = pool2d_spec(&probe, PoolKind::Max, [3, 3], Some([2, 2]), padding).unwrap();
            gradcheck(&format!("argmax {spec:?}"), &[x.clone()], |v| {
                let (y, argmax) = max_pool2d_argmax(v[0].value(), &spec)?;
                Ok(v[0].record_unary(y, Box::new(move |dy, _| Ok(vec![Some(max_pool2d_grad_from_argmax(&argmax, dy, &spec)?)]))))
            });
        }
    }

    #[test]
    fn batch_norm_through_the_tape() {
        let mut r = rng(54);
        let xs = [3, 2, 2, 4];
        let (x, g, b) = (input(&mut r, &xs), input(&mut r, &[4]), input(&mut r, &[4]));
        let mm = Tensor::from_f64(&Device::Cpu, f64_vec(&mut r, 4, -0.5, 0.5), &[4]).unwrap();
        let mv = Tensor::from_f64(&Device::Cpu, f64_vec(&mut r, 4, 0.5, 2.0), &[4]).unwrap();
        for training in [true, false] {
            gradcheck(&format!("batch_norm training={training}"), &[x.clone(), g.clone(), b.clone()], |v| {
                Ok(v[0].batch_norm(Some(&v[1]), Some(&v[2]), &mm, &mv, training, 1e-3, 0.99)?.0)
            });
            gradcheck(&format!("batch_norm without gamma/beta, training={training}"), &[x.clone()], |v| {
                Ok(v[0].batch_norm(None, None, &mm, &mv, training, 1e-3, 0.99)?.0)
            });
            // Fused with the ReLU after it (the backward masks by the saved output).
            gradcheck(&format!("batch_norm + relu training={training}"), &[x.clone(), g.clone(), b.clone()], |v| {
                Ok(v[0].batch_norm_fused(Some(&v[1]), Some(&v[2]), &mm, &mv, training, 1e-3, 0.99, true)?.0)
            });
        }
    }
}

#[test]
fn resize_through_the_tape() {
    use convbook::ops::resize::{ResizeMethod, ResizeSpec};
    let mut r = rng(57);
    for (xs, size) in [([2, 3, 4, 2], [5, 7]), ([1, 6, 5, 1], [4, 2]), ([1, 4, 4, 3], [8, 8]), ([1, 5, 3, 1], [3, 6])] {
        let x = (f64_vec(&mut r, xs.iter().product(), -1.0, 1.0), xs.to_vec());
        for method in [ResizeMethod::Bilinear, ResizeMethod::Nearest] {
            let spec = ResizeSpec::new(&xs, size, method).unwrap();
            gradcheck(&format!("{spec:?}"), &[x.clone()], |v| v[0].resize(&spec));
        }
    }
}
