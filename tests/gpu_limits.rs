//! GPU buffers past the device's limits are errors naming the op (or layer), the shape,
//! the size and the limit, never a validation error about bind groups or a lost device;
//! the device keeps working afterwards. The tests open devices with limits smaller than
//! the adapter's, as a phone's GPU would have.

mod common;
use common::*;

use convbook::gpu::GpuContext;
use convbook::nn::{input, Layer, LayerKind, Model};
use convbook::{Device, Tensor};
use serde_json::json;

const MIB: u64 = 1 << 20;

fn small_gpu(max_storage_binding: u64, max_buffer: u64) -> Device {
    Device::Gpu(block(GpuContext::with_buffer_limits(max_storage_binding, max_buffer)).expect("GPU"))
}

fn ones(device: &Device, shape: &[usize]) -> Tensor {
    Tensor::from_f32(device, vec![1.0; shape.iter().product()], shape).unwrap()
}

/// The device still runs kernels and reads back, with no error left over from the refusal.
fn assert_still_works(device: &Device) {
    let a = Tensor::from_f32(device, vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    let b = Tensor::from_f32(device, vec![1.0, 0.0, 0.0, 1.0], &[2, 2]).unwrap();
    let c = a.matmul(&b).unwrap();
    assert_eq!(block(c.to_f32_vec()).unwrap(), vec![1.0, 2.0, 3.0, 4.0]);
    block(device.sync()).expect("an error from the refused buffer leaked to the next sync");
}

#[test]
fn an_op_output_past_the_binding_limit_names_the_op_shape_size_and_limit() {
    let device = small_gpu(MIB, 4 * MIB);
    let (a, b) = (ones(&device, &[600, 8]), ones(&device, &[8, 600]));
    let e = a.matmul(&b).unwrap_err().to_string();
    assert_eq!(
        e,
        "matmul output (600, 600) float32: 1440000 bytes (1.4 MiB) exceed this GPU's \
         maxStorageBufferBindingSize of 1048576 bytes (1.0 MiB); use a smaller batch size or input"
    );
    assert_still_works(&device);
    // Just under the limit is fine.
    let (a, b) = (ones(&device, &[512, 8]), ones(&device, &[8, 512]));
    let c = block(a.matmul(&b).unwrap().to_f32_vec()).unwrap();
    assert!(c.len() == 512 * 512 && c.iter().all(|&v| v == 8.0));
}

#[test]
fn a_layer_past_the_limit_is_named_with_its_op() {
    let device = small_gpu(MIB, 4 * MIB);
    let inputs = input(&[64, 64, 3], None).unwrap();
    let conv = Layer::new(
        LayerKind::from_config("Conv2D", &json!({"filters": 128, "kernel_size": 3, "padding": "same"})).unwrap(),
        Some("wide_conv"),
    );
    let out = conv.call(&[inputs.clone()]).unwrap();
    let model = Model::new(&[inputs], &[out], None).unwrap();
    model.to_device(&device).unwrap();
    let x = Tensor::from_f32(&device, vec![0.5; 64 * 64 * 3], &[1, 64, 64, 3]).unwrap();
    let e = model.call(&[x], false).unwrap_err().to_string();
    assert!(e.contains("layer \"wide_conv\" (Conv2D)"), "{e}");
    assert!(
        e.contains("conv2d output (1, 64, 64, 128) float32: 2097152 bytes (2.0 MiB) exceed this GPU's maxStorageBufferBindingSize of 1048576 bytes (1.0 MiB)"),
        "{e}"
    );
    assert_still_works(&device);
}

#[test]
fn an_upload_past_the_limit_is_refused_by_shape() {
    let device = small_gpu(MIB, 4 * MIB);
    let e = Tensor::from_f32(&device, vec![0.0; 300_000], &[300, 1000]).unwrap_err().to_string();
    assert!(e.starts_with("tensor of shape (300, 1000): 1200000 bytes (1.1 MiB) exceed this GPU's maxStorageBufferBindingSize"), "{e}");
    assert_still_works(&device);
}

#[test]
fn a_tighter_max_buffer_size_is_the_limit_named() {
    let device = small_gpu(MIB, MIB / 2);
    let x = ones(&device, &[200, 10]);
    let e = x.matmul(&ones(&device, &[10, 1000])).unwrap_err().to_string();
    assert!(e.contains("matmul output (200, 1000) float32: 800000 bytes") && e.contains("maxBufferSize of 524288 bytes (512.0 KiB)"), "{e}");
    assert_still_works(&device);
}

#[test]
fn a_buffer_just_under_a_limit_off_the_size_classes_is_usable() {
    // The pool rounds sizes up to classes (999,000 → 1,048,576 bytes); a limit between
    // the two must cap the rounding, or binding the whole buffer fails validation.
    let device = small_gpu(1_000_000, 1_000_000);
    let n = 249_750;
    let values: Vec<f32> = (0..n).map(|i| (i % 7) as f32 - 3.0).collect();
    let x = Tensor::from_f32(&device, values.clone(), &[n]).unwrap();
    let y = block(x.relu().unwrap().to_f32_vec()).unwrap();
    let want: Vec<f32> = values.iter().map(|v| v.max(0.0)).collect();
    assert_eq!(y, want);
    assert_still_works(&device);
}

#[test]
fn a_weight_past_the_limit_is_named_on_first_use() {
    // VGG16's fc1 kernel (25088, 4096) is 392 MiB, past many GPUs' 128 MiB per binding;
    // here a (200, 2000) kernel against a 1 MiB limit.
    let device = small_gpu(MIB, 4 * MIB);
    let inputs = input(&[200], None).unwrap();
    let dense = Layer::new(LayerKind::from_config("Dense", &json!({"units": 2000})).unwrap(), Some("fc1"));
    let out = dense.call(&[inputs.clone()]).unwrap();
    let model = Model::new(&[inputs], &[out], None).unwrap();
    let x = Tensor::from_f32(&device, vec![0.5; 200], &[1, 200]).unwrap();
    let e = model.call(&[x], false).unwrap_err().to_string();
    assert!(e.contains("weight fc1/kernel: tensor of shape (200, 2000): 1600000 bytes (1.5 MiB) exceed this GPU's maxStorageBufferBindingSize of 1048576 bytes"), "{e}");
    assert_still_works(&device);
}
