#!/usr/bin/env bash
# Lighthouse scores (performance, accessibility) of the browser client's module list and a
# note, mobile and desktop, against a fresh release server on SQLite; the numbers go to
# docs/BENCHMARKS.md. Needs scripts/setup.sh test (Chromium) first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
(cd loadtests/web && { [ -d node_modules ] && [ node_modules -nt package-lock.json ]; } || npm ci --no-audit --no-fund --silent)
cargo build --release -p workbook
data=$(mktemp -d)
port=18181
export WORKBOOK_STORAGE__DATA_DIR="$data" WORKBOOK_SERVER__BIND="127.0.0.1:$port" \
  WORKBOOK_MEDIA__ENABLED=false WORKBOOK_LOG__FILTER=warn
echo "lighthouse-password" | target/release/workbook user create --email lh@example.com --name Learner --role admin >/dev/null
target/release/workbook serve & server=$!
trap 'kill $server; rm -rf "$data"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 50); do curl -sf "$base/api/health" >/dev/null && break; sleep 0.2; done
token=$(curl -sf -X POST "$base/api/workbook/auth/login" -H 'content-type: application/json' \
  -d '{"email":"lh@example.com","password":"lighthouse-password"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
for i in 1 2 3 4 5 6; do
  curl -sf -X POST "$base/api/workbook/modules" -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d "{\"title\":\"Module $i\",\"description\":\"What module $i teaches, in a sentence or two.\",\"duration\":45,\"difficulty\":\"beginner\",\"content\":{\"objectives\":[\"one\"]}}" >/dev/null
done
note=$(curl -sf -X POST "$base/api/workbook/notes" -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"title":"Workshop plan","content":"# Agenda\n\n- introductions\n- the retrospective\n\nNotes for the day."}' \
  | sed 's/.*"note":{"id":"\([^"]*\)".*/\1/')
node loadtests/web/lighthouse.mjs "$base" lh@example.com lighthouse-password "$note"
