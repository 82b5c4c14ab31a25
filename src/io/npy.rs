//! NumPy `.npy` and `.npz` files, read from and written to bytes (so they work in the
//! browser) plus path helpers on native targets.
//!
//! Reading accepts format versions 1.0, 2.0 and 3.0, little- and big-endian numeric
//! dtypes, C and Fortran order (Fortran data is reordered to C order). Values land in a
//! [`CpuData`], which has f32, f64, i32 and u8 vectors, so:
//!
//! | file dtype                              | `CpuData` |
//! |-----------------------------------------|-----------|
//! | `float32`, `float16`                    | `F32`     |
//! | `float64`                               | `F64`     |
//! | `int8`, `int16`, `int32`, `uint16`      | `I32`     |
//! | `int64`, `uint32`, `uint64`             | `I32`, an error names the first value outside the int32 range |
//! | `uint8`, `bool`                         | `U8` (bools as 0/1) |
//!
//! Object (pickled), string, complex, datetime and structured dtypes are errors.
//! Writing produces exactly the bytes `numpy.save` writes for the same array (version 1.0
//! header unless it needs more than 65535 bytes, 64-byte alignment, C order).
//!
//! Errors never panic: malformed headers, impossible shapes and truncated data all come
//! back as [`Error`]s saying what is wrong; the path helpers prefix the file name.

use crate::error::{Error, Result};
use crate::shape::fmt_shape;
use crate::tensor::{CpuData, DType};
use crate::{bail, ensure};

const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// numpy's `ARRAY_ALIGN`: the header is padded so that the data starts at a multiple of 64.
const ARRAY_ALIGN: usize = 64;
/// numpy's `GROWTH_AXIS_MAX_DIGITS`: spare spaces numpy leaves so the header can be rewritten in place.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;
/// Nesting limit for the header's Python literal (a real header nests two levels).
const MAX_LITERAL_DEPTH: usize = 16;

/// Element type of a `.npy` file (the `descr` field, without the byte order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NpyDType {
    /// `|b1`, read as uint8 0/1.
    Bool,
    /// `u1`.
    U8,
    /// `u2`.
    U16,
    /// `u4`.
    U32,
    /// `u8`.
    U64,
    /// `i1`.
    I8,
    /// `i2`.
    I16,
    /// `i4`.
    I32,
    /// `i8`.
    I64,
    /// `f2`.
    F16,
    /// `f4`.
    F32,
    /// `f8`.
    F64,
}

impl NpyDType {
    /// Every dtype, in declaration order.
    pub const ALL: [NpyDType; 12] = [
        NpyDType::Bool,
        NpyDType::U8,
        NpyDType::U16,
        NpyDType::U32,
        NpyDType::U64,
        NpyDType::I8,
        NpyDType::I16,
        NpyDType::I32,
        NpyDType::I64,
        NpyDType::F16,
        NpyDType::F32,
        NpyDType::F64,
    ];

    /// NumPy's name: "float32", "bool", ...
    pub fn name(self) -> &'static str {
        match self {
            NpyDType::Bool => "bool",
            NpyDType::U8 => "uint8",
            NpyDType::U16 => "uint16",
            NpyDType::U32 => "uint32",
            NpyDType::U64 => "uint64",
            NpyDType::I8 => "int8",
            NpyDType::I16 => "int16",
            NpyDType::I32 => "int32",
            NpyDType::I64 => "int64",
            NpyDType::F16 => "float16",
            NpyDType::F32 => "float32",
            NpyDType::F64 => "float64",
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            NpyDType::Bool | NpyDType::U8 | NpyDType::I8 => 1,
            NpyDType::U16 | NpyDType::I16 | NpyDType::F16 => 2,
            NpyDType::U32 | NpyDType::I32 | NpyDType::F32 => 4,
            NpyDType::U64 | NpyDType::I64 | NpyDType::F64 => 8,
        }
    }

    /// The `descr` numpy writes for this dtype on a little-endian machine: "<f4", "|b1", ...
    pub fn descr(self) -> &'static str {
        match self {
            NpyDType::Bool => "|b1",
            NpyDType::U8 => "|u1",
            NpyDType::U16 => "<u2",
            NpyDType::U32 => "<u4",
            NpyDType::U64 => "<u8",
            NpyDType::I8 => "|i1",
            NpyDType::I16 => "<i2",
            NpyDType::I32 => "<i4",
            NpyDType::I64 => "<i8",
            NpyDType::F16 => "<f2",
            NpyDType::F32 => "<f4",
            NpyDType::F64 => "<f8",
        }
    }

    /// The `CpuData` variant values of this dtype are read into.
    pub fn cpu_dtype(self) -> DType {
        match self {
            NpyDType::Bool | NpyDType::U8 => DType::U8,
            NpyDType::F16 | NpyDType::F32 => DType::F32,
            NpyDType::F64 => DType::F64,
            _ => DType::I32,
        }
    }

    /// The file dtype `write_npy` uses for a `CpuData` dtype.
    pub(crate) fn from_cpu_dtype(dtype: DType) -> NpyDType {
        match dtype {
            DType::F32 => NpyDType::F32,
            DType::F64 => NpyDType::F64,
            DType::I32 => NpyDType::I32,
            DType::U8 => NpyDType::U8,
        }
    }
}

