//! `keras.utils.image_dataset_from_directory` over an archive or a set of files: one
//! class per first-level subdirectory of `directory`, classes in alphanumeric order,
//! files ordered as Keras lists them (by directory, then name), shuffled as Keras does
//! (`np.random.RandomState(seed).shuffle`, so `validation_split` picks the same files),
//! decoded and resized to `image_size` (bilinear by default). Images stay uint8
//! (N, height, width, channels); labels are uint8 too.

use std::collections::{BTreeSet, HashSet};

use crate::data::archive::{is_junk, top_level, Archive};
use crate::data::images::{
    check_size, decodable_extension, has_image_extension, load_image, ColorMode, Interpolation, LoadOptions,
};
use crate::data::rng::numpy_shuffle;
use crate::data::rows::Rows;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, ensure, Device};

/// Keras's `label_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelMode {
    /// uint8 class index, shape (N,) (int32 if there are more than 256 classes).
    #[default]
    Int,
    /// uint8 0/1, shape (N, 1): exactly two classes.
    Binary,
    /// uint8 one-hot, shape (N, classes).
    Categorical,
    /// No labels: every image under `directory`, subdirectories or not.
    None,
}

impl LabelMode {
    /// Parse Keras's spelling ("int", "binary", "categorical", or "none"/"null").
    pub fn parse(name: &str) -> Result<LabelMode> {
        Ok(match name {
            "int" => LabelMode::Int,
            "binary" => LabelMode::Binary,
            "categorical" => LabelMode::Categorical,
            "none" | "null" => LabelMode::None,
            other => bail!("label_mode must be \"int\", \"binary\", \"categorical\" or null, got \"{other}\""),
        })
    }
}

/// Keras's `subset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Subset {
    /// The first `1 - validation_split` of the files.
    Training,
    /// The last `validation_split` of the files.
    Validation,
    /// Both, as two datasets.
    Both,
}

impl Subset {
    /// Parse Keras's spelling ("training", "validation", "both").
    pub fn parse(name: &str) -> Result<Subset> {
        Ok(match name {
            "training" => Subset::Training,
            "validation" => Subset::Validation,
            "both" => Subset::Both,
            other => bail!("subset must be \"training\", \"validation\" or \"both\", got \"{other}\""),
        })
    }
}

/// The arguments of `image_dataset_from_directory`, with its defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageFolderOptions {
    /// The root inside the archive whose subdirectories are the classes; "" for the top.
    pub directory: String,
    /// Keras `label_mode`; default "int".
    pub label_mode: LabelMode,
    /// Only these subdirectories, in this order (default: all, sorted).
    pub class_names: Option<Vec<String>>,
    /// Keras `color_mode`; default "rgb".
    pub color_mode: ColorMode,
    /// (height, width); default (256, 256).
    pub image_size: (usize, usize),
    /// Keras `shuffle`; default true.
    pub shuffle: bool,
    /// NumPy seed (0..2^32). Required with `validation_split` when shuffling, as in
    /// Keras; when absent otherwise, seed 0 (the JavaScript API draws a random one).
    pub seed: Option<u64>,
    /// Keras `validation_split`: the fraction held out for validation.
    pub validation_split: Option<f64>,
    /// Keras `subset`: which side of the split to return.
    pub subset: Option<Subset>,
    /// Keras `interpolation` used when resizing; default bilinear.
    pub interpolation: Interpolation,
    /// Keras `crop_to_aspect_ratio`: center-crop to the target's aspect ratio before resizing.
    pub crop_to_aspect_ratio: bool,
}

impl Default for ImageFolderOptions {
    fn default() -> Self {
        ImageFolderOptions {
            directory: String::new(),
            label_mode: LabelMode::Int,
            class_names: None,
            color_mode: ColorMode::Rgb,
            image_size: (256, 256),
            shuffle: true,
            seed: None,
            validation_split: None,
            subset: None,
            interpolation: Interpolation::Bilinear,
            crop_to_aspect_ratio: false,
        }
    }
}

