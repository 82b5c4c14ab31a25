// Batch normalization over the last (channel) axis of a tensor viewed as [rows, C].
// moments: per-channel mean and biased variance (two passes, for accuracy);
// scale_shift: y = (x - mean) / sqrt(var + eps) * gamma + beta with the given statistics;
// grad_sums / grad_input: the backward pass. dgamma = sum(dy * xhat), dbeta = sum(dy).

override WG: u32 = 256u;
const TREE: u32 = 256u;

struct Params {
    rows: u32,
    channels: u32,
    epsilon: f32,
    // 1: statistics came from this batch, so the input gradient flows through them too.
    training: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
// [mean(C), variance(C)]
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<storage, read> dy: array<f32>;
// [sum(dy)(C), sum(dy * xhat)(C)]
@group(0) @binding(8) var<storage, read> sums: array<f32>;

var<workgroup> partial: array<f32, TREE>;

fn tree_sum(lid: u32, v: f32) -> f32 {
    partial[lid] = v;
    workgroupBarrier();
    for (var s = TREE / 2u; s > 0u; s = s / 2u) {
        if (lid < s) { partial[lid] = partial[lid] + partial[lid + s]; }
        workgroupBarrier();
    }
    let total = partial[0];
    workgroupBarrier();
    return total;
}

// One workgroup per channel.
@compute @workgroup_size(TREE)
fn moments(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
    let c = wid.y * nwg.x + wid.x;
    let in_range = c < params.channels;
    var s = 0.0;
    if (in_range) {
        for (var r = lid; r < params.rows; r = r + TREE) { s = s + x[r * params.channels + c]; }
    }
    let mean = tree_sum(lid, s) / f32(params.rows);
    var q = 0.0;
    if (in_range) {
        for (var r = lid; r < params.rows; r = r + TREE) {
            let d = x[r * params.channels + c] - mean;
            q = q + d * d;
        }
    }
    let variance = tree_sum(lid, q) / f32(params.rows);
    if (in_range && lid == 0u) {
        stats_out[c] = mean;
        stats_out[params.channels + c] = variance;
    }
}

@compute @workgroup_size(WG)
fn scale_shift(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * WG + lid;
    if (i >= params.rows * params.channels) { return; }
    let c = i % params.channels;
    let inv_std = inverseSqrt(stats[params.channels + c] + params.epsilon);
    out[i] = (x[i] - stats[c]) * inv_std * gamma[c] + beta[c];
}

// One workgroup per channel: sum(dy) and sum(dy * xhat).
@compute @workgroup_size(TREE)
fn grad_sums(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let c = wid.y * nwg.x + wid.x;
    let in_range = c < params.channels;
    var sd = 0.0;
    var sdx = 0.0;
    if (in_range) {
        let mean = stats[c];
        let inv_std = inverseSqrt(stats[params.channels + c] + params.epsilon);
        for (var r = lid; r < params.rows; r = r + TREE) {
            let i = r * params.channels + c;
            sd = sd + dy[i];
            sdx = sdx + dy[i] * (x[i] - mean) * inv_std;
        }
    }
    let sum_dy = tree_sum(lid, sd);
    let sum_dy_xhat = tree_sum(lid, sdx);
    if (in_range && lid == 0u) {
        stats_out[c] = sum_dy;
        stats_out[params.channels + c] = sum_dy_xhat;
    }
}

@compute @workgroup_size(WG)
fn grad_input(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * WG + lid;
    if (i >= params.rows * params.channels) { return; }
    let c = i % params.channels;
    let inv_std = inverseSqrt(stats[params.channels + c] + params.epsilon);
    let scale = gamma[c] * inv_std;
    if (params.training == 0u) {
        out[i] = dy[i] * scale;
        return;
    }
    let m = f32(params.rows);
    let xhat = (x[i] - stats[c]) * inv_std;
    out[i] = scale / m * (m * dy[i] - sums[c] - xhat * sums[params.channels + c]);
}
