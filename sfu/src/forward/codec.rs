//! Keyframe detection in RTP payloads, so a subscriber is switched to a layer only where it
//! can start decoding.
//!
//! str0m in RTP mode hands over payloads without depacketizing them; these checks read just
//! the payload descriptor and the first byte(s) of the codec frame header of the first
//! packet of a frame (RFC 7741 VP8, draft-ietf-payload-vp9 VP9, RFC 6184 H.264).

/// Video codecs the SFU forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoCodec {
    /// RFC 7741.
    Vp8,
    /// The VP9 payload format (flexible or not).
    Vp9,
    /// RFC 6184.
    H264,
}

/// Whether `payload` starts a keyframe. False for anything malformed or truncated.
pub fn is_keyframe(codec: VideoCodec, payload: &[u8]) -> bool {
    match codec {
        VideoCodec::Vp8 => vp8_keyframe(payload),
        VideoCodec::Vp9 => vp9_keyframe(payload),
        VideoCodec::H264 => h264_keyframe(payload),
    }
}

/// VP8: descriptor with S=1 and partition 0, then the frame tag's P bit 0.
fn vp8_keyframe(p: &[u8]) -> bool {
    let Some(&b0) = p.first() else { return false };
    let start_of_partition = b0 & 0x10 != 0;
    let partition_id = b0 & 0x0f;
    if !start_of_partition || partition_id != 0 {
        return false;
    }
    let mut i = 1;
    if b0 & 0x80 != 0 {
        // X: extension byte with I, L, T, K flags.
        let Some(&x) = p.get(i) else { return false };
        i += 1;
        if x & 0x80 != 0 {
            // I: picture id, 7 or 15 bits.
            let Some(&pid) = p.get(i) else { return false };
            i += if pid & 0x80 != 0 { 2 } else { 1 };
        }
        if x & 0x40 != 0 {
            i += 1; // L: TL0PICIDX
        }
        if x & 0x30 != 0 {
            i += 1; // T or K: TID/KEYIDX
        }
    }
    p.get(i).is_some_and(|tag| tag & 0x01 == 0)
}

/// VP9: B (start of frame) set and P (inter-picture predicted) clear.
fn vp9_keyframe(p: &[u8]) -> bool {
    p.first().is_some_and(|b| b & 0x40 == 0 && b & 0x08 != 0)
}

/// H.264: an IDR slice (5) or SPS (7), alone, in a STAP-A (24) or starting a FU-A (28).
fn h264_keyframe(p: &[u8]) -> bool {
    let Some(&b0) = p.first() else { return false };
    let is_key = |nal_type: u8| nal_type == 5 || nal_type == 7;
    match b0 & 0x1f {
        24 => {
            // STAP-A: [header][size u16][nal]...
            let mut i = 1;
            while i + 2 < p.len() {
                let size = usize::from(u16::from_be_bytes([p[i], p[i + 1]]));
                if is_key(p[i + 2] & 0x1f) {
                    return true;
                }
                i += 2 + size;
            }
            false
        }
        28 => p
            .get(1)
            .is_some_and(|fu| fu & 0x80 != 0 && is_key(fu & 0x1f)),
        t => is_key(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vp8_keyframe_with_and_without_picture_id() {
        // S=1, no extension, frame tag P=0.
        assert!(is_keyframe(VideoCodec::Vp8, &[0x10, 0x00, 0x9d]));
        // Frame tag P=1: an interframe.
        assert!(!is_keyframe(VideoCodec::Vp8, &[0x10, 0x01]));
        // X=1, I=1 with a 15-bit picture id, L=1, T=1 (as Chrome sends it).
        assert!(is_keyframe(
            VideoCodec::Vp8,
            &[0x90, 0xe0, 0x80, 0x01, 0x05, 0x20, 0x50]
        ));
        // Not the start of a partition.
        assert!(!is_keyframe(VideoCodec::Vp8, &[0x00, 0x00]));
        assert!(!is_keyframe(VideoCodec::Vp8, &[]));
        assert!(!is_keyframe(VideoCodec::Vp8, &[0x90, 0x80]));
    }

    #[test]
    fn vp9_keyframe_flags() {
        assert!(is_keyframe(VideoCodec::Vp9, &[0x08]));
        assert!(!is_keyframe(VideoCodec::Vp9, &[0x48]));
        assert!(!is_keyframe(VideoCodec::Vp9, &[0x00]));
    }

    #[test]
    fn h264_idr_sps_stap_and_fu() {
        assert!(is_keyframe(VideoCodec::H264, &[0x65]));
        assert!(is_keyframe(VideoCodec::H264, &[0x67, 0x42]));
        assert!(!is_keyframe(VideoCodec::H264, &[0x41]));
        // STAP-A holding an SPS.
        assert!(is_keyframe(
            VideoCodec::H264,
            &[0x18, 0x00, 0x02, 0x67, 0x42]
        ));
        // FU-A start of an IDR, and its continuation.
        assert!(is_keyframe(VideoCodec::H264, &[0x7c, 0x85]));
        assert!(!is_keyframe(VideoCodec::H264, &[0x7c, 0x05]));
        // A truncated STAP-A.
        assert!(!is_keyframe(VideoCodec::H264, &[0x18, 0xff, 0xff]));
    }
}
