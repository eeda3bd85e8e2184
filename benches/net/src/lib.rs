//! Network benchmark harness (being built).
