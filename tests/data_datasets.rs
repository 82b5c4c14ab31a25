//! Dataset loaders on archives made here: image_dataset_from_directory semantics,
//! the dogs-vs-cats subset (selection logic on a full 25,000-name listing, loading on
//! tiny images), and the Oxford pets pairing with trimaps.

use std::io::{Cursor, Write};

use convbook::data::archive::{Archive, FileSet, SeekTarSource, TarSource, ZipSource};
use convbook::data::dogs_vs_cats::{self, parse_name, subset_entries, SplitName, SubsetSpec};
use convbook::data::image_folder::{
    image_dataset_from_archive, image_datasets_from_archive, index_directory, ImageFolderOptions, LabelMode, Subset,
};
use convbook::data::images::{encode_png, resize, ColorMode, Image, Interpolation};
use convbook::data::pets::{pets_segmentation, PetsOptions};
use convbook::data::rng::{numpy_permutation, python_shuffle};
use convbook::{CpuData, Tensor};

fn u8s(t: &Tensor) -> Vec<u8> {
    match t.cpu_data().unwrap() {
        CpuData::U8(v) => v.clone(),
        other => panic!("expected uint8, got {:?}", other.dtype()),
    }
}

/// A solid-colour RGB PNG of 5x3 whose red channel is `id`: survives any resize.
fn solid(id: u8) -> Vec<u8> {
    encode_png(&Image::new(3, 5, 3, [id, 255 - id, 7].repeat(15)).unwrap()).unwrap()
}

fn solid_jpeg(id: u8) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(8, 8, image::Rgb([id, 255 - id, 7]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 100)
        .encode_image(&img)
        .unwrap();
    out
}

/// The red channel of each image's first pixel, i.e. the ids in row order.
fn ids(images: &Tensor) -> Vec<u8> {
    let row: usize = images.shape()[1..].iter().product();
    u8s(images).chunks(row).map(|r| r[0]).collect()
}

fn zip_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        w.start_file(
            name.as_str(),
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
        )
        .unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn tar_gz_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (name, bytes) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, bytes.as_slice()).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

