//! Messages for people, on stderr: the one place the command line writes them. Notes, warnings
//! and errors carry the one prefix `iamtrim:`; summary lines are written as they are. `--quiet`
//! silences what is only informative (summaries and notes); warnings, errors and INCOMPLETE are
//! always written. A closed stderr (`iamtrim ... 2>&1 | head`) ends no run.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Sets `--quiet` for the rest of the run.
pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// True under `--quiet`.
pub(crate) fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Writes `text` on stderr, terminal control characters shown, not obeyed; a write error (a
/// closed pipe) is ignored.
pub(crate) fn write(text: &str) {
    let text = crate::output::text::terminal_safe(text);
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// A line of a summary, always written (for what must be seen even under `--quiet`).
macro_rules! line {
    ($($arg:tt)*) => {
        $crate::cli::messages::write(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// A line of a summary, unless `--quiet`.
macro_rules! info {
    ($($arg:tt)*) => {
        if !$crate::cli::messages::quiet() {
            $crate::cli::messages::line!($($arg)*)
        }
    };
}

/// `iamtrim: note: ...`, unless `--quiet`.
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::cli::messages::info!("iamtrim: note: {}", format_args!($($arg)*))
    };
}

/// `iamtrim: warning: ...`, always.
macro_rules! warning {
    ($($arg:tt)*) => {
        $crate::cli::messages::line!("iamtrim: warning: {}", format_args!($($arg)*))
    };
}

/// `iamtrim: error: ...`, always.
macro_rules! error {
    ($($arg:tt)*) => {
        $crate::cli::messages::line!("iamtrim: error: {}", format_args!($($arg)*))
    };
}

pub(crate) use {error, info, line, note, warning};
