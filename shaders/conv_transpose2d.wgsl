// Transposed 2-D convolution (the adjoint of conv2d), NHWC, kernel (kh, kw, out, in) as
// Keras's Conv2DTranspose stores it. Also serves as conv2d's input gradient, where the
// conv2d kernel (kh, kw, ci, co) is read in exactly this layout.
//   y[n, oy, ox, co] = sum over (ky, kx, ci) with iy*s + ky*d - pad = oy (same for x)
//                      of x[n, iy, ix, ci] * w[ky, kx, co, ci]  (+ bias[co])
// Implicit GEMM over m = (n, oy, ox), k = (ky, kx, ci), col = co, tiled as matmul.wgsl
// (64x64 output tile per 8x8 workgroup, 8x8 per thread, vec4 tiles).
// TILE_ROWS lowers the tile's height (BM = 8 * TILE_ROWS) for GEMMs of few rows, as in
// conv2d.wgsl.
//
// Phases: with stride s (and no dilation), output row oy only meets the taps
// ky = (oy + pad) mod s + s * a; all others fall between input rows. So the outputs are
// split by that residue into phases_h x phases_w sub-GEMMs (workgroup z), each over its
// own output pixels and its own taps: s^2 less work than one GEMM over every tap. The
// host sets phases_h = stride_h where that holds (dil_h = 1), else 1: one phase, every
// tap, and the stride check in `scattered` rejects those between input rows.
//
// Where every axis has phases equal to its stride (undilated, or stride 1) the input
// row a tap reads is exact: iy = (oy0 + pad - r) / s + j - a for output row j of the
// phase and its tap a, so the loads are conv2d's (a row term minus a tap term, a range
// check) with no division and no stride check. GENERIC_STRIDE (host-set where an axis
// has both stride and dilation above 1) keeps the divisions and the check instead.
//
// Stride-1 problems of enough rows do not come here: the host runs them as conv2d's
// forward GEMM over the kernel flipped by `flip_kernel` below.
override GENERIC_STRIDE: bool = false;

override TILE_ROWS: u32 = 8u;
override BM: u32 = 8u * TILE_ROWS;
// The reduction depth staged per step (see include/gemm_tile.wgsl).
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
    has_bias: u32,
    phases_h: u32,
    phases_w: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

var<workgroup> a_tile: array<vec4<f32>, BK * BM / 4u>; // [BK][BM/4], k-major
var<workgroup> b_tile: array<vec4<f32>, BK * 16u>; // [BK][BN/4], k-major

// One phase's share of the output, as (along y, along x) pairs: rows
// oy = oy0.x + phases_h * j (j < count.x), columns ox = oy0.y + phases_w * i (i < count.y),
// and taps ky = tap0.x + phases_h * a (a < taps.x), kx likewise.
struct Phase {
    oy0: vec2<u32>,
    count: vec2<u32>,
    tap0: vec2<u32>,
    taps: vec2<u32>,
}

fn phase_of(index: u32) -> Phase {
    let r = vec2<u32>(index / params.phases_w, index % params.phases_w);
    let p = vec2<u32>(params.phases_h, params.phases_w);
    let pad = vec2<u32>(params.pad_top, params.pad_left);
    let out = vec2<u32>(params.out_h, params.out_w);
    let k = vec2<u32>(params.k_h, params.k_w);
    let oy0 = (r + p - pad % p) % p;
    let count = select(vec2<u32>(0u), (out - oy0 + p - 1u) / p, oy0 < out);
    let taps = select(vec2<u32>(0u), (k - r + p - 1u) / p, r < k);
    return Phase(oy0, count, r, taps);
}

// Output position m of a phase = (n, j, i) and tap k = (a, b, ci), packed as vec4<i32>:
//   pixel: (offset of image n in x, row term, column term, in range)
//   tap:   (row term, column term, channel, in range)
// where the input row is the pixel's row term less the tap's: exact, (oy0 + pad - r) / s
// + j less a * dil; GENERIC_STRIDE, oy + pad less ky * dil, still to divide by s.
// The tile's BM pixels (one per thread) are decomposed once into workgroup memory, with
// where each lands in `out`, keeping the integer divisions out of the reduction loop.
var<workgroup> row_info: array<vec4<i32>, BM>;
var<workgroup> row_out: array<u32, BM>;

