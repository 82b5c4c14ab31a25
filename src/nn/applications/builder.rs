//! Calls layers the way Keras's application code does: named layers by name, unnamed
//! ones by Keras's per-class auto-naming (`conv2d`, `conv2d_1`, ...), counted per model
//! so the names match a fresh Keras session whatever was built before.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::Result;
use crate::nn::{KerasTensor, Layer, LayerKind};

#[derive(Default)]
pub(crate) struct Builder {
    counts: HashMap<&'static str, usize>,
}

impl Builder {
    /// Applies a new layer of `class` (config as Keras writes it) to `inputs`.
    /// `name: None` takes the next auto name for `auto` (Keras's snake-case class name).
    pub fn apply(
        &mut self,
        class: &str,
        auto: &'static str,
        name: Option<&str>,
        config: Value,
        inputs: &[&KerasTensor],
    ) -> Result<KerasTensor> {
        let name = match name {
            Some(n) => n.to_string(),
            None => self.auto_name(auto),
        };
        let kind = LayerKind::from_config(class, &config).map_err(|e| e.context(format!("layer \"{name}\"")))?;
        let layer = Layer::new(kind, Some(&name));
        let inputs: Vec<KerasTensor> = inputs.iter().map(|t| (*t).clone()).collect();
        layer.call(&inputs)
    }

    fn auto_name(&mut self, auto: &'static str) -> String {
        let n = self.counts.entry(auto).or_insert(0);
        let name = if *n == 0 { auto.to_string() } else { format!("{auto}_{n}") };
        *n += 1;
        name
    }
}
