//! Tensors: an immutable, cheaply clonable handle to data on a device, with a shape and
//! a dtype. Reshape shares storage; every op returns a new tensor.

use std::sync::Arc;

use crate::device::Device;
use crate::error::{Error, Result};
use crate::gpu::GpuBuffer;
use crate::host_memory::HostCharge;
use crate::shape::{fmt_shape, numel};
use crate::{bail, ensure};

/// Element type of a tensor (Keras names: float32, float64, int32, uint8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// The working type of every GPU kernel.
    F32,
    /// CPU only: finite-difference gradient checks run in f64.
    F64,
    /// Integer labels, argmax results.
    I32,
    /// Images and labels as loaded, until a batch is cast to f32.
    U8,
}

impl DType {
    /// The Keras / NumPy name ("float32").
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::I32 => "int32",
            DType::U8 => "uint8",
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::F32 | DType::I32 => 4,
            DType::F64 => 8,
            DType::U8 => 1,
        }
    }

    /// Whether the type is floating point (so gradients can flow through it).
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }
}

/// Host-side data, one vector type per dtype.
#[derive(Clone, Debug, PartialEq)]
pub enum CpuData {
    /// float32 values.
    F32(Vec<f32>),
    /// float64 values.
    F64(Vec<f64>),
    /// int32 values.
    I32(Vec<i32>),
    /// uint8 values.
    U8(Vec<u8>),
}

impl CpuData {
    /// The dtype the vector holds.
    pub fn dtype(&self) -> DType {
        match self {
            CpuData::F32(_) => DType::F32,
            CpuData::F64(_) => DType::F64,
            CpuData::I32(_) => DType::I32,
            CpuData::U8(_) => DType::U8,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            CpuData::F32(v) => v.len(),
            CpuData::F64(v) => v.len(),
            CpuData::I32(v) => v.len(),
            CpuData::U8(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            CpuData::F32(v) => bytemuck::cast_slice(v),
            CpuData::F64(v) => bytemuck::cast_slice(v),
            CpuData::I32(v) => bytemuck::cast_slice(v),
            CpuData::U8(v) => v,
        }
    }

    fn from_bytes(dtype: DType, bytes: &[u8]) -> CpuData {
        match dtype {
            DType::F32 => CpuData::F32(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()),
            DType::I32 => CpuData::I32(bytes.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()),
            DType::F64 => CpuData::F64(
                bytes
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                    .collect(),
            ),
            DType::U8 => CpuData::U8(bytes.to_vec()),
        }
    }

    /// Values as f64 whatever the dtype (for printing and comparisons).
    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            CpuData::F32(v) => v.iter().map(|&x| x as f64).collect(),
            CpuData::F64(v) => v.clone(),
            CpuData::I32(v) => v.iter().map(|&x| x as f64).collect(),
            CpuData::U8(v) => v.iter().map(|&x| x as f64).collect(),
        }
    }
}

pub(crate) enum Storage {
    // The charge is never read: it counts the storage until it is dropped.
    Cpu(CpuData, #[allow(dead_code)] HostCharge),
    Gpu(GpuBuffer),
}

impl Storage {
    /// Host storage, counted in `host_memory_stats` until it is dropped.
    fn cpu(data: CpuData) -> Storage {
        let bytes = data.len() * data.dtype().size();
        Storage::Cpu(data, HostCharge::new(bytes))
    }
}

/// An n-dimensional array on a [`Device`]; cloning shares the storage.
#[derive(Clone)]
pub struct Tensor {
    shape: Vec<usize>,
    dtype: DType,
    device: Device,
    storage: Arc<Storage>,
}

impl Tensor {
    /// Put host data on `device`, checking that it fills `shape`.
    pub fn from_data(device: &Device, data: CpuData, shape: &[usize]) -> Result<Tensor> {
        crate::shape::check_rank(shape, "tensor")?;
        ensure!(
            data.len() == numel(shape),
            "{} values cannot fill a tensor of shape {} ({} elements)",
            data.len(),
            fmt_shape(shape),
            numel(shape)
        );
        let dtype = data.dtype();
        let storage = match device {
            Device::Cpu => Storage::cpu(data),
            Device::Gpu(ctx) => {
                ensure!(dtype != DType::F64, "float64 tensors are CPU-only; WGSL has no f64");
                Storage::Gpu(ctx.upload(data.as_bytes(), &format!("tensor of shape {}", fmt_shape(shape)))?)
            }
        };
        Ok(Tensor { shape: shape.to_vec(), dtype, device: device.clone(), storage: Arc::new(storage) })
    }

    /// A float32 tensor from host values.
    pub fn from_f32(device: &Device, data: Vec<f32>, shape: &[usize]) -> Result<Tensor> {
        Tensor::from_data(device, CpuData::F32(data), shape)
    }

    /// A float64 tensor from host values (CPU gradient checks).
    pub fn from_f64(device: &Device, data: Vec<f64>, shape: &[usize]) -> Result<Tensor> {
        Tensor::from_data(device, CpuData::F64(data), shape)
    }