/// An array read from a `.npy` file (or one member of a `.npz`).
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// Array shape.
    pub shape: Vec<usize>,
    /// Values in C (row-major) order, whatever the file's order.
    pub data: CpuData,
    /// The dtype the file stored (the data may be wider, see the module table).
    pub stored_dtype: NpyDType,
    /// Whether the file stored the data in Fortran order (it has been reordered).
    pub fortran_order: bool,
}

impl NpyArray {
    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.data.len()
    }
}

/// The parsed header of a `.npy` file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Header {
    dtype: NpyDType,
    big_endian: bool,
    fortran_order: bool,
    shape: Vec<usize>,
    /// Offset of the first data byte.
    data_start: usize,
}

/// Parse a `.npy` file held in memory.
pub fn read_npy(bytes: &[u8]) -> Result<NpyArray> {
    let header = read_header(bytes)?;
    let numel = checked_numel(&header.shape)?;
    let needed = numel.checked_mul(header.dtype.size()).ok_or_else(|| {
        Error::new(format!(
            "shape {} of {} is too large to address",
            fmt_shape(&header.shape),
            header.dtype.name()
        ))
    })?;
    let data = &bytes[header.data_start..];
    ensure!(
        data.len() >= needed,
        "truncated data: shape {} of {} needs {} bytes after the {}-byte header, the file has {}",
        fmt_shape(&header.shape),
        header.dtype.name(),
        needed,
        header.data_start,
        data.len()
    );
    ensure!(
        data.len() == needed,
        "{} unexpected bytes after the data (shape {} of {} is {} bytes)",
        data.len() - needed,
        fmt_shape(&header.shape),
        header.dtype.name(),
        needed
    );
    // Decoding widens (float16 and int8 become 4-byte values): budget the decoded size.
    let decoded = numel.saturating_mul(header.dtype.cpu_dtype().size());
    crate::limits::check_budget(
        format_args!("shape {} of {}", fmt_shape(&header.shape), header.dtype.name()),
        needed.max(decoded),
    )?;
    let mut values = decode(header.dtype, header.big_endian, data)?;
    if header.fortran_order && header.shape.len() > 1 {
        values = match values {
            CpuData::F32(v) => CpuData::F32(fortran_to_c(&v, &header.shape)),
            CpuData::F64(v) => CpuData::F64(fortran_to_c(&v, &header.shape)),
            CpuData::I32(v) => CpuData::I32(fortran_to_c(&v, &header.shape)),
            CpuData::U8(v) => CpuData::U8(fortran_to_c(&v, &header.shape)),
        };
    }
    Ok(NpyArray {
        shape: header.shape,
        data: values,
        stored_dtype: header.dtype,
        fortran_order: header.fortran_order,
    })
}

/// Write `data` with `shape` as a `.npy` file in its own dtype (f32 → `<f4`, f64 → `<f8`,
/// i32 → `<i4`, u8 → `|u1`).
pub fn write_npy(data: &CpuData, shape: &[usize]) -> Result<Vec<u8>> {
    write_npy_as(data, shape, NpyDType::from_cpu_dtype(data.dtype()))
}

/// Write `data` with `shape` as a `.npy` file of dtype `dtype`, converting each value
/// exactly: integers may go to any integer dtype (or bool, when they are all 0 or 1) whose
/// range holds them, and to f32/f64 when exactly representable; f32 may widen to f64 and
/// f64 narrow to f32 or f16 only where the value survives unchanged. Anything else is an
/// error naming the first value that does not fit.
pub fn write_npy_as(data: &CpuData, shape: &[usize], dtype: NpyDType) -> Result<Vec<u8>> {
    let numel = checked_numel(shape)?;
    ensure!(
        data.len() == numel,
        "npy: {} values cannot fill shape {} ({} elements)",
        data.len(),
        fmt_shape(shape),
        numel
    );
    let mut out = header_bytes(dtype, shape);
    out.reserve(numel * dtype.size());
    encode(data, dtype, &mut out)?;
    Ok(out)
}

