//! Measures decode + resample throughput and the pipeline's real-time factor on one file, and
//! prints the transcript like whisper.cpp's CLI so the two can be compared side by side
//! (scripts/bench-transcribe.sh runs both; results in docs/BENCHMARKS.md).
//!
//! cargo run --release -p transcribe --example bench -- FILE [--model PATH] [--threads N]
//!     [--decode-reps N] [--decode-only]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use transcribe::{
    AudioInfo, WhisperConfig, WhisperEngine, decode_to_16k_mono, probe, transcribe_file,
};

struct Args {
    file: PathBuf,
    model: PathBuf,
    threads: usize,
    decode_reps: usize,
    decode_only: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut parsed = Args {
        file: PathBuf::new(),
        model: PathBuf::from(transcribe::DEFAULT_MODEL_PATH),
        threads: 2,
        decode_reps: 5,
        decode_only: false,
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--model" => parsed.model = value("--model")?.into(),
            "--threads" => {
                parsed.threads = value("--threads")?.parse().map_err(|e| format!("{e}"))?
            }
            "--decode-reps" => {
                parsed.decode_reps = value("--decode-reps")?
                    .parse()
                    .map_err(|e| format!("{e}"))?
            }
            "--decode-only" => parsed.decode_only = true,
            file if parsed.file.as_os_str().is_empty() => parsed.file = file.into(),
            other => return Err(format!("unexpected argument {other}")),
        }
    }
    if parsed.file.as_os_str().is_empty() {
        return Err(
            "usage: bench FILE [--model PATH] [--threads N] [--decode-reps N] [--decode-only]"
                .into(),
        );
    }
    Ok(parsed)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn timestamp(seconds: f64) -> String {
    let millis = (seconds * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        millis / 3_600_000,
        millis / 60_000 % 60,
        millis / 1000 % 60,
        millis % 1000
    )
}

/// Median wall time of decoding and resampling the whole file to 16 kHz mono.
fn measure_decode(args: &Args, info: &AudioInfo) -> transcribe::Result<()> {
    let mut decode_times = Vec::new();
    let mut samples = 0;
    for _ in 0..args.decode_reps {
        let start = Instant::now();
        samples = decode_to_16k_mono(&args.file)?.len();
        decode_times.push(start.elapsed());
    }
    let decode = median(decode_times).as_secs_f64();
    eprintln!(
        "decode+resample: {:?} {:.1} s audio ({} Hz, {} ch) -> {samples} samples at 16 kHz in {:.4} s (median of {}): {:.0}x real time",
        info.format,
        info.duration_secs,
        info.sample_rate,
        info.channels,
        decode,
        args.decode_reps,
        info.duration_secs / decode
    );
    Ok(())
}

fn run(args: &Args) -> transcribe::Result<()> {
    let info = probe(&args.file)?;
    if args.decode_reps > 0 {
        measure_decode(args, &info)?;
    }
    if args.decode_only {
        return Ok(());
    }
    let start = Instant::now();
    let mut config = WhisperConfig::new(args.model.clone());
    config.threads = args.threads;
    let engine = WhisperEngine::new(&config)?;
    let load = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let transcript = transcribe_file(&args.file, &engine, |_| {})?;
    let pipeline = start.elapsed().as_secs_f64();
    for segment in &transcript.segments {
        println!(
            "[{} --> {}]  {}",
            timestamp(segment.start),
            timestamp(segment.end),
            segment.text
        );
    }
    eprintln!(
        "pipeline: model load {load:.3} s, transcribe {pipeline:.3} s for {:.1} s audio: real-time factor {:.4} ({} threads)",
        transcript.duration_secs,
        pipeline / transcript.duration_secs,
        args.threads
    );
    Ok(())
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
