// Max and average pooling over NHWC windows, and their input gradients.
// Padding positions never take part: max ignores them, average divides by the number
// of real elements in the window (TensorFlow's SAME semantics).

override WG: u32 = 256u;

struct Params {
    // The conv family's shared geometry words (gpu::params::WindowWords), in its order.
    batch: u32,
    in_h: u32,
    in_w: u32,
    in_c: u32,
    out_h: u32,
    out_w: u32,
    k_h: u32,
    k_w: u32,
    stride_h: u32,
    stride_w: u32,
    dil_h: u32,
    dil_w: u32,
    pad_top: u32,
    pad_left: u32,
    // Pooling has no dilation (dil_h = dil_w = 1); the block ends on a 16-byte boundary.
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
// max_forward_argmax writes, max_backward_argmax reads: per output, the flat input index
// of its window's first maximum, so the backward pass need not search the windows again.
@group(0) @binding(4) var<storage, read_write> argmax_out: array<u32>;
@group(0) @binding(5) var<storage, read> argmax: array<u32>;

fn index_1d(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * WG + lid;
}

// Window rows/cols of output (oy, ox) clipped to the input: (start_y, end_y, start_x, end_x).
fn window(oy: u32, ox: u32) -> vec4<u32> {
    let y0 = i32(oy * params.stride_h) - i32(params.pad_top);
    let x0 = i32(ox * params.stride_w) - i32(params.pad_left);
    let y1 = min(y0 + i32(params.k_h), i32(params.in_h));
    let x1 = min(x0 + i32(params.k_w), i32(params.in_w));
    return vec4<u32>(u32(max(y0, 0)), u32(max(y1, 0)), u32(max(x0, 0)), u32(max(x1, 0)));
}

// (n, y, x, c) of flat index i in a (batch, h, w, in_c) tensor: the input or the output.
fn nhwc(i: u32, h: u32, w: u32) -> vec4<u32> {
    let c = i % params.in_c;
    let x_ = (i / params.in_c) % w;
    let y = (i / (params.in_c * w)) % h;
    return vec4<u32>(i / (params.in_c * w * h), y, x_, c);
}

fn at(n: u32, y: u32, x_: u32, c: u32) -> u32 {
    return ((n * params.in_h + y) * params.in_w + x_) * params.in_c + c;
}

fn out_at(n: u32, oy: u32, ox: u32, c: u32) -> u32 {
    return ((n * params.out_h + oy) * params.out_w + ox) * params.in_c + c;
}

// Flat input index of the first maximum of window (oy, ox), scanning rows then columns.
fn argmax_of(n: u32, oy: u32, ox: u32, c: u32) -> u32 {
    let win = window(oy, ox);
    var best = at(n, win.x, win.z, c);
    var best_v = x[best];
    for (var y = win.x; y < win.y; y = y + 1u) {
        for (var xx = win.z; xx < win.w; xx = xx + 1u) {
            let j = at(n, y, xx, c);
            if (x[j] > best_v) {
                best_v = x[j];
                best = j;
            }
        }
    }
    return best;
}

@compute @workgroup_size(WG)
fn max_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    if (i >= params.batch * params.out_h * params.out_w * params.in_c) { return; }
    let p = nhwc(i, params.out_h, params.out_w);
    out[i] = x[argmax_of(p.x, p.y, p.z, p.w)];
}

@compute @workgroup_size(WG)
fn max_forward_argmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    if (i >= params.batch * params.out_h * params.out_w * params.in_c) { return; }
    let p = nhwc(i, params.out_h, params.out_w);
    let j = argmax_of(p.x, p.y, p.z, p.w);
    out[i] = x[j];
    argmax_out[i] = j;
}

@compute @workgroup_size(WG)
fn avg_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    if (i >= params.batch * params.out_h * params.out_w * params.in_c) { return; }
    let p = nhwc(i, params.out_h, params.out_w);
    let win = window(p.y, p.z);
    var total = 0.0;
    for (var y = win.x; y < win.y; y = y + 1u) {
        for (var xx = win.z; xx < win.w; xx = xx + 1u) { total = total + x[at(p.x, y, xx, p.w)]; }
    }
    out[i] = total / f32((win.y - win.x) * (win.w - win.z));
}

// Output rows whose windows contain input row iy: [first, last] as (first, last + 1).
fn covering(i_pos: u32, pad: u32, pool: u32, stride: u32, out_len: u32) -> vec2<u32> {
    let p = i32(i_pos + pad);
    let lo = max(p - i32(pool) + 1, 0);
    let first = u32((lo + i32(stride) - 1) / i32(stride));
    let last = min(u32(p) / stride + 1u, out_len);
    return vec2<u32>(first, max(first, last));
}

// The outputs whose windows contain input (iy, ix): rows [x, y), columns [z, w).
fn covering_outputs(iy: u32, ix: u32) -> vec4<u32> {
    let ry = covering(iy, params.pad_top, params.k_h, params.stride_h, params.out_h);
    let rx = covering(ix, params.pad_left, params.k_w, params.stride_w, params.out_w);
    return vec4<u32>(ry, rx);
}

@compute @workgroup_size(WG)
fn max_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    if (i >= params.batch * params.in_h * params.in_w * params.in_c) { return; }
    let p = nhwc(i, params.in_h, params.in_w);
    let r = covering_outputs(p.y, p.z);
    var g = 0.0;
    for (var oy = r.x; oy < r.y; oy = oy + 1u) {
        for (var ox = r.z; ox < r.w; ox = ox + 1u) {
            if (argmax_of(p.x, oy, ox, p.w) == i) {
                g = g + dy[out_at(p.x, oy, ox, p.w)];
            }
        }
    }
    out[i] = g;
}

// max_backward with the forward's argmax: one index read per covering window instead
// of a search through it.
@compute @workgroup_size(WG)
fn max_backward_argmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    if (i >= params.batch * params.in_h * params.in_w * params.in_c) { return; }
    let p = nhwc(i, params.in_h, params.in_w);
    let r = covering_outputs(p.y, p.z);
    var g = 0.0;
    for (var oy = r.x; oy < r.y; oy = oy + 1u) {
        for (var ox = r.z; ox < r.w; ox = ox + 1u) {
            let o = out_at(p.x, oy, ox, p.w);
            if (argmax[o] == i) { g = g + dy[o]; }
        }
    }
    out[i] = g;
}

@compute @workgroup_size(WG)
fn avg_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    if (i >= params.batch * params.in_h * params.in_w * params.in_c) { return; }
    let p = nhwc(i, params.in_h, params.in_w);
    let r = covering_outputs(p.y, p.z);
    var g = 0.0;
    for (var oy = r.x; oy < r.y; oy = oy + 1u) {
        for (var ox = r.z; ox < r.w; ox = ox + 1u) {
            let win = window(oy, ox);
            let count = f32((win.y - win.x) * (win.w - win.z));
            g = g + dy[out_at(p.x, oy, ox, p.w)] / count;
        }
    }
    out[i] = g;
}
