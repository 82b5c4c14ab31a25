// Batched matrix multiply C[b] = op(A[b]) * op(B[b]), op = optional transpose.
// Shared-memory tiling: a 16x16 workgroup computes a 64x64 tile of C, each invocation a
// 4x4 block, staging 64x16 slabs of A and B through workgroup memory.

const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;
const TM: u32 = 4u;
const TN: u32 = 4u;
const THREADS: u32 = 256u;

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

var<workgroup> a_tile: array<f32, 1024>; // BK x BM, k-major
var<workgroup> b_tile: array<f32, 1024>; // BK x BN, k-major

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

@compute @workgroup_size(16, 16)
fn matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let batch = wid.z + params.batch0;
    let a_base = batch * params.a_batch_stride;
    let b_base = batch * params.b_batch_stride;
    let c_base = batch * params.m * params.n;
    let row0 = wid.y * BM;
    let col0 = wid.x * BN;
    let tid = lid.y * 16u + lid.x;

    var acc: array<f32, 16>;
    for (var i = 0u; i < 16u; i = i + 1u) { acc[i] = 0.0; }

    for (var k0 = 0u; k0 < params.k; k0 = k0 + BK) {
        for (var l = 0u; l < (BM * BK) / THREADS; l = l + 1u) {
            let idx = tid + l * THREADS;
            // A slab: BM rows x BK cols; consecutive threads read consecutive k.
            let am = idx / BK;
            let ak = idx % BK;
            a_tile[ak * BM + am] = load_a(a_base, row0 + am, k0 + ak);
            // B slab: BK rows x BN cols; consecutive threads read consecutive n.
            let bk = idx / BN;
            let bn = idx % BN;
            b_tile[bk * BN + bn] = load_b(b_base, k0 + bk, col0 + bn);
        }
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk = kk + 1u) {
            var av: array<f32, 4>;
            var bv: array<f32, 4>;
            for (var i = 0u; i < TM; i = i + 1u) { av[i] = a_tile[kk * BM + lid.y * TM + i]; }
            for (var j = 0u; j < TN; j = j + 1u) { bv[j] = b_tile[kk * BN + lid.x * TN + j]; }
            for (var i = 0u; i < TM; i = i + 1u) {
                for (var j = 0u; j < TN; j = j + 1u) {
                    acc[i * TN + j] = fma(av[i], bv[j], acc[i * TN + j]);
                }
            }
        }
        workgroupBarrier();
    }

    for (var i = 0u; i < TM; i = i + 1u) {
        let row = row0 + lid.y * TM + i;
        if (row >= params.m) { continue; }
        for (var j = 0u; j < TN; j = j + 1u) {
            let col = col0 + lid.x * TN + j;
            if (col < params.n) {
                c[c_base + row * params.n + col] = acc[i * TN + j];
            }
        }
    }
}
