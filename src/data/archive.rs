//! One view of "a set of named files", whatever holds them: a zip (read lazily through
//! `Read + Seek`, so a browser `Blob` can back it), a tar or tar.gz (behind `Read + Seek`:
//! listed in one pass, then read again for what is kept; or a plain `Read` stream, read
//! once), or files already in memory (what a browser folder pick or drop gives). Loaders
//! pass a predicate so only the entries they need are read and kept.
//!
//! Paths use `/`, without a leading `./` or `/`; directories are not entries.

use std::collections::BTreeSet;
use std::io::{Cursor, Read, Seek};

use crate::data::idx::{gzip_error, is_gzip};
use crate::error::{Error, Result};
use crate::{bail, ensure};

/// A source of named files.
pub trait Archive {
    /// What the archive is called in messages ("train.zip").
    fn name(&self) -> &str;

    /// Every file path without reading the data, where the format allows it (zip, files
    /// in memory); `None` for a stream (tar), which has to be read through to list it.
    fn list(&mut self) -> Result<Option<Vec<String>>>;

    /// Calls `visit(path, bytes)` for every file whose path passes `keep`, in archive
    /// order. Files that do not pass are skipped without being kept in memory. A tar
    /// stream can be visited only once.
    fn visit(
        &mut self,
        keep: &mut dyn FnMut(&str) -> bool,
        visit: &mut dyn FnMut(&str, &[u8]) -> Result<()>,
    ) -> Result<()>;
}

/// `a/./b`, `./a/b`, `/a/b`, `a\b` and `a//b` all become `a/b`; `None` for directories.
pub fn normalize_path(raw: &str) -> Option<String> {
    if raw.ends_with('/') || raw.ends_with('\\') {
        return None;
    }
    let parts: Vec<&str> = raw.split(['/', '\\']).filter(|p| !p.is_empty() && *p != ".").collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("/"))
    }
}

/// Junk that archivers and desktops add: `__MACOSX/...`, `.DS_Store`, `._name`
/// (AppleDouble), `Thumbs.db`, and anything under a hidden directory.
pub(crate) fn is_junk(path: &str) -> bool {
    path.split('/').any(|p| p.starts_with('.') || p == "__MACOSX") || path.rsplit('/').next() == Some("Thumbs.db")
}

/// The file name: what follows the last `/`.
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Files held in memory: built from a list of (path, bytes), or by reading (a filtered
/// part of) a zip or tar.
#[derive(Clone, Debug, Default)]
pub struct FileSet {
    name: String,
    files: Vec<(String, Vec<u8>)>,
}

impl FileSet {
    /// From (path, bytes) pairs, e.g. a browser folder pick (`webkitRelativePath`).
    /// Paths are normalized; directories (paths ending in `/`) are dropped; for a path
    /// given twice the later bytes win.
    pub fn new(name: impl Into<String>, files: Vec<(String, Vec<u8>)>) -> FileSet {
        let mut out: Vec<(String, Vec<u8>)> = Vec::with_capacity(files.len());
        let mut index = std::collections::HashMap::new();
        for (path, bytes) in files {
            let Some(p) = normalize_path(&path) else { continue };
            match index.get(&p) {
                Some(&i) => out[i] = (p, bytes),
                None => {
                    index.insert(p.clone(), out.len());
                    out.push((p, bytes));
                }
            }
        }
        FileSet {
            name: name.into(),
            files: out,
        }
    }

    /// The files of any archive that pass `keep`.
    pub fn read(archive: &mut dyn Archive, mut keep: impl FnMut(&str) -> bool) -> Result<FileSet> {
        let mut files = Vec::new();
        archive.visit(&mut keep, &mut |p, b| {
            files.push((p.to_string(), b.to_vec()));
            Ok(())
        })?;
        Ok(FileSet::new(archive.name().to_string(), files))
    }

    /// A zip (or tar, or tar.gz) in memory, detected from its first bytes.
    pub fn from_bytes(bytes: &[u8], name: &str, keep: impl FnMut(&str) -> bool) -> Result<FileSet> {
        let mut archive = open_bytes(bytes, name)?;
        FileSet::read(archive.as_mut(), keep)
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Every file's path, in order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|(p, _)| p.as_str())
    }

    /// The bytes of the file at `path`, if present.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.iter().find(|(p, _)| p == path).map(|(_, b)| b.as_slice())
    }

    /// Every (path, bytes), in order.
    pub fn files(&self) -> &[(String, Vec<u8>)] {
        &self.files
    }

    /// Bytes in all files together.
    pub fn total_bytes(&self) -> usize {
        self.files.iter().map(|(_, b)| b.len()).sum()
    }
}

