//! The loaders on the real files of the embedded demo data (`www/data`, described by its
//! `manifest.json`): Fashion-MNIST IDX subsets, the boots-vs-sneakers image folders in a
//! zip, and real JPEG photos. Skipped, with a note, where the files are absent.

use std::io::Cursor;
use std::path::PathBuf;

use convbook::data::archive::ZipSource;
use convbook::data::idx::load_idx_quartet;
use convbook::data::image_folder::{image_dataset_from_archive, ImageFolderOptions};
use convbook::data::images::{decode_image, load_image, ColorMode, LoadOptions};
use convbook::CpuData;

fn data_dir() -> Option<(PathBuf, serde_json::Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("www/data");
    let Ok(text) = std::fs::read_to_string(dir.join("manifest.json")) else {
        println!("note: www/data/manifest.json is absent; skipping the demo-file checks");
        return None;
    };
    Some((dir, serde_json::from_str(&text).unwrap()))
}

fn entries<'a>(manifest: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

#[test]
fn fashion_mnist_subset_idx() {
    let Some((dir, manifest)) = data_dir() else { return };
    let idx = entries(&manifest, "idx");
    let find = |name: &str| {
        idx.iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .copied()
    };
    let names = [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ];
    let Some(files) = names.iter().map(|n| find(n)).collect::<Option<Vec<_>>>() else {
        println!("note: the manifest lists no Fashion-MNIST IDX quartet; skipping");
        return;
    };
    let bytes: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(dir.join(f["path"].as_str().unwrap())).unwrap())
        .collect();
    let (train, test) = load_idx_quartet([
        (names[0], &bytes[0]),
        (names[1], &bytes[1]),
        (names[2], &bytes[2]),
        (names[3], &bytes[3]),
    ])
    .unwrap();
    let n_train = files[0]["count"].as_u64().unwrap() as usize;
    let n_test = files[2]["count"].as_u64().unwrap() as usize;
    assert_eq!(train.images.shape(), &[n_train, 28, 28, 1]);
    assert_eq!(test.labels.shape(), &[n_test]);
    if let Some(counts) = files[1]["class_counts"].as_array() {
        let CpuData::U8(labels) = train.labels.cpu_data().unwrap() else {
            panic!("uint8 labels")
        };
        for (class, want) in counts.iter().enumerate() {
            let got = labels.iter().filter(|&&l| l as usize == class).count();
            assert_eq!(got as u64, want.as_u64().unwrap(), "class {class}");
        }
    }
}

#[test]
fn boots_vs_sneakers_image_folders_in_a_zip() {
    let Some((dir, manifest)) = data_dir() else { return };
    let Some(entry) = entries(&manifest, "zip-image-folder").into_iter().next() else {
        println!("note: the manifest lists no zipped image folder; skipping");
        return;
    };
    let bytes = std::fs::read(dir.join(entry["path"].as_str().unwrap())).unwrap();
    let root = entry["root"].as_str().unwrap();
    let mut zip = ZipSource::new(Cursor::new(&bytes), entry["path"].as_str().unwrap()).unwrap();
    for (split, per_class) in entry["splits"].as_object().unwrap() {
        let opts = ImageFolderOptions {
            directory: format!("{root}/{split}"),
            color_mode: ColorMode::Grayscale,
            image_size: (28, 28),
            shuffle: false,
            ..ImageFolderOptions::default()
        };
        let d = image_dataset_from_archive(&mut zip, &opts).unwrap();
        let n = 2 * per_class.as_u64().unwrap() as usize;
        assert_eq!(d.images.shape(), &[n, 28, 28, 1], "{split}");
        assert_eq!(d.class_names.len(), 2, "{split}");
        assert_eq!(d.messages[0], format!("Found {n} files belonging to 2 classes."));
        let CpuData::U8(labels) = d.labels.as_ref().unwrap().cpu_data().unwrap() else {
            panic!("uint8 labels")
        };
        assert_eq!(labels.iter().filter(|&&l| l == 1).count(), n / 2, "{split}");
    }
}

#[test]
fn real_jpeg_photos_decode() {
    let Some((dir, manifest)) = data_dir() else { return };
    for photo in entries(&manifest, "photo") {
        let path = photo["path"].as_str().unwrap();
        let bytes = std::fs::read(dir.join(path)).unwrap();
        let img = decode_image(&bytes, path, ColorMode::Rgb).unwrap();
        assert_eq!(
            (img.width as u64, img.height as u64),
            (photo["width"].as_u64().unwrap(), photo["height"].as_u64().unwrap())
        );
        let small = load_image(
            &bytes,
            path,
            &LoadOptions {
                size: Some((180, 180)),
                ..LoadOptions::default()
            },
        )
        .unwrap();
        assert_eq!(small.data.len(), 180 * 180 * 3);
        // Cut short, the same photo is refused by name.
        let err = decode_image(&bytes[..bytes.len() * 2 / 3], path, ColorMode::Rgb).unwrap_err();
        assert!(err.message().starts_with(&format!("{path}: truncated JPEG")), "{err}");
    }
}
