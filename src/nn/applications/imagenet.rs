//! `keras.applications.imagenet_utils.decode_predictions`: the 1,000 ImageNet classes
//! as Keras names them (`imagenet_class_index.json`, shipped with the demo data and
//! compiled in here so the CLI and the engine need no download).

use std::sync::OnceLock;

use serde::Serialize;

use crate::error::Result;
use crate::tensor::Tensor;

/// Keras's class index file, byte for byte: `{"0": ["n01440764", "tench"], ...}`.
pub const CLASS_INDEX_JSON: &str = include_str!("../../../www/data/imagenet_class_index.json");

/// How many classes ImageNet (ILSVRC 2012) has.
pub const CLASSES: usize = 1000;

/// One class: its WordNet id and Keras's short name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImagenetClass {
    /// WordNet synset id, e.g. `n01440764`.
    pub wnid: String,
    /// Keras's short class name, e.g. `tench`.
    pub name: String,
}

/// One line of decode_predictions' answer: (wnid, name, score) as Keras's tuple.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    pub(crate) index: usize,
    /// WordNet synset id of the class.
    pub wnid: String,
    /// Keras's short class name.
    pub name: String,
    /// The model's score for the class.
    pub score: f64,
}

/// The 1,000 classes in index order.
pub fn classes() -> &'static [ImagenetClass] {
    static CLASSES_CELL: OnceLock<Vec<ImagenetClass>> = OnceLock::new();
    CLASSES_CELL.get_or_init(|| parse_class_index(CLASS_INDEX_JSON).unwrap_or_default())
}

/// Reads Keras's format: an object from "0".."999" to [wnid, name].
pub fn parse_class_index(text: &str) -> Result<Vec<ImagenetClass>> {
    let map: std::collections::HashMap<String, (String, String)> = serde_json::from_str(text)
        .map_err(|e| crate::Error::new(format!("imagenet_class_index.json: not Keras's {{\"0\": [wnid, name], ...}} format ({e})")))?;
    let mut out = Vec::with_capacity(map.len());
    for i in 0..map.len() {
        let Some((wnid, name)) = map.get(&i.to_string()) else {
            crate::bail!("imagenet_class_index.json: {} classes but no class {i}", map.len());
        };
        out.push(ImagenetClass { wnid: wnid.clone(), name: name.clone() });
    }
    Ok(out)
}

/// Keras's decode_predictions on scores of shape (samples, 1000): the `top` best classes
/// of each sample, best first.
pub fn decode_scores(scores: &[f64], shape: &[usize], top: usize) -> Result<Vec<Vec<Prediction>>> {
    if shape.len() != 2 || shape[1] != CLASSES {
        crate::bail!(
            "decode_predictions expects a batch of predictions (i.e. a 2D array of shape (samples, 1000)); got shape {}",
            crate::shape::fmt_shape(shape)
        );
    }
    let table = classes();
    if table.len() != CLASSES {
        crate::bail!("decode_predictions: the compiled-in ImageNet class index has {} classes, not {CLASSES}", table.len());
    }
    Ok(scores
        .chunks(CLASSES)
        .map(|row| {
            let mut order: Vec<usize> = (0..CLASSES).collect();
            // Highest first; ties keep NumPy's argsort order reversed (the higher index first).
            order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(b.cmp(&a)));
            order
                .into_iter()
                .take(top.min(CLASSES))
                .map(|i| Prediction { index: i, wnid: table[i].wnid.clone(), name: table[i].name.clone(), score: row[i] })
                .collect()
        })
        .collect())
}

/// decode_predictions on a tensor on any device.
pub async fn decode_predictions(preds: &Tensor, top: usize) -> Result<Vec<Vec<Prediction>>> {
    let shape = preds.shape().to_vec();
    let data = preds.to_data().await?.to_f64();
    decode_scores(&data, &shape, top)
}