/// Read every member of a `.npz` archive (as written by `numpy.savez` or
/// `numpy.savez_compressed`), in archive order. Names lose their `.npy` suffix.
pub fn read_npz(bytes: &[u8]) -> Result<Vec<(String, NpyArray)>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| Error::new(format!("npz: not a readable zip archive: {e}")))?;
    let mut out = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let mut file = archive
            .by_index(i)
            .map_err(|e| Error::new(format!("npz: member {i}: {e}")))?;
        if file.is_dir() {
            continue;
        }
        let member = file.name().to_string();
        let name = member.strip_suffix(".npy").unwrap_or(&member).to_string();
        // The declared size is only a hint; a deflate bomb stops at the budget.
        let hint = file.size().min(bytes.len().saturating_mul(4) as u64);
        let buf = crate::limits::read_to_end_limited(&mut file, hint)
            .map_err(|e| Error::new(format!("npz: member {member}: {e}")))?;
        let array = read_npy(&buf).map_err(|e| e.context(format!("npz member {member}")))?;
        out.push((name, array));
    }
    Ok(out)
}

/// Write arrays as an uncompressed `.npz` archive (what `numpy.savez` writes); each
/// member is `<name>.npy` holding `write_npy(data, shape)`.
pub fn write_npz(arrays: &[(&str, &CpuData, &[usize])]) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(false);
    for (name, data, shape) in arrays {
        let npy = write_npy(data, shape).map_err(|e| e.context(format!("npz member {name}")))?;
        zip.start_file(
            format!("{name}.npy"),
            options.large_file(npy.len() >= u32::MAX as usize),
        )
        .map_err(|e| Error::new(format!("npz: cannot add member {name}: {e}")))?;
        zip.write_all(&npy)
            .map_err(|e| Error::new(format!("npz: cannot write member {name}: {e}")))?;
    }
    let cursor = zip
        .finish()
        .map_err(|e| Error::new(format!("npz: cannot finish archive: {e}")))?;
    Ok(cursor.into_inner())
}

/// Read a `.npy` file; errors start with the path.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_npy(path: impl AsRef<std::path::Path>) -> Result<NpyArray> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    read_npy(&bytes).map_err(|e| e.context(path.display()))
}

/// Write a `.npy` file (see [`write_npy`]).
#[cfg(not(target_arch = "wasm32"))]
pub fn save_npy(path: impl AsRef<std::path::Path>, data: &CpuData, shape: &[usize]) -> Result<()> {
    let path = path.as_ref();
    let bytes = write_npy(data, shape).map_err(|e| e.context(path.display()))?;
    std::fs::write(path, bytes).map_err(|e| Error::new(format!("{}: cannot write: {e}", path.display())))
}

/// Read every member of a `.npz` file; errors start with the path.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_npz(path: impl AsRef<std::path::Path>) -> Result<Vec<(String, NpyArray)>> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    read_npz(&bytes).map_err(|e| e.context(path.display()))
}

#[cfg(not(target_arch = "wasm32"))]
fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::new(format!("{}: cannot read: {e}", path.display())))
}

// ---------------------------------------------------------------------------------------
// Header

fn read_header(bytes: &[u8]) -> Result<Header> {
    ensure!(
        bytes.len() >= MAGIC.len() && &bytes[..MAGIC.len()] == MAGIC,
        "not a .npy file: bad magic (expected \\x93NUMPY, found {})",
        show_bytes(&bytes[..bytes.len().min(MAGIC.len())])
    );
    ensure!(
        bytes.len() >= 10,
        "truncated header: {} bytes, a .npy preamble alone is 10",
        bytes.len()
    );
    let (major, minor) = (bytes[6], bytes[7]);
    let (len_bytes, utf8) = match (major, minor) {
        (1, 0) => (2, false),
        (2, 0) | (3, 0) => (4, major == 3),
        _ => bail!("unsupported .npy format version {major}.{minor} (known: 1.0, 2.0, 3.0)"),
    };
    ensure!(
        bytes.len() >= 8 + len_bytes,
        "truncated header: {} bytes, version {major}.0 needs {} before the header text",
        bytes.len(),
        8 + len_bytes
    );
    let header_len = if len_bytes == 2 {
        u16::from_le_bytes([bytes[8], bytes[9]]) as usize
    } else {
        u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize
    };
    let text_start = 8 + len_bytes;
    let data_start = text_start
        .checked_add(header_len)
        .filter(|&end| end <= bytes.len())
        .ok_or_else(|| {
            Error::new(format!(
                "truncated header: it declares {header_len} bytes of header text, the file has {} after the preamble",
                bytes.len() - text_start
            ))
        })?;
    let raw = &bytes[text_start..data_start];
    let text: String = if utf8 {
        std::str::from_utf8(raw)
            .map_err(|_| Error::new("header text is not valid UTF-8"))?
            .to_string()
    } else {
        // Versions 1 and 2 are latin-1.
        raw.iter().map(|&b| b as char).collect()
    };
    let (dtype, big_endian, fortran_order, shape) = parse_header_dict(&text)?;
    Ok(Header {
        dtype,
        big_endian,
        fortran_order,
        shape,
        data_start,
    })
}