/// Images and labels in memory, with what Keras would have printed.
#[derive(Debug, Clone)]
pub struct ImageDataset {
    /// uint8 (N, height, width, channels).
    pub images: Tensor,
    /// See [`LabelMode`]; `None` for `LabelMode::None`.
    pub labels: Option<Tensor>,
    /// Class names, label 0 first.
    pub class_names: Vec<String>,
    /// Archive paths of the rows, in row order.
    pub file_paths: Vec<String>,
    /// Class index of each row.
    pub label_indices: Vec<usize>,
    /// "Found 2000 files belonging to 2 classes.", "Using 1600 files for training.", ...
    pub messages: Vec<String>,
}

impl ImageDataset {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.file_paths.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.file_paths.is_empty()
    }
}

/// The files of a directory tree with their classes, in Keras's order.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryIndex {
    /// Archive paths of the files, in Keras's order.
    pub file_paths: Vec<String>,
    /// Class index of each file.
    pub labels: Vec<usize>,
    /// Class names, label 0 first.
    pub class_names: Vec<String>,
    /// .bmp / .gif files found, which this build cannot decode (left out).
    pub unsupported: Vec<String>,
    /// "Found N files belonging to M classes." (and a note on left-out files).
    pub messages: Vec<String>,
}

/// `directory` normalized: no leading/trailing slashes, "" for the top.
fn normalize_root(directory: &str) -> String {
    directory
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// The part of `path` under `root`, if it is under it.
fn relative<'a>(path: &'a str, root: &str) -> Option<&'a str> {
    if root.is_empty() {
        Some(path)
    } else {
        path.strip_prefix(root).and_then(|r| r.strip_prefix('/'))
    }
}

