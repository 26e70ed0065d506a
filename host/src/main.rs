//! `ledgerlink`: thin entry point; everything lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    ledgerlink::cli::main()
}
