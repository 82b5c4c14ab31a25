//! The `loss` and `optim_update` stems: GPU kernels vs the CPU reference on randomized
//! shapes, loss gradients vs f64 finite differences, both devices vs the Keras fixtures
//! in tests/fixtures/loss_optim (losses: rel. err <= 1e-4; optimizers: parameters and
//! every slot after every step, rel. err <= 1e-5), and the error cases.

mod common;
use common::keras::{cases, check, load};
use common::*;

use convbook::ops::loss::{
    binary_crossentropy, categorical_crossentropy, crossentropy, crossentropy_grad, crossentropy_value,
    sparse_categorical_crossentropy, sparse_categorical_crossentropy_grad, sparse_categorical_crossentropy_value,
    Crossentropy, LossOutput,
};
use convbook::ops::optim_update::{adam_update, rmsprop_update, sgd_update, update, update_with, OptimizerConfig};
use convbook::nn::optimizers::{optimizer_config, optimizer_config_json, optimizer_from_value};
use convbook::{CpuData, Device, Tensor};
use rand::rngs::SmallRng;
use rand::Rng;
use serde_json::Value;

const KINDS: [Crossentropy; 3] = [Crossentropy::Sparse, Crossentropy::Categorical, Crossentropy::Binary];

fn values(t: &Tensor) -> Vec<f32> {
    block(t.to_f32_vec()).unwrap()
}

fn values64(t: &Tensor) -> Vec<f64> {
    block(t.to_data()).unwrap().to_f64()
}

fn scalar(t: &Tensor) -> f32 {
    assert_eq!(t.shape(), &[] as &[usize], "a loss is a scalar of shape []");
    values(t)[0]
}

/// Targets of a given dtype on a device.
fn tensor_of(device: &Device, data: &[f32], shape: &[usize], dtype: &str) -> Tensor {
    let data = match dtype {
        "float32" => CpuData::F32(data.to_vec()),
        "int32" => CpuData::I32(data.iter().map(|&v| v as i32).collect()),
        "uint8" => CpuData::U8(data.iter().map(|&v| v as u8).collect()),
        other => panic!("dtype {other}"),
    };
    Tensor::from_data(device, data, shape).unwrap()
}

// ------------------------------------------------------------------ random inputs

#[derive(Clone, Copy, Debug)]
enum Style {
    Logits,
    Extreme,
    Probabilities,
    /// Exact 0 and 1 among the values.
    Saturated,
    Unnormalized,
}

fn pred_data(r: &mut SmallRng, rows: usize, classes: usize, style: Style) -> Vec<f32> {
    let n = rows * classes;
    match style {
        Style::Logits => random_vec(r, n, -4.0, 4.0),
        Style::Extreme => (0..n).map(|_| [-50.0, 50.0, -2.0, 0.5, 49.0][r.random_range(0..5)]).collect(),
        Style::Probabilities => {
            let z = random_vec(r, n, -3.0, 3.0);
            z.chunks(classes)
                .flat_map(|row| {
                    let e: Vec<f32> = row.iter().map(|v| v.exp()).collect();
                    let s: f32 = e.iter().sum();
                    e.into_iter().map(move |v| v / s)
                })
                .collect()
        }
        Style::Saturated => (0..n).map(|_| [0.0, 1.0, 1e-8, 1e-7, 0.3, 0.9999999][r.random_range(0..6)]).collect(),
        Style::Unnormalized => random_vec(r, n, 0.0, 1.0),
    }
}

/// Targets for a loss kind: labels for sparse, one-hot/soft rows for categorical,
/// 0/1 or soft values for binary.
fn target_data(r: &mut SmallRng, kind: Crossentropy, rows: usize, classes: usize) -> Vec<f32> {
    match kind {
        Crossentropy::Sparse => (0..rows).map(|_| r.random_range(0..classes) as f32).collect(),
        Crossentropy::Categorical => {
            let soft = r.random_bool(0.5);
            (0..rows)
                .flat_map(|_| {
                    if soft {
                        let w = random_vec(r, classes, 0.0, 1.0);
                        let s: f32 = w.iter().sum::<f32>().max(1e-6);
                        w.into_iter().map(|v| v / s).collect::<Vec<_>>()
                    } else {
                        let k = r.random_range(0..classes);
                        (0..classes).map(|j| (j == k) as u8 as f32).collect()
                    }
                })
                .collect()
        }
        Crossentropy::Binary => {
            let soft = r.random_bool(0.3);
            (0..rows * classes)
                .map(|_| if soft { r.random_range(0.0..1.0) } else { r.random_range(0..2) as f32 })
                .collect()
        }
    }
}

fn random_pred_shape(r: &mut SmallRng) -> Vec<usize> {
    match r.random_range(0..4) {
        0 => vec![r.random_range(1..40), r.random_range(1..12)],
        1 => vec![r.random_range(1..3), r.random_range(1..9), r.random_range(1..11), r.random_range(1..6)], // per pixel
        2 => vec![r.random_range(1..20)],
        _ => vec![r.random_range(250..700), r.random_range(2..5)], // several workgroups
    }
}