/// Keras's `index_directory(directory, labels="inferred" or None, ...)` over a listing
/// of paths: classes, files in order, and the global seeded shuffle.
pub fn index_directory(
    paths: &[String],
    directory: &str,
    inferred_labels: bool,
    class_names: Option<&[String]>,
    shuffle: bool,
    seed: Option<u64>,
    what: &str,
) -> Result<DirectoryIndex> {
    let root = normalize_root(directory);
    let under: Vec<(&str, &str)> = paths
        .iter()
        .filter_map(|p| relative(p, &root).map(|r| (p.as_str(), r)))
        .filter(|(_, r)| !r.is_empty())
        .collect();
    if under.is_empty() {
        let top = top_level(paths);
        let shown: Vec<&str> = top.iter().take(8).map(String::as_str).collect();
        bail!(
            "{what}: no directory \"{root}\" (top-level entries: {}{})",
            if shown.is_empty() {
                "none".to_string()
            } else {
                shown.join(", ")
            },
            if top.len() > 8 { ", ..." } else { "" }
        );
    }
    let subdirs: Vec<String> = if inferred_labels {
        let set: BTreeSet<&str> = under
            .iter()
            .filter_map(|(_, r)| r.split_once('/').map(|(d, _)| d))
            .filter(|d| !d.starts_with('.') && *d != "__MACOSX")
            .collect();
        set.into_iter().map(str::to_string).collect()
    } else {
        vec![String::new()]
    };
    let classes: Vec<String> = match class_names {
        Some(names) if inferred_labels => {
            if let Some(bad) = names.iter().find(|n| !subdirs.contains(n)) {
                bail!(
                    "{what}: class_names {names:?} do not match the subdirectories of \"{root}\": expected {subdirs:?} (or a subset of it); \"{bad}\" is not one"
                );
            }
            names.to_vec()
        }
        Some(_) => bail!("{what}: class_names cannot be given without inferred labels (label_mode null)"),
        None => subdirs,
    };
    let mut file_paths = Vec::new();
    let mut labels = Vec::new();
    let mut unsupported = Vec::new();
    for (class_index, class) in classes.iter().enumerate() {
        // (directory, file name) pairs under this class, sorted as os.walk + sorted() give them.
        let mut files: Vec<(&str, &str, &str)> = under
            .iter()
            .filter_map(|&(full, r)| {
                let inner = if inferred_labels {
                    r.strip_prefix(class.as_str())?.strip_prefix('/')?
                } else {
                    r
                };
                if is_junk(inner) || !has_image_extension(inner) {
                    return None;
                }
                let (dir, name) = match full.rsplit_once('/') {
                    Some((d, n)) => (d, n),
                    None => ("", full),
                };
                Some((dir, name, full))
            })
            .collect();
        files.sort();
        for (_, _, full) in files {
            if decodable_extension(full) {
                file_paths.push(full.to_string());
                labels.push(class_index);
            } else {
                unsupported.push(full.to_string());
            }
        }
    }
    if file_paths.is_empty() {
        bail!(
            "{what}: no images found in directory \"{root}\"{}. Allowed formats: .jpeg, .jpg, .png",
            if inferred_labels {
                " (images go in one subdirectory per class)"
            } else {
                ""
            }
        );
    }
    let mut messages = vec![if inferred_labels {
        format!(
            "Found {} files belonging to {} classes.",
            file_paths.len(),
            classes.len()
        )
    } else {
        format!("Found {} files.", file_paths.len())
    }];
    if !unsupported.is_empty() {
        messages.push(format!(
            "Left out {} .bmp/.gif files: this build decodes JPEG and PNG only.",
            unsupported.len()
        ));
    }
    if shuffle {
        let seed = seed.unwrap_or(0);
        let Ok(seed32) = u32::try_from(seed) else {
            bail!("{what}: seed must be between 0 and 2**32 - 1 (a NumPy seed), got {seed}");
        };
        numpy_shuffle(&mut file_paths, seed32);
        numpy_shuffle(&mut labels, seed32);
    }
    Ok(DirectoryIndex {
        file_paths,
        labels,
        class_names: classes,
        unsupported,
        messages,
    })
}

fn check_options(opts: &ImageFolderOptions, what: &str) -> Result<()> {
    check_size(opts.image_size, what)?;
    if let Some(v) = opts.validation_split {
        ensure!(
            v > 0.0 && v < 1.0,
            "{what}: validation_split must be between 0 and 1, received: {v}"
        );
    }
    ensure!(
        opts.validation_split.is_some() == opts.subset.is_some(),
        "{what}: if subset is set, validation_split must be set, and inversely"
    );
    ensure!(
        !(opts.validation_split.is_some() && opts.shuffle && opts.seed.is_none()),
        "{what}: with validation_split and shuffling, a seed is needed, so that the training and validation subsets do not overlap"
    );
    if opts.label_mode == LabelMode::None {
        ensure!(
            opts.class_names.is_none(),
            "{what}: class_names cannot be given with label_mode null"
        );
    }
    Ok(())
}

/// One subset: paths, labels, and the "Using N files for ..." message.
type Part = (Vec<String>, Vec<usize>, String);

/// Lists of archive paths, one per output dataset.
pub(crate) type Groups = Vec<Vec<String>>;

/// Subsets of an index, as requested.
fn subsets(index: &DirectoryIndex, opts: &ImageFolderOptions, what: &str) -> Result<Vec<Part>> {
    let n = index.file_paths.len();
    let Some(split) = opts.validation_split else {
        return Ok(vec![(index.file_paths.clone(), index.labels.clone(), String::new())]);
    };
    let n_val = (split * n as f64) as usize;
    let cut = n - n_val;
    let train = (
        index.file_paths[..cut].to_vec(),
        index.labels[..cut].to_vec(),
        format!("Using {cut} files for training."),
    );
    let val = (
        index.file_paths[cut..].to_vec(),
        index.labels[cut..].to_vec(),
        format!("Using {n_val} files for validation."),
    );
    let wanted = match opts.subset {
        Some(Subset::Training) => vec![train],
        Some(Subset::Validation) => vec![val],
        _ => vec![train, val],
    };
    for (paths, _, msg) in &wanted {
        ensure!(
            !paths.is_empty(),
            "{what}: validation_split {split} of {n} files leaves an empty subset ({msg})"
        );
    }
    Ok(wanted)
}

