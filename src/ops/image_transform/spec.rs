//! Image-transform vocabulary: fill modes, interpolation and the spec of one batch transform.
//! Both devices consume it; it depends on neither.

use crate::bail;
use crate::error::Result;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FillMode {
    Reflect = 0,
    Wrap = 1,
    Constant = 2,
    Nearest = 3,
}

impl FillMode {
    pub fn parse(s: &str) -> Result<FillMode> {
        Ok(match s {
            "reflect" => FillMode::Reflect,
            "wrap" => FillMode::Wrap,
            "constant" => FillMode::Constant,
            "nearest" => FillMode::Nearest,
            other => bail!("fill_mode must be reflect, wrap, constant or nearest, got '{other}'"),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interpolation {
    Bilinear = 0,
    Nearest = 1,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransformSpec {
    pub batch: usize,
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub fill_mode: FillMode,
    pub interpolation: Interpolation,
    pub fill_value: f64,
}
