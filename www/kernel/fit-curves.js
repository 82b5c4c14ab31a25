// What `fit` shows while it trains: a progress bar per epoch and live training curves
// that move during the first epoch. The engine reports running means over the epoch so
// far; the curves show each batch's own value smoothed the way TensorBoard smooths
// (an exponential moving average, debiased so the first points are not pulled to 0),
// and the validation values at each epoch's end. Nothing is drawn before the first
// batch has trained, so a fit that fails on its inputs leaves no empty chart behind.

/** TensorBoard's default smoothing weight. */
export const SMOOTHING = 0.6;

/** At most this many batch points per epoch reach the chart (long epochs are thinned). */
const POINTS_PER_EPOCH = 100;

/** A debiased exponential moving average per key. */
export function smoother(weight = SMOOTHING) {
  const state = new Map();
  return (key, value) => {
    const s = state.get(key) ?? { last: 0, n: 0 };
    s.n += 1;
    s.last = s.last * weight + (1 - weight) * value;
    state.set(key, s);
    return s.last / (1 - weight ** s.n);
  };
}

/**
 * Each batch's own value from the running means (mean after `seen` samples, and before
 * it after `seenBefore`): v = (m·seen − m₀·seen₀) / (seen − seen₀).
 */
export function batchValue(mean, seen, previousMean, seenBefore) {
  if (!seenBefore) return mean;
  return (mean * seen - previousMean * seenBefore) / (seen - seenBefore);
}

/**
 * display: the kernel's display; series: the curve names (null when the first logs must
 * name them); validation: whether there are validation values; samples and batchSize:
 * to weigh the running means (the last batch may be smaller).
 */
export function fitDisplay(display, { series, validation, samples, batchSize }) {
  let curves = null;
  let bar = null;
  let barEpoch = -1;
  let epochStarted = performance.now();
  let previous = null;
  let held = null;
  const smooth = smoother();
  const seenAfter = (step, steps) => (samples && batchSize ? Math.min(step * batchSize, samples) : step / steps);

  function chart(logs) {
    const names = series ?? Object.keys(logs).flatMap((k) => (validation ? [k, `val_${k}`] : [k]));
    curves ??= display.chart({ title: 'training curves', x: 'epoch', xLabel: 'epoch', series: names, spanGaps: true, integerX: true });
    return curves;
  }

  return {
    /** After every batch: {epoch, epochs, step, steps, logs (running means)}. */
    batch({ epoch, epochs, step, steps, logs }) {
      if (epoch !== barEpoch) {
        bar?.done();
        // The bar appears with its epoch's first batch (an early stop leaves no empty
        // bar) but counts from the epoch's start, so the first batch is in its time.
        bar = display.progress({ total: steps, label: `epoch ${epoch + 1}/${epochs}`, started: epochStarted });
        barEpoch = epoch;
        previous = null;
      }
      bar.update(step, logs);
      const seen = seenAfter(step, steps);
      const point = { epoch: epoch + step / steps };
      for (const [k, v] of Object.entries(logs)) point[k] = smooth(k, batchValue(v, seen, previous?.logs[k] ?? 0, previous?.seen ?? 0));
      previous = { logs, seen };
      const every = Math.max(1, Math.floor(steps / POINTS_PER_EPOCH));
      // The epoch's last point waits for the validation values of the same x.
      if (step === steps) held = point;
      else if (step % every === 0) chart(logs).push(point);
    },
    /** After every epoch, with its logs (validation values included). */
    epoch(epoch, logs) {
      const val = Object.fromEntries(Object.entries(logs).filter(([k]) => k.startsWith('val_')));
      chart(logs).push({ ...(held ?? { epoch: epoch + 1 }), ...val });
      held = null;
      epochStarted = performance.now();
    },
    /** fit returned (`ok`) or failed: keep a point still held; a finished fit closes its bar. */
    done(ok) {
      if (ok) bar?.done();
      if (held) curves?.push(held);
      held = null;
    },
  };
}