fn target_shape(kind: Crossentropy, pred: &[usize]) -> Vec<usize> {
    match kind {
        Crossentropy::Sparse => pred[..pred.len() - 1].to_vec(),
        _ => pred.to_vec(),
    }
}

#[allow(clippy::too_many_arguments)]
fn check_gpu_vs_cpu(
    what: &str,
    kind: Crossentropy,
    pred: &[f32],
    shape: &[usize],
    tgt: &[f32],
    tshape: &[usize],
    dtype: &str,
    logits: bool,
) {
    let (pg, pc) = (
        Tensor::from_f32(&gpu(), pred.to_vec(), shape).unwrap(),
        Tensor::from_f32(&Device::Cpu, pred.to_vec(), shape).unwrap(),
    );
    let (tg, tc) = (tensor_of(&gpu(), tgt, tshape, dtype), tensor_of(&Device::Cpu, tgt, tshape, dtype));
    let g = crossentropy(kind, &pg, &tg, logits).unwrap_or_else(|e| panic!("{what}: GPU: {e}"));
    let c = crossentropy(kind, &pc, &tc, logits).unwrap_or_else(|e| panic!("{what}: CPU: {e}"));
    assert_eq!(g.grad.shape(), shape);
    let (gv, cv) = (scalar(&g.value), scalar(&c.value));
    assert_close(&[gv], &[cv], 1e-4, 1e-6, &format!("{what}: value"));
    let (gg, cg) = (values(&g.grad), values(&c.grad));
    let scale = cg.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
    assert_close(&gg, &cg, 1e-4, 1e-5 * scale, &format!("{what}: gradient"));
    // The separate entry points agree with the fused one.
    let v = crossentropy_value(kind, &pg, &tg, logits).unwrap();
    assert_close(&[scalar(&v)], &[gv], 1e-6, 0.0, &format!("{what}: value alone"));
    let dy = Tensor::from_f32(&gpu(), vec![-2.5], &[]).unwrap();
    let scaled = values(&crossentropy_grad(kind, &pg, &tg, logits, Some(&dy)).unwrap());
    let want: Vec<f32> = gg.iter().map(|v| v * -2.5).collect();
    assert_close(&scaled, &want, 1e-5, 1e-6 * scale, &format!("{what}: gradient times dy"));
}

#[test]
fn losses_on_gpu_match_reference() {
    let mut r = rng(71);
    let styles = [Style::Logits, Style::Extreme, Style::Probabilities, Style::Saturated, Style::Unnormalized];
    for trial in 0..60 {
        let kind = KINDS[trial % 3];
        let style = styles[(trial / 3) % styles.len()];
        let logits = matches!(style, Style::Logits | Style::Extreme);
        let shape = random_pred_shape(&mut r);
        let classes = *shape.last().unwrap();
        let rows = shape.iter().product::<usize>() / classes;
        let mut pred = pred_data(&mut r, rows, classes, style);
        if kind == Crossentropy::Categorical && !logits {
            // A row of zeros is 0/0 after Keras's renormalization; NaN either way, but
            // WGSL's min/max need not propagate it.
            for row in pred.chunks_mut(classes) {
                if row.iter().all(|&v| v == 0.0) {
                    row[0] = 0.3;
                }
            }
        }
        let tshape = target_shape(kind, &shape);
        let tgt = target_data(&mut r, kind, rows, classes);
        let dtypes: &[&str] = match kind {
            Crossentropy::Sparse if classes <= 255 => &["int32", "uint8", "float32"],
            Crossentropy::Sparse => &["int32", "float32"],
            _ if tgt.iter().all(|v| v.fract() == 0.0) => &["float32", "int32", "uint8"],
            _ => &["float32"],
        };
        let dtype = dtypes[trial % dtypes.len()];
        let what = format!("{} {shape:?} {style:?} from_logits={logits} targets {dtype}", kind.name());
        check_gpu_vs_cpu(&what, kind, &pred, &shape, &tgt, &tshape, dtype, logits);
    }
}

#[test]
fn large_per_pixel_batch_on_gpu() {
    // 4 x 96 x 96 pixels x 3 classes: 144 workgroups of partial sums.
    let mut r = rng(72);
    let shape = [4, 96, 96, 3];
    let rows = 4 * 96 * 96;
    let pred = pred_data(&mut r, rows, 3, Style::Logits);
    let labels = target_data(&mut r, Crossentropy::Sparse, rows, 3);
    check_gpu_vs_cpu("segmentation batch", Crossentropy::Sparse, &pred, &shape, &labels, &shape[..3], "uint8", true);
    let probs = pred_data(&mut r, rows, 3, Style::Probabilities);
    check_gpu_vs_cpu(
        "segmentation batch (probabilities)",
        Crossentropy::Sparse,
        &probs,
        &shape,
        &labels,
        &shape[..3],
        "int32",
        false,
    );
}

// ------------------------------------------------------------------ finite differences