fn owned(files: &[(&str, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    files.iter().map(|(n, b)| (n.to_string(), b.clone())).collect()
}

/// A flowers-like tree: classes daisy, roses, tulips (+ things Keras or we ignore).
fn flowers() -> Vec<(String, Vec<u8>)> {
    owned(&[
        ("flowers/tulips/b.png", solid(41)),
        ("flowers/tulips/a.jpg", solid_jpeg(40)),
        ("flowers/roses/x.PNG", solid(20)),
        ("flowers/roses/sub/y.png", solid(21)),
        ("flowers/roses/sub-2/w.png", solid(22)),
        ("flowers/daisy/.DS_Store", b"\0\0\0\x01Bud1".to_vec()),
        ("flowers/daisy/readme.txt", b"daisies".to_vec()),
        ("flowers/daisy/z.png", solid(10)),
        ("flowers/notes.txt", b"not a class".to_vec()),
        ("flowers/top.png", solid(99)),
        ("flowers/.hidden/h.png", solid(98)),
        ("__MACOSX/flowers/tulips/._a.jpg", b"AppleDouble".to_vec()),
    ])
}

/// Keras's order without shuffling: classes sorted; in a class, by directory then name.
const FLOWER_ORDER: [&str; 6] = [
    "flowers/daisy/z.png",
    "flowers/roses/x.PNG",
    "flowers/roses/sub/y.png",
    "flowers/roses/sub-2/w.png",
    "flowers/tulips/a.jpg",
    "flowers/tulips/b.png",
];

fn opts(directory: &str) -> ImageFolderOptions {
    ImageFolderOptions {
        directory: directory.into(),
        image_size: (4, 6),
        shuffle: false,
        ..ImageFolderOptions::default()
    }
}

fn close(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (*x as i32 - *y as i32).abs() <= 2)
}

#[test]
fn image_folder_indexes_like_keras() {
    let files = flowers();
    let zip = zip_of(&files);
    let mut z = ZipSource::new(Cursor::new(&zip), "flowers.zip").unwrap();
    let d = image_dataset_from_archive(&mut z, &opts("flowers")).unwrap();
    assert_eq!(d.class_names, vec!["daisy", "roses", "tulips"]);
    assert_eq!(d.file_paths, FLOWER_ORDER);
    assert_eq!(d.messages, vec!["Found 6 files belonging to 3 classes."]);
    assert_eq!(d.images.shape(), &[6, 4, 6, 3]);
    assert_eq!(d.images.dtype(), convbook::DType::U8);
    assert!(
        close(&ids(&d.images), &[10, 20, 21, 22, 40, 41]),
        "{:?}",
        ids(&d.images)
    );
    let labels = d.labels.as_ref().unwrap();
    assert_eq!(labels.shape(), &[6]);
    assert_eq!(u8s(labels), vec![0, 1, 1, 1, 2, 2]);

    // The same from a tar.gz stream (read in one pass) and from picked files.
    let tgz = tar_gz_of(&files);
    let from_tar =
        image_dataset_from_archive(&mut TarSource::new(tgz.as_slice(), "flowers.tgz"), &opts("flowers/")).unwrap();
    let mut picked = FileSet::new("picked", files.clone());
    let from_set = image_dataset_from_archive(&mut picked, &opts("./flowers")).unwrap();
    for other in [&from_tar, &from_set] {
        assert_eq!(other.file_paths, d.file_paths);
        assert_eq!(u8s(&other.images), u8s(&d.images));
        assert_eq!(u8s(other.labels.as_ref().unwrap()), u8s(labels));
    }
}

#[test]
fn image_folder_shuffles_and_splits_like_keras() {
    let files = flowers();
    let mut set = FileSet::new("flowers", files);
    let seeded = ImageFolderOptions {
        shuffle: true,
        seed: Some(123),
        ..opts("flowers")
    };
    let d = image_dataset_from_archive(&mut set, &seeded).unwrap();
    // np.random.RandomState(123).shuffle over Keras's sorted list.
    let perm = numpy_permutation(6, 123);
    let want: Vec<&str> = perm.iter().map(|&i| FLOWER_ORDER[i]).collect();
    assert_eq!(d.file_paths, want);
    let labels = u8s(d.labels.as_ref().unwrap());
    let class_of = |p: &str| {
        ["daisy", "roses", "tulips"]
            .iter()
            .position(|c| p.contains(&format!("/{c}/")))
            .unwrap() as u8
    };
    assert_eq!(labels, d.file_paths.iter().map(|p| class_of(p)).collect::<Vec<_>>());
    assert!(close(
        &ids(&d.images),
        &d.file_paths
            .iter()
            .map(|p| [10, 20, 21, 22, 40, 41][FLOWER_ORDER.iter().position(|q| q == p).unwrap()])
            .collect::<Vec<u8>>()
    ));

    // validation_split 0.4 of 6 files: int(2.4) = 2 for validation, the last two.
    let split = ImageFolderOptions {
        validation_split: Some(0.4),
        subset: Some(Subset::Training),
        ..seeded.clone()
    };
    let train = image_dataset_from_archive(&mut set, &split).unwrap();
    let val = image_dataset_from_archive(
        &mut set,
        &ImageFolderOptions {
            subset: Some(Subset::Validation),
            ..split.clone()
        },
    )
    .unwrap();
    assert_eq!(train.file_paths, want[..4]);
    assert_eq!(val.file_paths, want[4..]);
    assert_eq!(train.messages.last().unwrap(), "Using 4 files for training.");
    assert_eq!(val.messages.last().unwrap(), "Using 2 files for validation.");
    let (t2, v2) = image_datasets_from_archive(&mut set, &split).unwrap();
    assert_eq!(
        (t2.file_paths, v2.file_paths),
        (train.file_paths.clone(), val.file_paths.clone())
    );
    assert_eq!(u8s(&v2.images), u8s(&val.images));

    // Keras's argument checks.
    let no_seed = ImageFolderOptions {
        seed: None,
        ..split.clone()
    };
    let err = image_dataset_from_archive(&mut set, &no_seed).unwrap_err();
    assert!(
        err.message()
            .contains("with validation_split and shuffling, a seed is needed"),
        "{err}"
    );
    let no_subset = ImageFolderOptions {
        subset: None,
        ..split.clone()
    };
    assert!(image_dataset_from_archive(&mut set, &no_subset)
        .unwrap_err()
        .message()
        .contains("validation_split must be set, and inversely"));
    let bad = ImageFolderOptions {
        validation_split: Some(1.5),
        ..split
    };
    assert!(image_dataset_from_archive(&mut set, &bad)
        .unwrap_err()
        .message()
        .contains("between 0 and 1"));
}

#[test]
fn image_folder_label_modes_and_class_names() {
    let mut set = FileSet::new("flowers", flowers());
    let cat = image_dataset_from_archive(
        &mut set,
        &ImageFolderOptions {
            label_mode: LabelMode::Categorical,
            ..opts("flowers")
        },
    )
    .unwrap();
    let hot = cat.labels.unwrap();
    assert_eq!(hot.shape(), &[6, 3]);
    assert_eq!(&u8s(&hot)[..6], &[1, 0, 0, 0, 1, 0]);
    let err = image_dataset_from_archive(
        &mut set,
        &ImageFolderOptions {
            label_mode: LabelMode::Binary,
            ..opts("flowers")
        },
    )
    .unwrap_err();
    assert!(
        err.message()
            .contains("label_mode \"binary\" needs exactly 2 classes, found 3"),
        "{err}"
    );
    // Chosen classes, in the given order; binary labels are (N, 1).
    let two = ImageFolderOptions {
        class_names: Some(vec!["tulips".into(), "daisy".into()]),
        label_mode: LabelMode::Binary,
        color_mode: ColorMode::Grayscale,
        ..opts("flowers")
    };
    let d = image_dataset_from_archive(&mut set, &two).unwrap();
    assert_eq!(
        d.file_paths,
        vec!["flowers/tulips/a.jpg", "flowers/tulips/b.png", "flowers/daisy/z.png"]
    );
    assert_eq!(d.images.shape(), &[3, 4, 6, 1]);
    let y = d.labels.unwrap();
    assert_eq!((y.shape(), u8s(&y)), (&[3usize, 1][..], vec![0, 0, 1]));
    let err = image_dataset_from_archive(
        &mut set,
        &ImageFolderOptions {
            class_names: Some(vec!["lilies".into()]),
            ..opts("flowers")
        },
    )
    .unwrap_err();
    assert!(err.message().contains("\"lilies\" is not one"), "{err}");
    // No labels: every image under the directory, in (directory, name) order.
    let all = image_dataset_from_archive(
        &mut set,
        &ImageFolderOptions {
            label_mode: LabelMode::None,
            ..opts("flowers")
        },
    )
    .unwrap();
    assert!(all.labels.is_none());
    assert_eq!(all.messages, vec!["Found 7 files."]);
    assert_eq!(all.file_paths[0], "flowers/top.png");
}

#[test]
fn image_folder_errors_name_the_problem() {
    let mut files = flowers();
    let mut set = FileSet::new("flowers.zip", files.clone());
    let err = image_dataset_from_archive(&mut set, &opts("nope")).unwrap_err();
    assert!(
        err.message()
            .contains("flowers.zip: no directory \"nope\" (top-level entries: __MACOSX, flowers)"),
        "{err}"
    );
    let huge = ImageFolderOptions {
        image_size: (20000, 10),
        ..opts("flowers")
    };
    let err = image_dataset_from_archive(&mut set, &huge).unwrap_err();
    assert!(
        err.message()
            .contains("image_size must be between 1 and 16384 on each side, got (20000, 10)"),
        "{err}"
    );
    let err = image_dataset_from_archive(&mut set, &opts("flowers/daisy")).unwrap_err();
    assert!(
        err.message().contains("no images found in directory \"flowers/daisy\""),
        "{err}"
    );
    // One corrupt JPEG among the files: the error names the archive and the entry.
    let mut cut = solid_jpeg(3);
    cut.truncate(cut.len() - 40);
    files.push(("flowers/roses/broken.jpg".into(), cut));
    let zip = zip_of(&files);
    let err = image_dataset_from_archive(
        &mut ZipSource::new(Cursor::new(&zip), "flowers.zip").unwrap(),
        &opts("flowers"),
    )
    .unwrap_err();
    assert!(
        err.message()
            .starts_with("flowers.zip: flowers/roses/broken.jpg: truncated JPEG"),
        "{err}"
    );
    // .gif files are counted as left out rather than failing.
    files.pop();
    files.push(("flowers/roses/anim.gif".into(), b"GIF89a".to_vec()));
    let d = image_dataset_from_archive(&mut FileSet::new("f", files), &opts("flowers")).unwrap();
    assert_eq!(
        d.messages[1],
        "Left out 1 .bmp/.gif files: this build decodes JPEG and PNG only."
    );
}

fn kaggle_names() -> Vec<String> {
    let mut names = vec!["train/".to_string()];
    for i in 0..12500 {
        names.push(format!("train/cat.{i}.jpg"));
        names.push(format!("train/dog.{i}.jpg"));
    }
    names
}

#[test]
fn dogs_vs_cats_selection_on_the_full_listing() {
    let names = kaggle_names();
    assert_eq!(names.len(), 25001);
    let entries = subset_entries(&names, &SubsetSpec::default(), "train.zip").unwrap();
    assert_eq!(entries.len(), 5000);
    let count = |s: SplitName, c: &str| entries.iter().filter(|e| e.split == s && e.class_name == c).count();
    for c in ["cat", "dog"] {
        assert_eq!(
            (
                count(SplitName::Train, c),
                count(SplitName::Validation, c),
                count(SplitName::Test, c)
            ),
            (1000, 500, 1000)
        );
    }
    let first = &entries[0];
    assert_eq!(
        (first.entry.as_str(), first.target.as_str()),
        ("train/cat.0.jpg", "cats_vs_dogs_small/train/cat/cat.0.jpg")
    );
    let v = entries
        .iter()
        .find(|e| e.split == SplitName::Validation && e.class_name == "dog")
        .unwrap();
    assert_eq!((v.entry.as_str(), v.index), ("train/dog.1000.jpg", 1000));
    let last = entries.last().unwrap();
    assert_eq!(
        (last.entry.as_str(), last.target.as_str()),
        ("train/dog.2499.jpg", "cats_vs_dogs_small/test/dog/dog.2499.jpg")
    );
    assert!(entries.iter().all(|e| e.index < 2500));

    let mut missing = names.clone();
    missing.retain(|n| n != "train/dog.1234.jpg");
    let err = subset_entries(&missing, &SubsetSpec::default(), "train.zip").unwrap_err();
    assert!(
        err.message()
            .contains("train.zip: 1 images of the subset are missing (dog.1234.jpg)"),
        "{err}"
    );
    let err = subset_entries(
        &["train.zip", "test1.zip", "sampleSubmission.csv"],
        &SubsetSpec::default(),
        "dogs-vs-cats.zip",
    )
    .unwrap_err();
    assert!(
        err.message().contains("this archive contains train.zip: open that one"),
        "{err}"
    );
    let overlap = SubsetSpec {
        validation: 900..1500,
        ..SubsetSpec::default()
    };
    assert!(subset_entries(&names, &overlap, "t")
        .unwrap_err()
        .message()
        .contains("overlaps"));

    assert_eq!(parse_name("train/cat.0.jpg"), Some(("cat", 0)));
    assert_eq!(parse_name("dog.12499.jpg"), Some(("dog", 12499)));
    for bad in ["cat.01.jpg", "cat.jpg", "kitten.1.jpg", "cat.1.png", "cat.-1.jpg"] {
        assert_eq!(parse_name(bad), None, "{bad}");
    }
}

/// Kaggle-style names for cats and dogs 0..n, each image's red channel = number (+100 for dogs).
fn tiny_kaggle(n: usize) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for i in 0..n {
        files.push((format!("train/cat.{i}.jpg"), solid(i as u8)));
        files.push((format!("train/dog.{i}.jpg"), solid(100 + i as u8)));
    }
    files
}

