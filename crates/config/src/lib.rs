//! The rollgate.toml configuration: spec types, validation with paths, build into runtime values.
