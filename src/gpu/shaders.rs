//! The only place shader sources are loaded. One WGSL file per op family ("stem");
//! the same stem names the Rust op module and the CPU reference.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stem {
    Elementwise,
    Reduce,
    Matmul,
    Copy,
}

impl Stem {
    pub const ALL: &'static [Stem] = &[Stem::Elementwise, Stem::Reduce, Stem::Matmul, Stem::Copy];

    pub fn name(self) -> &'static str {
        match self {
            Stem::Elementwise => "elementwise",
            Stem::Reduce => "reduce",
            Stem::Matmul => "matmul",
            Stem::Copy => "copy",
        }
    }

    pub fn source(self) -> &'static str {
        match self {
            Stem::Elementwise => include_str!("../../shaders/elementwise.wgsl"),
            Stem::Reduce => include_str!("../../shaders/reduce.wgsl"),
            Stem::Matmul => include_str!("../../shaders/matmul.wgsl"),
            Stem::Copy => include_str!("../../shaders/copy.wgsl"),
        }
    }
}
