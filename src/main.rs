//! The `rollgate` binary. All logic lives in the `rollgate-cli` crate.

fn main() -> std::process::ExitCode {
    rollgate_cli::main()
}
