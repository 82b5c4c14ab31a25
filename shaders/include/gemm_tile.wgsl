// The tiled GEMMs' inner loop (matmul, conv2d, conv_transpose2d), spliced into each at
// load time by gpu/shaders.rs in place of its include line for this file: one
// BK-deep step over the staged tiles, each invocation accumulating an 8x8 block of C as
// 16 vec4 FMAs per k. Expects `a_tile`, `b_tile` (k-major vec4 tiles, BM / 4 and 16
// vec4 per k), `acc` (array<vec4<f32>, 16>), `lid` and the constants (or overrides)
// `BK` and `BM` in scope.
//
// BK is 8, not the usual 16, and the tiles are sized by the pipeline's BM, because
// SwiftShader's pipeline compile time grows with the workgroup memory a shader declares,
// about 45 ms per KiB in Chromium 156 (browsers zero that memory for every dispatch,
// the likely cause). At BK = 16 the 9 KiB of a conv GEMM's tiles took 0.7-1 s of its
// compile, most of a first predict; at 8 half that, at the same steady-state speed in
// the browser bench. A test in gpu::shaders holds every pipeline to a budget.
        for (var kk = 0u; kk < BK; kk = kk + 1u) {
            let a0 = a_tile[kk * (BM / 4u) + lid.y * 2u];
            let a1 = a_tile[kk * (BM / 4u) + lid.y * 2u + 1u];
            let b0 = b_tile[kk * 16u + lid.x * 2u];
            let b1 = b_tile[kk * 16u + lid.x * 2u + 1u];
            acc[0] = fma(vec4<f32>(a0.x), b0, acc[0]); acc[1] = fma(vec4<f32>(a0.x), b1, acc[1]);
            acc[2] = fma(vec4<f32>(a0.y), b0, acc[2]); acc[3] = fma(vec4<f32>(a0.y), b1, acc[3]);
            acc[4] = fma(vec4<f32>(a0.z), b0, acc[4]); acc[5] = fma(vec4<f32>(a0.z), b1, acc[5]);
            acc[6] = fma(vec4<f32>(a0.w), b0, acc[6]); acc[7] = fma(vec4<f32>(a0.w), b1, acc[7]);
            acc[8] = fma(vec4<f32>(a1.x), b0, acc[8]); acc[9] = fma(vec4<f32>(a1.x), b1, acc[9]);
            acc[10] = fma(vec4<f32>(a1.y), b0, acc[10]); acc[11] = fma(vec4<f32>(a1.y), b1, acc[11]);
            acc[12] = fma(vec4<f32>(a1.z), b0, acc[12]); acc[13] = fma(vec4<f32>(a1.z), b1, acc[13]);
            acc[14] = fma(vec4<f32>(a1.w), b0, acc[14]); acc[15] = fma(vec4<f32>(a1.w), b1, acc[15]);
        }
