// Per-image projective resampling of NHWC images, as TensorFlow's
// ImageProjectiveTransformV3 (what Keras's RandomFlip/Rotation/Zoom/Translation use):
// output pixel (x, y) of image n reads input point
//   ((a0 x + a1 y + a2) / k, (a3 x + a4 y + a5) / k),  k = a6 x + a7 y + 1,
// mapped into the image by the fill mode, then sampled bilinearly (or nearest).
// fill_mode: 0 reflect, 1 wrap, 2 constant, 3 nearest. interpolation: 0 bilinear, 1 nearest.

override WG: u32 = 256u;

struct Params {
    batch: u32,
    height: u32,
    width: u32,
    channels: u32,
    fill_mode: u32,
    interpolation: u32,
    fill_value: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> images: array<f32>;
// 8 coefficients per image.
@group(0) @binding(2) var<storage, read> transforms: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn map_coordinate(c: f32, len: u32) -> f32 {
    let n = f32(len);
    var v = c;
    switch params.fill_mode {
        case 0u: {
            if (v < 0.0) {
                if (len <= 1u) {
                    v = 0.0;
                } else {
                    let sz2 = 2.0 * n;
                    if (v < -sz2) { v = sz2 * trunc(-v / sz2) + v; }
                    v = select(-v - 1.0, v + sz2, v < -n);
                }
            } else if (v > n - 1.0) {
                if (len <= 1u) {
                    v = 0.0;
                } else {
                    let sz2 = 2.0 * n;
                    v = v - sz2 * trunc(v / sz2);
                    if (v >= n) { v = sz2 - v - 1.0; }
                }
            }
            return clamp(v, 0.0, n - 1.0);
        }
        case 1u: {
            if (v < 0.0) {
                if (len <= 1u) {
                    v = 0.0;
                } else {
                    let sz = n - 1.0;
                    v = v + n * (trunc(-v / sz) + 1.0);
                }
            } else if (v > n - 1.0) {
                if (len <= 1u) {
                    v = 0.0;
                } else {
                    let sz = n - 1.0;
                    v = v - n * trunc(v / sz);
                }
            }
            return clamp(v, 0.0, n - 1.0);
        }
        case 3u: { return clamp(v, 0.0, n - 1.0); }
        default: { return v; }
    }
}

// std::round, as TensorFlow uses: halves go away from zero (WGSL's round() goes to even).
fn round_half_away(v: f32) -> f32 {
    return sign(v) * floor(abs(v) + 0.5);
}

fn texel(n: u32, y: f32, x: f32, c: u32) -> f32 {
    if (y < 0.0 || x < 0.0 || y > f32(params.height) - 1.0 || x > f32(params.width) - 1.0) {
        return params.fill_value;
    }
    return images[((n * params.height + u32(y)) * params.width + u32(x)) * params.channels + c];
}

@compute @workgroup_size(WG)
fn transform(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * WG + lid;
    if (i >= params.batch * params.height * params.width * params.channels) { return; }
    let c = i % params.channels;
    let ox = f32((i / params.channels) % params.width);
    let oy = f32((i / (params.channels * params.width)) % params.height);
    let n = i / (params.channels * params.width * params.height);
    let t = n * 8u;
    let k = transforms[t + 6u] * ox + transforms[t + 7u] * oy + 1.0;
    if (k == 0.0) {
        out[i] = params.fill_value;
        return;
    }
    let x = map_coordinate((transforms[t] * ox + transforms[t + 1u] * oy + transforms[t + 2u]) / k, params.width);
    let y = map_coordinate((transforms[t + 3u] * ox + transforms[t + 4u] * oy + transforms[t + 5u]) / k, params.height);
    if (params.interpolation == 1u) {
        out[i] = texel(n, round_half_away(y), round_half_away(x), c);
        return;
    }
    let y0 = floor(y);
    let x0 = floor(x);
    let y1 = y0 + 1.0;
    let x1 = x0 + 1.0;
    let top = (x1 - x) * texel(n, y0, x0, c) + (x - x0) * texel(n, y0, x1, c);
    let bottom = (x1 - x) * texel(n, y1, x0, c) + (x - x0) * texel(n, y1, x1, c);
    out[i] = (y1 - y) * top + (y - y0) * bottom;
}
