// Depthwise 2-D convolution, NHWC, kernel (kh, kw, in_c, mult); output channel c*mult+m.
// forward: one invocation per output; grad_input: one per input element, gathering
// the outputs its taps reached; grad_kernel: one workgroup per kernel element. Those
// three take any kernel size; for kernels of up to MAX_TAPS taps the host picks
// forward_k (forward_k4 where it applies) and grad_input_k (the same work with the kernel
// size as constants, and no division per tap at stride 1) and grad_kernel_partial + grad_kernel_sum (the kernel
// gradient in two stages, reading x and dy once per position instead of once per tap).

override WG: u32 = 256u;
const TREE: u32 = 256u;
// Kernel size of the *_k and grad_kernel_partial entries as constants, so the driver's compiler can unroll
// the tap loops and keep the per-tap sums in registers (WGSL compilers do not unroll).
override K_H: u32 = 3u;
override K_W: u32 = 3u;
const MAX_TAPS: u32 = 25u;

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
    mult: u32,
    has_bias: u32,
    // grad_kernel_partial: output channels per workgroup (a power of two dividing TREE),
    // positions per chunk and the number of chunks.
    tile_c: u32,
    chunk: u32,
    chunks: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
// grad_kernel_sum: [chunks, k_h * k_w * out_c] sums of grad_kernel_partial.
@group(0) @binding(6) var<storage, read> partials: array<f32>;

var<workgroup> partial: array<f32, TREE>;

fn index_1d(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * WG + lid;
}

// The batch index and top-left input corner (in the padding, possibly) of the window
// under output position `pos` = (n, oy, ox).
struct Origin {
    n: u32,
    y0: i32,
    x0: i32,
}

fn window_origin(pos: u32) -> Origin {
    let ox = pos % params.out_w;
    let rest = pos / params.out_w;
    let oy = rest % params.out_h;
    return Origin(rest / params.out_h, i32(oy * params.stride_h) - i32(params.pad_top),
                  i32(ox * params.stride_w) - i32(params.pad_left));
}

// The input pixel that tap (ky, kx) of the window at `o` reads, as (n, iy, ix) flattened,
// or -1 where the tap falls in the padding.
fn tap_pixel(o: Origin, ky: u32, kx: u32) -> i32 {
    let iy = o.y0 + i32(ky * params.dil_h);
    let ix = o.x0 + i32(kx * params.dil_w);
    let inside = (iy >= 0) & (iy < i32(params.in_h)) & (ix >= 0) & (ix < i32(params.in_w));
    return select(-1, i32((o.n * params.in_h + u32(iy)) * params.in_w + u32(ix)), inside);
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    let out_c = params.in_c * params.mult;
    if (i >= params.batch * params.out_h * params.out_w * out_c) { return; }
    let oc = i % out_c;
    let ox = (i / out_c) % params.out_w;
    let oy = (i / (out_c * params.out_w)) % params.out_h;
    let n = i / (out_c * params.out_w * params.out_h);
    let c = oc / params.mult;
    let m = oc % params.mult;
    var acc = 0.0;
    for (var ky = 0u; ky < params.k_h; ky = ky + 1u) {
        let iy = i32(oy * params.stride_h + ky * params.dil_h) - i32(params.pad_top);
        if (iy < 0 || u32(iy) >= params.in_h) { continue; }
        for (var kx = 0u; kx < params.k_w; kx = kx + 1u) {
            let ix = i32(ox * params.stride_w + kx * params.dil_w) - i32(params.pad_left);
            if (ix < 0 || u32(ix) >= params.in_w) { continue; }
            let xv = x[((n * params.in_h + u32(iy)) * params.in_w + u32(ix)) * params.in_c + c];
            acc = fma(xv, w[((ky * params.k_w + kx) * params.in_c + c) * params.mult + m], acc);
        }
    }
    if (params.has_bias == 1u) { acc = acc + bias[oc]; }
    out[i] = acc;
}

@compute @workgroup_size(WG)
fn grad_input(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    if (i >= params.batch * params.in_h * params.in_w * params.in_c) { return; }
    let c = i % params.in_c;
    let ix = (i / params.in_c) % params.in_w;
    let iy = (i / (params.in_c * params.in_w)) % params.in_h;
    let n = i / (params.in_c * params.in_w * params.in_h);
    let out_c = params.in_c * params.mult;
    var acc = 0.0;
    for (var ky = 0u; ky < params.k_h; ky = ky + 1u) {
        let ny = i32(iy + params.pad_top) - i32(ky * params.dil_h);
        if (ny < 0 || u32(ny) % params.stride_h != 0u) { continue; }
        let oy = u32(ny) / params.stride_h;
        if (oy >= params.out_h) { continue; }
        for (var kx = 0u; kx < params.k_w; kx = kx + 1u) {
            let nx = i32(ix + params.pad_left) - i32(kx * params.dil_w);
            if (nx < 0 || u32(nx) % params.stride_w != 0u) { continue; }
            let ox = u32(nx) / params.stride_w;
            if (ox >= params.out_w) { continue; }
            let base = ((n * params.out_h + oy) * params.out_w + ox) * out_c + c * params.mult;
            for (var m = 0u; m < params.mult; m = m + 1u) {
                acc = fma(dy[base + m], w[((ky * params.k_w + kx) * params.in_c + c) * params.mult + m], acc);
            }
        }
    }
    out[i] = acc;
}

