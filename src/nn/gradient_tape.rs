//! `keras.GradientTape()` for cells: a tape that lives across several engine calls.
//! Cells watch tensors, apply tensor ops and call models while it records, then ask for
//! gradients of one recorded value with respect to watched or recorded values and to a
//! model's weights. Recorded values are named by small integer ids, which the JS side
//! attaches to its tensor handles.

use crate::graph::{Tape, Var};
use crate::nn::layer::WeightRef;
use crate::nn::model::Run;
use crate::nn::Model;
use crate::ops::elementwise::{BinaryOp, UnaryOp};
use crate::ops::reduce::ReduceOp;
use crate::{bail, ensure, Device, Result, Tensor};

/// Index of a value recorded on a [`GradientTape`].
pub type VarId = usize;

/// An op argument: a value on the tape, or a plain tensor (a constant for the tape).
pub enum Operand {
    /// A value this tape recorded or watched.
    Recorded(VarId),
    /// A tensor the tape does not differentiate with respect to.
    Constant(Tensor),
}

/// What a gradient is asked for: a value on the tape, or a model weight (Keras's
/// `model.trainable_weights`).
pub enum Source {
    /// A value this tape recorded or watched.
    Recorded(VarId),
    /// A model weight, watched by the tape's model calls.
    Weight(WeightRef),
}

/// The differentiable tensor ops a cell can apply while a tape records.
#[derive(Clone, Debug, PartialEq)]
pub enum TapeOp {
    /// An elementwise op on one tensor (`neg`, `exp`, `relu`, ...).
    Unary(UnaryOp),
    /// A broadcasting elementwise op on two tensors (`add`, `mul`, ...).
    Binary(BinaryOp),
    /// Matrix product of two tensors (`matmul`).
    MatMul,
    /// `sum`, `mean`, `max` or `min` over axes.
    Reduce {
        /// Which reduction.
        op: ReduceOp,
        /// Axes reduced (negative counts from the end); empty for all of them.
        axes: Vec<isize>,
        /// Whether reduced axes stay as size 1.
        keepdims: bool,
    },
    /// `softmax` or `logSoftmax` along one axis.
    Softmax {
        /// The axis (negative counts from the end).
        axis: isize,
        /// Log-softmax instead of softmax.
        log: bool,
    },
    /// `reshape` to a shape with at most one -1.
    Reshape(Vec<isize>),
    /// `transpose` by a permutation; empty reverses the axes.
    Transpose(Vec<usize>),
    /// `slice`: the block of `size` starting at `begin`.
    Slice {
        /// First index on each axis.
        begin: Vec<usize>,
        /// Length on each axis.
        size: Vec<usize>,
    },
    /// `pad` with a constant.
    Pad {
        /// (before, after) on each axis.
        pads: Vec<(usize, usize)>,
        /// The fill value.
        value: f64,
    },
    /// `concat` of the operands along an axis (negative counts from the end).
    Concat(isize),
}

/// A recording of the ops a cell applies, with the model weights its model calls used.
pub struct GradientTape {
    tape: Tape,
    vars: Vec<Var>,
    /// One forward-pass state for every model call on this tape, so a weight used by
    /// several calls is one Var and its gradient sums over them.
    run: Run,
    device: Device,
    persistent: bool,
    /// Set once a non-persistent tape has given its gradient (TF frees it then).
    spent: bool,
}

impl GradientTape {
    /// A tape recording onto `device` (plain host tensors given to it are moved there).
    /// A non-`persistent` tape answers one `gradient` call, as TF's.
    pub fn new(device: &Device, persistent: bool) -> GradientTape {
        let tape = Tape::new();
        GradientTape {
            run: Run::new(Some(tape.clone()), false),
            tape,
            vars: vec![],
            device: device.clone(),
            persistent,
            spent: false,
        }
    }

    fn on_device(&self, t: &Tensor) -> Result<Tensor> {
        if t.device().same(&self.device) {
            return Ok(t.clone());
        }
        ensure!(
            !t.device().is_gpu(),
            "GradientTape: a tensor on {} cannot join a tape on {}",
            t.device().describe(),
            self.device.describe()
        );
        Tensor::from_data(&self.device, t.cpu_data()?.clone(), t.shape())
    }

    fn check_open(&self, what: &str) -> Result<()> {
        ensure!(
            !self.spent,
            "GradientTape.{what}: this tape already gave its gradient and was released; use keras.GradientTape({{persistent: true}}) to ask several times"
        );
        Ok(())
    }

    fn push(&mut self, var: Var) -> VarId {
        self.vars.push(var);
        self.vars.len() - 1
    }

    fn var(&self, id: VarId) -> Result<&Var> {
        self.vars.get(id).ok_or_else(|| crate::Error::new(format!("GradientTape: no recorded value #{id} on this tape")))
    }

