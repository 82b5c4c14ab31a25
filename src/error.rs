//! One error type for the whole engine. Every public call returns `Result`, so
//! nothing panics across the wasm boundary; messages name the op/layer and shapes.

use std::fmt;

/// What went wrong, as a message that names the op or layer and the shapes involved.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    message: String,
}

impl Error {
    /// An error carrying `message` as is.
    pub fn new(message: impl Into<String>) -> Self {
        Error { message: message.into() }
    }

    /// Prefix the message with where it happened ("layer conv2d_1: ...").
    pub fn context(self, what: impl fmt::Display) -> Self {
        Error { message: format!("{what}: {}", self.message) }
    }

    /// The full message, context prefixes included.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The result of every fallible engine call.
pub type Result<T> = std::result::Result<T, Error>;

/// `bail!("...", args)` returns early with an [`Error`].
#[macro_export]
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::Error::new(format!($($arg)*)))
    };
}

/// `ensure!(cond, "...", args)` bails when `cond` is false.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            $crate::bail!($($arg)*);
        }
    };
}
