//! WAV, MP3 and M4A/AAC through symphonia, one packet at a time.

use std::fs::File;
use std::io::ErrorKind;
use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, Decoder, DecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader, Track};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::{MAX_BAD_PACKETS, downmix_into};
use crate::error::{Error, Result};
use crate::format::AudioFormat;

pub(crate) struct SymphoniaDecoder {
    reader: Box<dyn FormatReader>,
    decoder: Box<dyn Decoder>,
    track_id: u32,
    sample_rate: u32,
    interleaved: Option<SampleBuffer<f32>>,
    bad_packets: u32,
}

fn decode_error(err: SymphoniaError) -> Error {
    match err {
        SymphoniaError::Unsupported(what) => Error::Decode(format!("unsupported: {what}")),
        other => Error::Decode(other.to_string()),
    }
}

/// Open the container and pick its first audio track.
pub(crate) fn open_reader(path: &Path, format: AudioFormat) -> Result<Box<dyn FormatReader>> {
    let source = MediaSourceStream::new(Box::new(File::open(path)?), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(format.extension());
    // Gapless trims the encoder delay and padding of MP3 (LAME) and AAC so timestamps line up.
    let options = FormatOptions {
        enable_gapless: true,
        ..Default::default()
    };
    let probed = symphonia::default::get_probe()
        .format(&hint, source, &options, &MetadataOptions::default())
        .map_err(decode_error)?;
    Ok(probed.format)
}

pub(crate) fn audio_track(reader: &dyn FormatReader) -> Result<&Track> {
    reader
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL && t.codec_params.sample_rate.is_some())
        .ok_or_else(|| Error::Decode("no audio track".into()))
}

impl SymphoniaDecoder {
    pub(crate) fn open(path: &Path, format: AudioFormat) -> Result<Self> {
        if format == AudioFormat::Wav {
            // Validated before symphonia reads it: a sample rate of 0 panicked inside it.
            crate::riff::inspect(path)?;
        }
        let reader = open_reader(path, format)?;
        let track = audio_track(reader.as_ref())?;
        let decoder = symphonia::default::get_codecs()
            .make(&track.codec_params, &DecoderOptions::default())
            .map_err(decode_error)?;
        let track_id = track.id;
        let sample_rate = track.codec_params.sample_rate.unwrap_or_default();
        if sample_rate == 0 {
            return Err(Error::Decode("sample rate is zero".into()));
        }
        Ok(SymphoniaDecoder {
            reader,
            decoder,
            track_id,
            sample_rate,
            interleaved: None,
            bad_packets: 0,
        })
    }

    pub(crate) fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    pub(crate) fn next_chunk(&mut self, out: &mut Vec<f32>) -> Result<bool> {
        loop {
            let packet = match self.reader.next_packet() {
                Ok(packet) => packet,
                Err(SymphoniaError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => {
                    return Ok(false);
                }
                Err(e) => return Err(decode_error(e)),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(decoded) => {
                    let spec = *decoded.spec();
                    let needed = decoded.capacity() * spec.channels.count();
                    let buffer = match &mut self.interleaved {
                        Some(buffer) if buffer.capacity() >= needed => buffer,
                        slot => slot.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
                    };
                    buffer.copy_interleaved_ref(decoded);
                    downmix_into(buffer.samples(), spec.channels.count(), out);
                    return Ok(true);
                }
                Err(SymphoniaError::DecodeError(what)) => {
                    self.bad_packets += 1;
                    tracing::debug!(what, "skipping a corrupt audio packet");
                    if self.bad_packets > MAX_BAD_PACKETS {
                        return Err(Error::Decode(format!("too many corrupt packets: {what}")));
                    }
                }
                Err(e) => return Err(decode_error(e)),
            }
        }
    }
}