    fn operand(&self, o: &Operand) -> Result<Var> {
        match o {
            Operand::Recorded(id) => self.var(*id).cloned(),
            Operand::Constant(t) => Ok(Var::constant(&self.on_device(t)?)),
        }
    }

    /// The value recorded under `id`.
    pub fn value(&self, id: VarId) -> Result<&Tensor> {
        self.var(id).map(Var::value)
    }

    /// Keras's `tape.watch(x)`: gradients with respect to `x` can be asked for, and ops on
    /// it are recorded. Watching a value the tape already recorded (a model's
    /// intermediate output) starts from that value again, as TF does.
    pub fn watch(&mut self, value: &Tensor) -> Result<VarId> {
        self.check_open("watch")?;
        let value = self.on_device(value)?;
        let var = self.tape.watch(&value);
        Ok(self.push(var))
    }

    /// Applies `op` to `operands`, recorded with its backward rule.
    pub fn apply(&mut self, op: &TapeOp, operands: &[Operand]) -> Result<VarId> {
        self.check_open("apply")?;
        let args: Vec<Var> = operands.iter().map(|o| self.operand(o)).collect::<Result<_>>()?;
        let arity = match op {
            TapeOp::Binary(_) | TapeOp::MatMul => 2,
            TapeOp::Concat(_) => args.len().max(1),
            _ => 1,
        };
        ensure!(args.len() == arity, "GradientTape: {op:?} takes {arity} tensor(s), got {}", args.len());
        let a = &args[0];
        let y = match op {
            TapeOp::Unary(u) => a.unary(*u)?,
            TapeOp::Binary(b) => {
                ensure!(
                    !matches!(b, BinaryOp::Greater | BinaryOp::Equal),
                    "GradientTape: {} is not differentiable",
                    b.name()
                );
                a.binary(&args[1], *b)?
            }
            TapeOp::MatMul => a.matmul(&args[1])?,
            TapeOp::Reduce { op, axes, keepdims } => a.reduce(axes, *keepdims, *op)?,
            TapeOp::Softmax { axis, log } => a.softmax(*axis, *log)?,
            TapeOp::Reshape(shape) => a.reshape(shape)?,
            TapeOp::Transpose(perm) if perm.is_empty() => a.transpose(&(0..a.shape().len()).rev().collect::<Vec<_>>())?,
            TapeOp::Transpose(perm) => a.transpose(perm)?,
            TapeOp::Slice { begin, size } => a.slice(begin, size)?,
            TapeOp::Pad { pads, value } => a.pad(pads, *value)?,
            TapeOp::Concat(axis) => Var::concat(&args.iter().collect::<Vec<_>>(), *axis)?,
        };
        Ok(self.push(y))
    }

    /// Keras's `model(x, training)` inside the tape: trainable weights are watched (once
    /// per tape), every output is recorded. Weights must already be on the tape's device
    /// (`Model::move_to`). Moving statistics (BatchNormalization in training) update now.
    pub fn call_model(&mut self, model: &Model, inputs: &[Operand], training: bool) -> Result<Vec<VarId>> {
        self.check_open("call")?;
        let args: Vec<Var> = inputs
            .iter()
            .map(|o| match o {
                // Images arrive as uint8 (loaders, loadImg); models take float32, as in predict.
                Operand::Constant(t) if t.dtype() != crate::DType::F32 => Ok(Var::constant(&self.on_device(t)?.cast(crate::DType::F32)?)),
                o => self.operand(o),
            })
            .collect::<Result<_>>()?;
        self.run.training = training;
        let outs = model.run(&args, &mut self.run).map_err(|e| e.context(format!("model \"{}\"", model.name())))?;
        self.run.apply_updates()?;
        Ok(outs.into_iter().map(|v| self.push(v)).collect())
    }

    /// The device the tape records on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// d(sum of `target`)/d(source) for each source: None where the target does not
    /// depend on it (TF's None), including weights no model call on this tape used.
    pub fn gradient(&mut self, target: VarId, sources: &[Source]) -> Result<Vec<Option<Tensor>>> {
        self.check_open("gradient")?;
        let target = self.var(target)?.clone();
        let vars: Vec<Option<Var>> = sources
            .iter()
            .map(|s| match s {
                Source::Recorded(id) => self.var(*id).cloned().map(Some),
                Source::Weight(w) => Ok(self.run.var_of(w).cloned()),
            })
            .collect::<Result<_>>()?;
        let present: Vec<&Var> = vars.iter().flatten().collect();
        let mut grads = self.tape.gradient(&target, &present, None)?.into_iter();
        let out = vars.iter().map(|v| v.as_ref().and_then(|_| grads.next().flatten())).collect();
        if !self.persistent {
            self.spent = true;
            self.vars.clear();
            self.tape = Tape::new();
            self.run = Run::new(None, false);
        }
        Ok(out)
    }
}

