// The rules of "auto" (www/kernel/backend-choice.js) in Node, on stand-in engines whose
// speed the test sets: a hardware adapter is taken without a probe, a software one is
// probed and loses or wins by what it measures, a remembered verdict skips the probe,
// an adapter that misses the time budget loses, and missing WebGPU is said plainly.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseEngine, probeKey, softwareAdapterName } from '../../www/kernel/backend-choice.js';

const SWIFTSHADER = { present: true, available: true, vendor: 'google', architecture: 'swiftshader', device: '', description: '', fallback: true };
const HARDWARE = { present: true, available: true, vendor: 'nvidia', architecture: 'ampere', device: '', description: '', fallback: false };

// An engine whose every readback takes `ms`; records what was created and freed.
function fakeEngines({ gpuMs, cpuMs }) {
  const log = { created: [], freed: [] };
  const tensor = (ms) => {
    const t = {
      matmul: () => t,
      relu: () => t,
      sum: () => t,
      free: () => {},
      data: () => new Promise((resolve) => setTimeout(resolve, ms)),
    };
    return t;
  };
  class Engine {
    static async create(kind) {
      log.created.push(kind);
      return new Engine(kind === 'cpu' ? 'cpu' : 'webgpu');
    }
    constructor(kind) {
      this.kind = kind;
    }
    tensor() {
      return tensor(this.kind === 'cpu' ? cpuMs : gpuMs);
    }
    backend() {
      return { kind: this.kind, reason: this.kind === 'cpu' ? 'CPU requested' : null };
    }
    free() {
      log.freed.push(this.kind);
    }
  }
  return { Engine, log };
}

describe('the backend "auto" chooses', () => {
  test('software adapters are recognised by name or by the fallback flag', () => {
    assert.equal(softwareAdapterName(SWIFTSHADER), 'SwiftShader');
    assert.equal(softwareAdapterName({ ...HARDWARE, description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }), 'llvmpipe');
    assert.equal(softwareAdapterName(HARDWARE), null);
    assert.ok(softwareAdapterName({ ...HARDWARE, fallback: true }));
    assert.equal(softwareAdapterName({ present: true, available: false }), null);
  });

  test('a hardware adapter is taken without a probe', async () => {
    const { Engine, log } = fakeEngines({ gpuMs: 1, cpuMs: 1 });
    const { engine, choice } = await chooseEngine(Engine, 'auto', HARDWARE, {});
    assert.equal(engine.kind, 'webgpu');
    assert.equal(choice.how, 'adapter');
    assert.deepEqual(log.created, ['auto']);
  });

  test('a slow software adapter loses the probe; the reason gives the measured ratio', async () => {
    // Wide apart, so that a loaded machine's timer jitter cannot swap them.
    const { Engine, log } = fakeEngines({ gpuMs: 400, cpuMs: 20 });
    const { engine, choice } = await chooseEngine(Engine, 'auto', SWIFTSHADER, {});
    assert.equal(engine.kind, 'cpu');
    assert.equal(choice.how, 'probe');
    assert.equal(choice.verdict.picked, 'cpu');
    assert.equal(choice.verdict.key, probeKey(SWIFTSHADER));
    const ratio = choice.verdict.gpuMs / choice.verdict.cpuMs;
    assert.ok(ratio > 3, `ratio ${ratio}`);
    assert.equal(choice.verdict.ratio, ratio);
    assert.match(choice.reason, /^SwiftShader WebGPU was [\d.]+× slower in a probe$/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(log.freed, ['webgpu']);
  });

  test('a fast software adapter wins the probe and keeps WebGPU', async () => {
    const { Engine, log } = fakeEngines({ gpuMs: 20, cpuMs: 400 });
    const { engine, choice } = await chooseEngine(Engine, 'auto', SWIFTSHADER, {});
    assert.equal(engine.kind, 'webgpu');
    assert.equal(choice.verdict.picked, 'webgpu');
    assert.match(choice.note, /faster than the CPU in a probe/);
    assert.deepEqual(log.freed, ['cpu']);
  });

  test('an adapter still busy after the budget loses by at least that much', async () => {
    const { Engine } = fakeEngines({ gpuMs: 5000, cpuMs: 5 });
    const started = Date.now();
    const { engine, choice } = await chooseEngine(Engine, 'auto', SWIFTSHADER, {});
    assert.ok(Date.now() - started < 4500, 'the probe waited past its budget');
    assert.equal(engine.kind, 'cpu');
    assert.equal(choice.verdict.atLeast, true);
    assert.match(choice.reason, /^SwiftShader WebGPU was over [\d.]+× slower in a probe$/);
  });

  test('a remembered verdict skips the probe', async () => {
    const { Engine, log } = fakeEngines({ gpuMs: 1, cpuMs: 1 });
    const verdict = { key: probeKey(SWIFTSHADER), adapter: 'SwiftShader', picked: 'cpu', ratio: 8 };
    const { engine, choice } = await chooseEngine(Engine, 'auto', SWIFTSHADER, { [verdict.key]: verdict });
    assert.equal(engine.kind, 'cpu');
    assert.equal(choice.how, 'cached');
    assert.equal(choice.reason, 'SwiftShader WebGPU was 8.0× slower in a probe');
    assert.deepEqual(log.created, ['cpu']);
  });

  test('no adapter, or no WebGPU, is said in plain words; an explicit backend is obeyed', async () => {
    const { Engine } = fakeEngines({ gpuMs: 1, cpuMs: 1 });
    const none = await chooseEngine(Engine, 'auto', { present: true, available: false }, {});
    assert.equal(none.engine.kind, 'cpu');
    assert.equal(none.choice.reason, 'this browser exposes WebGPU but no GPU adapter');
    const missing = await chooseEngine(Engine, 'auto', { present: false, available: false }, {});
    assert.equal(missing.choice.reason, 'this browser has no WebGPU');
    assert.equal((await chooseEngine(Engine, 'webgpu', SWIFTSHADER, {})).engine.kind, 'webgpu');
    assert.equal((await chooseEngine(Engine, 'cpu', HARDWARE, {})).engine.kind, 'cpu');
  });
});
