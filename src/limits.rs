//! How much memory a file from outside may make the engine allocate.
//!
//! Model files, `.npy`/`.npz`, IDX, CSV, zip/tar entries and images all declare sizes in
//! their headers (or expand when decompressed). Readers compare what a header declares
//! with what the file holds and with one budget, [`byte_budget`], before allocating, so a
//! hostile or corrupt file gives an error naming the file and the sizes instead of an
//! out-of-memory abort or a dead browser tab.
//!
//! The budget applies to one object at a time: one array, one weight group, one
//! decompressed stream, one archive entry, one decoded image. It is 1 GiB by default
//! (a quarter of what a wasm32 instance can address at all) and can be changed with
//! [`set_byte_budget`] (the fuzz tests lower it to catch runaway allocations early).

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// The budget a program starts with: 1 GiB.
pub const DEFAULT_BYTE_BUDGET: usize = 1 << 30;

static BYTE_BUDGET: AtomicUsize = AtomicUsize::new(DEFAULT_BYTE_BUDGET);

/// The most bytes one object read from outside may occupy once decoded.
pub fn byte_budget() -> usize {
    BYTE_BUDGET.load(Ordering::Relaxed)
}

/// Changes the budget for the whole process (every later read uses it).
pub fn set_byte_budget(bytes: usize) {
    BYTE_BUDGET.store(bytes, Ordering::Relaxed);
}

/// Bytes in a human unit for messages ("1.5 GiB", "300 B").
pub fn fmt_bytes(bytes: usize) -> String {
    fmt_bytes_u64(bytes as u64)
}

/// [`fmt_bytes`] for sizes that may not fit a wasm32 `usize` (GPU buffers, file sizes).
pub fn fmt_bytes_u64(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Refuses `declared` bytes when they exceed the budget; `what` names the file and the
/// object ("train.npy: shape (100000, 100000) of float64").
pub fn check_budget(what: impl std::fmt::Display, declared: usize) -> Result<()> {
    let budget = byte_budget();
    if declared > budget {
        return Err(Error::new(format!(
            "{what} declares {declared} bytes ({}), more than the {} one file may load",
            fmt_bytes(declared),
            fmt_bytes(budget)
        )));
    }
    Ok(())
}

/// Refuses a file of `size` bytes that is about to be read whole into memory (a picked
/// or dropped `Blob`, whose size the browser reports before a byte is read); returns the
/// size as `usize` for reserving.
pub fn check_file_size(name: &str, size: u64) -> Result<usize> {
    let budget = byte_budget();
    match usize::try_from(size) {
        Ok(bytes) if bytes <= budget => Ok(bytes),
        _ => Err(Error::new(format!(
            "{name} is {size} bytes ({}), more than the {} one file may load",
            fmt_bytes_u64(size),
            fmt_bytes(budget)
        ))),
    }
}

/// `∏ dims × bytes_per_element` with checked arithmetic, `None` past `usize`.
pub fn checked_bytes(dims: &[usize], bytes_per_element: usize) -> Option<usize> {
    dims.iter().try_fold(bytes_per_element, |acc, &d| acc.checked_mul(d))
}

/// Reads a stream to its end (a decompressor, an archive entry), refusing it as soon as
/// it passes the budget. `size_hint` (a header's declared size) only reserves memory
/// when it is within the budget; the data decides the final size. Passing the budget is
/// an error of kind `OutOfMemory` whose message says so.
pub fn read_to_end_limited(reader: impl Read, size_hint: u64) -> std::io::Result<Vec<u8>> {
    let budget = byte_budget();
    let hint = usize::try_from(size_hint).unwrap_or(usize::MAX);
    // Reserve at most 64 MiB up front: a lying header should not cost memory either.
    let mut out = Vec::with_capacity(if hint <= budget { hint.min(64 << 20) } else { 0 });
    reader.take(budget as u64 + 1).read_to_end(&mut out)?;
    if out.len() > budget {
        return Err(std::io::Error::new(
            std::io::ErrorKind::OutOfMemory,
            format!(
            "expands to more than the {} one file may load",
                fmt_bytes(budget)
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_bytes_overflows_to_none() {
        assert_eq!(checked_bytes(&[2, 3], 4), Some(24));
        assert_eq!(checked_bytes(&[], 8), Some(8));
        assert_eq!(checked_bytes(&[usize::MAX, 2], 1), None);
    }

    #[test]
    fn budget_messages_name_sizes() {
        let e = check_budget("x.npy: shape (9,)", usize::MAX).unwrap_err();
        assert!(e.message().starts_with("x.npy: shape (9,) declares"), "{e}");
        assert!(e.message().contains("1.0 GiB"), "{e}");
        assert!(check_budget("ok", 10).is_ok());
        assert_eq!(fmt_bytes(1536), "1.5 KiB");
    }

    #[test]
    fn file_sizes_past_the_budget_are_refused_by_name() {
        // Uses the default budget (other unit tests never change it).
        assert_eq!(check_file_size("small.png", 2048).unwrap(), 2048);
        let e = check_file_size("photos/huge.jpg", 3 << 30).unwrap_err();
        assert_eq!(e.message(), "photos/huge.jpg is 3221225472 bytes (3.0 GiB), more than the 1.0 GiB one file may load");
        let e = check_file_size("x.bin", u64::MAX).unwrap_err();
        assert!(e.message().starts_with("x.bin is 18446744073709551615 bytes"), "{e}");
    }

    #[test]
    fn limited_reader_stops_at_the_budget() {
        // Uses the default budget: a 2 KiB stream passes, a hint of u64::MAX reserves nothing.
        let data = vec![7u8; 2048];
        assert_eq!(read_to_end_limited(&data[..], u64::MAX).unwrap().len(), 2048);
    }
}
