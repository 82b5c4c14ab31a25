//! The Oxford-IIIT Pets segmentation data as the book prepares it: `images/*.jpg` paired
//! by name with `annotations/trimaps/*.png` (files starting with '.' skipped), both in
//! sorted order, shuffled with Python's `random.Random(1337)`, images resized (RGB) to
//! 200x200, trimaps resized with nearest neighbour (class ids must not blend) and
//! shifted from 1 (pet), 2 (background), 3 (outline) to 0, 1, 2; the last 1000 pairs are
//! the validation set. Everything stays uint8.

use std::collections::{HashMap, HashSet};

use crate::data::archive::{file_name, Archive};
use crate::data::images::{check_size, decode_image, resize, ColorMode, Interpolation, LoadOptions};
use crate::data::rng::python_shuffle;
use crate::data::rows::Rows;
use crate::data::split::Labeled;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, ensure, Device};

/// How the Oxford pets segmentation data is loaded (the book's defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct PetsOptions {
    /// (height, width) of images and targets; the book's is (200, 200).
    pub image_size: (usize, usize),
    /// How images are resized (bilinear; Keras's `load_img` default would be nearest).
    pub image_interpolation: Interpolation,
    /// Shuffle the pairs with Python's `random.Random(seed).shuffle`.
    pub shuffle: bool,
    /// Seed of the shuffle; the book's is 1337.
    pub seed: u64,
    /// How many pairs, from the end, form the validation set.
    pub validation_count: usize,
    /// Use only the first `limit` pairs in sorted order (before shuffling): a smaller
    /// dataset for a browser tab.
    pub limit: Option<usize>,
    /// Subtract 1 from trimap values (1, 2, 3 become 0, 1, 2), as the book does.
    pub subtract_one: bool,
}

impl Default for PetsOptions {
    fn default() -> Self {
        PetsOptions {
            image_size: (200, 200),
            image_interpolation: Interpolation::Bilinear,
            shuffle: true,
            seed: 1337,
            validation_count: 1000,
            limit: None,
            subtract_one: true,
        }
    }
}

/// Images uint8 (N, h, w, 3) with targets uint8 (N, h, w, 1), split in two.
#[derive(Debug, Clone)]
pub struct Pets {
    /// Training images and trimap targets.
    pub train: Labeled,
    /// Validation images and trimap targets.
    pub validation: Labeled,
    /// The names (without extension) of the pairs, in row order.
    pub train_names: Vec<String>,
    /// The names of the validation pairs, in row order.
    pub validation_names: Vec<String>,
    /// What loading reported, for the notebook to print.
    pub messages: Vec<String>,
}

/// A pet photo: a `.jpg` directly in a directory named `images`, not starting with '.'.
pub(crate) fn is_pet_image(path: &str) -> bool {
    in_dir(path, "images") && file_name(path).ends_with(".jpg") && !file_name(path).starts_with('.')
}

/// A trimap: a `.png` directly in a directory named `trimaps`, not starting with '.'.
pub(crate) fn is_trimap(path: &str) -> bool {
    in_dir(path, "trimaps") && file_name(path).ends_with(".png") && !file_name(path).starts_with('.')
}

fn in_dir(path: &str, dir: &str) -> bool {
    let mut parts = path.rsplit('/');
    parts.next();
    parts.next() == Some(dir)
}

fn stem(path: &str) -> &str {
    let name = file_name(path);
    name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name)
}

/// (image path, trimap path) pairs.
type Pairs = Vec<(String, String)>;

/// The pairs in the book's order, and messages. `paths` are every file the sources hold.
fn plan(paths: &[String], opts: &PetsOptions, what: &str) -> Result<(Pairs, Vec<String>)> {
    let mut images: Vec<&str> = paths.iter().map(String::as_str).filter(|p| is_pet_image(p)).collect();
    let trimaps: Vec<&str> = paths.iter().map(String::as_str).filter(|p| is_trimap(p)).collect();
    images.sort();
    images.dedup();
    let by_stem: HashMap<&str, &str> = trimaps.iter().map(|&t| (stem(t), t)).collect();
    ensure!(!images.is_empty(), "{what}: no pet images (images/*.jpg) found");
    ensure!(
        !trimaps.is_empty(),
        "{what}: no trimaps (annotations/trimaps/*.png) found"
    );
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(images.len());
    let mut no_trimap = 0;
    for img in &images {
        match by_stem.get(stem(img)) {
            Some(t) => pairs.push((img.to_string(), t.to_string())),
            None => no_trimap += 1,
        }
    }
    let paired: HashSet<&str> = pairs.iter().map(|(i, _)| stem(i)).collect();
    let no_image = by_stem.keys().filter(|s| !paired.contains(*s)).count();
    ensure!(!pairs.is_empty(), "{what}: no image has a trimap of the same name");
    let mut messages = vec![format!("Found {} image/trimap pairs.", pairs.len())];
    if no_trimap + no_image > 0 {
        messages.push(format!(
            "Left out {no_trimap} images without a trimap and {no_image} trimaps without an image."
        ));
    }
    if let Some(limit) = opts.limit {
        if limit < pairs.len() {
            pairs.truncate(limit);
            messages.push(format!("Using the first {limit} pairs (limit)."));
        }
    }
    if opts.shuffle {
        python_shuffle(&mut pairs, opts.seed);
    }
    ensure!(
        opts.validation_count < pairs.len(),
        "{what}: validation_count {} leaves no training pairs out of {}",
        opts.validation_count,
        pairs.len()
    );
    messages.push(format!(
        "Using {} pairs for training and {} for validation.",
        pairs.len() - opts.validation_count,
        opts.validation_count
    ));
    Ok((pairs, messages))
}

