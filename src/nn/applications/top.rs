//! The head shared by the families: Keras's `include_top` classifier or the `pooling`
//! choice without it.

use serde_json::json;

use super::builder::Builder;
use super::{AppArgs, Pooling};
use crate::error::Result;
use crate::nn::KerasTensor;

/// `include_top`: pool with `top_pool_name` then Dense("predictions"); else `pooling`.
/// `pool_names` are the names the family gives its non-top pooling layers (None: auto).
pub(crate) fn head(
    b: &mut Builder,
    x: KerasTensor,
    args: &AppArgs,
    top_pool_name: Option<&str>,
    pool_names: (Option<&str>, Option<&str>),
) -> Result<KerasTensor> {
    if args.include_top {
        let x = b.apply("GlobalAveragePooling2D", "global_average_pooling2d", top_pool_name, json!({}), &[&x])?;
        return predictions(b, x, args);
    }
    match args.pooling {
        None => Ok(x),
        Some(Pooling::Avg) => b.apply("GlobalAveragePooling2D", "global_average_pooling2d", pool_names.0, json!({}), &[&x]),
        Some(Pooling::Max) => b.apply("GlobalMaxPooling2D", "global_max_pooling2d", pool_names.1, json!({}), &[&x]),
    }
}

/// The classifier: Dense(classes, classifier_activation, name="predictions").
pub(crate) fn predictions(b: &mut Builder, x: KerasTensor, args: &AppArgs) -> Result<KerasTensor> {
    b.apply(
        "Dense",
        "dense",
        Some("predictions"),
        json!({"units": args.classes, "activation": args.classifier_activation}),
        &[&x],
    )
}