impl TapeOp {
    /// The op a cell's tensor method stands for: `name` is the method ("add", "sum",
    /// "reshape", ...), `args` its non-tensor arguments as the method takes them.
    pub fn from_method(name: &str, args: &serde_json::Value) -> Result<TapeOp> {
        use serde_json::Value;
        let list = |i: usize| args.get(i).filter(|v| !v.is_null());
        let ints = |i: usize| -> Result<Option<Vec<i64>>> {
            match list(i) {
                None => Ok(None),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|v| v.as_i64().ok_or_else(|| crate::Error::new(format!("{name}: expected integers, got {v}"))))
                    .collect::<Result<Vec<_>>>()
                    .map(Some),
                Some(v) => bail!("{name}: expected a list of integers, got {v}"),
            }
        };
        let num = |i: usize| -> Result<f64> {
            list(i).and_then(Value::as_f64).ok_or_else(|| crate::Error::new(format!("{name}: argument {} must be a number", i + 1)))
        };
        let flag = |i: usize| list(i).and_then(Value::as_bool).unwrap_or(false);
        let axis = |i: usize| list(i).and_then(Value::as_i64).unwrap_or(-1) as isize;
        let usizes = |v: Vec<i64>| -> Result<Vec<usize>> {
            v.into_iter().map(|d| usize::try_from(d).map_err(|_| crate::Error::new(format!("{name}: {d} is negative")))).collect()
        };
        let reduce = |op| -> Result<TapeOp> {
            let axes = ints(0)?.unwrap_or_default().into_iter().map(|a| a as isize).collect();
            Ok(TapeOp::Reduce { op, axes, keepdims: flag(1) })
        };
        Ok(match name {
            "neg" => TapeOp::Unary(UnaryOp::Neg),
            "abs" => TapeOp::Unary(UnaryOp::Abs),
            "relu" => TapeOp::Unary(UnaryOp::Relu),
            "sigmoid" => TapeOp::Unary(UnaryOp::Sigmoid),
            "tanh" => TapeOp::Unary(UnaryOp::Tanh),
            "exp" => TapeOp::Unary(UnaryOp::Exp),
            "log" => TapeOp::Unary(UnaryOp::Log),
            "sqrt" => TapeOp::Unary(UnaryOp::Sqrt),
            "square" => TapeOp::Unary(UnaryOp::Square),
            "affine" => TapeOp::Unary(UnaryOp::Affine(num(0)?, num(1)?)),
            "powScalar" => TapeOp::Unary(UnaryOp::Pow(num(0)?)),
            "clamp" => TapeOp::Unary(UnaryOp::Clamp(num(0)?, num(1)?)),
            "add" => TapeOp::Binary(BinaryOp::Add),
            "sub" => TapeOp::Binary(BinaryOp::Sub),
            "mul" => TapeOp::Binary(BinaryOp::Mul),
            "div" => TapeOp::Binary(BinaryOp::Div),
            "pow" => TapeOp::Binary(BinaryOp::Pow),
            "maximum" => TapeOp::Binary(BinaryOp::Maximum),
            "minimum" => TapeOp::Binary(BinaryOp::Minimum),
            "matmul" => TapeOp::MatMul,
            "sum" => reduce(ReduceOp::Sum)?,
            "mean" => reduce(ReduceOp::Mean)?,
            "max" => reduce(ReduceOp::Max)?,
            "min" => reduce(ReduceOp::Min)?,
            "softmax" => TapeOp::Softmax { axis: axis(0), log: false },
            "logSoftmax" => TapeOp::Softmax { axis: axis(0), log: true },
            "reshape" => TapeOp::Reshape(
                ints(0)?.ok_or_else(|| crate::Error::new("reshape: needs a shape"))?.into_iter().map(|d| d as isize).collect(),
            ),
            "transpose" => TapeOp::Transpose(usizes(ints(0)?.unwrap_or_default())?),
            "slice" => TapeOp::Slice {
                begin: usizes(ints(0)?.ok_or_else(|| crate::Error::new("slice: needs begin"))?)?,
                size: usizes(ints(1)?.ok_or_else(|| crate::Error::new("slice: needs size"))?)?,
            },
            "pad" => {
                let flat = usizes(ints(0)?.ok_or_else(|| crate::Error::new("pad: needs pads"))?)?;
                ensure!(flat.len() % 2 == 0, "pad: expects (before, after) pairs, got an odd count");
                TapeOp::Pad { pads: flat.chunks(2).map(|p| (p[0], p[1])).collect(), value: list(1).and_then(Value::as_f64).unwrap_or(0.0) }
            }
            "concat" => TapeOp::Concat(axis(0)),
            other => bail!("GradientTape: the tensor op \"{other}\" is not recorded (it has no gradient)"),
        })
    }
}
