//! wasm-bindgen façade: the only surface JavaScript sees. Thin by design: every call
//! forwards to the engine and turns `Err` into a JS exception. Nothing here may panic.

use wasm_bindgen::prelude::*;

mod applications;
mod blob_reader;
mod data;
mod files;
mod resize;
mod spatial;
mod tape;
mod models;
mod train;
mod variables;

use crate::device::Device;
use crate::error::Error;
use crate::gpu::AdapterSummary;
use crate::tensor::{CpuData, DType, Tensor};

#[wasm_bindgen(start)]
pub fn start() {
    // A panic poisons the wasm instance; if one ever slips through, name it in the console
    // and hand it to the kernel (`self.__convbookPanic`), which restarts on a fresh instance.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        report_panic(&info.to_string());
    }));
}

fn report_panic(message: &str) {
    let Ok(hook) = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("__convbookPanic")) else { return };
    if let Some(hook) = hook.dyn_ref::<js_sys::Function>() {
        let _ = hook.call1(&JsValue::NULL, &JsValue::from_str(message));
    }
}

pub(crate) fn js_err(e: Error) -> JsError {
    JsError::new(e.message())
}

/// Plain JS objects (not Maps) for maps, numbers for 64-bit integers.
pub(crate) fn to_js<T: serde::Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("could not convert result: {e}")))
}

/// Keyword arguments from JavaScript for the option reader (`crate::options`):
/// `undefined` and `null` are "none given".
pub(crate) fn json_of(v: JsValue, what: &str) -> Result<serde_json::Value, JsError> {
    if v.is_undefined() || v.is_null() {
        return Ok(serde_json::Value::Null);
    }
    serde_wasm_bindgen::from_value(v).map_err(|e| JsError::new(&format!("{what}: cannot read the options ({e})")))
}

#[derive(serde::Serialize)]
struct BackendInfo<'a> {
    kind: &'static str,
    description: String,
    adapter: Option<&'a AdapterSummary>,
    /// Why the CPU is in use, when it is.
    reason: Option<&'a str>,
    /// The SIMD this module was compiled with: "relaxed-simd" (the second browser build,
    /// fused multiply-add in the CPU GEMM), "simd128" or "none".
    simd: &'static str,
}

/// See [`BackendInfo::simd`]: read from the build itself, so it names what really runs.
const SIMD: &str = if cfg!(target_feature = "relaxed-simd") {
    "relaxed-simd"
} else if cfg!(target_feature = "simd128") {
    "simd128"
} else {
    "none"
};

#[derive(serde::Serialize)]
struct Stats {
    live_buffers: usize,
    created_buffers: usize,
    idle_buffers: usize,
    pool_bytes: u64,
    pipelines: usize,
    /// Compile milliseconds per pipeline ("conv2d:forward"): the bench page reads it.
    #[serde(rename = "pipelineCompileMs")]
    pipeline_compile_ms: std::collections::BTreeMap<String, f64>,
    /// Host tensor storages alive and their bytes: the CPU backend's memory, and on a
    /// GPU the datasets and results kept in host memory.
    host_tensors: usize,
    host_bytes: u64,
}

/// The engine: one device and its tensors.
#[wasm_bindgen]
pub struct Engine {
    device: Device,
    fallback_reason: Option<String>,
}

#[wasm_bindgen]
impl Engine {
    /// `backend`: "auto" (WebGPU, else CPU with the reason recorded), "webgpu" (error
    /// when unavailable) or "cpu".
    pub async fn create(backend: Option<String>) -> Result<Engine, JsError> {
        let want = backend.unwrap_or_else(|| "auto".into());
        match want.as_str() {
            "cpu" => Ok(Engine { device: Device::Cpu, fallback_reason: Some("CPU requested".into()) }),
            "webgpu" => Ok(Engine { device: Device::gpu().await.map_err(js_err)?, fallback_reason: None }),
            "auto" => Ok(match Device::gpu().await {
                Ok(device) => Engine { device, fallback_reason: None },
                Err(e) => Engine { device: Device::Cpu, fallback_reason: Some(e.message().to_string()) },
            }),
            other => Err(JsError::new(&format!("unknown backend '{other}': use 'auto', 'webgpu' or 'cpu'"))),
        }
    }

    /// `{kind, description, adapter, reason}` for the backend badge.
    pub fn backend(&self) -> Result<JsValue, JsError> {
        let (kind, adapter) = match &self.device {
            Device::Gpu(ctx) => ("webgpu", Some(ctx.summary())),
            Device::Cpu => ("cpu", None),
        };
        to_js(&BackendInfo {
            kind,
            description: self.device.describe(),
            adapter,
            reason: self.fallback_reason.as_deref(),
            simd: SIMD,
        })
    }

