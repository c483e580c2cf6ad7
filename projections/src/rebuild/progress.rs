//! Rebuild progress: a bar with events/s and ETA on a terminal, plain log lines otherwise.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Where progress goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar on a terminal, lines every few seconds otherwise.
    Auto,
    /// Lines every few seconds, also on a terminal (several rebuilds at once).
    Lines,
    /// Nothing (tests, benchmarks).
    Quiet,
}

pub(super) enum Progress {
    Bar(ProgressBar),
    Lines {
        name: String,
        total: u64,
        done: u64,
        started: Instant,
        last: Instant,
    },
    Quiet,
}

const LINE_EVERY: Duration = Duration::from_secs(5);

impl Progress {
    pub(super) fn new(mode: ProgressMode, name: &str, total: u64) -> Self {
        match mode {
            ProgressMode::Quiet => Progress::Quiet,
            ProgressMode::Auto if std::io::stderr().is_terminal() => {
                let bar = ProgressBar::new(total);
                let style = ProgressStyle::with_template(
                    "{prefix:>10} [{bar:40}] {pos}/{len} events  {per_sec}  ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
                bar.set_style(style);
                bar.set_prefix(name.to_owned());
                Progress::Bar(bar)
            }
            ProgressMode::Auto | ProgressMode::Lines => {
                eprintln!("rebuilding {name}: {total} events to replay");
                Progress::Lines {
                    name: name.to_owned(),
                    total,
                    done: 0,
                    started: Instant::now(),
                    last: Instant::now(),
                }
            }
        }
    }

    pub(super) fn advance(&mut self, n: u64) {
        match self {
            Progress::Bar(bar) => bar.inc(n),
            Progress::Lines {
                name,
                total,
                done,
                started,
                last,
            } => {
                *done += n;
                if last.elapsed() >= LINE_EVERY {
                    *last = Instant::now();
                    let rate = *done as f64 / started.elapsed().as_secs_f64().max(0.001);
                    let eta = total.saturating_sub(*done) as f64 / rate.max(1.0);
                    eprintln!(
                        "rebuilding {name}: {done}/{total} events, {rate:.0} events/s, ETA {eta:.0}s"
                    );
                }
            }
            Progress::Quiet => {}
        }
    }

    pub(super) fn finish(&mut self) {
        match self {
            Progress::Bar(bar) => bar.finish(),
            Progress::Lines {
                name,
                done,
                started,
                ..
            } => {
                let secs = started.elapsed().as_secs_f64();
                eprintln!(
                    "rebuilt {name}: {done} events in {secs:.1}s ({:.0} events/s)",
                    *done as f64 / secs.max(0.001)
                );
            }
            Progress::Quiet => {}
        }
    }
}
