// Crossentropy losses as Keras 3 computes them with its TensorFlow backend, and their
// gradients w.r.t. the predictions; src/reference/loss.rs is the CPU twin and documents
// the formulas. Predictions are viewed as [rows, classes] (binary: one element per row).
// The scalar loss is the mean over rows (Keras's "sum_over_batch_size"): `value` writes
// one partial sum per workgroup, `finish` adds them and divides.
// kind: 0 sparse (integer labels, one per row), 1 categorical, 2 binary.
// target_kind: how the target buffer's 32-bit words read: 0 float32, 1 int32,
// 2 uint8 (four labels per word, little-endian).
// A sparse label outside [0, classes) makes its row's loss and gradient NaN, as
// TensorFlow's GPU kernel does (its CPU kernel raises; the CPU reference errors).

const TREE: u32 = 256u;

struct Params {
    // Number of loss values (rows of `classes`; elements for binary).
    rows: u32,
    classes: u32,
    kind: u32,
    from_logits: u32,
    target_kind: u32,
    // 1: the gradient is scaled by dy[0] (the upstream gradient of the scalar loss).
    has_dy: u32,
    // Number of partial sums `finish` adds.
    partials: u32,
    // Bits of a quiet NaN: WGSL constants may not be NaN, so it comes in at run time.
    nan_bits: u32,
    // Keras's epsilon and 1 - epsilon, rounded to f32 on the host as TF does.
    eps: f32,
    one_minus_eps: f32,
    // 1 / rows, 0 for an empty batch (Keras's divide_no_nan).
    inv_count: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pred: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> grad: array<f32>;

var<workgroup> shared_sum: array<f32, TREE>;

fn nan() -> f32 {
    return bitcast<f32>(params.nan_bits);
}

fn target_at(i: u32) -> f32 {
    switch params.target_kind {
        case 1u: { return f32(bitcast<i32>(targets[i])); }
        case 2u: { return f32((targets[i / 4u] >> (8u * (i % 4u))) & 0xffu); }
        default: { return bitcast<f32>(targets[i]); }
    }
}

// The class index of row r, or -1 when it is outside [0, classes). Float labels are
// truncated toward zero (tf.cast), so (-1, classes) is the valid open interval.
fn label_at(r: u32) -> i32 {
    let c = params.classes;
    switch params.target_kind {
        case 1u: {
            let l = bitcast<i32>(targets[r]);
            if (l < 0 || u32(l) >= c) { return -1; }
            return l;
        }
        case 2u: {
            let l = (targets[r / 4u] >> (8u * (r % 4u))) & 0xffu;
            if (l >= c) { return -1; }
            return i32(l);
        }
        default: {
            let f = bitcast<f32>(targets[r]);
            if (f > -1.0 && f < f32(c)) { return i32(f); }
            return -1;
        }
    }
}

fn clip(p: f32) -> f32 {
    return min(max(p, params.eps), params.one_minus_eps);
}

// TF's clip_by_value passes the gradient where eps <= p <= 1 - eps.
fn in_clip(p: f32) -> bool {
    return p >= params.eps && p <= params.one_minus_eps;
}

// log(1 + x), accurate for small x (WGSL has no log1p).
fn log1p(x: f32) -> f32 {
    let u = 1.0 + x;
    if (u == 1.0) { return x; }
    return log(u) * x / (u - 1.0);
}

fn sigmoid(z: f32) -> f32 {
    if (z >= 0.0) { return 1.0 / (1.0 + exp(-z)); }
    let e = exp(z);
    return e / (1.0 + e);
}

fn row_max(base: u32) -> f32 {
    var m = pred[base];
    for (var j = 1u; j < params.classes; j = j + 1u) { m = max(m, pred[base + j]); }
    return m;
}

fn row_exp_sum(base: u32, m: f32) -> f32 {
    var s = 0.0;
    for (var j = 0u; j < params.classes; j = j + 1u) { s = s + exp(pred[base + j] - m); }
    return s;
}

fn row_clip_sum(base: u32) -> f32 {
    var s = 0.0;
    for (var j = 0u; j < params.classes; j = j + 1u) { s = s + clip(pred[base + j]); }
    return s;
}

fn row_sum(base: u32) -> f32 {
    var s = 0.0;
    for (var j = 0u; j < params.classes; j = j + 1u) { s = s + pred[base + j]; }
    return s;
}

// ---- loss of one row ----

fn sparse_loss(r: u32) -> f32 {
    let y = label_at(r);
    if (y < 0) { return nan(); }
    let base = r * params.classes;
    if (params.from_logits != 0u) {
        let m = row_max(base);
        return m + log(row_exp_sum(base, m)) - pred[base + u32(y)];
    }
    // TF feeds log(clip(p)) to its logits kernel: log Σq - log q_y.
    return log(row_clip_sum(base)) - log(clip(pred[base + u32(y)]));
}

fn categorical_loss(r: u32) -> f32 {
    let base = r * params.classes;
    var acc = 0.0;
    if (params.from_logits != 0u) {
        let m = row_max(base);
        let lse = m + log(row_exp_sum(base, m));
        for (var j = 0u; j < params.classes; j = j + 1u) {
            acc = acc + target_at(base + j) * (lse - pred[base + j]);
        }
        return acc;
    }
    // Rows are renormalized to sum to 1, then clipped.
    let s = row_sum(base);
    for (var j = 0u; j < params.classes; j = j + 1u) {
        acc = acc + target_at(base + j) * log(clip(pred[base + j] / s));
    }
    return -acc;
}

fn binary_loss(i: u32) -> f32 {
    let z = pred[i];
    let t = target_at(i);
    if (params.from_logits != 0u) {
        return max(z, 0.0) - z * t + log1p(exp(-abs(z)));
    }
    let q = clip(z);
    return -(t * log(q) + (1.0 - t) * log(1.0 - q));
}

fn row_loss(r: u32) -> f32 {
    switch params.kind {
        case 0u: { return sparse_loss(r); }
        case 1u: { return categorical_loss(r); }
        default: { return binary_loss(r); }
    }
}

// ---- gradient of one row, times k (1/rows, times dy when given) ----

fn sparse_grad(r: u32, k: f32) {
    let base = r * params.classes;
    let y = label_at(r);
    if (y < 0) {
        for (var j = 0u; j < params.classes; j = j + 1u) { grad[base + j] = nan(); }
        return;
    }
    if (params.from_logits != 0u) {
        let m = row_max(base);
        let s = row_exp_sum(base, m);
        for (var j = 0u; j < params.classes; j = j + 1u) {
            var g = exp(pred[base + j] - m) / s;
            if (i32(j) == y) { g = g - 1.0; }
            grad[base + j] = g * k;
        }
        return;
    }
    let inv_s = 1.0 / row_clip_sum(base);
    for (var j = 0u; j < params.classes; j = j + 1u) {
        let p = pred[base + j];
        var g = 0.0;
        if (in_clip(p)) {
            g = inv_s;
            if (i32(j) == y) { g = g - 1.0 / p; }
        }
        grad[base + j] = g * k;
    }
}

fn categorical_grad(r: u32, k: f32) {
    let base = r * params.classes;
    if (params.from_logits != 0u) {
        // The derivative of the loss above: softmax(z) Σt - t (TF's fused kernel returns
        // softmax(z) - t, equal when each target row sums to 1).
        let m = row_max(base);
        let s = row_exp_sum(base, m);
        var t_sum = 0.0;
        for (var j = 0u; j < params.classes; j = j + 1u) { t_sum = t_sum + target_at(base + j); }
        for (var j = 0u; j < params.classes; j = j + 1u) {
            grad[base + j] = (exp(pred[base + j] - m) / s * t_sum - target_at(base + j)) * k;
        }
        return;
    }
    // d/dp'_c = -t_c / p'_c inside the clip (p' = p / Σp), then through the
    // normalization: d/dp_j = (d_j - Σ_c d_c p'_c) / Σp.
    let s = row_sum(base);
    var dot = 0.0;
    for (var j = 0u; j < params.classes; j = j + 1u) {
        let pn = pred[base + j] / s;
        if (in_clip(pn)) { dot = dot - target_at(base + j); }
    }
    for (var j = 0u; j < params.classes; j = j + 1u) {
        let pn = pred[base + j] / s;
        var d = 0.0;
        if (in_clip(pn)) { d = -target_at(base + j) / pn; }
        grad[base + j] = (d - dot) / s * k;
    }
}

fn binary_grad(i: u32, k: f32) {
    let z = pred[i];
    let t = target_at(i);
    if (params.from_logits != 0u) {
        grad[i] = (sigmoid(z) - t) * k;
        return;
    }
    var g = 0.0;
    if (in_clip(z)) { g = -t / z + (1.0 - t) / (1.0 - z); }
    grad[i] = g * k;
}

fn row_grad(r: u32, k: f32) {
    switch params.kind {
        case 0u: { sparse_grad(r, k); }
        case 1u: { categorical_grad(r, k); }
        default: { binary_grad(r, k); }
    }
}

fn tree_sum(lid: u32, v: f32) -> f32 {
    shared_sum[lid] = v;
    workgroupBarrier();
    for (var s = TREE / 2u; s > 0u; s = s / 2u) {
        if (lid < s) { shared_sum[lid] = shared_sum[lid] + shared_sum[lid + s]; }
        workgroupBarrier();
    }
    return shared_sum[0];
}

// Sum of the row losses of each workgroup's rows into partials[workgroup].
@compute @workgroup_size(TREE)
fn value(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
    let group = wid.y * nwg.x + wid.x;
    let r = group * TREE + lid;
    var v = 0.0;
    if (r < params.rows) { v = row_loss(r); }
    let total = tree_sum(lid, v);
    if (lid == 0u) { partials[group] = total; }
}

// `value` and the gradient of the mean loss in one pass.
@compute @workgroup_size(TREE)
fn value_and_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let group = wid.y * nwg.x + wid.x;
    let r = group * TREE + lid;
    var v = 0.0;
    if (r < params.rows) {
        v = row_loss(r);
        row_grad(r, params.inv_count);
    }
    let total = tree_sum(lid, v);
    if (lid == 0u) { partials[group] = total; }
}

// The gradient alone, scaled by the upstream dy[0] when has_dy is set.
@compute @workgroup_size(TREE)
fn gradient(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
    let r = (wid.y * nwg.x + wid.x) * TREE + lid;
    if (r >= params.rows) { return; }
    var k = params.inv_count;
    if (params.has_dy != 0u) { k = k * dy[0]; }
    row_grad(r, k);
}

// One workgroup: the mean of the row losses from the partial sums.
@compute @workgroup_size(TREE)
fn finish(@builtin(local_invocation_index) lid: u32) {
    var s = 0.0;
    for (var k = lid; k < params.partials; k = k + TREE) { s = s + partials[k]; }
    let total = tree_sum(lid, s);
    if (lid == 0u) { out[0] = total * params.inv_count; }
}
