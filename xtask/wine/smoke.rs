//! The setup check of `cargo xtask setup-wine`: a Rust program that must start and run
//! under the Wine prefix. `HashMap::new()` seeds its keys through `ProcessPrng`, the
//! import that keeps Rust binaries from starting on a Wine without
//! `bcryptprimitives.dll`.

use std::collections::HashMap;

fn main() {
    let mut seen = HashMap::new();
    for word in ["wine", "runs", "rust", "wine"] {
        *seen.entry(word).or_insert(0) += 1;
    }
    println!("smoke ok: {} distinct words, wine twice: {}", seen.len(), seen["wine"] == 2);
}
