// Light or dark: follows the system (prefers-color-scheme) until the reader picks one
// with the toggle; the choice is remembered. The resolved theme is a data attribute
// on <html> that the stylesheets (theme.css) key on.

const KEY = 'convbook:v1:theme';
const media = globalThis.matchMedia?.('(prefers-color-scheme: dark)');

function chosen() {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : null;
  } catch {
    return null;
  }
}

export const currentTheme = () => chosen() ?? (media?.matches ? 'dark' : 'light');

function apply(button) {
  const theme = currentTheme();
  document.documentElement.dataset.theme = theme;
  document.documentElement.style.colorScheme = theme;
  if (button) {
    const next = theme === 'dark' ? 'light' : 'dark';
    button.textContent = theme === 'dark' ? '☀' : '☾';
    button.setAttribute('aria-label', `Switch to the ${next} theme`);
    button.title = `Switch to the ${next} theme (${chosen() ? 'your choice' : 'following the system'} now)`;
    button.setAttribute('aria-pressed', String(theme === 'dark'));
  }
}

/** Applies the theme now and wires `button` (optional) to switch it. */
export function setupTheme(button = null) {
  apply(button);
  media?.addEventListener?.('change', () => apply(button));
  button?.addEventListener('click', () => {
    const next = currentTheme() === 'dark' ? 'light' : 'dark';
    try {
      // Picking what the system shows anyway goes back to following the system.
      if (next === (media?.matches ? 'dark' : 'light')) localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, next);
    } catch {
      // No storage (private window): the switch still holds for this page.
    }
    apply(button);
    // Without storage the choice cannot be read back: show it anyway for this page.
    if (currentTheme() !== next) {
      document.documentElement.dataset.theme = next;
      document.documentElement.style.colorScheme = next;
    }
  });
}
