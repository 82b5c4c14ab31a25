//! HDF5 files as Keras writes them (`.h5`, `model.weights.h5` inside a `.keras` archive),
//! read and written with the pure-Rust `hdf5-pure` crate, so the same code runs in the
//! browser (wasm32) and natively.
//!
//! Why that crate: it reads every layout h5py produces for Keras (superblocks v0–v3,
//! object headers v1/v2, old-style symbol-table groups and new-style link groups, compact,
//! contiguous and chunked datasets with deflate/shuffle, fixed- and variable-length string
//! attributes), it writes files h5py and libhdf5 open, and it needs no C library. The
//! other pure-Rust reader (`hdf5-reader`) is read-only and pulls in memmap2/rayon/libc,
//! which do not fit wasm32-unknown-unknown.
//!
//! This module adds what a file from outside needs on top: every error names the file and
//! the object, and a dataset's declared size is checked against [`crate::limits`] (and
//! against the size of the file itself, for unfiltered data) before anything is read.
//!
//! A file is read from bytes in memory or from any [`Source`] (a range reader: in the
//! browser, a cached Blob), and a dataset is read a window of rows at a time into the
//! buffer that becomes the tensor's, so loading never holds the file plus a second copy
//! of its largest weight: only that weight and one window.

use std::collections::HashMap;

use hdf5_pure::{AttrValue, DType, FileAccessProperties, MetadataCacheConfig, Source};

use crate::error::{Error, Result};
use crate::limits::{check_budget, checked_bytes};
use crate::tensor::CpuData;

/// The 8 bytes every HDF5 file's superblock starts with (at offset 0, 512, 1024, ...).
pub const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// Whether `bytes` is an HDF5 file: the signature at offset 0 or after a user block.
pub fn is_hdf5(bytes: &[u8]) -> bool {
    signature_offset(bytes).is_some()
}

/// Bytes of metadata reads a file opened from a [`Source`] keeps: the object headers and
/// heaps read more than once (Keras's files have a few hundred KiB of metadata at most).
const METADATA_CACHE_BYTES: usize = 256 << 10;

/// Bytes of one window of rows read from a dataset: a read holds the dataset's own
/// buffer plus the window twice (its bytes as stored, then as values).
const WINDOW_BYTES: usize = 256 << 10;

/// [`signature_offset`] over a range reader.
fn source_signature_offset(source: &impl Source) -> Option<usize> {
    let mut at = 0u64;
    let mut head = [0u8; 8];
    while at + SIGNATURE.len() as u64 <= source.len() {
        if source.read_at(at, &mut head).is_ok() && &head == SIGNATURE {
            return usize::try_from(at).ok();
        }
        at = if at == 0 { 512 } else { at * 2 };
    }
    None
}

fn signature_offset(bytes: &[u8]) -> Option<usize> {
    let mut at = 0usize;
    while at + SIGNATURE.len() <= bytes.len() {
        if &bytes[at..at + SIGNATURE.len()] == SIGNATURE {
            return Some(at);
        }
        at = if at == 0 { 512 } else { at * 2 };
    }
    None
}

/// An open HDF5 file plus the name errors call it by.
pub struct H5File {
    file: hdf5_pure::File,
    name: String,
    size: usize,
}

/// A group of an [`H5File`] ("/" for the root).
#[derive(Clone)]
pub struct H5Group<'a> {
    file: &'a H5File,
    group: hdf5_pure::Group,
    path: String,
}

impl H5File {
    /// Parses the superblock and root group of `bytes`; `name` is what errors call it.
    pub fn from_bytes(bytes: Vec<u8>, name: &str) -> Result<H5File> {
        let Some(start) = signature_offset(&bytes) else {
            return Err(Error::new(format!("{name}: not an HDF5 file (no HDF5 signature)")));
        };
        let size = bytes.len();
        let file = hdf5_pure::File::from_bytes(bytes)
            .map_err(|e| Error::new(format!("{name}: not a readable HDF5 file ({e})")))?;
        Self::checked(file, start, size, name)
    }