// dw[ky, kx, c, m] = sum over (n, oy, ox) of x[n, iy, ix, c] * dy[n, oy, ox, c*mult+m].
@compute @workgroup_size(TREE)
fn grad_kernel(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let e = wid.y * nwg.x + wid.x;
    let total = params.k_h * params.k_w * params.in_c * params.mult;
    let in_range = e < total;
    let m = e % params.mult;
    let c = (e / params.mult) % params.in_c;
    let kx = (e / (params.mult * params.in_c)) % params.k_w;
    let ky = e / (params.mult * params.in_c * params.k_w);
    let out_c = params.in_c * params.mult;
    let positions = params.batch * params.out_h * params.out_w;
    var acc = 0.0;
    if (in_range) {
        for (var p = lid; p < positions; p = p + TREE) {
            let ox = p % params.out_w;
            let oy = (p / params.out_w) % params.out_h;
            let n = p / (params.out_w * params.out_h);
            let iy = i32(oy * params.stride_h + ky * params.dil_h) - i32(params.pad_top);
            let ix = i32(ox * params.stride_w + kx * params.dil_w) - i32(params.pad_left);
            if (iy < 0 || ix < 0 || u32(iy) >= params.in_h || u32(ix) >= params.in_w) { continue; }
            let xv = x[((n * params.in_h + u32(iy)) * params.in_w + u32(ix)) * params.in_c + c];
            acc = fma(xv, dy[p * out_c + c * params.mult + m], acc);
        }
    }
    partial[lid] = acc;
    workgroupBarrier();
    for (var s = TREE / 2u; s > 0u; s = s / 2u) {
        if (lid < s) { partial[lid] = partial[lid] + partial[lid + s]; }
        workgroupBarrier();
    }
    if (in_range && lid == 0u) { out[e] = partial[0]; }
}

// Stage 1 of the kernel gradient. Workgroup (channel tile, position chunk): each
// invocation owns one output channel and every TREE / tile_c-th position of the chunk,
// reads dy there once and the K_H x K_W inputs under it, and keeps one sum per tap; the
// lanes' sums are then added per tap into partials[chunk][tap][oc].
@compute @workgroup_size(TREE)
fn grad_kernel_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
    let out_c = params.in_c * params.mult;
    let lanes = TREE / params.tile_c;
    let oc_local = lid % params.tile_c;
    let lane = lid / params.tile_c;
    let tiles = (out_c + params.tile_c - 1u) / params.tile_c;
    let g = wid.y * nwg.x + wid.x;
    let chunk = g / tiles;
    let oc = (g % tiles) * params.tile_c + oc_local;
    let live = oc < out_c && chunk < params.chunks;
    let c = oc / max(params.mult, 1u);
    let positions = params.batch * params.out_h * params.out_w;
    var acc: array<f32, MAX_TAPS>;
    if (live) {
        let end = min((chunk + 1u) * params.chunk, positions);
        for (var p = chunk * params.chunk + lane; p < end; p = p + lanes) {
            let o = window_origin(p);
            let g_p = dy[p * out_c + oc];
            for (var ky = 0u; ky < K_H; ky = ky + 1u) {
                for (var kx = 0u; kx < K_W; kx = kx + 1u) {
                    let px = tap_pixel(o, ky, kx);
                    if (px < 0) { continue; }
                    let t = ky * K_W + kx;
                    acc[t] = fma(x[u32(px) * params.in_c + c], g_p, acc[t]);
                }
            }
        }
    }
    let total = K_H * K_W * out_c;
    for (var t = 0u; t < K_H * K_W; t = t + 1u) {
        partial[lid] = acc[t];
        workgroupBarrier();
        if (lane == 0u && live) {
            var s = 0.0;
            for (var l = 0u; l < lanes; l = l + 1u) { s = s + partial[l * params.tile_c + oc_local]; }
            out[chunk * total + t * out_c + oc] = s;
        }
        workgroupBarrier();
    }
}

// Stage 2: dw[e] = the sum over chunks of partials[chunk][e], one invocation per e.
@compute @workgroup_size(WG)
fn grad_kernel_sum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
    let e = index_1d(wid, nwg, lid);
    let total = params.k_h * params.k_w * params.in_c * params.mult;
    if (e >= total) { return; }
    var s = 0.0;
    for (var k = 0u; k < params.chunks; k = k + 1u) { s = s + partials[k * total + e]; }
    out[e] = s;
}

