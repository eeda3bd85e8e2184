//! Shared helpers for the criterion benchmarks in `benches/benches/` (peak RSS, CPU time).
