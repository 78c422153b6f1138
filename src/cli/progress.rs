//! Progress on stderr: the only place a bar is drawn, and only on a terminal.

use super::*;

/// A progress bar on stderr when it is a terminal, nothing otherwise.
pub(super) fn progress_bar(len: usize, what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() || len < 2 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    let style =
        indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} files · {elapsed} · eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(what.to_string());
    bar
}
