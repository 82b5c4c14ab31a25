//! The keyword arguments of the dataset loaders (Keras's names, snake_case or camelCase),
//! read through the one option reader. Defaults are each options struct's `Default`
//! (or the loader's own, as `dogs_vs_cats::book_options`). The readers leave `finish` to
//! the caller, which may read a few keys of its own (`name`) first.

use crate::bail;
use crate::data::dogs_vs_cats::SubsetSpec;
use crate::data::image_folder::{ImageFolderOptions, LabelMode, Subset};
use crate::data::images::{ColorMode, Interpolation, LoadOptions};
use crate::data::pets::PetsOptions;
use crate::data::split::SplitSize;
use crate::error::Result;
use crate::options::Options;

/// `[height, width]` or one number for both.
fn size(o: &Options, key: &str) -> Result<Option<(usize, usize)>> {
    Ok(o.pair(key)?.map(|[h, w]| (h, w)))
}

/// A NumPy seed, as Keras's loaders take it: 0 ..= 2**32 - 1.
pub fn numpy_seed(o: &Options) -> Result<Option<u64>> {
    match o.u64("seed")? {
        Some(s) if s >= 1 << 32 => bail!("{}: seed must be an integer between 0 and 2**32 - 1, got {s}", o.owner()),
        s => Ok(s),
    }
}

/// Errors of the named parsers, prefixed with the call.
fn in_call<T>(o: &Options, r: Result<T>) -> Result<T> {
    r.map_err(|e| e.context(o.owner()))
}

impl ImageFolderOptions {
    /// `image_dataset_from_directory`'s arguments: `directory`, `label_mode` (null: no
    /// labels), `class_names`, `color_mode`, `image_size`, `shuffle`, `seed`,
    /// `validation_split`, `subset`, `interpolation`, `crop_to_aspect_ratio`.
    pub fn from_options(o: &Options, defaults: ImageFolderOptions) -> Result<ImageFolderOptions> {
        let mut d = defaults;
        d.directory = o.str("directory", &d.directory)?;
        if let Some(m) = o.opt_str("label_mode")? {
            d.label_mode = in_call(o, LabelMode::parse(&m))?;
        } else if o.present("label_mode") {
            d.label_mode = LabelMode::None;
        }
        d.class_names = o.str_list("class_names")?;
        if let Some(c) = o.opt_str("color_mode")? {
            d.color_mode = in_call(o, ColorMode::parse(&c))?;
        }
        d.image_size = size(o, "image_size")?.unwrap_or(d.image_size);
        d.shuffle = o.bool("shuffle", d.shuffle)?;
        d.seed = numpy_seed(o)?.or(d.seed);
        d.validation_split = o.opt_f64("validation_split")?.or(d.validation_split);
        if let Some(s) = o.opt_str("subset")? {
            d.subset = Some(in_call(o, Subset::parse(&s))?);
        }
        if let Some(i) = o.opt_str("interpolation")? {
            d.interpolation = in_call(o, Interpolation::parse(&i))?;
        }
        d.crop_to_aspect_ratio = o.bool("crop_to_aspect_ratio", d.crop_to_aspect_ratio)?;
        Ok(d)
    }
}

impl SubsetSpec {
    /// `train`, `validation`, `test`: `[start, end)` image numbers per class.
    pub fn from_options(o: &Options) -> Result<SubsetSpec> {
        let mut spec = SubsetSpec::default();
        for (key, range) in [("train", &mut spec.train), ("validation", &mut spec.validation), ("test", &mut spec.test)] {
            if let Some(v) = o.usize_list(key)? {
                if v.len() != 2 || v[0] > v[1] {
                    bail!("{}: split ranges are [start, end) image numbers, got {key} {v:?}", o.owner());
                }
                *range = v[0]..v[1];
            }
        }
        Ok(spec)
    }
}

impl PetsOptions {
    /// `image_size`, `interpolation`, `shuffle`, `seed` (Python's random, any size),
    /// `validation_count`, `limit`, `subtract_one`.
    pub fn from_options(o: &Options) -> Result<PetsOptions> {
        let d = PetsOptions::default();
        let image_interpolation = match o.opt_str("interpolation")? {
            Some(i) => in_call(o, Interpolation::parse(&i))?,
            None => d.image_interpolation,
        };
        Ok(PetsOptions {
            image_size: size(o, "image_size")?.unwrap_or(d.image_size),
            image_interpolation,
            shuffle: o.bool("shuffle", d.shuffle)?,
            seed: o.u64("seed")?.unwrap_or(d.seed),
            validation_count: o.usize_or("validation_count", d.validation_count)?,
            limit: o.usize("limit")?.or(d.limit),
            subtract_one: o.bool("subtract_one", d.subtract_one)?,
        })
    }
}

