//! The writers' files, read by tools nobody here wrote: real Opus, VP8, VP9 and H.264 from
//! `ffmpeg`, cut into RTP packets, reordered and duplicated, written through the crate,
//! then probed with `ffprobe` and decoded with `ffmpeg`.
//!
//! Needs `ffmpeg` and `ffprobe` (`scripts/setup.sh` installs them). Without them the tests
//! pass with a note, except in CI (`CI` set), where they fail.

use std::fs;
use std::path::Path;
use std::process::{Command, Output as ProcessOutput};
use std::time::{Duration, Instant};

use bytes::Bytes;
use recording::ivf::{IvfCodec, IvfWriter};
use recording::ogg_opus::OggOpusWriter;
use recording::opus;
use recording::reorder::{Input, Output, ReorderBuffer, RtpPacket};
use recording::track::TrackRecorder;
use recording::vp8::{Vp8Depacketizer, Vp8Event};
use serde_json::Value;

/// Whether ffmpeg and ffprobe run; in CI their absence fails the test.
fn tools_present() -> bool {
    let runs = |tool: &str| {
        Command::new(tool)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if runs("ffmpeg") && runs("ffprobe") {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "ffmpeg and ffprobe are required in CI (scripts/setup.sh installs them)"
    );
    eprintln!("skipped: ffmpeg or ffprobe is not installed (scripts/setup.sh installs them)");
    false
}

fn run(program: &str, args: &[&str]) -> ProcessOutput {
    let output = Command::new(program)
        .args(args)
        .output()
        .expect("the tool starts");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {stderr}"
    );
    output
}

/// ffprobe's streams and format as JSON; decoding errors (`-v error`) fail the test.
fn probe(path: &Path, count_frames: bool) -> Value {
    let path = path.to_str().expect("a UTF-8 path");
    let mut args = vec![
        "-v",
        "error",
        "-show_streams",
        "-show_format",
        "-of",
        "json",
    ];
    if count_frames {
        args.push("-count_frames");
    }
    args.push(path);
    let output = run("ffprobe", &args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.trim().is_empty(),
        "ffprobe complained about {path}: {stderr}"
    );
    serde_json::from_slice(&output.stdout).expect("ffprobe's JSON")
}

fn number(value: &Value) -> f64 {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a number: {value}"))
}

/// What a network does to packets: each arrives up to 30 ms after it was sent (so packets
/// sent together, or 20 ms apart, change places), and every seventh twice. The first packet
/// stays first: a buffer cannot wait for packets before the first it sees.
fn disorder(packets: Vec<(Duration, RtpPacket)>) -> Vec<(Duration, RtpPacket)> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut jitter = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        Duration::from_micros(1 + state % 30_000)
    };
    let mut arrivals = Vec::new();
    for (i, (sent, packet)) in packets.into_iter().enumerate() {
        if i % 7 == 3 {
            arrivals.push((sent + jitter(), packet.clone()));
        }
        let delay = if i == 0 { Duration::ZERO } else { jitter() };
        arrivals.push((sent + delay, packet));
    }
    arrivals.sort_by_key(|(arrival, _)| *arrival);
    arrivals
}

/// Everything the reorder buffer hands out for packets arriving at their times, then a flush.
fn reorder(packets: Vec<(Duration, RtpPacket)>, capacity: u16) -> Vec<Output> {
    let mut buffer = ReorderBuffer::new(capacity, Duration::from_millis(200));
    let t0 = Instant::now();
    let mut out = Vec::new();
    let mut last = t0;
    let inputs = packets
        .into_iter()
        .map(|(at, p)| (t0 + at, Input::Packet(p)));
    for (now, input) in inputs.chain([(t0 + Duration::from_secs(3_600), Input::Flush)]) {
        last = last.max(now);
        buffer.handle_input(last, input);
        loop {
            match buffer.poll_output() {
                Output::Timeout(_) => break,
                output => out.push(output),
            }
        }
    }
    out
}