    pub fn tensor(&self, data: &[f32], shape: Vec<usize>) -> Result<JsTensor, JsError> {
        wrap(Tensor::from_f32(&self.device, data.to_vec(), &shape))
    }

    #[wasm_bindgen(js_name = tensorInt32)]
    pub fn tensor_i32(&self, data: &[i32], shape: Vec<usize>) -> Result<JsTensor, JsError> {
        wrap(Tensor::from_i32(&self.device, data.to_vec(), &shape))
    }

    #[wasm_bindgen(js_name = tensorUint8)]
    pub fn tensor_u8(&self, data: &[u8], shape: Vec<usize>) -> Result<JsTensor, JsError> {
        wrap(Tensor::from_u8(&self.device, data.to_vec(), &shape))
    }

    pub fn fill(&self, shape: Vec<usize>, value: f32) -> Result<JsTensor, JsError> {
        wrap(crate::ops::elementwise::fill(&self.device, &shape, value))
    }

    /// Join along `axis`. Takes handles by value: pass `t.clone()` to keep yours.
    pub fn concat(&self, tensors: Vec<JsTensor>, axis: i32) -> Result<JsTensor, JsError> {
        // Host tensors join the first device tensor's device.
        let lead = tensors.iter().find(|t| t.inner.device().is_gpu()).or(tensors.first());
        let moved: Vec<Tensor> = match lead {
            Some(lead) => tensors
                .iter()
                .map(|t| beside(&lead.inner, &t.inner).map(|(_, t)| t))
                .collect::<crate::Result<_>>()
                .map_err(js_err)?,
            None => vec![],
        };
        let refs: Vec<&Tensor> = moved.iter().collect();
        wrap(crate::ops::copy::concat(&refs, axis as isize))
    }

    /// Buffer-pool, pipeline-cache and host-memory counters (leak checks, the bench page).
    pub fn stats(&self) -> Result<JsValue, JsError> {
        let (pool, pipelines, pipeline_compile_ms) = match &self.device {
            Device::Gpu(ctx) => (ctx.pool_stats(), ctx.pipeline_count(), ctx.pipeline_compile_ms()),
            Device::Cpu => (Default::default(), 0, Default::default()),
        };
        let host = crate::host_memory::host_memory_stats();
        to_js(&Stats {
            live_buffers: pool.live,
            created_buffers: pool.created,
            idle_buffers: pool.idle,
            pool_bytes: pool.bytes,
            pipelines,
            pipeline_compile_ms,
            host_tensors: host.live,
            host_bytes: host.bytes,
        })
    }

    /// Resolves when all queued GPU work is done.
    pub fn sync(&self) -> js_sys::Promise {
        let device = self.device.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            device.sync().await.map_err(|e| JsValue::from(js_err(e)))?;
            Ok(JsValue::UNDEFINED)
        })
    }
}

#[wasm_bindgen]
impl Engine {
    /// Why the GPU device was lost, or undefined while it works (always on the CPU).
    #[wasm_bindgen(js_name = deviceLost)]
    pub fn device_lost(&self) -> Option<String> {
        match &self.device {
            Device::Gpu(ctx) => ctx.lost_reason(),
            Device::Cpu => None,
        }
    }

    /// Calls `listener(reason)` when the GPU device is lost (never on the CPU).
    #[wasm_bindgen(js_name = onDeviceLost)]
    pub fn on_device_lost(&self, listener: js_sys::Function) {
        let Device::Gpu(ctx) = &self.device else { return };
        // wgpu wants a Send callback; wasm has one thread, so the JS function waits in a
        // thread-local and the callback only looks it up.
        let id = LOST_LISTENERS.with(|l| {
            let mut l = l.borrow_mut();
            l.push(listener);
            l.len() - 1
        });
        ctx.on_lost(move |reason| {
            LOST_LISTENERS.with(|l| {
                if let Some(f) = l.borrow().get(id) {
                    let _ = f.call1(&JsValue::NULL, &JsValue::from_str(reason));
                }
            })
        });
    }
}

