//! GPU host code, one file per stem (mirroring reference/): the uniform block its WGSL
//! `struct Params` reads and the launches that fill it.

pub(crate) mod batch_norm;
pub(crate) mod conv2d;
pub(crate) mod conv_transpose2d;
pub(crate) mod copy;
pub(crate) mod depthwise_conv2d;
pub(crate) mod elementwise;
pub(crate) mod gemm_tiles;
pub(crate) mod image_transform;
pub(crate) mod loss;
pub(crate) mod matmul;
pub(crate) mod optim_update;
pub(crate) mod pool2d;
pub(crate) mod reduce;
pub(crate) mod resize;

/// Workgroups for a tiled GEMM: columns in x, row blocks in y, folded into z past the
/// per-dimension limit (the shaders rebuild the row block from y and z).
pub(crate) fn gemm_grid(rows: usize, cols: usize, row_tile: usize, col_tile: usize) -> [u32; 3] {
    let blocks = rows.div_ceil(row_tile).max(1) as u64;
    let y = blocks.min(65535);
    [cols.div_ceil(col_tile).max(1) as u32, y as u32, blocks.div_ceil(y) as u32]
}

/// How the two-stage per-channel sums (depthwise_conv2d's kernel gradient, batch_norm's
/// statistics and gradient sums) split a [rows, channels] reduction: workgroups of
/// `TREE` invocations take a power-of-two tile of at most 64 channels (neighbouring
/// invocations read neighbouring channels) and one chunk of `chunk` rows, whose lanes
/// stride through; a second pass adds the `chunks` partial sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChannelChunks {
    pub tile_c: u32,
    pub chunk: u32,
    pub chunks: u32,
}

impl ChannelChunks {
    /// The shaders' workgroup size for the first pass.
    const TREE: usize = 256;
    /// Enough workgroups to fill a GPU, few enough chunks that the second pass's loop
    /// over them stays short.
    const TARGET_GROUPS: usize = 256;

    pub(crate) fn of(channels: usize, rows: usize) -> ChannelChunks {
        let tile_c = channels.next_power_of_two().clamp(1, 64);
        let tiles = channels.div_ceil(tile_c).max(1);
        let lanes = Self::TREE / tile_c;
        // At least a few rows per lane, so the lane sums are worth their barriers.
        let max_chunks = rows.div_ceil(4 * lanes).max(1);
        let chunks = Self::TARGET_GROUPS.div_ceil(tiles).clamp(1, max_chunks);
        let chunk = rows.div_ceil(chunks).max(1);
        ChannelChunks { tile_c: tile_c as u32, chunk: chunk as u32, chunks: rows.div_ceil(chunk).max(1) as u32 }
    }

    /// Workgroups of the first pass.
    pub(crate) fn groups(&self, channels: usize) -> usize {
        channels.div_ceil(self.tile_c as usize) * self.chunks as usize
    }
}