impl Archive for FileSet {
    fn name(&self) -> &str {
        &self.name
    }

    fn list(&mut self) -> Result<Option<Vec<String>>> {
        Ok(Some(self.files.iter().map(|(p, _)| p.clone()).collect()))
    }

    fn visit(
        &mut self,
        keep: &mut dyn FnMut(&str) -> bool,
        visit: &mut dyn FnMut(&str, &[u8]) -> Result<()>,
    ) -> Result<()> {
        for (p, b) in &self.files {
            if keep(p) {
                visit(p, b)?;
            }
        }
        Ok(())
    }
}

/// A zip read lazily: the central directory when opened, then only the entries asked for.
pub struct ZipSource<R: Read + Seek> {
    name: String,
    zip: zip::ZipArchive<R>,
}

impl<R: Read + Seek> ZipSource<R> {
    /// Open a zip; `name` labels errors.
    pub fn new(reader: R, name: &str) -> Result<ZipSource<R>> {
        let zip = zip::ZipArchive::new(reader).map_err(|e| Error::new(format!("{name}: not a zip file ({e})")))?;
        Ok(ZipSource {
            name: name.to_string(),
            zip,
        })
    }

    /// Number of entries, directories included.
    pub fn entry_count(&self) -> usize {
        self.zip.len()
    }

    /// Reads one file by its (normalized) path.
    pub fn read_file(&mut self, path: &str) -> Result<Vec<u8>> {
        let mut found = None;
        self.visit(&mut |p| p == path, &mut |_, b| {
            found = Some(b.to_vec());
            Ok(())
        })?;
        found.ok_or_else(|| Error::new(format!("{}: no file {path}", self.name)))
    }
}

impl<R: Read + Seek> Archive for ZipSource<R> {
    fn name(&self) -> &str {
        &self.name
    }

    fn list(&mut self) -> Result<Option<Vec<String>>> {
        Ok(Some(
            (0..self.zip.len())
                .filter_map(|i| self.zip.name_for_index(i).and_then(normalize_path))
                .collect(),
        ))
    }

    fn visit(
        &mut self,
        keep: &mut dyn FnMut(&str) -> bool,
        visit: &mut dyn FnMut(&str, &[u8]) -> Result<()>,
    ) -> Result<()> {
        for i in 0..self.zip.len() {
            let Some(path) = self.zip.name_for_index(i).and_then(normalize_path) else {
                continue;
            };
            if !keep(&path) {
                continue;
            }
            let name = &self.name;
            let mut entry = self
                .zip
                .by_index(i)
                .map_err(|e| Error::new(format!("{name}: cannot read {path} ({e})")))?;
            if entry.is_dir() {
                continue;
            }
            let size = entry.size();
            crate::limits::check_budget(format_args!("{name}: {path}"), usize::try_from(size).unwrap_or(usize::MAX))?;
            let buf = crate::limits::read_to_end_limited(&mut entry, size)
                .map_err(|e| Error::new(format!("{name}: cannot read {path} ({e})")))?;
            drop(entry);
            visit(&path, &buf)?;
        }
        Ok(())
    }
}

/// A tar or tar.gz stream (gzip detected from the first bytes), read in one pass: it
/// cannot be listed first, so loaders decode every candidate as it goes by. Use
/// [`SeekTarSource`] when the data can be read again.
pub struct TarSource<R: Read> {
    name: String,
    reader: Option<R>,
}

impl<R: Read> TarSource<R> {
    /// Wrap a tar (or tar.gz) stream; `name` labels errors.
    pub fn new(reader: R, name: &str) -> TarSource<R> {
        TarSource {
            name: name.to_string(),
            reader: Some(reader),
        }
    }
}

/// A tar or tar.gz behind `Read + Seek` (bytes in memory, a file, a `Blob`): listing it
/// reads it through once (names only), and each visit reads it again from the start,
/// so loaders can plan first and decode only what they keep.
pub struct SeekTarSource<R: Read + Seek> {
    name: String,
    reader: R,
    listing: Option<Vec<String>>,
}

