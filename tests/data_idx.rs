//! IDX loaders (MNIST / Fashion-MNIST), dataset sources, seeded splits and the
//! Python-compatible shuffles.

use std::io::Write;

use convbook::data::idx::{
    self, encode_idx_images, encode_idx_labels, load_idx_pair, load_idx_quartet, parse_idx_images,
};
use convbook::data::rng::{numpy_permutation, python_shuffle};
use convbook::data::sources;
use convbook::data::split::{split_off_last, train_val_test_split, Labeled, SplitSize};
use convbook::{CpuData, Device, Tensor};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn u8s(t: &Tensor) -> Vec<u8> {
    match t.cpu_data().unwrap() {
        CpuData::U8(v) => v.clone(),
        other => panic!("expected uint8, got {:?}", other.dtype()),
    }
}

/// n images of 3x2 whose pixels are (image index * 10 + pixel index), labels n % 10.
fn sample(n: usize) -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..n).flat_map(|i| (0..6).map(move |p| (i * 10 + p) as u8)).collect();
    let images = encode_idx_images(&pixels, n, 3, 2).unwrap();
    let labels = encode_idx_labels(&(0..n).map(|i| (i % 10) as u8).collect::<Vec<_>>());
    (images, labels)
}

#[test]
fn plain_and_gzip_idx_give_the_same_tensors() {
    let (images, labels) = sample(4);
    let plain = load_idx_pair(("imgs", &images), ("lbls", &labels)).unwrap();
    let gz_images = gzip(&images);
    let gz_labels = gzip(&labels);
    let gz = load_idx_pair(("imgs.gz", &gz_images), ("lbls.gz", &gz_labels)).unwrap();
    assert_eq!(plain.images.shape(), &[4, 3, 2, 1]);
    assert_eq!(plain.labels.shape(), &[4]);
    assert_eq!(plain.images.dtype(), convbook::DType::U8);
    assert_eq!(u8s(&plain.images), u8s(&gz.images));
    assert_eq!(u8s(&plain.labels), vec![0, 1, 2, 3]);
    // Row-major: image 2, row 1, column 0 is pixel index 2.
    assert_eq!(u8s(&plain.images)[2 * 6 + 2], 22);
}

#[test]
fn quartet_is_load_data() {
    let (tri, trl) = sample(5);
    let (tei, tel) = sample(2);
    let (train, test) = load_idx_quartet([
        ("train-images-idx3-ubyte.gz", &gzip(&tri)),
        ("train-labels-idx1-ubyte.gz", &trl),
        ("t10k-images-idx3-ubyte.gz", &tei),
        ("t10k-labels-idx1-ubyte.gz", &gzip(&tel)),
    ])
    .unwrap();
    assert_eq!(train.images.shape(), &[5, 3, 2, 1]);
    assert_eq!(test.labels.shape(), &[2]);
    assert_eq!(idx::MNIST_FILES[0], "train-images-idx3-ubyte.gz");
}

