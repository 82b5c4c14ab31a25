//! Gradients through a model with respect to its input and a layer's output, Grad-CAM,
//! and the cells' `keras.GradientTape()` (watched tensors, recorded tensor ops, model
//! calls, weight gradients, an optimizer step): against central finite differences in
//! f64 on the CPU, and against Keras/JAX (tests/fixtures/gradient_tape) on the CPU and
//! on the GPU.

mod common;
use common::keras::{arr, cases, check, load};
use common::*;

use convbook::nn::gradient_tape::{GradientTape, Operand, Source, TapeOp};
use convbook::nn::gradients::{grad_cam, input_gradient, layer_output};
use convbook::nn::optimizers::Optimizer;
use convbook::nn::{input, Layer, LayerKind, Model};
use convbook::{Device, Tensor};
use serde_json::{json, Value};

fn layer(class: &str, config: Value, name: &str) -> Layer {
    Layer::new(LayerKind::from_config(class, &config).unwrap(), Some(name))
}

/// The fixture's convnet, built as make_fixture.py builds it.
fn convnet() -> Model {
    let x = input(&[8, 8, 2], None).unwrap();
    let a = layer("Conv2D", json!({"filters": 4, "kernel_size": 3, "activation": "relu"}), "conv_a").call(&[x.clone()]).unwrap();
    let b = layer("Conv2D", json!({"filters": 3, "kernel_size": 3, "activation": "relu"}), "conv_b").call(&[a]).unwrap();
    let f = layer("Flatten", json!({}), "flatten").call(&[b]).unwrap();
    let y = layer("Dense", json!({"units": 5, "activation": "softmax"}), "dense").call(&[f]).unwrap();
    Model::new(&[x], &[y], None).unwrap()
}

