//! The condition language: parser, type checker, evaluator. Pure, no IO.