/// The audio packets of an Ogg Opus file (the two headers skipped).
fn read_ogg_packets(path: &Path) -> Vec<Vec<u8>> {
    let mut reader = ogg::PacketReader::new(fs::File::open(path).unwrap());
    let mut packets = Vec::new();
    while let Some(packet) = reader.read_packet().unwrap() {
        packets.push(packet.data);
    }
    packets.split_off(2)
}

/// 440 Hz for 2 s, encoded by libopus in 20 ms packets.
fn opus_tone(dir: &Path) -> Vec<Vec<u8>> {
    let path = dir.join("tone.ogg");
    let path_str = path.to_str().unwrap();
    let args = [
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=2",
    ];
    let args = [
        &args[..],
        &[
            "-c:a",
            "libopus",
            "-b:a",
            "32k",
            "-frame_duration",
            "20",
            path_str,
        ],
    ]
    .concat();
    run("ffmpeg", &args);
    read_ogg_packets(&path)
}

/// The packets as RTP, sent every 20 ms, with a 1 s pause in the middle (RTP and wall
/// time jump; sequence numbers do not, as with DTX); sequence numbers and timestamps wrap.
fn opus_rtp(packets: &[Vec<u8>], gap: u64) -> Vec<(Duration, RtpPacket)> {
    let mut timestamp = u32::MAX - 20_000;
    let mut sent = 0u64;
    packets
        .iter()
        .enumerate()
        .map(|(i, payload)| {
            if i == packets.len() / 2 {
                timestamp = timestamp.wrapping_add(gap as u32);
                sent += gap;
            }
            let packet = RtpPacket {
                seq: 65_500u16.wrapping_add(i as u16),
                timestamp,
                marker: false,
                payload: Bytes::from(payload.clone()),
            };
            let at = Duration::from_micros(sent * 1_000_000 / opus::SAMPLE_RATE);
            let samples = opus::packet_samples(payload).unwrap();
            timestamp = timestamp.wrapping_add(samples as u32);
            sent += samples;
            (at, packet)
        })
        .collect()
}

/// Writes the reorder buffer's packets into an Ogg Opus file; the writer's position.
fn write_opus(outputs: &[Output], path: &Path, lead_in: Duration, finish: bool) -> Duration {
    let file = fs::File::create(path).unwrap();
    let mut writer = OggOpusWriter::new(std::io::BufWriter::new(file), 0x5EED, lead_in).unwrap();
    for output in outputs {
        if let Output::Packet(packet) = output {
            writer.push(packet).unwrap();
        }
    }
    let position = writer.position();
    if finish {
        writer.finish().unwrap();
    }
    position
}

