//! .npy / .npz: files written by NumPy (tests/fixtures/io/npy, see make_npy_fixtures.py),
//! byte-exact agreement with numpy.save, round trips for every dtype, and malformed
//! files that must be errors rather than panics.

use std::path::PathBuf;

use convbook::io::npy::{self, load_npy, load_npz, read_npy, read_npz, write_npy, write_npy_as, write_npz, NpyDType};
use convbook::CpuData;
use serde_json::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/io/npy")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(dir().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json is JSON")
}

fn stored_dtype(name: &str) -> NpyDType {
    *NpyDType::ALL
        .iter()
        .find(|d| d.name() == name)
        .unwrap_or_else(|| panic!("dtype {name}"))
}

fn shape_of(v: &Value) -> Vec<usize> {
    v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

fn check_values(file: &str, data: &CpuData, want: &Value) {
    let want: Vec<f64> = want.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    let got = data.to_f64();
    assert_eq!(got.len(), want.len(), "{file}: element count");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        // f32 data is compared after rounding the expected double to f32.
        let w = if matches!(data, CpuData::F32(_)) {
            *w as f32 as f64
        } else {
            *w
        };
        assert!(g == &w || (g.is_nan() && w.is_nan()), "{file}[{i}]: got {g}, want {w}");
    }
}

#[test]
fn reads_every_numpy_fixture() {
    let expected = expected();
    let files = expected["files"].as_object().unwrap();
    let mut checked = 0;
    for (file, want) in files {
        if !file.ends_with(".npy") || file == "i64_too_big.npy" {
            continue;
        }
        let array = load_npy(dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let dtype = stored_dtype(want["dtype"].as_str().unwrap());
        assert_eq!(array.shape, shape_of(want), "{file}: shape");
        assert_eq!(array.stored_dtype, dtype, "{file}: stored dtype");
        assert_eq!(array.data.dtype(), dtype.cpu_dtype(), "{file}: CpuData dtype");
        assert_eq!(
            array.fortran_order,
            want["fortran_order"].as_bool().unwrap(),
            "{file}: order"
        );
        check_values(file, &array.data, &want["values"]);
        checked += 1;
    }
    assert_eq!(checked, 21, "fixtures checked");
}

#[test]
fn writer_matches_numpy_save_byte_for_byte() {
    let expected = expected();
    for (file, want) in expected["files"].as_object().unwrap() {
        let descr = want.get("descr").and_then(Value::as_str).unwrap_or_default();
        // numpy.save writes version 1.0, C order, little-endian: the writer must agree exactly.
        let native = descr.starts_with('<') || descr.starts_with('|');
        if !file.ends_with(".npy") || !native || want["fortran_order"].as_bool().unwrap() || file.starts_with("v") {
            continue;
        }
        if file == "i64_too_big.npy" {
            continue;
        }
        let bytes = std::fs::read(dir().join(file)).unwrap();
        let array = read_npy(&bytes).unwrap();
        let written =
            write_npy_as(&array.data, &array.shape, array.stored_dtype).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(written, bytes, "{file}: bytes differ from numpy.save");
    }
}

#[test]
fn int64_outside_int32_is_an_error_naming_the_value() {
    let err = load_npy(dir().join("i64_too_big.npy")).unwrap_err().to_string();
    assert!(
        err.contains("i64_too_big.npy") && err.contains("1099511627776") && err.contains("int32"),
        "{err}"
    );
}

#[test]
fn reads_numpy_npz_stored_and_compressed() {
    let expected = expected();
    for npz in ["stored.npz", "compressed.npz"] {
        let members = load_npz(dir().join(npz)).unwrap_or_else(|e| panic!("{npz}: {e}"));
        let want = expected["files"][npz].as_object().unwrap();
        let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["images", "labels", "weights"], "{npz}");
        for (name, array) in &members {
            assert_eq!(array.shape, shape_of(&want[name]), "{npz}/{name}");
            assert_eq!(array.stored_dtype.name(), want[name]["dtype"].as_str().unwrap());
            check_values(&format!("{npz}/{name}"), &array.data, &want[name]["values"]);
        }
    }
}

#[test]
fn npz_round_trip() {
    let a = CpuData::F32(vec![1.0, -2.5, 3.25, 0.0]);
    let b = CpuData::U8(vec![0, 255, 7]);
    let bytes = write_npz(&[("a", &a, &[2, 2]), ("b", &b, &[3])]).unwrap();
    let back = read_npz(&bytes).unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(
        (back[0].0.as_str(), &back[0].1.shape, &back[0].1.data),
        ("a", &vec![2, 2], &a)
    );
    assert_eq!(
        (back[1].0.as_str(), &back[1].1.shape, &back[1].1.data),
        ("b", &vec![3], &b)
    );
    assert!(read_npz(b"PK\x03\x04 definitely not a zip").is_err());
    assert!(read_npz(&bytes[..bytes.len() / 2]).is_err());
}