#[test]
fn dogs_vs_cats_in_memory_from_zip_tar_and_layout() {
    let spec = SubsetSpec {
        train: 0..12,
        validation: 12..14,
        test: 14..17,
    };
    let mut files = tiny_kaggle(19);
    // Outside every split, and corrupt: never read.
    files.push(("train/cat.19.jpg".into(), b"\xff\xd8garbage".to_vec()));
    let zip = zip_of(&files);
    let opts = ImageFolderOptions {
        image_size: (2, 3),
        shuffle: false,
        ..dogs_vs_cats::book_options()
    };
    let d = dogs_vs_cats::dogs_vs_cats_subset(
        &mut ZipSource::new(Cursor::new(&zip), "train.zip").unwrap(),
        &spec,
        &opts,
    )
    .unwrap();
    assert_eq!(d.train.images.shape(), &[24, 2, 3, 3]);
    assert_eq!(d.validation.images.shape(), &[4, 2, 3, 3]);
    assert_eq!(d.test.images.shape(), &[6, 2, 3, 3]);
    assert_eq!(d.train.class_names, vec!["cat", "dog"]);
    // Keras's order within the split directory: file names sorted as strings.
    let cats: Vec<u8> = [0, 1, 10, 11, 2, 3, 4, 5, 6, 7, 8, 9].to_vec();
    let want: Vec<u8> = cats.iter().copied().chain(cats.iter().map(|c| c + 100)).collect();
    assert_eq!(ids(&d.train.images), want);
    assert_eq!(d.train.file_paths[2], "train/cat.10.jpg");
    assert_eq!(
        u8s(d.train.labels.as_ref().unwrap()),
        [vec![0u8; 12], vec![1u8; 12]].concat()
    );
    assert_eq!(ids(&d.test.images), vec![14, 15, 16, 114, 115, 116]);
    assert_eq!(
        d.validation.messages,
        vec!["validation:", "Found 4 files belonging to 2 classes."]
    );

    // The same from a tar.gz (one pass) and shuffled with a seed.
    let tgz = tar_gz_of(&files);
    let from_tar =
        dogs_vs_cats::dogs_vs_cats_subset(&mut TarSource::new(tgz.as_slice(), "train.tar.gz"), &spec, &opts).unwrap();
    assert_eq!(u8s(&from_tar.test.images), u8s(&d.test.images));
    let shuffled = ImageFolderOptions {
        shuffle: true,
        seed: Some(5),
        ..opts.clone()
    };
    let s = dogs_vs_cats::dogs_vs_cats_subset(
        &mut ZipSource::new(Cursor::new(&zip), "train.zip").unwrap(),
        &spec,
        &shuffled,
    )
    .unwrap();
    let perm = numpy_permutation(24, 5);
    assert_eq!(ids(&s.train.images), perm.iter().map(|&i| want[i]).collect::<Vec<_>>());

    // The book's layout, already made: through dogs_vs_cats_subset and image_folder.
    let entries = subset_entries(
        &files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        &spec,
        "train.zip",
    )
    .unwrap();
    let layout: Vec<(String, Vec<u8>)> = entries
        .iter()
        .map(|e| {
            (
                format!("mine/{}", e.target),
                files.iter().find(|(n, _)| n == &e.entry).unwrap().1.clone(),
            )
        })
        .collect();
    let mut set = FileSet::new("picked", layout);
    let l = dogs_vs_cats::dogs_vs_cats_subset(&mut set, &SubsetSpec::default(), &opts).unwrap();
    assert_eq!(ids(&l.train.images), want);
    assert_eq!(
        l.validation.file_paths[0],
        "mine/cats_vs_dogs_small/validation/cat/cat.12.jpg"
    );
    let v = image_dataset_from_archive(
        &mut set,
        &ImageFolderOptions {
            directory: "mine/cats_vs_dogs_small/test".into(),
            ..opts
        },
    )
    .unwrap();
    assert_eq!(ids(&v.images), vec![14, 15, 16, 114, 115, 116]);
    assert_eq!(v.messages, vec!["Found 6 files belonging to 2 classes."]);
}

