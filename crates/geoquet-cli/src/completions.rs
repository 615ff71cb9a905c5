//! `geoquet completions SHELL`: a shell completion script on standard output,
//! generated from the same clap definition the program parses with, so it always
//! knows every subcommand and option.

use std::io::Write;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::{Cli, EXIT_OK, Outcome};

/// Arguments of `geoquet completions`.
#[derive(Debug, Args)]
#[command(after_help = "\
Install, for example:
  bash:       geoquet completions bash > ~/.local/share/bash-completion/completions/geoquet
  zsh:        geoquet completions zsh > ~/.zfunc/_geoquet   (with fpath+=~/.zfunc before compinit)
  fish:       geoquet completions fish > ~/.config/fish/completions/geoquet.fish
  powershell: geoquet completions powershell >> $PROFILE
  elvish:     geoquet completions elvish >> ~/.config/elvish/rc.elv")]
pub struct CompletionsArgs {
    /// The shell to generate the script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script for `args.shell` to `out`.
pub(crate) fn run(
    _cli: &Cli,
    args: &CompletionsArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let mut command = Cli::command();
    // clap_complete writes through `write_all` and panics on an I/O error; write
    // to memory first so a closed pipe becomes an ordinary error instead.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "geoquet", &mut script);
    out.write_all(&script)?;
    out.flush()?;
    Ok(Outcome(EXIT_OK))
}
