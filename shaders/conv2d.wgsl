// 2-D convolution, NHWC input, HWIO kernel, as implicit GEMMs on a shared-memory tiled
// loop (the matmul.wgsl scheme: 64x64 output tile per 8x8 workgroup, 8x8 per thread).
//   forward:      y[m, co]  = sum_k im2col(m, k) * w[k, co] (+ bias[co])
//                 m = (n, oy, ox), k = (ky, kx, ci)
//   grad_kernel:  dw[k, co] = sum_m im2col(m, k) * dy[m, co]
// The input gradient is a transposed convolution (conv_transpose2d.wgsl).
//
// Two entry points, not one with a runtime mode: each pipeline is compiled only when
// first used (inference never compiles grad_kernel), and each is half the code.
//
// TILE_ROWS (2, 4 or 8) sets the workgroup's rows of threads, hence the tile's height
// BM = 8 * TILE_ROWS; the host lowers it when the GEMM has few rows (batch 1 and small
// feature maps), where a 64-row tile would mostly compute padding.
// The workgroup tiles are sized by BM and BK, the reduction depth staged per step: see
// include/gemm_tile.wgsl for why they are kept small.
override TILE_ROWS: u32 = 8u;
override BM: u32 = 8u * TILE_ROWS;
const BK: u32 = 8u;
const BN: u32 = 64u;

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
    out_c: u32,
    _pad0: u32,
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

// vec4 tiles (4 rows of A / 4 columns of B each) keep the inner loop free of dynamically
// indexed arrays, which software adapters (llvmpipe, SwiftShader) turn into memory traffic.
var<workgroup> a_tile: array<vec4<f32>, BK * BM / 4u>; // [BK][BM/4], k-major
var<workgroup> b_tile: array<vec4<f32>, BK * 16u>; // [BK][BN/4], k-major

// Row and reduction indices decompose into an output pixel (n, oy, ox) and a kernel tap
// (ky, kx, ci); both are packed as vec4<i32>:
//   pixel: (offset of image n in x, top input row, left input column, in range)
//   tap:   (row offset, column offset, channel, in range)
// The BM row decompositions of a tile (one per thread) are computed once into workgroup
// memory, so the integer divisions stay out of the reduction loop.
var<workgroup> row_info: array<vec4<i32>, BM>;

fn pixel(m: u32, limit: u32) -> vec4<i32> {
    let plane = params.out_h * params.out_w;
    let n = m / plane;
    let r = m - n * plane;
    let oy = r / params.out_w;
    let ox = r - oy * params.out_w;
    return vec4<i32>(i32(n * params.in_h * params.in_w * params.in_c),
                     i32(oy * params.stride_h) - i32(params.pad_top),
                     i32(ox * params.stride_w) - i32(params.pad_left), i32(m < limit));
}

fn tap(k: u32, limit: u32) -> vec4<i32> {
    let row = params.k_w * params.in_c;
    let ky = k / row;
    let r = k - ky * row;
    let kx = r / params.in_c;
    return vec4<i32>(i32(ky * params.dil_h), i32(kx * params.dil_w), i32(r - kx * params.in_c), i32(k < limit));
}

// The loads below are branch-free (non-short-circuit `&`, `select` on a clamped index):
// with `||` chains and early returns, 16 inlined copies per staging step made
// SwiftShader take 60-210 s to compile this shader instead of about 1-2 s.
fn im2col(p: vec4<i32>, t: vec4<i32>) -> f32 {
    let iy = p.y + t.x;
    let ix = p.z + t.y;
    let ok = (p.w != 0) & (t.w != 0) & (iy >= 0) & (ix >= 0) & (iy < i32(params.in_h)) & (ix < i32(params.in_w));
    let at = select(0u, u32(p.x) + (u32(iy) * params.in_w + u32(ix)) * params.in_c + u32(t.z), ok);
    return select(0.0, x[at], ok);
}

fn rhs_at(k: u32, col: u32, k_end: u32) -> f32 {
    let ok = (k < k_end) & (col < params.out_c);
    return select(0.0, rhs[select(0u, k * params.out_c + col, ok)], ok);
}

