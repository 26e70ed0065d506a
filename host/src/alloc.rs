//! The global allocator's settings. The `ledgerlink` binary (and the e2e bench) run on
//! mimalloc: glibc's malloc took ~20 % of the host's CPU under load and its per-thread arenas
//! kept memory that later work did not reuse.

// mimalloc v3's option numbers (`mi_option_e` in its `mimalloc.h`; the Rust bindings do not
// name these two).
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Makes mimalloc commit arena memory only as it is used and give freed memory back at once.
/// With its defaults (eager arena commit, purge after 1 s) the e2e bench peaked at
/// 170–320 MB per run, with these at 130 MB, at the same speed. The arena option counts only
/// before the first allocation, which Rust's runtime makes before `main`: on Linux this also
/// runs as an ELF constructor, ahead of it. Call it first thing in `main` too.
///
/// mimalloc's own environment variables (`MIMALLOC_ARENA_EAGER_COMMIT`,
/// `MIMALLOC_PURGE_DELAY`, in milliseconds) still win, for operators trading memory for CPU.
pub fn tune() {
    unsafe extern "C" {
        // libc's, which reads the environment without allocating: this runs before the
        // allocator's first use, and `std::env::var_os` would allocate.
        fn getenv(name: *const std::ffi::c_char) -> *const std::ffi::c_char;
    }
    for (option, env, value) in [
        (ARENA_EAGER_COMMIT, c"MIMALLOC_ARENA_EAGER_COMMIT", 0),
        (PURGE_DELAY, c"MIMALLOC_PURGE_DELAY", 0),
    ] {
        // SAFETY: `env` is a NUL-terminated string; nothing here writes the environment.
        if unsafe { getenv(env.as_ptr()) }.is_null() {
            // SAFETY: a plain setter of mimalloc's global options, valid at any time (before
            // its own initialisation too: a set option is not read from the environment
            // again).
            unsafe { libmimalloc_sys::mi_option_set(option, value) };
        }
    }
}

extern "C" fn tune_at_load() {
    tune();
}

#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static TUNE_AT_LOAD: extern "C" fn() = tune_at_load;