fn parse_header_dict(text: &str) -> Result<(NpyDType, bool, bool, Vec<usize>)> {
    let value =
        Literal::parse(text).map_err(|e| Error::new(format!("malformed header {}: {e}", quote_header(text))))?;
    let Literal::Dict(entries) = value else {
        bail!("malformed header {}: expected a Python dict", quote_header(text))
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (key, value) in entries {
        match (key.as_str(), value) {
            ("descr", Literal::Str(s)) => descr = Some(s),
            ("descr", Literal::List(_)) => bail!("structured dtypes (record arrays) are not supported"),
            ("fortran_order", Literal::Bool(b)) => fortran = Some(b),
            ("shape", Literal::Tuple(items) | Literal::List(items)) => {
                let dims = items
                    .into_iter()
                    .map(|d| match d {
                        Literal::Int(n) if n >= 0 && n <= usize::MAX as i128 => Ok(n as usize),
                        Literal::Int(n) => Err(Error::new(format!("shape has an invalid dimension {n}"))),
                        other => Err(Error::new(format!("shape has a non-integer dimension {other:?}"))),
                    })
                    .collect::<Result<Vec<usize>>>()?;
                shape = Some(dims);
            }
            ("descr" | "fortran_order" | "shape", other) => {
                bail!("header field '{key}' has an unexpected value {other:?}")
            }
            (other, _) => bail!("header has an unexpected key '{other}' (expected descr, fortran_order, shape)"),
        }
    }
    let descr = descr.ok_or_else(|| Error::new("header has no 'descr'"))?;
    let fortran = fortran.ok_or_else(|| Error::new("header has no 'fortran_order'"))?;
    let shape = shape.ok_or_else(|| Error::new("header has no 'shape'"))?;
    let (dtype, big_endian) = parse_descr(&descr)?;
    Ok((dtype, big_endian, fortran, shape))
}

/// "<f4" → (F32, little endian). Byte order '=' is read as little-endian (numpy always
/// writes '<', '>' or '|').
fn parse_descr(descr: &str) -> Result<(NpyDType, bool)> {
    let (order, rest) = match descr.chars().next() {
        Some(c @ ('<' | '>' | '|' | '=')) => (c, &descr[1..]),
        _ => ('=', descr),
    };
    let dtype = match rest {
        "b1" | "?" => NpyDType::Bool,
        "u1" | "B" => NpyDType::U8,
        "u2" => NpyDType::U16,
        "u4" => NpyDType::U32,
        "u8" => NpyDType::U64,
        "i1" | "b" => NpyDType::I8,
        "i2" => NpyDType::I16,
        "i4" => NpyDType::I32,
        "i8" => NpyDType::I64,
        "f2" | "e" => NpyDType::F16,
        "f4" | "f" => NpyDType::F32,
        "f8" | "d" => NpyDType::F64,
        _ => {
            let what = match rest.chars().next() {
                Some('O') => "object arrays (pickled Python objects)",
                Some('U' | 'S' | 'a') => "string arrays",
                Some('c') => "complex numbers",
                Some('M' | 'm') => "datetimes",
                Some('V') => "void/structured dtypes",
                Some('f') => "this float width",
                Some('i' | 'u') => "this integer width",
                _ => "this dtype",
            };
            bail!("unsupported dtype '{descr}': {what} cannot be read (supported: bool, int8-64, uint8-64, float16/32/64)")
        }
    };
    Ok((dtype, order == '>' && dtype.size() > 1))
}

/// The header numpy 1.x/2.x writes: dict with sorted keys, the growth-axis spare spaces,
/// then padding to 64 bytes and a newline.
fn header_bytes(dtype: NpyDType, shape: &[usize]) -> Vec<u8> {
    let shape_repr = match shape {
        [] => "()".to_string(),
        [d] => format!("({d},)"),
        dims => format!(
            "({})",
            dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
        ),
    };
    let mut text = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape_repr}, }}",
        dtype.descr()
    );
    if let Some(first) = shape.first() {
        let digits = first.to_string().len();
        text.push_str(&" ".repeat(GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits)));
    }
    let (major, len_bytes) = if padded_len(&text, 2) <= u16::MAX as usize {
        (1u8, 2)
    } else {
        (2u8, 4)
    };
    let total = padded_len(&text, len_bytes);
    let pad = total - text.len() - 1;
    text.push_str(&" ".repeat(pad));
    text.push('\n');
    let mut out = Vec::with_capacity(8 + len_bytes + text.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[major, 0]);
    if len_bytes == 2 {
        out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(text.as_bytes());
    out
}