/// The file decoded by `decoder` (ffmpeg's own `opus`, or `libopus`, the reference that
/// browsers use) as 48 kHz mono samples.
fn decode(path: &Path, decoder: &str) -> Vec<f32> {
    let args = [
        "-v",
        "error",
        "-c:a",
        decoder,
        "-i",
        path.to_str().unwrap(),
        "-ac",
        "1",
        "-ar",
        "48000",
        "-f",
        "f32le",
        "-",
    ];
    let output = run("ffmpeg", &args);
    assert!(
        output.stderr.is_empty(),
        "decoding: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
        .stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

/// The loudest sample between two times, in seconds.
fn peak(samples: &[f32], from: f64, to: f64) -> f32 {
    let index = |t: f64| (t * 48_000.0) as usize;
    samples[index(from)..index(to)]
        .iter()
        .fold(0.0, |max, s| max.max(s.abs()))
}

#[test]
fn opus_with_a_late_start_and_a_pause_keeps_its_timeline() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let packets = opus_tone(dir.path());
    let audio: u64 = packets
        .iter()
        .map(|p| opus::packet_samples(p).unwrap())
        .sum();
    let outputs = reorder(disorder(opus_rtp(&packets, 48_000)), 64);
    assert!(
        !outputs.iter().any(|o| matches!(o, Output::Lost { .. })),
        "nothing is lost"
    );

    // 502.5 ms: the lead-in needs a 2.5 ms silent frame too.
    let lead_in = Duration::from_micros(502_500);
    let path = dir.path().join("track.opus");
    let position = write_opus(&outputs, &path, lead_in, true);
    let expected = 24_120 + audio + 48_000;
    assert_eq!(
        position,
        Duration::from_micros(expected * 1_000_000 / 48_000)
    );

    let probed = probe(&path, false);
    let stream = &probed["streams"][0];
    assert_eq!(stream["codec_name"], "opus");
    assert_eq!(stream["channels"], 2);
    let duration = number(&probed["format"]["duration"]);
    let seconds = expected as f64 / 48_000.0;
    assert!(
        (duration - seconds).abs() < 0.1,
        "ffprobe says {duration} s, expected {seconds} s"
    );

    for decoder in ["opus", "libopus"] {
        let samples = decode(&path, decoder);
        assert_eq!(
            samples.len() as u64,
            expected,
            "{decoder}: every sample the granule positions count"
        );
        let tone_ends = 0.5025 + audio as f64 / 96_000.0;
        assert_eq!(
            peak(&samples, 0.0, 0.5),
            0.0,
            "{decoder}: silence before the late start"
        );
        assert!(
            peak(&samples, 0.6, tone_ends - 0.1) > 0.1,
            "{decoder}: the first half of the tone"
        );
        assert!(
            peak(&samples, tone_ends + 0.05, tone_ends + 0.95) < 1e-3,
            "{decoder}: the pause is silent"
        );
        assert!(
            peak(&samples, tone_ends + 1.1, seconds - 0.1) > 0.1,
            "{decoder}: the tone after the pause"
        );
    }
}

#[test]
fn an_opus_file_cut_by_a_crash_still_plays_up_to_its_last_page() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let packets = opus_tone(dir.path());
    let outputs = reorder(disorder(opus_rtp(&packets, 0)), 64);
    let path = dir.path().join("crashed.opus");
    // Never finished, as after `kill -9`; then cut inside the last page, as if the
    // process died while writing it.
    let position = write_opus(&outputs, &path, Duration::ZERO, false);
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();

    let probed = probe(&path, false);
    assert_eq!(probed["streams"][0]["codec_name"], "opus");
    let duration = number(&probed["format"]["duration"]);
    let whole = position.as_secs_f64();
    assert!(
        duration > whole - 2.1 && duration < whole,
        "{duration} s of {whole} s"
    );
    let decoded = decode(&path, "libopus").len() as f64 / 48_000.0;
    assert!(
        (decoded - duration).abs() < 0.1,
        "decodes {decoded} s, probes {duration} s"
    );
}

/// The frames of an IVF file: (timestamp, data).
fn read_ivf(path: &Path) -> Vec<(u64, Vec<u8>)> {
    let bytes = fs::read(path).unwrap();
    let mut frames = Vec::new();
    let mut at = 32;
    while at + 12 <= bytes.len() {
        let size = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let pts = u64::from_le_bytes(bytes[at + 4..at + 12].try_into().unwrap());
        frames.push((pts, bytes[at + 12..at + 12 + size].to_vec()));
        at += 12 + size;
    }
    frames
}

/// 2 s of a test pattern at 15 frames/s, VP8 with a keyframe every 10 frames and no
/// hidden (alt-ref) frames, so every IVF frame is one shown picture.
fn vp8_video(dir: &Path) -> Vec<Vec<u8>> {
    let path = dir.join("source.ivf");
    let args = [
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=15",
        "-t",
        "2",
    ];
    let codec = [
        "-c:v",
        "libvpx",
        "-b:v",
        "400k",
        "-g",
        "10",
        "-auto-alt-ref",
        "0",
    ];
    run(
        "ffmpeg",
        &[&args[..], &codec, &[path.to_str().unwrap()]].concat(),
    );
    read_ivf(&path).into_iter().map(|(_, data)| data).collect()
}

