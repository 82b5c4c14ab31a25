// The notebook page: chapters routed by the URL hash (#/8.1), each with its own kernel,
// a toolbar and a table of contents. `?backend=cpu` forces the CPU engine.

import '../render/render.css';
import 'uplot/dist/uPlot.min.css';
import './cell.css';
import './notebook.css';
import './theme.css';
import { setupTheme } from './theme.js';
import { Sessions } from './sessions.js';
import { createToolbar } from './toolbar.js';
import { renderBadge } from './badge.js';
import { createBackendMenu } from './backend-menu.js';
import { renderToc } from './toc.js';
import { renderChapter } from './view.js';
import { loadChapter } from './chapters.js';
import { SECTIONS } from '../chapters/index.js';
import { addImported, listImported } from './storage.js';
import { exportNotebook, pickNotebookFiles } from './files.js';
import { currentOverrides, overridesFromSearch, setOverrides } from './parameters.js';

setupTheme(document.getElementById('theme-toggle'));
const params = new URLSearchParams(location.search);
const fromUrl = overridesFromSearch(location.search);
setOverrides(fromUrl.values);
if (fromUrl.error) console.warn(fromUrl.error);
// `?wasm=simd128` runs the plain SIMD128 build where relaxed SIMD would be chosen.
const sessions = new Sessions({ backend: params.get('backend') ?? 'auto', wasm: params.get('wasm') ?? 'auto' });
const $ = (id) => document.getElementById(id);
createBackendMenu($('backend-badge'), params.get('backend') ?? 'auto');

let view = null;
let session = null;
let openId = null;

const toolbar = createToolbar($('toolbar'), {
  actions: {
    runAll: () => view && session.scheduler.enqueue(view.codeCells.filter((c) => c.source.trim())),
    runAbove: () => view && session.scheduler.enqueue(view.cellsAbove().filter((c) => c.source.trim())),
    restartRunAll: () => {
      if (!view) return;
      view.clearOutputs();
      session.scheduler.enqueue(view.codeCells.filter((c) => c.source.trim()));
    },
    clearOutputs: () => view?.clearOutputs(),
    exportNotebook: (format) => {
      if (!view) return;
      const { name } = exportNotebook(view.snapshot(), format);
      toolbar.say(`exported ${name}`);
    },
    importNotebook: async () => {
      const picked = await pickNotebookFiles();
      const said = [];
      let last = null;
      for (const file of picked) {
        if (file.error) said.push(file.error);
        else if (!file.chapter.cells.some((c) => c.type === 'code')) said.push(`${file.name}: no code cells found, nothing imported`);
        else {
          const id = addImported(file.text, file.chapter.meta.title ?? file.name);
          if (id) last = id;
          else said.push(`${file.name}: could not store the imported notebook: browser storage is unavailable`);
        }
      }
      if (said.length) toolbar.say(said.join('; '));
      if (!last) return;
      openId = null;
      if (location.hash === `#/${last}`) route();
      else location.hash = `#/${last}`;
    },
  },
});

// The badge follows the open notebook's kernel.
const showBackend = () => {
  const { kernel } = session;
  if (kernel.deviceLost) return renderBadge($('backend-badge'), { kind: 'lost', reason: kernel.deviceLost });
  renderBadge($('backend-badge'), kernel.state === 'dead' ? { kind: 'none', reason: kernel.failure } : kernel.state === 'idle' || kernel.state === 'busy' ? kernel.backend : null);
};

function bind(next) {
  session?.kernel.removeEventListener('status', showBackend);
  session = next;
  session.kernel.addEventListener('status', showBackend);
  toolbar.bind(session);
  showBackend();
}


async function route() {
  const id = decodeURIComponent(location.hash.replace(/^#\/?/, '')) || SECTIONS[0].id;
  if (id === openId) return;
  const chapter = await loadChapter(id);
  if (!chapter) {
    $('chapter').replaceChildren(Object.assign(document.createElement('p'), { className: 'missing', textContent: `There is no notebook called “${id}”. Pick one from the contents.` }));
    renderToc($('toc'), { current: null, imported: listImported() });
    return;
  }
  const switching = openId !== null;
  bind(sessions.get(id));
  session.view ??= renderChapter(chapter, { scheduler: session.scheduler, onSaved: (ok) => toolbar.setSaved(ok) });
  view = session.view;
  $('chapter').replaceChildren(view.element);
  openId = id;
  document.title = `${chapter.section.label ?? chapter.section.id ?? ''} ${chapter.meta.title ?? chapter.section.title} · convbook`.trim();
  renderToc($('toc'), { current: id, imported: listImported(), headings: view.headings });
  if (switching) {
    window.scrollTo(0, 0);
    $('chapter-title')?.focus({ preventScroll: true });
  }
}

window.addEventListener('hashchange', route);
route();

// Narrow screens: the contents become a drawer; focus goes into it and Escape closes it.
function setDrawer(open) {
  document.body.classList.toggle('toc-open', open);
  $('toc-toggle').setAttribute('aria-expanded', String(open));
  $('toc-toggle').setAttribute('aria-label', open ? 'Hide the contents' : 'Show the contents');
  if (open) $('toc').querySelector('[aria-current="page"], a')?.focus();
}
$('toc-toggle').addEventListener('click', () => setDrawer(!document.body.classList.contains('toc-open')));
$('toc').addEventListener('click', (e) => {
  if (e.target.closest('a')) setDrawer(false);
});
$('toc').addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && document.body.classList.contains('toc-open')) {
    setDrawer(false);
    $('toc-toggle').focus();
  }
});

// For the browser tests and for poking around from the devtools console.
window.convbook = {
  get chapter() {
    return openId;
  },
  get kernel() {
    return session?.kernel;
  },
  get scheduler() {
    return session?.scheduler;
  },
  get view() {
    return view;
  },
  /** Overrides for parameters cells (?parameters={...}); set before Run all. */
  get parameters() {
    return currentOverrides();
  },
  set parameters(values) {
    setOverrides(values);
  },
};
