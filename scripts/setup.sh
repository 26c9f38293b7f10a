#!/usr/bin/env bash
# Installs what building and testing Workbook need beyond the Rust toolchain. Idempotent:
# each step checks first and is fast when everything is already there.
#
#   scripts/setup.sh build   build tools (cmake, clang for whisper.cpp and libopus, Node for the
#                            web client) + the model, and builds the web client into web/dist
#   scripts/setup.sh test    the above + test tools (espeak-ng, ffmpeg, poppler, Node and
#                            Python test clients, Chromium for the browser media tests)
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-build}"

need_apt=()
want() { command -v "$1" >/dev/null 2>&1 || need_apt+=("$2"); }
want cmake cmake
want clang clang
want node nodejs
want npm npm
[ -e /usr/lib/llvm-14/lib/libclang.so ] || ls /usr/lib/llvm-*/lib/libclang*.so >/dev/null 2>&1 || need_apt+=(libclang-dev)
if [ "$mode" = test ]; then
  want espeak-ng espeak-ng
  want sox sox
  want ffmpeg ffmpeg
  want pdftotext poppler-utils
  want chromium chromium
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" libsox-fmt-all >/dev/null
fi

# The Whisper model; in test mode also speech tools and faster-whisper-server.
if [ -x scripts/setup-transcribe.sh ]; then
  scripts/setup-transcribe.sh "$mode"
fi

if [ "$mode" = test ]; then
  # Python test clients (schemathesis, pycrdt, websockets) in the project's virtualenv.
  [ -x .venv/bin/python ] || python3 -m venv .venv
  if [ ! -f .venv/.requirements-installed ] || [ tests/requirements.txt -nt .venv/.requirements-installed ]; then
    echo "setup: installing Python test clients"
    .venv/bin/pip install --quiet -r tests/requirements.txt
    touch .venv/.requirements-installed
  fi
fi

# The browser client (web/): built into web/dist, which the server embeds (src/http/client.rs).
# Rebuilt when any of its sources is newer than the last build.
if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules ]; then
  echo "setup: installing the web client's packages"
  (cd web && npm ci --no-audit --no-fund --silent && touch node_modules)
fi
if [ ! -f web/dist/index.html ] || [ -n "$(find web/src web/public web/index.html web/package.json \
     web/vite.config.ts web/compress.mjs -newer web/dist/index.html -print -quit)" ]; then
  echo "setup: building the web client"
  (cd web && npm run --silent build)
fi

# Node test clients: Yjs for the interop tests, playwright-core (and axe-core) for driving Chromium.
if [ "$mode" = test ]; then
  for dir in tests/interop tests/media tests/browser; do
    if [ ! -d "$dir/node_modules" ] || [ "$dir/package.json" -nt "$dir/node_modules" ]; then
      echo "setup: installing Node test clients in $dir"
      (cd "$dir" && npm install --no-audit --no-fund --silent && touch node_modules)
    fi
  done
fi