fn is_keyframe(frame: &[u8]) -> bool {
    frame[0] & 1 == 0
}

/// Each frame as RTP packets of at most 1,200 bytes of frame: a payload descriptor with a
/// 15-bit picture id (as browsers send), S on the first packet, the marker on the last;
/// 6,000 ticks (90 kHz) per frame, with sequence numbers and timestamps that wrap.
fn vp8_rtp(frames: &[Vec<u8>]) -> Vec<Vec<(Duration, RtpPacket)>> {
    let mut seq = 65_530u16;
    frames
        .iter()
        .enumerate()
        .map(|(i, frame)| {
            let timestamp = (u32::MAX - 10_000).wrapping_add(6_000 * i as u32);
            let picture_id = 0x8000 | (i as u16 + 300) & 0x7fff;
            let chunks: Vec<&[u8]> = frame.chunks(1_200).collect();
            let count = chunks.len();
            let sent = Duration::from_millis(1_000 * i as u64 / 15);
            chunks
                .into_iter()
                .enumerate()
                .map(|(k, chunk)| {
                    let start = if k == 0 { 0x10 } else { 0 };
                    let mut payload = vec![0x80 | start, 0x80];
                    payload.extend_from_slice(&picture_id.to_be_bytes());
                    payload.extend_from_slice(chunk);
                    let marker = k + 1 == count;
                    let packet = RtpPacket {
                        seq,
                        timestamp,
                        marker,
                        payload: Bytes::from(payload),
                    };
                    seq = seq.wrapping_add(1);
                    (sent, packet)
                })
                .collect()
        })
        .collect()
}

/// Depacketizes and writes the reorder buffer's output: the writer, and how many times a
/// keyframe was asked for.
fn write_vp8<W: std::io::Write>(outputs: &[Output], writer: &mut IvfWriter<W>) -> usize {
    let mut depacketizer = Vp8Depacketizer::default();
    let mut requests = 0;
    for output in outputs {
        let event = match output {
            Output::Packet(packet) => depacketizer.push(packet),
            Output::Lost { .. } => depacketizer.lost(),
            Output::Timeout(_) => None,
        };
        match event {
            Some(Vp8Event::Frame(frame)) => writer.write(&frame).unwrap(),
            Some(Vp8Event::KeyframeNeeded) => requests += 1,
            None => {}
        }
    }
    requests
}

#[test]
fn vp8_through_rtp_with_a_loss_probes_as_vp8_with_every_decodable_frame() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let frames = vp8_video(dir.path());
    assert_eq!(frames.len(), 30);
    let keyframes: Vec<usize> = (0..frames.len())
        .filter(|&i| is_keyframe(&frames[i]))
        .collect();
    assert!(keyframes.len() >= 2, "keyframes at {keyframes:?}");

    // Lose a packet of the frame after the first keyframe: it and the frames after it
    // cannot be decoded until the next keyframe.
    let mut packets = vp8_rtp(&frames);
    packets[keyframes[0] + 1].pop();
    let dropped = keyframes[1] - keyframes[0] - 1;
    let outputs = reorder(disorder(packets.concat()), 512);
    assert!(
        outputs
            .iter()
            .any(|o| matches!(o, Output::Lost { count: 1, .. }))
    );

    let path = dir.path().join("camera.ivf");
    let mut writer = IvfWriter::new(
        fs::File::create(&path).unwrap(),
        IvfCodec::Vp8,
        Duration::ZERO,
    );
    let requests = write_vp8(&outputs, &mut writer);
    assert!(
        requests >= dropped,
        "a keyframe is asked for with each dropped frame"
    );
    assert_eq!(writer.frames() as usize, frames.len() - dropped);
    writer.finish().unwrap();

    let probed = probe(&path, true);
    let stream = &probed["streams"][0];
    assert_eq!(stream["codec_name"], "vp8");
    assert_eq!(
        (stream["width"].clone(), stream["height"].clone()),
        (320.into(), 240.into())
    );
    assert_eq!(
        number(&stream["nb_read_frames"]) as usize,
        frames.len() - dropped
    );
    // The header's length gives ffprobe the duration (30 frames at 15/s, less the dropped
    // ones, as ffmpeg averages them).
    let duration = number(&probed["format"]["duration"]);
    assert!((duration - 2.0).abs() < 0.1, "ffprobe says {duration} s");
    // The file's timestamps are RTP time: the last frame at 29/15 s.
    let written = read_ivf(&path);
    assert_eq!(written.last().unwrap().0, 29 * 6_000);
}