/// Header text length (newline included) after padding so the data is 64-byte aligned.
fn padded_len(text: &str, len_bytes: usize) -> usize {
    let unpadded = MAGIC.len() + 2 + len_bytes + text.len() + 1;
    let pad = (ARRAY_ALIGN - unpadded % ARRAY_ALIGN) % ARRAY_ALIGN;
    text.len() + 1 + pad
}

fn checked_numel(shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            Error::new(format!(
                "shape {} has more elements than this machine can address",
                fmt_shape(shape)
            ))
        })
}

fn show_bytes(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "an empty file".to_string();
    }
    let escaped: String = bytes
        .iter()
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect();
    format!("\"{escaped}\"")
}

fn quote_header(text: &str) -> String {
    let trimmed = text.trim_end();
    if trimmed.chars().count() > 120 {
        format!("{:?}...", trimmed.chars().take(120).collect::<String>())
    } else {
        format!("{trimmed:?}")
    }
}

// ---------------------------------------------------------------------------------------
// The Python literal subset a header uses: dicts, tuples, lists, strings, ints, booleans, None.

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Dict(Vec<(String, Literal)>),
    Tuple(Vec<Literal>),
    List(Vec<Literal>),
    Str(String),
    Int(i128),
    Bool(bool),
    None,
}

struct LiteralParser<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
}

impl Literal {
    fn parse(text: &str) -> std::result::Result<Literal, String> {
        let mut p = LiteralParser {
            chars: text.char_indices().peekable(),
        };
        let value = p.value(0)?;
        p.skip_ws();
        match p.chars.next() {
            None => Ok(value),
            Some((i, c)) => Err(format!("unexpected {c:?} at offset {i} after the value")),
        }
    }
}