@compute @workgroup_size(8, TILE_ROWS)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
    let m_total = params.batch * params.out_h * params.out_w;
    let k_total = params.k_h * params.k_w * params.in_c;
    // Row blocks past the per-dimension limit fold into workgroup z.
    let row0 = (wid.y + wid.z * nwg.y) * BM;
    let col0 = wid.x * BN;
    let tid = lid.y * 8u + lid.x;
    // Staging roles, for BM threads: at k = k0 + kq this thread loads A rows 4qq..4qq+3
    // for qq = q, q + G, ... (G = BM / BK), and B columns 4bc..4bc+3 at k = k0 + bq,
    // k0 + bq + BM / 16, ...
    let kq = tid % BK;
    let q = tid / BK;
    let groups = BM / BK;
    let bc = tid % 16u;
    let bq = tid / 16u;

    row_info[tid] = pixel(row0 + tid, m_total);
    workgroupBarrier();

    var acc: array<vec4<f32>, 16>;
    for (var i = 0u; i < 16u; i++) { acc[i] = vec4<f32>(0.0); }

    for (var k0 = 0u; k0 < k_total; k0 = k0 + BK) {
        // The tap this thread stages is the same for all its A rows.
        let t = tap(k0 + kq, k_total);
        for (var qq = q; qq < BM / 4u; qq = qq + groups) {
            a_tile[kq * (BM / 4u) + qq] = vec4<f32>(im2col(row_info[4u * qq], t), im2col(row_info[4u * qq + 1u], t),
                                                   im2col(row_info[4u * qq + 2u], t), im2col(row_info[4u * qq + 3u], t));
        }
        let c = col0 + 4u * bc;
        for (var bk = bq; bk < BK; bk = bk + BM / 16u) {
            let k = k0 + bk;
            b_tile[bk * 16u + bc] = vec4<f32>(rhs_at(k, c, k_total), rhs_at(k, c + 1u, k_total),
                                              rhs_at(k, c + 2u, k_total), rhs_at(k, c + 3u, k_total));
        }
        workgroupBarrier();
        //!include gemm_tile.wgsl
        workgroupBarrier();
    }

    let row = row0 + lid.y * 8u;
    let col = col0 + lid.x * 8u;
    var b0 = vec4<f32>(0.0);
    var b1 = vec4<f32>(0.0);
    if (params.has_bias == 1u) {
        b0 = vec4<f32>(bias_at(col), bias_at(col + 1u), bias_at(col + 2u), bias_at(col + 3u));
        b1 = vec4<f32>(bias_at(col + 4u), bias_at(col + 5u), bias_at(col + 6u), bias_at(col + 7u));
    }
    for (var i = 0u; i < 8u; i++) {
        store(0u, row + i, col, m_total, acc[2u * i] + b0);
        store(0u, row + i, col + 4u, m_total, acc[2u * i + 1u] + b1);
    }
}

// Few output channels (at most 4: a segmentation head's classes). The tiled forward
// would compute 64 columns to keep 3, so here one invocation computes one output pixel,
// its channels in one vec4, reading each input value once.
@compute @workgroup_size(64)
fn forward_narrow(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let m_total = params.batch * params.out_h * params.out_w;
    let m = (wid.y * nwg.x + wid.x) * 64u + lid;
    if (m >= m_total) { return; }
    let p = pixel(m, m_total);
    let n_total = params.out_c;
    let k_total = params.k_h * params.k_w * params.in_c;
    var acc = vec4<f32>(0.0);
    for (var ky = 0u; ky < params.k_h; ky = ky + 1u) {
        let iy = p.y + i32(ky * params.dil_h);
        if (iy < 0 || iy >= i32(params.in_h)) { continue; }
        for (var kx = 0u; kx < params.k_w; kx = kx + 1u) {
            let ix = p.z + i32(kx * params.dil_w);
            if (ix < 0 || ix >= i32(params.in_w)) { continue; }
            let xb = u32(p.x) + (u32(iy) * params.in_w + u32(ix)) * params.in_c;
            let k0 = (ky * params.k_w + kx) * params.in_c;
            for (var ci = 0u; ci < params.in_c; ci = ci + 1u) {
                let k = k0 + ci;
                let w = vec4<f32>(rhs_at(k, 0u, k_total), rhs_at(k, 1u, k_total), rhs_at(k, 2u, k_total), rhs_at(k, 3u, k_total));
                acc = fma(vec4<f32>(x[xb + ci]), w, acc);
            }
        }
    }
    if (params.has_bias == 1u) { acc = acc + vec4<f32>(bias_at(0u), bias_at(1u), bias_at(2u), bias_at(3u)); }
    let vals = array<f32, 4>(acc.x, acc.y, acc.z, acc.w);
    for (var j = 0u; j < n_total; j = j + 1u) { out[m * n_total + j] = vals[j]; }
}

