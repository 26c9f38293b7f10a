//! Reading an audio file's format and duration without decoding it, for the upload endpoint.

use std::path::Path;

use serde::{Deserialize, Serialize};
use symphonia::core::codecs::{CodecParameters, DecoderOptions};
use symphonia::core::formats::FormatReader;

use crate::decode::contain_panics;
use crate::decode::ogg_opus::{OPUS_RATE, open_packets, read_headers};
use crate::decode::symphonia_source::{audio_track, open_reader};
use crate::error::{Error, Result};
use crate::format::{AudioFormat, detect_file};
use crate::riff;

/// What the server stores about an upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioInfo {
    pub format: AudioFormat,
    pub duration_secs: f64,
    /// The rate the codec decodes at (48 kHz for Opus).
    pub sample_rate: u32,
    pub channels: u16,
}

/// Detect the format and measure the duration from the content, never from a header's
/// claim (a frame count or data size is the uploader's to write): WAV from the bytes its
/// data chunk really holds, the others by walking the packets (demuxing only, no
/// decoding), which reads the file once.
pub fn probe(path: &Path) -> Result<AudioInfo> {
    let format = detect_file(path)?;
    if format == AudioFormat::Wav {
        // Checked before symphonia opens it: a sample rate of 0 panicked inside it.
        let facts = riff::inspect(path)?;
        // The transcription reads it with symphonia later: make sure it can.
        contain_panics(|| audio_track(open_reader(path, format)?.as_ref()).map(|_| ()))?;
        return Ok(AudioInfo {
            format,
            duration_secs: facts.duration_secs(),
            sample_rate: facts.sample_rate,
            channels: facts.channels,
        });
    }
    contain_panics(|| match format {
        AudioFormat::OggOpus => probe_ogg_opus(path),
        other => probe_symphonia(path, other),
    })
}

fn probe_symphonia(path: &Path, format: AudioFormat) -> Result<AudioInfo> {
    let mut reader = open_reader(path, format)?;
    let track = audio_track(reader.as_ref())?;
    let params = track.codec_params.clone();
    let track_id = track.id;
    let sample_rate = params.sample_rate.unwrap_or_default();
    // MP4 leaves the channel count to the AAC config: decode the first packet to learn it.
    let (channels, consumed) = match params.channels {
        Some(c) => (c.count() as u16, 0),
        None => channels_from_first_packet(reader.as_mut(), &params, track_id)?,
    };
    // `params.n_frames` is what the header claims (an MP3 Info frame's count, say).
    let frames = consumed + remaining_packet_frames(reader.as_mut(), track_id);
    let duration_secs = match params.time_base {
        Some(tb) => {
            let time = tb.calc_time(frames);
            time.seconds as f64 + time.frac
        }
        None if sample_rate > 0 => frames as f64 / f64::from(sample_rate),
        None => return Err(Error::Decode("no time base or sample rate".into())),
    };
    Ok(AudioInfo {
        format,
        duration_secs,
        sample_rate,
        channels,
    })
}

/// Sum of the durations of the packets not read yet (demuxing only).
fn remaining_packet_frames(reader: &mut dyn FormatReader, track_id: u32) -> u64 {
    let mut total = 0;
    while let Ok(packet) = reader.next_packet() {
        if packet.track_id() == track_id {
            total += packet.dur;
        }
    }
    total
}

/// Channel count from the first decodable packet, and the frames of the packets read for it.
fn channels_from_first_packet(
    reader: &mut dyn FormatReader,
    params: &CodecParameters,
    track_id: u32,
) -> Result<(u16, u64)> {
    let mut decoder = symphonia::default::get_codecs()
        .make(params, &DecoderOptions::default())
        .map_err(|e| Error::Decode(e.to_string()))?;
    let mut consumed = 0;
    while let Ok(packet) = reader.next_packet() {
        if packet.track_id() != track_id {
            continue;
        }
        consumed += packet.dur;
        if let Ok(decoded) = decoder.decode(&packet) {
            return Ok((decoded.spec().channels.count() as u16, consumed));
        }
    }
    Err(Error::Decode("no decodable audio packet".into()))
}

/// The last granule position counts 48 kHz samples from the start, the pre-skip included.
fn probe_ogg_opus(path: &Path) -> Result<AudioInfo> {
    let mut reader = open_packets(path)?;
    let (head, serial) = read_headers(&mut reader)?;
    let mut last_granule = 0u64;
    while let Ok(Some(packet)) = reader.read_packet() {
        if packet.stream_serial() == serial && packet.last_in_page() {
            last_granule = packet.absgp_page();
        }
    }
    let samples = last_granule.saturating_sub(u64::from(head.pre_skip));
    Ok(AudioInfo {
        format: AudioFormat::OggOpus,
        duration_secs: samples as f64 / f64::from(OPUS_RATE),
        sample_rate: OPUS_RATE,
        channels: u16::from(head.channels),
    })
}