/// Labels of one subset in `mode`'s encoding (uint8).
pub(crate) fn encode_labels(labels: &[usize], classes: usize, mode: LabelMode) -> Result<Option<Tensor>> {
    let n = labels.len();
    Ok(match mode {
        LabelMode::None => None,
        LabelMode::Int if classes > 256 => Some(Tensor::from_i32(
            &Device::Cpu,
            labels.iter().map(|&l| l as i32).collect(),
            &[n],
        )?),
        LabelMode::Int => Some(Tensor::from_u8(
            &Device::Cpu,
            labels.iter().map(|&l| l as u8).collect(),
            &[n],
        )?),
        LabelMode::Binary => {
            ensure!(
                classes == 2,
                "label_mode \"binary\" needs exactly 2 classes, found {classes}"
            );
            Some(Tensor::from_u8(
                &Device::Cpu,
                labels.iter().map(|&l| l as u8).collect(),
                &[n, 1],
            )?)
        }
        LabelMode::Categorical => {
            let mut hot = vec![0u8; n * classes];
            for (i, &l) in labels.iter().enumerate() {
                hot[i * classes + l] = 1;
            }
            Some(Tensor::from_u8(&Device::Cpu, hot, &[n, classes])?)
        }
    })
}

fn load_options(opts: &ImageFolderOptions) -> LoadOptions {
    LoadOptions {
        color_mode: opts.color_mode,
        size: Some(opts.image_size),
        interpolation: opts.interpolation,
        crop_to_aspect_ratio: opts.crop_to_aspect_ratio,
    }
}

/// Decodes the files of `groups` (archive paths) into one uint8 buffer per group, in
/// each group's order. Listable archives (zip, files in memory) read only those files,
/// one pass per group; a tar stream is read once, decoding every `candidate`, and
/// `groups_from` then gets every path it held, to name the groups.
pub(crate) fn decode_groups(
    src: &mut dyn Archive,
    load: &LoadOptions,
    candidate: &dyn Fn(&str) -> bool,
    groups_from: &mut dyn FnMut(&[String]) -> Result<Groups>,
) -> Result<(Groups, Vec<Vec<u8>>)> {
    let (h, w) = load.size.unwrap_or((0, 0));
    let row_len = h * w * load.color_mode.channels();
    let what = src.name().to_string();
    let decode_into = |rows: &mut Rows, path: &str, bytes: &[u8]| -> Result<()> {
        let img = load_image(bytes, &format!("{what}: {path}"), load)?;
        rows.insert(path, &img.data)
    };
    if let Some(listing) = src.list()? {
        let groups = groups_from(&listing)?;
        let mut out = Vec::with_capacity(groups.len());
        for g in &groups {
            let wanted: HashSet<&str> = g.iter().map(String::as_str).collect();
            let mut rows = Rows::with_capacity(&what, row_len, g.len())?;
            src.visit(&mut |p| wanted.contains(p), &mut |p, b| decode_into(&mut rows, p, b))?;
            if let Some(missing) = g.iter().find(|p| !rows.contains(p)) {
                bail!("{what}: {missing} is listed but could not be read");
            }
            out.extend(rows.into_groups(&[g])?);
        }
        Ok((groups, out))
    } else {
        let mut all = Vec::new();
        let mut rows = Rows::with_capacity(&what, row_len, 0)?;
        src.visit(
            &mut |p| {
                all.push(p.to_string());
                candidate(p)
            },
            &mut |p, b| decode_into(&mut rows, p, b),
        )?;
        let groups = groups_from(&all)?;
        if let Some(missing) = groups.iter().flatten().find(|p| !rows.contains(p)) {
            bail!("{what}: {missing} was not decoded");
        }
        let refs: Vec<&[String]> = groups.iter().map(Vec::as_slice).collect();
        let data = rows.into_groups(&refs)?;
        Ok((groups, data))
    }
}

