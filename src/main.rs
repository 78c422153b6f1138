//! The `iamtrim` binary; everything lives in the library.

/// mimalloc instead of glibc malloc: the aggregation keeps many small strings that rayon's
/// threads allocate and merge; glibc's per-thread arenas left the 5 GB benchmark at 270 MB peak
/// RSS where mimalloc stays far lower (scripts/bench 5000).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Parses the command line, runs the command, and exits with its [`iamtrim::cli::ExitCode`].
fn main() -> iamtrim::cli::ExitCode {
    iamtrim::cli::run(std::env::args_os())
}
