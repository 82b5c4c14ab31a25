// Builds the notebook (www/notebook.html), the embed example and the one-file embed
// script (dist/embed/convbook-cell.js) from www/ into www/dist. The wasm package and
// the embedded demo data are not bundled: the kernel imports <root>/pkg/convbook.js
// and fetches <root>/data/... at run time, so the build copies www/pkg and www/data
// into dist, and the preview server serves both from www/ itself, so a rebuilt engine
// is picked up without rebuilding the notebook.

import { defineConfig } from 'vite';
import { cpSync, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const www = resolve(here, 'www');
const pkg = join(www, 'pkg');
const data = join(www, 'data');
const dist = join(www, 'dist');

const MIME = {
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain',
  '.json': 'application/json',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
  '.md': 'text/markdown',
};

function serveFolder(folder) {
  return (req, res, next) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = normalize(join(folder, path));
    if (!file.startsWith(folder + sep) || !existsSync(file) || !statSync(file).isFile()) return next();
    res.setHeader('Content-Type', MIME[extname(file)] ?? 'application/octet-stream');
    res.setHeader('Cache-Control', 'no-store');
    res.end(readFileSync(file));
  };
}

function runtimeFiles() {
  return {
    name: 'convbook-runtime-files',
    configurePreviewServer(server) {
      server.middlewares.use('/pkg', serveFolder(pkg));
      server.middlewares.use('/data', serveFolder(data));
    },
    closeBundle() {
      if (existsSync(join(pkg, 'convbook.js'))) cpSync(pkg, join(dist, 'pkg'), { recursive: true });
      else this.warn('www/pkg is missing: build the wasm package before serving the notebook');
      // The demo data's generator script stays behind: the page only needs the files.
      cpSync(data, join(dist, 'data'), { recursive: true, filter: (src) => !src.endsWith('.py') });
    },
  };
}

export default defineConfig({
  root: www,
  // Relative URLs: the build works served at / or under any folder (e.g. /dist/).
  base: './',
  publicDir: false,
  plugins: [runtimeFiles()],
  worker: { format: 'es' },
  build: {
    outDir: dist,
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      input: {
        notebook: join(www, 'notebook.html'),
        'embed-example': join(www, 'embed/example.html'),
        'convbook-cell': join(www, 'embed/convbook-cell.js'),
      },
      output: {
        // A stable name for the script other pages include.
        entryFileNames: (chunk) => (chunk.name === 'convbook-cell' ? 'embed/convbook-cell.js' : 'assets/[name]-[hash].js'),
      },
    },
  },
  preview: { host: '127.0.0.1', cors: true },
  server: { host: '127.0.0.1' },
});
