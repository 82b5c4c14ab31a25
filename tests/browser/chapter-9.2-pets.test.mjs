// Chapter 9.2's switch to the book's data: with `usePets` set through the parameters
// cell, the chapter asks for the pets' two archives and trains on them. Small archives
// in the real formats stand in for the 800 MB originals: images.tar.gz holding
// images/<Breed>_<n>.jpg (the embedded photos, of varied sizes, so resizing to the
// model's size is exercised) and annotations.tar.gz holding annotations/trimaps/<same>.png
// (8-bit grayscale, values 1 pet, 2 background, 3 outline) plus the macOS "._" files the
// real archive carries. Screenshots go to test-results/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { fatalLogs, openNotebookPage, RESULTS_DIR, ROOT, startNotebook } from './helpers.mjs';

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (bytes) => {
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
/** An 8-bit grayscale PNG of `height` rows of `width` values. */
function grayPng(width, height, value) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8);
  const rows = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rows[y * (width + 1) + 1 + x] = value(x, y);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}
// A trimap like the pets': an elliptical pet, a 3-pixel outline band, background.
const trimap = (w, h) =>
  grayPng(w, h, (x, y) => {
    const r = Math.hypot((x - w / 2) / (0.3 * w), (y - h / 2) / (0.35 * h));
    return r < 0.9 ? 1 : r < 1 ? 3 : 2;
  });

const SIZES = { astronaut: [512, 512], chelsea: [451, 300], china: [640, 427], coffee: [600, 400], flower: [640, 427] };
const BREEDS = ['Abyssinian_1', 'Bengal_2', 'beagle_3', 'pug_4', 'yorkshire_terrier_5'];

let notebook;
let dir;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'convbook-pets-'));
  mkdirSync(join(dir, 'images'));
  mkdirSync(join(dir, 'annotations/trimaps'), { recursive: true });
  Object.entries(SIZES).forEach(([photo, [w, h]], i) => {
    copyFileSync(join(ROOT, 'www/data/photos', `${photo}.jpg`), join(dir, 'images', `${BREEDS[i]}.jpg`));
    writeFileSync(join(dir, 'annotations/trimaps', `${BREEDS[i]}.png`), trimap(w, h));
  });
  // The real annotations archive has AppleDouble files next to the trimaps.
  writeFileSync(join(dir, 'annotations/trimaps', `._${BREEDS[0]}.png`), Buffer.from('not a png'));
  execFileSync('tar', ['czf', 'images.tar.gz', 'images'], { cwd: dir });
  execFileSync('tar', ['czf', 'annotations.tar.gz', 'annotations'], { cwd: dir });
  notebook = await startNotebook();
});

after(async () => {
  await notebook?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('9.2 with usePets: picks the two archives, trains at the asked size and shows pet masks', { timeout: 300_000 }, async () => {
  assert.deepEqual(readdirSync(join(dir, 'images')).length, 5);
  const { page, logs } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html?backend=cpu#/9.2');
  await page.evaluate(() => (window.convbook.parameters = { usePets: true, imageSize: [40, 40], widths: [4, 8, 8], epochs: 1, batchSize: 2, validationCount: 2 }));
  await page.click('[data-action="run-all"]');
  const picker = '#cell-2 .out-filepicker';
  await page.waitForSelector(`${picker}[data-state="waiting"]`, { timeout: 60_000 });
  assert.match(await page.textContent(`${picker} .filepicker-button`), /images\.tar\.gz/);
  await page.setInputFiles(`${picker} input[type=file]`, join(dir, 'images.tar.gz'));
  const second = `${picker}[data-state="waiting"] .filepicker-button`;
  await page.waitForFunction((sel) => /annotations/.test(document.querySelector(sel)?.textContent ?? ''), second, { timeout: 30_000 });
  await page.setInputFiles(`#cell-2 .out-filepicker[data-state="waiting"] input[type=file]`, join(dir, 'annotations.tar.gz'));
  await page.waitForFunction(() => !window.convbook.scheduler.busy, null, { timeout: 240_000, polling: 500 });
  const errors = await page.$$eval('.out-error', (els) => els.map((e) => e.innerText));
  assert.deepEqual(errors, []);
  const outputs = await page.$$eval('.code-cell:not(.scratch-cell) .cell-outputs', (els) => els.map((e) => e.innerText).join('\n'));
  assert.match(outputs, /Found 5 image\/trimap pairs/);
  assert.match(outputs, /Using 3 pairs for training and 2 for validation/);
  assert.match(outputs, /train\s+3×40×40×3 uint8\s+3×40×40×1 uint8/);
  assert.match(outputs, /pet = blue, background = orange, outline = green/);
  assert.match(outputs, /pixel accuracy on 2 held-out images: [\d.]+ %/);
  await page.locator('#cell-3 .out-image').last().scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(RESULTS_DIR, 'chapter-9.2-pets.png') });
  assert.deepEqual(fatalLogs(logs), []);
  await page.context().close();
});
