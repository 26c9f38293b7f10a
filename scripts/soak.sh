#!/usr/bin/env bash
# Soak: MINUTES (default 10) of mixed load against a release server this starts on loopback:
# note rooms with live editors, a busy session (chat, polls, Q&A), REST reads and writes,
# uploads transcribed with the bundled Whisper model. Prints sockets, messages, errors and
# the server's RSS at the start, after the warm-up, every minute and at the end; fails on
# any error or on memory growth of 5 % or more after the warm-up (docs/RELIABILITY.md).
#
#   scripts/soak.sh [MINUTES] [soak options...]    e.g. scripts/soak.sh 10 --postgres URL
#
# With two cores or more the server runs on core 0 and the generator on core 1.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-10}"
shift || true
scripts/setup.sh test >/dev/null   # espeak-ng and the model
cargo build --release -q -p workbook -p loadtests --bin workbook --bin soak
bin="${CARGO_TARGET_DIR:-target}/release"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
espeak-ng -w "$tmp/speech.wav" \
  "Good morning. Today we plan the workshop agenda, review the notes, and answer questions."

server=("$bin/workbook") generator=("$bin/soak")
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  # The generator starts the server itself: a wrapper pins it (exec keeps its pid).
  printf '#!/bin/sh\nexec taskset -c 0 %q "$@"\n' "$bin/workbook" > "$tmp/workbook"
  chmod +x "$tmp/workbook"
  server=("$tmp/workbook") generator=(taskset -c 1 "$bin/soak")
  # whisper.cpp threads spin-wait: on one core, one thread is fastest.
  export WORKBOOK_TRANSCRIPTION__THREADS=1
fi
"${generator[@]}" --server-bin "${server[0]}" --minutes "$minutes" --speech "$tmp/speech.wav" "$@"