/// Weights and image on `device`; `f64` builds them in double precision (CPU only) for
/// finite differences.
fn loaded(case: &Value, device: &Device, f64: bool) -> (Model, Tensor) {
    let model = convnet();
    let ws = case["weights"].as_array().unwrap();
    let tensor = |data: Vec<f32>, shape: &[usize]| {
        if f64 {
            Tensor::from_f64(device, data.iter().map(|&v| v as f64).collect(), shape).unwrap()
        } else {
            Tensor::from_f32(device, data, shape).unwrap()
        }
    };
    for (w, fixture) in model.weights().iter().zip(ws) {
        let data = fixture["data"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        let shape: Vec<usize> = fixture["shape"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        w.set(tensor(data, &shape)).unwrap();
    }
    let (x, shape) = arr(case, "x");
    (model, tensor(x, &shape))
}

fn f32s(t: &Tensor) -> Vec<f32> {
    block(t.to_f32_vec()).unwrap()
}

fn f64s(t: &Tensor) -> Vec<f64> {
    block(t.to_data()).unwrap().to_f64()
}

fn fixture() -> Value {
    cases(&load("gradient_tape", "gradient_tape.json"))[0].clone()
}

fn against_keras(device: &Device) {
    let case = fixture();
    let top = case["top"].as_u64().unwrap() as usize;
    let (model, x) = loaded(&case, device, false);
    let (class, g) = block(input_gradient(&model, &x, None)).unwrap();
    assert_eq!(class, top, "top class");
    check(&case, "grad_input", &f32s(&g), &arr(&case, "grad_input").0, 1e-4);
    let cam = block(grad_cam(&model, "conv_b", &x, None)).unwrap();
    assert_eq!(cam.class_index, top, "Grad-CAM class");
    check(&case, "conv_out", &f32s(&cam.activations), &arr(&case, "conv_out").0, 1e-4);
    check(&case, "grad_conv", &f32s(&cam.gradients), &arr(&case, "grad_conv").0, 1e-4);
    assert_eq!(cam.heatmap.shape(), &[4, 4]);
    check(&case, "heatmap", &f32s(&cam.heatmap), &arr(&case, "heatmap").0, 1e-4);
}

#[test]
fn gradients_match_keras_on_cpu() {
    against_keras(&Device::Cpu);
}

#[test]
fn gradients_match_keras_on_gpu() {
    against_keras(&gpu());
}

/// Score of class `class` for the image `x`, in f64.
fn score(model: &Model, x: &Tensor, class: usize) -> f64 {
    f64s(&model.call(std::slice::from_ref(x), false).unwrap()[0])[class]
}

#[test]
fn input_gradient_matches_finite_differences() {
    let case = fixture();
    let (model, x) = loaded(&case, &Device::Cpu, true);
    let class = 3;
    let (_, g) = block(input_gradient(&model, &x, Some(class))).unwrap();
    let analytic = f64s(&g);
    let base = f64s(&x);
    let eps = 1e-6;
    let mut nonzero = 0;
    for j in 0..base.len() {
        let at = |d: f64| {
            let mut v = base.clone();
            v[j] += d;
            score(&model, &Tensor::from_f64(&Device::Cpu, v, x.shape()).unwrap(), class)
        };
        let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
        let err = (numeric - analytic[j]).abs() / (1.0 + numeric.abs().max(analytic[j].abs()));
        assert!(err < 1e-6, "input element {j}: analytic {} vs numeric {numeric}", analytic[j]);
        nonzero += (analytic[j] != 0.0) as usize;
    }
    assert!(nonzero > base.len() / 2, "only {nonzero} of {} input gradients are nonzero", base.len());
}

#[test]
fn intermediate_gradient_matches_finite_differences() {
    let case = fixture();
    let (model, x) = loaded(&case, &Device::Cpu, true);
    let class = 2;
    let cam = block(grad_cam(&model, "conv_b", &x, Some(class))).unwrap();
    // The head after conv_b as its own model shares the layers (and weights), so
    // perturbing its input perturbs conv_b's output.
    let feature = layer_output(&model, "conv_b").unwrap();
    let head_in = input(&feature.shape().iter().skip(1).map(|d| d.unwrap()).collect::<Vec<_>>(), None).unwrap();
    let flat = model.get_layer("flatten").unwrap().call(&[head_in.clone()]).unwrap();
    let y = model.get_layer("dense").unwrap().call(&[flat]).unwrap();
    let head = Model::new(&[head_in], &[y], None).unwrap();
    let base = f64s(&cam.activations);
    let analytic = f64s(&cam.gradients);
    let eps = 1e-6;
    for j in 0..base.len() {
        let at = |d: f64| {
            let mut v = base.clone();
            v[j] += d;
            score(&head, &Tensor::from_f64(&Device::Cpu, v, cam.activations.shape()).unwrap(), class)
        };
        let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
        let err = (numeric - analytic[j]).abs() / (1.0 + numeric.abs().max(analytic[j].abs()));
        assert!(err < 1e-6, "conv_b output element {j}: analytic {} vs numeric {numeric}", analytic[j]);
    }
    assert!(analytic.iter().any(|&v| v != 0.0), "all Grad-CAM gradients are zero");
}

#[test]
fn grad_cam_names_a_missing_layer() {
    let case = fixture();
    let (model, x) = loaded(&case, &Device::Cpu, false);
    let err = block(grad_cam(&model, "no_such_layer", &x, None)).err().expect("a missing layer must fail");
    assert!(err.to_string().contains("no_such_layer"), "{err}");
}

/// The cell of make_tape_fixture.py on `tape`: `[acts, preds] = activationModel(x)` and
/// `loss = mean(square(preds - target)) + 0.01 * mean(square(acts))` from tensor ops.
/// Returns (x, acts, loss) ids.
fn tape_cell(tape: &mut GradientTape, model: &Model, x: &Tensor, target: &Tensor) -> (usize, usize, usize) {
    let acts_model = Model::new(model.inputs(), &[layer_output(model, "conv_a").unwrap(), model.outputs()[0].clone()], None).unwrap();
    let xi = tape.watch(x).unwrap();
    let outs = tape.call_model(&acts_model, &[Operand::Recorded(xi)], false).unwrap();
    let (acts, preds) = (outs[0], outs[1]);
    let m = |name: &str, args: Value| TapeOp::from_method(name, &args).unwrap();
    let mut op = |name: &str, args: Value, xs: Vec<Operand>| tape.apply(&m(name, args), &xs).unwrap();
    let d = op("sub", json!([]), vec![Operand::Recorded(preds), Operand::Constant(target.clone())]);
    let sq = op("square", json!([]), vec![Operand::Recorded(d)]);
    let mse = op("mean", json!([]), vec![Operand::Recorded(sq)]);
    let asq = op("square", json!([]), vec![Operand::Recorded(acts)]);
    let am = op("mean", json!([]), vec![Operand::Recorded(asq)]);
    let activity = op("affine", json!([0.01, 0.0]), vec![Operand::Recorded(am)]);
    let loss = op("add", json!([]), vec![Operand::Recorded(mse), Operand::Recorded(activity)]);
    (xi, acts, loss)
}

fn tape_against_keras(device: &Device) {
    let case = fixture();
    let step = cases(&load("gradient_tape", "tape_step.json"))[0].clone();
    let (model, x) = loaded(&case, device, false);
    let (t, tshape) = arr(&step, "target");
    let target = Tensor::from_f32(device, t, &tshape).unwrap();
    let mut tape = GradientTape::new(device, true);
    let (xi, acts, loss) = tape_cell(&mut tape, &model, &x, &target);
    let loss_value = f32s(tape.value(loss).unwrap())[0];
    check(&step, "loss", &[loss_value], &[step["loss"].as_f64().unwrap() as f32], 1e-5);
    let weights = model.trainable_weights();
    let mut sources = vec![Source::Recorded(xi), Source::Recorded(acts)];
    sources.extend(weights.iter().map(|w| Source::Weight(w.clone())));
    let grads: Vec<Tensor> = tape.gradient(loss, &sources).unwrap().into_iter().map(|g| g.expect("every source is connected")).collect();
    check(&step, "grad_x", &f32s(&grads[0]), &arr(&step, "grad_x").0, 1e-4);
    check(&step, "grad_acts", &f32s(&grads[1]), &arr(&step, "grad_acts").0, 1e-4);
    let want = step["grad_weights"].as_array().unwrap();
    assert_eq!(want.len(), weights.len());
    for (i, (g, w)) in grads[2..].iter().zip(want).enumerate() {
        let data: Vec<f32> = w["data"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        check(&step, &format!("grad_weights[{i}]"), &f32s(g), &data, 1e-4);
    }
    // The custom training step: one Adam update with those gradients.
    let mut adam = Optimizer::from_value(&json!({"class_name": "Adam", "config": {"learning_rate": 0.01}})).unwrap();
    adam.apply(&weights, &grads[2..].iter().cloned().map(Some).collect::<Vec<_>>()).unwrap();
    for (i, (w, after)) in weights.iter().zip(step["weights_after"].as_array().unwrap()).enumerate() {
        let data: Vec<f32> = after["data"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        check(&step, &format!("weights_after[{i}]"), &f32s(&w.value()), &data, 1e-4);
    }
}

#[test]
fn gradient_tape_matches_keras_on_cpu() {
    tape_against_keras(&Device::Cpu);
}

#[test]
fn gradient_tape_matches_keras_on_gpu() {
    tape_against_keras(&gpu());
}

/// A loss through every kind of recorded op, on the tape and (for finite differences)
/// with plain tensor ops: reshape, transpose, matmul, softmax, slice, pad, concat,
/// maximum, div, pow, sum/max reductions.
fn op_chain_loss(x: &Tensor, w: &Tensor) -> Tensor {
    let h = x.reshape(&[3, 4]).unwrap().transpose(&[1, 0]).unwrap().matmul(w).unwrap(); // (4, 2)
    let s = h.log_softmax(-1).unwrap().slice(&[1, 0], &[3, 2]).unwrap().pad(&[(0, 1), (1, 0)], 0.5).unwrap(); // (4, 3)
    let c = convbook::ops::copy::concat(&[&s, &h.maximum(&h.affine(-1.0, 0.0).unwrap()).unwrap()], 1).unwrap(); // (4, 5)
    let d = c.div(&c.square().unwrap().affine(1.0, 1.0).unwrap()).unwrap().pow_scalar(3.0).unwrap();
    d.sum(&[0], false).unwrap().max(&[0], false).unwrap().add(&d.mean(&[], false).unwrap()).unwrap()
}

#[test]
fn recorded_ops_match_finite_differences() {
    let cpu = Device::Cpu;
    let mut r = rng(7);
    let xv: Vec<f64> = random_vec(&mut r, 12, -1.0, 1.0).into_iter().map(f64::from).collect();
    let wv: Vec<f64> = random_vec(&mut r, 6, -1.0, 1.0).into_iter().map(f64::from).collect();
    let x = Tensor::from_f64(&cpu, xv.clone(), &[12]).unwrap();
    let w = Tensor::from_f64(&cpu, wv, &[3, 2]).unwrap();
    let mut tape = GradientTape::new(&cpu, false);
    let xi = tape.watch(&x).unwrap();
    let mut op = |name: &str, args: Value, xs: Vec<Operand>| tape.apply(&TapeOp::from_method(name, &args).unwrap(), &xs).unwrap();
    use Operand::{Constant as C, Recorded as R};
    let t = op("reshape", json!([[3, 4]]), vec![R(xi)]);
    let t = op("transpose", json!([[1, 0]]), vec![R(t)]);
    let h = op("matmul", json!([]), vec![R(t), C(w.clone())]);
    let ls = op("logSoftmax", json!([-1]), vec![R(h)]);
    let sl = op("slice", json!([[1, 0], [3, 2]]), vec![R(ls)]);
    let s = op("pad", json!([[0, 1, 1, 0], 0.5]), vec![R(sl)]);
    let neg = op("affine", json!([-1.0, 0.0]), vec![R(h)]);
    let mx = op("maximum", json!([]), vec![R(h), R(neg)]);
    let c = op("concat", json!([1]), vec![R(s), R(mx)]);
    let sq = op("square", json!([]), vec![R(c)]);
    let den = op("affine", json!([1.0, 1.0]), vec![R(sq)]);
    let q = op("div", json!([]), vec![R(c), R(den)]);
    let d = op("powScalar", json!([3.0]), vec![R(q)]);
    let s0 = op("sum", json!([[0]]), vec![R(d)]);
    let top = op("max", json!([[0]]), vec![R(s0)]);
    let avg = op("mean", json!([]), vec![R(d)]);
    let loss = op("add", json!([]), vec![R(top), R(avg)]);
    let want = f64s(&op_chain_loss(&x, &w))[0];
    assert!((f64s(tape.value(loss).unwrap())[0] - want).abs() < 1e-12, "the tape computes the same loss");
    let g = f64s(&tape.gradient(loss, &[Source::Recorded(xi)]).unwrap()[0].clone().expect("x is connected"));
    let eps = 1e-6;
    for j in 0..xv.len() {
        let at = |dx: f64| {
            let mut v = xv.clone();
            v[j] += dx;
            f64s(&op_chain_loss(&Tensor::from_f64(&cpu, v, &[12]).unwrap(), &w))[0]
        };
        let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
        let err = (numeric - g[j]).abs() / (1.0 + numeric.abs().max(g[j].abs()));
        assert!(err < 1e-6, "x[{j}]: analytic {} vs numeric {numeric}", g[j]);
    }
    assert!(g.iter().filter(|v| **v != 0.0).count() > 6, "most of x reaches the loss: {g:?}");
    // A non-persistent tape gives one gradient, as TF's.
    let again = tape.gradient(loss, &[Source::Recorded(xi)]).err().expect("a spent tape must refuse");
    assert!(again.to_string().contains("persistent"), "{again}");
}

#[test]
fn tape_errors_name_the_problem() {
    let cpu = Device::Cpu;
    let x = Tensor::from_f32(&cpu, vec![1.0, 2.0], &[2]).unwrap();
    let mut tape = GradientTape::new(&cpu, true);
    let xi = tape.watch(&x).unwrap();
    let e = TapeOp::from_method("argmax", &json!([])).err().unwrap();
    assert!(e.to_string().contains("argmax"), "{e}");
    let greater = TapeOp::Binary(convbook::ops::elementwise::BinaryOp::Greater);
    let e = tape.apply(&greater, &[Operand::Recorded(xi), Operand::Constant(x.clone())]).err().unwrap();
    assert!(e.to_string().contains("not differentiable"), "{e}");
    let e = tape.gradient(99, &[Source::Recorded(xi)]).err().unwrap();
    assert!(e.to_string().contains("#99"), "{e}");
    // A weight no model call on this tape used has no gradient (TF's None).
    let model = convnet();
    let y = tape.apply(&TapeOp::from_method("sum", &json!([])).unwrap(), &[Operand::Recorded(xi)]).unwrap();
    let g = tape.gradient(y, &[Source::Weight(model.trainable_weights()[0].clone()), Source::Recorded(xi)]).unwrap();
    assert!(g[0].is_none());
    assert_eq!(f32s(g[1].as_ref().unwrap()), vec![1.0, 1.0]);
}

#[test]
fn layer_surgery_cuts_grafts_and_freezes() {
    use convbook::nn::gradients::layer_inputs;
    let model = convnet();
    // conv_b's input is conv_a's output, as Keras's layer.input.
    let a = layer_output(&model, "conv_a").unwrap();
    let b_in = layer_inputs(&model, "conv_b").unwrap();
    assert_eq!(b_in.len(), 1);
    assert_eq!(b_in[0].id(), a.id());
    // A feature extractor cut at conv_b, and a new head grafted on it, share the weights.
    let features = Model::new(model.inputs(), &[layer_output(&model, "conv_b").unwrap()], None).unwrap();
    assert_eq!(features.layers().len(), 3);
    let flat = layer("Flatten", json!({}), "head_flatten").call(&[layer_output(&model, "conv_b").unwrap()]).unwrap();
    let head = layer("Dense", json!({"units": 2}), "new_head").call(&[flat]).unwrap();
    let grafted = Model::new(model.inputs(), &[head], None).unwrap();
    let x = Tensor::from_f32(&Device::Cpu, vec![0.5; 128], &[1, 8, 8, 2]).unwrap();
    assert_eq!(grafted.call(std::slice::from_ref(&x), false).unwrap()[0].shape(), &[1, 2]);
    let shared = model.get_layer("conv_a").unwrap().weights()[0].clone();
    assert!(grafted.weights().iter().any(|w| std::rc::Rc::ptr_eq(w, &shared)), "the graft reuses conv_a's kernel");
    // Freezing the base leaves only the new head trainable.
    for name in ["conv_a", "conv_b"] {
        grafted.get_layer(name).unwrap().set_trainable(false);
    }
    let trainable: Vec<String> = grafted.trainable_weights().iter().map(|w| w.path.clone()).collect();
    assert_eq!(trainable, vec!["new_head/kernel", "new_head/bias"]);
}

/// Listing 9-16 once: the mean activation of conv_b's filter 1, its input gradient
/// L2-normalized, a step of 10 (tape_step.json's second case).
fn ascent_step_against_keras(device: &Device) {
    let case = fixture();
    let step = cases(&load("gradient_tape", "tape_step.json"))[1].clone();
    let (model, _) = loaded(&case, device, false);
    let extractor = Model::new(model.inputs(), &[layer_output(&model, "conv_b").unwrap()], None).unwrap();
    let (i0, shape) = arr(&step, "image0");
    let image = Tensor::from_f32(device, i0, &shape).unwrap();
    let filter = step["filter"].as_u64().unwrap() as usize;
    let mut tape = GradientTape::new(device, false);
    let xi = tape.watch(&image).unwrap();
    let acts = tape.call_model(&extractor, &[Operand::Recorded(xi)], false).unwrap()[0];
    let one = tape.apply(&TapeOp::Slice { begin: vec![0, 0, 0, filter], size: vec![1, 4, 4, 1] }, &[Operand::Recorded(acts)]).unwrap();
    let loss = tape.apply(&TapeOp::from_method("mean", &json!([])).unwrap(), &[Operand::Recorded(one)]).unwrap();
    check(&step, "loss", &f32s(tape.value(loss).unwrap()), &[step["loss"].as_f64().unwrap() as f32], 1e-5);
    let g = tape.gradient(loss, &[Source::Recorded(xi)]).unwrap().remove(0).expect("the image reaches the filter");
    let norm = g.square().unwrap().sum(&[], false).unwrap().sqrt().unwrap();
    let lr = step["learning_rate"].as_f64().unwrap();
    let next = image.add(&g.div(&norm).unwrap().affine(lr, 0.0).unwrap()).unwrap();
    check(&step, "image1", &f32s(&next), &arr(&step, "image1").0, 1e-4);
}

#[test]
fn filter_ascent_step_matches_keras_on_cpu() {
    ascent_step_against_keras(&Device::Cpu);
}

#[test]
fn filter_ascent_step_matches_keras_on_gpu() {
    ascent_step_against_keras(&gpu());
}