impl<R: Read + Seek> SeekTarSource<R> {
    /// Wrap a seekable tar (or tar.gz); `name` labels errors.
    pub fn new(reader: R, name: &str) -> SeekTarSource<R> {
        SeekTarSource {
            name: name.to_string(),
            reader,
            listing: None,
        }
    }

    fn rewind(&mut self) -> Result<()> {
        let name = &self.name;
        self.reader
            .seek(std::io::SeekFrom::Start(0))
            .map_err(|e| Error::new(format!("{name}: cannot seek ({e})")))?;
        Ok(())
    }
}

/// Reads up to `n` bytes (fewer only at the end of the stream).
fn read_head(reader: &mut dyn Read, n: usize) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    reader.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Whether 512 bytes are a valid tar header (its checksum holds).
pub(crate) fn is_tar_header(block: &[u8]) -> bool {
    if block.len() < 512 || block[..512].iter().all(|&b| b == 0) {
        return false;
    }
    let field = &block[148..156];
    let text: String = field
        .iter()
        .take_while(|&&b| b != 0 && b != b' ')
        .map(|&b| b as char)
        .collect();
    let Ok(stored) = u32::from_str_radix(text.trim(), 8) else {
        return false;
    };
    let sum: u32 = block[..512]
        .iter()
        .enumerate()
        .map(|(i, &b)| if (148..156).contains(&i) { 32 } else { b as u32 })
        .sum();
    sum == stored
}

fn tar_error(name: &str, e: std::io::Error, gz: bool) -> Error {
    if e.kind() == std::io::ErrorKind::OutOfMemory {
        Error::new(format!("{name}: an entry {e}"))
    } else if gz && e.kind() == std::io::ErrorKind::UnexpectedEof {
        gzip_error(name, e)
    } else if e.kind() == std::io::ErrorKind::UnexpectedEof {
        Error::new(format!("{name}: truncated tar archive (the file ends inside an entry)"))
    } else if gz && (e.kind() == std::io::ErrorKind::InvalidInput || e.kind() == std::io::ErrorKind::InvalidData) {
        gzip_error(name, e)
    } else {
        Error::new(format!("{name}: corrupt tar archive ({e})"))
    }
}

/// One pass over a tar or tar.gz stream: `keep` sees every regular file's path, `visit`
/// gets the data of those kept.
fn tar_pass(
    name: &str,
    mut reader: &mut dyn Read,
    keep: &mut dyn FnMut(&str) -> bool,
    visit: &mut dyn FnMut(&str, &[u8]) -> Result<()>,
) -> Result<()> {
    let magic = read_head(&mut reader, 2).map_err(|e| Error::new(format!("{name}: cannot read ({e})")))?;
    let gz = is_gzip(&magic);
    let raw = Cursor::new(magic).chain(reader);
    let mut stream: Box<dyn Read> = if gz {
        Box::new(flate2::read::GzDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    let head = read_head(&mut stream, 512).map_err(|e| tar_error(name, e, gz))?;
    if !is_tar_header(&head) {
        if head.iter().all(|&b| b == 0) && !head.is_empty() {
            return Ok(()); // an empty tar: only end-of-archive blocks
        }
        if gz {
            bail!("{name}: the gzip data is not a tar archive");
        }
        bail!("{name}: not a tar archive");
    }
    let mut tar = tar::Archive::new(Cursor::new(head).chain(stream));
    let entries = tar.entries().map_err(|e| tar_error(name, e, gz))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| tar_error(name, e, gz))?;
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_contiguous()) {
            continue;
        }
        let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(path) = normalize_path(&raw_path) else {
            continue;
        };
        if !keep(&path) {
            continue;
        }
        let size = entry.size();
        crate::limits::check_budget(format_args!("{name}: {path}"), usize::try_from(size).unwrap_or(usize::MAX))?;
        let buf = crate::limits::read_to_end_limited(&mut entry, size).map_err(|e| tar_error(name, e, gz))?;
        visit(&path, &buf)?;
    }
    Ok(())
}

impl<R: Read> Archive for TarSource<R> {
    fn name(&self) -> &str {
        &self.name
    }

