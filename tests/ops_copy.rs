//! Transpose, slice, pad, broadcast_to, concat and gather_rows on the GPU vs the CPU reference.

mod common;
use common::*;

use convbook::ops::copy::{concat, gather_rows};
use convbook::{DType, Device, Tensor};
use rand::seq::SliceRandom;
use rand::Rng;

#[test]
fn transposes_match_reference() {
    let mut r = rng(9);
    for trial in 0..24 {
        let rank = 1 + trial % 6;
        let shape = random_shape(&mut r, rank, 6);
        let mut perm: Vec<usize> = (0..rank).collect();
        perm.shuffle(&mut r);
        let x = random_vec(&mut r, shape.iter().product(), -1.0, 1.0);
        let (g, c) = on_both(&[(x, shape.clone())], |t| t[0].transpose(&perm));
        assert_eq!(g, c, "transpose {shape:?} by {perm:?}");
    }
}

#[test]
fn slices_and_pads_match_reference() {
    let mut r = rng(10);
    for trial in 0..24 {
        let rank = 1 + trial % 4;
        let shape = random_shape(&mut r, rank, 9);
        let begin: Vec<usize> = shape.iter().map(|&d| r.random_range(0..d)).collect();
        let size: Vec<usize> = shape.iter().zip(&begin).map(|(&d, &b)| r.random_range(0..=d - b)).collect();
        let pads: Vec<(usize, usize)> = (0..rank).map(|_| (r.random_range(0..3), r.random_range(0..3))).collect();
        let x = random_vec(&mut r, shape.iter().product(), -1.0, 1.0);
        let (g, c) = on_both(&[(x.clone(), shape.clone())], |t| t[0].slice(&begin, &size));
        assert_eq!(g, c, "slice {shape:?} at {begin:?} size {size:?}");
        let (g, c) = on_both(&[(x, shape.clone())], |t| t[0].pad(&pads, -0.5));
        assert_eq!(g, c, "pad {shape:?} by {pads:?}");
    }
}

#[test]
fn broadcast_to_and_concat_match_reference() {
    let mut r = rng(11);
    for trial in 0..16 {
        let rank = 2 + trial % 3;
        let target = random_shape(&mut r, rank, 5);
        let src: Vec<usize> = target[1..].iter().map(|&d| if r.random_bool(0.5) { 1 } else { d }).collect();
        let x = random_vec(&mut r, src.iter().product(), -1.0, 1.0);
        let (g, c) = on_both(&[(x, src.clone())], |t| t[0].broadcast_to(&target));
        assert_eq!(g, c, "broadcast {src:?} to {target:?}");

        let axis = r.random_range(0..rank);
        let parts: Vec<(Vec<f32>, Vec<usize>)> = (0..3)
            .map(|_| {
                let mut s = target.clone();
                s[axis] = r.random_range(1..4);
                (random_vec(&mut r, s.iter().product(), -1.0, 1.0), s)
            })
            .collect();
        let (g, c) = on_both(&parts, |t| concat(&t.iter().collect::<Vec<_>>(), axis as isize - rank as isize));
        assert_eq!(g, c, "concat along {axis}");
    }
}

