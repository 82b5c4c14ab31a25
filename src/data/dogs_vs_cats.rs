//! Kaggle's dogs-vs-cats (`train.zip`: `train/cat.0.jpg` ... `train/dog.12499.jpg`) and
//! the book's small subset of it: per class, images 0..1000 for training, 1000..1500 for
//! validation and 1500..2500 for test. Either in memory straight from the zip (nothing
//! written), or as a list of which zip entries go where (so the JavaScript side can pick
//! just those out of a 550 MB file). The subset already laid out as
//! `cats_vs_dogs_small/{train,validation,test}/{cat,dog}/*.jpg` loads too.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use crate::data::archive::{file_name, is_junk, Archive};
use crate::data::image_folder::{
    decode_groups, encode_labels, index_directory, ImageDataset, ImageFolderOptions, LabelMode,
};
use crate::data::images::{check_size, decodable_extension, LoadOptions};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, ensure, Device};

/// The classes, in Keras's (sorted) order: label 0 is cat, 1 is dog.
pub(crate) const CLASSES: [&str; 2] = ["cat", "dog"];

/// Where the book copies the subset.
pub(crate) const SUBSET_DIR: &str = "cats_vs_dogs_small";

/// One of the book's three splits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitName {
    /// Training images.
    Train,
    /// Validation images.
    Validation,
    /// Test images.
    Test,
}

impl SplitName {
    /// The three splits in order.
    pub const ALL: [SplitName; 3] = [SplitName::Train, SplitName::Validation, SplitName::Test];

    /// The split's directory name.
    pub fn as_str(self) -> &'static str {
        match self {
            SplitName::Train => "train",
            SplitName::Validation => "validation",
            SplitName::Test => "test",
        }
    }
}

/// Image numbers (per class) of each split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubsetSpec {
    /// Image numbers of the training split.
    pub train: Range<usize>,
    /// Image numbers of the validation split.
    pub validation: Range<usize>,
    /// Image numbers of the test split.
    pub test: Range<usize>,
}

impl Default for SubsetSpec {
    /// The book's: 1000 / 500 / 1000 per class.
    fn default() -> Self {
        SubsetSpec {
            train: 0..1000,
            validation: 1000..1500,
            test: 1500..2500,
        }
    }
}

impl SubsetSpec {
    /// Image numbers of `split`.
    pub fn range(&self, split: SplitName) -> &Range<usize> {
        match split {
            SplitName::Train => &self.train,
            SplitName::Validation => &self.validation,
            SplitName::Test => &self.test,
        }
    }

    pub(crate) fn split_of(&self, index: usize) -> Option<SplitName> {
        SplitName::ALL.into_iter().find(|&s| self.range(s).contains(&index))
    }

    fn check(&self) -> Result<()> {
        for a in SplitName::ALL {
            for b in SplitName::ALL {
                let (ra, rb) = (self.range(a), self.range(b));
                ensure!(
                    a == b || ra.end <= rb.start || rb.end <= ra.start || ra.is_empty() || rb.is_empty(),
                    "dogs vs cats: the {} range {ra:?} overlaps the {} range {rb:?}",
                    a.as_str(),
                    b.as_str()
                );
            }
        }
        Ok(())
    }
}

/// One zip entry of the subset and where the book puts it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubsetEntry {
    /// The path inside the archive ("train/cat.0.jpg").
    pub entry: String,
    /// The split it goes to.
    pub split: SplitName,
    /// "cat" or "dog".
    pub class_name: &'static str,
    /// The image number (0 in cat.0.jpg).
    pub index: usize,
    /// "cats_vs_dogs_small/train/cat/cat.0.jpg".
    pub target: String,
}

/// `cat.123.jpg` / `dog.7.jpg` (in any directory) as (class, number).
pub fn parse_name(path: &str) -> Option<(&'static str, usize)> {
    let name = file_name(path);
    let (class, rest) = name.split_once('.')?;
    let class = CLASSES.into_iter().find(|c| *c == class)?;
    let number = rest.strip_suffix(".jpg")?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) || (number.len() > 1 && number.starts_with('0'))
    {
        return None;
    }
    Some((class, number.parse().ok()?))
}

