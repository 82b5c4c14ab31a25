//! Compile ahead: a dry pass of a model on one zero sample makes the engine compile (on a
//! GPU) every pipeline the forward pass uses, and with `training` the backward pass too,
//! so the first real batch finds them ready. On a GPU the pass only records work; the
//! caller decides when to wait for it. Nothing it computes is kept: weights (and the
//! device they live on), moving statistics and the seeded random stream stay as they were.

use crate::error::Result;
use crate::graph::{Tape, Var};
use crate::nn::model::{Model, Run};
use crate::tensor::Tensor;
use crate::Device;

/// The batch the dry pass plans kernel choices for (see `GpuContext::planned_rows`).
const PLANNING_BATCH: usize = 32;

impl Model {
    /// Run the dry pass on `device`. Returns false, having done nothing, when an input
    /// has a dimension besides the batch left open (no sample size to pick).
    pub fn warm_up(&self, device: &Device, training: bool) -> Result<bool> {
        let mut inputs = Vec::with_capacity(self.inputs().len());
        for input in self.inputs() {
            let Some(sample) = input.shape().iter().skip(1).copied().collect::<Option<Vec<usize>>>() else {
                return Ok(false);
            };
            let shape: Vec<usize> = std::iter::once(1).chain(sample).collect();
            let zeros = vec![0.0; shape.iter().product()];
            inputs.push(Var::constant(&Tensor::from_f32(device, zeros, &shape)?));
        }
        // The pass runs one sample, but picks kernels as for a batch of 32 (Keras's
        // default batch size): the first real batch then finds its pipelines compiled.
        let _plan = match device {
            Device::Gpu(ctx) => Some(ctx.plan_for_batch(PLANNING_BATCH)),
            _ => None,
        };
        let tape = training.then(Tape::new);
        let mut run = Run::dry(tape.clone(), training, 0);
        let outputs = self.run(&inputs, &mut run)?;
        let Some(tape) = tape else { return Ok(true) };
        // Any scalar that depends on every output reaches every weight's gradient.
        let mut total: Option<Var> = None;
        for out in outputs.iter().filter(|o| o.value().dtype().is_float()) {
            let axes: Vec<isize> = (0..out.value().rank() as isize).collect();
            let s = out.sum(&axes, false)?;
            total = Some(match total {
                None => s,
                Some(t) => t.add(&s)?,
            });
        }
        let Some(total) = total else { return Ok(true) };
        let vars: Vec<Var> = self.trainable_weights().iter().filter_map(|w| run.var_of(w).cloned()).collect();
        tape.gradient(&total, &vars.iter().collect::<Vec<_>>(), None)?;
        // `run` drops its moving-statistic updates unapplied.
        Ok(true)
    }
}
