//! Every parser of files from outside, fuzzed from valid seeds (see fuzz/harness.rs):
//! TF.js model.json + shards, Keras .keras/.h5 (HDF5), .npy/.npz, IDX, CSV digits,
//! zip/tar/tar.gz, JPEG/PNG.
//! Each must return Ok or Err: no panic, no allocation past the cap, no runaway time.
//! The default run is short and deterministic; `cargo xtask fuzz --seconds N` runs long.

mod fuzz;

use std::io::Write;

use convbook::data::archive::{open_bytes, FileSet};
use convbook::data::csv_digits::{parse_csv_digits, LabelColumn};
use convbook::data::idx::{encode_idx_images, encode_idx_labels, parse_idx_images, parse_idx_labels};
use convbook::data::images::{decode_image, encode_png, ColorMode, Image};
use convbook::io::npy::{read_npy, read_npz};
use convbook::io::tfjs::TfjsModel;
use fuzz::harness::{fuzz, CountingAlloc, Plan};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// Mutated cases per target in the default run (each target adds its seeds).
const CASES: usize = 20_000;

fn assert_clean(report: fuzz::harness::Report) {
    assert!(
        report.findings.is_empty(),
        "fuzz {}: {} of {} inputs failed:\n{}",
        report.target,
        report.findings.len(),
        report.tried,
        report.findings.join("\n")
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// model.json and its shards travel as one input, joined by this marker, so mutations
/// reach the manifest and the data alike.
const SHARD_MARK: &[u8] = b"\0--shard--\0";

fn split_marked(input: &[u8]) -> Vec<&[u8]> {
    let mut parts = vec![];
    let mut rest = input;
    while let Some(at) = rest.windows(SHARD_MARK.len()).position(|w| w == SHARD_MARK) {
        parts.push(&rest[..at]);
        rest = &rest[at + SHARD_MARK.len()..];
    }
    parts.push(rest);
    parts
}

#[test]
fn fuzz_tfjs_model_json_and_shards() {
    let mut seeds = vec![];
    for model in ["sequential", "functional", "functional_quantized", "nested"] {
        let dir = format!("{ROOT}/tests/fixtures/io/keras3/{model}");
        let json = std::fs::read_to_string(format!("{dir}/model.json")).unwrap();
        let mut seed = json.clone().into_bytes();
        for path in TfjsModel::shard_paths(&json).unwrap() {
            seed.extend_from_slice(SHARD_MARK);
            seed.extend(std::fs::read(format!("{dir}/{path}")).unwrap());
        }
        seeds.push(seed);
    }
    assert_clean(fuzz("tfjs", &seeds, &Plan::from_env(CASES), |input| {
        let parts = split_marked(input);
        let json = String::from_utf8_lossy(parts[0]);
        let mut next = 1;
        TfjsModel::from_parts(&json, |path| {
            let shard = parts.get(next).map(|s| s.to_vec());
            next += 1;
            shard.ok_or_else(|| convbook::Error::new(format!("no shard {path}")))
        })
    }));
}

/// Keras files: a whole model from `.keras`/`.h5`, and weights into a fixed architecture
/// (so mutated weight files reach the weight readers, not only the config).
#[test]
fn fuzz_keras_files() {
    let dir = format!("{ROOT}/tests/fixtures/keras_files");
    let names = ["small.keras", "small.h5", "small.weights.h5", "small_legacy.weights.h5", "huge.weights.h5"];
    let seeds: Vec<Vec<u8>> = names.iter().map(|n| std::fs::read(format!("{dir}/{n}")).unwrap()).collect();
    let architecture = convbook::nn::Model::from_keras_bytes(&seeds[0], "small.keras").unwrap();
    assert_clean(fuzz("keras_files", &seeds, &Plan::from_env(CASES), |input| {
        let model = convbook::nn::Model::from_keras_bytes(input, "fuzz.keras").map(|_| ());
        model.or_else(|_| architecture.load_weights_bytes(input, "fuzz.h5"))
    }));
}

#[test]
fn fuzz_npy_and_npz() {
    let dir = format!("{ROOT}/tests/fixtures/io/npy");
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    let seeds: Vec<Vec<u8>> = names
        .iter()
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("npy" | "npz")))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert!(seeds.len() > 10, "npy seeds missing from {dir}");
    assert_clean(fuzz("npy", &seeds, &Plan::from_env(CASES), |input| {
        if input.starts_with(b"PK") {
            read_npz(input).map(|_| ())
        } else {
            read_npy(input).map(|_| ())
        }
    }));
}

