//! The `samizdat` binary: everything it does is in the `cli` module (`src/cli/`).

#![forbid(unsafe_code)]

mod cli;

/// mimalloc rather than the system allocator: see Cargo.toml.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
