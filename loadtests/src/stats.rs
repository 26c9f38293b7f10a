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

/// A Prometheus histogram's cumulative bucket counts, `(upper bound in seconds, count)` in
/// the order the server lists them (ascending, `+Inf` last).
#[derive(Debug, Clone, Default)]
pub struct Buckets(Vec<(f64, f64)>);

impl Buckets {
    /// Parses the `{name}_bucket{le="…"} count` lines of a `/metrics` text.
    pub fn parse(metrics: &str, name: &str) -> Buckets {
        let prefix = format!("{name}_bucket{{le=\"");
        Buckets(
            metrics
                .lines()
                .filter_map(|line| {
                    let (le, count) = line.strip_prefix(&prefix)?.split_once("\"} ")?;
                    let le = if le == "+Inf" {
                        f64::INFINITY
                    } else {
                        le.parse().ok()?
                    };
                    Some((le, count.parse().ok()?))
                })
                .collect(),
        )
    }

    /// The upper bound (ms) of the bucket holding quantile `q` of what was recorded between
    /// `earlier` and `self`; NaN when nothing was.
    pub fn quantile_ms_since(&self, earlier: &Buckets, q: f64) -> f64 {
        let before = |le: f64| {
            earlier
                .0
                .iter()
                .find(|(bound, _)| *bound == le)
                .map_or(0.0, |(_, count)| *count)
        };
        let recorded: Vec<(f64, f64)> = self
            .0
            .iter()
            .map(|&(le, count)| (le, count - before(le)))
            .collect();
        let total = recorded.last().map_or(0.0, |(_, count)| *count);
        if total <= 0.0 {
            return f64::NAN;
        }
        recorded
            .iter()
            .find(|(_, count)| *count >= q * total)
            .map_or(f64::NAN, |(le, _)| le * 1000.0)
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

#[cfg(test)]
mod tests {
    use super::Buckets;

    #[test]
    fn a_quantile_is_read_from_the_bucket_deltas_of_a_step() {
        let text = |counts: [u32; 3]| {
            format!(
                "x_bucket{{le=\"0.001\"}} {}\nx_bucket{{le=\"0.005\"}} {}\nx_bucket{{le=\"+Inf\"}} {}\nx_sum 1\n",
                counts[0], counts[1], counts[2]
            )
        };
        let before = Buckets::parse(&text([100, 100, 100]), "x");
        // In the step: 90 under 1 ms, 9 more under 5 ms, 1 above.
        let after = Buckets::parse(&text([190, 199, 200]), "x");
        assert_eq!(after.quantile_ms_since(&before, 0.5), 1.0);
        assert_eq!(after.quantile_ms_since(&before, 0.99), 5.0);
        assert_eq!(after.quantile_ms_since(&before, 1.0), f64::INFINITY);
        assert!(before.quantile_ms_since(&before, 0.99).is_nan());
    }
}
