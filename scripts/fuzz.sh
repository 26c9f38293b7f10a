#!/usr/bin/env bash
# Fuzzes every decoder that reads untrusted input (fuzz/fuzz_targets, see docs/RELIABILITY.md)
# and prints, per target, the executions run and the crashes found.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   each target (default: all) for SECONDS (default 60)
#
# Environment: FUZZ_SANITIZER (default address; "none" builds and runs about twice as fast),
# FUZZ_JOBS (parallel targets, default 1), FUZZ_BUILD_ONLY=1 (build, run nothing).
# Corpora grow in fuzz/corpus/<target> (seeded by this script, not committed); a crash,
# timeout or out-of-memory input is saved in fuzz/artifacts/<target> and fails the script.
# Reproduce one with `cargo fuzz run --fuzz-dir fuzz <target> <file>` (RUSTC_BOOTSTRAP=1),
# then make it a regression test in the crate's own tests.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
shift || true
all_targets=(crdt_frame crdt_room hub_session audio_probe upload_multipart auth_tokens export_notes)
targets=("${@:-${all_targets[@]}}")
sanitizer="${FUZZ_SANITIZER:-address}"
jobs="${FUZZ_JOBS:-1}"

# cargo-fuzz drives libFuzzer through flags that only a nightly rustc accepts; the stable
# toolchain accepts them too when told it is bootstrapping itself.
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
fuzz=(cargo fuzz)
# Optimised, with debug assertions and overflow checks in our crates only (fuzz/Cargo.toml's
# profile: an overflow on input is a finding, a dependency's internal debug_assert! is not);
# 16 codegen units build much faster than cargo-fuzz's default of one for a little speed.
build_flags=(--fuzz-dir fuzz -O -s "$sanitizer" --codegen-units 16
  --target-dir "${CARGO_TARGET_DIR:-fuzz/target}")

start=$(date +%s)
mkdir -p fuzz/artifacts
if ! "${fuzz[@]}" build "${build_flags[@]}" > fuzz/artifacts/build.log 2>&1; then
  tail -40 fuzz/artifacts/build.log >&2
  echo "fuzz: build failed (fuzz/artifacts/build.log)" >&2
  exit 1
fi
echo "fuzz: built in $(( $(date +%s) - start )) s (sanitizer: $sanitizer)"
[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

# Seeds: real inputs made here, so nothing binary is committed.
seed() {
  local target=$1 dir=fuzz/corpus/$1
  mkdir -p "$dir"
  case $target in
    audio_probe|upload_multipart)
      local tmp; tmp=$(mktemp -d)
      python3 - "$tmp/a.wav" <<'EOF'
import math, struct, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
    w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 5))) for i in range(400)))
EOF
      if command -v ffmpeg >/dev/null 2>&1; then
        for ext in mp3 m4a ogg; do
          codec=(); [ "$ext" = ogg ] && codec=(-c:a libopus)
          ffmpeg -loglevel error -y -f lavfi -i "sine=frequency=440:duration=0.1" \
            -ar 16000 -ac 1 "${codec[@]}" "$tmp/a.$ext" || true
        done
      fi
      for file in "$tmp"/a.*; do
        if [ "$target" = audio_probe ]; then
          cp "$file" "$dir/seed-$(basename "$file")"
        else
          { printf -- '--workbook-fuzz-boundary\r\nContent-Disposition: form-data; name="title"\r\n\r\nA talk\r\n'
            printf -- '--workbook-fuzz-boundary\r\nContent-Disposition: form-data; name="audio"; filename="%s"\r\n' "$(basename "$file")"
            printf 'Content-Type: application/octet-stream\r\n\r\n'
            cat "$file"
            printf -- '\r\n--workbook-fuzz-boundary--\r\n'
          } > "$dir/seed-$(basename "$file")"
        fi
      done
      rm -rf "$tmp"
      ;;
    crdt_frame)
      printf '\x00\x00\x01\x00' > "$dir/seed-step1"    # sync step 1, empty state vector
      printf '\x03' > "$dir/seed-query"                # awareness query
      printf '\x01\x14\x01\x07\x01\x10{"user":{"n":1}}' > "$dir/seed-awareness"
      ;;
  esac
}

# The hub's message types and fields, read from the protocol itself so the dictionary stays
# true to it; libFuzzer splices these into the JSON it tries.
hub_dict() {
  local dict=fuzz/corpus/hub_session.dict
  {
    sed -n 's/.*#\[serde(rename = "\([a-z_.]*\)")\].*/"\\"type\\":\\"\1\\""/p' signaling/src/protocol/client.rs
    sed -n 's/^ *\([a-z_]*\): [A-Za-z<>]*,$/"\\"\1\\":"/p' signaling/src/protocol/client.rs | sort -u
    for token in '@poll' '@msg' '@q' '@p0' '@p1' '@p2' '@p3' '@p4' 'true' 'false' 'null' '"audio"' \
      '"video"' '"screen"' '"host"' '"cohost"' '"presenter"' '"participant"' '"viewer"' '{' '}' '[' ']' ','; do
      printf '"%s"\n' "${token//\"/\\\"}"
    done
  } > "$dict"
  echo "$dict"
}

# Larger inputs where the format needs them (audio headers, notes to export).
max_len() {
  case $1 in
    audio_probe|upload_multipart) echo 65536 ;;
    *) echo 16384 ;;
  esac
}

run_one() {
  local target=$1 log=fuzz/artifacts/$1.log
  mkdir -p "fuzz/artifacts/$target"
  seed "$target"
  local extra=()
  [ "$target" = hub_session ] && extra+=("-dict=$(hub_dict)")
  # Each run gets its own temporary directory (the upload target's server lives there).
  local tmp; tmp=$(mktemp -d)
  TMPDIR="$tmp" "${fuzz[@]}" run "${build_flags[@]}" "$target" "fuzz/corpus/$target" -- \
    -max_total_time="$secs" -max_len="$(max_len "$target")" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="fuzz/artifacts/$target/" -print_final_stats=1 "${extra[@]}" \
    > "$log" 2>&1 || true
  rm -rf "$tmp"
}

pids=()
for target in "${targets[@]}"; do
  run_one "$target" &
  pids+=($!)
  if [ "${#pids[@]}" -ge "$jobs" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
wait

failed=0
printf '%-18s %12s %10s %8s %s\n' target executions exec/s corpus crashes
for target in "${targets[@]}"; do
  log=fuzz/artifacts/$target.log
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
  crashes=$(find "fuzz/artifacts/$target" -type f \( -name 'crash-*' -o -name 'timeout-*' \
    -o -name 'oom-*' -o -name 'leak-*' -o -name 'slow-unit-*' \) | wc -l)
  printf '%-18s %12s %10s %8s %s\n' "$target" "${runs:-?}" "${rate:-?}" "$corpus" "$crashes"
  if [ "$crashes" -gt 0 ] || [ -z "$runs" ]; then
    failed=1
    echo "--- $target: see $log" >&2
    grep -m1 -A12 -E 'panicked|ERROR: libFuzzer|ERROR: AddressSanitizer' "$log" >&2 || tail -20 "$log" >&2
  fi
done
exit "$failed"
