// Resizing NHWC images (tf.image.resize, antialias=False) and its input gradient.
// The resize is separable: the host computes, per axis, where each output index
// samples (ops/resize/spec.rs) and passes it as a table in `taps`:
//   per output index o: lower, upper, bitcast<u32>(lerp)  (3 words)
//   per input index i:  first, end: the outputs o in [first, end) whose taps touch i
// rows' table at word 0 (covers at row_covers), columns' at col_taps (covers at col_covers).
// Forward reads lower/upper along both axes; the gradient of input pixel i gathers the
// output gradients over its covers with the same weights (no scatter, no atomics).

override WG: u32 = 256u;

struct Params {
    batch: u32,
    in_h: u32,
    in_w: u32,
    channels: u32,
    out_h: u32,
    out_w: u32,
    row_covers: u32,
    col_taps: u32,
    col_covers: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Forward: the images. Gradient: the output gradient.
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> taps: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

struct Tap {
    lower: u32,
    upper: u32,
    lerp: f32,
}

fn tap(base: u32, o: u32) -> Tap {
    let k = base + 3u * o;
    return Tap(taps[k], taps[k + 1u], bitcast<f32>(taps[k + 2u]));
}

// TensorFlow's a + (b - a) * t; a copy when both taps are the same pixel.
fn lerp(t: Tap, a: f32, b: f32) -> f32 {
    if (t.lower == t.upper) { return a; }
    return a + (b - a) * t.lerp;
}

// d(output at tap t) / d(input i) along one axis.
fn weight(t: Tap, i: u32) -> f32 {
    var w = 0.0;
    if (t.lower == i) { w = w + 1.0 - t.lerp; }
    if (t.upper == i && t.upper != t.lower) { w = w + t.lerp; }
    return w;
}

fn index_1d(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * WG + lid;
}

fn pixel(n: u32, y: u32, x: u32, c: u32) -> f32 {
    return src[((n * params.in_h + y) * params.in_w + x) * params.channels + c];
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    if (i >= params.batch * params.out_h * params.out_w * params.channels) { return; }
    let c = i % params.channels;
    let ox = (i / params.channels) % params.out_w;
    let oy = (i / (params.channels * params.out_w)) % params.out_h;
    let n = i / (params.channels * params.out_w * params.out_h);
    let ty = tap(0u, oy);
    let tx = tap(params.col_taps, ox);
    let top = lerp(tx, pixel(n, ty.lower, tx.lower, c), pixel(n, ty.lower, tx.upper, c));
    let bottom = lerp(tx, pixel(n, ty.upper, tx.lower, c), pixel(n, ty.upper, tx.upper, c));
    out[i] = lerp(ty, top, bottom);
}

@compute @workgroup_size(WG)
fn grad_input(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    if (i >= params.batch * params.in_h * params.in_w * params.channels) { return; }
    let c = i % params.channels;
    let ix = (i / params.channels) % params.in_w;
    let iy = (i / (params.channels * params.in_w)) % params.in_h;
    let n = i / (params.channels * params.in_w * params.in_h);
    let y_first = taps[params.row_covers + 2u * iy];
    let y_end = taps[params.row_covers + 2u * iy + 1u];
    let x_first = taps[params.col_covers + 2u * ix];
    let x_end = taps[params.col_covers + 2u * ix + 1u];
    var g = 0.0;
    for (var oy = y_first; oy < y_end; oy = oy + 1u) {
        let wy = weight(tap(0u, oy), iy);
        var row = 0.0;
        for (var ox = x_first; ox < x_end; ox = ox + 1u) {
            let dy = src[((n * params.out_h + oy) * params.out_w + ox) * params.channels + c];
            row = row + weight(tap(params.col_taps, ox), ix) * dy;
        }
        g = g + wy * row;
    }
    out[i] = g;
}
