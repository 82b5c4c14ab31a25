//! Elementwise vocabulary: the unary and binary maps.
//! Both devices consume it; it depends on neither.

/// A one-input elementwise map (`keras.ops` names in lower case).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnaryOp {
    /// -x
    Neg,
    /// |x|
    Abs,
    /// max(x, 0)
    Relu,
    /// 1 / (1 + e^-x)
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// e^x
    Exp,
    /// Natural logarithm.
    Log,
    /// Square root.
    Sqrt,
    /// x²
    Square,
    /// 1 / x
    Reciprocal,
    /// 1 where x > 0, else 0 (the ReLU derivative).
    Step,
    /// -1, 0 or 1.
    Sign,
    /// ln(1 + e^x)
    Softplus,
    /// x to a constant power.
    Pow(f64),
    /// x limited to [lo, hi].
    Clamp(f64, f64),
    /// x * scale + shift
    Affine(f64, f64),
}

/// A two-input elementwise op with NumPy broadcasting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// a + b
    Add,
    /// a - b
    Sub,
    /// a * b
    Mul,
    /// a / b
    Div,
    /// a to the power b.
    Pow,
    /// The larger of a and b.
    Maximum,
    /// The smaller of a and b.
    Minimum,
    /// 1 where a > b, else 0.
    Greater,
    /// 1 where a == b, else 0.
    Equal,
}

impl BinaryOp {
    /// The `keras.ops` name, used in error messages.
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