/// The uniform block each stem's shader reads, as (stem, its Rust layout): the test
/// below holds each against the shader's `struct Params`.
#[cfg(test)]
fn uniform_layouts() -> Vec<(crate::gpu::Stem, Vec<crate::gpu::params::Field>, usize)> {
    use crate::gpu::params::UniformBlock;
    fn block<P: UniformBlock>() -> (Vec<crate::gpu::params::Field>, usize) {
        (P::layout(), std::mem::size_of::<P>())
    }
    use crate::gpu::Stem;
    Stem::ALL
        .iter()
        .map(|&stem| {
            // Exhaustive on purpose: a new stem must name its block here.
            let (layout, size) = match stem {
                Stem::Elementwise => block::<elementwise::ElementwiseParams>(),
                Stem::Reduce => block::<reduce::ReduceParams>(),
                Stem::Matmul => block::<matmul::MatmulParams>(),
                Stem::Copy => block::<copy::CopyParams>(),
                Stem::Conv2d => block::<conv2d::Conv2dParams>(),
                Stem::ConvTranspose2d => block::<conv_transpose2d::ConvTranspose2dParams>(),
                Stem::DepthwiseConv2d => block::<depthwise_conv2d::DepthwiseConv2dParams>(),
                Stem::Pool2d => block::<pool2d::Pool2dParams>(),
                Stem::BatchNorm => block::<batch_norm::BatchNormParams>(),
                Stem::ImageTransform => block::<image_transform::ImageTransformParams>(),
                Stem::Loss => block::<loss::LossParams>(),
                Stem::OptimUpdate => block::<optim_update::OptimUpdateParams>(),
                Stem::Resize => block::<resize::ResizeParams>(),
            };
            (stem, layout, size)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{uniform_layouts, ChannelChunks};

    #[test]
    fn channel_chunks_cover_every_row_once() {
        for (channels, rows) in [(1, 1), (3, 7), (32, 247_808), (512, 36), (96, 100_000), (1000, 5), (7, 0)] {
            let ChannelChunks { tile_c, chunk, chunks } = ChannelChunks::of(channels, rows);
            let (tile_c, chunk, chunks) = (tile_c as usize, chunk as usize, chunks as usize);
            assert!(tile_c.is_power_of_two() && 256 % tile_c == 0 && tile_c <= 64, "{channels}: tile {tile_c}");
            assert!(chunks >= 1 && chunk * chunks >= rows && chunk * (chunks - 1) < rows.max(1), "{channels} x {rows}");
        }
    }

    use crate::gpu::params::Field;

    /// WGSL spelling of a naga type, as far as uniform blocks use them.
    fn wgsl_type(module: &naga::Module, ty: naga::Handle<naga::Type>) -> String {
        use naga::{ScalarKind, TypeInner, VectorSize};
        let scalar = |s: naga::Scalar| match (s.kind, s.width) {
            (ScalarKind::Uint, 4) => "u32".to_string(),
            (ScalarKind::Sint, 4) => "i32".to_string(),
            (ScalarKind::Float, 4) => "f32".to_string(),
            other => format!("{other:?}"),
        };
        match &module.types[ty].inner {
            TypeInner::Scalar(s) => scalar(*s),
            TypeInner::Vector { size: VectorSize::Quad, scalar: s } => format!("vec4<{}>", scalar(*s)),
            TypeInner::Array { base, size: naga::ArraySize::Constant(n), .. } => {
                format!("array<{}, {n}>", wgsl_type(module, *base))
            }
            other => format!("{other:?}"),
        }
    }

    /// Each stem's Rust uniform block has the fields, offsets, types and size of the
    /// `struct Params` in its final (composed) shader source.
    #[test]
    fn every_uniform_block_matches_its_wgsl_struct() {
        for (stem, rust, size) in uniform_layouts() {
            let source = stem.source();
            let module = naga::front::wgsl::parse_str(&source)
                .unwrap_or_else(|e| panic!("{}.wgsl: {}", stem.name(), e.emit_to_string(&source)));
            let (members, span) = module
                .types
                .iter()
                .find_map(|(_, t)| match (&t.name, &t.inner) {
                    (Some(name), naga::TypeInner::Struct { members, span }) if name == "Params" => {
                        Some((members.clone(), *span))
                    }
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{}.wgsl declares no struct Params", stem.name()));
            let wgsl: Vec<(String, usize, String)> = members
                .iter()
                .map(|m| (m.name.clone().unwrap_or_default(), m.offset as usize, wgsl_type(&module, m.ty)))
                .collect();
            let rust: Vec<(String, usize, String)> = rust
                .iter()
                .map(|Field { name, offset, wgsl_type }| (name.to_string(), *offset, wgsl_type.to_string()))
                .collect();
            assert_eq!(rust, wgsl, "{}: Rust uniform block vs WGSL struct Params (name, offset, type)", stem.name());
            assert_eq!(size.next_multiple_of(16), span as usize, "{}: block sizes differ", stem.name());
        }
    }
}
