// Elementwise kernels: unary maps, broadcasting binary ops, fill, dtype casts.
// Shapes arrive in the uniform block; op codes match ops/elementwise.rs.

override WG: u32 = 256u;

struct Params {
    n: u32,
    op: u32,
    rank: u32,
    _pad0: u32,
    p0: f32,
    p1: f32,
    _pad1: u32,
    _pad2: u32,
    out_dims: array<vec4<u32>, 2>,
    a_strides: array<vec4<u32>, 2>,
    b_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> packed_u8: array<u32>;
@group(0) @binding(5) var<storage, read> ints: array<i32>;
@group(0) @binding(6) var<storage, read_write> out_i32: array<i32>;
@group(0) @binding(7) var<storage, read_write> out_u8: array<u32>;

fn linear_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * WG + lid;
}

fn stable_sigmoid(v: f32) -> f32 {
    if (v >= 0.0) {
        return 1.0 / (1.0 + exp(-v));
    }
    let e = exp(v);
    return e / (1.0 + e);
}

// WGSL's pow is undefined for negative bases; match the CPU for integral exponents.
fn safe_pow(a: f32, b: f32) -> f32 {
    if (a > 0.0) {
        return pow(a, b);
    }
    if (a == 0.0) {
        if (b > 0.0) { return 0.0; }
        if (b == 0.0) { return 1.0; }
        return 1.0 / a; // +inf, produced at run time (WGSL constants cannot be infinite)
    }
    if (b == round(b)) {
        let r = pow(-a, b);
        if (abs(b % 2.0) == 1.0) { return -r; }
        return r;
    }
    return pow(a, b); // negative base, fractional exponent: NaN, as on the CPU
}

fn apply_unary(op: u32, v: f32, p0: f32, p1: f32) -> f32 {
    switch op {
        case 0u: { return -v; }
        case 1u: { return abs(v); }
        case 2u: { return max(v, 0.0); }
        case 3u: { return stable_sigmoid(v); }
        // tanh saturates in f32 long before ±15; clamping avoids inf/inf in some drivers.
        case 4u: { return tanh(clamp(v, -15.0, 15.0)); }
        case 5u: { return exp(v); }
        case 6u: { return log(v); }
        case 7u: { return sqrt(v); }
        case 8u: { return v * v; }
        case 9u: { return 1.0 / v; }
        case 10u: { return select(0.0, 1.0, v > 0.0); }
        case 11u: { return sign(v); }
        case 12u: { return max(v, 0.0) + log(1.0 + exp(-abs(v))); }
        case 13u: { return safe_pow(v, p0); }
        case 14u: { return clamp(v, p0, p1); }
        case 15u: { return v * p0 + p1; }
        default: { return v; }
    }
}

fn apply_binary(op: u32, a: f32, b: f32) -> f32 {
    switch op {
        case 0u: { return a + b; }
        case 1u: { return a - b; }
        case 2u: { return a * b; }
        case 3u: { return a / b; }
        case 4u: { return safe_pow(a, b); }
        case 5u: { return max(a, b); }
        case 6u: { return min(a, b); }
        case 7u: { return select(0.0, 1.0, a > b); }
        case 8u: { return select(0.0, 1.0, a == b); }
        default: { return a; }
    }
}

@compute @workgroup_size(WG)
fn unary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
    let i = linear_index(wid, nwg, lid);
    if (i >= params.n) { return; }
    out[i] = apply_unary(params.op, x[i], params.p0, params.p1);
}

@compute @workgroup_size(WG)
fn binary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
    let i = linear_index(wid, nwg, lid);
    if (i >= params.n) { return; }
    var rest = i;
    var ia = 0u;
    var ib = 0u;
    for (var d = i32(params.rank) - 1; d >= 0; d = d - 1) {
        let du = u32(d);
        let dim = params.out_dims[du / 4u][du % 4u];
        let c = rest % dim;
        rest = rest / dim;
        ia = ia + c * params.a_strides[du / 4u][du % 4u];
        ib = ib + c * params.b_strides[du / 4u][du % 4u];
    }
    out[i] = apply_binary(params.op, x[ia], y[ib]);
}

// binary for operands of the output's own shape.
@compute @workgroup_size(WG)
fn binary_flat(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = linear_index(wid, nwg, lid);
    if (i >= params.n) { return; }
    out[i] = apply_binary(params.op, x[i], y[i]);
}

// ReLU's gradient in one pass: dy (in y) where x > 0, else 0 (TensorFlow's ReluGrad).
@compute @workgroup_size(WG)
fn relu_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let i = linear_index(wid, nwg, lid);
    if (i >= params.n) { return; }
    out[i] = select(0.0, y[i], x[i] > 0.0);
}

@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = linear_index(wid, nwg, lid);
    if (i >= params.n) { return; }
    out[i] = params.p0;
}

// uint8 data travels packed four to a word; unpack and rescale (x * p0 + p1) in one pass.
@compute @workgroup_size(WG)
fn cast_u8(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
    let i = linear_index(wid, nwg, lid);
    if (i >= params.n) { return; }
    let byte = (packed_u8[i / 4u] >> (8u * (i % 4u))) & 0xffu;
    out[i] = f32(byte) * params.p0 + params.p1;
}

@compute @workgroup_size(WG)
fn cast_i32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
    let i = linear_index(wid, nwg, lid);
    if (i >= params.n) { return; }
    out[i] = f32(ints[i]);
}

@compute @workgroup_size(WG)
fn to_i32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
    let i = linear_index(wid, nwg, lid);
    if (i >= params.n) { return; }
    out_i32[i] = i32(trunc(x[i]));
}

// float32 → uint8 as Rust's `as u8` (the CPU twin): truncate toward zero, saturate to
// [0, 255], NaN → 0. Bytes are packed four to a word, so one invocation writes one word
// (no two invocations share a word, no atomics needed).
@compute @workgroup_size(WG)
fn to_u8(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
    let w = linear_index(wid, nwg, lid);
    if (w >= (params.n + 3u) / 4u) { return; }
    var packed = 0u;
    for (var k = 0u; k < 4u; k = k + 1u) {
        let i = w * 4u + k;
        if (i < params.n) {
            let v = x[i];
            var b = 0u;
            if (v == v) {
                b = u32(clamp(trunc(v), 0.0, 255.0));
            }
            packed = packed | (b << (8u * k));
        }
    }
    out_u8[w] = packed;
}
