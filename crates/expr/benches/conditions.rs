//! Placeholder so the workspace builds; the expr helper replaces it.
fn main() {}
