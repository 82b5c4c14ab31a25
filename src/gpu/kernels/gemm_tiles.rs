//! Tile heights of the conv family's implicit GEMMs (conv2d.wgsl `forward`,
//! conv_transpose2d.wgsl `forward`), picked by shape here and nowhere else.
//!
//! The default tile is 64 rows (output pixels) by 64 columns (channels). At batch 1 the
//! deep layers of small models have a handful of output pixels (3x3 = 9 rows of a
//! segmentation bottleneck, 1 row at the end of the 8.2 convnet) and a long reduction
//! (9 x 256 taps), so a 64-row tile spends most of its work on padding. Lower tiles
//! (the `TILE_ROWS` override: threads per workgroup column, 8 rows each) cost more
//! staging per FMA, so they are used only where they save most of the padding. Each
//! height is one more pipeline to compile: two heights besides the default, no more.

/// Rows of one tile of the conv GEMMs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TileRows(usize);

impl TileRows {
    pub(crate) const FULL: TileRows = TileRows(64);

    /// The tile height for a GEMM of `rows` output rows: 16 for at most 16 rows, 32 for at
    /// most 32, else 64. (A 32- or 16-row tile costs about 1.25x or 1.6x a 64-row one per
    /// row computed, from its extra loads; past 32 rows the padding it saves is smaller.)
    pub(crate) fn for_rows(rows: usize) -> TileRows {
        match rows {
            0..=16 => TileRows(16),
            17..=32 => TileRows(32),
            _ => TileRows::FULL,
        }
    }

    /// Rows per tile.
    pub(crate) fn rows(self) -> usize {
        self.0
    }

    /// The pipeline overrides that select this height; none for the default, so its
    /// pipeline is the one the shader declares.
    pub(crate) fn overrides(self) -> Vec<(&'static str, f64)> {
        if self == TileRows::FULL {
            Vec::new()
        } else {
            vec![("TILE_ROWS", (self.0 / 8) as f64)]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TileRows;

    #[test]
    fn small_gemms_get_low_tiles_and_large_ones_the_default() {
        assert_eq!(TileRows::for_rows(1).rows(), 16);
        assert_eq!(TileRows::for_rows(9).rows(), 16);
        assert_eq!(TileRows::for_rows(25).rows(), 32);
        assert_eq!(TileRows::for_rows(36), TileRows::FULL);
        assert!(TileRows::FULL.overrides().is_empty());
        assert_eq!(TileRows::for_rows(9).overrides(), vec![("TILE_ROWS", 2.0)]);
    }
}
