// Words for the backend badge: which device runs the tensors and, for the CPU, why.
// The adapter's vendor/architecture come from the browser's own adapter.info, since
// wgpu's adapter name is empty on the web. When "auto" measured a software adapter
// against the CPU (kernel/backend-choice.js), the badge says so and by how much.

export function describeBackend(info) {
  if (!info) return { kind: 'pending', text: 'starting the engine…', detail: '' };
  if (info.kind === 'lost') return { kind: 'lost', text: 'GPU lost', detail: `${info.reason}; restarting the kernel on a new device` };
  const described = describeWorking(info);
  // After a restart the kernel did by itself, say why the variables are gone.
  if (info.recovered) described.detail = [described.detail, `kernel restarted: ${info.recovered}`].filter(Boolean).join(' · ');
  return described;
}

function describeWorking(info) {
  const gpu = info.gpu ?? {};
  if (info.kind === 'webgpu') {
    const name = [gpu.vendor, gpu.architecture].filter(Boolean).join(' ');
    const detail = [gpu.description, gpu.device, info.adapter?.device_type && `device type: ${info.adapter.device_type}`, gpu.fallback && 'fallback adapter']
      .filter(Boolean)
      .join(' · ');
    const text = `WebGPU${name ? ` · ${name}` : ''}`;
    // Chosen over the CPU by a measurement: that is worth showing, not only in the title.
    if (info.choice?.note) return { kind: 'webgpu', text, detail: info.choice.note, measured: true };
    return { kind: 'webgpu', text, detail: detail || 'WebGPU adapter' };
  }
  if (info.kind === 'cpu') {
    const measured = info.choice?.how === 'probe' || info.choice?.how === 'cached';
    const reason = info.reason || gpu.reason || 'WebGPU unavailable';
    // Picked for speed, the CPU is no fallback.
    return { kind: 'cpu', text: measured ? 'CPU' : 'CPU fallback', detail: reason, measured };
  }
  return { kind: 'none', text: 'no engine', detail: info.reason ?? 'the engine did not load' };
}

export function renderBadge(element, info) {
  const { kind, text, detail, measured } = describeBackend(info);
  element.dataset.kind = kind;
  element.dataset.recovered = info?.recovered ? 'yes' : 'no';
  element.dataset.choice = info?.choice?.how ?? '';
  element.replaceChildren(Object.assign(document.createElement('span'), { className: 'badge-text', textContent: text }));
  if (detail && (kind !== 'webgpu' || measured)) {
    element.append(Object.assign(document.createElement('span'), { className: 'badge-detail', textContent: `: ${detail}` }));
  }
  element.title = detail ? `${text}: ${detail}` : text;
}