/// Which entries of Kaggle's `train.zip` listing make up the subset, ordered by split,
/// class and number. Errors (naming what is missing) unless every image is there.
pub fn subset_entries<S: AsRef<str>>(names: &[S], spec: &SubsetSpec, what: &str) -> Result<Vec<SubsetEntry>> {
    spec.check()?;
    let mut found: HashMap<(&'static str, usize), &str> = HashMap::new();
    for name in names {
        let name = name.as_ref();
        if is_junk(name) {
            continue;
        }
        if let Some(key) = parse_name(name) {
            // Prefer Kaggle's train/ directory when a name occurs twice.
            let prefer = name.starts_with("train/") || name.contains("/train/");
            if prefer || !found.contains_key(&key) {
                found.insert(key, name);
            }
        }
    }
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for split in SplitName::ALL {
        for class in CLASSES {
            for index in spec.range(split).clone() {
                match found.get(&(class, index)) {
                    Some(entry) => out.push(SubsetEntry {
                        entry: entry.to_string(),
                        split,
                        class_name: class,
                        index,
                        target: format!("{SUBSET_DIR}/{}/{class}/{class}.{index}.jpg", split.as_str()),
                    }),
                    None => missing.push(format!("{class}.{index}.jpg")),
                }
            }
        }
    }
    if !missing.is_empty() {
        let nested = names.iter().any(|n| file_name(n.as_ref()) == "train.zip");
        bail!(
            "{what}: {} images of the subset are missing ({}{}); expected Kaggle's train.zip holding train/cat.0.jpg ... train/dog.12499.jpg{}",
            missing.len(),
            missing.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
            if missing.len() > 5 { ", ..." } else { "" },
            if nested { " (this archive contains train.zip: open that one)" } else { "" }
        );
    }
    Ok(out)
}

/// The three splits in memory.
#[derive(Debug, Clone)]
pub struct DogsVsCats {
    /// Training split.
    pub train: ImageDataset,
    /// Validation split.
    pub validation: ImageDataset,
    /// Test split.
    pub test: ImageDataset,
}

/// The book's options: `image_dataset_from_directory(..., image_size=(180, 180))`.
pub fn book_options() -> ImageFolderOptions {
    ImageFolderOptions {
        image_size: (180, 180),
        ..ImageFolderOptions::default()
    }
}

/// The base directory of a `.../train/{cat,dog}/...` layout in a listing, if any.
fn layout_base(listing: &[String]) -> Option<String> {
    listing.iter().filter(|p| !is_junk(p)).find_map(|p| {
        let parts: Vec<&str> = p.split('/').collect();
        let n = parts.len();
        (n >= 3 && parts[n - 3] == "train" && CLASSES.contains(&parts[n - 2])).then(|| parts[..n - 3].join("/"))
    })
}

/// The subset as three in-memory datasets, from Kaggle's `train.zip` (only the 5000
/// needed images are read from a zip) or from the `cats_vs_dogs_small` layout. Each split
/// is indexed as `image_dataset_from_directory` would index its directory (classes
/// cat, dog; Keras's file order and seeded shuffle); `opts.directory`,
/// `validation_split` and `subset` do not apply.
pub fn dogs_vs_cats_subset(src: &mut dyn Archive, spec: &SubsetSpec, opts: &ImageFolderOptions) -> Result<DogsVsCats> {
    let what = src.name().to_string();
    spec.check()?;
    ensure!(
        opts.validation_split.is_none() && opts.subset.is_none(),
        "{what}: the dogs-vs-cats subset has its own splits; validation_split/subset do not apply"
    );
    ensure!(
        opts.label_mode != LabelMode::None,
        "{what}: dogs vs cats needs labels (label_mode int, binary or categorical)"
    );
    check_size(opts.image_size, &what)?;
    let (h, w) = opts.image_size;
    let classes: Vec<String> = opts
        .class_names
        .clone()
        .unwrap_or_else(|| CLASSES.iter().map(|c| c.to_string()).collect());
    let load = LoadOptions {
        color_mode: opts.color_mode,
        size: Some(opts.image_size),
        interpolation: opts.interpolation,
        crop_to_aspect_ratio: opts.crop_to_aspect_ratio,
    };
    let candidate = |p: &str| -> bool {
        if is_junk(p) || !decodable_extension(p) {
            return false;
        }
        match parse_name(p) {
            Some((_, i)) => spec.split_of(i).is_some(),
            None => true,
        }
    };
    // Per split: (paths in row order, labels, messages).
    type Indexed = (Vec<String>, Vec<usize>, Vec<String>);
    let mut splits: BTreeMap<SplitName, Indexed> = BTreeMap::new();
    let mut class_names = classes.clone();
    let (_, data) = decode_groups(src, &load, &candidate, &mut |listing| {
        splits.clear();
        if let Some(base) = layout_base(listing) {
            for split in SplitName::ALL {
                let dir = if base.is_empty() {
                    split.as_str().to_string()
                } else {
                    format!("{base}/{}", split.as_str())
                };
                let ix = index_directory(
                    listing,
                    &dir,
                    true,
                    opts.class_names.as_deref(),
                    opts.shuffle,
                    opts.seed,
                    &what,
                )?;
                class_names = ix.class_names.clone();
                splits.insert(split, (ix.file_paths, ix.labels, ix.messages));
            }
        } else {
            let entries = subset_entries(listing, spec, &what)?;
            for split in SplitName::ALL {
                // Index the split as its directory in the book's layout would be indexed.
                let virtual_paths: Vec<String> = entries
                    .iter()
                    .filter(|e| e.split == split)
                    .map(|e| e.target.clone())
                    .collect();
                let to_entry: HashMap<&str, &str> = entries
                    .iter()
                    .filter(|e| e.split == split)
                    .map(|e| (e.target.as_str(), e.entry.as_str()))
                    .collect();
                let dir = format!("{SUBSET_DIR}/{}", split.as_str());
                let ix = index_directory(
                    &virtual_paths,
                    &dir,
                    true,
                    Some(&classes),
                    opts.shuffle,
                    opts.seed,
                    &what,
                )?;
                let paths = ix
                    .file_paths
                    .iter()
                    .map(|v| to_entry.get(v.as_str()).map(|e| e.to_string()))
                    .collect::<Option<Vec<String>>>();
                let Some(paths) = paths else {
                    bail!("{what}: subset entries out of step with their index")
                };
                splits.insert(split, (paths, ix.labels, ix.messages));
            }
        }
        Ok(SplitName::ALL.iter().map(|s| splits[s].0.clone()).collect())
    })?;
    let c = opts.color_mode.channels();
    let mut sets = Vec::with_capacity(3);
    for (split, pixels) in SplitName::ALL.into_iter().zip(data) {
        let Some((paths, labels, mut messages)) = splits.remove(&split) else {
            bail!("{what}: no {} split", split.as_str())
        };
        messages.insert(0, format!("{}:", split.as_str()));
        let n = paths.len();
        sets.push(ImageDataset {
            images: Tensor::from_u8(&Device::Cpu, pixels, &[n, h, w, c])?,
            labels: encode_labels(&labels, class_names.len(), opts.label_mode).map_err(|e| e.context(&what))?,
            class_names: class_names.clone(),
            file_paths: paths,
            label_indices: labels,
            messages,
        });
    }
    let mut it = sets.into_iter();
    match (it.next(), it.next(), it.next()) {
        (Some(train), Some(validation), Some(test)) => Ok(DogsVsCats {
            train,
            validation,
            test,
        }),
        _ => bail!("{what}: expected three splits"),
    }
}
