//! `sentinel`: run the suite, or one of its tools. See `sentinel --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    sentinel::cli::main(std::env::args_os(), std::env::vars_os())
}
