//! The only place shader sources are loaded. One WGSL file per op family ("stem");
//! the same stem names the Rust op module and the CPU reference.
//!
//! Include step: code that several stems share verbatim (the tiled GEMM's inner loop)
//! lives once under shaders/include/. A line `//!include NAME` in a stem's source
//! (leading whitespace allowed) is replaced by the text of shaders/include/NAME when the
//! source is composed; [`Stem::source`] always returns the composed module, which is
//! what the pipelines compile and what the naga tests validate.

use std::borrow::Cow;

/// Marker of an include line.
pub const INCLUDE_MARKER: &str = "//!include ";

/// Shared WGSL fragments (not stems), by the name include lines use.
pub const INCLUDES: &[(&str, &str)] = &[("gemm_tile.wgsl", include_str!("../../shaders/include/gemm_tile.wgsl"))];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stem {
    Elementwise,
    Reduce,
    Matmul,
    Copy,
    Conv2d,
    ConvTranspose2d,
    DepthwiseConv2d,
    Pool2d,
    BatchNorm,
    ImageTransform,
    Loss,
    OptimUpdate,
    Resize,
}

impl Stem {
    pub const ALL: &'static [Stem] = &[
        Stem::Elementwise,
        Stem::Reduce,
        Stem::Matmul,
        Stem::Copy,
        Stem::Conv2d,
        Stem::ConvTranspose2d,
        Stem::DepthwiseConv2d,
        Stem::Pool2d,
        Stem::BatchNorm,
        Stem::ImageTransform,
        Stem::Loss,
        Stem::OptimUpdate,
        Stem::Resize,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stem::Elementwise => "elementwise",
            Stem::Reduce => "reduce",
            Stem::Matmul => "matmul",
            Stem::Copy => "copy",
            Stem::Conv2d => "conv2d",
            Stem::ConvTranspose2d => "conv_transpose2d",
            Stem::DepthwiseConv2d => "depthwise_conv2d",
            Stem::Pool2d => "pool2d",
            Stem::BatchNorm => "batch_norm",
            Stem::ImageTransform => "image_transform",
            Stem::Loss => "loss",
            Stem::OptimUpdate => "optim_update",
            Stem::Resize => "resize",
        }
    }

    /// The composed WGSL module: the stem's file with its include lines replaced.
    pub fn source(self) -> Cow<'static, str> {
        compose(self.raw_source())
    }

    /// The stem's file as written, include lines and all.
    pub fn raw_source(self) -> &'static str {
        match self {
            Stem::Elementwise => include_str!("../../shaders/elementwise.wgsl"),
            Stem::Reduce => include_str!("../../shaders/reduce.wgsl"),
            Stem::Matmul => include_str!("../../shaders/matmul.wgsl"),
            Stem::Copy => include_str!("../../shaders/copy.wgsl"),
            Stem::Conv2d => include_str!("../../shaders/conv2d.wgsl"),
            Stem::ConvTranspose2d => include_str!("../../shaders/conv_transpose2d.wgsl"),
            Stem::DepthwiseConv2d => include_str!("../../shaders/depthwise_conv2d.wgsl"),
            Stem::Pool2d => include_str!("../../shaders/pool2d.wgsl"),
            Stem::BatchNorm => include_str!("../../shaders/batch_norm.wgsl"),
            Stem::ImageTransform => include_str!("../../shaders/image_transform.wgsl"),
            Stem::Loss => include_str!("../../shaders/loss.wgsl"),
            Stem::OptimUpdate => include_str!("../../shaders/optim_update.wgsl"),
            Stem::Resize => include_str!("../../shaders/resize.wgsl"),
        }
    }
}

/// Replace each `//!include NAME` line by the fragment NAME. An unknown name stays as
/// written (a comment), which the shader tests reject.
fn compose(raw: &'static str) -> Cow<'static, str> {
    if !raw.contains(INCLUDE_MARKER) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len() + 2048);
    for line in raw.split_inclusive('\n') {
        let fragment = line
            .trim()
            .strip_prefix(INCLUDE_MARKER)
            .and_then(|name| INCLUDES.iter().find(|(n, _)| *n == name.trim()))
            .map(|(_, text)| *text);
        match fragment {
            Some(text) => {
                out.push_str(text);
                if !text.ends_with('\n') {
                    out.push('\n');
                }
            }
            None => out.push_str(line),
        }
    }
    Cow::Owned(out)
}

