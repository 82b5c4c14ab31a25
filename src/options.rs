//! The one reader for Keras-style arguments, wherever they come from: a notebook cell
//! (`layers.Conv2D(32, 3, {activation: "relu"})`, `model.fit(x, y, {batchSize: 64})`),
//! a TF.js or Keras model file, a dataset loader or a tensor op.
//!
//! Keys may be snake_case (Keras) or camelCase (TF.js and JavaScript); both fold to
//! snake_case. `null` means "not given". Every accessor records the key it asked for, so
//! [`Options::finish`] can refuse keys nobody asked for, naming the closest valid one, as
//! Keras raises `Unrecognized keyword arguments` instead of ignoring a typo.

use std::cell::RefCell;
use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Keyword arguments of one call (a layer config, `compile`, `fit`, a loader).
pub struct Options {
    owner: String,
    /// snake_case key → (the caller's spelling, value).
    map: Map<String, Value>,
    spelled: Vec<(String, String)>,
    /// Keys some accessor asked for (present or not): the valid names.
    asked: RefCell<BTreeSet<String>>,
}

/// `kernelSize` → `kernel_size`; snake_case keys are unchanged.
pub fn snake_case_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

impl Options {
    /// `owner` names the call in errors ("Dense", "fit", "datasets.split").
    pub fn new(owner: &str, value: &Value) -> Result<Options> {
        let mut map = Map::new();
        let mut spelled = Vec::new();
        match value {
            Value::Object(m) => {
                for (k, v) in m {
                    let key = snake_case_key(k);
                    spelled.push((key.clone(), k.clone()));
                    map.insert(key, v.clone());
                }
            }
            Value::Null => {}
            other => return Err(Error::new(format!("{owner}: options must be an object, got {other}"))),
        }
        Ok(Options { owner: owner.to_string(), map, spelled, asked: RefCell::new(BTreeSet::new()) })
    }

