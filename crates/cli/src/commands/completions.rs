//! `rollgate completions SHELL`: the shell completion script, on stdout.
//!
//! ```sh
//! rollgate completions bash > /etc/bash_completion.d/rollgate
//! rollgate completions zsh  > "${fpath[1]}/_rollgate"
//! rollgate completions fish > ~/.config/fish/completions/rollgate.fish
//! ```

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::{Cli, Exit};

/// Print a shell completion script.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the script for `args.shell` to stdout.
pub fn run(args: Args) -> Result<Exit> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "rollgate", &mut std::io::stdout());
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_name_the_subcommands() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "rollgate", &mut out);
            let text = String::from_utf8_lossy(&out);
            for word in ["rollout", "set-weight", "completions", "analyze"] {
                assert!(text.contains(word), "{shell:?} script lacks {word}");
            }
        }
    }
}