impl LiteralParser<'_> {
    fn skip_ws(&mut self) {
        while matches!(self.chars.peek(), Some((_, c)) if c.is_whitespace()) {
            self.chars.next();
        }
    }

    fn value(&mut self, depth: usize) -> std::result::Result<Literal, String> {
        if depth > MAX_LITERAL_DEPTH {
            return Err("nested too deeply".into());
        }
        self.skip_ws();
        let Some(&(at, c)) = self.chars.peek() else {
            return Err("unexpected end of header".into());
        };
        match c {
            '{' => {
                self.chars.next();
                let mut entries = Vec::new();
                loop {
                    self.skip_ws();
                    if self.eat('}') {
                        return Ok(Literal::Dict(entries));
                    }
                    let key = match self.value(depth + 1)? {
                        Literal::Str(s) => s,
                        other => return Err(format!("dict key {other:?} is not a string")),
                    };
                    self.skip_ws();
                    if !self.eat(':') {
                        return Err(format!("expected ':' after key '{key}'"));
                    }
                    let value = self.value(depth + 1)?;
                    entries.push((key, value));
                    self.skip_ws();
                    if !self.eat(',') {
                        self.skip_ws();
                        if self.eat('}') {
                            return Ok(Literal::Dict(entries));
                        }
                        return Err("expected ',' or '}' in dict".into());
                    }
                }
            }
            '(' | '[' => {
                self.chars.next();
                let close = if c == '(' { ')' } else { ']' };
                let mut items = Vec::new();
                let mut saw_comma = false;
                loop {
                    self.skip_ws();
                    if self.eat(close) {
                        break;
                    }
                    items.push(self.value(depth + 1)?);
                    self.skip_ws();
                    if self.eat(',') {
                        saw_comma = true;
                        continue;
                    }
                    self.skip_ws();
                    if self.eat(close) {
                        break;
                    }
                    return Err(format!("expected ',' or '{close}'"));
                }
                Ok(match c {
                    // "(3)" is just 3 in Python; a tuple needs a comma or emptiness.
                    '(' if items.len() == 1 && !saw_comma => items.pop().unwrap_or(Literal::None),
                    '(' => Literal::Tuple(items),
                    _ => Literal::List(items),
                })
            }
            '\'' | '"' => {
                self.chars.next();
                let mut s = String::new();
                loop {
                    match self.chars.next() {
                        None => return Err("unterminated string".into()),
                        Some((_, q)) if q == c => return Ok(Literal::Str(s)),
                        Some((_, '\\')) => match self.chars.next() {
                            Some((_, 'n')) => s.push('\n'),
                            Some((_, 't')) => s.push('\t'),
                            Some((_, 'r')) => s.push('\r'),
                            Some((_, e)) => s.push(e),
                            None => return Err("unterminated string".into()),
                        },
                        Some((_, ch)) => s.push(ch),
                    }
                }
            }
            '-' | '+' | '0'..='9' => {
                let mut digits = String::new();
                while let Some(&(_, ch)) = self.chars.peek() {
                    if ch.is_ascii_digit() || ((ch == '-' || ch == '+') && digits.is_empty()) {
                        digits.push(ch);
                        self.chars.next();
                    } else {
                        break;
                    }
                }
                // Python 2 wrote long integers as "3L".
                if matches!(self.chars.peek(), Some((_, 'L' | 'l'))) {
                    self.chars.next();
                }
                digits
                    .parse::<i128>()
                    .map(Literal::Int)
                    .map_err(|_| format!("invalid integer {digits:?} at offset {at}"))
            }
            c if c.is_alphabetic() => {
                let mut word = String::new();
                while let Some(&(_, ch)) = self.chars.peek() {
                    if ch.is_alphanumeric() || ch == '_' {
                        word.push(ch);
                        self.chars.next();
                    } else {
                        break;
                    }
                }
                match word.as_str() {
                    "True" => Ok(Literal::Bool(true)),
                    "False" => Ok(Literal::Bool(false)),
                    "None" => Ok(Literal::None),
                    _ => Err(format!("unexpected name {word:?} at offset {at}")),
                }
            }
            other => Err(format!("unexpected {other:?} at offset {at}")),
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if matches!(self.chars.peek(), Some(&(_, x)) if x == c) {
            self.chars.next();
            true
        } else {
            false
        }
    }
}

// ---------------------------------------------------------------------------------------
// Data

fn decode(dtype: NpyDType, big_endian: bool, data: &[u8]) -> Result<CpuData> {
    macro_rules! chunks {
        ($n:literal, $conv:expr) => {
            data.chunks_exact($n).map(|c| {
                let mut a = [0u8; $n];
                a.copy_from_slice(c);
                if big_endian {
                    a.reverse();
                }
                $conv(a)
            })
        };
    }
    Ok(match dtype {
        NpyDType::Bool => CpuData::U8(data.iter().map(|&b| (b != 0) as u8).collect()),
        NpyDType::U8 => CpuData::U8(data.to_vec()),
        NpyDType::I8 => CpuData::I32(data.iter().map(|&b| b as i8 as i32).collect()),
        NpyDType::U16 => CpuData::I32(chunks!(2, |a| u16::from_le_bytes(a) as i32).collect()),
        NpyDType::I16 => CpuData::I32(chunks!(2, |a| i16::from_le_bytes(a) as i32).collect()),
        NpyDType::I32 => CpuData::I32(chunks!(4, i32::from_le_bytes).collect()),
        NpyDType::U32 => CpuData::I32(narrow(chunks!(4, |a| u32::from_le_bytes(a) as i128), dtype)?),
        NpyDType::I64 => CpuData::I32(narrow(chunks!(8, |a| i64::from_le_bytes(a) as i128), dtype)?),
        NpyDType::U64 => CpuData::I32(narrow(chunks!(8, |a| u64::from_le_bytes(a) as i128), dtype)?),
        NpyDType::F16 => CpuData::F32(chunks!(2, |a| f16_to_f32(u16::from_le_bytes(a))).collect()),
        NpyDType::F32 => CpuData::F32(chunks!(4, f32::from_le_bytes).collect()),
        NpyDType::F64 => CpuData::F64(chunks!(8, f64::from_le_bytes).collect()),
    })
}

