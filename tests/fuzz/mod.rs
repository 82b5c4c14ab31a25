//! The mutation fuzzer shared by the fuzz_* test binaries.

pub mod harness;