#[test]
fn bad_idx_files_say_what_is_wrong() {
    let (images, labels) = sample(3);
    // Truncated gzip.
    let gz = gzip(&images);
    let err = parse_idx_images(&gz[..gz.len() / 2], "train-images-idx3-ubyte.gz").unwrap_err();
    assert!(
        err.message().contains("train-images-idx3-ubyte.gz: truncated gzip"),
        "{err}"
    );
    // Labels given as images: wrong magic.
    let err = parse_idx_images(&labels, "t10k-labels-idx1-ubyte").unwrap_err();
    assert!(
        err.message()
            .contains("wrong magic 0x00000801 (expected 0x00000803, an IDX image file"),
        "{err}"
    );
    assert!(err.message().contains("label file"), "{err}");
    let err = idx::parse_idx_labels(&images, "lbl").unwrap_err();
    assert!(
        err.message()
            .contains("wrong magic 0x00000803 (expected 0x00000801, an IDX label file"),
        "{err}"
    );
    let err = parse_idx_images(b"<!DOCTYPE html><html>", "page.html").unwrap_err();
    assert!(err.message().contains("page.html: wrong magic 0x3c21444f"), "{err}");
    // Shorter than the header says.
    let err = parse_idx_images(&images[..images.len() - 5], "short").unwrap_err();
    assert!(
        err.message()
            .contains("short: file is shorter than its header says: 3 x 3 x 2 = 18 bytes"),
        "{err}"
    );
    let err = parse_idx_images(&images[..10], "stub").unwrap_err();
    assert!(
        err.message().contains("shorter than the 16-byte IDX image header"),
        "{err}"
    );
    // Count mismatch between the two files.
    let (_, labels4) = sample(4);
    let err = load_idx_pair(("a-images", &images), ("b-labels", &labels4)).unwrap_err();
    assert!(
        err.message()
            .contains("image/label count mismatch: a-images has 3 images but b-labels has 4 labels"),
        "{err}"
    );
    // Nothing after the gzip magic.
    let err = parse_idx_images(&[0x1f, 0x8b], "tiny.gz").unwrap_err();
    assert!(err.message().contains("tiny.gz: truncated gzip"), "{err}");
    // A corrupt gzip body (not truncated).
    let mut bad = gzip(&images);
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    bad[mid + 1] ^= 0xff;
    assert!(parse_idx_images(&bad, "bad.gz")
        .unwrap_err()
        .message()
        .contains("bad.gz: "));
}

#[test]
fn fashion_mnist_from_debian_if_installed() {
    let dir = std::path::Path::new("/usr/share/datasets/fashion-mnist");
    if !dir.join("t10k-images-idx3-ubyte.gz").exists() {
        println!("note: Debian's dataset-fashion-mnist is not installed; skipping the real-file check");
        return;
    }
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let files: Vec<Vec<u8>> = idx::MNIST_FILES.iter().map(|n| read(n)).collect();
    // The sizes match what sources.rs records for the official files, which carry the
    // original file name in their gzip header (Debian's copies are stored without it).
    for (f, bytes) in sources::FASHION_MNIST.files.iter().zip(&files) {
        let name_field = if bytes[3] & 0x08 == 0 {
            f.path.trim_end_matches(".gz").len() as u64 + 1
        } else {
            0
        };
        assert_eq!(Some(bytes.len() as u64 + name_field), f.bytes, "{}", f.path);
    }
    let (train, test) = load_idx_quartet([
        (idx::MNIST_FILES[0], &files[0]),
        (idx::MNIST_FILES[1], &files[1]),
        (idx::MNIST_FILES[2], &files[2]),
        (idx::MNIST_FILES[3], &files[3]),
    ])
    .unwrap();
    assert_eq!(train.images.shape(), &[60000, 28, 28, 1]);
    assert_eq!(train.labels.shape(), &[60000]);
    assert_eq!(test.images.shape(), &[10000, 28, 28, 1]);
    let labels = u8s(&test.labels);
    // Fashion-MNIST's first test items: ankle boot, pullover, trouser, trouser, shirt.
    assert_eq!(&labels[..5], &[9, 2, 1, 1, 6]);
    let mut counts = [0usize; 10];
    labels.iter().for_each(|&l| counts[l as usize] += 1);
    assert_eq!(counts, [1000; 10]);
}

#[test]
fn sources_join_urls_and_take_overrides() {
    let mnist = sources::source("mnist").unwrap();
    let urls = mnist.urls(None).unwrap();
    assert_eq!(urls.len(), 4);
    assert_eq!(
        urls[0].url,
        format!("{}train-images-idx3-ubyte.gz", sources::MNIST_BASE_URL)
    );
    let mirror = mnist.urls(Some("http://127.0.0.1:8080/data/mnist")).unwrap();
    assert_eq!(
        mirror[3].url,
        "http://127.0.0.1:8080/data/mnist/t10k-labels-idx1-ubyte.gz"
    );
    let pets = sources::OXFORD_PETS.urls(None).unwrap();
    assert!(pets[0].url.ends_with("/pets/data/images.tar.gz") && pets[1].url.ends_with("/annotations.tar.gz"));
    let err = sources::DOGS_VS_CATS.urls(None).unwrap_err();
    assert!(err.message().contains("no public URL"), "{err}");
    assert!(sources::source("cifar")
        .unwrap_err()
        .message()
        .contains("unknown dataset \"cifar\""));
}

