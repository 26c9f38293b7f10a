//! Container detection from the first bytes of a file: the upload's name and MIME type are
//! untrusted, so the content alone decides whether (and how) it is decoded.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// How many leading bytes [`detect`] needs to recognise every supported container.
pub const SNIFF_LEN: usize = 64;

/// The audio containers the pipeline decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioFormat {
    /// RIFF/WAVE with PCM samples.
    Wav,
    /// MPEG-1/2 layer III, with or without an ID3v2 tag.
    Mp3,
    /// An ISO-BMFF (MP4) container, in practice AAC audio in `.m4a`.
    M4a,
    /// Opus in an Ogg stream.
    OggOpus,
}

impl AudioFormat {
    /// The MIME type the server stores and serves the file with.
    pub fn mime_type(self) -> &'static str {
        match self {
            AudioFormat::Wav => "audio/wav",
            AudioFormat::Mp3 => "audio/mpeg",
            AudioFormat::M4a => "audio/mp4",
            AudioFormat::OggOpus => "audio/ogg",
        }
    }

    /// The format [`extension`](Self::extension) names, if it names one.
    pub fn from_extension(extension: &str) -> Option<AudioFormat> {
        [
            AudioFormat::Wav,
            AudioFormat::Mp3,
            AudioFormat::M4a,
            AudioFormat::OggOpus,
        ]
        .into_iter()
        .find(|format| format.extension() == extension)
    }

    /// The customary file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            AudioFormat::Wav => "wav",
            AudioFormat::Mp3 => "mp3",
            AudioFormat::M4a => "m4a",
            AudioFormat::OggOpus => "opus",
        }
    }
}

/// Recognise the container from the first bytes of a file (at least [`SNIFF_LEN`] when the file
/// is that long). Anything unrecognised is [`Error::Unsupported`].
pub fn detect(head: &[u8]) -> Result<AudioFormat> {
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WAVE" {
        return Ok(AudioFormat::Wav);
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return Ok(AudioFormat::M4a);
    }
    if is_ogg_opus(head) {
        return Ok(AudioFormat::OggOpus);
    }
    if head.starts_with(b"ID3") || is_mp3_frame_header(head) {
        return Ok(AudioFormat::Mp3);
    }
    Err(Error::Unsupported)
}

/// [`detect`] on the first [`SNIFF_LEN`] bytes of a file.
pub fn detect_file(path: &Path) -> Result<AudioFormat> {
    let mut head = Vec::with_capacity(SNIFF_LEN);
    File::open(path)?
        .take(SNIFF_LEN as u64)
        .read_to_end(&mut head)?;
    detect(&head)
}

/// The first Ogg page of an Opus stream carries exactly the `OpusHead` packet right after the
/// 27-byte page header and its segment table.
fn is_ogg_opus(head: &[u8]) -> bool {
    if head.len() < 27 || &head[0..4] != b"OggS" {
        return false;
    }
    let body = 27 + usize::from(head[26]);
    head.get(body..body + 8) == Some(b"OpusHead".as_slice())
}

/// An MPEG audio frame header for layer III: 11 sync bits, a valid version, layer bits `01`,
/// and a bitrate and sample-rate index that are not reserved. (AAC ADTS has layer `00`.)
fn is_mp3_frame_header(head: &[u8]) -> bool {
    let [b0, b1, b2, ..] = head else {
        return false;
    };
    let sync = *b0 == 0xFF && b1 & 0xE0 == 0xE0;
    let version_valid = (b1 >> 3) & 0b11 != 0b01;
    let layer_three = (b1 >> 1) & 0b11 == 0b01;
    let bitrate_valid = b2 >> 4 != 0b1111 && b2 >> 4 != 0;
    let rate_valid = (b2 >> 2) & 0b11 != 0b11;
    sync && version_valid && layer_three && bitrate_valid && rate_valid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_each_container_by_its_magic() {
        let mut wav = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
        wav.resize(SNIFF_LEN, 0);
        assert_eq!(detect(&wav).unwrap(), AudioFormat::Wav);
        assert_eq!(
            detect(b"\0\0\0\x20ftypM4A \0\0\0\0").unwrap(),
            AudioFormat::M4a
        );
        assert_eq!(detect(b"ID3\x04\0\0\0\0\0\0").unwrap(), AudioFormat::Mp3);
        assert_eq!(detect(&[0xFF, 0xFB, 0x90, 0x64]).unwrap(), AudioFormat::Mp3);
        let mut ogg = b"OggS\0\x02".to_vec();
        ogg.resize(26, 0);
        ogg.push(1); // one segment
        ogg.push(19); // its length
        ogg.extend_from_slice(b"OpusHead\x01\x01");
        assert_eq!(detect(&ogg).unwrap(), AudioFormat::OggOpus);
    }

    #[test]
    fn rejects_text_aac_adts_and_ogg_vorbis() {
        assert!(matches!(
            detect(b"hello, this is not audio"),
            Err(Error::Unsupported)
        ));
        assert!(matches!(
            detect(&[0xFF, 0xF1, 0x50, 0x80]),
            Err(Error::Unsupported)
        ));
        let mut vorbis = b"OggS\0\x02".to_vec();
        vorbis.resize(26, 0);
        vorbis.extend_from_slice(&[1, 30]);
        vorbis.extend_from_slice(b"\x01vorbis\0\0\0\0");
        assert!(matches!(detect(&vorbis), Err(Error::Unsupported)));
        assert!(matches!(detect(b""), Err(Error::Unsupported)));
    }
}