#[test]
fn an_unfinished_vp8_file_still_probes() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let frames = vp8_video(dir.path());
    let outputs = reorder(disorder(vp8_rtp(&frames).concat()), 512);
    let path = dir.path().join("crashed.ivf");
    let mut writer = IvfWriter::new(
        fs::File::create(&path).unwrap(),
        IvfCodec::Vp8,
        Duration::from_secs(1),
    );
    write_vp8(&outputs, &mut writer);
    // No finish (the frame count stays 0), and the last frame torn in the middle.
    drop(writer);
    let bytes = fs::read(&path).unwrap();
    let torn = bytes.len() - frames.last().unwrap().len() / 2;
    fs::write(&path, &bytes[..torn]).unwrap();

    let probed = probe(&path, true);
    let stream = &probed["streams"][0];
    assert_eq!(stream["codec_name"], "vp8");
    let read = number(&stream["nb_read_frames"]) as usize;
    assert!(
        read >= frames.len() - 1,
        "{read} of {} frames",
        frames.len()
    );
    assert!(
        (number(&stream["start_time"]) - 1.0).abs() < 0.01,
        "the lead-in is the start time"
    );
}

/// 2 s of a test pattern at 15 frames/s in H.264 (baseline, one slice a frame, an IDR every
/// 10 frames) as libx264 writes it: an Annex-B stream, split into its access units' NAL
/// units (SPS and PPS go with the IDR after them).
fn h264_video(dir: &Path) -> Vec<Vec<Vec<u8>>> {
    let path = dir.join("source.h264");
    let args = [
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=15",
        "-t",
        "2",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-profile:v",
        "baseline",
        "-g",
        "10",
        "-bf",
        "0",
        "-f",
        "h264",
    ];
    run("ffmpeg", &[&args[..], &[path.to_str().unwrap()]].concat());
    let stream = fs::read(&path).unwrap();
    let mut starts: Vec<usize> = stream
        .windows(3)
        .enumerate()
        .filter(|(_, w)| *w == [0, 0, 1])
        .map(|(i, _)| i + 3)
        .collect();
    starts.push(stream.len() + 3);
    let nals = starts.windows(2).map(|w| {
        let end = w[1] - 3;
        // A 4-byte start code leaves a zero at the end of the previous unit.
        let end = if end > w[0] && stream[end - 1] == 0 {
            end - 1
        } else {
            end
        };
        stream[w[0]..end.min(stream.len())].to_vec()
    });
    let mut units = Vec::new();
    let mut unit = Vec::new();
    for nal in nals {
        let kind = nal[0] & 0x1f;
        // SEI and AUD carry nothing a recording needs here; slices end a unit.
        if kind == 6 || kind == 9 {
            continue;
        }
        unit.push(nal);
        if kind == 1 || kind == 5 {
            units.push(std::mem::take(&mut unit));
        }
    }
    units
}

