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
