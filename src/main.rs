//! The `samizdat` binary: everything it does is in the `cli` module (`src/cli/`).

#![forbid(unsafe_code)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
