// keras.GradientTape for cells, shaped like TF's:
//   const tape = keras.GradientTape(); tape.watch(x);
//   const preds = await model(x); const loss = preds.sub(target).square().mean();
//   const [gx, ...gw] = await tape.gradient(loss, [x, ...model.trainableWeights]);
// JavaScript has no `with` block, so a tape records from its creation until its
// gradient is taken, tape.stop(), or the end of the cell that made it (the kernel calls
// stopTapes), so a forgotten tape cannot record every later model call. While one records, the tensor methods below and
// model calls on data go through the engine's tape (src/wasm/tape.rs); each tape knows
// its tensors by handle, and a clone of a handle is the same tensor to it.

// Tensor methods with a gradient, and those whose first argument is a second tensor.
const RECORDED = [
  'neg', 'abs', 'relu', 'sigmoid', 'tanh', 'exp', 'log', 'sqrt', 'square', 'affine', 'powScalar', 'clamp',
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'matmul',
  'sum', 'mean', 'max', 'min', 'softmax', 'logSoftmax', 'reshape', 'transpose', 'slice', 'pad',
];
const BINARY = new Set(['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'matmul']);

const describe = (t) => `Tensor [${Array.from(t.shape).join(', ')}]`;
// Non-tensor arguments as the engine reads them (JSON: no undefined, no typed arrays).
const plainArgs = (args) => args.map((a) => (a === undefined ? null : ArrayBuffer.isView(a) ? Array.from(a) : a));

// Tapes recording now (one kernel per worker).
const recording = new Set();
// Tensor classes whose methods go through the tapes already.
const patched = new WeakSet();

/** Ends every tape's recording: a cell is over. Their gradients can still be taken. */
export function stopTapes() {
  recording.clear();
}

// Routes the recorded tensor methods, clone and engine.concat through `record`.
function patchTensorMethods(Tensor, engine, record) {
  const proto = Tensor.prototype;
  for (const name of RECORDED) {
    const method = proto[name];
    if (typeof method !== 'function') continue;
    proto[name] = function (...args) {
      if (recording.size) {
        const binary = BINARY.has(name);
        if (!binary || args[0] instanceof Tensor) {
          const tensors = binary ? [this, args[0]] : [this];
          const rest = plainArgs(binary ? args.slice(1) : args);
          const out = record(tensors, (tape, ts, ids) => tape.engineTape.apply(name, ts, ids, rest));
          if (out) return out;
        }
      }
      return method.apply(this, args);
    };
  }
  // A clone is the same tensor to every tape (the kernel clones handles it passes on).
  const clone = proto.clone;
  proto.clone = function () {
    const out = clone.call(this);
    for (const tape of recording) if (tape.ids.has(this)) tape.ids.set(out, tape.ids.get(this));
    return out;
  };
  const concat = engine.concat.bind(engine);
  engine.concat = (tensors, axis) => {
    if (recording.size) {
      const out = record(tensors, (tape, ts, ids) => tape.engineTape.apply('concat', ts, ids, [axis]));
      if (out) {
        tensors.forEach((t) => t.dispose());
        return out;
      }
    }
    return concat(tensors, axis);
  };
}

export function createGradientTapes(loaded) {
  const { engine, Tensor, pkg } = loaded;

  // Runs `op` on every recording tape that knows one of `tensors`; null when none does
  // (the plain method then runs). Several tapes each record their own copy.
  function record(tensors, run) {
    let out = null;
    for (const tape of recording) {
      if (!tensors.some((t) => tape.ids.has(t))) continue;
      const [value, id] = run(tape, tensors.map((t) => t.clone()), Int32Array.from(tensors, (t) => tape.ids.get(t) ?? -1));
      if (out) value.dispose();
      out ??= value;
      tape.ids.set(out, id);
    }
    return out;
  }

  if (!patched.has(Tensor.prototype)) patchTensorMethods(Tensor, engine, record);
  patched.add(Tensor.prototype);

  class GradientTape {
    constructor({ persistent = false } = {}) {
      this.engineTape = engine.gradientTape(persistent);
      this.persistent = persistent;
      this.ids = new WeakMap();
      recording.add(this);
    }

    /** Track `x` (a tensor or a list): gradients with respect to it can be taken. */
    watch(x) {
      for (const t of Array.isArray(x) ? x : [x]) {
        if (!(t instanceof Tensor)) throw new Error(`GradientTape.watch: expected a Tensor, got ${t}`);
        if (!this.ids.has(t)) this.ids.set(t, this.engineTape.watch(t));
      }
    }

    /** Whether this tape records now. */
    get recording() {
      return recording.has(this);
    }

    /** Stops recording (TF's leaving the `with` block); gradient still works. */
    stop() {
      recording.delete(this);
    }

    /**
     * d(sum of target)/d(source) for a source or a list of them (tensors watched or
     * computed on this tape, or model Variables): a Tensor each, or null where the target
     * does not depend on the source (TF's None).
     */
    async gradient(target, sources) {
      const single = !Array.isArray(sources);
      const list = single ? [sources] : sources;
      if (!(target instanceof Tensor) || !this.ids.has(target)) {
        throw new Error(
          `GradientTape.gradient: the target${target instanceof Tensor ? ` (${describe(target)})` : ''} was not recorded on this tape; ` +
            'compute it after keras.GradientTape() from watched tensors, model calls and the recorded tensor methods (' +
            `${RECORDED.join(', ')}, and engine.concat)`,
        );
      }
      const ids = [];
      const variables = [];
      list.forEach((s, i) => {
        if (s instanceof pkg.Variable) {
          ids.push(-1);
          variables.push(s.clone());
        } else if (s instanceof Tensor && this.ids.has(s)) {
          ids.push(this.ids.get(s));
        } else {
          throw new Error(
            `GradientTape.gradient: source ${i} (${s instanceof Tensor ? describe(s) : String(s)}) was neither watched nor computed on this tape; call tape.watch(x) before computing with x`,
          );
        }
      });
      if (!this.persistent) recording.delete(this);
      const grads = this.engineTape.gradient(this.ids.get(target), Int32Array.from(ids), variables);
      return single ? grads[0] : grads;
    }
  }

  return {
    /** keras.GradientTape({persistent}); `new` is optional. */
    GradientTape: function GradientTapeFactory(opts) {
      return new GradientTape(opts);
    },
    recording: () => recording.size > 0,
    /** `model(x)` while tapes record: resolves to the outputs, recorded on each tape. */
    async callModel(model, inputs, training) {
      let outs = null;
      for (const tape of [...recording]) {
        const ids = Int32Array.from(inputs, (t) => tape.ids.get(t) ?? -1);
        const pairs = await tape.engineTape.callModel(model, inputs.map((t) => t.clone()), ids, !!training);
        if (outs) pairs.forEach(([value], i) => (tape.ids.set(outs[i], pairs[i][1]), value.dispose()));
        else {
          outs = pairs.map(([value]) => value);
          pairs.forEach(([value, id]) => tape.ids.set(value, id));
        }
      }
      return outs;
    },
  };
}

/** Python's zip for applyGradients(zip(grads, vars)): pairs up to the shorter list. */
export function zip(...lists) {
  const n = Math.min(...lists.map((l) => l.length));
  return Array.from({ length: n }, (_, i) => lists.map((l) => l[i]));
}

/**
 * Gives an optimizer config ({class_name, config}, what compile takes) Keras's
 * `applyGradients(zip(grads, vars))` (also `applyGradients(grads, vars)`), with its own
 * state (moments, iterations). Non-enumerable, so compile still reads a plain config.
 */
export function withApplyGradients(engine, config) {
  let state = null;
  Object.defineProperties(config, {
    applyGradients: {
      value(pairs, variables) {
        const list = variables ? zip(pairs, variables) : Array.from(pairs);
        // Keras skips variables without a gradient.
        const used = list.filter(([g]) => g != null);
        state ??= engine.optimizerState(config);
        state.apply(used.map(([g]) => g.clone()), used.map(([, v]) => v.clone()));
      },
    },
    iterations: { get: () => state?.iterations ?? 0 },
  });
  return config;
}
