//! Keras-style automatic names: the first Conv2D is "conv2d", the next "conv2d_1"...
//! Counters are per thread (the notebook runs in one worker), as Keras's are per session.

use std::cell::RefCell;
use std::collections::HashMap;

thread_local! {
    static COUNTS: RefCell<HashMap<String, usize>> = RefCell::new(HashMap::new());
}

/// "Conv2DTranspose" → "conv2d_transpose", "MaxPooling2D" → "max_pooling2d".
pub fn snake_case(class_name: &str) -> String {
    let chars: Vec<char> = class_name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower = i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_ascii_uppercase();
            // "2D" stays attached to what precedes it: Conv2D → conv2d.
            let after_digit_d = i > 0 && chars[i - 1].is_ascii_digit() && c == 'D';
            if i > 0 && !after_digit_d && (prev_lower || (prev_upper && next_lower)) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The next unique name for a prefix.
pub(crate) fn unique_name(prefix: &str) -> String {
    COUNTS.with(|c| {
        let mut counts = c.borrow_mut();
        let n = counts.entry(prefix.to_string()).or_insert(0);
        let name = if *n == 0 { prefix.to_string() } else { format!("{prefix}_{n}") };
        *n += 1;
        name
    })
}

/// Forget all counters (Keras `clear_session`).
pub fn reset() {
    COUNTS.with(|c| c.borrow_mut().clear());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_names() {
        for (class, snake) in [
            ("Conv2D", "conv2d"),
            ("Conv2DTranspose", "conv2d_transpose"),
            ("MaxPooling2D", "max_pooling2d"),
            ("GlobalAveragePooling2D", "global_average_pooling2d"),
            ("BatchNormalization", "batch_normalization"),
            ("SeparableConv2D", "separable_conv2d"),
            ("DepthwiseConv2D", "depthwise_conv2d"),
            ("InputLayer", "input_layer"),
            ("Dense", "dense"),
            ("RandomFlip", "random_flip"),
        ] {
            assert_eq!(snake_case(class), snake, "{class}");
        }
        reset();
        assert_eq!(unique_name("dense"), "dense");
        assert_eq!(unique_name("dense"), "dense_1");
        assert_eq!(unique_name("conv2d"), "conv2d");
    }
}
