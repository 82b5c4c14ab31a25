//! Every shader parses and validates with naga, and every stem pairs a shader, an op
//! module and a CPU reference.

use std::collections::BTreeSet;
use std::path::Path;

use convbook::gpu::shaders::{INCLUDES, INCLUDE_MARKER};
use convbook::gpu::Stem;

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

#[test]
fn shapes_travel_in_uniforms_not_source() {
    // A literal array length is fine for workgroup tiles; tensor sizes must not be baked in.
    for stem in Stem::ALL {
        let src = stem.source();
        assert!(src.contains("var<uniform> params"), "{}.wgsl: expects its shapes in a uniform block", stem.name());
    }
}
