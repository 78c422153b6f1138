//! The `iamtrim` binary; everything lives in the library.
fn main() {
    std::process::exit(iamtrim::cli::run(std::env::args_os()));
}
