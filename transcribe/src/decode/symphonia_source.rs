//! WAV, MP3 and M4A/AAC through symphonia, one packet at a time.

use std::fs::File;
use std::io::ErrorKind;
use std::path::Path;
use std::sync::LazyLock;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, Decoder, DecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader, Track};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::{Hint, Probe};
use symphonia::default::formats::{IsoMp4Reader, MpaReader, WavReader};
use symphonia_metadata::id3v2::Id3v2Reader;

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
    if format == AudioFormat::M4a {
        crate::mp4::check_tables(path)?;
    }
    let source = MediaSourceStream::new(Box::new(File::open(path)?), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(format.extension());
    // Gapless trims the encoder delay and padding of MP3 (LAME) and AAC so timestamps line up.
    let options = FormatOptions {
        enable_gapless: true,
        ..Default::default()
    };
    let probed = probe()
        .format(&hint, source, &options, &MetadataOptions::default())
        .map_err(decode_error)?;
    Ok(probed.format)
}

/// The demuxers of the formats the server accepts (and ID3v2 tags before MP3), no more.
/// symphonia's default probe also tries raw ADTS, whose length estimate panics when an ID3v2
/// tag is at least as long as the audio after it (found by fuzzing `audio_probe`); AAC is
/// accepted inside M4A only.
fn probe() -> &'static Probe {
    static PROBE: LazyLock<Probe> = LazyLock::new(|| {
        let mut probe = Probe::default();
        probe.register_all::<WavReader>();
        probe.register_all::<MpaReader>();
        probe.register_all::<IsoMp4Reader>();
        probe.register_all::<Id3v2Reader>();
        probe
    });
    &PROBE
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An ID3v2 tag of `tag_len` bytes, then one ADTS frame (AAC LC, 44.1 kHz, stereo).
    fn id3_then_adts(tag_len: u32) -> Vec<u8> {
        let mut bytes = b"ID3\x04\x00\x00".to_vec();
        // The tag size is "syncsafe": 7 bits per byte.
        bytes.extend((0..4).rev().map(|i| ((tag_len >> (7 * i)) & 0x7f) as u8));
        bytes.resize(10 + tag_len as usize, 0);
        // A 20-byte frame: the probe reads 16 bytes from a format's marker before choosing.
        bytes.extend([0xff, 0xf1, 0x50, 0x80, 0x02, 0x9f, 0xfc]);
        bytes.extend([0; 13]);
        bytes
    }

    #[test]
    fn raw_adts_after_a_long_id3_tag_is_refused_without_a_panic() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), id3_then_adts(16)).unwrap();
        // Called outside `contain_panics`: a panic would fail this test.
        let err = open_reader(file.path(), AudioFormat::Mp3).err();
        assert!(matches!(err, Some(Error::Decode(_))), "{err:?}");
    }
}
