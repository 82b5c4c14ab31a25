// The page's memory of backend probes (see backend-choice.js): the kernel worker has no
// localStorage, so the page hands it the verdicts at start and keeps the new ones it
// reports. Storage may be unavailable (privacy modes, sandboxed embeds): then the probe
// simply runs again next time.

const KEY = 'convbook.backend-probe';

export function loadVerdicts() {
  try {
    const stored = JSON.parse(localStorage.getItem(KEY) ?? '{}');
    return stored && typeof stored === 'object' && !Array.isArray(stored) ? stored : {};
  } catch {
    return {};
  }
}

export function saveVerdict(verdict) {
  if (!verdict?.key) return;
  try {
    localStorage.setItem(KEY, JSON.stringify({ ...loadVerdicts(), [verdict.key]: verdict }));
  } catch {
    /* not remembered: the next kernel probes again */
  }
}

/** Forgets every verdict (the badge menu's "measure again"). */
export function forgetVerdicts() {
  try {
    localStorage.removeItem(KEY);
  } catch {
    /* nothing stored */
  }
}