    /// An int32 tensor from host values.
    pub fn from_i32(device: &Device, data: Vec<i32>, shape: &[usize]) -> Result<Tensor> {
        Tensor::from_data(device, CpuData::I32(data), shape)
    }

    /// A uint8 tensor from host values.
    pub fn from_u8(device: &Device, data: Vec<u8>, shape: &[usize]) -> Result<Tensor> {
        Tensor::from_data(device, CpuData::U8(data), shape)
    }

    /// A new tensor on the GPU whose buffer a kernel is about to fill.
    pub(crate) fn from_gpu_buffer(device: &Device, buffer: GpuBuffer, shape: &[usize], dtype: DType) -> Tensor {
        Tensor { shape: shape.to_vec(), dtype, device: device.clone(), storage: Arc::new(Storage::Gpu(buffer)) }
    }

    pub(crate) fn from_cpu(shape: &[usize], data: CpuData) -> Tensor {
        Tensor { shape: shape.to_vec(), dtype: data.dtype(), device: Device::Cpu, storage: Arc::new(Storage::cpu(data)) }
    }

    /// Dimensions, outermost first (NHWC for images).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        numel(&self.shape)
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The device holding the data.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// "float32 (2, 3)" for error messages.
    pub fn describe(&self) -> String {
        format!("{} {}", self.dtype.name(), fmt_shape(&self.shape))
    }


    pub(crate) fn gpu_buffer(&self) -> Result<&GpuBuffer> {
        match &*self.storage {
            Storage::Gpu(b) => Ok(b),
            Storage::Cpu(..) => Err(Error::new("expected a GPU tensor, found a CPU one")),
        }
    }

    /// The host values of a CPU tensor without copying; errors for a GPU tensor.
    pub fn cpu_data(&self) -> Result<&CpuData> {
        match &*self.storage {
            Storage::Cpu(d, _) => Ok(d),
            Storage::Gpu(_) => Err(Error::new("expected a CPU tensor, found a GPU one")),
        }
    }

    /// Same data, new shape (one dimension may be -1).
    pub fn reshape(&self, shape: &[isize]) -> Result<Tensor> {
        let known: usize = shape.iter().filter(|&&d| d >= 0).map(|&d| d as usize).product();
        let unknown = shape.iter().filter(|&&d| d < 0).count();
        let n = self.numel();
        let resolved: Vec<usize> = match unknown {
            0 => shape.iter().map(|&d| d as usize).collect(),
            1 if known > 0 && n % known == 0 => {
                shape.iter().map(|&d| if d < 0 { n / known } else { d as usize }).collect()
            }
            _ => bail!("cannot reshape {} to {:?}", self.describe(), shape),
        };
        ensure!(
            numel(&resolved) == n && shape.iter().all(|&d| d >= -1),
            "cannot reshape {} ({n} elements) to {}",
            self.describe(),
            fmt_shape(&resolved)
        );
        crate::shape::check_rank(&resolved, "reshape")?;
        Ok(Tensor { shape: resolved, dtype: self.dtype, device: self.device.clone(), storage: self.storage.clone() })
    }

    /// Copy the values to the host.
    pub async fn to_data(&self) -> Result<CpuData> {
        match &*self.storage {
            Storage::Cpu(d, _) => Ok(d.clone()),
            Storage::Gpu(buf) => {
                let ctx = match &self.device {
                    Device::Gpu(ctx) => ctx,
                    Device::Cpu => bail!("internal: GPU storage on a CPU tensor"),
                };
                let bytes = ctx.read_bytes(buf, (self.numel() * self.dtype.size()) as u64).await?;
                Ok(CpuData::from_bytes(self.dtype, &bytes))
            }
        }
    }

    /// Values as f32 (ints converted); errors for f64 to avoid silent precision loss.
    pub async fn to_f32_vec(&self) -> Result<Vec<f32>> {
        match self.to_data().await? {
            CpuData::F32(v) => Ok(v),
            CpuData::I32(v) => Ok(v.into_iter().map(|x| x as f32).collect()),
            CpuData::U8(v) => Ok(v.into_iter().map(|x| x as f32).collect()),
            CpuData::F64(_) => bail!("to_f32_vec on a float64 tensor; use to_data"),
        }
    }

    /// Values of an int32 tensor; errors for any other dtype.
    pub async fn to_i32_vec(&self) -> Result<Vec<i32>> {
        match self.to_data().await? {
            CpuData::I32(v) => Ok(v),
            other => bail!("to_i32_vec on a {} tensor", other.dtype().name()),
        }
    }

    /// The same values on another device.
    pub async fn to_device(&self, device: &Device) -> Result<Tensor> {
        if self.device.same(device) {
            return Ok(self.clone());
        }
        let data = self.to_data().await?;
        Tensor::from_data(device, data, &self.shape)
    }

    /// Single value of a one-element tensor.
    pub async fn item(&self) -> Result<f64> {
        ensure!(self.numel() == 1, "item() needs a one-element tensor, got {}", self.describe());
        Ok(self.to_data().await?.to_f64()[0])
    }
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor({} on {})", self.describe(), self.device.describe())
    }
}