fn pixel(ph: Phase, m: u32, limit: u32) -> vec4<i32> {
    let plane = ph.count.x * ph.count.y;
    let n = m / max(plane, 1u);
    let r = m - n * plane;
    let j = r / max(ph.count.y, 1u);
    let i = r - j * ph.count.y;
    let oy = ph.oy0.x + params.phases_h * j;
    let ox = ph.oy0.y + params.phases_w * i;
    // Non-negative: oy0 + pad is at least r (see phase_of), and r = 0 when dil > 1.
    let exact_y = (ph.oy0.x + params.pad_top - ph.tap0.x * params.dil_h) / params.stride_h + j;
    let exact_x = (ph.oy0.y + params.pad_left - ph.tap0.y * params.dil_w) / params.stride_w + i;
    let row_term = select(exact_y, oy + params.pad_top, GENERIC_STRIDE);
    let col_term = select(exact_x, ox + params.pad_left, GENERIC_STRIDE);
    return vec4<i32>(i32(n * params.in_h * params.in_w * params.in_c), i32(row_term), i32(col_term), i32(m < limit));
}

// Where output pixel m of a phase lies among all output pixels.
fn out_row(ph: Phase, m: u32) -> u32 {
    let plane = ph.count.x * ph.count.y;
    let n = m / max(plane, 1u);
    let r = m - n * plane;
    let j = r / max(ph.count.y, 1u);
    let oy = ph.oy0.x + params.phases_h * j;
    let ox = ph.oy0.y + params.phases_w * (r - j * ph.count.y);
    return (n * params.out_h + oy) * params.out_w + ox;
}

// `k` of a phase split as (its kernel tap ky * k_w + kx, channel), and that tap's
// (dilated row offset, dilated column offset, channel, in range): the divisions are
// done once per staging step, shared by the A and B loads of the thread that stages k.
struct Tap {
    index: u32,
    channel: u32,
    offsets: vec4<i32>,
}

fn tap(ph: Phase, k: u32, limit: u32) -> Tap {
    let t = k / params.in_c;
    let ci = k - t * params.in_c;
    let a = t / max(ph.taps.y, 1u);
    let b = t - a * ph.taps.y;
    let ky = ph.tap0.x + params.phases_h * a;
    let kx = ph.tap0.y + params.phases_w * b;
    let ty = select(a, ky, GENERIC_STRIDE) * params.dil_h;
    let tx = select(b, kx, GENERIC_STRIDE) * params.dil_w;
    let offsets = vec4<i32>(i32(ty), i32(tx), i32(ci), i32(k < limit));
    return Tap(ky * params.k_w + kx, ci, offsets);
}

// The input value that tap t contributes to output position p, or 0 when the tap falls
// outside the input (GENERIC_STRIDE: or between strided input positions).
// Branch-free, as conv2d.wgsl's loads: SwiftShader compiles 16 inlined copies of a load
// with early returns about twice as slowly (5-6.6 s against 1.9-3 s measured); the
// selects on GENERIC_STRIDE fold away when the pipeline is created.
// No integer division in the generic case either: CPU adapters have no vector divide and
// run it lane by lane. `inv_stride` is (1/stride_h, 1/stride_w): for the |n| < 2^22 the
// host allows, f32(n) * (1/s) lies within 0.5 of n / s, so rounding finds the quotient
// whenever s divides n, and the product check rejects every other n.
fn scattered(p: vec4<i32>, t: vec4<i32>, inv_stride: vec2<f32>) -> f32 {
    let ny = p.y - t.x;
    let nx = p.z - t.y;
    let qy = i32(round(f32(ny) * inv_stride.x));
    let qx = i32(round(f32(nx) * inv_stride.y));
    let on_grid = (qy * i32(params.stride_h) == ny) & (qx * i32(params.stride_w) == nx);
    let iy = select(ny, qy, GENERIC_STRIDE);
    let ix = select(nx, qx, GENERIC_STRIDE);
    let ok = (p.w != 0) & (t.w != 0) & (ny >= 0) & (nx >= 0) & (on_grid | !GENERIC_STRIDE)
             & (u32(iy) < params.in_h) & (u32(ix) < params.in_w);
    let at = select(0u, u32(p.x) + (u32(iy) * params.in_w + u32(ix)) * params.in_c + u32(t.z), ok);
    return select(0.0, x[at], ok);
}

