//! Reading the Keras-generated fixtures under tests/fixtures/ and comparing against them.

use serde_json::Value;

pub fn load(dir: &str, name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(dir).join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn cases(file: &Value) -> &Vec<Value> {
    file["cases"].as_array().expect("fixture file without cases")
}

pub fn shape_of(case: &Value, key: &str) -> Option<Vec<usize>> {
    Some(case.get(key)?["shape"].as_array()?.iter().map(|v| v.as_u64().unwrap() as usize).collect())
}

/// Flat f32 data of an array field and its shape.
pub fn arr(case: &Value, key: &str) -> (Vec<f32>, Vec<usize>) {
    let shape = shape_of(case, key).unwrap_or_else(|| panic!("{}: no array {key}", case["name"]));
    let data = case[key]["data"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
    (data, shape)
}

pub fn cfg_usize(case: &Value, key: &str) -> usize {
    case["config"][key].as_u64().unwrap_or_else(|| panic!("{}: config.{key}", case["name"])) as usize
}

pub fn cfg_pair(case: &Value, key: &str) -> [usize; 2] {
    let v = &case["config"][key];
    [v[0].as_u64().unwrap() as usize, v[1].as_u64().unwrap() as usize]
}

pub fn cfg_opt_pair(case: &Value, key: &str) -> Option<[usize; 2]> {
    if case["config"][key].is_null() {
        None
    } else {
        Some(cfg_pair(case, key))
    }
}

/// Largest |got - want| relative to the array's scale (max |want|, at least 1e-6).
pub fn rel_error(got: &[f32], want: &[f32]) -> (f64, usize) {
    rel_error_floor(got, want, 1e-6)
}

/// As `rel_error`, with the scale at least `floor` (for arrays whose true value is ~0).
pub fn rel_error_floor(got: &[f32], want: &[f32], floor: f64) -> (f64, usize) {
    assert_eq!(got.len(), want.len(), "length {} vs {}", got.len(), want.len());
    let scale = want.iter().fold(floor, |m, &v| m.max((v as f64).abs()));
    got.iter().zip(want).enumerate().fold((0.0, 0), |(worst, at), (i, (&g, &w))| {
        let e = (g as f64 - w as f64).abs() / scale;
        if e > worst {
            (e, i)
        } else {
            (worst, at)
        }
    })
}

/// Assert agreement within `tol` (relative to scale), naming the case on failure.
pub fn check(case: &Value, what: &str, got: &[f32], want: &[f32], tol: f64) -> f64 {
    check_floor(case, what, got, want, tol, 1e-6)
}

pub fn check_floor(case: &Value, what: &str, got: &[f32], want: &[f32], tol: f64, floor: f64) -> f64 {
    let (worst, at) = rel_error_floor(got, want, floor);
    assert!(
        worst <= tol,
        "{} {what}: element {at}: got {} vs Keras {} (rel. err {worst:e}, config {})",
        case["name"],
        got[at],
        want[at],
        case["config"]
    );
    worst
}
