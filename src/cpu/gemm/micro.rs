//! The register-tiled micro-kernel: an MR×NR block of C from MR rows of A and an
//! NR-column panel of B packed so that step `p` reads NR consecutive values. Row `i` of
//! A is read at `rows[i] + p·step`: a packed A panel (`step` = MR) or a row of A in
//! place (`step` = 1), which spares the copy when A is row-major, since each value of A
//! is broadcast on its own anyway. The 4×8 tile keeps eight 4-lane accumulators, the two
//! B vectors and a broadcast in registers (11 of the 16 that x86-64 and wasm engines on
//! it have); with wasm SIMD128 it is written with its intrinsics, and the sum is added
//! into C with vector loads and stores.

/// Rows of C per micro-tile.
pub const MR: usize = 4;
/// Columns of C per micro-tile.
pub const NR: usize = 8;

/// `C[i·ldc + j] += Σ_{p < kc} A(i, p)·b[p·NR + j]` for `i < mr ≤ MR`, `j < nr ≤ NR`,
/// where `A(i, p) = *rows[i].add(p * step)`.
///
/// # Safety
/// Every `rows[i].add(p * step)` (i < MR, p < kc) and `b.add(p * NR + j)` (j < NR)
/// must be readable, and `c.add(i * ldc + j)` writable for i < mr, j < nr; rows past
/// `mr` must still be readable (callers repeat a real row or pad a packed panel).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
pub unsafe fn tile(rows: [*const f32; MR], step: usize, b: *const f32, kc: usize, c: *mut f32, ldc: usize, mr: usize, nr: usize) {
    let mut acc = [[0.0f32; NR]; MR];
    for p in 0..kc {
        let bp: [f32; NR] = std::array::from_fn(|j| *b.add(p * NR + j));
        for (row, r) in acc.iter_mut().zip(rows) {
            let ai = *r.add(p * step);
            for (c, bj) in row.iter_mut().zip(bp) {
                *c += ai * bj;
            }
        }
    }
    for (i, row) in acc.iter().enumerate().take(mr) {
        for (j, v) in row.iter().enumerate().take(nr) {
            *c.add(i * ldc + j) += v;
        }
    }
}

/// The same tile with wasm SIMD128: each row of C is two f32x4 accumulators.
///
/// # Safety
/// As for the portable version.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
pub unsafe fn tile(rows: [*const f32; MR], step: usize, b: *const f32, kc: usize, c: *mut f32, ldc: usize, mr: usize, nr: usize) {
    use core::arch::wasm32::*;
    let mut acc = [[f32x4_splat(0.0); 2]; MR];
    let mut a = rows;
    let mut bp = b;
    for _ in 0..kc {
        let b0 = v128_load(bp as *const v128);
        let b1 = v128_load(bp.add(4) as *const v128);
        for (row, ai) in acc.iter_mut().zip(a.iter_mut()) {
            let av = v128_load32_splat(*ai as *const u32);
            row[0] = madd(av, b0, row[0]);
            row[1] = madd(av, b1, row[1]);
            *ai = ai.add(step);
        }
        bp = bp.add(NR);
    }
    write_back(&acc, c, ldc, mr, nr);
}

/// Adds the accumulators into C: whole rows with vector loads and stores, an edge tile
/// lane by lane.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
unsafe fn write_back(acc: &[[core::arch::wasm32::v128; 2]; MR], c: *mut f32, ldc: usize, mr: usize, nr: usize) {
    use core::arch::wasm32::*;
    if mr == MR && nr == NR {
        for (i, row) in acc.iter().enumerate() {
            let out = c.add(i * ldc);
            v128_store(out as *mut v128, f32x4_add(v128_load(out as *const v128), row[0]));
            v128_store(out.add(4) as *mut v128, f32x4_add(v128_load(out.add(4) as *const v128), row[1]));
        }
    } else {
        for (i, row) in acc.iter().enumerate().take(mr) {
            let mut vals = [0.0f32; NR];
            v128_store(vals.as_mut_ptr() as *mut v128, row[0]);
            v128_store(vals.as_mut_ptr().add(4) as *mut v128, row[1]);
            for (j, v) in vals.iter().enumerate().take(nr) {
                *c.add(i * ldc + j) += v;
            }
        }
    }
}

/// `a·b + c` per lane. With relaxed SIMD (the second browser build) this is one
/// instruction, fused where the CPU has FMA (V8 emits vfmadd on x86), which doubles the
/// micro-kernel's arithmetic per cycle; without it, a multiply then an add.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn madd(a: core::arch::wasm32::v128, b: core::arch::wasm32::v128, c: core::arch::wasm32::v128) -> core::arch::wasm32::v128 {
    use core::arch::wasm32::*;
    #[cfg(target_feature = "relaxed-simd")]
    return f32x4_relaxed_madd(a, b, c);
    #[cfg(not(target_feature = "relaxed-simd"))]
    f32x4_add(f32x4_mul(a, b), c)
}
