// Builds the notebook (www/notebook.html), the embed example, the one-file embed
// script (dist/embed/convbook-cell.js) and the bench page (www/bench/, with TF.js's
// prebuilt files beside it) from www/ into www/dist. The wasm package and
// the embedded demo data are not bundled: the kernel imports <root>/pkg/convbook.js
// and fetches <root>/data/... at run time, so the build copies www/pkg and www/data
// into dist, and the preview server serves both from www/ itself, so a rebuilt engine
// is picked up without rebuilding the notebook.

import { defineConfig } from 'vite';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const www = resolve(here, 'www');
const pkg = join(www, 'pkg');
// The browser tests load a package built with test-only hooks from outside www/ (see
// tests/browser/helpers.mjs); only the preview server serves it, never the build.
const servedPkg = process.env.CONVBOOK_TEST_PKG ? resolve(process.env.CONVBOOK_TEST_PKG) : pkg;
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

// The deployable folder. Vite hashes what it bundles (assets/); the wasm, the biggest
// file by far, gets a content hash here too (its JS glue, pkg/convbook.js, keeps its name
// because the kernel imports it by path, and is small), so hosts can cache assets/ and
// the wasm for good. Text and wasm files get gzip and brotli copies beside them for hosts
// that serve precompressed files (nginx gzip_static/brotli_static, Caddy precompressed).
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.wasm', '.json', '.svg', '.md', '.txt', '.csv', '.map']);

// The wasm's `name` custom section (function names, ~12 % of the file) only serves
// devtools stack traces; panics keep their message and Rust location without it. The
// deployable copy drops it; www/pkg, which the tests and `cargo xtask serve` use, keeps it.
function withoutNameSection(bytes) {
  const leb = (at) => {
    let value = 0;
    let shift = 0;
    let i = at;
    for (;;) {
      const b = bytes[i++];
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) return [value, i];
    }
  };
  const kept = [bytes.subarray(0, 8)];
  for (let at = 8; at < bytes.length; ) {
    const [size, body] = leb(at + 1);
    const end = body + size;
    let drop = false;
    if (bytes[at] === 0) {
      const [nameLength, name] = leb(body);
      drop = Buffer.from(bytes.subarray(name, name + nameLength)).toString() === 'name';
    }
    if (!drop) kept.push(bytes.subarray(at, end));
    at = end;
  }
  return Buffer.concat(kept);
}

function hashWasm(pkgDir) {
  const glue = join(pkgDir, 'convbook.js');
  if (!existsSync(glue) || !existsSync(join(pkgDir, 'convbook_bg.wasm'))) return null;
  let source = readFileSync(glue, 'utf8');
  // Both builds the glue can load (see xtask/src/wasm.rs): the plain one it names itself,
  // and the relaxed-SIMD one named in its RELAXED_SIMD_WASM export.
  const names = [];
  for (const [file, required] of [['convbook_bg.wasm', true], ['convbook_relaxed_bg.wasm', false]]) {
    const wasm = join(pkgDir, file);
    if (!existsSync(wasm)) continue;
    if (!source.includes(`'${file}'`)) {
      if (required) throw new Error(`pkg/convbook.js no longer names ${file}: update the wasm hashing in vite.config.mjs`);
      continue;
    }
    const stripped = withoutNameSection(readFileSync(wasm));
    const hashed = `${file.slice(0, -'.wasm'.length)}.${createHash('sha256').update(stripped).digest('hex').slice(0, 12)}.wasm`;
    source = source.replaceAll(`'${file}'`, `'${hashed}'`);
    writeFileSync(join(pkgDir, hashed), stripped);
    rmSync(wasm);
    names.push(hashed);
  }
  writeFileSync(glue, source);
  for (const f of readdirSync(pkgDir)) if (f.endsWith('.d.ts') || f === 'package.json' || f === '.gitignore') rmSync(join(pkgDir, f));
  return names.join(', ');
}

function precompress(dir) {
  let files = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files += precompress(path);
    else if (COMPRESSIBLE.has(extname(entry.name))) {
      const raw = readFileSync(path);
      const br = brotliCompressSync(raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length } });
      const gz = gzipSync(raw, { level: 9 });
      // Only where it pays: tiny files are sent as they are.
      if (br.length < raw.length * 0.9) writeFileSync(`${path}.br`, br);
      if (gz.length < raw.length * 0.9) writeFileSync(`${path}.gz`, gz);
      files += 1;
    }
  }
  return files;
}

// The bench page (www/bench/) times TF.js 4.22 next to convbook. It loads TF.js's own
// prebuilt scripts, as a TF.js user's page would, rather than a bundle of ours, so what
// it measures (bytes included) is TF.js as shipped; the wasm backend fetches its .wasm
// files from the same folder (setWasmPaths).
const TFJS_FILES = [
  '@tensorflow/tfjs/dist/tf.min.js',
  '@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js',
  '@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js',
  '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
  '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
  '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm',
];

function copyTfjs(to) {
  mkdirSync(to, { recursive: true });
  for (const file of TFJS_FILES) {
    const from = join(here, 'node_modules', file);
    if (!existsSync(from)) throw new Error(`${file} is missing: run npm install (the bench page needs TF.js's dev dependencies)`);
    cpSync(from, join(to, file.split('/').pop()));
  }
}

function runtimeFiles() {
  return {
    name: 'convbook-runtime-files',
    configurePreviewServer(server) {
      server.middlewares.use('/pkg', serveFolder(servedPkg));
      server.middlewares.use('/data', serveFolder(data));
    },
    closeBundle() {
      if (existsSync(join(pkg, 'convbook.js'))) cpSync(pkg, join(dist, 'pkg'), { recursive: true });
      else this.warn('www/pkg is missing: build the wasm package before serving the notebook');
      // The demo data's generator script stays behind: the page only needs the files.
      cpSync(data, join(dist, 'data'), { recursive: true, filter: (src) => !src.endsWith('.py') });
      hashWasm(join(dist, 'pkg'));
      // Hosted on its own, the folder's root leads to the notebook (the logo's link too).
      writeFileSync(join(dist, 'index.html'), '<!doctype html><meta charset="utf-8"><title>convbook</title><meta http-equiv="refresh" content="0; url=notebook.html"><a href="notebook.html">Open the notebook</a>\n');
      precompress(dist);
      // After precompressing: TF.js's files are only the bench's, which is timed on plain
      // responses, and brotli at quality 11 over them would double the build's wait.
      copyTfjs(join(dist, 'bench', 'tfjs'));
    },
  };
}

export default defineConfig({
  root: www,
  // Several pages, no single-page fallback: a missing file is a 404 (the dataset loaders
  // report it), not the folder's index.html.
  appType: 'mpa',
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
        bench: join(www, 'bench/index.html'),
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