fn load(src: &mut dyn Archive, opts: &ImageFolderOptions) -> Result<Vec<ImageDataset>> {
    let what = src.name().to_string();
    check_options(opts, &what)?;
    let root = normalize_root(&opts.directory);
    let inferred = opts.label_mode != LabelMode::None;
    let class_filter: Option<HashSet<String>> = opts.class_names.as_ref().map(|c| c.iter().cloned().collect());
    let candidate = |p: &str| -> bool {
        let Some(r) = relative(p, &root) else { return false };
        if is_junk(r) || !decodable_extension(r) {
            return false;
        }
        if !inferred {
            return true;
        }
        match r.split_once('/') {
            Some((class, _)) => class_filter.as_ref().is_none_or(|f| f.contains(class)),
            None => false,
        }
    };
    let mut index = None;
    let mut parts = Vec::new();
    let (groups, data) = decode_groups(src, &load_options(opts), &candidate, &mut |listing| {
        let ix = index_directory(
            listing,
            &opts.directory,
            inferred,
            opts.class_names.as_deref(),
            opts.shuffle,
            opts.seed,
            &what,
        )?;
        parts = subsets(&ix, opts, &what)?;
        index = Some(ix);
        Ok(parts.iter().map(|(p, _, _)| p.clone()).collect())
    })?;
    let Some(index) = index else {
        bail!("{what}: nothing was indexed")
    };
    let (h, w) = opts.image_size;
    let c = opts.color_mode.channels();
    let classes = index.class_names.len();
    let mut out = Vec::with_capacity(groups.len());
    for ((paths, label_indices, msg), pixels) in parts.into_iter().zip(data) {
        let n = paths.len();
        let mut messages = index.messages.clone();
        if !msg.is_empty() {
            messages.push(msg);
        }
        out.push(ImageDataset {
            images: Tensor::from_u8(&Device::Cpu, pixels, &[n, h, w, c])?,
            labels: encode_labels(&label_indices, classes, opts.label_mode).map_err(|e| e.context(&what))?,
            class_names: if inferred {
                index.class_names.clone()
            } else {
                Vec::new()
            },
            file_paths: paths,
            label_indices,
            messages,
        });
    }
    Ok(out)
}

/// `image_dataset_from_directory` over an archive: one dataset (all files, or the
/// `subset` "training" / "validation"). For `subset` "both" use
/// [`image_datasets_from_archive`].
pub fn image_dataset_from_archive(src: &mut dyn Archive, opts: &ImageFolderOptions) -> Result<ImageDataset> {
    ensure!(
        opts.subset != Some(Subset::Both),
        "{}: subset \"both\" gives two datasets: use image_datasets_from_archive",
        src.name()
    );
    let mut v = load(src, opts)?;
    match v.pop() {
        Some(d) => Ok(d),
        None => bail!("{}: no dataset", src.name()),
    }
}

/// `subset="both"`: (training, validation).
pub fn image_datasets_from_archive(
    src: &mut dyn Archive,
    opts: &ImageFolderOptions,
) -> Result<(ImageDataset, ImageDataset)> {
    let mut o = opts.clone();
    o.subset = Some(Subset::Both);
    let v = load(src, &o)?;
    let mut it = v.into_iter();
    match (it.next(), it.next()) {
        (Some(t), Some(v)) => Ok((t, v)),
        _ => bail!("{}: expected a training and a validation subset", src.name()),
    }
}