fn ramp(n: usize) -> Labeled {
    let x = Tensor::from_u8(&Device::Cpu, (0..n * 2).map(|v| v as u8).collect(), &[n, 2]).unwrap();
    let y = Tensor::from_u8(&Device::Cpu, (0..n).map(|v| v as u8).collect(), &[n]).unwrap();
    Labeled::new(x, y).unwrap()
}

#[test]
fn splits_are_seeded_disjoint_and_keep_uint8() {
    let data = ramp(100);
    let (tr, va, te) = train_val_test_split(&data, SplitSize::Fraction(0.2), SplitSize::Count(10), true, 42).unwrap();
    assert_eq!((tr.len(), va.len(), te.len()), (70, 20, 10));
    assert_eq!(tr.images.dtype(), convbook::DType::U8);
    let mut all: Vec<u8> = [&tr, &va, &te].iter().flat_map(|s| u8s(&s.labels)).collect();
    // Rows stay paired: image row i holds 2i, 2i+1 for label i.
    let x = u8s(&va.images);
    for (r, &l) in u8s(&va.labels).iter().enumerate() {
        assert_eq!((x[2 * r], x[2 * r + 1]), (2 * l, 2 * l + 1));
    }
    all.sort();
    assert_eq!(all, (0..100).map(|v| v as u8).collect::<Vec<_>>());
    // NumPy's RandomState(42).permutation(100) order.
    let perm = numpy_permutation(100, 42);
    assert_eq!(u8s(&tr.labels), perm[..70].iter().map(|&v| v as u8).collect::<Vec<_>>());
    let again = train_val_test_split(&data, SplitSize::Fraction(0.2), SplitSize::Count(10), true, 42).unwrap();
    assert_eq!(u8s(&again.1.labels), u8s(&va.labels));
    let other = train_val_test_split(&data, SplitSize::Fraction(0.2), SplitSize::Count(10), true, 7).unwrap();
    assert_ne!(u8s(&other.1.labels), u8s(&va.labels));
    let (a, b) = split_off_last(&data, 30).unwrap();
    assert_eq!((a.len(), b.len()), (70, 30));
    assert_eq!(u8s(&b.labels)[0], 70);
    assert!(
        train_val_test_split(&data, SplitSize::Count(60), SplitSize::Count(50), false, 0)
            .unwrap_err()
            .message()
            .contains("exceed the 100 rows")
    );
    let y = Tensor::from_u8(&Device::Cpu, vec![0; 3], &[3]).unwrap();
    assert!(Labeled::new(data.images.clone(), y)
        .unwrap_err()
        .message()
        .contains("100 images but 3 labels"));
}

#[test]
fn shuffles_match_python() {
    // Values printed by CPython 3: random.Random(seed).shuffle(list(range(n))).
    let cases: [(u64, Vec<usize>); 3] = [
        (
            1337,
            vec![
                13, 8, 2, 0, 23, 9, 7, 16, 1, 24, 3, 15, 6, 4, 14, 21, 12, 10, 5, 20, 18, 11, 22, 17, 19,
            ],
        ),
        ((1 << 40) + 5, vec![3, 5, 2, 9, 6, 7, 1, 10, 0, 4, 11, 8]),
        (0, vec![4, 2, 1, 0, 5, 3, 6]),
    ];
    for (seed, want) in cases {
        let mut v: Vec<usize> = (0..want.len()).collect();
        python_shuffle(&mut v, seed);
        assert_eq!(v, want, "seed {seed}");
    }
    assert_eq!(numpy_permutation(10, 42), vec![8, 1, 5, 0, 7, 2, 9, 4, 3, 6]);
}
