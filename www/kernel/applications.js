// keras.applications for cells: the six ImageNet architectures with Keras's arguments,
// each family's preprocessInput and decodePredictions, as Keras's modules have them:
//   const base = keras.applications.VGG16({ includeTop: false, inputShape: [64, 64, 3] });
//   const x = keras.applications.vgg16.preprocessInput(images);
//   keras.applications.vgg16.decodePredictions(await model.predict(x), 3);
// The engine builds the models and reads the options (unknown keys are errors); this
// module gives them Keras's names and fetches ImageNet weight files (cached, see
// weights-cache.js) for model.loadWeights, which reads Keras's legacy .h5 layout.

import { fetchCached, fetchCachedBlob } from './weights-cache.js';

// The family modules of keras.applications, each with its constructor's name.
const FAMILIES = {
  xception: 'Xception',
  vgg16: 'VGG16',
  vgg19: 'VGG19',
  resnet50: 'ResNet50',
  inceptionV3: 'InceptionV3',
  mobilenetV2: 'MobileNetV2',
};

const isOptions = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v) && !(v instanceof Blob);

export function applicationGlobals(loaded, display, wrapModel) {
  if (!loaded?.pkg) return undefined;
  const { engine, pkg } = loaded;

  /** Where the ImageNet weight files come from: null for Keras's own location, or a mirror's URL. */
  const settings = { baseUrl: null };

  const topOf = (top) => (isOptions(top) ? top.top : top) ?? 5;
  const decodePredictions = (preds, top) => pkg.decodePredictions(preds, topOf(top));

  // Keras's weights argument: null (random), "imagenet" (the official file), or a file
  // of weights (bytes, a Blob or a picked File) for model.loadWeights.
  async function withWeights(name, options, model, weights) {
    if (weights === 'imagenet') {
      const file = engine.applicationWeights(name, options, settings.baseUrl ?? undefined);
      // A Blob kept on disk by Cache Storage, named as the file so errors say which one:
      // the engine reads it by ranges, one weight at a time.
      const blob = await fetchCachedBlob(file.url, { display, label: `${name}: ${file.file_name}` });
      await model.loadWeights(new File([blob], file.file_name));
      return model;
    }
    await model.loadWeights(weights);
    return model;
  }

  // keras.applications.VGG16({...}): the model at once with weights: null (the default
  // here: no weights are embedded), a promise of it when weights are to be loaded.
  function constructor(name) {
    const build = (opts = {}) => {
      if (!isOptions(opts)) throw new Error(`keras.applications.${name}: pass the options as an object, such as {includeTop: false}`);
      const { weights = null, ...rest } = opts;
      if (weights !== null && weights !== undefined && weights !== 'imagenet' && typeof weights === 'string') {
        throw new Error(`keras.applications.${name}: weights must be null, "imagenet" or a weights file (files.pick()), got "${weights}"`);
      }
      const model = wrapModel(engine.application(name, rest));
      return weights === null || weights === undefined ? model : withWeights(name, rest, model, weights);
    };
    Object.defineProperty(build, 'name', { value: name });
    return build;
  }

  const applications = {
    /**
     * Fetches a URL's bytes (relative URLs: the embedded data folder) with a progress bar,
     * keeping them in the browser's Cache Storage: the next load works offline.
     */
    fetchWeights: (url, opts = {}) => fetchCached(new URL(url, loaded.dataBase).href, { display, ...opts }),
    /** {application, file_name, path, url}: the Keras file with `name`'s ImageNet weights for these options. */
    weightsFile: (name, opts = {}) => engine.applicationWeights(name, opts, settings.baseUrl ?? undefined),
    /** The 1,000 ImageNet classes as [wnid, name], in Keras's order. */
    imagenetClasses: () => pkg.imagenetClasses(),
    imagenetUtils: {
      /** mode: "caffe" (Keras's default), "tf" or "torch". */
      preprocessInput: (x, { mode = 'caffe' } = {}) => pkg.preprocessInput(x, mode),
      decodePredictions,
    },
  };
  Object.defineProperty(applications, 'baseUrl', {
    enumerable: true,
    get: () => settings.baseUrl,
    set: (url) => {
      settings.baseUrl = url == null ? null : String(url);
    },
  });
  for (const [family, name] of Object.entries(FAMILIES)) {
    applications[name] = constructor(name);
    applications[family] = {
      [name]: applications[name],
      /** Keras's preprocess_input for this family (images in 0–255, channels last). */
      preprocessInput: (x) => pkg.preprocessInput(x, name),
      decodePredictions,
    };
  }
  return applications;
}
