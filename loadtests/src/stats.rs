//! Latency percentiles and the server process's CPU and memory.

use std::time::Duration;

use hdrhistogram::Histogram;

/// Latencies in microseconds, 1 µs to 60 s at 3 significant digits.
pub struct Latencies(Histogram<u64>);

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

impl Latencies {
    pub fn new() -> Self {
        Latencies(Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds"))
    }

    pub fn record(&mut self, latency: Duration) {
        let micros = (latency.as_micros() as u64).clamp(1, 60_000_000);
        self.0.record(micros).expect("value within bounds");
    }

    pub fn merge(&mut self, other: &Latencies) {
        self.0.add(&other.0).expect("same bounds");
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.0.value_at_quantile(q) as f64 / 1000.0
    }

    /// `n=…, p50=… ms, p99=… ms, max=… ms`.
    pub fn summary(&self) -> String {
        format!(
            "n={}, p50={:.2} ms, p99={:.2} ms, max={:.2} ms",
            self.count(),
            self.quantile_ms(0.5),
            self.quantile_ms(0.99),
            self.0.max() as f64 / 1000.0
        )
    }
}

/// CPU time and resident memory of a process, from `/proc`.
#[derive(Debug, Clone, Copy)]
pub struct ProcessUsage {
    pub cpu_seconds: f64,
    pub rss_bytes: u64,
}

impl ProcessUsage {
    pub fn read(pid: u32) -> Option<ProcessUsage> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the parenthesized command name; utime and stime are 14th and 15th.
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 =
            fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let rss_kb: u64 = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        Some(ProcessUsage {
            cpu_seconds: ticks / 100.0,
            rss_bytes: rss_kb * 1024,
        })
    }
}
