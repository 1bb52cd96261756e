//! `evidence`: the compliance evidence pack's command (see [`sentinel_evidence::cli`]).

use std::process::ExitCode;

fn main() -> ExitCode {
    sentinel_evidence::cli::run(
        std::env::args_os(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    )
}