/// Decodes a trimap: grayscale, values 1..=3 checked, nearest resize, minus 1.
fn load_trimap(bytes: &[u8], what: &str, opts: &PetsOptions) -> Result<Vec<u8>> {
    let img = decode_image(bytes, what, ColorMode::Grayscale)?;
    if let Some(i) = img.data.iter().position(|&v| !(1..=3).contains(&v)) {
        bail!(
            "{what}: value {} at row {}, column {}: a trimap holds 1 (pet), 2 (background) or 3 (outline)",
            img.data[i],
            i / img.width,
            i % img.width
        );
    }
    let (h, w) = opts.image_size;
    let mut out = resize(&img, h, w, Interpolation::Nearest).data;
    if opts.subtract_one {
        out.iter_mut().for_each(|v| *v -= 1);
    }
    Ok(out)
}

/// The book's Oxford pets segmentation data from its archives (`images.tar.gz` and
/// `annotations.tar.gz`, or zips, or a picked folder), in any number of sources.
pub fn pets_segmentation(sources: &mut [&mut dyn Archive], opts: &PetsOptions) -> Result<Pets> {
    let what = sources
        .iter()
        .map(|s| s.name().to_string())
        .collect::<Vec<_>>()
        .join(" + ");
    check_size(opts.image_size, &what)?;
    let (h, w) = opts.image_size;
    let load = LoadOptions {
        color_mode: ColorMode::Rgb,
        size: Some(opts.image_size),
        interpolation: opts.image_interpolation,
        crop_to_aspect_ratio: false,
    };
    let mut listings = Vec::new();
    for s in sources.iter_mut() {
        listings.push(s.list()?);
    }
    let listable = listings.iter().all(Option::is_some);
    let planned = if listable {
        let all: Vec<String> = listings.into_iter().flatten().flatten().collect();
        Some(plan(&all, opts, &what)?)
    } else {
        None
    };
    let wanted: Option<HashSet<String>> = planned
        .as_ref()
        .map(|(pairs, _)| pairs.iter().flat_map(|(i, t)| [i.clone(), t.clone()]).collect());
    let capacity = planned.as_ref().map_or(0, |(p, _)| p.len());
    let mut images = Rows::with_capacity(&what, h * w * 3, capacity)?;
    let mut targets = Rows::with_capacity(&what, h * w, capacity)?;
    let mut all = Vec::new();
    for s in sources.iter_mut() {
        let name = s.name().to_string();
        s.visit(
            &mut |p| match &wanted {
                Some(set) => set.contains(p),
                None => {
                    all.push(p.to_string());
                    is_pet_image(p) || is_trimap(p)
                }
            },
            &mut |p, bytes| {
                let label = format!("{name}: {p}");
                if is_trimap(p) {
                    targets.insert(p, &load_trimap(bytes, &label, opts)?)
                } else {
                    let img = crate::data::images::load_image(bytes, &label, &load)?;
                    images.insert(p, &img.data)
                }
            },
        )?;
    }
    let (pairs, messages) = match planned {
        Some(p) => p,
        None => plan(&all, opts, &what)?,
    };
    let cut = pairs.len() - opts.validation_count;
    let (img_paths, trimap_paths): (Vec<String>, Vec<String>) = pairs.iter().cloned().unzip();
    let mut img_groups = images.into_groups(&[&img_paths[..cut], &img_paths[cut..]])?.into_iter();
    let mut tgt_groups = targets
        .into_groups(&[&trimap_paths[..cut], &trimap_paths[cut..]])?
        .into_iter();
    let (Some(xt), Some(xv), Some(yt), Some(yv)) = (
        img_groups.next(),
        img_groups.next(),
        tgt_groups.next(),
        tgt_groups.next(),
    ) else {
        bail!("{what}: expected training and validation rows");
    };
    let n_val = opts.validation_count;
    let names: Vec<String> = img_paths.iter().map(|p| stem(p).to_string()).collect();
    Ok(Pets {
        train: Labeled {
            images: Tensor::from_u8(&Device::Cpu, xt, &[cut, h, w, 3])?,
            labels: Tensor::from_u8(&Device::Cpu, yt, &[cut, h, w, 1])?,
        },
        validation: Labeled {
            images: Tensor::from_u8(&Device::Cpu, xv, &[n_val, h, w, 3])?,
            labels: Tensor::from_u8(&Device::Cpu, yv, &[n_val, h, w, 1])?,
        },
        train_names: names[..cut].to_vec(),
        validation_names: names[cut..].to_vec(),
        messages,
    })
}
