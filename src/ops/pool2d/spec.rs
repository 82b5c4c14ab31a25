//! Pooling's vocabulary: pool kinds, the spec of one window pooling and of one global pooling.
//! Both devices consume it; it depends on neither.

use crate::error::Result;
use crate::ops::geometry::{AxisGeometry, Padding, Window2d};
use crate::shape::fmt_shape;

/// What a pooling window computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// The window's maximum (MaxPooling2D).
    Max,
    /// The window's mean over in-bounds pixels (AveragePooling2D).
    Average,
}

impl PoolKind {
    /// Lower-case name, as in error messages.
    pub fn name(self) -> &'static str {
        match self {
            PoolKind::Max => "max",
            PoolKind::Average => "average",
        }
    }
}

/// Shapes and geometry of one `pool2d`. Sizes are in elements; `pool` and `strides` are
/// `[rows, columns]`, strides in input pixels (None: the pool size, Keras's default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dSpec {
    /// Max or average.
    pub kind: PoolKind,
    /// Batch size N.
    pub batch: usize,
    /// Input rows.
    pub in_h: usize,
    /// Input columns.
    pub in_w: usize,
    /// Channels (pooled independently).
    pub channels: usize,
    /// Keras `pool_size`.
    pub pool: [usize; 2],
    /// Keras `strides`.
    pub strides: Option<[usize; 2]>,
    /// Keras `padding`.
    pub padding: Padding,
}

impl Pool2dSpec {
    /// `(N, H, W, C)`.
    pub fn input_shape(&self) -> [usize; 4] {
        [self.batch, self.in_h, self.in_w, self.channels]
    }

    /// The strides in effect.
    pub fn strides(&self) -> [usize; 2] {
        self.strides.unwrap_or(self.pool)
    }

    fn describe(&self) -> String {
        format!(
            "{}_pool2d: input {}, pool_size {:?}, strides {:?}, padding \"{}\"",
            self.kind.name(),
            fmt_shape(&self.input_shape()),
            self.pool,
            self.strides(),
            self.padding.name()
        )
    }

    /// Window geometry along rows and columns.
    pub fn window(&self) -> Result<Window2d> {
        let build = || -> Result<Window2d> {
            crate::ensure!(self.channels > 0, "channel count must be positive");
            let st = self.strides();
            let h = AxisGeometry::new(self.in_h, self.pool[0], st[0], 1, self.padding)?;
            let w = AxisGeometry::new(self.in_w, self.pool[1], st[1], 1, self.padding)?;
            Ok(Window2d { h, w })
        };
        build().map_err(|e| e.context(self.describe()))
    }

    /// `(N, out_h, out_w, C)`.
    pub fn output_shape(&self) -> Result<[usize; 4]> {
        let g = self.window()?;
        Ok([self.batch, g.h.output, g.w.output, self.channels])
    }
}

/// Shape of one global pooling: input `(N, H, W, C)`, output `(N, C)` (Keras
/// `GlobalAveragePooling2D` with `keepdims=False`; the values are the same with
/// `keepdims=True`, shape `(N, 1, 1, C)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalPool2dSpec {
    /// Batch size N.
    pub batch: usize,
    /// Input rows.
    pub in_h: usize,
    /// Input columns.
    pub in_w: usize,
    /// Channels.
    pub channels: usize,
}

impl GlobalPool2dSpec {
    /// `(N, H, W, C)`.
    pub fn input_shape(&self) -> [usize; 4] {
        [self.batch, self.in_h, self.in_w, self.channels]
    }

    pub(crate) fn check(&self, op: &str) -> Result<()> {
        crate::ensure!(
            self.in_h > 0 && self.in_w > 0 && self.channels > 0,
            "{op}: input {} needs positive height, width and channels",
            fmt_shape(&self.input_shape())
        );
        Ok(())
    }
}
