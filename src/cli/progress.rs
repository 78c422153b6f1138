//! Progress on stderr: the only place a bar is drawn, and only on a terminal.

use super::*;

/// Progress bars on stderr (the library's [`crate::progress::Progress`]), when stderr is a
/// terminal; nothing otherwise.
pub(super) fn progress_sink() -> crate::progress::ProgressSink {
    if std::io::stderr().is_terminal() {
        crate::progress::ProgressSink(std::sync::Arc::new(Bars(indicatif::MultiProgress::new())))
    } else {
        crate::progress::ProgressSink::default()
    }
}

/// Bars for every task, drawn together.
struct Bars(indicatif::MultiProgress);

impl crate::progress::Progress for Bars {
    fn task(&self, name: &str, total: Option<u64>, unit: &str) -> Box<dyn crate::progress::Task> {
        let bar = match total {
            Some(n) => {
                let template = format!("{{prefix:>15}} [{{bar:25}}] {{pos}}/{{len}} {unit} · {{msg}} · eta {{eta}}");
                let bar = self.0.add(indicatif::ProgressBar::new(n));
                bar.set_style(
                    indicatif::ProgressStyle::with_template(&template)
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                bar
            }
            None => {
                let spinner = self.0.add(indicatif::ProgressBar::new_spinner());
                spinner.enable_steady_tick(std::time::Duration::from_millis(200));
                spinner
            }
        };
        bar.set_prefix(visible(name).into_owned());
        Box::new(Bar(bar))
    }
}

/// One bar or spinner.
struct Bar(indicatif::ProgressBar);

impl crate::progress::Task for Bar {
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn message(&self, message: String) {
        self.0.set_message(crate::output::text::terminal_safe(&message).into_owned());
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