    fn list(&mut self) -> Result<Option<Vec<String>>> {
        Ok(None)
    }

    fn visit(
        &mut self,
        keep: &mut dyn FnMut(&str) -> bool,
        visit: &mut dyn FnMut(&str, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let Some(mut reader) = self.reader.take() else {
            bail!("{}: a tar stream can be read only once", self.name);
        };
        tar_pass(&self.name, &mut reader, keep, visit)
    }
}

impl<R: Read + Seek> Archive for SeekTarSource<R> {
    fn name(&self) -> &str {
        &self.name
    }

    fn list(&mut self) -> Result<Option<Vec<String>>> {
        if self.listing.is_none() {
            self.rewind()?;
            let mut names = Vec::new();
            tar_pass(
                &self.name,
                &mut self.reader,
                &mut |p| {
                    names.push(p.to_string());
                    false
                },
                &mut |_, _| Ok(()),
            )?;
            self.listing = Some(names);
        }
        Ok(self.listing.clone())
    }

    fn visit(
        &mut self,
        keep: &mut dyn FnMut(&str) -> bool,
        visit: &mut dyn FnMut(&str, &[u8]) -> Result<()>,
    ) -> Result<()> {
        self.rewind()?;
        tar_pass(&self.name, &mut self.reader, keep, visit)
    }
}

/// Which archive format bytes start with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveKind {
    /// A zip archive.
    Zip,
    /// gzip: a tar.gz, once the tar header inside is checked.
    Gzip,
    /// An uncompressed tar.
    Tar,
}

/// Detects zip (PK), gzip (1f 8b) or tar (a valid first header) from the first 512 bytes.
pub(crate) fn sniff_archive(head: &[u8]) -> Option<ArchiveKind> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") || head.starts_with(b"PK\x07\x08") {
        Some(ArchiveKind::Zip)
    } else if is_gzip(head) {
        Some(ArchiveKind::Gzip)
    } else if is_tar_header(head) {
        Some(ArchiveKind::Tar)
    } else {
        None
    }
}

/// A zip, tar or tar.gz held in memory, read lazily like a file.
pub fn open_bytes<'a>(bytes: &'a [u8], name: &str) -> Result<Box<dyn Archive + 'a>> {
    match sniff_archive(bytes) {
        Some(ArchiveKind::Zip) => Ok(Box::new(ZipSource::new(Cursor::new(bytes), name)?)),
        Some(ArchiveKind::Gzip | ArchiveKind::Tar) => Ok(Box::new(SeekTarSource::new(Cursor::new(bytes), name))),
        None => {
            ensure!(
                !bytes.is_empty(),
                "{name}: empty file, not a zip, tar or tar.gz archive"
            );
            let head: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
            bail!(
                "{name}: not a zip, tar or tar.gz archive (starts with {})",
                head.join(" ")
            )
        }
    }
}

/// A zip, tar or tar.gz behind a seekable reader (a file, a `Blob`), detected from its
/// first bytes.
pub fn open_reader<'a, R: Read + Seek + 'a>(mut reader: R, name: &str) -> Result<Box<dyn Archive + 'a>> {
    let head = read_head(&mut reader, 512).map_err(|e| Error::new(format!("{name}: cannot read ({e})")))?;
    reader
        .seek(std::io::SeekFrom::Start(0))
        .map_err(|e| Error::new(format!("{name}: cannot seek ({e})")))?;
    match sniff_archive(&head) {
        Some(ArchiveKind::Zip) => Ok(Box::new(ZipSource::new(reader, name)?)),
        Some(ArchiveKind::Gzip | ArchiveKind::Tar) => Ok(Box::new(SeekTarSource::new(reader, name))),
        None => {
            ensure!(!head.is_empty(), "{name}: empty file, not a zip, tar or tar.gz archive");
            let h: Vec<String> = head.iter().take(4).map(|b| format!("{b:02x}")).collect();
            bail!("{name}: not a zip, tar or tar.gz archive (starts with {})", h.join(" "))
        }
    }
}

/// The top-level names (first path components) of some paths, sorted: for messages.
pub(crate) fn top_level(paths: &[String]) -> Vec<String> {
    let set: BTreeSet<&str> = paths.iter().map(|p| p.split('/').next().unwrap_or(p)).collect();
    set.into_iter().map(str::to_string).collect()
}
