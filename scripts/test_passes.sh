#!/usr/bin/env bash
# `make test`'s test passes: usage scripts/test_passes.sh POSTGRES_URL REDIS_URL (BIN: the venv's bin).
#
# The suite runs twice: on SQLite, and on PostgreSQL + Redis with a real Celery worker (mandatory in CI).
# Each pass is one pytest process that keeps about one core busy, and the machine has two: the passes
# run side by side (the PostgreSQL pass's output is kept and printed after the SQLite pass's). They share
# nothing: SQLite files, servers and private clusters live in their own temporary directories on free
# ports; only the PostgreSQL pass uses the shared PostgreSQL and Redis.
#
# Then the few tests whose assertion is a wall-clock budget (marker `timing`: a lesson on Slow 3G, a
# certificate within 3 s) run on each backend with nothing beside them,
# so that the other pass cannot be what made them slow.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
PG_URL=$1
REDIS_URL=$2
PYTEST=("$BIN/pytest" -q -p no:cacheprovider)
POSTGRES_ENV=(env LMS_TEST_DATABASE_URL="$PG_URL" LMS_TEST_REDIS_URL="$REDIS_URL")

postgres=""
if "$BIN/python" -m tests.backends postgres "$PG_URL" && "$BIN/python" -m tests.backends redis "$REDIS_URL"; then
  postgres=1
elif [ -n "${CI:-}" ]; then
  echo "PostgreSQL or Redis is not reachable, and CI must run on both"
  exit 1
else
  echo "PostgreSQL or Redis not reachable: the PostgreSQL + Redis pass is skipped"
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"; [ -n "${postgres_pid:-}" ] && kill "$postgres_pid" 2>/dev/null' EXIT
began=$SECONDS
if [ -n "$postgres" ]; then
  "${POSTGRES_ENV[@]}" "${PYTEST[@]}" -m "not timing" tests >"$logs/postgres.log" 2>&1 &
  postgres_pid=$!
fi

echo "== test suite on SQLite$([ -n "$postgres" ] && echo " (the PostgreSQL + Redis pass runs beside it; its output follows)") =="
"${PYTEST[@]}" -m "not timing" tests
sqlite_status=$?
echo "(SQLite pass: $((SECONDS - began)) s)"

postgres_status=0
if [ -n "$postgres" ]; then
  wait "$postgres_pid"
  postgres_status=$?
  postgres_pid=""
  echo "== test suite on PostgreSQL + Redis (real Celery worker) =="
  cat "$logs/postgres.log"
  echo "(both passes: $((SECONDS - began)) s)"
fi

echo "== wall-clock budgets, nothing beside them: SQLite =="
"${PYTEST[@]}" -m timing tests
timing_status=$?
if [ -n "$postgres" ]; then
  echo "== wall-clock budgets, nothing beside them: PostgreSQL + Redis =="
  "${POSTGRES_ENV[@]}" "${PYTEST[@]}" -m timing tests
  timing_status=$((timing_status || $?))
fi

ran="SQLite$([ -n "$postgres" ] && echo ", PostgreSQL + Redis")"
echo "Backends tested: $ran; SQLite pass exit $sqlite_status, PostgreSQL pass exit $postgres_status, wall-clock budgets exit $timing_status"
[ "$sqlite_status" -eq 0 ] && [ "$postgres_status" -eq 0 ] && [ "$timing_status" -eq 0 ]