/// Each access unit as RTP: NAL units up to 1,200 bytes whole, larger ones as FU-A pieces,
/// SPS and PPS aggregated in a STAP-A; the marker on the last packet of a unit.
fn h264_rtp(units: &[Vec<Vec<u8>>]) -> Vec<Vec<(Duration, RtpPacket)>> {
    let mut seq = 40_000u16;
    units
        .iter()
        .enumerate()
        .map(|(i, nals)| {
            let timestamp = 6_000 * i as u32;
            let sent = Duration::from_millis(1_000 * i as u64 / 15);
            let mut payloads: Vec<Vec<u8>> = Vec::new();
            let (parameters, slices): (Vec<&Vec<u8>>, Vec<&Vec<u8>>) =
                nals.iter().partition(|n| matches!(n[0] & 0x1f, 7 | 8));
            if !parameters.is_empty() {
                let mut stap = vec![0x78];
                for nal in parameters {
                    stap.extend_from_slice(&(nal.len() as u16).to_be_bytes());
                    stap.extend_from_slice(nal);
                }
                payloads.push(stap);
            }
            for nal in slices {
                if nal.len() <= 1_200 {
                    payloads.push(nal.clone());
                    continue;
                }
                let (header, body) = (nal[0], &nal[1..]);
                let pieces: Vec<&[u8]> = body.chunks(1_200).collect();
                for (k, piece) in pieces.iter().enumerate() {
                    let start = if k == 0 { 0x80 } else { 0 };
                    let end = if k + 1 == pieces.len() { 0x40 } else { 0 };
                    let mut payload = vec![header & 0xe0 | 28, start | end | header & 0x1f];
                    payload.extend_from_slice(piece);
                    payloads.push(payload);
                }
            }
            let count = payloads.len();
            payloads
                .into_iter()
                .enumerate()
                .map(|(k, payload)| {
                    let packet = RtpPacket {
                        seq,
                        timestamp,
                        marker: k + 1 == count,
                        payload: Bytes::from(payload),
                    };
                    seq = seq.wrapping_add(1);
                    (sent, packet)
                })
                .collect()
        })
        .collect()
}

#[test]
fn h264_through_rtp_with_a_loss_probes_as_h264_with_every_decodable_frame() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let units = h264_video(dir.path());
    assert_eq!(units.len(), 30);
    let idrs: Vec<usize> = (0..units.len())
        .filter(|&i| units[i].iter().any(|n| n[0] & 0x1f == 5))
        .collect();
    assert!(idrs.len() >= 2, "IDRs at {idrs:?}");
    // Lose the last packet of the unit after the first IDR: it and the units after it
    // cannot be decoded until the next IDR.
    let mut packets = h264_rtp(&units);
    packets[idrs[0] + 1].pop();
    let dropped = idrs[1] - idrs[0] - 1;

    let path = dir.path().join("camera.h264");
    let t0 = Instant::now();
    let file = fs::File::create(&path).unwrap();
    let mut track = TrackRecorder::h264(std::io::BufWriter::new(file), t0);
    let keyframe_requests = record(&mut track, t0, packets.concat());
    track.finish(t0 + Duration::from_secs(3)).unwrap();
    assert!(keyframe_requests >= 1, "a lost unit asks for an IDR");

    let probed = probe(&path, true);
    let stream = &probed["streams"][0];
    assert_eq!(stream["codec_name"], "h264");
    assert_eq!(
        (stream["width"].clone(), stream["height"].clone()),
        (320.into(), 240.into())
    );
    assert_eq!(
        number(&stream["nb_read_frames"]) as usize,
        units.len() - dropped
    );
}

/// 2 s of a test pattern at 15 frames/s in VP9 (a keyframe every 10 frames, no hidden
/// frames, so each IVF frame is one shown picture).
fn vp9_video(dir: &Path) -> Vec<Vec<u8>> {
    let path = dir.join("source.ivf");
    let args = [
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=15",
        "-t",
        "2",
        "-c:v",
        "libvpx-vp9",
        "-b:v",
        "300k",
        "-g",
        "10",
        "-auto-alt-ref",
        "0",
        "-deadline",
        "realtime",
    ];
    run("ffmpeg", &[&args[..], &[path.to_str().unwrap()]].concat());
    read_ivf(&path).into_iter().map(|(_, data)| data).collect()
}

