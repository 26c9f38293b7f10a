#!/usr/bin/env bash
# The whole test suite: installs what the tests need, then runs every test of the workspace
# against SQLite and PostgreSQL (and Redis where a test needs it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test

# The project's machines run PostgreSQL and Redis on loopback; use them when they answer.
pg_default="postgres://postgres@127.0.0.1:5432/postgres"
if [ -z "${WORKBOOK_TEST_POSTGRES_URL:-}" ] && command -v pg_isready >/dev/null \
   && pg_isready -q -h 127.0.0.1 -p 5432; then
  export WORKBOOK_TEST_POSTGRES_URL="$pg_default"
fi
if [ -z "${WORKBOOK_TEST_REDIS_URL:-}" ] && command -v redis-cli >/dev/null \
   && [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; then
  export WORKBOOK_TEST_REDIS_URL="redis://127.0.0.1:6379"
fi

cargo test --workspace --no-fail-fast "$@"