    /// The name used in errors.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    fn err(&self, message: String) -> Error {
        Error::new(format!("{}: {message}", self.owner))
    }

    /// The value of `key` (either spelling), `None` when absent or null.
    pub fn get(&self, key: &str) -> Option<&Value> {
        let key = snake_case_key(key);
        let v = self.map.get(&key).filter(|v| !v.is_null());
        self.asked.borrow_mut().insert(key);
        v
    }

    /// Whether `key` was given (not null).
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Keys that are valid but read elsewhere or deliberately ignored (a file's
    /// `kernel_initializer` when weights come from the file).
    pub fn accept(&self, keys: &[&str]) {
        let mut asked = self.asked.borrow_mut();
        for k in keys {
            asked.insert(snake_case_key(k));
        }
    }

    pub fn usize(&self, key: &str) -> Result<Option<usize>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.as_u64().or_else(|| whole(v)) {
                Some(n) => usize::try_from(n)
                    .map(Some)
                    .map_err(|_| self.err(format!("{key} is too large ({n})"))),
                None => Err(self.err(format!("{key} must be a non-negative integer, got {v}"))),
            },
        }
    }

    pub fn usize_or(&self, key: &str, default: usize) -> Result<usize> {
        Ok(self.usize(key)?.unwrap_or(default))
    }

    pub fn required_usize(&self, key: &str) -> Result<usize> {
        self.usize(key)?.ok_or_else(|| self.err(format!("missing required argument {key}")))
    }

    pub fn i64(&self, key: &str) -> Result<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| whole(v).map(|n| n as i64))
                .map(Some)
                .ok_or_else(|| self.err(format!("{key} must be an integer, got {v}"))),
        }
    }

    pub fn opt_f64(&self, key: &str) -> Result<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or_else(|| self.err(format!("{key} must be a number, got {v}"))),
        }
    }

    pub fn f64(&self, key: &str, default: f64) -> Result<f64> {
        Ok(self.opt_f64(key)?.unwrap_or(default))
    }

    pub fn required_f64(&self, key: &str) -> Result<f64> {
        self.opt_f64(key)?.ok_or_else(|| self.err(format!("missing required argument {key}")))
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.as_bool().map(Some).ok_or_else(|| self.err(format!("{key} must be true or false, got {v}"))),
        }
    }

    pub fn bool(&self, key: &str, default: bool) -> Result<bool> {
        Ok(self.opt_bool(key)?.unwrap_or(default))
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(self.err(format!("{key} must be a string, got {v}"))),
        }
    }

    pub fn str(&self, key: &str, default: &str) -> Result<String> {
        Ok(self.opt_str(key)?.unwrap_or_else(|| default.to_string()))
    }

    /// One of `choices` (compared case-insensitively), or `default` when absent.
    pub fn choice(&self, key: &str, choices: &[&'static str], default: &'static str) -> Result<&'static str> {
        let Some(given) = self.opt_str(key)? else { return Ok(default) };
        choices.iter().copied().find(|c| c.eq_ignore_ascii_case(&given)).ok_or_else(|| {
            let list: Vec<String> = choices.iter().map(|c| format!("{c:?}")).collect();
            self.err(format!("{key} must be one of {}, got {given:?}", list.join(", ")))
        })
    }

    /// An int or a pair of ints, as Keras's `kernel_size`, `strides`, `pool_size`.
    pub fn pair(&self, key: &str) -> Result<Option<[usize; 2]>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => parse_pair(v).map(Some).ok_or_else(|| {
                self.err(format!("{key} must be an integer or a pair of integers, got {v}"))
            }),
        }
    }

    /// A pair whose entries must be positive, with a default.
    pub fn positive_pair(&self, key: &str, default: [usize; 2]) -> Result<[usize; 2]> {
        let p = self.pair(key)?.unwrap_or(default);
        if p[0] == 0 || p[1] == 0 {
            return Err(self.err(format!("{key} must be positive, got {p:?}")));
        }
        Ok(p)
    }

    /// A list of non-negative integers (a shape, a size).
    pub fn usize_list(&self, key: &str) -> Result<Option<Vec<usize>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_u64().or_else(|| whole(v)).and_then(|n| usize::try_from(n).ok()))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| self.err(format!("{key} must be a list of non-negative integers, got {}", Value::Array(a.clone())))),
            Some(v) => Err(self.err(format!("{key} must be a list of non-negative integers, got {v}"))),
        }
    }

    /// Whether `key` was given at all, `null` included: where Keras gives `None` a meaning
    /// of its own (`label_mode=None`: no labels).
    pub fn present(&self, key: &str) -> bool {
        let key = snake_case_key(key);
        let given = self.map.contains_key(&key);
        self.asked.borrow_mut().insert(key);
        given
    }

    /// A non-negative integer that may exceed 32 bits (a seed; `usize` is 32 bits in wasm).
    pub fn u64(&self, key: &str) -> Result<Option<u64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .or_else(|| whole(v))
                .map(Some)
                .ok_or_else(|| self.err(format!("{key} must be a non-negative integer, got {v}"))),
        }
    }

    /// A list of strings (class names).
    pub fn str_list(&self, key: &str) -> Result<Option<Vec<String>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
                Ok(Some(a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()))
            }
            Some(v) => Err(self.err(format!("{key} must be a list of strings, got {v}"))),
        }
    }

    /// A Keras argument we accept only at its default (`null`: only when not given), so a
    /// setting we do not implement is refused rather than silently ignored.
    pub fn unsupported(&self, key: &str, default: &Value) -> Result<()> {
        let Some(v) = self.get(key) else { return Ok(()) };
        let same = v == default || matches!((v.as_f64(), default.as_f64()), (Some(a), Some(b)) if a == b);
        if same {
            return Ok(());
        }
        let only = if default.is_null() { "leave it out".to_string() } else { format!("only {default} is supported") };
        Err(self.err(format!("{key}={v} is not supported ({only})")))
    }

    /// Refuse every given key that no accessor asked for, naming the closest valid one.
    pub fn finish(&self) -> Result<()> {
        let asked = self.asked.borrow();
        let unknown: Vec<&(String, String)> = self.spelled.iter().filter(|(k, _)| !asked.contains(k)).collect();
        let Some((key, spelling)) = unknown.first() else { return Ok(()) };
        let mut message = if unknown.len() == 1 {
            format!("unrecognized keyword argument {spelling:?}")
        } else {
            let all: Vec<String> = unknown.iter().map(|(_, s)| format!("{s:?}")).collect();
            format!("unrecognized keyword arguments {}", all.join(", "))
        };
        if let Some(best) = closest(key, asked.iter()) {
            let camel = spelling.chars().any(|c| c.is_ascii_uppercase());
            let shown = if camel { camel_case_key(&best) } else { best };
            message.push_str(&format!(" (did you mean {shown:?}?)"));
        } else if !asked.is_empty() {
            let valid: Vec<&str> = asked.iter().map(String::as_str).collect();
            message.push_str(&format!(" (valid: {})", valid.join(", ")));
        }
        Err(self.err(message))
    }
}

/// `kernel_size` → `kernelSize`.
pub fn camel_case_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A float that is a whole number (JavaScript sends 3 as 3.0 through some paths).
fn whole(v: &Value) -> Option<u64> {
    let f = v.as_f64()?;
    (f >= 0.0 && f.fract() == 0.0 && f <= u64::MAX as f64).then_some(f as u64)
}