    /// The same over a range reader: only the metadata the reader asks for and the
    /// datasets read later are ever in memory, never the whole file.
    pub fn from_source<S: Source + Send + Sync + 'static>(source: S, name: &str) -> Result<H5File> {
        let size = usize::try_from(source.len())
            .map_err(|_| Error::new(format!("{name}: {} bytes is too large a file", source.len())))?;
        let Some(start) = source_signature_offset(&source) else {
            return Err(Error::new(format!("{name}: not an HDF5 file (no HDF5 signature)")));
        };
        // Every parser step is one read of the source; a cache of the small metadata
        // reads (object headers, heaps, B-trees) keeps their count near one per block.
        let cache = MetadataCacheConfig::new(METADATA_CACHE_BYTES);
        let file = hdf5_pure::File::from_source_with_options(source, FileAccessProperties::new().with_metadata_cache(cache))
            .map_err(|e| Error::new(format!("{name}: not a readable HDF5 file ({e})")))?;
        Self::checked(file, start, size, name)
    }

    fn checked(file: hdf5_pure::File, start: usize, size: usize, name: &str) -> Result<H5File> {
        // A cut file can still parse (its root group near the start) but lose what lies
        // past the cut: its superblock says how long it should be.
        let declared = (start as u64).saturating_add(file.superblock().eof_address);
        if (size as u64) < declared {
            return Err(Error::new(format!("{name}: truncated HDF5 file: {size} bytes, its superblock says {declared}")));
        }
        Ok(H5File { file, name: name.to_string(), size })
    }

    pub(crate) fn root(&self) -> H5Group<'_> {
        H5Group { file: self, group: self.file.root(), path: "/".to_string() }
    }

    fn error(&self, path: &str, what: impl std::fmt::Display) -> Error {
        Error::new(format!("{}: {path}: {what}", self.name))
    }
}

/// A float dataset read whole: C-order values and their shape.
pub struct H5Array {
    pub(crate) shape: Vec<usize>,
    pub(crate) data: CpuData,
}

impl<'a> H5Group<'a> {
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    fn child_path(&self, name: &str) -> String {
        if self.path == "/" {
            name.to_string()
        } else {
            format!("{}/{name}", self.path)
        }
    }

    /// Names of the groups directly inside (sorted, as h5py lists them).
    pub fn groups(&self) -> Result<Vec<String>> {
        let mut names = self.group.groups().map_err(|e| self.file.error(&self.path, format!("cannot list groups ({e})")))?;
        names.sort();
        Ok(names)
    }

    /// Names of the datasets directly inside (sorted).
    pub fn datasets(&self) -> Result<Vec<String>> {
        let mut names =
            self.group.datasets().map_err(|e| self.file.error(&self.path, format!("cannot list datasets ({e})")))?;
        names.sort();
        Ok(names)
    }