thread_local! {
    static LOST_LISTENERS: std::cell::RefCell<Vec<js_sys::Function>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Entry points for the browser tests of the kernel's recovery paths, compiled only with
/// the `test-hooks` feature (`cargo xtask test` builds with it, the served build without).
#[cfg(feature = "test-hooks")]
#[wasm_bindgen]
impl Engine {
    /// Panics on purpose: the wasm instance is poisoned, as by a bug.
    #[wasm_bindgen(js_name = testPanic)]
    pub fn test_panic(&self, message: String) {
        panic!("{message}");
    }

    /// `GPUDevice.destroy()`, as a driver reset would; false on the CPU.
    #[wasm_bindgen(js_name = testDestroyDevice)]
    pub fn test_destroy_device(&self) -> bool {
        match &self.device {
            Device::Gpu(ctx) => {
                ctx.destroy_device();
                true
            }
            Device::Cpu => false,
        }
    }

    /// f32 CPU ops run the reference loops (true) or the fast kernels (false, the
    /// default), so a test can hold the wasm SIMD path against the obviously-correct one.
    #[wasm_bindgen(js_name = testReferenceKernels)]
    pub fn test_reference_kernels(&self, on: bool) {
        crate::cpu::set_reference_kernels(on);
    }
}

impl Engine {
    pub(crate) fn device(&self) -> &Device {
        &self.device
    }
}

/// `b` on `a`'s device when one of them is a host tensor (dataset loaders return host
/// tensors; `tensor()` makes device ones): cells mix them freely, as with one backend.
pub(crate) fn beside(a: &Tensor, b: &Tensor) -> crate::Result<(Tensor, Tensor)> {
    let (da, db) = (a.device(), b.device());
    if da.same(db) {
        return Ok((a.clone(), b.clone()));
    }
    if !db.is_gpu() {
        return Ok((a.clone(), Tensor::from_data(da, b.cpu_data()?.clone(), b.shape())?));
    }
    if !da.is_gpu() {
        return Ok((Tensor::from_data(db, a.cpu_data()?.clone(), a.shape())?, b.clone()));
    }
    Ok((a.clone(), b.clone()))
}

pub(crate) fn wrap(r: crate::Result<Tensor>) -> Result<JsTensor, JsError> {
    r.map(|inner| JsTensor { inner }).map_err(js_err)
}

fn parse_dtype(name: &str) -> Result<DType, JsError> {
    Ok(match name {
        "float32" => DType::F32,
        "int32" => DType::I32,
        "uint8" => DType::U8,
        other => return Err(JsError::new(&format!("unknown dtype '{other}': use float32, int32 or uint8"))),
    })
}

/// A tensor handle. `dispose()` (or `free()`) returns its GPU buffer to the pool now
/// rather than at garbage collection.
#[wasm_bindgen(js_name = Tensor)]
pub struct JsTensor {
    pub(crate) inner: Tensor,
}

macro_rules! unary_methods {
    ($($js:literal => $name:ident),* $(,)?) => {
        #[wasm_bindgen(js_class = Tensor)]
        impl JsTensor {
            $(
                #[wasm_bindgen(js_name = $js)]
                pub fn $name(&self) -> Result<JsTensor, JsError> {
                    wrap(self.inner.$name())
                }
            )*
        }
    };
}

macro_rules! binary_methods {
    ($($js:literal => $name:ident),* $(,)?) => {
        #[wasm_bindgen(js_class = Tensor)]
        impl JsTensor {
            $(
                #[wasm_bindgen(js_name = $js)]
                pub fn $name(&self, other: &JsTensor) -> Result<JsTensor, JsError> {
                    let (a, b) = beside(&self.inner, &other.inner).map_err(js_err)?;
                    wrap(a.$name(&b))
                }
            )*
        }
    };
}

unary_methods!(
    "neg" => neg, "abs" => abs, "relu" => relu, "sigmoid" => sigmoid, "tanh" => tanh,
    "exp" => exp, "log" => log, "sqrt" => sqrt, "square" => square,
);

binary_methods!(
    "add" => add, "sub" => sub, "mul" => mul, "div" => div, "pow" => pow,
    "maximum" => maximum, "minimum" => minimum, "greater" => greater, "equal" => equal,
    "matmul" => matmul,
);

fn axes_arg(axes: Option<Vec<i32>>) -> Vec<isize> {
    axes.unwrap_or_default().into_iter().map(|a| a as isize).collect()
}

#[wasm_bindgen(js_class = Tensor)]
impl JsTensor {
    #[wasm_bindgen(getter)]
    pub fn shape(&self) -> Vec<u32> {
        self.inner.shape().iter().map(|&d| d as u32).collect()
    }

    #[wasm_bindgen(getter)]
    pub fn dtype(&self) -> String {
        self.inner.dtype().name().to_string()
    }

    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.inner.numel()
    }

    /// Another handle to the same tensor.
    #[wasm_bindgen(js_name = clone)]
    pub fn handle(&self) -> JsTensor {
        JsTensor { inner: self.inner.clone() }
    }

    pub fn dispose(self) {}

    #[wasm_bindgen(js_name = toString)]
    pub fn to_string_js(&self) -> String {
        format!("Tensor({})", self.inner.describe())
    }

    pub fn clamp(&self, lo: f32, hi: f32) -> Result<JsTensor, JsError> {
        wrap(self.inner.clamp(lo as f64, hi as f64))
    }

    #[wasm_bindgen(js_name = powScalar)]
    pub fn pow_scalar(&self, p: f32) -> Result<JsTensor, JsError> {
        wrap(self.inner.pow_scalar(p as f64))
    }

    /// `x * scale + shift`.
    pub fn affine(&self, scale: f32, shift: f32) -> Result<JsTensor, JsError> {
        wrap(self.inner.affine(scale as f64, shift as f64))
    }

    pub fn sum(&self, axes: Option<Vec<i32>>, keepdims: Option<bool>) -> Result<JsTensor, JsError> {
        wrap(self.inner.sum(&axes_arg(axes), keepdims.unwrap_or(false)))
    }

    pub fn mean(&self, axes: Option<Vec<i32>>, keepdims: Option<bool>) -> Result<JsTensor, JsError> {
        wrap(self.inner.mean(&axes_arg(axes), keepdims.unwrap_or(false)))
    }

    pub fn max(&self, axes: Option<Vec<i32>>, keepdims: Option<bool>) -> Result<JsTensor, JsError> {
        wrap(self.inner.max(&axes_arg(axes), keepdims.unwrap_or(false)))
    }

    pub fn min(&self, axes: Option<Vec<i32>>, keepdims: Option<bool>) -> Result<JsTensor, JsError> {
        wrap(self.inner.min(&axes_arg(axes), keepdims.unwrap_or(false)))
    }

    pub fn argmax(&self, axis: Option<i32>) -> Result<JsTensor, JsError> {
        wrap(self.inner.argmax(axis.unwrap_or(-1) as isize))
    }

    pub fn softmax(&self, axis: Option<i32>) -> Result<JsTensor, JsError> {
        wrap(self.inner.softmax(axis.unwrap_or(-1) as isize))
    }

    #[wasm_bindgen(js_name = logSoftmax)]
    pub fn log_softmax(&self, axis: Option<i32>) -> Result<JsTensor, JsError> {
        wrap(self.inner.log_softmax(axis.unwrap_or(-1) as isize))
    }

    pub fn transpose(&self, perm: Option<Vec<u32>>) -> Result<JsTensor, JsError> {
        let perm: Vec<usize> = match perm {
            Some(p) => p.into_iter().map(|a| a as usize).collect(),
            None => (0..self.inner.rank()).rev().collect(),
        };
        wrap(self.inner.transpose(&perm))
    }

    pub fn reshape(&self, shape: Vec<i32>) -> Result<JsTensor, JsError> {
        wrap(self.inner.reshape(&shape.into_iter().map(|d| d as isize).collect::<Vec<_>>()))
    }

    pub fn slice(&self, begin: Vec<u32>, size: Vec<u32>) -> Result<JsTensor, JsError> {
        let b: Vec<usize> = begin.into_iter().map(|v| v as usize).collect();
        let s: Vec<usize> = size.into_iter().map(|v| v as usize).collect();
        wrap(self.inner.slice(&b, &s))
    }

    /// `pads` is flat: [before0, after0, before1, after1, ...].
    pub fn pad(&self, pads: Vec<u32>, value: Option<f64>) -> Result<JsTensor, JsError> {
        if pads.len() % 2 != 0 {
            return Err(JsError::new("pad: expects (before, after) pairs, got an odd count"));
        }
        let pairs: Vec<(usize, usize)> = pads.chunks(2).map(|p| (p[0] as usize, p[1] as usize)).collect();
        wrap(self.inner.pad(&pairs, value.unwrap_or(0.0)))
    }

    #[wasm_bindgen(js_name = broadcastTo)]
    pub fn broadcast_to(&self, shape: Vec<u32>) -> Result<JsTensor, JsError> {
        wrap(self.inner.broadcast_to(&shape.into_iter().map(|d| d as usize).collect::<Vec<_>>()))
    }

    pub fn cast(&self, dtype: &str) -> Result<JsTensor, JsError> {
        wrap(self.inner.cast(parse_dtype(dtype)?))
    }

    /// Resolves to a Float32Array / Int32Array / Uint8Array of the values.
    pub fn data(&self) -> js_sys::Promise {
        let t = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let data = t.to_data().await.map_err(|e| JsValue::from(js_err(e)))?;
            Ok(match data {
                CpuData::F32(v) => js_sys::Float32Array::from(v.as_slice()).into(),
                CpuData::I32(v) => js_sys::Int32Array::from(v.as_slice()).into(),
                CpuData::U8(v) => js_sys::Uint8Array::from(v.as_slice()).into(),
                CpuData::F64(v) => js_sys::Float64Array::from(v.as_slice()).into(),
            })
        })
    }
}
