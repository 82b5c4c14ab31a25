//! The optimizer's state in a Keras 3 `model.weights.h5`: `optimizer/vars/<i>` holds
//! Keras's `optimizer.variables` in order: `iteration` (int32 scalar), `learning_rate`
//! (float32 scalar), then the slot variables of the model's trainable weights in the
//! order each optimizer's `build` creates them (Keras 3.15):
//! - Adam: the momentum and velocity of each weight in turn, then (amsgrad) every
//!   velocity_hat;
//! - RMSprop: every velocity, then every momentum (momentum > 0), then every
//!   average_gradient (centered);
//! - SGD: every momentum (momentum != 0), nothing otherwise.
//!
//! A compiled model that never trained has only the first two. Keras builds the slots
//! when it loads a model and restores the state only when the file holds all of them.

use crate::error::{Error, Result};
use crate::io::hdf5::{H5Group, H5Tree};
use crate::nn::from_keras::snake_case;
use crate::nn::model::Model;
use crate::ops::optim_update::OptimizerConfig;
use crate::tensor::{CpuData, Tensor};
use crate::Device;

/// `(weight index, slot index)` of each slot variable after the first two, in the order
/// Keras lists them; slot indices follow `OptimizerConfig::slot_names`.
pub(crate) fn keras_slot_order(config: &OptimizerConfig, weights: usize) -> Vec<(usize, usize)> {
    let slots = config.slot_count();
    // Adam creates its first two slots together, per weight; every other slot (and every
    // slot of the others) is created for all weights at once.
    let paired = if matches!(config, OptimizerConfig::Adam { .. }) { 2 } else { 0 };
    let mut order: Vec<(usize, usize)> = (0..weights).flat_map(|w| (0..paired).map(move |s| (w, s))).collect();
    for s in paired..slots {
        order.extend((0..weights).map(|w| (w, s)));
    }
    order
}

/// The number scalar dataset `name` holds (an int or a float).
fn read_scalar(vars: &H5Group<'_>, name: &str) -> Result<f64> {
    let array = vars.read_array(name)?;
    let values = array.data.to_f64();
    match values.as_slice() {
        [v] => Ok(*v),
        _ => Err(Error::new(format!("{}/{name}: expected one number, found shape {:?}", vars.path(), array.shape))),
    }
}

impl Model {
    /// Writes `optimizer/vars` into a `model.weights.h5` tree when the model is compiled:
    /// slots a weight has not used yet are written as zeros, Keras's initial value.
    pub(crate) async fn fill_optimizer_vars(&self, root: &mut H5Tree) -> Result<()> {
        let weights = self.trainable_weights();
        let state = {
            let compiled = self.compiled().borrow();
            let Some(c) = compiled.as_ref() else { return Ok(()) };
            let optimizer = &c.optimizer;
            let slots: Vec<Option<Vec<Tensor>>> = weights.iter().map(|w| optimizer.slots_of(w).map(<[Tensor]>::to_vec)).collect();
            (optimizer.config.clone(), optimizer.iterations(), slots)
        };
        let (config, iterations, slots) = state;
        let iterations = i32::try_from(iterations)
            .map_err(|_| Error::new(format!("optimizer: {iterations} iterations do not fit Keras's int32 counter")))?;
        let vars = root.group("optimizer").group("vars");
        vars.attrs.push(("name".into(), snake_case(config.keras_class())));
        vars.datasets.push(("0".into(), vec![], CpuData::I32(vec![iterations])));
        vars.datasets.push(("1".into(), vec![], CpuData::F32(vec![config.learning_rate() as f32])));
        for (i, (w, s)) in keras_slot_order(&config, weights.len()).into_iter().enumerate() {
            let shape = weights[w].shape();
            let data = match &slots[w] {
                Some(tensors) => tensors[s].cast(crate::tensor::DType::F32)?.to_data().await?,
                None => CpuData::F32(vec![0.0; shape.iter().product()]),
            };
            vars.datasets.push(((i + 2).to_string(), shape, data));
        }
        Ok(())
    }

    /// Restores the optimizer's state from `optimizer/vars` of a `model.weights.h5`
    /// (`root`), if the model was compiled and the file has one. As Keras's loader
    /// (which builds the slots of every trainable weight first), the state is restored
    /// only when the file holds every variable; otherwise the optimizer starts fresh
    /// (a model saved before training has only `iteration` and `learning_rate`).
    pub(crate) fn load_optimizer_vars(&self, root: &H5Group<'_>) -> Result<()> {
        if self.compiled().borrow().is_none() || !root.has_group("optimizer") {
            return Ok(());
        }
        let optimizer = root.group("optimizer")?;
        if !optimizer.has_group("vars") {
            return Ok(());
        }
        let vars = optimizer.group("vars")?;
        let weights = self.trainable_weights();
        let config = self.with_compiled(|c| Ok(c.optimizer.config.clone()))?;
        let order = keras_slot_order(&config, weights.len());
        if vars.datasets()?.len() != order.len() + 2 {
            return Ok(());
        }
        let iterations = read_scalar(&vars, "0")?;
        if !(iterations >= 0.0 && iterations.fract() == 0.0) {
            crate::bail!("{}/0: the iteration count {iterations} is not a count", vars.path());
        }
        let learning_rate = read_scalar(&vars, "1")?;
        let mut slots: Vec<Vec<Option<Tensor>>> = vec![vec![None; config.slot_count()]; weights.len()];
        for (i, (w, s)) in order.into_iter().enumerate() {
            let array = vars.read_array(&(i + 2).to_string())?;
            slots[w][s] = Some(Tensor::from_data(&Device::Cpu, array.data, &array.shape)?.cast(crate::tensor::DType::F32)?);
        }
        let slots = weights
            .into_iter()
            .zip(slots)
            .map(|(w, s)| (w, s.into_iter().flatten().collect::<Vec<_>>()))
            .collect();
        self.with_compiled(|c| {
            // Keras keeps the rate as float32: a variable equal to the config's rate in
            // float32 leaves the config's (maybe more precise) value alone.
            if learning_rate as f32 != c.optimizer.config.learning_rate() as f32 {
                c.optimizer.config.set_learning_rate(learning_rate);
            }
            c.optimizer.restore(iterations as usize, slots)
        })
        .map_err(|e| e.context(vars.path().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::keras_slot_order;
    use crate::ops::optim_update::OptimizerConfig;

    #[test]
    fn slot_order_is_kerass_build_order() {
        let adam = OptimizerConfig::Adam { learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: true };
        assert_eq!(keras_slot_order(&adam, 2), [(0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (1, 2)]);
        let rmsprop = OptimizerConfig::RmsProp { learning_rate: 0.001, rho: 0.9, momentum: 0.5, epsilon: 1e-7, centered: true };
        assert_eq!(keras_slot_order(&rmsprop, 2), [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]);
        assert_eq!(keras_slot_order(&OptimizerConfig::sgd(), 3), []);
        let momentum = OptimizerConfig::Sgd { learning_rate: 0.01, momentum: 0.9, nesterov: true };
        assert_eq!(keras_slot_order(&momentum, 2), [(0, 0), (1, 0)]);
    }
}