fn narrow(values: impl Iterator<Item = i128>, dtype: NpyDType) -> Result<Vec<i32>> {
    values
        .enumerate()
        .map(|(i, v)| {
            i32::try_from(v).map_err(|_| {
                Error::new(format!(
                    "{} value {v} at flat index {i} does not fit in int32 (the widest integer type tensors hold)",
                    dtype.name()
                ))
            })
        })
        .collect()
}

fn encode(data: &CpuData, dtype: NpyDType, out: &mut Vec<u8>) -> Result<()> {
    // Integers go through i64, floats through f64; each conversion is checked to be exact.
    let bad = |i: usize, v: String| -> Error {
        Error::new(format!(
            "npy: {} value {v} at flat index {i} cannot be written exactly as {}",
            data.dtype().name(),
            dtype.name()
        ))
    };
    match data {
        CpuData::U8(v) if dtype == NpyDType::U8 => out.extend_from_slice(v),
        CpuData::F32(v) if dtype == NpyDType::F32 => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        CpuData::I32(v) if dtype == NpyDType::I32 => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        CpuData::F64(v) if dtype == NpyDType::F64 => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        CpuData::U8(_) | CpuData::I32(_) => {
            let ints: Vec<i64> = match data {
                CpuData::U8(v) => v.iter().map(|&x| x as i64).collect(),
                CpuData::I32(v) => v.iter().map(|&x| x as i64).collect(),
                _ => unreachable!(),
            };
            for (i, &x) in ints.iter().enumerate() {
                let fits = match dtype {
                    NpyDType::Bool => x == 0 || x == 1,
                    NpyDType::U8 => u8::try_from(x).is_ok(),
                    NpyDType::U16 => u16::try_from(x).is_ok(),
                    NpyDType::U32 => u32::try_from(x).is_ok(),
                    NpyDType::U64 => x >= 0,
                    NpyDType::I8 => i8::try_from(x).is_ok(),
                    NpyDType::I16 => i16::try_from(x).is_ok(),
                    NpyDType::I32 | NpyDType::I64 | NpyDType::F64 => true,
                    NpyDType::F32 => (x as f32) as i64 == x,
                    NpyDType::F16 => (x as f32) as i64 == x && f32_to_f16_exact(x as f32).is_some(),
                };
                if !fits {
                    return Err(bad(i, x.to_string()));
                }
                match dtype {
                    NpyDType::Bool | NpyDType::U8 => out.push(x as u8),
                    NpyDType::I8 => out.push(x as i8 as u8),
                    NpyDType::U16 => out.extend_from_slice(&(x as u16).to_le_bytes()),
                    NpyDType::I16 => out.extend_from_slice(&(x as i16).to_le_bytes()),
                    NpyDType::U32 => out.extend_from_slice(&(x as u32).to_le_bytes()),
                    NpyDType::I32 => out.extend_from_slice(&(x as i32).to_le_bytes()),
                    NpyDType::U64 => out.extend_from_slice(&(x as u64).to_le_bytes()),
                    NpyDType::I64 => out.extend_from_slice(&x.to_le_bytes()),
                    NpyDType::F16 => out.extend_from_slice(&f32_to_f16_exact(x as f32).unwrap_or(0).to_le_bytes()),
                    NpyDType::F32 => out.extend_from_slice(&(x as f32).to_le_bytes()),
                    NpyDType::F64 => out.extend_from_slice(&(x as f64).to_le_bytes()),
                }
            }
        }
        CpuData::F32(_) | CpuData::F64(_) => {
            let floats: Vec<f64> = match data {
                CpuData::F32(v) => v.iter().map(|&x| x as f64).collect(),
                CpuData::F64(v) => v.clone(),
                _ => unreachable!(),
            };
            for (i, &x) in floats.iter().enumerate() {
                let same_f32 = (x as f32) as f64 == x || x.is_nan();
                match dtype {
                    NpyDType::F64 => out.extend_from_slice(&x.to_le_bytes()),
                    NpyDType::F32 if same_f32 => out.extend_from_slice(&(x as f32).to_le_bytes()),
                    NpyDType::F16 if same_f32 => match f32_to_f16_exact(x as f32) {
                        Some(h) => out.extend_from_slice(&h.to_le_bytes()),
                        None => return Err(bad(i, x.to_string())),
                    },
                    _ => {
                        return Err(if dtype.cpu_dtype().is_float() {
                            bad(i, x.to_string())
                        } else {
                            Error::new(format!(
                                "npy: cannot write {} data as {}: float to integer conversion is not exact in general; convert explicitly",
                                data.dtype().name(),
                                dtype.name()
                            ))
                        })
                    }
                }
            }
        }
    }
    Ok(())
}

