#!/usr/bin/env bash
# Builds and starts Workbook on its embedded defaults: 127.0.0.1:8080, SQLite and files in
# ./data, the bundled Whisper tiny.en model. Extra arguments go to the server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
exec cargo run --release -- "$@"
