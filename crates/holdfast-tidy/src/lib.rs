//! holdfast's tidy tests: the architecture rules the build enforces, in the
//! manner of rust-analyzer's. Everything is in `tests/tidy.rs`; this crate has
//! no code of its own, so `cargo test --workspace` runs the rules for free.