/// Values that exercise each dtype's range, as CpuData that converts exactly.
fn sample(dtype: NpyDType) -> CpuData {
    match dtype {
        NpyDType::Bool => CpuData::U8(vec![0, 1, 1, 0, 1, 0]),
        NpyDType::U8 => CpuData::U8(vec![0, 1, 127, 128, 254, 255]),
        NpyDType::U16 => CpuData::I32(vec![0, 1, 255, 256, 65534, 65535]),
        NpyDType::U32 => CpuData::I32(vec![0, 1, 65536, 1 << 30, i32::MAX - 1, i32::MAX]),
        NpyDType::U64 => CpuData::I32(vec![0, 1, 2, 3, 1 << 20, i32::MAX]),
        NpyDType::I8 => CpuData::I32(vec![-128, -1, 0, 1, 100, 127]),
        NpyDType::I16 => CpuData::I32(vec![-32768, -1, 0, 1, 1000, 32767]),
        NpyDType::I32 => CpuData::I32(vec![i32::MIN, -1, 0, 1, 123456, i32::MAX]),
        NpyDType::I64 => CpuData::I32(vec![i32::MIN, -1, 0, 1, 123456, i32::MAX]),
        NpyDType::F16 => CpuData::F32(vec![0.0, -1.5, 65504.0, 2f32.powi(-24), f32::INFINITY, -0.0]),
        NpyDType::F32 => CpuData::F32(vec![0.0, -1.5, f32::MAX, f32::MIN_POSITIVE, 1e-45, f32::NEG_INFINITY]),
        NpyDType::F64 => CpuData::F64(vec![0.0, -1.5, f64::MAX, 5e-324, 1.0 / 3.0, f64::INFINITY]),
    }
}

#[test]
fn round_trip_every_dtype_and_shape() {
    for dtype in NpyDType::ALL {
        let data = sample(dtype);
        for shape in [vec![6], vec![2, 3], vec![3, 1, 2], vec![1, 1, 1, 6]] {
            let bytes = write_npy_as(&data, &shape, dtype).unwrap_or_else(|e| panic!("{dtype:?} {shape:?}: {e}"));
            assert_eq!(
                bytes.len() % 64,
                (6 * dtype.size()) % 64,
                "{dtype:?}: data starts 64-byte aligned"
            );
            let back = read_npy(&bytes).unwrap_or_else(|e| panic!("{dtype:?} {shape:?}: {e}"));
            assert_eq!(back.shape, shape);
            assert_eq!(back.stored_dtype, dtype);
            assert!(!back.fortran_order);
            assert_eq!(back.data, data, "{dtype:?} {shape:?}");
        }
    }
    // The CpuData dtypes with write_npy, including scalars and empty arrays.
    for (data, shape) in [
        (CpuData::F32(vec![2.5]), vec![]),
        (CpuData::F64(vec![]), vec![0, 4]),
        (CpuData::I32(vec![5, 6]), vec![2]),
        (CpuData::U8(vec![9; 12]), vec![2, 2, 3]),
    ] {
        let back = read_npy(&write_npy(&data, &shape).unwrap()).unwrap();
        assert_eq!((back.shape, back.data), (shape, data));
    }
}

#[test]
fn inexact_conversions_are_refused() {
    let err = write_npy_as(&CpuData::I32(vec![0, 2]), &[2], NpyDType::Bool)
        .unwrap_err()
        .to_string();
    assert!(err.contains("value 2") && err.contains("bool"), "{err}");
    assert!(write_npy_as(&CpuData::I32(vec![300]), &[1], NpyDType::U8).is_err());
    assert!(write_npy_as(&CpuData::I32(vec![-1]), &[1], NpyDType::U32).is_err());
    assert!(write_npy_as(&CpuData::F64(vec![0.1]), &[1], NpyDType::F32).is_err());
    assert!(write_npy_as(&CpuData::F32(vec![0.1]), &[1], NpyDType::F16).is_err());
    assert!(write_npy_as(&CpuData::F32(vec![1.0]), &[1], NpyDType::I32).is_err());
    assert!(write_npy_as(&CpuData::I32(vec![16_777_217]), &[1], NpyDType::F32).is_err());
    let err = write_npy(&CpuData::F32(vec![1.0; 5]), &[2, 3]).unwrap_err().to_string();
    assert!(err.contains("5 values") && err.contains("(2, 3)"), "{err}");
}

