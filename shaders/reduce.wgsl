// Reductions over one axis of a tensor viewed as [outer, len, inner], and row softmax.
// op: 0 sum, 1 mean, 2 max, 3 min.

override WG: u32 = 256u;
// Workgroup size of the cooperative kernels; the shared arrays below are sized by it.
const TREE: u32 = 256u;

struct Params {
    outer: u32,
    len: u32,
    inner: u32,
    op: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> out_idx: array<i32>;

var<workgroup> partial: array<f32, TREE>;
var<workgroup> partial_idx: array<u32, TREE>;

const LOWEST_F32: f32 = -3.4028234e38;

// Starting value of an accumulator. Max/min seed from the row's first element rather
// than ±inf: WGSL constants cannot be infinite, and re-combining it is harmless.
fn seed(op: u32, first: f32) -> f32 {
    if (op == 2u || op == 3u) { return first; }
    return 0.0;
}

fn combine(op: u32, a: f32, b: f32) -> f32 {
    switch op {
        case 2u: { return max(a, b); }
        case 3u: { return min(a, b); }
        default: { return a + b; }
    }
}

fn finish(op: u32, v: f32) -> f32 {
    if (op == 1u) { return v / f32(params.len); }
    return v;
}

// One invocation per output; coalesced when `inner` is large.
@compute @workgroup_size(WG)
fn reduce_axis(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let o = (wid.y * nwg.x + wid.x) * WG + lid;
    if (o >= params.outer * params.inner) { return; }
    let base = (o / params.inner) * params.len * params.inner + o % params.inner;
    var acc = seed(params.op, x[base]);
    for (var k = 0u; k < params.len; k = k + 1u) {
        acc = combine(params.op, acc, x[base + k * params.inner]);
    }
    out[o] = finish(params.op, acc);
}

// Stage 1 of a long reduction over many columns (inner >= 16; a conv's bias gradient sums
// 88 x 88 rows of 32 channels): workgroup z takes one chunk of the axis, each invocation
// one output, so adjacent invocations read adjacent columns. The chunk's result, not
// finished (sum, max and min only), lands in out[chunk][o]; reduce_axis then combines the
// chunks. (reduce_tree would give each of the few outputs one workgroup, whose lanes read
// `inner` floats apart.)
@compute @workgroup_size(WG)
fn reduce_chunks(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let outputs = params.outer * params.inner;
    let o = wid.x * WG + lid;
    if (o >= outputs) { return; }
    let step = (params.len + nwg.z - 1u) / nwg.z;
    let begin = wid.z * step;
    let end = min(begin + step, params.len);
    let base = (o / params.inner) * params.len * params.inner + o % params.inner;
    var acc = seed(params.op, x[base + min(begin, params.len - 1u) * params.inner]);
    for (var k = begin; k < end; k = k + 1u) {
        acc = combine(params.op, acc, x[base + k * params.inner]);
    }
    out[wid.z * outputs + o] = acc;
}

// One workgroup per output, tree-reduced: for few outputs over long axes.
@compute @workgroup_size(TREE)
fn reduce_tree(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let o = wid.y * nwg.x + wid.x;
    let in_range = o < params.outer * params.inner;
    let base = (o / params.inner) * params.len * params.inner + o % params.inner;
    var acc = 0.0;
    if (in_range) {
        acc = seed(params.op, x[base]);
        for (var k = lid; k < params.len; k = k + TREE) {
            acc = combine(params.op, acc, x[base + k * params.inner]);
        }
    }
    partial[lid] = acc;
    workgroupBarrier();
    for (var s = TREE / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            partial[lid] = combine(params.op, partial[lid], partial[lid + s]);
        }
        workgroupBarrier();
    }
    if (in_range && lid == 0u) {
        out[o] = finish(params.op, partial[0]);
    }
}

// First index of the maximum, as NumPy/Keras argmax.
@compute @workgroup_size(WG)
fn argmax_axis(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let o = (wid.y * nwg.x + wid.x) * WG + lid;
    if (o >= params.outer * params.inner) { return; }
    let base = (o / params.inner) * params.len * params.inner + o % params.inner;
    var best = x[base];
    var best_k = 0u;
    for (var k = 1u; k < params.len; k = k + 1u) {
        let v = x[base + k * params.inner];
        if (v > best) {
            best = v;
            best_k = k;
        }
    }
    out_idx[o] = i32(best_k);
}

// Softmax (op 0) or log-softmax (op 1) of each contiguous row; one workgroup per row.
@compute @workgroup_size(TREE)
fn softmax_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let row = wid.y * nwg.x + wid.x;
    let in_range = row < params.outer;
    let base = row * params.len;
    var m = LOWEST_F32;
    if (in_range) {
        for (var k = lid; k < params.len; k = k + TREE) { m = max(m, x[base + k]); }
    }
    partial[lid] = m;
    workgroupBarrier();
    for (var s = TREE / 2u; s > 0u; s = s / 2u) {
        if (lid < s) { partial[lid] = max(partial[lid], partial[lid + s]); }
        workgroupBarrier();
    }
    let row_max = partial[0];
    workgroupBarrier();
    var total = 0.0;
    if (in_range) {
        for (var k = lid; k < params.len; k = k + TREE) { total = total + exp(x[base + k] - row_max); }
    }
    partial[lid] = total;
    workgroupBarrier();
    for (var s = TREE / 2u; s > 0u; s = s / 2u) {
        if (lid < s) { partial[lid] = partial[lid] + partial[lid + s]; }
        workgroupBarrier();
    }
    let row_sum = partial[0];
    if (in_range) {
        let log_sum = log(row_sum);
        for (var k = lid; k < params.len; k = k + TREE) {
            let shifted = x[base + k] - row_max;
            if (params.op == 1u) {
                out[base + k] = shifted - log_sum;
            } else {
                out[base + k] = exp(shifted) / row_sum;
            }
        }
    }
}

// Softmax with one invocation per row, for short rows (a segmentation map's few classes
// per pixel): the cooperative kernel above spends a whole workgroup and 16 barriers on
// each row, which on a CPU adapter costs far more than the row's arithmetic.
@compute @workgroup_size(WG)
fn softmax_rows_short(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
    let row = (wid.y * nwg.x + wid.x) * WG + lid;
    if (row >= params.outer) { return; }
    let base = row * params.len;
    var row_max = x[base];
    for (var k = 1u; k < params.len; k = k + 1u) { row_max = max(row_max, x[base + k]); }
    var row_sum = 0.0;
    for (var k = 0u; k < params.len; k = k + 1u) { row_sum = row_sum + exp(x[base + k] - row_max); }
    let log_sum = log(row_sum);
    for (var k = 0u; k < params.len; k = k + 1u) {
        let shifted = x[base + k] - row_max;
        if (params.op == 1u) {
            out[base + k] = shifted - log_sum;
        } else {
            out[base + k] = exp(shifted) / row_sum;
        }
    }
}
