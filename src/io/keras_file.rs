//! Keras's own model files, at the byte level: which format a file is, and the `.keras`
//! archive (a zip of `config.json`, `metadata.json` and `model.weights.h5`).
//! Building a model from them is `nn::from_keras`.

use std::io::Write;

use serde_json::Value;

use crate::error::{Error, Result};

/// The model file formats the engine reads, told apart by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelFormat {
    /// A TF.js layers model: `model.json` (its weight shards live beside it).
    TfjsJson,
    /// A Keras 3 `.keras` zip archive.
    KerasArchive,
    /// An HDF5 file: a legacy Keras `.h5` model or a weights file.
    Hdf5,
}

impl ModelFormat {
    /// The format of `bytes` by signature, `None` when it is none of them.
    pub fn detect(bytes: &[u8]) -> Option<ModelFormat> {
        if bytes.starts_with(b"PK\x03\x04") {
            Some(ModelFormat::KerasArchive)
        } else if crate::io::hdf5::is_hdf5(bytes) {
            Some(ModelFormat::Hdf5)
        } else if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            Some(ModelFormat::TfjsJson)
        } else {
            None
        }
    }

    /// An error for a file of no known format, naming it and what it starts with.
    pub fn unknown(name: &str, bytes: &[u8]) -> Error {
        let head: String = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ");
        Error::new(format!(
            "{name}: not a model file this engine reads (a .keras zip, an HDF5 .h5 or a TF.js model.json); it starts with [{head}]"
        ))
    }
}

/// The three members of a `.keras` archive, unpacked.
pub struct KerasArchive {
    /// `config.json`: the model's Keras 3 serialization.
    pub config: Value,
    /// `metadata.json` (`keras_version`, `date_saved`).
    pub metadata: Value,
    /// `model.weights.h5`, still encoded.
    pub weights_h5: Vec<u8>,
}

impl KerasArchive {
    /// Unpacks a `.keras` file; `name` is what errors call it.
    pub fn from_bytes(bytes: &[u8], name: &str) -> Result<KerasArchive> {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .map_err(|e| Error::new(format!("{name}: not a readable .keras (zip) archive: {e}")))?;
        let mut member = |member: &str| -> Result<Vec<u8>> {
            let mut file = zip.by_name(member).map_err(|_| {
                Error::new(format!("{name}: not a .keras archive: it has no {member}"))
            })?;
            // The declared size is only a hint; a deflate bomb stops at the budget.
            let hint = file.size().min(bytes.len().saturating_mul(4) as u64);
            crate::limits::read_to_end_limited(&mut file, hint)
                .map_err(|e| Error::new(format!("{name}: {member}: {e}")))
        };
        let json = |member_name: &str, raw: Vec<u8>| -> Result<Value> {
            serde_json::from_slice(&raw).map_err(|e| Error::new(format!("{name}: {member_name} is not valid JSON: {e}")))
        };
        let config = json("config.json", member("config.json")?)?;
        let metadata = match member("metadata.json") {
            Ok(raw) => json("metadata.json", raw)?,
            Err(_) => Value::Null,
        };
        let weights_h5 = member("model.weights.h5")?;
        Ok(KerasArchive { config, metadata, weights_h5 })
    }

    /// The archive as Keras writes it (members stored, as `model.save` does for the
    /// weights; JSON members deflated).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(self.weights_h5.len() >= u32::MAX as usize);
        let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let to_json = |v: &Value| serde_json::to_vec(v).map_err(|e| Error::new(format!(".keras: {e}")));
        let members: [(&str, Vec<u8>, _); 3] = [
            ("metadata.json", to_json(&self.metadata)?, deflated),
            ("config.json", to_json(&self.config)?, deflated),
            ("model.weights.h5", self.weights_h5.clone(), stored),
        ];
        for (member, data, options) in members {
            zip.start_file(member, options).map_err(|e| Error::new(format!(".keras: cannot add {member}: {e}")))?;
            zip.write_all(&data).map_err(|e| Error::new(format!(".keras: cannot write {member}: {e}")))?;
        }
        let cursor = zip.finish().map_err(|e| Error::new(format!(".keras: cannot finish the archive: {e}")))?;
        Ok(cursor.into_inner())
    }
}

/// Reads a whole file natively; errors name the path.
#[cfg(not(target_arch = "wasm32"))]
pub fn read_file(path: impl AsRef<std::path::Path>) -> Result<Vec<u8>> {
    use std::io::Read;
    let path = path.as_ref();
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
    Ok(bytes)
}
