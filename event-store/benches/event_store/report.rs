//! The figures of one run, as the Markdown pasted into BENCHMARKS.md.

use std::fmt::Write as _;
use std::time::Duration;

use crate::appends::{Measured, System};
use crate::feed::Pass;
use crate::ms;

pub struct AppendRow {
    pub system: System,
    pub writers: usize,
    pub measured: Measured,
}

pub struct FeedRow {
    pub label: String,
    pub decoded: bool,
    pub pass: Pass,
    pub payload_bytes: f64,
}

pub struct RelayRow {
    pub events: u64,
    pub published: u64,
    pub elapsed: Duration,
    pub batch_size: i64,
    pub complete: bool,
}

impl RelayRow {
    fn per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

pub struct Report {
    machine: String,
    pub appends: Vec<AppendRow>,
    pub feed: Vec<FeedRow>,
    pub relay: Option<RelayRow>,
}

/// The targets of issue 2 on the 2-core machine.
const CEILING_SHARE: f64 = 0.85;
const PEER_FACTOR: f64 = 2.0;
const P99_MAX: Duration = Duration::from_millis(10);
const TARGET_WRITERS: usize = 16;
const FEED_MIN: f64 = 150_000.0;
const RELAY_MIN: f64 = 20_000.0;

impl Report {
    pub fn new(machine: String) -> Self {
        Self {
            machine,
            appends: Vec::new(),
            feed: Vec::new(),
            relay: None,
        }
    }

    fn append(&self, system: System, writers: usize) -> Option<&Measured> {
        self.appends
            .iter()
            .find(|r| r.system == system && r.writers == writers)
            .map(|r| &r.measured)
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "<!-- {} -->", self.machine);
        if !self.appends.is_empty() {
            let _ = writeln!(
                out,
                "| writers | system | events | events/s | p50 ms | p99 ms | vs ceiling | vs postgres-es | errors |\n\
                 |---:|---|---:|---:|---:|---:|---:|---:|---:|"
            );
            for row in &self.appends {
                let m = &row.measured;
                let ceiling = self.append(System::Ceiling, row.writers);
                let peer = self.append(System::PostgresEs, row.writers);
                let ratio = |other: Option<&Measured>, percent: bool| match other {
                    Some(o) if percent => {
                        format!("{:.0} %", 100.0 * m.per_second() / o.per_second())
                    }
                    Some(o) => format!("{:.2}×", m.per_second() / o.per_second()),
                    None => "–".into(),
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {:.0} | {} | {} | {} | {} | {} |",
                    row.writers,
                    row.system.label(),
                    m.events,
                    m.per_second(),
                    ms(m.quantile(0.5)),
                    ms(m.quantile(0.99)),
                    ratio(ceiling, true),
                    ratio(peer, false),
                    m.errors,
                );
            }
            out.push('\n');
        }
        if !self.feed.is_empty() {
            let _ = writeln!(
                out,
                "| feed read | events | seconds | events/s | client CPU µs/event | slowest batch ms | avg payload bytes |\n\
                 |---|---:|---:|---:|---:|---:|---:|"
            );
            for row in &self.feed {
                let _ = writeln!(
                    out,
                    "| {} | {} | {:.2} | {:.0} | {:.1} | {} | {:.0} |",
                    row.label,
                    row.pass.events,
                    row.pass.elapsed.as_secs_f64(),
                    row.pass.per_second(),
                    row.pass.client_cpu.as_secs_f64() * 1e6 / row.pass.events.max(1) as f64,
                    ms(row.pass.slowest),
                    row.payload_bytes,
                );
            }
            out.push('\n');
        }
        if let Some(row) = &self.relay {
            let _ = writeln!(
                out,
                "| relay into JetStream | events | seconds | events/s | messages in stream |\n\
                 |---|---:|---:|---:|---:|\n\
                 | `relay::run`, batches of {}{} | {} | {:.2} | {:.0} | {} |\n",
                row.batch_size,
                if row.complete { "" } else { " (time box hit)" },
                row.events,
                row.elapsed.as_secs_f64(),
                row.per_second(),
                row.published,
            );
        }
        self.targets(&mut out);
        out
    }

    fn targets(&self, out: &mut String) {
        let mut checks: Vec<(String, String, bool)> = Vec::new();
        if let Some(ours) = self.append(System::CareOps, TARGET_WRITERS) {
            if let Some(ceiling) = self.append(System::Ceiling, TARGET_WRITERS) {
                let share = ours.per_second() / ceiling.per_second();
                checks.push((
                    format!("appends, {TARGET_WRITERS} writers ≥ 85 % of the ceiling"),
                    format!("{:.0} %", share * 100.0),
                    share >= CEILING_SHARE,
                ));
            }
            if let Some(peer) = self.append(System::PostgresEs, TARGET_WRITERS) {
                let factor = ours.per_second() / peer.per_second();
                checks.push((
                    format!("appends, {TARGET_WRITERS} writers ≥ 2× postgres-es"),
                    format!("{factor:.2}×"),
                    factor >= PEER_FACTOR,
                ));
            }
            let p99 = ours.quantile(0.99);
            checks.push((
                format!("append p99, {TARGET_WRITERS} writers ≤ 10 ms"),
                format!("{} ms", ms(p99)),
                p99 <= P99_MAX,
            ));
        }
        for row in self.feed.iter().filter(|r| r.decoded) {
            checks.push((
                format!("feed read ≥ 150,000 events/s decoded ({})", row.label),
                format!("{:.0}/s", row.pass.per_second()),
                row.pass.per_second() >= FEED_MIN,
            ));
        }
        if let Some(row) = &self.relay {
            checks.push((
                "relay ≥ 20,000 events/s".into(),
                format!("{:.0}/s", row.per_second()),
                row.complete && row.per_second() >= RELAY_MIN,
            ));
        }
        if checks.is_empty() {
            return;
        }
        let _ = writeln!(out, "| target | measured | met |\n|---|---:|---|");
        for (target, measured, met) in checks {
            let _ = writeln!(
                out,
                "| {target} | {measured} | {} |",
                if met { "yes" } else { "**no**" }
            );
        }
    }
}
