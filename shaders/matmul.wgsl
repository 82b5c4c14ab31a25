// Batched matrix multiply C[b] = op(A[b]) * op(B[b]), op = optional transpose.
// Shared-memory tiling: an 8x8 workgroup computes a 64x64 tile of C, each invocation an
// 8x8 block, staging 64xBK slabs of A and B through workgroup memory.

const BM: u32 = 64u;
const BN: u32 = 64u;
// The reduction depth staged per step (see include/gemm_tile.wgsl).
const BK: u32 = 8u;

struct Params {
    m: u32,
    n: u32,
    k: u32,
    trans_a: u32,
    trans_b: u32,
    a_batch_stride: u32,
    b_batch_stride: u32,
    // First batch of this launch: more than 65535 batches take several launches.
    batch0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

// Tiles hold 4 consecutive rows of A (or columns of B) per vec4, so the inner loop is
// register-only vector FMAs with no dynamically indexed arrays (which software
// adapters such as llvmpipe and SwiftShader lower to per-lane memory traffic).
var<workgroup> a_tile: array<vec4<f32>, BK * 16u>; // [BK][BM/4], k-major
var<workgroup> b_tile: array<vec4<f32>, BK * 16u>; // [BK][BN/4], k-major

fn load_a(base: u32, row: u32, col: u32) -> f32 {
    if (row >= params.m || col >= params.k) { return 0.0; }
    if (params.trans_a == 1u) { return a[base + col * params.m + row]; }
    return a[base + row * params.k + col];
}

fn load_b(base: u32, row: u32, col: u32) -> f32 {
    if (row >= params.k || col >= params.n) { return 0.0; }
    if (params.trans_b == 1u) { return b[base + col * params.k + row]; }
    return b[base + row * params.n + col];
}

@compute @workgroup_size(8, 8)
fn matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let batch = wid.z + params.batch0;
    let a_base = batch * params.a_batch_stride;
    let b_base = batch * params.b_batch_stride;
    let c_base = batch * params.m * params.n;
    let row0 = wid.y * BM;
    let col0 = wid.x * BN;
    let tid = lid.y * 8u + lid.x;
    // Staging roles: at k = k0 + kq this thread loads A rows 4qq..4qq+3 for qq = q,
    // q + 64 / BK, ..., and B columns 4bc..4bc+3 at k = k0 + bq, k0 + bq + 4, ...
    let kq = tid % BK;
    let q = tid / BK;
    let bc = tid % 16u;
    let bq = tid / 16u;

    var acc: array<vec4<f32>, 16>;
    for (var i = 0u; i < 16u; i++) { acc[i] = vec4<f32>(0.0); }

    for (var k0 = 0u; k0 < params.k; k0 = k0 + BK) {
        for (var qq = q; qq < 16u; qq = qq + 64u / BK) {
            let ar = row0 + 4u * qq;
            a_tile[kq * 16u + qq] = vec4<f32>(load_a(a_base, ar, k0 + kq), load_a(a_base, ar + 1u, k0 + kq),
                                             load_a(a_base, ar + 2u, k0 + kq), load_a(a_base, ar + 3u, k0 + kq));
        }
        let bcol = col0 + 4u * bc;
        for (var bk = bq; bk < BK; bk = bk + 4u) {
            b_tile[bk * 16u + bc] = vec4<f32>(load_b(b_base, k0 + bk, bcol), load_b(b_base, k0 + bk, bcol + 1u),
                                              load_b(b_base, k0 + bk, bcol + 2u), load_b(b_base, k0 + bk, bcol + 3u));
        }
        workgroupBarrier();
        //!include gemm_tile.wgsl
        workgroupBarrier();
    }

    let row = row0 + lid.y * 8u;
    let col = col0 + lid.x * 8u;
    for (var i = 0u; i < 8u; i++) {
        store_row(c_base, row + i, col, acc[2u * i]);
        store_row(c_base, row + i, col + 4u, acc[2u * i + 1u]);
    }
}

fn store_row(base: u32, row: u32, col: u32, v: vec4<f32>) {
    if (row >= params.m) { return; }
    let at = base + row * params.n + col;
    if (col < params.n) { c[at] = v.x; }
    if (col + 1u < params.n) { c[at + 1u] = v.y; }
    if (col + 2u < params.n) { c[at + 2u] = v.z; }
    if (col + 3u < params.n) { c[at + 3u] = v.w; }
}

// Few outputs over a long reduction (a Dense layer at batch 1: one row, a handful of
// columns, hundreds of inputs): one workgroup per output, its threads splitting k and
// adding their partial sums as a tree. The tiled entry would run one workgroup through
// every k step alone.
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn matmul_dot(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let batch = wid.z + params.batch0;
    let row = wid.y;
    let col = wid.x;
    let a_base = batch * params.a_batch_stride;
    let b_base = batch * params.b_batch_stride;
    var s = 0.0;
    for (var k = lid; k < params.k; k = k + 64u) {
        s = fma(load_a(a_base, row, k), load_b(b_base, k, col), s);
    }
    partial[lid] = s;
    workgroupBarrier();
    for (var half = 32u; half > 0u; half = half >> 1u) {
        if (lid < half) { partial[lid] = partial[lid] + partial[lid + half]; }
        workgroupBarrier();
    }
    if (lid == 0u) { c[batch * params.m * params.n + row * params.n + col] = partial[0]; }
}
