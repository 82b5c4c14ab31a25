//! Image-transform vocabulary: fill modes, interpolation and the spec of one batch transform.
//! Both devices consume it; it depends on neither.

use crate::bail;
use crate::error::Result;

/// Keras `fill_mode`: how points outside the image are filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FillMode {
    /// Mirror about the edge, edge pixel included (d c b a | a b c d | d c b a).
    Reflect = 0,
    /// Tile the image (a b c d | a b c d | a b c d).
    Wrap = 1,
    /// `fill_value` everywhere outside.
    Constant = 2,
    /// Repeat the edge pixel.
    Nearest = 3,
}

impl FillMode {
    /// Parse Keras's spelling ("reflect", "wrap", "constant", "nearest").
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

/// Keras `interpolation`: how a point between pixels is sampled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interpolation {
    /// Weighted mean of the four neighbours.
    Bilinear = 0,
    /// The closest pixel.
    Nearest = 1,
}

/// Shape and sampling of one batch of projective image transforms (NHWC).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransformSpec {
    /// Batch size N.
    pub batch: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Channels.
    pub channels: usize,
    /// Keras `fill_mode`.
    pub fill_mode: FillMode,
    /// Keras `interpolation`.
    pub interpolation: Interpolation,
    /// Keras `fill_value`, for `FillMode::Constant`.
    pub fill_value: f64,
}
