//! `ledgerlink`: thin entry point; everything lives in the library's `cli` module.

// glibc's malloc cost ~20 % of the host's CPU under load (e2e bench) and its per-thread
// arenas kept memory that a later burst did not reuse; mimalloc is faster and returns memory.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ledgerlink::alloc::tune();
    ledgerlink::cli::main()
}