/// Central differences of the mean loss, in f64 on the CPU, against the analytic gradient.
fn fd_check(what: &str, kind: Crossentropy, pred: &[f64], shape: &[usize], target: &Tensor, logits: bool, h: f64) {
    let t64 = |d: &[f64]| Tensor::from_f64(&Device::Cpu, d.to_vec(), shape).unwrap();
    let f = |d: &[f64]| values64(&crossentropy_value(kind, &t64(d), target, logits).unwrap())[0];
    let out = crossentropy(kind, &t64(pred), target, logits).unwrap();
    assert!((values64(&out.value)[0] - f(pred)).abs() <= 1e-12 * (1.0 + f(pred).abs()), "{what}: value paths differ");
    let analytic = values64(&out.grad);
    // The backward rule with an upstream gradient.
    let dy = Tensor::from_f64(&Device::Cpu, vec![0.75], &[]).unwrap();
    let scaled = values64(&crossentropy_grad(kind, &t64(pred), target, logits, Some(&dy)).unwrap());
    for j in 0..pred.len() {
        let (mut plus, mut minus) = (pred.to_vec(), pred.to_vec());
        plus[j] += h;
        minus[j] -= h;
        let numeric = (f(&plus) - f(&minus)) / (2.0 * h);
        let err = (numeric - analytic[j]).abs() / (1.0 + numeric.abs().max(analytic[j].abs()));
        assert!(err < 1e-6, "{what}: element {j} of {shape:?}: analytic {} vs numeric {numeric}", analytic[j]);
        assert!((scaled[j] - 0.75 * analytic[j]).abs() <= 1e-12 * (1.0 + analytic[j].abs()), "{what}: dy scaling");
    }
}

#[test]
fn loss_gradients_match_finite_differences() {
    let mut r = rng(73);
    for trial in 0..36 {
        let kind = KINDS[trial % 3];
        let logits = trial % 2 == 0;
        let shape = match trial % 4 {
            0 => vec![r.random_range(1..5), r.random_range(1..6)],
            1 => vec![2, r.random_range(1..4), r.random_range(1..4), r.random_range(2..4)],
            2 => vec![r.random_range(1..6)],
            _ => vec![r.random_range(1..4), r.random_range(2..7)],
        };
        let n: usize = shape.iter().product();
        let classes = *shape.last().unwrap();
        // Probabilities away from the clip bounds; categorical rows need not sum to 1.
        let pred: Vec<f64> = if logits {
            (0..n).map(|_| r.random_range(-4.0..4.0)).collect()
        } else {
            (0..n).map(|_| r.random_range(0.02..0.9)).collect()
        };
        let pred: Vec<f64> = if !logits && kind == Crossentropy::Categorical {
            // p / sum(p) must stay inside the clip too.
            pred.chunks(classes).flat_map(|row| row.iter().map(|&v| v.max(0.3)).collect::<Vec<_>>()).collect()
        } else {
            pred
        };
        let rows = n / classes;
        let tshape = target_shape(kind, &shape);
        let target = match kind {
            Crossentropy::Sparse => {
                let labels: Vec<i32> = (0..rows).map(|_| r.random_range(0..classes) as i32).collect();
                Tensor::from_i32(&Device::Cpu, labels, &tshape).unwrap()
            }
            // Soft targets that do not sum to 1: the derivative is exact, not TF's shortcut.
            _ => Tensor::from_f64(&Device::Cpu, (0..n).map(|_| r.random_range(0.0..1.0)).collect(), &tshape).unwrap(),
        };
        let what = format!("{} from_logits={logits}", kind.name());
        fd_check(&what, kind, &pred, &shape, &target, logits, 1e-6);
    }
    // Inside the clip's flat parts (p below eps, above 1 - eps) the gradient is zero.
    let clipped = [1e-9, 5e-9, 1.0 - 1e-9, 0.0];
    let labels = Tensor::from_i32(&Device::Cpu, vec![0, 1], &[2]).unwrap();
    fd_check("sparse, clipped", Crossentropy::Sparse, &clipped, &[2, 2], &labels, false, 1e-11);
    let t = Tensor::from_f64(&Device::Cpu, vec![1.0, 0.0, 1.0, 0.5], &[4]).unwrap();
    fd_check("binary, clipped", Crossentropy::Binary, &clipped, &[4], &t, false, 1e-11);
}

// ------------------------------------------------------------------ Keras fixtures

fn f32_of(case: &Value, key: &str) -> (Vec<f32>, Vec<usize>) {
    common::keras::arr(case, key)
}

fn run_loss(kind: Crossentropy, device: &Device, case: &Value) -> LossOutput {
    let (p, ps) = f32_of(case, "pred");
    let pred = Tensor::from_f32(device, p, &ps).unwrap();
    let logits = case["config"]["from_logits"].as_bool().unwrap();
    let (key, dtype_key) = match kind {
        Crossentropy::Sparse => ("labels", "label_dtype"),
        _ => ("targets", "target_dtype"),
    };
    let (t, ts) = f32_of(case, key);
    let target = tensor_of(device, &t, &ts, case["config"][dtype_key].as_str().unwrap());
    match kind {
        Crossentropy::Sparse => sparse_categorical_crossentropy(&pred, &target, logits),
        Crossentropy::Categorical => categorical_crossentropy(&pred, &target, logits),
        Crossentropy::Binary => binary_crossentropy(&pred, &target, logits),
    }
    .unwrap_or_else(|e| panic!("{}: {e}", case["name"]))
}

