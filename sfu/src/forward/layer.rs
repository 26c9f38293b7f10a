//! Simulcast layers: how fast each one runs, and which one a subscriber should get.
//!
//! A publisher's layers are numbered by the order they first appear (str0m names them by the
//! browser's `rid`, which carries no order anyone agrees on); their quality order is the
//! measured bitrate. A subscriber gets the best layer that fits its share of its bandwidth
//! estimate and does not exceed its preference, never less than the lowest layer: pausing
//! on a low estimate would starve the estimator of the traffic it needs to recover.

use std::time::{Duration, Instant};

/// A publisher layer, numbered in order of first appearance (0 for a track without simulcast).
pub type Layer = u8;

/// The most layers a track may have (browsers send at most 3).
pub const MAX_LAYERS: usize = 4;

/// How long a layer may stay silent before it no longer counts as available (the browser
/// drops the top layers when its own uplink estimate falls).
const SILENT_AFTER: Duration = Duration::from_secs(2);

/// What a subscriber asks for, as in the hub's subscribe message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Quality {
    /// The lowest layer.
    Low,
    /// The middle layer (the highest of two).
    Medium,
    /// The best layer the bandwidth allows.
    High,
}

/// Bitrate per layer over a sliding window of one second, in two halves.
#[derive(Debug)]
pub struct LayerMeter {
    layers: [Meter; MAX_LAYERS],
}

#[derive(Debug, Default, Clone, Copy)]
struct Meter {
    window_start: Option<Instant>,
    current: u64,
    previous: u64,
    /// Whether `previous` holds a full half window.
    has_previous: bool,
    last_packet: Option<Instant>,
}

const HALF: Duration = Duration::from_millis(500);

impl Meter {
    fn add(&mut self, bytes: usize, now: Instant) {
        self.roll(now);
        self.current += bytes as u64;
        self.last_packet = Some(now);
    }

    fn roll(&mut self, now: Instant) {
        match self.window_start {
            None => self.window_start = Some(now),
            Some(start) if now >= start + 2 * HALF => {
                self.previous = 0;
                self.current = 0;
                self.has_previous = false;
                self.window_start = Some(now);
            }
            Some(start) if now >= start + HALF => {
                self.previous = self.current;
                self.has_previous = true;
                self.current = 0;
                self.window_start = Some(start + HALF);
            }
            Some(_) => {}
        }
    }

    /// Bits per second over the time the two halves cover (the current one partly).
    fn bitrate(&self, now: Instant) -> Option<u64> {
        let last = self.last_packet?;
        if now.saturating_duration_since(last) > SILENT_AFTER {
            return None;
        }
        let mut span = now.saturating_duration_since(self.window_start?);
        if self.has_previous {
            span += HALF;
        }
        let micros = span.as_micros().max(10_000) as u64;
        Some((self.previous + self.current) * 8 * 1_000_000 / micros)
    }
}

impl Default for LayerMeter {
    fn default() -> Self {
        LayerMeter {
            layers: [Meter::default(); MAX_LAYERS],
        }
    }
}

impl LayerMeter {
    /// A packet of `bytes` payload arrived on `layer`.
    pub fn add(&mut self, layer: Layer, bytes: usize, now: Instant) {
        if let Some(m) = self.layers.get_mut(usize::from(layer)) {
            m.add(bytes, now);
        }
    }

    /// The layers that are sending, lowest bitrate first, with their bitrate.
    pub fn ranked(&self, now: Instant) -> Vec<(Layer, u64)> {
        let mut v: Vec<(Layer, u64)> = (0..MAX_LAYERS as u8)
            .filter_map(|l| Some((l, self.layers[usize::from(l)].bitrate(now)?)))
            .collect();
        v.sort_by_key(|&(l, bps)| (bps, l));
        v
    }
}

/// The layer a subscriber should get: the best of `ranked` (lowest bitrate first) within
/// `budget_bps` and `quality`, else the lowest; `None` if no layer is sending.
pub fn choose(ranked: &[(Layer, u64)], budget_bps: Option<u64>, quality: Quality) -> Option<Layer> {
    let (&(lowest, _), _) = ranked.split_first()?;
    let cap = match quality {
        Quality::Low => 0,
        Quality::Medium => 1.min(ranked.len() - 1),
        Quality::High => ranked.len() - 1,
    };
    let best = ranked[..=cap]
        .iter()
        .rev()
        .find(|&&(_, bps)| budget_bps.is_none_or(|b| bps <= b))
        .map_or(lowest, |&(l, _)| l);
    Some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(m: &mut LayerMeter, layer: Layer, bytes_per_10ms: usize, from: Instant, ms: u64) {
        for i in 0..ms / 10 {
            m.add(layer, bytes_per_10ms, from + Duration::from_millis(i * 10));
        }
    }

    #[test]
    fn meter_ranks_layers_by_bitrate_not_by_number() {
        let t0 = Instant::now();
        let mut m = LayerMeter::default();
        feed(&mut m, 0, 1000, t0, 2000); // ~800 kbit/s
        feed(&mut m, 1, 100, t0, 2000); // ~80 kbit/s
        feed(&mut m, 2, 300, t0, 2000); // ~240 kbit/s
        let ranked = m.ranked(t0 + Duration::from_millis(1990));
        let order: Vec<Layer> = ranked.iter().map(|&(l, _)| l).collect();
        assert_eq!(order, vec![1, 2, 0]);
        let (_, top) = ranked[2];
        assert!((600_000..=900_000).contains(&top), "{top}");
    }

    #[test]
    fn a_silent_layer_is_no_longer_available() {
        let t0 = Instant::now();
        let mut m = LayerMeter::default();
        feed(&mut m, 0, 1000, t0, 1000);
        feed(&mut m, 1, 100, t0, 4000);
        let ranked = m.ranked(t0 + Duration::from_millis(3990));
        assert_eq!(ranked.len(), 1);
        assert_eq!(ranked[0].0, 1);
    }

    #[test]
    fn choice_follows_budget_and_preference() {
        let ranked = [(2, 100_000), (1, 400_000), (0, 1_500_000)];
        assert_eq!(choose(&ranked, None, Quality::High), Some(0));
        assert_eq!(choose(&ranked, Some(2_000_000), Quality::High), Some(0));
        assert_eq!(choose(&ranked, Some(1_000_000), Quality::High), Some(1));
        assert_eq!(choose(&ranked, Some(1_000_000), Quality::Low), Some(2));
        assert_eq!(choose(&ranked, None, Quality::Medium), Some(1));
        // Below the lowest layer: still the lowest, never nothing.
        assert_eq!(choose(&ranked, Some(10_000), Quality::High), Some(2));
        assert_eq!(choose(&[], None, Quality::High), None);
        // One layer (no simulcast): that one, whatever is asked.
        assert_eq!(choose(&[(0, 50_000)], Some(1), Quality::Medium), Some(0));
    }
}