/// `3` → [3, 3]; `[3, 5]` → [3, 5].
pub fn parse_pair(v: &Value) -> Option<[usize; 2]> {
    let n = |v: &Value| v.as_u64().or_else(|| whole(v)).and_then(|n| usize::try_from(n).ok());
    match v {
        Value::Number(_) => n(v).map(|x| [x, x]),
        Value::Array(a) if a.len() == 2 => Some([n(&a[0])?, n(&a[1])?]),
        _ => None,
    }
}

/// The candidate nearest to `key` by edit distance, when near enough to be a typo.
fn closest<'a>(key: &str, candidates: impl Iterator<Item = &'a String>) -> Option<String> {
    let mut best: Option<(usize, &String)> = None;
    for c in candidates {
        let d = edit_distance(key, c);
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let (d, c) = best?;
    let limit = (key.len().max(c.len()) / 3).max(2);
    (d <= limit).then(|| c.clone())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_both_spellings_and_pairs() {
        let o = Options::new("Conv2D", &json!({"kernelSize": 3, "strides": [2, 1], "use_bias": false})).unwrap();
        assert_eq!(o.pair("kernel_size").unwrap(), Some([3, 3]));
        assert_eq!(o.positive_pair("strides", [1, 1]).unwrap(), [2, 1]);
        assert!(!o.bool("use_bias", true).unwrap());
        assert_eq!(o.positive_pair("dilation_rate", [1, 1]).unwrap(), [1, 1]);
        o.finish().unwrap();
    }

    #[test]
    fn unknown_keys_name_the_closest_valid_one() {
        let o = Options::new("Dense", &json!({"units": 4, "activaton": "relu"})).unwrap();
        o.usize("units").unwrap();
        o.str("activation", "linear").unwrap();
        let e = o.finish().unwrap_err().to_string();
        assert_eq!(e, "Dense: unrecognized keyword argument \"activaton\" (did you mean \"activation\"?)");

        let o = Options::new("fit", &json!({"batchSise": 4})).unwrap();
        o.usize("batch_size").unwrap();
        o.usize("epochs").unwrap();
        let e = o.finish().unwrap_err().to_string();
        assert_eq!(e, "fit: unrecognized keyword argument \"batchSise\" (did you mean \"batchSize\"?)");
    }

    #[test]
    fn far_keys_list_the_valid_ones() {
        let o = Options::new("SGD", &json!({"zzz": 1})).unwrap();
        o.f64("momentum", 0.0).unwrap();
        let e = o.finish().unwrap_err().to_string();
        assert_eq!(e, "SGD: unrecognized keyword argument \"zzz\" (valid: momentum)");
    }

    #[test]
    fn accepted_keys_and_nulls_pass() {
        let o = Options::new("Dense", &json!({"kernel_initializer": {"class_name": "GlorotUniform"}, "units": null})).unwrap();
        o.accept(&["kernel_initializer"]);
        assert_eq!(o.usize("units").unwrap(), None);
        o.finish().unwrap();
    }

    #[test]
    fn nulls_seeds_lists_and_unsupported_settings() {
        let o = Options::new("loader", &json!({"labelMode": null, "seed": 4294967296u64, "classNames": ["a", "b"], "clipnorm": 1.0, "decay": 0.0})).unwrap();
        assert!(o.present("label_mode") && !o.has("label_mode") && !o.present("subset"));
        assert_eq!(o.u64("seed").unwrap(), Some(4294967296));
        assert_eq!(o.str_list("class_names").unwrap(), Some(vec!["a".to_string(), "b".to_string()]));
        o.unsupported("decay", &json!(0)).unwrap();
        o.unsupported("baseline", &Value::Null).unwrap();
        let e = o.unsupported("clipnorm", &Value::Null).unwrap_err().to_string();
        assert_eq!(e, "loader: clipnorm=1.0 is not supported (leave it out)");
        o.finish().unwrap();
        let o = Options::new("x", &json!({"names": ["a", 1]})).unwrap();
        assert!(o.str_list("names").unwrap_err().to_string().contains("names must be a list of strings"));
    }

    #[test]
    fn wrong_types_are_errors_naming_the_key() {
        let o = Options::new("MaxPooling2D", &json!({"pool_size": [2, 2, 2], "padding": 3})).unwrap();
        assert!(o.pair("pool_size").unwrap_err().to_string().contains("pool_size must be an integer or a pair"));
        assert!(o.str("padding", "valid").unwrap_err().to_string().contains("padding must be a string"));
        let o = Options::new("x", &json!({"padding": "SAME"})).unwrap();
        assert_eq!(o.choice("padding", &["valid", "same"], "valid").unwrap(), "same");
        assert!(Options::new("x", &json!(3)).is_err());
    }
}
