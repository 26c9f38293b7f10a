//! Ogg Opus: symphonia has no Opus decoder, so the Ogg pages are read with `ogg` and the packets
//! decoded by libopus. Opus always decodes at 48 kHz; the stream starts with the `OpusHead` and
//! `OpusTags` header packets, and the first `pre_skip` decoded samples are encoder warm-up.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use ogg::PacketReader;

use super::{MAX_BAD_PACKETS, downmix_into};
use crate::error::{Error, Result};

/// libopus decodes at 48 kHz whatever the original input rate was.
pub(crate) const OPUS_RATE: u32 = 48_000;
/// The longest Opus packet is 120 ms.
const MAX_FRAME_SAMPLES: usize = 5_760;

/// The fields of the `OpusHead` identification header this decoder uses (RFC 7845 §5.1).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpusHead {
    pub(crate) channels: u8,
    pub(crate) pre_skip: u16,
    /// Output gain in Q7.8 dB.
    pub(crate) gain: i16,
}

impl OpusHead {
    pub(crate) fn parse(packet: &[u8]) -> Result<Self> {
        if packet.len() < 19 || &packet[0..8] != b"OpusHead" {
            return Err(Error::Decode("missing OpusHead header".into()));
        }
        let head = OpusHead {
            channels: packet[9],
            pre_skip: u16::from_le_bytes([packet[10], packet[11]]),
            gain: i16::from_le_bytes([packet[16], packet[17]]),
        };
        let mapping_family = packet[18];
        if mapping_family != 0 || !(1..=2).contains(&head.channels) {
            return Err(Error::Decode(format!(
                "Opus with {} channels (mapping family {mapping_family}) is not supported",
                head.channels
            )));
        }
        Ok(head)
    }
}

pub(crate) fn open_packets(path: &Path) -> Result<PacketReader<BufReader<File>>> {
    Ok(PacketReader::new(BufReader::new(File::open(path)?)))
}

fn ogg_error(err: ogg::OggReadError) -> Error {
    Error::Decode(format!("ogg: {err}"))
}

/// Read the two header packets; returns the parsed head and the stream's serial number.
pub(crate) fn read_headers(reader: &mut PacketReader<BufReader<File>>) -> Result<(OpusHead, u32)> {
    let first = reader
        .read_packet()
        .map_err(ogg_error)?
        .ok_or_else(|| Error::Decode("empty Ogg stream".into()))?;
    let head = OpusHead::parse(&first.data)?;
    let serial = first.stream_serial();
    loop {
        let packet = reader
            .read_packet()
            .map_err(ogg_error)?
            .ok_or_else(|| Error::Decode("missing OpusTags header".into()))?;
        if packet.stream_serial() != serial {
            continue;
        }
        if !packet.data.starts_with(b"OpusTags") {
            return Err(Error::Decode("missing OpusTags header".into()));
        }
        return Ok((head, serial));
    }
}

pub(crate) struct OggOpusDecoder {
    reader: PacketReader<BufReader<File>>,
    decoder: opus::Decoder,
    serial: u32,
    channels: usize,
    gain: f32,
    /// Warm-up samples (per channel) still to drop.
    skip: usize,
    /// Samples per channel decoded so far, pre-skip included, as counted by granule positions.
    decoded: u64,
    pcm: Vec<f32>,
    bad_packets: u32,
}

impl OggOpusDecoder {
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let mut reader = open_packets(path)?;
        let (head, serial) = read_headers(&mut reader)?;
        let layout = if head.channels == 1 {
            opus::Channels::Mono
        } else {
            opus::Channels::Stereo
        };
        let decoder = opus::Decoder::new(OPUS_RATE, layout)
            .map_err(|e| Error::Decode(format!("opus: {e}")))?;
        Ok(OggOpusDecoder {
            reader,
            decoder,
            serial,
            channels: usize::from(head.channels),
            gain: 10f32.powf(f32::from(head.gain) / (20.0 * 256.0)),
            skip: usize::from(head.pre_skip),
            decoded: 0,
            pcm: vec![0.0; MAX_FRAME_SAMPLES * usize::from(head.channels)],
            bad_packets: 0,
        })
    }

    pub(crate) fn sample_rate(&self) -> u32 {
        OPUS_RATE
    }

    pub(crate) fn next_chunk(&mut self, out: &mut Vec<f32>) -> Result<bool> {
        loop {
            let Some(packet) = self.reader.read_packet().map_err(ogg_error)? else {
                return Ok(false);
            };
            if packet.stream_serial() != self.serial {
                continue;
            }
            let frames = match self
                .decoder
                .decode_float(&packet.data, &mut self.pcm, false)
            {
                Ok(frames) => frames,
                Err(e) => {
                    self.bad_packets += 1;
                    if self.bad_packets > MAX_BAD_PACKETS {
                        return Err(Error::Decode(format!("opus: {e}")));
                    }
                    continue;
                }
            };
            let mut keep = frames;
            self.decoded += frames as u64;
            // The final page's granule position marks where the real audio ends.
            if packet.last_in_stream() && self.decoded > packet.absgp_page() {
                let excess = (self.decoded - packet.absgp_page()).min(frames as u64);
                keep -= excess as usize;
            }
            let dropped = self.skip.min(keep);
            self.skip -= dropped;
            let samples = &mut self.pcm[dropped * self.channels..keep * self.channels];
            if self.gain != 1.0 {
                samples.iter_mut().for_each(|s| *s *= self.gain);
            }
            downmix_into(samples, self.channels, out);
            return Ok(true);
        }
    }
}
