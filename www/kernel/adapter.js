// What the browser says about its WebGPU adapter. wgpu cannot read the adapter's name
// in browsers (it comes back empty), but `adapter.info` names vendor and architecture,
// which is what the backend badge shows.

export async function adapterInfo() {
  if (!('gpu' in navigator)) return { present: false, available: false, reason: 'navigator.gpu is missing: this browser or context has no WebGPU' };
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return { present: true, available: false, reason: 'requestAdapter() returned null: WebGPU is present but no adapter is usable' };
    const info = adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {};
    return {
      present: true,
      available: true,
      vendor: info.vendor || '',
      architecture: info.architecture || '',
      device: info.device || '',
      description: info.description || '',
      fallback: !!(info.isFallbackAdapter ?? adapter.isFallbackAdapter),
    };
  } catch (e) {
    return { present: true, available: false, reason: `requestAdapter() failed: ${e?.message ?? e}` };
  }
}
