// Transposed 2-D convolution (the adjoint of conv2d), NHWC, kernel (kh, kw, out, in) as
// Keras's Conv2DTranspose stores it. Also serves as conv2d's input gradient, where the
// conv2d kernel (kh, kw, ci, co) is read in exactly this layout.
//   y[n, oy, ox, co] = sum over (ky, kx, ci) with iy*s + ky*d - pad = oy (same for x)
//                      of x[n, iy, ix, ci] * w[ky, kx, co, ci]  (+ bias[co])
// Implicit GEMM over m = (n, oy, ox), k = (ky, kx, ci), col = co, tiled as matmul.wgsl.

const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;
const TM: u32 = 4u;
const TN: u32 = 4u;
const THREADS: u32 = 256u;

struct Params {
    batch: u32,
    in_h: u32,
    in_w: u32,
    in_c: u32,
    out_h: u32,
    out_w: u32,
    out_c: u32,
    k_h: u32,
    k_w: u32,
    stride_h: u32,
    stride_w: u32,
    dil_h: u32,
    dil_w: u32,
    pad_top: u32,
    pad_left: u32,
    has_bias: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

var<workgroup> a_tile: array<f32, 1024>;
var<workgroup> b_tile: array<f32, 1024>;

// The input value that tap k contributes to output position m, or 0 when the tap falls
// between strided input positions or outside the input.
fn scattered(m: u32, k: u32) -> f32 {
    let plane = params.out_h * params.out_w;
    let n = m / plane;
    let oy = (m % plane) / params.out_w;
    let ox = m % params.out_w;
    let row = params.k_w * params.in_c;
    let ky = k / row;
    let kx = (k % row) / params.in_c;
    let ci = k % params.in_c;
    let ny = i32(oy + params.pad_top) - i32(ky * params.dil_h);
    let nx = i32(ox + params.pad_left) - i32(kx * params.dil_w);
    if (ny < 0 || nx < 0) { return 0.0; }
    if (u32(ny) % params.stride_h != 0u || u32(nx) % params.stride_w != 0u) { return 0.0; }
    let iy = u32(ny) / params.stride_h;
    let ix = u32(nx) / params.stride_w;
    if (iy >= params.in_h || ix >= params.in_w) { return 0.0; }
    return x[((n * params.in_h + iy) * params.in_w + ix) * params.in_c + ci];
}

fn weight(k: u32, co: u32) -> f32 {
    let row = params.k_w * params.in_c;
    let ky = k / row;
    let kx = (k % row) / params.in_c;
    let ci = k % params.in_c;
    return w[((ky * params.k_w + kx) * params.out_c + co) * params.in_c + ci];
}

@compute @workgroup_size(16, 16)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
    let m_total = params.batch * params.out_h * params.out_w;
    let k_total = params.k_h * params.k_w * params.in_c;
    let n_total = params.out_c;
    // Row blocks past the per-dimension limit fold into workgroup z.
    let row0 = (wid.y + wid.z * nwg.y) * BM;
    let col0 = wid.x * BN;
    let tid = lid.y * 16u + lid.x;

    var acc: array<f32, 16>;
    for (var i = 0u; i < 16u; i = i + 1u) { acc[i] = 0.0; }

    for (var k0 = 0u; k0 < k_total; k0 = k0 + BK) {
        for (var l = 0u; l < (BM * BK) / THREADS; l = l + 1u) {
            let idx = tid + l * THREADS;
            let am = idx / BK;
            let ak = idx % BK;
            var av = 0.0;
            if (row0 + am < m_total && k0 + ak < k_total) { av = scattered(row0 + am, k0 + ak); }
            a_tile[ak * BM + am] = av;
            let bk = idx / BN;
            let bn = idx % BN;
            var bv = 0.0;
            if (k0 + bk < k_total && col0 + bn < n_total) { bv = weight(k0 + bk, col0 + bn); }
            b_tile[bk * BN + bn] = bv;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk = kk + 1u) {
            var a_reg: array<f32, 4>;
            var b_reg: array<f32, 4>;
            for (var i = 0u; i < TM; i = i + 1u) { a_reg[i] = a_tile[kk * BM + lid.y * TM + i]; }
            for (var j = 0u; j < TN; j = j + 1u) { b_reg[j] = b_tile[kk * BN + lid.x * TN + j]; }
            for (var i = 0u; i < TM; i = i + 1u) {
                for (var j = 0u; j < TN; j = j + 1u) {
                    acc[i * TN + j] = fma(a_reg[i], b_reg[j], acc[i * TN + j]);
                }
            }
        }
        workgroupBarrier();
    }

    for (var i = 0u; i < TM; i = i + 1u) {
        let row = row0 + lid.y * TM + i;
        if (row >= m_total) { continue; }
        for (var j = 0u; j < TN; j = j + 1u) {
            let col = col0 + lid.x * TN + j;
            if (col < n_total) {
                var v = acc[i * TN + j];
                if (params.has_bias == 1u) { v = v + bias[col]; }
                out[row * n_total + col] = v;
            }
        }
    }
}