/// A 4x4 trimap for pair k: values 1..=3 in a pattern that depends on k.
fn trimap(k: u8) -> Image {
    Image::new(4, 4, 1, (0..16u8).map(|i| 1 + (i + k) % 3).collect()).unwrap()
}

type Files = Vec<(String, Vec<u8>)>;

fn pets_archives(stems: &[&str]) -> (Files, Files) {
    let mut images = vec![
        ("images/Abyssinian_100.mat".to_string(), b"MATLAB".to_vec()),
        ("images/._Abyssinian_1.jpg".to_string(), b"AppleDouble".to_vec()),
    ];
    let mut annotations = vec![
        ("annotations/list.txt".to_string(), b"#".to_vec()),
        ("annotations/xmls/Abyssinian_1.xml".to_string(), b"<x/>".to_vec()),
        (
            "annotations/trimaps/._Abyssinian_1.png".to_string(),
            b"AppleDouble".to_vec(),
        ),
    ];
    for (k, s) in stems.iter().enumerate() {
        images.push((format!("images/{s}.jpg"), solid(10 * k as u8 + 5)));
        if !s.starts_with("no_trimap") {
            annotations.push((
                format!("annotations/trimaps/{s}.png"),
                encode_png(&trimap(k as u8)).unwrap(),
            ));
        }
    }
    (images, annotations)
}