    pub(crate) fn group(&self, name: &str) -> Result<H5Group<'a>> {
        let path = self.child_path(name);
        let group = self.group.group(name).map_err(|e| self.file.error(&path, format!("no such group ({e})")))?;
        Ok(H5Group { file: self.file, group, path })
    }

    pub(crate) fn has_group(&self, name: &str) -> bool {
        self.group.group(name).is_ok()
    }

    fn attrs(&self) -> Result<HashMap<String, AttrValue>> {
        self.group.attrs().map_err(|e| self.file.error(&self.path, format!("cannot read attributes ({e})")))
    }

    /// A string attribute (fixed or variable length), `None` when absent. Keras's legacy
    /// writer splits an attribute too large for an object header into `name0`, `name1`,
    /// ...; those are joined back.
    pub fn attr_string(&self, name: &str) -> Result<Option<String>> {
        Ok(self.attr_strings(name)?.map(|parts| parts.concat()))
    }

    /// A string-array attribute (`layer_names`, `weight_names`), `None` when absent; a
    /// scalar string reads as one element, chunks `name0`, `name1`, ... are concatenated.
    pub fn attr_strings(&self, name: &str) -> Result<Option<Vec<String>>> {
        let attrs = self.attrs()?;
        let read = |key: &str| -> Result<Option<Vec<String>>> {
            match attrs.get(key) {
                None => Ok(None),
                Some(value) => strings_of(value)
                    .map(Some)
                    .ok_or_else(|| self.file.error(&self.path, format!("attribute {key} is not text ({})", attr_kind(value)))),
            }
        };
        if let Some(whole) = read(name)? {
            return Ok(Some(whole));
        }
        let mut parts = Vec::new();
        while let Some(chunk) = read(&format!("{name}{}", parts.len()))? {
            parts.push(chunk);
        }
        Ok((!parts.is_empty()).then(|| parts.concat()))
    }

    /// A float or integer dataset as f32/i32 values, its size checked first.
    pub fn read_array(&self, name: &str) -> Result<H5Array> {
        self.dataset(name)?.read()
    }

    /// A float or integer dataset, its shape, datatype and declared size checked but
    /// nothing read: a loader checks every weight of a file before it reads any.
    pub(crate) fn dataset(&self, name: &str) -> Result<H5Dataset<'a>> {
        let path = self.child_path(name);
        let err = |what: String| self.file.error(&path, what);
        let ds = self.group.dataset(name).map_err(|e| err(format!("no such dataset ({e})")))?;
        let shape: Vec<usize> = ds
            .shape()
            .map_err(|e| err(format!("unreadable shape ({e})")))?
            .into_iter()
            .map(|d| usize::try_from(d).map_err(|_| err(format!("dimension {d} is too large"))))
            .collect::<Result<_>>()?;
        let dtype = ds.dtype().map_err(|e| err(format!("unreadable datatype ({e})")))?;
        // Bytes per element in the file, and once read (as f32 or i32).
        let stored = match dtype {
            DType::U8 | DType::I8 => 1,
            DType::U16 | DType::I16 => 2,
            DType::F32 | DType::I32 | DType::U32 => 4,
            DType::F64 | DType::I64 | DType::U64 => 8,
            other => return Err(err(format!("datatype {other} is not a number"))),
        };
        let what = format!("{}: {path}: shape {}", self.file.name, crate::shape::fmt_shape(&shape));
        let overflow = || err("size overflows".to_string());
        let stored_bytes = checked_bytes(&shape, stored).ok_or_else(overflow)?;
        check_budget(&what, checked_bytes(&shape, stored.max(4)).ok_or_else(overflow)?)?;
        // Unfiltered data cannot be larger than the file that holds it (filtered data is
        // bounded by the budget above).
        let chunked = matches!(ds.layout(), Ok(hdf5_pure::Layout::Chunked { .. }));
        if !chunked && stored_bytes > self.file.size {
            return Err(err(format!("declares {stored_bytes} bytes of data but the file has only {}", self.file.size)));
        }
        let ints = matches!(dtype, DType::I32 | DType::U8 | DType::I8 | DType::U16 | DType::I16);
        Ok(H5Dataset { group: self.clone(), name: name.to_string(), shape, ints, path })
    }
}

/// A numeric dataset of an [`H5File`] whose size is known to be acceptable. It holds
/// names, not the open dataset: a loader plans every weight of a file before reading,
/// and an open dataset keeps its parsed header and chunk cache (kilobytes each).
pub(crate) struct H5Dataset<'a> {
    group: H5Group<'a>,
    name: String,
    pub(crate) shape: Vec<usize>,
    ints: bool,
    path: String,
}

impl H5Dataset<'_> {
    /// The values, read a window of rows at a time into one buffer of the final size:
    /// the dataset is in memory once, plus one window (never a whole stored copy).
    pub(crate) fn read(&self) -> Result<H5Array> {
        let err = |what: String| self.group.file.error(&self.path, what);
        let ds = self.group.group.dataset(&self.name).map_err(|e| err(format!("no such dataset ({e})")))?;
        let numel: usize = self.shape.iter().product();
        // A 0-D scalar reads as one row.
        let rows = self.shape.first().copied().unwrap_or(1);
        let per_row = if rows == 0 { 0 } else { numel / rows };
        let window = (WINDOW_BYTES / (per_row * 4).max(1)).max(1);
        let unreadable = |e: hdf5_pure::Error| err(format!("unreadable data ({e})"));
        let data = if self.ints {
            CpuData::I32(gather(rows, window, numel, |at, n| ds.read_i32_rows(at, n)).map_err(unreadable)?)
        } else {
            CpuData::F32(gather(rows, window, numel, |at, n| ds.read_f32_rows(at, n)).map_err(unreadable)?)
        };
        if data.len() != numel {
            return Err(err(format!("holds {} values, its shape says {numel}", data.len())));
        }
        Ok(H5Array { shape: self.shape.clone(), data })
    }
}

