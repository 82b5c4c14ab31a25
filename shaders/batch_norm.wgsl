// Batch normalization over the last (channel) axis of a tensor viewed as [rows, C].
// moments_*: per-channel mean and biased variance (moments_finish_update also moves the
// moving statistics, so a training step spends no launches on that); scale_shift:
// y = (x - mean) / sqrt(var + eps) * gamma + beta with the given statistics;
// grad_sums_* / grad_input: the backward pass, dgamma = sum(dy * xhat), dbeta = sum(dy),
// written as two tensors, which are the gradients themselves.
// The per-channel sums run in two passes: *_partial gives each workgroup a tile of
// channels and a chunk of rows, so neighbouring invocations read neighbouring channels
// and x is read once, and leaves one sum per (chunk, channel); *_finish adds the chunks.

override WG: u32 = 256u;
const TREE: u32 = 256u;

struct Params {
    rows: u32,
    channels: u32,
    epsilon: f32,
    // 1: statistics came from this batch, so the input gradient flows through them too.
    training: u32,
    // *_partial: channels per workgroup (a power of two dividing TREE), rows per chunk
    // and the number of chunks.
    tile_c: u32,
    chunk: u32,
    chunks: u32,
    // moments_finish_update: moving = moving * momentum + batch * (1 - momentum).
    momentum: f32,
    // 1: a ReLU follows (Keras BatchNormalization then Activation("relu")): scale_shift
    // clamps its output, and the backward entries take dy where that output is positive.
    relu: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
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
// sum(dy) per channel (the beta gradient).
@group(0) @binding(8) var<storage, read> sum_dy: array<f32>;
// [chunks][2][C]: the per-chunk sums of moments_partial or grad_sums_partial.
@group(0) @binding(9) var<storage, read> partials: array<f32>;
@group(0) @binding(10) var<storage, read> moving_mean: array<f32>;
@group(0) @binding(11) var<storage, read> moving_variance: array<f32>;
@group(0) @binding(12) var<storage, read_write> moving_mean_out: array<f32>;
@group(0) @binding(13) var<storage, read_write> moving_variance_out: array<f32>;
// sum(dy * xhat) per channel (the gamma gradient).
@group(0) @binding(14) var<storage, read> sum_dy_xhat: array<f32>;
// With relu: the forward's (clamped) output; without, any buffer (it is not read).
@group(0) @binding(15) var<storage, read> y_relu: array<f32>;

var<workgroup> partial: array<f32, TREE>;

// The output gradient at i, through the fused ReLU if there is one.
fn dy_at(i: u32) -> f32 {
    if (params.relu == 1u && y_relu[i] <= 0.0) { return 0.0; }
    return dy[i];
}

@compute @workgroup_size(WG)
fn scale_shift(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * WG + lid;
    if (i >= params.rows * params.channels) { return; }
    let c = i % params.channels;
    let inv_std = inverseSqrt(stats[params.channels + c] + params.epsilon);
    let v = (x[i] - stats[c]) * inv_std * gamma[c] + beta[c];
    out[i] = select(v, max(v, 0.0), params.relu == 1u);
}

@compute @workgroup_size(WG)
fn grad_input(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * WG + lid;
    if (i >= params.rows * params.channels) { return; }
    let c = i % params.channels;
    let inv_std = inverseSqrt(stats[params.channels + c] + params.epsilon);
    let scale = gamma[c] * inv_std;
    let g = dy_at(i);
    if (params.training == 0u) {
        out[i] = g * scale;
        return;
    }
    let m = f32(params.rows);
    let xhat = (x[i] - stats[c]) * inv_std;
    out[i] = scale / m * (m * g - sum_dy[c] - xhat * sum_dy_xhat[c]);
}

struct Slot {
    chunk: u32,
    c: u32,
    lane: u32,
    lanes: u32,
    live: bool,
}

// This invocation's channel and lane in the (channel tile, row chunk) split.
fn slot_of(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> Slot {
    let tiles = (params.channels + params.tile_c - 1u) / params.tile_c;
    let g = wid.y * nwg.x + wid.x;
    var s: Slot;
    s.chunk = g / tiles;
    s.c = (g % tiles) * params.tile_c + lid % params.tile_c;
    s.lane = lid / params.tile_c;
    s.lanes = TREE / params.tile_c;
    s.live = s.c < params.channels && s.chunk < params.chunks;
    return s;
}

// Adds the lanes' values of each channel; lane 0 writes partials[chunk][k][c].
fn lane_sum(lid: u32, s: Slot, k: u32, v: f32) {
    partial[lid] = v;
    workgroupBarrier();
    if (s.lane == 0u && s.live) {
        var t = 0.0;
        for (var l = 0u; l < s.lanes; l = l + 1u) { t = t + partial[l * params.tile_c + lid]; }
        stats_out[(s.chunk * 2u + k) * params.channels + s.c] = t;
    }
    workgroupBarrier();
}

// One pass over x: sums of (x - k) and (x - k)^2 per channel and chunk, shifted by the
// channel's first value k so that the variance does not cancel (Welford-free).
@compute @workgroup_size(TREE)
fn moments_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
    let s = slot_of(wid, nwg, lid);
    var sum = 0.0;
    var sq = 0.0;
    if (s.live) {
        let k = x[s.c];
        let end = min((s.chunk + 1u) * params.chunk, params.rows);
        for (var r = s.chunk * params.chunk + s.lane; r < end; r = r + s.lanes) {
            let d = x[r * params.channels + s.c] - k;
            sum = sum + d;
            sq = fma(d, d, sq);
        }
    }
    lane_sum(lid, s, 0u, sum);
    lane_sum(lid, s, 1u, sq);
}

// The chunks' shifted sums of channel c as (mean, biased variance).
fn chunk_moments(c: u32) -> vec2<f32> {
    var sum = 0.0;
    var sq = 0.0;
    for (var k = 0u; k < params.chunks; k = k + 1u) {
        sum = sum + partials[(k * 2u) * params.channels + c];
        sq = sq + partials[(k * 2u + 1u) * params.channels + c];
    }
    let n = f32(params.rows);
    let shifted_mean = sum / n;
    return vec2<f32>(x[c] + shifted_mean, max(sq / n - shifted_mean * shifted_mean, 0.0));
}

// Channel c's (mean, variance) from the chunks, written to stats_out and returned.
fn finish_channel(c: u32) -> vec2<f32> {
    let m = chunk_moments(c);
    stats_out[c] = m.x;
    stats_out[params.channels + c] = m.y;
    return m;
}

// The chunks' shifted sums into [mean(C), variance(C)], one invocation per channel.
@compute @workgroup_size(WG)
fn moments_finish(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let c = (wid.y * nwg.x + wid.x) * WG + lid;
    if (c >= params.channels) { return; }
    finish_channel(c);
}

// moments_finish, and the moving statistics after this batch (Keras's update, with the
// biased batch variance).
@compute @workgroup_size(WG)
fn moments_finish_update(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
    let c = (wid.y * nwg.x + wid.x) * WG + lid;
    if (c >= params.channels) { return; }
    let m = finish_channel(c);
    let keep = params.momentum;
    moving_mean_out[c] = moving_mean[c] * keep + m.x * (1.0 - keep);
    moving_variance_out[c] = moving_variance[c] * keep + m.y * (1.0 - keep);
}

// sum(dy) and sum(dy * xhat) per channel and chunk.
@compute @workgroup_size(TREE)
fn grad_sums_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
    let s = slot_of(wid, nwg, lid);
    var sd = 0.0;
    var sdx = 0.0;
    if (s.live) {
        let mean = stats[s.c];
        let inv_std = inverseSqrt(stats[params.channels + s.c] + params.epsilon);
        let end = min((s.chunk + 1u) * params.chunk, params.rows);
        for (var r = s.chunk * params.chunk + s.lane; r < end; r = r + s.lanes) {
            let i = r * params.channels + s.c;
            let g = dy_at(i);
            sd = sd + g;
            sdx = fma(g, x[i] - mean, sdx);
        }
        sdx = sdx * inv_std;
    }
    lane_sum(lid, s, 0u, sd);
    lane_sum(lid, s, 1u, sdx);
}

// The chunks' sums added up, one invocation per value: sum(dy) into stats_out,
// sum(dy * xhat) into out.
@compute @workgroup_size(WG)
fn grad_sums_finish(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let e = (wid.y * nwg.x + wid.x) * WG + lid;
    if (e >= 2u * params.channels) { return; }
    var t = 0.0;
    for (var k = 0u; k < params.chunks; k = k + 1u) { t = t + partials[k * 2u * params.channels + e]; }
    if (e < params.channels) {
        stats_out[e] = t;
    } else {
        out[e - params.channels] = t;
    }
}
