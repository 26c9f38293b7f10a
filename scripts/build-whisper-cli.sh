#!/usr/bin/env bash
# Build whisper.cpp's own `whisper-cli` for the benchmark in docs/BENCHMARKS.md.
#
# whisper-rs-sys vendors whisper.cpp's library sources but not its examples, so this needs a
# whisper.cpp source tree of the same version (v1.8.3 for whisper-rs-sys 0.15): pass its path as
# WHISPER_CPP_SRC. The binary stays under the target dir and is never committed.
# Same build type and flags as whisper-rs-sys (Release, GGML_NATIVE on, static libs).
set -euo pipefail
src="${WHISPER_CPP_SRC:?set WHISPER_CPP_SRC to a whisper.cpp v1.8.3 source tree}"
out="${CARGO_TARGET_DIR:-$(dirname "$0")/../target}/whisper-cli"
if [ -x "$out/bin/whisper-cli" ]; then
    echo "$out/bin/whisper-cli"
    exit 0
fi
cmake -S "$src" -B "$out" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DWHISPER_BUILD_TESTS=OFF -DWHISPER_BUILD_SERVER=OFF -DWHISPER_SDL2=OFF -DGGML_OPENMP=OFF >&2
cmake --build "$out" --target whisper-cli -j "$(nproc)" >&2
echo "$out/bin/whisper-cli"