#[test]
fn losses_match_keras() {
    let file = load("loss_optim", "loss.json");
    let mut counts = [0usize; 3];
    for case in cases(&file) {
        let name = case["name"].as_str().unwrap();
        let kind = match name.split('_').next().unwrap() {
            "sparse" => Crossentropy::Sparse,
            "categorical" => Crossentropy::Categorical,
            _ => Crossentropy::Binary,
        };
        counts[KINDS.iter().position(|k| *k == kind).unwrap()] += 1;
        let want = case["loss"].as_f64().unwrap() as f32;
        let grad_key = if case.get("grad_exact").is_some() { "grad_exact" } else { "grad" };
        let want_grad = f32_of(case, grad_key).0;
        for device in [gpu(), Device::Cpu] {
            let out = run_loss(kind, &device, case);
            check(case, &format!("loss on {}", device.describe()), &[scalar(&out.value)], &[want], 1e-4);
            check(case, &format!("{grad_key} on {}", device.describe()), &values(&out.grad), &want_grad, 1e-4);
        }
    }
    assert!(counts.iter().all(|&c| c >= 20), "fixture counts per loss: {counts:?}");
}

#[test]
fn logits_shortcut_matches_keras_numbers() {
    // From the fixture notes: Keras gives 100 for a softmax output of logits
    // [50, -50, 0] with label 1 (it uses the logits); from the plain probabilities
    // (clipped) 16.118095.
    for device in [gpu(), Device::Cpu] {
        let z = Tensor::from_f32(&device, vec![50.0, -50.0, 0.0], &[1, 3]).unwrap();
        let y = Tensor::from_i32(&device, vec![1], &[1]).unwrap();
        let v = scalar(&sparse_categorical_crossentropy_value(&z, &y, true).unwrap());
        assert!((v - 100.0).abs() < 1e-4, "{v}");
        let p = z.softmax(-1).unwrap();
        let v = scalar(&sparse_categorical_crossentropy_value(&p, &y, false).unwrap());
        assert!((v - 16.118095).abs() < 1e-4, "{v}");
    }
}

fn config_of(case: &Value) -> OptimizerConfig {
    let c = &case["config"];
    let f = |k: &str| c[k].as_f64().unwrap_or_else(|| panic!("{}: config.{k}", case["name"]));
    let b = |k: &str| c[k].as_bool().unwrap();
    match case["optimizer"].as_str().unwrap() {
        "SGD" => {
            OptimizerConfig::Sgd { learning_rate: f("learning_rate"), momentum: f("momentum"), nesterov: b("nesterov") }
        }
        "RMSprop" => OptimizerConfig::RmsProp {
            learning_rate: f("learning_rate"),
            rho: f("rho"),
            momentum: f("momentum"),
            epsilon: f("epsilon"),
            centered: b("centered"),
        },
        "Adam" => OptimizerConfig::Adam {
            learning_rate: f("learning_rate"),
            beta_1: f("beta_1"),
            beta_2: f("beta_2"),
            epsilon: f("epsilon"),
            amsgrad: b("amsgrad"),
        },
        other => panic!("optimizer {other}"),
    }
}

