// Words for the backend badge: which device runs the tensors and, for the CPU, why.
// The adapter's vendor/architecture come from the browser's own adapter.info, since
// wgpu's adapter name is empty on the web.

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
    return { kind: 'webgpu', text: `WebGPU${name ? ` · ${name}` : ''}`, detail: detail || 'WebGPU adapter' };
  }
  if (info.kind === 'cpu') {
    const reason = info.reason || gpu.reason || 'WebGPU unavailable';
    return { kind: 'cpu', text: 'CPU fallback', detail: reason };
  }
  return { kind: 'none', text: 'no engine', detail: info.reason ?? 'the engine did not load' };
}

export function renderBadge(element, info) {
  const { kind, text, detail } = describeBackend(info);
  element.dataset.kind = kind;
  element.dataset.recovered = info?.recovered ? 'yes' : 'no';
  element.replaceChildren(Object.assign(document.createElement('span'), { className: 'badge-text', textContent: text }));
  if (detail && kind !== 'webgpu') {
    element.append(Object.assign(document.createElement('span'), { className: 'badge-detail', textContent: `: ${detail}` }));
  }
  element.title = detail ? `${text}: ${detail}` : text;
}