/// `rows` rows read `window` at a time into one buffer of `numel` values. A dataset read
/// in one window keeps the reader's buffer as its own, so it is never copied.
fn gather<T>(
    rows: usize,
    window: usize,
    numel: usize,
    read: impl Fn(u64, u64) -> std::result::Result<Vec<T>, hdf5_pure::Error>,
) -> std::result::Result<Vec<T>, hdf5_pure::Error> {
    if rows <= window {
        return read(0, rows.max(1) as u64);
    }
    let mut values = Vec::with_capacity(numel);
    for start in (0..rows).step_by(window) {
        values.extend(read(start as u64, window as u64)?);
    }
    Ok(values)
}

fn strings_of(value: &AttrValue) -> Option<Vec<String>> {
    Some(match value {
        AttrValue::String(s)
        | AttrValue::AsciiString(s)
        | AttrValue::VarLenString(s)
        | AttrValue::VarLenAsciiString(s) => vec![s.clone()],
        AttrValue::StringSized { value, .. } | AttrValue::AsciiStringSized { value, .. } => vec![value.clone()],
        AttrValue::StringArray(v)
        | AttrValue::AsciiStringArray(v)
        | AttrValue::VarLenAsciiCharArray(v)
        | AttrValue::VarLenStringArray(v)
        | AttrValue::VarLenAsciiStringArray(v) => v.clone(),
        AttrValue::StringArraySized { values, .. } | AttrValue::AsciiStringArraySized { values, .. } => values.clone(),
        // h5py stores an empty list as an empty float array (Keras's weight_names = []).
        AttrValue::F32Array(v) if v.is_empty() => vec![],
        AttrValue::F64Array(v) if v.is_empty() => vec![],
        _ => return None,
    })
}

/// A group to write: attributes, datasets (float32, or int32 as Keras's optimizer
/// `iteration`; shape `[]` is a scalar) and subgroups (written in name order).
#[derive(Default)]
pub struct H5Tree {
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) datasets: Vec<(String, Vec<usize>, CpuData)>,
    pub(crate) groups: std::collections::BTreeMap<String, H5Tree>,
}

impl H5Tree {
    /// The subgroup `name`, created empty when missing.
    pub fn group(&mut self, name: &str) -> &mut H5Tree {
        self.groups.entry(name.to_string()).or_default()
    }

    /// The whole tree as an HDF5 file (what h5py and Keras read).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut builder = hdf5_pure::FileBuilder::new();
        for (name, value) in &self.attrs {
            builder.set_attr(name, AttrValue::String(value.clone()));
        }
        for (name, shape, data) in &self.datasets {
            let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
            let dataset = builder.create_dataset(name);
            write_data(dataset, data, name)?.with_shape(&dims);
        }
        for (name, tree) in &self.groups {
            let mut group = builder.create_group(name);
            tree.fill(&mut group)?;
            builder.add_group(group.finish());
        }
        builder.finish().map_err(|e| Error::new(format!("cannot write HDF5: {e}")))
    }

    fn fill(&self, group: &mut hdf5_pure::GroupBuilder) -> Result<()> {
        for (name, value) in &self.attrs {
            group.set_attr(name, AttrValue::String(value.clone()));
        }
        for (name, shape, data) in &self.datasets {
            let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
            write_data(group.create_dataset(name), data, name)?.with_shape(&dims);
        }
        for (name, tree) in &self.groups {
            let mut sub = group.create_group(name);
            tree.fill(&mut sub)?;
            group.add_group(sub.finish());
        }
        Ok(())
    }
}

fn write_data<'b>(
    dataset: &'b mut hdf5_pure::DatasetBuilder,
    data: &CpuData,
    name: &str,
) -> Result<&'b mut hdf5_pure::DatasetBuilder> {
    Ok(match data {
        CpuData::F32(v) => dataset.with_f32_data(v),
        CpuData::I32(v) => dataset.with_i32_data(v),
        other => return Err(Error::new(format!("cannot write HDF5 dataset {name}: {} data", other.dtype().name()))),
    })
}

/// The kind of an attribute value, for messages ("F64Array").
fn attr_kind(value: &AttrValue) -> String {
    let debug = format!("{value:?}");
    debug.split(['(', ' ', '{']).next().unwrap_or_default().to_string()
}
