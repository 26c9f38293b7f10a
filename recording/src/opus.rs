//! What an Opus packet's first byte says about its length, and packets that decode to
//! silence.
//!
//! An Ogg Opus file must account for every sample (RFC 7845 §4): a page's granule position
//! is the sum of the durations of the packets up to its end. A packet's duration is in its
//! TOC byte (RFC 6716 §3.1): the configuration gives the frame size, the code the number of
//! frames. Gaps in the RTP time are filled with packets whose duration is known the same
//! way and which decode to silence.

/// Samples per second of every Opus granule position, whatever the input rate was.
pub const SAMPLE_RATE: u64 = 48_000;

/// The longest packet RFC 6716 §3.2.5 allows: 120 ms.
const MAX_PACKET_SAMPLES: u64 = 5_760;

/// The number of 48 kHz samples `packet` decodes to; `None` for a packet RFC 6716 §3.4
/// calls malformed as far as its length goes (empty, code 3 without its frame count byte,
/// no frames, or over 120 ms).
pub fn packet_samples(packet: &[u8]) -> Option<u64> {
    let toc = *packet.first()?;
    let frames = match toc & 0b11 {
        0 => 1,
        1 | 2 => 2,
        _ => u64::from(*packet.get(1)? & 0x3f),
    };
    let samples = frames * frame_samples(toc >> 3);
    (frames > 0 && samples <= MAX_PACKET_SAMPLES).then_some(samples)
}

/// Samples per frame of a TOC configuration (RFC 6716 Table 2): SILK 10/20/40/60 ms,
/// hybrid 10/20 ms, CELT 2.5/5/10/20 ms, each repeated over the bandwidths.
fn frame_samples(config: u8) -> u64 {
    let index = usize::from(config % 4);
    match config {
        0..=11 => [480, 960, 1_920, 2_880][index],
        12..=15 => [480, 960][index % 2],
        _ => [120, 240, 480, 960][index],
    }
}

/// A 20 ms CELT frame (config 31: fullband, 20 ms; mono; code 0) whose two bytes set the
/// silence flag, the first thing a CELT decoder reads. The packet WebRTC stacks send for
/// silence.
const SILENCE_20MS: [u8; 3] = [0xF8, 0xFF, 0xFE];

/// The same silence as a 2.5 ms frame (config 28), to fill the remainder of a gap that is
/// not a multiple of 20 ms.
const SILENCE_2_5MS: [u8; 3] = [0xE0, 0xFF, 0xFE];

/// Six silent 20 ms frames in one code 3 packet (constant bitrate, no padding: the frame
/// count byte, then six frames of (14 − 2) / 6 = 2 bytes), so a long gap takes a sixth of
/// the packets.
const SILENCE_120MS: [u8; 14] = [
    0xFB, 0x06, 0xFF, 0xFE, 0xFF, 0xFE, 0xFF, 0xFE, 0xFF, 0xFE, 0xFF, 0xFE, 0xFF, 0xFE,
];

/// Packets that decode to `samples` of silence, rounded down to a multiple of 2.5 ms (120
/// samples), each with its duration: 120 ms packets, then 20 ms ones, then 2.5 ms ones.
pub fn silence(samples: u64) -> impl Iterator<Item = (&'static [u8], u64)> {
    let rest = samples % MAX_PACKET_SAMPLES;
    let packets = |packet: &'static [u8], duration: u64, count: u64| {
        std::iter::repeat_n(
            (packet, duration),
            usize::try_from(count).unwrap_or(usize::MAX),
        )
    };
    packets(
        &SILENCE_120MS,
        MAX_PACKET_SAMPLES,
        samples / MAX_PACKET_SAMPLES,
    )
    .chain(packets(&SILENCE_20MS, 960, rest / 960))
    .chain(packets(&SILENCE_2_5MS, 120, rest % 960 / 120))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_the_toc_byte() {
        // SILK narrowband 10 ms (config 0), one frame.
        assert_eq!(packet_samples(&[0x00, 1, 2]), Some(480));
        // SILK wideband 60 ms (config 11), two frames (code 1): 120 ms.
        assert_eq!(packet_samples(&[11 << 3 | 1, 1, 2]), Some(5_760));
        // Hybrid fullband 20 ms (config 15), code 2: two frames.
        assert_eq!(packet_samples(&[15 << 3 | 2, 1, 1, 2]), Some(1_920));
        // CELT fullband 20 ms stereo (config 31, s = 1), the usual WebRTC packet.
        assert_eq!(packet_samples(&[31 << 3 | 0b100, 1, 2]), Some(960));
        // CELT 2.5 ms, code 3 with 48 frames: 120 ms, the most allowed.
        assert_eq!(packet_samples(&[16 << 3 | 3, 48]), Some(5_760));
        // A TOC byte alone is a valid packet (a lost or DTX frame).
        assert_eq!(packet_samples(&[0xF8]), Some(960));
    }

    #[test]
    fn malformed_lengths_are_refused() {
        assert_eq!(packet_samples(&[]), None, "empty");
        assert_eq!(
            packet_samples(&[0xFB]),
            None,
            "code 3 without its count byte"
        );
        assert_eq!(packet_samples(&[0xFB, 0]), None, "code 3 with no frames");
        assert_eq!(packet_samples(&[0xFB, 7]), None, "7 × 20 ms is over 120 ms");
    }

    #[test]
    fn silence_packets_add_up_to_the_gap() {
        let total = |samples| {
            silence(samples)
                .map(|(packet, duration)| {
                    assert_eq!(
                        packet_samples(packet),
                        Some(duration),
                        "its TOC byte agrees"
                    );
                    duration
                })
                .sum::<u64>()
        };
        assert_eq!(total(48_000), 48_000);
        assert_eq!(silence(48_000).count(), 10, "8 × 120 ms and 2 × 20 ms");
        assert_eq!(total(5_760 + 960 + 240), 5_760 + 960 + 240);
        assert_eq!(total(119), 0, "under 2.5 ms is left out");
        assert_eq!(total(1_000), 960);
    }
}