#[test]
fn fuzz_idx() {
    let pixels: Vec<u8> = (0..3 * 4 * 5).map(|i| (i * 37 % 256) as u8).collect();
    let images = encode_idx_images(&pixels, 3, 4, 5).unwrap();
    let labels = encode_idx_labels(&[1, 7, 3]);
    let real_labels = std::fs::read(format!("{ROOT}/www/data/fashion-mnist/t10k-labels-idx1-ubyte.gz")).unwrap();
    let seeds = vec![gzip(&images), images, gzip(&labels), labels, real_labels];
    assert_clean(fuzz("idx", &seeds, &Plan::from_env(CASES), |input| {
        let images = parse_idx_images(input, "fuzz-images");
        let labels = parse_idx_labels(input, "fuzz-labels");
        images.map(|_| ()).or(labels.map(|_| ()))
    }));
}

#[test]
fn fuzz_csv_digits() {
    let small = b"0,255,3,4,7\n1,2,3,4,9\n12, 0 ,0,0,1\n".to_vec();
    let seeds = vec![gzip(&small), small];
    assert_clean(fuzz("csv_digits", &seeds, &Plan::from_env(CASES), |input| {
        let first = parse_csv_digits(input, 2, 2, LabelColumn::Last, "fuzz.csv");
        let last = parse_csv_digits(input, 1, 4, LabelColumn::First, "fuzz.csv");
        first.map(|_| ()).or(last.map(|_| ()))
    }));
}

fn tiny_png(h: usize, w: usize, c: usize) -> Vec<u8> {
    let data = (0..h * w * c).map(|i| (i * 29 % 256) as u8).collect();
    encode_png(&Image::new(h, w, c, data).unwrap()).unwrap()
}

