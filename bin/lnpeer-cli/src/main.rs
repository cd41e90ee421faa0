//! `lnpeer-cli`: talks to lnpeerd's JSON-RPC socket the way `lightning-cli` talks to
//! lightningd. All the work is in the library ([`lnpeer_cli::run`]); this only supplies the
//! process's arguments, `$HOME`, standard output and standard error, and exits with the
//! code it returns.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let code = lnpeer_cli::run(
        std::env::args_os().skip(1),
        home.as_deref(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(code)
}