#[test]
fn pets_pairs_trimaps_and_splits_like_the_book() {
    // Given out of order; sorted by name they are: Abyssinian_1, Abyssinian_10, Abyssinian_2,
    // beagle_3, beagle_4, boxer_1, pug_7 (and no_trimap_1, left out).
    let stems = [
        "pug_7",
        "Abyssinian_2",
        "beagle_4",
        "Abyssinian_10",
        "no_trimap_1",
        "boxer_1",
        "Abyssinian_1",
        "beagle_3",
    ];
    let (images, annotations) = pets_archives(&stems);
    let opts = PetsOptions {
        image_size: (3, 5),
        validation_count: 2,
        ..PetsOptions::default()
    };
    let img_tgz = tar_gz_of(&images);
    let ann_tgz = tar_gz_of(&annotations);
    let mut a = TarSource::new(img_tgz.as_slice(), "images.tar.gz");
    let mut b = TarSource::new(ann_tgz.as_slice(), "annotations.tar.gz");
    let p = pets_segmentation(&mut [&mut a as &mut dyn Archive, &mut b], &opts).unwrap();
    assert_eq!(p.messages[0], "Found 7 image/trimap pairs.");
    assert_eq!(
        p.messages[1],
        "Left out 1 images without a trimap and 0 trimaps without an image."
    );
    assert_eq!(p.messages[2], "Using 5 pairs for training and 2 for validation.");

    let mut sorted = vec![
        "Abyssinian_1",
        "Abyssinian_10",
        "Abyssinian_2",
        "beagle_3",
        "beagle_4",
        "boxer_1",
        "pug_7",
    ];
    python_shuffle(&mut sorted, 1337);
    let names: Vec<String> = p.train_names.iter().chain(&p.validation_names).cloned().collect();
    assert_eq!(names, sorted);
    assert_eq!(p.train.images.shape(), &[5, 3, 5, 3]);
    assert_eq!(p.train.labels.shape(), &[5, 3, 5, 1]);
    assert_eq!(p.validation.images.shape(), &[2, 3, 5, 3]);
    assert_eq!(p.validation.labels.shape(), &[2, 3, 5, 1]);

    // Each row holds its own pair: image colour and trimap pattern follow the stem.
    let k_of = |s: &str| stems.iter().position(|t| *t == s).unwrap() as u8;
    assert_eq!(
        ids(&p.train.images),
        p.train_names.iter().map(|s| 10 * k_of(s) + 5).collect::<Vec<_>>()
    );
    let targets = u8s(&p.validation.labels);
    for (r, s) in p.validation_names.iter().enumerate() {
        let want: Vec<u8> = resize(&trimap(k_of(s)), 3, 5, Interpolation::Nearest)
            .data
            .iter()
            .map(|v| v - 1)
            .collect();
        assert_eq!(&targets[r * 15..(r + 1) * 15], &want[..], "{s}");
    }
    assert!(u8s(&p.train.labels).iter().all(|v| *v <= 2));
    assert!(u8s(&p.train.labels).contains(&0) && u8s(&p.train.labels).contains(&2));

    // Picked folders (listable: only the needed files are decoded) give the same.
    let mut both = FileSet::new("oxford-pets", [images.clone(), annotations.clone()].concat());
    let q = pets_segmentation(&mut [&mut both as &mut dyn Archive], &opts).unwrap();
    assert_eq!(q.train_names, p.train_names);
    assert_eq!(u8s(&q.train.images), u8s(&p.train.images));
    assert_eq!(u8s(&q.validation.labels), u8s(&p.validation.labels));

    // Seekable tar.gz archives are listed first, then only the pairs are decoded.
    let mut a = SeekTarSource::new(Cursor::new(&img_tgz), "images.tar.gz");
    let mut b = SeekTarSource::new(Cursor::new(&ann_tgz), "annotations.tar.gz");
    let r = pets_segmentation(&mut [&mut a as &mut dyn Archive, &mut b], &opts).unwrap();
    assert_eq!(r.validation_names, p.validation_names);
    assert_eq!(u8s(&r.train.labels), u8s(&p.train.labels));

    // limit, no shuffle: the first pairs in sorted order.
    let small = PetsOptions {
        limit: Some(4),
        shuffle: false,
        validation_count: 1,
        ..opts.clone()
    };
    let s = pets_segmentation(
        &mut [&mut FileSet::new("p", [images.clone(), annotations.clone()].concat()) as &mut dyn Archive],
        &small,
    )
    .unwrap();
    assert_eq!(s.train_names, vec!["Abyssinian_1", "Abyssinian_10", "Abyssinian_2"]);
    assert_eq!(s.validation_names, vec!["beagle_3"]);
}