@compute @workgroup_size(WG)
fn forward_k(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    let out_c = params.in_c * params.mult;
    if (i >= params.batch * params.out_h * params.out_w * out_c) { return; }
    let oc = i % out_c;
    let o = window_origin(i / out_c);
    let c = oc / params.mult;
    var acc = 0.0;
    for (var ky = 0u; ky < K_H; ky = ky + 1u) {
        for (var kx = 0u; kx < K_W; kx = kx + 1u) {
            let px = tap_pixel(o, ky, kx);
            if (px < 0) { continue; }
            acc = fma(x[u32(px) * params.in_c + c], w[(ky * K_W + kx) * out_c + oc], acc);
        }
    }
    if (params.has_bias == 1u) { acc = acc + bias[oc]; }
    out[i] = acc;
}

// forward_k for multiplier 1 and a multiple of 4 channels (SeparableConv2D's usual case):
// four adjacent channels per invocation, so the pixel's index arithmetic (integer
// divisions, which CPU adapters run lane by lane) and the taps' range checks serve four
// outputs instead of one.
@compute @workgroup_size(WG)
fn forward_k4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    let quads = params.in_c / 4u;
    if (i >= params.batch * params.out_h * params.out_w * quads) { return; }
    let c = 4u * (i % quads);
    let pos = i / quads;
    let o = window_origin(pos);
    var acc = vec4<f32>(0.0);
    for (var ky = 0u; ky < K_H; ky = ky + 1u) {
        for (var kx = 0u; kx < K_W; kx = kx + 1u) {
            let px = tap_pixel(o, ky, kx);
            if (px < 0) { continue; }
            let at = u32(px) * params.in_c + c;
            let wt = (ky * K_W + kx) * params.in_c + c;
            acc = fma(vec4<f32>(x[at], x[at + 1u], x[at + 2u], x[at + 3u]),
                      vec4<f32>(w[wt], w[wt + 1u], w[wt + 2u], w[wt + 3u]), acc);
        }
    }
    if (params.has_bias == 1u) { acc = acc + vec4<f32>(bias[c], bias[c + 1u], bias[c + 2u], bias[c + 3u]); }
    let at = pos * params.in_c + c;
    out[at] = acc.x;
    out[at + 1u] = acc.y;
    out[at + 2u] = acc.z;
    out[at + 3u] = acc.w;
}

// grad_input with the kernel size as constants. At stride 1 every tap reaches exactly one
// output position, found without a division; with one output channel per input channel
// (multiplier 1, as in SeparableConv2D) each tap is a single multiply-add.
@compute @workgroup_size(WG)
fn grad_input_k(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    if (i >= params.batch * params.in_h * params.in_w * params.in_c) { return; }
    let c = i % params.in_c;
    let pos = i / params.in_c;
    let ix = pos % params.in_w;
    let iy = (pos / params.in_w) % params.in_h;
    let n = pos / (params.in_w * params.in_h);
    if (params.stride_h == 1u && params.stride_w == 1u && params.mult == 1u) {
        out[i] = grad_input_unit(n, iy, ix, c);
        return;
    }
    let out_c = params.in_c * params.mult;
    var acc = 0.0;
    for (var ky = 0u; ky < K_H; ky = ky + 1u) {
        let ny = i32(iy + params.pad_top) - i32(ky * params.dil_h);
        if (ny < 0 || u32(ny) % params.stride_h != 0u) { continue; }
        let oy = u32(ny) / params.stride_h;
        if (oy >= params.out_h) { continue; }
        let row = (n * params.out_h + oy) * params.out_w;
        for (var kx = 0u; kx < K_W; kx = kx + 1u) {
            let nx = i32(ix + params.pad_left) - i32(kx * params.dil_w);
            if (nx < 0 || u32(nx) % params.stride_w != 0u) { continue; }
            let ox = u32(nx) / params.stride_w;
            if (ox >= params.out_w) { continue; }
            let base = (row + ox) * out_c + c * params.mult;
            let wbase = ((ky * K_W + kx) * params.in_c + c) * params.mult;
            for (var m = 0u; m < params.mult; m = m + 1u) {
                acc = fma(dy[base + m], w[wbase + m], acc);
            }
        }
    }
    out[i] = acc;
}

// grad_input_k's stride-1, multiplier-1 case.
fn grad_input_unit(n: u32, iy: u32, ix: u32, c: u32) -> f32 {
    var acc = 0.0;
    for (var ky = 0u; ky < K_H; ky = ky + 1u) {
        let oy = i32(iy + params.pad_top) - i32(ky * params.dil_h);
        if (oy < 0 || u32(oy) >= params.out_h) { continue; }
        let row = (n * params.out_h + u32(oy)) * params.out_w;
        for (var kx = 0u; kx < K_W; kx = kx + 1u) {
            let ox = i32(ix + params.pad_left) - i32(kx * params.dil_w);
            if (ox < 0 || u32(ox) >= params.out_w) { continue; }
            acc = fma(dy[(row + u32(ox)) * params.in_c + c], w[(ky * K_W + kx) * params.in_c + c], acc);
        }
    }
    return acc;
}
