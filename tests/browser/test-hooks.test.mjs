// The engine's test-only entry points (engine.testPanic, engine.testDestroyDevice, from
// the `test-hooks` cargo feature) never reach readers: `cargo xtask test` builds them
// into a package of their own outside www/ (CONVBOOK_TEST_PKG), and www/pkg, which
// `cargo xtask serve` serves and www/dist copies, stays without them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WWW } from './helpers.mjs';

const HOOKS = ['testPanic', 'testDestroyDevice', 'testReferenceKernels'];

/** The hook names found in a package's JS glue and wasm exports. */
function hooksIn(dir) {
  const glue = readFileSync(join(dir, 'convbook.js'), 'utf8');
  // www/dist/pkg's wasm has a hashed name; its glue names every export anyway.
  const wasmFile = join(dir, 'convbook_bg.wasm');
  const wasm = existsSync(wasmFile) ? readFileSync(wasmFile).toString('latin1') : '';
  return HOOKS.filter((name) => glue.includes(name) || wasm.includes(name));
}

test('the served package (www/pkg) and the deployable copy (www/dist/pkg) have no test hooks', () => {
  const served = join(WWW, 'pkg');
  assert.ok(existsSync(join(served, 'convbook.js')), 'www/pkg is missing: run `cargo xtask build` or `cargo xtask test` first');
  assert.deepEqual(hooksIn(served), [], 'www/pkg was built with the test-hooks feature');
  const deployed = join(WWW, 'dist', 'pkg');
  if (existsSync(join(deployed, 'convbook.js'))) assert.deepEqual(hooksIn(deployed), [], 'www/dist/pkg carries the test hooks');
});

test("the tests' own package has the hooks, apart from www/", { skip: !process.env.CONVBOOK_TEST_PKG && 'CONVBOOK_TEST_PKG is not set (cargo xtask test sets it)' }, () => {
  const dir = resolve(process.env.CONVBOOK_TEST_PKG);
  assert.ok(!join(dir, '/').startsWith(join(WWW, '/')), `${dir} is inside www/, which is served`);
  assert.deepEqual(hooksIn(dir), HOOKS);
});
