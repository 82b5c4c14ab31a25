// Which of the package's two wasm builds to run. `cargo xtask build` puts a second
// build of the same module beside convbook_bg.wasm, compiled with relaxed SIMD, whose
// fused multiply-add makes the CPU backend's GEMM faster; the glue names it in its
// RELAXED_SIMD_WASM export. A module using relaxed SIMD does not even validate where the
// browser lacks it, so a tiny probe module decides, and the plain SIMD128 build is the
// fallback. Both have the same exports: one glue loads either.

// (func (result v128) f32x4.splat(0) ×3, f32x4.relaxed_madd): valid only with relaxed SIMD.
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: [] -> [v128]
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x1c, 0x01, 0x1a, 0x00, // code: one body, no locals
  0x43, 0, 0, 0, 0, 0xfd, 0x13, // f32.const 0, f32x4.splat
  0x43, 0, 0, 0, 0, 0xfd, 0x13,
  0x43, 0, 0, 0, 0, 0xfd, 0x13,
  0xfd, 0x85, 0x02, 0x0b, // f32x4.relaxed_madd, end
]);

/** Whether this browser's WebAssembly has relaxed SIMD. */
export function hasRelaxedSimd() {
  try {
    return WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

/**
 * Initialises the wasm package `pkg` (imported from `glueUrl`): its relaxed-SIMD build
 * where the browser runs it and `choice` is not 'simd128', else the plain one. Resolves
 * to the name of the build that was loaded ('relaxed-simd' or 'simd128').
 */
export async function initWasm(pkg, glueUrl, choice = 'auto') {
  const relaxed = choice !== 'simd128' && typeof pkg.RELAXED_SIMD_WASM === 'string' && hasRelaxedSimd();
  if (relaxed) {
    await pkg.default({ module_or_path: new URL(pkg.RELAXED_SIMD_WASM, glueUrl) });
    return 'relaxed-simd';
  }
  await pkg.default();
  return 'simd128';
}