/// Each VP9 frame as RTP, as browsers packetize it (RFC 9628): a 15-bit picture id, P on
/// interframes, B on the first packet and E on the last, and on keyframes a scalability
/// structure with the size; at most 1,200 bytes of frame a packet.
fn vp9_rtp(frames: &[Vec<u8>]) -> Vec<Vec<(Duration, RtpPacket)>> {
    let mut seq = 1_000u16;
    frames
        .iter()
        .enumerate()
        .map(|(i, frame)| {
            // The uncompressed header's frame_type bit: 0 for a keyframe (profile 0).
            let keyframe = frame[0] & 0x04 == 0;
            let picture_id = 0x8000 | i as u16;
            let chunks: Vec<&[u8]> = frame.chunks(1_200).collect();
            let count = chunks.len();
            let sent = Duration::from_millis(1_000 * i as u64 / 15);
            chunks
                .into_iter()
                .enumerate()
                .map(|(k, chunk)| {
                    let mut first = 0x80; // I
                    if !keyframe {
                        first |= 0x40; // P
                    }
                    if k == 0 {
                        first |= 0x08; // B
                    }
                    if k + 1 == count {
                        first |= 0x04; // E
                    }
                    let scalability = keyframe && k == 0;
                    if scalability {
                        first |= 0x02; // V
                    }
                    let mut payload = vec![first];
                    payload.extend_from_slice(&picture_id.to_be_bytes());
                    if scalability {
                        // One spatial layer, its size (Y), no groups.
                        payload.push(0x10);
                        payload.extend_from_slice(&320u16.to_be_bytes());
                        payload.extend_from_slice(&240u16.to_be_bytes());
                    }
                    payload.extend_from_slice(chunk);
                    let packet = RtpPacket {
                        seq,
                        timestamp: 6_000 * i as u32,
                        marker: k + 1 == count,
                        payload: Bytes::from(payload),
                    };
                    seq = seq.wrapping_add(1);
                    (sent, packet)
                })
                .collect()
        })
        .collect()
}

/// Feeds RTP packets arriving at their times through a track recorder; how many times it
/// asked for a keyframe.
fn record<W: std::io::Write + std::io::Seek>(
    track: &mut TrackRecorder<W>,
    t0: Instant,
    packets: Vec<(Duration, RtpPacket)>,
) -> usize {
    let mut keyframe_requests = 0;
    for (at, packet) in disorder(packets) {
        let progress = track.push(t0 + at, 7, packet).unwrap();
        keyframe_requests += usize::from(progress.keyframe_needed);
        if let Some(due) = track.poll_timeout().filter(|due| *due <= t0 + at) {
            keyframe_requests += usize::from(track.handle_timeout(due).unwrap().keyframe_needed);
        }
    }
    keyframe_requests
}

#[test]
fn vp9_through_rtp_probes_as_vp9_with_every_frame() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let frames = vp9_video(dir.path());
    assert_eq!(frames.len(), 30);
    let path = dir.path().join("camera.ivf");
    let t0 = Instant::now();
    let file = std::io::BufWriter::new(fs::File::create(&path).unwrap());
    let mut track = TrackRecorder::vp9(file, t0, t0);
    assert_eq!(record(&mut track, t0, vp9_rtp(&frames).concat()), 0);
    track.finish(t0 + Duration::from_secs(3)).unwrap();

    let probed = probe(&path, true);
    let stream = &probed["streams"][0];
    assert_eq!(stream["codec_name"], "vp9");
    assert_eq!(
        (stream["width"].clone(), stream["height"].clone()),
        (320.into(), 240.into())
    );
    assert_eq!(number(&stream["nb_read_frames"]) as usize, frames.len());
}