impl LoadOptions {
    /// `load_img`'s arguments: `color_mode`, `image_size` (or `size`), `interpolation`,
    /// `crop_to_aspect_ratio`.
    pub fn from_options(o: &Options) -> Result<LoadOptions> {
        let d = LoadOptions::default();
        let color_mode = match o.opt_str("color_mode")? {
            Some(c) => in_call(o, ColorMode::parse(&c))?,
            None => d.color_mode,
        };
        let interpolation = match o.opt_str("interpolation")? {
            Some(i) => in_call(o, Interpolation::parse(&i))?,
            None => d.interpolation,
        };
        let image_size = size(o, "image_size")?;
        Ok(LoadOptions {
            color_mode,
            size: image_size.or(size(o, "size")?).or(d.size),
            interpolation,
            crop_to_aspect_ratio: o.bool("crop_to_aspect_ratio", d.crop_to_aspect_ratio)?,
        })
    }
}

impl SplitSize {
    /// A number in (0, 1) is a fraction of the rows, any other a count; absent: none.
    pub fn from_option(o: &Options, key: &str) -> Result<SplitSize> {
        match o.opt_f64(key)? {
            None => Ok(SplitSize::Count(0)),
            Some(f) if f > 0.0 && f < 1.0 => Ok(SplitSize::Fraction(f)),
            Some(c) if c >= 0.0 && c.fract() == 0.0 => Ok(SplitSize::Count(c as usize)),
            Some(x) => bail!("{}: {key}: expected a fraction in (0, 1) or a row count, got {x}", o.owner()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn image_folder_options_both_spellings_and_null_label_mode() {
        let o = Options::new("imageDatasetFromArchive", &json!({"labelMode": null, "imageSize": 64, "validation_split": 0.2, "seed": 3, "subset": "both"})).unwrap();
        let f = ImageFolderOptions::from_options(&o, ImageFolderOptions::default()).unwrap();
        o.finish().unwrap();
        assert_eq!((f.label_mode, f.image_size, f.validation_split, f.seed, f.subset), (LabelMode::None, (64, 64), Some(0.2), Some(3), Some(Subset::Both)));
        let o = Options::new("imageDatasetFromArchive", &json!({"imageSise": [3, 4]})).unwrap();
        let f = ImageFolderOptions::from_options(&o, ImageFolderOptions::default()).unwrap();
        assert_eq!(f, ImageFolderOptions::default());
        assert_eq!(o.finish().unwrap_err().to_string(), "imageDatasetFromArchive: unrecognized keyword argument \"imageSise\" (did you mean \"imageSize\"?)");
        let o = Options::new("x", &json!({"seed": 4294967296u64})).unwrap();
        assert!(ImageFolderOptions::from_options(&o, ImageFolderOptions::default()).unwrap_err().to_string().contains("seed must be an integer between 0 and 2**32 - 1"));
        let o = Options::new("x", &json!({"label_mode": "bin"})).unwrap();
        assert!(ImageFolderOptions::from_options(&o, ImageFolderOptions::default()).unwrap_err().to_string().starts_with("x: label_mode must be"));
    }

    #[test]
    fn ranges_pets_images_and_split_sizes() {
        let o = Options::new("dogsVsCatsSubset", &json!({"train": [0, 3], "test": [4, 6]})).unwrap();
        let s = SubsetSpec::from_options(&o).unwrap();
        assert_eq!((s.train, s.validation, s.test), (0..3, 1000..1500, 4..6));
        let o = Options::new("dogsVsCatsSubset", &json!({"train": [3, 0]})).unwrap();
        assert!(SubsetSpec::from_options(&o).unwrap_err().to_string().contains("[start, end)"));

        let o = Options::new("petsSegmentation", &json!({"imageSize": [20, 30], "seed": 9007199254740991u64, "limit": 8})).unwrap();
        let p = PetsOptions::from_options(&o).unwrap();
        o.finish().unwrap();
        assert_eq!((p.image_size, p.seed, p.limit, p.validation_count), ((20, 30), 9007199254740991, Some(8), 1000));

        let o = Options::new("decodeImage", &json!({"size": [5, 6], "colorMode": "grayscale"})).unwrap();
        let l = LoadOptions::from_options(&o).unwrap();
        o.finish().unwrap();
        assert_eq!((l.size, l.color_mode), (Some((5, 6)), ColorMode::Grayscale));

        let o = Options::new("trainValTestSplit", &json!({"validation": 0.25, "test": 10, "shuffle": false})).unwrap();
        assert_eq!(SplitSize::from_option(&o, "validation").unwrap(), SplitSize::Fraction(0.25));
        assert_eq!(SplitSize::from_option(&o, "test").unwrap(), SplitSize::Count(10));
        let o = Options::new("trainValTestSplit", &json!({"test": 2.5})).unwrap();
        assert!(SplitSize::from_option(&o, "test").unwrap_err().to_string().contains("expected a fraction in (0, 1) or a row count"));
    }
}