#[test]
fn pets_errors_name_the_file() {
    let (images, mut annotations) = pets_archives(&["a_1", "b_2", "c_3"]);
    let mut zero = trimap(0);
    zero.data[5] = 0;
    annotations.push(("annotations/trimaps/b_2.png".into(), encode_png(&zero).unwrap()));
    let opts = PetsOptions {
        image_size: (2, 2),
        validation_count: 1,
        ..PetsOptions::default()
    };
    let mut set = FileSet::new("annotations.tar.gz", [images.clone(), annotations].concat());
    let err = pets_segmentation(&mut [&mut set as &mut dyn Archive], &opts).unwrap_err();
    assert!(
        err.message().contains("annotations/trimaps/b_2.png: value 0 at row 1, column 1: a trimap holds 1 (pet), 2 (background) or 3 (outline)"),
        "{err}"
    );
    let mut only_images = FileSet::new("images.tar.gz", images);
    let err = pets_segmentation(&mut [&mut only_images as &mut dyn Archive], &opts).unwrap_err();
    assert!(
        err.message()
            .contains("images.tar.gz: no trimaps (annotations/trimaps/*.png) found"),
        "{err}"
    );
    let (images, annotations) = pets_archives(&["a_1", "b_2"]);
    let mut set = FileSet::new("p", [images, annotations].concat());
    let err = pets_segmentation(
        &mut [&mut set as &mut dyn Archive],
        &PetsOptions {
            validation_count: 2,
            ..opts
        },
    )
    .unwrap_err();
    assert!(
        err.message()
            .contains("validation_count 2 leaves no training pairs out of 2"),
        "{err}"
    );
}

#[test]
fn index_directory_alone_lists_without_decoding() {
    let names: Vec<String> = flowers().into_iter().map(|(n, _)| n).collect();
    let ix = index_directory(&names, "flowers", true, None, false, None, "flowers.zip").unwrap();
    assert_eq!(ix.file_paths, FLOWER_ORDER);
    assert_eq!(ix.labels, vec![0, 1, 1, 1, 2, 2]);
}
