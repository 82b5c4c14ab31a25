//! MNIST-style IDX files (MNIST, Fashion-MNIST, KMNIST...), plain or gzip-compressed:
//! images (magic 0x00000803: N, rows, cols of uint8) and labels (magic 0x00000801: N of
//! uint8). Images come out as uint8 (N, rows, cols, 1), labels as uint8 (N,).


use crate::data::split::Labeled;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::{bail, ensure, Device};

/// Magic number of an IDX file of uint8 images (3 dimensions).
pub(crate) const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of uint8 labels (1 dimension).
pub(crate) const LABELS_MAGIC: u32 = 0x0000_0801;

/// The standard file names, in `load_data` order: train images, train labels, test
/// images, test labels.
pub const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

/// Whether `bytes` start like a gzip stream (1f 8b).
pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Maps a gzip reading error to a message naming the file.
pub(crate) fn gzip_error(what: &str, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::OutOfMemory {
        Error::new(format!("{what}: gzip stream {e}"))
    } else if e.kind() == std::io::ErrorKind::UnexpectedEof {
        Error::new(format!(
            "{what}: truncated gzip stream (the file ends early; was the download cut off?)"
        ))
    } else {
        Error::new(format!("{what}: corrupt gzip stream ({e})"))
    }
}

/// The bytes themselves, or their gunzipped contents when they start with 1f 8b.
pub(crate) fn maybe_gunzip<'a>(bytes: &'a [u8], what: &str) -> Result<std::borrow::Cow<'a, [u8]>> {
    if !is_gzip(bytes) {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    // The trailer holds the uncompressed size mod 2^32: a capacity hint, no more.
    let hint = match bytes.len().checked_sub(4).map(|at| &bytes[at..]) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]) as u64,
        _ => 0,
    };
    let out = crate::limits::read_to_end_limited(flate2::read::GzDecoder::new(bytes), hint)
        .map_err(|e| gzip_error(what, e))?;
    Ok(std::borrow::Cow::Owned(out))
}

fn describe_magic(magic: u32) -> &'static str {
    match magic {
        IMAGES_MAGIC => "; this is an IDX image file",
        LABELS_MAGIC => "; this is an IDX label file",
        m if m >> 16 == 0 && (m >> 8) & 0xff != 0x08 => "; an IDX file of a type other than uint8",
        m if m >> 16 == 0 => "; an IDX uint8 file of another rank",
        _ => "",
    }
}

/// Header dimensions and the data after it, checking the magic and the size.
fn parse_idx<'a>(bytes: &'a [u8], what: &str, magic: u32, kind: &str) -> Result<(Vec<usize>, &'a [u8])> {
    ensure!(
        bytes.len() >= 4,
        "{what}: {} bytes is too short for an IDX {kind} file",
        bytes.len()
    );
    let found = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if found != magic {
        bail!(
            "{what}: wrong magic 0x{found:08x} (expected 0x{magic:08x}, an IDX {kind} file{})",
            describe_magic(found)
        );
    }
    let rank = (magic & 0xff) as usize;
    let header = 4 + 4 * rank;
    ensure!(
        bytes.len() >= header,
        "{what}: {} bytes is shorter than the {header}-byte IDX {kind} header",
        bytes.len()
    );
    let dims: Vec<usize> = (0..rank)
        .map(|i| {
            let o = 4 + 4 * i;
            u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
        })
        .collect();
    let expected = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let Some(expected) = expected else {
        bail!("{what}: header dimensions {dims:?} are too large");
    };
    let data = &bytes[header..];
    let shape = dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(" x ");
    if data.len() < expected {
        bail!(
            "{what}: file is shorter than its header says: {shape} = {expected} bytes expected after the {header}-byte header, found {}",
            data.len()
        );
    }
    ensure!(
        data.len() == expected,
        "{what}: file is longer than its header says: {shape} = {expected} bytes expected after the {header}-byte header, found {}",
        data.len()
    );
    Ok((dims, data))
}

/// An IDX image file (plain or gzip) as uint8 (N, rows, cols, 1).
pub fn parse_idx_images(bytes: &[u8], what: &str) -> Result<Tensor> {
    let bytes = maybe_gunzip(bytes, what)?;
    let (dims, data) = parse_idx(&bytes, what, IMAGES_MAGIC, "image")?;
    Tensor::from_u8(&Device::Cpu, data.to_vec(), &[dims[0], dims[1], dims[2], 1]).map_err(|e| e.context(what))
}

/// An IDX label file (plain or gzip) as uint8 (N,).
pub fn parse_idx_labels(bytes: &[u8], what: &str) -> Result<Tensor> {
    let bytes = maybe_gunzip(bytes, what)?;
    let (dims, data) = parse_idx(&bytes, what, LABELS_MAGIC, "label")?;
    Tensor::from_u8(&Device::Cpu, data.to_vec(), &[dims[0]]).map_err(|e| e.context(what))
}

/// One image file and its label file, checked to hold the same number of rows.
/// Each file is `(name, bytes)`; the name is only used in messages.
pub fn load_idx_pair(images: (&str, &[u8]), labels: (&str, &[u8])) -> Result<Labeled> {
    let x = parse_idx_images(images.1, images.0)?;
    let y = parse_idx_labels(labels.1, labels.0)?;
    ensure!(
        x.shape()[0] == y.shape()[0],
        "image/label count mismatch: {} has {} images but {} has {} labels",
        images.0,
        x.shape()[0],
        labels.0,
        y.shape()[0]
    );
    Ok(Labeled { images: x, labels: y })
}

/// `keras.datasets.mnist.load_data()` from the four files, given as `(name, bytes)` in
/// the order of [`MNIST_FILES`]: returns `(train, test)`.
pub fn load_idx_quartet(files: [(&str, &[u8]); 4]) -> Result<(Labeled, Labeled)> {
    let train = load_idx_pair(files[0], files[1])?;
    let test = load_idx_pair(files[2], files[3])?;
    let (tr, te) = (train.images.shape(), test.images.shape());
    ensure!(
        tr[1..] == te[1..],
        "train images ({}) are {}x{} but test images ({}) are {}x{}",
        files[0].0,
        tr[1],
        tr[2],
        files[2].0,
        te[1],
        te[2]
    );
    Ok((train, test))
}

/// An IDX image file in memory (plain IDX, not gzip): for tests and for writing subsets.
pub fn encode_idx_images(images: &[u8], n: usize, rows: usize, cols: usize) -> Result<Vec<u8>> {
    ensure!(
        images.len() == n * rows * cols,
        "encode_idx_images: {} bytes cannot be {n} images of {rows}x{cols}",
        images.len()
    );
    let mut out = Vec::with_capacity(16 + images.len());
    for v in [IMAGES_MAGIC, n as u32, rows as u32, cols as u32] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(images);
    Ok(out)
}

/// An IDX label file in memory (plain IDX, not gzip).
pub fn encode_idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + labels.len());
    out.extend_from_slice(&LABELS_MAGIC.to_be_bytes());
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}
