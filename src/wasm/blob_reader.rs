//! A Blob (a picked File, or a weights file kept by Cache Storage) read by ranges, as a
//! `Read + Seek` for the HDF5 reader: the browser keeps such a Blob on disk, and only the
//! ranges the reader asks for are copied into wasm memory, never the whole file.
//!
//! Reads are synchronous (`FileReaderSync`), which only dedicated workers have: the
//! kernel runs in one. The HDF5 reader wants a `Send` source, which a JS object is not,
//! so the reader holds a key to a per-thread table of open Blobs instead of the Blob.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io::{Error as IoError, ErrorKind, Read, Seek, SeekFrom};

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Blob, FileReaderSync};

thread_local! {
    static OPEN: RefCell<HashMap<u32, (Blob, FileReaderSync)>> = RefCell::new(HashMap::new());
    static NEXT_KEY: Cell<u32> = const { Cell::new(0) };
}

/// Small reads (the HDF5 metadata: object headers, heaps, B-tree nodes) are served from
/// one block read ahead of this size; large ones (weights) go straight to the Blob.
const BLOCK: u64 = 64 << 10;

/// Reads one Blob from a worker; dropping it forgets the Blob.
pub(crate) struct BlobReader {
    key: u32,
    len: u64,
    at: u64,
    /// The last block read ahead and where it starts.
    block: Vec<u8>,
    block_at: u64,
}

impl BlobReader {
    /// Fails outside a dedicated worker (no `FileReaderSync`).
    pub(crate) fn new(blob: Blob) -> Result<BlobReader, JsValue> {
        let reader = FileReaderSync::new()?;
        let len = blob.size() as u64;
        let key = NEXT_KEY.with(|k| k.replace(k.get().wrapping_add(1)));
        OPEN.with(|open| open.borrow_mut().insert(key, (blob, reader)));
        Ok(BlobReader { key, len, at: 0, block: Vec::new(), block_at: 0 })
    }

    /// Copies the Blob's bytes `[from, from + out.len())` into `out`.
    fn read_range(&self, from: u64, out: &mut [u8]) -> std::io::Result<()> {
        let end = from + out.len() as u64;
        OPEN.with(|open| {
            let open = open.borrow();
            let (blob, reader) = open.get(&self.key).ok_or_else(|| IoError::other("the file was closed"))?;
            let range = blob.slice_with_f64_and_f64(from as f64, end as f64).map_err(js_io_error)?;
            let bytes = reader.read_as_array_buffer(&range).map_err(js_io_error)?;
            let bytes = js_sys::Uint8Array::new(&bytes);
            if bytes.length() as usize != out.len() {
                let (want, got) = (out.len(), bytes.length());
                return Err(IoError::new(ErrorKind::UnexpectedEof, format!("asked for {want} bytes at {from}, read {got}")));
            }
            bytes.copy_to(out);
            Ok(())
        })
    }
}

impl Drop for BlobReader {
    fn drop(&mut self) {
        OPEN.with(|open| open.borrow_mut().remove(&self.key));
    }
}

fn js_io_error(e: JsValue) -> IoError {
    let message = e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| format!("{e:?}"));
    IoError::other(format!("reading the file failed: {message}"))
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let end = self.len.min(self.at + buf.len() as u64);
        if end <= self.at {
            return Ok(0);
        }
        let n = (end - self.at) as usize;
        if n as u64 >= BLOCK {
            self.read_range(self.at, &mut buf[..n])?;
        } else {
            let cached = self.at >= self.block_at && end <= self.block_at + self.block.len() as u64;
            if !cached {
                let block_end = self.len.min(self.at + BLOCK);
                let mut block = std::mem::take(&mut self.block);
                block.resize((block_end - self.at) as usize, 0);
                self.read_range(self.at, &mut block)?;
                self.block = block;
                self.block_at = self.at;
            }
            let from = (self.at - self.block_at) as usize;
            buf[..n].copy_from_slice(&self.block[from..from + n]);
        }
        self.at = end;
        Ok(n)
    }
}

impl Seek for BlobReader {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let at = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.at.checked_add_signed(delta),
        };
        self.at = at.ok_or_else(|| IoError::new(ErrorKind::InvalidInput, "seek before the start of the file"))?;
        Ok(self.at)
    }
}