// Rows are taps, columns output channels, the reduction runs over output pixels: this
// workgroup's split (workgroup z) covers pixels [z * k_chunk, (z + 1) * k_chunk).
// Its tiles keep the default 64 rows (taps are many): the staging below assumes them.
@compute @workgroup_size(8, TILE_ROWS)
fn grad_kernel(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let m_total = params.k_h * params.k_w * params.in_c;
    let spatial = params.batch * params.out_h * params.out_w;
    let split = wid.z;
    let k_begin = split * params.k_chunk;
    let k_end = min(k_begin + params.k_chunk, spatial);
    let row0 = wid.y * BM;
    let col0 = wid.x * BN;
    let tid = lid.y * 8u + lid.x;
    // Staging roles as in forward (with 64 threads).
    let kq = tid % BK;
    let q = tid / BK;
    let bc = tid % 16u;
    let bq = tid / 16u;

    row_info[tid] = tap(row0 + tid, m_total);
    workgroupBarrier();

    var acc: array<vec4<f32>, 16>;
    for (var i = 0u; i < 16u; i++) { acc[i] = vec4<f32>(0.0); }

    for (var k0 = k_begin; k0 < k_end; k0 = k0 + BK) {
        // The output pixel this thread stages is the same for all its A rows.
        let p = pixel(k0 + kq, k_end);
        for (var qq = q; qq < 16u; qq = qq + 64u / BK) {
            a_tile[kq * 16u + qq] = vec4<f32>(im2col(p, row_info[4u * qq]), im2col(p, row_info[4u * qq + 1u]),
                                             im2col(p, row_info[4u * qq + 2u]), im2col(p, row_info[4u * qq + 3u]));
        }
        let c = col0 + 4u * bc;
        for (var bk = bq; bk < BK; bk = bk + 4u) {
            let k = k0 + bk;
            b_tile[bk * 16u + bc] = vec4<f32>(rhs_at(k, c, k_end), rhs_at(k, c + 1u, k_end),
                                              rhs_at(k, c + 2u, k_end), rhs_at(k, c + 3u, k_end));
        }
        workgroupBarrier();
        //!include gemm_tile.wgsl
        workgroupBarrier();
    }

    let row = row0 + lid.y * 8u;
    let col = col0 + lid.x * 8u;
    for (var i = 0u; i < 8u; i++) {
        store(split * m_total, row + i, col, m_total, acc[2u * i]);
        store(split * m_total, row + i, col + 4u, m_total, acc[2u * i + 1u]);
    }
}

fn store(base_row: u32, row: u32, col: u32, m_total: u32, v: vec4<f32>) {
    if (row >= m_total) { return; }
    let n_total = params.out_c;
    let at = (base_row + row) * n_total + col;
    if (col < n_total) { out[at] = v.x; }
    if (col + 1u < n_total) { out[at + 1u] = v.y; }
    if (col + 2u < n_total) { out[at + 2u] = v.z; }
    if (col + 3u < n_total) { out[at + 3u] = v.w; }
}

fn bias_at(col: u32) -> f32 {
    let ok = col < params.out_c;
    return select(0.0, bias[select(0u, col, ok)], ok);
}