/// Every shader parses and validates with naga, and every stem pairs a shader, an op
/// module and a CPU reference.
#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::{Stem, INCLUDES, INCLUDE_MARKER};

    fn stems_in(dir: &str, ext: &str) -> BTreeSet<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        std::fs::read_dir(&root)
            .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(ext).map(str::to_string))
            .filter(|n| n != "mod")
            .collect()
    }

    #[test]
    fn every_shader_validates_with_naga() {
        for stem in Stem::ALL {
            // The final module, after the include step.
            let source = stem.source();
            assert!(
                !source.contains(INCLUDE_MARKER),
                "{}.wgsl: an include line names no fragment in gpu::shaders::INCLUDES",
                stem.name()
            );
            let module = naga::front::wgsl::parse_str(&source)
                .unwrap_or_else(|e| panic!("{}.wgsl: {}", stem.name(), e.emit_to_string(&source)));
            let mut validator =
                naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty());
            validator
                .validate(&module)
                .unwrap_or_else(|e| panic!("{}.wgsl: {}", stem.name(), e.emit_to_string(&source)));
            assert!(
                module.entry_points.iter().all(|ep| ep.stage == naga::ShaderStage::Compute),
                "{}.wgsl: only compute entry points belong here",
                stem.name()
            );
        }
    }

    #[test]
    fn every_stem_has_shader_op_and_reference() {
        let shaders = stems_in("shaders", ".wgsl");
        let ops = stems_in("src/ops", ".rs");
        let refs = stems_in("src/reference", ".rs");
        let registered: BTreeSet<String> = Stem::ALL.iter().map(|s| s.name().to_string()).collect();
        assert_eq!(shaders, registered, "shaders/*.wgsl and gpu::Stem::ALL must list the same stems");
        // Shared fragments live in shaders/include/, are not stems, and each is used.
        let includes = stems_in("shaders/include", ".wgsl");
        let listed: BTreeSet<String> = INCLUDES.iter().map(|(n, _)| n.trim_end_matches(".wgsl").to_string()).collect();
        assert_eq!(includes, listed, "shaders/include/*.wgsl and gpu::shaders::INCLUDES must list the same fragments");
        for name in &includes {
            assert!(!registered.contains(name), "include {name}.wgsl must not be a stem");
            let line = format!("{INCLUDE_MARKER}{name}.wgsl");
            assert!(Stem::ALL.iter().any(|s| s.raw_source().contains(&line)), "include {name}.wgsl is used by no stem");
        }
        for stem in &registered {
            assert!(ops.contains(stem), "stem {stem}: missing src/ops/{stem}.rs");
            assert!(refs.contains(stem), "stem {stem}: missing src/reference/{stem}.rs");
        }
    }

    /// SwiftShader compiles a pipeline in time that grows with the workgroup memory it
    /// declares (about 45 ms per KiB, see include/gemm_tile.wgsl), and a first predict
    /// waits for every pipeline it uses: no entry point may declare more than this, with
    /// its overrides at their defaults (the largest tiles).
    #[test]
    fn workgroup_memory_stays_within_the_compile_budget() {
        const BUDGET: u32 = 6 * 1024;
        for stem in Stem::ALL {
            let source = stem.source();
            let module = naga::front::wgsl::parse_str(&source).expect("parses (see every_shader_validates_with_naga)");
            let info = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty())
                .validate(&module)
                .expect("validates");
            for ep in &module.entry_points {
                let (resolved, _) = naga::back::pipeline_constants::process_overrides(
                    &module,
                    &info,
                    Some((ep.stage, ep.name.as_str())),
                    &Default::default(),
                )
                .unwrap_or_else(|e| panic!("{}:{}: {e}", stem.name(), ep.name));
                let bytes: u32 = resolved
                    .global_variables
                    .iter()
                    .filter(|(_, g)| g.space == naga::AddressSpace::WorkGroup)
                    .map(|(_, g)| resolved.types[g.ty].inner.size(resolved.to_ctx()))
                    .sum();
                assert!(
                    bytes <= BUDGET,
                    "{}:{} declares {bytes} bytes of workgroup memory, over the {BUDGET}-byte budget",
                    stem.name(),
                    ep.name
                );
            }
        }
    }

    #[test]
    fn shapes_travel_in_uniforms_not_source() {
        // A literal array length is fine for workgroup tiles; tensor sizes must not be baked in.
        for stem in Stem::ALL {
            let src = stem.source();
            assert!(src.contains("var<uniform> params"), "{}.wgsl: expects its shapes in a uniform block", stem.name());
        }
    }
}