#[test]
fn int_and_u8_tensors_copy_on_gpu_like_the_cpu() {
    let g = gpu();
    let labels = Tensor::from_i32(&g, (0..12).collect(), &[3, 4]).unwrap();
    let t = labels.transpose(&[1, 0]).unwrap();
    assert_eq!(block(t.to_i32_vec()).unwrap(), vec![0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    // uint8 images (packed four to a word on the GPU): odd sizes so words straddle rows.
    let mut r = rng(21);
    for _ in 0..6 {
        let shape = random_shape(&mut r, 3, 7);
        let n: usize = shape.iter().product();
        let bytes: Vec<u8> = (0..n).map(|_| r.random_range(0..=255u32) as u8).collect();
        let on = |device: &Device, f: &dyn Fn(&Tensor) -> Tensor| -> convbook::CpuData {
            let x = Tensor::from_u8(device, bytes.clone(), &shape).unwrap();
            let y = f(&x);
            assert_eq!(y.dtype(), DType::U8);
            block(y.to_data()).unwrap()
        };
        let ops: Vec<(&str, Box<dyn Fn(&Tensor) -> Tensor>)> = vec![
            ("slice", Box::new(|x: &Tensor| x.slice(&[0, 1.min(x.shape()[1] - 1), 0], &[x.shape()[0], x.shape()[1] - 1.min(x.shape()[1] - 1), x.shape()[2]]).unwrap())),
            ("transpose", Box::new(|x: &Tensor| x.transpose(&[2, 0, 1]).unwrap())),
            ("pad", Box::new(|x: &Tensor| x.pad(&[(1, 0), (0, 2), (1, 1)], 7.0).unwrap())),
            ("concat", Box::new(|x: &Tensor| concat(&[x, &x.slice(&[0, 0, 0], &[1, x.shape()[1], x.shape()[2]]).unwrap(), x], 0).unwrap())),
        ];
        for (name, op) in &ops {
            assert_eq!(on(&g, op.as_ref()), on(&Device::Cpu, op.as_ref()), "uint8 {name} on {shape:?}");
        }
    }
}

#[test]
fn float_to_u8_casts_truncate_and_saturate_on_both_devices() {
    let mut r = rng(22);
    let mut values: Vec<f32> = (0..1001).map(|_| r.random_range(-300.0..600.0)).collect();
    values.extend([f32::NAN, -0.9, 0.9, 254.99, 255.0, 255.5, f32::INFINITY, f32::NEG_INFINITY]);
    let n = values.len();
    let want: Vec<u8> = values.iter().map(|&v| v as u8).collect();
    for device in [gpu(), Device::Cpu] {
        let t = Tensor::from_f32(&device, values.clone(), &[n]).unwrap().cast(DType::U8).unwrap();
        match block(t.to_data()).unwrap() {
            convbook::CpuData::U8(got) => assert_eq!(got, want, "float32 → uint8 on {}", device.describe()),
            other => panic!("expected bytes, got {:?}", other.dtype()),
        }
    }
}

#[test]
fn bad_arguments_are_errors() {
    let t = Tensor::from_f32(&gpu(), vec![0.0; 6], &[2, 3]).unwrap();
    assert!(t.transpose(&[0, 0]).is_err());
    assert!(t.slice(&[1, 1], &[2, 1]).unwrap_err().message().contains("do not fit"));
    assert!(t.reshape(&[4, -1]).unwrap_err().message().contains("cannot reshape"));
    assert_eq!(t.reshape(&[3, -1]).unwrap().shape(), &[3, 2]);
    let u = Tensor::from_f32(&gpu(), vec![0.0; 4], &[2, 2]).unwrap();
    assert!(concat(&[&t, &u], 0).unwrap_err().message().contains("differ outside axis"));
}

#[test]
fn row_gathers_match_reference() {
    let mut r = rng(31);
    for trial in 0..24 {
        let rank = 1 + trial % 4;
        let shape = random_shape(&mut r, rank, 9);
        let count = r.random_range(0..2 * shape[0] + 2);
        // Shuffled, repeated and (trial 0) empty row lists.
        let rows: Vec<usize> = (0..if trial == 0 { 0 } else { count }).map(|_| r.random_range(0..shape[0])).collect();
        let x = random_vec(&mut r, shape.iter().product(), -1.0, 1.0);
        let (g, c) = on_both(&[(x, shape.clone())], |t| gather_rows(&t[0], &rows));
        assert_eq!(g, c, "gather_rows {shape:?} rows {rows:?}");
    }
    // int32 labels take the same path; a row out of range is an error naming the tensor.
    let labels = Tensor::from_i32(&gpu(), (0..12).collect(), &[6, 2]).unwrap();
    let picked = gather_rows(&labels, &[5, 0, 5]).unwrap();
    assert_eq!(picked.dtype(), DType::I32);
    let host = block(picked.to_device(&Device::Cpu)).unwrap();
    assert_eq!(host.cpu_data().unwrap(), &convbook::CpuData::I32(vec![10, 11, 0, 1, 10, 11]));
    // uint8 images move as packed words when their rows are whole words, by runs otherwise.
    for shape in [[7usize, 2, 2], [7, 3, 1]] {
        let n: usize = shape.iter().product();
        let bytes: Vec<u8> = (0..n).map(|i| (i * 37 % 256) as u8).collect();
        let rows = [6, 0, 3, 3, 1];
        let on = |device: &Device| block(gather_rows(&Tensor::from_u8(device, bytes.clone(), &shape).unwrap(), &rows).unwrap().to_data()).unwrap();
        assert_eq!(on(&gpu()), on(&Device::Cpu), "uint8 {shape:?}");
    }
    let err = gather_rows(&labels, &[6]).unwrap_err().to_string();
    assert!(err.contains("row 6 is out of range") && err.contains("(6, 2)"), "{err}");
}
