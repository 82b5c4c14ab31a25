//! The register-tiled micro-kernel: an MR×NR block of C from an MR-row panel of A and
//! an NR-column panel of B, both packed so that step `p` reads MR then NR consecutive
//! values. Portable code shaped so that LLVM keeps the 4×8 accumulators in vector
//! registers (eight 4-lane vectors: the 16 SSE registers of x86-64 and wasm SIMD128
//! engines have room for them, the B row and a broadcast); with wasm SIMD128 enabled
//! the same loop is written with its intrinsics so no engine has to rediscover it.

/// Rows of C per micro-tile.
pub const MR: usize = 4;
/// Columns of C per micro-tile.
pub const NR: usize = 8;

/// `Σ_p a[p·MR + i]·b[p·NR + j]` for the MR×NR tile; `a` and `b` hold the same depth.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
pub fn kernel(a: &[f32], b: &[f32]) -> [[f32; NR]; MR] {
    let mut acc = [[0.0f32; NR]; MR];
    for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        let bp: &[f32; NR] = bp.try_into().expect("chunks of NR");
        for (row, &ai) in acc.iter_mut().zip(ap) {
            for (c, &bj) in row.iter_mut().zip(bp) {
                *c += ai * bj;
            }
        }
    }
    acc
}

/// The same tile with wasm SIMD128: each row of C is two f32x4 accumulators.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
pub fn kernel(a: &[f32], b: &[f32]) -> [[f32; NR]; MR] {
    use core::arch::wasm32::*;
    let mut acc = [[f32x4_splat(0.0); 2]; MR];
    for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        let bp: &[f32; NR] = bp.try_into().expect("chunks of NR");
        let b0 = f32x4(bp[0], bp[1], bp[2], bp[3]);
        let b1 = f32x4(bp[4], bp[5], bp[6], bp[7]);
        for (row, &ai) in acc.iter_mut().zip(ap) {
            let av = f32x4_splat(ai);
            row[0] = f32x4_add(row[0], f32x4_mul(av, b0));
            row[1] = f32x4_add(row[1], f32x4_mul(av, b1));
        }
    }
    let mut out = [[0.0f32; NR]; MR];
    for (o, row) in out.iter_mut().zip(acc) {
        for (half, v) in row.into_iter().enumerate() {
            for lane in 0..4 {
                o[half * 4 + lane] = lane_of(v, lane);
            }
        }
    }
    out
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn lane_of(v: core::arch::wasm32::v128, lane: usize) -> f32 {
    use core::arch::wasm32::f32x4_extract_lane as x;
    match lane {
        0 => x::<0>(v),
        1 => x::<1>(v),
        2 => x::<2>(v),
        _ => x::<3>(v),
    }
}
