// 2-D convolution, NHWC input, HWIO kernel, as implicit GEMMs on a shared-memory tiled
// loop (the matmul.wgsl scheme: 64x64 output tile per 16x16 workgroup, 4x4 per thread).
//   mode 0, forward:      y[m, co]  = sum_k im2col(m, k) * w[k, co] (+ bias[co])
//                         m = (n, oy, ox), k = (ky, kx, ci)
//   mode 1, grad_kernel:  dw[k, co] = sum_m im2col(m, k) * dy[m, co]
// The input gradient is a transposed convolution (conv_transpose2d.wgsl).

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
    mode: u32,
    has_bias: u32,
    // grad_kernel reduces over every output pixel; that reduction is split into chunks
    // (workgroup z) whose partial sums land in out[split] and are added up afterwards.
    k_chunk: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
// Row-major [K, out_c]: the kernel (forward) or the output gradient (grad_kernel).
@group(0) @binding(2) var<storage, read> rhs: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

var<workgroup> a_tile: array<f32, 1024>;
var<workgroup> b_tile: array<f32, 1024>;

// Element (m, k) of the im2col matrix, read straight from x.
fn im2col(m: u32, k: u32) -> f32 {
    let plane = params.out_h * params.out_w;
    let n = m / plane;
    let oy = (m % plane) / params.out_w;
    let ox = m % params.out_w;
    let row = params.k_w * params.in_c;
    let ky = k / row;
    let kx = (k % row) / params.in_c;
    let ci = k % params.in_c;
    let iy = i32(oy * params.stride_h + ky * params.dil_h) - i32(params.pad_top);
    let ix = i32(ox * params.stride_w + kx * params.dil_w) - i32(params.pad_left);
    if (iy < 0 || ix < 0 || u32(iy) >= params.in_h || u32(ix) >= params.in_w) { return 0.0; }
    return x[((n * params.in_h + u32(iy)) * params.in_w + u32(ix)) * params.in_c + ci];
}

@compute @workgroup_size(16, 16)
fn conv_gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_id) lid: vec3<u32>) {
    let spatial = params.batch * params.out_h * params.out_w;
    let taps = params.k_h * params.k_w * params.in_c;
    let forward = params.mode == 0u;
    let m_total = select(taps, spatial, forward);
    let k_total = select(spatial, taps, forward);
    let n_total = params.out_c;
    let row_block = select(wid.y, wid.y + wid.z * nwg.y, forward);
    let split = select(wid.z, 0u, forward);
    let k_begin = select(split * params.k_chunk, 0u, forward);
    let k_end = select(min(k_begin + params.k_chunk, k_total), k_total, forward);
    let row0 = row_block * BM;
    let col0 = wid.x * BN;
    let tid = lid.y * 16u + lid.x;

    var acc: array<f32, 16>;
    for (var i = 0u; i < 16u; i = i + 1u) { acc[i] = 0.0; }

    for (var k0 = k_begin; k0 < k_end; k0 = k0 + BK) {
        for (var l = 0u; l < (BM * BK) / THREADS; l = l + 1u) {
            let idx = tid + l * THREADS;
            let am = idx / BK;
            let ak = idx % BK;
            var av = 0.0;
            if (row0 + am < m_total && k0 + ak < k_end) {
                if (forward) {
                    av = im2col(row0 + am, k0 + ak);
                } else {
                    av = im2col(k0 + ak, row0 + am);
                }
            }
            a_tile[ak * BM + am] = av;
            let bk = idx / BN;
            let bn = idx % BN;
            var bv = 0.0;
            if (k0 + bk < k_end && col0 + bn < n_total) {
                bv = rhs[(k0 + bk) * n_total + col0 + bn];
            }
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
                if (forward && params.has_bias == 1u) { v = v + bias[col]; }
                out[(split * m_total + row) * n_total + col] = v;
            }
        }
    }
}
