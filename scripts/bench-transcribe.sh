#!/usr/bin/env bash
# Side-by-side transcription benchmark for docs/BENCHMARKS.md:
#   1. decode + resample throughput of the transcribe crate on MP3, M4A, Ogg Opus and WAV;
#   2. wall time of a whole process transcribing the same 16 kHz WAV with the same model and
#      decoding settings (greedy, best-of 5, no context, 2 threads): whisper.cpp's own
#      `whisper-cli` versus our pipeline (transcribe's `bench` example), runs alternated so
#      both see the same machine load; medians reported. Both processes load the model.
# Needs: espeak-ng, ffmpeg (scripts/setup-transcribe.sh), the model (scripts/fetch-model.sh),
# and WHISPER_CPP_SRC pointing at a whisper.cpp v1.8.3 tree (see scripts/build-whisper-cli.sh).
# Usage: WHISPER_CPP_SRC=... [COPIES=3] [THREADS=2] scripts/bench-transcribe.sh [REPS]
# (COPIES: how many times the ~36 s spoken paragraph is repeated in the test file.)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
reps="${1:-5}"
threads="${THREADS:-2}"
copies="${COPIES:-3}"
model="$root/models/ggml-tiny.en.bin"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cli="$("$root/scripts/build-whisper-cli.sh")"
cargo build --quiet --release -p transcribe --example bench
bench="$CARGO_TARGET_DIR/release/examples/bench"

espeak-ng -w "$work/speech.wav" "Welcome to the workshop. Today we will look at how a small team \
plans a product launch. First, everyone writes down the three questions they most want answered. \
Then we compare the lists and pick the questions that appear most often. After the break, each \
group presents a short plan, and the others ask questions. Please keep your answers short and \
concrete. We will collect the notes at the end and share them with everyone by email. If you \
need help at any point, raise your hand and one of the facilitators will come to your table. \
The quick brown fox jumps over the lazy dog. Thank you all for coming, and enjoy the session."
inputs=()
for _ in $(seq "$copies"); do inputs+=(-i "$work/speech.wav"); done
ffmpeg -loglevel error "${inputs[@]}" -filter_complex "concat=n=$copies:v=0:a=1" \
    -ar 16000 -ac 1 -c:a pcm_s16le "$work/bench.wav"
ffmpeg -loglevel error -i "$work/bench.wav" -ar 44100 -ac 2 -c:a libmp3lame -b:a 128k "$work/bench.mp3"
ffmpeg -loglevel error -i "$work/bench.wav" -ar 48000 -ac 2 -c:a aac -b:a 128k "$work/bench.m4a"
ffmpeg -loglevel error -i "$work/bench.wav" -ac 2 -c:a libopus -b:a 64k "$work/bench.opus"

echo "## decode + resample (median of 7)"
for f in bench.mp3 bench.m4a bench.opus bench.wav; do
    "$bench" "$work/$f" --decode-only --decode-reps 7 2>&1 | sed 's/^/    /'
done

seconds() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "## whole process on the same 16 kHz WAV, $reps alternated runs, $threads threads"
: > "$work/cli.times"
: > "$work/ours.times"
for _ in $(seq "$reps"); do
    s="$(seconds)"
    "$cli" -m "$model" -f "$work/bench.wav" -t "$threads" -bs 1 -bo 5 -l en > "$work/cli.out" 2> "$work/cli.err"
    elapsed "$s" "$(seconds)" >> "$work/cli.times"; echo >> "$work/cli.times"
    s="$(seconds)"
    "$bench" "$work/bench.wav" --model "$model" --threads "$threads" --decode-reps 0 > "$work/ours.out" 2> "$work/ours.err"
    elapsed "$s" "$(seconds)" >> "$work/ours.times"; echo >> "$work/ours.times"
done
audio="$(grep -o "for [0-9.]* s audio" "$work/ours.err" | awk '{ print $2 }' | head -1)"
cli_median="$(grep . "$work/cli.times" | median)"
ours_median="$(grep . "$work/ours.times" | median)"
echo "    audio: ${audio} s"
echo "    whisper-cli:   median ${cli_median} s  (runs: $(grep . "$work/cli.times" | tr '\n' ' '))"
echo "    our pipeline:  median ${ours_median} s  (runs: $(grep . "$work/ours.times" | tr '\n' ' '))"
awk -v c="$cli_median" -v o="$ours_median" -v a="$audio" 'BEGIN {
    printf "    real-time factor: whisper-cli %.4f, ours %.4f; ours/cli = %.3f (overhead %+.1f%%)\n",
        c / a, o / a, o / c, (o / c - 1) * 100 }'
echo "## last transcripts"
echo "    whisper-cli:"; sed 's/^/      /' "$work/cli.out" | head -8
echo "    ours:"; sed 's/^/      /' "$work/ours.out" | head -8
grep -h 'pipeline:' "$work/ours.err" | sed 's/^/    /'