fn tiny_jpeg() -> Vec<u8> {
    let rgb: Vec<u8> = (0..16 * 12 * 3).map(|i| (i * 13 % 256) as u8).collect();
    let mut out = vec![];
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode(&rgb, 16, 12, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

#[test]
fn fuzz_archives() {
    let files = [("cats/a.png", tiny_png(2, 3, 3)), ("dogs/b.txt", b"hello dogs".repeat(20))];
    let mut seeds = vec![];
    for method in [zip::CompressionMethod::Stored, zip::CompressionMethod::Deflated] {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        for (path, bytes) in &files {
            zip.start_file(*path, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        seeds.push(zip.finish().unwrap().into_inner());
    }
    let mut tar = tar::Builder::new(Vec::new());
    for (path, bytes) in &files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, path, &bytes[..]).unwrap();
    }
    let tar = tar.into_inner().unwrap();
    seeds.push(gzip(&tar));
    seeds.push(tar);
    assert_clean(fuzz("archives", &seeds, &Plan::from_env(CASES), |input| {
        let mut archive = open_bytes(input, "fuzz.archive")?;
        archive.list()?;
        FileSet::from_bytes(input, "fuzz.archive", |_| true).map(|_| ())
    }));
}

#[test]
fn fuzz_images() {
    let seeds = vec![tiny_png(5, 7, 3), tiny_png(4, 4, 1), tiny_png(3, 2, 4), tiny_jpeg()];
    assert_clean(fuzz("images", &seeds, &Plan::from_env(CASES), |input| {
        decode_image(input, "fuzz.img", ColorMode::Rgb).map(|_| ())
    }));
}

/// The guards themselves: a parser that panics, allocates past the cap or hangs is a finding.
#[test]
fn harness_reports_panics_allocations_and_slowness() {
    let seeds = vec![b"abc".to_vec()];
    let plan = Plan { seed: 1, cases: 3, seconds: None };
    let panics = fuzz("meta-panic", &seeds, &plan, |input| -> convbook::Result<()> {
        assert!(input.len() < 3, "boom");
        Ok(())
    });
    assert!(panics.findings.iter().any(|f| f.contains("panicked: boom")), "{:?}", panics.findings);
    let greedy = fuzz("meta-alloc", &seeds, &plan, |_| -> convbook::Result<usize> {
        Ok(std::hint::black_box(vec![1u8; fuzz::harness::PEAK_CAP + 1]).len())
    });
    assert_eq!(greedy.findings.len(), greedy.tried, "{:?}", greedy.findings);
    let slow_plan = Plan { seed: 1, cases: 0, seconds: None };
    let slow = fuzz("meta-slow", &seeds, &slow_plan, |_| -> convbook::Result<()> {
        std::thread::sleep(fuzz::harness::CASE_TIME + std::time::Duration::from_millis(50));
        Ok(())
    });
    assert!(slow.findings[0].contains("took"), "{:?}", slow.findings);
}

/// Sizes declared past the budget (16 MiB in this binary, set by `fuzz`) are refused
/// with a message naming them, before the memory is taken.
mod past_the_budget {
    use super::*;

    fn small_budget() {
        convbook::limits::set_byte_budget(fuzz::harness::BUDGET);
    }

    fn deflated_zip(path: &str, bytes: &[u8]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file(path, options).unwrap();
        zip.write_all(bytes).unwrap();
        zip.finish().unwrap().into_inner()
    }

    fn zeros_past_budget() -> Vec<u8> {
        vec![0u8; fuzz::harness::BUDGET + 4096]
    }

    #[test]
    fn npz_member_that_inflates_past_the_budget() {
        small_budget();
        let mut npy = convbook::io::npy::write_npy(&convbook::CpuData::U8(vec![]), &[0]).unwrap();
        npy.extend(zeros_past_budget());
        let bomb = deflated_zip("x.npy", &npy);
        assert!(bomb.len() < 100_000);
        let e = read_npz(&bomb).unwrap_err();
        assert!(e.message().contains("x.npy") && e.message().contains("more than the 16.0 MiB"), "{e}");
    }

    #[test]
    fn gzip_idx_and_csv_that_inflate_past_the_budget() {
        small_budget();
        let bomb = gzip(&zeros_past_budget());
        let e = parse_idx_images(&bomb, "train-images.gz").unwrap_err();
        assert!(e.message().starts_with("train-images.gz: gzip stream expands to more than the 16.0 MiB"), "{e}");
        let e = parse_csv_digits(&bomb, 28, 28, LabelColumn::Last, "digits.csv.gz").unwrap_err();
        assert!(e.message().contains("digits.csv.gz: gzip stream expands"), "{e}");
    }

    #[test]
    fn archive_entries_past_the_budget() {
        small_budget();
        let zip = deflated_zip("big/file.bin", &zeros_past_budget());
        let e = FileSet::from_bytes(&zip, "big.zip", |_| true).unwrap_err();
        assert!(e.message().contains("big.zip: big/file.bin declares"), "{e}");
        // A tar header declaring 1 GiB for an entry that is not there.
        let mut header = tar::Header::new_gnu();
        header.set_path("huge.bin").unwrap();
        header.set_size(1 << 30);
        header.set_mode(0o644);
        header.set_cksum();
        let mut tar = header.as_bytes().to_vec();
        tar.extend([0u8; 1024]);
        let e = FileSet::from_bytes(&gzip(&tar), "huge.tar.gz", |_| true).unwrap_err();
        assert!(e.message().contains("huge.tar.gz: huge.bin declares 1073741824 bytes"), "{e}");
    }

    /// A PNG whose header says 100000 x 100000 pixels: refused at the header.
    #[test]
    fn png_dimensions_past_the_budget() {
        small_budget();
        let mut ihdr = vec![];
        ihdr.extend(100_000u32.to_be_bytes());
        ihdr.extend(100_000u32.to_be_bytes());
        ihdr.extend([8, 2, 0, 0, 0]); // 8-bit RGB
        let mut idat = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        idat.write_all(&[0; 64]).unwrap();
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, data) in [(b"IHDR", ihdr), (b"IDAT", idat.finish().unwrap()), (b"IEND", vec![])] {
            png.extend((data.len() as u32).to_be_bytes());
            let mut crc = flate2::Crc::new();
            crc.update(kind);
            crc.update(&data);
            png.extend(kind);
            png.extend(data);
            png.extend(crc.sum().to_be_bytes());
        }
        let e = decode_image(&png, "huge.png", ColorMode::Rgb).unwrap_err();
        assert!(e.message().contains("huge.png: PNG image of 100000x100000 pixels, more than the 16.0 MiB"), "{e}");
    }

    /// A manifest declaring more than the shards hold, or shapes whose product overflows,
    /// is refused before any weight is decoded; so is one within its shards but past the budget.
    #[test]
    fn tfjs_manifest_past_the_shards_or_the_budget() {
        small_budget();
        let json = std::fs::read_to_string(format!("{ROOT}/tests/fixtures/io/keras3/sequential/model.json")).unwrap();
        let mut root: serde_json::Value = serde_json::from_str(&json).unwrap();
        root["weightsManifest"][0]["weights"] = serde_json::json!([{"name": "dense/kernel", "shape": [100000, 100000], "dtype": "float32"}]);
        let e = TfjsModel::from_parts(&root.to_string(), |_| Ok(vec![0; 64])).unwrap_err();
        assert!(e.message().contains("need 40000000000 bytes but the shard(s)") && e.message().contains("hold 64"), "{e}");
        weight_shape(&mut root, serde_json::json!([1u64 << 40, 1u64 << 40]));
        let e = TfjsModel::from_parts(&root.to_string(), |_| panic!("a shard was fetched")).unwrap_err();
        assert!(e.message().contains("is too large"), "{e}");
        let rows = fuzz::harness::BUDGET / 16 + 1;
        weight_shape(&mut root, serde_json::json!([rows, 4]));
        let e = TfjsModel::from_parts(&root.to_string(), |_| Ok(vec![0; rows * 16])).unwrap_err();
        assert!(e.message().contains("weights group 1") && e.message().contains("more than the 16.0 MiB"), "{e}");
    }

    fn weight_shape(root: &mut serde_json::Value, shape: serde_json::Value) {
        root["weightsManifest"][0]["weights"][0]["shape"] = shape;
    }
}