// w[ky, kx, co, ci] at tap t.
fn weight(t: Tap, co: u32) -> f32 {
    let ok = (t.offsets.w != 0) & (co < params.out_c);
    return select(0.0, w[select(0u, (t.index * params.out_c + co) * params.in_c + t.channel, ok)], ok);
}

@compute @workgroup_size(8, TILE_ROWS)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
    // Workgroup z: the phase, then row blocks past the per-dimension limit.
    let phases = params.phases_h * params.phases_w;
    let ph = phase_of(wid.z % phases);
    let m_total = params.batch * ph.count.x * ph.count.y;
    let k_total = ph.taps.x * ph.taps.y * params.in_c;
    // The grid is sized for the largest phase; rows past this one's are out of range.
    // (No early return for them: a CPU adapter that cannot tell it is uniform would run
    // the rest of the kernel under an execution mask.)
    let row0 = (wid.y + (wid.z / phases) * nwg.y) * BM;
    let col0 = wid.x * BN;
    let tid = lid.y * 8u + lid.x;
    // Staging roles, for BM threads in G = BM / BK groups: at k = k0 + kq this thread
    // loads A rows 4qq..4qq+3 and B columns 4qq..4qq+3 for qq = q, q + G, ... One k per
    // thread (unlike conv2d.wgsl) splits k once; w is contiguous along k's channel part,
    // so the loads stay coalesced.
    let groups = BM / BK;
    let q = tid / BK;
    let kq = tid % BK;
    let inv_stride = vec2<f32>(1.0 / f32(params.stride_h), 1.0 / f32(params.stride_w));

    row_info[tid] = pixel(ph, row0 + tid, m_total);
    row_out[tid] = out_row(ph, row0 + tid);
    workgroupBarrier();

    var acc: array<vec4<f32>, 16>;
    for (var i = 0u; i < 16u; i++) { acc[i] = vec4<f32>(0.0); }

    for (var k0 = 0u; k0 < k_total; k0 = k0 + BK) {
        let tp = tap(ph, k0 + kq, k_total);
        let t = tp.offsets;
        for (var qq = q; qq < BM / 4u; qq = qq + groups) {
            a_tile[kq * (BM / 4u) + qq] = vec4<f32>(scattered(row_info[4u * qq], t, inv_stride),
                                                   scattered(row_info[4u * qq + 1u], t, inv_stride),
                                                   scattered(row_info[4u * qq + 2u], t, inv_stride),
                                                   scattered(row_info[4u * qq + 3u], t, inv_stride));
        }
        for (var qq = q; qq < 16u; qq = qq + groups) {
            let c = col0 + 4u * qq;
            b_tile[kq * 16u + qq] = vec4<f32>(weight(tp, c), weight(tp, c + 1u), weight(tp, c + 2u), weight(tp, c + 3u));
        }
        workgroupBarrier();
        //!include gemm_tile.wgsl
        workgroupBarrier();
    }

    let row = lid.y * 8u;
    let col = col0 + lid.x * 8u;
    for (var i = 0u; i < 8u; i++) {
        let ok = row0 + row + i < m_total;
        store(ok, row_out[row + i], col, acc[2u * i]);
        store(ok, row_out[row + i], col + 4u, acc[2u * i + 1u]);
    }
}

fn store(ok: bool, out_row: u32, col: u32, v: vec4<f32>) {
    if (!ok) { return; }
    let n_total = params.out_c;
    let vals = array<f32, 4>(v.x, v.y, v.z, v.w);
    for (var j = 0u; j < 4u; j++) {
        if (col + j < n_total) {
            var o = vals[j];
            if (params.has_bias == 1u) { o = o + bias[col + j]; }
            out[out_row * n_total + col + j] = o;
        }
    }
}

// The kernel (kh, kw, out_c, in_c) flipped in both spatial axes into a conv2d kernel
// (kh, kw, in_c, out_c): stride-1 transposed convolutions run as conv2d's forward GEMM
// over it (gpu::kernels::conv_transpose2d). Flipping both axes reverses the tap index.
@compute @workgroup_size(64)
fn flip_kernel(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 64u;
    let taps = params.k_h * params.k_w;
    if (i >= taps * params.in_c * params.out_c) { return; }
    let co = i % params.out_c;
    let r = i / params.out_c;
    let ci = r % params.in_c;
    let t = r / params.in_c;
    out[i] = w[((taps - 1u - t) * params.out_c + co) * params.in_c + ci];
}