/// IEEE half → single, exact (subnormals, infinities and NaN included).
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let mant = (h & 0x3ff) as u32;
    let bits = match (exp, mant) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: value = m * 2^-24; normalise for f32.
            let shift = m.leading_zeros() - 21; // bring the top set bit to position 10
            let m = (m << shift) & 0x3ff;
            let e = 127 - 15 + 1 - shift;
            sign | (e << 23) | (m << 13)
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, m) => sign | 0x7fc0_0000 | (m << 13),
        (e, m) => sign | ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

/// Single → half when the value is exactly representable (NaN maps to a quiet NaN).
fn f32_to_f16_exact(x: f32) -> Option<u16> {
    if x.is_nan() {
        return Some(0x7e00);
    }
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32;
    let mant = bits & 0x7f_ffff;
    match exp {
        0xff => Some(sign | 0x7c00),
        0 if mant == 0 => Some(sign),
        // f32 subnormals are far below the smallest half.
        0 => None,
        _ => {
            let e = exp - 127;
            if e > 15 {
                None
            } else if e >= -14 {
                (mant & 0x1fff == 0).then(|| sign | (((e + 15) as u16) << 10) | (mant >> 13) as u16)
            } else if e >= -24 {
                // Half subnormal m * 2^-24 with m = (1.mant) * 2^(e + 24).
                let full = 0x80_0000 | mant;
                let shift = (-(e + 1)) as u32;
                (full & ((1 << shift) - 1) == 0).then(|| sign | (full >> shift) as u16)
            } else {
                None
            }
        }
    }
}

/// Reorder column-major data of `shape` into row-major order.
fn fortran_to_c<T: Copy>(values: &[T], shape: &[usize]) -> Vec<T> {
    let rank = shape.len();
    // Fortran strides: the first axis is contiguous.
    let mut fstride = vec![1usize; rank];
    for i in 1..rank {
        fstride[i] = fstride[i - 1] * shape[i - 1];
    }
    let mut out = Vec::with_capacity(values.len());
    if values.is_empty() {
        return out;
    }
    let mut index = vec![0usize; rank];
    let mut offset = 0usize;
    loop {
        out.push(values[offset]);
        // Odometer over C order: the last axis moves fastest.
        let mut axis = rank;
        loop {
            if axis == 0 {
                return out;
            }
            axis -= 1;
            index[axis] += 1;
            offset += fstride[axis];
            if index[axis] < shape[axis] {
                break;
            }
            offset -= fstride[axis] * shape[axis];
            index[axis] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_conversions_cover_every_class() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x03ff), 1023.0 * 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x0400), 2f32.powi(-14));
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0f32).to_bits());
        // Every finite half survives the round trip through f32.
        for h in 0..=u16::MAX {
            let x = f16_to_f32(h);
            if x.is_nan() {
                continue;
            }
            assert_eq!(f32_to_f16_exact(x), Some(h), "half {h:#06x} = {x}");
        }
        assert_eq!(f32_to_f16_exact(0.1), None);
        assert_eq!(f32_to_f16_exact(1e6), None);
    }

    #[test]
    fn fortran_reorder_matches_index_arithmetic() {
        let shape = [2, 3, 4];
        // Column-major value at (i, j, k) is i + 2j + 6k; C order lists (i, j, k) with k fastest.
        let f: Vec<usize> = (0..24).collect();
        let c = fortran_to_c(&f, &shape);
        let mut expect = Vec::new();
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..4 {
                    expect.push(i + 2 * j + 6 * k);
                }
            }
        }
        assert_eq!(c, expect);
    }

    #[test]
    fn header_literals() {
        let (d, be, f, s) = parse_header_dict("{'descr': '>i8', 'fortran_order': True, 'shape': (3L, 4L), }").unwrap();
        assert_eq!((d, be, f, s), (NpyDType::I64, true, true, vec![3, 4]));
        let (d, _, _, s) = parse_header_dict("{\"shape\": (), \"descr\": \"|b1\", \"fortran_order\": False}").unwrap();
        assert_eq!((d, s), (NpyDType::Bool, vec![]));
        let (_, _, _, s) = parse_header_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (7,)}").unwrap();
        assert_eq!(s, vec![7]);
        assert!(parse_header_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}").is_err());
        assert!(parse_header_dict("{'descr': '<f4', 'fortran_order': False}").is_err());
        assert!(parse_header_dict("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}").is_err());
        assert!(parse_header_dict(&"[".repeat(100)).is_err());
    }
}
