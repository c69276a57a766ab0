//! Progress bars for long commands (crawl, run, merge, export, analyze) on a terminal. Outside a
//! terminal (a GitHub Actions log, a pipe) there are none: the commands' plain progress lines say
//! the same. Log lines are written through [`LogWriter`], which lifts the bars while a line is
//! printed, so lines and bars never mix.

use std::borrow::Cow;
use std::io::Write;
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

static BARS: OnceLock<MultiProgress> = OnceLock::new();

/// Turns bars on for this process (the CLI does, when standard error is a terminal outside
/// GitHub Actions and `-q` is not given).
pub fn enable() {
    BARS.get_or_init(MultiProgress::new);
}

/// A bar, or nothing when bars are off; cleared when dropped.
pub struct Bar(Option<ProgressBar>);

impl Bar {
    /// A bar of `len` steps (a spinner when the length is unknown), named `prefix`.
    pub fn new(len: Option<u64>, prefix: &str) -> Bar {
        let Some(multi) = BARS.get() else { return Bar(None) };
        let bar = match len {
            Some(len) => {
                let bar = ProgressBar::new(len);
                bar.set_style(
                    ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                        .expect("a valid template")
                        .progress_chars("=> "),
                );
                bar
            }
            None => {
                let bar = ProgressBar::new_spinner();
                bar.set_style(
                    ProgressStyle::with_template("{prefix:>12} {spinner} {msg} ({elapsed})").expect("a valid template"),
                );
                bar.enable_steady_tick(Duration::from_millis(200));
                bar
            }
        };
        bar.set_prefix(prefix.to_string());
        Bar(Some(multi.add(bar)))
    }

    /// Moves on by `n` steps.
    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(n);
        }
    }

    /// Says what is going on now.
    pub fn message(&self, message: impl Into<Cow<'static, str>>) {
        if let Some(bar) = &self.0 {
            bar.set_message(message);
        }
    }

    /// True when a bar is shown (so callers skip formatting messages nobody sees).
    pub fn shown(&self) -> bool {
        self.0.is_some()
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let (Some(bar), Some(multi)) = (self.0.take(), BARS.get()) {
            bar.finish_and_clear();
            multi.remove(&bar);
        }
    }
}

/// Standard error for log lines, with the bars lifted while a line is written.
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match BARS.get() {
            Some(multi) => multi.suspend(|| std::io::stderr().write(buf)),
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_terminal_bars_are_nothing() {
        let bar = Bar::new(Some(3), "merge");
        assert!(!bar.shown() || BARS.get().is_some());
        bar.inc(1);
        bar.message("x");
    }
}
