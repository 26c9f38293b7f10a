//! Session recording: each published track written to its own file as its packets arrive,
//! without decoding or re-encoding anything.
//!
//! This crate is the sans-IO core: plain state machines and writers over
//! [`std::io::Write`], fed packets and time by the caller (the SFU's shard, which sees the
//! publishers' RTP). It opens no file, reads no clock and spawns nothing.
//!
//! # The path of a packet
//!
//! ```text
//! RTP packet ──▶ ReorderBuffer ──▶ OggOpusWriter                          (audio)
//!  (one per SSRC)   │  in order,   └─▶ .opus: Ogg pages, one a second
//!                   │  gaps as Lost
//!                   └────────────▶ Vp8Depacketizer ──▶ IvfWriter           (video)
//!                                   frames, drops      └─▶ .ivf: one frame at a time
//!                                   until a keyframe
//!                                   after a loss
//! ```
//!
//! - [`reorder`]: a small window per track that puts packets back in sequence, drops
//!   duplicates, extends sequence numbers and timestamps to 64 bits, and gives a hole up
//!   when the window is full or after a timeout, reporting it as lost.
//! - [`ogg_opus`]: Ogg Opus (RFC 7845). Positions come from RTP time and gaps are filled
//!   with silent Opus packets ([`opus`]), so a file's time is the recording's time and a
//!   silence keeps its length. A track that starts late begins with silence. Audio needs
//!   no `Lost`: the next packet's timestamp says how long the gap was.
//! - [`vp9`]: VP9 frames from RTP (RFC 9628), base spatial layer, into IVF as VP8's are.
//! - [`h264`]: H.264 access units from RTP (RFC 6184: single NAL units, STAP-A, FU-A)
//!   as a raw Annex-B stream, from the first IDR picture and again after a loss.
//! - [`track`]: the two put together for one track, which is what a caller holds per file.
//! - [`vp8`] and [`ivf`]: VP8 frames from RTP (RFC 7741), written to IVF from the first
//!   keyframe; after a loss, frames are dropped until the next keyframe and the caller is
//!   told to ask for one.
//!
//! # Why these formats
//!
//! Both are what the packets already are, in the simplest container a player reads:
//! an Ogg page is a few packets behind a 27-byte header, an IVF frame a frame behind a
//! 12-byte header. Neither needs an index or a header rewritten to play (unlike MP4, or
//! WebM's cues and sizes), so a file is valid at every page or frame boundary while it
//! grows. Ogg Opus is what the transcription pipeline and browsers read directly.
//!
//! # What is written when, and what a crash leaves
//!
//! - Ogg Opus: the two header pages at creation (flushed); then a page, flushed, after
//!   each second of audio; the last page, marked end of stream, on `finish`. A process
//!   killed at any moment leaves every page before the one being filled: the file plays up
//!   to at most a second (and a packet) before the crash, and lacks only the end-of-stream
//!   flag, which readers do not need.
//! - IVF: the header with the first keyframe, then each frame as it completes, flushed;
//!   the header's length field on `finish`. An unfinished file has no length, and ffmpeg
//!   reads its frames to the end of the file, a torn last frame included.
//!
//! Writers make many small writes and flush at those boundaries, so give them a
//! `BufWriter<File>`. Flushing hands the bytes to the kernel, which is what survives
//! `kill -9`; surviving a power cut would take an `fsync`, which is the caller's to time.
//!
//! The caller owns what is outside a file: one writer per track and file, the recording's
//! manifest (participant, source, codec, wall-clock start, the RTP-to-wall-clock mapping of
//! each track from its sender reports), the `lead_in` of a track that starts late, a
//! [`ogg_opus::OggOpusWriter::resync`] when a publisher reconnects, keyframe requests, and
//! disk space.

pub mod h264;
pub mod ivf;
pub mod ogg_opus;
pub mod opus;
pub mod reorder;
pub mod track;
pub mod vp8;
pub mod vp9;

/// What writing a packet can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be written (a full disk, a closed file).
    #[error("writing the recording failed: {0}")]
    Io(#[from] std::io::Error),
    /// An Opus packet whose duration cannot be read from its TOC byte (RFC 6716 §3.4);
    /// it is left out of the file.
    #[error("malformed Opus packet")]
    MalformedOpus,
}
