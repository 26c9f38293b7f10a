#!/usr/bin/env bash
# What transcription needs on a fresh Debian machine, and nothing when it is already there.
#
#   scripts/setup-transcribe.sh build   cmake, clang, libclang-dev (whisper-rs builds whisper.cpp,
#                                       opus builds libopus) + the bundled Whisper tiny.en model
#   scripts/setup-transcribe.sh test    the above + espeak-ng, sox, libsox-fmt-all, ffmpeg (test
#                                       speech and conversions) + faster-whisper-server 0.0.3 in
#                                       its own virtualenv .venv/faster-whisper (kept apart from
#                                       the other Python test clients so their pins cannot clash)
# Without an argument it does `test`. The model comes from scripts/fetch-model.sh.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:-test}"
packages=(cmake clang libclang-dev)
if [ "$mode" = test ]; then
    packages+=(espeak-ng sox libsox-fmt-all ffmpeg)
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "setup-transcribe: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

"$root/scripts/fetch-model.sh"

if [ "$mode" = test ]; then
    venv="$root/.venv/faster-whisper"
    if [ ! -x "$venv/bin/faster-whisper-server" ]; then
        echo "setup-transcribe: installing faster-whisper-server into $venv"
        [ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
        "$venv/bin/pip" install --quiet "faster-whisper-server==0.0.3"
    fi
fi