#[test]
fn optimizers_match_keras_step_by_step() {
    let file = load("loss_optim", "optim.json");
    let mut per_optimizer = std::collections::BTreeMap::<String, usize>::new();
    for case in cases(&file) {
        let config = config_of(case);
        let names = config.slot_names();
        let (p0, shape) = f32_of(case, "param");
        let grads = case["grads"].as_array().unwrap();
        let steps = case["steps"].as_array().unwrap();
        assert!(steps.len() >= 5);
        *per_optimizer.entry(case["optimizer"].as_str().unwrap().to_string()).or_default() += 1;
        for device in [gpu(), Device::Cpu] {
            let mut param = Tensor::from_f32(&device, p0.clone(), &shape).unwrap();
            let mut slots: Vec<Tensor> = vec![];
            for (i, (g, want)) in grads.iter().zip(steps).enumerate() {
                let g = g["data"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
                let g = Tensor::from_f32(&device, g, &shape).unwrap();
                let (p, s) =
                    update(&param, &g, &slots, &config, i + 1).unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
                let at = format!("step {} on {}", i + 1, device.describe());
                check(case, &format!("param after {at}"), &values(&p), &f32_of(want, "param").0, 1e-5);
                let want_slots = want["slots"].as_object().unwrap();
                assert_eq!(
                    want_slots.len(),
                    names.len(),
                    "{}: slots {:?} vs Keras {:?}",
                    case["name"],
                    names,
                    want_slots.keys()
                );
                for (name, t) in names.iter().zip(&s) {
                    let expected = f32_of(&want["slots"], name).0;
                    check(case, &format!("slot {name} after {at}"), &values(t), &expected, 1e-5);
                }
                (param, slots) = (p, s);
            }
        }
    }
    assert!(per_optimizer.values().all(|&n| n >= 5) && per_optimizer.len() == 3, "{per_optimizer:?}");
}

// ------------------------------------------------------------------ optimizers, GPU vs CPU

#[test]
fn optimizer_kernels_match_reference() {
    let mut r = rng(74);
    let configs = [
        OptimizerConfig::sgd(),
        OptimizerConfig::Sgd { learning_rate: 0.1, momentum: 0.9, nesterov: false },
        OptimizerConfig::Sgd { learning_rate: 0.1, momentum: 0.7, nesterov: true },
        OptimizerConfig::rmsprop(),
        OptimizerConfig::RmsProp { learning_rate: 0.01, rho: 0.8, momentum: 0.5, epsilon: 1e-6, centered: false },
        OptimizerConfig::RmsProp { learning_rate: 0.01, rho: 0.8, momentum: 0.0, epsilon: 1e-6, centered: true },
        OptimizerConfig::RmsProp { learning_rate: 0.01, rho: 0.95, momentum: 0.3, epsilon: 1e-3, centered: true },
        OptimizerConfig::adam(),
        OptimizerConfig::Adam { learning_rate: 0.05, beta_1: 0.8, beta_2: 0.99, epsilon: 1e-5, amsgrad: true },
    ];
    for (ci, config) in configs.iter().enumerate() {
        for &n in &[1usize, 255, 257, 1000, 4099] {
            let shape = if n % 5 == 0 { vec![n / 5, 5] } else { vec![n] };
            let p = random_vec(&mut r, n, -2.0, 2.0);
            let (mut pg, mut pc) = (
                Tensor::from_f32(&gpu(), p.clone(), &shape).unwrap(),
                Tensor::from_f32(&Device::Cpu, p, &shape).unwrap(),
            );
            let (mut sg, mut sc): (Vec<Tensor>, Vec<Tensor>) = (vec![], vec![]);
            for step in 1..=4 {
                let g = random_vec(&mut r, n, -1.5, 1.5);
                let gg = Tensor::from_f32(&gpu(), g.clone(), &shape).unwrap();
                let gc = Tensor::from_f32(&Device::Cpu, g, &shape).unwrap();
                let (npg, nsg) = update(&pg, &gg, &sg, config, step).unwrap();
                let (npc, nsc) = update(&pc, &gc, &sc, config, step).unwrap();
                let what = format!("config {ci} {config:?}, n {n}, step {step}");
                assert_close(&values(&npg), &values(&npc), 1e-5, 1e-6, &format!("{what}: param"));
                assert_eq!(nsg.len(), config.slot_count());
                for (k, (a, b)) in nsg.iter().zip(&nsc).enumerate() {
                    assert_close(
                        &values(a),
                        &values(b),
                        1e-5,
                        1e-6,
                        &format!("{what}: slot {}", config.slot_names()[k]),
                    );
                }
                (pg, pc, sg, sc) = (npg, npc, nsg, nsc);
            }
        }
    }
}

#[test]
fn explicit_update_functions_and_missing_slots() {
    for device in [gpu(), Device::Cpu] {
        let p = Tensor::from_f32(&device, vec![1.0, -2.0, 0.5], &[3]).unwrap();
        let g = Tensor::from_f32(&device, vec![0.5, 0.0, -1.0], &[3]).unwrap();
        // SGD without momentum keeps no slot; with momentum, the first velocity is -lr g.
        let (np, v) = sgd_update(&p, &g, None, 0.1, 0.0, false).unwrap();
        assert!(v.is_none());
        assert_close(&values(&np), &[0.95, -2.0, 0.6], 1e-6, 1e-7, "sgd");
        let (np, v) = sgd_update(&p, &g, None, 0.1, 0.9, true).unwrap();
        let v = v.unwrap();
        assert_close(&values(&v), &[-0.05, 0.0, 0.1], 1e-6, 1e-7, "sgd velocity");
        assert_close(&values(&np), &[1.0 - 0.045 - 0.05, -2.0, 0.5 + 0.09 + 0.1], 1e-6, 1e-7, "sgd nesterov");
        let (np2, _) = sgd_update(&np, &g, Some(&v), 0.1, 0.9, true).unwrap();
        assert_eq!(np2.shape(), &[3]);
        // RMSprop: velocity (1 - rho) g², epsilon inside the square root.
        let out = rmsprop_update(&p, &g, None, None, None, 0.01, 0.9, 0.0, 1e-7, false).unwrap();
        assert!(out.momentum.is_none() && out.average_gradient.is_none());
        assert_close(&values(&out.velocity), &[0.025, 0.0, 0.1], 1e-6, 1e-8, "rmsprop velocity");
        let step0 = 0.01 * 0.5 / (0.025f64 + 1e-7).sqrt();
        assert_close(&values(&out.param)[..1], &[(1.0 - step0) as f32], 1e-6, 1e-7, "rmsprop");
        let out = rmsprop_update(&p, &g, None, None, None, 0.01, 0.9, 0.5, 1e-7, true).unwrap();
        assert!(out.momentum.is_some() && out.average_gradient.is_some());
        // Adam from zero slots == Adam from explicit zero slots.
        let (a, m, v) = adam_update(&p, &g, None, None, 1, 0.001, 0.9, 0.999, 1e-7).unwrap();
        let zeros = OptimizerConfig::adam().new_slots(&p).unwrap();
        let (b, s) = update(&p, &g, &zeros, &OptimizerConfig::adam(), 1).unwrap();
        assert_eq!(values(&a), values(&b));
        assert_eq!(values(&m), values(&s[0]));
        assert_eq!(values(&v), values(&s[1]));
        // Only one slot given: the other starts at zero.
        let (c, _) = update_with(&p, &g, &[Some(&m), None], &OptimizerConfig::adam(), 2).unwrap();
        let (d, _) = update(&p, &g, &[m.clone(), zeros[1].clone()], &OptimizerConfig::adam(), 2).unwrap();
        assert_eq!(values(&c), values(&d));
    }
}

#[test]
fn optimizer_configs_follow_keras() {
    assert_eq!(
        OptimizerConfig::from_keras_name("adam").unwrap(),
        OptimizerConfig::Adam { learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false }
    );
    assert_eq!(
        OptimizerConfig::from_keras_name("RMSprop").unwrap(),
        OptimizerConfig::RmsProp { learning_rate: 0.001, rho: 0.9, momentum: 0.0, epsilon: 1e-7, centered: false }
    );
    assert_eq!(
        OptimizerConfig::from_keras_name("SGD").unwrap(),
        OptimizerConfig::Sgd { learning_rate: 0.01, momentum: 0.0, nesterov: false }
    );
    let e = OptimizerConfig::from_keras_name("adamw").unwrap_err();
    assert!(e.message().contains("adamw"), "{e}");
    assert_eq!(OptimizerConfig::sgd().slot_names(), Vec::<&str>::new());
    assert_eq!(
        OptimizerConfig::RmsProp { learning_rate: 0.1, rho: 0.9, momentum: 0.5, epsilon: 1e-7, centered: true }
            .slot_names(),
        vec!["velocity", "momentum", "average_gradient"]
    );
    assert_eq!(OptimizerConfig::adam().with_learning_rate(0.5).learning_rate(), 0.5);
}

// ------------------------------------------------------------------ edge and error cases

#[test]
fn empty_batches_give_zero_loss() {
    for device in [gpu(), Device::Cpu] {
        let pred = Tensor::from_f32(&device, vec![], &[0, 4]).unwrap();
        let labels = Tensor::from_i32(&device, vec![], &[0]).unwrap();
        let out = sparse_categorical_crossentropy(&pred, &labels, true).unwrap();
        assert_eq!(scalar(&out.value), 0.0);
        assert_eq!(out.grad.shape(), &[0, 4]);
        let t = Tensor::from_f32(&device, vec![], &[0, 4]).unwrap();
        assert_eq!(scalar(&binary_crossentropy(&pred, &t, false).unwrap().value), 0.0);
    }
}

#[test]
fn out_of_range_labels_error_on_cpu_and_give_nan_on_gpu() {
    let pred = vec![0.1, 0.2, 0.7, 0.3, 0.3, 0.4];
    for bad in [3i32, -1] {
        let p = Tensor::from_f32(&Device::Cpu, pred.clone(), &[2, 3]).unwrap();
        let y = Tensor::from_i32(&Device::Cpu, vec![0, bad], &[2]).unwrap();
        let e = sparse_categorical_crossentropy(&p, &y, false).unwrap_err();
        assert!(
            e.message().contains("sparse_categorical_crossentropy")
                && e.message().contains(&bad.to_string())
                && e.message().contains("[0, 3)"),
            "{e}"
        );
        let p = Tensor::from_f32(&gpu(), pred.clone(), &[2, 3]).unwrap();
        let y = Tensor::from_i32(&gpu(), vec![0, bad], &[2]).unwrap();
        for logits in [false, true] {
            let out = sparse_categorical_crossentropy(&p, &y, logits).unwrap();
            assert!(scalar(&out.value).is_nan());
            let g = values(&out.grad);
            assert!(g[..3].iter().all(|v| v.is_finite()) && g[3..].iter().all(|v| v.is_nan()), "{g:?}");
        }
    }
    // uint8 and float labels too.
    let p = Tensor::from_f32(&gpu(), pred.clone(), &[2, 3]).unwrap();
    let y = Tensor::from_u8(&gpu(), vec![1, 200], &[2]).unwrap();
    assert!(scalar(&sparse_categorical_crossentropy_value(&p, &y, true).unwrap()).is_nan());
    let y = Tensor::from_f32(&gpu(), vec![2.0, 3.0], &[2]).unwrap();
    assert!(scalar(&sparse_categorical_crossentropy_value(&p, &y, true).unwrap()).is_nan());
    let y = Tensor::from_f32(&Device::Cpu, vec![2.0, f32::NAN], &[2]).unwrap();
    let p = Tensor::from_f32(&Device::Cpu, pred, &[2, 3]).unwrap();
    assert!(sparse_categorical_crossentropy(&p, &y, true).is_err());
}

#[test]
fn mismatched_shapes_and_dtypes_are_errors_naming_op_and_shapes() {
    for device in [gpu(), Device::Cpu] {
        let pred = Tensor::from_f32(&device, vec![0.25; 12], &[4, 3]).unwrap();
        let labels = Tensor::from_i32(&device, vec![0; 3], &[3]).unwrap();
        let e = sparse_categorical_crossentropy(&pred, &labels, true).unwrap_err();
        assert!(
            e.message().contains("sparse_categorical_crossentropy")
                && e.message().contains("(4, 3)")
                && e.message().contains("(3)"),
            "{e}"
        );
        let t = Tensor::from_f32(&device, vec![0.0; 8], &[4, 2]).unwrap();
        let e = categorical_crossentropy(&pred, &t, false).unwrap_err();
        assert!(
            e.message().contains("categorical_crossentropy")
                && e.message().contains("(4, 2)")
                && e.message().contains("(4, 3)"),
            "{e}"
        );
        let e = binary_crossentropy(&pred, &t, false).unwrap_err();
        assert!(e.message().contains("binary_crossentropy") && e.message().contains("(4, 2)"), "{e}");
        // Integer predictions are not probabilities.
        let ints = Tensor::from_i32(&device, vec![0; 12], &[4, 3]).unwrap();
        let e = categorical_crossentropy(&ints, &pred, false).unwrap_err();
        assert!(e.message().contains("categorical_crossentropy") && e.message().contains("int32 (4, 3)"), "{e}");
        // Labels with a trailing 1 are squeezed as Keras does; (N,) targets against
        // (N, 1) predictions are expanded.
        let labels = Tensor::from_i32(&device, vec![0, 1, 2, 1], &[4, 1]).unwrap();
        assert!(sparse_categorical_crossentropy(&pred, &labels, true).is_ok());
        let p1 = Tensor::from_f32(&device, vec![0.5; 4], &[4, 1]).unwrap();
        let t1 = Tensor::from_f32(&device, vec![1.0, 0.0, 1.0, 0.0], &[4]).unwrap();
        assert_eq!(binary_crossentropy(&p1, &t1, false).unwrap().grad.shape(), &[4, 1]);
        // A non-scalar upstream gradient.
        let dy = Tensor::from_f32(&device, vec![1.0, 2.0], &[2]).unwrap();
        let labels = Tensor::from_i32(&device, vec![0; 4], &[4]).unwrap();
        let e = crossentropy_grad(Crossentropy::Sparse, &pred, &labels, true, Some(&dy)).unwrap_err();
        assert!(e.message().contains("scalar") && e.message().contains("(2)"), "{e}");
        let g = sparse_categorical_crossentropy_grad(&pred, &labels, true).unwrap();
        assert_eq!(g.shape(), &[4, 3]);
    }
    // Different devices.
    let a = Tensor::from_f32(&gpu(), vec![0.5; 4], &[2, 2]).unwrap();
    let b = Tensor::from_i32(&Device::Cpu, vec![0, 1], &[2]).unwrap();
    assert!(sparse_categorical_crossentropy(&a, &b, true).unwrap_err().message().contains("different devices"));
}

#[test]
fn optimizer_errors_name_the_optimizer_and_shapes() {
    for device in [gpu(), Device::Cpu] {
        let p = Tensor::from_f32(&device, vec![0.0; 6], &[2, 3]).unwrap();
        let g = Tensor::from_f32(&device, vec![0.0; 6], &[3, 2]).unwrap();
        let e = update(&p, &g, &[], &OptimizerConfig::adam(), 1).unwrap_err();
        assert!(
            e.message().contains("Adam") && e.message().contains("(3, 2)") && e.message().contains("(2, 3)"),
            "{e}"
        );
        let g = Tensor::from_f32(&device, vec![0.0; 6], &[2, 3]).unwrap();
        let e = update(&p, &g, std::slice::from_ref(&p), &OptimizerConfig::adam(), 1).unwrap_err();
        assert!(e.message().contains("Adam") && e.message().contains("1 slot"), "{e}");
        let e = update(&p, &g, &[], &OptimizerConfig::adam(), 0).unwrap_err();
        assert!(e.message().contains("steps count from 1"), "{e}");
        let bad = OptimizerConfig::Sgd { learning_rate: 0.1, momentum: 1.5, nesterov: false };
        assert!(update(&p, &g, &[], &bad, 1).unwrap_err().message().contains("momentum"));
        let wrong_slot = Tensor::from_f32(&device, vec![0.0; 5], &[5]).unwrap();
        let e = update(&p, &g, &[wrong_slot.clone(), wrong_slot], &OptimizerConfig::adam(), 1).unwrap_err();
        assert!(e.message().contains("slot momentum") && e.message().contains("(5)"), "{e}");
        let ints = Tensor::from_i32(&device, vec![0; 6], &[2, 3]).unwrap();
        assert!(update(&ints, &ints, &[], &OptimizerConfig::sgd(), 1).is_err());
    }
}

// ------------------------------------------------------------------ optimizer options

/// Every fixture's Keras arguments, read by the option reader the notebook and model
/// files use, give the configuration the step-by-step check runs.
#[test]
fn optimizer_options_from_keras_arguments_reach_the_update() {
    let file = load("loss_optim", "optim.json");
    for case in cases(&file) {
        let read = optimizer_config(case["optimizer"].as_str().unwrap(), &case["config"])
            .unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
        assert_eq!(read, config_of(case), "{}", case["name"]);
    }
}

/// `keras.optimizers.SGD({learningRate: 0.1, momentum: 0.9})` (once dropped momentum):
/// the steps match Keras's momentum formula as recorded in the fixture.
#[test]
fn sgd_momentum_from_options_matches_keras_steps() {
    let file = load("loss_optim", "optim.json");
    let config = optimizer_config("SGD", &serde_json::json!({"learningRate": 0.1, "momentum": 0.9})).unwrap();
    assert_eq!(config, OptimizerConfig::Sgd { learning_rate: 0.1, momentum: 0.9, nesterov: false });
    let case = cases(&file)
        .iter()
        .find(|c| c["optimizer"] == "SGD" && c["config"]["momentum"] == 0.9 && c["config"]["nesterov"] == false)
        .expect("an SGD momentum 0.9 fixture");
    assert_eq!(config, config_of(case));
    let (p0, shape) = f32_of(case, "param");
    let mut param = Tensor::from_f32(&Device::Cpu, p0, &shape).unwrap();
    let mut slots = vec![];
    for (i, (g, want)) in case["grads"].as_array().unwrap().iter().zip(case["steps"].as_array().unwrap()).enumerate() {
        let g = g["data"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        let g = Tensor::from_f32(&Device::Cpu, g, &shape).unwrap();
        let (p, s) = update(&param, &g, &slots, &config, i + 1).unwrap();
        check(case, &format!("param after step {}", i + 1), &values(&p), &f32_of(want, "param").0, 1e-5);
        check(case, &format!("momentum after step {}", i + 1), &values(&s[0]), &f32_of(&want["slots"], "momentum").0, 1e-5);
        (param, slots) = (p, s);
    }
}

#[test]
fn optimizer_options_name_typos_and_refuse_what_the_kernels_lack() {
    let e = optimizer_config("SGD", &serde_json::json!({"momentun": 0.9})).unwrap_err().to_string();
    assert_eq!(e, "SGD: unrecognized keyword argument \"momentun\" (did you mean \"momentum\"?)");
    let e = optimizer_config("adam", &serde_json::json!({"beta1": 0.8})).unwrap_err().to_string();
    assert_eq!(e, "Adam: unrecognized keyword argument \"beta1\" (did you mean \"beta_1\"?)");
    let e = optimizer_config("Adam", &serde_json::json!({"clipnorm": 1.0})).unwrap_err().to_string();
    assert_eq!(e, "Adam: clipnorm=1.0 is not supported (leave it out)");
    let e = optimizer_config("RMSprop", &serde_json::json!({"weight_decay": 0.01})).unwrap_err().to_string();
    assert!(e.contains("weight_decay=0.01 is not supported"), "{e}");
    // What Keras 3's get_config writes, at its defaults, reads back.
    let keras3 = serde_json::json!({"name": "rmsprop", "learning_rate": 0.002, "weight_decay": null, "clipnorm": null,
        "global_clipnorm": null, "clipvalue": null, "use_ema": false, "ema_momentum": 0.99,
        "ema_overwrite_frequency": null, "loss_scale_factor": null, "gradient_accumulation_steps": null,
        "rho": 0.8, "momentum": 0.1, "epsilon": 1e-6, "centered": true});
    assert_eq!(
        optimizer_config("RMSprop", &keras3).unwrap(),
        OptimizerConfig::RmsProp { learning_rate: 0.002, rho: 0.8, momentum: 0.1, epsilon: 1e-6, centered: true }
    );
    // Keras 2 files: "lr" and a zero "decay".
    let keras2 = serde_json::json!({"lr": 0.5, "momentum": 0.25, "decay": 0, "nesterov": true});
    assert_eq!(optimizer_config("SGD", &keras2).unwrap(), OptimizerConfig::Sgd { learning_rate: 0.5, momentum: 0.25, nesterov: true });
    assert!(optimizer_config("SGD", &serde_json::json!({"decay": 0.1})).is_err());
    // Hyperparameters Keras would reject are refused when read, not at the first step.
    assert!(optimizer_config("SGD", &serde_json::json!({"momentum": 1.5})).is_err());
    // compile's forms: a name, or {class_name, config}.
    assert_eq!(optimizer_from_value(&serde_json::json!("sgd")).unwrap(), OptimizerConfig::sgd());
    let v = serde_json::json!({"class_name": "SGD", "config": {"momentum": 0.9}});
    assert_eq!(optimizer_from_value(&v).unwrap(), OptimizerConfig::Sgd { learning_rate: 0.01, momentum: 0.9, nesterov: false });
    assert_eq!(optimizer_from_value(&optimizer_config_json(&OptimizerConfig::adam())).unwrap(), OptimizerConfig::adam());
    assert!(optimizer_from_value(&serde_json::json!({"name": "sgd"})).is_err());
}