fn npy_with_header(version: u8, header: &str, data: &[u8]) -> Vec<u8> {
    let mut b = b"\x93NUMPY".to_vec();
    b.extend([version, 0]);
    if version == 1 {
        b.extend((header.len() as u16).to_le_bytes());
    } else {
        b.extend((header.len() as u32).to_le_bytes());
    }
    b.extend(header.as_bytes());
    b.extend(data);
    b
}

fn err_of(bytes: &[u8]) -> String {
    match read_npy(bytes) {
        Ok(a) => panic!("expected an error, read {:?} {:?}", a.shape, a.stored_dtype),
        Err(e) => e.to_string(),
    }
}

#[test]
fn malformed_files_are_errors_not_panics() {
    let good = std::fs::read(dir().join("f32_2x3.npy")).unwrap();

    let e = err_of(b"PK\x03\x04not numpy at all");
    assert!(e.contains("bad magic"), "{e}");
    assert!(err_of(b"").contains("bad magic"));
    let e = err_of(&good[..7]);
    assert!(e.contains("truncated") || e.contains("magic"), "{e}");

    let mut wrong_version = good.clone();
    wrong_version[6] = 4;
    assert!(err_of(&wrong_version).contains("version 4.0"));

    // Header length pointing past the end of the file.
    let e = err_of(&good[..40]);
    assert!(e.contains("truncated header"), "{e}");
    let mut huge_v2 = npy_with_header(2, "{}", &[]);
    huge_v2[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(err_of(&huge_v2).contains("truncated header"));

    // Data shorter or longer than the shape says.
    let e = err_of(&good[..good.len() - 1]);
    assert!(
        e.contains("truncated data") && e.contains("(2, 3)") && e.contains("24 bytes"),
        "{e}"
    );
    let mut longer = good.clone();
    longer.push(0);
    assert!(err_of(&longer).contains("unexpected bytes"));

    // Header contents.
    let cases = [
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }",
            "address",
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999999999999999999999,), }",
            "integer",
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }",
            "dimension",
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,), }",
            "malformed header",
        ),
        ("{'descr': 'O', 'fortran_order': False, 'shape': (1,), }", "pickled"),
        ("{'descr': '<U5', 'fortran_order': False, 'shape': (1,), }", "string"),
        ("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", "complex"),
        (
            "{'descr': '<f4', 'fortran_order': 'no', 'shape': (1,), }",
            "fortran_order",
        ),
        ("{'descr': '<f4', 'shape': (1,), }", "fortran_order"),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",
            "unexpected key",
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,",
            "malformed header",
        ),
        ("['descr', '<f4']", "dict"),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } trailing",
            "malformed header",
        ),
        ("\u{0}\u{1}\u{2}", "malformed header"),
    ];
    for (header, needle) in cases {
        let e = err_of(&npy_with_header(1, header, &[0; 4]));
        assert!(e.contains(needle), "header {header:?}: error {e:?} lacks {needle:?}");
    }
    // Deep nesting is refused without recursion blowing the stack.
    let deep = format!("{{'descr': {}", "[".repeat(100_000));
    assert!(err_of(&npy_with_header(2, &deep, &[])).contains("malformed header"));
    // Invalid UTF-8 in a version 3 header.
    let mut bad_utf8 = npy_with_header(3, "{'descr': 'x'}", &[]);
    let x = bad_utf8.iter().position(|&c| c == b'x').unwrap();
    bad_utf8[x] = 0xff;
    assert!(err_of(&bad_utf8).contains("UTF-8"));

    // Every prefix of a real file is an error, never a panic.
    for cut in 0..good.len() {
        assert!(read_npy(&good[..cut]).is_err(), "prefix of {cut} bytes");
    }
    // Single-byte corruptions anywhere in the header either read or fail cleanly.
    for i in 0..128 {
        for b in [0u8, b'(', b')', b'\'', b'9', 0xff] {
            let mut bytes = good.clone();
            bytes[i] = b;
            let _ = read_npy(&bytes);
        }
    }
}

#[test]
fn path_helpers_name_the_file() {
    let e = load_npy(dir().join("no_such_file.npy")).unwrap_err().to_string();
    assert!(e.contains("no_such_file.npy"), "{e}");
    let e = load_npy(dir().join("stored.npz")).unwrap_err().to_string();
    assert!(e.contains("stored.npz") && e.contains("bad magic"), "{e}");

    let tmp = std::env::temp_dir().join(format!("convbook_io_npy_{}.npy", std::process::id()));
    let data = CpuData::F64(vec![1.0, 2.0, 3.0]);
    npy::save_npy(&tmp, &data, &[3, 1]).unwrap();
    let back = load_npy(&tmp).unwrap();
    std::fs::remove_file(&tmp).ok();
    assert_eq!((back.shape, back.data), (vec![3, 1], data));
}
