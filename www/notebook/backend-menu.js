// A menu beside the backend badge: the reader picks the engine's backend (auto, WebGPU,
// CPU). The choice is the page's `?backend=` parameter, so it is a link that can be
// shared; picking one reloads the page with it (kernels start on their backend).
// "Measure again" forgets the remembered probe verdicts (kernel/backend-choice.js).

import { h } from '../render/dom.js';
import { forgetVerdicts } from '../kernel/probe-verdicts.js';

const CHOICES = [
  ['auto', 'Auto', 'WebGPU on a GPU adapter; on a software one, whichever a short probe finds faster'],
  ['webgpu', 'WebGPU', 'the GPU through WebGPU'],
  ['cpu', 'CPU', 'the engine\'s own CPU code (no GPU)'],
];

export function createBackendMenu(host, current) {
  const menu = h('div', { class: 'backend-menu', role: 'menu', hidden: true, 'aria-label': 'Compute backend' });
  for (const [value, text, hint] of CHOICES) {
    const url = new URL(location.href);
    if (value === 'auto') url.searchParams.delete('backend');
    else url.searchParams.set('backend', value);
    menu.append(h('a', { role: 'menuitemradio', class: 'backend-choice', href: url.href, 'aria-checked': String(value === current), 'data-backend': value, title: hint }, text, h('span', { class: 'backend-hint', text: ` — ${hint}` })));
  }
  const remeasure = h('button', { type: 'button', role: 'menuitem', class: 'backend-choice backend-remeasure', title: 'Forget the speed probe this browser remembers and run it again' }, 'Measure again');
  remeasure.addEventListener('click', () => {
    forgetVerdicts();
    location.reload();
  });
  menu.append(remeasure);
  const toggle = h('button', { type: 'button', class: 'icon-button backend-toggle', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-label': 'Choose the compute backend', title: 'Choose the compute backend' }, '▾');
  const setOpen = (open) => {
    menu.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    if (open) menu.querySelector('[aria-checked="true"]')?.focus();
  };
  toggle.addEventListener('click', () => setOpen(menu.hidden));
  menu.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      setOpen(false);
      toggle.focus();
    }
  });
  document.addEventListener('click', (e) => {
    if (!menu.hidden && !menu.contains(e.target) && e.target !== toggle) setOpen(false);
  });
  host.after(toggle, menu);
}
