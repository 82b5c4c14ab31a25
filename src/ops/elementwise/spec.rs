//! Elementwise vocabulary: the unary and binary maps.
//! Both devices consume it; it depends on neither.

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnaryOp {
    Neg,
    Abs,
    Relu,
    Sigmoid,
    Tanh,
    Exp,
    Log,
    Sqrt,
    Square,
    Reciprocal,
    /// 1 where x > 0, else 0 (the ReLU derivative).
    Step,
    Sign,
    Softplus,
    Pow(f64),
    Clamp(f64, f64),
    /// x * scale + shift
    Affine(f64, f64),
}

impl UnaryOp {
    /// Op code and parameters as shaders/elementwise.wgsl reads them.
    pub(crate) fn code(self) -> (u32, f32, f32) {
        match self {
            UnaryOp::Neg => (0, 0.0, 0.0),
            UnaryOp::Abs => (1, 0.0, 0.0),
            UnaryOp::Relu => (2, 0.0, 0.0),
            UnaryOp::Sigmoid => (3, 0.0, 0.0),
            UnaryOp::Tanh => (4, 0.0, 0.0),
            UnaryOp::Exp => (5, 0.0, 0.0),
            UnaryOp::Log => (6, 0.0, 0.0),
            UnaryOp::Sqrt => (7, 0.0, 0.0),
            UnaryOp::Square => (8, 0.0, 0.0),
            UnaryOp::Reciprocal => (9, 0.0, 0.0),
            UnaryOp::Step => (10, 0.0, 0.0),
            UnaryOp::Sign => (11, 0.0, 0.0),
            UnaryOp::Softplus => (12, 0.0, 0.0),
            UnaryOp::Pow(p) => (13, p as f32, 0.0),
            UnaryOp::Clamp(lo, hi) => (14, lo as f32, hi as f32),
            UnaryOp::Affine(s, b) => (15, s as f32, b as f32),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Maximum,
    Minimum,
    /// 1 where a > b, else 0.
    Greater,
    /// 1 where a == b, else 0.
    Equal,
}

impl BinaryOp {
    pub(crate) fn code(self) -> u32 {
        self as u32
    }

    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "subtract",
            BinaryOp::Mul => "multiply",
            BinaryOp::Div => "divide",
            BinaryOp::Pow => "pow",
            BinaryOp::Maximum => "maximum",
            BinaryOp::Minimum => "minimum",
            BinaryOp::Greater => "greater",
            BinaryOp::Equal => "equal",
        }
    }
}
